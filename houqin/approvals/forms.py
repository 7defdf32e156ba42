"""Input shapes of the approval pages; the rules live in ``services``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from houqin.core.registry import registry as shell_registry

from .models import StepKind
from .registry import document_types


class DecideForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=500,
        help_text=_("Required when you send it back: the requester reads it."),
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control", "maxlength": 500}),
    )


def _role_choices():
    return [(r.code, r.label) for r in sorted(shell_registry.roles.values(), key=lambda r: r.order)]


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control"}))
    document_type = forms.ChoiceField(label=_("Document type"), widget=forms.Select(attrs={"class": "form-select"}))
    active = forms.BooleanField(
        label=_("In use"), required=False, initial=True, widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        help_text=_("One policy per document type is in use at a time. Without steps, documents are "
                    "approved as soon as they are submitted."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].choices = [("", "—")] + [(d.key, d.verbose_name) for d in document_types()]


class StepForm(forms.Form):
    order = forms.IntegerField(label=_("Order"), min_value=1, max_value=99, required=False,
                               widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}))
    label = forms.CharField(label=_("Step"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control"}))
    kind = forms.ChoiceField(label=_("Decided by"), choices=StepKind.choices, initial=StepKind.ROLE,
                             widget=forms.Select(attrs={"class": "form-select"}))
    role_codes = forms.MultipleChoiceField(label=_("Roles"), required=False, widget=forms.CheckboxSelectMultiple)
    min_amount = forms.DecimalField(
        label=_("From amount (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2,
        help_text=_("Empty: every amount."),
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "decimal", "step": "0.01"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role_codes"].choices = _role_choices()


class BaseStepFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"


StepFormSet = forms.formset_factory(StepForm, formset=BaseStepFormSet, extra=3, can_delete=True, max_num=20,
                                    validate_max=True)


def steps_from(formset) -> list[dict]:
    """The kept rows of a valid step formset, in the shape ``approval_policy_save`` takes."""
    steps = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        steps.append({k: data.get(k) for k in ("order", "label", "kind", "role_codes", "min_amount")})
    return steps
