"""Printed asset paperwork (PUB-3, AST-1, AST-2, AST-4): asset cards, labels, 室内财产清单 and 明细账.

Each printout is one Typst run over all its pages (``houqin.core.printing.render_typst_pdf``: a child
process with the Noto CJK fonts), with a fixed source file under ``assets/typst/``; the records reach
it as JSON string values only, never as Typst markup. This module gathers the rows (a few queries per
printout, never one per record) and lays them out as data; the views check permissions and scope.

Labels carry exactly the asset code in their QR or Code128 symbol; the door list of a room carries
``ROOM:<room code>`` (``barcodes.room_payload``).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from houqin.core import printing
from houqin.core.printing import PrintError

from . import barcodes
from .choices import UseStatus
from .models import Asset, AssetMovement, LowValueItem

TYPST_DIR = Path(__file__).resolve().parent / "typst"

MAX_CARDS = 1000  # cards (pages) in one printout
MAX_LABELS = 2000  # labels in one printout (a QR code costs about 3 ms to make: 6 s for 2,000)
MAX_COPIES = 20
MAX_LEDGER_ROWS = 10_000
CARD_HISTORY_ROWS = {"a4": 12, "a5": 5}
PAPERS = ("a4", "a5")


# Small helpers ---------------------------------------------------------------------------------------------


def _t(value) -> str:
    """Printable text: None is "", control characters go (as core.printing does for tables)."""
    return printing._text(value)


def money(value) -> str:
    return "" if value is None else f"{Decimal(value):,.2f}"


def day(value) -> str:
    return value.isoformat() if value else ""


def _colon() -> str:
    return "：" if _chinese() else ": "


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def _lang() -> dict:
    chinese = _chinese()
    return {"lang": "zh" if chinese else "en", "region": "CN" if chinese else "GB", "colon": _colon()}


def _printed(now: datetime.datetime | None = None) -> tuple[datetime.datetime, str]:
    now = timezone.localtime(now or timezone.now())
    return now, f"{_('Printed at')}{_colon()}{now:%Y-%m-%d %H:%M}"


def _page_label() -> str:
    return _("Page %(page)s of %(total)s") % {"page": "{page}", "total": "{total}"}


def _label(model, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def _render(template: str, data: dict, now: datetime.datetime, timeout: float | None = None) -> bytes:
    return printing.render_typst_pdf(TYPST_DIR / template, data, printed_at=now, timeout=timeout)


def _person(staff) -> str:
    return staff.name if staff is not None else ""


def _place(room) -> str:
    return str(room) if room is not None else ""


# Labels ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelLayout:
    """A sticker sheet (or a thermal roll's page): its grid and the positions of its labels, in mm."""

    key: str
    title: str
    columns: int
    rows: int
    width: float  # one label
    height: float
    page_width: float = 210.0  # A4
    page_height: float = 297.0
    left: float = 0.0  # from the page's left edge to the first label
    top: float = 0.0
    gap_x: float = 0.0  # between two labels of a row
    gap_y: float = 0.0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def thermal(self) -> bool:
        return self.per_page == 1


# Common sheets sold in China (the same grids as Avery L7160-like 3×8, L7163 2×7, and 4×10 of 48.5×25.4).
LAYOUTS: dict[str, LabelLayout] = {
    layout.key: layout
    for layout in (
        LabelLayout("a4-24", gettext_lazy("A4 sheet, 3 × 8 = 24 labels of 70 × 37 mm"), 3, 8, 70, 37,
                    left=0, top=0.5),
        LabelLayout("a4-14", gettext_lazy("A4 sheet, 2 × 7 = 14 labels of 99.1 × 38.1 mm"), 2, 7, 99.1, 38.1,
                    left=4.65, top=15.15, gap_x=2.5),
        LabelLayout("a4-40", gettext_lazy("A4 sheet, 4 × 10 = 40 labels of 48.5 × 25.4 mm"), 4, 10, 48.5, 25.4,
                    left=8, top=21.5),
        LabelLayout("thermal-50x30", gettext_lazy("Thermal label printer, 50 × 30 mm, one label per page"), 1, 1,
                    50, 30, page_width=50, page_height=30),
    )
}
DEFAULT_LAYOUT = "a4-24"
SYMBOLOGIES = {"qr": gettext_lazy("QR code"), "code128": gettext_lazy("Code128 bar code")}


def sheet_count(labels: int, layout: LabelLayout, offset: int = 0) -> int:
    """Pages needed for ``labels`` labels when the first ``offset`` places of the first sheet are used."""
    if labels <= 0:
        return 0
    return -(-(labels + offset) // layout.per_page)


def _label_sizes(layout: LabelLayout, symbology: str) -> dict:
    """Font sizes (pt) and the symbol's size (mm) for a label of this size: the code is the largest text."""
    h = layout.height
    if h <= 26:  # 48.5 × 25.4
        sizes = {"school": 5.0, "name": 6.5, "code": 8.5, "place": 5.0, "pad": 1.5}
    elif h <= 31:  # 50 × 30 thermal
        sizes = {"school": 5.5, "name": 7.0, "code": 9.5, "place": 5.5, "pad": 1.8}
    else:  # 70 × 37, 99.1 × 38.1
        sizes = {"school": 6.5, "name": 8.5, "code": 11.0, "place": 6.5, "pad": 2.2}
    if layout.width >= 90:
        sizes["code"] += 2
        sizes["name"] += 1
    return sizes


def _text_width(text: str) -> float:
    """Width of text in ems, roughly: CJK and other wide characters 1, ASCII 0.55."""
    return sum(0.55 if ord(c) < 0x2E80 else 1.0 for c in text)


def shorten(text: str, ems: float) -> str:
    """``text`` cut to about ``ems`` wide, with "…" when cut (a label shows one or two lines of the name)."""
    if _text_width(text) <= ems:
        return text
    out, width = [], 0.0
    for c in text:
        width += _text_width(c)
        if width > ems - 1:
            break
        out.append(c)
    return "".join(out).rstrip() + "…"


PT = 0.3528  # mm in a point


def _text_room(layout: LabelLayout, sizes: dict, symbology: str) -> float:
    """The width in mm the name, code and place have on a label: beside the QR code, or the whole label."""
    inner_w = layout.width - 2 * sizes["pad"]
    if symbology == "code128":
        return inner_w
    school_h = sizes["school"] * PT * 1.05 + 0.6
    side = min(layout.height - 2 * sizes["pad"] - school_h, inner_w * 0.46)
    return inner_w - side - 1.2


def _fit_label(entry: dict, room: float, sizes: dict, symbology: str) -> dict:
    """Shorten the name (two lines beside a QR code, one above a bar code) and the place (one line) with "…",
    and shrink the code's size when it is wider than the label (codes are never cut)."""
    lines = 1 if symbology == "code128" else 2
    entry["name"] = shorten(entry["name"], lines * 0.85 * room / (sizes["name"] * PT))
    entry["place"] = shorten(entry["place"], 0.95 * room / (sizes["place"] * PT))
    natural = _text_width(entry["code"]) * 1.12 * sizes["code"] * PT  # bold digits are about 0.6 em
    entry["code_size"] = round(min(sizes["code"], sizes["code"] * 0.97 * room / natural), 2) if natural else 0
    return entry


def label_subjects(assets: Iterable = (), items: Iterable = ()) -> list:
    """Cards first, then low-value items, each in the given order."""
    return [*assets, *items]


def render_labels(subjects: Sequence, *, school: str, layout: str = DEFAULT_LAYOUT, offset: int = 0,
                  copies: int = 1, symbology: str = "qr", now: datetime.datetime | None = None) -> bytes:
    """Labels for cards and low-value items: school, name, code (large), place and the code's QR or Code128.

    ``offset`` skips the first places of the first sheet (a half-used sheet), ``copies`` prints each
    label that many times in a row. Raises PrintError with a message for the user.
    """
    chosen = LAYOUTS.get(layout)
    if chosen is None:
        raise PrintError(_("Unknown label layout “%(layout)s”.") % {"layout": layout})
    if symbology not in SYMBOLOGIES:
        raise PrintError(_("Unknown symbol “%(symbology)s”: choose QR code or Code128.") % {"symbology": symbology})
    if not 0 <= offset < chosen.per_page:
        raise PrintError(_("The start position must be between 0 and %(most)s (labels already used on the "
                           "first sheet).") % {"most": chosen.per_page - 1})
    if not 1 <= copies <= MAX_COPIES:
        raise PrintError(_("Copies per asset must be between 1 and %(most)s.") % {"most": MAX_COPIES})
    if not subjects:
        raise PrintError(_("Nothing to print: no asset matches the filter."))
    total = len(subjects) * copies
    if total > MAX_LABELS:
        raise PrintError(_("%(count)s labels are too many to print at once (at most %(max)s): narrow the "
                           "filter.") % {"count": total, "max": MAX_LABELS})
    sizes = _label_sizes(chosen, symbology)
    room = _text_room(chosen, sizes, symbology)
    labels = []
    for subject in subjects:
        code = subject.code
        if symbology == "code128":
            if not barcodes.code128_fits(code):
                raise PrintError(_("The code “%(code)s” cannot be printed as Code128 (letters, digits and "
                                   "ASCII signs only): print QR codes instead.") % {"code": code})
            symbol = barcodes.code128_svg(code)
        else:
            symbol = barcodes.qr_svg(code)
        entry = _fit_label({"school": _t(school), "name": _t(subject.name), "code": _t(code),
                            "place": _t(_place(subject.room)), "symbol": symbol}, room, sizes, symbology)
        labels.extend([entry] * copies)
    now = now or timezone.now()
    data = {
        **_lang(),
        "title": _("Asset labels"),
        "symbology": symbology,
        "layout": {"columns": chosen.columns, "rows": chosen.rows, "width": chosen.width, "height": chosen.height,
                   "page_width": chosen.page_width, "page_height": chosen.page_height, "left": chosen.left,
                   "top": chosen.top, "gap_x": chosen.gap_x, "gap_y": chosen.gap_y},
        "sizes": sizes,
        "offset": offset,
        "labels": labels,
    }
    return _render("labels.typ", data, now)


# Asset cards ------------------------------------------------------------------------------------------------


CARD_FIELDS = (
    # (field, how to show it); the order is the card's, two fields a row.
    "code", "finance_code", "category_code", "category_name", "accounting_class", "name", "brand", "spec", "unit",
    "quantity", "original_value", "valuation_type", "funding_source", "project", "acquisition", "acquired_on",
    "in_service_on", "supplier", "manufacturer", "invoice_no", "contract_no", "warranty_until", "room",
    "department", "custodian", "status", "booking", "voucher_no", "booked_on", "life_months", "opening_on",
    "opening_depreciation", "opening_net_value", "area", "title_no", "note",
)


def _card_field(asset: Asset, name: str) -> tuple[str, str]:
    if name == "category_code":
        return _("Category code"), asset.category.code
    if name == "category_name":
        return _("Category name"), asset.category.name
    field = Asset._meta.get_field(name)
    label = str(field.verbose_name)
    value = getattr(asset, name)
    if field.choices:
        text = getattr(asset, f"get_{name}_display")()
    elif name in ("original_value", "opening_depreciation", "opening_net_value"):
        text = money(value)
    elif isinstance(value, datetime.date):
        text = day(value)
    elif name == "custodian":
        text = _person(value)
    elif value is None:
        text = ""
    else:
        text = str(value)
    if name == "life_months" and value:
        text = _("%(months)s months (%(years)s years)") % {"months": value, "years": f"{value / 12:g}"}
    return label[:1].upper() + label[1:], _t(text)


def _history_rows(movements: Iterable[AssetMovement]) -> list[list[str]]:
    rows = []
    for m in movements:
        rows.append([day(m.happened_on), m.get_kind_display(), _place(m.room_after), _person(m.custodian_after),
                     m.get_status_after_display(), _t(m.document or m.note),
                     (m.actor.get_full_name() or m.actor.username) if m.actor_id else ""])
    return rows


def render_cards(assets: QuerySet, *, school: str, paper: str = "a4", now: datetime.datetime | None = None,
                 timeout: float | None = None) -> bytes:
    """资产卡片, one page per card: every card field, the code's QR, recent journal rows, signature lines."""
    if paper not in PAPERS:
        raise PrintError(_("Unknown paper size “%(paper)s”: choose A4 or A5.") % {"paper": paper})
    history = CARD_HISTORY_ROWS[paper]
    assets = list(assets.select_related("category", "room", "department", "custodian", "project")[: MAX_CARDS + 1])
    if not assets:
        raise PrintError(_("Nothing to print: no asset matches the filter."))
    if len(assets) > MAX_CARDS:
        raise PrintError(_("Too many cards to print at once (at most %(max)s): narrow the filter.")
                         % {"max": MAX_CARDS})
    journal = defaultdict(list)
    recent = (AssetMovement.objects.filter(asset__in=[a.pk for a in assets])
              .select_related("room_after", "custodian_after", "actor").order_by("asset_id", "-happened_on", "-id"))
    for m in recent.iterator(chunk_size=2000):
        rows = journal[m.asset_id]
        if len(rows) < history:
            rows.append(m)
    now, printed = _printed(now)
    cards = []
    for asset in assets:
        fields = [_card_field(asset, name) for name in CARD_FIELDS]
        cards.append({
            "code": _t(asset.code),
            "qr": barcodes.qr_svg(asset.code),
            "fields": [[label, value] for label, value in fields],
            "historic": _t(asset.historic_warnings) if asset.historic else "",
            "history": _history_rows(journal[asset.pk]),
            "more_history": len(journal[asset.pk]) >= history,
        })
    data = {
        **_lang(),
        "paper": paper,
        "title": _("Fixed asset card"),
        "school": _t(school),
        "printed_at": printed,
        "page_label": _page_label(),
        "history_title": _("Change history (latest first)"),
        "more_history": _("Older entries: see the asset's page."),
        "no_history": _("No journal entries."),
        "historic_label": _("Historic data"),
        "history_headers": [_("Date"), _("Change"), _("Place"), _("Custodian"), _("Status"), _("Document"),
                            _("By")],
        "signatures": [_("Asset keeper"), _("Asset user"), _("Head of department")],
        "date_label": _("Date"),
        "cards": cards,
    }
    return _render("cards.typ", data, now, timeout=timeout)


# 室内财产清单 (door lists) -------------------------------------------------------------------------------------


def _holdings_by_room(school_id, room_ids=None) -> tuple[dict, dict]:
    """{room id: [row, ...]} of the cards and of the low-value items on the books, by code (two queries)."""
    fields = ("room_id", "code", "name", "spec", "quantity", "unit", "custodian__name")
    assets = (Asset.objects.filter(school_id=school_id, room__isnull=False).exclude(status=UseStatus.DISPOSED)
              .order_by("room_id", "code").values_list(*fields, "original_value"))
    items = (LowValueItem.objects.filter(school_id=school_id, room__isnull=False).exclude(status=UseStatus.DISPOSED)
             .order_by("room_id", "code").values_list(*fields, "unit_price"))
    if room_ids is not None:
        assets = assets.filter(room_id__in=room_ids)
        items = items.filter(room_id__in=room_ids)
    by_room_assets: dict = defaultdict(list)
    by_room_items: dict = defaultdict(list)
    for row in assets.iterator(chunk_size=5000):
        by_room_assets[row[0]].append(row)
    for row in items.iterator(chunk_size=5000):
        by_room_items[row[0]].append(row)
    return by_room_assets, by_room_items


def room_lists(school_id, rooms: QuerySet) -> list[dict]:
    """The rooms (of ``rooms``) that hold cards or low-value items, each with its rows and totals."""
    rooms = list(rooms.select_related("building", "custodian").order_by("code"))
    by_assets, by_items = _holdings_by_room(school_id, room_ids=None if len(rooms) > 500 else [r.pk for r in rooms])
    fixed, low = _("Fixed asset"), _("Low-value item")
    out = []
    for room in rooms:
        assets, items = by_assets.get(room.pk, []), by_items.get(room.pk, [])
        if not assets and not items:
            continue
        # Cards and items alike in name, spec and unit share one row (a store room may hold thousands:
        # at 100k cards per-card rows were 94,959 and took Typst 92 s; grouped, about 3,000): the row names
        # the first and last code, how many cards it covers, and the custodian when they share one.
        groups: dict[tuple, list] = {}
        for kind, holdings in ((fixed, assets), (low, items)):
            for _room, code, name, spec, qty, unit, keeper, amount in holdings:
                value_of = amount if kind == fixed else amount * qty
                group = groups.setdefault((kind, name, spec, unit), [[], 0, Decimal("0"), set()])
                group[0].append(code)
                group[1] += qty
                group[2] += value_of
                group[3].add(keeper or "")
        rows = []
        for n, ((kind, name, spec, unit), (codes, qty, total, keepers)) in enumerate(groups.items(), start=1):
            codes.sort()
            code_text = codes[0] if len(codes) == 1 else _("%(first)s … %(last)s (%(n)s cards)") % {
                "first": codes[0], "last": codes[-1], "n": len(codes)}
            keeper = next(iter(keepers)) if len(keepers) == 1 else _("(several)")
            rows.append([str(n), _t(code_text), _t(name), _t(spec), str(qty), _t(unit), money(total), _t(keeper),
                         kind])
        quantity = sum(g[1] for g in groups.values())
        value = sum((g[2] for g in groups.values()), Decimal("0"))
        out.append({
            "code": _t(room.code), "name": _t(room.name), "building": _t(room.building.name if room.building else ""),
            "custodian": _person(room.custodian), "qr": barcodes.qr_svg(barcodes.room_payload(room.code)),
            "payload": barcodes.room_payload(room.code), "rows": rows,
            "count_assets": len(assets), "count_items": len(items), "quantity": quantity, "value": value,
        })
    return out


def render_room_lists(lists: list[dict], *, school: str, now: datetime.datetime | None = None,
                      timeout: float | None = None) -> bytes:
    """室内财产清单: one A4 page (or more) per room, to hang on its door, all rooms in one Typst run."""
    if not lists:
        raise PrintError(_("No room holds fixed assets or low-value items."))
    now, printed = _printed(now)
    colon = _colon()
    pages = []
    for room in lists:
        totals = _("Total: %(assets)s fixed assets, %(items)s low-value items, quantity %(quantity)s, value "
                   "¥%(value)s") % {"assets": room["count_assets"], "items": room["count_items"],
                                     "quantity": room["quantity"], "value": money(room["value"])}
        pages.append({**{k: room[k] for k in ("code", "name", "building", "custodian", "qr", "payload", "rows")},
                      "total_quantity": str(room["quantity"]), "total_value": money(room["value"]),
                      "totals": totals})
    data = {
        **_lang(),
        "title": _("Room inventory list"),
        "school": _t(school),
        "printed_at": printed,
        "page_label": _page_label(),
        "labels": {
            "room": _("Room") + colon, "building": _("Building") + colon, "custodian": _("Custodian") + colon,
            "scan": _("Scan at stocktake"), "total": _("Total"),
            "note": _("Keep this list on the door. Report any change to the asset keeper; do not move assets "
                      "without a transfer document."),
        },
        "headers": [_("No."), _("Asset code"), _("Name"), _("Specification / model"), _("Qty"), _("Unit"),
                    _("Original value (¥)"), _("Custodian"), _("Kind")],
        "signatures": [_("Custodian's signature"), _("Date")],
        "rooms": pages,
    }
    return _render("rooms.typ", data, now, timeout=timeout)


# 固定资产明细账 (detail ledger) ----------------------------------------------------------------------------


GROUPS = {
    "category": gettext_lazy("Category"),
    "department": gettext_lazy("Department"),
    "room": gettext_lazy("Place"),
    "custodian": gettext_lazy("Custodian"),
}


def _group_key(asset: Asset, group_by: str) -> tuple[str, str]:
    """(sort key, title) of an asset's group; a card without one goes to the "(none)" group at the end."""
    if group_by == "category":
        return (asset.category.code, f"{asset.category.code} {asset.category.name}")
    target = getattr(asset, group_by)
    if target is None:
        return ("\uffff", _("(none)"))
    if group_by == "room":
        return (target.code, str(target))
    return (getattr(target, "name", str(target)), str(target))


LEDGER_COLUMNS = (
    # key, header (msgid or a model field), align, weight, excel kind
    ("no", gettext_lazy("No."), "right", 0.5, "int"),
    ("code", "code", "left", 1.3, "text"),
    ("name", "name", "left", 1.6, "text"),
    ("category", "category", "left", 1.6, "text"),
    ("spec", "spec", "left", 1.3, "text"),
    ("unit", "unit", "center", 0.5, "text"),
    ("quantity", "quantity", "right", 0.6, "int"),
    ("original_value", "original_value", "right", 1.1, "decimal"),
    ("acquired_on", "acquired_on", "center", 1.0, "date"),
    ("room", "room", "left", 1.3, "text"),
    ("department", "department", "left", 1.1, "text"),
    ("custodian", "custodian", "left", 0.8, "text"),
    ("status", "status", "center", 0.8, "text"),
)


def ledger_headers() -> list[str]:
    out = []
    for _key, header, *_rest in LEDGER_COLUMNS:
        if isinstance(header, str) and header in {f.name for f in Asset._meta.get_fields()}:
            label = _label(Asset, header)
            out.append(label[:1].upper() + label[1:])
        else:
            out.append(str(header))
    return out


def ledger_groups(assets: QuerySet, group_by: str) -> tuple[list[dict], dict]:
    """The cards in groups (sorted by the group, then code), each with its subtotals; and the grand total.

    A row is a dict of the ledger's columns (raw values: Decimal, date, int, text).
    """
    if group_by not in GROUPS:
        raise PrintError(_("Unknown grouping “%(group)s”.") % {"group": group_by})
    qs = assets.select_related("category", "room", "department", "custodian")
    count = qs.count()
    if count > MAX_LEDGER_ROWS:
        raise PrintError(_("Too many rows to print (at most %(max)s): narrow the filter or export to Excel.")
                         % {"max": MAX_LEDGER_ROWS})
    status = dict(UseStatus.choices)
    groups: dict = {}
    for asset in qs.order_by("code").iterator(chunk_size=2000):
        key, title = _group_key(asset, group_by)
        group = groups.setdefault(key, {"title": title, "rows": [], "count": 0, "quantity": 0,
                                        "value": Decimal("0")})
        group["rows"].append({
            "code": asset.code, "name": asset.name, "category": f"{asset.category.code} {asset.category.name}",
            "spec": asset.spec, "unit": asset.unit, "quantity": asset.quantity, "original_value": asset.original_value,
            "acquired_on": asset.acquired_on, "room": _place(asset.room),
            "department": asset.department.name if asset.department_id else "", "custodian": _person(asset.custodian),
            "status": str(status.get(asset.status, asset.status)),
        })
        group["count"] += 1
        group["quantity"] += asset.quantity
        group["value"] += asset.original_value
    ordered = [groups[k] for k in sorted(groups)]
    total = {"count": sum(g["count"] for g in ordered), "quantity": sum(g["quantity"] for g in ordered),
             "value": sum((g["value"] for g in ordered), Decimal("0"))}
    return ordered, total


def _subtotal_text(group: dict) -> str:
    return _("Subtotal: %(title)s, %(count)s cards") % {"title": group["title"], "count": group["count"]}


def _total_text(total: dict) -> str:
    return _("Grand total: %(count)s cards") % {"count": total["count"]}


def ledger_title() -> str:
    return _("Fixed assets detail ledger")


def ledger_subtitle(group_by: str, filter_summary: str = "") -> str:
    text = _("Grouped by %(group)s") % {"group": GROUPS[group_by]}
    return f"{text}；{filter_summary}" if filter_summary else text


def render_ledger_pdf(assets: QuerySet, *, group_by: str, school: str, filter_summary: str = "",
                      now: datetime.datetime | None = None, timeout: float | None = None) -> bytes:
    """固定资产明细账, landscape A4: groups with subtotals, a grand total, page numbers, signature lines."""
    groups, total = ledger_groups(assets, group_by)
    if not groups:
        raise PrintError(_("Nothing to print: no asset matches the filter."))
    now, printed = _printed(now)
    out_groups = []
    for group in groups:
        rows = []
        for n, r in enumerate(group["rows"], start=1):
            rows.append([str(n), _t(r["code"]), _t(r["name"]), _t(r["category"]), _t(r["spec"]), _t(r["unit"]),
                         str(r["quantity"]), money(r["original_value"]), day(r["acquired_on"]), _t(r["room"]),
                         _t(r["department"]), _t(r["custodian"]), r["status"]])
        out_groups.append({"title": _t(group["title"]), "rows": rows, "subtotal": _t(_subtotal_text(group)),
                           "quantity": str(group["quantity"]), "value": money(group["value"])})
    data = {
        **_lang(),
        "title": ledger_title(),
        "school": _t(school),
        "subtitle": _t(ledger_subtitle(group_by, filter_summary)),
        "printed_at": printed,
        "page_label": _page_label(),
        "columns": [{"header": h, "align": c[2], "weight": c[3]} for h, c in zip(ledger_headers(), LEDGER_COLUMNS,
                                                                                  strict=True)],
        "quantity_column": 6,
        "groups": out_groups,
        "total": {"text": _total_text(total), "quantity": str(total["quantity"]), "value": money(total["value"])},
        "unit_note": _("Amounts in yuan (¥)."),
        "signatures": [_("Prepared by"), _("Asset keeper"), _("Director of logistics"), _("Date")],
    }
    return _render("ledger.typ", data, now, timeout=timeout)


def write_ledger_xlsx(out, assets: QuerySet, *, group_by: str, school: str, filter_summary: str = "") -> int:
    """The same grouped ledger as an Excel sheet: group rows, subtotal rows and a grand total row."""
    from houqin.core import excel

    groups, total = ledger_groups(assets, group_by)
    headers = ledger_headers()
    columns = [excel.Column(key=c[0], header=h, kind=c[4]) for h, c in zip(headers, LEDGER_COLUMNS, strict=True)]
    width = len(columns)
    empty = [None] * width

    def rows():
        for group in groups:
            yield [None, _t(group["title"]), *empty[2:]]
            for n, r in enumerate(group["rows"], start=1):
                yield [n, *(r[c[0]] for c in LEDGER_COLUMNS[1:])]
            yield [None, _subtotal_text(group), *empty[2:6], group["quantity"], group["value"], *empty[8:]]
        yield [None, _total_text(total), *empty[2:6], total["quantity"], total["value"], *empty[8:]]

    title = [f"{school} {ledger_title()}".strip(), ledger_subtitle(group_by, filter_summary),
             _printed()[1]]
    return excel.write_xlsx(out, columns=columns, rows=rows(), sheet_title=ledger_title(), title_lines=title)

