"""The monthly close of the asset books (AST-7, AST-9, AST-10).

As schools really do it: Houqin computes the month's depreciation (折旧计提表, by 会计科目, department and
资金来源); the accountant books it in the finance software and enters the 凭证号 back; cards 待入账 get
their 凭证号 and 入账日期 the same way; the 对账表 compares Houqin's balances with the finance ledger's
(科目余额表, imported or typed) and every difference is explained; the asset keeper (or the logistics
director) and the accountant both sign; the month closes and refuses writes from then on.

Depreciation is charged only on cards that are on the finance books (已入账) at the month end: a card
booked late is caught up (补提) in the month it is booked, so Houqin's 累计折旧 always matches what the
accountant can book (domain-rules.md §2.5: 账账相符).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core import bulk, crud
from houqin.core.audit import audit_record, serialize_for_audit
from houqin.core.models import AuditEntry
from houqin.core.money import MONEY, MoneySum, fits_money

from .. import depreciation as dep
from ..choices import (
    INTANGIBLE,
    LEDGER_CLASSES,
    NON_DEPRECIABLE_CLASSES,
    AccountingClass,
    Acquisition,
    FundingSource,
    UseStatus,
    ValuationType,
)
from ..models import (
    AccountingPeriod,
    Asset,
    DepreciationLine,
    DepreciationRun,
    FinanceBalance,
    ReconciliationNote,
)
from . import periods

ZERO = Decimal("0.00")


# Periods --------------------------------------------------------------------------------------------------------
def period_get(school, year: int, month: int, *, create: bool = True, actor=None) -> AccountingPeriod | None:
    """The month of the asset books, opened (audited) the first time it is asked for."""
    if not (1 <= month <= 12) or not (2000 <= year <= 2100):
        raise ValidationError({"month": _("Choose a month between 2000-01 and 2100-12.")})
    found = AccountingPeriod.objects.filter(school=school, year=year, month=month).first()
    if found is not None or not create:
        return found
    with transaction.atomic():
        return crud.object_create(obj=AccountingPeriod(school=school, year=year, month=month), actor=actor)


def period_end(period: AccountingPeriod) -> datetime.date:
    return dep.month_end(period.year, period.month)


def _require_open(period: AccountingPeriod) -> None:
    if period.status == AccountingPeriod.Status.CLOSED or periods.is_closed(period.school_id, period_end(period)):
        raise ValidationError(periods.closed_message(period_end(period)))


def active_run(period: AccountingPeriod) -> DepreciationRun | None:
    return period.runs.filter(voided_at__isnull=True).first()


# Which cards are depreciated --------------------------------------------------------------------------------------
def depreciable_cards(school, month_end: datetime.date):
    """Cards charged for the month ending ``month_end`` (domain-rules.md §2.3):

    owned (校企合作 lent equipment is not on the books), on the finance books by the month end, in service
    by the month end, not disposed of in or before the month (当月减少当月不提), not at a nominal amount,
    with a life, and not in a class that is never depreciated (文物和陈列品, 图书档案). Land valued
    separately and animals and plants are categories without a life, so they drop out by the life.
    """
    return (Asset.objects.filter(school=school, booking=Asset.Booking.BOOKED, booked_on__lte=month_end,
                                 in_service_on__lte=month_end, life_months__gt=0,
                                 category__default_life_years__isnull=False)
            .exclude(acquisition=Acquisition.PARTNER_LENT)
            .exclude(valuation_type=ValuationType.NOMINAL)
            .exclude(accounting_class__in=list(NON_DEPRECIABLE_CLASSES))
            .exclude(disposed_on__lte=month_end))


def card_basis(card) -> dep.Basis:
    """The straight-line basis of a card (an Asset or a ``values()`` dict with the same names)."""
    get = card.get if isinstance(card, dict) else lambda name: getattr(card, name, None)
    return dep.basis_for(original_value=get("original_value"), life_months=get("life_months"),
                         in_service_on=get("in_service_on") or get("acquired_on"), opening_on=get("opening_on"),
                         opening_depreciation=get("opening_depreciation"), rebased_on=get("rebased_on"),
                         rebased_accumulated=get("rebased_accumulated"))


def _before_basis(card: dict) -> Decimal:
    """What was accumulated before the basis started (the rebase point, else the opening balance)."""
    if card["rebased_on"] is not None and card["rebased_accumulated"] is not None:
        return dep.cents(card["rebased_accumulated"])
    if card["opening_on"] is not None and card["opening_depreciation"] is not None:
        return dep.cents(card["opening_depreciation"])
    return ZERO


def card_charge(card: dict, month: int) -> Decimal:
    """This month's charge of one card (a dict of the fields ``depreciable_cards`` reads)."""
    accumulated = dep.cents(card["accumulated_depreciation"] or 0)
    if accumulated >= card["original_value"]:
        return ZERO  # 已提足折旧: stays on the books, nothing more is charged
    basis = card_basis(card)
    return dep.charge_for_month(basis, month, accumulated - _before_basis(card))


CARD_FIELDS = ("id", "original_value", "life_months", "in_service_on", "opening_on", "opening_depreciation",
               "rebased_on", "rebased_accumulated", "accumulated_depreciation", "accounting_class",
               "funding_source", "department_id")


# The run ----------------------------------------------------------------------------------------------------------
@dataclass
class RunResult:
    run: DepreciationRun
    cards: int
    total: Decimal
    fully_depreciated: int
    amortisation: object = None


def _void_run(run: DepreciationRun, *, actor, reason: str) -> None:
    """Take a run's charges back off the cards (one UPDATE) and keep the run, voided, with the reason."""
    line_amount = Subquery(DepreciationLine.objects.filter(run=run, asset=OuterRef("pk")).values("amount")[:1],
                           output_field=MONEY)
    Asset.objects.filter(depreciation_lines__run=run).update(
        accumulated_depreciation=F("accumulated_depreciation") - line_amount)
    before = serialize_for_audit(run)
    run.voided_at = timezone.now()
    run.void_reason = reason[:200]
    run.save(update_fields=["voided_at", "void_reason", "updated_at"])
    audit_record(obj=run, action=AuditEntry.Action.VOID, actor=actor, before=before,
                 after=serialize_for_audit(run), message=reason[:200])


@transaction.atomic
def run_depreciation(*, period: AccountingPeriod, actor, reason: str = "") -> RunResult:
    """计提折旧 for one month, set-based: one query reads the cards, one bulk insert writes the lines, one
    UPDATE moves the cards' accumulated depreciation.

    Months run in order (a later month's run makes an earlier one final). Re-running an open month whose
    depreciation the accountant has not booked yet voids the previous run, with a reason.
    """
    period = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
    _require_open(period)
    later = DepreciationRun.objects.filter(school_id=period.school_id, voided_at__isnull=True).filter(
        Q(period__year__gt=period.year) | Q(period__year=period.year, period__month__gt=period.month))
    if later.exists():
        raise ValidationError(_("A later month has already been depreciated; correct this one in the current "
                                "month instead."))
    earlier_runs = DepreciationRun.objects.filter(school_id=period.school_id, voided_at__isnull=True).filter(
        Q(period__year__lt=period.year) | Q(period__year=period.year, period__month__lt=period.month))
    if earlier_runs.exists():
        previous = dep.month_of(period.index - 1)
        if not earlier_runs.filter(period__year=previous[0], period__month=previous[1]).exists():
            raise ValidationError(_("Depreciate %(year)s-%(month)02d first: months are depreciated in order.")
                                  % {"year": previous[0], "month": previous[1]})
    current = active_run(period)
    if current is not None:
        if period.depreciation_voucher_no:
            raise ValidationError(_("The accountant has already booked this month's depreciation (voucher "
                                    "%(voucher)s): it cannot be recomputed.") % {"voucher": period.depreciation_voucher_no})
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": _("Say why the month is depreciated again.")})
        _void_run(current, actor=actor, reason=reason)

    month = period.index
    end = period_end(period)
    run = DepreciationRun.objects.create(school_id=period.school_id, period=period,
                                         run_by=actor if getattr(actor, "pk", None) else None)
    lines: list[dict] = []
    total = ZERO
    finals = 0
    for card in depreciable_cards(period.school_id, end).values(*CARD_FIELDS).iterator(chunk_size=2000):
        amount = card_charge(card, month)
        if amount <= 0:
            continue
        after = dep.cents(card["accumulated_depreciation"] or 0) + amount
        final = after >= card["original_value"]
        finals += final
        total += amount
        lines.append({"run_id": run.pk, "asset_id": card["id"], "amount": amount, "accumulated_after": after,
                      "accounting_class": card["accounting_class"], "funding_source": card["funding_source"],
                      "department_id": card["department_id"], "final": final})
    bulk.insert_rows(DepreciationLine, lines)  # plain multi-row INSERTs: ~30 statements for 100k cards
    line_amount = Subquery(DepreciationLine.objects.filter(run=run, asset=OuterRef("pk")).values("amount")[:1],
                           output_field=MONEY)
    Asset.objects.filter(depreciation_lines__run=run).update(
        accumulated_depreciation=F("accumulated_depreciation") + line_amount)
    run.total, run.cards = total, len(lines)
    run.save(update_fields=["total", "cards", "updated_at"])
    amortisation = _amortise(period, actor)
    audit_record(obj=run, action=AuditEntry.Action.CREATE, actor=actor, after=serialize_for_audit(run),
                 message=_("Depreciation %(period)s: %(cards)s cards, ¥%(total)s") % {
                     "period": period, "cards": len(lines), "total": f"{total:,.2f}"})
    return RunResult(run=run, cards=len(lines), total=total, fully_depreciated=finals, amortisation=amortisation)


def _amortise(period, actor):
    """Intangible assets are amortised in the same run (AST-15), when that part is installed."""
    try:
        from . import intangibles
    except ImportError:  # pragma: no cover - the intangibles service ships with the app
        return None
    amortise = getattr(intangibles, "amortise_month", None)
    return amortise(period, actor) if amortise else None


# The 折旧计提表 -------------------------------------------------------------------------------------------------------
def depreciation_table(period: AccountingPeriod) -> list[dict]:
    """The active run grouped by 会计科目 (accounting class), department and 资金来源, with amounts."""
    run = active_run(period)
    if run is None:
        return []
    rows = (DepreciationLine.objects.filter(run=run)
            .values("accounting_class", "department__name", "funding_source")
            .annotate(amount=MoneySum("amount", default=None), cards=models_count())
            .order_by("accounting_class", "department__name", "funding_source"))
    classes, sources = dict(AccountingClass.choices), dict(FundingSource.choices)
    return [{"accounting_class": classes.get(r["accounting_class"], r["accounting_class"]),
             "department": r["department__name"] or _("(no department)"),
             "funding_source": sources.get(r["funding_source"], r["funding_source"]),
             "cards": r["cards"], "amount": r["amount"]} for r in rows]


def amortisation_table(period: AccountingPeriod) -> list[dict]:
    """The month's 无形资产摊销 (AST-15) by 资金来源, shown under the 折旧计提表 (active lines only)."""
    from ..models import AmortisationLine

    sources = dict(FundingSource.choices)
    rows = (AmortisationLine.objects.filter(period=period, voided_at__isnull=True).values("funding_source")
            .annotate(amount=MoneySum("amount", default=None), assets=models_count()).order_by("funding_source"))
    return [{"funding_source": sources.get(r["funding_source"], r["funding_source"]), "assets": r["assets"],
             "amount": r["amount"]} for r in rows]


def models_count():
    from django.db.models import Count

    return Count("id")


@transaction.atomic
def book_depreciation(*, period: AccountingPeriod, actor, voucher_no: str, booked_on: datetime.date) -> AccountingPeriod:
    """The accountant enters the 凭证号 of the month's depreciation booked in the finance software."""
    period = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
    _require_open(period)
    voucher_no = (voucher_no or "").strip()
    errors = {}
    if active_run(period) is None:
        raise ValidationError(_("Depreciate the month first."))
    if not voucher_no:
        errors["voucher_no"] = _("Enter the voucher number from the finance software.")
    if booked_on is None:
        errors["booked_on"] = _("Enter the date the voucher was booked.")
    elif booked_on > timezone.localdate():
        errors["booked_on"] = _("The booking date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    before = serialize_for_audit(period)
    period.depreciation_voucher_no, period.depreciation_booked_on = voucher_no[:40], booked_on
    _clear_signatures(period)
    period.save()
    audit_record(obj=period, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                 after=serialize_for_audit(period), message=_("Depreciation voucher entered"))
    return period


# 入账: cards 待入账 get their 凭证号 and 入账日期 ------------------------------------------------------------------------
@transaction.atomic
def book_cards(*, school, actor, cards, voucher_no: str, booked_on: datetime.date) -> int:
    """Cards 待入账 → 已入账 with the finance voucher (AST-10). All or none; closed months refused."""
    voucher_no = (voucher_no or "").strip()
    errors = {}
    if not voucher_no:
        errors["voucher_no"] = _("Enter the voucher number from the finance software.")
    if booked_on is None:
        errors["booked_on"] = _("Enter the date the voucher was booked.")
    elif booked_on > timezone.localdate():
        errors["booked_on"] = _("The booking date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    periods.assert_open(school, booked_on, field="booked_on")
    ids = [getattr(c, "pk", c) for c in cards]
    if not ids:
        raise ValidationError(_("Choose the cards the voucher books."))
    rows = list(Asset.objects.select_for_update().filter(school=school, pk__in=ids).order_by("pk"))
    if len(rows) != len(set(ids)):
        raise ValidationError(_("Some of the chosen cards do not exist."))
    problems = []
    for card in rows:
        if card.booking == Asset.Booking.BOOKED:
            problems.append(_("%(card)s is already booked (voucher %(voucher)s).") % {
                "card": card, "voucher": card.voucher_no or "—"})
        elif not card.owned:
            problems.append(_("%(card)s is lent by a partner company: it is not on the school's books.") % {
                "card": card})
        elif card.acquired_on and booked_on < card.acquired_on:
            problems.append(_("%(card)s was acquired on %(day)s, after the booking date.") % {
                "card": card, "day": card.acquired_on})
    if problems:
        raise ValidationError(problems)
    for card in rows:
        before = serialize_for_audit(card)
        card.booking, card.voucher_no, card.booked_on = Asset.Booking.BOOKED, voucher_no[:40], booked_on
        card.save(update_fields=["booking", "voucher_no", "booked_on", "updated_at"])
        audit_record(obj=card, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                     after=serialize_for_audit(card), message=_("Booked by finance (voucher %(voucher)s)") % {
                         "voucher": voucher_no})
    return len(rows)


# Balances and the 对账表 ----------------------------------------------------------------------------------------------
Key = tuple[str, str]  # (accounting_class, funding_source)


def houqin_balances(school, end: datetime.date) -> dict[Key, dict[str, Decimal]]:
    """Houqin's 固定资产 and 累计折旧 by 会计科目 and 资金来源 at ``end``: cards on the finance books by then,
    not disposed of by then; depreciation = opening balance + active runs up to that month."""
    on_books = (Asset.objects.filter(school=school, booking=Asset.Booking.BOOKED, booked_on__lte=end)
                .exclude(acquisition=Acquisition.PARTNER_LENT).exclude(disposed_on__lte=end))
    out: dict[Key, dict[str, Decimal]] = defaultdict(lambda: {"original_value": ZERO, "depreciation": ZERO,
                                                              "cards": 0})
    for row in (on_books.values("accounting_class", "funding_source")
                .annotate(value=MoneySum("original_value"), cards=models_count(),
                          opening=MoneySum("opening_depreciation", filter=Q(opening_on__lte=end)))):
        key = (row["accounting_class"], row["funding_source"])
        out[key]["original_value"] += row["value"] or ZERO
        out[key]["depreciation"] += row["opening"] or ZERO
        out[key]["cards"] += row["cards"]
    charged = (DepreciationLine.objects.filter(asset__in=on_books, run__voided_at__isnull=True)
               .filter(Q(run__period__year__lt=end.year) | Q(run__period__year=end.year,
                                                          run__period__month__lte=end.month))
               .values("asset__accounting_class", "asset__funding_source").annotate(amount=MoneySum("amount")))
    for row in charged:
        out[(row["asset__accounting_class"], row["asset__funding_source"])]["depreciation"] += row["amount"] or ZERO
    _intangible_balances(school, end, out)
    return dict(out)


def _intangible_balances(school, end: datetime.date, out) -> None:
    """无形资产 on the finance books at ``end`` (booked by then, not disposed of by then) and their
    累计摊销 (opening balance + active amortisation up to that month), by 资金来源 (AST-10, AST-15)."""
    from ..models import AmortisationLine, IntangibleAsset

    on_books = (IntangibleAsset.objects.filter(school=school, booking="booked", booked_on__lte=end)
                .exclude(disposed_on__lte=end))
    for row in (on_books.values("funding_source")
                .annotate(value=MoneySum("original_value"), cards=models_count(),
                          opening=MoneySum("opening_amortisation", filter=Q(opening_on__lte=end)))):
        key = (INTANGIBLE, row["funding_source"])
        out[key]["original_value"] += row["value"] or ZERO
        out[key]["depreciation"] += row["opening"] or ZERO
        out[key]["cards"] += row["cards"]
    charged = (AmortisationLine.objects.filter(intangible__in=on_books, voided_at__isnull=True)
               .filter(Q(period__year__lt=end.year) | Q(period__year=end.year, period__month__lte=end.month))
               .values("intangible__funding_source").annotate(amount=MoneySum("amount")))
    for row in charged:
        out[(INTANGIBLE, row["intangible__funding_source"])]["depreciation"] += row["amount"] or ZERO


def awaiting_booking(cards, end: datetime.date | None = None):
    """已验收未入账: of ``cards``, the school's own ones finance has not booked (by ``end``, default today),
    not disposed of by then. The booking page lists them; the 对账表 shows them as a reconciling item."""
    cards = cards.exclude(acquisition=Acquisition.PARTNER_LENT)
    if end is None:
        return cards.filter(booking=Asset.Booking.PENDING).exclude(status=UseStatus.DISPOSED)
    return (cards.filter(acquired_on__lte=end).exclude(disposed_on__lte=end)
            .filter(Q(booking=Asset.Booking.PENDING) | Q(booked_on__gt=end)))


def pending_cards(school, end: datetime.date) -> dict[str, Decimal | int]:
    """The count and value of the cards awaiting booking at ``end`` (a reconciling item of the 对账表)."""
    rows = (awaiting_booking(Asset.objects.filter(school=school), end)
            .aggregate(cards=models_count(), value=MoneySum("original_value")))
    return rows


@dataclass
class StatementLine:
    accounting_class: str
    funding_source: str
    houqin_value: Decimal
    finance_value: Decimal
    houqin_depreciation: Decimal
    finance_depreciation: Decimal
    cards: int
    explanation: str = ""

    @property
    def value_difference(self) -> Decimal:
        return self.houqin_value - self.finance_value

    @property
    def depreciation_difference(self) -> Decimal:
        return self.houqin_depreciation - self.finance_depreciation

    @property
    def differs(self) -> bool:
        return bool(self.value_difference or self.depreciation_difference)

    @property
    def class_label(self) -> str:
        return str(dict(LEDGER_CLASSES).get(self.accounting_class, self.accounting_class))

    @property
    def source_label(self) -> str:
        return str(dict(FundingSource.choices).get(self.funding_source, self.funding_source))


@dataclass
class Statement:
    period: AccountingPeriod
    lines: list[StatementLine]
    pending: dict
    finance_entered: bool
    totals: dict = field(default_factory=dict)

    @property
    def differences(self) -> list[StatementLine]:
        return [line for line in self.lines if line.differs]

    @property
    def unexplained(self) -> list[StatementLine]:
        return [line for line in self.differences if not line.explanation.strip()]

    def digest(self) -> str:
        """A fingerprint of the figures both people sign: a change after a signature invalidates it."""
        data = [[ln.accounting_class, ln.funding_source, str(ln.houqin_value), str(ln.finance_value),
                 str(ln.houqin_depreciation), str(ln.finance_depreciation), ln.explanation] for ln in self.lines]
        data.append([self.period.depreciation_voucher_no, str(self.pending.get("value"))])
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


def statement(period: AccountingPeriod) -> Statement:
    """The month's 对账表: Houqin against the finance ledger by 会计科目 and 资金来源 (AST-10)."""
    end = period_end(period)
    ours = houqin_balances(period.school_id, end)
    theirs = {(b.accounting_class, b.funding_source): b for b in period.finance_balances.all()}
    notes = {(n.accounting_class, n.funding_source): n.explanation for n in period.reconciliation_notes.all()}
    class_order = [c for c, _label in LEDGER_CLASSES]
    source_order = [s for s, _label in FundingSource.choices]
    keys = sorted(set(ours) | set(theirs), key=lambda k: (class_order.index(k[0]) if k[0] in class_order else 99,
                                                          source_order.index(k[1]) if k[1] in source_order else 99))
    lines = []
    for key in keys:
        mine = ours.get(key, {"original_value": ZERO, "depreciation": ZERO, "cards": 0})
        fin = theirs.get(key)
        lines.append(StatementLine(
            accounting_class=key[0], funding_source=key[1], houqin_value=mine["original_value"],
            finance_value=fin.original_value if fin else ZERO, houqin_depreciation=mine["depreciation"],
            finance_depreciation=fin.accumulated_depreciation if fin else ZERO, cards=mine["cards"],
            explanation=notes.get(key, "")))
    totals = {name: sum((getattr(line, name) for line in lines), ZERO)
              for name in ("houqin_value", "finance_value", "houqin_depreciation", "finance_depreciation")}
    return Statement(period=period, lines=lines, pending=pending_cards(period.school_id, end),
                     finance_entered=bool(theirs), totals=totals)


def _clear_signatures(period: AccountingPeriod) -> None:
    period.keeper_signed_by = period.accountant_signed_by = None
    period.keeper_signed_at = period.accountant_signed_at = None
    period.signed_digest = ""


def _balance_key(accounting_class: str, funding_source: str) -> str:
    """「通用设备/财政拨款」: how a balance row is named in the audit trail (labels, in the actor's language)."""
    return (f"{dict(LEDGER_CLASSES).get(accounting_class, accounting_class)}/"
            f"{dict(FundingSource.choices).get(funding_source, funding_source)}")


def _key_errors(accounting_class: str, funding_source: str) -> dict:
    errors = {}
    if accounting_class not in dict(LEDGER_CLASSES):
        errors["accounting_class"] = _("Unknown accounting class.")
    if funding_source not in dict(FundingSource.choices):
        errors["funding_source"] = _("Unknown funding source.")
    return errors


@transaction.atomic
def set_finance_balances(*, period: AccountingPeriod, actor, rows: list[dict]) -> int:
    """The finance ledger's balances for the month (typed, or read from its 科目余额表): replaces the
    month's rows as a whole; each row {accounting_class, funding_source, original_value,
    accumulated_depreciation}. Signatures already given are withdrawn (the figures changed)."""
    period = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
    _require_open(period)
    errors: list[str] = []
    cleaned: dict[Key, tuple[Decimal, Decimal]] = {}
    for number, row in enumerate(rows, start=1):
        problems = _key_errors(row.get("accounting_class"), row.get("funding_source"))
        try:
            value = dep.cents(row.get("original_value") or 0)
            depreciation = dep.cents(row.get("accumulated_depreciation") or 0)
            if not (value.is_finite() and depreciation.is_finite()):  # NaN, Infinity
                raise ValueError
        except (ArithmeticError, TypeError, ValueError):
            problems["original_value"] = _("Enter amounts as numbers.")
            value = depreciation = ZERO
        if not (fits_money(value) and fits_money(depreciation)):
            problems["original_value"] = _("The amount is too large.")
        elif value < 0 or depreciation < 0:
            problems["original_value"] = _("Balances cannot be negative.")
        key = (row.get("accounting_class"), row.get("funding_source"))
        if key in cleaned:
            problems["funding_source"] = _("This accounting class and funding source appear twice.")
        if problems:
            errors.extend(_("Row %(row)s: %(message)s") % {"row": number, "message": message}
                          for message in problems.values())
        else:
            cleaned[key] = (value, depreciation)
    if errors:
        raise ValidationError(errors)
    before = {_balance_key(b.accounting_class, b.funding_source): [str(b.original_value),
                                                                  str(b.accumulated_depreciation)]
              for b in period.finance_balances.all()}
    period.finance_balances.all().delete()  # the balance table is replaced as a whole; the audit keeps the old one
    FinanceBalance.objects.bulk_create([
        FinanceBalance(period=period, accounting_class=k[0], funding_source=k[1], original_value=v[0],
                       accumulated_depreciation=v[1], entered_by=actor if getattr(actor, "pk", None) else None)
        for k, v in cleaned.items()])
    _clear_signatures(period)
    period.save()
    after = {_balance_key(*k): [str(v[0]), str(v[1])] for k, v in cleaned.items()}
    audit_record(obj=period, action=AuditEntry.Action.UPDATE, actor=actor, before={"finance_balances": before},
                 after={"finance_balances": after}, message=_("Finance ledger balances entered"))
    return len(cleaned)


@transaction.atomic
def explain_difference(*, period: AccountingPeriod, actor, accounting_class: str, funding_source: str,
                       explanation: str) -> None:
    period = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
    _require_open(period)
    errors = _key_errors(accounting_class, funding_source)
    explanation = (explanation or "").strip()
    if errors:
        raise ValidationError(errors)
    note = ReconciliationNote.objects.filter(period=period, accounting_class=accounting_class,
                                             funding_source=funding_source).first()
    before = note.explanation if note else ""
    if not explanation:
        if note:
            note.delete()
    elif note:
        note.explanation, note.written_by = explanation[:300], actor
        note.save()
    else:
        ReconciliationNote.objects.create(period=period, accounting_class=accounting_class,
                                          funding_source=funding_source, explanation=explanation[:300],
                                          written_by=actor)
    _clear_signatures(period)
    period.save()
    audit_record(obj=period, action=AuditEntry.Action.UPDATE, actor=actor,
                 before={"reconciliation_notes": {_balance_key(accounting_class, funding_source): before}},
                 after={"reconciliation_notes": {_balance_key(accounting_class, funding_source): explanation}},
                 message=_("Reconciliation difference explained"))


def close_problems(period: AccountingPeriod, stmt: Statement | None = None) -> list[str]:
    """What stops the month from being signed and closed, in the order a user fixes it."""
    problems = []
    if active_run(period) is None:
        problems.append(_("The month has not been depreciated."))
    elif not period.depreciation_voucher_no:
        problems.append(_("The accountant has not entered the voucher number of the depreciation."))
    stmt = stmt or statement(period)
    if not stmt.finance_entered:
        problems.append(_("The finance ledger's balances have not been entered."))
    for line in stmt.unexplained:
        problems.append(_("%(klass)s / %(source)s differs from the finance ledger by ¥%(value)s (original value) "
                          "and ¥%(dep)s (depreciation) with no explanation.") % {
            "klass": line.class_label, "source": line.source_label, "value": f"{line.value_difference:,.2f}",
            "dep": f"{line.depreciation_difference:,.2f}"})
    previous = dep.month_of(period.index - 1)
    earlier = AccountingPeriod.objects.filter(school_id=period.school_id).filter(
        Q(year__lt=period.year) | Q(year=period.year, month__lt=period.month))
    if earlier.exclude(status=AccountingPeriod.Status.CLOSED).filter(runs__voided_at__isnull=True).exists():
        problems.append(_("Close %(year)s-%(month)02d first: months close in order.") % {
            "year": previous[0], "month": previous[1]})
    return problems


@transaction.atomic
def sign(*, period: AccountingPeriod, actor, side: str) -> AccountingPeriod:
    """签字: ``side`` "keeper" (资产管理员/后勤主任) or "finance" (会计). Both sign the same figures."""
    period = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
    _require_open(period)
    perm = {"keeper": "assets.close_accountingperiod", "finance": "assets.sign_finance"}.get(side)
    if perm is None:
        raise ValidationError(_("Unknown side."))
    if not actor.has_perm(perm):
        raise ValidationError(_("You may not sign this side of the reconciliation."))
    stmt = statement(period)
    problems = close_problems(period, stmt)
    if problems:
        raise ValidationError(problems)
    digest = stmt.digest()
    if period.signed_digest and period.signed_digest != digest:
        _clear_signatures(period)  # the figures changed since the other side signed
    before = serialize_for_audit(period)
    now = timezone.now()
    if side == "keeper":
        period.keeper_signed_by, period.keeper_signed_at = actor, now
    else:
        period.accountant_signed_by, period.accountant_signed_at = actor, now
    period.signed_digest = digest
    period.save()
    audit_record(obj=period, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                 after=serialize_for_audit(period), message=_("Reconciliation signed"))
    return period


def signatures_current(period: AccountingPeriod, stmt: Statement | None = None) -> bool:
    stmt = stmt or statement(period)
    return bool(period.keeper_signed_at and period.accountant_signed_at and period.signed_digest == stmt.digest())


@transaction.atomic
def close(*, period: AccountingPeriod, actor) -> AccountingPeriod:
    """结账: both signatures on the current figures → the month is closed and refuses writes."""
    period = AccountingPeriod.objects.select_for_update().get(pk=period.pk)
    _require_open(period)
    if not actor.has_perm("assets.close_accountingperiod"):
        raise ValidationError(_("You may not close the month."))
    stmt = statement(period)
    problems = close_problems(period, stmt)
    if not (period.keeper_signed_at and period.accountant_signed_at):
        problems.append(_("Both the asset side and the finance side must sign the reconciliation."))
    elif period.signed_digest != stmt.digest():
        problems.append(_("The figures changed after the reconciliation was signed: sign it again."))
    if problems:
        raise ValidationError(problems)
    before = serialize_for_audit(period)
    period.status, period.closed_by, period.closed_at = AccountingPeriod.Status.CLOSED, actor, timezone.now()
    period.save()
    audit_record(obj=period, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                 after=serialize_for_audit(period), message=_("Month closed"))
    return period
