"""notify() (X-4): inbox rows and outbox rows once the caller's transaction commits, never before."""

import pytest
from django.db import transaction

from houqin.notifications.models import ChannelConfig, Notification, OutboxMessage
from houqin.notifications.selectors import users_with_roles
from houqin.notifications.services import notify


class Rollback(Exception):
    pass


def test_nothing_is_written_when_the_callers_transaction_rolls_back(
        school, personas, django_capture_on_commit_callbacks):
    ChannelConfig.objects.create(school=school, email_enabled=True, wecom_webhook="http://127.0.0.1:9/x")
    personas["teacher"].email = "liuyang@example.com"
    personas["teacher"].save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Rollback), \
            transaction.atomic():
        notify(school=school, recipients=[personas["teacher"], "logistics_director"], title="撤销的通知")
        raise Rollback
    assert callbacks == []
    assert not Notification.objects.filter(title="撤销的通知").exists()
    assert not OutboxMessage.objects.exists()


def test_nothing_is_written_before_the_commit(school, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(school=school, recipients=[personas["teacher"]], title="等待提交")
        assert not Notification.objects.filter(title="等待提交").exists()
    assert len(callbacks) == 1
    callbacks[0]()
    assert Notification.objects.filter(title="等待提交", recipient=personas["teacher"]).count() == 1


def test_users_and_roles_each_get_one_inbox_row(school, personas, django_capture_on_commit_callbacks):
    director = personas["logistics_director"]
    with django_capture_on_commit_callbacks(execute=True):
        notify(school=school, recipients=[director, "logistics_director", "sysadmin"], title="报修单待派工",
               body="3号楼漏水", url="/org/rooms/", urgent=True, category="repairs.order")
    rows = Notification.objects.filter(title="报修单待派工")
    expected = set(users_with_roles(school=school, role_codes=["logistics_director", "sysadmin"]).values_list(
        "pk", flat=True))
    assert director.pk in expected and personas["sysadmin"].pk in expected
    assert set(rows.values_list("recipient_id", flat=True)) == expected
    assert rows.count() == len(expected)  # the director named twice is told once
    row = rows.get(recipient=director)
    assert (row.body, row.url, row.urgent, row.category, row.read_at, row.school_id) == (
        "3号楼漏水", "/org/rooms/", True, "repairs.order", None, school.pk)


def test_role_members_through_a_department_are_included(school, personas):
    from django.contrib.auth.models import Group

    from houqin.org.models import Department

    cleaner = personas["cleaner"]
    dept = Department.objects.create(school=school, name="保卫科测试", kind=Department.Kind.ADMIN)
    dept.roles.add(Group.objects.get(name="guard"))
    cleaner.staff.departments.add(dept)
    assert cleaner in users_with_roles(school=school, role_codes=["guard"])


def test_inactive_accounts_are_not_told(school, personas, django_capture_on_commit_callbacks):
    guard = personas["guard"]
    guard.is_active = False
    guard.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(school=school, recipients=[guard, "guard"], title="巡查提醒")
    assert not Notification.objects.filter(title="巡查提醒", recipient=guard).exists()


def test_one_outbox_row_per_person_with_email_and_one_per_group_robot(
        school, personas, django_capture_on_commit_callbacks):
    ChannelConfig.objects.create(school=school, email_enabled=True, wecom_webhook="https://example.com/wecom?key=k",
                                 dingtalk_webhook="abcdefgh12345678")
    personas["teacher"].email = "liuyang@example.com"
    personas["teacher"].save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(school=school, recipients=[personas["teacher"], personas["guard"], personas["logistics_clerk"]],
               title="食堂留样检查")
    rows = OutboxMessage.objects.all()
    emails = rows.filter(channel="email")
    assert list(emails.values_list("recipient", "address")) == [(personas["teacher"].pk, "liuyang@example.com")]
    assert rows.filter(channel="wecom_robot", recipient=None).count() == 1
    ding = rows.get(channel="dingtalk_robot")
    assert ding.address == "https://oapi.dingtalk.com/robot/send?access_token=abcdefgh12345678"
    assert rows.count() == 3
    assert all(r.status == "pending" and r.payload["title"] == "食堂留样检查" for r in rows)


def test_without_channels_only_the_inbox_is_written(school, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(school=school, recipients=["principal"], title="只在站内")
    assert Notification.objects.filter(title="只在站内").exists()
    assert not OutboxMessage.objects.exists()


def test_a_recipient_must_be_a_user_or_a_role_code(school):
    with pytest.raises(TypeError):
        notify(school=school, recipients=[42], title="x")
