"""Cards (建卡, AST-1), categories and the low-value register (AST-11)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core import crud
from houqin.core.pinyin import search_keys

from .. import rules
from ..choices import UseStatus, ValuationType
from ..models import Asset, AssetCategory, AssetMovement, LowValueItem
from . import journal
from .common import new_asset_codes, settings_for

STATE_FIELDS = ("room", "department", "custodian")


def category_seed(school) -> int:
    """The verified GB/T 14885-2022 categories with the school table's lives (rules.SEED_CATEGORIES)."""
    made = 0
    by_code = {c.code: c for c in AssetCategory.objects.filter(school=school)}
    for code, name, parent, klass, life in rules.SEED_CATEGORIES:
        if code in by_code:
            continue
        by_code[code] = AssetCategory.objects.create(
            school=school, code=code, name=name, parent=by_code.get(parent) if parent else None,
            accounting_class=klass, default_life_years=life)
        made += 1
    return made


def threshold_for(category: AssetCategory | None, school) -> Decimal:
    """The capitalisation threshold: the category's override, else the school's (domain-rules.md §2.1)."""
    if category is not None and category.capitalise_threshold is not None:
        return category.capitalise_threshold
    return settings_for(school).capitalise_threshold


def card_problems(asset: Asset, *, today: datetime.date | None = None) -> dict[str, str]:
    """Today's rules for a new card, as {field: message}. Historic imported cards get these as warnings."""
    today = today or timezone.localdate()
    problems: dict[str, str] = {}
    category = asset.category if asset.category_id else None
    if asset.original_value is not None and asset.quantity and category is not None:
        unit_value = asset.original_value / asset.quantity
        limit = threshold_for(category, asset.school)
        if asset.valuation_type == ValuationType.NOMINAL:
            problems["valuation_type"] = _("Recorded at a nominal amount (¥1): not depreciated.")
        elif unit_value < limit and asset.quantity == 1:
            problems["original_value"] = _(
                "¥%(value)s is below the fixed-asset threshold of ¥%(limit)s: register a single item like this "
                "in the low-value register instead; a batch of similar items may still be one card."
            ) % {"value": f"{unit_value:,.2f}", "limit": f"{limit:,.2f}"}
    if category is not None and not category.active:
        problems["category"] = _("Category %(code)s is no longer in use.") % {"code": category.code}
    if asset.acquired_on and asset.acquired_on > today:
        problems["acquired_on"] = _("The acquisition date is in the future.")
    if asset.in_service_on and asset.in_service_on > today:
        problems["in_service_on"] = _("The in-service date is in the future.")
    if asset.in_service_on and asset.acquired_on and asset.in_service_on < asset.acquired_on:
        problems["in_service_on"] = _("The asset cannot be in service before it was acquired.")
    if category is not None and asset.life_months and category.default_life_years:
        minimum = category.default_life_years * 12
        if asset.life_months < minimum:
            problems["life_months"] = _(
                "The useful life may not be shorter than the category's %(months)s months (domain rules §2.3)."
            ) % {"months": minimum}
        elif asset.life_months > minimum and not (asset.life_reason or "").strip():
            problems["life_reason"] = _(
                "Say why the life is longer than the category's %(months)s months.") % {"months": minimum}
    return problems


def fill_defaults(asset: Asset) -> None:
    """Accounting class and life from the category; pinyin keys for search."""
    if asset.category_id:
        if not asset.accounting_class:
            asset.accounting_class = asset.category.accounting_class
        if asset.life_months is None and asset.category.default_life_years:
            asset.life_months = asset.category.default_life_years * 12
    asset.search_keys = search_keys(asset.name or "")
    if asset.pk is None:
        # A cut-over card starts from its opening balance (AST-9); the monthly runs add to it.
        asset.accumulated_depreciation = asset.opening_depreciation or 0
    if asset.acquired_on and asset.in_service_on is None:
        asset.in_service_on = asset.acquired_on


def initial_status(obj) -> str:
    return UseStatus.IN_USE if (obj.custodian_id or obj.room_id or obj.department_id) else UseStatus.IN_STORE


@transaction.atomic
def asset_create(*, school, actor, data: dict) -> Asset:
    """建卡: a new card after acceptance; 待入账 until finance books it (AST-10). Posts the register movement."""
    data = dict(data)
    state = {name: data.pop(name, None) for name in STATE_FIELDS}
    asset = Asset(school=school, **data)
    fill_defaults(asset)
    problems = card_problems(asset)
    problems.pop("valuation_type", None)  # a nominal-value card is allowed; the card says it is not depreciated
    if problems:
        raise ValidationError(problems)
    if not asset.code:
        year = (asset.acquired_on or timezone.localdate()).year
        asset.code = new_asset_codes(school, year)[0]
    asset.room, asset.department, asset.custodian = state["room"], state["department"], state["custodian"]
    asset.status = UseStatus.IN_USE if any(state.values()) else UseStatus.IN_STORE
    crud.object_create(obj=asset, actor=actor, message=_("Card created"))
    journal.record_initial(asset, kind=AssetMovement.Kind.REGISTER, actor=actor, on=asset.acquired_on,
                           value_change=asset.original_value, document=_("Card created"))
    return asset


@transaction.atomic
def asset_update(*, asset: Asset, actor, data: dict) -> Asset:
    """Descriptive fields only: place, department, custodian and status change through documents."""
    for name in (*STATE_FIELDS, "status", "code", "school"):
        data.pop(name, None)
    if "name" in data:
        data["search_keys"] = search_keys(data["name"] or "")
    category = data.get("category", asset.category)
    life = data.get("life_months", asset.life_months)
    if category is not None and category.default_life_years and "life_months" in data:
        minimum = category.default_life_years * 12
        if life is None:
            data["life_months"] = minimum
        elif life < minimum:
            raise ValidationError({"life_months": _(
                "The useful life may not be shorter than the category's %(months)s months (domain rules §2.3)."
            ) % {"months": minimum}})
        elif life > minimum and not (data.get("life_reason", asset.life_reason) or "").strip():
            raise ValidationError({"life_reason": _(
                "Say why the life is longer than the category's %(months)s months." ) % {"months": minimum}})
    if asset.booking == Asset.Booking.BOOKED and "original_value" in data and data["original_value"] != asset.original_value:
        # 账账相符 (domain-rules.md §2.5): a booked value changes only through a document finance books too.
        raise ValidationError({"original_value": _(
            "The card is on the finance books: its original value changes only through a document (e.g. the "
            "acceptance of construction in progress), not by editing the card.")})
    if "life_months" in data and data["life_months"] != asset.life_months and asset.depreciation_lines.exists():
        # 改建、扩建 or a longer life (§2.3): the remaining value is spread over the remaining months from now.
        data["rebased_on"] = timezone.localdate().replace(day=1)
        data["rebased_accumulated"] = asset.accumulated_depreciation
    old_value = asset.original_value
    crud.object_update(obj=asset, data=data, actor=actor)
    if asset.original_value != old_value:
        # The journal carries every value change (the 总账 sums it): a card not yet booked by finance may
        # still have its value corrected, as a row of its own.
        journal.post(asset, kind=AssetMovement.Kind.REVALUE, actor=actor, value_change=asset.original_value - old_value,
                     document=_("Value corrected"), note=f"{old_value} → {asset.original_value}")
    return asset


@transaction.atomic
def item_create(*, school, actor, data: dict) -> LowValueItem:
    """A low-value durable item (AST-11), registered with its custodian in one step."""
    data = dict(data)
    state = {name: data.pop(name, None) for name in STATE_FIELDS}
    item = LowValueItem(school=school, **data)
    item.search_keys = search_keys(item.name or "")
    if item.acquired_on and item.acquired_on > timezone.localdate():
        raise ValidationError({"acquired_on": _("The acquisition date is in the future.")})
    if not item.code:
        item.code = "D" + new_asset_codes(school, (item.acquired_on or timezone.localdate()).year)[0]
    item.room, item.department, item.custodian = state["room"], state["department"], state["custodian"]
    item.status = UseStatus.IN_USE if any(state.values()) else UseStatus.IN_STORE
    crud.object_create(obj=item, actor=actor, message=_("Registered"))
    journal.record_initial(item, kind=AssetMovement.Kind.REGISTER, actor=actor, on=item.acquired_on,
                           value_change=item.total_value, document=_("Registered"))
    return item


@transaction.atomic
def item_issue(*, item: LowValueItem, custodian, actor, room=None, note: str = "") -> LowValueItem:
    """领用 of a low-value item in two taps: choose the person, confirm."""
    item = journal.lock(LowValueItem, [item.pk])[item.pk]
    if item.status in (UseStatus.DISPOSED, UseStatus.LENT):
        raise ValidationError(_("%(item)s is %(status)s and cannot be issued.") % {
            "item": item, "status": item.get_status_display()})
    if custodian is None:
        raise ValidationError({"custodian": _("Choose who receives it.")})
    journal.post(item, kind=AssetMovement.Kind.ISSUE, actor=actor, custodian=custodian,
                 room=room if room is not None else journal.KEEP, status=UseStatus.IN_USE, note=note)
    return item


@transaction.atomic
def item_return(*, item: LowValueItem, actor, room=None, note: str = "") -> LowValueItem:
    """退库 of a low-value item: back to the store, nobody holds it."""
    item = journal.lock(LowValueItem, [item.pk])[item.pk]
    if item.status != UseStatus.IN_USE or item.custodian_id is None:
        raise ValidationError(_("%(item)s is not issued to anyone.") % {"item": item})
    journal.post(item, kind=AssetMovement.Kind.RETURN, actor=actor, custodian=None, department=None,
                 room=room if room is not None else journal.KEEP, status=UseStatus.IN_STORE, note=note)
    return item
