"""Declare an entity once (architecture §4.4): list, detail, form, void, import, export, print, API.

An app writes one ``Entity`` subclass per model in ``<app>/entities.py`` and decorates it with
``@register``. From it the registry builds real, named classes that can be reached in a shell
(``registry[Student].form_class``) and replaced one by one by setting the attribute on the entity:

- ``<Model>FilterSet`` (django-filter), shared by the list page, export, print and the API;
- ``<Model>Form`` (create/edit) and ``<Model>ImportForm`` (one Excel row, natural keys);
- ``<Model>Serializer`` and ``<Model>ViewSet`` (``/api/<app>/<path>/``);
- the views ``<Model>ListView`` … ``<Model>HistoryView`` and their URLs ``<app>:<model>_list`` …;
- the menu entry and the permissions (``<app>.view_<model>`` …, ``void_<model>`` for ledgers).

Writes go only through the entity's ``create``/``update``/``void``/``delete`` methods, whose
defaults are the ``core.crud`` services; an entity overrides one to call its app's service.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django import forms
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from . import crud
from .permissions import perm_name, scope

VOID = "void"
DELETE = "delete"


# Declarations -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Menu:
    group: str  # menu group key, e.g. "org"
    label: Any
    order: int = 100
    module: str | None = None  # hidden when the school switched this module off


@dataclass(frozen=True)
class Fields:
    """A panel of fields on the detail page."""

    names: tuple[str, ...]
    title: Any = ""

    def __init__(self, *names: str, title: Any = "") -> None:
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "title", title)


@dataclass(frozen=True)
class Related:
    """A panel listing related records (reverse relation ``accessor``) with their own entity's columns."""

    accessor: str
    title: Any = ""
    columns: tuple[str, ...] = ()
    limit: int = 50


@dataclass(frozen=True)
class Column:
    """One column of a list: header, how to sort it, whether numbers align right (shared: ``Entity.column``)."""

    name: str
    header: str
    sort: str | None  # order_by expression, or None when not sortable
    kind: str = "text"  # text | int | decimal | date | datetime | bool | choice | fk
    align: str = "left"


@dataclass
class ImportProblem:
    row: int  # spreadsheet row number as the user sees it (0: the whole file)
    column: str  # header, or "" for the whole row
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # rows naming a record that already holds every value they give: nothing written
    problems: list[ImportProblem] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # imported staff: username, name, password

    @property
    def ok(self) -> bool:
        return not self.problems


def _paths(prefix: str, tree: dict) -> list[str]:
    """``select_related`` paths of a ``query.select_related`` subtree: {"term": {}} → ["c__term"]."""
    if not tree:
        return [prefix]
    return [p for name, sub in tree.items() for p in _paths(f"{prefix}__{name}", sub)]


def _plain_field(model, name: str) -> bool:
    """Whether ``name`` is a concrete, non-relation field of ``model`` (what ``only()`` can load)."""
    try:
        f = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a property or a method
        return False
    return f.concrete and not f.is_relation and f.name == name


def str_fields(model) -> tuple[str, ...] | None:
    """The fields ``model.__str__`` reads, when the model names them (``str_fields``) and each is a plain
    column ``only()`` can load; None otherwise (load the whole record to print it)."""
    names = getattr(model, "str_fields", None)
    if names and all(_plain_field(model, n) for n in names):
        return tuple(names)
    return None


class Entity:
    """The declaration. Class attributes are the configuration; methods are the hooks."""

    model: ClassVar[type[models.Model]]
    menu: ClassVar[Menu | None] = None
    path: ClassVar[str | None] = None  # URL segment; default "<model_name>s"
    list_columns: ClassVar[tuple[str, ...]] = ()
    extra_columns: ClassVar[tuple[str, ...]] = ()  # offered in the column chooser, hidden by default
    search_fields: ClassVar[tuple[str, ...]] = ()  # icontains; "search_keys" matches pinyin keys
    import_also_writes: ClassVar[tuple] = ()  # other models an import fills (their statistics refreshed too)
    search_index: ClassVar[str | None] = None  # SQLite FTS5 trigram table of the search fields (core.search_index)
    filter_fields: ClassVar[tuple[str, ...]] = ()
    form_fields: ClassVar[tuple[str, ...]] = ()
    import_fields: ClassVar[tuple[str, ...]] = ()
    import_key: ClassVar[str | None] = None  # business key: a re-import updates the row with this key
    natural_keys: ClassVar[dict[str, str]] = {}  # fk field -> related field used in Excel
    api_fields: ClassVar[tuple[str, ...] | None] = None  # default: form_fields + read-only columns
    detail_panels: ClassVar[tuple] = ()
    deletion: ClassVar[str | None] = None  # VOID for ledgers, DELETE where allowed, None: neither
    select_related: ClassVar[tuple[str, ...]] = ()
    # An entity whose value/display/link/badge reads more of a row than its columns names what, per
    # column ({column: (field, ...)}): its list pages then load only that (``list_queryset``), and a value it
    # computes per user from the record's own fields is written into API pages from the database's values
    # (``api.RawPlan``).
    list_reads: ClassVar[dict[str, tuple[str, ...]] | None] = None
    ordering: ClassVar[tuple[str, ...]] = ()
    title_field: ClassVar[str | None] = None
    status_colors: ClassVar[dict[str, str]] = {}  # status value -> Tabler badge colour
    workflow: ClassVar[Any] = None  # core.workflow.Workflow: buttons, transition URLs, API actions
    status_field: ClassVar[str] = "status"
    can_add: ClassVar[bool] = True
    can_edit: ClassVar[bool] = True
    can_import: ClassVar[bool] = True
    example_row: ClassVar[dict[str, Any]] = {}  # import template example, by field name
    derived_fields: ClassVar[tuple[str, ...]] = ()  # set by import_prepare (e.g. pinyin keys)
    import_clean_exclude: ClassVar[tuple[str, ...]] = ()  # fields the import's write step fills in
    global_search: ClassVar[bool] = False  # offered in the global search box (names, codes, pinyin)
    lookup_public: ClassVar[bool] = False  # names offered in any form of the school (rooms, staff)
    print_landscape: ClassVar[bool | None] = None

    # Built by the registry (or given explicitly to replace the generated class).
    filterset_class: ClassVar[type | None] = None
    form_class: ClassVar[type | None] = None
    import_form_class: ClassVar[type | None] = None
    serializer_class: ClassVar[type | None] = None
    viewset_class: ClassVar[type | None] = None
    views: ClassVar[dict[str, type]] = {}

    # names ----------------------------------------------------------------------------------
    @property
    def meta(self):
        return self.model._meta

    @property
    def app_label(self) -> str:
        return self.meta.app_label

    @property
    def model_name(self) -> str:
        return self.meta.model_name

    @property
    def key(self) -> str:
        return f"{self.app_label}.{self.model_name}"

    @property
    def url_path(self) -> str:
        return self.path or f"{self.model_name}s"

    def url_name(self, action: str) -> str:
        return f"{self.app_label}:{self.model_name}" + ("" if action == "detail" else f"_{action}")

    def page_url(self, action: str) -> str:
        """``reverse(url_name(action))`` of a page without arguments (list, add, import, export, print),
        once per process and script prefix."""
        from django.urls import reverse

        from .caching import cached_reverse

        return cached_reverse(self.url_name(action)) or reverse(self.url_name(action))  # a missing one raises

    def perm(self, action: str) -> str:
        return perm_name(self.model, action)

    @property
    def verbose_name(self) -> str:
        return str(self.meta.verbose_name)

    @property
    def verbose_name_plural(self) -> str:
        return str(self.meta.verbose_name_plural)

    @property
    def is_voidable(self) -> bool:
        return self.deletion == VOID

    # querysets ------------------------------------------------------------------------------
    def base_queryset(self) -> models.QuerySet:
        qs = self.model._default_manager.all()
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        return qs

    def queryset(self, user, action: str = "view") -> models.QuerySet:
        """The one scoping function (role + school + row rule) applied to this entity."""
        return scope(self.base_queryset(), user, action)

    def list_queryset(self, queryset: models.QuerySet, columns) -> models.QuerySet:
        """``queryset`` loading only what the cells of ``columns`` show (architecture §3: a list page
        builds 50 rows with their related records; loading every column of each costs more than the
        SQL). Only when that is known: every column a plain or foreign-key field, and the entity
        computing no value, display, link or badge of its own; otherwise the queryset as it is.

        A related record shown by its ``__str__`` is loaded with the fields its model names in
        ``str_fields`` (all of them when it names none)."""
        cls = type(self)
        if self.list_reads is None and any(getattr(cls, m) is not getattr(Entity, m)
                                           for m in ("value", "display", "link", "badge")):
            return queryset
        reads = self.list_reads or {}
        declared = queryset.query.select_related
        if declared is True:
            return queryset
        declared = declared or {}
        only = {self.meta.pk.name}
        related = []
        for c in columns:
            f = self.field(c.name)
            if f is None or not f.concrete or f.many_to_many:
                return queryset
            if (hasattr(self, f"value_{c.name}") or hasattr(self, f"link_{c.name}")) and c.name not in reads:
                return queryset  # it may read any field: load the whole row
            only.add(f.name)
            only.update(reads.get(c.name, ()))
            if f.is_relation:
                names = str_fields(f.related_model)
                if names:
                    related.append(f.name)
                    only.update(f"{f.name}__{n}" for n in names)
                else:
                    # Its ``__str__`` may read further records: keep what the entity joins below it.
                    related.extend(_paths(f.name, declared.get(f.name) or {}))
        status = self.field(self.status_field)
        if status is not None and status.concrete:
            only.add(status.attname)
        if self.is_voidable:
            only.add("voided_at")
        return queryset.select_related(None).select_related(*related).only(*only)

    def default_ordering(self) -> tuple[str, ...]:
        return tuple(self.ordering or self.meta.ordering or ("pk",))

    # columns and values -----------------------------------------------------------------------
    def field(self, name: str):
        """The model field ``name``, or None for a computed column; kept per entity once the app registry is
        ready (an import asks ~30 times per row)."""
        fields = self.__dict__.get("_fields_by_name")
        if fields is None:
            fields = self.__dict__["_fields_by_name"] = {}
        try:
            return fields[name]
        except KeyError:
            pass
        try:
            found = self.meta.get_field(name)
        except Exception:  # noqa: BLE001 - a computed column
            found = None
        if self.meta.apps.ready:
            fields[name] = found
        return found

    def column(self, name: str) -> Column:
        """The column ``name`` in the current language, made once per entity and language once the app registry
        is ready (a list page asks for each of its ~36 available columns on every request)."""
        return self.columns_of((name,))[0]

    def columns_of(self, names) -> list[Column]:
        """``column`` of each of ``names``, the language looked up once (``get_language`` costs ~2 µs)."""
        made = self.__dict__.get("_columns")
        if made is None:
            made = self.__dict__["_columns"] = {}
        language = get_language()
        out = []
        for name in names:
            found = made.get((name, language))
            if found is None:
                found = self._make_column(name)
                if self.meta.apps.ready:
                    made[(name, language)] = found
            out.append(found)
        return out

    def _make_column(self, name: str) -> Column:
        f = self.field(name)
        header = str(self.header(name))  # in the language the column is kept for (columns_of)
        if f is None:
            return Column(name, header, None)
        if f.is_relation:
            if f.many_to_many or f.one_to_many:
                return Column(name, header, None, "m2m")
            target = f.related_model
            key = self.natural_keys.get(name) or (target._meta.ordering or ["pk"])[0].lstrip("-")
            return Column(name, header, f"{name}__{key}", "fk")
        if f.choices:
            return Column(name, header, name, "choice")
        kind = {
            models.BooleanField: "bool",
            models.DateTimeField: "datetime",
            models.DateField: "date",
            models.DecimalField: "decimal",
            models.IntegerField: "int",
            models.PositiveIntegerField: "int",
            models.PositiveSmallIntegerField: "int",
            models.SmallIntegerField: "int",
            models.BigIntegerField: "int",
        }.get(type(f), "text")
        return Column(name, header, name, kind, "right" if kind in ("int", "decimal") else "left")

    def header(self, name: str) -> str:
        method = getattr(self, f"header_{name}", None)
        if method:
            return str(method())
        f = self.field(name)
        if f is not None and (f.concrete or f.many_to_many):
            return capfirst(f.verbose_name)  # lazy: rendered in the language of each request
        return name

    def value(self, obj, name: str, user=None):
        """The typed value of a column for this user (export writes it as is)."""
        method = getattr(self, f"value_{name}", None)
        if method:
            return method(obj, user)
        f = self.field(name)
        if f is None:
            return getattr(obj, name, None)
        if f.many_to_many:
            return "、".join(str(o) for o in getattr(obj, name).all())
        if f.is_relation:
            related = getattr(obj, name)
            return str(related) if related is not None else None
        if f.choices:
            value = getattr(obj, f.attname)
            return self._choice_labels(name).get(value, value)
        return getattr(obj, f.attname)

    def _choice_labels(self, name: str) -> dict:
        """{value: label} of a choice field, built once (``get_FOO_display`` hashes on every call)."""
        cache = self.__dict__.setdefault("_choice_cache", {})
        if name not in cache:
            cache[name] = dict(self.field(name).flatchoices)
        return cache[name]

    def display(self, obj, name: str, user=None) -> str:
        """The value as text for pages and print (dates in Chinese format, money with two places)."""
        return format_value(self.value(obj, name, user))

    def link(self, obj, name: str) -> str | None:
        """URL the cell links to: what the entity's ``link_<name>(obj)`` gives, else the record itself for
        its title column, related records by entity."""
        method = getattr(self, f"link_{name}", None)
        if method is not None:
            url = method(obj)
            if url:
                return url
        if name == self.title_column():
            return self.detail_url(obj)
        f = self.field(name)
        if f is not None and f.is_relation and f.many_to_one:
            target = registry.get(f.related_model)
            pk = getattr(obj, f.attname)
            if target is not None and pk is not None:
                return target.detail_url_for(pk)
        return None

    def detail_url_for(self, pk) -> str:
        """The detail URL of ``pk`` without a ``reverse()`` per row (lists render hundreds of links)."""
        return self.detail_url_function()(pk)

    def detail_url_function(self):
        """``detail_url_for`` with the script prefix looked up once (for a page's rows)."""
        from django.urls import get_script_prefix, reverse

        key = get_script_prefix()
        cache = self.__dict__.setdefault("_url_cache", {})
        if key not in cache:
            head, tail = reverse(self.url_name("detail"), args=[987654321]).split("987654321")
            cache[key] = lambda pk: f"{head}{pk}{tail}"
        return cache[key]

    def cell_functions(self, name: str, user=None):
        """(display, link) for one list column: functions of the record giving what ``display`` and
        ``link`` give, with the field lookups done once per page instead of once per cell. An entity
        that overrides ``value``, ``display`` or ``link`` gets its own method called."""
        cls = type(self)
        if cls.display is not Entity.display or cls.value is not Entity.value:
            def display(obj):
                return self.display(obj, name, user)
        else:
            display = self._display_function(name, user)
        own = getattr(self, f"link_{name}", None)
        if cls.link is not Entity.link:
            def link(obj):
                return self.link(obj, name)
            own = None  # the override calls it (through Entity.link)
        elif name == self.title_column():
            url_for = self.detail_url_function()

            def link(obj):
                return url_for(obj.pk)
        else:
            f = self.field(name)
            target = registry.get(f.related_model) if f is not None and f.is_relation and f.many_to_one else None
            if target is None:
                link = None
            else:
                attname = f.attname
                url_for = target.detail_url_function()

                def link(obj):
                    pk = getattr(obj, attname)
                    return url_for(pk) if pk is not None else None
                link.houqin_key = attname  # its value for a row is a function of this column's key alone
        if own is not None:
            default = link

            def link(obj):
                return own(obj) or (default(obj) if default is not None else None)
        return display, link

    def _display_function(self, name: str, user):
        method = getattr(self, f"value_{name}", None)
        if method:
            return lambda obj: format_value(method(obj, user))
        f = self.field(name)
        if f is None or f.many_to_many:
            return lambda obj: format_value(self.value(obj, name, user))
        if f.is_relation:
            def related(obj):
                value = getattr(obj, name)
                return "" if value is None else str(value)  # format_value of a str is the str itself
            if f.many_to_one:
                related.houqin_key = f.attname  # the same related record's key, the same text
            return related
        attname = f.attname
        if isinstance(f, models.CharField | models.TextField) and not f.choices:
            return lambda obj: getattr(obj, attname) or ""  # what format_value gives a str or None
        if f.choices:
            # The labels in this request's language, translated once per page.
            labels = {value: format_value(label) for value, label in self._choice_labels(name).items()}

            def choice(obj):
                value = getattr(obj, attname)
                text = labels.get(value)
                return text if text is not None else format_value(value)
            return choice
        if isinstance(f, models.BooleanField):
            yes, no = format_value(True), format_value(False)
            return lambda obj: yes if (v := getattr(obj, attname)) is True else no if v is False else format_value(v)
        return lambda obj: format_value(getattr(obj, attname))

    def badge_function(self):
        """A function of the record giving what ``badge`` gives (looked up once per page)."""
        if type(self).badge is not Entity.badge:
            return self.badge
        voidable = self.is_voidable
        f = self.field(self.status_field)
        status = self.status_field
        if f is None or not f.choices:
            if not voidable:
                return lambda obj: None
            return lambda obj: (_("Voided"), "red") if getattr(obj, "voided_at", None) else None
        # The labels in this request's language, translated once per page: a lazy label translated anew for
        # every row cost 50 pgettext calls a page (~0.3 ms of the card list).
        labels = {value: str(label) for value, label in self._choice_labels(status).items()}
        colors = self.status_colors or (self.workflow.colors if self.workflow is not None else {})
        voided_label = _("Voided")

        def badge(obj):
            if voidable and getattr(obj, "voided_at", None):
                return (voided_label, "red")
            value = getattr(obj, status)
            return (labels.get(value, value), colors.get(value, "secondary"))
        return badge

    def title_column(self) -> str:
        return self.title_field or (self.list_columns[1] if len(self.list_columns) > 1 else self.list_columns[0])

    def detail_url(self, obj) -> str:
        return self.detail_url_for(obj.pk)

    def badge(self, obj) -> tuple[str, str] | None:
        """(label, colour) of the record's status badge, if it has one."""
        if self.is_voidable and getattr(obj, "voided_at", None):
            return (_("Voided"), "red")
        f = self.field(self.status_field)
        if f is None or not f.choices:
            return None
        value = getattr(obj, self.status_field)
        colors = self.status_colors or (self.workflow.colors if self.workflow is not None else {})
        return (self._choice_labels(self.status_field).get(value, value), colors.get(value, "secondary"))

    # writes (override to call the app's services) ------------------------------------------
    def new_object(self, *, school, data: dict) -> models.Model:
        from .fastload import new_instance, set_related

        obj = new_instance(self.model)  # model(), without Model.__init__ where nothing could tell
        if school is not None and self.field("school") is not None:
            set_related(obj, self.field("school"), school)
        plan = self.__dict__.get("_new_object_plan")
        if plan is None:
            plan = self.__dict__["_new_object_plan"] = {}
        state = obj.__dict__
        for name, value in data.items():
            how = plan.get(name)
            if how is None:
                how = plan[name] = self._set_plan(name)
            if how is True:
                state[name] = value  # what setattr does for a field with Django's plain attribute
            elif how is not False:
                if how.many_to_one:
                    set_related(obj, how, value)
                else:
                    setattr(obj, name, value)
        return obj

    def _set_plan(self, name: str):
        """How ``new_object`` sets ``name``: True (a field whose class attribute is Django's plain, non-data
        ``DeferredAttribute``: straight into the instance's dict), False (not a field of the model, or a
        many-to-many one: not set), or the field (a foreign key, or anything else: set as Django sets it)."""
        from django.db.models.query_utils import DeferredAttribute

        f = self.field(name)
        if f is None or f.many_to_many:
            return False
        if not f.many_to_one and f.attname == name and type(self.model.__dict__.get(name)) is DeferredAttribute:
            return True
        return f

    @staticmethod
    def split_m2m(model, data: dict) -> tuple[dict, dict]:
        plain, m2m = {}, {}
        for name, value in data.items():
            f = next((f for f in model._meta.get_fields() if f.name == name), None)
            if f is None:
                continue  # a form-only field (e.g. the roles of a staff account)
            (m2m if f.many_to_many else plain)[name] = value
        return plain, m2m

    def create(self, *, data: dict, actor, school) -> models.Model:
        plain, m2m = self.split_m2m(self.model, data)
        obj = self.new_object(school=school, data=plain)
        return crud.object_create(obj=obj, actor=actor, m2m=m2m)

    def update(self, *, obj, data: dict, actor) -> models.Model:
        plain, m2m = self.split_m2m(self.model, data)
        crud.object_update(obj=obj, data=plain, actor=actor, m2m=m2m)
        return obj

    def void(self, *, obj, reason: str, actor) -> models.Model:
        return crud.object_void(obj=obj, reason=reason, actor=actor)

    def delete(self, *, obj, actor) -> None:
        crud.object_delete(obj=obj, actor=actor)

    def transition(self, *, obj, name: str, actor, note: str = ""):
        """Apply a workflow transition; an entity overrides this to call its domain service."""
        return self.workflow.apply(obj, name, actor=actor, note=note)

    # import hooks ------------------------------------------------------------------------------
    def import_derived_fields(self) -> tuple[str, ...]:
        return self.derived_fields

    def import_prepare(self, obj, *, actor) -> None:
        """Set derived fields before a bulk insert/update (bulk writes skip ``save()``)."""

    def import_write(self, *, new: list, changed: list, actor, school, result: ImportResult) -> None:
        """Write the validated rows; default: bulk inserts and updates (see ``core.importing``)."""
        from .importing import default_write

        default_write(self, new=new, changed=changed, actor=actor)

    def form_for(self, user, *, data=None, instance=None, files=None):
        return self.form_class(data=data, files=files, instance=instance, user=user, entity=self)

    def detail_actions(self, obj, user) -> list[dict]:
        """Extra buttons on the detail page: {"label", "url", "method": "get"|"post", "style"}."""
        return []

    def transition_actions(self, obj, user) -> list[dict]:
        """The workflow buttons this user may press now (from the transition table)."""
        if self.workflow is None or getattr(obj, "voided_at", None):
            return []
        from django.urls import reverse

        return [{"label": t.label or t.name, "url": reverse(self.url_name(t.name), args=[obj.pk]), "method": "post",
                 "style": t.style, "confirm": t.confirm, "needs_note": t.needs_note, "name": t.name}
                for t in self.workflow.available(obj, user)]

    def lookup_label(self, obj) -> str:
        return str(obj)

    def search(self, request, query: str, limit: int) -> list[tuple[str, str, str]]:
        """Global search hits (title, subtitle, url) the user may see, by the entity's search fields."""
        user = request.user
        if not user.has_perm(self.perm("view")):
            return []
        qs = self.queryset(user)
        if self.is_voidable:
            qs = qs.filter(voided_at__isnull=True)
        filterset = self.filterset_class({"q": query}, queryset=qs, request=request)
        hits = []
        for obj in filterset.qs.order_by(*self.default_ordering())[:limit]:
            subtitle = self.display(obj, self.list_columns[0], user) if self.list_columns else ""
            hits.append((str(obj), subtitle if subtitle != str(obj) else "", self.detail_url(obj)))
        return hits

    def computed_api_fields(self) -> list[str]:
        """API fields whose value the entity computes per user (e.g. a masked identity number)."""
        cached = self.__dict__.get("_computed_api_fields")
        if cached is None:
            names = dict.fromkeys((self.api_fields or ()) + self.form_fields + self.list_columns)
            cached = self.__dict__["_computed_api_fields"] = [n for n in names if hasattr(self, f"value_{n}")]
        return cached


def format_value(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "Y-m-d H:i")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return f"{value:,.2f}"
    return str(value)


# Forms --------------------------------------------------------------------------------------------


class EntityForm(forms.ModelForm):
    """Base of every generated create/edit form: related choices limited to the user's school."""

    def __init__(self, *args, user=None, entity=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.entity = entity
        from .widgets import LazySelect

        for f in self.fields.values():
            if isinstance(f, forms.ModelChoiceField):
                model = f.queryset.model
                if user is not None and _has_school(model) and user.school_id:
                    f.queryset = f.queryset.filter(school_id=user.school_id)
                if registry.get(model) is not None and not isinstance(f, forms.ModelMultipleChoiceField):
                    f.widget = LazySelect(model=model, label_for=lambda pk, qs=f.queryset: qs.filter(pk=pk).first())
            if isinstance(f.widget, forms.DateInput):
                f.widget.input_type = "date"
                f.widget.format = "%Y-%m-%d"
            css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
            if not isinstance(f.widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                f.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        self._check_unique_in_school(data)
        return data

    def _check_unique_in_school(self, data) -> None:
        """(school, code)-style uniqueness as a message next to the field, not a generic error."""
        model = self._meta.model
        school_id = getattr(self.instance, "school_id", None) or getattr(self.user, "school_id", None)
        if school_id is None or not _has_school(model):
            return
        for constraint in model._meta.constraints:
            if not isinstance(constraint, models.UniqueConstraint) or constraint.condition is not None:
                continue
            others = [f for f in constraint.fields if f != "school"]
            if "school" not in constraint.fields or len(others) != 1 or others[0] not in self.fields:
                continue
            name = others[0]
            value = data.get(name)
            if value in (None, ""):
                continue
            qs = model._default_manager.filter(school_id=school_id, **{name: value})
            if self.instance.pk:
                qs = qs.exclude(pk=self.instance.pk)
            if qs.exists():
                self.add_error(name, _("%(field)s “%(value)s” is already used in this school.")
                               % {"field": self.fields[name].label, "value": value})

    def _post_clean(self):
        # The school is set before model validation so unique (school, code) checks run here.
        if (self.entity is not None and self.instance.pk is None and self.user is not None
                and _has_school(self.instance.__class__) and self.user.school_id):
            self.instance.school_id = self.user.school_id
        super()._post_clean()


def _has_school(model) -> bool:
    return any(f.name == "school" for f in model._meta.concrete_fields)


# Registry ---------------------------------------------------------------------------------------


class EntityRegistry:
    def __init__(self) -> None:
        self._by_model: dict[type[models.Model], Entity] = {}

    def add(self, entity: Entity) -> None:
        self._by_model[entity.model] = entity

    def get(self, model) -> Entity | None:
        return self._by_model.get(model)

    def __getitem__(self, model) -> Entity:
        return self._by_model[model]

    def for_key(self, key: str) -> Entity | None:
        for entity in self._by_model.values():
            if entity.key == key:
                return entity
        return None

    def for_app(self, app_label: str) -> list[Entity]:
        return [e for e in self._by_model.values() if e.app_label == app_label]

    def __iter__(self):
        return iter(list(self._by_model.values()))


registry = EntityRegistry()

# Concrete models that are deliberately not entities, with the reason (checked by a completeness test).
not_entities: dict[str, str] = {}


def not_an_entity(label: str, reason: str) -> None:
    """Declare that ``app_label.model`` gets no generated pages, and why (e.g. an outbox table)."""
    not_entities[label.lower()] = reason


def register(cls: type[Entity]) -> type[Entity]:
    """Class decorator: build the entity's classes and add it to the registry and the menu."""
    from . import builders

    entity = cls()
    builders.build(entity)
    registry.add(entity)
    if entity.global_search:
        from .registry import SearchProvider
        from .registry import registry as shell_registry

        order = entity.menu.order + 100 if entity.menu else 500
        shell_registry.add_search(SearchProvider(entity.meta.verbose_name_plural, entity.search, order=order))
    if entity.menu is not None:
        from .registry import MenuItem
        from .registry import registry as shell_registry

        shell_registry.menu_item(
            entity.menu.group,
            MenuItem(
                label=entity.menu.label, url_name=entity.url_name("list"), perm=entity.perm("view"),
                module=entity.menu.module, order=entity.menu.order,
            ),
        )
    return cls


__all__ = [
    "DELETE",
    "VOID",
    "Column",
    "Entity",
    "EntityForm",
    "Fields",
    "ImportProblem",
    "ImportResult",
    "Menu",
    "Related",
    "format_value",
    "gettext_lazy",
    "register",
    "registry",
]
