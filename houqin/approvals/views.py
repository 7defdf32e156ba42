"""Pages of approvals: 待我审批 (the inbox), the decision page, my requests, and the school's policies."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from houqin.core.audit import history_for
from houqin.core.redirects import safe_next

from . import selectors, services
from .forms import DecideForm, PolicyForm, StepFormSet, steps_from
from .models import ApprovalPolicy, ApprovalStep
from .registry import document_type_by_key
from .templatetags.approval_tags import trail_context

PAGE = 30


def _step_row(step: ApprovalStep) -> dict:
    req = step.request
    return {
        "step": step, "req": req, "document_url": selectors.document_url(req),
        "type_label": selectors.document_type_label(req),
        "decide_url": reverse("approvals:step_decide", args=[step.pk]),
    }


# Inbox and decisions ---------------------------------------------------------------------------------


@login_required
def inbox(request):
    """待我审批: the steps waiting for this person, oldest first, with counts per document type."""
    steps = selectors.approvals_waiting_for(request.user)
    total = steps.count()
    by_type = selectors.approvals_waiting_by_type(request.user)
    current = request.GET.get("type", "")
    if current and "." in current:
        app_label, model = current.split(".", 1)
        steps = steps.filter(request__content_type__app_label=app_label, request__content_type__model=model)
    page = Paginator(steps, PAGE).get_page(request.GET.get("page"))
    return render(request, "approvals/inbox.html", {
        "page": page, "rows": [_step_row(s) for s in page], "total": total, "by_type": by_type,
        "current_type": current,
    })


def _school_step(request, pk: int) -> ApprovalStep:
    qs = ApprovalStep.objects.select_related("request", "request__requested_by", "request__content_type",
                                             "assignee", "decided_by")
    return get_object_or_404(qs.filter(request__school_id=request.user.school_id), pk=pk)


def _safe_next(request) -> str:
    return safe_next(request, request.POST.get("next"), request.GET.get("next"))


@login_required
def step_decide(request, pk: int):
    """Approve or send back one step: the document in short, its trail, a comment and two buttons."""
    step = _school_step(request, pk)
    req = step.request
    refusal = services.step_refusal(step, request.user) if step.status == ApprovalStep.Status.PENDING else None
    form = DecideForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if refusal:
            raise PermissionDenied(refusal)
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            form.add_error(None, _("Choose approve or send back."))
            status = 400
        elif form.is_valid():
            try:
                services.approval_decide(step=step, actor=request.user, approve=decision == "approve",
                                         comment=form.cleaned_data["comment"])
            except services.NotAnApprover as exc:
                raise PermissionDenied(str(exc)) from exc
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, errors in exc.error_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                    status = 400
                else:
                    messages.warning(request, " ".join(exc.messages))
                    return redirect(_safe_next(request) or reverse("approvals:waiting"))
            else:
                if decision == "approve":
                    messages.success(request, _("Approved: %(document)s.") % {"document": req.document_label})
                else:
                    messages.success(request, _("Sent back to the requester: %(document)s.") % {
                        "document": req.document_label})
                return redirect(_safe_next(request) or reverse("approvals:waiting"))
        else:
            status = 400
    elif refusal:
        status = 403
    if form.errors.get("comment"):
        form.fields["comment"].widget.attrs["class"] = "form-control is-invalid"
    return render(request, "approvals/decide.html", {
        "row": _step_row(step), "req": req, "step": step, "form": form, "refusal": refusal,
        "open": step.status == ApprovalStep.Status.PENDING and req.status == req.Status.PENDING,
        **trail_context(req.document, request.user, links=False),
        "next": _safe_next(request),
    }, status=status)


@login_required
def my_requests(request):
    """The approval requests this person submitted, newest first, with where each one stands."""
    page = Paginator(selectors.approval_requests_of(request.user), PAGE).get_page(request.GET.get("page"))
    rows = []
    for req in page:
        steps = list(req.steps.all())
        current = next((s for s in steps if s.status == ApprovalStep.Status.PENDING), None)
        rows.append({"req": req, "steps": steps, "current": current, "document_url": selectors.document_url(req),
                     "type_label": selectors.document_type_label(req)})
    return render(request, "approvals/my_requests.html", {"page": page, "rows": rows})


# Policies --------------------------------------------------------------------------------------------


def _policy_rows(policy: ApprovalPolicy) -> list[dict]:
    rows = []
    for s in policy.steps.all():
        who = (selectors.roles_text(s.role_codes) if s.kind != "department_head"
               else s.get_kind_display())
        rows.append({"step": s, "who": who})
    return rows


def _doc_label(key: str) -> str:
    doctype = document_type_by_key(key)
    return doctype.verbose_name if doctype else key


@login_required
@permission_required("approvals.view_approvalpolicy", raise_exception=True)
def policy_list(request):
    policies = selectors.policies_for(request.user)
    rows = [{"policy": p, "doc_label": _doc_label(p.document_type), "steps": _policy_rows(p)} for p in policies]
    return render(request, "approvals/policy_list.html", {
        "rows": rows, "can_add": request.user.has_perm("approvals.add_approvalpolicy"),
    })


def _school_policy(request, pk: int) -> ApprovalPolicy:
    return get_object_or_404(selectors.policies_for(request.user), pk=pk)


@login_required
@permission_required("approvals.view_approvalpolicy", raise_exception=True)
def policy_detail(request, pk: int):
    policy = _school_policy(request, pk)
    history = [{"entry": e, "changes": []} for e in history_for(policy)[:50]]
    return render(request, "approvals/policy_detail.html", {
        "policy": policy, "doc_label": _doc_label(policy.document_type), "steps": _policy_rows(policy),
        "history": history, "can_change": request.user.has_perm("approvals.change_approvalpolicy"),
    })


def _policy_form_page(request, policy: ApprovalPolicy | None):
    if request.user.school_id is None:
        raise Http404
    if policy is None:
        initial = {"active": True, "document_type": request.GET.get("document_type", "")}
        step_initial = []
    else:
        initial = {"name": policy.name, "document_type": policy.document_type, "active": policy.active}
        step_initial = [{"order": s.order, "label": s.label, "kind": s.kind, "role_codes": s.role_codes,
                         "min_amount": s.min_amount} for s in policy.steps.all()]
    form = PolicyForm(request.POST or None, initial=initial)
    formset = StepFormSet(request.POST or None, initial=step_initial, prefix="steps")
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            try:
                saved = services.approval_policy_save(
                    school=request.user.school, actor=request.user, policy=policy,
                    name=form.cleaned_data["name"], document_type=form.cleaned_data["document_type"],
                    active=form.cleaned_data["active"], steps=steps_from(formset),
                )
            except ValidationError as exc:
                for name, msgs in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
                    if name in form.fields:
                        form.add_error(name, msgs)
                    else:
                        errors.extend(msgs)
            else:
                messages.success(request, _("Saved."))
                return redirect("approvals:policy", saved.pk)
        status = 400
    return render(request, "approvals/policy_form.html", {
        "form": form, "formset": formset, "policy": policy, "errors": errors,
        "title": (_("Edit %(thing)s") % {"thing": policy}) if policy else _("New approval policy"),
        "cancel_url": reverse("approvals:policy", args=[policy.pk]) if policy else reverse("approvals:policy_list"),
    }, status=status)


@login_required
@permission_required("approvals.add_approvalpolicy", raise_exception=True)
def policy_add(request):
    return _policy_form_page(request, None)


@login_required
@permission_required("approvals.change_approvalpolicy", raise_exception=True)
def policy_edit(request, pk: int):
    return _policy_form_page(request, _school_policy(request, pk))
