"""Write paths of X-5: plans, generating their tasks, checking tasks off, overdue and escalation.

``tick`` is the periodic job ``schedules.tick`` (every 5 minutes): generate, mark overdue, escalate.
Each step is idempotent, so running it twice, or on two workers at once, changes nothing more.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core import crud
from houqin.core.audit import audit_bulk, serialize_for_audit
from houqin.core.models import AuditEntry, StatusChange
from houqin.core.workflow import TransitionNotAllowed

from . import selectors
from .models import Plan, Task
from .workflows import task_flow

HORIZON_DAYS = 7  # tasks exist a week ahead, so people see what is coming
# A scheduler that was down longer than this does not bring back older tasks: they could no longer be done.
CATCH_UP_MAX_DAYS = 31
MANUAL_GRACE_MINUTES = 60  # grace of a one-off task added by hand
ESCALATE_BATCH = 500
COPIED_FIELDS = ("title", "place_id", "assignee_id", "assignee_role", "due_at", "overdue_at", "escalate_at")


def _aware(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time), timezone.get_default_timezone())


def _task_times(plan: Plan, day: datetime.date) -> dict:
    due_at = _aware(day, plan.due_time)
    overdue_at = due_at + datetime.timedelta(minutes=plan.grace_minutes or 0)
    escalate_at = None
    if plan.escalate_after_minutes is not None and plan.escalation_target is not None:
        escalate_at = overdue_at + datetime.timedelta(minutes=plan.escalate_after_minutes)
    return {"due_at": due_at, "overdue_at": overdue_at, "escalate_at": escalate_at}


def task_from_plan(plan: Plan, day: datetime.date) -> Task:
    """The (unsaved) task of ``plan`` due on ``day``."""
    return Task(school_id=plan.school_id, plan=plan, title=plan.title, place_id=plan.place_id,
                assignee_id=plan.assignee_id, assignee_role=plan.assignee_role, due_on=day, **_task_times(plan, day))


# Generation -------------------------------------------------------------------------------------------


def _insert_tasks(plans_days: list[tuple[Plan, list[datetime.date]]]) -> dict[int, int]:
    """Insert the tasks of (plan, days) that do not exist yet; returns created counts per plan id.

    Existing (plan, day) pairs are read first, so the counts are right; the unique constraint with
    ``ignore_conflicts`` covers a second worker inserting the same rows at the same moment.
    """
    wanted = [(plan, day) for plan, found in plans_days for day in found]
    if not wanted:
        return {}
    lo, hi = min(d for _p, d in wanted), max(d for _p, d in wanted)
    existing = set(Task.objects.filter(plan_id__in={p.pk for p, _d in wanted}, due_on__range=(lo, hi))
                   .values_list("plan_id", "due_on"))
    rows = [task_from_plan(plan, day) for plan, day in wanted if (plan.pk, day) not in existing]
    Task.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    counts: dict[int, int] = defaultdict(int)
    for task in rows:
        counts[task.plan_id] += 1
    return counts


def tasks_generate(*, school=None, today: datetime.date | None = None, horizon_days: int = HORIZON_DAYS,
                   plans=None) -> int:
    """Create the tasks of every active plan up to ``today + horizon_days``; returns how many were created.

    Idempotent. A plan's first run starts today (or at its start date, if later): a plan created
    in the middle of a term is never back-filled with tasks nobody could have done. Later runs continue
    the day after the last day covered (``Plan.generated_until``), so days missed while the scheduler
    was down are caught up (at most ``CATCH_UP_MAX_DAYS`` back), and no (plan, day) is ever created twice.
    Generated tasks are not audited one by one: they are the system's routine output, and each row
    keeps its plan and creation time; every change after that (check-off, overdue, edits) is audited.
    """
    today = today or timezone.localdate()
    end = today + datetime.timedelta(days=horizon_days)
    floor = today - datetime.timedelta(days=CATCH_UP_MAX_DAYS)
    qs = Plan.objects.filter(active=True, start_on__lte=end).filter(
        Q(generated_until__isnull=True) | Q(generated_until__lt=end)
    ).filter(Q(end_on__isnull=True) | Q(generated_until__isnull=True) | Q(end_on__gt=F("generated_until")))
    if school is not None:
        qs = qs.filter(school=school)
    if plans is not None:
        qs = qs.filter(pk__in=[p.pk for p in plans])
    by_school: dict[int, list[Plan]] = defaultdict(list)
    for plan in qs.order_by("school_id", "pk"):
        by_school[plan.school_id].append(plan)
    created = 0
    for school_id, school_plans in by_school.items():
        calendar = selectors.school_calendar(school_id)
        work = []
        for plan in school_plans:
            if plan.generated_until is None:
                start = max(today, plan.start_on)
            else:
                start = max(plan.generated_until + datetime.timedelta(days=1), floor)
            work.append((plan, selectors.plan_occurrences(plan, start, end, calendar=calendar)))
        with transaction.atomic():
            counts = _insert_tasks(work)
            Plan.objects.filter(pk__in=[p.pk for p in school_plans]).update(generated_until=end)
        created += sum(counts.values())
    return created


# Plans ----------------------------------------------------------------------------------------------


@transaction.atomic
def plan_create(*, school, actor, today: datetime.date | None = None, **data) -> Plan:
    """Create a plan (audited) and generate its tasks for the coming week at once."""
    plan = Plan(school=school, **data)
    crud.object_create(obj=plan, actor=actor)
    tasks_generate(school=school, today=today, plans=[plan])
    return plan


@transaction.atomic
def plan_update(*, plan: Plan, data: dict, actor, now: datetime.datetime | None = None) -> Plan:
    """Change a plan; its tasks not yet due follow: moved, reassigned, or cancelled when no longer due.

    Tasks already due, done, overdue or cancelled are history and stay as they were.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    plan, changed = crud.object_update(obj=plan, data=data, actor=actor)
    if not changed:
        return plan
    until = max(plan.generated_until or today, today + datetime.timedelta(days=HORIZON_DAYS))
    due = set()
    if plan.active:
        due = set(selectors.plan_occurrences(plan, today, until))
    future = list(Task.objects.select_for_update().filter(plan=plan, status=Task.Status.OPEN, due_at__gt=now))
    cancelled, moved, entries = [], [], []
    for task in future:
        before = serialize_for_audit(task)
        if task.due_on not in due:
            task.status = Task.Status.CANCELLED
            cancelled.append(task)
            entries.append((task, AuditEntry.Action.TRANSITION, before, serialize_for_audit(task)))
            continue
        fresh = task_from_plan(plan, task.due_on)
        if any(getattr(task, f) != getattr(fresh, f) for f in COPIED_FIELDS):
            for f in COPIED_FIELDS:
                setattr(task, f, getattr(fresh, f))
            moved.append(task)
            entries.append((task, AuditEntry.Action.UPDATE, before, serialize_for_audit(task)))
    if cancelled:
        Task.objects.filter(pk__in=[t.pk for t in cancelled]).update(status=Task.Status.CANCELLED, updated_at=now)
        _status_changes(cancelled, "cancel", Task.Status.OPEN, Task.Status.CANCELLED, actor=actor,
                        note=_("The plan changed."))
    if moved:
        for t in moved:
            t.updated_at = now
        Task.objects.bulk_update(moved, [*(f.removesuffix("_id") for f in COPIED_FIELDS), "updated_at"])
    if entries:
        audit_bulk(entries, actor=actor, message=_("Plan changed: %(plan)s") % {"plan": plan})
    if plan.active:
        days = [d for d in sorted(due) if _aware(d, plan.due_time) > now]
        _insert_tasks([(plan, days)])
        Plan.objects.filter(pk=plan.pk).update(generated_until=until)
        plan.generated_until = until
    return plan


def _status_changes(tasks: list[Task], transition: str, source: str, target: str, *, actor, note: str = "") -> None:
    ct = ContentType.objects.get_for_model(Task)
    StatusChange.objects.bulk_create([
        StatusChange(school_id=t.school_id, content_type=ct, object_id=str(t.pk), transition=transition,
                     from_state=source, to_state=target, actor=actor if getattr(actor, "pk", None) else None,
                     note=note[:500])
        for t in tasks
    ])


# One-off tasks ------------------------------------------------------------------------------------------


def _set_due(task: Task, due_at: datetime.datetime, *, grace: datetime.timedelta,
             escalate: datetime.timedelta | None) -> None:
    task.due_at = due_at
    task.due_on = timezone.localdate(due_at)
    task.overdue_at = due_at + grace
    task.escalate_at = task.overdue_at + escalate if escalate is not None else None


@transaction.atomic
def task_create(*, school, actor, due_at: datetime.datetime, **data) -> Task:
    """Add a one-off task by hand (临时任务): no plan, overdue an hour after it is due, never escalated."""
    task = Task(school=school, **data)
    _set_due(task, due_at, grace=datetime.timedelta(minutes=MANUAL_GRACE_MINUTES), escalate=None)
    return crud.object_create(obj=task, actor=actor)


@transaction.atomic
def task_update(*, task: Task, data: dict, actor, now: datetime.datetime | None = None) -> Task:
    """Change a task not yet finished. Moving the due time keeps its grace and escalation delays, and
    reopens an overdue task whose new overdue time is still ahead."""
    now = now or timezone.now()
    if task.is_finished:
        raise ValidationError(_("A task that is done or cancelled cannot be changed."))
    data = dict(data)
    due_at = data.pop("due_at", task.due_at)
    if due_at != task.due_at:
        grace = task.overdue_at - task.due_at
        escalate = task.escalate_at - task.overdue_at if task.escalate_at else None
        probe = Task(due_at=task.due_at)
        _set_due(probe, due_at, grace=grace, escalate=escalate)
        data.update(due_at=probe.due_at, due_on=probe.due_on, overdue_at=probe.overdue_at,
                    escalate_at=probe.escalate_at)
        if task.status == Task.Status.OVERDUE and probe.overdue_at > now:
            data["status"] = Task.Status.OPEN
    crud.object_update(obj=task, data=data, actor=actor)
    return task


# Checking off -----------------------------------------------------------------------------------------------


@transaction.atomic
def task_check_off(*, task: Task, actor, note: str = "", photo=None, now: datetime.datetime | None = None) -> Task:
    """Mark a task done (X-5), with an optional note and photo (X-6); audited with a status change.

    Allowed to the staff member it is given to, anyone holding its role, and supervisors (who manage
    tasks or are its escalation target). Refused for tasks due on a later day, and for finished ones.
    """
    now = now or timezone.now()
    if not selectors.task_can_check_off(actor, task):
        raise PermissionDenied(_("Only the person or role the task is given to, or a supervisor, can check it off."))
    if task.due_on > timezone.localdate(now):
        raise ValidationError(_("This task is due on %(day)s and cannot be checked off before then.")
                              % {"day": task.due_on.isoformat()})
    note = (note or "").strip()[:500]
    task_flow.apply(task, "check_off", actor=actor, note=note,
                    update={"done_at": now, "done_by": actor, "note": note})
    if photo is not None:
        from houqin.core.attachments import attachment_add

        attachment_add(obj=task, upload=photo, actor=actor, note=_("Photo at check-off"))
    return task


def task_cancel(*, task: Task, actor, note: str) -> Task:
    """A supervisor cancels a task that will not be done (the place is closed, the plan was wrong)."""
    return task_flow.apply(task, "cancel", actor=actor, note=note)


# Overdue and escalation ---------------------------------------------------------------------------------------


def tasks_mark_overdue(*, now: datetime.datetime | None = None) -> int:
    """Mark every open task past its overdue time as overdue; one status change and audit entry each."""
    now = now or timezone.now()
    with transaction.atomic():
        tasks = list(Task.objects.select_for_update().filter(status=Task.Status.OPEN, overdue_at__lte=now)
                     .order_by("pk")[:5000])
        if not tasks:
            return 0
        Task.objects.filter(pk__in=[t.pk for t in tasks], status=Task.Status.OPEN).update(
            status=Task.Status.OVERDUE, updated_at=now)
        entries = []
        for t in tasks:
            before = serialize_for_audit(t)
            t.status = Task.Status.OVERDUE
            entries.append((t, AuditEntry.Action.TRANSITION, before, serialize_for_audit(t)))
        _status_changes(tasks, "mark_overdue", Task.Status.OPEN, Task.Status.OVERDUE, actor=None)
        audit_bulk(entries, actor=None, message=str(task_flow.get("mark_overdue").label))
    return len(tasks)


def _escalation_message(task: Task) -> tuple[str, str]:
    title = _("Task overdue: %(title)s") % {"title": task.title}
    parts = [
        _("Due: %(time)s") % {"time": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")},
        _("Assigned to: %(who)s") % {"who": selectors.responsible_text(task)},
    ]
    if task.place_id:
        parts.append(_("Place: %(place)s") % {"place": task.place})
    return title, "\n".join(parts)


def tasks_escalate(*, now: datetime.datetime | None = None) -> int:
    """Tell the escalation target of each task overdue too long, once per task (X-4, X-5).

    The status change to escalated is taken under a row lock (``Workflow.apply``): a second run, or a
    second worker, finds the task escalated already and tells nobody again. The notice is queued in the
    same transaction and written when it commits.
    """
    now = now or timezone.now()
    from houqin.notifications.services import notify

    candidates = list(
        Task.objects.filter(status__in=(Task.Status.OPEN, Task.Status.OVERDUE), escalate_at__lte=now,
                            escalated_at__isnull=True)
        .select_related("plan__escalate_to_staff__user", "school", "assignee", "place")
        .order_by("escalate_at", "pk")[:ESCALATE_BATCH]
    )
    count = 0
    for task in candidates:
        target = task.plan.escalation_target if task.plan_id else None
        if target is None:  # the plan no longer names anyone: nothing to do, and never again
            Task.objects.filter(pk=task.pk).update(escalate_at=None)
            continue
        recipient = target.user if hasattr(target, "user") else target
        title, body = _escalation_message(task)
        try:
            with transaction.atomic():
                task_flow.apply(task, "escalate", actor=None, check_perm=False, update={"escalated_at": now},
                                note=_("Overdue since %(time)s") % {
                                    "time": timezone.localtime(task.overdue_at).strftime("%H:%M")})
                notify(school=task.school, recipients=[recipient], title=title, body=body,
                       url=reverse("schedules:task", args=[task.pk]), urgent=False, category="schedules.escalation")
        except TransitionNotAllowed:
            continue  # done or escalated meanwhile
        count += 1
    return count


def tick() -> dict:
    """The periodic job ``schedules.tick``: generate the coming week, mark overdue, escalate."""
    created = tasks_generate()
    overdue = tasks_mark_overdue()
    escalated = tasks_escalate()
    return {"created": created, "overdue": overdue, "escalated": escalated}
