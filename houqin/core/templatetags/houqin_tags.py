from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ dict|get_item:key }}`` for audit before/after snapshots."""
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None


@register.simple_tag
def shell_head():
    """The shell's ``<link>`` and ``<script>`` tags, built once per process (``context_processors.shell_static``)."""
    from houqin.core.context_processors import shell_static

    return shell_static()["head"]


@register.simple_tag
def shell_url(name):
    """A fixed URL of the shell (dashboard, search, set_language, password_change, logout), reversed once."""
    from houqin.core.context_processors import shell_static

    return shell_static()["urls"][name]


@register.simple_tag(takes_context=True)
def shell_open(context):
    """The page shell before a page's blocks: side menu, top bar, the bell (``core.shell``)."""
    from houqin.core.shell import shell_open as build

    return build(context)
