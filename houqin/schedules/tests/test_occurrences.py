"""When a plan falls due (X-5): the rules of ``plan_occurrences`` over a simulated autumn term.

The term runs 2026-09-01 (Tue) – 2027-01-20 (Wed), mid-term 2026-11-10; 国庆 2026-10-01 – 10-07 is a
holiday, Saturday 2026-10-10 a make-up workday (调休上班), 元旦 2027-01-01 a holiday. No database:
the calendar is built from plain objects.
"""

import datetime
from types import SimpleNamespace

import pytest

from houqin.schedules.models import Plan
from houqin.schedules.selectors import SchoolCalendar, plan_occurrences, plan_schedule_text, spread

D = datetime.date


@pytest.fixture
def calendar():
    return SchoolCalendar.build(
        terms=[SimpleNamespace(start_on=D(2026, 9, 1), mid_on=D(2026, 11, 10), end_on=D(2027, 1, 20))],
        holidays=[
            SimpleNamespace(kind="holiday", start_on=D(2026, 10, 1), end_on=D(2026, 10, 7)),
            SimpleNamespace(kind="workday", start_on=D(2026, 10, 10), end_on=D(2026, 10, 10)),
            SimpleNamespace(kind="holiday", start_on=D(2027, 1, 1), end_on=D(2027, 1, 1)),
        ],
    )


def plan(**fields) -> Plan:
    return Plan(start_on=D(2026, 1, 1), due_time=datetime.time(7, 30), **fields)


def test_school_days_skip_weekends_and_holidays_and_count_the_make_up_saturday(calendar):
    found = plan_occurrences(plan(kind=Plan.Kind.SCHOOL_DAYS), D(2026, 9, 28), D(2026, 10, 16), calendar=calendar)
    assert found == [
        D(2026, 9, 28), D(2026, 9, 29), D(2026, 9, 30),
        D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10),
        D(2026, 10, 12), D(2026, 10, 13), D(2026, 10, 14), D(2026, 10, 15), D(2026, 10, 16),
    ]


def test_school_days_exist_only_in_term_time(calendar):
    p = plan(kind=Plan.Kind.SCHOOL_DAYS)
    assert plan_occurrences(p, D(2026, 8, 27), D(2026, 9, 2), calendar=calendar) == [D(2026, 9, 1), D(2026, 9, 2)]
    assert plan_occurrences(p, D(2027, 1, 19), D(2027, 1, 25), calendar=calendar) == [D(2027, 1, 19), D(2027, 1, 20)]
    assert plan_occurrences(p, D(2026, 12, 31), D(2027, 1, 4), calendar=calendar) == [D(2026, 12, 31), D(2027, 1, 4)]


def test_daily_counts_weekends_and_skips_holidays_only_when_asked(calendar):
    start, end = D(2026, 9, 30), D(2026, 10, 11)
    skipping = plan_occurrences(plan(kind=Plan.Kind.DAILY, skip_holidays=True), start, end, calendar=calendar)
    assert skipping == [D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 11)]
    every = plan_occurrences(plan(kind=Plan.Kind.DAILY, skip_holidays=False), start, end, calendar=calendar)
    assert every == [start + datetime.timedelta(days=i) for i in range(12)]


def test_weekly_on_chosen_weekdays_skipping_holidays(calendar):
    p = plan(kind=Plan.Kind.WEEKLY, weekdays=[1, 4], skip_holidays=True)  # Monday and Thursday
    assert plan_occurrences(p, D(2026, 9, 28), D(2026, 10, 15), calendar=calendar) == [
        D(2026, 9, 28), D(2026, 10, 8), D(2026, 10, 12), D(2026, 10, 15)]  # 10-01 and 10-05 are 国庆
    p.skip_holidays = False
    assert plan_occurrences(p, D(2026, 9, 28), D(2026, 10, 15), calendar=calendar) == [
        D(2026, 9, 28), D(2026, 10, 1), D(2026, 10, 5), D(2026, 10, 8), D(2026, 10, 12), D(2026, 10, 15)]


def test_monthly_31st_falls_on_the_last_day_of_short_months_when_asked(calendar):
    start, end = D(2026, 9, 1), D(2027, 4, 30)
    last = plan(kind=Plan.Kind.MONTHLY, day_of_month=31, month_end=True)
    assert plan_occurrences(last, start, end, calendar=calendar) == [
        D(2026, 9, 30), D(2026, 10, 31), D(2026, 11, 30), D(2026, 12, 31), D(2027, 1, 31), D(2027, 2, 28),
        D(2027, 3, 31), D(2027, 4, 30)]
    strict = plan(kind=Plan.Kind.MONTHLY, day_of_month=31)
    assert plan_occurrences(strict, start, end, calendar=calendar) == [
        D(2026, 10, 31), D(2026, 12, 31), D(2027, 1, 31), D(2027, 3, 31)]


def test_monthly_last_day_alone_and_leap_february(calendar):
    p = plan(kind=Plan.Kind.MONTHLY, month_end=True)
    assert plan_occurrences(p, D(2028, 1, 15), D(2028, 3, 31), calendar=calendar) == [
        D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31)]
    first = plan(kind=Plan.Kind.MONTHLY, day_of_month=1)  # holidays are not skipped: 10-01 stays
    assert plan_occurrences(first, D(2026, 9, 15), D(2026, 11, 15), calendar=calendar) == [
        D(2026, 10, 1), D(2026, 11, 1)]
    thirtieth = plan(kind=Plan.Kind.MONTHLY, day_of_month=30, month_end=True)
    assert plan_occurrences(thirtieth, D(2027, 1, 1), D(2027, 3, 31), calendar=calendar) == [
        D(2027, 1, 30), D(2027, 2, 28), D(2027, 3, 30)]


def test_term_points_with_an_offset(calendar):
    p = plan(kind=Plan.Kind.TERM_POINTS, term_points=["start", "mid", "end"])
    assert plan_occurrences(p, D(2026, 8, 1), D(2027, 2, 28), calendar=calendar) == [
        D(2026, 9, 1), D(2026, 11, 10), D(2027, 1, 20)]
    p.term_offset_days = -3
    assert plan_occurrences(p, D(2026, 8, 1), D(2027, 2, 28), calendar=calendar) == [
        D(2026, 8, 29), D(2026, 11, 7), D(2027, 1, 17)]
    p.term_points, p.term_offset_days = ["end"], 2
    assert plan_occurrences(p, D(2026, 8, 1), D(2027, 2, 28), calendar=calendar) == [D(2027, 1, 22)]


def test_per_term_spreads_over_the_97_school_days_whatever_range_is_asked(calendar):
    # 97 school days: 22 in September, 18 in October (17 weekdays after 国庆 + the make-up Saturday), 21, 23, 13.
    assert len(calendar.school_days(D(2026, 9, 1), D(2027, 1, 20))) == 97
    whole = D(2026, 8, 1), D(2027, 2, 28)
    assert plan_occurrences(plan(kind=Plan.Kind.PER_TERM, times_per_term=1), *whole, calendar=calendar) == [
        D(2026, 11, 12)]
    twice = plan(kind=Plan.Kind.PER_TERM, times_per_term=2)
    assert plan_occurrences(twice, *whole, calendar=calendar) == [D(2026, 10, 10), D(2026, 12, 16)]
    assert plan_occurrences(twice, D(2026, 12, 14), D(2026, 12, 20), calendar=calendar) == [D(2026, 12, 16)]
    assert plan_occurrences(twice, D(2026, 12, 17), D(2026, 12, 31), calendar=calendar) == []
    four = plan(kind=Plan.Kind.PER_TERM, times_per_term=4)
    assert plan_occurrences(four, *whole, calendar=calendar) == [
        D(2026, 9, 17), D(2026, 10, 27), D(2026, 11, 30), D(2027, 1, 4)]


def test_spread_never_repeats_a_day():
    days = [D(2026, 9, 1) + datetime.timedelta(days=i) for i in range(3)]
    assert spread(days, 10) == days
    assert spread([], 2) == []


def test_the_plan_dates_bound_every_rule(calendar):
    p = plan(kind=Plan.Kind.SCHOOL_DAYS)
    p.start_on, p.end_on = D(2026, 10, 9), D(2026, 10, 12)
    assert plan_occurrences(p, D(2026, 9, 1), D(2026, 12, 31), calendar=calendar) == [
        D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 12)]
    p.end_on = D(2026, 10, 8)
    assert plan_occurrences(p, D(2026, 9, 1), D(2026, 12, 31), calendar=calendar) == []


def test_schedule_in_words():
    assert "07:30" in plan_schedule_text(plan(kind=Plan.Kind.SCHOOL_DAYS))
    weekly = plan_schedule_text(plan(kind=Plan.Kind.WEEKLY, weekdays=[1, 3]))
    assert ("Monday" in weekly or "周一" in weekly) and "07:30" in weekly
