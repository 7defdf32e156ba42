"""Role permissions and the one scoping function every view and API queryset goes through.

``scope(queryset, user, action)`` applies, in this order (architecture §4.4 "Scoping in one place"):
1. the model permission ``<app>.<action>_<model>`` (no permission: nothing);
2. the school: a user sees only their own school's rows; 教育局 users and superusers read across
   schools (X-11);
3. the model's row rule, registered by its app (班主任: own class; 宿管员: boarders of their buildings).
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

RowRule = Callable[[QuerySet, object, str], QuerySet]
_row_rules: dict[type[Model], RowRule] = {}

CROSS_SCHOOL_ROLES = ("bureau",)


def register_row_rule(model: type[Model], rule: RowRule) -> None:
    _row_rules[model] = rule


def perm_name(model: type[Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def is_cross_school(user) -> bool:
    return bool(user.is_superuser or (hasattr(user, "has_role") and user.has_role(*CROSS_SCHOOL_ROLES)))


def scope(queryset: QuerySet, user, action: str = "view") -> QuerySet:
    model = queryset.model
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if not user.has_perm(perm_name(model, action)):
        return queryset.none()
    if any(f.name == "school" for f in model._meta.get_fields()) and not is_cross_school(user):
        if user.school_id is None:
            return queryset.none()
        queryset = queryset.filter(school_id=user.school_id)
    elif model._meta.model_name == "school" and not is_cross_school(user):
        queryset = queryset.filter(pk=user.school_id)
    rule = _row_rules.get(model)
    if rule is not None and not user.is_superuser:
        queryset = rule(queryset, user, action)
    return queryset


def require_perm(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied
