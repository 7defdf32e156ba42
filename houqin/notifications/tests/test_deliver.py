"""deliver_due (X-4): claim by conditional UPDATE, quiet hours, backoff, giving up, e-mail."""

import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from houqin.core.models import AuditEntry
from houqin.core.registry import registry
from houqin.notifications import senders
from houqin.notifications.models import ChannelConfig, Notification, OutboxMessage
from houqin.notifications.selectors import quiet_release_at
from houqin.notifications.services import (
    _Batch,
    _deliver_one,
    deliver_due,
    deliver_due_job,
    due_message_ids,
    message_claim,
    notify,
    outbox_message_retry,
    outbox_prune,
)

SHANGHAI = timezone.get_default_timezone()


def local(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args), SHANGHAI)


T = local(2025, 3, 5, 10, 0)  # a Wednesday morning, outside quiet hours


def _queue(school, *, at=T, urgent=False, channel="wecom_robot", title="消息", **extra) -> OutboxMessage:
    return OutboxMessage.objects.create(school=school, channel=channel, address=extra.pop("address", ""),
                                        payload={"title": title, "body": "", "url": ""}, urgent=urgent,
                                        next_attempt_at=at, **extra)


@pytest.fixture
def sent(monkeypatch):
    """Replace the group robot's transport by a list of the message ids it was given."""
    calls = []
    lock = threading.Lock()

    def fake(message, config, connection=None):
        time.sleep(0.001)  # widen the window in which two workers could both send
        with lock:
            calls.append(message.pk)

    monkeypatch.setitem(senders.SENDERS, "wecom_robot", fake)
    return calls


@pytest.fixture
def failing(monkeypatch):
    calls = []

    def fake(message, config, connection=None):
        calls.append(message.pk)
        raise senders.DeliveryError("HTTP 502")

    monkeypatch.setitem(senders.SENDERS, "wecom_robot", fake)
    return calls


# Claiming ----------------------------------------------------------------------------------------------


def test_a_claimed_message_cannot_be_claimed_again(school):
    message = _queue(school)
    assert message_claim(pk=message.pk, worker="a", now=T)
    assert not message_claim(pk=message.pk, worker="b", now=T)
    message.refresh_from_db()
    assert (message.status, message.claimed_by, message.claimed_at) == ("sending", "a", T)


def test_a_worker_with_a_stale_list_sends_nothing_another_worker_has_sent(school, sent):
    """Worker A reads the due messages, worker B sends them all, then A goes through its list: the
    conditional UPDATE matches nothing, so A sends nothing (the rule behind the threaded test)."""
    pks = [_queue(school).pk for _ in range(3)]
    seen_by_a = due_message_ids(now=T, limit=10)
    assert sorted(seen_by_a) == sorted(pks)
    assert deliver_due(now=T, worker="b") == 3
    batch = _Batch()
    assert [_deliver_one(pk, worker="a", now=T, batch=batch) for pk in seen_by_a] == [False] * 3
    assert sorted(sent) == sorted(pks)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_messages_not_yet_due_wait(school, sent):
    _queue(school, at=T + datetime.timedelta(minutes=1))
    assert deliver_due(now=T) == 0 and sent == []


@pytest.mark.dbsensitive
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_exactly_once(sent):
    if connection.vendor == "sqlite" and (
        connection.settings_dict["NAME"] in (":memory:", "") or "memory" in str(connection.settings_dict["NAME"])
    ):
        pytest.skip("threads need a shared database: an in-memory SQLite database is one connection "
                    "(this runs on PostgreSQL in make test, and on a file SQLite database)")
    from houqin.org.models import School

    school = School.objects.order_by("pk").first() or School.objects.create(name="并发测试学校", code="9909001")
    rows = OutboxMessage.objects.bulk_create([
        OutboxMessage(school=school, channel="wecom_robot", payload={"title": f"并发{i}"}, next_attempt_at=T)
        for i in range(40)
    ])
    pks = sorted(r.pk for r in rows)
    counts, errors, barrier = {}, [], threading.Barrier(2)

    def work(name):
        from django.db import connection as conn

        try:
            barrier.wait()
            counts[name] = deliver_due(now=T, worker=name)
        except Exception as exc:  # reported below: a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("worker-1", "worker-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(sent) == pks  # every message once, none twice
    assert counts["worker-1"] + counts["worker-2"] == 40
    assert OutboxMessage.objects.filter(pk__in=pks, status="sent").count() == 40


def test_a_message_left_sending_by_a_dead_worker_is_retried(school, sent):
    stuck = _queue(school, at=T - datetime.timedelta(hours=1))
    assert message_claim(pk=stuck.pk, worker="gone", now=T - datetime.timedelta(minutes=20))
    recent = _queue(school, at=T - datetime.timedelta(hours=1))
    assert message_claim(pk=recent.pk, worker="busy", now=T - datetime.timedelta(minutes=1))
    assert deliver_due(now=T) == 1
    assert sent == [stuck.pk]
    recent.refresh_from_db()
    assert (recent.status, recent.claimed_by) == ("sending", "busy")


# Quiet hours -------------------------------------------------------------------------------------------


def test_quiet_hours_hold_non_urgent_messages_and_let_urgent_ones_through(school, sent):
    ChannelConfig.objects.create(school=school, quiet_start=datetime.time(21, 30), quiet_end=datetime.time(7, 0))
    evening = local(2025, 3, 5, 22, 0)
    calm = _queue(school, at=evening, title="明日例会")
    urgent = _queue(school, at=evening, urgent=True, title="燃气泄漏")
    assert deliver_due(now=evening) == 1
    assert sent == [urgent.pk]
    calm.refresh_from_db()
    assert (calm.status, calm.attempts, calm.next_attempt_at) == ("pending", 0, local(2025, 3, 6, 7, 0))
    assert deliver_due(now=local(2025, 3, 6, 6, 59)) == 0
    assert deliver_due(now=local(2025, 3, 6, 7, 0)) == 1
    assert sent == [urgent.pk, calm.pk]


@pytest.mark.parametrize(("start", "end", "now", "release"), [
    ((21, 30), (7, 0), (2025, 3, 5, 21, 29), None),
    ((21, 30), (7, 0), (2025, 3, 5, 21, 30), (2025, 3, 6, 7, 0)),
    ((21, 30), (7, 0), (2025, 3, 6, 3, 0), (2025, 3, 6, 7, 0)),
    ((21, 30), (7, 0), (2025, 3, 6, 7, 0), None),
    ((12, 0), (13, 30), (2025, 3, 6, 12, 45), (2025, 3, 6, 13, 30)),
    ((12, 0), (13, 30), (2025, 3, 6, 14, 0), None),
    ((0, 0), (0, 0), (2025, 3, 6, 2, 0), None),  # same start and end: no quiet hours
])
def test_quiet_hours_release_time(school, start, end, now, release):
    config = ChannelConfig(school=school, quiet_start=datetime.time(*start), quiet_end=datetime.time(*end))
    expected = local(*release) if release else None
    assert quiet_release_at(config, local(*now)) == expected


def test_days_off_hold_messages_until_the_next_working_day(school):
    from houqin.org.models import Holiday

    config = ChannelConfig(school=school, hold_on_days_off=True)
    friday_night, saturday = local(2025, 3, 7, 22, 0), local(2025, 3, 8, 10, 0)
    assert quiet_release_at(config, friday_night) == local(2025, 3, 10, 7, 0)
    assert quiet_release_at(config, saturday) == local(2025, 3, 10, 7, 0)
    assert quiet_release_at(config, local(2025, 3, 10, 10, 0)) is None
    Holiday.objects.create(school=school, name="调休上班", kind="workday", start_on=datetime.date(2025, 3, 8),
                           end_on=datetime.date(2025, 3, 8))
    Holiday.objects.create(school=school, name="校庆", start_on=datetime.date(2025, 3, 12),
                           end_on=datetime.date(2025, 3, 13))
    assert quiet_release_at(config, friday_night) == local(2025, 3, 8, 7, 0)  # a make-up workday
    assert quiet_release_at(config, saturday) is None
    assert quiet_release_at(config, local(2025, 3, 12, 9, 0)) == local(2025, 3, 14, 7, 0)
    config.hold_on_days_off = False
    assert quiet_release_at(config, local(2025, 3, 12, 9, 0)) is None


# Failures ----------------------------------------------------------------------------------------------


def test_failures_back_off_1_2_4_8_16_minutes_then_give_up(school, failing, settings):
    settings.HOUQIN_NOTIFY_MAX_ATTEMPTS = 6
    message = _queue(school)
    at, waits = T, []
    for attempt in range(1, 6):
        assert deliver_due(now=at) == 0
        message.refresh_from_db()
        assert (message.status, message.attempts, message.last_error, message.claimed_by) == (
            "failed", attempt, "HTTP 502", "")
        waits.append(message.next_attempt_at - at)
        assert deliver_due(now=message.next_attempt_at - datetime.timedelta(seconds=1)) == 0
        assert len(failing) == attempt  # not retried before its time
        at = message.next_attempt_at
    assert waits == [datetime.timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    deliver_due(now=at)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("dead", 6)
    deliver_due(now=at + datetime.timedelta(days=2))
    assert len(failing) == 6  # given up: never tried again by itself


def test_retry_gives_a_dead_message_a_fresh_start_and_is_audited(school, personas, failing):
    message = _queue(school, status="dead", attempts=6, last_error="HTTP 502")
    outbox_message_retry(message=message, actor=personas["sysadmin"])
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)
    assert AuditEntry.objects.filter(content_type__model="outboxmessage", object_id=str(message.pk),
                                     actor=personas["sysadmin"]).count() == 1
    with pytest.raises(ValidationError):
        outbox_message_retry(message=_queue(school, status="sent"), actor=personas["sysadmin"])


def test_an_unexpected_error_is_recorded_like_a_failure(school, monkeypatch):
    def broken(message, config, connection=None):
        raise RuntimeError("boom")

    monkeypatch.setitem(senders.SENDERS, "wecom_robot", broken)
    message = _queue(school)
    assert deliver_due(now=T) == 0
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("failed", 1, "RuntimeError: boom")


# E-mail ------------------------------------------------------------------------------------------------


def test_email_is_sent_through_django_mail_with_an_absolute_link(
        school, personas, mailoutbox, settings, django_capture_on_commit_callbacks):
    settings.HOUQIN_SITE_URL = "https://houqin.example.edu.cn/"
    ChannelConfig.objects.create(school=school, email_enabled=True)
    teacher = personas["teacher"]
    teacher.email = "liuyang@example.com"
    teacher.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(school=school, recipients=[teacher], title="领用单已发放", body="请到仓库领取", url="/org/rooms/",
               urgent=True)
    OutboxMessage.objects.update(next_attempt_at=T)
    assert deliver_due(now=T) == 1
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["liuyang@example.com"]
    assert "领用单已发放" in email.subject and email.subject != "领用单已发放"  # marked urgent
    assert "请到仓库领取" in email.body and "https://houqin.example.edu.cn/org/rooms/" in email.body
    row = OutboxMessage.objects.get()
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_an_email_failure_is_retried(school, personas, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    message = _queue(school, channel="email", address="a@example.com", recipient=personas["teacher"])
    assert deliver_due(now=T) == 0
    message.refresh_from_db()
    assert message.status == "failed" and "Connection refused" in message.last_error


# Housekeeping ------------------------------------------------------------------------------------------


def test_prune_deletes_old_sent_messages_and_old_read_notifications(school, personas, settings):
    settings.HOUQIN_NOTIFY_KEEP_DAYS = 30
    old = T - datetime.timedelta(days=31)
    gone = _queue(school, status="sent", sent_at=old)
    kept = [_queue(school, status="dead"), _queue(school, status="sent", sent_at=T)]
    read = Notification.objects.create(school=school, recipient=personas["teacher"], title="旧", read_at=old)
    unread = Notification.objects.create(school=school, recipient=personas["teacher"], title="未读")
    assert outbox_prune(now=T) == {"outbox": 1, "inbox": 1}
    assert not OutboxMessage.objects.filter(pk=gone.pk).exists()
    assert OutboxMessage.objects.filter(pk__in=[k.pk for k in kept]).count() == 2
    assert not Notification.objects.filter(pk=read.pk).exists() and Notification.objects.filter(pk=unread.pk).exists()


def test_delivery_is_a_periodic_job_every_minute():
    job = registry.periodic_jobs["notifications.deliver"]
    assert job.func is deliver_due_job and job.every_minutes == 1


def test_an_inapp_row_becomes_an_inbox_notification(school, personas):
    _queue(school, channel="inapp", recipient=personas["canteen_manager"], title="留样记录缺失")
    assert deliver_due(now=T) == 1
    assert Notification.objects.filter(recipient=personas["canteen_manager"], title="留样记录缺失").count() == 1
