from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ dict|get_item:key }}`` for audit before/after snapshots."""
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None
