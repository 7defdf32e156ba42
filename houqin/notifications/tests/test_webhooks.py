"""Group robots (X-4) against a local HTTP receiver: WeCom markdown, DingTalk signed markdown."""

import datetime

import pytest
from django.utils import timezone

from houqin.notifications import senders
from houqin.notifications.models import ChannelConfig, OutboxMessage
from houqin.notifications.services import deliver_due, notify

T = timezone.make_aware(datetime.datetime(2025, 3, 5, 10, 0), timezone.get_default_timezone())
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"


def _notify(school, personas, capture, **kwargs):
    with capture(execute=True):
        notify(school=school, recipients=[personas["logistics_director"]], **kwargs)
    OutboxMessage.objects.update(next_attempt_at=T)


def test_wecom_robot_receives_markdown(school, personas, receiver, settings, django_capture_on_commit_callbacks):
    settings.HOUQIN_SITE_URL = "http://houqin.school.lan"
    ChannelConfig.objects.create(school=school, wecom_webhook=f"{receiver.base}/cgi-bin/webhook/send?key=k-123")
    _notify(school, personas, django_capture_on_commit_callbacks, title="3号楼停水", body="明天 8:00–12:00 检修",
            url="/notifications/", urgent=True)
    assert deliver_due(now=T) == 1
    [request] = receiver.requests
    assert request["path"] == "/cgi-bin/webhook/send" and request["query"] == {"key": ["k-123"]}
    assert request["headers"]["Content-Type"].startswith("application/json")
    body = request["json"]
    assert body["msgtype"] == "markdown" and set(body) == {"msgtype", "markdown"}
    content = body["markdown"]["content"]
    assert "3号楼停水" in content and "明天 8:00–12:00 检修" in content
    assert "(http://houqin.school.lan/notifications/)" in content
    assert OutboxMessage.objects.get().status == "sent"


def test_dingtalk_robot_signs_each_request(school, personas, receiver, django_capture_on_commit_callbacks):
    receiver.dingtalk_secret = SECRET
    ChannelConfig.objects.create(school=school, dingtalk_webhook=f"{receiver.base}/robot/send?access_token=tok",
                                 dingtalk_secret=SECRET)
    _notify(school, personas, django_capture_on_commit_callbacks, title="消防演练", body="周五下午第二节课")
    assert deliver_due(now=T) == 1
    [request] = receiver.requests
    assert request["signed"] is True
    assert request["query"]["access_token"] == ["tok"]
    timestamp = int(request["query"]["timestamp"][0])
    assert abs(timestamp - timezone.now().timestamp() * 1000) < 60_000  # milliseconds, now
    body = request["json"]
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "消防演练" and "周五下午第二节课" in body["markdown"]["text"]


def test_dingtalk_wrong_secret_is_a_failure_with_the_robots_reason(
        school, personas, receiver, django_capture_on_commit_callbacks):
    receiver.dingtalk_secret = SECRET
    ChannelConfig.objects.create(school=school, dingtalk_webhook=f"{receiver.base}/robot/send?access_token=tok",
                                 dingtalk_secret="SECwrong")
    _notify(school, personas, django_capture_on_commit_callbacks, title="x")
    assert deliver_due(now=T) == 0
    row = OutboxMessage.objects.get()
    assert receiver.requests[0]["signed"] is False
    assert (row.status, row.attempts) == ("failed", 1)
    assert "310000" in row.last_error and "sign not match" in row.last_error


def test_signature_matches_dingtalks_documented_algorithm():
    # HMAC-SHA256("1700000000000\nSECxyz", key "SECxyz"), base64, then URL-encoded.
    import base64
    import hashlib
    import hmac
    import urllib.parse

    digest = hmac.new(b"SECxyz", b"1700000000000\nSECxyz", hashlib.sha256).digest()
    expected = urllib.parse.quote_plus(base64.b64encode(digest))
    assert senders.dingtalk_sign("SECxyz", 1700000000000) == expected
    url = senders.dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "SECxyz", 1700000000000)
    assert url == f"https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign={expected}"
    assert senders.dingtalk_signed_url("https://x/robot/send?access_token=t", "") == "https://x/robot/send?access_token=t"


@pytest.mark.parametrize(("status", "reply", "error"), [
    (500, {"errcode": 0}, "HTTP 500"),
    (200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "errcode 93000: invalid webhook url"),
])
def test_non_2xx_or_errcode_is_a_failure(school, personas, receiver, status, reply, error,
                                         django_capture_on_commit_callbacks):
    receiver.status, receiver.reply = status, reply
    ChannelConfig.objects.create(school=school, wecom_webhook=f"{receiver.base}/cgi-bin/webhook/send?key=k")
    _notify(school, personas, django_capture_on_commit_callbacks, title="x")
    assert deliver_due(now=T) == 0
    row = OutboxMessage.objects.get()
    assert (row.status, row.last_error) == ("failed", error)


def test_an_unreachable_robot_is_a_failure(school, personas, django_capture_on_commit_callbacks, settings):
    settings.HOUQIN_NOTIFY_TIMEOUT = 2
    ChannelConfig.objects.create(school=school, wecom_webhook="http://127.0.0.1:9/cgi-bin/webhook/send?key=k")
    _notify(school, personas, django_capture_on_commit_callbacks, title="x")
    assert deliver_due(now=T) == 0
    assert OutboxMessage.objects.get().status == "failed"


def test_a_bare_key_uses_the_configured_base_address(school, personas, receiver, settings,
                                                     django_capture_on_commit_callbacks):
    settings.HOUQIN_WECOM_WEBHOOK_BASE = f"{receiver.base}/relay/wecom"
    ChannelConfig.objects.create(school=school, wecom_webhook="693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
    _notify(school, personas, django_capture_on_commit_callbacks, title="x")
    assert deliver_due(now=T) == 1
    assert receiver.requests[0]["path"] == "/relay/wecom"
    assert receiver.requests[0]["query"] == {"key": ["693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"]}


def test_a_fixed_webhook_is_used_when_retrying(school, personas, receiver, django_capture_on_commit_callbacks):
    config = ChannelConfig.objects.create(school=school, wecom_webhook="http://127.0.0.1:9/wrong?key=k")
    _notify(school, personas, django_capture_on_commit_callbacks, title="x")
    assert deliver_due(now=T) == 0
    config.wecom_webhook = f"{receiver.base}/cgi-bin/webhook/send?key=k"
    config.save()
    assert deliver_due(now=T + datetime.timedelta(minutes=1)) == 1
    assert len(receiver.requests) == 1


def test_a_robot_switched_off_after_queueing_is_not_sent(school, personas, django_capture_on_commit_callbacks):
    config = ChannelConfig.objects.create(school=school, wecom_webhook="http://127.0.0.1:9/x?key=k")
    _notify(school, personas, django_capture_on_commit_callbacks, title="x")
    config.wecom_webhook = ""
    config.save()
    deliver_due(now=T)
    assert OutboxMessage.objects.get().status == "failed"


def test_long_messages_are_clipped_to_the_robots_limit():
    message = OutboxMessage(payload={"title": "长", "body": "字" * 5000}, urgent=False)
    content = senders.wecom_payload(message)["markdown"]["content"]
    assert len(content.encode()) <= senders.WECOM_MAX_BYTES and content.endswith("…")
