"""Write paths of approvals (X-3): create a request on submit, decide a step, withdraw, manage policies.

A document's ``submit`` service calls ``approval_request_create(document=…, actor=…)`` in its own
transaction. The last approval fires the document's ``approve`` transition, a rejection its
``reject`` transition with the comment as the note; both through the approvals registry, so this
app never imports a domain app. Every decision is audited on the request (``audit_record``) and the
document's transition writes its own StatusChange and audit entry.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core.audit import audit_record, serialize_for_audit
from houqin.core.models import AuditEntry
from houqin.core.registry import registry as shell_registry

from . import selectors
from .models import ApprovalPolicy, ApprovalRequest, ApprovalStep, PolicyStep, StepKind
from .registry import DocumentType, document_type_by_key, document_type_for

S = ApprovalStep.Status
R = ApprovalRequest.Status


class NotAnApprover(PermissionDenied):
    """The person may not decide this step (the message says who may); a 403 in the API."""


# Snapshots for the audit log ------------------------------------------------------------------------


def _step_snapshot(step) -> dict:
    return {"order": step.order, "label": step.label, "kind": step.kind, "roles": list(step.role_codes or []),
            "assignee": step.assignee_id, "status": step.status, "decided_by": step.decided_by_id,
            "comment": step.comment}


def _request_snapshot(req: ApprovalRequest) -> dict:
    data = serialize_for_audit(req)
    data["steps"] = [_step_snapshot(s) for s in ApprovalStep.objects.filter(request=req).order_by("order")]
    return data


def _policy_snapshot(policy: ApprovalPolicy) -> dict:
    data = serialize_for_audit(policy)
    data["steps"] = [
        {"order": s.order, "label": s.label, "kind": s.kind, "roles": list(s.role_codes or []),
         "min_amount": None if s.min_amount is None else str(s.min_amount)}
        for s in policy.steps.order_by("order", "id")
    ]
    return data


def _steps_summary(steps) -> str:
    return "；".join(f"{s.label}（{s.get_status_display()}）" for s in steps) or _("no steps")


def _notify(**kwargs) -> None:
    """Tell people through the notifications app (X-4), when it is installed."""
    try:
        from houqin.notifications.services import notify
    except ImportError:  # pragma: no cover - notifications is part of every deployment
        return
    notify(**kwargs)


# Creating a request ---------------------------------------------------------------------------------


def policy_for(*, school, doctype: DocumentType) -> ApprovalPolicy | None:
    return ApprovalPolicy.objects.filter(school=school, document_type=doctype.key, active=True).first()


def _department_head_user(department):
    head = getattr(department, "head", None) if department is not None else None
    user = getattr(head, "user", None) if head is not None else None
    if user is None or not user.is_active or getattr(head, "status", "active") != "active":
        return None
    return user


def _plan_steps(*, policy, amount, document, doctype: DocumentType, requester) -> list[ApprovalStep]:
    """The request's steps (unsaved): the policy's steps whose threshold applies, in order.

    Refuses (ValidationError) a step nobody could decide, so that no document waits forever.
    """
    planned: list[ApprovalStep] = []
    if policy is None:
        return planned
    for pstep in policy.steps.order_by("order", "id"):
        if not pstep.applies_to(amount):
            continue
        step = ApprovalStep(order=len(planned) + 1, label=pstep.label, kind=pstep.kind,
                            role_codes=list(pstep.role_codes or []), status=S.WAITING)
        if pstep.kind == StepKind.DEPARTMENT_HEAD:
            department = doctype.department(document)
            head = _department_head_user(department)
            if head is None:
                if department is None:
                    raise ValidationError(_("The step “%(step)s” needs the head of the document's department, "
                                            "but the document has no department.") % {"step": pstep.label})
                raise ValidationError(_("The step “%(step)s” needs the head of %(department)s, but no head is "
                                        "set. Ask the office to set one.") % {"step": pstep.label,
                                                                               "department": department})
            step.role_codes = []
            step.assignee = head
            step.department = department
            if head.pk == getattr(requester, "pk", None):
                step.status = S.SKIPPED
                step.comment = _("The requester heads this department.")
        else:
            others = selectors.users_with_roles(school=document.school, role_codes=step.role_codes)
            if requester is not None and getattr(requester, "pk", None):
                others = others.exclude(pk=requester.pk)
            if not others.exists():
                raise ValidationError(_("Nobody else in the school holds %(roles)s, needed for the step "
                                        "“%(step)s”. Ask the system administrator to assign the role or to "
                                        "change the approval policy.")
                                      % {"roles": selectors.roles_text(step.role_codes), "step": pstep.label})
        planned.append(step)
    return planned


@transaction.atomic
def approval_request_create(*, document, actor) -> ApprovalRequest:
    """Start the approval of a submitted document (call it from the document's submit service).

    Takes the school's active policy for the document type and builds the steps whose threshold
    applies. When none applies (or the school has no policy: "no approval"), the document's approve
    transition is fired at once.
    """
    doctype = document_type_for(document)
    if doctype is None:
        raise ValueError(f"{type(document).__name__} is not registered with houqin.approvals.registry")
    ct = ContentType.objects.get_for_model(document, for_concrete_model=False)
    if ApprovalRequest.objects.filter(content_type=ct, object_id=str(document.pk), status=R.PENDING).exists():
        raise ValidationError(_("This document is already waiting for approval."))
    school = document.school
    amount = doctype.amount_of(document)
    policy = policy_for(school=school, doctype=doctype)
    planned = _plan_steps(policy=policy, amount=amount, document=document, doctype=doctype, requester=actor)
    req = ApprovalRequest.objects.create(
        school=school, content_type=ct, object_id=str(document.pk), document_label=str(document)[:200],
        amount=amount, policy=policy, requested_by=actor if getattr(actor, "pk", None) else None,
    )
    first = next((s for s in planned if s.status == S.WAITING), None)
    if first is not None:
        first.status = S.PENDING
    for step in planned:
        step.request = req
    ApprovalStep.objects.bulk_create(planned)
    if first is None:
        req.status = R.APPROVED
        req.decided_at = timezone.now()
        req.save(update_fields=["status", "decided_at", "updated_at"])
        audit_record(obj=req, action=AuditEntry.Action.CREATE, actor=actor, after=_request_snapshot(req),
                     message=_("No approval needed: approved at once."))
        doctype.fire("approve", document, actor=actor, note=_("No approval needed."))
        owner = doctype.owner(document)
        if owner is not None and getattr(owner, "pk", None) and owner.pk != getattr(actor, "pk", None):
            _notify_owner(req, owner=owner, approved=True, body="")
        return req
    audit_record(obj=req, action=AuditEntry.Action.CREATE, actor=actor, after=_request_snapshot(req),
                 message=_("Submitted for approval: %(steps)s") % {"steps": _steps_summary(planned)})
    _notify_approvers(req, first)
    return req


# Deciding ---------------------------------------------------------------------------------------------


def step_approver(step: ApprovalStep):
    """Who decides a "head of department" step now: the current head of its department (an active
    account of an active staff member), or None. Steps from before departments were kept on steps
    stay with the head they were given."""
    if step.kind != StepKind.DEPARTMENT_HEAD:
        return None
    if step.department_id is None:
        return step.assignee
    from houqin.org.models import Department

    department = Department.objects.select_related("head__user").filter(pk=step.department_id).first()
    return _department_head_user(department)


def step_refusal(step: ApprovalStep, user, *, request: ApprovalRequest | None = None) -> str | None:
    """Why ``user`` may not decide ``step`` now, or None when they may."""
    req = request or step.request
    if not getattr(user, "is_authenticated", False):
        return _("Log in to decide.")
    if user.school_id != req.school_id:
        return _("This request belongs to another school.")
    if req.requested_by_id == user.pk:
        return _("You cannot decide on your own request.")
    if step.kind == StepKind.DEPARTMENT_HEAD:
        approver = step_approver(step)
        if approver is None:
            return _("%(department)s has no head at the moment: ask the office to set one.") % {
                "department": step.department}
        if approver.pk != user.pk:
            return _("Only %(who)s may decide this step.") % {"who": approver}
        return None
    if not user.has_role(*(step.role_codes or [])):
        return _("Only %(who)s may decide this step.") % {"who": selectors.roles_text(step.role_codes)}
    return None


def _withdraw(req: ApprovalRequest, *, actor, message: str) -> None:
    before = _request_snapshot(req)
    req.status = R.WITHDRAWN
    req.decided_at = timezone.now()
    req.save(update_fields=["status", "decided_at", "updated_at"])
    ApprovalStep.objects.filter(request=req, status__in=(S.WAITING, S.PENDING)).update(status=S.SKIPPED)
    audit_record(obj=req, action=AuditEntry.Action.TRANSITION, actor=actor, before=before,
                 after=_request_snapshot(req), message=message)


def approval_decide(*, step: ApprovalStep, actor, approve: bool, comment: str = "") -> ApprovalRequest:
    """Approve or send back one step.

    The request row is locked, so of two clicks (or two approvers) on the same step only the first
    counts; the second is refused with a message. Sending back needs a comment: it fires the document's
    reject transition with the comment as the note and closes the request. Approving moves to the next
    step, or at the last step fires the document's approve transition, exactly once.
    """
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": [_("Give the reason for sending it back.")]})
    stale = ""
    with transaction.atomic():
        # Lock the document first, then the request: the same order as submit and cancel (the document's
        # transition locks it, then its service creates or withdraws the request), so no deadlock.
        head = ApprovalRequest.objects.select_related("content_type").get(pk=step.request_id)
        model = head.content_type.model_class()
        document = (model._default_manager.select_for_update(of=("self",)).filter(pk=head.object_id).first()
                    if model is not None else None)
        req = (ApprovalRequest.objects.select_for_update(of=("self",)).select_related("content_type")
               .get(pk=step.request_id))
        step = ApprovalStep.objects.select_related("assignee").get(pk=step.pk)
        if req.status != R.PENDING or step.status != S.PENDING:
            raise ValidationError(_("This step has already been decided; nothing was changed."))
        refusal = step_refusal(step, actor, request=req)
        if refusal:
            raise NotAnApprover(refusal)
        doctype = document_type_for(model) if model is not None else None
        if doctype is None or document is None or not doctype.is_waiting(document):
            stale = _("The document is no longer waiting for approval (it was changed or cancelled); "
                      "the request has been closed.")
            _withdraw(req, actor=actor, message=stale)
        else:
            _decide(req, step, document=document, doctype=doctype, actor=actor, approve=approve, comment=comment)
    if stale:
        raise ValidationError(stale)
    return req


def _decide(req, step, *, document, doctype: DocumentType, actor, approve: bool, comment: str) -> None:
    before = _request_snapshot(req)
    now = timezone.now()
    step.status = S.APPROVED if approve else S.REJECTED
    step.decided_by = actor
    step.decided_at = now
    step.comment = comment[:500]
    fields = ["status", "decided_by", "decided_at", "comment"]
    if step.kind == StepKind.DEPARTMENT_HEAD and step.assignee_id != actor.pk:
        step.assignee = actor  # the department's head now (step_refusal checked it)
        fields.append("assignee")
    step.save(update_fields=fields)
    owner = doctype.owner(document)
    if not approve:
        ApprovalStep.objects.filter(request=req, status=S.WAITING).update(status=S.SKIPPED)
        req.status = R.REJECTED
        req.decided_at = now
        req.save(update_fields=["status", "decided_at", "updated_at"])
        audit_record(obj=req, action=AuditEntry.Action.TRANSITION, actor=actor, before=before,
                     after=_request_snapshot(req),
                     message=_("%(step)s: sent back: %(comment)s") % {"step": step.label, "comment": comment})
        doctype.fire("reject", document, actor=actor, note=comment)
        if owner is not None:
            _notify_owner(req, owner=owner, approved=False, body=f"{step.label} · {actor}：{comment}")
        return
    following = ApprovalStep.objects.filter(request=req, status=S.WAITING).order_by("order").first()
    if following is not None:
        following.status = S.PENDING
        following.save(update_fields=["status"])
        audit_record(obj=req, action=AuditEntry.Action.TRANSITION, actor=actor, before=before,
                     after=_request_snapshot(req),
                     message=(_("%(step)s: approved") % {"step": step.label}) + (f"：{comment}" if comment else ""))
        _notify_approvers(req, following)
        return
    req.status = R.APPROVED
    req.decided_at = now
    req.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(obj=req, action=AuditEntry.Action.TRANSITION, actor=actor, before=before,
                 after=_request_snapshot(req),
                 message=(_("%(step)s: approved; approval complete.") % {"step": step.label})
                 + (f"：{comment}" if comment else ""))
    doctype.fire("approve", document, actor=actor, note=comment or _("Approval complete."))
    if owner is not None:
        _notify_owner(req, owner=owner, approved=True, body=comment)


@transaction.atomic
def approval_request_withdraw(*, document, actor, note: str = "") -> ApprovalRequest | None:
    """Close the document's pending request (the document was cancelled or taken back)."""
    req = selectors.approval_requests_for(document).select_for_update(of=("self",)).filter(
        status=R.PENDING).first()
    if req is None:
        return None
    _withdraw(req, actor=actor, message=(_("Withdrawn") + (f"：{note}" if note else "")))
    return req


# Notifications ----------------------------------------------------------------------------------------


def _amount_text(req) -> str:
    return "" if req.amount is None else f"¥{req.amount:,.2f}"


def _notify_approvers(req: ApprovalRequest, step: ApprovalStep) -> None:
    if step.kind == StepKind.DEPARTMENT_HEAD:
        approver = step_approver(step)
        recipients = [approver] if approver is not None and approver.pk != req.requested_by_id else []
    else:  # the holders of the roles, but not the requester (who may not decide their own request)
        recipients = list(selectors.users_with_roles(school=req.school, role_codes=step.role_codes)
                          .exclude(pk=req.requested_by_id))
    if not recipients:
        return
    parts = [selectors.document_type_label(req), _amount_text(req), str(req.requested_by or ""), step.label]
    _notify(school=req.school, recipients=recipients,
            title=_("Approval needed: %(document)s") % {"document": req.document_label},
            body=" · ".join(p for p in parts if p), url=reverse("approvals:step_decide", args=[step.pk]),
            category="approvals.step")


def _notify_owner(req: ApprovalRequest, *, owner, approved: bool, body: str) -> None:
    title = (_("Approved: %(document)s") if approved else _("Sent back: %(document)s")) % {
        "document": req.document_label}
    _notify(school=req.school, recipients=[owner], title=title, body=body,
            url=selectors.document_url(req) or reverse("approvals:my_requests"),
            category="approvals.approved" if approved else "approvals.rejected")


# A department's head changes ----------------------------------------------------------------------------


def department_head_follow(department, *, actor=None) -> int:
    """Move the open "head of department" steps of ``department`` to its current head; returns how many.

    Called when a department is saved (a post_save receiver connected in ``ApprovalsConfig.ready``, so
    ``org`` knows nothing of approvals). Deciding does not depend on it (``step_refusal`` asks for the
    current head), but the steps show the new head, the move is audited on each request and the new
    head is told about the steps now waiting for them.
    """
    from houqin.org.models import Department

    steps = list(
        ApprovalStep.objects.filter(department_id=department.pk, kind=StepKind.DEPARTMENT_HEAD,
                                    status__in=(S.WAITING, S.PENDING), request__status=R.PENDING)
        .select_related("request", "assignee")
    )
    if not steps:
        return 0
    department = Department.objects.select_related("head__user").get(pk=department.pk)
    head = _department_head_user(department)
    moved = 0
    for step in steps:
        if step.assignee_id == (head.pk if head is not None else None):
            continue
        with transaction.atomic():
            req = ApprovalRequest.objects.select_for_update(of=("self",)).get(pk=step.request_id)
            current = ApprovalStep.objects.select_related("assignee").get(pk=step.pk)
            if req.status != R.PENDING or current.status not in (S.WAITING, S.PENDING):
                continue  # decided meanwhile
            before = _request_snapshot(req)
            previous = current.assignee
            current.assignee = head
            current.save(update_fields=["assignee"])
            audit_record(obj=req, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                         after=_request_snapshot(req),
                         message=_("%(step)s: %(department)s has a new head (%(old)s → %(new)s); the step "
                                   "moved to the new head.") % {
                             "step": current.label, "department": department, "old": previous or "—",
                             "new": head or "—"})
            if current.status == S.PENDING and head is not None:
                _notify_approvers(req, current)
        moved += 1
    return moved


def department_saved(sender, instance, raw=False, created=False, **kwargs) -> None:
    """post_save of org.Department: open head-of-department steps follow a new head."""
    if raw or created:
        return
    department_head_follow(instance)


# Policies ---------------------------------------------------------------------------------------------


def _clean_steps(steps: list[dict]) -> list[dict]:
    """Check each step against the rules of its kind; returns them sorted by their order."""
    errors = []
    known = set(shell_registry.roles)
    cleaned = []
    for position, raw in enumerate(steps, start=1):
        kind = raw.get("kind") or StepKind.ROLE
        codes = list(dict.fromkeys(raw.get("role_codes") or []))
        label = (raw.get("label") or "").strip()
        n = raw.get("order") or position
        min_amount = raw.get("min_amount")
        if not label:
            errors.append(_("Step %(n)s: give the step a name.") % {"n": n})
        if kind not in StepKind.values:
            errors.append(_("Step %(n)s: choose who decides.") % {"n": n})
        unknown = [c for c in codes if c not in known]
        if unknown:
            errors.append(_("Step %(n)s: unknown roles %(roles)s.") % {"n": n, "roles": "、".join(unknown)})
        if kind == StepKind.ROLE and len(codes) != 1:
            errors.append(_("Step %(n)s: choose exactly one role.") % {"n": n})
        if kind == StepKind.ANY_OF and len(codes) < 2:
            errors.append(_("Step %(n)s: choose at least two roles, any one of whom decides.") % {"n": n})
        if kind == StepKind.DEPARTMENT_HEAD:
            codes = []
        if min_amount is not None and Decimal(min_amount) < 0:
            errors.append(_("Step %(n)s: the amount cannot be negative.") % {"n": n})
        cleaned.append({"order": n, "position": position, "label": label, "kind": kind, "role_codes": codes,
                        "min_amount": None if min_amount is None else Decimal(min_amount)})
    if errors:
        raise ValidationError({"steps": errors})
    cleaned.sort(key=lambda s: (s["order"], s["position"]))
    return cleaned


@transaction.atomic
def approval_policy_save(*, school, actor, name: str, document_type: str, active: bool, steps: list[dict],
                         policy: ApprovalPolicy | None = None) -> ApprovalPolicy:
    """Create or change a school's policy and replace its steps; audited with the steps before and after.

    ``steps``: dicts with ``label``, ``kind``, ``role_codes``, ``min_amount`` (None: every amount) and
    ``order``. A policy without steps is "no approval". Requests already under way keep their steps.
    """
    if document_type_by_key(document_type) is None:
        raise ValidationError({"document_type": [_("Choose a document type.")]})
    if policy is not None:
        policy = ApprovalPolicy.objects.select_for_update().get(pk=policy.pk)
        if policy.school_id != school.pk:
            raise PermissionDenied
    cleaned = _clean_steps(steps)
    if active:
        other = ApprovalPolicy.objects.filter(school=school, document_type=document_type, active=True)
        if policy is not None:
            other = other.exclude(pk=policy.pk)
        other = other.first()
        if other is not None:
            raise ValidationError({"active": [_("“%(name)s” is already in use for this document type; take it "
                                                "out of use first.") % {"name": other.name}]})
    created = policy is None
    before = None if created else _policy_snapshot(policy)
    if created:
        policy = ApprovalPolicy(school=school)
    policy.name = (name or "").strip()
    policy.document_type = document_type
    policy.active = bool(active)
    policy.full_clean(exclude=["school"], validate_constraints=False)
    policy.save()
    PolicyStep.objects.filter(policy=policy).delete()
    PolicyStep.objects.bulk_create([
        PolicyStep(policy=policy, order=i, label=s["label"], kind=s["kind"], role_codes=s["role_codes"],
                   min_amount=s["min_amount"])
        for i, s in enumerate(cleaned, start=1)
    ])
    audit_record(obj=policy, action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
                 actor=actor, before=before, after=_policy_snapshot(policy))
    return policy
