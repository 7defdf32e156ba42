"""The generic entity views (architecture §4.4): about six shallow classes with named hooks.

Every view checks the permission on the server and takes its queryset from ``entity.queryset``
(the one scoping function). The same URL answers with the full page or, for htmx, a partial.
"""

from __future__ import annotations

import html
import uuid
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View

from . import authcache
from .audit import history_for
from .entities import Fields, Related, format_value, registry
from .models import ListPreference, SavedFilter
from .paging import COUNT_ALL, BoundedPaginator, DeferredJoin
from .responses import pdf_response, xlsx_response


def _excel():
    """``core.excel`` loads python-calamine and xlsxwriter: only when a file is read or written."""
    from . import excel

    return excel

PAGE_SIZE = 50




def _esc(value) -> str:
    """``conditional_escape`` as a plain str (what ``format_html`` does to each argument)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def add_service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class EntityView(LoginRequiredMixin, View):
    """Base: the entity, the permission each view needs, and the scoped queryset."""

    entity = None
    action = "view"  # permission action: view, add, change, void, delete

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.has_perm(self.entity.perm(self.action)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self, action=None):
        return self.entity.queryset(self.request.user, action or self.action)

    def get_object(self, action=None):
        return get_object_or_404(self.get_queryset(action), pk=self.kwargs["pk"])

    def get_extra_context(self) -> dict:
        return {}

    def base_context(self) -> dict:
        e = self.entity
        user = self.request.user
        return {
            "entity": e,
            "title": e.verbose_name_plural,
            "list_url": e.page_url("list"),
            "can_add": e.can_add and user.has_perm(e.perm("add")),
            "can_import": e.can_import and bool(e.import_fields) and user.has_perm(e.perm("add")),
            **self.get_extra_context(),
        }


# List -------------------------------------------------------------------------------------------


class EntityListView(EntityView):
    template_name = "core/entity_list.html"
    partial_name = "core/partials/entity_table.html"

    def columns(self) -> list:
        e = self.entity
        available = list(e.list_columns) + [c for c in e.extra_columns if c not in e.list_columns]
        chosen = [c for c in self.list_settings()[0] if c in available] or list(e.list_columns)
        return e.columns_of(chosen), e.columns_of(available)

    def filtered(self):
        """(filterset, ordered queryset, columns, available columns, sort) for list, export and print."""
        e = self.entity
        qs = self.get_queryset("view")
        filterset = e.filterset_class(self.request.GET or None, queryset=qs, request=self.request)
        qs = filterset.qs
        if not filterset.is_bound and e.is_voidable:
            qs = qs.filter(voided_at__isnull=True)
        columns, available = self.columns()
        qs = e.list_queryset(qs, columns)
        sortable = {c.name: c.sort for c in available if c.sort}
        sort = self.request.GET.get("sort", "")
        key = sort.lstrip("-")
        if key in sortable:
            expr = sortable[key]
            qs = qs.order_by(f"-{expr}" if sort.startswith("-") else expr, "pk")
        else:
            sort = ""
            qs = qs.order_by(*e.default_ordering(), "pk")
        return filterset, qs, columns, available, sort

    def rows(self, objects, columns):
        """Table rows rendered in Python: a template loop per cell costs more than the SQL at 50 rows.

        Each column gets one function giving its whole ``<td>`` (``_cell_function``): the field lookups
        are done once per column (``Entity.cell_functions``), not once per cell, and every value is
        escaped as ``format_html`` would.
        """
        e = self.entity
        user = self.request.user
        badge_of = e.badge_function()
        cells = [_cell_function(e, c, user) for c in columns]
        status = next((i for i, c in enumerate(columns) if c.name == e.status_field), None)
        voided_mark = f' <span class="badge bg-red-lt">{_esc(_("Voided"))}</span>'
        voidable = e.is_voidable
        status_td = _td(columns[status]) if status is not None else ""
        badge_cells: dict = {}  # a page's few statuses, each cell built once
        rows = []
        for obj in objects:
            badge = badge_of(obj)
            voided = voidable and getattr(obj, "voided_at", None)
            parts = [cell(obj) for cell in cells]
            if status is not None and badge:
                key = tuple(badge)
                html_ = badge_cells.get(key)
                if html_ is None:
                    html_ = badge_cells[key] = (
                        f'{status_td}<span class="badge bg-{_esc(badge[1])}-lt">{_esc(badge[0])}</span></td>')
                parts[status] = html_
            if voided and parts:
                parts[0] = f"{parts[0][:-5]}{voided_mark}</td>"
            rows.append({"obj": obj, "html": mark_safe("".join(parts)), "badge": badge, "voided": voided})  # noqa: S308 - escaped above
        return rows

    def get(self, request, *args, **kwargs):
        filterset, qs, columns, available, sort = self.filtered()
        wanted = request.GET.get("page")
        cap = COUNT_ALL if request.GET.get("count") == "all" else None  # the pager's "count all" button
        page = BoundedPaginator(DeferredJoin(qs), PAGE_SIZE, wanted_page=wanted, cap=cap).get_page(wanted)
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("count", None)
        rows = self.rows(page.object_list, columns)
        e = self.entity
        context = {
            **self.base_context(),
            "urls": {"add": e.page_url("add") if e.can_add else None,
                     "import": e.page_url("import") if e.can_import and e.import_fields else None,
                     "export": e.page_url("export"), "print": e.page_url("print")},
            "filterset": filterset,
            "filter_block": filter_block_html(self.entity.key, filterset),
            "page": page,
            "rows": rows,
            "rows_html": mark_safe("".join(  # noqa: S308 - each row's cells are escaped by rows()
                f'<tr class="voided">{r["html"]}</tr>' if r["voided"] else f"<tr>{r['html']}</tr>" for r in rows)),
            "columns": columns,
            "available_columns": available,
            "chosen": [c.name for c in columns],
            "sort": sort,
            "query": query.urlencode(),
            "pager_html": pager_html(page, query.urlencode()),
            "query_without_sort": urlencode([(k, v) for k, v in query.items() if k != "sort"]),
            "header_html": header_html(request.path, columns, sort,
                                       urlencode([(k, v) for k, v in query.items() if k != "sort"])),
            "chooser_html": chooser_html(self.entity.key, available, [c.name for c in columns]),
            "saved_filters": self.saved_filters(),
        }
        if is_htmx(request) and request.headers.get("HX-Target") == "list-table":
            return render(request, self.partial_name, context)
        context["csrf_token"] = token = get_token(request)  # one masked token for the page and its forms
        context["list_top_html"] = list_top_html(
            entity=e, title=context["title"], urls=context["urls"], can_add=context["can_add"],
            can_import=context["can_import"], query=context["query"], path=request.path, sort=sort,
            filter_block=context["filter_block"], saved_filters=context["saved_filters"], user_pk=request.user.pk,
            chooser_html=context["chooser_html"], token=token)
        return render(request, self.template_name, context)

    def saved_filters(self):
        return self.list_settings()[1]

    def list_settings(self) -> tuple[list, list]:
        """(chosen columns, saved filters) of this user for this list, read once per change
        (``core.authcache.list_settings``)."""
        user, key = self.request.user, self.entity.key

        def read():
            pref = ListPreference.objects.filter(user=user, entity=key).first()
            filters = SavedFilter.objects.filter(entity=key).filter(Q(owner=user) | Q(shared=True, school_id=user.school_id))
            return (list(pref.columns) if pref else []), list(filters)

        if not hasattr(self, "_settings"):
            self._settings = authcache.list_settings(user, key, read)
        return self._settings

    def post(self, request, *args, **kwargs):
        """Column chooser and saved filters (the list itself is read by GET)."""
        e = self.entity
        what = request.POST.get("what")
        back = reverse(e.url_name("list"))
        if what == "columns":
            available = set(e.list_columns) | set(e.extra_columns)
            chosen = [c for c in request.POST.getlist("columns") if c in available]
            if chosen:
                ListPreference.objects.update_or_create(user=request.user, entity=e.key, defaults={"columns": chosen})
            else:
                ListPreference.objects.filter(user=request.user, entity=e.key).delete()
            messages.success(request, _("Columns saved."))
            query = request.POST.get("query", "")
        elif what == "save_filter":
            name = request.POST.get("name", "").strip()[:50]
            query = request.POST.get("query", "")[:1000]
            if not name:
                messages.error(request, _("Give the filter a name."))
            else:
                SavedFilter.objects.create(
                    school_id=request.user.school_id, owner=request.user, entity=e.key, name=name, query=query,
                    shared=request.POST.get("shared") == "on",
                )
                messages.success(request, _("Filter “%(name)s” saved.") % {"name": name})
        elif what == "delete_filter":
            SavedFilter.objects.filter(owner=request.user, entity=e.key, pk=request.POST.get("pk") or 0).delete()
            query = ""
        else:
            return HttpResponse(status=400)
        return redirect(f"{back}?{query}" if query else back)


def _td(column) -> str:
    return '<td class="text-end">' if column.align == "right" else "<td>"


def _cell_function(entity, column, user):
    """A function of the record giving the column's whole ``<td>…</td>``. Without a link, the cell of
    each distinct text is built once per page (a status, a room, a person repeat down a page)."""
    display, link = entity.cell_functions(column.name, user)
    td = _td(column)
    if link is None:
        built: dict = {}

        def cell(obj):
            text = display(obj)
            html_ = built.get(text)
            if html_ is None:
                html_ = built[text] = f"{td}{_esc(text)}</td>"
            return html_
        return cell

    def linked(obj):
        text = display(obj)
        url = link(obj)
        if url:
            return f'{td}<a href="{_esc(url)}">{_esc(text or "—")}</a></td>'
        return f"{td}{_esc(text)}</td>"

    key = getattr(link, "houqin_key", None)
    if key is None or getattr(display, "houqin_key", None) != key:
        return linked
    by_key: dict = {}  # a related record's cell (a room, a person), built once per page

    def linked_by_key(obj):
        k = getattr(obj, key)
        html_ = by_key.get(k)
        if html_ is None:
            html_ = by_key[k] = linked(obj)
        return html_
    return linked_by_key


def list_top_html(*, entity, title, urls: dict, can_add: bool, can_import: bool, query: str, path: str, sort: str,
                  filter_block: str, saved_filters, user_pk, chooser_html: str, token: str) -> str:
    """A list page above its table — title and actions, the filter form, saved filters and the column chooser —
    rendered in Python like the rows (as template text: ~0.15 ms of every list page). Every value is escaped."""
    q = _esc(query)
    out = ['<div class="page-header-row">\n',
           f'  <h1 class="page-title">{_esc(title)}</h1>\n',
           '  <div class="page-actions">\n    ']
    if can_add:
        out.append(f'<a class="btn btn-primary" href="{_esc(urls["add"])}">'
                   f'{_esc(_("Add %(thing)s") % {"thing": entity.verbose_name})}</a>')
    out.append("\n    ")
    if can_import:
        out.append(f'<a class="btn btn-outline-primary" href="{_esc(urls["import"])}">{_esc(_("Import from Excel"))}</a>')
    out.append(
        f'\n    <a class="btn btn-outline-secondary" data-testid="export" data-follow-query href="{_esc(urls["export"])}?{q}">'
        f'{_esc(_("Export to Excel"))}</a>\n'
        f'    <a class="btn btn-outline-secondary" data-testid="print" data-follow-query target="_blank" rel="noopener" '
        f'href="{_esc(urls["print"])}?{q}">{_esc(_("Print (PDF)"))}</a>\n'
        f'  </div>\n</div>\n'
        f'<form method="get" class="list-filters" id="list-filters" hx-get="{_esc(path)}" hx-target="#list-table" '
        f'hx-trigger="input changed delay:300ms from:input[type=search][name=q], change" hx-push-url="true">\n'
        f'  {_esc(filter_block)}\n  ')
    if sort:
        out.append(f'<input type="hidden" name="sort" value="{_esc(sort)}">')
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_esc(token)}">'
    out.append(
        f'\n  <button type="submit" class="btn btn-outline-primary">{_esc(_("Filter"))}</button>\n'
        f'  <a class="btn btn-link" href="{_esc(path)}">{_esc(_("Clear"))}</a>\n'
        f'</form>\n<div class="list-tools">\n  <details class="list-tool">\n'
        f'    <summary class="btn btn-sm btn-outline-secondary">{_esc(_("Saved filters"))}'
        f'{f" ({len(saved_filters)})" if saved_filters else ""}</summary>\n    <div class="card card-body">\n      ')
    if saved_filters:
        out.append('<ul class="list-unstyled">')
        for f in saved_filters:
            out.append(f'<li><a href="{_esc(path)}?{_esc(f.query)}">{_esc(f.name)}</a>')
            if f.shared:
                out.append(f' <span class="badge bg-azure-lt">{_esc(_("shared"))}</span>')
            out.append("\n        ")
            if f.owner_id == user_pk:
                out.append(f'<form method="post" class="d-inline">{csrf}<input type="hidden" name="what" '
                           f'value="delete_filter"><input type="hidden" name="pk" value="{_esc(f.pk)}"><button '
                           f'class="btn btn-sm btn-link text-danger">{_esc(_("Remove"))}</button></form>')
            out.append("</li>")
        out.append("</ul>")
    out.append(
        f'\n      <form method="post" class="houqin-form">{csrf}<input type="hidden" name="what" value="save_filter">'
        f'<input type="hidden" name="query" value="{q}">\n'
        f'        <label class="form-label" for="sf-name">{_esc(_("Save the current filter as"))}</label>\n'
        f'        <input id="sf-name" class="form-control" name="name" maxlength="50" required>\n'
        f'        <label class="form-check mt-2"><input type="checkbox" class="form-check-input" name="shared"> '
        f'<span class="form-check-label">{_esc(_("Share with colleagues"))}</span></label>\n'
        f'        <button class="btn btn-sm btn-primary mt-2">{_esc(_("Save"))}</button></form>\n'
        f'    </div>\n  </details>\n  <details class="list-tool">\n'
        f'    <summary class="btn btn-sm btn-outline-secondary">{_esc(_("Columns"))}</summary>\n'
        f'    <form method="post" class="card card-body">{csrf}<input type="hidden" name="what" value="columns">'
        f'<input type="hidden" name="query" value="{q}">\n'
        f'      <fieldset><legend class="form-label">{_esc(_("Columns shown"))}</legend>\n'
        f'      {_esc(chooser_html)}</fieldset>\n'
        f'      <button class="btn btn-sm btn-primary mt-2">{_esc(_("Save"))}</button>\n'
        f'    </form>\n  </details>\n</div>\n')
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def pager_html(page, query: str) -> str:
    """The pager under a list — its count, "count all" when the count stops early, previous and next — rendered
    in Python like the rows (as template text, with its translations and conditions: ~0.1 ms of every list)."""
    amp = "&amp;" if query else ""
    base = f"?{_esc(query)}{amp}"
    count = formats.localize(page.paginator.count)
    if page.exact:
        found = _("%(n)s records") % {"n": count}
        where = _("Page %(n)s of %(total)s") % {"n": formats.localize(page.number),
                                                 "total": formats.localize(page.paginator.num_pages)}
    else:
        found = _("More than %(n)s records") % {"n": count}
        where = _("Page %(n)s") % {"n": formats.localize(page.number)}
    parts = [f'<nav class="pager" aria-label="{_esc(_("Pages"))}">\n',
             f'  <span data-testid="row-count">{_esc(found)}</span>\n  ']
    if not page.exact:
        url = f"{base}count=all&amp;page={page.number}"
        parts.append(f'<a class="btn btn-sm btn-link" data-testid="count-all" hx-get="{url}" hx-target="#list-table" '
                     f'href="{url}">{_esc(_("Count all"))}</a>')
    parts.append("\n  ")
    if page.has_previous():
        url = f"{base}page={page.previous_page_number()}"
        parts.append(f'<a class="btn btn-sm btn-outline-secondary" hx-get="{url}" hx-target="#list-table" '
                     f'hx-push-url="true" href="{url}">{_esc(_("Previous"))}</a>')
    parts.append(f"\n  <span>{_esc(where)}</span>\n  ")
    if page.has_next():
        url = f"{base}page={page.next_page_number()}"
        parts.append(f'<a class="btn btn-sm btn-outline-secondary" hx-get="{url}" hx-target="#list-table" '
                     f'hx-push-url="true" href="{url}">{_esc(_("Next"))}</a>')
    parts.append("\n</nav>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


def header_html(path: str, columns, sort: str, query_without_sort: str) -> str:
    """The ``<th>`` cells of the list table: sort links keep the other parameters; ``aria-sort`` says the
    order (rendered in Python like the rows: a template loop with filters per column costs ~1 ms)."""
    base = f"{path}?{query_without_sort}&sort=" if query_without_sort else f"{path}?sort="
    cells = []
    for c in columns:
        right = ' class="text-end"' if c.align == "right" else ""
        header = _esc(c.header)
        if not c.sort:
            cells.append(f"<th scope=\"col\"{right}>{header}</th>")
            continue
        if sort == c.name:
            state, mark, target = "ascending", " ▲", f"-{c.name}"
        elif sort == f"-{c.name}":
            state, mark, target = "descending", " ▼", c.name
        else:
            state, mark, target = "none", "", c.name
        url = _esc(base + target)
        cells.append(f'<th scope="col"{right} aria-sort="{state}"><a class="sort-link" hx-get="{url}" '
                     f'hx-target="#list-table" hx-push-url="true" href="{url}">{header}{mark}</a></th>')
    return mark_safe("".join(cells))  # noqa: S308 - every value escaped above


_chooser_html: dict[tuple, str] = {}


def chooser_html(entity_key: str, available, chosen: list[str]) -> str:
    """The column chooser's check boxes, rendered once per process for each (entity, language, choice)."""
    key = (entity_key, translation.get_language(), tuple(chosen))
    html_ = _chooser_html.get(key)
    if html_ is None:
        shown = set(chosen)
        html_ = mark_safe("".join(  # noqa: S308 - escaped
            f'<label class="form-check"><input type="checkbox" class="form-check-input" name="columns" '
            f'value="{_esc(c.name)}"{" checked" if c.name in shown else ""}> '
            f'<span class="form-check-label">{_esc(c.header)}</span></label>' for c in available))
        if len(_chooser_html) >= WIDGET_CACHE_SIZE:
            _chooser_html.clear()
        _chooser_html[key] = html_
    return html_


_widget_html: dict[tuple, str] = {}
WIDGET_CACHE_SIZE = 2000


def filter_widgets(entity_key: str, form) -> list[tuple]:
    """(bound field, its widget's HTML) of every filter but the search box. A widget whose HTML
    depends only on its declaration, value, errors and the language (choices declared in code, dates)
    is rendered once per process for each of those; related-record filters render every time."""
    from django.forms import ModelChoiceField

    language = translation.get_language()
    out = []
    for bf in form:
        if bf.name == "q":
            continue
        if isinstance(bf.field, ModelChoiceField) or not _static_widget(bf.field.widget):
            out.append((bf, bf.as_widget()))
            continue
        key = (entity_key, language, bf.name, bf.html_name, bf.auto_id, repr(bf.value()), bool(bf.errors))
        html_ = _widget_html.get(key)
        if html_ is None:
            html_ = bf.as_widget()
            if len(_widget_html) >= WIDGET_CACHE_SIZE:
                _widget_html.clear()
            _widget_html[key] = html_
        out.append((bf, html_))
    return out


_filter_blocks: dict[tuple, str] = {}


def filter_block_html(entity_key: str, filterset) -> str:
    """The search box and the "more filters" box of a list, rendered in Python (a template loop over a
    dozen filters with their labels and errors cost ~0.4 ms, building the form another 0.3). Without
    filters in the address (the plain list) the block depends only on the list and the language, so it
    is rendered once per process — unless a filter lists records in a plain drop-down (their names can
    change): that block is rendered every time."""
    if not filterset.is_bound:
        from django.urls import get_script_prefix

        key = (entity_key, translation.get_language(), get_script_prefix())  # lazy selects link their lookup URL
        html_ = _filter_blocks.get(key)
        if html_ is None:
            html_ = _filter_block(entity_key, filterset.form)
            if _unbound_is_static(filterset.form):
                if len(_filter_blocks) >= WIDGET_CACHE_SIZE:
                    _filter_blocks.clear()
                _filter_blocks[key] = html_
        return html_
    key = _bound_block_key(entity_key, filterset)
    if key is None:
        return _filter_block(entity_key, filterset.form)
    html_ = _bound_blocks.get(key)
    if html_ is None:
        html_ = _filter_block(entity_key, filterset.form)
        if len(_bound_blocks) >= BOUND_BLOCKS_MAX:
            _bound_blocks.clear()
        _bound_blocks[key] = html_
    return html_


# Filtered lists' blocks (~6.5 kB each for the card list's 13 filters; every search term makes one): a few hundred
# cover the filters a school uses again and again and hold ~3 MB per worker at the most.
BOUND_BLOCKS_MAX = 200
_bound_blocks: dict[tuple, str] = {}
_static_forms: dict[type, bool] = {}


def _bound_block_key(entity_key: str, filterset) -> tuple | None:
    """What a filtered list's filter block depends on — the language, which filters the address names, each
    one's value and errors, and the name of each record chosen in a lazy select (read while validating,
    ``known_records``) — or None when it depends on more (a drop-down of records, a chosen record the form did
    not read): rendered every time. A filter the address does not name shows the same every time: its field is
    neither built nor cleaned for the key (``EntityFilterSet.query_form``); the full form is built only to render."""
    from django.urls import get_script_prefix

    from .widgets import LazySelect, known_records

    form = filterset.query_form if hasattr(filterset, "query_form") else filterset.form
    full_class = filterset.get_form_class()
    static = _static_forms.get(full_class)
    if static is None:
        static = _static_forms[full_class] = _unbound_is_static(filterset.form)
    if not static:
        return None
    known_records(form)
    parts = []
    for bf in form:
        value = bf.value()
        label = ""
        widget = bf.field.widget
        if isinstance(widget, LazySelect) and value not in (None, ""):
            known = getattr(widget, "known", None)
            if known is None or str(known.pk) != str(value):
                return None
            label = str(known)
        parts.append((bf.html_name, repr(value), tuple(str(e) for e in bf.errors), label))
    return (entity_key, full_class, translation.get_language(), get_script_prefix(), tuple(parts))


def _unbound_is_static(form) -> bool:
    from django.forms import ModelChoiceField

    from .widgets import LazySelect

    return all(isinstance(f.widget, LazySelect) or (not isinstance(f, ModelChoiceField) and _static_widget(f.widget))
               for name, f in form.fields.items() if name != "q")


def _filter_block(entity_key: str, form) -> str:
    from .widgets import known_records

    if form.is_bound:
        form.errors  # noqa: B018 - validated first: its lazy selects then show the records it read
    known_records(form)
    parts = []
    if "q" in form.fields:
        bf = form["q"]
        value = bf.value()
        parts.append(
            f'<div class="filter"><label class="form-label" for="{_esc(bf.id_for_label)}">{_esc(bf.label)}</label>'
            f'<input id="{_esc(bf.id_for_label)}" class="form-control" type="search" name="q" '
            f'value="{_esc("" if value is None else value)}" maxlength="50"></div>')
    widgets = filter_widgets(entity_key, form)
    if widgets:
        parts.append(f'<details class="more-filters" data-open-wide><summary class="btn btn-sm btn-outline-secondary">'
                     f'{_esc(_("More filters"))}</summary><div class="more-filters-body">')
        for bf, widget in widgets:
            errors = bf.errors
            error = " has-error" if errors else ""
            if hasattr(bf.field.widget, "widgets"):
                # A pair of inputs (a date range): no <label for> can name both; the pair is a group named
                # by its label, each input by its own aria-label (起/止).
                label_id = _esc(f"{bf.auto_id}-label")
                parts.append(f'<div class="filter filter-range{error}" role="group" aria-labelledby="{label_id}">'
                             f'<span class="form-label" id="{label_id}">{_esc(bf.label)}</span>{widget}')
            else:
                parts.append(f'<div class="filter{error}"><label class="form-label" '
                             f'for="{_esc(bf.id_for_label)}">{_esc(bf.label)}</label>{widget}')
            parts.extend(f'<div class="invalid-feedback d-block">{_esc(e)}</div>' for e in errors)
            parts.append("</div>")
        parts.append("</div></details>")
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped above; widgets are Django's HTML


def _static_widget(widget) -> bool:
    from django import forms

    from .widgets import LazySelect

    widgets = getattr(widget, "widgets", [widget])
    return all(type(w) in (forms.Select, forms.TextInput, forms.DateInput, forms.NumberInput, forms.CheckboxInput)
               and not isinstance(w, LazySelect) for w in widgets)


def filter_summary(filterset) -> str:
    """The active filters in words, for the print header: "类型：教室；楼宇：实训楼"."""
    if not filterset.is_bound or not filterset.is_valid():
        return ""
    parts = []
    form = filterset.query_form if hasattr(filterset, "query_form") else filterset.form
    for name, value in form.cleaned_data.items():
        if value in (None, "", [], ()) or (hasattr(value, "start") and value.start is None and value.stop is None):
            continue
        field = form.fields[name]
        if hasattr(value, "start"):
            text = f"{format_value(value.start) or '…'} – {format_value(value.stop) or '…'}"
        elif getattr(field, "choices", None) and not hasattr(field, "queryset"):
            text = str(dict(field.choices).get(value, value))
        else:
            text = format_value(value)
        parts.append(f"{field.label}：{text}")
    return "；".join(parts)


class EntityExportView(EntityListView):
    """The list exactly as shown (filters, columns, sort) as .xlsx."""

    job_name = "core.export_list"  # where a list too long for the request is written (run_as_job)
    file_suffix = ".xlsx"

    def get(self, request, *args, **kwargs):
        e = self.entity
        filterset, qs, columns, _available, _sort = self.filtered()
        total = qs.count()
        filename = f"{e.verbose_name_plural}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.xlsx"
        if total > settings.HOUQIN_EXPORT_INLINE_MAX:
            return self.run_as_job(total, _("Export: %(list)s") % {"list": e.verbose_name_plural}, filename)
        return xlsx_response(lambda out: self.write_export(out, filterset, qs, columns), filename)

    def run_as_job(self, total: int, label: str, filename: str):
        """A large list is written on the job worker (``export_list_job``); its owner watches the progress
        page, which then offers the file (X-7)."""
        from .jobs import enqueue_tracked

        request = self.request
        job_id = enqueue_tracked(
            self.job_name, user=request.user, total=total, label=label, entity=self.entity.key,
            query=request.GET.urlencode(), user_id=request.user.pk, language=translation.get_language(),
            filename=filename,
        )
        return redirect("core:job_progress", job_id)

    def write_export(self, out, filterset, qs, columns, on_row=None) -> None:
        from .importing import excel_kind

        e = self.entity
        user = self.request.user
        xcols = [_excel().Column(key=c.name, header=str(c.header), kind=excel_kind(e, c.name)) for c in columns]
        rows = ([e.value(obj, c.name, user) for c in columns] for obj in qs.iterator(chunk_size=2000))
        if on_row is not None:
            rows = _counted(rows, on_row)
        title = [f"{user.school or ''} {e.verbose_name_plural}".strip()]
        summary = filter_summary(filterset)
        if summary:
            title.append(summary)
        _excel().write_xlsx(out, columns=xcols, rows=rows, sheet_title=e.verbose_name_plural, title_lines=title)


def _counted(rows, on_row):
    for row in rows:
        on_row()
        yield row


def export_list_job(*, entity: str, query: str, user_id: int, language: str = "", filename: str = "",
                    kind: str = "export") -> dict:
    """The jobs core.export_list and core.print_list (``kind`` "print"): the list exactly as its owner saw
    it (filters, columns, sort), written by that view's ``write_export`` to HOUQIN_EXPORT_DIR/<job id>.xlsx
    (or .pdf) with progress; the progress page then offers the download."""
    from django.contrib.auth import get_user_model
    from django.http import HttpRequest, QueryDict

    from .jobs import JobError, Progress, current_job_id

    e = registry.for_key(entity)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).select_related("school").first()
    if e is None or user is None or not user.has_perm(e.perm("view")):
        raise JobError(_("You may not export this list."))
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(query)
    request.user = user
    view = e.views[kind]()
    view.setup(request)
    with translation.override(language or settings.LANGUAGE_CODE):
        filterset, qs, columns, _available, _sort = view.filtered()
        progress = Progress(qs.count())
        folder = Path(settings.HOUQIN_EXPORT_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{current_job_id() or uuid.uuid4()}{view.file_suffix}"
        with path.open("wb") as out:
            view.write_export(out, filterset, qs, columns, on_row=progress.step)
    progress.finish(result_file=str(path), result_name=filename or path.name)
    return {"rows": progress.done, "file": path.name}


def import_commit_job(*, entity: str, path: str, user_id: int, language: str = "") -> dict:
    """The job core.import_commit: validate again and write all rows or none (as inline imports do),
    with the same audit entries sharing this job's request id; the file is removed afterwards."""
    from django.contrib.auth import get_user_model

    from .audit import reset_request_id, set_request_id
    from .importing import run_import
    from .jobs import JobError, current_job_id, job_progress_update

    e = registry.for_key(entity)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).select_related("school").first()
    if e is None or user is None or user.school is None or not user.has_perm(e.perm("add")):
        raise JobError(_("You may not import into this list."))
    source = Path(path)
    if not source.exists():
        raise JobError(_("The uploaded file has expired: upload it again."))
    token = set_request_id(current_job_id())
    try:
        with translation.override(language or settings.LANGUAGE_CODE):
            result = run_import(e, source, actor=user, school=user.school, commit=True)
            if not result.ok:
                first = "；".join(
                    (_("Row %(n)s") % {"n": p.row} + "：" if p.row else "") + p.message for p in result.problems[:5])
                raise JobError(_("Nothing was imported: %(problems)s") % {"problems": first})
            job_progress_update(done=result.created + result.updated + result.unchanged,
                                message=imported_message(result))
    finally:
        reset_request_id(token)
        source.unlink(missing_ok=True)
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}


def imported_message(result) -> str:
    """What an import that went through says: new, updated and (if any) unchanged rows."""
    if result.unchanged:
        return _("Imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.") % {
            "created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    return _("Imported: %(created)s new, %(updated)s updated.") % {"created": result.created,
                                                                     "updated": result.updated}


class EntityPrintView(EntityExportView):
    """The list as an A4 PDF with title, school, filter summary, page numbers and signatures (PUB-3).

    Lists longer than HOUQIN_PRINT_INLINE_MAX rows are typeset on the job worker (core.print_list, through
    the export's job and progress page), up to printing's HOUQIN_PRINT_MAX_ROWS."""

    job_name = "core.print_list"
    file_suffix = ".pdf"

    def get(self, request, *args, **kwargs):
        from . import printing

        e = self.entity
        filterset, qs, columns, _available, _sort = self.filtered()
        total = qs.count()
        most = getattr(settings, "HOUQIN_PRINT_MAX_ROWS", printing.DEFAULT_MAX_ROWS)
        if total > most:
            messages.error(request, _("%(count)s rows are too many to print at once (at most %(max)s): narrow the "
                                      "filter.") % {"count": total, "max": most})
            return redirect(f"{reverse(e.url_name('list'))}?{request.GET.urlencode()}")
        if total > settings.HOUQIN_PRINT_INLINE_MAX:
            filename = f"{e.verbose_name_plural}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.pdf"
            return self.run_as_job(total, _("Print: %(list)s") % {"list": e.verbose_name_plural}, filename)
        try:
            pdf = self.render_pdf(filterset, qs, columns)
        except printing.PrintError as exc:
            messages.error(request, str(exc))
            return redirect(reverse(e.url_name("list")))
        return pdf_response(pdf, "print.pdf")

    def render_pdf(self, filterset, qs, columns, on_row=None, timeout: float | None = None) -> bytes:
        from . import printing

        e = self.entity
        user = self.request.user
        pcols = [printing.PrintColumn(header=str(c.header), align=c.align,
                                      weight=2.0 if c.kind in ("text", "fk", "m2m") else 1.0) for c in columns]
        rows = ([e.display(obj, c.name, user) for c in columns] for obj in qs.iterator(chunk_size=2000))
        if on_row is not None:
            rows = _counted(rows, on_row)
        return printing.render_table_pdf(
            title=e.verbose_name_plural, school=str(user.school or ""), columns=pcols, rows=rows,
            filter_summary=filter_summary(filterset), landscape=e.print_landscape, timeout=timeout,
        )

    def write_export(self, out, filterset, qs, columns, on_row=None) -> None:
        """The printout as the job's file (export_list_job with kind "print"), with the worker's longer timeout."""
        from . import printing
        from .jobs import JobError

        try:
            out.write(self.render_pdf(filterset, qs, columns, on_row=on_row,
                                      timeout=settings.HOUQIN_PRINT_JOB_TIMEOUT))
        except printing.PrintError as exc:
            raise JobError(str(exc)) from None


# Detail and history -------------------------------------------------------------------------------


def field_rows(entity, obj, names, user) -> list[dict]:
    return [{"label": entity.header(n), "text": entity.display(obj, n, user) or "—", "link": entity.link(obj, n)}
            for n in names]


def history_rows(entity, entries) -> list[dict]:
    rows = []
    for entry in entries:
        changes = []
        names = entry.changed_fields or []
        for name in names:
            f = entity.field(name)
            if f is not None and not f.concrete and getattr(f, "related_model", None) is not None:
                label = f.related_model._meta.verbose_name_plural  # rows of a related table audited as a whole
            else:
                label = entity.header(name) if f is not None else name
            changes.append({"field": label, "old": _audit_text(entity, name, (entry.before or {}).get(name)),
                            "new": _audit_text(entity, name, (entry.after or {}).get(name))})
        rows.append({"entry": entry, "changes": changes})
    return rows


def _audit_text(entity, name, value) -> str:
    if value in (None, ""):
        return "—"
    f = entity.field(name)
    if f is not None and not f.concrete:
        f = None  # e.g. a service audits a reverse relation's rows as a whole ({"finance_balances": …})
    if f is not None and f.choices:
        return str(dict(f.choices).get(value, value))
    if f is not None and f.is_relation and f.many_to_one:
        obj = f.related_model._default_manager.filter(pk=value).first()
        return str(obj) if obj is not None else str(value)
    if isinstance(value, bool):
        return format_value(value)
    if isinstance(value, dict):  # rows audited as a whole, e.g. a month's finance balances
        return "；".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items()) or "—"
    if name == "id_number" and value:
        from houqin.org.validators import mask_identity_number  # history never shows a full number

        return mask_identity_number(str(value))
    return str(value)


class EntityDetailView(EntityView):
    template_name = "core/entity_detail.html"

    def panels(self, obj) -> list[dict]:
        e = self.entity
        user = self.request.user
        panels = []
        declared = e.detail_panels or (Fields(*dict.fromkeys(e.list_columns + e.form_fields)),)
        for panel in declared:
            if isinstance(panel, Fields):
                panels.append({"kind": "fields", "title": panel.title, "rows": field_rows(e, obj, panel.names, user)})
            elif isinstance(panel, Related):
                panels.append(self.related_panel(obj, panel))
        return [p for p in panels if p is not None]

    def related_panel(self, obj, panel: Related):
        user = self.request.user
        manager = getattr(obj, panel.accessor)
        target = registry.get(manager.model)
        if target is None or not user.has_perm(target.perm("view")):
            return None
        qs = target.queryset(user).filter(pk__in=manager.values("pk"))
        if target.is_voidable:
            qs = qs.filter(voided_at__isnull=True)
        qs = qs.order_by(*target.default_ordering())
        columns = target.columns_of(panel.columns or target.list_columns)
        total = qs.count()
        objects = list(qs[: panel.limit])
        rows = [{"cells": [{"text": target.display(o, c.name, user), "link": target.link(o, c.name),
                            "align": c.align} for c in columns], "badge": target.badge(o)} for o in objects]
        more = None
        if total > panel.limit:
            more = reverse(target.url_name("list"))
        return {"kind": "related", "title": panel.title or target.verbose_name_plural, "columns": columns,
                "rows": rows, "total": total, "more": more}

    def get_context(self, obj) -> dict:
        e = self.entity
        user = self.request.user
        can_change = e.can_edit and user.has_perm(e.perm("change")) and self.get_queryset("change").filter(
            pk=obj.pk).exists()
        can_void = (e.is_voidable and user.has_perm(e.perm("void")) and not obj.voided_at
                    and self.get_queryset("void").filter(pk=obj.pk).exists())
        can_delete = e.deletion == "delete" and user.has_perm(e.perm("delete"))
        return {
            **self.base_context(),
            "obj": obj,
            "title": str(obj),
            "badge": e.badge(obj),
            "panels": self.panels(obj),
            "history": history_rows(e, history_for(obj)[:20]),
            "can_change": can_change,
            "can_void": can_void,
            "can_delete": can_delete,
            "actions": e.detail_actions(obj, user),
            "transitions": e.transition_actions(obj, user),
        }

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return render(request, self.template_name, self.get_context(obj))


class EntityHistoryView(EntityView):
    template_name = "core/entity_history.html"

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        page = Paginator(history_for(obj), 50).get_page(request.GET.get("page"))
        return render(request, self.template_name, {
            **self.base_context(), "obj": obj, "title": str(obj), "page": page,
            "history": history_rows(self.entity, page.object_list),
        })


# Create, edit, void, delete ------------------------------------------------------------------------


class EntityFormView(EntityView):
    template_name = "core/entity_form.html"
    partial_name = "core/partials/entity_form_body.html"

    def get_instance(self):
        return None

    def save(self, form, instance):
        raise NotImplementedError

    def render_form(self, form, instance, status=200):
        e = self.entity
        context = {**self.base_context(), "form": form, "obj": instance,
                   "title": (_("Edit %(thing)s") % {"thing": instance}) if instance else
                   (_("Add %(thing)s") % {"thing": e.verbose_name}),
                   "cancel_url": e.detail_url(instance) if instance else reverse(e.url_name("list"))}
        template = self.partial_name if is_htmx(self.request) else self.template_name
        return render(self.request, template, context, status=status)

    def get(self, request, *args, **kwargs):
        instance = self.get_instance()
        initial = {k: v for k, v in request.GET.items() if k in self.entity.form_fields} if not instance else None
        return self.render_form(self.entity.form_for(request.user, instance=instance) if instance
                                else self.entity.form_class(initial=initial, user=request.user, entity=self.entity),
                                instance)

    def post(self, request, *args, **kwargs):
        instance = self.get_instance()
        form = self.entity.form_for(request.user, data=request.POST, files=request.FILES, instance=instance)
        if form.is_valid():
            try:
                obj = self.save(form, instance)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                url = self.entity.detail_url(obj)
                if is_htmx(request):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
        return self.render_form(form, instance, status=200 if is_htmx(request) else 400)


class EntityCreateView(EntityFormView):
    action = "add"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and (not self.entity.can_add or request.user.school_id is None):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def save(self, form, instance):
        return self.entity.create(data=form.cleaned_data, actor=self.request.user, school=self.request.user.school)


class EntityUpdateView(EntityFormView):
    action = "change"

    def get_instance(self):
        if not self.entity.can_edit:
            raise PermissionDenied
        obj = self.get_object("change")
        if getattr(obj, "voided_at", None):
            raise PermissionDenied
        return obj

    def save(self, form, instance):
        # form.save(commit=False) would already have changed the instance: the service takes the data.
        fresh = type(instance)._default_manager.get(pk=instance.pk)
        return self.entity.update(obj=fresh, data=form.cleaned_data, actor=self.request.user)


class EntityVoidView(EntityView):
    action = "void"
    template_name = "core/entity_void.html"

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return render(request, self.template_name, {**self.base_context(), "obj": obj, "title": str(obj)})

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        reason = request.POST.get("reason", "").strip()
        try:
            self.entity.void(obj=obj, reason=reason, actor=request.user)
        except ValidationError as exc:
            return render(request, self.template_name, {**self.base_context(), "obj": obj, "title": str(obj),
                                                        "error": " ".join(exc.messages), "reason": reason},
                          status=400)
        messages.success(request, _("Voided. The record is kept and shown with the voided filter."))
        return redirect(self.entity.detail_url(obj))


class EntityDeleteView(EntityView):
    action = "delete"

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        try:
            self.entity.delete(obj=obj, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(self.entity.detail_url(obj))
        messages.success(request, _("Deleted."))
        return redirect(reverse(self.entity.url_name("list")))


class EntityTransitionView(EntityView):
    """POST one workflow transition (the permission is the transition's own, checked by apply)."""

    transition_name = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.has_perm(self.entity.perm("view")):
            raise PermissionDenied
        return View.dispatch(self, request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        from .workflow import TransitionNotAllowed

        obj = self.get_object("view")
        try:
            self.entity.transition(obj=obj, name=self.transition_name, actor=request.user,
                                   note=request.POST.get("note", ""))
        except TransitionNotAllowed as exc:
            messages.error(request, str(exc))
            t = self.entity.workflow.get(self.transition_name)
            if t.perm and not request.user.has_perm(t.perm):
                raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Done: %(action)s.") % {
                "action": self.entity.workflow.get(self.transition_name).label})
        return redirect(self.entity.detail_url(obj))


# Import ---------------------------------------------------------------------------------------------


def _import_dir() -> Path:
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = timezone.now().timestamp() - 86400
    for old in folder.glob("*.upload"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    return folder


class EntityImportView(EntityView):
    action = "add"
    template_name = "core/entity_import.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and (not self.entity.import_fields or request.user.school_id is None):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def context(self, **extra):
        from .importing import template_columns

        return {**self.base_context(), "title": _("Import %(things)s") % {"things": self.entity.verbose_name_plural},
                "columns": template_columns(self.entity), **extra}

    def get(self, request, *args, **kwargs):
        if request.GET.get("template"):
            from .importing import write_template

            return xlsx_response(lambda out: write_template(self.entity, out),
                                 _("%(things)s import template.xlsx") % {"things": self.entity.verbose_name_plural})
        return render(request, self.template_name, self.context())

    def post(self, request, *args, **kwargs):
        from .importing import run_import

        e = self.entity
        token = request.POST.get("token", "")
        if token:
            stored = request.session.get("houqin_imports", {}).get(token)
            if not stored or stored.get("entity") != e.key or not Path(stored["path"]).exists():
                messages.error(request, _("The uploaded file has expired: upload it again."))
                return redirect(reverse(e.url_name("import")))
            source = Path(stored["path"])
            rows = stored.get("rows", 0)
            if rows > settings.HOUQIN_IMPORT_INLINE_MAX:
                # A large import runs on the job worker; its owner watches the progress page.
                from .jobs import enqueue_tracked

                request.session.get("houqin_imports", {}).pop(token, None)
                request.session.modified = True
                job_id = enqueue_tracked(
                    "core.import_commit", user=request.user, total=rows,
                    label=_("Import %(things)s") % {"things": e.verbose_name_plural},
                    entity=e.key, path=str(source), user_id=request.user.pk,
                    language=translation.get_language() or "",
                )
                return redirect("core:job_progress", job_id)
            result = run_import(e, source, actor=request.user, school=request.user.school, commit=True)
            if result.ok:
                source.unlink(missing_ok=True)
                request.session.get("houqin_imports", {}).pop(token, None)
                request.session.modified = True
                messages.success(request, imported_message(result))
                if result.accounts:
                    return render(request, self.template_name, self.context(result=result, done=True))
                return redirect(reverse(e.url_name("list")))
            return render(request, self.template_name, self.context(result=result, filename=stored.get("name")),
                          status=400)
        upload = request.FILES.get("file")
        if upload is None:
            return render(request, self.template_name, self.context(error=_("Choose an Excel file.")), status=400)
        if upload.size > 50 * 1024 * 1024:
            return render(request, self.template_name, self.context(error=_("The file is larger than 50 MB.")),
                          status=400)
        token = uuid.uuid4().hex
        target = _import_dir() / f"{token}.upload"
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        result = run_import(e, target, actor=request.user, school=request.user.school, commit=False)
        if result.ok:
            imports = request.session.setdefault("houqin_imports", {})
            imports[token] = {"entity": e.key, "path": str(target), "name": upload.name[:100],
                              "rows": result.created + result.updated + result.unchanged}
            request.session.modified = True
        else:
            target.unlink(missing_ok=True)
            token = ""
        return render(request, self.template_name,
                      self.context(result=result, token=token, filename=upload.name),
                      status=200 if result.ok else 400)


# Lookup (lazy select) ---------------------------------------------------------------------------


class LookupView(LoginRequiredMixin, View):
    """Matches for a lazy select: at most 20, by the entity's search fields (pinyin included)."""

    def get(self, request, app_label, model_name):
        entity = registry.for_key(f"{app_label}.{model_name}")
        if entity is None:
            raise Http404
        user = request.user
        if user.has_perm(entity.perm("view")):
            qs = entity.queryset(user)
        elif entity.lookup_public and user.school_id:
            qs = entity.base_queryset().filter(school_id=user.school_id)
        else:
            raise PermissionDenied
        if entity.is_voidable:
            qs = qs.filter(voided_at__isnull=True)
        q = request.GET.get("q") or ""
        if not q:
            q = next((v for k, v in request.GET.items() if k.endswith("__search") or k not in ("target", "q")), "")
        filterset = entity.filterset_class({"q": q}, queryset=qs, request=request)
        objects = list(filterset.qs.order_by(*entity.default_ordering())[:20])
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"results": [{"id": o.pk, "label": entity.lookup_label(o)} for o in objects]})
        return render(request, "core/partials/lookup_results.html", {
            "objects": [(o.pk, entity.lookup_label(o)) for o in objects], "target": request.GET.get("target", ""),
        })


# URLs ------------------------------------------------------------------------------------------------


def build_views(entity) -> dict[str, type]:
    name = entity.model.__name__
    bases = {
        "list": EntityListView, "detail": EntityDetailView, "add": EntityCreateView, "edit": EntityUpdateView,
        "history": EntityHistoryView, "export": EntityExportView, "print": EntityPrintView,
    }
    if entity.import_fields:
        bases["import"] = EntityImportView
    if entity.deletion == "void":
        bases["void"] = EntityVoidView
    elif entity.deletion == "delete":
        bases["delete"] = EntityDeleteView
    views = {key: type(f"{name}{key.capitalize()}View", (base,), {"entity": entity}) for key, base in bases.items()}
    if entity.workflow is not None:
        for t in entity.workflow.transitions:
            if not t.system:
                views[t.name] = type(f"{name}{t.name.title().replace('_', '')}View", (EntityTransitionView,),
                                     {"entity": entity, "transition_name": t.name})
    return views


def entity_urls(app_label: str) -> list:
    """The URL patterns of every entity of ``app_label``: ``<app>:<model>_list`` … (architecture §4.4)."""
    patterns = []
    for entity in registry.for_app(app_label):
        views = entity.views
        base = entity.url_path
        m = entity.model_name
        routes = [
            ("list", f"{base}/", f"{m}_list"),
            ("add", f"{base}/add/", f"{m}_add"),
            ("import", f"{base}/import/", f"{m}_import"),
            ("export", f"{base}/export/", f"{m}_export"),
            ("print", f"{base}/print/", f"{m}_print"),
            ("detail", f"{base}/<int:pk>/", m),
            ("edit", f"{base}/<int:pk>/edit/", f"{m}_edit"),
            ("void", f"{base}/<int:pk>/void/", f"{m}_void"),
            ("delete", f"{base}/<int:pk>/delete/", f"{m}_delete"),
            ("history", f"{base}/<int:pk>/history/", f"{m}_history"),
        ]
        if entity.workflow is not None:
            routes += [(t.name, f"{base}/<int:pk>/{t.name.replace('_', '-')}/", f"{m}_{t.name}")
                       for t in entity.workflow.transitions if not t.system]
        for key, route, url_name in routes:
            if key in views:
                patterns.append(path(route, views[key].as_view(), name=url_name))
    return patterns


