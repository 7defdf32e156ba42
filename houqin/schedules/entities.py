"""X-5 on the entity machinery: recurring plans (managed by the logistics office) and their tasks."""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import entities as e

from . import selectors, services
from .forms import PLAN_FORM_FIELDS, TASK_FORM_FIELDS, PlanForm, TaskFilterSet, TaskForm
from .models import Plan, Task
from .workflows import STATUS_COLORS, task_flow

NEXT_DATES_SHOWN = 8
NEXT_DATES_DAYS = 120


@e.register
class PlanEntity(e.Entity):
    """例行工作计划 (X-5): what is checked, where, by whom and how often; generates the tasks."""

    model = Plan
    menu = e.Menu("tasks", gettext_lazy("Recurring plans"), order=20)
    path = "plans"
    list_columns = ("title", "schedule", "responsible", "place", "active")
    extra_columns = ("kind", "due_time", "grace_minutes", "escalate_after_minutes", "start_on", "end_on")
    search_fields = ("title", "description")
    filter_fields = ("kind", "active", "assignee_role", "assignee", "place")
    form_fields = PLAN_FORM_FIELDS
    form_class = PlanForm
    select_related = ("place", "assignee", "escalate_to_staff")
    detail_panels = (
        e.Fields("title", "description", "place", "responsible", "active"),
        e.Fields("schedule", "next_dates", "skip_holidays", "start_on", "end_on", "generated_until",
                 title=gettext_lazy("Schedule")),
        e.Fields("due_time", "grace_minutes", "escalate_after_minutes", "escalation", title=gettext_lazy("Deadlines")),
        e.Related("tasks", columns=("due_at", "responsible", "status", "done_by"), limit=20),
    )
    title_field = "title"
    lookup_public = True  # plan names in the task list filter, for everyone who has tasks

    def header_schedule(self):
        return _("Schedule")

    def value_schedule(self, obj, user):
        return selectors.plan_schedule_text(obj)

    def header_responsible(self):
        return _("Assigned to")

    def value_responsible(self, obj, user):
        return selectors.responsible_text(obj)

    def header_escalation(self):
        return _("Escalate to")

    def value_escalation(self, obj, user):
        target = obj.escalation_target
        if target is None:
            return ""
        from .models import role_label

        return str(target) if not isinstance(target, str) else role_label(target)

    def header_next_dates(self):
        return _("Next dates")

    def value_next_dates(self, obj, user):
        if not obj.active:
            return ""
        today = timezone.localdate()
        found = selectors.plan_occurrences(obj, today, today + datetime.timedelta(days=NEXT_DATES_DAYS))
        return "、".join(d.strftime("%m-%d") for d in found[:NEXT_DATES_SHOWN])

    def create(self, *, data, actor, school):
        return services.plan_create(school=school, actor=actor, **data)

    def update(self, *, obj, data, actor):
        return services.plan_update(plan=obj, data=data, actor=actor)

    def detail_actions(self, obj, user):
        if not user.has_perm("schedules.view_task"):
            return []
        return [{"label": _("Tasks of this plan"), "url": reverse("schedules:task_list") + f"?plan={obj.pk}",
                 "method": "get"}]


@e.register
class TaskEntity(e.Entity):
    """例行任务 (X-5): one check-off line; generated from a plan, or added by hand as a one-off."""

    model = Task
    menu = e.Menu("tasks", gettext_lazy("All tasks"), order=10)
    path = "tasks"
    list_columns = ("due_at", "title", "place", "responsible", "status", "done_at", "done_by")
    extra_columns = ("plan", "note", "overdue_at")
    search_fields = ("title", "place__name", "note")
    form_fields = TASK_FORM_FIELDS
    form_class = TaskForm
    filterset_class = TaskFilterSet
    select_related = ("place", "assignee", "done_by", "plan")
    detail_panels = (
        e.Fields("title", "instructions", "place", "responsible", "plan"),
        e.Fields("due_at", "overdue_at", "status", "done_at", "done_by", "note", "escalated_at",
                 title=gettext_lazy("Progress")),
    )
    workflow = task_flow
    status_colors = STATUS_COLORS
    title_field = "title"
    can_import = False

    def header_responsible(self):
        return _("Assigned to")

    def value_responsible(self, obj, user):
        return selectors.responsible_text(obj)

    def header_instructions(self):
        return _("What to check")

    def value_instructions(self, obj, user):
        return obj.instructions

    def create(self, *, data, actor, school):
        return services.task_create(school=school, actor=actor, **data)

    def update(self, *, obj, data, actor):
        return services.task_update(task=obj, data=data, actor=actor)

    def transition(self, *, obj, name, actor, note=""):
        if name == "check_off":
            return services.task_check_off(task=obj, actor=actor, note=note)
        if name == "cancel":
            return services.task_cancel(task=obj, actor=actor, note=note)
        return super().transition(obj=obj, name=name, actor=actor, note=note)

    def detail_actions(self, obj, user):
        if obj.is_finished or obj.due_on > timezone.localdate() or not selectors.task_can_check_off(user, obj):
            return []
        return [{"label": _("Done, with a photo"), "url": reverse("schedules:my_task_check_off", args=[obj.pk]),
                 "method": "get"}]


# The explicit filterset searches by this entity's search fields.
TaskFilterSet.entity = e.registry[Task]
