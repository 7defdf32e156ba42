from django.urls import NoReverseMatch, reverse

from .registry import registry


def navigation(request) -> list[dict]:
    """Menu groups with the entries this user may open in this school (absent, not dead links)."""
    user = request.user
    school = getattr(user, "school", None)
    groups = []
    for group in sorted(registry.menu_groups.values(), key=lambda g: g.order):
        items = []
        for item in group.items:
            if item.perm and not user.has_perm(item.perm):
                continue
            if item.module and school is not None and not school.module_enabled(item.module):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            items.append({"label": item.label, "url": url, "icon": item.icon, "active": request.path.startswith(url)})
        if items:
            groups.append({"key": group.key, "label": group.label, "items": items})
    return groups


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role_labels = [str(registry.roles[c].label) for c in sorted(user.role_codes, key=lambda c: registry.roles[c].order if c in registry.roles else 999) if c in registry.roles]
    return {
        "nav_groups": navigation(request),
        "shell_school": getattr(user, "school", None),
        "shell_roles": role_labels,
    }
