"""``{% load approval_tags %}{% approval_trail obj %}``: the approval trail of a document on its page.

Renders nothing for a record whose type is not registered for approval or was never submitted.
Shows each request (newest first) with its steps: who decides, who decided, when, and the comment;
the person who may decide the current step gets a link to the decision page.
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.urls import reverse

from .. import selectors
from ..models import ApprovalStep
from ..registry import document_type_for

register = template.Library()


def trail_context(obj, user, *, links: bool = True) -> dict:
    if obj is None or getattr(obj, "pk", None) is None or document_type_for(obj) is None:
        return {"requests": []}
    requests = []
    for req in selectors.approval_requests_for(obj):
        steps = []
        for step in req.steps.all():
            step.request = req  # already loaded: no query per step
            who = (str(step.assignee or "") if step.kind == "department_head"
                   else selectors.roles_text(step.role_codes))
            decide_url = ""
            if (links and step.status == ApprovalStep.Status.PENDING and user is not None
                    and selectors.can_decide(step, user)):
                decide_url = reverse("approvals:step_decide", args=[step.pk])
            steps.append({"step": step, "who": who, "decide_url": decide_url})
        requests.append({"req": req, "steps": steps})
    return {"requests": requests}


@register.filter
def yuan(value) -> str:
    """Money as the platform shows it: ¥ with thousands separators and two places (¥12,500.00)."""
    if value is None or value == "":
        return ""
    try:
        return f"¥{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.inclusion_tag("approvals/partials/trail.html", takes_context=True)
def approval_trail(context, obj):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return trail_context(obj, user)
