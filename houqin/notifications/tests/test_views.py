"""Pages of X-4: the inbox, the bell, the delivery log (administrators) and the channel settings."""

import datetime

from django.urls import reverse
from django.utils import timezone

from houqin.core.models import AuditEntry
from houqin.notifications.models import ChannelConfig, Notification, OutboxMessage


def _note(school, user, title, **kwargs):
    return Notification.objects.create(school=school, recipient=user, title=title, **kwargs)


def _outbox(school, status="dead", **kwargs):
    return OutboxMessage.objects.create(school=school, channel="wecom_robot", payload={"title": "停电通知"},
                                        status=status, attempts=6, last_error="HTTP 502",
                                        address="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY",
                                        next_attempt_at=timezone.now(), **kwargs)


# Inbox and bell ----------------------------------------------------------------------------------------


def test_inbox_lists_unread_first_and_counts_them(school, personas, login):
    teacher = personas["teacher"]
    old_read = _note(school, teacher, "已读的旧通知", read_at=timezone.now())
    _note(school, teacher, "未读一")
    _note(school, teacher, "未读二", urgent=True)
    _note(school, personas["guard"], "别人的通知")
    response = login(teacher).get(reverse("notifications:inbox"))
    html = response.content.decode()
    assert response.context["unread"] == 2
    assert "别人的通知" not in html
    assert html.index("未读二") < html.index("已读的旧通知") and html.index("未读一") < html.index("已读的旧通知")
    assert f'data-notification="{old_read.pk}"' in html


def test_bell_shows_the_unread_count_and_answers_204_while_unchanged(school, personas, login):
    teacher = personas["teacher"]
    for i in range(3):
        _note(school, teacher, f"通知{i}")
    client = login(teacher)
    page = client.get(reverse("core:dashboard")).content.decode()
    assert 'id="notification-bell"' in page and 'hx-trigger="load, every 60s"' in page
    bell = client.get(reverse("notifications:bell"), HTTP_HX_REQUEST="true")
    html = bell.content.decode()
    assert bell.status_code == 200 and 'data-unread="3"' in html and "<html" not in html
    assert 'hx-trigger="every 60s"' in html and "seen=3" in html
    assert client.get(reverse("notifications:bell") + "?seen=3").status_code == 204
    Notification.objects.filter(recipient=teacher).update(read_at=timezone.now())
    empty = client.get(reverse("notifications:bell") + "?seen=3")
    assert empty.status_code == 200 and "data-unread" not in empty.content.decode()


def test_opening_a_notification_marks_it_read_and_follows_its_link(school, personas, login):
    teacher = personas["teacher"]
    note = _note(school, teacher, "报修已完成", url="/org/rooms/")
    response = login(teacher).get(reverse("notifications:notification", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/org/rooms/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_notification_without_a_safe_link_shows_its_text(school, personas, login):
    teacher = personas["teacher"]
    note = _note(school, teacher, "外部链接", body="正文内容", url="https://evil.example.com/")
    response = login(teacher).get(reverse("notifications:notification", args=[note.pk]))
    assert response.status_code == 200 and "正文内容" in response.content.decode()


def test_mark_all_read(school, personas, login):
    teacher = personas["teacher"]
    for i in range(2):
        _note(school, teacher, f"通知{i}")
    other = _note(school, personas["guard"], "保安的")
    client = login(teacher)
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405
    assert client.post(reverse("notifications:mark_all_read")).status_code == 302
    assert not Notification.objects.filter(recipient=teacher, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_nobody_can_open_someone_elses_notification(school, personas, login):
    note = _note(school, personas["guard"], "保安的通知")
    assert login(personas["teacher"]).get(reverse("notifications:notification", args=[note.pk])).status_code == 404
    assert login(personas["sysadmin"]).get(reverse("notifications:notification", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_pages_need_a_login(client):
    for name in ("inbox", "deliveries", "channels"):
        response = client.get(reverse(f"notifications:{name}"))
        assert response.status_code == 302 and "/login/" in response["Location"]
    # After the session ends, the polling bell gets nothing to swap rather than the login page.
    assert client.get(reverse("notifications:bell"), HTTP_HX_REQUEST="true").status_code == 204


def test_dashboard_widget_lists_unread_notices(school, personas, login):
    teacher = personas["teacher"]
    _note(school, teacher, "周一升旗仪式")
    html = login(teacher).get(reverse("core:dashboard")).content.decode()
    assert 'data-widget="notifications.unread"' in html and "周一升旗仪式" in html


# Delivery log ------------------------------------------------------------------------------------------


def test_a_teacher_cannot_open_the_delivery_log_or_retry(school, personas, login):
    message = _outbox(school)
    client = login(personas["teacher"])
    assert client.get(reverse("notifications:deliveries")).status_code == 403
    assert client.post(reverse("notifications:delivery_retry", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.status == "dead"


def test_director_sees_failed_deliveries_without_the_webhook_key_and_retries(school, personas, login):
    dead, sent = _outbox(school), _outbox(school, status="sent", sent_at=timezone.now())
    client = login(personas["logistics_director"])
    html = client.get(reverse("notifications:deliveries")).content.decode()
    assert f'data-message="{dead.pk}"' in html and f'data-message="{sent.pk}"' not in html
    assert "SECRETKEY" not in html and "qyapi.weixin.qq.com/cgi-bin/webhook/send" in html
    assert f'data-message="{sent.pk}"' in client.get(reverse("notifications:deliveries") + "?status=all").content.decode()
    response = client.post(reverse("notifications:delivery_retry", args=[dead.pk]))
    assert response.status_code == 302
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == ("pending", 0)


def test_another_schools_delivery_cannot_be_retried(school, personas, login):
    from houqin.org.models import School

    other = School.objects.create(name="另一所学校", code="3301999")
    message = _outbox(other)
    response = login(personas["sysadmin"]).post(reverse("notifications:delivery_retry", args=[message.pk]))
    assert response.status_code == 404


def test_menu_offers_the_admin_pages_to_the_right_roles(school, personas, login):
    director = login(personas["logistics_director"]).get(reverse("core:dashboard")).content.decode()
    assert reverse("notifications:deliveries") in director and reverse("notifications:channels") not in director
    admin = login(personas["sysadmin"]).get(reverse("core:dashboard")).content.decode()
    assert reverse("notifications:channels") in admin
    teacher = login(personas["teacher"]).get(reverse("core:dashboard")).content.decode()
    assert reverse("notifications:deliveries") not in teacher


# Channel settings --------------------------------------------------------------------------------------


def _form(**overrides):
    data = {"wecom_webhook": "", "dingtalk_webhook": "", "dingtalk_secret": "", "quiet_start": "21:30",
            "quiet_end": "07:00"}
    data.update(overrides)
    return data


def test_sysadmin_sets_the_channels_and_the_secret_is_kept_and_not_audited(school, personas, login):
    client = login(personas["sysadmin"])
    assert client.get(reverse("notifications:channels")).status_code == 200
    response = client.post(reverse("notifications:channels"), _form(
        email_enabled="on", dingtalk_webhook="https://oapi.dingtalk.com/robot/send?access_token=abc",
        dingtalk_secret="SECsecret", quiet_start="22:00", quiet_end="06:30", hold_on_days_off="on"))
    assert response.status_code == 302, response.content.decode()[-2000:]
    config = ChannelConfig.objects.get(school=school)
    assert (config.email_enabled, config.dingtalk_secret, config.quiet_start, config.hold_on_days_off) == (
        True, "SECsecret", datetime.time(22, 0), True)
    page = client.get(reverse("notifications:channels")).content.decode()
    assert "SECsecret" not in page
    # Saving again with the secret left empty keeps it; the audit log never holds it.
    client.post(reverse("notifications:channels"), _form(
        dingtalk_webhook="https://oapi.dingtalk.com/robot/send?access_token=abc", quiet_start="22:00"))
    config.refresh_from_db()
    assert config.dingtalk_secret == "SECsecret" and config.email_enabled is False
    entries = AuditEntry.objects.filter(content_type__model="channelconfig", object_id=str(config.pk))
    assert entries.count() == 2
    assert all("SECsecret" not in str(e.before) + str(e.after) and "access_token=abc" not in str(e.after)
               for e in entries)
    client.post(reverse("notifications:channels"), _form(clear_dingtalk_secret="on"))
    config.refresh_from_db()
    assert config.dingtalk_secret == ""


def test_a_webhook_must_be_an_address_or_a_key(school, personas, login):
    response = login(personas["sysadmin"]).post(reverse("notifications:channels"),
                                                _form(wecom_webhook="ftp://x y"))
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert not ChannelConfig.objects.filter(school=school).exists()


def test_only_the_sysadmin_sets_channels(school, personas, login):
    for role in ("teacher", "logistics_director"):
        client = login(personas[role])
        assert client.get(reverse("notifications:channels")).status_code == 403
        assert client.post(reverse("notifications:channels_test")).status_code == 403


def test_test_message_is_queued_for_the_administrator(school, personas, login, django_capture_on_commit_callbacks):
    ChannelConfig.objects.create(school=school, wecom_webhook="https://example.com/hook?key=k")
    with django_capture_on_commit_callbacks(execute=True):
        response = login(personas["sysadmin"]).post(reverse("notifications:channels_test"))
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=personas["sysadmin"], urgent=True).count() == 1
    assert OutboxMessage.objects.filter(channel="wecom_robot", urgent=True).count() == 1


def test_no_bell_while_the_password_must_be_changed(school, personas, login):
    """The bell's request would be redirected to the password page, which htmx would put in the top bar."""
    teacher = personas["teacher"]
    teacher.must_change_password = True
    teacher.save()
    html = login(teacher).get(reverse("password_change")).content.decode()
    assert 'id="notification-bell"' not in html
