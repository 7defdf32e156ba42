"""Read paths of X-5: the school calendar, when a plan falls due, and the tasks a person has today.

The occurrence rules (``plan_occurrences``) are pure: given a plan, a date range and the school's
calendar (terms, holidays, make-up workdays) they return dates, with no database access.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core.permissions import scope

from .models import Plan, Task, role_label

ONE_DAY = datetime.timedelta(days=1)
# Roles that see every task of their school (supervisors); everyone else sees the tasks given to them.
TASK_READ_ALL_ROLES = ("principal", "vice_principal", "logistics_director", "logistics_clerk", "sysadmin", "bureau")
LATE_STATUSES = (Task.Status.OVERDUE, Task.Status.ESCALATED)
UNFINISHED_STATUSES = (Task.Status.OPEN, Task.Status.OVERDUE, Task.Status.ESCALATED)


def days(start: datetime.date, end: datetime.date):
    day = start
    while day <= end:
        yield day
        day += ONE_DAY


# The school calendar ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermSpan:
    start_on: datetime.date
    mid_on: datetime.date
    end_on: datetime.date

    def point(self, name: str) -> datetime.date:
        return {"start": self.start_on, "mid": self.mid_on, "end": self.end_on}[name]


@dataclass(frozen=True)
class SchoolCalendar:
    """Terms, holidays (节假日) and make-up workdays (调休上班) of one school, as plain dates."""

    terms: tuple[TermSpan, ...] = ()
    holidays: frozenset[datetime.date] = field(default_factory=frozenset)
    workdays: frozenset[datetime.date] = field(default_factory=frozenset)

    @classmethod
    def build(cls, *, terms=(), holidays=()) -> SchoolCalendar:
        """From Term-like (start_on, mid_on, end_on) and Holiday-like (kind, start_on, end_on) objects."""
        off, on = set(), set()
        for h in holidays:
            (on if h.kind == "workday" else off).update(days(h.start_on, h.end_on))
        spans = tuple(sorted((TermSpan(t.start_on, t.mid_on, t.end_on) for t in terms), key=lambda t: t.start_on))
        return cls(terms=spans, holidays=frozenset(off), workdays=frozenset(on))

    def term_of(self, day: datetime.date) -> TermSpan | None:
        return next((t for t in self.terms if t.start_on <= day <= t.end_on), None)

    def is_holiday(self, day: datetime.date) -> bool:
        """A day of a Holiday (kind holiday) that is not also a make-up workday."""
        return day in self.holidays and day not in self.workdays

    def is_school_day(self, day: datetime.date) -> bool:
        """In a term, and either a make-up workday, or Monday–Friday and not a holiday (X-5)."""
        if self.term_of(day) is None:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def school_days(self, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        return [d for d in days(start, end) if self.is_school_day(d)]


def school_calendar(school) -> SchoolCalendar:
    """The calendar of ``school`` (a School or its id): two queries."""
    from houqin.org.models import Holiday, Term

    school_id = getattr(school, "pk", school)
    return SchoolCalendar.build(
        terms=Term.objects.filter(school_id=school_id).only("start_on", "mid_on", "end_on"),
        holidays=Holiday.objects.filter(school_id=school_id).only("kind", "start_on", "end_on"),
    )


# Occurrences ------------------------------------------------------------------------------------------


def spread(school_days: list[datetime.date], times: int) -> list[datetime.date]:
    """``times`` days spread evenly over ``school_days``: the middle day of each of ``times`` equal parts."""
    n = len(school_days)
    if n == 0 or times <= 0:
        return []
    times = min(times, n)
    return sorted({school_days[(2 * i + 1) * n // (2 * times)] for i in range(times)})


def _monthly_day(plan: Plan, year: int, month: int) -> datetime.date | None:
    last = pycalendar.monthrange(year, month)[1]
    if plan.day_of_month:
        if plan.day_of_month <= last:
            return datetime.date(year, month, plan.day_of_month)
        return datetime.date(year, month, last) if plan.month_end else None
    return datetime.date(year, month, last) if plan.month_end else None


def plan_occurrences(
    plan: Plan, start: datetime.date, end: datetime.date, *, calendar: SchoolCalendar | None = None
) -> list[datetime.date]:
    """The days in ``start``..``end`` (inclusive) on which ``plan`` falls due, in order.

    Only days within the plan's own ``start_on``..``end_on`` count. The rules, by ``plan.kind``:

    - daily: every day; with ``skip_holidays``, not on a holiday (a Holiday of kind holiday that is
      not a make-up workday). Weekends count: the gate is patrolled every day.
    - weekly: the chosen ISO weekdays (1 Monday … 7 Sunday); ``skip_holidays`` as for daily.
    - monthly: ``day_of_month``; a month too short for it is skipped, unless ``month_end`` is set, which
      moves it to the month's last day (31 → 30 April, 28/29 February). ``month_end`` alone: the last
      day of every month. Holidays are not skipped.
    - school_days: every school day, i.e. a day in a term that is Monday–Friday and not a holiday, or
      a make-up workday (调休上班, Holiday kind workday) even on a weekend.
    - term_points: each chosen point of each term (start, mid-term, end) moved by ``term_offset_days``.
    - per_term: ``times_per_term`` days spread evenly over the school days of each whole term (the middle
      day of each of N equal parts), so the dates do not depend on the range asked for.

    ``calendar`` is the school's calendar; when omitted it is read from the database.
    """
    lo = max(start, plan.start_on) if plan.start_on else start
    hi = min(end, plan.end_on) if plan.end_on else end
    if lo > hi:
        return []
    if calendar is None:
        calendar = school_calendar(plan.school_id)
    kind = plan.kind
    K = Plan.Kind
    if kind == K.DAILY:
        found = [d for d in days(lo, hi) if not (plan.skip_holidays and calendar.is_holiday(d))]
    elif kind == K.WEEKLY:
        weekdays = set(plan.weekdays or [])
        found = [d for d in days(lo, hi) if d.isoweekday() in weekdays
                 and not (plan.skip_holidays and calendar.is_holiday(d))]
    elif kind == K.MONTHLY:
        found = []
        year, month = lo.year, lo.month
        while (year, month) <= (hi.year, hi.month):
            day = _monthly_day(plan, year, month)
            if day is not None and lo <= day <= hi:
                found.append(day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    elif kind == K.SCHOOL_DAYS:
        found = calendar.school_days(lo, hi)
    elif kind == K.TERM_POINTS:
        offset = datetime.timedelta(days=plan.term_offset_days or 0)
        found = sorted({t.point(p) + offset for t in calendar.terms for p in (plan.term_points or [])})
        found = [d for d in found if lo <= d <= hi]
    elif kind == K.PER_TERM:
        found = []
        for t in calendar.terms:
            if t.end_on < lo or t.start_on > hi:
                continue
            found += [d for d in spread(calendar.school_days(t.start_on, t.end_on), plan.times_per_term or 0)
                      if lo <= d <= hi]
    else:  # pragma: no cover - the choices are closed
        found = []
    return found


WEEKDAY_SHORT = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "日"}


def plan_schedule_text(plan: Plan) -> str:
    """The schedule in words for lists and the detail page: "Weekly: Mon, Wed 07:30"."""
    K = Plan.Kind
    time = plan.due_time.strftime("%H:%M") if plan.due_time else ""
    if plan.kind == K.WEEKLY:
        names = dict(Plan.Weekday.choices)
        what = "、".join(str(names.get(d, d)) for d in plan.weekdays or [])
        text = _("Weekly: %(days)s") % {"days": what}
    elif plan.kind == K.MONTHLY:
        if plan.day_of_month and plan.month_end:
            text = _("Monthly on day %(day)s (or the last day)") % {"day": plan.day_of_month}
        elif plan.day_of_month:
            text = _("Monthly on day %(day)s") % {"day": plan.day_of_month}
        else:
            text = _("Monthly on the last day")
    elif plan.kind == K.TERM_POINTS:
        names = dict(Plan.TermPoint.choices)
        text = "、".join(str(names.get(p, p)) for p in plan.term_points or [])
        offset = plan.term_offset_days or 0
        if offset > 0:
            text += " " + _("%(days)s days after") % {"days": offset}
        elif offset < 0:
            text += " " + _("%(days)s days before") % {"days": -offset}
    elif plan.kind == K.PER_TERM:
        text = _("%(n)s times per term") % {"n": plan.times_per_term or 0}
    else:
        text = str(plan.get_kind_display())
    return f"{text} {time}".strip()


def responsible_text(obj) -> str:
    """The person's name, or the role's label, a plan or task is assigned to."""
    if obj.assignee_id:
        return str(obj.assignee)
    return role_label(obj.assignee_role)


# Who sees and does which task ---------------------------------------------------------------------------


def _staff(user):
    return getattr(user, "staff_or_none", None)


def assigned_to_q(user) -> Q:
    """Tasks given to ``user``: to their staff record, or to a role they hold (also through a department)."""
    q = Q(pk__in=[])
    staff = _staff(user)
    if staff is not None:
        q |= Q(assignee=staff)
    codes = sorted(getattr(user, "role_codes", ()) or ())
    if codes:
        q |= Q(assignee_role__in=codes)
    return q


def _escalated_to_q(user) -> Q:
    q = Q(pk__in=[])
    staff = _staff(user)
    if staff is not None:
        q |= Q(plan__escalate_to_staff=staff)
    codes = sorted(getattr(user, "role_codes", ()) or ())
    if codes:
        q |= Q(plan__escalate_to_role__in=codes)
    return Q(status=Task.Status.ESCALATED) & q


def task_row_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """Supervisors see the school's tasks; others the tasks given to them or escalated to them."""
    if user.has_role(*TASK_READ_ALL_ROLES) or user.has_perm("schedules.change_task"):
        return qs
    return qs.filter(assigned_to_q(user) | _escalated_to_q(user))


def task_is_supervised_by(user, task: Task) -> bool:
    """Whether ``user`` supervises ``task``: manages tasks, or is the plan's escalation target."""
    if user.has_perm("schedules.change_task"):
        return True
    plan = task.plan if task.plan_id else None
    if plan is None:
        return False
    staff = _staff(user)
    if plan.escalate_to_staff_id and staff is not None and plan.escalate_to_staff_id == staff.pk:
        return True
    return bool(plan.escalate_to_role and user.has_role(plan.escalate_to_role))


def task_can_check_off(user, task: Task) -> bool:
    """The assignee, anyone holding the assigned role, or a supervisor (X-5); only in the task's school."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.is_superuser and user.school_id != task.school_id:
        return False
    staff = _staff(user)
    if task.assignee_id and staff is not None and task.assignee_id == staff.pk:
        return True
    if task.assignee_role and user.has_role(task.assignee_role):
        return True
    return task_is_supervised_by(user, task)


def task_list_assigned(*, user) -> QuerySet:
    """Every task given to ``user`` in their school (all statuses, all days)."""
    if not user.school_id:
        return Task.objects.none()
    return Task.objects.filter(school_id=user.school_id).filter(assigned_to_q(user))


def task_list_my_today(*, user, today: datetime.date | None = None) -> QuerySet:
    """The user's tasks due today, done or not (cancelled ones left out)."""
    today = today or timezone.localdate()
    return task_list_assigned(user=user).filter(due_on=today).exclude(status=Task.Status.CANCELLED)


def late_q(now: datetime.datetime) -> Q:
    """Overdue: marked so, or still open past its overdue time (the periodic job may not have run yet)."""
    return Q(status__in=LATE_STATUSES) | Q(status=Task.Status.OPEN, overdue_at__lte=now)


def task_list_my_overdue(*, user, now: datetime.datetime | None = None) -> QuerySet:
    """The user's tasks past their overdue time and not done, any day."""
    now = now or timezone.now()
    return task_list_assigned(user=user).filter(late_q(now))


def task_list_my_page(*, user, today: datetime.date | None = None, now: datetime.datetime | None = None):
    """The "my tasks" page: overdue ones first, then today's (done ones last), with place and plan."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    qs = task_list_assigned(user=user).filter(
        late_q(now) | (Q(due_on=today) & ~Q(status=Task.Status.CANCELLED))
    ).select_related("place", "plan", "assignee", "done_by")
    tasks = list(qs.order_by("due_at", "pk")[:200])
    order = {Task.Status.ESCALATED: 0, Task.Status.OVERDUE: 1, Task.Status.OPEN: 2, Task.Status.DONE: 3}
    tasks.sort(key=lambda t: (order.get(t.status, 4), t.due_at))
    return tasks


def my_tasks_counts(*, user, today: datetime.date | None = None, now: datetime.datetime | None = None) -> dict:
    """Counts for the dashboard card: today's tasks still to do, done today, overdue."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    todays = task_list_my_today(user=user, today=today)
    return {
        "today_open": todays.filter(status__in=UNFINISHED_STATUSES).count(),
        "today_done": todays.filter(status=Task.Status.DONE).count(),
        "overdue": task_list_my_overdue(user=user, now=now).count(),
    }


def school_overdue_count(*, user, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    return scope(Task.objects.all(), user).filter(late_q(now)).count()


def my_tasks_widget(request) -> dict | None:
    """Dashboard card "My tasks": due today and overdue, linking to the filtered task list."""
    user = request.user
    if not user.is_authenticated or not user.has_perm("schedules.view_task") or not user.school_id:
        return None
    now = timezone.now()
    today = timezone.localdate(now)
    data = my_tasks_counts(user=user, today=today, now=now)
    data["today"] = today.isoformat()
    if user.has_role(*TASK_READ_ALL_ROLES) or user.has_perm("schedules.change_task"):
        data["school_overdue"] = school_overdue_count(user=user, now=now)
    return data
