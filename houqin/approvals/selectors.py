"""Read paths of approvals: the inbox of a person, their own requests, the trail of a document."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q, QuerySet
from django.urls import NoReverseMatch, reverse

from houqin.core.registry import registry as shell_registry

from .models import ApprovalPolicy, ApprovalRequest, ApprovalStep, StepKind
from .registry import document_type_by_key, document_type_for

ROLE_KINDS = (StepKind.ROLE, StepKind.ANY_OF)


def role_label(code: str) -> str:
    role = shell_registry.roles.get(code)
    return str(role.label) if role else code


def roles_text(codes) -> str:
    return "、".join(role_label(c) for c in codes or [])


def users_with_roles(*, school, role_codes) -> QuerySet:
    """Active accounts of ``school`` holding any of the roles, directly or through an active department
    (the same rule as ``User.role_codes``)."""
    codes = list(role_codes)
    users = get_user_model().objects
    if not codes:
        return users.none()
    return users.filter(school=school, is_active=True).filter(
        Q(groups__name__in=codes)
        | Q(staff__departments__roles__name__in=codes, staff__status="active")
    ).distinct()


def _roles_match(codes) -> Q:
    """Steps whose role list holds one of ``codes``. The JSON list is matched as text (``"code"`` with its
    quotes), which works the same on SQLite and PostgreSQL and cannot match a longer code."""
    q = Q(pk__in=[])
    for code in codes:
        q |= Q(role_codes__icontains=f'"{code}"')
    return Q(kind__in=ROLE_KINDS) & q


def approvals_waiting_for(user) -> QuerySet:
    """The steps in ``user``'s inbox: pending, in their school, for one of their roles or assigned to them.

    A person never decides their own request, so their own requests are left out.
    """
    if not getattr(user, "is_authenticated", False) or not user.school_id:
        return ApprovalStep.objects.none()
    # A head-of-department step is the current head's (it follows a change of head), and an older step
    # without its department stays with the head it was given.
    heads = (Q(kind=StepKind.DEPARTMENT_HEAD, department__isnull=False, department__head__user=user,
               department__head__status="active")
             | Q(kind=StepKind.DEPARTMENT_HEAD, department__isnull=True, assignee=user))
    mine = heads | _roles_match(sorted(user.role_codes))
    return (
        ApprovalStep.objects.filter(status=ApprovalStep.Status.PENDING, request__status=ApprovalRequest.Status.PENDING,
                                    request__school_id=user.school_id)
        .filter(mine)
        .exclude(request__requested_by=user)
        .select_related("request", "request__requested_by", "request__content_type", "assignee")
        .order_by("request__created_at", "request_id")
    )


def approvals_waiting_count(user) -> int:
    return approvals_waiting_for(user).count()


def approvals_waiting_by_type(user) -> list[dict]:
    """Counts of the inbox per document type: [{"key", "label", "count"}]."""
    counts = Counter(
        f"{app}.{model}" for app, model in approvals_waiting_for(user).values_list(
            "request__content_type__app_label", "request__content_type__model")
    )
    rows = []
    for key, count in sorted(counts.items()):
        doctype = document_type_by_key(key)
        rows.append({"key": key, "label": doctype.verbose_name if doctype else key, "count": count})
    return rows


def approval_requests_of(user) -> QuerySet:
    """The requests ``user`` submitted, newest first, with their steps."""
    return (
        ApprovalRequest.objects.filter(requested_by=user)
        .select_related("content_type")
        .prefetch_related(Prefetch("steps", queryset=ApprovalStep.objects.select_related("decided_by", "assignee")))
        .order_by("-created_at", "-id")
    )


def approval_requests_for(document) -> QuerySet:
    """Every request of one document (its approval trail), newest first."""
    ct = ContentType.objects.get_for_model(document, for_concrete_model=False)
    return (
        ApprovalRequest.objects.filter(content_type=ct, object_id=str(document.pk))
        .select_related("requested_by", "policy")
        .prefetch_related(Prefetch("steps", queryset=ApprovalStep.objects.select_related("decided_by", "assignee")))
        .order_by("-created_at", "-id")
    )


def pending_request_for(document) -> ApprovalRequest | None:
    return approval_requests_for(document).filter(status=ApprovalRequest.Status.PENDING).first()


def can_decide(step: ApprovalStep, user) -> bool:
    from .services import step_refusal

    return step_refusal(step, user) is None


def document_url(request: ApprovalRequest) -> str:
    """The document's own page (from the entity registry), or "" when it has none."""
    from houqin.core.entities import registry as entities

    model = request.content_type.model_class()
    entity = entities.get(model) if model is not None else None
    if entity is None:
        return ""
    try:
        return reverse(entity.url_name("detail"), args=[request.object_id])
    except NoReverseMatch:
        return ""


def document_type_label(request: ApprovalRequest) -> str:
    model = request.content_type.model_class()
    doctype = document_type_for(model) if model is not None else None
    if doctype is not None:
        return doctype.verbose_name
    return str(model._meta.verbose_name) if model is not None else ""


def policies_for(user) -> QuerySet:
    return ApprovalPolicy.objects.filter(school_id=user.school_id).prefetch_related("steps")


def policy_roles_in_use(school_id) -> set[str]:
    codes: set[str] = set()
    for role_codes in ApprovalPolicy.objects.filter(school_id=school_id, active=True).values_list(
            "steps__role_codes", flat=True):
        codes.update(role_codes or [])
    return codes


def waiting_widget(request) -> dict | None:
    """Dashboard card "approvals waiting for me": shown to people who may have something to decide."""
    user = request.user
    if not getattr(user, "is_authenticated", False) or not user.school_id:
        return None
    steps = approvals_waiting_for(user)
    count = steps.count()
    if not count:
        staff = getattr(user, "staff_or_none", None)
        heads = staff is not None and staff.headed_departments.exists()
        if not heads and not (user.role_codes & policy_roles_in_use(user.school_id)):
            return None
    return {"count": count, "items": list(steps[:5])}
