"""Stocktake pages (AST-4): the phone counting page and its JSON endpoints, the detail page's actions
(start, finish, approve, send back), the 盘盈盘亏 report with its A4 PDF and Excel file.

Counting needs ``assets.count_stocktake``; approving and sending back ``assets.approve_stocktake``; the
report ``assets.view_stocktake``. Every stocktake is looked up within the user's own school.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from houqin.core.entities import format_value, registry
from houqin.core.ids import as_key
from houqin.core.permissions import require_perm, scope
from houqin.core.responses import pdf_response, stamp, xlsx_response
from houqin.core.views_entity import EntityDetailView, add_service_errors
from houqin.org.models import Room

from .barcodes import parse_scan
from .models import Stocktake, StocktakeLine
from .services import stocktake as service

R = StocktakeLine.Result
COUNT = "assets.count_stocktake"
APPROVE = "assets.approve_stocktake"
ROOM_LINES_MAX = 400
REPORT_PAGE_MAX = 500
PHOTO_MAX_BYTES = 12 * 1024 * 1024
PHOTO_MAX_SIDE = 2400


def _for_counting(request, pk) -> Stocktake:
    """A stocktake of the user's school, for someone who may count (counters need not see the list)."""
    require_perm(request.user, COUNT)
    return get_object_or_404(Stocktake.objects.filter(school_id=request.user.school_id), pk=pk)


def _viewable(request, pk) -> Stocktake:
    return get_object_or_404(scope(Stocktake.objects.all(), request.user, "view"), pk=pk)


def _errors(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _bad(exc: ValidationError) -> JsonResponse:
    return JsonResponse({"ok": False, "errors": _errors(exc), "message": " ".join(exc.messages)}, status=400)


def _detail_url(stocktake) -> str:
    return reverse("assets:stocktake", args=[stocktake.pk])


# The counting page ----------------------------------------------------------------------------------------------
def _scope_rooms(stocktake: Stocktake):
    rooms = Room.objects.filter(school_id=stocktake.school_id)
    if stocktake.scope == Stocktake.Scope.BUILDING and stocktake.building_id:
        rooms = rooms.filter(building_id=stocktake.building_id)
    elif stocktake.scope == Stocktake.Scope.DEPARTMENT:
        rooms = rooms.filter(pk__in=StocktakeLine.objects.filter(stocktake=stocktake).values("book_room"))
    return rooms.order_by("code")


def _progress(stocktake) -> dict:
    data = service.progress(stocktake)
    return {**data, "text": _("%(counted)s of %(expected)s counted (%(percent)s%%), %(surplus)s unexpected") % data}


def _room_json(room) -> dict:
    return {"id": room.pk, "code": room.code, "name": room.name, "label": str(room)}


def _line_json(line: dict, room) -> dict:
    return {"code": line["code"], "name": line["name"], "result": line["result"], "label": line["result_label"],
            "book_quantity": line["book_quantity"], "found_quantity": line["found_quantity"],
            "unit": line["unit"], "batch": line["book_quantity"] > 1,
            "book_room": line["book_room"], "found_room": line["found_room"],
            "here": line["found_room_id"] == room.pk, "booked_here": line["book_room_id"] == room.pk}


def _room_payload(stocktake, room) -> dict:
    lines = []
    for n, line in enumerate(service.report_lines(stocktake, room=room)):
        if n >= ROOM_LINES_MAX:
            break
        lines.append(_line_json(line, room))
    return {"room": _room_json(room), "counts": service.room_status(stocktake, room), "lines": lines,
            "progress": _progress(stocktake), "status": stocktake.status}


def _find_room(stocktake, text: str):
    kind, value = parse_scan(text)
    value = value.strip()
    if not value:
        raise ValidationError({"room": _("Scan the room's door label or type its room code.")})
    rooms = Room.objects.filter(school_id=stocktake.school_id)
    room = rooms.filter(code=value).first() or rooms.filter(code__iexact=value).first()
    if room is None and as_key(value) is not None:
        room = rooms.filter(pk=as_key(value)).first()
    if room is None:
        raise ValidationError({"room": _("No room has the code “%(code)s”.") % {"code": value}})
    return room


@login_required
def count_index(request):
    """The stocktakes being counted, for counters (who may not see the stocktake list)."""
    require_perm(request.user, COUNT)
    open_ones = Stocktake.objects.filter(school_id=request.user.school_id, status=Stocktake.Status.COUNTING)
    return render(request, "assets/stocktake/count_index.html", {
        "stocktakes": [(s, _progress(s)) for s in open_ones.select_related("building", "department")],
        "title": _("Count a stocktake")})


@login_required
@require_GET
def count_page(request, pk):
    """盘点 on a phone: choose or scan the room, then scan or type the asset codes."""
    stocktake = _for_counting(request, pk)
    texts = {
        "offline": _("No network: %(n)s scans kept on this phone, sent when it is back."),
        "queued": _("Kept on this phone (no network): %(code)s"),
        "sending": _("Sending %(n)s kept scans…"),
        "sent": _("All kept scans sent."),
        "signin": _("The server did not take the scan: sign in again, the scans stay on this phone."),
        "no_code": _("No code found in the photo: hold the label flat, closer and in the light."),
        "camera_refused": _("The camera cannot be opened here: take a photo instead."),
        "camera_hint": _("Point the camera at the label."),
        "quantity_for": _("%(name)s: %(book)s on the books. How many are in this room?"),
        "choose_room": _("Choose or scan the room first."),
        "room_now": _("Now counting %(room)s."),
        "reading": _("Reading the photo…"),
        "here": _("here"),
        "in_room": _("in %(room)s"),
        "of": _("%(found)s of %(book)s"),
        "not_counting": _("This stocktake is not being counted now."),
    }
    context = {
        "stocktake": stocktake, "title": _("Count %(number)s") % {"number": stocktake.number},
        "rooms": _scope_rooms(stocktake), "progress": _progress(stocktake), "texts": texts,
        "counting": stocktake.status == Stocktake.Status.COUNTING,
        "urls": {"room": reverse("assets:stocktake_count_room", args=[stocktake.pk]),
                 "scan": reverse("assets:stocktake_scan", args=[stocktake.pk]),
                 "decode": reverse("assets:stocktake_decode", args=[stocktake.pk])},
        "can_view": request.user.has_perm("assets.view_stocktake"),
    }
    return render(request, "assets/stocktake/count.html", context)


@login_required
@require_GET
def count_room(request, pk):
    """JSON: one room's counts and lines (the room by code, ``ROOM:<code>`` or id)."""
    stocktake = _for_counting(request, pk)
    try:
        room = _find_room(stocktake, request.GET.get("room", ""))
    except ValidationError as exc:
        return _bad(exc)
    return JsonResponse({"ok": True, **_room_payload(stocktake, room)})


def _body(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise ValidationError(_("The request is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise ValidationError(_("The request is not valid JSON."))
        return data
    return request.POST.dict()


def _quantity(value):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        number = None
    # Finite first: int() of an infinity overflows, and comparing a signalling NaN raises (server errors).
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise ValidationError({"quantity": _("Enter a whole number.")})
    if number.adjusted() > 9:  # int() of "1e999999" alone keeps a worker busy for half a minute
        raise ValidationError({"quantity": _("Enter a count from 0 to %(max)s.") % {"max": service.MAX_QUANTITY}})
    return int(number)


@login_required
@require_POST
def scan(request, pk):
    """JSON: record one scan ``{code, room, quantity?, client_id?}``; 400 with the field errors when refused."""
    stocktake = _for_counting(request, pk)
    try:
        data = _body(request)
        code = str(data.get("code") or "")
        kind, value = parse_scan(code)
        if kind == "room":  # a door label scanned into the asset field: switch rooms
            room = _find_room(stocktake, code)
            return JsonResponse({"ok": True, "switch_room": True, **_room_payload(stocktake, room)})
        room_id = as_key(data.get("room"))
        room = Room.objects.filter(school_id=stocktake.school_id, pk=room_id).first() if room_id is not None else None
        result = service.stocktake_scan(stocktake=stocktake, code=value, room=room, counted_by=request.user,
                                        quantity=_quantity(data.get("quantity")),
                                        client_id=str(data.get("client_id") or ""))
    except ValidationError as exc:
        return _bad(exc)
    stocktake.refresh_from_db(fields=["status"])
    body = {"ok": True, "outcome": result.outcome, "message": result.message, "again": result.again,
            "replayed": result.replayed, "need_quantity": result.need_quantity, "code": value, **result.extra}
    if result.line is not None and room is not None:
        line = next(service.report_lines(stocktake, room=None, results=None, ids=[result.line.pk]), None)
        body["line"] = _line_json(line, room) if line else None
    if room is not None:
        body.update({"room": _room_json(room), "counts": service.room_status(stocktake, room),
                     "progress": _progress(stocktake)})
    return JsonResponse(body)


@login_required
@require_POST
def decode(request, pk):
    """JSON: the codes in a photo of a label (plain-HTTP intranets refuse live cameras; zxing-cpp reads it)."""
    _for_counting(request, pk)
    upload = request.FILES.get("photo")
    if upload is None:
        return _bad(ValidationError({"photo": _("Take a photo of the label.")}))
    if upload.size > PHOTO_MAX_BYTES:
        return _bad(ValidationError({"photo": _("The photo is larger than %(mb)s MB.") % {
            "mb": PHOTO_MAX_BYTES // (1024 * 1024)}}))
    try:
        codes = decode_image(upload.read())
    except ValueError as exc:
        return _bad(ValidationError({"photo": str(exc)}))
    return JsonResponse({"ok": True, "codes": codes})


def decode_image(data: bytes) -> list[dict]:
    """The bar codes and QR codes in an image, in reading order, each once: ``[{"text", "format"}]``."""
    import zxingcpp
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image = ImageOps.exif_transpose(image)
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValueError(_("The file is not a photo that can be read (JPEG or PNG).")) from None
    if max(image.size) > PHOTO_MAX_SIDE:
        image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    seen, codes = set(), []
    for found in zxingcpp.read_barcodes(image):
        text = (found.text or "").strip()
        if text and text not in seen:
            seen.add(text)
            codes.append({"text": text, "format": found.format.name})
    return codes


# Detail page and its actions ---------------------------------------------------------------------------------------
class StocktakeDetailView(EntityDetailView):
    """The generic document page plus the count summary and the result of the approval."""

    template_name = "assets/stocktake/detail.html"

    def get_context(self, obj):
        context = super().get_context(obj)
        if context.get("badge") and context["badge"][1] == "purple":
            # Tabler's purple-lt badge is below the WCAG contrast ratio (axe); azure reads the same here.
            context["badge"] = (context["badge"][0], "azure")
        if obj.status != Stocktake.Status.PLANNED:
            context["summary"] = service.report_summary(obj)
            context["progress"] = _progress(obj)
            context["report_url"] = reverse("assets:stocktake_report", args=[obj.pk])
        if obj.disposal_id:
            from .models import AssetDisposal

            context["disposal_url"] = registry[AssetDisposal].detail_url(obj.disposal)
        return context


def detail_actions(stocktake: Stocktake, user) -> list[dict]:
    """The buttons of the detail page, each one a service (StocktakeEntity.detail_actions)."""
    actions = []
    if stocktake.school_id != user.school_id:
        return actions
    status = stocktake.status
    if status == Stocktake.Status.PLANNED and user.has_perm(COUNT):
        actions.append({"label": _("Start counting"), "url": reverse("assets:stocktake_start", args=[stocktake.pk]),
                        "method": "post", "style": "primary"})
    if status == Stocktake.Status.COUNTING and user.has_perm(COUNT):
        actions.append({"label": _("Open the counting page"), "method": "get", "style": "primary",
                        "url": reverse("assets:stocktake_count", args=[stocktake.pk])})
        actions.append({"label": _("Finish counting"), "method": "post",
                        "url": reverse("assets:stocktake_finish", args=[stocktake.pk]),
                        "confirm": _("Finish counting? Everything not counted yet becomes missing.")})
    if status == Stocktake.Status.SUBMITTED and user.has_perm(APPROVE):
        actions.append({"label": _("Approve and post"), "method": "post", "style": "primary",
                        "url": reverse("assets:stocktake_approve", args=[stocktake.pk]),
                        "confirm": _("Approve? Places are corrected, missing cards go to a draft disposal.")})
        actions.append({"label": _("Send back"), "method": "get",
                        "url": reverse("assets:stocktake_reject", args=[stocktake.pk])})
    if status != Stocktake.Status.PLANNED and user.has_perm("assets.view_stocktake"):
        actions.append({"label": _("Stocktake report (盘盈盘亏)"), "method": "get",
                        "url": reverse("assets:stocktake_report", args=[stocktake.pk])})
    return actions


def _act(request, pk, perm: str, run, done: str):
    require_perm(request.user, perm)
    stocktake = get_object_or_404(Stocktake.objects.filter(school_id=request.user.school_id), pk=pk)
    try:
        outcome = run(stocktake)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return stocktake, None
    messages.success(request, done)
    return stocktake, outcome


@login_required
@require_POST
def start(request, pk):
    stocktake, _done = _act(request, pk, COUNT, lambda s: service.stocktake_start(stocktake=s, actor=request.user),
                            _("Counting started: the list of what to count is ready."))
    if _done is not None:
        return redirect("assets:stocktake_count", stocktake.pk)
    return redirect(_detail_url(stocktake))


@login_required
@require_POST
def finish(request, pk):
    stocktake, _done = _act(request, pk, COUNT, lambda s: service.stocktake_finish(stocktake=s, actor=request.user),
                            _("Counting finished: the result waits for approval."))
    return redirect(reverse("assets:stocktake_report", args=[stocktake.pk]) if _done is not None
                    else _detail_url(stocktake))


@login_required
@require_POST
def approve(request, pk):
    stocktake, result = _act(request, pk, APPROVE,
                             lambda s: service.stocktake_approve(stocktake=s, actor=request.user),
                             _("Approved and posted."))
    if result is not None:
        parts = [_("%(n)s places corrected.") % {"n": result.moved}]
        if result.disposal is not None:
            parts.append(_("Missing cards are on the draft disposal %(number)s: submit it for approval.") % {
                "number": result.disposal.number})
        if result.items_written_off:
            parts.append(_("%(n)s missing low-value items written off.") % {"n": result.items_written_off})
        if result.surplus:
            parts.append(_("%(n)s unexpected codes to register (see the report).") % {"n": len(result.surplus)})
        if result.short:
            parts.append(_("Short batches to adjust by hand: %(codes)s.") % {"codes": ", ".join(result.short[:10])})
        if result.not_disposed:
            parts.append(_("Not put on the disposal: %(what)s.") % {"what": "; ".join(result.not_disposed[:10])})
        if result.kept:
            parts.append("; ".join(result.kept[:10]))
        messages.info(request, " ".join(parts))
    return redirect(_detail_url(stocktake))


class RejectForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Reason"), max_length=500,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=gettext_lazy("Say what to count again; the counters see it."))


@login_required
def reject(request, pk):
    """Send the result back with a reason; the counters count again (recount)."""
    require_perm(request.user, APPROVE)
    stocktake = get_object_or_404(Stocktake.objects.filter(school_id=request.user.school_id), pk=pk)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service.stocktake_reject(stocktake=stocktake, actor=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Sent back to the counters."))
            return redirect(_detail_url(stocktake))
    return render(request, "assets/action_form.html", {
        "form": form, "obj": stocktake, "title": _("Send back %(what)s") % {"what": stocktake.number},
        "cancel_url": _detail_url(stocktake)}, status=400 if form.errors else 200)


# The 盘盈盘亏 report ----------------------------------------------------------------------------------------------
VARIANCES = (R.MOVED, R.SHORT, R.MISSING, R.SURPLUS)


def _scope_text(stocktake) -> str:
    where = stocktake.building or stocktake.department or stocktake.get_scope_display()
    return f"{stocktake.number} {stocktake.title} · {where} · {stocktake.planned_on:%Y-%m-%d}"


@login_required
def report(request, pk):
    stocktake = _viewable(request, pk)
    if stocktake.status == Stocktake.Status.PLANNED:
        messages.error(request, _("The stocktake has not started: there is no result yet."))
        return redirect(_detail_url(stocktake))
    sections = []
    for result in (*VARIANCES, R.PENDING, R.FOUND):
        rows = []
        for n, line in enumerate(service.report_lines(stocktake, results=[result])):
            if n >= REPORT_PAGE_MAX:
                break
            if result == R.SURPLUS and not line["asset_id"] and not line["item_id"]:
                line["register_url"] = reverse("assets:asset_add") + "?" + _query(code=line["code"])
            rows.append(line)
        sections.append({"result": result, "label": dict(R.choices)[result], "rows": rows})
    summary = service.report_summary(stocktake)
    for section in sections:
        section["total"] = summary["by_result"][section["result"]]["count"]
    return render(request, "assets/stocktake/report.html", {
        "stocktake": stocktake, "title": _("Stocktake report %(number)s") % {"number": stocktake.number},
        "summary": summary, "sections": [s for s in sections if s["total"]], "scope_text": _scope_text(stocktake),
        "page_max": REPORT_PAGE_MAX, "detail_url": _detail_url(stocktake),
        "can_register": request.user.has_perm("assets.add_asset"),
        "disposal_url": registry[type(stocktake.disposal)].detail_url(stocktake.disposal)
        if stocktake.disposal_id else ""})


def _query(**params) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def _report_columns():
    return [
        (_("Result"), "left", 1.0), (_("Code"), "left", 1.4), (_("Name"), "left", 1.8),
        (_("Book place"), "left", 1.6), (_("Found in"), "left", 1.6), (_("Book quantity"), "right", 0.8),
        (_("Counted"), "right", 0.8), (_("Value difference"), "right", 1.1), (_("Note"), "left", 1.6),
    ]


def _report_rows(stocktake, results):
    for line in service.report_lines(stocktake, results=results):
        yield [line["result_label"], line["code"], line["name"], line["book_room"], line["found_room"],
               line["book_quantity"], line["found_quantity"], line["difference"], line["note"]]


@login_required
def report_print(request, pk):
    """The 盘盈盘亏 report as an A4 PDF: the differences (found lines are only counted), with signatures."""
    from houqin.core import printing

    stocktake = _viewable(request, pk)
    summary = service.report_summary(stocktake)
    columns = [printing.PrintColumn(header=str(h), align=a, weight=w) for h, a, w in _report_columns()]
    rows = ([str(c) if c is not None else "" for c in (*row[:7], format_value(row[7]) if row[7] is not None
                                                          else "", row[8])]
            for row in _report_rows(stocktake, VARIANCES))
    totals = "; ".join(f"{r['label']} {r['count']}" for r in summary["rows"])
    totals += " · " + _("gain %(gain)s, loss %(loss)s") % {"gain": format_value(summary["gain"]),
                                                          "loss": format_value(summary["loss"])}
    try:
        pdf = printing.render_table_pdf(
            title=_("Stocktake report (盘盈盘亏) %(number)s") % {"number": stocktake.number},
            school=str(stocktake.school), columns=columns, rows=rows,
            filter_summary=f"{_scope_text(stocktake)} · {totals}", landscape=True,
            signatures=(_("Counted by"), _("Checked by"), _("Approved by"), _("Date")))
    except printing.PrintError as exc:
        messages.error(request, str(exc))
        return redirect("assets:stocktake_report", stocktake.pk)
    return pdf_response(pdf, f"{stocktake.number}.pdf")


@login_required
def report_export(request, pk):
    """Every line of the stocktake (found ones too) as .xlsx, in report order."""
    from houqin.core import excel

    stocktake = _viewable(request, pk)
    kinds = ["text", "text", "text", "text", "text", "int", "int", "decimal", "text"]
    columns = [excel.Column(key=str(i), header=str(h), kind=k)
               for i, ((h, _a, _w), k) in enumerate(zip(_report_columns(), kinds, strict=True))]
    title_lines = [f"{stocktake.school} {_('Stocktake report (盘盈盘亏)')}", _scope_text(stocktake)]
    return xlsx_response(lambda out: excel.write_xlsx(out, columns=columns, rows=_report_rows(stocktake, None),
                                                      sheet_title=_("Stocktake report"), title_lines=title_lines),
                         f"{stocktake.number}-{stamp()}.xlsx")


__all__ = ["StocktakeDetailView", "decode_image", "detail_actions"]
