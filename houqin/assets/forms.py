"""Forms the entity machinery cannot generate: documents that take a list of asset codes."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from houqin.core.entities import EntityForm

from .models import Asset, AssetDisposal, AssetLoan, AssetMove, AssetRepair

CODE_SPLIT = re.compile(r"[\s,，;；、]+")


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
        if self.instance.pk and "assets" in self.fields:
            del self.fields["assets"]  # the lines of a written document do not change; cancel and rewrite


class AssetMoveForm(AssetCodesForm):
    class Meta:
        model = AssetMove
        fields = ("kind", "moved_on", "to_room", "to_department", "to_custodian", "note")


class AssetDisposalForm(AssetCodesForm):
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


class RepairBackForm(forms.Form):
    repaired = forms.TypedChoiceField(label=_("Result"), coerce=lambda v: v == "1", initial="1",
                                      choices=(("1", _("Repaired")), ("0", _("Not repairable"))))
    result = forms.CharField(label=_("What was done"), max_length=200, required=False)
    cost = forms.DecimalField(label=_("Cost"), max_digits=12, decimal_places=2, required=False, min_value=0)
    back_on = forms.DateField(label=_("Back on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class LoanReturnForm(forms.Form):
    condition_note = forms.CharField(label=_("Condition on return"), max_length=200, required=False)


class DisposalCompleteForm(forms.Form):
    approval_doc_no = forms.CharField(label=_("Approval document number"), max_length=60)
    disposed_on = forms.DateField(label=_("Disposed on"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    income = forms.DecimalField(label=_("Disposal income (non-tax revenue)"), max_digits=12, decimal_places=2,
                                required=False, min_value=0, initial=0)


class ItemIssueForm(forms.Form):
    custodian = forms.ModelChoiceField(label=_("Given to"), queryset=None)

    def __init__(self, *args, school=None, **kwargs):
        super().__init__(*args, **kwargs)
        from houqin.core.widgets import LazySelect
        from houqin.org.models import Staff

        qs = Staff.objects.filter(school=school, status=Staff.Status.ACTIVE)
        self.fields["custodian"].queryset = qs
        self.fields["custodian"].widget = LazySelect(model=Staff, label_for=lambda pk: qs.filter(pk=pk).first())
