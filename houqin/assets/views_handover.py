"""交接单 pages (AST-14): the detail page the receiver ticks on a phone, confirm, refresh, the A4 printout,
and the API actions (lines, tick, refresh, confirm) added to the generated handover viewset.

Who may do what is decided by ``services.handover`` (``can_view``, ``can_tick``, ``can_confirm``): the
asset staff by their permissions, and the three people named on the handover (交接人, 接收人, 监交人)
for their own handover even without the asset permissions (the receiver is usually a teacher).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST
from rest_framework import exceptions, permissions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from houqin.core.ids import as_key
from houqin.core.printing import PrintColumn, PrintError, render_table_pdf
from houqin.core.responses import pdf_response
from houqin.core.views_entity import EntityDetailView, is_htmx

from .models import AssetLoan, Handover, HandoverLine
from .services import handover as services
from .services import journal


def _handover(user, pk) -> Handover:
    """The handover if ``user`` may see it (asset staff of the school, or one of its three people)."""
    key = as_key(pk)  # the API's detail route takes any text ("null,null"): int() of it was a server error
    handover = Handover.objects.select_related("from_staff", "to_staff", "supervisor", "created_by").filter(
        pk=key, school_id=user.school_id).first() if key and getattr(user, "school_id", None) else None
    if handover is None:
        raise Http404
    if not services.can_view(handover, user):
        raise PermissionDenied
    return handover


def _lines(handover):
    return list(handover.lines.select_related("asset", "asset__room", "item", "item__room", "loan__asset",
                                              "loan__item"))


def _kind(line) -> str:
    if line.asset_id:
        return _("Fixed asset")
    if line.item_id:
        return _("Low-value item")
    return _("Loan")


def _place(line) -> str:
    subject = line.asset or line.item
    return str(subject.room) if subject is not None and subject.room_id else ""


def _line_state(line) -> str:
    if line.loan_id:
        return _("Returned") if line.loan.status == AssetLoan.Status.RETURNED else _("Still borrowed")
    return _("Checked") if line.received else _("Not checked")


class HandoverConfirmForm(forms.Form):
    """The confirm button's one option: move the things to another department as well."""

    department = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("Also move to department"),
        empty_label=gettext_lazy("Department unchanged"),
        help_text=gettext_lazy("Leave it unchanged unless the things go to another department with the receiver."))

    def __init__(self, *args, school, **kwargs):
        from houqin.org.models import Department

        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(school=school).order_by("name")
        self.fields["department"].widget.attrs["class"] = "form-select"


def _work_context(request, handover, lines=None, error="") -> dict:
    """What the tick list and the confirm box need (rendered whole, and again after each tick)."""
    user = request.user
    lines = _lines(handover) if lines is None else lines
    tickable = [ln for ln in lines if not ln.loan_id]
    problems = services.confirm_problems(handover, lines) if handover.status == Handover.Status.DRAFT else []
    return {
        "obj": handover, "lines": [{"line": ln, "kind": _kind(ln), "place": _place(ln), "state": _line_state(ln)}
                                   for ln in lines],
        "ticked": sum(1 for ln in tickable if ln.received), "tickable": len(tickable),
        "draft": handover.status == Handover.Status.DRAFT,
        "can_tick": services.can_tick(handover, user), "can_confirm": services.can_confirm(handover, user),
        "can_refresh": services.can_refresh(handover, user), "problems": problems, "error": error,
        "confirm_form": HandoverConfirmForm(school=handover.school),
    }


class HandoverDetailView(EntityDetailView):
    """The 交接单: three people, the lines with a tick box each, confirm and refresh (phone first)."""

    template_name = "assets/handover/detail.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.handover = _handover(request.user, kwargs["pk"])  # the three people may see it without the perm
        return View.dispatch(self, request, *args, **kwargs)

    def get_object(self, action=None):
        return self.handover

    def get_context(self, obj):
        context = super().get_context(obj)
        context.update(_work_context(self.request, obj))
        return context


def _after(request, handover):
    return redirect(reverse("assets:handover", args=[handover.pk]))


@login_required
@require_POST
def handover_tick(request, pk, line_pk):
    """One tick of the receiver (htmx: the line and the confirm box come back; else the page)."""
    handover = _handover(request.user, pk)
    line = get_object_or_404(HandoverLine, pk=line_pk, handover=handover)
    error = ""
    try:
        services.handover_tick(line, request.POST.get("received") in ("on", "1", "true"), request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if is_htmx(request):
        handover.refresh_from_db()
        return render(request, "assets/handover/partials/work.html", _work_context(request, handover, error=error))
    if error:
        messages.error(request, error)
    return _after(request, handover)


@login_required
@require_POST
def handover_refresh(request, pk):
    handover = _handover(request.user, pk)
    try:
        result = services.handover_refresh(handover, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if result["added"] or result["removed"]:
            parts = []
            if result["added"]:
                parts.append(_("Added: %(items)s.") % {"items": "、".join(result["added"])})
            if result["removed"]:
                parts.append(_("Removed (no longer held): %(items)s.") % {"items": "、".join(result["removed"])})
            messages.success(request, " ".join(parts))
        else:
            messages.success(request, _("The list is up to date."))
    return _after(request, handover)


@login_required
@require_POST
def handover_confirm(request, pk):
    handover = _handover(request.user, pk)
    if not services.can_confirm(handover, request.user):
        raise PermissionDenied
    form = HandoverConfirmForm(request.POST, school=handover.school)
    department = form.cleaned_data["department"] if form.is_valid() else None
    try:
        services.handover_confirm(handover, request.user, department=department or journal.KEEP)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Handover confirmed: %(to)s now keeps everything on it.") % {
            "to": handover.to_staff})
    return _after(request, handover)


@login_required
def handover_print(request, pk):
    """The 交接单 as an A4 PDF: the lines, and 交接人/接收人/监交人 each with a signature and a date."""
    handover = _handover(request.user, pk)
    lines = _lines(handover)
    columns = [PrintColumn(_("No."), "right", 0.5), PrintColumn(_("Kind"), weight=1.1),
               PrintColumn(_("Code, name and quantity"), weight=3.6), PrintColumn(_("Place"), weight=1.6),
               PrintColumn(_("Checked"), "center", 1)]
    rows = [[str(n), _kind(ln), ln.description, _place(ln), _line_state(ln)] for n, ln in enumerate(lines, 1)]
    summary = _("%(from)s → %(to)s; supervised by %(sup)s; reason: %(reason)s; status: %(status)s") % {
        "from": handover.from_staff, "to": handover.to_staff, "sup": handover.supervisor,
        "reason": handover.reason or "—", "status": handover.get_status_display()}
    signature_lines = [(f"{role} {person.name}", _("Date")) for role, person in (
        (_("Handed over by"), handover.from_staff), (_("Received by"), handover.to_staff),
        (_("Supervised by"), handover.supervisor))]
    try:
        pdf = render_table_pdf(
            title=_("Handover %(number)s") % {"number": handover.number}, school=str(handover.school),
            columns=columns, rows=rows, filter_summary=summary, landscape=False, signature_lines=signature_lines,
            footer_note=handover.number)
    except PrintError as exc:
        messages.error(request, str(exc))
        return _after(request, handover)
    return pdf_response(pdf, f"handover-{handover.number}-{timezone.localdate().isoformat()}.pdf")


# API ----------------------------------------------------------------------------------------------------------
class HandoverLineSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = HandoverLine
        fields = ["id", "kind", "description", "asset", "item", "loan", "received", "state"]

    def get_kind(self, line) -> str:
        return "asset" if line.asset_id else "item" if line.item_id else "loan"

    def get_state(self, line) -> str:
        return _line_state(line)


class TickSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="id of the handover line")
    received = serializers.BooleanField()


class RefreshSerializer(serializers.Serializer):
    """No input: the list is compared with what the person holds now."""


class ConfirmSerializer(serializers.Serializer):
    department = serializers.IntegerField(required=False, allow_null=True,
                                          help_text="move the things to this department too (default: unchanged)")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


def _api_handover(request, pk) -> Handover:
    try:
        return _handover(request.user, pk)
    except Http404 as exc:
        raise exceptions.NotFound() from exc
    except PermissionDenied as exc:
        raise exceptions.PermissionDenied() from exc


def _lines_payload(handover) -> dict:
    lines = _lines(handover)
    return {"id": handover.pk, "number": handover.number, "status": handover.status,
            "lines": HandoverLineSerializer(lines, many=True).data,
            "problems": services.confirm_problems(handover, lines) if handover.status == Handover.Status.DRAFT
            else []}


def with_api_actions(base):
    """The generated viewset plus lines / tick / refresh / confirm (the receiver may call them without
    the asset permissions, like the pages; every action checks the service's own rule)."""

    @action(detail=True, methods=["get"], permission_classes=[permissions.IsAuthenticated])
    def lines(self, request, pk=None):
        """The lines with their state, and why the handover cannot be confirmed yet."""
        return Response(_lines_payload(_api_handover(request, pk)))

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated],
            serializer_class=TickSerializer)
    def tick(self, request, pk=None):
        """The receiver checks (received: true) or unchecks one line."""
        handover = _api_handover(request, pk)
        payload = TickSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        line = HandoverLine.objects.filter(pk=payload.validated_data["line"], handover=handover).first()
        if line is None:
            raise exceptions.ValidationError({"line": [_("This line is not on the handover.")]})
        services.handover_tick(line, payload.validated_data["received"], request.user)
        return Response(_lines_payload(handover))

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated],
            serializer_class=RefreshSerializer)
    def refresh(self, request, pk=None):
        """Add what the person took into custody since the list was written; drop what they no longer hold."""
        handover = _api_handover(request, pk)
        result = services.handover_refresh(handover, request.user)
        return Response({**_lines_payload(handover), **result})

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated],
            serializer_class=ConfirmSerializer)
    def confirm(self, request, pk=None):
        """Move custody of everything on the list to the receiver (asset staff or the supervisor)."""
        from houqin.org.models import Department

        handover = _api_handover(request, pk)
        payload = ConfirmSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        department = journal.KEEP
        if payload.validated_data.get("department"):
            department = Department.objects.filter(pk=payload.validated_data["department"],
                                                   school_id=handover.school_id).first()
            if department is None:
                raise exceptions.ValidationError({"department": [_("No such department in this school.")]})
        services.handover_confirm(handover, request.user, department=department,
                                  note=payload.validated_data.get("note", ""))
        handover.refresh_from_db()
        return Response(self.entity.serializer_class(handover, context=self.get_serializer_context()).data)

    return type(base.__name__, (base,), {"lines": lines, "tick": tick, "refresh": refresh, "confirm": confirm,
                                         "__module__": base.__module__, "__doc__": base.__doc__})
