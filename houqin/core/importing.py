"""Excel import for any entity (X-7, architecture §4.8): validate every row, then write all or none.

1. read the sheet (python-calamine, ``core.excel``);
2. validate each row with the entity's ``ImportForm`` (natural keys, never database ids) and the
   model's own field validation — outside any transaction, so other users are not blocked;
3. report every bad row by row number and column, or
4. write in one short transaction: bulk inserts, bulk updates and one audit entry per row sharing
   the request id. A re-import with the entity's ``import_key`` column updates existing rows.
"""

from __future__ import annotations

import datetime
import decimal
import gc
import time
from contextlib import contextmanager
from operator import attrgetter, is_, itemgetter

from django import forms
from django.core import validators
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .audit import (
    SNAPSHOT,
    audit_bulk,
    diff,
    prepare_snapshots,
    serialize_for_audit,
    snapshot_attnames,
    snapshot_reader,
)
from .bulk import (
    _INT,
    bulk_insert,
    bulk_update,
    index_ahead,
    prepare_insert,
    release_ahead,
    stages_dropped_after,
)
from .entities import Entity, ImportProblem, ImportResult
from .fastload import set_related
from .models import AuditEntry


def _excel():
    """``core.excel`` loads python-calamine and xlsxwriter: only when a file is read or written."""
    from . import excel

    return excel

MAX_IMPORT_ROWS = 200_000
KEY_SCAN_FROM = 5_000  # rows with a key from which the school's keys are read at once (validate)
PREVIEW_ROWS = 20
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "有"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "✗", "无", ""}


class NaturalKeyField(forms.Field):
    """A related record named by its business key (room code, staff number, class name)."""

    import_pure = True  # the answer depends on the value and the lookup loaded for the import (see _memoised)

    def __init__(self, *, model, key: str, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.key = key
        self.lookup: dict[str, models.Model] = {}

    def clean(self, value):
        value = "" if value is None else str(value).strip()
        if isinstance(value, str) and value.endswith(".0") and value[:-2].isdigit():
            value = value[:-2]
        if not value:
            if self.required:
                raise ValidationError(_("This field is required."), code="required")
            return None
        obj = self.lookup.get(value)
        if obj is None:
            raise ValidationError(
                _("No %(thing)s “%(value)s” in this school.")
                % {"thing": self.model._meta.verbose_name, "value": value},
                code="unknown",
            )
        return obj


class ManyNaturalKeyField(NaturalKeyField):
    """Several related records separated by 、 , ， or ;."""

    import_pure = False  # a new list per row

    def clean(self, value):
        text = "" if value is None else str(value)
        for sep in ("，", ",", "；", ";"):
            text = text.replace(sep, "、")
        names = [n.strip() for n in text.split("、") if n.strip()]
        if not names and self.required:
            raise ValidationError(_("This field is required."), code="required")
        missing = [n for n in names if n not in self.lookup]
        if missing:
            raise ValidationError(
                _("No %(thing)s “%(value)s” in this school.")
                % {"thing": self.model._meta.verbose_name, "value": "、".join(missing)},
                code="unknown",
            )
        return [self.lookup[n] for n in names]


class LabelChoiceField(forms.ChoiceField):
    """Accepts the Chinese label shown in the template's drop-down, or the stored value."""

    import_pure = True  # see _memoised
    _by_text: tuple | None = None

    def _texts(self) -> tuple[dict, frozenset]:
        """({key or label text: key}, {key texts}) of the current choices in the current language: the first
        choice (in order) whose key or label reads so wins, as a scan of the choices would find it."""
        language = translation.get_language()
        cached = self._by_text
        if cached is None or cached[0] is not self._choices or cached[1] != language:
            by_text: dict = {}
            for key, label in self.choices:
                by_text.setdefault(str(key), key)
                by_text.setdefault(str(label), key)
            cached = self._by_text = (self._choices, language, by_text, frozenset(str(k) for k, _l in self.choices))
        return cached[2], cached[3]

    def to_python(self, value):
        value = "" if value is None else str(value).strip()
        if not value:
            return value
        return self._texts()[0].get(value, value)

    def valid_value(self, value):
        return value == "" or str(value) in self._texts()[1]


class YesNoField(forms.Field):
    import_pure = True

    def clean(self, value):
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValidationError(_("Write 是 or 否."), code="invalid")


class ImportDateField(forms.DateField):
    """A date column: a date, text as Django's DateField reads it (2026-09-01, 2026/9/1 …), or a whole number —
    20260901 typed as a number, or an Excel date whose cell lost its date format (days since 1899-12-30, as
    Excel counts them: 46266 is 2026-09-01). Another number is refused with the field's message (Django's
    DateField fails on a number or a yes/no cell instead)."""

    import_pure = True  # see _memoised
    default_error_messages = {"invalid": gettext_lazy("Not a date: write it as 2026-09-01.")}
    EXCEL_EPOCH = datetime.date(1899, 12, 30)
    EXCEL_LAST = 73050  # 2099-12-31

    def to_python(self, value):
        if value is None or isinstance(value, (str, datetime.date)):
            return super().to_python(value)
        if type(value) in (int, float, decimal.Decimal):
            try:
                whole = int(value) if value == int(value) else None
            except (ValueError, OverflowError, decimal.InvalidOperation):  # NaN, infinity
                whole = None
            if whole is not None and 19000101 <= whole <= 20991231:
                try:
                    return datetime.date(whole // 10000, whole // 100 % 100, whole % 100)
                except ValueError:
                    pass
            elif whole is not None and 1 <= whole <= self.EXCEL_LAST:
                return self.EXCEL_EPOCH + datetime.timedelta(days=whole)
        raise ValidationError(self.error_messages["invalid"], code="invalid")  # a number of no date, a yes/no …


class ImportForm(forms.Form):
    entity: Entity | None = None


def _field_for(entity: Entity, name: str) -> forms.Field:
    f = entity.field(name)
    label = entity.header(name)
    if f.many_to_many:
        key = entity.natural_keys.get(name, "name")
        return ManyNaturalKeyField(model=f.related_model, key=key, required=not f.blank, label=label)
    if f.is_relation:
        key = entity.natural_keys.get(name, "code")
        return NaturalKeyField(model=f.related_model, key=key, required=not f.null and not f.blank, label=label)
    if isinstance(f, models.BooleanField):
        return YesNoField(required=False, label=label)
    if f.choices:
        required = not f.blank and not f.has_default()
        return LabelChoiceField(choices=list(f.choices), required=required, label=label)
    field = f.formfield()
    if field is None:
        field = forms.CharField(label=label)
    if type(field) is forms.DateField:
        field = ImportDateField(required=field.required)
    field.label = label
    if f.has_default() and not isinstance(f, models.BooleanField):
        field.required = False
    if isinstance(field, forms.CharField):
        field.strip = True
    return field


def build_import_form(entity: Entity):
    attrs = {name: _field_for(entity, name) for name in entity.import_fields}
    attrs["entity"] = entity
    form = type(f"{entity.model.__name__}ImportForm", (ImportForm,), attrs)
    return form


# Template ------------------------------------------------------------------------------------------


def excel_kind(entity: Entity, name: str) -> str:
    kind = entity.column(name).kind
    return kind if kind in ("int", "decimal", "date", "datetime", "bool") else "text"


def template_columns(entity: Entity) -> list:
    form = entity.import_form_class()
    columns = []
    for name in entity.import_fields:
        field = form.fields[name]
        choices = ()
        if isinstance(field, LabelChoiceField):
            choices = tuple(str(label) for key, label in field.choices if key != "")
        elif isinstance(field, YesNoField):
            choices = (_("Yes"), _("No"))
        kind = excel_kind(entity, name)
        columns.append(_excel().Column(key=name, header=str(entity.header(name)), kind="text" if kind == "bool" else kind,
                                    choices=choices, required=field.required))
    return columns


def write_template(entity: Entity, target) -> None:
    example = [entity.example_row.get(name) for name in entity.import_fields] if entity.example_row else None
    notes = [
        _("Fill one row per record below the header; the grey example row may be overwritten or deleted."),
        _("Columns marked 必填 are required. Related records are named by their code or number, as in the lists."),
        _("Dates are written as 2026-09-01. Yes/no columns take 是 or 否."),
    ]
    if entity.import_key:
        notes.append(
            _("A row whose %(key)s already exists updates that record; other rows create new records.")
            % {"key": entity.header(entity.import_key)}
        )
    _excel().write_template(target, columns=template_columns(entity), example=example,
                         sheet_title=entity.verbose_name_plural, notes=notes)


# Validation ----------------------------------------------------------------------------------------


def _lookups(entity: Entity, form, school) -> None:
    """Preload natural-key maps once per import (not one query per row)."""
    for field in form.fields.values():
        if isinstance(field, NaturalKeyField):
            qs = field.model._default_manager.all()
            if school is not None and any(f.name == "school" for f in field.model._meta.concrete_fields):
                qs = qs.filter(school=school)
            field.lookup = {str(getattr(o, field.key)): o for o in qs}


def _message(errors) -> str:
    return " ".join(str(m) for m in errors)


def validate(entity: Entity, source, *, actor, school) -> tuple[ImportResult, list, list]:
    """Return (result, new objects, changed (obj, before) pairs). Nothing is written."""
    result = ImportResult()
    headers = {str(entity.header(n)): n for n in entity.import_fields}
    by_name = {n.lower(): n for n in entity.import_fields}
    try:
        sheet = _excel().read_sheet(source, expected_headers=list(headers), max_rows=MAX_IMPORT_ROWS)
    except _excel().ExcelReadError as exc:
        result.problems.append(ImportProblem(0, "", str(exc)))
        return result, [], []
    positions: dict[str, int] = {}
    for i, header in enumerate(sheet.headers):
        name = headers.get(header) or by_name.get(str(header).lower())
        if name and name not in positions:
            positions[name] = i
        elif header:
            result.notes.append(_("Column “%(header)s” is not imported.") % {"header": header})
    form = entity.import_form_class()
    missing = [entity.header(n) for n, f in form.fields.items() if f.required and n not in positions]
    if entity.import_key and entity.import_key not in positions:
        missing.append(entity.header(entity.import_key))
    if missing:
        result.problems.append(ImportProblem(0, "", _("Missing columns: %(names)s.") % {"names": "、".join(dict.fromkeys(missing))}))
        return result, [], []
    if not sheet.rows:
        result.problems.append(ImportProblem(0, "", _("The sheet has no data rows.")))
        return result, [], []

    existing: dict[str, models.Model] = {}
    key = entity.import_key
    if key:
        keys = [str(_cell(values, positions[key]) or "").strip() for _row, values in sheet.rows]
        qs = entity.base_queryset()
        if school is not None and entity.field("school") is not None:
            qs = qs.filter(school=school)
        wanted = [k for k in keys if k]
        if len(wanted) > KEY_SCAN_FROM:
            # A large file (a cut-over: mostly new rows): the keys the school has, in one query, then only the
            # records the file names — not 200 IN queries of 500 keys finding nothing (0.6 s at 100k rows).
            named = set(wanted)
            wanted = [k for k in map(str, qs.order_by().values_list(key, flat=True).iterator(chunk_size=5000))
                      if k in named]
        school_field = entity.field("school") if school is not None else None
        qs = _without_related_from_file(qs, positions)
        for i in range(0, len(wanted), 500):
            for obj in qs.filter(**{f"{key}__in": wanted[i:i + 500]}):
                if school_field is not None and school_field.many_to_one and obj.school_id == school.pk:
                    # The importing school, as a new row gets it (new_object): not one query per row for it.
                    set_related(obj, school_field, school)
                existing[str(getattr(obj, key))] = obj

    new, changed, seen = [], [], {}
    related = [n for n in positions if entity.field(n).is_relation and not entity.field(n).many_to_many]
    if school is not None and entity.field("school") is not None:
        related.append("school")  # the importing user's own school, set by new_object
    form = entity.import_form_class(data={})
    _lookups(entity, form, school)
    m2m_names = {n for n in entity.import_fields if entity.field(n).many_to_many}
    fast_fields = _plain_fields(form)
    if fast_fields is None:
        _fast_clean_fields(form)
    model_clean = _model_cleaner(entity.model, [*entity.import_clean_exclude, *related], form)
    values_of_row, snapshot_of = snapshot_reader(entity.model)
    amounts = [(i, attname) for i, attname in enumerate(snapshot_attnames(entity.model))
               if isinstance(entity.model._meta.get_field(attname), models.DecimalField)]
    placed = list(positions.items())
    unchanged_preview: list[dict] = []
    for row_no, values in sheet.rows:
        width = len(values)
        data = {}
        for name, pos in placed:
            value = values[pos] if pos < width else None
            # Text and blanks (most cells) as they are; anything else as _normalise makes it.
            data[name] = value if value is None or type(value) is str else _normalise(value)
        if fast_fields is not None:
            cleaned, row_errors = _clean_row(fast_fields, data)
        else:
            row_form = _rebind(form, data)
            row_errors = None if row_form.is_valid() else row_form.errors
            cleaned = row_form.cleaned_data
        if row_errors:
            for name, errors in row_errors.items():
                column = str(entity.header(name)) if name != NON_FIELD_ERRORS else ""
                result.problems.append(ImportProblem(row_no, column, _message(errors)))
            continue
        if key:
            key_value = str(cleaned.get(key) or "").strip()
            if key_value in seen:
                result.problems.append(ImportProblem(
                    row_no, entity.header(key),
                    _("Same %(key)s as row %(row)s.") % {"key": entity.header(key), "row": seen[key_value]},
                ))
                continue
            seen[key_value] = row_no
        plain = {n: v for n, v in cleaned.items() if n not in m2m_names}
        m2m = {n: v for n, v in cleaned.items() if n in m2m_names}
        obj = existing.get(str(cleaned.get(key) or "").strip()) if key else None
        before = stored = None
        if obj is not None:
            stored = values_of_row(obj)  # the snapshot only if the row changes (snapshot_of)
            obj.__dict__[STORED] = stored  # for import_prepare (stored_values)
            for name, value in plain.items():
                setattr(obj, name, value)
        else:
            obj = entity.new_object(school=school, data=plain)
        obj._import_m2m = m2m
        obj._import_row = row_no
        try:
            entity.import_prepare(obj, actor=actor)
            # Related records were resolved from the preloaded natural keys: no exists() query per row.
            model_clean(obj, cleaned)
        except ValidationError as exc:
            for name, errors in _error_items(exc):
                column = str(entity.header(name)) if name != NON_FIELD_ERRORS and entity.field(name) else ""
                result.problems.append(ImportProblem(row_no, column, _message(errors)))
            continue
        same = False
        if stored is not None:
            # Every value as it was (a number the same however written: 4850 is the stored 4850.00), else the
            # snapshots say whether it changed (_same_values).
            same = not m2m and values_of_row(obj) == stored
            if not same:
                before = snapshot_of(stored)
                # An amount the file writes otherwise (4850 for the stored 4850.00) keeps the stored value: it is
                # no change, and the history must not show one.
                for at, attname in amounts:
                    old, value = stored[at], obj.__dict__.get(attname)
                    if old is not None and value is not None and old == value and str(old) != str(value):
                        obj.__dict__[attname] = old
                same = not m2m and _same_values(entity, before, serialize_for_audit(obj))
        if stored is None:
            new.append(obj)
        elif same:
            # A re-imported row that changes nothing (most rows of a corrected ledger uploaded again): no update,
            # no audit entry, no journal row — counted, so the check and the result say so.
            result.unchanged += 1
        else:
            changed.append((obj, before))
        # The preview shows the rows that will change first (a corrected ledger: the corrections, not its first
        # twenty rows), then rows left as they are.
        shown = unchanged_preview if same else result.preview
        if len(shown) < PREVIEW_ROWS:
            shown.append({
                "row": row_no, "new": stored is None, "unchanged": same,
                "values": [entity.display(obj, n) if not entity.field(n).many_to_many
                           else "、".join(str(o) for o in m2m.get(n, [])) for n in entity.import_fields],
            })
    result.preview += unchanged_preview[:PREVIEW_ROWS - len(result.preview)]
    result.created, result.updated = len(new), len(changed)
    return result, new, changed


STORED = "_import_stored"  # on a re-imported row's object: its values before the file's (``audit.snapshot_reader``)


def stored_values(obj) -> dict | None:
    """A re-imported row's values as they are stored, by attname (``room_id``), as they were before the file's
    values were set on it — for an entity's ``import_prepare`` (a blank cell keeping the stored value): no second
    reading of the rows. None for a new row, or an object ``validate`` did not match."""
    found = obj.__dict__.get(STORED)
    if found is None:
        return None
    return dict(zip(snapshot_attnames(type(obj)), found, strict=True))


def _without_related_from_file(qs, positions) -> models.QuerySet:
    """``qs`` not loading with each row the related records the file's columns name: every matched row gets them
    from the file (100,000 cards uploaded again: 500,000 related records and their 1.2 million datetimes were
    loaded to be replaced)."""
    followed = qs.query.select_related
    if not isinstance(followed, dict) or not any(name in positions for name in followed):
        return qs
    kept = {name: nested for name, nested in followed.items() if name not in positions}
    qs = qs.select_related(None)
    qs.query.select_related = kept or False
    return qs


def _same_values(entity: Entity, before: dict, after: dict) -> bool:
    """Whether two audit snapshots of a record hold the same values: an amount the same number however it is
    written (the file's 4850 is the stored 4850.00)."""
    if before == after:
        return True
    for name in diff(before, after):
        a, b = before.get(name), after.get(name)
        if not isinstance(entity.field(name), models.DecimalField) or a is None or b is None:
            return False
        try:
            if decimal.Decimal(a) != decimal.Decimal(b):
                return False
        except decimal.InvalidOperation:
            return False
    return True


_SIMPLE_WIDGETS = (forms.TextInput, forms.NumberInput, forms.DateInput, forms.DateTimeInput, forms.Select,
                   forms.Textarea, forms.EmailInput, forms.URLInput)


def _reads_data_plainly(form) -> bool:
    """Whether every field of ``form`` is cleaned by ``Form._clean_fields`` as ``field.clean(data.get(name))``
    (then ``clean_<name>``): no prefix, no disabled or file fields, widgets that read ``data[name]``."""
    cls = type(form)
    if (form.prefix or cls._clean_fields is not forms.Form._clean_fields
            or cls._bound_items is not forms.Form._bound_items
            or cls._widget_data_value is not forms.Form._widget_data_value):
        return False
    return all(not field.disabled and not isinstance(field, forms.FileField) and not field.show_hidden_initial
               and type(field.widget) in _SIMPLE_WIDGETS
               and type(field)._clean_bound_field is forms.Field._clean_bound_field
               for field in form.fields.values())


def _plain_fields(form) -> list | None:
    """``[(name, clean)]``: the fields of an import form that Form.full_clean would only run ``field.clean``
    on, in order (no ``clean_<name>`` or ``clean`` override; see ``_reads_data_plainly``), each with its
    ``clean`` memoised where that is safe (``_memoised``). None: use the form itself (an entity's own import
    form may do more)."""
    cls = type(form)
    if (cls.clean is not forms.Form.clean or cls._post_clean is not forms.Form._post_clean
            or cls.full_clean is not forms.Form.full_clean or form.empty_permitted or not _reads_data_plainly(form)
            or any(hasattr(form, f"clean_{name}") for name in form.fields)):
        return None
    return [(name, _memoised(field)) for name, field in form.fields.items()]


def _clean_row(fields: list, data: dict) -> tuple[dict, dict]:
    """(cleaned data, {field: messages}) as the form's ``is_valid`` would give them for ``data``."""
    cleaned, errors = {}, {}
    for name, clean in fields:
        try:
            cleaned[name] = clean(data.get(name))
        except ValidationError as exc:
            errors[name] = exc.messages
    return cleaned, errors


def _fast_clean_fields(form) -> None:
    """Give ``form`` (reused for every row, ``_rebind``) a ``_clean_fields`` doing what ``Form._clean_fields``
    does — ``field.clean(data[name])``, then the form's ``clean_<name>``, errors through ``add_error`` —
    without building a BoundField per field and row, and with each field's ``clean`` memoised where that is
    safe. The form's ``full_clean``, ``clean`` and ``_post_clean`` run as they are. Nothing changes for a
    form that reads its data another way."""
    if not _reads_data_plainly(form):
        return
    items = [(name, _memoised(field), getattr(form, f"clean_{name}", None) if hasattr(form, f"clean_{name}")
              else None) for name, field in form.fields.items()]

    def _clean_fields():
        data, cleaned = form.data, form.cleaned_data
        for name, clean, clean_name in items:
            try:
                cleaned[name] = clean(data.get(name))
                if clean_name is not None:
                    cleaned[name] = clean_name()
            except ValidationError as e:
                form.add_error(name, e)

    form._clean_fields = _clean_fields


# Memoised cleaning -------------------------------------------------------------------------------------------
# A column repeats its values (the unit, the category, the room, the dates …): a field whose clean depends
# on the value alone gives the same answer for the same value, so each answer is worked out once per
# import. Only values and answers that cannot change are kept (text, numbers, dates, None, the related
# record the import's lookup holds); an error is not kept (the field is asked again, and says the same).
# Validators count as functions of the value (Django's and Houqin's own are; none asks the database).

MEMO_LIMIT = 20_000  # answers kept per field and import
_PURE_FORM_FIELDS = frozenset({forms.CharField, forms.IntegerField, forms.DecimalField, forms.FloatField,
                               forms.DateField, forms.ChoiceField, forms.EmailField, forms.SlugField,
                               forms.URLField, forms.BooleanField, forms.NullBooleanField})
_PURE_MODEL_FIELDS = frozenset({models.CharField, models.TextField, models.SlugField, models.EmailField,
                                models.URLField, models.IntegerField, models.BigIntegerField,
                                models.SmallIntegerField, models.PositiveIntegerField,
                                models.PositiveSmallIntegerField, models.PositiveBigIntegerField,
                                models.DecimalField, models.FloatField, models.DateField, models.BooleanField})
_KEY_TYPES = frozenset({str, int, bool, float, type(None), datetime.date})
_KEPT_TYPES = _KEY_TYPES | {decimal.Decimal}
_UNKNOWN = object()


def _fast_clean(field):
    """``field.clean`` for a plain field of Django's own — a text field (form ``CharField``, model ``CharField`` or
    ``TextField``) or a ``DecimalField`` — with no validators but its own limits (length; digits and places;
    the form's null-character check) and no choices: a value that passes those checks is answered at once with
    what Django's clean returns for it (the text, stripped as the form strips it; the Decimal); anything else
    (blank, too long, too many digits, another type) goes to Django's clean, which gives the answer or the
    error. A column of 100,000 distinct codes, names or amounts is cleaned twice per import (the form, the
    model): Django's layers cost 1-5 µs a value. None: not such a field."""
    clean = field.clean
    if isinstance(field, forms.Field):
        if type(field) is forms.CharField and _only_validators(field, {
                validators.ProhibitNullCharactersValidator: None, validators.MaxLengthValidator: field.max_length,
                validators.MinLengthValidator: field.min_length}):
            strip, longest, shortest = field.strip, field.max_length, field.min_length

            def form_text(value):
                if type(value) is str:
                    text = value.strip() if strip else value
                    if (text and "\x00" not in text and (longest is None or len(text) <= longest)
                            and (shortest is None or len(text) >= shortest)):
                        return text
                return clean(value)

            return form_text
        if type(field) is forms.DecimalField and not field.localize and _only_validators(field, {
                validators.DecimalValidator: (field.max_digits, field.decimal_places)}):
            digits, places = field.max_digits, field.decimal_places

            def form_decimal(value):
                if (type(value) is str and value) or type(value) in (int, decimal.Decimal):
                    try:
                        number = decimal.Decimal(str(value))  # DecimalField.to_python
                    except decimal.DecimalException:
                        return clean(value)
                    if number.is_finite() and _decimal_fits(number, digits, places):
                        return number
                return clean(value)

            return form_decimal
        return None
    if field.choices is not None:
        return None
    if type(field) in (models.CharField, models.TextField) and _only_validators(
            field, {validators.MaxLengthValidator: field.max_length}):
        longest = field.max_length

        def model_text(value, instance):
            if type(value) is str and value and (longest is None or len(value) <= longest):
                return value
            return clean(value, instance)

        return model_text
    if type(field) is models.DecimalField and _only_validators(
            field, {validators.DecimalValidator: (field.max_digits, field.decimal_places)}):
        digits, places = field.max_digits, field.decimal_places

        def model_decimal(value, instance):
            if type(value) is decimal.Decimal:
                number = decimal.Decimal(value)  # DecimalField.to_python
                if number.is_finite() and _decimal_fits(number, digits, places):
                    return number
            return clean(value, instance)

        return model_decimal
    return None


def _only_validators(field, allowed: dict) -> bool:
    """Whether each of ``field``'s validators is of a type in ``allowed`` with the limits given there (None: any)."""
    for v in field.validators:
        kind = type(v)
        if kind not in allowed:
            return False
        limit = allowed[kind]
        found = (v.max_digits, v.decimal_places) if kind is validators.DecimalValidator else getattr(v, "limit_value", None)
        if found != limit:
            return False
    return True


def _decimal_fits(number: decimal.Decimal, max_digits, decimal_places) -> bool:
    """Whether ``DecimalValidator(max_digits, decimal_places)`` accepts the finite ``number`` (its arithmetic)."""
    _sign, digit_tuple, exponent = number.as_tuple()
    if exponent >= 0:
        digits = len(digit_tuple) + (exponent if digit_tuple != (0,) else 0)
        decimals = 0
    elif -exponent > len(digit_tuple):
        digits = decimals = -exponent
    else:
        digits, decimals = len(digit_tuple), -exponent
    return not ((max_digits is not None and digits > max_digits)
                or (decimal_places is not None and decimals > decimal_places)
                or (max_digits is not None and decimal_places is not None
                    and digits - decimals > max_digits - decimal_places))


def _memoised(field):
    """``field.clean``, answering a value it has cleaned before in this import from memory: for a form field
    of Django's own kinds, or one that says ``import_pure = True`` (its clean depends on the value and on
    state fixed for the import only); for a model field of Django's own plain kinds (``clean(value,
    instance)`` does not look at the instance). Anything else is asked every time."""
    kind = type(field)
    if isinstance(field, forms.Field):
        pure = kind in _PURE_FORM_FIELDS or getattr(kind, "import_pure", False)
    else:
        pure = kind in _PURE_MODEL_FIELDS
    if not pure:
        return field.clean
    clean = _fast_clean(field) or field.clean
    # One cache per type of value: 1, 1.0 and True are equal keys in one dict but not the same value.
    caches = {kind: {} for kind in _KEY_TYPES}
    decimals: dict = {}
    kept = _KEPT_TYPES
    size = [0]

    def remember(cache, key, result):
        if size[0] < MEMO_LIMIT and (type(result) in kept or isinstance(result, models.Model)):
            cache[key] = result
            size[0] += 1
        return result

    if isinstance(field, forms.Field):
        def memo(value):
            kind = type(value)
            cache = caches.get(kind)
            if cache is None:
                if kind is not decimal.Decimal:
                    return clean(value)
                cache, value_key = decimals, str(value)  # 1.0 and 1.00 are equal but not the same text
            else:
                value_key = value
            found = cache.get(value_key, _UNKNOWN)  # not try/except: a full memo misses often (a raise costs ~1 µs)
            return remember(cache, value_key, clean(value)) if found is _UNKNOWN else found
    else:
        def memo(value, instance):
            kind = type(value)
            cache = caches.get(kind)
            if cache is None:
                if kind is not decimal.Decimal:
                    return clean(value, instance)
                cache, value_key = decimals, str(value)
            else:
                value_key = value
            found = cache.get(value_key, _UNKNOWN)
            return remember(cache, value_key, clean(value, instance)) if found is _UNKNOWN else found

    return memo


def _model_cleaner(model, exclude, form=None):
    """A function ``full_clean(obj, cleaned=None)`` doing to an instance of ``model`` what ``obj.full_clean(
    exclude=exclude, validate_unique=False, validate_constraints=False)`` does — ``clean_fields`` (with each plain
    field's ``clean`` memoised, ``_memoised``), then ``clean()``, every error collected — unless the model
    overrides either. Given the import ``form`` and a row's ``cleaned`` data, a field the form has already checked
    as the model would (``_form_checked``) is not checked again while it still holds the very value the form
    gave (half the fields of a card: 1.7 s of a 100,000-card import)."""
    if model.full_clean is not models.Model.full_clean or model.clean_fields is not models.Model.clean_fields:
        return lambda obj, cleaned=None: obj.full_clean(exclude=exclude, validate_unique=False,
                                                        validate_constraints=False)
    exclude = set(exclude)
    checked = _form_checked(model, form, exclude) if form is not None else {}
    every = [(f.name, f.attname, f.blank, f.empty_values, _memoised(f))
             for f in model._meta.fields if f.name not in exclude and not f.generated]
    fields = [f for f in every if f[0] not in checked]
    skipped = [f for f in every if f[0] in checked]
    # One C-level pass per row: are all the form-checked values on the record still the form's own?
    on_record = attrgetter(*[attname for _n, attname, *_rest in skipped]) if skipped else None
    in_form = itemgetter(*[name for name, *_rest in skipped]) if skipped else None
    several = len(skipped) > 1

    def full_clean(obj, cleaned=None):
        errors: dict = {}
        field_errors = {}
        todo = fields
        if on_record is not None:
            if cleaned is None:
                todo = every
            else:
                now, given = on_record(obj), in_form(cleaned)
                if not several:
                    now, given = (now,), (given,)
                if not all(map(is_, now, given)):
                    same = {f[0] for f, a, b in zip(skipped, now, given, strict=True) if a is b}
                    todo = [f for f in every if f[0] not in same]  # in the model's order, as Django checks
        for name, attname, blank, empty_values, clean in todo:
            raw_value = getattr(obj, attname)
            if blank and raw_value in empty_values:
                continue
            if isinstance(raw_value, DatabaseDefault):
                continue
            try:
                setattr(obj, attname, clean(raw_value, obj))
            except ValidationError as e:
                field_errors[name] = e.error_list
        if field_errors:
            errors = ValidationError(field_errors).update_error_dict(errors)
        try:
            obj.clean()
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    return full_clean


# Form fields whose clean gives a value of one type (or an empty value) that the model field's own ``to_python``
# returns as it is or as an equal value of the same type (Decimal(Decimal) keeps the exponent).
_FORM_GIVES = {forms.CharField: (models.CharField, models.TextField), forms.DecimalField: (models.DecimalField,),
               forms.IntegerField: _INT, ImportDateField: (models.DateField,)}


def _form_checked(model, form, exclude) -> set:
    """The names of ``model``'s fields whose ``clean`` cannot refuse or change a value the import ``form`` has
    cleaned: a plain field of Django's own (``_PURE_MODEL_FIELDS``: ``clean`` is ``to_python``, the field's
    validators, then blank/null/choices) without choices, cleaned by a form field of the kind its type gives
    (``_FORM_GIVES``) that runs every one of the model field's validators (equal validators: same type and
    limits), and that refuses an empty value unless the model allows one (required, or the model field is
    blank). The form field's own ``clean_<name>`` would change the value: such fields are checked again."""
    found = set()
    for f in model._meta.fields:
        field = form.fields.get(f.name)
        if (field is None or f.name in exclude or f.generated or f.choices is not None or f.is_relation
                or type(f) not in _PURE_MODEL_FIELDS or type(f) not in _FORM_GIVES.get(type(field), ())
                or hasattr(form, f"clean_{f.name}") or not (field.required or f.blank)
                or not all(v in field.validators for v in f.validators)):
            continue
        found.add(f.name)
    return found


def _rebind(form, data):
    """Reuse one bound form for every row: building a form deep-copies its fields (15% of a 100k import)."""
    form.data = data
    form.is_bound = True
    form._errors = None
    form.cleaned_data = {}
    return form


def _cell(values, pos):
    return values[pos] if pos < len(values) else None


def _normalise(value):
    if isinstance(value, float):
        return decimal.Decimal(str(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date()
    return value


def _error_items(exc: ValidationError):
    if hasattr(exc, "error_dict"):
        return [(name, [m for e in errs for m in e.messages]) for name, errs in exc.error_dict.items()]
    return [(NON_FIELD_ERRORS, exc.messages)]


# Writing -------------------------------------------------------------------------------------------


def default_write(entity: Entity, *, new: list, changed: list, actor) -> None:
    """Bulk inserts and updates plus one audit entry per row, inside the caller's transaction."""
    model = entity.model
    now = timezone.now()
    if new:
        bulk_insert(model, new)
    if changed:
        names = [n for n in entity.import_fields if not entity.field(n).many_to_many]
        names += [f.name for f in model._meta.concrete_fields
                  if getattr(f, "auto_now", False) or f.name in entity.import_derived_fields()]
        for obj, _before in changed:
            for f in model._meta.concrete_fields:
                if getattr(f, "auto_now", False):
                    setattr(obj, f.attname, now)
        bulk_update(model, [o for o, _b in changed], sorted(set(names)))
    _write_m2m(model, new + [o for o, _b in changed])
    entries = [(o, AuditEntry.Action.IMPORT, None, SNAPSHOT) for o in new]  # prepared by prepare_write
    entries += [(o, AuditEntry.Action.IMPORT, before, serialize_for_audit(o)) for o, before in changed]
    audit_bulk(entries, actor=actor, message=_("Excel import"))


def _write_m2m(model, objs) -> None:
    for f in model._meta.many_to_many:
        through = getattr(model, f.name).through
        src = f"{model._meta.model_name}_id"
        dst = f"{f.related_model._meta.model_name}_id"
        touched = [o for o in objs if f.name in getattr(o, "_import_m2m", {})]
        if not touched:
            continue
        through.objects.filter(**{f"{src}__in": [o.pk for o in touched]}).delete()
        through.objects.bulk_create(
            [through(**{src: o.pk, dst: r.pk}) for o in touched for r in o._import_m2m[f.name]], batch_size=500
        )


ANALYZE_AFTER_ROWS = 1000


def analyze_after_import(model) -> None:
    """SQLite: refresh the table's planner statistics after a large import (its own short write,
    after the import's transaction), so searches keep starting from the most selective index."""
    from django.db import connections, router

    connection = connections[router.db_for_write(model)]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def prepare_write(entity: Entity, *, new: list, changed: list) -> None:
    """What the write can have worked out before its transaction opens (the lock is held for that only): the
    values the new rows are inserted with and the values the search-index triggers give them (``bulk.prepare_insert``) and the new rows'
    audit snapshots (``audit.prepare_snapshots``: used by an ``import_write`` that audits them as
    ``audit.SNAPSHOT``, and only where a row is unchanged since)."""
    prepare_insert(entity.model, new)
    prepare_snapshots(new)


@contextmanager
def cyclic_gc_paused():
    """Python's cycle collector off for the block (an import), as it was after. An import keeps every row's
    record alive until it is written: each full collection walks all of them, and one ran every time they
    grew by a quarter — 11 collections, 2.2 s of a 100,000-student import (0.4 s of them in the write, while
    the database is locked). Nearly everything an import makes is freed by reference counting; the few
    cycles it makes are collected after the block, as usual."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


@contextmanager
def checkpoint_after(model, timings: dict | None = None):
    """SQLite in WAL mode: no automatic checkpoint at the commit of the block's transaction; one right after it
    instead (``PRAGMA wal_checkpoint(PASSIVE)``, timed as ``checkpoint``). The automatic one copies the WAL
    into the database file inside the commit call — after the write lock is released, so nobody waits for
    it, but 0.6 s of a 100,000-row import was counted as the write. Run explicitly, the time the lock is held
    is the transaction's own, and a large import's WAL is folded back at once. Elsewhere, or inside an outer
    transaction, nothing changes."""
    from django.db import connections, router

    connection = connections[router.db_for_write(model)]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (pages,) = cursor.fetchone()
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
            with _timed(timings, "checkpoint"):
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


@contextmanager
def _timed(timings: dict | None, phase: str):
    if timings is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = time.perf_counter() - start


def run_import(entity: Entity, source, *, actor, school, commit: bool, timings: dict | None = None) -> ImportResult:
    """Validate, and when ``commit`` and nothing is wrong, write every row in one transaction. ``timings``
    (bench/): each phase's seconds as it ends — ``validate`` (the sheet read too), ``prepare`` (before the
    lock), ``index`` (the new rows' search-index entries, in a short transaction of their own before the write's:
    ``bulk.index_ahead``), ``write`` (the transaction: the write lock is held from its BEGIN IMMEDIATE to its COMMIT),
    ``checkpoint`` and ``analyze`` (after it)."""
    with cyclic_gc_paused():
        return _run_import(entity, source, actor=actor, school=school, commit=commit, timings=timings)


def _run_import(entity: Entity, source, *, actor, school, commit: bool, timings: dict | None) -> ImportResult:
    with _timed(timings, "validate"):
        result, new, changed = validate(entity, source, actor=actor, school=school)
    if not commit or not result.ok:
        return result
    # TEMP tables staging rows (bulk.prepare_insert, bulk._insert_many) go at the end, after the lock.
    with stages_dropped_after(router.db_for_write(entity.model)):
        return _write_import(entity, new=new, changed=changed, actor=actor, school=school, result=result,
                             timings=timings)


def _write_import(entity: Entity, *, new: list, changed: list, actor, school, result: ImportResult,
                  timings: dict | None) -> ImportResult:
    with _timed(timings, "prepare"):
        prepare_write(entity, new=new, changed=changed)
    try:
        with checkpoint_after(entity.model, timings):
            # The new rows' search-index entries, in a transaction of their own before the write's
            # (bulk.index_ahead); its commit too leaves the WAL to the one checkpoint after the write.
            with _timed(timings, "index"):
                index_ahead(entity.model, new)
            with _timed(timings, "write"), transaction.atomic():
                entity.import_write(new=new, changed=changed, actor=actor, school=school, result=result)
        with _timed(timings, "analyze"):
            if len(new) >= ANALYZE_AFTER_ROWS:
                for model in (entity.model, *entity.import_also_writes):
                    analyze_after_import(model)
    except IntegrityError:
        result.problems.append(ImportProblem(
            0, "", _("Some rows conflict with records already in the system (a number or code that must be "
                     "unique is used twice). Nothing was imported."),
        ))
    except ValidationError as exc:
        for name, errors in _error_items(exc):
            result.problems.append(ImportProblem(0, entity.header(name) if name != NON_FIELD_ERRORS else "",
                                                 _message(errors)))
    finally:
        release_ahead(new)  # the entries made ahead go again unless the rows came under their keys
    return result
