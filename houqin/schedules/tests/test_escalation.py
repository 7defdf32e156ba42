"""Overdue and escalation (X-5 with X-4): a task becomes overdue after its grace, and its supervisor
is told once — however often the periodic job runs."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import connection

from houqin.core.jobs import periodic_jobs
from houqin.core.models import AuditEntry, StatusChange
from houqin.schedules import services
from houqin.schedules.models import Plan, Task

from .conftest import D, at
from .factories import PlanFactory

DAY = D(2026, 9, 14)


def _task(school, **plan_fields):
    fields = {"school": school, "kind": Plan.Kind.DAILY, "start_on": D(2026, 9, 1), "grace_minutes": 30,
              "escalate_after_minutes": 60, "escalate_to_role": "logistics_director", "due_time": datetime.time(7, 30),
              **plan_fields}
    plan = PlanFactory(**fields)
    task = services.task_from_plan(plan, DAY)
    task.save()
    return task


def _inbox_exists() -> bool:
    return "notifications_notification" in connection.introspection.table_names()


def test_overdue_then_escalated_exactly_once(school, personas, notify_calls, django_capture_on_commit_callbacks):
    task = _task(school)
    with django_capture_on_commit_callbacks(execute=_inbox_exists()):
        assert services.tasks_mark_overdue(now=at(DAY, 7, 50)) == 0  # within the 30 minutes' grace
        assert services.tasks_mark_overdue(now=at(DAY, 8, 5)) == 1
        assert Task.objects.get(pk=task.pk).status == Task.Status.OVERDUE
        assert services.tasks_escalate(now=at(DAY, 8, 30)) == 0  # escalation comes 60 minutes later
        assert services.tasks_escalate(now=at(DAY, 9, 1)) == 1
        for minute in (2, 7, 12):  # the job keeps running every five minutes
            services.tasks_mark_overdue(now=at(DAY, 9, minute))
            assert services.tasks_escalate(now=at(DAY, 9, minute)) == 0
    assert len(notify_calls) == 1
    call = notify_calls[0]
    assert call["recipients"] == ["logistics_director"] and call["urgent"] is False
    assert call["url"] == f"/schedules/tasks/{task.pk}/" and task.title in call["title"]
    assert call["school"] == school
    task.refresh_from_db()
    assert task.status == Task.Status.ESCALATED and task.escalated_at == at(DAY, 9, 1)
    ct = ContentType.objects.get_for_model(Task)
    changes = list(StatusChange.objects.filter(content_type=ct, object_id=str(task.pk))
                   .order_by("id").values_list("transition", flat=True))
    assert changes == ["mark_overdue", "escalate"]
    assert AuditEntry.objects.filter(content_type=ct, object_id=str(task.pk), action="transition").count() == 2
    if _inbox_exists():
        from houqin.notifications.models import Notification

        director = personas["logistics_director"]
        assert Notification.objects.filter(recipient=director, url=call["url"]).count() == 1


def test_escalation_to_a_person_tells_their_account(school, personas, notify_calls):
    dorm = personas["dorm_keeper"]
    task = _task(school, escalate_to_role="", escalate_to_staff=dorm.staff)
    assert services.tasks_escalate(now=at(DAY, 9, 1)) == 1
    assert notify_calls[0]["recipients"] == [dorm]
    assert Task.objects.get(pk=task.pk).status == Task.Status.ESCALATED


def test_done_tasks_and_plans_without_escalation_tell_nobody(school, personas, notify_calls):
    done = _task(school)
    services.task_check_off(task=done, actor=personas["guard"], now=at(DAY, 8, 50))
    quiet = _task(school, escalate_after_minutes=None, escalate_to_role="")
    assert quiet.escalate_at is None
    services.tasks_mark_overdue(now=at(DAY + datetime.timedelta(days=1), 12))
    assert services.tasks_escalate(now=at(DAY + datetime.timedelta(days=1), 12)) == 0
    assert notify_calls == []
    assert Task.objects.get(pk=quiet.pk).status == Task.Status.OVERDUE
    assert Task.objects.get(pk=done.pk).status == Task.Status.DONE


def test_tick_is_the_five_minute_periodic_job(term_school, notify_calls):
    job = periodic_jobs()["schedules.tick"]
    assert job.every_minutes == 5 and job.func is services.tick
    result = services.tick()
    assert set(result) == {"created", "overdue", "escalated"}
