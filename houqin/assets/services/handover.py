"""Staff handover (AST-14): a 交接单 of everything a person holds; confirming it moves custody."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from houqin.core import crud

from .. import selectors
from ..models import Handover, HandoverLine
from .common import document_number


@transaction.atomic
def handover_create(*, school, actor, from_staff, to_staff, supervisor, reason: str = "") -> Handover:
    """List every card, low-value item and open loan ``from_staff`` holds, for ``to_staff`` to receive."""
    if from_staff == to_staff:
        raise ValidationError({"to_staff": _("The receiver must be someone else.")})
    if supervisor in (from_staff, to_staff):
        raise ValidationError({"supervisor": _("The supervisor must be a third person.")})
    held = selectors.holdings_of(from_staff)
    if not any(held.values()):
        raise ValidationError({"from_staff": _("%(who)s holds nothing to hand over.") % {"who": from_staff}})
    handover = Handover(school=school, number=document_number(school, "handover"), from_staff=from_staff,
                        to_staff=to_staff, supervisor=supervisor, reason=reason,
                        created_by=actor if getattr(actor, "pk", None) else None)
    crud.object_create(obj=handover, actor=actor)
    lines = [HandoverLine(handover=handover, asset=a, description=f"{a.code} {a.name} ×{a.quantity}{a.unit}")
             for a in held["assets"]]
    lines += [HandoverLine(handover=handover, item=i, description=f"{i.code} {i.name} ×{i.quantity}{i.unit}")
              for i in held["items"]]
    lines += [HandoverLine(handover=handover, loan=loan, description=_("Borrowed: %(what)s, due %(day)s") % {
        "what": loan.asset or loan.item, "day": loan.due_on}) for loan in held["loans"]]
    HandoverLine.objects.bulk_create(lines)
    return handover
