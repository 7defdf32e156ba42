"""Write paths of X-4: ``notify`` (the public API every app calls) and ``deliver_due`` (the worker).

    from houqin.notifications.services import notify

    @transaction.atomic
    def hazard_assign(*, hazard, worker, actor):
        ...
        notify(school=hazard.school, recipients=[worker.user, "logistics_director"],
               title=_("Hazard assigned to you"), url=hazard.get_absolute_url(), category="safety.hazard")

Nothing is written before the caller's transaction commits, so a rolled-back service sends nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core.audit import audit_record, serialize_for_audit
from houqin.core.models import AuditEntry
from houqin.core.registry import registry

from . import selectors, senders
from .models import ChannelConfig, Notification, OutboxMessage

log = logging.getLogger("houqin.notifications")

# A row left "sending" this long belongs to a worker that died mid-send; it is retried (the one case in
# which a message may arrive twice: the worker may have sent it before it died).
STALE_CLAIM = timedelta(minutes=15)


# notify ----------------------------------------------------------------------------------------------


def notify(
    *,
    school,
    recipients: Iterable,
    title: str,
    body: str = "",
    url: str = "",
    urgent: bool = False,
    category: str = "",
) -> None:
    """Tell people something: in the inbox at once, and on every channel the school switched on (e-mail,
    group robots, and each person's WeCom / DingTalk app when the school signs in through it).

    ``recipients`` holds Users and/or role codes ("logistics_director": the active accounts of
    ``school`` with that role). The inbox and outbox rows are written when the caller's transaction
    commits; when it rolls back, nothing is written and nothing is sent.
    """
    user_ids: set[int] = set()
    role_codes: set[str] = set()
    for recipient in recipients:
        if isinstance(recipient, str):
            role_codes.add(recipient)
        elif getattr(recipient, "pk", None) is not None:
            user_ids.add(recipient.pk)
        else:
            raise TypeError(f"notify(): a recipient must be a saved User or a role code, not {recipient!r}")
    message = {
        "title": str(title)[:200], "body": str(body), "url": str(url)[:500], "category": str(category)[:50],
    }
    school_id = school.pk

    def write() -> None:
        _write_messages(school_id=school_id, user_ids=user_ids, role_codes=role_codes, message=message,
                        urgent=bool(urgent))

    # robust: the caller's data is committed already; a failure here is logged, not raised at the caller.
    transaction.on_commit(write, robust=True)


def _write_messages(*, school_id, user_ids: set[int], role_codes: set[str], message: dict, urgent: bool) -> None:
    from houqin.org.models import School

    school = School.objects.get(pk=school_id)
    users = get_user_model().objects.filter(is_active=True)
    who = Q(pk__in=user_ids)
    if role_codes:
        who |= Q(pk__in=selectors.users_with_roles(school=school, role_codes=role_codes).values("pk"))
    people = list(users.filter(who).order_by("pk").only("pk", "email"))
    config = selectors.channel_config_get(school)
    now = timezone.now()
    rows = []
    if config.email_enabled:
        rows += [
            OutboxMessage(school=school, channel=OutboxMessage.Channel.EMAIL, recipient=person,
                          address=person.email, payload=message, urgent=urgent, next_attempt_at=now)
            for person in people if person.email
        ]
    for channel in registry.personal_channels.values():  # the school's WeCom / DingTalk app, per person
        try:
            addresses = channel.addresses(school, people)
        except Exception:  # one channel's failure must not stop the inbox and the other channels
            log.exception("personal channel %s: addresses failed", channel.code)
            continue
        rows += [
            OutboxMessage(school=school, channel=channel.code, recipient=person, address=addresses[person.pk][:500],
                          payload=message, urgent=urgent, next_attempt_at=now)
            for person in people if addresses.get(person.pk)
        ]
    for channel, address in (
        (OutboxMessage.Channel.WECOM, senders.wecom_url(config.wecom_webhook)),
        (OutboxMessage.Channel.DINGTALK, senders.dingtalk_url(config.dingtalk_webhook)),
    ):
        if address:  # a group robot gets the message once, whoever it is for
            rows.append(OutboxMessage(school=school, channel=channel, address=address, payload=message,
                                      urgent=urgent, next_attempt_at=now))
    with transaction.atomic():
        Notification.objects.bulk_create([
            Notification(school=school, recipient=person, title=message["title"], body=message["body"],
                         url=message["url"], category=message["category"], urgent=urgent)
            for person in people
        ])
        OutboxMessage.objects.bulk_create(rows)


# deliver_due -----------------------------------------------------------------------------------------


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def due_message_ids(*, now: datetime, limit: int) -> list[int]:
    """Ids of the messages due now, urgent first; reading them claims nothing."""
    return list(
        OutboxMessage.objects.filter(
            status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED), next_attempt_at__lte=now,
        ).order_by("-urgent", "next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )


def message_claim(*, pk: int, worker: str, now: datetime) -> bool:
    """Take the message for ``worker``: a conditional UPDATE that only one worker can win.

    The row changes only if it is still waiting and unclaimed; the database applies the two
    UPDATEs one after the other, so the second worker's WHERE no longer matches and it updates
    0 rows (healthchecks' ``sendalerts`` claims flips the same way).
    """
    claimed = OutboxMessage.objects.filter(
        pk=pk, status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED), claimed_by="",
        next_attempt_at__lte=now,
    ).update(status=OutboxMessage.Status.SENDING, claimed_by=worker or default_worker_name(), claimed_at=now)
    return claimed == 1


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, at most a day."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 24 * 60))


class _Batch:
    """What one ``deliver_due`` call shares between messages: school settings and one mail connection."""

    def __init__(self) -> None:
        self.configs: dict[int, ChannelConfig] = {}
        self.releases: dict[int, datetime | None] = {}
        self._mail = None

    def config(self, school_id: int) -> ChannelConfig:
        if school_id not in self.configs:
            from houqin.org.models import School

            self.configs[school_id] = selectors.channel_config_get(School(pk=school_id))
        return self.configs[school_id]

    def quiet_release_at(self, school_id: int, now: datetime) -> datetime | None:
        """The school's quiet-hours release time; ``now`` is fixed for one batch, so it is asked once."""
        if school_id not in self.releases:
            self.releases[school_id] = selectors.quiet_release_at(self.config(school_id), now)
        return self.releases[school_id]

    def mail_connection(self):
        if self._mail is None:
            self._mail = mail.get_connection(fail_silently=False)
        return self._mail

    def close(self) -> None:
        if self._mail is not None:
            try:
                self._mail.close()
            except Exception:  # closing a broken SMTP connection must not hide the batch's result
                log.warning("closing the mail connection failed", exc_info=True)


def _deliver_one(pk: int, *, worker: str, now: datetime, batch: _Batch) -> bool:
    """Defer, claim and send one message; True when this call sent it."""
    head = OutboxMessage.objects.filter(pk=pk).values("school_id", "urgent").first()
    if head is None:
        return False
    if not head["urgent"]:
        release = batch.quiet_release_at(head["school_id"], now)
        if release is not None:
            # Quiet hours: move the attempt to the morning. Conditional like the claim, so it never
            # touches a row another worker has just taken.
            OutboxMessage.objects.filter(
                pk=pk, status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED), claimed_by="",
                next_attempt_at__lte=now,
            ).update(next_attempt_at=release)
            return False
    if not message_claim(pk=pk, worker=worker, now=now):
        return False  # another worker has it
    message = OutboxMessage.objects.select_related("recipient").get(pk=pk)
    sender = senders.sender_for(message.channel)
    try:
        if sender is None:
            raise senders.DeliveryError(_("Unknown channel."))
        connection = batch.mail_connection() if message.channel == OutboxMessage.Channel.EMAIL else None
        sender(message, batch.config(message.school_id), connection)
    except Exception as exc:  # any failure of one message is recorded on it; the batch goes on
        reason = str(exc) if isinstance(exc, senders.DeliveryError) else f"{exc.__class__.__name__}: {exc}"
        if not isinstance(exc, senders.DeliveryError):
            log.exception("notification %s: unexpected error", pk)
        _record_failure(message, reason=reason, now=now)
        return False
    OutboxMessage.objects.filter(pk=pk, claimed_by=message.claimed_by).update(
        status=OutboxMessage.Status.SENT, attempts=message.attempts + 1, sent_at=timezone.now(), last_error="",
        claimed_by="",
    )
    return True


def _record_failure(message: OutboxMessage, *, reason: str, now: datetime) -> None:
    attempts = message.attempts + 1
    dead = attempts >= settings.HOUQIN_NOTIFY_MAX_ATTEMPTS
    OutboxMessage.objects.filter(pk=message.pk, claimed_by=message.claimed_by).update(
        status=OutboxMessage.Status.DEAD if dead else OutboxMessage.Status.FAILED,
        attempts=attempts, last_error=reason[:500], claimed_by="",
        next_attempt_at=now if dead else now + backoff(attempts),
    )
    log.warning("notification %s via %s failed (attempt %s%s): %s", message.pk, message.channel, attempts,
                ", given up" if dead else "", reason)


def _release_stale_claims(now: datetime) -> int:
    return OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=OutboxMessage.Status.FAILED, claimed_by="", next_attempt_at=now,
             last_error=_("The worker stopped while sending; the message may have gone out once already."))


def deliver_due(*, now: datetime | None = None, worker: str = "", limit: int = 100) -> int:
    """Send the outbox messages that are due; returns how many were sent.

    Any number of workers may run this at once: each message is claimed with a conditional UPDATE
    before it is sent, so it is sent once. Non-urgent messages of a school in quiet hours are moved to
    the end of its quiet hours; urgent ones go at once. A failure is retried after 1, 2, 4, 8 …
    minutes; after ``HOUQIN_NOTIFY_MAX_ATTEMPTS`` attempts the message is given up ("dead") and shown
    on the administrator's delivery page.
    """
    now = now or timezone.now()
    worker = worker or default_worker_name()
    _release_stale_claims(now)
    batch = _Batch()
    sent = 0
    try:
        for pk in due_message_ids(now=now, limit=limit):
            if _deliver_one(pk, worker=worker, now=now, batch=batch):
                sent += 1
    finally:
        batch.close()
    return sent


def deliver_due_job() -> int:
    """Periodic job ``notifications.deliver`` (every minute, on the job worker)."""
    return deliver_due(limit=settings.HOUQIN_NOTIFY_BATCH)


def outbox_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Delete sent messages and read notifications older than ``HOUQIN_NOTIFY_KEEP_DAYS``."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.HOUQIN_NOTIFY_KEEP_DAYS)
    return {
        "outbox": OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT, sent_at__lt=cutoff).delete()[0],
        "inbox": Notification.objects.filter(read_at__lt=cutoff).delete()[0],
    }


def outbox_prune_job() -> dict[str, int]:
    """Periodic job ``notifications.prune`` (daily)."""
    return outbox_prune()


# Inbox -----------------------------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, actor) -> Notification:
    """Mark one of the actor's own notifications read (the first time only)."""
    if notification.recipient_id != actor.pk:
        raise ValidationError(_("This notification is not yours."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notification_mark_all_read(*, actor) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


# Administration --------------------------------------------------------------------------------------


@transaction.atomic
def outbox_message_retry(*, message: OutboxMessage, actor) -> OutboxMessage:
    """Send a failed or given-up message again at once, with a fresh count of attempts."""
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status not in (OutboxMessage.Status.FAILED, OutboxMessage.Status.DEAD):
        raise ValidationError(_("Only failed messages can be retried."))
    before = serialize_for_audit(message, exclude=("payload", "address"))
    message.status = OutboxMessage.Status.PENDING
    message.attempts = 0
    message.claimed_by = ""
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["status", "attempts", "claimed_by", "next_attempt_at"])
    audit_record(obj=message, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                 after=serialize_for_audit(message, exclude=("payload", "address")), message=_("Retry"))
    return message


SECRET_FIELDS = ("wecom_webhook", "dingtalk_webhook", "dingtalk_secret")


def _config_snapshot(config: ChannelConfig) -> dict:
    """Audit snapshot without credentials: a webhook key or secret shows only whether it is set."""
    data = serialize_for_audit(config)
    for name in SECRET_FIELDS:
        data[name] = _("set") if data.get(name) else ""
    return data


@transaction.atomic
def channel_config_update(*, school, data: dict, actor) -> ChannelConfig:
    """Save the school's channel settings (the channel settings page); audited without credentials."""
    config = ChannelConfig.objects.select_for_update().filter(school=school).first()
    created = config is None
    if created:
        config = ChannelConfig(school=school)
    before = None if created else _config_snapshot(config)
    old_secrets = {name: getattr(config, name) for name in SECRET_FIELDS}
    for name, value in data.items():
        setattr(config, name, value)
    config.full_clean()
    config.save()
    after = _config_snapshot(config)
    # A changed key shows as "set" before and after: name it in the message so the change is visible.
    rotated = [name for name in SECRET_FIELDS if old_secrets[name] and getattr(config, name)
               and old_secrets[name] != getattr(config, name)]
    message = ""
    if rotated:
        names = "、".join(str(ChannelConfig._meta.get_field(name).verbose_name) for name in rotated)
        message = _("Changed: %(fields)s") % {"fields": names}
    audit_record(
        obj=config, action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE, actor=actor,
        before=before, after=after, message=message,
    )
    return config
