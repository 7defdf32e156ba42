"""Form widgets: a lazy search-as-you-type select for related records (never 10,000 <option>s), and the
date range of a list's filters."""

import django_filters
from django import forms
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class DateRangeInputs(django_filters.widgets.DateRangeWidget):
    """Two date inputs side by side with 至 between them (django-filters puts a bare "-" on a line of its own)."""

    template_name = "core/widgets/date_range.html"


def date_range_widget(label) -> DateRangeInputs:
    """The from/to date inputs of a date filter, each named for a screen reader: 取得日期（起）, 取得日期（止）.
    The filter block (``views_entity._filter_block``) labels the pair as a group."""
    widget = DateRangeInputs(attrs={"type": "date"})
    for part, sub in zip((gettext_lazy("from"), gettext_lazy("to")), widget.widgets, strict=True):
        sub.attrs = {**sub.attrs, "aria-label": format_lazy("{}（{}）", label, part)}
    return widget


class LazySelect(forms.Widget):
    """A hidden input holding the id, and a search box that asks ``core:lookup`` for matches.

    Works by keyboard: type, arrow down into the results, Enter picks one. Without JavaScript the
    search box still shows the current choice. The behaviour is in ``houqin/houqin.js``.
    """

    def __init__(self, *, model, label_for=None, attrs=None):
        super().__init__(attrs)
        self.model = model
        self.label_for = label_for

    def format_value(self, value):
        return "" if value in (None, "") else str(value)

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs or {})
        input_id = attrs.get("id") or f"id_{name}"
        value = self.format_value(value)
        label = ""
        known = getattr(self, "known", None)  # the record the form already read (``known_records``)
        if value and known is not None and str(known.pk) == value:
            label = str(known)
        elif value and self.label_for is not None:
            try:
                obj = self.label_for(value)
            except (ValueError, TypeError):
                obj = None
            label = str(obj) if obj is not None else ""
        url = _lookup_url(self.model)
        described = attrs.get("aria-describedby", "")
        return format_html(
            '<div class="lazy-select" data-lazy-select>'
            '<input type="hidden" name="{name}" value="{value}" data-lazy-value>'
            # Named so htmx sends the typed text (LookupView reads "<field>__search"); tied to no form
            # (form="lazy-none" names no element), so a filter or edit form never submits it.
            '<input type="search" id="{id}" name="{name}__search" form="lazy-none" class="form-control"'
            ' value="{label}" autocomplete="off"'
            ' role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="{id}_results"'
            '{described} placeholder="{placeholder}" data-lazy-input'
            ' hx-get="{url}" hx-trigger="input changed delay:250ms, focus once" hx-target="#{id}_results"'
            # The form around it may set hx-swap="outerHTML" (htmx inherits it): results fill the box.
            ' hx-swap="innerHTML" hx-vals=\'{{"target": "{id}"}}\'>'
            '<div id="{id}_results" class="lazy-results" role="listbox" aria-label="{results}"></div>'
            "</div>",
            name=name, value=value, id=input_id, label=label, url=url,
            described=format_html(' aria-describedby="{}"', described) if described else "",
            placeholder=_("Type to search"), results=_("Matches"),
        )

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        return None if value in (None, "") else value


_lookup_urls: dict[tuple, str] = {}


def _lookup_url(model) -> str:
    """``core:lookup`` of ``model``, reversed once per script prefix (five lazy selects on a filtered list)."""
    key = (model, get_script_prefix(), get_urlconf())
    url = _lookup_urls.get(key)
    if url is None:
        url = reverse("core:lookup", args=[model._meta.app_label, model._meta.model_name])
        if len(_lookup_urls) > 1000:
            _lookup_urls.clear()
        _lookup_urls[key] = url
    return url


def known_records(form) -> None:
    """Let each lazy select of a validated form show the record its field already read while cleaning,
    instead of reading it again to print its name (a filtered list page: one query per filter less)."""
    cleaned = getattr(form, "cleaned_data", None) or {}
    for name, field in form.fields.items():
        value = cleaned.get(name)
        if isinstance(field.widget, LazySelect) and getattr(value, "pk", None) is not None:
            field.widget.known = value
