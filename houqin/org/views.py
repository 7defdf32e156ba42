"""Org pages (ORG-1..3). Thin for now: Platform II moves them onto the entity machinery."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from houqin.core.audit import audit_record, history_for
from houqin.core.models import AuditEntry
from houqin.core.permissions import scope
from houqin.core.registry import registry

from . import selectors, services
from .forms import HolidayForm, IntakeForm, ModulesForm, StaffForm, StatusChangeForm, StudentForm, TermForm
from .models import Building, Department, Holiday, Room, SchoolClass, Staff, Student, Term

PAGE_SIZE = 50


def add_service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _need(user, perm):
    if not user.has_perm(perm):
        raise PermissionDenied


def _list(request, *, qs, template, title, search=(), filters=None, extra=None):
    """A paginated, searchable list; the queryset is already scoped."""
    q = request.GET.get("q", "").strip()[:50]
    if q and search:
        cond = Q()
        for f in search:
            # Pinyin keys are stored lower-case without spaces: "Zhang San" finds 张三.
            cond |= Q(**{f: q.lower().replace(" ", "") if f.startswith("search_keys") else q})
        qs = qs.filter(cond)
    for name, lookup in (filters or {}).items():
        value = request.GET.get(name)
        if value:
            qs = qs.filter(**{lookup: value})
    if not qs.ordered:
        qs = qs.order_by(*(qs.model._meta.ordering or ["pk"]))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "q": q, "title": title, **(extra or {})}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "list-table":
        return render(request, template.replace(".html", "_table.html"), context)
    return render(request, template, context)


def _get(request, model, pk, action="view"):
    _need(request.user, f"org.{action}_{model._meta.model_name}")
    return get_object_or_404(scope(model.objects.all(), request.user, action), pk=pk)


# Places ---------------------------------------------------------------------------------------


@login_required
def building_list(request):
    _need(request.user, "org.view_building")
    qs = scope(Building.objects.all(), request.user).select_related("responsible").annotate(room_count=Count("rooms"))
    return _list(request, qs=qs, template="org/building_list.html", title=_("Buildings"),
                 search=("name__icontains", "code__icontains"))


@login_required
def building_detail(request, pk):
    building = _get(request, Building, pk)
    rooms = scope(Room.objects.all(), request.user).filter(building=building).select_related("custodian")
    return render(request, "org/building_detail.html", {"obj": building, "rooms": rooms,
                                                        "history": history_for(building)[:20]})


@login_required
def room_list(request):
    _need(request.user, "org.view_room")
    qs = scope(Room.objects.all(), request.user).select_related("building", "custodian")
    return _list(request, qs=qs, template="org/room_list.html", title=_("Rooms"),
                 search=("code__icontains", "name__icontains", "custodian__name__icontains"),
                 filters={"kind": "kind", "building": "building_id"},
                 extra={"kinds": Room.Kind.choices,
                        "buildings": scope(Building.objects.all(), request.user)})


@login_required
def room_detail(request, pk):
    room = _get(request, Room, pk)
    return render(request, "org/room_detail.html", {"obj": room, "history": history_for(room)[:20]})


@login_required
def department_list(request):
    _need(request.user, "org.view_department")
    qs = scope(Department.objects.all(), request.user).select_related("head").annotate(member_count=Count("members"))
    return _list(request, qs=qs, template="org/department_list.html", title=_("Departments"),
                 search=("name__icontains",), filters={"kind": "kind"},
                 extra={"kinds": Department.Kind.choices})


@login_required
def department_detail(request, pk):
    dept = _get(request, Department, pk)
    members = dept.members.filter(status=Staff.Status.ACTIVE) if request.user.has_perm("org.view_staff") else []
    return render(request, "org/department_detail.html", {"obj": dept, "members": members})


# People ---------------------------------------------------------------------------------------


@login_required
def staff_list(request):
    _need(request.user, "org.view_staff")
    qs = selectors.staff_visible(request.user).select_related("user")
    search = ("name__icontains", "staff_no__iexact", "mobile__contains", "search_keys__contains")
    return _list(request, qs=qs, template="org/staff_list.html", title=_("Staff"), search=search,
                 filters={"status": "status", "department": "departments__id"},
                 extra={"statuses": Staff.Status.choices})


@login_required
def staff_detail(request, pk):
    staff = _get(request, Staff, pk)
    roles = [registry.roles[c].label for c in staff.user.groups.values_list("name", flat=True) if c in registry.roles]
    return render(request, "org/staff_detail.html", {
        "obj": staff, "roles": roles, "history": history_for(staff)[:20],
        "head_classes": staff.head_classes.filter(status="active"),
        "custody_rooms": staff.custody_rooms.all(),
        "blockers": services.staff_leave_blockers(staff) if staff.status == Staff.Status.ACTIVE else [],
    })


@login_required
def staff_add(request):
    _need(request.user, "org.add_staff")
    school = request.user.school
    form = StaffForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            staff, password = services.staff_create(
                school=school, actor=request.user, roles=data["roles"], departments=data["departments"],
                staff_no=data["staff_no"], name=data["name"], gender=data["gender"], mobile=data["mobile"],
                title=data["title"], is_outsourced=data["is_outsourced"], company=data["company"],
                joined_on=data["joined_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Account created. Initial password: %(password)s (must be changed at first login)")
                             % {"password": password})
            return redirect("org:staff_detail", pk=staff.pk)
    return render(request, "org/form.html", {"form": form, "title": _("Add staff member")})


@login_required
def staff_edit(request, pk):
    staff = _get(request, Staff, pk, "change")
    form = StaffForm(request.POST or None, instance=staff, school=request.user.school)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("staff_no", "name", "gender", "mobile", "title",
                                                   "is_outsourced", "company", "joined_on")}
        try:
            services.staff_update(staff=staff, data=data, actor=request.user, roles=form.cleaned_data["roles"],
                                  departments=form.cleaned_data["departments"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("org:staff_detail", pk=staff.pk)
    return render(request, "org/form.html", {"form": form, "title": _("Edit %(name)s") % {"name": staff.name}})


@require_POST
@login_required
def staff_disable(request, pk):
    staff = _get(request, Staff, pk, "change")
    try:
        services.staff_disable(staff=staff, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s has left; the account is disabled.") % {"name": staff.name})
    return redirect("org:staff_detail", pk=staff.pk)


@require_POST
@login_required
def staff_reset_password(request, pk):
    _need(request.user, "org.manage_accounts")
    staff = get_object_or_404(Staff.objects.filter(school=request.user.school), pk=pk)
    password = services.account_reset_password(user=staff.user, actor=request.user)
    messages.success(request, _("Temporary password for %(name)s: %(password)s (must be changed at next login)")
                     % {"name": staff.name, "password": password})
    return redirect("org:staff_detail", pk=staff.pk)


@login_required
def class_list(request):
    _need(request.user, "org.view_schoolclass")
    qs = scope(SchoolClass.objects.all(), request.user).select_related("head_teacher", "department", "room")
    qs = qs.annotate(student_count=Count("students", filter=Q(students__status="enrolled")))
    status = request.GET.get("status", "active")
    if status:
        qs = qs.filter(status=status)
    return _list(request, qs=qs, template="org/class_list.html", title=_("Classes"),
                 search=("name__icontains", "major__icontains"), filters={"intake_year": "intake_year"},
                 extra={"status": status, "statuses": SchoolClass.Status.choices})


@login_required
def class_detail(request, pk):
    cls = _get(request, SchoolClass, pk)
    students = selectors.students_visible(request.user).filter(school_class=cls)
    return render(request, "org/class_detail.html", {
        "obj": cls, "students": students if request.user.has_perm("org.view_student") else None,
        "history": history_for(cls)[:20],
    })


@login_required
def class_intake(request):
    _need(request.user, "org.turnover_schoolyear")
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
            return redirect("org:class_list")
    return render(request, "org/form.html", {"form": form, "title": _("Open the new intake's classes")})


@require_POST
@login_required
def class_graduate(request, pk):
    _need(request.user, "org.turnover_schoolyear")
    cls = get_object_or_404(SchoolClass.objects.filter(school=request.user.school), pk=pk)
    try:
        n = services.class_graduate(school_class=cls, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s archived; %(n)d students graduated.") % {"name": cls.name, "n": n})
    return redirect("org:class_detail", pk=cls.pk)


@login_required
def student_list(request):
    _need(request.user, "org.view_student")
    qs = selectors.students_visible(request.user)
    status = request.GET.get("status", "enrolled")
    if status:
        qs = qs.filter(status=status)
    search = ("name__icontains", "student_no__iexact", "search_keys__contains")
    classes = scope(SchoolClass.objects.filter(status="active"), request.user)
    return _list(request, qs=qs, template="org/student_list.html", title=_("Students"), search=search,
                 filters={"school_class": "school_class_id", "is_boarder": "is_boarder"},
                 extra={"status": status, "statuses": Student.Status.choices, "classes": classes})


@login_required
def student_detail(request, pk):
    student = _get(request, Student, pk)
    revealed = None
    if request.method == "POST" and request.POST.get("reveal"):
        _need(request.user, "org.reveal_identity")
        audit_record(obj=student, action=AuditEntry.Action.REVEAL, actor=request.user, message="identity number shown")
        revealed = student.id_number
    can_change = scope(Student.objects.filter(pk=student.pk), request.user, "change").exists()
    return render(request, "org/student_detail.html", {
        "obj": student,
        "identity": revealed or selectors.identity_display(request.user, student),
        "can_reveal": bool(student.id_number) and not selectors.can_see_identity(request.user, student)
        and request.user.has_perm("org.reveal_identity") and not revealed,
        "can_change": can_change,
        "status_form": StatusChangeForm() if can_change else None,
        "history": history_for(student)[:20],
    })


def _student_form(request, instance=None):
    classes = scope(SchoolClass.objects.filter(status="active"), request.user, "view")
    return StudentForm(request.POST or None, instance=instance, school=request.user.school, classes=classes)


@login_required
def student_add(request):
    _need(request.user, "org.add_student")
    form = _student_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            student = services.student_create(school=request.user.school, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("org:student_detail", pk=student.pk)
    return render(request, "org/form.html", {"form": form, "title": _("Add student")})


@login_required
def student_edit(request, pk):
    student = _get(request, Student, pk, "change")
    form = _student_form(request, instance=student)
    if request.method == "POST" and form.is_valid():
        try:
            services.student_update(student=student, data=form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("org:student_detail", pk=student.pk)
    return render(request, "org/form.html", {"form": form, "title": _("Edit %(name)s") % {"name": student.name}})


@require_POST
@login_required
def student_status(request, pk):
    student = _get(request, Student, pk, "change")
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
    return redirect("org:student_detail", pk=student.pk)


# Calendar -------------------------------------------------------------------------------------


@login_required
def term_list(request):
    _need(request.user, "org.view_term")
    terms = scope(Term.objects.all(), request.user)
    holidays = scope(Holiday.objects.all(), request.user)
    current = selectors.current_term(request.user.school) if request.user.school else None
    return render(request, "org/term_list.html", {"terms": terms, "holidays": holidays, "current": current})


@login_required
def term_add(request):
    _need(request.user, "org.add_term")
    form = TermForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.term_create(school=request.user.school, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("org:term_list")
    return render(request, "org/form.html", {"form": form, "title": _("Add term")})


@login_required
def holiday_add(request):
    _need(request.user, "org.add_holiday")
    form = HolidayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        from houqin.core.crud import object_create

        try:
            object_create(obj=Holiday(school=request.user.school, **form.cleaned_data), actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("org:term_list")
    return render(request, "org/form.html", {"form": form, "title": _("Add holiday or make-up workday")})


@login_required
def school_settings(request):
    _need(request.user, "org.change_school")
    school = request.user.school
    form = ModulesForm(request.POST or None, initial={
        "enabled": [c for c in registry.modules if school.module_enabled(c)]})
    if request.method == "POST" and form.is_valid():
        disabled = [c for c in registry.modules if c not in form.cleaned_data["enabled"]]
        services.school_set_modules(school=school, disabled=disabled, actor=request.user)
        messages.success(request, _("Saved."))
        return redirect("org:school_settings")
    return render(request, "org/form.html", {"form": form, "title": _("Modules in use")})
