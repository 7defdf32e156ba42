"""Generating tasks from plans (X-5): idempotent, catching up missed days, never back-filling, and
following plan changes."""

import datetime

from houqin.core.models import AuditEntry
from houqin.schedules import services
from houqin.schedules.models import Plan, Task

from .conftest import D, at
from .factories import PlanFactory


def _days(plan):
    return list(Task.objects.filter(plan=plan).order_by("due_on").values_list("due_on", flat=True))


def test_generation_is_idempotent(term_school):
    """Running twice, or after the watermark is lost, creates the same rows once (unique plan and day)."""
    plan = PlanFactory(school=term_school, kind=Plan.Kind.SCHOOL_DAYS, start_on=D(2026, 9, 1))
    assert services.tasks_generate(school=term_school, today=D(2026, 9, 28)) == 3
    rows = list(Task.objects.filter(plan=plan).values_list("pk", "due_on", "due_at").order_by("pk"))
    assert [r[1] for r in rows] == [D(2026, 9, 28), D(2026, 9, 29), D(2026, 9, 30)]  # then 国庆 and a weekend
    assert services.tasks_generate(school=term_school, today=D(2026, 9, 28)) == 0
    Plan.objects.filter(pk=plan.pk).update(generated_until=None)
    assert services.tasks_generate(school=term_school, today=D(2026, 9, 28)) == 0
    assert list(Task.objects.filter(plan=plan).values_list("pk", "due_on", "due_at").order_by("pk")) == rows


def test_tasks_copy_the_plan_and_get_their_deadlines(term_school):
    plan = PlanFactory(school=term_school, kind=Plan.Kind.SCHOOL_DAYS, start_on=D(2026, 9, 1), grace_minutes=30,
                       escalate_after_minutes=60, escalate_to_role="logistics_director",
                       due_time=datetime.time(7, 30))
    services.tasks_generate(school=term_school, today=D(2026, 10, 9), horizon_days=0)
    task = Task.objects.get(plan=plan)
    assert (task.title, task.assignee_role, task.status) == (plan.title, "guard", Task.Status.OPEN)
    assert task.due_at == at(D(2026, 10, 9), 7, 30)
    assert task.overdue_at == at(D(2026, 10, 9), 8, 0)
    assert task.escalate_at == at(D(2026, 10, 9), 9, 0)


def test_a_skipped_day_is_caught_up(term_school):
    """The scheduler was down from 10-09 to 10-11: the next run creates those days too, once each."""
    plan = PlanFactory(school=term_school, kind=Plan.Kind.DAILY, skip_holidays=True, start_on=D(2026, 9, 1))
    services.tasks_generate(school=term_school, today=D(2026, 10, 8), horizon_days=0)
    assert _days(plan) == [D(2026, 10, 8)]
    assert services.tasks_generate(school=term_school, today=D(2026, 10, 12), horizon_days=0) == 4
    assert _days(plan) == [D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 11), D(2026, 10, 12)]
    assert services.tasks_generate(school=term_school, today=D(2026, 10, 12), horizon_days=0) == 0


def test_a_new_plan_is_not_back_filled(term_school):
    """A plan set up in the middle of the term starts today, not on its (earlier) start date."""
    plan = PlanFactory(school=term_school, kind=Plan.Kind.SCHOOL_DAYS, start_on=D(2026, 9, 1))
    services.tasks_generate(school=term_school, today=D(2026, 10, 12), horizon_days=2)
    assert _days(plan) == [D(2026, 10, 12), D(2026, 10, 13), D(2026, 10, 14)]


def test_inactive_and_ended_plans_generate_nothing(term_school):
    off = PlanFactory(school=term_school, active=False, start_on=D(2026, 9, 1))
    ended = PlanFactory(school=term_school, start_on=D(2026, 9, 1), end_on=D(2026, 9, 30))
    later = PlanFactory(school=term_school, start_on=D(2026, 12, 1))
    services.tasks_generate(school=term_school, today=D(2026, 10, 12))
    assert not Task.objects.filter(plan__in=[off, ended, later]).exists()


def test_plan_create_generates_its_week_and_is_audited(term_school, personas):
    director = personas["logistics_director"]
    plan = services.plan_create(school=term_school, actor=director, today=D(2026, 10, 12), title="每周一卫生检查",
                                kind=Plan.Kind.WEEKLY, weekdays=[1], assignee_role="cleaner",
                                start_on=D(2026, 10, 1))
    assert _days(plan) == [D(2026, 10, 12), D(2026, 10, 19)]
    assert AuditEntry.objects.filter(object_id=str(plan.pk), content_type__model="plan", action="create").exists()


def test_plan_change_moves_or_cancels_the_tasks_not_yet_due(term_school, personas):
    director = personas["logistics_director"]
    plan = PlanFactory(school=term_school, kind=Plan.Kind.DAILY, start_on=D(2026, 9, 1))
    services.tasks_generate(school=term_school, today=D(2026, 9, 14), horizon_days=6)  # Mon 09-14 … Sun 09-20
    done_early = Task.objects.get(plan=plan, due_on=D(2026, 9, 14))
    Task.objects.filter(pk=done_early.pk).update(status=Task.Status.DONE)

    services.plan_update(plan=plan, data={"kind": Plan.Kind.WEEKLY, "weekdays": [1, 3], "due_time": datetime.time(9)},
                         actor=director, now=at(D(2026, 9, 14), 6))

    status = dict(Task.objects.filter(plan=plan).values_list("due_on", "status"))
    assert status[D(2026, 9, 14)] == Task.Status.DONE  # history stays
    assert status[D(2026, 9, 16)] == Task.Status.OPEN
    assert sorted(d for d, s in status.items() if s == Task.Status.CANCELLED) == [
        D(2026, 9, 15), D(2026, 9, 17), D(2026, 9, 18), D(2026, 9, 19), D(2026, 9, 20)]
    assert status[D(2026, 9, 21)] == Task.Status.OPEN  # the next Monday, inside the new horizon
    assert Task.objects.get(plan=plan, due_on=D(2026, 9, 16)).due_at == at(D(2026, 9, 16), 9)

    services.plan_update(plan=plan, data={"active": False}, actor=director, now=at(D(2026, 9, 14), 6))
    assert not Task.objects.filter(plan=plan, status=Task.Status.OPEN).exists()
