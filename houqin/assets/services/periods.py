"""Periods of the asset books (AST-7): a closed month refuses writes.

Every service that writes something dated into the asset books (a journal row, a depreciation run, an
amortisation charge, a lease's 转固 …) calls ``assert_open(school, day)`` first. Months close in order,
so "closed" is simply "on or before the latest closed month". A correction of a closed month is a new
document dated in an open month.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..depreciation import month_index, month_of
from ..models import AccountingPeriod


def latest_closed_index(school) -> int | None:
    """The month index (``depreciation.month_index``) of the school's latest closed month, or None."""
    school_id = getattr(school, "pk", school)
    row = (AccountingPeriod.objects.filter(school_id=school_id, status=AccountingPeriod.Status.CLOSED)
           .order_by("-year", "-month").values_list("year", "month").first())
    return None if row is None else row[0] * 12 + row[1] - 1


def is_closed(school, day: datetime.date, *, latest: int | None | bool = False) -> bool:
    latest = latest_closed_index(school) if latest is False else latest
    return latest is not None and month_index(day) <= latest


def first_day_after(latest: int) -> datetime.date:
    """The first day of the month after month index ``latest``: every day before it is in a closed month."""
    year, month = month_of(latest + 1)
    return datetime.date(year, month, 1)


def closed_message(day: datetime.date) -> str:
    return _("%(year)s-%(month)02d is closed: the asset books of a closed month cannot change. Record the "
             "correction as a new document dated in an open month.") % {"year": day.year, "month": day.month}


def assert_open(school, day: datetime.date | None, *, field: str | None = None,
                latest: int | None | bool = False) -> None:
    """Refuse a write dated ``day`` into a closed month, with the reason (as a field error when ``field``).

    ``latest`` lets a caller that checks many dates pass ``latest_closed_index(school)`` once.
    """
    if day is None or not is_closed(school, day, latest=latest):
        return
    message = closed_message(day)
    raise ValidationError({field: message} if field else message)


def first_open_month(school) -> tuple[int, int] | None:
    """The month after the latest closed one (None when nothing is closed yet)."""
    latest = latest_closed_index(school)
    return None if latest is None else month_of(latest + 1)
