"""Forms of X-5 that the entity machinery cannot generate: checkboxes for weekdays and term points,
time and date-time pickers, the task list filters ("only mine", "overdue") and the check-off form."""

import django_filters
from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from houqin.core.builders import EntityFilterSet, school_queryset
from houqin.core.entities import EntityForm
from houqin.core.widgets import LazySelect, date_range_widget
from houqin.org.models import Staff

from .models import ROLE_CHOICES, Plan, Task
from .selectors import assigned_to_q, late_q

PLAN_FORM_FIELDS = (
    "title", "description", "place", "assignee", "assignee_role",
    "kind", "weekdays", "day_of_month", "month_end", "term_points", "term_offset_days", "times_per_term",
    "skip_holidays", "due_time", "grace_minutes", "escalate_after_minutes", "escalate_to_role", "escalate_to_staff",
    "active", "start_on", "end_on",
)
TASK_FORM_FIELDS = ("title", "description", "place", "assignee", "assignee_role", "due_at")


def _label(model, name):
    return capfirst(model._meta.get_field(name).verbose_name)


class PlanForm(EntityForm):
    """The plan form: weekdays and term points as checkboxes, the due time as a time picker."""

    weekdays = forms.TypedMultipleChoiceField(
        label=_label(Plan, "weekdays"), choices=Plan.Weekday.choices, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("Weekly plans."),
    )
    term_points = forms.MultipleChoiceField(
        label=_label(Plan, "term_points"), choices=Plan.TermPoint.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("Plans at term start, mid-term and end."),
    )

    class Meta:
        model = Plan
        fields = list(PLAN_FORM_FIELDS)
        widgets = {
            "due_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "description": forms.Textarea(attrs={"rows": 3}),
        }


class TaskForm(EntityForm):
    """A one-off task added by hand, or a generated one moved or reassigned."""

    class Meta:
        model = Task
        fields = list(TASK_FORM_FIELDS)
        widgets = {
            "due_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "description": forms.Textarea(attrs={"rows": 3}),
        }



YES_NO = [("", _("All")), ("true", _("Yes")), ("false", _("No"))]


class TaskFilterSet(EntityFilterSet):
    """The task list's filters, also used by the API: the generated ones plus "only mine" and "overdue"."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Only mine"),
                                        widget=forms.Select(choices=YES_NO))
    late = django_filters.BooleanFilter(method="filter_late", label=_("Overdue or escalated"),
                                        widget=forms.Select(choices=YES_NO))
    status = django_filters.ChoiceFilter(choices=Task.Status.choices, label=_label(Task, "status"),
                                         empty_label=_("All"))
    due_on = django_filters.DateFromToRangeFilter(label=_label(Task, "due_on"),
                                                  widget=date_range_widget(_label(Task, "due_on")))
    assignee = django_filters.ModelChoiceFilter(
        queryset=school_queryset(Staff), label=_label(Task, "assignee"),
        widget=LazySelect(model=Staff, label_for=lambda pk: Staff.objects.filter(pk=pk).first()),
    )
    assignee_role = django_filters.ChoiceFilter(choices=ROLE_CHOICES, label=_label(Task, "assignee_role"),
                                                empty_label=_("All"))
    plan = django_filters.ModelChoiceFilter(
        queryset=school_queryset(Plan), label=_label(Task, "plan"),
        widget=LazySelect(model=Plan, label_for=lambda pk: Plan.objects.filter(pk=pk).first()),
    )

    class Meta:
        model = Task
        fields: list = []

    def filter_mine(self, queryset, name, value):
        if value is None or self.request is None:
            return queryset
        q = assigned_to_q(self.request.user)
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_late(self, queryset, name, value):
        from django.utils import timezone

        if value is None:
            return queryset
        q = late_q(timezone.now())
        return queryset.filter(q) if value else queryset.exclude(q)


class CheckOffForm(forms.Form):
    """What the phone page sends: an optional note and an optional photo."""

    note = forms.CharField(label=_("Note"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.FileField(label=_("Photo (optional)"), required=False)
