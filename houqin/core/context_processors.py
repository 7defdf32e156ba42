from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from .caching import cached_reverse
from .registry import registry

_nav_html: dict[tuple, str] = {}
NAV_CACHE_SIZE = 1000  # distinct (entries, active entry, language) menus kept per process


_visible_cache: dict[tuple, list] = {}


def _visible(request) -> list[tuple]:
    """(group, [(item, url)]) this user may open in this school (absent, not dead links)."""
    return _visible_keyed(request)[1]


def _visible_keyed(request) -> tuple[tuple | None, list[tuple]]:
    """``(key, menu)``: the menu worked out once per process for each permission set (``core.authcache``
    hands out the same set while the account's rights are unchanged), school modules and script prefix;
    the key names it (None when it was not cached)."""
    user = request.user
    school = getattr(user, "school", None)
    rights = getattr(user, "_rights", None)
    key = None
    if rights is not None and user.is_active:
        key = (rights()[0], user.is_superuser, getattr(school, "pk", None),
               tuple(getattr(school, "disabled_modules", None) or ()), get_script_prefix())
        hit = _visible_cache.get(key)
        if hit is not None:
            return key, hit
    groups = _compute_visible(user, school)
    if key is not None:
        if len(_visible_cache) >= NAV_CACHE_SIZE:
            _visible_cache.clear()
        _visible_cache[key] = groups
    return key, groups


def _compute_visible(user, school) -> list[tuple]:
    groups = []
    for group in sorted(registry.menu_groups.values(), key=lambda g: g.order):
        items = []
        for item in group.items:
            if item.perm and not user.has_perm(item.perm):
                continue
            if item.module and school is not None and not school.module_enabled(item.module):
                continue
            url = cached_reverse(item.url_name)
            if url is None:
                continue
            items.append((item, url))
        if items:
            groups.append((group, items))
    return groups


def navigation(request) -> list[dict]:
    """Menu groups with the entries this user may open in this school (absent, not dead links)."""
    return [{"key": group.key, "label": group.label,
             "items": [{"label": item.label, "url": url, "icon": item.icon, "active": request.path.startswith(url)}
                       for item, url in items]}
            for group, items in _visible(request)]


def navigation_html(request) -> str:
    """The rendered menu (core/partials/nav_groups.html). The permission checks run on every request;
    the HTML is rendered once per distinct menu (its entries, the active one, the language)."""
    rights_key, visible = _visible_keyed(request)
    path = request.path
    active = tuple(url for _group, items in visible for _item, url in items if path.startswith(url))
    entries = rights_key or tuple((group.key, tuple((item.url_name, url) for item, url in items))
                                  for group, items in visible)
    key = (translation.get_language(), entries, active)
    html = _nav_html.get(key)
    if html is None:
        groups = [{"key": group.key, "label": group.label,
                   "items": [{"label": item.label, "url": url, "icon": item.icon,
                              "active": request.path.startswith(url)} for item, url in items]}
                  for group, items in visible]
        html = render_to_string("core/partials/nav_groups.html", {"nav_groups": groups})
        if len(_nav_html) >= NAV_CACHE_SIZE:
            _nav_html.clear()
        _nav_html[key] = html
    return html


_shell_static: dict[str, dict] = {}


def shell_static() -> dict:
    """The page shell's asset links and fixed URLs, worked out once per process and script prefix (seven
    ``{% static %}`` and seven ``{% url %}`` tags cost ~0.2 ms of every page)."""
    from django.templatetags.static import static
    from django.utils.html import format_html

    prefix = get_script_prefix()
    found = _shell_static.get(prefix)
    if found is None:
        head = format_html(
            '<link rel="icon" href="{}" type="image/svg+xml">\n'
            '  <link rel="stylesheet" href="{}">\n'
            '  <link rel="stylesheet" href="{}">\n'
            '  <script src="{}" defer></script>\n'
            '  <script src="{}" defer></script>\n'
            '  <script src="{}" defer></script>\n'
            '  <script src="{}" defer></script>',
            static("houqin/favicon.svg"), static("vendor/tabler/css/tabler.min.css"), static("houqin/houqin.css"),
            static("vendor/htmx/htmx.min.js"), static("vendor/alpinejs/cdn.min.js"),
            static("vendor/tabler/js/tabler.min.js"), static("houqin/houqin.js"))
        urls = {name.split(":")[-1]: cached_reverse(name) for name in
                ("core:dashboard", "core:search", "set_language", "password_change", "logout")}
        found = _shell_static[prefix] = {"head": head, "urls": urls}
    return found


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role_labels = [str(registry.roles[c].label) for c in sorted(user.role_codes, key=lambda c: registry.roles[c].order if c in registry.roles else 999) if c in registry.roles]
    return {
        "nav_html": navigation_html(request),
        "nav_groups": SimpleLazyObject(lambda: navigation(request)),
        "shell_school": getattr(user, "school", None),
        "shell_roles": role_labels,
    }
