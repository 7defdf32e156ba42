"""factory-boy factories for the X-5 entities. ``build()`` gives valid unsaved rows (the entity matrix
posts them through the forms); ``create()`` saves them directly, without generating tasks."""

import datetime

import factory
from django.utils import timezone

from houqin.org.tests.factories import SchoolScoped
from houqin.schedules.models import Plan, Task


class PlanFactory(SchoolScoped):
    class Meta:
        model = Plan

    title = factory.Sequence(lambda n: f"测试巡查{n}")
    description = "检查门窗、消防通道。"
    assignee_role = "guard"
    kind = Plan.Kind.DAILY
    skip_holidays = True
    due_time = datetime.time(7, 30)
    grace_minutes = 30
    active = True
    start_on = factory.LazyFunction(timezone.localdate)


class TaskFactory(SchoolScoped):
    """A one-off task due now, for a guard (no plan)."""

    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"临时任务{n}")
    assignee_role = "guard"
    due_at = factory.LazyFunction(lambda: timezone.now().replace(second=0, microsecond=0))
    due_on = factory.LazyAttribute(lambda o: timezone.localdate(o.due_at))
    overdue_at = factory.LazyAttribute(lambda o: o.due_at + datetime.timedelta(hours=1))


FACTORIES = {Plan: PlanFactory, Task: TaskFactory}
