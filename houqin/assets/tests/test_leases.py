"""AST-8 idle assets and rooms, tenants, leases and rent, through the services, the pages and the API:
the idle register in the journal (and a closed month refusing it), the 调剂 selector, the credit code check,
activation refused without the approval or the public tender, the rent schedule to the fen, receipts never
above the schedule, overdue rent and its daily reminder, paying over (非税收入) and its report, widgets, roles."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from houqin.assets import selectors_leases as sel
from houqin.assets.choices import UseStatus
from houqin.assets.models import (
    AccountingPeriod,
    AssetMovement,
    IdleRoom,
    Lease,
    RentInstallment,
    RentPayOver,
    RentReceipt,
    Tenant,
)
from houqin.assets.models.leases import validate_credit_code
from houqin.assets.services import journal
from houqin.assets.services import leases as svc
from houqin.core.models import AuditEntry, StatusChange
from houqin.notifications.models import Notification

from .factories import AssetCategoryFactory, AssetFactory, _category
from .factories_leases import (
    IdleRoomFactory,
    LeaseFactory,
    TenantFactory,
    active_lease,
    credit_code,
)

K = AssetMovement.Kind
TODAY = timezone.localdate()
D = Decimal


@pytest.fixture
def keeper(personas):
    return personas["asset_keeper"]


@pytest.fixture
def accountant(personas):
    return personas["accountant"]


def _lease(keeper, school, **kw):
    defaults = {"tenant": TenantFactory(), "purpose": "培训", "start_on": datetime.date(2026, 1, 1),
                "end_on": datetime.date(2026, 12, 31), "rent_amount": D("3000.00"),
                "rent_period": Lease.Period.MONTHLY, "deposit": D("6000.00"), "rooms": [IdleRoomFactory()]}
    return svc.lease_create(school=school, actor=keeper, data={**defaults, **kw})


APPROVAL = {"approval_doc_no": "杭教资〔2026〕12号", "approval_authority": "杭州市教育局",
            "tender_platform": "杭州市公共资源交易中心", "tender_notice_no": "HZGZ-2026-0031",
            "tender_on": datetime.date(2025, 12, 20)}


# The idle register (journal) ---------------------------------------------------------------------------------
def test_marking_idle_and_back_in_use_posts_journal_rows(school, keeper):
    asset = AssetFactory()
    assert asset.status == UseStatus.IN_USE
    svc.asset_mark_idle(asset=asset, actor=keeper, reason="专业停招，设备闲置")
    asset.refresh_from_db()
    assert asset.status == UseStatus.IDLE
    row = asset.movements.get(kind=K.IDLE)
    assert (row.status_before, row.status_after, row.note) == (UseStatus.IN_USE, UseStatus.IDLE, "专业停招，设备闲置")
    assert row.actor == keeper and row.happened_on == TODAY
    # Not twice, and not without a reason.
    with pytest.raises(ValidationError):
        svc.asset_mark_idle(asset=asset, actor=keeper, reason="再次")
    other = AssetFactory()
    with pytest.raises(ValidationError) as caught:
        svc.asset_mark_idle(asset=other, actor=keeper, reason=" ")
    assert "reason" in caught.value.message_dict
    svc.asset_back_in_use(asset=asset, actor=keeper, note="新专业启用")
    asset.refresh_from_db()
    assert asset.status == UseStatus.IN_USE
    back = asset.movements.get(kind=K.REUSE)
    assert (back.status_before, back.status_after) == (UseStatus.IDLE, UseStatus.IN_USE)
    assert journal.state_from_journal(asset) == journal.cached_state(asset)
    with pytest.raises(ValidationError):
        svc.asset_back_in_use(asset=asset, actor=keeper)


def test_idle_marking_dated_in_a_closed_month_is_refused(school, keeper):
    asset = AssetFactory(acquired_on=datetime.date(2025, 1, 10))
    AccountingPeriod.objects.create(school=school, year=2025, month=3, status=AccountingPeriod.Status.CLOSED)
    rows = asset.movements.count()
    with pytest.raises(ValidationError) as caught:
        svc.asset_mark_idle(asset=asset, actor=keeper, on=datetime.date(2025, 3, 15), reason="闲置")
    assert "on" in caught.value.message_dict and "2025-03" in caught.value.message_dict["on"][0]
    asset.refresh_from_db()
    assert asset.status == UseStatus.IN_USE and asset.movements.count() == rows
    # A date in an open month is fine.
    svc.asset_mark_idle(asset=asset, actor=keeper, on=datetime.date(2025, 4, 1), reason="闲置")
    asset.refresh_from_db()
    assert asset.status == UseStatus.IDLE


def test_idle_assets_for_category_offers_the_category_and_its_children(school, keeper):
    parent = _category("A02000000")
    child = _category("A02010105")
    elsewhere = AssetCategoryFactory()
    in_child = AssetFactory(category=child)
    in_parent = AssetFactory(category=parent)
    busy = AssetFactory(category=child)
    other = AssetFactory(category=elsewhere)
    for a in (in_child, in_parent, other):
        svc.asset_mark_idle(asset=a, actor=keeper, reason="闲置")
    assert list(sel.idle_assets_for_category(school, child)) == [in_child]
    found = set(sel.idle_assets_for_category(school, parent))
    assert in_child in found and in_parent in found and busy not in found and other not in found


def test_idle_room_register_one_open_record_and_back_in_use(school, keeper):
    record = IdleRoomFactory()
    with pytest.raises(ValidationError) as caught:
        svc.idle_room_create(school=school, actor=keeper, data={"room": record.room, "since": TODAY,
                                                                 "reason": "又空了"})
    assert "room" in caught.value.message_dict
    svc.idle_room_reuse(idle_room=record, actor=keeper, note="改作实训室")
    record.refresh_from_db()
    assert record.status == IdleRoom.Status.IN_USE and record.ended_on == TODAY
    # Back in use, the room can go on the register again (a new spell).
    again = svc.idle_room_create(school=school, actor=keeper, data={"room": record.room, "since": TODAY,
                                                                     "reason": "又空了"})
    assert again.pk != record.pk


# Tenants ---------------------------------------------------------------------------------------------------------
def test_credit_code_is_checked_with_gb_32100(school, keeper):
    validate_credit_code("91350100M000100Y43")  # the standard's worked example (domain-rules.md §6.2)
    with pytest.raises(ValidationError) as bad:
        validate_credit_code("91350100M000100Y4Z")
    assert bad.value.code == "format"  # Z is not in the character set
    with pytest.raises(ValidationError) as checksum:
        validate_credit_code("91350100M000100Y44")
    assert checksum.value.code == "checksum"
    validate_credit_code("91350211M0000XUF46", allow_bad_checksum=True)  # a real early code failing the check
    from houqin.core import crud

    tenant = Tenant(school=school, name="某公司", credit_code="91350100M000100Y44", contact="张三", phone="13800138000")
    with pytest.raises(ValidationError) as caught:
        crud.object_create(obj=tenant, actor=keeper)
    assert "credit_code" in caught.value.message_dict
    tenant.credit_code_override = "营业执照原件如此，已核对"
    tenant.phone = "+86 138-0013-8000"
    crud.object_create(obj=tenant, actor=keeper)
    assert tenant.phone == "13800138000"
    bad_phone = Tenant(school=school, name="另一公司", credit_code=credit_code(77), contact="李四", phone="12345")
    with pytest.raises(ValidationError) as caught:
        crud.object_create(obj=bad_phone, actor=keeper)
    assert "phone" in caught.value.message_dict


def test_tenants_under_supervision_have_a_lease_in_force(school, keeper):
    supervised = active_lease()
    draft = LeaseFactory()
    not_flagged = active_lease(tenant=TenantFactory(safety_supervised=False))
    found = list(sel.tenants_under_supervision(school))
    assert supervised.tenant in found
    assert draft.tenant not in found and not_flagged.tenant not in found
    mine = next(t for t in found if t == supervised.tenant)
    assert [lease.pk for lease in mine.active_leases] == [supervised.pk]


# Leases: activation ----------------------------------------------------------------------------------------------
def test_activation_is_refused_without_approval_or_public_tender(school, keeper):
    lease = _lease(keeper, school)
    with pytest.raises(ValidationError) as caught:
        svc.lease_activate(lease=lease, actor=keeper)
    errors = caught.value.message_dict
    assert set(errors) == {"approval_doc_no", "tender_platform", "tender_notice_no", "tender_on"}
    assert "财政部令第36号" in errors["approval_doc_no"][0]
    assert "国务院令第738号" in errors["tender_notice_no"][0]
    # The approval alone is not enough.
    with pytest.raises(ValidationError) as caught:
        svc.lease_activate(lease=lease, actor=keeper, data={"approval_doc_no": "杭教资〔2026〕12号"})
    assert set(caught.value.message_dict) == {"tender_platform", "tender_notice_no", "tender_on"}
    lease.refresh_from_db()
    assert lease.status == Lease.Status.DRAFT and not lease.installments.exists()
    assert lease.approval_doc_no == ""  # the refused activation wrote nothing
    # A contract before the approval is refused.
    with pytest.raises(ValidationError) as caught:
        svc.lease_activate(lease=lease, actor=keeper, data={**APPROVAL, "approved_on": datetime.date(2026, 1, 5),
                                                             "signed_on": datetime.date(2026, 1, 2)})
    assert "signed_on" in caught.value.message_dict
    svc.lease_activate(lease=lease, actor=keeper, data=APPROVAL)
    lease.refresh_from_db()
    assert lease.status == Lease.Status.ACTIVE and lease.approval_doc_no == APPROVAL["approval_doc_no"]
    assert StatusChange.objects.filter(object_id=str(lease.pk), transition="activate").count() == 1


def test_activation_marks_rooms_leased_and_assets_lent_and_the_end_gives_them_back(school, keeper):
    room = IdleRoomFactory()
    asset = AssetFactory()
    svc.asset_mark_idle(asset=asset, actor=keeper, reason="闲置")
    busy = AssetFactory()
    with pytest.raises(ValidationError) as caught:
        _lease(keeper, school, rooms=[room], assets=[busy])
    assert "assets" in caught.value.message_dict
    lease = _lease(keeper, school, rooms=[room], assets=[asset], start_on=TODAY - datetime.timedelta(days=400),
                   end_on=TODAY - datetime.timedelta(days=1))
    with pytest.raises(ValidationError):  # the room is already on this draft lease
        _lease(keeper, school, rooms=[room])
    svc.lease_activate(lease=lease, actor=keeper, data=APPROVAL)
    room.refresh_from_db()
    asset.refresh_from_db()
    assert room.status == IdleRoom.Status.LEASED
    assert asset.status == UseStatus.LENT
    assert asset.movements.get(kind=K.LEND).document_url == f"/assets/leases/{lease.pk}/"
    svc.lease_end(lease=lease, actor=keeper)
    room.refresh_from_db()
    asset.refresh_from_db()
    lease.refresh_from_db()
    assert lease.status == Lease.Status.ENDED and lease.ended_on == TODAY
    assert room.status == IdleRoom.Status.IDLE and asset.status == UseStatus.IDLE
    assert asset.movements.filter(kind=K.GIVE_BACK).count() == 1
    assert journal.state_from_journal(asset) == journal.cached_state(asset)


def test_a_lease_cannot_end_before_its_term_but_can_be_terminated_with_the_reason(school, keeper):
    lease = active_lease()
    from houqin.core.workflow import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed) as caught:
        svc.lease_transition(lease=lease, name="end", actor=keeper)
    assert str(lease.end_on) in str(caught.value)
    with pytest.raises(TransitionNotAllowed):
        svc.lease_transition(lease=lease, name="terminate", actor=keeper)  # no reason
    svc.lease_transition(lease=lease, name="terminate", actor=keeper, note="承租方经营困难，协商解除")
    lease.refresh_from_db()
    assert lease.status == Lease.Status.TERMINATED
    later = lease.installments.filter(period_start__gt=TODAY)
    assert later.exists() and all(i.status == RentInstallment.Status.CANCELLED for i in later)
    started = lease.installments.filter(period_start__lte=TODAY)
    assert all(i.status != RentInstallment.Status.CANCELLED for i in started)
    assert lease.rooms.get().status == IdleRoom.Status.IDLE


# The rent schedule -------------------------------------------------------------------------------------------------
def test_monthly_schedule_of_a_whole_year():
    rows = svc.rent_schedule(start_on=datetime.date(2026, 1, 1), end_on=datetime.date(2026, 12, 31),
                             rent=D("3000.00"), period=Lease.Period.MONTHLY)
    assert len(rows) == 12 and all(r["amount"] == D("3000.00") for r in rows)
    assert rows[1]["due_on"] == datetime.date(2026, 2, 1) and rows[1]["period_end"] == datetime.date(2026, 2, 28)
    assert sum(r["amount"] for r in rows) == D("36000.00")


def test_last_period_is_pro_rated_by_days():
    # 1 Jan – 15 Jun: five whole months and 15 of June's 30 days = ¥1,500.00.
    rows = svc.rent_schedule(start_on=datetime.date(2026, 1, 1), end_on=datetime.date(2026, 6, 15),
                             rent=D("3000.00"), period=Lease.Period.MONTHLY)
    assert [r["amount"] for r in rows] == [D("3000.00")] * 5 + [D("1500.00")]
    assert rows[-1]["period_end"] == datetime.date(2026, 6, 15)
    # Quarterly from 1 March 2026 to 10 April 2027: four whole quarters and part of the fifth.
    rows = svc.rent_schedule(start_on=datetime.date(2026, 3, 1), end_on=datetime.date(2027, 4, 10),
                             rent=D("9000.00"), period=Lease.Period.QUARTERLY)
    assert [r["due_on"] for r in rows] == [datetime.date(2026, 3, 1), datetime.date(2026, 6, 1),
                                           datetime.date(2026, 9, 1), datetime.date(2026, 12, 1),
                                           datetime.date(2027, 3, 1)]
    # The fifth quarter runs 1 March – 31 May 2027 (92 days); 1 March – 10 April is 41 days: 9000 × 41 / 92.
    assert rows[-1]["amount"] == D("4010.87")
    # Yearly, one day short of two years: the second year (366 days, 2028 is leap) pro-rated 365/366.
    rows = svc.rent_schedule(start_on=datetime.date(2026, 9, 1), end_on=datetime.date(2028, 8, 30),
                             rent=D("50000.00"), period=Lease.Period.YEARLY)
    assert [r["amount"] for r in rows] == [D("50000.00"), D("49863.39")]  # 50000 × 365 / 366


def test_month_end_start_does_not_drift():
    rows = svc.rent_schedule(start_on=datetime.date(2026, 1, 31), end_on=datetime.date(2026, 4, 29),
                             rent=D("1000.00"), period=Lease.Period.MONTHLY)
    assert [r["due_on"] for r in rows] == [datetime.date(2026, 1, 31), datetime.date(2026, 2, 28),
                                           datetime.date(2026, 3, 31)]
    assert [r["amount"] for r in rows] == [D("1000.00"), D("1000.00"), D("1000.00")]


def test_activation_writes_the_schedule(school, keeper):
    lease = _lease(keeper, school, end_on=datetime.date(2026, 6, 15))
    svc.lease_activate(lease=lease, actor=keeper, data=APPROVAL)
    amounts = list(lease.installments.order_by("seq").values_list("amount", flat=True))
    assert amounts == [D("3000.00")] * 5 + [D("1500.00")]
    assert all(i.school_id == school.pk for i in lease.installments.all())


# Receipts ----------------------------------------------------------------------------------------------------------
def test_receipts_up_to_the_schedule_and_not_above(school, accountant):
    first = active_lease().installments.order_by("seq").first()
    svc.receipt_record(school=school, actor=accountant, installment=first, amount=D("1000.00"), receipt_no="R-1")
    first.refresh_from_db()
    assert (first.received, first.status) == (D("1000.00"), RentInstallment.Status.PARTLY)
    with pytest.raises(ValidationError) as caught:
        svc.receipt_record(school=school, actor=accountant, installment=first, amount=D("2000.01"),
                           receipt_no="R-2")
    message = caught.value.message_dict["amount"][0]
    assert "2,000.01" in message and "2,000.00" in message
    with pytest.raises(ValidationError) as caught:  # the same receipt number twice
        svc.receipt_record(school=school, actor=accountant, installment=first, amount=D("10.00"), receipt_no="R-1")
    assert "receipt_no" in caught.value.message_dict
    svc.receipt_record(school=school, actor=accountant, installment=first, amount=D("2000.00"), receipt_no="R-3")
    first.refresh_from_db()
    assert (first.received, first.status) == (D("3000.00"), RentInstallment.Status.RECEIVED)
    with pytest.raises(ValidationError):
        svc.receipt_record(school=school, actor=accountant, installment=first, amount=D("0.01"), receipt_no="R-4")
    # Voiding a receipt puts the money back as due.
    receipt = RentReceipt.objects.get(receipt_no="R-3")
    svc.receipt_void(receipt=receipt, reason="金额录错", actor=accountant)
    first.refresh_from_db()
    assert (first.received, first.status) == (D("1000.00"), RentInstallment.Status.PARTLY)
    assert RentReceipt.objects.filter(pk=receipt.pk, voided_at__isnull=False).exists()


def test_no_receipt_on_a_draft_lease_or_in_the_future(school, accountant):
    lease = LeaseFactory()
    fake = RentInstallment.objects.create(school=school, lease=lease, seq=1, period_start=TODAY, period_end=TODAY,
                                          due_on=TODAY, amount=D("100.00"))
    with pytest.raises(ValidationError) as caught:
        svc.receipt_record(school=school, actor=accountant, installment=fake, amount=D("10.00"), receipt_no="X1")
    assert "installment" in caught.value.message_dict
    first = active_lease().installments.first()
    with pytest.raises(ValidationError) as caught:
        svc.receipt_record(school=school, actor=accountant, installment=first, amount=D("10.00"), receipt_no="X2",
                           received_on=TODAY + datetime.timedelta(days=1))
    assert "received_on" in caught.value.message_dict


# Overdue and the daily reminder ------------------------------------------------------------------------------------
def test_overdue_is_computed_and_reported_once(school, accountant, personas):
    lease = active_lease()  # started 45 days ago, monthly: two instalments are past due
    overdue = list(sel.installments_overdue(school).filter(lease=lease).order_by("seq"))
    assert [i.seq for i in overdue] == [1, 2]
    assert sel.installment_state(overdue[0]) == "overdue"
    future = lease.installments.get(seq=3)
    assert sel.installment_state(future) == "due"
    svc.receipt_record(school=school, actor=accountant, installment=overdue[0], amount=D("3000.00"),
                       receipt_no="OD-1")
    assert [i.seq for i in sel.installments_overdue(school).filter(lease=lease)] == [2]
    summary = sel.overdue_summary(school)
    assert summary["count"] >= 1 and summary["amount"] >= D("3000.00")

    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        reported = svc.rent_overdue_notify()
    assert reported >= 1
    director = personas["logistics_director"]
    note = Notification.objects.filter(recipient=director).order_by("-id").first()
    assert note is not None and lease.number in note.body
    assert Notification.objects.filter(recipient=accountant, title=note.title).exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert svc.rent_overdue_notify() == 0  # each instalment once
    from houqin.core.jobs import periodic_jobs

    job = periodic_jobs()["assets.rent_overdue"]
    assert job.every_minutes == 24 * 60 and job.func is svc.rent_overdue_job


# Paying over (非税收入) and the report -----------------------------------------------------------------------------
def test_paying_over_a_batch_and_the_report(school, accountant):
    lease = active_lease()
    first, second = lease.installments.order_by("seq")[:2]
    a = svc.receipt_record(school=school, actor=accountant, installment=first, amount=D("3000.00"), receipt_no="P-1",
                           received_on=first.due_on)
    b = svc.receipt_record(school=school, actor=accountant, installment=second, amount=D("1200.00"),
                           receipt_no="P-2")
    assert sel.to_pay_over(school) >= D("4200.00")
    with pytest.raises(ValidationError) as caught:
        svc.pay_over_record(school=school, actor=accountant, receipts=[a], reference=" ")
    assert "reference" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        svc.pay_over_record(school=school, actor=accountant, receipts=[a], reference="FS1",
                            paid_on=first.due_on - datetime.timedelta(days=1))
    assert "paid_on" in caught.value.message_dict
    pay = svc.pay_over_record(school=school, actor=accountant, receipts=[a, b], reference="FS2026000123")
    assert pay.amount == D("4200.00") and pay.number.startswith(f"SJ{TODAY.year}-")
    assert set(pay.receipts.all()) == {a, b}
    with pytest.raises(ValidationError):  # not twice
        svc.pay_over_record(school=school, actor=accountant, receipts=[a], reference="FS2")
    with pytest.raises(ValidationError):  # a paid-over receipt is not voided
        svc.receipt_void(receipt=a, reason="错", actor=accountant)
    rows = {r["lease"].pk: r for r in sel.rent_report_by_lease(school, TODAY.year)}
    mine = rows[lease.pk]
    assert mine["received"] == D("4200.00") and mine["paid_over"] == D("4200.00") and mine["to_pay_over"] == 0
    months = sel.rent_report_by_month(school, TODAY.year)
    assert sum(m["received"] for m in months) >= D("4200.00")
    assert months[TODAY.month - 1]["paid_over"] >= D("4200.00")
    # Voiding the pay-over: kept, the receipts are to pay over again.
    svc.pay_over_void(pay_over=pay, reason="缴款书作废重开", actor=accountant)
    a.refresh_from_db()
    assert a.pay_over_id is None and RentPayOver.objects.filter(pk=pay.pk, voided_at__isnull=False).exists()
    assert sel.rent_report_by_lease(school, TODAY.year)[0]["to_pay_over"] >= 0
    mine = {r["lease"].pk: r for r in sel.rent_report_by_lease(school, TODAY.year)}[lease.pk]
    assert mine["to_pay_over"] == D("4200.00")
    assert AuditEntry.objects.filter(object_id=str(a.pk), content_type__model="rentreceipt",
                                     action="update").count() == 2


# Pages and API -----------------------------------------------------------------------------------------------------
def test_api_create_lease_then_activate_400_with_field_errors(client, school, keeper):
    client.force_login(keeper)
    room = IdleRoomFactory()
    tenant = TenantFactory()
    created = client.post("/api/assets/leases/", {
        "tenant": tenant.pk, "rooms": [room.pk], "purpose": "舞蹈培训", "start_on": "2026-01-01",
        "end_on": "2026-12-31", "rent_amount": "2500.00", "rent_period": "quarterly", "deposit": "5000.00"},
        content_type="application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    refused = client.post(f"/api/assets/leases/{pk}/activate/", {}, content_type="application/json")
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert "approval_doc_no" in errors and "tender_notice_no" in errors
    done = client.post(f"/api/assets/leases/{pk}/activate/", {**APPROVAL, "tender_on": "2025-12-20"},
                       content_type="application/json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "active"
    assert Lease.objects.get(pk=pk).installments.count() == 4


def test_api_receipt_above_the_schedule_is_400(client, school, accountant):
    client.force_login(accountant)
    first = active_lease().installments.order_by("seq").first()
    over = client.post("/api/assets/rent-receipts/", {"installment": first.pk, "amount": "3000.01",
                                                      "received_on": str(TODAY), "receipt_no": "API-1"},
                       content_type="application/json")
    assert over.status_code == 400 and "amount" in over.json()["errors"]
    ok = client.post("/api/assets/rent-receipts/", {"installment": first.pk, "amount": "3000.00",
                                                    "received_on": str(TODAY), "receipt_no": "API-2"},
                     content_type="application/json")
    assert ok.status_code == 201, ok.json()


def test_api_idle_and_reuse_actions_on_the_card(client, school, keeper, personas):
    asset = AssetFactory()
    client.force_login(personas["teacher"])
    assert client.post(f"/api/assets/cards/{asset.pk}/idle/", {"reason": "x"},
                       content_type="application/json").status_code in (403, 404)
    client.force_login(keeper)
    missing = client.post(f"/api/assets/cards/{asset.pk}/idle/", {}, content_type="application/json")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    done = client.post(f"/api/assets/cards/{asset.pk}/idle/", {"reason": "闲置"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "idle"
    back = client.post(f"/api/assets/cards/{asset.pk}/reuse/", {}, content_type="application/json")
    assert back.status_code == 200 and back.json()["status"] == "in_use"


def test_pages_idle_activate_report_and_widgets(client, school, keeper, accountant):
    asset = AssetFactory()
    client.force_login(keeper)
    card = client.get(reverse("assets:asset", args=[asset.pk]))
    assert reverse("assets:asset_idle", args=[asset.pk]).encode() in card.content
    refused = client.post(reverse("assets:asset_idle", args=[asset.pk]), {"reason": ""})
    assert refused.status_code == 400
    done = client.post(reverse("assets:asset_idle", args=[asset.pk]), {"reason": "闲置"})
    assert done.status_code == 302
    assert client.get(reverse("assets:idle_register")).status_code == 200
    lease = _lease(keeper, school)
    page = client.get(reverse("assets:lease", args=[lease.pk]))
    assert reverse("assets:lease_activate", args=[lease.pk]).encode() in page.content
    refused = client.post(reverse("assets:lease_activate", args=[lease.pk]), {})
    assert refused.status_code == 400 and "财政部令第36号" in refused.content.decode()
    done = client.post(reverse("assets:lease_activate", args=[lease.pk]), {**APPROVAL, "tender_on": "2025-12-20"})
    assert done.status_code == 302
    lease.refresh_from_db()
    assert lease.status == Lease.Status.ACTIVE
    client.force_login(accountant)
    first = lease.installments.order_by("seq").first()
    over = client.post(reverse("assets:rentreceipt_add"), {"installment": first.pk, "amount": "3500",
                                                            "received_on": str(TODAY), "receipt_no": "PG-1"})
    assert over.status_code == 400 and "3,500.00" in over.content.decode()
    report = client.get(reverse("assets:rent_report"))
    assert report.status_code == 200 and lease.number.encode() in report.content
    export = client.get(reverse("assets:rent_report_export") + "?by=month")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")
    # Overdue rent: the widget links to the filtered schedule, which lists it.
    active = active_lease()
    home = client.get("/").content.decode()
    assert "/assets/rent/?overdue=true" in home and "租金逾期" in home
    listed = client.get(reverse("assets:rentinstallment_list") + "?overdue=true").content.decode()
    assert active.number in listed
    client.force_login(keeper)
    home = client.get("/").content.decode()
    assert "闲置资产" in home and "?status=idle" in home
    # In force, a lease has no Edit button and its edit page refuses.
    page = client.get(reverse("assets:lease", args=[lease.pk])).content.decode()
    assert reverse("assets:lease_edit", args=[lease.pk]) not in page
    with pytest.raises(ValidationError) as caught:
        svc.lease_update(lease=lease, actor=keeper, data={"purpose": "改"})
    assert "草稿" in caught.value.messages[0]


# Roles ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role,manage,receive,view", [
    ("asset_keeper", True, False, True),
    ("logistics_director", True, False, True),
    ("accountant", False, True, True),
    ("principal", False, False, True),
    ("vice_principal", False, False, True),
    ("teacher", False, False, False),
])
def test_role_permissions(client, school, personas, role, manage, receive, view):
    user = personas[role]
    client.force_login(user)
    lease = LeaseFactory()
    assert user.has_perm("assets.change_lease") is manage
    assert user.has_perm("assets.add_rentreceipt") is receive
    assert user.has_perm("assets.add_rentpayover") is receive
    expected_view = 200 if view else 403
    for url in (reverse("assets:lease_list"), reverse("assets:tenant_list"), reverse("assets:idleroom_list"),
                reverse("assets:rentinstallment_list"), reverse("assets:rent_report")):
        assert client.get(url).status_code == expected_view, (role, url)
    activate = client.post(reverse("assets:lease_activate", args=[lease.pk]), {**APPROVAL,
                                                                              "tender_on": "2025-12-20"})
    assert activate.status_code == (302 if manage else 403)
    assert client.get(reverse("assets:lease_add")).status_code == (200 if manage else 403)
    assert client.get(reverse("assets:rentreceipt_add")).status_code == (200 if receive else 403)
    api = client.post("/api/assets/rent-paid-over/", {}, content_type="application/json")
    assert api.status_code == (400 if receive else 403)
