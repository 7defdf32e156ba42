"""Idle assets and rooms, leases and rent (AST-8; domain-rules.md §2.4): the one write path.

- Idle assets go through the asset journal (``journal.post`` with ``IDLE`` / ``REUSE``), so a closed month
  refuses a marking dated in it like any other journal row.
- A lease comes into force only with the approval number of the 主管部门/财政 and the 公开招租 reference
  (``workflows_leases.activation_problems``). Activation writes the rent schedule, puts the rooms on
  "leased" and the assets on "lent out" (journal ``LEND``); the end or an early termination gives them back.
- Rent received is 非税收入 (domain-rules.md §2.4; 《行政事业性国有资产管理条例》第三十六条 rents go through
  the treasury): each receipt is paid over (上缴) to the treasury and reported as such, never kept as income.

Rent schedule (decided here, shown on the lease page): one instalment per period from the term start,
each due on the first day of its period (rent is paid in advance, 先付后用). Periods are counted from the
start date without drift (31 January + 1 month = 28/29 February, + 2 months = 31 March). A last period cut
short by the term end is pro-rated by days (按实际天数折算): rent × days covered ÷ days of the full period,
rounded half up to the fen.
"""

from __future__ import annotations

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core import crud
from houqin.core.audit import audit_bulk, audit_record, serialize_for_audit
from houqin.core.models import AuditEntry
from houqin.core.money import MoneySum

from ..choices import UseStatus
from ..models import (
    Asset,
    AssetMovement,
    IdleRoom,
    Lease,
    RentInstallment,
    RentPayOver,
    RentReceipt,
)
from ..workflows_leases import activation_problems, idle_room_flow, lease_flow
from . import journal, periods
from .common import next_value

CENT = Decimal("0.01")
# Months per rent period.
PERIOD_MONTHS = {Lease.Period.MONTHLY: 1, Lease.Period.QUARTERLY: 3, Lease.Period.YEARLY: 12}
# Document numbers: 租赁 ZL2026-0001, 上缴 SJ2026-0001.
LEASE_PREFIX = "ZL"
PAY_OVER_PREFIX = "SJ"
# A lease in one of these states has (had) a schedule: its instalments are collected.
COLLECTING = (Lease.Status.ACTIVE, Lease.Status.ENDED, Lease.Status.TERMINATED)
# An asset can be put on the idle register from these states (not while lent, repaired or being disposed of).
IDLE_FROM = (UseStatus.IN_USE, UseStatus.IN_STORE)


def _number(school, key: str, prefix: str, on: datetime.date) -> str:
    return f"{prefix}{on.year}-{next_value(school, key, on.year):04d}"


def _not_future(day: datetime.date | None, field: str) -> None:
    if day and day > timezone.localdate():
        raise ValidationError({field: _("The date is in the future.")})


# Idle assets (AST-8 闲置资产) ----------------------------------------------------------------------------------
@transaction.atomic
def asset_mark_idle(*, asset: Asset, actor, on: datetime.date | None = None, reason: str = "") -> AssetMovement:
    """Put a card on the idle register: a journal row ``IDLE``, status 闲置 (dated ``on``, default today)."""
    on = on or timezone.localdate()
    _not_future(on, "on")
    periods.assert_open(asset.school_id, on, field="on")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the asset stands idle.")})
    asset = journal.lock(Asset, [asset.pk])[asset.pk]
    if asset.status not in IDLE_FROM:
        raise ValidationError(_("%(asset)s is %(status)s: only an asset in use or in store can be marked idle.") % {
            "asset": asset, "status": asset.get_status_display()})
    return journal.post(asset, kind=AssetMovement.Kind.IDLE, actor=actor, on=on, status=UseStatus.IDLE,
                        document=_("Idle register"), note=reason)


@transaction.atomic
def asset_back_in_use(*, asset: Asset, actor, on: datetime.date | None = None, note: str = "") -> AssetMovement:
    """Take a card off the idle register: a journal row ``REUSE``, status 在用."""
    on = on or timezone.localdate()
    _not_future(on, "on")
    periods.assert_open(asset.school_id, on, field="on")
    asset = journal.lock(Asset, [asset.pk])[asset.pk]
    if asset.status != UseStatus.IDLE:
        raise ValidationError(_("%(asset)s is %(status)s, not idle.") % {
            "asset": asset, "status": asset.get_status_display()})
    if asset.leases.filter(status=Lease.Status.DRAFT).exists():
        raise ValidationError(_("%(asset)s is on a draft lease: take it off the lease or cancel the lease first.")
                              % {"asset": asset})
    return journal.post(asset, kind=AssetMovement.Kind.REUSE, actor=actor, on=on, status=UseStatus.IN_USE,
                        document=_("Idle register"), note=note)


# Idle rooms ------------------------------------------------------------------------------------------------------
@transaction.atomic
def idle_room_create(*, school, actor, data: dict) -> IdleRoom:
    """Put a room on the idle register (one open record per room)."""
    room = data.get("room")
    if room is not None and IdleRoom.objects.filter(room=room, status__in=(IdleRoom.Status.IDLE,
                                                                           IdleRoom.Status.LEASED)).exists():
        raise ValidationError({"room": _("%(room)s is already on the idle register.") % {"room": room}})
    _not_future(data.get("since"), "since")
    obj = IdleRoom(school=school, **{k: v for k, v in data.items() if k in ("room", "since", "area", "reason",
                                                                             "note")})
    return crud.object_create(obj=obj, actor=actor)


@transaction.atomic
def idle_room_reuse(*, idle_room: IdleRoom, actor, note: str = "") -> IdleRoom:
    """The room is used again: it leaves the register (the record stays, with the date)."""
    if idle_room.leases.filter(status=Lease.Status.DRAFT).exists():
        raise ValidationError(_("%(room)s is on a draft lease: take it off the lease or cancel the lease first.")
                              % {"room": idle_room})
    return idle_room_flow.apply(idle_room, "reuse", actor=actor, note=note,
                                update={"ended_on": timezone.localdate()})


def idle_room_transition(*, idle_room: IdleRoom, name: str, actor, note: str = "") -> IdleRoom:
    if name == "reuse":
        return idle_room_reuse(idle_room=idle_room, actor=actor, note=note)
    return idle_room_flow.apply(idle_room, name, actor=actor, note=note)


# Leases --------------------------------------------------------------------------------------------------------
LEASE_FIELDS = ("tenant", "purpose", "approval_doc_no", "approval_authority", "approved_on", "tender_platform",
                "tender_notice_no", "tender_on", "contract_no", "signed_on", "start_on", "end_on", "rent_amount",
                "rent_period", "deposit", "note")
APPROVAL_FIELDS = ("approval_doc_no", "approval_authority", "approved_on", "tender_platform", "tender_notice_no",
                   "tender_on", "contract_no", "signed_on")


def _check_subjects(school, rooms, assets, *, lease: Lease | None = None) -> None:
    """Only idle rooms and idle assets of the school are let; none already on another open lease."""
    # Their state as stored now (the caller's objects may be older than a marking made since).
    rooms = list(IdleRoom.objects.filter(pk__in=[r.pk for r in rooms]).select_related("room").order_by("pk"))
    assets = list(Asset.objects.filter(pk__in=[a.pk for a in assets]).order_by("pk"))
    others = Lease.objects.filter(status__in=(Lease.Status.DRAFT, Lease.Status.ACTIVE))
    if lease is not None and lease.pk:
        others = others.exclude(pk=lease.pk)
    for room in rooms:
        if room.school_id != school.pk:
            raise ValidationError({"rooms": _("%(room)s belongs to another school.") % {"room": room}})
        if room.status != IdleRoom.Status.IDLE:
            raise ValidationError({"rooms": _("%(room)s is not idle (%(status)s): only idle rooms are let.") % {
                "room": room, "status": room.get_status_display()}})
        taken = others.filter(rooms=room).first()
        if taken is not None:
            raise ValidationError({"rooms": _("%(room)s is already on lease %(lease)s.") % {
                "room": room, "lease": taken.number}})
    for asset in assets:
        if asset.school_id != school.pk:
            raise ValidationError({"assets": _("%(asset)s belongs to another school.") % {"asset": asset}})
        if asset.status != UseStatus.IDLE:
            raise ValidationError({"assets": _("%(asset)s is not idle (%(status)s): only idle assets are let.") % {
                "asset": asset, "status": asset.get_status_display()}})
        taken = others.filter(assets=asset).first()
        if taken is not None:
            raise ValidationError({"assets": _("%(asset)s is already on lease %(lease)s.") % {
                "asset": asset, "lease": taken.number}})


@transaction.atomic
def lease_create(*, school, actor, data: dict) -> Lease:
    """Write a draft lease; rooms and assets must be on the idle register."""
    rooms = list(data.get("rooms") or [])
    assets = list(data.get("assets") or [])
    _check_subjects(school, rooms, assets)
    start = data.get("start_on") or timezone.localdate()
    lease = Lease(school=school, number=_number(school, "lease", LEASE_PREFIX, start), created_by=actor,
                  **{k: data[k] for k in LEASE_FIELDS if k in data and data[k] is not None})
    return crud.object_create(obj=lease, actor=actor, m2m={"rooms": rooms, "assets": assets})


@transaction.atomic
def lease_update(*, lease: Lease, actor, data: dict) -> Lease:
    """Change a draft (a lease in force changes only by ending it and writing a new one)."""
    lease = Lease.objects.select_for_update().get(pk=lease.pk)
    if lease.status != Lease.Status.DRAFT:
        raise ValidationError(_("Only a draft lease can be changed."))
    m2m = {name: list(data[name]) for name in ("rooms", "assets") if name in data}
    _check_subjects(lease.school, m2m.get("rooms", []), m2m.get("assets", []), lease=lease)
    plain = {k: v for k, v in data.items() if k in LEASE_FIELDS}
    crud.object_update(obj=lease, data=plain, actor=actor, m2m=m2m)
    return lease


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus whole months, the day clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return datetime.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def rent_schedule(*, start_on: datetime.date, end_on: datetime.date, rent: Decimal, period: str) -> list[dict]:
    """The instalments of a term (see the module docstring): seq, period start/end, due date, amount."""
    step = PERIOD_MONTHS[period]
    rows = []
    k = 0
    while True:
        begins = add_months(start_on, k * step)
        if begins > end_on:
            return rows
        full_end = add_months(start_on, (k + 1) * step) - datetime.timedelta(days=1)
        ends = min(full_end, end_on)
        if ends == full_end:
            amount = rent
        else:  # the last period, cut short by the term end: pro-rated by days
            covered = (ends - begins).days + 1
            full = (full_end - begins).days + 1
            amount = (rent * covered / full).quantize(CENT, rounding=ROUND_HALF_UP)
        rows.append({"seq": k + 1, "period_start": begins, "period_end": ends, "due_on": begins, "amount": amount})
        k += 1


@transaction.atomic
def lease_activate(*, lease: Lease, actor, data: dict | None = None, note: str = "") -> Lease:
    """Put a draft lease in force (the activation form passes the approval and tender fields in ``data``).

    Refused, with the missing field named, without the approval number of the 主管部门/财政 or the 公开招租
    reference. Writes the rent schedule, marks the rooms leased and the assets lent out (journal ``LEND``).
    """
    lease = Lease.objects.select_for_update().get(pk=lease.pk)
    if lease.status != Lease.Status.DRAFT:
        raise ValidationError(_("Only a draft lease can be put in force."))
    if data:
        crud.object_update(obj=lease, data={k: v for k, v in data.items() if k in APPROVAL_FIELDS}, actor=actor)
    problems = activation_problems(lease)
    if problems:
        raise ValidationError(problems)
    rooms = list(lease.rooms.select_for_update().order_by("pk"))
    assets = list(journal.lock(Asset, lease.assets.values_list("pk", flat=True)).values())
    if not rooms and not assets:
        raise ValidationError({"rooms": _("Choose the idle rooms or assets that are let.")})
    _check_subjects(lease.school, rooms, assets, lease=lease)
    today = timezone.localdate()
    if assets:
        periods.assert_open(lease.school_id, today)
    lease_flow.apply(lease, "activate", actor=actor, note=note, update={"activated_at": timezone.now()})
    RentInstallment.objects.bulk_create([
        RentInstallment(school_id=lease.school_id, lease=lease, **row)
        for row in rent_schedule(start_on=lease.start_on, end_on=lease.end_on, rent=lease.rent_amount,
                                 period=lease.rent_period)])
    for room in rooms:
        idle_room_flow.apply(room, "lease", actor=actor, note=lease.number, check_perm=False)
    document_url = f"/assets/leases/{lease.pk}/"
    for asset in assets:
        journal.post(asset, kind=AssetMovement.Kind.LEND, actor=actor, on=today, status=UseStatus.LENT,
                     document=_("Lease %(number)s") % {"number": lease.number}, document_url=document_url,
                     note=str(lease.tenant))
    return lease


def _release(lease: Lease, actor, on: datetime.date) -> None:
    """The rooms go back on the idle register, the assets back to idle (journal ``GIVE_BACK``)."""
    for room in lease.rooms.filter(status=IdleRoom.Status.LEASED).order_by("pk"):
        idle_room_flow.apply(room, "release", actor=actor, note=lease.number, check_perm=False)
    assets = journal.lock(Asset, lease.assets.values_list("pk", flat=True))
    for asset in assets.values():
        if asset.status == UseStatus.LENT:
            journal.post(asset, kind=AssetMovement.Kind.GIVE_BACK, actor=actor, on=on, status=UseStatus.IDLE,
                         document=_("Lease %(number)s") % {"number": lease.number},
                         document_url=f"/assets/leases/{lease.pk}/")


@transaction.atomic
def lease_end(*, lease: Lease, actor, note: str = "") -> Lease:
    """End a lease at its term: what was let goes back on the idle register; the schedule stays to collect."""
    today = timezone.localdate()
    lease_flow.apply(lease, "end", actor=actor, note=note, update={"ended_on": today})
    _release(lease, actor, today)
    return lease


@transaction.atomic
def lease_terminate(*, lease: Lease, actor, note: str = "") -> Lease:
    """Terminate early (with the reason): instalments of periods not yet begun and not paid are cancelled."""
    today = timezone.localdate()
    lease_flow.apply(lease, "terminate", actor=actor, note=note, update={"ended_on": today})
    later = list(RentInstallment.objects.select_for_update().filter(
        lease=lease, period_start__gt=today, status=RentInstallment.Status.DUE, received=0))
    befores = [serialize_for_audit(i) for i in later]
    for i in later:
        i.status = RentInstallment.Status.CANCELLED
    RentInstallment.objects.bulk_update(later, ["status", "updated_at"])
    audit_bulk([(i, AuditEntry.Action.UPDATE, b, serialize_for_audit(i)) for i, b in zip(later, befores, strict=True)],
               actor=actor, message=_("Lease %(number)s terminated early") % {"number": lease.number})
    _release(lease, actor, today)
    return lease


def lease_transition(*, lease: Lease, name: str, actor, note: str = "") -> Lease:
    if name == "activate":
        return lease_activate(lease=lease, actor=actor, note=note)
    if name == "end":
        return lease_end(lease=lease, actor=actor, note=note)
    if name == "terminate":
        return lease_terminate(lease=lease, actor=actor, note=note)
    return lease_flow.apply(lease, name, actor=actor, note=note)


# Rent receipts -------------------------------------------------------------------------------------------------
def _refresh_installment(installment: RentInstallment, actor, message: str) -> None:
    before = serialize_for_audit(installment)
    received = (installment.receipts.filter(voided_at__isnull=True).aggregate(s=MoneySum("amount", default=None))["s"]
                or Decimal("0"))
    installment.received = received
    if installment.status != RentInstallment.Status.CANCELLED:
        installment.status = (RentInstallment.Status.RECEIVED if received >= installment.amount else
                              RentInstallment.Status.PARTLY if received > 0 else RentInstallment.Status.DUE)
    installment.save(update_fields=["received", "status", "updated_at"])
    audit_record(obj=installment, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                 after=serialize_for_audit(installment), message=message)


@transaction.atomic
def receipt_record(*, school, actor, installment: RentInstallment, amount: Decimal, received_on=None,
                   receipt_no: str, note: str = "") -> RentReceipt:
    """Record rent received against one instalment; more than is still due on it is refused with the reason."""
    installment = RentInstallment.objects.select_for_update().select_related("lease").get(pk=installment.pk)
    received_on = received_on or timezone.localdate()
    if installment.school_id != school.pk:
        raise ValidationError({"installment": _("This instalment belongs to another school.")})
    if installment.lease.status not in COLLECTING or installment.status == RentInstallment.Status.CANCELLED:
        raise ValidationError({"installment": _("Instalment %(n)s is %(status)s: nothing is due on it.") % {
            "n": installment, "status": installment.get_status_display()}})
    _not_future(received_on, "received_on")
    receipt_no = (receipt_no or "").strip()
    if not receipt_no:
        raise ValidationError({"receipt_no": _("Enter the number of the receipt given to the tenant.")})
    if RentReceipt.objects.filter(school=school, receipt_no=receipt_no, voided_at__isnull=True).exists():
        raise ValidationError({"receipt_no": _("Receipt number %(no)s is already recorded.") % {"no": receipt_no}})
    if amount is None or amount <= 0:
        raise ValidationError({"amount": _("Enter an amount above zero.")})
    left = installment.amount - installment.received
    if amount > left:
        raise ValidationError({"amount": _(
            "¥%(amount)s is more than is still due on instalment %(n)s (¥%(left)s of ¥%(due)s): a receipt cannot "
            "exceed the rent schedule. Record an overpayment against the next instalment.") % {
            "amount": f"{amount:,.2f}", "n": installment, "left": f"{left:,.2f}",
            "due": f"{installment.amount:,.2f}"}})
    receipt = RentReceipt(school=school, installment=installment, lease=installment.lease, amount=amount,
                          received_on=received_on, receipt_no=receipt_no, note=note, recorded_by=actor)
    crud.object_create(obj=receipt, actor=actor)
    _refresh_installment(installment, actor, _("Receipt %(no)s") % {"no": receipt_no})
    return receipt


@transaction.atomic
def receipt_void(*, receipt: RentReceipt, reason: str, actor) -> RentReceipt:
    """Void a wrongly recorded receipt (kept, with the reason); not once it is paid over."""
    receipt = RentReceipt.objects.select_for_update().get(pk=receipt.pk)
    if receipt.pay_over_id:
        raise ValidationError(_("Receipt %(no)s is paid over with %(pay)s: void that pay-over first.") % {
            "no": receipt.receipt_no, "pay": receipt.pay_over.number})
    receipt = crud.object_void(obj=receipt, reason=reason, actor=actor)
    installment = RentInstallment.objects.select_for_update().get(pk=receipt.installment_id)
    _refresh_installment(installment, actor, _("Receipt %(no)s voided") % {"no": receipt.receipt_no})
    return receipt


# Paying over (非税收入上缴) ---------------------------------------------------------------------------------------
@transaction.atomic
def pay_over_record(*, school, actor, receipts, paid_on=None, reference: str, note: str = "") -> RentPayOver:
    """Pay rent received over to the treasury: one receipt or a batch, with the payment form's number."""
    ids = sorted({r.pk for r in receipts})
    if not ids:
        raise ValidationError({"receipts": _("Choose the receipts paid over.")})
    rows = list(RentReceipt.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    paid_on = paid_on or timezone.localdate()
    _not_future(paid_on, "paid_on")
    if not (reference or "").strip():
        raise ValidationError({"reference": _("Enter the number of the payment form or the bank slip.")})
    for r in rows:
        if r.school_id != school.pk:
            raise ValidationError({"receipts": _("Receipt %(no)s belongs to another school.") % {"no": r.receipt_no}})
        if r.voided_at is not None:
            raise ValidationError({"receipts": _("Receipt %(no)s is voided.") % {"no": r.receipt_no}})
        if r.pay_over_id is not None:
            raise ValidationError({"receipts": _("Receipt %(no)s is already paid over.") % {"no": r.receipt_no}})
        if r.received_on > paid_on:
            raise ValidationError({"paid_on": _("Receipt %(no)s was received on %(day)s, after this date.") % {
                "no": r.receipt_no, "day": r.received_on}})
    pay_over = RentPayOver(school=school, number=_number(school, "payover", PAY_OVER_PREFIX, paid_on),
                           paid_on=paid_on, reference=reference.strip(), note=note, recorded_by=actor,
                           amount=sum((r.amount for r in rows), Decimal("0")))
    crud.object_create(obj=pay_over, actor=actor)
    befores = [serialize_for_audit(r) for r in rows]
    for r in rows:
        r.pay_over = pay_over
    RentReceipt.objects.bulk_update(rows, ["pay_over", "updated_at"])
    audit_bulk([(r, AuditEntry.Action.UPDATE, b, serialize_for_audit(r)) for r, b in zip(rows, befores, strict=True)],
               actor=actor, message=_("Paid over with %(number)s") % {"number": pay_over.number})
    return pay_over


@transaction.atomic
def pay_over_void(*, pay_over: RentPayOver, reason: str, actor) -> RentPayOver:
    """Void a pay-over recorded by mistake: it is kept (with the reason) and its receipts are to pay over again."""
    pay_over = crud.object_void(obj=pay_over, reason=reason, actor=actor)
    rows = list(RentReceipt.objects.select_for_update().filter(pay_over=pay_over).order_by("pk"))
    befores = [serialize_for_audit(r) for r in rows]
    for r in rows:
        r.pay_over = None
    RentReceipt.objects.bulk_update(rows, ["pay_over", "updated_at"])
    audit_bulk([(r, AuditEntry.Action.UPDATE, b, serialize_for_audit(r)) for r, b in zip(rows, befores, strict=True)],
               actor=actor, message=_("Pay-over %(number)s voided") % {"number": pay_over.number})
    return pay_over


# The daily reminder of newly overdue rent ------------------------------------------------------------------------
def rent_overdue_notify(*, today: datetime.date | None = None) -> int:
    """Tell the logistics director and the accountant of each school about rent that fell overdue since the last
    run (once per instalment); returns the number of instalments reported."""
    from houqin.notifications.services import notify
    from houqin.org.models import School

    from ..selectors_leases import installments_overdue

    today = today or timezone.localdate()
    reported = 0
    for school in School.objects.filter(pk__in=RentInstallment.objects.filter(
            overdue_notified_on__isnull=True, due_on__lt=today).values("school_id")):
        with transaction.atomic():
            rows = list(installments_overdue(school, today).filter(overdue_notified_on__isnull=True)
                        .select_for_update().select_related("lease", "lease__tenant").order_by("due_on", "pk"))
            if not rows:
                continue
            total = sum((r.amount - r.received for r in rows), Decimal("0"))
            lines = [_("%(lease)s %(tenant)s: instalment %(seq)s due %(day)s, ¥%(left)s outstanding") % {
                "lease": r.lease.number, "tenant": r.lease.tenant, "seq": r.seq, "day": r.due_on,
                "left": f"{r.amount - r.received:,.2f}"} for r in rows[:20]]
            notify(school=school, recipients=["logistics_director", "accountant"],
                   title=_("Rent overdue: %(count)s instalments, ¥%(amount)s") % {
                       "count": len(rows), "amount": f"{total:,.2f}"},
                   body="\n".join(lines), url="/assets/rent/?overdue=true", category="assets.rent_overdue")
            RentInstallment.objects.filter(pk__in=[r.pk for r in rows]).update(overdue_notified_on=today)
            reported += len(rows)
    return reported


def rent_overdue_job() -> int:
    """The daily periodic job (registered by ``entities_leases.register``)."""
    return rent_overdue_notify()
