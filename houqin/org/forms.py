from django import forms
from django.utils.translation import gettext_lazy as _

from houqin.core.entities import EntityForm
from houqin.core.registry import registry

from . import selectors
from .choices import IdentityDocumentType
from .models import Department, Room, SchoolClass, Staff, Student, Term
from .validators import mask_identity_number


def role_choices():
    return [(r.code, r.label) for r in sorted(registry.roles.values(), key=lambda r: r.order)]


class StaffEntityForm(EntityForm):
    """Staff with their account's roles; uniqueness and the account are checked by the service."""

    roles = forms.MultipleChoiceField(label=_("Roles"), choices=role_choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Staff
        fields = ["staff_no", "name", "gender", "mobile", "title", "departments", "is_outsourced", "company", "joined_on"]
        widgets = {"departments": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        school_id = self.user.school_id if self.user is not None else None
        self.fields["departments"].queryset = Department.objects.filter(school_id=school_id)
        self.fields["mobile"].validators = []  # normalised and validated by the service
        if self.instance.pk:
            self.fields["roles"].initial = list(self.instance.user.groups.values_list("name", flat=True))

    def clean(self):
        data = super().clean()
        if data.get("is_outsourced") and not data.get("company"):
            self.add_error("company", _("Enter the company of outsourced staff."))
        return data

    def _post_clean(self):
        pass  # model validation (uniqueness, school, account) happens in the service


class StudentEntityForm(EntityForm):
    """A student; a masked identity number left unchanged keeps the stored number."""

    class Meta:
        model = Student
        fields = [
            "student_no", "name", "gender", "school_class", "id_type", "id_number", "id_checksum_override",
            "is_boarder", "dorm_room", "guardian_name", "guardian_phone",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None:
            from houqin.core.permissions import scope

            self.fields["school_class"].queryset = scope(
                SchoolClass.objects.filter(status=SchoolClass.Status.ACTIVE), self.user, "view")
            self.fields["school_class"].widget.label_for = lambda pk: SchoolClass.objects.filter(pk=pk).first()
            self.fields["dorm_room"].queryset = Room.objects.filter(school_id=self.user.school_id, kind=Room.Kind.DORM)
        self.fields["id_type"].choices = IdentityDocumentType.choices
        self.fields["guardian_phone"].validators = []
        self.masked = ""
        if self.instance.pk and self.instance.id_number and self.user is not None \
                and not selectors.can_see_identity(self.user, self.instance):
            self.masked = mask_identity_number(self.instance.id_number)
            self.initial["id_number"] = self.masked

    def clean_id_number(self):
        value = (self.cleaned_data.get("id_number") or "").strip()
        if self.masked and value == self.masked:
            return self.instance.id_number
        return value

    def _post_clean(self):
        pass  # identity numbers and uniqueness are checked by the service


class SchoolClassEntityForm(EntityForm):
    class Meta:
        model = SchoolClass
        fields = ["intake_year", "major", "number", "department", "head_teacher", "room"]

    def _post_clean(self):
        self.instance.name = SchoolClass.make_name(
            self.cleaned_data.get("intake_year") or 0, self.cleaned_data.get("major") or "",
            self.cleaned_data.get("number") or 0)
        super()._post_clean()


class TermEntityForm(EntityForm):
    class Meta:
        model = Term
        fields = ["school_year", "season", "start_on", "mid_on", "end_on"]


class StatusChangeForm(forms.Form):
    transition = forms.ChoiceField(
        label=_("Change"),
        choices=[("suspend", _("Suspend")), ("resume", _("Resume")), ("transfer_out", _("Transfer out"))],
    )
    note = forms.CharField(label=_("Reason"), max_length=200)


class IntakeForm(forms.Form):
    intake_year = forms.IntegerField(label=_("Intake year"), min_value=1990, max_value=2100)
    major = forms.CharField(label=_("Major"), max_length=30)
    count = forms.IntegerField(label=_("Number of classes"), min_value=1, max_value=30)
    department = forms.ModelChoiceField(label=_("Major department"), queryset=Department.objects.none(), required=False)

    def __init__(self, *args, school=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(school=school, kind=Department.Kind.MAJOR)


class ModulesForm(forms.Form):
    enabled = forms.MultipleChoiceField(
        label=_("Modules in use"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=lambda: [(m.code, m.label) for m in registry.modules.values()],
    )
