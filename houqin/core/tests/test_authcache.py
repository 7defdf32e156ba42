"""core.authcache: rights read once per change (the stamp), never stale after a change by any path."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from houqin.core import authcache
from houqin.core.entities import registry
from houqin.core.paging import BoundedPaginator, DeferredJoin
from houqin.org.models import Room, Staff, User
from houqin.org.tests.factories import DepartmentFactory, RoomFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stamp_row():
    """A transactional test before this one may have flushed the table: put the row back."""
    authcache.forget()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM core_authstamp")
        if cursor.fetchone()[0] == 0:
            cursor.execute("INSERT INTO core_authstamp (id, value) VALUES (1, 'fixture')")
    yield
    authcache.forget()


def _fresh(user):
    return User.objects.get(pk=user.pk)


def _stamp():
    return authcache.current_stamp(connection.alias)


def test_second_object_reads_only_the_stamp(personas):
    user = personas["logistics_director"]
    assert _fresh(user).has_perm("org.view_room")
    fresh = _fresh(user)
    with CaptureQueriesContext(connection) as ctx:
        assert fresh.has_perm("org.view_room") and fresh.role_codes
        assert not fresh.has_perm("org.no_such_permission")
    assert [q["sql"] for q in ctx.captured_queries] == ["SELECT id, value FROM core_authstamp WHERE id IN (1, 2)"]


def test_a_new_role_takes_effect_on_the_next_request(personas, school):
    user = StaffFactory(school=school).user or User.objects.create_user("acct-x", school=school)
    assert not _fresh(user).has_perm("org.add_room")
    before = _stamp()
    group = Group.objects.create(name="test-room-admins")
    group.permissions.add(Permission.objects.get(codename="add_room"))
    user.groups.add(group)
    assert _stamp() != before
    assert _fresh(user).has_perm("org.add_room") and "test-room-admins" in _fresh(user).role_codes
    user.groups.remove(group)
    assert not _fresh(user).has_perm("org.add_room")


def test_department_rights_follow_membership_and_status(personas, school):
    staff = StaffFactory(school=school)
    user = staff.user or User.objects.create_user("acct-y", school=school)
    if staff.user_id is None:
        Staff.objects.filter(pk=staff.pk).update(user=user)
    group = Group.objects.create(name="test-dorm")
    group.permissions.add(Permission.objects.get(codename="change_room"))
    dept = DepartmentFactory(school=school)
    dept.roles.add(group)
    assert not _fresh(user).has_perm("org.change_room")
    staff.refresh_from_db()
    staff.departments.add(dept)
    assert _fresh(user).has_perm("org.change_room")
    Staff.objects.filter(pk=staff.pk).update(status="left")  # a queryset update: no signal, the trigger still fires
    assert not _fresh(user).has_perm("org.change_room")


def test_raw_sql_changes_the_stamp(personas):
    user = personas["teacher"]
    group = Group.objects.create(name="test-raw")
    group.permissions.add(Permission.objects.get(codename="delete_room"))
    assert not _fresh(user).has_perm("org.delete_room")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO org_user_groups (user_id, group_id) VALUES (%s, %s)", [user.pk, group.pk])
    assert _fresh(user).has_perm("org.delete_room")


def test_without_the_stamp_row_rights_are_read_every_time(personas):
    user = personas["logistics_director"]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_authstamp")
    assert _stamp() is None
    assert _fresh(user).has_perm("org.view_room")
    with CaptureQueriesContext(connection) as ctx:
        assert _fresh(user).has_perm("org.view_room")
    assert len(ctx.captured_queries) > 2  # the account, then its permissions from the tables


def test_inactive_and_superuser_accounts(personas):
    user = personas["logistics_director"]
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not _fresh(user).has_perm("org.view_room")
    User.objects.filter(pk=user.pk).update(is_active=True, is_superuser=True)
    assert _fresh(user).has_perm("org.anything_at_all")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite drops triggers when it rebuilds a table")
def test_repair_recreates_missing_triggers(personas):
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER core_authstamp_org_user_groups_insert")
    authcache.repair_auth_triggers(connection.alias)
    before = _stamp()
    personas["teacher"].groups.add(Group.objects.create(name="test-repair"))
    assert _stamp() != before


# The list machinery's loading shortcuts ---------------------------------------------------------------------

STR_MODELS = [m for m in apps.get_models() if getattr(m, "str_fields", None) and "str_fields" in m.__dict__]


@pytest.mark.parametrize("model", STR_MODELS, ids=[m._meta.label for m in STR_MODELS])
def test_str_fields_name_every_field_str_reads(model):
    """A record loaded with only its ``str_fields`` prints the same without another query (lists rely on it)."""
    from houqin.core.entities import _plain_field

    assert all(_plain_field(model, n) for n in model.str_fields), model.str_fields
    instance = model._default_manager.order_by("pk").first()
    if instance is None:
        pytest.skip("no row of this kind in the test school")
    slim = model._default_manager.only(*model.str_fields).get(pk=instance.pk)
    with CaptureQueriesContext(connection) as ctx:
        assert str(slim) == str(instance)
    assert not ctx.captured_queries


def test_a_page_past_the_middle_has_the_rows_of_the_forward_order(school):
    for i in range(130):
        RoomFactory(school=school, code=f"ZZ{i % 40:03d}-{i:03d}")
    qs = registry[Room].base_queryset().filter(school=school).order_by("building__name", "pk")
    total = qs.count()
    for per_page in (7, 50):
        paginator = BoundedPaginator(DeferredJoin(qs), per_page, wanted_page=10**7, cap=5)
        assert paginator.exact and paginator.count == total
        for number in range(1, paginator.num_pages + 1):
            bottom = (number - 1) * per_page
            assert [o.pk for o in paginator.page(number).object_list] == \
                list(qs.values_list("pk", flat=True)[bottom:bottom + per_page]), (per_page, number)

