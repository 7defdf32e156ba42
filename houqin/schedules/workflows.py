"""The life of a task (X-5): to do → done; overdue and escalated by the periodic job; cancelled by a supervisor."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from houqin.core.workflow import T, Workflow

from .models import Task
from .selectors import task_can_check_off

S = Task.Status
STATUS_COLORS = {"open": "azure", "done": "green", "overdue": "yellow", "escalated": "red", "cancelled": "secondary"}


def _may_check_off(task, actor):
    """Who may (see ``task_can_check_off``), and not before the day it is due (today's date, for the buttons;
    ``services.task_check_off`` checks the same against the time it is given)."""
    if actor is None or not task_can_check_off(actor, task):
        return _("Only the person or role the task is given to, or a supervisor, can check it off.")
    if task.due_on and task.due_on > timezone.localdate():
        return _("This task is due on %(day)s and cannot be checked off before then.") % {
            "day": task.due_on.isoformat()}
    return None


task_flow = Workflow(
    model=Task,
    transitions=[
        T("check_off", (S.OPEN, S.OVERDUE, S.ESCALATED), S.DONE, _("Mark done"), perm="schedules.view_task",
          guard=_may_check_off, style="primary"),
        T("mark_overdue", S.OPEN, S.OVERDUE, _("Mark overdue"), system=True),
        T("escalate", (S.OPEN, S.OVERDUE), S.ESCALATED, _("Escalate"), system=True),
        T("cancel", (S.OPEN, S.OVERDUE, S.ESCALATED), S.CANCELLED, _("Cancel task"), perm="schedules.change_task",
          needs_note=True, style="outline-danger"),
    ],
    colors=STATUS_COLORS,
)
