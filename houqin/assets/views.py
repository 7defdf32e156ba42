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

from houqin.core.entities import Column, format_value, registry
from houqin.core.permissions import require_perm, scope
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


class MoveDetailView(EntityDetailView):
    def panels(self, obj):
        asset_entity = registry[Asset]
        rows = [[(f"{line.asset.code} {line.asset.name}", asset_entity.detail_url(line.asset)),
                 (str(line.from_room or ""), None), (str(line.from_department or ""), None),
                 (str(line.from_custodian or ""), None), (format_value(line.asset.original_value), None)]
                for line in obj.lines.select_related("asset", "from_room", "from_department", "from_custodian")]
        headers = [(_("Fixed asset"), "left"), (_("From place"), "left"), (_("From department"), "left"),
                   (_("From custodian"), "left"), (_("Original value"), "right")]
        return [*super().panels(obj), lines_panel(_("Assets"), headers, rows)]


class DisposalDetailView(EntityDetailView):
    def panels(self, obj):
        asset_entity = registry[Asset]
        rows = [[(f"{line.asset.code} {line.asset.name}", asset_entity.detail_url(line.asset)),
                 (str(line.asset.category), None), (str(line.asset.acquired_on), None),
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
    return redirect(request.POST.get("next") or registry[AssetLoan].detail_url(loan))


@login_required
def repair_back(request, pk):
    repair = _get(request, AssetRepair, pk)
    require_perm(request.user, "assets.change_assetrepair")
    form = RepairBackForm(request.POST or None)
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
    form = DisposalCompleteForm(request.POST or None)
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
    form = ItemIssueForm(request.POST or None, school=item.school)
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
    item = _get(request, LowValueItem, pk)
    try:
        cards.item_return(item=item, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Returned to store."))
    return redirect(registry[LowValueItem].detail_url(item))



