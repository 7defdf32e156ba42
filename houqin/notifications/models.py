"""Notifications (X-4): the in-app inbox, the outbox the delivery worker drains, and each school's channels.

Services never send anything themselves: ``services.notify`` writes ``Notification`` rows (the inbox)
and ``OutboxMessage`` rows (e-mail, WeCom and DingTalk group robots) once the caller's transaction
commits; ``services.deliver_due`` claims due outbox rows with a conditional UPDATE and sends them.
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from houqin.core.models import BaseModel, SchoolScopedModel


class Notification(SchoolScopedModel):
    """站内通知: one message in one person's inbox (replaces the phone call and the note on the desk)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
        verbose_name=_("recipient"),
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    category = models.CharField(_("category"), max_length=50, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notif_recipient_unread")]

    def __str__(self) -> str:
        return self.title

    str_fields = ("title",)  # what __str__ reads (lists load only these)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OutboxMessage(models.Model):
    """One message waiting for (or past) delivery on one channel: per person for e-mail and app messages,
    per message for a group robot. Claimed by a worker with a conditional UPDATE (healthchecks ``sendalerts``)."""

    class Channel(models.TextChoices):
        INAPP = "inapp", _("In-app")
        EMAIL = "email", _("E-mail")
        WECOM = "wecom_robot", _("WeCom group robot")
        DINGTALK = "dingtalk_robot", _("DingTalk group robot")
        # Per person, through the school's own WeCom / DingTalk app (channels the signin app registers in
        # core.registry.personal_channels; the address is the person's platform user id).
        WECOM_APP = "wecom_app", _("WeCom app message")
        DINGTALK_APP = "dingtalk_app", _("DingTalk work notice")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Given up")

    # Tabler badge colours of the statuses (list page).
    STATUS_COLORS = {"pending": "azure", "sending": "blue", "sent": "green", "failed": "yellow", "dead": "red"}

    school = models.ForeignKey("org.School", on_delete=models.PROTECT, verbose_name=_("school"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("recipient"),
    )
    # The e-mail address, or the robot's webhook when the message was queued (robots are sent to the
    # school's current webhook, so that fixing a wrong address and retrying works).
    address = models.CharField(_("address"), max_length=500, blank=True)
    payload = models.JSONField(_("content"), default=dict)
    urgent = models.BooleanField(_("urgent"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    claimed_by = models.CharField(_("worker"), max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ("-created_at", "-id")
        permissions = [("retry_outboxmessage", "Can retry a failed delivery")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notif_outbox_due"),
            models.Index(fields=["school", "status", "-created_at"], name="notif_outbox_school"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.payload.get('title', '')}"

    @property
    def title(self) -> str:
        return self.payload.get("title", "")

    @property
    def status_color(self) -> str:
        return self.STATUS_COLORS.get(self.status, "secondary")


class ChannelConfig(BaseModel):
    """消息渠道设置 of one school: which channels are on, the group robots, and the quiet hours
    (non-urgent messages wait for the morning; urgent ones always go at once)."""

    school = models.OneToOneField(
        "org.School", on_delete=models.CASCADE, related_name="notification_channels", verbose_name=_("school")
    )
    email_enabled = models.BooleanField(
        _("send e-mail"), default=False,
        help_text=_("Also send each message by e-mail to people who have an e-mail address."),
    )
    wecom_webhook = models.CharField(
        _("WeCom group robot webhook"), max_length=500, blank=True,
        help_text=_("The robot's webhook address, or only its key. Leave empty to switch the robot off."),
    )
    dingtalk_webhook = models.CharField(
        _("DingTalk group robot webhook"), max_length=500, blank=True,
        help_text=_("The robot's webhook address, or only its access token. Leave empty to switch the robot off."),
    )
    dingtalk_secret = models.CharField(
        _("DingTalk signing secret"), max_length=200, blank=True,
        help_text=_("The robot's secret (starts with SEC) when its security setting is “signing”."),
    )
    quiet_start = models.TimeField(_("quiet hours start"), default=datetime.time(21, 30))
    quiet_end = models.TimeField(
        _("quiet hours end"), default=datetime.time(7, 0),
        help_text=_("Non-urgent messages queued in quiet hours are sent at this time. The same start "
                    "and end time means no quiet hours."),
    )
    hold_on_days_off = models.BooleanField(
        _("hold until the next working day"), default=False,
        help_text=_("On weekends and holidays, non-urgent messages wait until the end of quiet hours of "
                    "the next working day."),
    )

    class Meta:
        verbose_name = _("notification channels")
        verbose_name_plural = _("notification channels")

    def __str__(self) -> str:
        return str(self.school)
