"""The attachments panel on any detail page (X-6).

``{% load attachments_tags %}{% attachments_panel obj %}`` renders the panel for ``obj``; including the
partial directly (``{% include "core/partials/attachments.html" with obj=obj %}``) works the same,
because the partial computes its own state with ``{% attachments_state obj as panel %}``.
"""

from django import template

from houqin.core.attachments import attachments_for, can_change_parent, content_type_for, max_mb_label

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.simple_tag(takes_context=True)
def attachments_state(context, obj):
    """Content type id, the shown attachments and whether the user may add or remove them."""
    user = _user(context)
    ct = content_type_for(obj)
    return {
        "ct_id": ct.pk,
        "dom_id": f"attachments-{ct.pk}-{obj.pk}",
        "items": list(attachments_for(obj)),
        "can_change": bool(user is not None and can_change_parent(user, obj)),
        "max_mb": max_mb_label(),
    }


@register.inclusion_tag("core/partials/attachments.html", takes_context=True)
def attachments_panel(context, obj):
    request = context.get("request")
    return {
        "obj": obj,
        "request": request,
        "user": _user(context),
        "next_url": request.get_full_path() if request is not None else "",
    }
