"""Export of the asset cards in the 财政 asset system's import layout (AST-10).

The 财政 asset system (行政事业单位资产管理信息系统) keeps its own copy of the school's cards, and Houqin
must agree with it every month (issue 6: "never a third set of books that disagrees"). Its import template
differs from province to province, so the school maps each header of its template to a card field:
``FiscalExportColumn(school, position, header, field)``, edited as an ordinary list (``entities_reports``),
with one action that loads ``DEFAULT_LAYOUT``, a generic 资产卡片 layout.

``FIELDS`` below is the documented registry of the card fields a column may name. The export writes the
school's owned cards that have not been disposed of (optionally only those booked by finance, or only those
changed in one month) in exactly the school's column order, with its headers, streamed by the project's
Excel writer (``core.excel.write_xlsx``, constant memory): money as exact two-place numbers, dates as dates,
codes as text. A column naming an unknown field is refused with the column, the header and the name.

The writes of this module (the columns and the default layout) are audited through ``core.crud``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import crud, excel

from . import depreciation as dep
from .choices import AccountingClass, Acquisition, FundingSource, UseStatus, ValuationType
from .models import Asset, AssetMovement, FiscalExportColumn


@dataclass(frozen=True)
class Field:
    """One card field a 财政 template column can carry.

    ``paths`` are the ``values()`` names read from the database (one query for the whole export);
    ``get`` turns such a row into the cell value; ``kind`` is the Excel cell kind (text, int, decimal, date).
    """

    code: str
    label: object
    kind: str
    paths: tuple[str, ...]
    get: Callable[[dict], object]
    help: object = ""


def _plain(path: str) -> Callable[[dict], object]:
    return lambda row: row[path]


def _text(path: str) -> Callable[[dict], object]:
    return lambda row: row[path] or ""


def _choice(path: str, choices) -> Callable[[dict], object]:
    labels = dict(choices)
    return lambda row: str(labels.get(row[path], row[path] or ""))


def _net(row: dict):
    return row["original_value"] - (row["accumulated_depreciation"] or 0)


def _life_years(row: dict):
    months = row["life_months"]
    return None if months is None else dep.cents(Decimal(months) / 12)


def _f(code, label, kind, paths, get=None, help=""):
    paths = (paths,) if isinstance(paths, str) else tuple(paths)
    if get is None:
        get = _text(paths[0]) if kind == "text" else _plain(paths[0])
    return Field(code=code, label=label, kind=kind, paths=paths, get=get, help=help)


_FIELD_LIST = (
    _f("code", gettext_lazy("Asset code (school)"), "text", "code"),
    _f("finance_code", gettext_lazy("Finance asset code"), "text", "finance_code",
       help=gettext_lazy("The code the 财政 system gave the card; empty for a card it does not know yet.")),
    _f("name", gettext_lazy("Asset name"), "text", "name"),
    _f("category_code", gettext_lazy("Category code (GB/T 14885)"), "text", "category__code"),
    _f("category_name", gettext_lazy("Category name"), "text", "category__name"),
    _f("legacy_category_code", gettext_lazy("Legacy category code (GB/T 14885-2010)"), "text",
       "category__legacy_code"),
    _f("accounting_class", gettext_lazy("Accounting class"), "text", "accounting_class",
       _choice("accounting_class", AccountingClass.choices)),
    _f("brand", gettext_lazy("Brand"), "text", "brand"),
    _f("spec", gettext_lazy("Specification / model"), "text", "spec"),
    _f("quantity", gettext_lazy("Quantity"), "int", "quantity"),
    _f("unit", gettext_lazy("Unit"), "text", "unit"),
    _f("valuation_type", gettext_lazy("Valuation type"), "text", "valuation_type",
       _choice("valuation_type", ValuationType.choices)),
    _f("original_value", gettext_lazy("Original value"), "decimal", "original_value"),
    _f("accumulated_depreciation", gettext_lazy("Accumulated depreciation"), "decimal",
       "accumulated_depreciation"),
    _f("net_value", gettext_lazy("Net value"), "decimal", ("original_value", "accumulated_depreciation"), _net),
    _f("funding_source", gettext_lazy("Funding source"), "text", "funding_source",
       _choice("funding_source", FundingSource.choices)),
    _f("project", gettext_lazy("Funding project"), "text", "project__name"),
    _f("project_code", gettext_lazy("Funding project code"), "text", "project__code"),
    _f("acquisition", gettext_lazy("Acquisition method"), "text", "acquisition",
       _choice("acquisition", Acquisition.choices)),
    _f("acquired_on", gettext_lazy("Acquired on"), "date", "acquired_on"),
    _f("in_service_on", gettext_lazy("In service on"), "date", "in_service_on"),
    _f("life_months", gettext_lazy("Useful life (months)"), "int", "life_months"),
    _f("life_years", gettext_lazy("Useful life (years)"), "decimal", "life_months", _life_years),
    _f("department", gettext_lazy("Department"), "text", "department__name"),
    _f("custodian", gettext_lazy("Custodian"), "text", "custodian__name"),
    _f("custodian_no", gettext_lazy("Custodian's staff number"), "text", "custodian__staff_no"),
    _f("room", gettext_lazy("Place"), "text", "room__name"),
    _f("room_code", gettext_lazy("Room code"), "text", "room__code"),
    _f("status", gettext_lazy("Use status"), "text", "status", _choice("status", UseStatus.choices)),
    _f("booking", gettext_lazy("Booking status"), "text", "booking", _choice("booking", Asset.Booking.choices)),
    _f("voucher_no", gettext_lazy("Voucher number"), "text", "voucher_no"),
    _f("booked_on", gettext_lazy("Booked on"), "date", "booked_on"),
    _f("supplier", gettext_lazy("Supplier"), "text", "supplier"),
    _f("manufacturer", gettext_lazy("Manufacturer"), "text", "manufacturer"),
    _f("invoice_no", gettext_lazy("Invoice number"), "text", "invoice_no"),
    _f("contract_no", gettext_lazy("Contract number"), "text", "contract_no"),
    _f("warranty_until", gettext_lazy("Warranty until"), "date", "warranty_until"),
    _f("area", gettext_lazy("Area (m²)"), "decimal", "area"),
    _f("title_no", gettext_lazy("Title certificate number"), "text", "title_no"),
    _f("note", gettext_lazy("Note"), "text", "note"),
)

# code → Field: what a FiscalExportColumn.field may name.
FIELDS: dict[str, Field] = {f.code: f for f in _FIELD_LIST}

# A generic 资产卡片 import layout: the card fields of the 财政 asset system (domain-rules.md §2.5) in their
# usual order. The headers are the template's own (Chinese) texts, i.e. data the school edits to match its
# province's template, not interface strings.
DEFAULT_LAYOUT = (
    ("资产编号", "code"),
    ("财政资产编号", "finance_code"),
    ("资产分类代码", "category_code"),
    ("资产分类名称", "category_name"),
    ("资产名称", "name"),
    ("会计科目", "accounting_class"),
    ("品牌", "brand"),
    ("规格型号", "spec"),
    ("计量单位", "unit"),
    ("数量", "quantity"),
    ("价值类型", "valuation_type"),
    ("价值（元）", "original_value"),
    ("累计折旧（元）", "accumulated_depreciation"),
    ("净值（元）", "net_value"),
    ("资金来源", "funding_source"),
    ("取得方式", "acquisition"),
    ("取得日期", "acquired_on"),
    ("投入使用日期", "in_service_on"),
    ("折旧年限（月）", "life_months"),
    ("使用部门", "department"),
    ("使用人", "custodian"),
    ("存放地点", "room"),
    ("使用状况", "status"),
    ("入账状态", "booking"),
    ("会计凭证号", "voucher_no"),
    ("入账日期", "booked_on"),
    ("供应商", "supplier"),
    ("生产厂家", "manufacturer"),
    ("发票号", "invoice_no"),
    ("合同编号", "contract_no"),
    ("保修截止日期", "warranty_until"),
    ("权属证号", "title_no"),
    ("面积（平方米）", "area"),
    ("备注", "note"),
)


def field_choices() -> list[tuple[str, str]]:
    """(code, "label (code)") of every field, for the column form's drop-down list."""
    return [(f.code, f"{f.label}（{f.code}）") for f in _FIELD_LIST]


def field_label(code: str) -> str:
    found = FIELDS.get(code)
    return str(found.label) if found else _("Unknown field “%(field)s”") % {"field": code}


def unknown_field_message(code: str) -> str:
    return _("“%(field)s” is not a card field the export knows. Choose one of the list (for example "
             "code, name, original_value, acquired_on).") % {"field": code}


# Writes (audited) --------------------------------------------------------------------------------------------------


def _check(column: FiscalExportColumn) -> None:
    problems = {}
    if column.field not in FIELDS:
        problems["field"] = unknown_field_message(column.field)
    if not (column.header or "").strip():
        problems["header"] = _("Give the column header exactly as the template has it.")
    if column.position is None or column.position < 1:
        problems["position"] = _("Positions start at 1.")
    taken = FiscalExportColumn.objects.filter(school_id=column.school_id, position=column.position)
    if column.pk:
        taken = taken.exclude(pk=column.pk)
    if column.position and taken.exists():
        problems["position"] = _("Column %(position)s is already used: give another position.") % {
            "position": column.position}
    if problems:
        raise ValidationError(problems)


def column_create(*, school, actor, data: dict) -> FiscalExportColumn:
    column = FiscalExportColumn(school=school, **data)
    column.header = (column.header or "").strip()
    _check(column)
    return crud.object_create(obj=column, actor=actor)


def column_update(*, column: FiscalExportColumn, actor, data: dict) -> FiscalExportColumn:
    data = {k: v for k, v in data.items() if k in ("position", "header", "field")}
    probe = FiscalExportColumn(pk=column.pk, school_id=column.school_id,
                               **{**{k: getattr(column, k) for k in ("position", "header", "field")}, **data})
    probe.header = (probe.header or "").strip()
    _check(probe)
    data["header"] = probe.header
    crud.object_update(obj=column, data=data, actor=actor)
    return column


@transaction.atomic
def load_default_layout(*, school, actor) -> int:
    """Replace the school's columns by ``DEFAULT_LAYOUT`` (each removal and creation audited)."""
    for column in FiscalExportColumn.objects.filter(school=school).order_by("position"):
        crud.object_delete(obj=column, actor=actor)
    for position, (header, code) in enumerate(DEFAULT_LAYOUT, start=1):
        crud.object_create(obj=FiscalExportColumn(school=school, position=position, header=header, field=code),
                           actor=actor, message=_("Default 财政 export layout loaded"))
    return len(DEFAULT_LAYOUT)


# The export --------------------------------------------------------------------------------------------------------


def layout(school_id) -> list[FiscalExportColumn]:
    """The school's columns in order, each checked: unknown field names are refused with a clear message."""
    columns = list(FiscalExportColumn.objects.filter(school_id=school_id).order_by("position"))
    if not columns:
        raise ValidationError(_("No export layout yet: load the default layout or add the columns of your "
                                "province's template first."))
    problems = [_("Column %(position)s “%(header)s”: %(problem)s") % {
        "position": c.position, "header": c.header, "problem": unknown_field_message(c.field)}
        for c in columns if c.field not in FIELDS]
    if problems:
        raise ValidationError(problems)
    return columns


def cards(school_id, *, booked_only: bool = False, month: tuple[int, int] | None = None):
    """The cards exported: owned (校企合作 lent equipment is not the school's, AST-12), not disposed of;
    ``booked_only``: only those finance has booked (已入账); ``month``: only those changed in that month (a
    journal row, a booking or an edit in it)."""
    qs = (Asset.objects.filter(school_id=school_id).exclude(acquisition=Acquisition.PARTNER_LENT)
          .exclude(status=UseStatus.DISPOSED).filter(disposed_on__isnull=True))
    if booked_only:
        qs = qs.filter(booking=Asset.Booking.BOOKED)
    if month is not None:
        first = datetime.date(month[0], month[1], 1)
        last = dep.month_end(*month)
        moved = AssetMovement.objects.filter(school_id=school_id, happened_on__gte=first, happened_on__lte=last,
                                             asset__isnull=False).values("asset_id")
        # Edited in the month: between its first and its last local midnight (``updated_at__date`` would call a
        # Python date function on every card on SQLite).
        zone = timezone.get_current_timezone()
        since, until = (timezone.make_aware(datetime.datetime.combine(d, datetime.time.min), zone)
                        for d in (first, last + datetime.timedelta(days=1)))
        qs = qs.filter(Q(pk__in=moved) | Q(booked_on__gte=first, booked_on__lte=last)
                       | Q(updated_at__gte=since, updated_at__lt=until))
    return qs.order_by("code")


def rows(columns: list[FiscalExportColumn], qs) -> Iterator[list]:
    fields = [FIELDS[c.field] for c in columns]
    paths = sorted({p for f in fields for p in f.paths})
    for row in qs.values(*paths).iterator(chunk_size=2000):
        yield [f.get(row) for f in fields]


def write(out, school_id, *, booked_only: bool = False, month: tuple[int, int] | None = None,
          title: str = "") -> int:
    """Write the export to ``out`` (a binary file); returns the number of cards. No title lines: the 财政
    system reads the header from the first row."""
    columns = layout(school_id)
    excel_columns = [excel.Column(key=str(c.position), header=c.header, kind=FIELDS[c.field].kind)
                     for c in columns]
    return excel.write_xlsx(out, columns=excel_columns, rows=rows(columns, cards(school_id, booked_only=booked_only,
                                                                                    month=month)),
                            sheet_title=title or _("Asset cards"))
