"""Asset pages that are not generic: two-tap return and issue, repair back, write-off, document lines.

Lists, details, forms, import, export, print, history and the API come from ``assets/entities.py``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from houqin.core.entities import Column, format_value, registry
from houqin.core.permissions import require_perm, scope
from houqin.core.redirects import safe_next
from houqin.core.views_entity import EntityDetailView, add_service_errors

from .forms import DisposalCompleteForm, ItemIssueForm, LoanReturnForm, RepairBackForm
from .models import Asset, AssetDisposal, AssetLoan, AssetRepair, LowValueItem
from .services import cards, documents


def _get(request, model, pk, action="change"):
    return get_object_or_404(scope(model.objects.all(), request.user, action), pk=pk)


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def lines_panel(title, headers, rows) -> dict:
    """A table panel for a document's lines, in the shape the detail template renders."""
    columns = [Column(name=str(i), header=h, sort=None, align=align) for i, (h, align) in enumerate(headers)]
    return {"kind": "related", "title": title, "columns": columns, "total": len(rows), "more": None,
            "rows": [{"cells": [{"text": text, "link": link, "align": c.align}
                                for (text, link), c in zip(row, columns, strict=False)], "badge": None} for row in rows]}


class DraftOnlyEditMixin:
    """A written document is edited only as a draft (its lines never): no Edit button once submitted."""

    def get_context(self, obj) -> dict:
        context = super().get_context(obj)
        context["can_change"] = context["can_change"] and obj.status == "draft"
        return context


class MoveDetailView(DraftOnlyEditMixin, EntityDetailView):
    def panels(self, obj):
        asset_entity = registry[Asset]
        rows = [[(f"{line.asset.code} {line.asset.name}", asset_entity.detail_url(line.asset)),
                 (str(line.from_room or ""), None), (str(line.from_department or ""), None),
                 (str(line.from_custodian or ""), None), (format_value(line.asset.original_value), None)]
                for line in obj.lines.select_related("asset", "from_room", "from_department", "from_custodian")]
        headers = [(_("Fixed asset"), "left"), (_("From place"), "left"), (_("From department"), "left"),
                   (_("From custodian"), "left"), (_("Original value"), "right")]
        return [*super().panels(obj), lines_panel(_("Assets"), headers, rows)]


class DisposalDetailView(DraftOnlyEditMixin, EntityDetailView):
    def panels(self, obj):
        asset_entity = registry[Asset]
        rows = [[(f"{line.asset.code} {line.asset.name}", asset_entity.detail_url(line.asset)),
                 (str(line.asset.category or ""), None), (format_value(line.asset.acquired_on), None),
                 (format_value(line.original_value), None), (format_value(line.net_value), None)]
                for line in obj.lines.select_related("asset", "asset__category")]
        headers = [(_("Fixed asset"), "left"), (_("Category"), "left"), (_("Acquired on"), "left"),
                   (_("Original value"), "right"), (_("Net value"), "right")]
        return [*super().panels(obj), lines_panel(_("Assets"), headers, rows)]


@login_required
@require_POST
def loan_return(request, pk):
    """归还 in one tap from the loan or the asset page."""
    loan = _get(request, AssetLoan, pk)
    require_perm(request.user, "assets.change_assetloan")
    form = LoanReturnForm(request.POST)
    note = form.cleaned_data["condition_note"] if form.is_valid() else ""
    try:
        documents.loan_return(loan=loan, actor=request.user, condition_note=note)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Given back: %(what)s.") % {"what": loan.asset or loan.item})
    return redirect(safe_next(request, request.POST.get("next")) or registry[AssetLoan].detail_url(loan))


@login_required
def repair_back(request, pk):
    repair = _get(request, AssetRepair, pk)
    require_perm(request.user, "assets.change_assetrepair")
    form = RepairBackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            documents.repair_back(repair=repair, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(registry[AssetRepair].detail_url(repair))
    return render(request, "assets/action_form.html", {
        "form": form, "obj": repair, "title": _("Back from repair: %(what)s") % {"what": repair},
        "cancel_url": registry[AssetRepair].detail_url(repair)}, status=400 if form.errors else 200)


@login_required
def disposal_complete(request, pk):
    """Write off (核销) an approved disposal once the approval document number is in."""
    disposal = _get(request, AssetDisposal, pk)
    require_perm(request.user, "assets.change_assetdisposal")
    form = DisposalCompleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            documents.disposal_complete(disposal=disposal, actor=request.user,
                                        approval_doc_no=data["approval_doc_no"], disposed_on=data["disposed_on"],
                                        income=data["income"] or 0)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Exception as exc:  # TransitionNotAllowed: the disposal is no longer approved
            from houqin.core.workflow import TransitionNotAllowed

            if not isinstance(exc, TransitionNotAllowed):
                raise
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Written off."))
            return redirect(registry[AssetDisposal].detail_url(disposal))
    return render(request, "assets/action_form.html", {
        "form": form, "obj": disposal, "title": _("Write off %(what)s") % {"what": disposal},
        "cancel_url": registry[AssetDisposal].detail_url(disposal)}, status=400 if form.errors else 200)


@login_required
def item_issue(request, pk):
    """领用 of a low-value item: choose the person, confirm (two taps)."""
    item = _get(request, LowValueItem, pk)
    require_perm(request.user, "assets.change_lowvalueitem")
    form = ItemIssueForm(request.POST if request.method == "POST" else None, school=item.school)
    if request.method == "POST" and form.is_valid():
        try:
            cards.item_issue(item=item, custodian=form.cleaned_data["custodian"], actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Issued to %(who)s.") % {"who": form.cleaned_data["custodian"]})
            return redirect(registry[LowValueItem].detail_url(item))
    return render(request, "assets/action_form.html", {
        "form": form, "obj": item, "title": _("Issue %(what)s") % {"what": item},
        "cancel_url": registry[LowValueItem].detail_url(item)}, status=400 if form.errors else 200)


@login_required
@require_POST
def item_return(request, pk):
    """退库 of a low-value item in one tap."""
    item = _get(request, LowValueItem, pk)
    require_perm(request.user, "assets.change_lowvalueitem")
    try:
        cards.item_return(item=item, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Returned to store."))
    return redirect(registry[LowValueItem].detail_url(item))


# API actions (the same services as the pages) ----------------------------------------------------------------
class ReturnSerializer(serializers.Serializer):
    condition_note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class RepairBackSerializer(serializers.Serializer):
    repaired = serializers.BooleanField(default=True)
    result = serializers.CharField(max_length=200, required=False, allow_blank=True)
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)
    back_on = serializers.DateField(required=False)


class WriteOffSerializer(serializers.Serializer):
    approval_doc_no = serializers.CharField(max_length=60)
    disposed_on = serializers.DateField(required=False)
    income = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)


class IssueSerializer(serializers.Serializer):
    custodian = serializers.IntegerField()


class NoInputSerializer(serializers.Serializer):
    """An action that takes no input (e.g. returning a low-value item to the store)."""


def _api_object(viewset, perm: str):
    obj = viewset.get_object()
    if not viewset.request.user.has_perm(perm):
        raise exceptions.PermissionDenied()
    return obj


def _answer(viewset, obj):
    obj.refresh_from_db()
    return Response(viewset.entity.serializer_class(obj, context=viewset.get_serializer_context()).data)


def with_loan_api(base):
    """POST /api/assets/loans/<id>/return/: 归还, as the page's one tap."""

    @action(detail=True, methods=["post"], url_path="return", serializer_class=ReturnSerializer)
    def give_back(self, request, pk=None):
        """Given back: the card or item returns to the state it was in before the loan."""
        loan = _api_object(self, "assets.change_assetloan")
        payload = ReturnSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        documents.loan_return(loan=loan, actor=request.user,
                              condition_note=payload.validated_data.get("condition_note", ""))
        return _answer(self, loan)

    return type(base.__name__, (base,), {"give_back": give_back, "__module__": base.__module__,
                                         "__doc__": base.__doc__})


def with_repair_api(base):
    """POST /api/assets/repairs/<id>/back/: back from repair (repaired, or not repairable → idle)."""

    @action(detail=True, methods=["post"], url_path="back", serializer_class=RepairBackSerializer)
    def back(self, request, pk=None):
        """Back from repair."""
        repair = _api_object(self, "assets.change_assetrepair")
        payload = RepairBackSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        documents.repair_back(repair=repair, actor=request.user, **payload.validated_data)
        return _answer(self, repair)

    return type(base.__name__, (base,), {"back": back, "__module__": base.__module__, "__doc__": base.__doc__})


def with_disposal_api(base):
    """POST /api/assets/disposals/<id>/write-off/: 核销 an approved disposal with the approval document number."""

    @action(detail=True, methods=["post"], url_path="write-off", serializer_class=WriteOffSerializer)
    def write_off(self, request, pk=None):
        """Write off (核销) the approved disposal: the cards leave the books."""
        from houqin.core.workflow import TransitionNotAllowed

        disposal = _api_object(self, "assets.change_assetdisposal")
        payload = WriteOffSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            documents.disposal_complete(disposal=disposal, actor=request.user, approval_doc_no=data["approval_doc_no"],
                                        disposed_on=data.get("disposed_on"), income=data.get("income") or 0)
        except TransitionNotAllowed as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return _answer(self, disposal)

    return type(base.__name__, (base,), {"write_off": write_off, "__module__": base.__module__,
                                         "__doc__": base.__doc__})


def with_item_api(base):
    """POST /api/assets/items/<id>/issue/ {"custodian": staff id} and /return/: 领用 and 退库 of a low-value item."""

    @action(detail=True, methods=["post"], url_path="issue", serializer_class=IssueSerializer)
    def issue(self, request, pk=None):
        """Issue the item to a person."""
        from houqin.org.models import Staff

        item = _api_object(self, "assets.change_lowvalueitem")
        payload = IssueSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        staff = Staff.objects.filter(pk=payload.validated_data["custodian"], school_id=item.school_id).first()
        if staff is None:
            raise exceptions.ValidationError({"custodian": [_("No such person in this school.")]})
        cards.item_issue(item=item, custodian=staff, actor=request.user)
        return _answer(self, item)

    @action(detail=True, methods=["post"], url_path="return", serializer_class=NoInputSerializer)
    def return_to_store(self, request, pk=None):
        """Return the item to the store."""
        item = _api_object(self, "assets.change_lowvalueitem")
        cards.item_return(item=item, actor=request.user)
        return _answer(self, item)

    return type(base.__name__, (base,), {"issue": issue, "return_to_store": return_to_store,
                                         "__module__": base.__module__, "__doc__": base.__doc__})

