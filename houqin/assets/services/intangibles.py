"""Intangible assets and construction in progress (AST-15): the one write path for both.

Intangible assets (无形资产, 《政府会计准则第4号——无形资产》):

- amortised straight line by month with no residual value, from the month the asset is ready for use
  (当月增加当月摊销) and not in the month it leaves the books (当月减少当月不摊销); an asset whose useful life
  cannot be estimated (使用年限不确定) is not amortised; once fully amortised nothing more is charged;
- the arithmetic is ``assets.depreciation`` (``basis_for``/``charge_for_month``), shared with the cards;
- ``amortise_month(period, actor)`` is the month's run, called by the monthly depreciation run.

在建工程 (construction in progress): a project collects cost entries; acceptance (转固) adds the total to
the target building card through the asset journal (a 转固 row) and rebases its depreciation, or makes a
new self-built card. Only a building or structure card (房屋及构筑物) can be the target: 改建、扩建 of a
building is what 在建工程 capitalises into an existing card (domain-rules.md §2.3 "if 改建、扩建 extends the
life, recompute"); an equipment installation or a new structure gets a new card in its own category.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import crud
from houqin.core.audit import audit_bulk, audit_record, serialize_for_audit
from houqin.core.models import AuditEntry
from houqin.core.money import MoneySum
from houqin.core.workflow import T, TransitionNotAllowed, Workflow

from .. import depreciation
from ..choices import AccountingClass, Acquisition, UseStatus
from ..models import (
    AccountingPeriod,
    AmortisationLine,
    Asset,
    AssetMovement,
    ConstructionCost,
    ConstructionProject,
    IntangibleAsset,
)
from . import cards, journal, periods
from .common import asset_code_prefix, next_value

ZERO = Decimal("0.00")
# 《政府会计制度——行政事业单位会计科目和报表》: 1702 无形资产累计摊销 (credited by the monthly charge),
# 1613 在建工程 (the project's cost until 转固 into 1601 固定资产).
AMORTISATION_SUBJECT = "1702 无形资产累计摊销"
CONSTRUCTION_SUBJECT = "1613 在建工程"
# Reminder lead time before a software licence expires (school practice; the brief of AST-15).
LICENCE_REMINDER_DAYS = 30
# Fields that make the amortisation basis: fixed once the asset has been amortised or booked.
BASIS_FIELDS = ("original_value", "acquired_on", "in_service_on", "indefinite_life", "life_months", "opening_on",
                "opening_amortisation")


# Intangible assets ---------------------------------------------------------------------------------------------
def _new_intangible_code(school, year: int) -> str:
    """Prefix + W + year + sequence (cards are prefix + year + sequence); a code already used is skipped."""
    prefix = f"{asset_code_prefix(school)}W{year}"
    while True:
        code = f"{prefix}{next_value(school, 'intangible', year):04d}"
        if not IntangibleAsset.objects.filter(school=school, code=code).exists():
            return code


def _fill(obj: IntangibleAsset) -> None:
    """Ready for use on the acquisition day unless said otherwise; an indefinite life has no period."""
    if obj.in_service_on is None:
        obj.in_service_on = obj.acquired_on
    if obj.indefinite_life:
        obj.life_months = None


def _dates_not_future(obj: IntangibleAsset) -> None:
    today = timezone.localdate()
    for name in ("acquired_on", "in_service_on", "opening_on"):
        day = getattr(obj, name)
        if day and day > today:
            raise ValidationError({name: _("The date is in the future.")})


@transaction.atomic
def intangible_create(*, school, actor, data: dict) -> IntangibleAsset:
    """Register an intangible asset (待入账 until the accountant books it). An empty code is numbered.

    Cut-over: ``opening_on`` and ``opening_amortisation`` carry the old ledger's balance; charging resumes
    the month after ``opening_on``. Dated in a closed month of the asset books: refused.
    """
    data = {k: v for k, v in data.items() if k not in ("school", "accumulated_amortisation", "disposed_on")}
    obj = IntangibleAsset(school=school, **data)
    _fill(obj)
    _dates_not_future(obj)
    periods.assert_open(school, obj.opening_on or obj.acquired_on,
                        field="opening_on" if obj.opening_on else "acquired_on")
    if not obj.code:
        obj.code = _new_intangible_code(school, (obj.acquired_on or timezone.localdate()).year)
    obj.accumulated_amortisation = obj.opening_amortisation or ZERO
    return crud.object_create(obj=obj, actor=actor, message=_("Intangible asset registered"))


@transaction.atomic
def intangible_update(*, intangible: IntangibleAsset, actor, data: dict) -> IntangibleAsset:
    """Descriptive fields any time; the amortisation basis only while nothing is amortised or booked."""
    intangible = IntangibleAsset.objects.select_for_update().get(pk=intangible.pk)
    data = {k: v for k, v in data.items() if k not in (
        "code", "school", "accumulated_amortisation", "disposed_on", "booking", "voucher_no", "booked_on")}
    if data.get("indefinite_life"):
        data["life_months"] = None
    if "in_service_on" in data and data["in_service_on"] is None:
        data["in_service_on"] = data.get("acquired_on", intangible.acquired_on)
    changed = [n for n in BASIS_FIELDS if n in data and data[n] != getattr(intangible, n)]
    if changed:
        if intangible.amortisation_lines.filter(voided_at__isnull=True).exists():
            raise ValidationError({changed[0]: _(
                "%(name)s has been amortised already: its value, dates and amortisation period can no longer "
                "change. Record a correction in an open month with the accountant.") % {"name": intangible}})
        if intangible.booking == IntangibleAsset.Booking.BOOKED:
            raise ValidationError({changed[0]: _(
                "%(name)s is booked in the finance ledger (voucher %(voucher)s): its value and dates can no "
                "longer change.") % {"name": intangible, "voucher": intangible.voucher_no}})
        today = timezone.localdate()
        for name in ("acquired_on", "in_service_on", "opening_on"):
            if data.get(name) and data[name] > today:
                raise ValidationError({name: _("The date is in the future.")})
        opening_on = data.get("opening_on", intangible.opening_on)
        periods.assert_open(intangible.school_id, opening_on or data.get("acquired_on", intangible.acquired_on),
                            field="opening_on" if opening_on else "acquired_on")
        data["accumulated_amortisation"] = data.get("opening_amortisation", intangible.opening_amortisation) or ZERO
    crud.object_update(obj=intangible, data=data, actor=actor)
    return intangible


@transaction.atomic
def intangible_book(*, intangible: IntangibleAsset, actor, voucher_no: str,
                    booked_on: datetime.date | None = None) -> IntangibleAsset:
    """入账 (AST-10): the accountant enters the finance voucher number; the asset is then 已入账."""
    voucher_no = (voucher_no or "").strip()
    if not voucher_no:
        raise ValidationError({"voucher_no": _("Enter the voucher number of the finance ledger.")})
    booked_on = booked_on or timezone.localdate()
    if booked_on > timezone.localdate():
        raise ValidationError({"booked_on": _("The date is in the future.")})
    intangible = IntangibleAsset.objects.select_for_update().get(pk=intangible.pk)
    crud.object_update(obj=intangible, actor=actor, message=_("Booked"), data={
        "booking": IntangibleAsset.Booking.BOOKED, "voucher_no": voucher_no, "booked_on": booked_on})
    return intangible


@transaction.atomic
def intangible_dispose(*, intangible: IntangibleAsset, actor, disposed_on: datetime.date | None = None,
                       reason: str = "") -> IntangibleAsset:
    """核销 an intangible asset (licence ended, right transferred): not amortised from that month on.

    当月减少当月不摊销: an amortisation already posted for the month of disposal or later (those months are
    open, since the disposal's month is) is voided, and the cached accumulated amount follows.
    """
    intangible = IntangibleAsset.objects.select_for_update().get(pk=intangible.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason (e.g. the licence ended, the right was transferred).")})
    if intangible.disposed_on is not None:
        raise ValidationError(_("%(name)s was disposed of on %(day)s already.") % {
            "name": intangible, "day": intangible.disposed_on})
    disposed_on = disposed_on or timezone.localdate()
    if disposed_on > timezone.localdate():
        raise ValidationError({"disposed_on": _("The date is in the future.")})
    if disposed_on < (intangible.in_service_on or intangible.acquired_on):
        raise ValidationError({"disposed_on": _("It cannot be disposed of before it was ready for use.")})
    periods.assert_open(intangible.school_id, disposed_on, field="disposed_on")
    before = serialize_for_audit(intangible)
    stale = AmortisationLine.objects.filter(intangible=intangible, voided_at__isnull=True).filter(
        Q(period__year__gt=disposed_on.year) | Q(period__year=disposed_on.year, period__month__gte=disposed_on.month))
    stale.update(voided_at=timezone.now(), void_reason=_("Disposed of on %(day)s (not amortised in the month of "
                                                         "disposal)") % {"day": disposed_on})
    intangible.disposed_on = disposed_on
    intangible.disposal_reason = reason[:200]
    intangible.accumulated_amortisation = _active_accumulated(intangible)
    intangible.save(update_fields=["disposed_on", "disposal_reason", "accumulated_amortisation", "updated_at"])
    audit_record(obj=intangible, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                 after=serialize_for_audit(intangible), message=_("Disposed of: %(reason)s") % {"reason": reason})
    return intangible


def _active_accumulated(intangible: IntangibleAsset) -> Decimal:
    total = intangible.amortisation_lines.filter(voided_at__isnull=True).aggregate(s=MoneySum("amount", default=None))["s"] or ZERO
    return (intangible.opening_amortisation or ZERO) + total


def basis_of(intangible: IntangibleAsset) -> depreciation.Basis | None:
    """The straight-line basis of an intangible asset, or None when it is not amortised (indefinite life)."""
    if intangible.indefinite_life or not intangible.life_months:
        return None
    return depreciation.basis_for(
        original_value=intangible.original_value, life_months=intangible.life_months,
        in_service_on=intangible.in_service_on or intangible.acquired_on, opening_on=intangible.opening_on,
        opening_depreciation=intangible.opening_amortisation)


@dataclass
class ScheduleRow:
    year: int
    month: int
    amount: Decimal
    accumulated: Decimal
    net: Decimal
    posted: bool  # an active amortisation line exists for that month


def schedule_rows(intangible: IntangibleAsset) -> list[ScheduleRow]:
    """The whole amortisation schedule (month, charge, accumulated after it) from ``depreciation.schedule``;
    months after a disposal are left out (当月减少当月不摊销)."""
    basis = basis_of(intangible)
    if basis is None:
        return []
    posted = set(intangible.amortisation_lines.filter(voided_at__isnull=True).values_list(
        "period__year", "period__month"))
    stop = depreciation.month_index(intangible.disposed_on) if intangible.disposed_on else None
    accumulated = intangible.opening_amortisation or ZERO
    rows = []
    for offset, amount in enumerate(depreciation.schedule(basis)):
        index = basis.start + offset
        if stop is not None and index >= stop:
            break
        accumulated += amount
        year, month = depreciation.month_of(index)
        rows.append(ScheduleRow(year, month, amount, accumulated, intangible.original_value - accumulated,
                                (year, month) in posted))
    return rows


# The monthly run -------------------------------------------------------------------------------------------------
@dataclass
class AmortisationResult:
    """What one month's amortisation charged (for the 折旧计提表's 无形资产摊销 row).

    - ``count``: intangible assets charged; ``total``: the month's charge (Decimal, 2 places);
    - ``subject``: the 会计科目 credited (1702 无形资产累计摊销);
    - ``by_funding_source``: {FundingSource value: amount}; ``by_kind``: {IntangibleAsset.Kind value: amount};
    - ``voided``: lines of an earlier run of the same month voided by this one (0 on a first run).
    """

    period: AccountingPeriod
    count: int = 0
    total: Decimal = ZERO
    subject: str = AMORTISATION_SUBJECT
    by_funding_source: dict[str, Decimal] = field(default_factory=dict)
    by_kind: dict[str, Decimal] = field(default_factory=dict)
    voided: int = 0


def _result(period, lines, voided=0) -> AmortisationResult:
    result = AmortisationResult(period=period, voided=voided)
    by_source: dict[str, Decimal] = defaultdict(lambda: ZERO)
    by_kind: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for kind, source, amount in lines:
        result.count += 1
        result.total += amount
        by_source[source] += amount
        by_kind[kind] += amount
    result.by_funding_source, result.by_kind = dict(by_source), dict(by_kind)
    return result


def amortisation_for_period(period: AccountingPeriod) -> AmortisationResult:
    """The active amortisation of ``period`` as posted (what the 折旧计提表 shows without re-running)."""
    rows = AmortisationLine.objects.filter(period=period, voided_at__isnull=True).values_list(
        "kind", "funding_source", "amount")
    return _result(period, list(rows))


def _later_than(period) -> Q:
    return Q(period__year__gt=period.year) | Q(period__year=period.year, period__month__gt=period.month)


@transaction.atomic
def amortise_month(period: AccountingPeriod, actor) -> AmortisationResult:
    """计提 one month's amortisation of every intangible asset of the period's school, set-based.

    Returns an ``AmortisationResult`` (count, total, subject 1702, by funding source and by kind) that the
    monthly depreciation run shows in the 折旧计提表 as 无形资产摊销. One query reads the candidates with what
    their active lines already charged; the lines are bulk-inserted; the cached accumulated amounts are
    written with one bulk UPDATE and one audit entry per asset whose balance changed.

    Refused: a closed month (``periods.assert_open``), or a month before one already amortised (run the
    months in order). Re-running an open month voids its active lines (kept, with the reason) first.
    """
    period = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
    first_day = datetime.date(period.year, period.month, 1)
    if period.status == AccountingPeriod.Status.CLOSED:
        raise ValidationError(periods.closed_message(first_day))
    periods.assert_open(period.school_id, first_day)
    following = (AmortisationLine.objects.filter(_later_than(period), school_id=period.school_id,
                                                 voided_at__isnull=True)
                 .select_related("period").order_by("period__year", "period__month").first())
    if following is not None:
        raise ValidationError(_("%(later)s has been amortised already: amortise the months in order (re-run "
                                "%(later)s after this one).") % {"later": following.period})
    now = timezone.now()
    old = AmortisationLine.objects.filter(period=period, voided_at__isnull=True)
    old_ids = set(old.values_list("intangible_id", flat=True))
    voided = old.update(voided_at=now, void_reason=_("Replaced by a new run of the month")) if old_ids else 0

    month = period.index
    month_end = depreciation.month_end(period.year, period.month)
    prior = (AmortisationLine.objects.filter(intangible=OuterRef("pk"), voided_at__isnull=True)
             .values("intangible").annotate(s=MoneySum("amount", default=None)).values("s"))
    money = DecimalField(max_digits=14, decimal_places=2)
    charged = Q(indefinite_life=False, life_months__isnull=False, in_service_on__lte=month_end) & ~Q(
        disposed_on__lte=month_end)  # 当月减少当月不摊销: nothing in or after the month of disposal
    candidates = list(IntangibleAsset.objects.filter(school_id=period.school_id).filter(
        charged | Q(pk__in=old_ids)).annotate(prior=Coalesce(Subquery(prior, output_field=money),
                                                              Value(ZERO), output_field=money)))
    lines, changed, audits = [], [], []
    for obj in candidates:
        prior_in_basis = depreciation.cents(obj.prior)
        opening = obj.opening_amortisation or ZERO
        amount = ZERO
        basis = basis_of(obj)
        disposed = obj.disposed_on is not None and obj.disposed_on <= month_end
        if basis is not None and not disposed and obj.in_service_on <= month_end:
            amount = depreciation.charge_for_month(basis, month, prior_in_basis)
        accumulated = opening + prior_in_basis + amount
        if amount > 0:
            lines.append(AmortisationLine(
                school_id=obj.school_id, period=period, intangible=obj, amount=amount, accumulated_after=accumulated,
                kind=obj.kind, funding_source=obj.funding_source, final=accumulated >= obj.original_value,
                run_by=actor if getattr(actor, "pk", None) else None))
        if accumulated != obj.accumulated_amortisation:
            before = serialize_for_audit(obj)
            obj.accumulated_amortisation = accumulated
            obj.updated_at = now
            changed.append(obj)
            audits.append((obj, AuditEntry.Action.UPDATE, before, serialize_for_audit(obj)))
    AmortisationLine.objects.bulk_create(lines, batch_size=1000)
    if changed:
        IntangibleAsset.objects.bulk_update(changed, ["accumulated_amortisation", "updated_at"], batch_size=5000)
        audit_bulk(audits, actor=actor, message=_("Amortisation of %(period)s") % {"period": period})
    return _result(period, [(line.kind, line.funding_source, line.amount) for line in lines], voided)


# Licence expiry reminders -----------------------------------------------------------------------------------------
def licence_reminders(*, today: datetime.date | None = None) -> int:
    """Tell the asset keepers of each school about licences expiring within 30 days, once per expiry date.

    Idempotent: ``expiry_reminded_for`` records the expiry date reminded of, so a daily run (or a missed day
    caught up) never repeats a reminder, and a renewed licence (new date) is reminded of again.
    """
    from houqin.notifications.services import notify

    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=LICENCE_REMINDER_DAYS)
    due = (IntangibleAsset.objects.filter(licence_expires_on__gte=today, licence_expires_on__lte=horizon,
                                          disposed_on__isnull=True)
           .filter(Q(expiry_reminded_for__isnull=True) | ~Q(expiry_reminded_for=F("licence_expires_on")))
           .select_related("school").order_by("school_id", "licence_expires_on"))
    sent = 0
    with transaction.atomic():
        for obj in due:
            days = (obj.licence_expires_on - today).days
            notify(school=obj.school, recipients=["asset_keeper"], category="assets.licence",
                   title=_("Licence of %(name)s expires on %(day)s") % {"name": obj, "day": obj.licence_expires_on},
                   body=_("%(days)s days left. Renew it or plan its replacement; licence key / certificate: "
                          "%(licence)s, supplier: %(supplier)s.") % {
                       "days": days, "licence": obj.licence_no or "—", "supplier": obj.supplier or "—"},
                   url=f"/assets/intangibles/{obj.pk}/")
            IntangibleAsset.objects.filter(pk=obj.pk).update(expiry_reminded_for=obj.licence_expires_on)
            sent += 1
    return sent


def licence_reminders_job() -> int:
    """The daily periodic job ``assets.licence_reminders``."""
    return licence_reminders()


# 在建工程 ----------------------------------------------------------------------------------------------------------
def _accept_guard(project: ConstructionProject, actor) -> str | None:
    if not project.costs.filter(voided_at__isnull=True).exists():
        return _("No cost has been recorded for this project: record its costs before accepting it.")
    return None


P = ConstructionProject.Status
project_flow = Workflow(
    model=ConstructionProject,
    transitions=[
        # Fired by ``project_accept`` with the acceptance date and document number (a form, not a button).
        T("accept", (P.OPEN,), P.ACCEPTED, gettext_lazy("Accept and capitalise"),
          perm="assets.accept_constructionproject", guard=_accept_guard, system=True),
        T("cancel", (P.OPEN,), P.CANCELLED, gettext_lazy("Cancel"), perm="assets.change_constructionproject",
          needs_note=True, style="outline-danger"),
    ],
    colors={"open": "azure", "accepted": "green", "cancelled": "secondary"},
)


def _check_target(project_school_id, target_card: Asset | None, field_name: str = "target_card") -> None:
    if target_card is None:
        return
    if target_card.school_id != project_school_id:
        raise ValidationError({field_name: _("%(card)s belongs to another school.") % {"card": target_card}})
    if target_card.accounting_class != AccountingClass.BUILDINGS:
        raise ValidationError({field_name: _(
            "%(card)s is not a building or structure card: construction in progress is capitalised into a building "
            "(改建、扩建). For equipment installation or a new structure, leave the card empty and choose the "
            "category of the new card.") % {"card": target_card}})
    if target_card.status in (UseStatus.DISPOSED, UseStatus.DISPOSING):
        raise ValidationError({field_name: _("%(card)s is %(status)s.") % {
            "card": target_card, "status": target_card.get_status_display()}})


def _project_number(school, day: datetime.date) -> str:
    return f"ZJ{day.year}-{next_value(school, 'construction', day.year):04d}"


@transaction.atomic
def project_create(*, school, actor, data: dict) -> ConstructionProject:
    """Open a 在建工程 project (numbered ZJ + year + sequence) for a building card or for a new card."""
    data = {k: v for k, v in data.items() if k not in ("school", "status", "number", "cost_total")}
    project = ConstructionProject(school=school, requested_by=actor if getattr(actor, "pk", None) else None, **data)
    _check_target(school.pk, project.target_card)
    project.number = _project_number(school, project.started_on or timezone.localdate())
    return crud.object_create(obj=project, actor=actor)


@transaction.atomic
def project_update(*, project: ConstructionProject, actor, data: dict) -> ConstructionProject:
    project = ConstructionProject.objects.select_for_update().get(pk=project.pk)
    if project.status != P.OPEN:
        raise ValidationError(_("Only a project in progress can be changed."))
    for name in ("school", "status", "number", "cost_total"):
        data.pop(name, None)
    if "target_card" in data:
        _check_target(project.school_id, data["target_card"])
    crud.object_update(obj=project, data=data, actor=actor)
    return project


def project_cost_total(project: ConstructionProject) -> Decimal:
    """The project's cost: the sum of its active (not voided) cost entries."""
    return project.costs.filter(voided_at__isnull=True).aggregate(s=MoneySum("amount", default=None))["s"] or ZERO


def _refresh_total(project_id: int) -> None:
    """Write the cached ``cost_total`` from the active entries, in the caller's transaction."""
    total = (ConstructionCost.objects.filter(project_id=project_id, voided_at__isnull=True)
             .aggregate(s=MoneySum("amount", default=None))["s"] or ZERO)
    ConstructionProject.objects.filter(pk=project_id).update(cost_total=total, updated_at=timezone.now())


@transaction.atomic
def cost_create(*, school, actor, data: dict) -> ConstructionCost:
    """Record one cost of an open project; refused when dated in a closed month or in the future."""
    data = {k: v for k, v in data.items() if k not in ("school", "voided_at", "voided_by", "void_reason")}
    project = data.get("project")
    if project is not None:
        project = ConstructionProject.objects.select_for_update().get(pk=project.pk)
        if project.school_id != school.pk:
            raise ValidationError({"project": _("This project belongs to another school.")})
        if project.status != P.OPEN:
            raise ValidationError({"project": _("%(project)s is %(status)s: no more costs can be recorded.") % {
                "project": project, "status": project.get_status_display()}})
        data["project"] = project
    spent_on = data.get("spent_on")
    if spent_on and spent_on > timezone.localdate():
        raise ValidationError({"spent_on": _("The date is in the future.")})
    periods.assert_open(school, spent_on, field="spent_on")
    cost = ConstructionCost(school=school, recorded_by=actor if getattr(actor, "pk", None) else None, **data)
    crud.object_create(obj=cost, actor=actor)
    _refresh_total(cost.project_id)
    return cost


@transaction.atomic
def cost_void(*, cost: ConstructionCost, actor, reason: str) -> ConstructionCost:
    """Void a cost entry with a reason (kept, never deleted): only while the project is open and the entry's
    month is open."""
    project = ConstructionProject.objects.select_for_update().get(pk=cost.project_id)
    if project.status != P.OPEN:
        raise ValidationError(_("%(project)s is %(status)s: its costs can no longer be voided.") % {
            "project": project, "status": project.get_status_display()})
    periods.assert_open(cost.school_id, cost.spent_on)
    cost = crud.object_void(obj=cost, reason=reason, actor=actor)
    _refresh_total(project.pk)
    return cost


@transaction.atomic
def project_cancel(*, project: ConstructionProject, actor, note: str) -> ConstructionProject:
    return project_flow.apply(project, "cancel", actor=actor, note=note)


@transaction.atomic
def project_accept(*, project: ConstructionProject, actor, accepted_on: datetime.date | None,
                   acceptance_doc_no: str, life_months: int | None = None,
                   life_reason: str = "") -> ConstructionProject:
    """竣工验收 and 转固 of a project (AST-15).

    With a building card: posts a 转固 row to the card's journal (value change + total cost, dated the
    acceptance day), adds the cost to the card's original value, and rebases its depreciation
    (``rebased_on`` = the acceptance date, ``rebased_accumulated`` = its accumulated depreciation now), so the
    new remaining value is spread over the remaining life. 改建、扩建 may extend the life (upward only, with a
    reason; domain-rules.md §2.3); a card with no life left must be given a longer one.

    Without a card: creates a new self-built card (取得方式 自建) in the project's category, valued at the cost.

    Refused: no cost entries, accepted or cancelled already, no date or document number, a date in the future
    or in a closed month, a target card that is not a building card.
    """
    project = ConstructionProject.objects.select_for_update().get(pk=project.pk)
    if project.status != P.OPEN:
        raise TransitionNotAllowed(_("%(project)s is %(status)s already.") % {
            "project": project, "status": project.get_status_display()})
    refusal = _accept_guard(project, actor)
    if refusal:
        raise ValidationError(refusal)
    acceptance_doc_no = (acceptance_doc_no or "").strip()
    errors = {}
    if accepted_on is None:
        errors["accepted_on"] = _("Enter the acceptance date.")
    elif accepted_on > timezone.localdate():
        errors["accepted_on"] = _("The date is in the future.")
    if not acceptance_doc_no:
        errors["acceptance_doc_no"] = _("Enter the number of the acceptance report (竣工验收单).")
    if errors:
        raise ValidationError(errors)
    periods.assert_open(project.school_id, accepted_on, field="accepted_on")
    last_cost = project.costs.filter(voided_at__isnull=True).order_by("-spent_on").first()
    if last_cost and accepted_on < last_cost.spent_on:
        raise ValidationError({"accepted_on": _("The acceptance date is before the last cost entry (%(day)s).")
                               % {"day": last_cost.spent_on}})
    total = project_cost_total(project)
    label = _("Construction %(number)s capitalised") % {"number": project.number}
    if project.target_card_id:
        card = _capitalise_into(project, actor=actor, total=total, accepted_on=accepted_on,
                                doc_no=acceptance_doc_no, life_months=life_months, life_reason=life_reason,
                                label=label)
    else:
        if life_months:
            raise ValidationError({"life_months": _("A new card takes its life from its category.")})
        card = cards.asset_create(school=project.school, actor=actor, data={
            "name": project.name[:100], "category": project.new_card_category, "original_value": total,
            "acquisition": Acquisition.SELF_BUILT, "acquired_on": accepted_on, "in_service_on": accepted_on,
            "funding_source": project.funding_source, "supplier": project.contractor,
            "contract_no": project.contract_no, "unit": "项",
            "note": _("%(label)s, acceptance %(doc)s") % {"label": label, "doc": acceptance_doc_no}})
    project_flow.apply(project, "accept", actor=actor, note=acceptance_doc_no, update={
        "accepted_on": accepted_on, "acceptance_doc_no": acceptance_doc_no, "capitalised_value": total,
        "card": card})
    return project


def _capitalise_into(project, *, actor, total, accepted_on, doc_no, life_months, life_reason, label) -> Asset:
    card = journal.lock(Asset, [project.target_card_id])[project.target_card_id]
    _check_target(project.school_id, card)
    if card.in_service_on and accepted_on < card.in_service_on:
        raise ValidationError({"accepted_on": _("The acceptance date is before %(card)s was put into service.")
                               % {"card": card}})
    current = card.life_months
    life_reason = (life_reason or "").strip()
    if life_months is not None and life_months != current:
        if current and life_months < current:
            raise ValidationError({"life_months": _(
                "The useful life may only be extended (now %(months)s months).") % {"months": current}})
        if not life_reason:
            raise ValidationError({"life_reason": _("Give the reason for the longer life (e.g. the renovation "
                                                    "extends the building's use).")})
    new_life = life_months or current
    if new_life and card.in_service_on:
        used = depreciation.month_index(accepted_on) - depreciation.month_index(card.in_service_on)
        if used >= new_life:
            raise ValidationError({"life_months": _(
                "%(card)s has no useful life left (%(used)s of %(life)s months used): extend its life with a "
                "reason so that the added cost can be depreciated.") % {"card": card, "used": used,
                                                                        "life": new_life}})
    journal.post(card, kind=AssetMovement.Kind.CAPITALISE, actor=actor, on=accepted_on, value_change=total,
                 document=f"{label}"[:60], document_url=f"/assets/construction/{project.pk}/",
                 note=_("Acceptance %(doc)s") % {"doc": doc_no}, audit_message=label)
    before = serialize_for_audit(card)
    card.original_value = card.original_value + total
    fields = ["original_value", "updated_at"]
    if new_life:
        # The remaining value (old net value + the cost) is spread over the remaining life from this month.
        card.rebased_on = accepted_on
        card.rebased_accumulated = card.accumulated_depreciation or ZERO
        fields += ["rebased_on", "rebased_accumulated"]
    if life_months and life_months != current:
        card.life_months, card.life_reason = life_months, life_reason[:200]
        fields += ["life_months", "life_reason"]
    card.save(update_fields=fields)
    audit_record(obj=card, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                 after=serialize_for_audit(card),
                 message=_("%(label)s: original value +%(amount)s") % {"label": label, "amount": f"{total:,.2f}"})
    return card
