"""Org pages that are not generic: accounts, the school-year turnover, student status and identity.

Lists, details, forms, import, export, print and history come from ``org/entities.py``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from houqin.core.audit import audit_record
from houqin.core.models import AuditEntry
from houqin.core.permissions import require_perm, scope
from houqin.core.registry import registry
from houqin.core.views_entity import EntityDetailView, add_service_errors

from . import selectors, services
from .forms import IntakeForm, ModulesForm, StatusChangeForm
from .models import SchoolClass, Staff, Student


class StaffDetailView(EntityDetailView):
    template_name = "org/staff_detail.html"

    def get_context(self, obj):
        context = super().get_context(obj)
        context["roles"] = [registry.roles[c].label for c in obj.user.groups.values_list("name", flat=True)
                            if c in registry.roles]
        context["head_classes"] = obj.head_classes.filter(status="active")
        context["custody_rooms"] = obj.custody_rooms.all()
        context["blockers"] = services.staff_leave_blockers(obj) if obj.status == Staff.Status.ACTIVE else []
        return context


class StudentDetailView(EntityDetailView):
    """The student card: identity masked unless allowed; 后勤主任/校长 may show it, which is logged."""

    template_name = "org/student_detail.html"

    def get_context(self, obj, revealed=None):
        context = super().get_context(obj)
        user = self.request.user
        context["revealed"] = revealed
        context["can_reveal"] = (bool(obj.id_number) and not selectors.can_see_identity(user, obj)
                                 and user.has_perm("org.reveal_identity") and not revealed)
        context["status_form"] = StatusChangeForm() if context["can_change"] else None
        return context

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        if not request.POST.get("reveal"):
            return redirect("org:student", pk=obj.pk)
        require_perm(request.user, "org.reveal_identity")
        audit_record(obj=obj, action=AuditEntry.Action.REVEAL, actor=request.user, message="identity number shown")
        return render(request, self.template_name, self.get_context(obj, revealed=obj.id_number))


@require_POST
@login_required
def staff_disable(request, pk):
    require_perm(request.user, "org.change_staff")
    staff = get_object_or_404(scope(Staff.objects.all(), request.user, "change"), pk=pk)
    try:
        services.staff_disable(staff=staff, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s has left; the account is disabled.") % {"name": staff.name})
    return redirect("org:staff", pk=staff.pk)


@require_POST
@login_required
def staff_reset_password(request, pk):
    require_perm(request.user, "org.manage_accounts")
    staff = get_object_or_404(Staff.objects.filter(school=request.user.school), pk=pk)
    password = services.account_reset_password(user=staff.user, actor=request.user)
    messages.success(request, _("Temporary password for %(name)s: %(password)s (must be changed at next login)")
                     % {"name": staff.name, "password": password})
    return redirect("org:staff", pk=staff.pk)


@login_required
def class_intake(request):
    require_perm(request.user, "org.turnover_schoolyear")
    form = IntakeForm(request.POST or None, school=request.user.school)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            created = services.classes_open_intake(
                school=request.user.school, intake_year=d["intake_year"], actor=request.user,
                plan=[{"major": d["major"], "count": d["count"], "department": d["department"]}],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Opened: %(names)s") % {"names": "、".join(c.name for c in created)})
            return redirect("org:schoolclass_list")
    return render(request, "org/form.html", {"form": form, "title": _("Open the new intake's classes")})


@require_POST
@login_required
def class_graduate(request, pk):
    require_perm(request.user, "org.turnover_schoolyear")
    cls = get_object_or_404(SchoolClass.objects.filter(school=request.user.school), pk=pk)
    try:
        n = services.class_graduate(school_class=cls, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s archived; %(n)d students graduated.") % {"name": cls.name, "n": n})
    return redirect("org:schoolclass", pk=cls.pk)


@require_POST
@login_required
def student_status(request, pk):
    require_perm(request.user, "org.change_student")
    student = get_object_or_404(scope(Student.objects.all(), request.user, "change"), pk=pk)
    form = StatusChangeForm(request.POST)
    if form.is_valid():
        try:
            services.student_change_status(student=student, transition=form.cleaned_data["transition"],
                                           actor=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Choose a change and give the reason."))
    return redirect("org:student", pk=student.pk)


@login_required
def school_settings(request):
    require_perm(request.user, "org.change_school")
    school = request.user.school
    form = ModulesForm(request.POST or None, initial={
        "enabled": [c for c in registry.modules if school.module_enabled(c)]})
    if request.method == "POST" and form.is_valid():
        disabled = [c for c in registry.modules if c not in form.cleaned_data["enabled"]]
        services.school_set_modules(school=school, disabled=disabled, actor=request.user)
        messages.success(request, _("Saved."))
        return redirect("org:school_settings")
    return render(request, "org/form.html", {"form": form, "title": _("Modules in use")})
