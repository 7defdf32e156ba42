"""Recurring plans and the tasks they generate (X-5): 巡查、检查、保洁、绿化、抄表 on a schedule.

A ``Plan`` replaces the duty schedule pinned on the office wall (每日巡查、每周卫生检查、每月消防器材检查、
学期初/期中/期末宿舍安全检查); each ``Task`` replaces one line of the paper check-off sheet, signed by the
person who did it, with an optional photo as evidence.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from houqin.core.models import SchoolScopedModel

# Roles that are never given tasks: the education bureau only reads.
NO_TASK_ROLES = ("bureau",)


def _role_choices() -> list[tuple[str, str]]:
    from houqin.org.roles import ROLES

    return [(r.code, r.label) for r in sorted(ROLES, key=lambda r: r.order) if r.code not in NO_TASK_ROLES]


# The school roles a plan or task can be assigned to (the roles of features.md, X-1).
ROLE_CHOICES = _role_choices()
# The roles an overdue task can be escalated to: those who oversee others' work.
SUPERVISOR_ROLES = ("principal", "vice_principal", "logistics_director", "logistics_clerk", "asset_keeper",
                    "group_head", "canteen_manager")
ESCALATION_ROLE_CHOICES = [(code, label) for code, label in ROLE_CHOICES if code in SUPERVISOR_ROLES]


def role_choices() -> list[tuple[str, str]]:
    return ROLE_CHOICES


def role_label(code: str) -> str:
    return str(dict(role_choices()).get(code, code)) if code else ""


class Plan(SchoolScopedModel):
    """例行工作计划 (X-5, SAF-1, ENV-1, DRM-2, SEC-5): what is checked, where, by whom and how often.

    The person responsible is either a staff member or a role (every guard may do the gate patrol).
    Tasks are generated a week ahead by the periodic job ``schedules.tick``.
    """

    class Kind(models.TextChoices):
        DAILY = "daily", _("Every day")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        SCHOOL_DAYS = "school_days", _("Every school day")
        TERM_POINTS = "term_points", _("Term start, mid-term and end")
        PER_TERM = "per_term", _("Times per term")

    class Weekday(models.IntegerChoices):
        MONDAY = 1, _("Monday")
        TUESDAY = 2, _("Tuesday")
        WEDNESDAY = 3, _("Wednesday")
        THURSDAY = 4, _("Thursday")
        FRIDAY = 5, _("Friday")
        SATURDAY = 6, _("Saturday")
        SUNDAY = 7, _("Sunday")

    class TermPoint(models.TextChoices):
        START = "start", _("Term start")
        MID = "mid", _("Mid-term")
        END = "end", _("Term end")

    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("instructions"), blank=True, help_text=_("What to check, shown with each task."))
    place = models.ForeignKey(
        "org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("place")
    )
    assignee = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="task_plans",
        verbose_name=_("assigned to (person)"),
    )
    assignee_role = models.CharField(
        _("assigned to (role)"), max_length=30, blank=True, choices=ROLE_CHOICES,
        help_text=_("Give a person or a role: with a role, anyone holding it may do the task."),
    )
    kind = models.CharField(_("repeats"), max_length=12, choices=Kind.choices, default=Kind.DAILY)
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    day_of_month = models.PositiveSmallIntegerField(
        _("day of month"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    month_end = models.BooleanField(
        _("last day of the month"), default=False,
        help_text=_("Alone: the last day of every month. With a day of month: that day, or the last day of "
                    "shorter months."),
    )
    term_points = models.JSONField(_("term points"), default=list, blank=True)
    term_offset_days = models.SmallIntegerField(
        _("days after the term point"), default=0,
        validators=[MinValueValidator(-60), MaxValueValidator(60)],
        help_text=_("Negative for days before: -3 is three days before."),
    )
    times_per_term = models.PositiveSmallIntegerField(
        _("times per term"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Spread evenly over the school days of each term."),
    )
    skip_holidays = models.BooleanField(
        _("skip holidays"), default=True, help_text=_("Daily and weekly plans: no task on a holiday.")
    )
    due_time = models.TimeField(_("due time"), default=datetime.time(8, 0))
    grace_minutes = models.PositiveIntegerField(
        _("grace minutes"), default=60, validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_("Minutes after the due time before the task counts as overdue."),
    )
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate after (minutes)"), null=True, blank=True, validators=[MaxValueValidator(30 * 24 * 60)],
        help_text=_("Minutes an overdue task waits before the supervisor is told. Empty: never."),
    )
    escalate_to_role = models.CharField(
        _("escalate to (role)"), max_length=30, blank=True, choices=ESCALATION_ROLE_CHOICES
    )
    escalate_to_staff = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("escalate to (person)"),
    )
    active = models.BooleanField(_("active"), default=True)
    start_on = models.DateField(_("starts on"), default=timezone.localdate)
    end_on = models.DateField(_("ends on"), null=True, blank=True)
    # The last day tasks were generated for; the next run continues the day after (catching up).
    generated_until = models.DateField(_("tasks generated until"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("recurring plan")
        verbose_name_plural = _("recurring plans")
        ordering = ("title",)
        constraints = [
            models.UniqueConstraint(fields=["school", "title"], name="schedules_plan_unique_title"),
            models.CheckConstraint(
                condition=(Q(assignee__isnull=False) & Q(assignee_role=""))
                | (Q(assignee__isnull=True) & ~Q(assignee_role="")),
                name="schedules_plan_one_assignee",
                violation_error_message=_("Give a person or a role, one of them."),
            ),
            models.CheckConstraint(
                condition=Q(escalate_to_staff__isnull=True) | Q(escalate_to_role=""),
                name="schedules_plan_one_escalation_target",
                violation_error_message=_("Escalate to a person or a role, not both."),
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")), name="schedules_plan_dates_in_order"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    str_fields = ("title",)  # what __str__ reads (lists load only these)

    def clean(self) -> None:
        errors: dict[str, list] = {}

        def add(field, message):
            errors.setdefault(field, []).append(message)

        if bool(self.assignee_id) == bool(self.assignee_role):
            add("assignee_role", _("Give a person or a role, one of them."))
        if self.escalate_to_staff_id and self.escalate_to_role:
            add("escalate_to_role", _("Escalate to a person or a role, not both."))
        has_target = bool(self.escalate_to_staff_id or self.escalate_to_role)
        if self.escalate_after_minutes is not None and not has_target:
            add("escalate_to_role", _("Say whom to tell when the task is overdue."))
        if has_target and self.escalate_after_minutes is None:
            add("escalate_after_minutes", _("Say after how many minutes to tell them."))
        if self.start_on and self.end_on and self.end_on < self.start_on:
            add("end_on", _("The end date cannot be before the start date."))
        weekdays = self.weekdays or []
        if not isinstance(weekdays, list) or any(not isinstance(d, int) or not 1 <= d <= 7 for d in weekdays):
            add("weekdays", _("Choose weekdays from Monday to Sunday."))
        points = self.term_points or []
        if not isinstance(points, list) or any(p not in self.TermPoint.values for p in points):
            add("term_points", _("Choose from term start, mid-term and term end."))
        if self.kind == self.Kind.WEEKLY and not weekdays:
            add("weekdays", _("Choose at least one weekday."))
        if self.kind == self.Kind.MONTHLY and not (self.day_of_month or self.month_end):
            add("day_of_month", _("Give the day of the month, or tick the last day of the month."))
        if self.kind == self.Kind.TERM_POINTS and not points:
            add("term_points", _("Choose at least one of term start, mid-term and term end."))
        if self.kind == self.Kind.PER_TERM and not self.times_per_term:
            add("times_per_term", _("Say how many times per term."))
        if errors:
            raise ValidationError(errors)
        self.weekdays = sorted(set(weekdays))
        self.term_points = [p for p in self.TermPoint.values if p in points]

    @property
    def escalation_target(self):
        """The Staff or role code told when a task is overdue too long, or None."""
        return self.escalate_to_staff if self.escalate_to_staff_id else (self.escalate_to_role or None)


class Task(SchoolScopedModel):
    """例行任务 (X-5): one line of the check-off sheet — due when, where, by whom; done when, by whom.

    Generated from a plan (one per plan and day: generation is idempotent) or added by hand as a one-off.
    A photo taken at check-off is kept as an attachment (X-6).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        DONE = "done", _("Done")
        OVERDUE = "overdue", _("Overdue")
        ESCALATED = "escalated", _("Escalated")
        CANCELLED = "cancelled", _("Cancelled")

    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks", verbose_name=_("plan")
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("instructions"), blank=True)
    place = models.ForeignKey(
        "org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("place")
    )
    assignee = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="tasks",
        verbose_name=_("assigned to (person)"),
    )
    assignee_role = models.CharField(
        _("assigned to (role)"), max_length=30, blank=True, choices=ROLE_CHOICES,
        help_text=_("Give a person or a role: with a role, anyone holding it may do the task."),
    )
    due_on = models.DateField(_("due date"), editable=False)
    due_at = models.DateTimeField(_("due at"))
    overdue_at = models.DateTimeField(_("overdue from"), editable=False)
    escalate_at = models.DateTimeField(_("escalated from"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, editable=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False,
        verbose_name=_("done by"),
    )
    note = models.CharField(_("note"), max_length=500, blank=True, editable=False)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ("-due_at", "-id")
        constraints = [
            # One task per plan and day: generation inserts and ignores the pairs that exist.
            models.UniqueConstraint(fields=["plan", "due_on"], name="schedules_task_unique_plan_day"),
            models.CheckConstraint(
                condition=(Q(assignee__isnull=False) & Q(assignee_role=""))
                | (Q(assignee__isnull=True) & ~Q(assignee_role="")),
                name="schedules_task_one_assignee",
                violation_error_message=_("Give a person or a role, one of them."),
            ),
        ]
        indexes = [
            models.Index(fields=["school", "due_on"]),
            models.Index(fields=["status", "overdue_at"]),
            models.Index(fields=["status", "escalate_at"]),
            models.Index(fields=["assignee", "due_on"]),
            models.Index(fields=["assignee_role", "due_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.due_on:%Y-%m-%d}）" if self.due_on else self.title

    def clean(self) -> None:
        if bool(self.assignee_id) == bool(self.assignee_role):
            raise ValidationError({"assignee_role": _("Give a person or a role, one of them.")})

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.CANCELLED)

    @property
    def instructions(self) -> str:
        return self.description or (self.plan.description if self.plan_id else "")
