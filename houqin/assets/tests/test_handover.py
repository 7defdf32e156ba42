"""Staff handover (AST-14): the 交接单 lists everything, refusals name the things, confirming moves custody,
the leave blocker keeps the account until then, the pages and the API check who may do what."""

import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from houqin.assets import selectors
from houqin.assets.models import Asset, AssetMovement, Handover, LowValueItem
from houqin.assets.services import documents, handover, journal
from houqin.core.models import AuditEntry, StatusChange
from houqin.org import services as org_services
from houqin.org.models import Department, Staff

from .factories import AssetFactory, LowValueItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(personas):
    """The leaving 语文教师, the receiving 班主任, the 后勤主任 as 监交人, the 资产管理员 who writes it."""
    return {"from": personas["teacher"].staff, "to": personas["class_teacher"].staff,
            "sup": personas["logistics_director"].staff, "keeper": personas["asset_keeper"],
            "director": personas["logistics_director"]}


@pytest.fixture
def held(people):
    """What the leaving teacher holds: whatever the demo gave them, plus a card, an item and a loan."""
    keeper = people["keeper"]
    card = AssetFactory(custodian=people["from"])
    item = LowValueItemFactory(custodian=people["from"])
    loan = documents.loan_create(school=keeper.school, actor=keeper, borrower=people["from"], asset=AssetFactory())
    return {"card": card, "item": item, "loan": loan}


def _create(people, **kw):
    return handover.handover_create(school=people["keeper"].school, actor=people["keeper"],
                                    from_staff=people["from"], to_staff=people["to"], supervisor=people["sup"],
                                    reason="调离", **kw)


def _return_all_loans(people):
    for loan in selectors.holdings_of(people["from"])["loans"]:
        documents.loan_return(loan=loan, actor=people["keeper"])


def _tick_all(h, user):
    for line in h.lines.filter(loan__isnull=True):
        handover.handover_tick(line, True, user)


def test_create_lists_every_card_item_and_open_loan(people, held):
    h = _create(people)
    now = selectors.holdings_of(people["from"])
    lines = list(h.lines.all())
    assert {ln.asset_id for ln in lines if ln.asset_id} == {a.pk for a in now["assets"]}
    assert {ln.item_id for ln in lines if ln.item_id} == {i.pk for i in now["items"]}
    assert {ln.loan_id for ln in lines if ln.loan_id} == {loan.pk for loan in now["loans"]}
    assert held["card"].pk in {ln.asset_id for ln in lines} and held["loan"].pk in {ln.loan_id for ln in lines}
    assert h.status == Handover.Status.DRAFT and h.number.startswith("JJ")
    assert AuditEntry.objects.filter(object_id=str(h.pk), content_type__model="handover", action="create").exists()


def test_create_refuses_same_person_missing_third_and_nothing_held(people, held, personas):
    with pytest.raises(ValidationError) as exc:
        handover.handover_create(school=people["keeper"].school, actor=people["keeper"], from_staff=people["from"],
                                 to_staff=people["from"], supervisor=people["sup"])
    assert "to_staff" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        handover.handover_create(school=people["keeper"].school, actor=people["keeper"], from_staff=people["from"],
                                 to_staff=people["to"], supervisor=people["to"])
    assert "supervisor" in exc.value.message_dict
    empty = next(s for s in Staff.objects.filter(school=people["from"].school, status=Staff.Status.ACTIVE)
                 .exclude(pk__in=[people["to"].pk, people["sup"].pk]).order_by("pk")
                 if not any(selectors.holdings_of(s).values()))
    with pytest.raises(ValidationError) as exc:
        handover.handover_create(school=people["keeper"].school, actor=people["keeper"], from_staff=empty,
                                 to_staff=people["to"], supervisor=people["sup"])
    assert empty.name in exc.value.message_dict["from_staff"][0]


def test_tick_by_the_receiver_audited_and_refused_to_others(people, held, personas):
    h = _create(people)
    line = h.lines.get(asset=held["card"])
    handover.handover_tick(line, True, people["to"].user)
    line.refresh_from_db()
    assert line.received
    entry = AuditEntry.objects.filter(object_id=str(h.pk), content_type__model="handover", action="update").last()
    assert held["card"].code in entry.message and entry.actor == people["to"].user
    with pytest.raises(PermissionDenied):
        handover.handover_tick(line, False, personas["cleaner"])  # neither the receiver nor asset staff
    loan_line = h.lines.get(loan=held["loan"])
    with pytest.raises(ValidationError) as exc:
        handover.handover_tick(loan_line, True, people["to"].user)
    assert "借用物品应归还，不能交接" in " ".join(exc.value.messages)


def test_confirm_refuses_unticked_lines_naming_them(people, held):
    h = _create(people)
    _return_all_loans(people)
    for line in h.lines.filter(loan__isnull=True).exclude(item=held["item"]):
        handover.handover_tick(line, True, people["to"].user)
    with pytest.raises(ValidationError) as exc:
        handover.handover_confirm(h, people["director"])
    text = " ".join(exc.value.messages)
    assert held["item"].code in text and "接收人尚未核对" in text
    assert held["card"].code not in text
    held["item"].refresh_from_db()
    assert held["item"].custodian == people["from"]
    h.refresh_from_db()
    assert h.status == Handover.Status.DRAFT


def test_confirm_refuses_open_loans_naming_them(people, held):
    h = _create(people)
    _tick_all(h, people["to"].user)
    with pytest.raises(ValidationError) as exc:
        handover.handover_confirm(h, people["director"])
    text = " ".join(exc.value.messages)
    assert str(held["loan"].asset) in text and "借用物品应归还，不能交接" in text


def test_confirm_refuses_what_was_taken_after_and_refresh_adds_it(people, held):
    h = _create(people)
    _return_all_loans(people)
    _tick_all(h, people["to"].user)
    later = AssetFactory(custodian=people["from"], name="后领的投影仪")
    with pytest.raises(ValidationError) as exc:
        handover.handover_confirm(h, people["director"])
    text = " ".join(exc.value.messages)
    assert later.code in text and "交接单填写后又领用" in text and "请刷新清单" in text
    result = handover.handover_refresh(h, people["keeper"])
    assert any(later.code in d for d in result["added"]) and not result["removed"]
    line = h.lines.get(asset=later)
    assert not line.received
    handover.handover_tick(line, True, people["to"].user)
    handover.handover_confirm(h, people["director"])
    later.refresh_from_db()
    assert later.custodian == people["to"]


def test_confirm_refuses_lines_no_longer_held_and_refresh_drops_them(people, held):
    h = _create(people)
    _return_all_loans(people)
    _tick_all(h, people["to"].user)
    other = people["keeper"].staff
    journal.post(held["card"], kind=AssetMovement.Kind.TRANSFER, actor=people["keeper"], custodian=other)
    with pytest.raises(ValidationError) as exc:
        handover.handover_confirm(h, people["director"])
    assert held["card"].code in " ".join(exc.value.messages) and "已不在" in " ".join(exc.value.messages)
    result = handover.handover_refresh(h, people["keeper"])
    assert any(held["card"].code in d for d in result["removed"])
    handover.handover_confirm(h, people["director"])
    held["card"].refresh_from_db()
    assert held["card"].custodian == other  # not taken from the person who has it now


def test_confirm_moves_custody_journal_matches_cache_and_unblocks_leaving(people, held):
    h = _create(people)
    before_department = {a.pk: a.department_id for a in selectors.holdings_of(people["from"])["assets"]}
    with pytest.raises(ValidationError) as exc:
        org_services.staff_disable(staff=people["from"], actor=people["director"])
    assert "请先办理交接" in str(exc.value)
    _return_all_loans(people)
    _tick_all(h, people["to"].user)
    assert handover.confirm_problems(h) == []
    handover.handover_confirm(h, people["director"])
    h.refresh_from_db()
    assert h.status == Handover.Status.CONFIRMED and h.confirmed_at is not None
    assert StatusChange.objects.filter(object_id=str(h.pk), transition="confirm").count() == 1
    for line in h.lines.exclude(loan__isnull=False).select_related("asset", "item"):
        subject = line.asset or line.item
        subject.refresh_from_db()
        assert subject.custodian == people["to"]
        assert journal.state_from_journal(subject) == journal.cached_state(subject)
        last = subject.movements.order_by("-id").first()
        assert last.kind == AssetMovement.Kind.HANDOVER and last.custodian_before == people["from"]
        assert h.number in last.document and last.actor == people["director"]
        if line.asset_id:
            assert subject.department_id == before_department[subject.pk]  # department unchanged
    assert handover.leave_blocker(people["from"]) == []
    org_services.staff_disable(staff=people["from"], actor=people["director"])
    people["from"].refresh_from_db()
    assert people["from"].status == Staff.Status.LEFT
    with pytest.raises(ValidationError):  # confirmed once only
        handover.handover_confirm(h, people["director"])


def test_confirm_can_move_the_department_too(people, held):
    h = _create(people)
    _return_all_loans(people)
    _tick_all(h, people["to"].user)
    target = Department.objects.filter(school=h.school).exclude(
        pk=held["card"].department_id).order_by("pk").first()
    handover.handover_confirm(h, people["sup"].user, department=target)  # the supervisor themself
    held["card"].refresh_from_db()
    assert held["card"].department == target and held["card"].custodian == people["to"]


def test_confirm_only_by_asset_staff_or_the_supervisor(people, held, personas):
    h = _create(people)
    _return_all_loans(people)
    _tick_all(h, people["to"].user)
    for user in (people["to"].user, people["from"].user, personas["cleaner"]):
        with pytest.raises(PermissionDenied):
            handover.handover_confirm(h, user)
    h.refresh_from_db()
    assert h.status == Handover.Status.DRAFT


def test_cancel_through_the_workflow_moves_nothing(people, held):
    h = _create(people)
    handover.handover_cancel(h, people["keeper"], "写错了接收人")
    h.refresh_from_db()
    assert h.status == Handover.Status.CANCELLED
    held["card"].refresh_from_db()
    assert held["card"].custodian == people["from"]
    with pytest.raises(ValidationError):
        handover.handover_tick(h.lines.filter(loan__isnull=True).first(), True, people["to"].user)


def test_leave_blocker_counts_what_is_held(people, held):
    counts = handover.holdings_counts(people["from"])
    assert counts["assets"] >= 1 and counts["items"] >= 1 and counts["loans"] >= 1
    [message] = handover.leave_blocker(people["from"])
    assert str(counts["assets"]) in message and str(counts["loans"]) in message
    assert people["from"].pk in [s.pk for s in Staff.objects.filter(status=Staff.Status.ACTIVE)]


@pytest.mark.dbsensitive
@pytest.mark.django_db(transaction=True)
def test_two_confirms_at_once_one_wins():
    """Two people confirming the same handover at once: one moves custody, the other is refused."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] in (":memory:", "") or \
            "mode=memory" in str(connection.settings_dict.get("NAME")):
        pytest.skip("threads need a shared database: runs on PostgreSQL (make test) and file SQLite")
    from conftest import _seed_if_empty
    from houqin.org.models import School, User

    _seed_if_empty()
    school = School.objects.get(code="3301001")
    users = {u.username: u for u in User.objects.filter(school=school)}
    people = {"from": users["teacher"].staff, "to": users["teacher1"].staff, "sup": users["director"].staff,
              "keeper": users["keeper"], "director": users["director"]}
    AssetFactory(custodian=people["from"])
    _return_all_loans(people)
    h = _create(people)
    _tick_all(h, people["to"].user)
    results, barrier = [], threading.Barrier(2)

    def confirm(user):
        from django.db import connection as conn

        barrier.wait()
        try:
            handover.handover_confirm(Handover.objects.get(pk=h.pk), user)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            conn.close()

    threads = [threading.Thread(target=confirm, args=(u,)) for u in (users["director"], users["keeper"])]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == ["ok", "refused"]
    assert StatusChange.objects.filter(object_id=str(h.pk), transition="confirm").count() == 1
    card_ids = list(h.lines.filter(asset__isnull=False).values_list("asset_id", flat=True))
    assert AssetMovement.objects.filter(asset_id__in=card_ids, kind=AssetMovement.Kind.HANDOVER).count() == len(
        card_ids)
    assert not Asset.objects.filter(custodian=people["from"]).exists()
    assert not LowValueItem.objects.filter(custodian=people["from"]).exists()


# pages ---------------------------------------------------------------------------------------------------------
def test_pages_receiver_ticks_with_htmx_supervisor_confirms(client, people, held, personas):
    h = _create(people)
    _return_all_loans(people)
    url = reverse("assets:handover", args=[h.pk])
    client.force_login(people["to"].user)  # a 班主任 without any handover permission
    page = client.get(url)
    assert page.status_code == 200 and held["card"].code in page.content.decode()
    assert 'data-testid="handover-confirm"' not in page.content.decode()  # the receiver does not confirm
    for line in h.lines.filter(loan__isnull=True):
        response = client.post(reverse("assets:handover_tick", args=[h.pk, line.pk]), {"received": "on"},
                               HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and b"<html" not in response.content
    assert not h.lines.filter(loan__isnull=True, received=False).exists()
    assert client.post(reverse("assets:handover_confirm", args=[h.pk])).status_code == 403
    client.force_login(people["sup"].user)
    page = client.get(url).content.decode()
    assert 'data-testid="handover-confirm"' in page and "disabled" not in page.split('data-testid="handover-confirm"')[1][:40]
    response = client.post(reverse("assets:handover_confirm", args=[h.pk]), {"department": ""})
    assert response.status_code == 302
    h.refresh_from_db()
    assert h.status == Handover.Status.CONFIRMED


def test_pages_show_refusals_and_refresh(client, people, held):
    h = _create(people)
    client.force_login(people["director"])
    page = client.get(reverse("assets:handover", args=[h.pk])).content.decode()
    assert "Not yet checked" in page or "尚未" in page or held["card"].code in page
    response = client.post(reverse("assets:handover_confirm", args=[h.pk]), follow=True)
    text = response.content.decode()
    assert held["card"].code in text and h.lines.count() > 0
    h.refresh_from_db()
    assert h.status == Handover.Status.DRAFT
    AssetFactory(custodian=people["from"], name="新领的打印机")
    response = client.post(reverse("assets:handover_refresh", args=[h.pk]), follow=True)
    assert "新领的打印机" in response.content.decode()


def test_print_is_an_a4_pdf_with_three_signatures(client, people, held):
    from houqin.core.tests.test_printing import Pdf

    h = _create(people)
    client.force_login(people["keeper"])
    response = client.get(reverse("assets:handover_print", args=[h.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = Pdf(response.content)
    width, height = pdf.page_size(0)
    assert round(width) == 595 and round(height) == 842  # A4 portrait
    text = pdf.text()
    for name in (people["from"].name, people["to"].name, people["sup"].name, held["card"].code, h.number):
        assert name in text
    (Path(settings.BASE_DIR) / "test-output").mkdir(exist_ok=True)
    (Path(settings.BASE_DIR) / "test-output" / "handover.pdf").write_bytes(response.content)


def test_outsiders_get_403_on_every_handover_page_and_action(client, people, held, personas):
    h = _create(people)
    line = h.lines.first()
    client.force_login(personas["cleaner"])  # no handover permission and not one of the three
    for url in (reverse("assets:handover", args=[h.pk]), reverse("assets:handover_print", args=[h.pk])):
        assert client.get(url).status_code == 403
    for url in (reverse("assets:handover_tick", args=[h.pk, line.pk]), reverse("assets:handover_refresh", args=[h.pk]),
                reverse("assets:handover_confirm", args=[h.pk]), reverse("assets:handover_cancel", args=[h.pk])):
        assert client.post(url, {"received": "on", "note": "x"}).status_code == 403
    api = f"/api/assets/handovers/{h.pk}/"
    assert client.get(f"{api}lines/").status_code == 403
    assert client.post(f"{api}tick/", {"line": line.pk, "received": True},
                       content_type="application/json").status_code == 403
    assert client.post(f"{api}confirm/", {}, content_type="application/json").status_code == 403
    client.force_login(personas["teacher"])  # the leaving person sees it, but neither ticks nor confirms
    assert client.get(reverse("assets:handover", args=[h.pk])).status_code == 200
    assert client.post(reverse("assets:handover_tick", args=[h.pk, line.pk]), {"received": "on"}).status_code == 403
    assert client.post(reverse("assets:handover_confirm", args=[h.pk])).status_code == 403
    line.refresh_from_db()
    assert not line.received


def test_api_lines_tick_refuse_and_confirm(client, people, held):
    h = _create(people)
    api = f"/api/assets/handovers/{h.pk}/"
    client.force_login(people["to"].user)
    data = client.get(f"{api}lines/").json()
    assert {ln["id"] for ln in data["lines"]} == set(h.lines.values_list("pk", flat=True)) and data["problems"]
    loan_line = h.lines.get(loan=held["loan"])
    bad = client.post(f"{api}tick/", {"line": loan_line.pk, "received": True}, content_type="application/json")
    assert bad.status_code == 400 and "应归还" in str(bad.json()["errors"])
    for line in h.lines.filter(loan__isnull=True):
        ok = client.post(f"{api}tick/", {"line": line.pk, "received": True}, content_type="application/json")
        assert ok.status_code == 200
    client.force_login(people["keeper"])
    refused = client.post(f"{api}confirm/", {}, content_type="application/json")
    assert refused.status_code == 400 and str(held["loan"].asset) in str(refused.json()["errors"])
    _return_all_loans(people)
    done = client.post(f"{api}confirm/", {"note": "已核对"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "confirmed"
    held["card"].refresh_from_db()
    assert held["card"].custodian == people["to"]


def test_api_actions_of_a_key_that_is_no_number_are_404(client, people, held):
    """The actions' route takes any text: ``int()`` of "null,null" was a server error."""
    h = _create(people)
    client.force_login(people["keeper"])
    for key in ("null,null", "abc", "²", "9" * 30, "-1", "0"):
        api = f"/api/assets/handovers/{key}/"
        assert client.get(f"{api}lines/").status_code == 404, key
        for name in ("tick", "refresh", "confirm"):
            assert client.post(f"{api}{name}/", {}, content_type="application/json").status_code == 404, (key, name)
    assert client.get(f"/api/assets/handovers/{h.pk}/lines/").status_code == 200


def test_staff_page_offers_to_start_a_handover_prefilled(client, people, held):
    client.force_login(people["director"])
    page = client.get(reverse("org:staff", args=[people["from"].pk])).content.decode()
    link = reverse("assets:handover_add") + f"?from_staff={people['from'].pk}"
    assert link in page
    form = client.get(link).content.decode()
    assert f'value="{people["from"].pk}"' in form or people["from"].name in form
    refused = client.post(reverse("org:staff_disable", args=[people["from"].pk]), follow=True)
    assert "hand them over first" in refused.content.decode() or "请先办理交接" in refused.content.decode()


def test_receiver_and_supervisor_are_told_and_both_sides_hear_of_the_confirm(people, held,
                                                                             django_capture_on_commit_callbacks):
    from houqin.notifications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        h = _create(people)
    told = Notification.objects.filter(category="assets.handover", url=f"/assets/handovers/{h.pk}/")
    assert set(told.values_list("recipient", flat=True)) == {people["to"].user_id, people["sup"].user_id}
    _return_all_loans(people)
    _tick_all(h, people["to"].user)
    with django_capture_on_commit_callbacks(execute=True):
        handover.handover_confirm(h, people["director"])
    assert told.filter(recipient=people["from"].user, title__contains=h.number).exists()
    assert told.filter(recipient=people["to"].user).count() == 2
