"""Roles as groups kept in sync by sync_roles (X-1), rights through departments, the demo school."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from houqin.core.registry import registry
from houqin.core.roles import UnknownPermission, sync_roles
from houqin.org.models import Department, School, SchoolClass, Staff, Student


def test_every_role_of_the_feature_list_is_a_group(db):
    expected = {"principal", "vice_principal", "logistics_director", "logistics_clerk", "asset_keeper", "cashier",
                "accountant", "group_head", "class_teacher", "teacher", "guard", "canteen_manager", "dorm_keeper",
                "repair_worker", "cleaner", "sysadmin", "bureau", "outsourced"}
    assert expected == set(registry.roles)
    assert expected <= set(Group.objects.values_list("name", flat=True))


def test_sync_roles_is_idempotent_and_repairs_drift(db):
    first = sync_roles()
    group = Group.objects.get(name="teacher")
    group.permissions.clear()
    second = sync_roles()
    assert first == second
    assert group.permissions.count() == first["teacher"]
    assert Group.objects.filter(name="teacher").count() == 1


def test_unknown_permission_is_an_error(db):
    registry.role_perms["teacher"].add("org.fly_to_the_moon")
    try:
        with pytest.raises(UnknownPermission):
            sync_roles()
    finally:
        registry.role_perms["teacher"].discard("org.fly_to_the_moon")


def test_rights_granted_to_a_department_follow_its_active_members(personas, school):
    """保卫科 owns security: a teacher who joins it gets the guard's rights, and loses them on leaving."""
    teacher = personas["teacher"]
    security = Department.objects.get(school=school, name="保卫科")
    guard_perms = {f"{app}.{code}" for app, code in Group.objects.get(name="guard").permissions.values_list(
        "content_type__app_label", "codename")}
    assert guard_perms
    teacher.staff.departments.add(security)
    from django.contrib.auth import get_user_model

    fresh = get_user_model().objects.get(pk=teacher.pk)
    assert fresh.has_role("guard")
    assert all(fresh.has_perm(p) for p in guard_perms)
    teacher.staff.departments.remove(security)
    fresh = get_user_model().objects.get(pk=teacher.pk)
    assert not fresh.has_role("guard")


def test_demo_school_shape(school):
    """The tiny test school is built by the same generator as the demo: one login per role, custodians."""
    from houqin.org.demo import DEMO_LOGINS
    from houqin.org.models import Room, User

    assert User.objects.filter(username__in=[d[0] for d in DEMO_LOGINS]).count() == len(DEMO_LOGINS)
    assert not Room.objects.filter(school=school, custodian__isnull=True).exists()
    assert SchoolClass.objects.filter(school=school).count() >= 3
    boarders = Student.objects.filter(school=school, is_boarder=True)
    assert boarders.exists() and not boarders.filter(dorm_room__isnull=True).exists()
    assert not Staff.objects.filter(user__username__in=["admin", "bureau"]).exists()  # no Staff record


def test_seed_demo_if_empty_keeps_existing_data(school, capsys):
    n = Student.objects.count()
    call_command("seed_demo", "--if-empty")
    assert Student.objects.count() == n
    assert School.objects.count() == 1
    with pytest.raises(Exception, match="already exists"):
        call_command("seed_demo")


def test_demo_logins_command_prints_one_login_per_role(school, capsys):
    from houqin.org.demo import DEMO_LOGINS

    call_command("demo_logins")
    out = capsys.readouterr().out
    for username, *_ in DEMO_LOGINS:
        assert f" {username} " in out


def test_setup_school_creates_school_and_admin_only(db, capsys):
    from houqin.org.models import User

    call_command("setup_school", "--name", "新学校", "--code", "8800001", "--admin-username", "newadmin",
                 "--admin-password", "Strong2026pass")
    school = School.objects.get(code="8800001")
    admin = User.objects.get(username="newadmin")
    assert admin.school == school and admin.has_role("sysadmin") and admin.check_password("Strong2026pass")
    assert not Student.objects.filter(school=school).exists()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("setup_school", "--name", "弱密码学校", "--code", "8800002", "--admin-password", "123")
