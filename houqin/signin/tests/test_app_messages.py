"""Notifications go to the same app: each recipient who signed in through the school's WeCom / DingTalk app
gets the message there personally, through the outbox (claim, retries, backoff, quiet hours), against the
local fakes of the platforms."""

import datetime
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core.registry import registry
from houqin.notifications.models import ChannelConfig, Notification, OutboxMessage
from houqin.notifications.services import _Batch, _deliver_one, deliver_due, due_message_ids, notify
from houqin.signin.models import PlatformAccount, SigninConfig

from .test_platform import _sign_in

SHANGHAI = timezone.get_default_timezone()
T = timezone.make_aware(datetime.datetime(2025, 3, 5, 10, 0), SHANGHAI)  # a Wednesday morning


@pytest.fixture
def wecom_config(school, fake_wecom):
    return SigninConfig.objects.create(school=school, provider="wecom", corp_id=fake_wecom.corp_id,
                                       agent_id="1000002", secret=fake_wecom.secret, enabled=True)


@pytest.fixture
def dingtalk_config(school, fake_dingtalk):
    return SigninConfig.objects.create(school=school, provider="dingtalk", corp_id=fake_dingtalk.corp_id,
                                       app_key=fake_dingtalk.app_key, agent_id="3000001",
                                       secret=fake_dingtalk.secret, enabled=True)


def _link(user, provider, platform_id, school):
    return PlatformAccount.objects.create(user=user, school=school, provider=provider, platform_user_id=platform_id)


def _notify(django_capture_on_commit_callbacks, school, recipients, **kwargs):
    kwargs.setdefault("title", "报修单已派工")
    kwargs.setdefault("body", "教学楼302 灯管不亮")
    kwargs.setdefault("url", "/repairs/7/")
    with django_capture_on_commit_callbacks(execute=True):
        notify(school=school, recipients=recipients, **kwargs)
    # Queued "now"; the tests deliver at T, a fixed working-day morning (quiet hours are tested on their own).
    OutboxMessage.objects.filter(status="pending", attempts=0).update(next_attempt_at=T)


def _app_rows(channel):
    return OutboxMessage.objects.filter(channel=channel).order_by("pk")


# WeCom -------------------------------------------------------------------------------------------


def test_a_person_who_signed_in_through_wecom_gets_the_notification_as_an_app_message(
        client, school, make_staff, wecom_config, fake_wecom, django_capture_on_commit_callbacks, settings):
    staff, other = make_staff(name="张三"), make_staff(name="李四")
    fake_wecom.as_user("zhangsan", staff.mobile, name="张三")
    assert _sign_in(client).status_code == 302  # the sign-in keeps the userid
    settings.HOUQIN_SITE_URL = "https://houqin.example.edu.cn"  # links in messages

    _notify(django_capture_on_commit_callbacks, school, [staff.user, other.user])
    (row,) = _app_rows("wecom_app")  # 李四 never signed in through WeCom: no app message
    assert (row.recipient, row.address, row.status) == (staff.user, "zhangsan", "pending")
    assert Notification.objects.filter(recipient__in=[staff.user, other.user]).count() == 2  # inbox as before

    assert deliver_due(now=T) == 1
    (sent,) = fake_wecom.messages
    assert sent == {"touser": "zhangsan", "msgtype": "text", "agentid": 1000002, "safe": 0,
                    "text": {"content": "报修单已派工\n\n教学楼302 灯管不亮\n\nhttps://houqin.example.edu.cn/repairs/7/"}}
    (call,) = fake_wecom.calls("/cgi-bin/message/send")
    assert call[2]["access_token"] in fake_wecom.tokens
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")


def test_no_app_messages_unless_the_school_signs_in_through_the_platform(
        school, personas, wecom_config, django_capture_on_commit_callbacks):
    teacher = personas["teacher"]
    _link(teacher, "wecom", "teacher-w", school)
    _link(teacher, "dingtalk", "teacher-d", school)  # an old link to the platform the school does not use
    _notify(django_capture_on_commit_callbacks, school, [teacher])
    assert list(_app_rows("wecom_app").values_list("address", flat=True)) == ["teacher-w"]
    assert not _app_rows("dingtalk_app").exists()

    OutboxMessage.objects.all().delete()
    SigninConfig.objects.filter(pk=wecom_config.pk).update(agent_id="")  # no app to send through
    _notify(django_capture_on_commit_callbacks, school, [teacher])
    SigninConfig.objects.filter(pk=wecom_config.pk).update(agent_id="1000002", enabled=False)
    _notify(django_capture_on_commit_callbacks, school, [teacher])
    assert not OutboxMessage.objects.filter(channel__in=("wecom_app", "dingtalk_app")).exists()
    assert Notification.objects.filter(recipient=teacher).count() == 3


def test_role_recipients_get_app_messages_too(school, personas, wecom_config, fake_wecom,
                                              django_capture_on_commit_callbacks):
    director = personas["logistics_director"]
    _link(director, "wecom", "director-w", school)
    _notify(django_capture_on_commit_callbacks, school, ["logistics_director"], urgent=True, title="燃气泄漏")
    assert deliver_due(now=T) == 1
    (sent,) = fake_wecom.messages
    assert sent["touser"] == "director-w"
    assert sent["text"]["content"].startswith(f"【{_('Urgent')}】燃气泄漏")


# DingTalk ----------------------------------------------------------------------------------------


def test_dingtalk_work_notice_by_userid_with_cached_tokens(
        school, personas, dingtalk_config, fake_dingtalk, django_capture_on_commit_callbacks):
    teacher = personas["teacher"]
    _link(teacher, "dingtalk", "union-teacher", school)
    fake_dingtalk.members["union-teacher"] = "manager4521"
    _notify(django_capture_on_commit_callbacks, school, [teacher], title="宿舍检查通知", body="", url="")
    _notify(django_capture_on_commit_callbacks, school, [teacher], title="第二条", body="", url="")
    assert list(_app_rows("dingtalk_app").values_list("address", flat=True)) == ["union-teacher"] * 2
    assert deliver_due(now=T) == 2
    assert fake_dingtalk.notices == [
        {"agent_id": 3000001, "userid_list": "manager4521", "msg": {"msgtype": "text", "text": {"content": "宿舍检查通知"}}},
        {"agent_id": 3000001, "userid_list": "manager4521", "msg": {"msgtype": "text", "text": {"content": "第二条"}}},
    ]
    (token_call,) = fake_dingtalk.calls("/gettoken")  # the app token is fetched once and cached
    assert token_call[2] == {"appkey": fake_dingtalk.app_key, "appsecret": fake_dingtalk.secret}
    assert len(fake_dingtalk.calls("/topapi/user/getbyunionid")) == 1  # unionId → userid cached too
    assert set(_app_rows("dingtalk_app").values_list("status", flat=True)) == {"sent"}


def test_dingtalk_person_unknown_to_the_organisation_is_a_visible_failure(
        school, personas, dingtalk_config, fake_dingtalk, django_capture_on_commit_callbacks):
    teacher = personas["teacher"]
    _link(teacher, "dingtalk", "union-gone", school)
    _notify(django_capture_on_commit_callbacks, school, [teacher])
    assert deliver_due(now=T) == 0
    (row,) = _app_rows("dingtalk_app")
    assert row.status == "failed" and "union-gone" in row.last_error and fake_dingtalk.notices == []


# The outbox machinery applies ---------------------------------------------------------------------


def test_quiet_hours_hold_app_messages_and_urgent_ones_go_at_once(
        school, personas, wecom_config, fake_wecom, django_capture_on_commit_callbacks):
    ChannelConfig.objects.create(school=school, quiet_start=datetime.time(21, 30), quiet_end=datetime.time(7, 0))
    teacher = personas["teacher"]
    _link(teacher, "wecom", "teacher-w", school)
    _notify(django_capture_on_commit_callbacks, school, [teacher], title="明日例会")
    _notify(django_capture_on_commit_callbacks, school, [teacher], title="食堂异味", urgent=True)
    evening = timezone.make_aware(datetime.datetime(2025, 3, 5, 22, 0), SHANGHAI)
    OutboxMessage.objects.update(next_attempt_at=evening)
    assert deliver_due(now=evening) == 1
    assert [m["text"]["content"].split("\n")[0] for m in fake_wecom.messages] == [f"【{_('Urgent')}】食堂异味"]
    morning = timezone.make_aware(datetime.datetime(2025, 3, 6, 7, 0), SHANGHAI)
    assert deliver_due(now=morning) == 1
    assert fake_wecom.messages[-1]["text"]["content"].startswith("明日例会")


def test_a_refused_app_message_is_retried_with_backoff_and_shown_to_the_administrator(
        client, school, personas, wecom_config, fake_wecom, django_capture_on_commit_callbacks, settings):
    teacher = personas["teacher"]
    _link(teacher, "wecom", "teacher-w", school)
    _notify(django_capture_on_commit_callbacks, school, [teacher], title="值班提醒")
    fake_wecom.send_reply = {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
    assert deliver_due(now=T) == 0
    (row,) = _app_rows("wecom_app")
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, T + datetime.timedelta(minutes=1))
    assert "81013" in row.last_error

    client.force_login(personas["sysadmin"])
    page = client.get(reverse("notifications:deliveries")).content.decode()
    assert _("WeCom app message") in page and "81013" in page

    fake_wecom.send_reply = {"errcode": 0, "errmsg": "ok", "invaliduser": "teacher-w"}
    assert deliver_due(now=T + datetime.timedelta(minutes=1)) == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2) and "teacher-w" in row.last_error

    fake_wecom.send_reply = None
    assert deliver_due(now=T + datetime.timedelta(minutes=3)) == 1
    row.refresh_from_db()
    assert row.status == "sent" and len(fake_wecom.messages) == 1


def test_an_app_message_is_given_up_after_the_limit(school, personas, wecom_config, fake_wecom,
                                                    django_capture_on_commit_callbacks, settings):
    settings.HOUQIN_NOTIFY_MAX_ATTEMPTS = 2
    _link(personas["teacher"], "wecom", "teacher-w", school)
    _notify(django_capture_on_commit_callbacks, school, [personas["teacher"]])
    fake_wecom.send_reply = {"errcode": 60020, "errmsg": "not allow to access from your ip"}
    deliver_due(now=T)
    deliver_due(now=T + datetime.timedelta(minutes=5))
    (row,) = _app_rows("wecom_app")
    assert (row.status, row.attempts) == ("dead", 2)


def test_switching_the_platform_off_after_queueing_fails_with_a_message(
        school, personas, wecom_config, fake_wecom, django_capture_on_commit_callbacks):
    _link(personas["teacher"], "wecom", "teacher-w", school)
    _notify(django_capture_on_commit_callbacks, school, [personas["teacher"]])
    SigninConfig.objects.filter(pk=wecom_config.pk).update(enabled=False)
    assert deliver_due(now=T) == 0
    (row,) = _app_rows("wecom_app")
    assert row.status == "failed" and row.last_error == _(
        "The school no longer sends app messages through this platform (check the sign-in settings).")


def test_a_worker_with_a_stale_list_sends_no_app_message_twice(school, personas, wecom_config, fake_wecom,
                                                               django_capture_on_commit_callbacks):
    for i, role in enumerate(("teacher", "logistics_director", "accountant")):
        _link(personas[role], "wecom", f"user-{i}", school)
    _notify(django_capture_on_commit_callbacks, school, [personas["teacher"], personas["logistics_director"],
                                                          personas["accountant"]])
    seen_by_a = due_message_ids(now=T, limit=10)
    assert len(seen_by_a) == 3
    assert deliver_due(now=T, worker="b") == 3
    batch = _Batch()
    assert [_deliver_one(pk, worker="a", now=T, batch=batch) for pk in seen_by_a] == [False] * 3
    assert sorted(m["touser"] for m in fake_wecom.messages) == ["user-0", "user-1", "user-2"]


@pytest.mark.dbsensitive
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_app_message_exactly_once(fake_wecom):
    if connection.vendor == "sqlite" and (
        connection.settings_dict["NAME"] in (":memory:", "") or "memory" in str(connection.settings_dict["NAME"])
    ):
        pytest.skip("threads need a shared database: an in-memory SQLite database is one connection "
                    "(this runs on PostgreSQL in make test, and on a file SQLite database)")
    from houqin.org.models import School

    school = School.objects.order_by("pk").first() or School.objects.create(name="并发测试学校", code="9909002")
    SigninConfig.objects.update_or_create(school=school, defaults={
        "provider": "wecom", "corp_id": fake_wecom.corp_id, "agent_id": "1000002", "secret": fake_wecom.secret,
        "enabled": True})
    ChannelConfig.objects.filter(school=school).delete()
    OutboxMessage.objects.bulk_create([
        OutboxMessage(school=school, channel="wecom_app", address=f"user-{i}", payload={"title": f"并发{i}"},
                      next_attempt_at=T)
        for i in range(20)
    ])
    counts, errors, barrier = {}, [], threading.Barrier(2)

    def work(name):
        from django.db import connection as conn

        try:
            barrier.wait()
            counts[name] = deliver_due(now=T, worker=name)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("worker-1", "worker-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(m["touser"] for m in fake_wecom.messages) == sorted(f"user-{i}" for i in range(20))
    assert counts["worker-1"] + counts["worker-2"] == 20


def test_the_channels_are_registered_through_core_not_imported_by_notifications():
    assert {"wecom_app", "dingtalk_app"} <= set(registry.personal_channels)
    import houqin.notifications.senders as senders
    import houqin.notifications.services as services

    for module in (senders, services):
        source = Path(module.__file__).read_text(encoding="utf-8")
        assert "houqin.signin" not in source and "from houqin import signin" not in source
