from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from houqin.core.registry import registry

from .choices import IdentityDocumentType
from .models import Department, Holiday, Room, SchoolClass, Staff, Student, Term


def role_choices():
    return [(r.code, r.label) for r in sorted(registry.roles.values(), key=lambda r: r.order)]


class StaffForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=role_choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Staff
        fields = ["staff_no", "name", "gender", "mobile", "title", "departments", "is_outsourced", "company", "joined_on"]
        widgets = {"departments": forms.CheckboxSelectMultiple, "joined_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, school=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = Department.objects.filter(school=school)
        self.fields["mobile"].validators = []  # normalised and validated by the service
        if self.instance.pk:
            self.fields["roles"].initial = list(self.instance.user.groups.values_list("name", flat=True))

    def clean(self):
        data = super().clean()
        if data.get("is_outsourced") and not data.get("company"):
            self.add_error("company", _("Enter the company of outsourced staff."))
        return data

    def _post_clean(self):
        # Model validation (uniqueness, school) happens in the service with the school set.
        pass


class StudentForm(forms.ModelForm):
    class Meta:
        model = Student
        fields = [
            "student_no", "name", "gender", "school_class", "id_type", "id_number", "id_checksum_override",
            "is_boarder", "dorm_room", "guardian_name", "guardian_phone",
        ]

    def __init__(self, *args, school=None, classes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = classes if classes is not None else SchoolClass.objects.none()
        self.fields["dorm_room"].queryset = Room.objects.filter(school=school, kind=Room.Kind.DORM)
        self.fields["id_type"].choices = IdentityDocumentType.choices
        self.fields["guardian_phone"].validators = []

    def _post_clean(self):
        pass


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


class TermForm(forms.ModelForm):
    class Meta:
        model = Term
        fields = ["school_year", "season", "start_on", "mid_on", "end_on"]
        widgets = {f: forms.DateInput(attrs={"type": "date"}) for f in ("start_on", "mid_on", "end_on")}

    def clean(self):
        data = super().clean()
        s, m, e = data.get("start_on"), data.get("mid_on"), data.get("end_on")
        if s and m and e and not (s < m < e):
            self.add_error("mid_on", _("The dates must be in order: start, mid-term, end."))
        return data

    def _post_clean(self):
        pass


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["name", "kind", "start_on", "end_on"]
        widgets = {f: forms.DateInput(attrs={"type": "date"}) for f in ("start_on", "end_on")}

    def clean(self):
        data = super().clean()
        if data.get("start_on") and data.get("end_on") and data["start_on"] > data["end_on"]:
            self.add_error("end_on", _("The end date cannot be before the start date."))
        return data

    def _post_clean(self):
        pass


class ModulesForm(forms.Form):
    enabled = forms.MultipleChoiceField(
        label=_("Modules in use"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=lambda: [(m.code, m.label) for m in registry.modules.values()],
    )


def groups_for(codes):
    return Group.objects.filter(name__in=codes)
