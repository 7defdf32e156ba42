"""Keep one Django group per registered role, with exactly the permissions apps granted it."""

from django.contrib.auth.models import Group, Permission

from .registry import registry


class UnknownPermission(LookupError):
    pass


def sync_roles(stdout=None) -> dict[str, int]:
    """Create or update each role's group idempotently; returns permission counts per role."""
    wanted: dict[str, set[tuple[str, str]]] = {}
    for code in registry.roles:
        wanted[code] = {tuple(p.split(".", 1)) for p in registry.role_perms.get(code, ())}
    all_pairs = set().union(*wanted.values()) if wanted else set()
    perms = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in={c for _, c in all_pairs}
        )
    }
    missing = sorted(f"{a}.{c}" for a, c in all_pairs if (a, c) not in perms)
    if missing:
        raise UnknownPermission("roles grant unknown permissions: " + ", ".join(missing))
    counts = {}
    for code, pairs in wanted.items():
        group, _ = Group.objects.get_or_create(name=code)
        group.permissions.set([perms[p] for p in pairs])
        counts[code] = len(pairs)
    if stdout is not None:
        stdout.write(f"sync_roles: {len(counts)} roles")
    return counts
