"""Fixtures of the X-5 tests: a second school with the simulated autumn term, and fixed clock times."""

import datetime

import pytest
from django.utils import timezone

D = datetime.date


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """An aware Asia/Shanghai time: "now" is frozen by passing it to the services."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)),
                               timezone.get_default_timezone())


@pytest.fixture
def term_school(db):
    """A school whose autumn term 2026 has 国庆 (10-01 – 10-07) and a make-up Saturday (10-10)."""
    from houqin.org.models import Holiday, School, Term

    school = School.objects.create(name="任务测试学校", code="X5-TEST")
    Term.objects.create(school=school, school_year=2026, season="autumn", start_on=D(2026, 9, 1),
                        mid_on=D(2026, 11, 10), end_on=D(2027, 1, 20))
    Holiday.objects.create(school=school, name="国庆节", start_on=D(2026, 10, 1), end_on=D(2026, 10, 7))
    Holiday.objects.create(school=school, name="国庆调休上班", kind="workday", start_on=D(2026, 10, 10),
                           end_on=D(2026, 10, 10))
    return school


@pytest.fixture
def notify_calls(monkeypatch):
    """Record every ``notify`` call (the real one still runs: its rows are written on commit)."""
    from houqin.notifications import services as notifications

    calls = []
    real = notifications.notify

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(notifications, "notify", spy)
    return calls
