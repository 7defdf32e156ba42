"""Read paths: inboxes, the delivery log, recipients of a role, and when quiet hours release a message."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from houqin.core.permissions import scope

from .models import ChannelConfig, Notification, OutboxMessage

# How far ahead a run of days off is searched (summer holidays are about eight weeks).
MAX_DAYS_OFF = 70


# Inbox -----------------------------------------------------------------------------------------------


def notification_list_for(user) -> QuerySet:
    """The person's own notifications, unread first, then newest first."""
    return Notification.objects.filter(recipient=user).order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-id"
    )


def notification_unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get_own(*, user, pk: int) -> Notification:
    """One notification of ``user``; anybody else's raises DoesNotExist (a 404, not a 403)."""
    return Notification.objects.get(recipient=user, pk=pk)


def unread_widget(request) -> dict | None:
    """Dashboard card: the number of unread notices and the five newest."""
    user = request.user
    if not user.is_authenticated:
        return None
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True).order_by("-created_at", "-id")
    return {"count": unread.count(), "items": list(unread[:5])}


# Delivery log ----------------------------------------------------------------------------------------


PROBLEM_STATUSES = (OutboxMessage.Status.FAILED, OutboxMessage.Status.DEAD)


def outbox_list_for(user, *, status: str = "") -> QuerySet:
    """Outgoing messages of the user's school (cross-school roles see all), problems by default."""
    qs = scope(OutboxMessage.objects.select_related("recipient", "school"), user, "view")
    if status == "all":
        return qs
    if status in OutboxMessage.Status.values:
        return qs.filter(status=status)
    return qs.filter(status__in=PROBLEM_STATUSES)


def outbox_dead_count(request) -> int | None:
    """Dashboard fact for the administrator: messages given up on (hidden when none or not allowed)."""
    user = request.user
    if not user.has_perm("notifications.view_outboxmessage") or not user.school_id:
        return None
    count = OutboxMessage.objects.filter(school_id=user.school_id, status=OutboxMessage.Status.DEAD).count()
    return count or None


# Channels and recipients -----------------------------------------------------------------------------


def channel_config_get(school) -> ChannelConfig:
    """The school's channel settings; an unsaved default (in-app only, quiet 21:30–07:00) if never set."""
    config = ChannelConfig.objects.filter(school=school).first()
    return config if config is not None else ChannelConfig(school=school)


def users_with_roles(*, school, role_codes) -> QuerySet:
    """Active accounts of ``school`` holding any of the roles, directly or through an active department."""
    codes = list(role_codes)
    if not codes:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(school=school, is_active=True).filter(
        Q(groups__name__in=codes)
        | Q(staff__departments__roles__name__in=codes, staff__status="active")
    ).distinct()


# Quiet hours -----------------------------------------------------------------------------------------


def in_quiet_hours(config: ChannelConfig, local: datetime.datetime) -> bool:
    start, end, t = config.quiet_start, config.quiet_end, local.time()
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end  # the quiet hours span midnight (21:30–07:00)


def _is_day_off(day: datetime.date, holidays: list) -> bool:
    for start_on, end_on, kind in holidays:
        if start_on <= day <= end_on:
            return kind == "holiday"
    return day.weekday() >= 5


def _days_off(school_id, first: datetime.date) -> list:
    from houqin.org.models import Holiday

    last = first + datetime.timedelta(days=MAX_DAYS_OFF)
    # Make-up workdays first, so a 调休 Saturday inside a holiday range counts as a working day.
    rows = Holiday.objects.filter(school_id=school_id, start_on__lte=last, end_on__gte=first).values_list(
        "start_on", "end_on", "kind")
    return sorted(rows, key=lambda r: r[2] != "workday")


def quiet_release_at(config: ChannelConfig, now: datetime.datetime) -> datetime.datetime | None:
    """When a non-urgent message may go, if not now: the end of quiet hours (on the next working day
    when the school holds messages on days off). ``None``: it may go now."""
    local = timezone.localtime(now)
    quiet = in_quiet_hours(config, local)
    if not quiet and not config.hold_on_days_off:
        return None
    end = config.quiet_end or datetime.time(7, 0)
    day = local.date()
    if quiet and local.time() >= end:
        day += datetime.timedelta(days=1)  # the evening part of quiet hours that span midnight
    if config.hold_on_days_off:
        holidays = _days_off(config.school_id, local.date())
        if not quiet and not _is_day_off(local.date(), holidays):
            return None
        for _ in range(MAX_DAYS_OFF):
            if not _is_day_off(day, holidays):
                break
            day += datetime.timedelta(days=1)
    release = timezone.make_aware(datetime.datetime.combine(day, end), timezone.get_current_timezone())
    return release if release > now else None
