"""AST-3 lifecycle documents and AST-11 low-value items, through the services, the pages and the API:
issue/transfer/return with the school's approval policy, loans, repairs, disposals, item issue/return."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from houqin.approvals.models import ApprovalPolicy, ApprovalRequest, ApprovalStep
from houqin.approvals.services import approval_policy_save
from houqin.assets.choices import AccountingClass, Acquisition, UseStatus
from houqin.assets.models import (
    AssetDisposal,
    AssetLoan,
    AssetMove,
    AssetMovement,
    AssetRepair,
)
from houqin.assets.services import cards, documents, journal
from houqin.assets.services.common import settings_for
from houqin.core.models import AuditEntry, StatusChange
from houqin.org.models import Department

from .factories import AssetFactory, LowValueItemFactory, _category, _room, _staff

K = AssetMovement.Kind
TODAY = timezone.localdate()
MOVE_KEY = "assets.assetmove"
DISPOSAL_KEY = "assets.assetdisposal"


@pytest.fixture
def keeper(personas):
    return personas["asset_keeper"]


@pytest.fixture(autouse=True)
def no_policies(school):
    """Each test starts with no approval policy for the asset documents (the school's choice)."""
    ApprovalPolicy.objects.filter(school=school, document_type__in=(MOVE_KEY, DISPOSAL_KEY)).update(active=False)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def policy(school, personas, key, *, above=None, name="测试审批"):
    return approval_policy_save(school=school, actor=personas["sysadmin"], name=name, document_type=key, active=True,
                                steps=[{"label": "后勤主任审批", "kind": "role", "role_codes": ["logistics_director"],
                                        "min_amount": above}])


def _request_of(doc):
    ct = ContentType.objects.get_for_model(type(doc))
    return ApprovalRequest.objects.filter(content_type=ct, object_id=str(doc.pk)).order_by("-id").first()


def _posted(asset, kind):
    return asset.movements.filter(kind=kind).count()


def _consistent(*subjects):
    for s in subjects:
        s.refresh_from_db()
        assert journal.state_from_journal(s) == journal.cached_state(s), s


def _pdf(name="鉴定报告.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                              b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
                              content_type="application/pdf")


def transfer(school, keeper, assets, **to):
    move = documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=assets, **to)
    return documents.move_submit(move=move, actor=keeper)


# 领用 / 调拨 / 退库 ----------------------------------------------------------------------------------------------
def test_issue_from_store_transfer_and_return_post_at_once_without_a_policy(school, keeper):
    asset = AssetFactory(room=None)
    assert asset.status == UseStatus.IN_STORE
    teaching = Department.objects.filter(school=school).order_by("pk").last()
    issue = documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.ISSUE, assets=[asset],
                                  to_room=_room(2), to_department=teaching, to_custodian=_staff(3))
    assert issue.number.startswith(f"LY{TODAY.year}-") and issue.status == AssetMove.Status.DRAFT
    assert _posted(asset, K.ISSUE) == 0  # a draft posts nothing
    documents.move_submit(move=issue, actor=keeper)
    issue.refresh_from_db()
    asset.refresh_from_db()
    assert issue.status == AssetMove.Status.DONE and issue.done_at is not None
    assert (asset.status, asset.room, asset.department, asset.custodian) == (
        UseStatus.IN_USE, _room(2), teaching, _staff(3))
    # Issue only from store.
    with pytest.raises(ValidationError) as caught:
        documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.ISSUE, assets=[asset],
                              to_custodian=_staff(4))
    assert asset.code in str(caught.value)
    # Transfer to another person and place; the department stays.
    moved = transfer(school, keeper, [asset], to_room=_room(3), to_custodian=_staff(4))
    asset.refresh_from_db()
    assert moved.number.startswith(f"DB{TODAY.year}-") and moved.status == AssetMove.Status.DONE
    assert (asset.room, asset.department, asset.custodian) == (_room(3), teaching, _staff(4))
    movement = asset.movements.get(kind=K.TRANSFER)
    assert (movement.room_before, movement.custodian_before) == (_room(2), _staff(3))
    assert movement.document_url == f"/assets/moves/{moved.pk}/"
    # Return to store: nobody holds it.
    back = documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.RETURN, assets=[asset],
                                 to_room=_room(0))
    documents.move_submit(move=back, actor=keeper)
    asset.refresh_from_db()
    assert (asset.status, asset.custodian, asset.department, asset.room) == (UseStatus.IN_STORE, None, None, _room(0))
    with pytest.raises(ValidationError):
        documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.RETURN, assets=[asset])
    assert AuditEntry.objects.filter(object_id=str(asset.pk), action="update").count() >= 3
    _consistent(asset)


def test_a_move_needs_a_destination_and_changes_something(school, keeper):
    asset = AssetFactory(room=_room(1))
    with pytest.raises(ValidationError) as caught:
        documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[asset])
    assert "to_custodian" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[asset],
                              to_room=_room(1))
    assert asset.code in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[],
                              to_room=_room(2))
    assert "assets" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[asset],
                              to_room=_room(2), moved_on=TODAY + datetime.timedelta(days=2))
    assert "moved_on" in caught.value.message_dict
    # The same code twice is one line.
    move = documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[asset, asset],
                                 to_room=_room(2))
    assert move.lines.count() == 1 and move.total_value == asset.original_value


@pytest.mark.parametrize("status", [UseStatus.LENT, UseStatus.DISPOSING, UseStatus.DISPOSED, UseStatus.REPAIR])
def test_a_transfer_of_a_lent_disposing_scrapped_or_repaired_asset_is_refused(school, keeper, status):
    asset = AssetFactory(room=_room(1))
    journal.post(asset, kind=K.IDLE, actor=keeper, status=status)
    with pytest.raises(ValidationError) as caught:
        documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[asset],
                              to_room=_room(2))
    text = str(caught.value)
    assert asset.code in text and str(UseStatus(status).label) in text


def test_a_written_move_is_refused_when_the_card_changed_meanwhile(school, keeper):
    asset = AssetFactory(room=_room(1))
    first = documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[asset],
                                  to_room=_room(2))
    second = documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[asset],
                                   to_room=_room(3))
    documents.move_submit(move=first, actor=keeper)
    with pytest.raises(ValidationError) as caught:
        documents.move_submit(move=second, actor=keeper)
    assert asset.code in str(caught.value)
    second.refresh_from_db()
    asset.refresh_from_db()
    assert second.status == AssetMove.Status.DRAFT and asset.room == _room(2)
    assert _posted(asset, K.TRANSFER) == 1


def test_policy_above_10000_small_move_posts_at_once_large_one_waits_for_the_director(
        client, school, personas, keeper):
    policy(school, personas, MOVE_KEY, above=Decimal("10000"))
    small = AssetFactory(room=_room(1), original_value=Decimal("5000.00"))
    big = AssetFactory(room=_room(1), original_value=Decimal("20000.00"))
    done = transfer(school, keeper, [small], to_room=_room(2))
    assert done.status == AssetMove.Status.DONE
    waiting = transfer(school, keeper, [big], to_room=_room(2))
    big.refresh_from_db()
    assert waiting.status == AssetMove.Status.SUBMITTED and big.room == _room(1)
    assert _posted(big, K.TRANSFER) == 0
    step = ApprovalStep.objects.get(request=_request_of(waiting), status="pending")
    # A teacher may not decide it.
    client.force_login(personas["teacher"])
    assert client.post(f"/approvals/steps/{step.pk}/", {"decision": "approve"}).status_code == 403
    # The director approves from /approvals/: it posts exactly once.
    client.force_login(personas["logistics_director"])
    assert client.get("/approvals/").status_code == 200
    response = client.post(f"/approvals/steps/{step.pk}/", {"decision": "approve", "comment": ""})
    assert response.status_code == 302
    waiting.refresh_from_db()
    big.refresh_from_db()
    assert waiting.status == AssetMove.Status.DONE and big.room == _room(2)
    assert _posted(big, K.TRANSFER) == 1
    assert StatusChange.objects.filter(object_id=str(waiting.pk), transition="approve",
                                       content_type=ContentType.objects.get_for_model(AssetMove)).count() == 1
    # A second click changes nothing.
    client.post(f"/approvals/steps/{step.pk}/", {"decision": "approve"})
    assert _posted(big, K.TRANSFER) == 1
    _consistent(small, big)


def test_a_move_sent_back_posts_nothing_and_can_be_revised(client, school, personas, keeper):
    policy(school, personas, MOVE_KEY, above=Decimal("10000"))
    big = AssetFactory(room=_room(1), original_value=Decimal("20000.00"))
    move = transfer(school, keeper, [big], to_room=_room(2))
    step = ApprovalStep.objects.get(request=_request_of(move), status="pending")
    client.force_login(personas["logistics_director"])
    assert client.post(f"/approvals/steps/{step.pk}/", {"decision": "reject", "comment": "去向不明确"}
                       ).status_code == 302
    move.refresh_from_db()
    big.refresh_from_db()
    assert move.status == AssetMove.Status.REJECTED and big.room == _room(1)
    assert _posted(big, K.TRANSFER) == 0
    documents.move_transition(move=move, name="revise", actor=keeper)
    move.refresh_from_db()
    assert move.status == AssetMove.Status.DRAFT


# 借用 / 归还 ---------------------------------------------------------------------------------------------------
def test_lend_and_give_back_restores_the_status_before_the_loan(school, keeper):
    asset = AssetFactory(room=_room(1))
    journal.post(asset, kind=K.IDLE, actor=keeper, status=UseStatus.IDLE)
    loan = documents.loan_create(school=school, actor=keeper, borrower=_staff(3), asset=asset, purpose="公开课")
    asset.refresh_from_db()
    assert loan.due_on == TODAY and loan.lent_on == TODAY and loan.status == AssetLoan.Status.OUT
    assert asset.status == UseStatus.LENT and asset.room == _room(1)
    with pytest.raises(ValidationError) as caught:
        documents.loan_create(school=school, actor=keeper, borrower=_staff(4), asset=asset)
    assert str(_staff(3)) in str(caught.value)
    documents.loan_return(loan=loan, actor=keeper, condition_note="完好")
    asset.refresh_from_db()
    loan.refresh_from_db()
    assert asset.status == UseStatus.IDLE and loan.status == AssetLoan.Status.RETURNED and loan.returned_on == TODAY
    with pytest.raises(ValidationError):
        documents.loan_return(loan=loan, actor=keeper)
    assert _posted(asset, K.GIVE_BACK) == 1
    _consistent(asset)


def test_loan_refusals(school, keeper):
    asset = AssetFactory(room=_room(1))
    with pytest.raises(ValidationError) as caught:
        documents.loan_create(school=school, actor=keeper, borrower=None, asset=asset)
    assert "borrower" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        documents.loan_create(school=school, actor=keeper, borrower=_staff(3), asset=asset,
                              due_on=TODAY - datetime.timedelta(days=1))
    assert "due_on" in caught.value.message_dict
    with pytest.raises(ValidationError):
        documents.loan_create(school=school, actor=keeper, borrower=_staff(3))
    journal.post(asset, kind=K.REPAIR_OUT, actor=keeper, status=UseStatus.REPAIR)
    with pytest.raises(ValidationError) as caught:
        documents.loan_create(school=school, actor=keeper, borrower=_staff(3), asset=asset)
    assert asset.code in str(caught.value)


def test_a_return_of_an_asset_that_is_not_lent_is_refused(school, keeper):
    asset = AssetFactory(room=_room(1))
    loan = documents.loan_create(school=school, actor=keeper, borrower=_staff(3), asset=asset)
    # The card left the lent state by another path (a stocktake correction): the loan cannot put it back.
    journal.post(asset, kind=K.STOCKTAKE, actor=keeper, status=UseStatus.IN_USE)
    with pytest.raises(ValidationError) as caught:
        documents.loan_return(loan=loan, actor=keeper)
    assert asset.code in str(caught.value)


def test_low_value_items_are_lent_and_given_back_too(school, keeper):
    item = LowValueItemFactory(custodian=_staff(2))
    loan = documents.loan_create(school=school, actor=keeper, borrower=_staff(3), item=item)
    item.refresh_from_db()
    assert item.status == UseStatus.LENT and loan.item == item
    documents.loan_return(loan=loan, actor=keeper)
    item.refresh_from_db()
    assert item.status == UseStatus.IN_USE and item.custodian == _staff(2)
    _consistent(item)


def test_overdue_loans_are_flagged_in_the_list_and_filtered(client, school, keeper):
    late = documents.loan_create(school=school, actor=keeper, borrower=_staff(3), asset=AssetFactory(),
                                 lent_on=TODAY - datetime.timedelta(days=5), due_on=TODAY - datetime.timedelta(days=3))
    on_time = documents.loan_create(school=school, actor=keeper, borrower=_staff(3), asset=AssetFactory())
    client.force_login(keeper)
    html = client.get("/assets/loans/", {"overdue": "true"}).content.decode()
    assert late.asset.code in html and on_time.asset.code not in html
    html = client.get("/assets/loans/", {"overdue": "false"}).content.decode()
    assert late.asset.code not in html and on_time.asset.code in html
    assert 'name="overdue"' in html
    api = client.get("/api/assets/loans/", {"overdue": "true"}).json()
    ids = {row["id"] for row in api["results"]}
    assert late.pk in ids and on_time.pk not in ids


def test_lend_in_two_taps_from_the_asset_page_and_give_back_in_one(client, school, keeper):
    asset = AssetFactory(room=_room(1), name="投影仪")
    client.force_login(keeper)
    page = client.get(f"/assets/cards/{asset.pk}/").content.decode()
    lend_url = f"/assets/loans/add/?asset={asset.pk}"
    assert lend_url in page
    form = client.get(lend_url)
    assert form.status_code == 200
    assert form.context["form"].initial.get("asset") in (str(asset.pk), asset.pk)
    response = client.post("/assets/loans/add/", {"asset": asset.pk, "borrower": _staff(3).pk})
    assert response.status_code == 302, response.content.decode()[:3000]
    loan = AssetLoan.objects.get(asset=asset)
    assert loan.due_on == TODAY
    page = client.get(f"/assets/cards/{asset.pk}/").content.decode()
    return_url = f"/assets/loans/{loan.pk}/return/"
    assert return_url in page
    assert client.post(return_url).status_code == 302
    asset.refresh_from_db()
    assert asset.status == UseStatus.IN_USE
    # A second tap (an old page) is refused with a message, nothing posted.
    follow = client.post(return_url, follow=True)
    assert follow.status_code == 200
    assert _posted(asset, K.GIVE_BACK) == 1
    # It goes back to ``next`` when that is a page of this site; anything else goes to the loan (another site
    # was an open redirect, "x" a server error).
    loan_page = f"/assets/loans/{loan.pk}/"
    for target, landing in (("/assets/cards/", "/assets/cards/"), ("x", loan_page),
                            ("https://evil.example/", loan_page), ("//evil.example", loan_page)):
        response = client.post(return_url, {"next": target})
        assert response.status_code == 302 and response["Location"] == landing, (target, response.status_code)


# 维修 ----------------------------------------------------------------------------------------------------------
def test_repair_out_and_back(client, school, keeper):
    asset = AssetFactory(room=_room(1))
    journal.post(asset, kind=K.IDLE, actor=keeper, status=UseStatus.IDLE)
    repair = documents.repair_send(school=school, actor=keeper, asset=asset, fault="灯泡不亮", repairer="厂家售后")
    asset.refresh_from_db()
    assert asset.status == UseStatus.REPAIR and repair.number.startswith(f"WX{TODAY.year}-")
    with pytest.raises(ValidationError):
        documents.repair_send(school=school, actor=keeper, asset=asset, fault="again")
    with pytest.raises(ValidationError) as caught:
        documents.repair_back(repair=repair, actor=keeper, cost=Decimal("-1"))
    assert "cost" in caught.value.message_dict
    documents.repair_back(repair=repair, actor=keeper, result="更换灯泡", cost=Decimal("320"))
    asset.refresh_from_db()
    assert asset.status == UseStatus.IDLE  # repaired: the state before
    with pytest.raises(ValidationError):
        documents.repair_back(repair=repair, actor=keeper)
    second = documents.repair_send(school=school, actor=keeper, asset=asset, fault="主板烧坏")
    client.force_login(keeper)
    page = client.get(f"/assets/repairs/{second.pk}/").content.decode()
    assert f"/assets/repairs/{second.pk}/back/" in page
    response = client.post(f"/assets/repairs/{second.pk}/back/", {"repaired": "0", "result": "无维修价值"})
    assert response.status_code == 302
    asset.refresh_from_db()
    second.refresh_from_db()
    assert asset.status == UseStatus.IDLE and second.status == AssetRepair.Status.SCRAPPED
    with pytest.raises(ValidationError) as caught:
        documents.repair_send(school=school, actor=keeper, asset=asset, fault=" ")
    assert "fault" in caught.value.message_dict
    _consistent(asset)


def test_repair_back_of_an_asset_no_longer_under_repair_is_refused(school, keeper):
    asset = AssetFactory(room=_room(1))
    repair = documents.repair_send(school=school, actor=keeper, asset=asset, fault="无法开机")
    journal.post(asset, kind=K.STOCKTAKE, actor=keeper, status=UseStatus.IN_USE)
    with pytest.raises(ValidationError) as caught:
        documents.repair_back(repair=repair, actor=keeper)
    assert asset.code in str(caught.value)


# 报废 / 处置 ---------------------------------------------------------------------------------------------------
def test_disposal_needs_the_collective_decision_and_evidence_and_locks_the_cards(school, keeper, media):
    from houqin.core.attachments import attachment_add, attachment_void

    asset = AssetFactory(room=_room(1))
    disposal = documents.disposal_create(school=school, actor=keeper, assets=[asset],
                                         method=AssetDisposal.Method.SCRAP, reason="超过使用年限")
    with pytest.raises(ValidationError) as caught:
        documents.disposal_submit(disposal=disposal, actor=keeper)
    assert "decision_ref" in caught.value.message_dict
    disposal.decision_ref = "2026年第5次校长办公会纪要"
    disposal.save()
    with pytest.raises(ValidationError) as caught:
        documents.disposal_submit(disposal=disposal, actor=keeper)
    assert "attachments" in caught.value.message_dict
    # A removed attachment is no evidence.
    attachment = attachment_add(obj=disposal, upload=_pdf(), actor=keeper)
    attachment_void(attachment=attachment, actor=keeper)
    with pytest.raises(ValidationError):
        documents.disposal_submit(disposal=disposal, actor=keeper)
    attachment_add(obj=disposal, upload=_pdf(), actor=keeper, note="技术鉴定")
    documents.disposal_submit(disposal=disposal, actor=keeper)
    disposal.refresh_from_db()
    asset.refresh_from_db()
    # No policy: approved at once; the card stays locked until it is written off.
    assert disposal.status == AssetDisposal.Status.APPROVED
    assert asset.status == UseStatus.DISPOSING
    with pytest.raises(ValidationError):
        documents.loan_create(school=school, actor=keeper, borrower=_staff(2), asset=asset)
    with pytest.raises(ValidationError) as caught:
        documents.disposal_complete(disposal=disposal, actor=keeper, approval_doc_no=" ")
    assert "approval_doc_no" in caught.value.message_dict
    documents.disposal_complete(disposal=disposal, actor=keeper, approval_doc_no="教财〔2026〕12号",
                                income=Decimal("150.00"))
    disposal.refresh_from_db()
    asset.refresh_from_db()
    assert disposal.status == AssetDisposal.Status.DONE and disposal.income == Decimal("150.00")
    assert asset.status == UseStatus.DISPOSED and asset.custodian is None
    dispose = asset.movements.get(kind=K.DISPOSE)
    assert dispose.value_change == -asset.original_value and dispose.note == "教财〔2026〕12号"
    with pytest.raises(ValidationError):
        documents.disposal_create(school=school, actor=keeper, assets=[asset], method=AssetDisposal.Method.SCRAP,
                                  reason="again")
    _consistent(asset)


def test_sale_needs_a_valuation_report_write_off_of_a_loss_needs_none(school, keeper, media):
    from houqin.core.attachments import attachment_add

    sale = documents.disposal_create(school=school, actor=keeper, assets=[AssetFactory()],
                                     method=AssetDisposal.Method.SALE, reason="闲置出售", decision_ref="会议纪要")
    with pytest.raises(ValidationError) as caught:
        documents.disposal_submit(disposal=sale, actor=keeper)
    assert "attachments" in caught.value.message_dict
    attachment_add(obj=sale, upload=_pdf("评估报告.pdf"), actor=keeper)
    documents.disposal_submit(disposal=sale, actor=keeper)
    loss = documents.disposal_create(school=school, actor=keeper, assets=[AssetFactory()],
                                     method=AssetDisposal.Method.WRITE_OFF, reason="盘亏", decision_ref="会议纪要")
    documents.disposal_submit(disposal=loss, actor=keeper)
    loss.refresh_from_db()
    assert loss.status == AssetDisposal.Status.APPROVED


def test_disposal_rejected_or_cancelled_unlocks_the_cards(client, school, personas, keeper):
    policy(school, personas, DISPOSAL_KEY)
    asset = AssetFactory(room=_room(1))
    journal.post(asset, kind=K.IDLE, actor=keeper, status=UseStatus.IDLE)
    disposal = documents.disposal_create(school=school, actor=keeper, assets=[asset],
                                         method=AssetDisposal.Method.WRITE_OFF, reason="丢失", decision_ref="纪要")
    documents.disposal_submit(disposal=disposal, actor=keeper)
    asset.refresh_from_db()
    assert asset.status == UseStatus.DISPOSING
    step = ApprovalStep.objects.get(request=_request_of(disposal), status="pending")
    client.force_login(personas["logistics_director"])
    client.post(f"/approvals/steps/{step.pk}/", {"decision": "reject", "comment": "证据不足"})
    disposal.refresh_from_db()
    asset.refresh_from_db()
    assert disposal.status == AssetDisposal.Status.REJECTED and asset.status == UseStatus.IDLE
    documents.disposal_transition(disposal=disposal, name="revise", actor=keeper)
    documents.disposal_submit(disposal=disposal, actor=keeper)
    asset.refresh_from_db()
    assert asset.status == UseStatus.DISPOSING
    documents.disposal_transition(disposal=disposal, name="cancel", actor=keeper, note="不再处置")
    asset.refresh_from_db()
    disposal.refresh_from_db()
    assert disposal.status == AssetDisposal.Status.CANCELLED and asset.status == UseStatus.IDLE
    assert _request_of(disposal).status != "pending"
    _consistent(asset)


def test_disposal_of_an_asset_under_repair_or_lent_is_refused_on_submit(school, keeper):
    asset = AssetFactory(room=_room(1))
    disposal = documents.disposal_create(school=school, actor=keeper, assets=[asset],
                                         method=AssetDisposal.Method.WRITE_OFF, reason="丢失", decision_ref="纪要")
    documents.repair_send(school=school, actor=keeper, asset=asset, fault="坏了")
    with pytest.raises(ValidationError) as caught:
        documents.disposal_submit(disposal=disposal, actor=keeper)
    assert asset.code in str(caught.value)


@pytest.mark.parametrize("values,klass,level", [
    (["5200.00"], AccountingClass.GENERAL_EQUIPMENT, AssetDisposal.Level.SCHOOL),
    (["100000.00"], AccountingClass.GENERAL_EQUIPMENT, AssetDisposal.Level.SCHOOL),
    (["100000.01"], AccountingClass.GENERAL_EQUIPMENT, AssetDisposal.Level.BUREAU),
    (["90000.00", "90000.00"], AccountingClass.GENERAL_EQUIPMENT, AssetDisposal.Level.SCHOOL),
    (["90000.00", "90000.00", "90000.00"], AccountingClass.GENERAL_EQUIPMENT, AssetDisposal.Level.BUREAU),
    (["3000.00"], AccountingClass.BUILDINGS, AssetDisposal.Level.BUREAU),
])
def test_approver_level_from_the_limits_and_the_class(school, keeper, values, klass, level):
    category = _category("A01010100" if klass == AccountingClass.BUILDINGS else "A02010105")
    assets = [AssetFactory(original_value=Decimal(v), category=category, accounting_class=klass) for v in values]
    disposal = documents.disposal_create(school=school, actor=keeper, assets=assets,
                                         method=AssetDisposal.Method.WRITE_OFF, reason="测试")
    assert disposal.approver_level == level
    reason = documents.approver_level_reason(disposal)
    assert reason
    if klass == AccountingClass.BUILDINGS:
        assert str(AccountingClass.BUILDINGS.label) in reason


def test_the_school_limits_decide_the_level(school, keeper):
    conf = settings_for(school)
    conf.disposal_single_limit = Decimal("50000")
    conf.save()
    disposal = documents.disposal_create(school=school, actor=keeper, method=AssetDisposal.Method.WRITE_OFF,
                                         reason="测试", assets=[AssetFactory(original_value=Decimal("60000"))])
    assert disposal.approver_level == AssetDisposal.Level.BUREAU
    assert "50,000.00" in documents.approver_level_reason(disposal)


def test_partner_lent_assets_cannot_be_disposed_of(school, keeper):
    asset = AssetFactory(acquisition=Acquisition.PARTNER_LENT)
    with pytest.raises(ValidationError) as caught:
        documents.disposal_create(school=school, actor=keeper, assets=[asset], method=AssetDisposal.Method.SCRAP,
                                  reason="损坏")
    assert asset.code in str(caught.value)


def test_disposal_pages_show_level_explanation_lines_and_write_off(client, school, keeper):
    assets = [AssetFactory(room=_room(1)), AssetFactory(room=_room(1))]
    disposal = documents.disposal_create(school=school, actor=keeper, assets=assets, reason="丢失",
                                         method=AssetDisposal.Method.WRITE_OFF, decision_ref="纪要")
    client.force_login(keeper)
    html = client.get(f"/assets/disposals/{disposal.pk}/").content.decode()
    for a in assets:
        assert a.code in html
    assert documents.approver_level_reason(disposal) in html
    documents.disposal_submit(disposal=disposal, actor=keeper)
    html = client.get(f"/assets/disposals/{disposal.pk}/").content.decode()
    url = f"/assets/disposals/{disposal.pk}/write-off/"
    assert url in html
    form = client.get(url).content.decode()
    assert "非税收入" in form or "non-tax" in form.lower()
    bad = client.post(url, {"approval_doc_no": "", "income": "10"})
    assert bad.status_code == 400 and "approval_doc_no" in bad.context["form"].errors
    assert client.post(url, {"approval_doc_no": "教财〔2026〕7号", "income": "10"}).status_code == 302
    disposal.refresh_from_db()
    assert disposal.status == AssetDisposal.Status.DONE


# Low-value items ------------------------------------------------------------------------------------------------
def test_item_issue_in_two_taps_and_return_in_one(client, school, keeper):
    item = LowValueItemFactory()
    assert item.status == UseStatus.IN_STORE
    client.force_login(keeper)
    page = client.get(f"/assets/items/{item.pk}/").content.decode()
    assert f"/assets/items/{item.pk}/issue/" in page
    assert client.get(f"/assets/items/{item.pk}/issue/").status_code == 200
    assert client.post(f"/assets/items/{item.pk}/issue/", {"custodian": _staff(3).pk}).status_code == 302
    item.refresh_from_db()
    assert item.status == UseStatus.IN_USE and item.custodian == _staff(3)
    page = client.get(f"/assets/items/{item.pk}/").content.decode()
    assert f"/assets/items/{item.pk}/return/" in page
    assert client.post(f"/assets/items/{item.pk}/return/").status_code == 302
    item.refresh_from_db()
    assert item.status == UseStatus.IN_STORE and item.custodian is None
    assert [m.kind for m in item.movements.order_by("id")] == [K.REGISTER, K.ISSUE, K.RETURN]
    assert AuditEntry.objects.filter(object_id=str(item.pk), action="update",
                                     content_type=ContentType.objects.get_for_model(item)).count() == 2
    # Returning again is refused with a message; nothing posted.
    client.post(f"/assets/items/{item.pk}/return/")
    assert item.movements.count() == 3
    _consistent(item)


def test_item_issue_refusals_and_permissions(client, school, personas, keeper):
    item = LowValueItemFactory()
    with pytest.raises(ValidationError) as caught:
        cards.item_issue(item=item, custodian=None, actor=keeper)
    assert "custodian" in caught.value.message_dict
    client.force_login(keeper)
    response = client.post(f"/assets/items/{item.pk}/issue/", {})
    assert response.status_code == 400 and "custodian" in response.context["form"].errors
    client.force_login(personas["teacher"])
    assert client.post(f"/assets/items/{item.pk}/issue/", {"custodian": _staff(3).pk}).status_code in (403, 404)
    assert client.post(f"/assets/items/{item.pk}/return/").status_code in (403, 404)
    item.refresh_from_db()
    assert item.status == UseStatus.IN_STORE


# Pages and API ------------------------------------------------------------------------------------------------
def test_move_by_typed_codes_on_the_page_and_its_detail_lists_the_lines(client, school, keeper):
    a, b = AssetFactory(room=_room(1)), AssetFactory(room=_room(1))
    client.force_login(keeper)
    form = client.get(f"/assets/moves/add/?kind=transfer&assets={a.code}")
    assert form.status_code == 200 and a.code in form.content.decode()
    bad = client.post("/assets/moves/add/", {"kind": "transfer", "assets": f"{a.code}\nNOPE-1", "moved_on":
                                             TODAY.isoformat(), "to_room": _room(2).pk})
    assert bad.status_code == 400 and "NOPE-1" in str(bad.context["form"].errors["assets"])
    response = client.post("/assets/moves/add/", {"kind": "transfer", "assets": f"{a.code}\n{b.code}",
                                                  "moved_on": TODAY.isoformat(), "to_room": _room(2).pk})
    assert response.status_code == 302
    move = AssetMove.objects.filter(school=school).order_by("-id").first()
    html = client.get(f"/assets/moves/{move.pk}/").content.decode()
    assert a.code in html and b.code in html and str(_room(1)) in html
    assert html.count(a.code) <= 3  # one lines table, not two
    submit = client.post(f"/assets/moves/{move.pk}/submit/", {})
    assert submit.status_code in (302, 200)
    move.refresh_from_db()
    a.refresh_from_db()
    assert move.status == AssetMove.Status.DONE and a.room == _room(2)
    assert str(_room(2)) in client.get(f"/assets/cards/{a.pk}/").content.decode()


def test_api_move_create_and_submit_with_field_errors(client, school, keeper):
    a, b = AssetFactory(room=_room(1)), AssetFactory(room=_room(1))
    client.force_login(keeper)
    bad = client.post("/api/assets/moves/", {"kind": "transfer", "assets": f"{a.code}\nZZ-404",
                                             "to_room": _room(2).pk}, content_type="application/json")
    assert bad.status_code == 400 and "ZZ-404" in str(bad.json()["errors"]["assets"])
    nowhere = client.post("/api/assets/moves/", {"kind": "transfer", "assets": a.code},
                          content_type="application/json")
    assert nowhere.status_code == 400 and "to_custodian" in nowhere.json()["errors"]
    created = client.post("/api/assets/moves/", {"kind": "transfer", "assets": f"{a.code}\n{b.code}",
                                                 "to_room": _room(2).pk}, content_type="application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    submitted = client.post(f"/api/assets/moves/{pk}/submit/", {}, content_type="application/json")
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "done"
    a.refresh_from_db()
    assert a.room == _room(2)
    again = client.post(f"/api/assets/moves/{pk}/submit/", {}, content_type="application/json")
    assert again.status_code == 400


def test_api_loans_and_disposals(client, school, keeper):
    asset = AssetFactory(room=_room(1))
    client.force_login(keeper)
    loan = client.post("/api/assets/loans/", {"asset": asset.pk, "borrower": _staff(3).pk},
                       content_type="application/json")
    assert loan.status_code == 201, loan.json()
    twice = client.post("/api/assets/loans/", {"asset": asset.pk, "borrower": _staff(4).pk},
                        content_type="application/json")
    assert twice.status_code == 400
    back = client.post(f"/api/assets/loans/{loan.json()['id']}/return/", {}, content_type="application/json")
    assert back.status_code == 200, back.json()
    assert back.json()["status"] == "returned"
    assert client.post(f"/api/assets/loans/{loan.json()['id']}/return/", {},
                       content_type="application/json").status_code == 400
    disposal = client.post("/api/assets/disposals/", {"method": "write_off", "assets": asset.code, "reason": "丢失"},
                           content_type="application/json")
    assert disposal.status_code == 201, disposal.json()
    pk = disposal.json()["id"]
    refused = client.post(f"/api/assets/disposals/{pk}/submit/", {}, content_type="application/json")
    assert refused.status_code == 400 and "decision_ref" in refused.json()["errors"]
    assert client.patch(f"/api/assets/disposals/{pk}/", {"decision_ref": "纪要"},
                        content_type="application/json").status_code == 200
    done = client.post(f"/api/assets/disposals/{pk}/submit/", {}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "approved"


@pytest.mark.parametrize("url,data", [
    ("/api/assets/moves/", {"kind": "transfer", "assets": "X", "to_room": 1}),
    ("/api/assets/loans/", {"asset": 1, "borrower": 1}),
    ("/api/assets/disposals/", {"method": "scrap", "assets": "X", "reason": "r"}),
])
def test_a_teacher_may_not_add_documents_through_the_api(client, personas, url, data):
    client.force_login(personas["teacher"])
    assert client.post(url, data, content_type="application/json").status_code == 403


@pytest.mark.parametrize("url", ["/assets/moves/add/", "/assets/loans/add/", "/assets/disposals/add/",
                                 "/assets/repairs/add/"])
def test_a_teacher_may_not_open_the_document_forms(client, personas, url):
    client.force_login(personas["teacher"])
    assert client.get(url).status_code == 403


def test_a_teacher_may_not_give_back_write_off_or_bring_back(client, school, personas, keeper):
    loan = documents.loan_create(school=school, actor=keeper, borrower=_staff(3), asset=AssetFactory())
    repair = documents.repair_send(school=school, actor=keeper, asset=AssetFactory(), fault="坏")
    disposal = documents.disposal_create(school=school, actor=keeper, assets=[AssetFactory()], reason="丢失",
                                         method=AssetDisposal.Method.WRITE_OFF, decision_ref="纪要")
    documents.disposal_submit(disposal=disposal, actor=keeper)
    client.force_login(personas["teacher"])
    assert client.post(f"/assets/loans/{loan.pk}/return/").status_code in (403, 404)
    assert client.post(f"/assets/repairs/{repair.pk}/back/", {"repaired": "1"}).status_code in (403, 404)
    assert client.post(f"/assets/disposals/{disposal.pk}/write-off/",
                       {"approval_doc_no": "x"}).status_code in (403, 404)
    loan.refresh_from_db()
    assert loan.status == AssetLoan.Status.OUT


def test_a_submitted_document_offers_no_edit_and_the_loan_form_asks_only_for_the_borrower(client, school, keeper):
    asset = AssetFactory(room=_room(1))
    move = documents.move_create(school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[asset],
                                 to_room=_room(2))
    client.force_login(keeper)
    assert f"/assets/moves/{move.pk}/edit/" in client.get(f"/assets/moves/{move.pk}/").content.decode()
    documents.move_submit(move=move, actor=keeper)
    assert f"/assets/moves/{move.pk}/edit/" not in client.get(f"/assets/moves/{move.pk}/").content.decode()
    form = client.get(f"/assets/loans/add/?asset={asset.pk}").context["form"]
    assert "item" not in form.fields and "asset" in form.fields and "borrower" in form.fields
    item = LowValueItemFactory()
    form = client.get(f"/assets/loans/add/?item={item.pk}").context["form"]
    assert "asset" not in form.fields and "item" in form.fields
    assert list(client.get("/assets/moves/add/").context["form"].fields)[:2] == ["kind", "assets"]


def test_api_repair_back_write_off_and_item_issue_return(client, school, personas, keeper):
    asset = AssetFactory(room=_room(1))
    repair = documents.repair_send(school=school, actor=keeper, asset=asset, fault="坏")
    client.force_login(keeper)
    back = client.post(f"/api/assets/repairs/{repair.pk}/back/", {"repaired": False, "cost": "-5"},
                       content_type="application/json")
    assert back.status_code == 400 and "cost" in back.json()["errors"]
    back = client.post(f"/api/assets/repairs/{repair.pk}/back/", {"repaired": False, "result": "无维修价值"},
                       content_type="application/json")
    assert back.status_code == 200 and back.json()["status"] == "scrapped"
    asset.refresh_from_db()
    assert asset.status == UseStatus.IDLE
    disposal = documents.disposal_create(school=school, actor=keeper, assets=[asset], reason="无维修价值",
                                         method=AssetDisposal.Method.WRITE_OFF, decision_ref="纪要")
    url = f"/api/assets/disposals/{disposal.pk}/write-off/"
    early = client.post(url, {"approval_doc_no": "教财〔2026〕3号"}, content_type="application/json")
    assert early.status_code == 400  # not approved yet
    documents.disposal_submit(disposal=disposal, actor=keeper)
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 400 and "approval_doc_no" in missing.json()["errors"]
    done = client.post(url, {"approval_doc_no": "教财〔2026〕3号", "income": "20.00"},
                       content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    item = LowValueItemFactory()
    issued = client.post(f"/api/assets/items/{item.pk}/issue/", {"custodian": _staff(3).pk},
                         content_type="application/json")
    assert issued.status_code == 200 and issued.json()["status"] == "in_use"
    nobody = client.post(f"/api/assets/items/{item.pk}/issue/", {"custodian": 999999},
                         content_type="application/json")
    assert nobody.status_code == 400 and "custodian" in nobody.json()["errors"]
    returned = client.post(f"/api/assets/items/{item.pk}/return/", {}, content_type="application/json")
    assert returned.status_code == 200 and returned.json()["status"] == "in_store"
    again = client.post(f"/api/assets/items/{item.pk}/return/", {}, content_type="application/json")
    assert again.status_code == 400
    client.force_login(personas["teacher"])
    assert client.post(f"/api/assets/items/{item.pk}/issue/", {"custodian": _staff(3).pk},
                       content_type="application/json").status_code in (403, 404)


def test_the_card_page_offers_only_the_actions_its_state_allows(client, school, keeper, personas):
    asset = AssetFactory(room=_room(1))
    client.force_login(keeper)
    html = client.get(f"/assets/cards/{asset.pk}/").content.decode()
    for url in (f"/assets/loans/add/?asset={asset.pk}", f"/assets/moves/add/?kind=transfer&amp;assets={asset.code}",
                f"/assets/repairs/add/?asset={asset.pk}", f"/assets/disposals/add/?assets={asset.code}"):
        assert url in html, url
    loan = documents.loan_create(school=school, actor=keeper, borrower=_staff(3), asset=asset)
    html = client.get(f"/assets/cards/{asset.pk}/").content.decode()
    assert f"/assets/loans/{loan.pk}/return/" in html
    for url in ("/assets/loans/add/", "/assets/moves/add/", "/assets/repairs/add/", "/assets/disposals/add/"):
        assert url not in html, url
    client.force_login(personas["teacher"])
    assert client.get(f"/assets/cards/{asset.pk}/").status_code in (403, 404)
