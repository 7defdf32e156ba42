"""Test fixtures shared by every app: a tiny demo school built once per session, one persona per role."""

import pytest

TINY_SCALE = 0.1


def _seed_if_empty():
    from houqin.core import demo
    from houqin.org.models import School

    if not School.objects.exists():
        demo.seed(scale=TINY_SCALE)


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's language: a test-client request with another Accept-Language leaves it
    active in the thread afterwards (LocaleMiddleware activates, nothing deactivates), and the next test would
    read English headers and labels."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The standard test database plus the tiny demo school (the same generators as ``seed_demo``)."""
    with django_db_blocker.unblock():
        _seed_if_empty()


@pytest.fixture
def school(db):
    from houqin.org.models import School

    _seed_if_empty()  # a transactional test before this one may have flushed the database
    return School.objects.get(code="3301001")


@pytest.fixture
def personas(school):
    """One user per role, keyed by role code (zulip's Shakespeare users, healthchecks' alice/bob)."""
    from houqin.org.demo import DEMO_LOGINS
    from houqin.org.models import User

    users = {u.username: u for u in User.objects.filter(username__in=[d[0] for d in DEMO_LOGINS])}
    return {role: users[username] for username, role, *_ in DEMO_LOGINS}


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
