"""Stocktakes (AST-4; domain-rules.md §2.6): plan, count by scan or by hand, 盘盈盘亏 report, post results."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from houqin.core import crud

from ..models import Stocktake
from .common import document_number


@transaction.atomic
def stocktake_plan(*, school, actor, title: str, planned_on: datetime.date, scope: str = Stocktake.Scope.ALL,
                   building=None, department=None, period: str = Stocktake.Period.TERM_END,
                   note: str = "") -> Stocktake:
    """Plan a stocktake of the whole school, a building or a department."""
    if scope == Stocktake.Scope.BUILDING and building is None:
        raise ValidationError({"building": _("Choose the building to count.")})
    if scope == Stocktake.Scope.DEPARTMENT and department is None:
        raise ValidationError({"department": _("Choose the department to count.")})
    stocktake = Stocktake(
        school=school, number=document_number(school, "stocktake", planned_on), title=title, scope=scope,
        building=building if scope == Stocktake.Scope.BUILDING else None,
        department=department if scope == Stocktake.Scope.DEPARTMENT else None, period=period,
        planned_on=planned_on, note=note, requested_by=actor if getattr(actor, "pk", None) else None)
    return crud.object_create(obj=stocktake, actor=actor)
