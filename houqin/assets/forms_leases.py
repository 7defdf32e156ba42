"""Forms of the idle register, leases and rent (AST-8) that the entity machinery cannot generate."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from houqin.core.builders import EntityFilterSet, KeyFilter
from houqin.core.entities import EntityForm
from houqin.core.ids import as_key
from houqin.core.widgets import date_range_widget

from .forms import YES_NO, AssetCodesField, _label, swap_safe
from .models import IdleRoom, Lease, RentInstallment, RentPayOver, RentReceipt

DATE = {"type": "date"}


class OptionalAssetCodesField(AssetCodesField):
    """Asset codes, one per line; empty is allowed (a lease of rooms only)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Idle assets let"))
        kwargs.setdefault("help_text", _("Scan or type the codes of idle assets let with the rooms, one per line "
                                         "(empty: rooms only)."))
        super().__init__(*args, required=False, **kwargs)

    def clean(self, value):
        if not (value or "").strip():
            return []
        return super().clean(value)


class LeaseForm(EntityForm):
    """A draft lease: the idle rooms (check boxes of the register) and the idle assets (codes)."""

    assets = OptionalAssetCodesField()
    field_order = ("tenant", "rooms", "assets", "purpose", "start_on", "end_on", "rent_amount", "rent_period",
                   "deposit", "approval_doc_no", "approval_authority", "approved_on", "tender_platform",
                   "tender_notice_no", "tender_on", "contract_no", "signed_on", "note")

    class Meta:
        model = Lease
        fields = ("tenant", "rooms", "purpose", "start_on", "end_on", "rent_amount", "rent_period", "deposit",
                  "approval_doc_no", "approval_authority", "approved_on", "tender_platform", "tender_notice_no",
                  "tender_on", "contract_no", "signed_on", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        school_id = getattr(self.user, "school_id", None)
        self.fields["assets"].school_id = school_id
        rooms = self.fields["rooms"]
        chosen = list(self.instance.rooms.values_list("pk", flat=True)) if self.instance.pk else []
        from django.db.models import Q

        rooms.queryset = (IdleRoom.objects.filter(school_id=school_id)
                          .filter(Q(status=IdleRoom.Status.IDLE) | Q(pk__in=chosen))
                          .select_related("room").order_by("room__code"))
        rooms.widget = forms.CheckboxSelectMultiple()
        rooms.widget.choices = rooms.choices  # a new widget: give it the field's choices again
        rooms.help_text = _("Rooms on the idle register.")
        if self.instance.pk and not self.is_bound:
            self.initial["assets"] = list(self.instance.assets.all())
        swap_safe(self)

    def clean(self):
        data = super().clean()
        if not data.get("rooms") and not data.get("assets") and not self.errors:
            self.add_error("rooms", _("Choose the idle rooms or assets that are let."))
        return data


class MarkIdleForm(forms.Form):
    on = forms.DateField(label=_("Idle since"), required=False, widget=forms.DateInput(attrs=DATE),
                         help_text=_("Empty: today."))
    reason = forms.CharField(label=_("Why idle"), max_length=200)


class BackInUseForm(forms.Form):
    on = forms.DateField(label=_("Back in use on"), required=False, widget=forms.DateInput(attrs=DATE),
                         help_text=_("Empty: today."))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class LeaseActivateForm(forms.ModelForm):
    """The approval of the 主管部门/财政 and the 公开招租, asked for when the lease is put in force. Not required
    here: the service refuses what is missing, with the rule, next to the field."""

    class Meta:
        model = Lease
        fields = ("approval_doc_no", "approval_authority", "approved_on", "tender_platform", "tender_notice_no",
                  "tender_on", "contract_no", "signed_on")
        widgets = {"approved_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
                   "tender_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
                   "signed_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.required = False
            f.widget.attrs.setdefault("class", "form-control")

    def _post_clean(self):
        pass  # the lease's own checks run in the service, with the approval rules first


class RentReceiptForm(EntityForm):
    class Meta:
        model = RentReceipt
        fields = ("installment", "amount", "received_on", "receipt_no", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["installment"].queryset = self.fields["installment"].queryset.filter(
            status__in=(RentInstallment.Status.DUE, RentInstallment.Status.PARTLY))
        self.fields["received_on"].required = False
        self.fields["received_on"].help_text = _("Empty: today.")
        if not self.is_bound and not self.instance.pk:
            self.initial.setdefault("received_on", timezone.localdate())
            installment = self.initial.get("installment")
            if installment and not self.initial.get("amount"):
                found = RentInstallment.objects.filter(pk=installment, school_id=getattr(self.user, "school_id", None)
                                                       ).first() if as_key(installment) is not None else None
                if found is not None:
                    self.initial["amount"] = found.amount - found.received
        swap_safe(self)


class RentPayOverForm(EntityForm):
    """上缴: the receipts not yet paid over, ticked (one or a batch), with the payment form's number."""

    paid_receipts = forms.ModelMultipleChoiceField(label=_("Receipts paid over"), queryset=RentReceipt.objects.none(),
                                              widget=forms.CheckboxSelectMultiple())
    field_order = ("paid_on", "reference", "paid_receipts", "note")

    class Meta:
        model = RentPayOver
        fields = ("paid_on", "reference", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_receipts"].queryset = (RentReceipt.objects.filter(
            school_id=getattr(self.user, "school_id", None), voided_at__isnull=True, pay_over__isnull=True)
            .select_related("lease", "lease__tenant").order_by("received_on", "pk"))
        self.fields["paid_receipts"].label_from_instance = lambda r: (
            f"{r.received_on} {r.receipt_no} {r.lease.number} {r.lease.tenant} ¥{r.amount:,.2f}")
        self.fields["paid_on"].required = False
        self.fields["paid_on"].help_text = _("Empty: today.")
        if self.instance.pk:
            del self.fields["paid_receipts"]


class InstallmentFilterSet(EntityFilterSet):
    """The rent schedule's filters, also used by the API: status, lease, due date and "overdue"."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"),
                                           widget=forms.Select(choices=YES_NO))
    status = django_filters.ChoiceFilter(choices=RentInstallment.Status.choices,
                                         label=_label(RentInstallment, "status"), empty_label=_("All"))
    lease = KeyFilter(field_name="lease_id", label=_label(RentInstallment, "lease"), widget=forms.HiddenInput())
    due_on = django_filters.DateFromToRangeFilter(label=_label(RentInstallment, "due_on"),
                                                  widget=date_range_widget(_label(RentInstallment, "due_on")))

    class Meta:
        model = RentInstallment
        fields: list = []

    @property
    def entity(self):
        from houqin.core.entities import registry

        return registry[RentInstallment]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = {"status__in": (RentInstallment.Status.DUE, RentInstallment.Status.PARTLY),
                "due_on__lt": timezone.localdate(), "lease__status__in": (
                    Lease.Status.ACTIVE, Lease.Status.ENDED, Lease.Status.TERMINATED)}
        return queryset.filter(**late) if value else queryset.exclude(**late)
