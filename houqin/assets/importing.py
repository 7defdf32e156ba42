"""Asset imports on the core import machinery (issue 5, X-7): the cut-over from the old ledger
(固定资产明细账), the category code table (GB/T 14885) and the low-value register.

The core validates every row (``core.importing.validate``: the entity's import form, then
``import_prepare``, then the model's field validation) outside any transaction and writes with the
entity's ``import_write`` in one short transaction. This module supplies those hooks:

* the import forms (a blank code gets a new number; a category is named by its code or by its old
  GB/T 14885-2010 code, kept in ``legacy_category_code``; a parent category may come later in the file);
* the per-row rules: opening balances taken as given (the third of original value, accumulated
  depreciation and net value derived from the other two; three that disagree are an error), future
  dates refused, codes and finance codes unique, today's card rules (``services.cards.card_problems``)
  turned into historic warnings (``historic`` / ``historic_warnings``) instead of errors;
* the write phase: bulk inserts, ONE opening movement per new card or item (the journal gives the
  place, custodian and status the card caches), bulk updates with a movement only where a re-import
  changes a card's place or value, and one bulk audit entry per row sharing one request id.

State that spans the rows of one import (codes and finance codes seen, the warnings, the preloaded
school data) lives in an ``ImportRun`` made by the import form when the core builds it for a file.
"""

from __future__ import annotations

import copy
import datetime
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from houqin.core import bulk
from houqin.core.audit import (
    SNAPSHOT,
    audit_bulk,
    current_request_id,
    reset_request_id,
    serialize_for_audit,
    set_request_id,
)
from houqin.core.bulk import bulk_insert, bulk_update, insert_rows
from houqin.core.entities import ImportProblem
from houqin.core.importing import NaturalKeyField, build_import_form, stored_values
from houqin.core.models import AuditEntry
from houqin.core.views_entity import EntityImportView

from .choices import Acquisition, FundingSource, UseStatus, ValuationType
from .models import Asset, AssetCategory, AssetMovement, LowValueItem
from .services import journal, periods
from .services.cards import card_problems, fill_defaults, threshold_for
from .services.common import new_asset_codes

NEW_CODE = "\x00new:"  # a blank code cell, numbered in the write phase
OPENING_VOUCHER = "期初"  # the voucher the old ledger's balances were booked under (cut-over convention)
NOTE_LIMIT = 200  # warnings listed one by one; the rest are counted
CODE_CHUNK = 5000
# A card in one of these states changes place or value only through its document (loan, repair, disposal).
LOCKED = {UseStatus.LENT, UseStatus.REPAIR, UseStatus.DISPOSING, UseStatus.DISPOSED}
HOLDING_DEFAULTS = {"quantity": 1, "unit": "台"}
ASSET_DEFAULTS = {**HOLDING_DEFAULTS, "valuation_type": ValuationType.COST, "funding_source": FundingSource.FISCAL,
                  "acquisition": Acquisition.PURCHASE}
KEEP_ON_UPDATE = ("booking", "voucher_no", "booked_on")


_HEADERS: dict = {}


def _header(model, name: str) -> str:
    """The column's header in the current language (worked out once per language, not once per row)."""
    key = (model, name, get_language())
    header = _HEADERS.get(key)
    if header is None:
        header = _HEADERS[key] = str(capfirst(model._meta.get_field(name).verbose_name))
    return header


def _today() -> datetime.date:
    return timezone.localdate()


# One import run ----------------------------------------------------------------------------------


@dataclass
class ImportRun:
    """What one import of one file knows across its rows (made when the core builds the form)."""

    school: object = None
    blank_codes: int = 0
    warnings: list[tuple[int, str]] = field(default_factory=list)
    finance_rows: dict[str, int] = field(default_factory=dict)
    file_codes: set[str] = field(default_factory=set)
    notes_added: bool = False
    # categories: code -> row defining it; row -> parent code still to be found in the file
    defined: dict[str, int] = field(default_factory=dict)
    parent_codes: dict[int, str] = field(default_factory=dict)
    pending_parent: str | None = None
    _existing: dict | None = None
    _finance_owner: dict | None = None
    _category_copies: dict = field(default_factory=dict)
    _school_threshold: Decimal | None = None
    # The day the run started: every row is checked against the same "today" (not asked per row).
    today: datetime.date = field(default_factory=lambda: _today())

    def existing(self, model, pk: int) -> dict:
        """The stored values of the school's cards (or items), loaded once on the first re-imported row."""
        if self._existing is None:
            names = ["room_id", "department_id", "custodian_id", "status", *HOLDING_DEFAULTS]
            if model is Asset:
                names += ["original_value", *ASSET_DEFAULTS, *KEEP_ON_UPDATE]
            else:
                names += ["unit_price"]
            self._existing = {row["id"]: row for row in
                              model.objects.filter(school=self.school).values("id", *dict.fromkeys(names))}
        return self._existing[pk]

    def finance_owner(self, finance_code: str) -> str | None:
        """The code of the card already holding ``finance_code`` in this school."""
        if self._finance_owner is None:
            self._finance_owner = dict(Asset.objects.filter(school=self.school).exclude(finance_code="")
                                       .values_list("finance_code", "code"))
        return self._finance_owner.get(finance_code)

    def category_for_rules(self, category: AssetCategory) -> AssetCategory:
        """A copy of the category carrying the threshold that applies, so the rule check asks no query."""
        if category.pk not in self._category_copies:
            if self._school_threshold is None:
                self._school_threshold = threshold_for(None, self.school)
            clone = copy.copy(category)
            if clone.capitalise_threshold is None:
                clone.capitalise_threshold = self._school_threshold
            self._category_copies[category.pk] = clone
        return self._category_copies[category.pk]

    def notes(self) -> list[str]:
        lines = [_("Row %(row)s: historic data: %(warnings)s") % {"row": row, "warnings": text}
                 for row, text in self.warnings[:NOTE_LIMIT]]
        if len(self.warnings) > NOTE_LIMIT:
            lines.append(_("… and %(count)s more rows of historic data.") % {"count": len(self.warnings) - NOTE_LIMIT})
        return lines

    def unresolved_parents(self) -> list[ImportProblem]:
        header = _header(AssetCategory, "parent")
        return [ImportProblem(row, header, _("No category “%(code)s” in this school or in the file.") % {"code": code})
                for row, code in sorted(self.parent_codes.items()) if code not in self.defined]


_RUN: ContextVar[ImportRun | None] = ContextVar("houqin_assets_import_run", default=None)


def current_run() -> ImportRun:
    run = _RUN.get()
    if run is None:
        run = ImportRun()
        _RUN.set(run)
    return run


# Forms ---------------------------------------------------------------------------------------------


class CategoryKeyField(NaturalKeyField):
    """A category named by its GB/T 14885-2022 code or, on old cards, its 2010 code (``legacy_code``)."""

    @property
    def lookup(self):
        return self._lookup

    @lookup.setter
    def lookup(self, value):
        self._lookup = value
        self.legacy: dict[str, list] = {}
        for obj in value.values():
            if obj.legacy_code:
                self.legacy.setdefault(obj.legacy_code, []).append(obj)

    def clean(self, value):
        text = "" if value is None else str(value).strip()
        if text.endswith(".0") and text[:-2].isdigit():
            text = text[:-2]
        if text and text not in self._lookup and text in self.legacy:
            found = self.legacy[text]
            if len(found) > 1:
                raise ValidationError(
                    _("The old category code %(old)s stands for several categories (%(codes)s): write the new code.")
                    % {"old": text, "codes": "、".join(c.code for c in found)}, code="ambiguous")
            return found[0]
        return super().clean(text)


class ParentKeyField(NaturalKeyField):
    """A parent category in the school or further down the same file (resolved in the write phase)."""

    import_pure = False  # notes a parent still to come on the run, row by row
    run: ImportRun | None = None

    def clean(self, value):
        text = "" if value is None else str(value).strip()
        if text and text not in self.lookup and self.run is not None:
            self.run.pending_parent = text
            return None
        return super().clean(text)


class RunFormMixin:
    """Starts an ``ImportRun`` per file; a blank code cell stands for "give it a new number"."""

    optional: tuple[str, ...] = ("code",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.run = ImportRun()
        _RUN.set(self.run)
        for name in self.optional:
            if name in self.fields:
                self.fields[name].required = False

    def clean_code(self):
        code = (self.cleaned_data.get("code") or "").strip()
        if not code:
            self.run.blank_codes += 1
            return f"{NEW_CODE}{self.run.blank_codes}"
        return code


class AssetFormMixin(RunFormMixin):
    # The class comes from the category, the original value may be derived from the opening balances.
    optional = ("code", "accounting_class", "original_value")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        old = self.fields["category"]
        self.fields["category"] = CategoryKeyField(model=AssetCategory, key="code", required=True, label=old.label)

    def clean(self):
        cleaned = super().clean()
        category = cleaned.get("category")
        raw = str(self.data.get("category") or "").strip()
        if raw.endswith(".0"):
            raw = raw[:-2]
        if category is not None and raw and raw != category.code:
            cleaned["legacy_category_code"] = raw  # a model field: the core sets it on the card
        return cleaned


class ItemFormMixin(RunFormMixin):
    pass


class CategoryFormMixin(RunFormMixin):
    optional = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        old = self.fields["parent"]
        self.fields["parent"] = ParentKeyField(model=AssetCategory, key="code", required=False, label=old.label)
        self.fields["parent"].run = self.run

    def full_clean(self):
        self.run.pending_parent = None
        super().full_clean()

    def clean_code(self):
        return (self.cleaned_data.get("code") or "").strip()


class ImportFormClass:
    """Descriptor for ``Entity.import_form_class``: the generated import form with a mixin in front."""

    def __init__(self, mixin):
        self.mixin = mixin
        self.built: dict[type, type] = {}

    def __get__(self, instance, owner):
        if owner not in self.built:
            base = build_import_form(instance if instance is not None else owner())
            self.built[owner] = type(base.__name__, (self.mixin, base), {"__module__": __name__})
        return self.built[owner]


# Row rules -----------------------------------------------------------------------------------------


def _code(obj, run: ImportRun) -> None:
    if obj.code.startswith(NEW_CODE):
        obj.code = ""
    else:
        run.file_codes.add(obj.code)


def _defaults(obj, defaults: dict, stored: dict | None) -> None:
    """A blank cell of a column with a default: the stored value on a re-import, else the default."""
    for name, default in defaults.items():
        if getattr(obj, name) in (None, ""):
            setattr(obj, name, stored[name] if stored is not None else default)


def _state_check(obj, stored: dict | None, errors: dict, *, value_field: str) -> None:
    """A re-import may move a card (a movement is posted) unless a document holds it."""
    if stored is None:
        return
    moved = (obj.room_id, obj.department_id, obj.custodian_id) != (
        stored["room_id"], stored["department_id"], stored["custodian_id"])
    revalued = getattr(obj, value_field) != stored[value_field]
    if (moved or revalued) and stored["status"] in LOCKED:
        errors["room" if moved else value_field] = _(
            "%(card)s is %(status)s: its place and value change through its document, not by import."
        ) % {"card": obj.code, "status": UseStatus(stored["status"]).label}


def _future(obj, names, today, errors) -> None:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None and value > today:
            errors[name] = _("%(column)s %(date)s is in the future.") % {
                "column": _header(type(obj), name), "date": value.isoformat()}


def _balances(obj: Asset, errors: dict) -> None:
    """Opening balances as given: the third of original value, depreciation and net value derived."""
    value, dep, net = obj.original_value, obj.opening_depreciation, obj.opening_net_value
    if value is None:
        if dep is not None and net is not None:
            value = obj.original_value = dep + net
        else:
            errors["original_value"] = _("Give the original value, or the accumulated depreciation and the net value.")
            return
    if value <= 0:
        errors["original_value"] = _("The original value must be more than zero.")
        return
    if dep is not None and dep < 0:
        errors["opening_depreciation"] = _("The accumulated depreciation cannot be negative.")
        return
    if net is not None and net < 0:
        errors["opening_net_value"] = _("The net value cannot be negative.")
        return
    if dep is not None and net is not None and dep + net != value:
        errors["opening_net_value"] = _(
            "%(value_col)s %(value)s, %(dep_col)s %(dep)s and %(net_col)s %(net)s disagree: the original value "
            "must equal depreciation plus net value."
        ) % {"value_col": _header(Asset, "original_value"), "value": value,
             "dep_col": _header(Asset, "opening_depreciation"), "dep": dep,
             "net_col": _header(Asset, "opening_net_value"), "net": net}
        return
    if dep is None and net is not None:
        dep = obj.opening_depreciation = value - net
    elif net is None and dep is not None:
        net = obj.opening_net_value = value - dep
    if dep is not None and dep > value:
        errors["opening_depreciation"] = _(
            "The accumulated depreciation %(dep)s is more than the original value %(value)s.") % {
            "dep": dep, "value": value}
        return
    if dep is not None and obj.opening_on is None:
        errors["opening_on"] = _("Give the date of the opening balances (%(column)s).") % {
            "column": _header(Asset, "opening_on")}
    elif dep is None and obj.opening_on is not None:
        errors["opening_depreciation"] = _("Give the accumulated depreciation or the net value on %(date)s.") % {
            "date": obj.opening_on.isoformat()}


def prepare_asset(obj: Asset, *, actor) -> None:
    """One cut-over row: checks that refuse it, defaults, and today's rules as historic warnings."""
    run = current_run()
    run.school = obj.school
    _code(obj, run)
    stored = (stored_values(obj) or run.existing(Asset, obj.pk)) if obj.pk else None
    _defaults(obj, ASSET_DEFAULTS, stored)
    errors: dict[str, str] = {}
    _balances(obj, errors)
    _future(obj, ("acquired_on", "in_service_on", "opening_on"), run.today, errors)
    if obj.finance_code:
        first = run.finance_rows.setdefault(obj.finance_code, obj._import_row)
        owner = run.finance_owner(obj.finance_code)
        if first != obj._import_row:
            errors["finance_code"] = _("Same %(column)s as row %(row)s.") % {
                "column": _header(Asset, "finance_code"), "row": first}
        elif owner is not None and owner != obj.code:
            errors["finance_code"] = _("%(value)s is already the finance code of card %(code)s.") % {
                "value": obj.finance_code, "code": owner}
    _state_check(obj, stored, errors, value_field="original_value")
    if errors:
        raise ValidationError(errors)
    # 入账: cut-over cards are booked under the opening voucher unless the row says otherwise.
    if not obj.booking:
        obj.booking = stored["booking"] if stored else Asset.Booking.BOOKED
    if obj.booking == Asset.Booking.BOOKED:
        obj.voucher_no = obj.voucher_no or (stored["voucher_no"] if stored else "") or OPENING_VOUCHER
        obj.booked_on = (stored["booked_on"] if stored else None) or obj.opening_on or obj.acquired_on
    fill_defaults(obj)
    if obj.pk is None:
        obj.status = UseStatus.IN_USE if (obj.room_id or obj.custodian_id) else UseStatus.IN_STORE
    category = obj.category
    obj.category = run.category_for_rules(category)
    try:
        problems = card_problems(obj, today=run.today)
    finally:
        obj.category = category
    warnings = list(problems.values())
    if obj.legacy_category_code and obj.legacy_category_code != category.code:
        warnings.insert(0, _("old category code %(old)s (GB/T 14885-2010) read as %(code)s %(name)s.") % {
            "old": obj.legacy_category_code, "code": category.code, "name": category.name})
    obj.historic = bool(warnings)
    obj.historic_warnings = "；".join(str(w) for w in warnings)[:300]
    if warnings:
        run.warnings.append((obj._import_row, obj.historic_warnings))


def prepare_item(obj: LowValueItem, *, actor) -> None:
    run = current_run()
    run.school = obj.school
    _code(obj, run)
    stored = (stored_values(obj) or run.existing(LowValueItem, obj.pk)) if obj.pk else None
    _defaults(obj, HOLDING_DEFAULTS, stored)
    errors: dict[str, str] = {}
    _future(obj, ("acquired_on",), run.today, errors)
    _state_check(obj, stored, errors, value_field="unit_price")
    if errors:
        raise ValidationError(errors)
    from houqin.core.pinyin import search_keys

    obj.search_keys = search_keys(obj.name or "")
    if obj.pk is None:
        obj.status = UseStatus.IN_USE if (obj.room_id or obj.custodian_id) else UseStatus.IN_STORE


def prepare_category(obj: AssetCategory, *, actor) -> None:
    run = current_run()
    run.defined[obj.code] = obj._import_row
    pending, run.pending_parent = run.pending_parent, None
    if pending:
        run.parent_codes[obj._import_row] = pending
        obj.parent = None
    if (pending or (obj.parent.code if obj.parent else "")) == obj.code:
        raise ValidationError({"parent": _("A category cannot be its own parent.")})


# Writing -------------------------------------------------------------------------------------------


def _number(model, school, objs: list, run: ImportRun) -> None:
    """New numbers (prefix + year + sequence, ``new_asset_codes``) for the rows without a code,
    skipping any number the file itself uses."""
    by_year: dict[int, list] = {}
    for obj in objs:
        if not obj.code:
            by_year.setdefault(obj.acquired_on.year, []).append(obj)
    prefix = "D" if model is LowValueItem else ""
    for year, todo in by_year.items():
        codes: list[str] = []
        while len(codes) < len(todo):
            want = min(len(todo) - len(codes), CODE_CHUNK)
            fresh = [prefix + c for c in new_asset_codes(school, year, want)]
            if prefix:
                taken = set(model.objects.filter(school=school, code__in=fresh).values_list("code", flat=True))
            else:
                taken = set()
            codes += [c for c in fresh if c not in run.file_codes and c not in taken]
        for obj, code in zip(todo, codes, strict=False):
            obj.code = code


def _opening(obj, *, actor_id, document: str) -> dict:
    """The first journal row of a cut-over card or item: nothing before, the imported state after (a row for
    ``core.bulk.insert_rows``: the other columns take the model's defaults)."""
    subject = {"asset_id": obj.pk} if isinstance(obj, Asset) else {"item_id": obj.pk}
    on = getattr(obj, "opening_on", None) or obj.acquired_on
    return {"school_id": obj.school_id, "kind": AssetMovement.Kind.OPENING, "happened_on": on,
            "quantity": obj.quantity, "value_change": _value(obj), "room_after_id": obj.room_id,
            "department_after_id": obj.department_id, "custodian_after_id": obj.custodian_id, "status_before": "",
            "status_after": obj.status, "document": document, "actor_id": actor_id, **subject}


def _openings_in_sql(model, new: list, *, actor_id, document: str) -> bool:
    """The openings of ``new`` (just inserted) made by SQL from the cards as written, one ``INSERT … SELECT``
    (``bulk.insert_select``): what ``_opening`` gives each card, with nothing bound or built per row (0.3 s to
    bind and as much to build 100,000 rows, with the write lock held). Only for 1,000 cards or more whose keys
    run first … last in the list's order (one insert in this transaction: no other row lies between), on a
    database ``insert_select`` serves. False: nothing done, the caller posts them from Python. Low-value items
    keep Python's path: their value is a product, which SQL would not compute in Decimal."""
    if model is not Asset or len(new) < bulk.SET_BASED_TRIGGERS_FROM:
        return False
    keys = bulk.consecutive_keys(new)
    if keys is None or not bulk.usable_for(AssetMovement):
        return False
    m = {f.attname: f.column for f in Asset._meta.concrete_fields}
    bulk.insert_select(AssetMovement, {
        "school_id": (m["school_id"], ()), "asset_id": (m["id"], ()),
        "kind": ("%s", (AssetMovement.Kind.OPENING.value,)),
        "happened_on": (f"coalesce({m['opening_on']}, {m['acquired_on']})", ()),  # _opening: opening_on or acquired_on
        "quantity": (m["quantity"], ()), "value_change": (m["original_value"], ()),
        "room_after_id": (m["room_id"], ()), "department_after_id": (m["department_id"], ()),
        "custodian_after_id": (m["custodian_id"], ()), "status_before": ("%s", ("",)),
        "status_after": (m["status"], ()), "document": ("%s", (document,)), "actor_id": ("%s", (actor_id,)),
    }, f"{Asset._meta.db_table} WHERE {m['id']} BETWEEN %s AND %s ORDER BY {m['id']}", keys, len(new))  # noqa: S608
    return True


def _value(obj) -> Decimal:
    return obj.original_value if isinstance(obj, Asset) else obj.unit_price * obj.quantity


def _correction(obj, before: dict, *, actor) -> AssetMovement | None:
    """A re-imported card whose place or value changed: one movement from the stored state."""
    wanted = (obj.room_id, obj.department_id, obj.custodian_id)
    stored = (before["room"], before["department"], before["custodian"])
    if isinstance(obj, Asset):
        old_value = Decimal(before["original_value"])
    else:
        old_value = Decimal(before["unit_price"]) * before["quantity"]
    change = _value(obj) - old_value
    if wanted == stored and not change:
        return None
    obj.room_id, obj.department_id, obj.custodian_id = stored
    status = obj.status
    if wanted != stored and status in (UseStatus.IN_STORE, UseStatus.IN_USE):
        status = UseStatus.IN_USE if (wanted[0] or wanted[2]) else UseStatus.IN_STORE
    kind = AssetMovement.Kind.OPENING if change else AssetMovement.Kind.TRANSFER
    return journal.build_movement(obj, kind=kind, actor=actor, room=wanted[0], department=wanted[1],
                                  custodian=wanted[2], status=status, value_change=change,
                                  document=_("Excel import"), note=_("Corrected by a re-import"))


def write_holdings(entity, *, new: list, changed: list, actor, school, result) -> None:
    """Bulk inserts, one opening movement per new card or item, corrections, bulk audit (one request id)."""
    run = current_run()
    model = entity.model
    # A closed month of the asset books refuses writes (AST-7): every row dated into one is listed.
    latest = periods.latest_closed_index(school)
    if latest is not None:
        rows = [*new, *(o for o, _b in changed)]
        days = [getattr(o, "opening_on", None) or o.acquired_on for o in rows]
        dated = [day for day in days if day is not None]
        # The earliest date against the first open month (the lock is held: no check per row unless one fails).
        if dated and min(dated) < periods.first_day_after(latest):
            raise ValidationError([
                f"{_('Row %(n)s') % {'n': getattr(o, '_import_row', '?')}}：{periods.closed_message(day)}"
                for o, day in zip(rows, days, strict=True)
                if day is not None and periods.is_closed(school, day, latest=latest)])
    token = None if current_request_id() else set_request_id()
    try:
        _number(model, school, new, run)
        bulk_insert(model, new)
        actor_id = actor.pk if getattr(actor, "pk", None) else None
        document = _("Excel import")[:60]
        in_sql = _openings_in_sql(model, new, actor_id=actor_id, document=document)
        openings = [] if in_sql else [_opening(o, actor_id=actor_id, document=document) for o in new]
        movements = []
        if changed:
            now = timezone.now()
            for obj, before in changed:
                obj.updated_at = now
                movement = _correction(obj, before, actor=actor)
                if movement is not None:
                    movements.append(movement)
            names = [n for n in entity.import_fields if n != "code"]
            names += ["search_keys", "status", "updated_at"]
            if model is Asset:
                names += ["accounting_class", "life_months", "in_service_on", "booking", "voucher_no", "booked_on",
                          "historic", "historic_warnings", "legacy_category_code"]
            bulk_update(model, [o for o, _b in changed], sorted(set(names)))
        insert_rows(AssetMovement, openings, as_model=True)
        bulk_insert(AssetMovement, movements)  # after the openings, as one list did before
        # The new cards' snapshots were worked out before the transaction (core.importing.prepare_write).
        entries = [(o, AuditEntry.Action.IMPORT, None, SNAPSHOT) for o in new]
        entries += [(o, AuditEntry.Action.IMPORT, before, serialize_for_audit(o)) for o, before in changed]
        audit_bulk(entries, actor=actor, message=_("Excel import"))
    finally:
        if token is not None:
            reset_request_id(token)
    if not run.notes_added:
        result.notes.extend(run.notes())
        run.notes_added = True


def write_categories(entity, *, new: list, changed: list, actor, school, result) -> None:
    """Categories in one go: parents named later in the file are linked after the inserts."""
    run = current_run()
    problems = run.unresolved_parents()
    if problems:
        raise ValidationError([f"{_('Row %(n)s') % {'n': p.row}}：{p.message}" for p in problems])
    token = None if current_request_id() else set_request_id()
    try:
        AssetCategory.objects.bulk_create(new, batch_size=500)
        rows = {o._import_row: o for o in [*new, *(o for o, _b in changed)]}
        in_file = {o.code: o for o in rows.values()}
        now = timezone.now()
        for o, _before in changed:
            o.updated_at = now
        for row, code in run.parent_codes.items():
            rows[row].parent = in_file[code]
        _check_cycles(list(rows.values()))
        new_pks = {o.pk for o in new}
        linked = [rows[row] for row in run.parent_codes if rows[row].pk in new_pks]
        if linked:
            AssetCategory.objects.bulk_update(linked, fields=["parent"], batch_size=500)
        if changed:
            names = sorted({*entity.import_fields, "updated_at"})
            AssetCategory.objects.bulk_update([o for o, _b in changed], fields=names, batch_size=500)
        entries = [(o, AuditEntry.Action.IMPORT, None, serialize_for_audit(o)) for o in new]
        entries += [(o, AuditEntry.Action.IMPORT, before, serialize_for_audit(o)) for o, before in changed]
        audit_bulk(entries, actor=actor, message=_("Excel import"))
    finally:
        if token is not None:
            reset_request_id(token)


def _check_cycles(objs: list) -> None:
    """A parent chain that comes back to where it started (A under B, B under A) is refused."""
    parents = {o.pk: o.parent_id for o in objs}
    for obj in objs:
        seen, current = {obj.pk}, obj.parent_id
        while current is not None:
            if current in seen:
                raise ValidationError({"parent": _("Category %(code)s would be its own ancestor.") % {
                    "code": obj.code}})
            seen.add(current)
            if current not in parents:
                parents.update(AssetCategory.objects.filter(pk=current).values_list("pk", "parent_id"))
            current = parents.get(current)


# The import page: warnings in the check step and after the import --------------------------------


class HistoricImportView(EntityImportView):
    """The generic import page, plus this run's historic-data warnings and unresolved parents."""

    entity = None

    def post(self, request, *args, **kwargs):
        _RUN.set(None)
        response = super().post(request, *args, **kwargs)
        run = _RUN.get()
        if response.status_code == 302 and run is not None and run.warnings:
            messages.warning(request, ngettext(
                "%(count)s row was imported as historic data: its card says which of today's rules it breaks.",
                "%(count)s rows were imported as historic data: each card says which of today's rules it breaks.",
                len(run.warnings)) % {"count": len(run.warnings)})
        return response

    def context(self, **extra):
        result = extra.get("result")
        run = _RUN.get()
        if result is not None and run is not None and not extra.get("done"):
            if result.ok and extra.get("token"):
                unresolved = run.unresolved_parents()
                if unresolved:
                    result.problems.extend(unresolved)
                    extra["token"] = ""
            if not run.notes_added:
                result.notes.extend(run.notes())
                run.notes_added = True
        return super().context(**extra)


class AssetImportView(HistoricImportView):
    entity = None


class LowValueItemImportView(HistoricImportView):
    entity = None


class AssetCategoryImportView(HistoricImportView):
    entity = None
