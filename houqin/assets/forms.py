"""Forms the entity machinery cannot generate: documents that take a list of asset codes."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from houqin.core.builders import EntityFilterSet, school_queryset
from houqin.core.entities import EntityForm
from houqin.core.widgets import LazySelect, date_range_widget
from houqin.org.models import Staff

from .models import Asset, AssetDisposal, AssetLoan, AssetMove, AssetRepair

CODE_SPLIT = re.compile(r"[\s,，;；、]+")


class InnerSwapLazySelect(LazySelect):
    """The core lazy select with ``hx-swap="innerHTML"`` on its search box: inside the entity form (whose
    ``hx-swap="outerHTML"`` htmx attributes inherit) the matches would otherwise replace the results box
    itself, so a typed search no longer filters and the options lose their listbox."""

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs=attrs, renderer=renderer)
        return mark_safe(html.replace(" data-lazy-input", ' hx-swap="innerHTML" data-lazy-input', 1))  # noqa: S308


def swap_safe(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if type(widget) is LazySelect:
            field.widget = InnerSwapLazySelect(model=widget.model, label_for=widget.label_for, attrs=widget.attrs)


class AssetCodesField(forms.CharField):
    """Asset codes typed, pasted or scanned (a keyboard-wedge scanner types the code and Enter)."""

    widget = forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Asset codes"))
        kwargs.setdefault("help_text", _("Scan or type the asset codes, one per line."))
        super().__init__(*args, **kwargs)
        self.school_id = None

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(getattr(v, "code", str(v)) for v in value)
        return value

    def clean(self, value):
        text = super().clean(value)
        codes = list(dict.fromkeys(c for c in CODE_SPLIT.split(text or "") if c))
        if not codes:
            raise ValidationError(_("Scan or type at least one asset code."), code="required")
        found = {a.code: a for a in Asset.objects.filter(school_id=self.school_id, code__in=codes)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise ValidationError(_("No asset has the code %(codes)s.") % {"codes": "、".join(unknown)},
                                  code="unknown")
        return [found[c] for c in codes]


class AssetCodesForm(EntityForm):
    assets = AssetCodesField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assets"].school_id = getattr(self.user, "school_id", None)
        swap_safe(self)
        if self.instance.pk and "assets" in self.fields:
            del self.fields["assets"]  # the lines of a written document do not change; cancel and rewrite


class AssetMoveForm(AssetCodesForm):
    field_order = ("kind", "assets", "to_room", "to_department", "to_custodian", "moved_on", "note")

    class Meta:
        model = AssetMove
        fields = ("kind", "moved_on", "to_room", "to_department", "to_custodian", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "moved_on" in self.fields:
            self.fields["moved_on"].required = False
            self.fields["moved_on"].help_text = _("Empty: today.")
            if not self.is_bound and not self.instance.pk:
                self.initial.setdefault("moved_on", timezone.localdate())


class AssetDisposalForm(AssetCodesForm):
    field_order = ("method", "assets", "reason", "decision_ref", "department", "note")

    class Meta:
        model = AssetDisposal
        fields = ("method", "reason", "decision_ref", "department", "note")


class AssetLoanForm(EntityForm):
    class Meta:
        model = AssetLoan
        fields = ("asset", "item", "borrower", "due_on", "purpose")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_on"].required = False
        self.fields["due_on"].help_text = _("Empty: due back today.")
        # Opened from a card's or an item's page (借出): only that thing and the borrower are asked for.
        given = self.data if self.is_bound else self.initial
        if not self.instance.pk and given.get("asset") and not given.get("item"):
            del self.fields["item"]
        elif not self.instance.pk and given.get("item") and not given.get("asset"):
            del self.fields["asset"]
        swap_safe(self)

    def clean(self):
        data = super().clean()
        if not self.instance.pk and bool(data.get("asset")) == bool(data.get("item")):
            raise ValidationError(_("Choose one asset or one low-value item to lend."))
        return data


class AssetRepairForm(EntityForm):
    class Meta:
        model = AssetRepair
        fields = ("asset", "fault", "repairer", "sent_on")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sent_on"].required = False
        swap_safe(self)


class RepairBackForm(forms.Form):
    repaired = forms.TypedChoiceField(label=_("Result"), coerce=lambda v: v == "1", initial="1",
                                      choices=(("1", _("Repaired")), ("0", _("Not repairable"))))
    result = forms.CharField(label=_("What was done"), max_length=200, required=False)
    cost = forms.DecimalField(label=_("Cost"), max_digits=12, decimal_places=2, required=False, min_value=0)
    back_on = forms.DateField(label=_("Back on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class LoanReturnForm(forms.Form):
    condition_note = forms.CharField(label=_("Condition on return"), max_length=200, required=False)


class DisposalCompleteForm(forms.Form):
    approval_doc_no = forms.CharField(
        label=_("Approval document number"), max_length=60,
        help_text=_("The number of the bureau's or the school's approval (批复文号); the cards are written off "
                    "with it."))
    disposed_on = forms.DateField(label=_("Disposed on"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Empty: today."))
    income = forms.DecimalField(
        label=_("Disposal income (non-tax revenue)"), max_digits=12, decimal_places=2, required=False, min_value=0,
        initial=0, help_text=_("Non-tax revenue to be paid over to the treasury, not school income."))


class ItemIssueForm(forms.Form):
    custodian = forms.ModelChoiceField(label=_("Given to"), queryset=None)

    def __init__(self, *args, school=None, **kwargs):
        super().__init__(*args, **kwargs)
        from houqin.core.widgets import LazySelect
        from houqin.org.models import Staff

        qs = Staff.objects.filter(school=school, status=Staff.Status.ACTIVE)
        self.fields["custodian"].queryset = qs
        self.fields["custodian"].widget = LazySelect(model=Staff, label_for=lambda pk: qs.filter(pk=pk).first())


YES_NO = [("", _("All")), ("true", _("Yes")), ("false", _("No"))]


def _label(model, name):
    return capfirst(model._meta.get_field(name).verbose_name)



class LoanFilterSet(EntityFilterSet):
    """The loan list's filters, also used by the API: the generated ones plus "overdue"."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"),
                                           widget=forms.Select(choices=YES_NO))
    status = django_filters.ChoiceFilter(choices=AssetLoan.Status.choices, label=_label(AssetLoan, "status"),
                                         empty_label=_("All"))
    borrower = django_filters.ModelChoiceFilter(
        queryset=school_queryset(Staff), label=_label(AssetLoan, "borrower"),
        widget=LazySelect(model=Staff, label_for=lambda pk: Staff.objects.filter(pk=pk).first()))
    lent_on = django_filters.DateFromToRangeFilter(label=_label(AssetLoan, "lent_on"),
                                                   widget=date_range_widget(_label(AssetLoan, "lent_on")))
    due_on = django_filters.DateFromToRangeFilter(label=_label(AssetLoan, "due_on"),
                                                  widget=date_range_widget(_label(AssetLoan, "due_on")))

    class Meta:
        model = AssetLoan
        fields: list = []

    @property
    def entity(self):
        from houqin.core.entities import registry

        return registry[AssetLoan]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = {"status": AssetLoan.Status.OUT, "due_on__lt": timezone.localdate()}
        return queryset.filter(**late) if value else queryset.exclude(**late)
