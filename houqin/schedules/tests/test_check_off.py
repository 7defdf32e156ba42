"""Checking a task off (X-5): who may, what is recorded, and what is refused."""

import datetime
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from houqin.core.models import Attachment, AuditEntry, StatusChange
from houqin.core.workflow import TransitionNotAllowed
from houqin.org.models import User
from houqin.schedules import services
from houqin.schedules.models import Task

from .factories import PlanFactory, TaskFactory


def photo(name="巡查.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def second_guard(school):
    """The demo school's other guard (not the ``guard`` persona)."""
    user = User.objects.filter(school=school, groups__name="guard").exclude(username="guard").first()
    assert user is not None
    return user


def test_the_assignee_checks_off_with_a_note_and_a_photo(personas):
    guard = personas["guard"]
    task = TaskFactory(assignee=guard.staff, assignee_role="")
    services.task_check_off(task=task, actor=guard, note="门窗完好", photo=photo())
    task.refresh_from_db()
    assert (task.status, task.done_by, task.note) == (Task.Status.DONE, guard, "门窗完好")
    assert task.done_at is not None
    ct = ContentType.objects.get_for_model(Task)
    change = StatusChange.objects.get(content_type=ct, object_id=str(task.pk))
    assert (change.from_state, change.to_state, change.actor) == ("open", "done", guard)
    assert AuditEntry.objects.filter(content_type=ct, object_id=str(task.pk), action="transition").count() == 1
    attachment = Attachment.objects.get(content_type=ct, object_id=str(task.pk))
    assert attachment.kind == "image" and attachment.uploaded_by == guard


def test_anyone_holding_the_role_may_check_off(personas, second_guard):
    task = TaskFactory(assignee_role="guard")
    services.task_check_off(task=task, actor=second_guard)
    assert Task.objects.get(pk=task.pk).done_by == second_guard


def test_a_supervisor_may_check_off_and_so_may_the_escalation_target(personas):
    task = TaskFactory(assignee_role="cleaner")
    services.task_check_off(task=task, actor=personas["logistics_director"])
    plan = PlanFactory(assignee_role="cleaner", escalate_after_minutes=30, escalate_to_staff=personas["dorm_keeper"].staff)
    task = TaskFactory(plan=plan, assignee_role="cleaner")
    services.task_check_off(task=task, actor=personas["dorm_keeper"])
    assert Task.objects.get(pk=task.pk).status == Task.Status.DONE


@pytest.mark.parametrize("who", ["teacher", "cleaner", "class_teacher"])
def test_others_are_refused(personas, who):
    guard = personas["guard"]
    task = TaskFactory(assignee=guard.staff, assignee_role="")
    with pytest.raises(PermissionDenied):
        services.task_check_off(task=task, actor=personas[who])
    assert Task.objects.get(pk=task.pk).status == Task.Status.OPEN


def test_a_guard_cannot_check_off_another_guards_personal_task(personas, second_guard):
    task = TaskFactory(assignee=personas["guard"].staff, assignee_role="")
    with pytest.raises(PermissionDenied):
        services.task_check_off(task=task, actor=second_guard)


def test_a_task_due_tomorrow_cannot_be_checked_off_today(personas):
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    task = TaskFactory(due_at=tomorrow)
    with pytest.raises(ValidationError):
        services.task_check_off(task=task, actor=personas["guard"])


def test_a_task_is_checked_off_once(personas, second_guard):
    task = TaskFactory()
    services.task_check_off(task=task, actor=personas["guard"])
    with pytest.raises(TransitionNotAllowed):
        services.task_check_off(task=task, actor=second_guard)
    assert Task.objects.get(pk=task.pk).done_by == personas["guard"]


def test_a_bad_photo_leaves_the_task_open(personas):
    task = TaskFactory()
    bad = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    with pytest.raises(ValidationError):
        services.task_check_off(task=task, actor=personas["guard"], photo=bad)
    assert Task.objects.get(pk=task.pk).status == Task.Status.OPEN


def test_overdue_and_escalated_tasks_can_still_be_done(personas):
    for status in (Task.Status.OVERDUE, Task.Status.ESCALATED):
        task = TaskFactory(status=status)
        services.task_check_off(task=task, actor=personas["guard"])
        assert Task.objects.get(pk=task.pk).status == Task.Status.DONE


def test_a_supervisor_cancels_with_a_reason(personas):
    task = TaskFactory()
    with pytest.raises(TransitionNotAllowed):
        services.task_cancel(task=task, actor=personas["guard"], note="门卫室装修")
    services.task_cancel(task=task, actor=personas["logistics_director"], note="门卫室装修")
    assert Task.objects.get(pk=task.pk).status == Task.Status.CANCELLED


def test_the_api_checks_off_through_the_same_service(client, personas):
    task = TaskFactory(assignee=personas["guard"].staff, assignee_role="")
    client.force_login(personas["teacher"])
    assert client.post(f"/api/schedules/tasks/{task.pk}/check-off/", {}, content_type="application/json"
                       ).status_code in (403, 404)
    client.force_login(personas["guard"])
    response = client.post(f"/api/schedules/tasks/{task.pk}/check-off/", {"note": "正常"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "done"
    assert Task.objects.get(pk=task.pk).note == "正常"


def test_a_one_off_task_and_moving_an_overdue_task_later(personas, school):
    director = personas["logistics_director"]
    now = timezone.now().replace(second=0, microsecond=0)
    task = services.task_create(school=school, actor=director, title="搬运桌椅", assignee_role="repair_worker",
                                due_at=now - datetime.timedelta(hours=2))
    assert task.plan is None and task.due_on == timezone.localdate(task.due_at)
    assert task.overdue_at == task.due_at + datetime.timedelta(minutes=services.MANUAL_GRACE_MINUTES)
    assert services.tasks_mark_overdue(now=now) >= 1
    task.refresh_from_db()
    assert task.status == Task.Status.OVERDUE
    services.task_update(task=task, data={"due_at": now}, actor=director, now=now)  # grace keeps it open
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN
    assert task.overdue_at == now + datetime.timedelta(minutes=services.MANUAL_GRACE_MINUTES)
    services.task_check_off(task=task, actor=director)
    with pytest.raises(ValidationError):
        services.task_update(task=Task.objects.get(pk=task.pk), data={"title": "改"}, actor=director)
