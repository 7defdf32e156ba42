"""Every URL of the shell and the org pages × every role (X-1): allowed pages open, others are refused."""

import pytest
from django.urls import reverse

from houqin.org.demo import DEMO_LOGINS
from houqin.org.models import Building, Room, SchoolClass, Staff, Student

ROLES = [role for _, role, *_ in DEMO_LOGINS]


def _first(model):
    return model.objects.order_by("pk").first().pk


# (url name, argument factory or None, permission needed; None = any logged-in user)
SHELL_PAGES = [
    ("core:dashboard", None, None),
    ("core:search", None, None),
    ("password_change", None, None),
    ("core:login_log", None, "core.view_loginevent"),
    ("core:lockouts", None, "org.manage_accounts"),
    ("org:class_intake", None, "org.turnover_schoolyear"),
    ("org:school_settings", None, "org.change_school"),
]


def _entity_pages():
    """Every generated page of every org entity, with the permission it needs (architecture §4.4)."""
    from houqin.core.entities import registry

    pages = []
    for entity in registry.for_app("org"):
        first = (lambda m: lambda: [_first(m)])(entity.model)
        for action, needs_pk, perm in [
            ("list", False, "view"), ("export", False, "view"), ("detail", True, "view"),
            ("history", True, "view"), ("add", False, "add"), ("edit", True, "change"),
            ("import", False, "add"), ("void", True, "void"),
        ]:
            if action not in entity.views:
                continue
            pages.append((entity.url_name(action), first if needs_pk else None, entity.perm(perm)))
    return pages


PAGES = SHELL_PAGES + _entity_pages()
SCHOOL_ONLY = ("_add", "_import")  # creating needs a school: 教育局 users read only


@pytest.mark.parametrize("url_name,args,perm", PAGES, ids=[p[0] for p in PAGES])
def test_anonymous_is_sent_to_login(client, school, url_name, args, perm):
    url = reverse(url_name, args=args() if args else None)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
def test_every_page_for_every_role(client, personas, role):
    """A role opens exactly the pages its permissions allow, and is refused (403) the others."""
    user = personas[role]
    client.force_login(user)
    for url_name, args, perm in PAGES:
        url = reverse(url_name, args=args() if args else None)
        response = client.get(url)
        allowed = perm is None or user.has_perm(perm)
        if url_name.endswith(SCHOOL_ONLY) and user.school_id is None:
            allowed = False
        if url_name.split(":")[-1] in {e.model_name for e in _registry()} or url_name.endswith(("_edit", "_history")):
            # Row scoping may still hide a record from an allowed role: then 404, never 500.
            assert response.status_code in ((200, 404) if allowed else (403,)), (role, url_name, response.status_code)
        else:
            assert response.status_code == (200 if allowed else 403), (role, url_name, response.status_code)


def _registry():
    from houqin.core.entities import registry

    return registry.for_app("org")


def test_navigation_shows_only_allowed_modules(client, personas):
    """The guard's menu has no student list; the director's has every org list."""
    client.force_login(personas["guard"])
    html = client.get(reverse("core:dashboard")).content.decode()
    assert reverse("org:student_list") not in html
    assert reverse("org:room_list") in html
    client.force_login(personas["logistics_director"])
    html = client.get(reverse("core:dashboard")).content.decode()
    for name in ("org:building_list", "org:room_list", "org:staff_list", "org:schoolclass_list", "org:student_list"):
        assert reverse(name) in html


def test_dashboard_shows_real_counts_with_links(client, personas, school):
    client.force_login(personas["logistics_director"])
    response = client.get(reverse("core:dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert school.name in html
    for model, url_name, filt in [
        (Building, "org:building_list", {}),
        (Room, "org:room_list", {}),
        (SchoolClass, "org:schoolclass_list", {"status": "active"}),
        (Student, "org:student_list", {"status": "enrolled"}),
        (Staff, "org:staff_list", {"status": "active"}),
    ]:
        count = model.objects.filter(school=school, **filt).count()
        assert count > 0
        assert f'href="{reverse(url_name)}"' in html
        assert f">{count}<" in html
    from django.utils import timezone

    from houqin.org.selectors import current_term

    term = current_term(school)
    assert str(term) in html
    week = term.teaching_week(timezone.localdate())
    if week:
        assert f"第{week}教学周" in html
