"""The org records on the entity machinery (ORG-1..4): one declaration each."""

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import entities as e
from houqin.core.pinyin import search_keys

from . import selectors, services
from .forms import SchoolClassEntityForm, StaffEntityForm, StudentEntityForm, TermEntityForm
from .models import Building, Campus, Department, Holiday, Room, SchoolClass, Staff, Student, Term
from .validators import normalize_mobile
from .views import StaffDetailView, StudentDetailView


@e.register
class CampusEntity(e.Entity):
    """校区 (ORG-1): a school with several sites groups its buildings by campus."""

    model = Campus
    menu = e.Menu("org", gettext_lazy("Campuses"), order=0)
    path = "campuses"
    list_columns = ("name", "address")
    search_fields = ("name", "address")
    form_fields = ("name", "address")
    import_fields = ("name", "address")
    import_key = "name"
    detail_panels = (e.Fields("name", "address"), e.Related("building_set"))
    lookup_public = True
    title_field = "name"
    example_row = {"name": "本部", "address": "学府路1号"}


@e.register
class BuildingEntity(e.Entity):
    """楼宇 (ORG-1)."""

    model = Building
    menu = e.Menu("org", gettext_lazy("Buildings"), order=0)
    list_columns = ("code", "name", "campus", "floors", "responsible")
    search_fields = ("code", "name")
    filter_fields = ("campus",)
    form_fields = ("code", "name", "campus", "floors", "responsible", "keepers")
    import_fields = ("code", "name", "floors", "responsible")
    import_key = "code"
    natural_keys = {"responsible": "staff_no", "campus": "name", "keepers": "staff_no"}
    select_related = ("campus", "responsible")
    detail_panels = (e.Fields("code", "name", "campus", "floors", "responsible", "keepers"), e.Related("rooms"))
    global_search = True
    lookup_public = True
    example_row = {"code": "SX", "name": "实训楼", "floors": 5, "responsible": "T001"}


@e.register
class RoomEntity(e.Entity):
    """房间 (ORG-1): every place a custodian answers for."""

    model = Room
    menu = e.Menu("org", gettext_lazy("Rooms"), order=1)
    list_columns = ("code", "name", "building", "floor", "kind", "capacity", "custodian")
    search_fields = ("code", "name", "custodian__name")
    filter_fields = ("building", "kind", "custodian")
    form_fields = ("building", "code", "name", "floor", "kind", "capacity", "custodian")
    import_fields = ("code", "name", "building", "floor", "kind", "capacity", "custodian")
    import_key = "code"
    natural_keys = {"building": "code", "custodian": "staff_no"}
    select_related = ("building", "custodian")
    ordering = ("building__code", "code")
    lookup_public = True
    example_row = {"code": "SX-301", "name": "汽修实训室", "building": "SX", "floor": 3, "kind": "实训室",
                   "capacity": 40, "custodian": "T001"}


@e.register
class DepartmentEntity(e.Entity):
    """部门、专业部 (ORG-2); a department may grant roles to its members (保卫科 → security)."""

    model = Department
    menu = e.Menu("org", gettext_lazy("Departments"), order=2)
    list_columns = ("name", "kind", "head")
    search_fields = ("name",)
    filter_fields = ("kind",)
    form_fields = ("name", "kind", "head")
    import_fields = ("name", "kind", "head")
    import_key = "name"
    natural_keys = {"head": "staff_no"}
    select_related = ("head",)
    detail_panels = (e.Fields("name", "kind", "head"), e.Related("members", columns=("staff_no", "name", "title")),
                     e.Related("classes", columns=("name", "head_teacher", "status")))
    global_search = True
    lookup_public = True
    title_field = "name"


@e.register
class StaffEntity(e.Entity):
    """教职工 (ORG-2). Creating one creates the account; importing creates accounts in bulk."""

    model = Staff
    menu = e.Menu("org", gettext_lazy("Staff"), order=3)
    path = "staff"
    list_columns = ("staff_no", "name", "departments", "title", "mobile", "status")
    extra_columns = ("gender", "is_outsourced", "company", "joined_on", "left_on")
    search_fields = ("staff_no", "name", "mobile", "search_keys")
    filter_fields = ("status", "departments", "is_outsourced")
    form_fields = ("staff_no", "name", "gender", "mobile", "title", "departments", "is_outsourced", "company",
                   "joined_on")
    import_fields = ("staff_no", "name", "gender", "mobile", "title", "departments", "is_outsourced", "company",
                     "joined_on")
    import_key = "staff_no"
    natural_keys = {"departments": "name"}
    derived_fields = ("search_keys",)
    import_clean_exclude = ("user",)  # the account is created by import_write
    form_class = StaffEntityForm
    views = {"detail": StaffDetailView}
    detail_panels = (e.Fields("staff_no", "name", "gender", "departments", "title", "mobile", "is_outsourced",
                              "company", "joined_on", "left_on", "status"),)
    status_colors = {"active": "green", "left": "secondary"}
    lookup_public = True
    title_field = "name"
    example_row = {"staff_no": "T001", "name": "张三", "gender": "男", "mobile": "13800138000", "title": "总务主任",
                   "departments": "总务处", "is_outsourced": "否", "joined_on": "2020-09-01"}

    def base_queryset(self):
        return super().base_queryset().prefetch_related("departments")

    def create(self, *, data, actor, school):
        staff, password = services.staff_create(
            school=school, actor=actor, roles=data.get("roles") or [], departments=data.get("departments") or [],
            **{k: data[k] for k in ("staff_no", "name", "gender", "mobile", "title", "is_outsourced", "company",
                                    "joined_on") if k in data},
        )
        staff.initial_password = password
        return staff

    def update(self, *, obj, data, actor):
        plain = {k: v for k, v in data.items() if k not in ("roles", "departments")}
        return services.staff_update(staff=obj, data=plain, actor=actor, roles=data.get("roles"),
                                     departments=data.get("departments"))

    def import_prepare(self, obj, *, actor):
        try:
            obj.mobile = normalize_mobile(obj.mobile) if obj.mobile else ""
        except ValidationError as exc:
            raise ValidationError({"mobile": exc.messages}) from None
        obj.search_keys = search_keys(obj.name)

    def import_write(self, *, new, changed, actor, school, result):
        """Accounts are created one by one (each needs its own password); all in the import's transaction."""
        for obj in new:
            staff, password = services.staff_create(
                school=school, actor=actor, departments=obj._import_m2m.get("departments", []),
                staff_no=obj.staff_no, name=obj.name, gender=obj.gender, mobile=obj.mobile, title=obj.title,
                is_outsourced=obj.is_outsourced, company=obj.company, joined_on=obj.joined_on,
            )
            result.accounts.append((staff.user.username, staff.name, password))
        for obj, _before in changed:
            data = {k: getattr(obj, k) for k in self.import_fields if k != "departments"}
            fresh = Staff.objects.get(pk=obj.pk)
            services.staff_update(staff=fresh, data=data, actor=actor,
                                  departments=obj._import_m2m.get("departments"))

    def detail_actions(self, obj, user):
        actions = []
        if user.has_perm("org.manage_accounts") and obj.school_id == user.school_id:
            actions.append({"label": _("Reset password"), "url": reverse("org:staff_reset_password", args=[obj.pk]),
                            "method": "post", "confirm": _("Reset this person's password?")})
        if user.has_perm("org.change_staff") and obj.status == Staff.Status.ACTIVE and obj.school_id == user.school_id:
            actions.append({"label": _("Mark as left and disable account"), "url": reverse("org:staff_disable", args=[obj.pk]),
                            "method": "post", "style": "outline-danger",
                            "confirm": _("Mark as left and disable the account?")})
        return actions


@e.register
class SchoolClassEntity(e.Entity):
    """班级 (ORG-3), named by intake and major: 2023级汽修1班."""

    model = SchoolClass
    menu = e.Menu("org", gettext_lazy("Classes"), order=4)
    path = "classes"
    list_columns = ("name", "intake_year", "major", "department", "head_teacher", "room", "status")
    search_fields = ("name", "major")
    filter_fields = ("status", "department", "head_teacher")
    form_fields = ("intake_year", "major", "number", "department", "head_teacher", "room")
    import_fields = ("intake_year", "major", "number", "department", "head_teacher", "room")
    natural_keys = {"department": "name", "head_teacher": "staff_no", "room": "code"}
    select_related = ("department", "head_teacher", "room")
    detail_panels = (
        e.Fields("name", "intake_year", "major", "number", "department", "head_teacher", "room", "status",
                 "graduated_on"),
        e.Related("students", columns=("student_no", "name", "gender", "is_boarder", "status"), limit=80),
    )
    form_class = SchoolClassEntityForm
    status_colors = {"active": "green", "graduated": "secondary"}
    lookup_public = True
    title_field = "name"
    example_row = {"intake_year": 2026, "major": "汽修", "number": 1, "department": "汽修专业部",
                   "head_teacher": "T001", "room": "JX-101"}

    def new_object(self, *, school, data):
        obj = super().new_object(school=school, data=data)
        obj.name = SchoolClass.make_name(obj.intake_year, obj.major, obj.number) if obj.intake_year else ""
        return obj

    def update(self, *, obj, data, actor):
        data = dict(data)
        year = data.get("intake_year", obj.intake_year)
        data["name"] = SchoolClass.make_name(year, data.get("major", obj.major), data.get("number", obj.number))
        return super().update(obj=obj, data=data, actor=actor)

    def import_prepare(self, obj, *, actor):
        obj.name = SchoolClass.make_name(obj.intake_year, obj.major, obj.number)

    derived_fields = ("name",)

    def lookup_label(self, obj):
        return obj.name

    def detail_actions(self, obj, user):
        if user.has_perm("org.turnover_schoolyear") and obj.status == SchoolClass.Status.ACTIVE:
            return [{"label": _("Graduate and archive"), "url": reverse("org:class_graduate", args=[obj.pk]),
                     "method": "post", "style": "outline-danger",
                     "confirm": _("Graduate every student of this class and archive it?")}]
        return []


@e.register
class StudentEntity(e.Entity):
    """学生 (ORG-3). Identity numbers are masked everywhere (pages, exports, print, API) except for
    会计 and a 班主任's own class (issue 2 §6); the value comes from one place, ``value_id_number``."""

    model = Student
    menu = e.Menu("org", gettext_lazy("Students"), order=5)
    list_columns = ("student_no", "name", "school_class", "gender", "is_boarder", "status")
    extra_columns = ("id_type", "id_number", "birth_date", "dorm_room", "guardian_name", "guardian_phone")
    search_fields = ("student_no", "name", "search_keys")
    search_index = "org_student_fts"  # migration org.0004
    filter_fields = ("school_class", "status", "is_boarder", "gender")
    form_fields = ("student_no", "name", "gender", "school_class", "id_type", "id_number", "id_checksum_override",
                   "is_boarder", "dorm_room", "guardian_name", "guardian_phone")
    import_fields = ("student_no", "name", "gender", "school_class", "id_type", "id_number", "is_boarder",
                     "dorm_room", "guardian_name", "guardian_phone")
    import_key = "student_no"
    natural_keys = {"school_class": "name", "dorm_room": "code"}
    derived_fields = ("search_keys", "birth_date", "id_legacy_number", "gender")
    select_related = ("school_class", "dorm_room")
    form_class = StudentEntityForm
    views = {"detail": StudentDetailView}
    status_colors = {"enrolled": "green", "suspended": "yellow", "transferred": "secondary", "graduated": "azure"}
    detail_panels = (
        e.Fields("student_no", "name", "gender", "school_class", "status"),
        e.Fields("id_type", "id_number", "birth_date", title=gettext_lazy("Identity")),
        e.Fields("is_boarder", "dorm_room", "guardian_name", "guardian_phone", title=gettext_lazy("Boarding and family")),
    )
    title_field = "name"
    example_row = {"student_no": "2026010101", "name": "李四", "gender": "男", "school_class": "2026级汽修1班",
                   "id_type": "居民身份证", "id_number": "", "is_boarder": "是", "dorm_room": "",
                   "guardian_name": "李建国", "guardian_phone": "13900139000"}

    list_reads = {"id_number": ("id_number", "school_class")}  # what value_id_number reads (selectors.can_see_identity)

    def value_id_number(self, obj, user):
        if user is None:
            return ""
        return selectors.identity_display(user, obj)

    def create(self, *, data, actor, school):
        return services.student_create(school=school, actor=actor, **data)

    def update(self, *, obj, data, actor):
        return services.student_update(student=obj, data=data, actor=actor)

    def import_prepare(self, obj, *, actor):
        services.student_prepare(obj, actor=actor)


@e.register
class TermEntity(e.Entity):
    """学期 (ORG-3): start, mid-term and end dates drive term-aware schedules."""

    model = Term
    menu = e.Menu("org", gettext_lazy("Terms"), order=6)
    list_columns = ("school_year", "season", "start_on", "mid_on", "end_on")
    form_fields = ("school_year", "season", "start_on", "mid_on", "end_on")
    filter_fields = ("season",)
    form_class = TermEntityForm
    can_import = False
    title_field = "season"

    def create(self, *, data, actor, school):
        return services.term_create(school=school, actor=actor, **data)


@e.register
class HolidayEntity(e.Entity):
    """节假日与调休 (ORG-3): school days skip holidays; a make-up workday counts as one."""

    model = Holiday
    menu = e.Menu("org", gettext_lazy("Holidays"), order=7)
    list_columns = ("name", "kind", "start_on", "end_on")
    form_fields = ("name", "kind", "start_on", "end_on")
    import_fields = ("name", "kind", "start_on", "end_on")
    filter_fields = ("kind", "start_on")
    search_fields = ("name",)
    deletion = e.DELETE
    title_field = "name"
    example_row = {"name": "国庆节", "kind": "节假日", "start_on": "2026-10-01", "end_on": "2026-10-07"}


