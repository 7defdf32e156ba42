"""Read-only selectors of the asset reports (AST-1, AST-10, AST-12): the 固定资产总账, 实训设备 value by
专业部 and by 专项资金 project, and 生均教学仪器设备值 for the 中职 quality report.

Every figure is a set-based aggregate (GROUP BY in the database), never a Python loop over cards, so the
reports stay fast at 100,000 cards (issue 6: 总账 ≤ 2 s). Three sources, one meaning:

- **Original value** comes from the asset journal (``AssetMovement.value_change``: + on 登记/期初/转固,
  − on 处置). The balance at a day is the sum of the rows up to that day; the increases and decreases of a
  range are the positive and the negative rows in it. Opening + increases − decreases = closing holds by
  construction.
- **Accumulated depreciation** of a card at the end of month M is its cut-over balance (``opening_depreciation``,
  when ``opening_on`` is on or before that day) plus the lines of the *active* depreciation runs (voided runs
  never count) of the months up to M. A card disposed of by that day has left the books together with its
  depreciation (条例 第三十五条: 核销资产台账信息，同时进行会计处理), which the 总账 shows as "written off".
- **Which cards**: those the school owns. Equipment lent by a partner company under 校企合作 is tracked but
  not owned (AST-12): it is never on the ledgers and is shown separately where useful.

Cards are grouped by what they are now (their present category, accounting class, department or funding
source), the way the 明细账 (``views_print.ledger``) groups them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, Value
from django.db.models.functions import Substr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core.money import MoneySum

from . import depreciation as dep
from .choices import AccountingClass, Acquisition, FundingSource
from .models import Asset as AssetModel
from .models import AssetCategory, AssetMovement, DepreciationLine, DepreciationRun, FundingProject

ZERO = Decimal("0.00")

# The dimensions a 总账 is grouped by (AST-1: by category, accounting class, department and funding source).
DIMENSIONS = {
    "category_top": gettext_lazy("Category (top level)"),
    "category": gettext_lazy("Category (full code)"),
    "accounting_class": gettext_lazy("Accounting class"),
    "department": gettext_lazy("Department"),
    "funding_source": gettext_lazy("Funding source"),
}
DEFAULT_DIMENSION = "accounting_class"

# 生均教学仪器设备值 counts 教学、实习仪器设备 (《中等职业学校办学能力评估》 indicator; the 质量年报 reuses it):
# by default the cards of the 准则3号 classes 通用设备 and 专用设备; the school may choose otherwise.
DEFAULT_EQUIPMENT_CLASSES = (AccountingClass.GENERAL_EQUIPMENT, AccountingClass.SPECIAL_EQUIPMENT)

NONE_KEY = "\uffff"  # sorts after every real key: the "(none)" group comes last


def _none_label() -> str:
    return _("(none)")


# Ranges ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """Whole months from ``start`` (the first day of a month) to ``end`` (the last day of a month)."""

    start: datetime.date
    end: datetime.date

    @property
    def start_month(self) -> int:
        return dep.month_index(self.start)

    @property
    def end_month(self) -> int:
        return dep.month_index(self.end)

    @property
    def day_before(self) -> datetime.date:
        return self.start - datetime.timedelta(days=1)

    def label(self) -> str:
        if self.start_month == self.end_month:
            return _("%(year)s-%(month)02d") % {"year": self.start.year, "month": self.start.month}
        if self.start.month == 1 and self.end.month == 12 and self.start.year == self.end.year:
            return _("Year %(year)s") % {"year": self.start.year}
        return _("%(start)s to %(end)s") % {"start": self.start.isoformat(), "end": self.end.isoformat()}


def year_range(year: int) -> Range:
    return Range(datetime.date(year, 1, 1), datetime.date(year, 12, 31))


def quarter_range(year: int, quarter: int) -> Range:
    first = 3 * (quarter - 1) + 1
    return Range(datetime.date(year, first, 1), dep.month_end(year, first + 2))


def month_range(year: int, month: int) -> Range:
    return Range(datetime.date(year, month, 1), dep.month_end(year, month))


def months_range(first: tuple[int, int], last: tuple[int, int]) -> Range:
    return Range(datetime.date(first[0], first[1], 1), dep.month_end(*last))


# Helpers --------------------------------------------------------------------------------------------------------


def _prefixed(q: Q, prefix: str) -> Q:
    """The same condition seen from a model that reaches the card through ``prefix`` (e.g. ``asset__``)."""
    out = Q()
    out.connector, out.negated = q.connector, q.negated
    for child in q.children:
        if isinstance(child, Q):
            out.children.append(_prefixed(child, prefix))
        else:
            lookup, value = child
            out.children.append((prefix + lookup, value))
    return out


def owned(school_id) -> Q:
    """The school's own cards (校企合作 lent equipment is not on the books, AST-12)."""
    return Q(school_id=school_id) & ~Q(acquisition=Acquisition.PARTNER_LENT)


def present_at(day: datetime.date) -> Q:
    """Not disposed of by ``day`` (a card disposed of that day has left the books)."""
    return Q(disposed_on__isnull=True) | Q(disposed_on__gt=day)


def _sum(expression, condition: Q | None = None):
    return MoneySum(expression, filter=condition)


def _active_runs(school_id, first: int, last: int) -> tuple[list[int], list[int]]:
    """Ids of the school's active depreciation runs of the months before ``first`` and of ``first``..``last``
    (month indexes, ``depreciation.month_index``)."""
    before, within = [], []
    for pk, year, month in (DepreciationRun.objects.filter(school_id=school_id, voided_at__isnull=True)
                            .values_list("pk", "period__year", "period__month")):
        index = year * 12 + month - 1
        if index < first:
            before.append(pk)
        elif index <= last:
            within.append(pk)
    return before, within


# The dimension a row belongs to: an expression on the card, and how its key becomes a label.
_KEY_FIELDS = {
    "category": "category__code",
    "accounting_class": "accounting_class",
    "department": "department_id",
    "funding_source": "funding_source",
    "project": "project_id",
}


def _key_expression(dimension: str, prefix: str = ""):
    if dimension == "category_top":
        # GB/T 14885-2022 codes are "A" + 2-digit 门类 + …: the top level is the first three characters
        # (domain-rules.md §2.2).
        return Substr(f"{prefix}category__code", 1, 3)
    if dimension == "all":
        return Value("all")
    return F(prefix + _KEY_FIELDS[dimension])


def _labels(school_id, dimension: str, keys) -> dict:
    """{key: label} of the keys found, in a query or two (never one per row)."""
    keys = [k for k in keys if k is not None]
    if dimension == "accounting_class":
        return {k: str(dict(AccountingClass.choices).get(k, k)) for k in keys}
    if dimension == "funding_source":
        return {k: str(dict(FundingSource.choices).get(k, k)) for k in keys}
    if dimension == "category":
        names = dict(AssetCategory.objects.filter(school_id=school_id, code__in=keys).values_list("code", "name"))
        return {k: f"{k} {names.get(k, '')}".strip() for k in keys}
    if dimension == "category_top":
        tops = {c.code[:3]: c.name for c in AssetCategory.objects.filter(
            school_id=school_id, parent__isnull=True, code__in=[f"{k}000000" for k in keys])}
        return {k: f"{k} {tops.get(k, '')}".strip() for k in keys}
    if dimension == "department":
        from houqin.org.models import Department

        return dict(Department.objects.filter(pk__in=keys).values_list("pk", "name"))
    if dimension == "project":
        return {p.pk: p.name for p in FundingProject.objects.filter(pk__in=keys)}
    return {k: str(k) for k in keys}


def _sort_key(dimension: str, key, label: str):
    if key is None:
        return (1, NONE_KEY)
    if dimension == "accounting_class":
        order = [c.value for c in AccountingClass]
        return (0, f"{order.index(key):02d}" if key in order else str(key))
    if dimension == "funding_source":
        order = [c.value for c in FundingSource]
        return (0, f"{order.index(key):02d}" if key in order else str(key))
    if dimension in ("category", "category_top"):
        return (0, str(key))
    return (0, label)


# The 固定资产总账 -------------------------------------------------------------------------------------------------

LEDGER_FIGURES = ("opening_value", "increases", "decreases", "closing_value", "opening_depreciation",
                  "depreciation", "depreciation_taken_on", "depreciation_written_off", "closing_depreciation",
                  "closing_net_value")

LEDGER_HEADERS = {
    "opening_value": gettext_lazy("Opening original value"),
    "increases": gettext_lazy("Increases"),
    "decreases": gettext_lazy("Decreases"),
    "closing_value": gettext_lazy("Closing original value"),
    "opening_depreciation": gettext_lazy("Opening accumulated depreciation"),
    "depreciation": gettext_lazy("Depreciation in the period"),
    "depreciation_taken_on": gettext_lazy("Cut-over depreciation taken on"),
    "depreciation_written_off": gettext_lazy("Depreciation written off on disposal"),
    "closing_depreciation": gettext_lazy("Closing accumulated depreciation"),
    "closing_net_value": gettext_lazy("Closing net value"),
}


@dataclass
class LedgerRow:
    key: object
    label: str
    cards: int = 0
    figures: dict = field(default_factory=lambda: dict.fromkeys(LEDGER_FIGURES, ZERO))

    def __getitem__(self, name):
        return self.figures[name]

    @property
    def ties_out(self) -> bool:
        f = self.figures
        return (f["opening_value"] + f["increases"] - f["decreases"] == f["closing_value"]
                and f["opening_depreciation"] + f["depreciation"] + f["depreciation_taken_on"]
                - f["depreciation_written_off"] == f["closing_depreciation"]
                and f["closing_value"] - f["closing_depreciation"] == f["closing_net_value"])


@dataclass
class Ledger:
    range: Range
    dimension: str
    booked_only: bool
    rows: list[LedgerRow]
    total: LedgerRow
    partner_lent: dict

    @property
    def figures(self) -> tuple[str, ...]:
        """The columns shown: the cut-over column only when something was taken on in the range."""
        if self.total.figures["depreciation_taken_on"]:
            return LEDGER_FIGURES
        return tuple(f for f in LEDGER_FIGURES if f != "depreciation_taken_on")

    @property
    def ties_out(self) -> bool:
        return self.total.ties_out and all(r.ties_out for r in self.rows)


def _card_filter(school_id, *, booked_only: bool = False, end: datetime.date | None = None,
                 extra: Q | None = None) -> Q:
    q = owned(school_id)
    if booked_only:
        # On the finance books by the end of the range (AST-10: 已入账, with its 入账日期).
        q &= Q(booking=AssetModel.Booking.BOOKED, booked_on__lte=end)
    if extra is not None:
        q &= extra
    return q


def general_ledger(school_id, period: Range, dimension: str = DEFAULT_DIMENSION, *,
                   booked_only: bool = False) -> Ledger:
    """固定资产总账 of ``period`` grouped by ``dimension`` (AST-1): three GROUP BY queries and the labels.

    Opening = the balance at the day before the range; closing = at its last day.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    start, end = period.start, period.end
    first, last = period.start_month, period.end_month
    cards = _card_filter(school_id, booked_only=booked_only, end=end)
    rows: dict = {}

    def row(key) -> LedgerRow:
        return rows.setdefault(key, LedgerRow(key=key, label=""))

    # Original value, from the journal.
    moves = (AssetMovement.objects.filter(_prefixed(cards, "asset__"), asset__isnull=False)
             .annotate(key=_key_expression(dimension, "asset__")).values("key")
             .annotate(opening=_sum("value_change", Q(happened_on__lt=start)),
                       up=_sum("value_change", Q(happened_on__gte=start, happened_on__lte=end, value_change__gt=0)),
                       down=_sum("value_change", Q(happened_on__gte=start, happened_on__lte=end, value_change__lt=0)),
                       closing=_sum("value_change", Q(happened_on__lte=end)),
                       cards=Count("asset_id", distinct=True,
                                   filter=Q(happened_on__lte=end) & _prefixed(present_at(end), "asset__"))))
    for r in moves:
        target = row(r["key"])
        target.cards = r["cards"]
        target.figures.update(opening_value=r["opening"], increases=r["up"], decreases=-r["down"],
                              closing_value=r["closing"])

    # Cut-over depreciation balances (期初累计折旧), on the cards.
    gone_in_range = Q(disposed_on__gte=start, disposed_on__lte=end)
    openings = (AssetModel.objects.filter(cards, present_at(period.day_before), opening_depreciation__isnull=False)
                .annotate(key=_key_expression(dimension)).values("key")
                .annotate(opening=_sum("opening_depreciation", Q(opening_on__lt=start)),
                          taken=_sum("opening_depreciation", Q(opening_on__gte=start, opening_on__lte=end)),
                          off=_sum("opening_depreciation", gone_in_range & Q(opening_on__lte=end)),
                          closing=_sum("opening_depreciation", present_at(end) & Q(opening_on__lte=end))))
    for r in openings:
        f = row(r["key"]).figures
        f["opening_depreciation"] += r["opening"]
        f["depreciation_taken_on"] += r["taken"]
        f["depreciation_written_off"] += r["off"]
        f["closing_depreciation"] += r["closing"]

    # The monthly runs: only active ones (a voided run is kept for the record but never counts). The runs are
    # few (one a month): reading their months first spares the join of every line to its run and period.
    before, within = _active_runs(school_id, first, last)
    lines = (DepreciationLine.objects.filter(_prefixed(cards & present_at(period.day_before), "asset__"),
                                             run_id__in=before + within)
             .annotate(key=_key_expression(dimension, "asset__")).values("key")
             .annotate(opening=_sum("amount", Q(run_id__in=before)),
                       charged=_sum("amount", Q(run_id__in=within)),
                       off=_sum("amount", _prefixed(gone_in_range, "asset__"))))
    for r in lines:
        f = row(r["key"]).figures
        f["opening_depreciation"] += r["opening"]
        f["depreciation"] += r["charged"]
        f["depreciation_written_off"] += r["off"]
        # The cards present at the day before either left the books in the range or are still there at its end.
        f["closing_depreciation"] += r["opening"] + r["charged"] - r["off"]

    labels = _labels(school_id, dimension, rows.keys())
    total = LedgerRow(key="total", label=_("Total"))
    out = []
    for key, r in rows.items():
        r.figures["closing_net_value"] = r.figures["closing_value"] - r.figures["closing_depreciation"]
        if not any(r.figures.values()) and not r.cards:
            continue
        r.label = labels.get(key) or (_none_label() if key is None else str(key))
        total.cards += r.cards
        for name in LEDGER_FIGURES:
            total.figures[name] += r.figures[name]
        out.append(r)
    out.sort(key=lambda r: _sort_key(dimension, r.key, r.label))
    return Ledger(range=period, dimension=dimension, booked_only=booked_only, rows=out, total=total,
                  partner_lent=partner_lent(school_id, end))


def partner_lent(school_id, day: datetime.date) -> dict:
    """校企合作 equipment present at ``day``: tracked, not owned, never on the ledgers (AST-12)."""
    return (AssetModel.objects.filter(present_at(day), school_id=school_id, acquisition=Acquisition.PARTNER_LENT,
                                      acquired_on__lte=day)
            .aggregate(cards=Count("id"), value=_sum("original_value")))


# Balances at a day (实训设备, 生均值) ----------------------------------------------------------------------------------


@dataclass
class Balance:
    key: object
    label: str = ""
    cards: int = 0
    original_value: Decimal = ZERO
    depreciation: Decimal = ZERO

    @property
    def net_value(self) -> Decimal:
        return self.original_value - self.depreciation


def balances_at(school_id, day: datetime.date, dimension: str, *, extra: Q | None = None,
                lent: bool = False) -> dict:
    """{key: Balance} of the cards present at ``day`` (owned ones; ``lent``: the partner-lent ones instead).

    Original value from the journal up to ``day``; accumulated depreciation = cut-over balance + active runs
    of the months up to ``day``'s month, of the cards not disposed of by then.
    """
    cards = Q(school_id=school_id, acquisition=Acquisition.PARTNER_LENT) if lent else owned(school_id)
    if extra is not None:
        cards &= extra
    out: dict = {}

    def bal(key) -> Balance:
        return out.setdefault(key, Balance(key=key))

    for r in (AssetMovement.objects.filter(_prefixed(cards, "asset__"), asset__isnull=False, happened_on__lte=day)
              .annotate(key=_key_expression(dimension, "asset__")).values("key")
              .annotate(value=_sum("value_change"),
                        cards=Count("asset_id", distinct=True, filter=_prefixed(present_at(day), "asset__")))):
        b = bal(r["key"])
        b.cards, b.original_value = r["cards"], r["value"]
    if not lent:
        for r in (AssetModel.objects.filter(cards, present_at(day), opening_on__lte=day,
                                            opening_depreciation__isnull=False)
                  .annotate(key=_key_expression(dimension)).values("key")
                  .annotate(amount=_sum("opening_depreciation"))):
            bal(r["key"]).depreciation += r["amount"]
        before, within = _active_runs(school_id, dep.month_index(day) + 1, dep.month_index(day) + 1)
        for r in (DepreciationLine.objects.filter(_prefixed(cards & present_at(day), "asset__"), run_id__in=before)
                  .annotate(key=_key_expression(dimension, "asset__")).values("key").annotate(amount=_sum("amount"))):
            bal(r["key"]).depreciation += r["amount"]
    out = {k: b for k, b in out.items() if b.cards or b.original_value or b.depreciation}
    labels = _labels(school_id, dimension, out.keys())
    for key, b in out.items():
        b.label = labels.get(key) or (_none_label() if key is None else str(key))
    return out


def _total(balances, label: str) -> Balance:
    total = Balance(key="total", label=label)
    for b in balances:
        total.cards += b.cards
        total.original_value += b.original_value
        total.depreciation += b.depreciation
    return total


def classes_filter(classes) -> Q:
    return Q(accounting_class__in=list(classes))


def category_filter(prefixes) -> Q | None:
    """Cards whose GB/T 14885 code starts with one of ``prefixes`` (A02 = 设备, A0201 = 通用设备 …)."""
    q = None
    for prefix in prefixes:
        q = Q(category__code__startswith=prefix) if q is None else q | Q(category__code__startswith=prefix)
    return q


# 实训设备 (AST-12) -------------------------------------------------------------------------------------------------


@dataclass
class TrainingReport:
    day: datetime.date
    classes: tuple
    by_department: list[dict]
    department_total: dict
    by_project: list[Balance]
    project_total: Balance


def training_equipment(school_id, day: datetime.date, classes=DEFAULT_EQUIPMENT_CLASSES) -> TrainingReport:
    """实训设备 value at ``day``: by 专业部 (departments of kind 专业部), with the partner-lent equipment each
    holds beside it (tracked, not owned), and by funding project (专项资金, AST-12), counts and values."""
    from houqin.org.models import Department

    kind = Q(department__kind=Department.Kind.MAJOR) & classes_filter(classes)
    own = balances_at(school_id, day, "department", extra=kind)
    lent = balances_at(school_id, day, "department", extra=kind, lent=True)
    majors = dict(Department.objects.filter(school_id=school_id, kind=Department.Kind.MAJOR)
                  .values_list("pk", "name"))
    rows = []
    for pk, name in sorted(majors.items(), key=lambda item: item[1]):
        mine, theirs = own.get(pk, Balance(key=pk)), lent.get(pk, Balance(key=pk))
        if not (mine.cards or mine.original_value or theirs.cards):
            continue
        rows.append({"key": pk, "label": name, "own": mine, "lent": theirs})
    department_total = {"own": _total([r["own"] for r in rows], _("Total")),
                        "lent": _total([r["lent"] for r in rows], _("Total"))}
    by_project = balances_at(school_id, day, "project", extra=Q(project__isnull=False) & classes_filter(classes))
    projects = sorted(by_project.values(), key=lambda b: b.label)
    return TrainingReport(day=day, classes=tuple(classes), by_department=rows, department_total=department_total,
                          by_project=projects, project_total=_total(projects, _("Total")))


# 生均教学仪器设备值 ---------------------------------------------------------------------------------------------------


@dataclass
class PerStudent:
    day: datetime.date
    classes: tuple
    categories: tuple
    by_class: list[Balance]
    equipment: Balance
    students: int
    students_counted: int
    students_entered: bool

    @property
    def per_student(self) -> Decimal | None:
        """教学、实习仪器设备资产值 ÷ 在校生数, in yuan, rounded to the fen (None without students)."""
        if not self.students:
            return None
        return dep.cents(self.equipment.original_value / self.students)


def enrolled_students(school_id) -> int:
    """在校生数: students whose status is 在读. Student records keep no enrolment history, so this is the
    number enrolled now, whatever the date of the report."""
    from houqin.org.models import Student

    return Student.objects.filter(school_id=school_id, status=Student.Status.ENROLLED).count()


def per_student_value(school_id, day: datetime.date, *, classes=DEFAULT_EQUIPMENT_CLASSES, categories=(),
                      students: int | None = None) -> PerStudent:
    """生均教学仪器设备值 = 教学、实习仪器设备资产值 ÷ 在校生数 (中职学校办学能力评估 / 质量年报).

    The equipment is the owned cards of ``classes`` (and, when given, of categories starting with one of
    ``categories``) present at ``day``, at original value. ``students`` overrides the count of enrolled
    students (e.g. the figure of the 教育事业统计 report).
    """
    extra = classes_filter(classes)
    by_category = category_filter(categories)
    if by_category is not None:
        extra &= by_category
    by_class = balances_at(school_id, day, "accounting_class", extra=extra)
    order = [c.value for c in AccountingClass]
    rows = sorted(by_class.values(), key=lambda b: order.index(b.key) if b.key in order else 99)
    counted = enrolled_students(school_id)
    return PerStudent(day=day, classes=tuple(classes), categories=tuple(categories), by_class=rows,
                      equipment=_total(rows, _("Total")), students=counted if students is None else students,
                      students_counted=counted, students_entered=students is not None)

