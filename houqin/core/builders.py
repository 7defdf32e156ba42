"""Build the named classes of an entity (architecture §4.4). An explicit class on the entity wins."""

from __future__ import annotations

import copy

import django_filters
from django import forms
from django.db import models
from django.db.models import Q
from django.forms import modelform_factory
from django.forms.widgets import ChoiceWidget
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .widgets import LazySelect, date_range_widget

MAX_QUERY = 50  # a search box value longer than this is cut: nobody types 50 characters to find a name


def school_queryset(model):
    """Related choices of the request user's school (lazy: evaluated per request)."""

    from .entities import str_fields

    scoped = any(f.name == "school" for f in model._meta.concrete_fields)
    names = str_fields(model)
    light = (model._meta.pk.name, *names) if names else None
    built: dict = {}  # school id → its queryset, built once (a filter form has several: ~50 µs each)

    def _qs(request):
        user = getattr(request, "user", None)
        if user is None or not scoped:
            key = "all"
        elif getattr(user, "school_id", None):
            key = user.school_id
        elif not user.is_superuser and not (hasattr(user, "has_role") and user.has_role("bureau")):
            key = "none"
        else:
            key = "all"
        qs = built.get(key)
        if qs is None:
            qs = model._default_manager.all()
            if light:  # the chosen record is shown by its __str__ (and filtered by its id): read only that
                qs = qs.only(*light)
            if key == "none":
                qs = qs.none()
            elif key != "all":
                qs = qs.filter(school_id=key)
            if len(built) > 10_000:
                built.clear()
            built[key] = qs
        fresh = qs.all()  # a fresh clone: the kept one is never evaluated, so it holds no rows
        fresh.houqin_choice = (key, light)  # how SchoolChoiceField reads one choice without compiling the query
        return fresh

    _qs.fresh = True  # each call gives a new queryset (``_set_queryset`` need not clone it again)
    return _qs


def light_copy(field):
    """A copy of a form field for one form: its own widget (attributes, choices) and queryset; the
    declaration it shares with the class (choices list, validators, messages) is never changed per form.
    ``copy.deepcopy`` also copies those — for django-filter's choice fields through a ``ChoiceIterator``
    that holds the whole field — ~0.4 ms per filter form of a dozen fields."""
    new = copy.copy(field)
    new.widget = _light_widget(field.widget)
    if isinstance(field, forms.MultiValueField):
        new.fields = tuple(light_copy(f) for f in field.fields)
    if isinstance(field, forms.ModelChoiceField) and field.queryset is not None and not getattr(
            field, "_houqin_per_request", False):
        new.queryset = field.queryset.all()
    return new


def _light_widget(widget):
    new = copy.copy(widget)
    new.attrs = widget.attrs.copy()
    if isinstance(widget, forms.MultiWidget):
        new.widgets = [_light_widget(w) for w in widget.widgets]
    if isinstance(widget, ChoiceWidget):
        new.choices = copy.copy(widget.choices)
    return new


def _set_queryset(field, filter_) -> None:
    """``field.queryset = filter_.get_queryset(request)`` without the setter's clone when the queryset is
    already a fresh one (``school_queryset`` gives a new clone per call; any other is cloned)."""
    qs = filter_.__dict__.get("_houqin_queryset")  # one per filter and request: both forms share it (query_form)
    if qs is None:
        qs = filter_.get_queryset(filter_.parent.request)
        if not getattr(filter_.queryset, "fresh", False):
            qs = qs.all()
        filter_.__dict__["_houqin_queryset"] = qs
    field._queryset = qs
    field.widget.choices = field.choices


class SchoolChoiceField(django_filters.fields.ModelChoiceField):
    """A related-record filter's field: the chosen record read by the statement compiled once for its model
    (``paging.precompiled``) and checked against the user's school in Python, when its queryset is
    ``school_queryset``'s; any other queryset or value is looked up as Django does. The form's
    ``queryset.get(pk=…)`` compiled its query anew on every request: ~0.2 ms of a filtered list."""

    def to_python(self, value):
        choice = getattr(self.queryset, "houqin_choice", None)
        if (choice is None or self.to_field_name or self.null_label is not None
                or not (type(value) is str and value.isascii() and value.isdigit() and len(value) <= 18)):
            return super().to_python(value)
        from .paging import precompiled

        key, light = choice
        qs = self.queryset
        chosen = qs.__dict__.setdefault("houqin_chosen", {})  # the page's two forms read a choice once
        if value in chosen:
            found = chosen[value]
            if found is None:
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                            params={"value": value})
            return found
        model, db = qs.model, qs.db
        if key == "none":
            found = None
        else:
            reads = None if light is None else (*light, "school_id") if key != "all" else light

            def by_keys(keys):
                rows = model._default_manager.using(db).filter(pk__in=keys)
                return rows if reads is None else rows.only(*reads)

            found = next(iter(precompiled(by_keys, [int(value)], db)), None)
            if found is not None and key != "all" and found.school_id != key:
                found = None
        chosen[value] = found
        if found is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                        params={"value": value})
        return found


class SchoolChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = SchoolChoiceField


class KeyFilter(django_filters.NumberFilter):
    """A record's key in the query string (e.g. ``?lease=12`` from the lease's page): a whole number in the
    database's integer range, else a field error. ``NumberFilter`` reads a decimal — 1.5 would match key 1 —
    and let a 30-digit number through to SQLite's driver, which raised ``OverflowError``: a server error."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class LightFields(dict):
    """A form class's ``base_fields`` that ``BaseForm.__init__`` copies with ``light_copy``."""

    def __deepcopy__(self, memo):
        return {name: light_copy(field) for name, field in self.items()}


_SUBSET_FORMS_MAX = 256  # per filterset class: the combinations of filters its lists are asked with


def _subset_form_class(full, names: frozenset):
    """``full`` (a filter form class) with only the fields ``names``, made once per combination."""
    made = full.__dict__.get("_houqin_subsets")
    if made is None:
        made = {}
        full._houqin_subsets = made
    form_class = made.get(names)
    if form_class is None:
        form_class = type(full.__name__, (full,), {"__module__": full.__module__})
        form_class.base_fields = LightFields({n: f for n, f in full.base_fields.items() if n in names})
        if len(made) >= _SUBSET_FORMS_MAX:
            made.clear()
        made[names] = form_class
    return form_class


class EntityFilterSet(django_filters.FilterSet):
    """Base of every generated filterset: search box, voided rows hidden unless asked for."""

    entity = None

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        """django-filter's ``__init__`` with shallow copies of the declared filters instead of a deep
        copy: a filter keeps nothing per request but its parent (a list page built its dozen filters
        and their widgets again on every request)."""
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: copy.copy(f) for name, f in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = queryset.model
            filter_.parent = self
            if filter_.method is not None:
                filter_.method = filter_.method  # bind the ``FilterMethod`` to this copy, not the declared filter

    def get_form_class(self):
        """The form class, built once per filterset class (its fields do not depend on the request but
        for the related-record choices, which ``form`` sets on each form from this request)."""
        cls = type(self)
        form_class = cls.__dict__.get("_houqin_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            for name, filter_ in self.base_filters.items():
                if isinstance(filter_, django_filters.ModelChoiceFilter) and name in form_class.base_fields:
                    # ``form`` gives each form this request's queryset: the copy need not clone the declared one.
                    form_class.base_fields[name]._houqin_per_request = True
            form_class.base_fields = LightFields(form_class.base_fields)
            cls._houqin_form_class = form_class
        return form_class

    @property
    def query_form(self):
        """The form of the filters the data names (``value_omitted_from_data``): what filtering validates and
        reads. A filter the address does not name filters nothing, so its field need not be built and cleaned
        (a filtered card list named 2 of its 14 filters: ~0.4 ms for the rest). Their errors and values are the
        full form's (``form``: what the page shows), field by field. All named: the full form itself."""
        found = self.__dict__.get("_query_form")
        if found is not None:
            return found
        full = self.get_form_class()
        prefix = self.form_prefix
        data = self.data
        names = frozenset(n for n, f in full.base_fields.items()
                          if not f.widget.value_omitted_from_data(data, {}, f"{prefix}-{n}" if prefix else n))
        if len(names) == len(full.base_fields) or not self.is_bound:
            found = self.form
        else:
            found = self._scoped(_subset_form_class(full, names)(data, prefix=prefix))
        self.__dict__["_query_form"] = found
        return found

    def _scoped(self, form):
        """``form`` with each related-record filter's choices those of this user's school (``school_queryset``),
        never the first request's."""
        for name, filter_ in self.filters.items():
            if name in form.fields and isinstance(filter_, django_filters.ModelChoiceFilter):
                _set_queryset(form.fields[name], filter_)
        return form

    @property
    def errors(self):
        return self.query_form.errors

    def is_valid(self):
        return self.is_bound and self.query_form.is_valid()

    @property
    def form(self):
        if not hasattr(self, "_form"):
            self._scoped(super().form)
        form = super().form
        if not getattr(form, "_houqin_styled", False):
            for field in form.fields.values():
                widgets = getattr(field.widget, "widgets", [field.widget])
                for w in widgets:
                    if not isinstance(w, LazySelect):
                        w.attrs.setdefault("class", "form-select" if isinstance(w, forms.Select) else "form-control")
            form._houqin_styled = True
        return form

    def filter_search(self, queryset, name, value):
        value = (value or "").strip()[:MAX_QUERY]
        if not value:
            return queryset
        cond = Q()
        key = None
        for field_name in self.entity.search_fields:
            if field_name == "search_keys":
                # Pinyin keys are stored lower-case without spaces: "Zhang San" and "zs" find 张三.
                key = value.lower().replace(" ", "")
                if key.isascii():
                    cond |= Q(search_keys__contains=key)
                else:
                    key = None
            else:
                cond |= Q(**{f"{field_name}__icontains": value})
        if not cond:
            return queryset
        # On SQLite a trigram index narrows the rows first; the conditions above still decide, unless the
        # index finds exactly the rows they would (search_index.exact_parts).
        from .search_index import candidates

        found = candidates(self.entity, queryset.db, value, key)
        if found is not None:
            pks, exact = found
            queryset = queryset.filter(pk__in=pks)
            # A bound for the first page (``paging.BoundedPaginator``): it may read every id at once, no COUNT.
            queryset.query.houqin_rows_at_most = pks.rows_at_most
            queryset.query.houqin_candidates = pks.source
            if exact:
                return queryset
        else:
            from .search_index import IndexedCondition, count_source

            # A common term: the rows come from a scan in the list's order; the count may start from the index
            # (``paging.capped_count``; the page's rows never do), without the conditions when the index finds
            # exactly their rows.
            source = count_source(self.entity, queryset.db, value, key)
            queryset = queryset.filter(IndexedCondition(cond) if source and source.exact else cond)
            queryset.query.houqin_candidates = source
            return queryset
        return queryset.filter(cond)

    def filter_boolean(self, queryset, name, value):
        # ``IN (1)`` rather than the bare column: SQLite can then seek an index on it.
        if value is None:
            return queryset
        return queryset.filter(**{f"{name}__in": [value]})

    def filter_voided(self, queryset, name, value):
        return queryset  # applied in filter_queryset, also when the parameter is absent

    def filter_queryset(self, queryset):
        """django-filter's, over the filters the data names (``query_form``)."""
        form = self.query_form
        for name, value in form.cleaned_data.items():
            queryset = self.filters[name].filter(queryset, value)
        if self.entity is not None and self.entity.is_voidable:
            shown = form.cleaned_data.get("voided") if hasattr(form, "cleaned_data") else ""
            if shown == "only":
                queryset = queryset.filter(voided_at__isnull=False)
            elif shown != "all":
                queryset = queryset.filter(voided_at__isnull=True)
        return queryset


def build_filterset(entity):
    attrs = {"entity": entity}
    attrs["q"] = django_filters.CharFilter(method="filter_search", label=_("Search"))
    for name in entity.filter_fields:
        f = entity.field(name)
        label = entity.header(name)
        if f.is_relation:
            model = f.related_model
            field_name = name if not f.many_to_many else name
            attrs[name] = SchoolChoiceFilter(
                field_name=field_name, queryset=school_queryset(model), label=label,
                widget=LazySelect(model=model, label_for=lambda pk, m=model: m._default_manager.filter(pk=pk).first()),
            )
        elif f.choices:
            attrs[name] = django_filters.ChoiceFilter(choices=f.choices, label=label, empty_label=_("All"))
        elif isinstance(f, models.DateField):
            attrs[name] = django_filters.DateFromToRangeFilter(label=label, widget=date_range_widget(label))
        elif isinstance(f, models.BooleanField):
            attrs[name] = django_filters.BooleanFilter(
                method="filter_boolean", label=label, widget=forms.Select(choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))])
            )
        else:
            attrs[name] = django_filters.CharFilter(label=label, lookup_expr="icontains")
    if entity.is_voidable:
        attrs["voided"] = django_filters.ChoiceFilter(
            method="filter_voided", label=_("Voided records"), empty_label=_("Hidden"),
            choices=[("all", _("Shown")), ("only", _("Only voided"))],
        )
    attrs["Meta"] = type("Meta", (), {"model": entity.model, "fields": []})
    return type(f"{entity.model.__name__}FilterSet", (EntityFilterSet,), attrs)


def build_form(entity):
    from .entities import EntityForm

    return modelform_factory(entity.model, form=EntityForm, fields=list(entity.form_fields))


def build(entity) -> None:
    """Fill in every class the entity did not give explicitly."""
    cls = type(entity)
    name = entity.model.__name__
    if cls.filterset_class is None:
        cls.filterset_class = build_filterset(entity)
    if cls.form_class is None:
        form = build_form(entity)
        form.__name__ = form.__qualname__ = f"{name}Form"
        cls.form_class = form
    if cls.import_form_class is None and entity.import_fields:
        from .importing import build_import_form

        cls.import_form_class = build_import_form(entity)
    if cls.serializer_class is None:
        from .api import build_serializer

        cls.serializer_class = build_serializer(entity)
    if cls.viewset_class is None:
        from .api import build_viewset

        cls.viewset_class = build_viewset(entity)
    from .views_entity import build_views

    built = build_views(entity)
    for key, view in (cls.views or {}).items():
        if getattr(view, "entity", None) is None:
            view.entity = entity
        built[key] = view
    cls.views = built
