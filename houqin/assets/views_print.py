"""Print pages of the assets app (PUB-3, AST-1, AST-2): the print centre, asset cards, labels, the
室内财产清单 of every room and the 固定资产明细账 (PDF and Excel).

Permissions, checked here on the server: cards and labels need ``assets.print_labels``; door lists
need ``assets.view_asset`` and a whole-school role (a door list must list everything in the room);
the ledger needs ``assets.view_asset`` and shows what the asset row rule lets the user see. Cards,
labels and the ledger take the asset list's own query string (its filters, scoped like the list),
or ``ids`` for a selection.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from houqin.core.entities import registry
from houqin.core.permissions import require_perm
from houqin.core.printing import PrintError
from houqin.core.responses import pdf_response, stamp, xlsx_response
from houqin.core.views_entity import filter_summary
from houqin.org.models import Building, Room

from . import printing, selectors
from .models import Asset, LowValueItem

PRINT_PERM = "assets.print_labels"
VIEW_PERM = "assets.view_asset"
PASS_THROUGH = ("what", "layout", "offset", "copies", "symbology", "paper", "group", "format", "ids", "building",
                "room_list")


class BadRequest(Exception):
    """A print option the user gave is wrong; the message says which."""


def _school_name(user) -> str:
    return str(user.school or "")


def _whole_school(user) -> bool:
    return user.has_role(*selectors.WHOLE_SCHOOL) or user.is_superuser


def _require_school(user) -> None:
    """Printouts are a school's own paperwork: an account of no school (the bureau's) prints none."""
    if not user.school_id:
        raise PermissionDenied(_("Asset paperwork is printed for one school: this account belongs to none."))


def _filters(request) -> QueryDict:
    """The list filters of the query string, without this page's own options."""
    query = request.GET.copy()
    for key in (*PASS_THROUGH, "page", "sort"):
        query.pop(key, None)
    return query


def _ids(request) -> list[int] | None:
    raw = request.GET.get("ids", "").strip()
    if not raw:
        return None
    try:
        return [int(x) for x in raw.replace(" ", "").split(",") if x]
    except ValueError:
        raise BadRequest(_("The selection “%(ids)s” is not a list of record numbers.") % {"ids": raw[:50]}) from None


def _int(request, name: str, default: int, label: str) -> int:
    raw = request.GET.get(name, "").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(_("%(field)s must be a whole number, not “%(value)s”.") % {"field": label,
                                                                                    "value": raw[:20]}) from None


def filtered(request, model, action: str = "view"):
    """(queryset, filter summary) of ``model`` for this request: scoped like its list, filtered by the list's
    query string (or the ``ids`` selection); disposed records are left out unless a status filter asks."""
    entity = registry[model]
    _require_school(request.user)
    qs = entity.queryset(request.user, action).filter(school_id=request.user.school_id)
    ids = _ids(request)
    if ids is not None:
        return qs.filter(pk__in=ids).order_by("code"), ""
    query = _filters(request)
    filterset = entity.filterset_class(query or None, queryset=qs, request=request)
    if filterset.is_bound and not filterset.is_valid():
        problems = "; ".join(f"{filterset.form.fields[name].label}: {' '.join(errors)}" if name in
                             filterset.form.fields else " ".join(errors)
                             for name, errors in filterset.form.errors.items())
        raise BadRequest(_("The filter is not valid: %(problems)s") % {"problems": problems})
    qs = filterset.qs
    if not query.get("status"):
        qs = qs.exclude(status="disposed")
    return qs.order_by("code"), filter_summary(filterset)


def _back(request):
    """Back to the print centre with the same query, so nothing typed is lost."""
    url = reverse("assets:print_center")
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


# The print centre ------------------------------------------------------------------------------------------


@login_required
@require_GET
def print_center(request):
    """Where cards, labels, door lists and the ledger are printed from; takes the asset list's query string."""
    user = request.user
    require_perm(user, VIEW_PERM)
    _require_school(user)
    entity = registry[Asset]
    qs = entity.queryset(user, "view")
    filterset = entity.filterset_class(_filters(request) or None, queryset=qs, request=request)
    selected = []
    try:
        ids = _ids(request)
    except BadRequest as exc:
        messages.error(request, str(exc))
        ids = None
    if ids:
        selected = list(qs.filter(pk__in=ids).order_by("code")[:50])
    try:
        matching = filtered(request, Asset)[0].count() if not ids else len(selected)
    except BadRequest as exc:
        messages.error(request, str(exc))
        matching = 0
    can_print = user.has_perm(PRINT_PERM)
    keep = list(_filters(request).lists())
    if ids:
        keep.append(("ids", [",".join(str(a.pk) for a in selected)]))
    context = {
        "hidden": [(k, v) for k, values in keep for v in values],
        "matching": matching,
        "title": _("Print asset paperwork"),
        "filter_form": filterset.form,
        "filter_query": _filters(request).urlencode(),
        "summary": filter_summary(filterset) if filterset.is_bound and filterset.is_valid() else "",
        "ids": ",".join(str(a.pk) for a in selected),
        "selected": selected,
        "can_print": can_print,
        "can_rooms": user.has_perm(VIEW_PERM) and _whole_school(user),
        "whole_school": _whole_school(user),
        "layouts": list(printing.LAYOUTS.values()),
        "symbologies": list(printing.SYMBOLOGIES.items()),
        "groups": list(printing.GROUPS.items()),
        "buildings": Building.objects.filter(school_id=user.school_id).order_by("code"),
        "room_payload_example": "ROOM:" + _("room code"),
        "list_url": reverse("assets:asset_list"),
        "values": {k: request.GET.get(k, "") for k in PASS_THROUGH},
    }
    return render(request, "assets/print/center.html", context)


# Cards and labels ------------------------------------------------------------------------------------------


@login_required
@require_GET
def cards_pdf(request):
    """资产卡片 of the filtered cards (or ``ids``), one per page, A4 or A5."""
    require_perm(request.user, PRINT_PERM)
    try:
        assets, _summary = filtered(request, Asset)
        pdf = printing.render_cards(assets, school=_school_name(request.user),
                                    paper=request.GET.get("paper", "a4") or "a4")
    except (BadRequest, PrintError) as exc:
        messages.error(request, str(exc))
        return _back(request)
    return pdf_response(pdf, f"asset-cards-{stamp()}.pdf")


@login_required
@require_GET
def labels_pdf(request):
    """Labels of the filtered cards and/or low-value items: layout, start position, copies, QR or Code128."""
    user = request.user
    require_perm(user, PRINT_PERM)
    what = request.GET.get("what", "assets") or "assets"
    try:
        if what not in ("assets", "items", "all"):
            raise BadRequest(_("Choose what to label: fixed assets, low-value items or both."))
        offset = _int(request, "offset", 0, _("Start position"))
        copies = _int(request, "copies", 1, _("Copies per asset"))
        assets = filtered(request, Asset)[0] if what in ("assets", "all") else Asset.objects.none()
        if what in ("items", "all"):
            require_perm(user, "assets.view_lowvalueitem")
            items = filtered(request, LowValueItem)[0].select_related("room")
        else:
            items = LowValueItem.objects.none()
        limit = printing.MAX_LABELS + 1
        subjects = printing.label_subjects(assets.select_related("room")[:limit], items[:limit])
        pdf = printing.render_labels(subjects, school=_school_name(user),
                                     layout=request.GET.get("layout") or printing.DEFAULT_LAYOUT, offset=offset,
                                     copies=copies, symbology=request.GET.get("symbology") or "qr")
    except (BadRequest, PrintError) as exc:
        messages.error(request, str(exc))
        return _back(request)
    return pdf_response(pdf, f"asset-labels-{stamp()}.pdf")


# Door lists ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def room_lists_pdf(request):
    """室内财产清单 of every room holding assets (or one building's, or one room's), in one PDF."""
    user = request.user
    require_perm(user, VIEW_PERM)
    _require_school(user)
    if not _whole_school(user):
        raise PermissionDenied(_("Door lists are printed by the asset keeper and the logistics office: they list "
                                 "everything in a room."))
    rooms = Room.objects.filter(school_id=user.school_id)
    try:
        building = _int(request, "building", 0, _("Building"))
        room = _int(request, "room_list", 0, _("Room"))
        if building:
            rooms = rooms.filter(building_id=building)
        if room:
            rooms = rooms.filter(pk=room)
        lists = printing.room_lists(user.school_id, rooms)
        pdf = printing.render_room_lists(lists, school=_school_name(user))
    except (BadRequest, PrintError) as exc:
        messages.error(request, str(exc))
        return _back(request)
    return pdf_response(pdf, f"room-lists-{stamp()}.pdf")


# Ledger ----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def ledger(request):
    """固定资产明细账 grouped by category, department, place or custodian: PDF (landscape A4) or Excel."""
    user = request.user
    require_perm(user, VIEW_PERM)
    group = request.GET.get("group") or "category"
    kind = request.GET.get("format") or "pdf"
    try:
        if group not in printing.GROUPS:
            raise BadRequest(_("Unknown grouping “%(group)s”.") % {"group": group[:20]})
        if kind not in ("pdf", "xlsx"):
            raise BadRequest(_("Choose PDF or Excel."))
        assets, summary = filtered(request, Asset)
        if not _whole_school(user):
            who = _("Only what you keep")
            summary = f"{summary}；{who}" if summary else who
        if kind == "xlsx":
            return xlsx_response(lambda out: printing.write_ledger_xlsx(
                out, assets, group_by=group, school=_school_name(user), filter_summary=summary),
                f"{printing.ledger_title()}-{stamp()}.xlsx")
        pdf = printing.render_ledger_pdf(assets, group_by=group, school=_school_name(user), filter_summary=summary)
    except (BadRequest, PrintError) as exc:
        messages.error(request, str(exc))
        return _back(request)
    return pdf_response(pdf, f"asset-ledger-{stamp()}.pdf")
