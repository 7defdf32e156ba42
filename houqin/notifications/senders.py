"""Transports of the outbox: e-mail through Django's mail, WeCom and DingTalk group robots over HTTPS, and
the personal channels other apps register (``core.registry.personal_channels``: the school's WeCom app
messages and DingTalk work notices, sent by the signin app, which holds the platform credentials).

Each sender takes one claimed ``OutboxMessage`` (and the school's ``ChannelConfig``) and either returns
or raises ``DeliveryError`` with a short reason that the delivery page shows the administrator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core import mail
from django.utils.translation import gettext as _

from houqin.core.registry import registry

from .models import ChannelConfig, Notification, OutboxMessage

# Limits of the robots (bytes of the UTF-8 content): WeCom markdown 4096, DingTalk about 20000.
WECOM_MAX_BYTES = 4000
DINGTALK_MAX_BYTES = 18000
REPLY_MAX_BYTES = 64 * 1024


class DeliveryError(Exception):
    """The message was not delivered; ``str(exc)`` says why (shown on the delivery page)."""


# Addresses -------------------------------------------------------------------------------------------


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def wecom_url(value: str) -> str:
    """A full webhook address, or a robot key appended to ``HOUQIN_WECOM_WEBHOOK_BASE``."""
    value = (value or "").strip()
    if not value or _is_url(value):
        return value
    return f"{settings.HOUQIN_WECOM_WEBHOOK_BASE}?{urllib.parse.urlencode({'key': value})}"


def dingtalk_url(value: str) -> str:
    """A full webhook address, or an access token appended to ``HOUQIN_DINGTALK_WEBHOOK_BASE``."""
    value = (value or "").strip()
    if not value or _is_url(value):
        return value
    return f"{settings.HOUQIN_DINGTALK_WEBHOOK_BASE}?{urllib.parse.urlencode({'access_token': value})}"


def mask_address(address: str) -> str:
    """An address safe to show: a webhook without its query (the key is a credential), e-mail as is."""
    if _is_url(address):
        parts = urllib.parse.urlsplit(address)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
    return address


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64, URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


# Content ---------------------------------------------------------------------------------------------


def absolute_url(url: str) -> str:
    """A link people can open from their phone: relative paths are joined to ``HOUQIN_SITE_URL``."""
    if not url or _is_url(url):
        return url
    base = settings.HOUQIN_SITE_URL.rstrip("/")
    return f"{base}{url}" if base else ""


def _clip(text: str, max_bytes: int) -> str:
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 3].decode(errors="ignore") + "…"


def _title(message: OutboxMessage) -> str:
    title = message.payload.get("title", "")
    if not message.urgent:
        return title
    urgent = _("Urgent")
    return f"【{urgent}】{title}"


def markdown_text(message: OutboxMessage) -> str:
    lines = [f"**{_title(message)}**"]
    body = message.payload.get("body", "")
    if body:
        lines.append(body)
    link = absolute_url(message.payload.get("url", ""))
    if link:
        label = _("Open in Houqin")
        lines.append(f"[{label}]({link})")
    return "\n\n".join(lines)


def plain_text(message: OutboxMessage) -> str:
    """The message as plain text (app messages): title, body, and the link to open."""
    lines = [_title(message)]
    body = message.payload.get("body", "")
    if body:
        lines.append(body)
    link = absolute_url(message.payload.get("url", ""))
    if link:
        lines.append(link)
    return "\n\n".join(lines)


def wecom_payload(message: OutboxMessage) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": _clip(markdown_text(message), WECOM_MAX_BYTES)}}


def dingtalk_payload(message: OutboxMessage) -> dict:
    return {
        "msgtype": "markdown",
        "markdown": {"title": _title(message)[:100], "text": _clip(markdown_text(message), DINGTALK_MAX_BYTES)},
    }


# HTTP ------------------------------------------------------------------------------------------------


def post_json(url: str, payload: dict) -> dict:
    """POST ``payload``; a non-2xx status, an unreadable reply or ``errcode != 0`` raises DeliveryError."""
    if not _is_url(url):
        raise DeliveryError(_("The webhook address must start with http:// or https://."))
    request = urllib.request.Request(  # noqa: S310 (scheme checked above: http or https only)
        url, data=json.dumps(payload, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "Houqin"},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.HOUQIN_NOTIFY_TIMEOUT) as response:  # noqa: S310
            status = response.status
            raw = response.read(REPLY_MAX_BYTES)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(str(reason)[:300] or exc.__class__.__name__) from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status}")
    try:
        reply = json.loads(raw.decode() or "{}")
    except ValueError:
        raise DeliveryError(_("The robot's reply is not JSON.")) from None
    if isinstance(reply, dict) and reply.get("errcode", 0) != 0:
        raise DeliveryError(f"errcode {reply.get('errcode')}: {str(reply.get('errmsg', ''))[:200]}")
    return reply if isinstance(reply, dict) else {}


# Senders ---------------------------------------------------------------------------------------------


def send_email(message: OutboxMessage, config: ChannelConfig, connection=None) -> None:
    if not message.address:
        raise DeliveryError(_("No e-mail address."))
    body = message.payload.get("body", "")
    link = absolute_url(message.payload.get("url", ""))
    if link:
        body = f"{body}\n\n{link}" if body else link
    email = mail.EmailMessage(
        subject=_title(message)[:200], body=body, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.address], connection=connection,
    )
    try:
        email.send(fail_silently=False)
    except Exception as exc:  # smtplib and socket errors: the reason is shown, the row retried
        raise DeliveryError(f"{exc.__class__.__name__}: {exc}"[:300]) from None


def send_wecom(message: OutboxMessage, config: ChannelConfig, connection=None) -> None:
    url = wecom_url(config.wecom_webhook)
    if not url:
        raise DeliveryError(_("The school has switched this robot off."))
    post_json(url, wecom_payload(message))


def send_dingtalk(message: OutboxMessage, config: ChannelConfig, connection=None) -> None:
    url = dingtalk_url(config.dingtalk_webhook)
    if not url:
        raise DeliveryError(_("The school has switched this robot off."))
    post_json(dingtalk_signed_url(url, config.dingtalk_secret), dingtalk_payload(message))


def send_inapp(message: OutboxMessage, config: ChannelConfig, connection=None) -> None:
    """``notify`` writes inbox rows directly; this serves in-app rows queued some other way."""
    if message.recipient_id is None:
        raise DeliveryError(_("No recipient."))
    p = message.payload
    Notification.objects.create(
        school_id=message.school_id, recipient_id=message.recipient_id, title=p.get("title", "")[:200],
        body=p.get("body", ""), url=p.get("url", "")[:500], category=p.get("category", "")[:50],
        urgent=message.urgent,
    )


def send_personal(message: OutboxMessage, config: ChannelConfig, connection=None) -> None:
    """An app message to one person through a registered personal channel (WeCom app, DingTalk work notice)."""
    channel = registry.personal_channels.get(message.channel)
    if channel is None:
        raise DeliveryError(_("Unknown channel."))
    if not message.address:
        raise DeliveryError(_("No recipient."))
    try:
        channel.send(school_id=message.school_id, address=message.address, title=_title(message),
                     text=plain_text(message))
    except channel.errors as exc:
        raise DeliveryError(str(exc)[:300] or exc.__class__.__name__) from None


def sender_for(channel: str):
    """The transport of an outbox channel: one of SENDERS, else a registered personal channel, else None."""
    sender = SENDERS.get(channel)
    if sender is None and channel in registry.personal_channels:
        return send_personal
    return sender


SENDERS = {
    OutboxMessage.Channel.EMAIL: send_email,
    OutboxMessage.Channel.WECOM: send_wecom,
    OutboxMessage.Channel.DINGTALK: send_dingtalk,
    OutboxMessage.Channel.INAPP: send_inapp,
}
