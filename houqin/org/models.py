"""School, places and people (ORG-1..3): the foundation every other app stands on."""

import datetime

from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from houqin.core.models import BaseModel, SchoolScopedModel

from .choices import IdentityDocumentType
from .validators import validate_mobile, validate_person_name


class School(BaseModel):
    """学校: one row per school. In district mode a deployment holds hundreds (X-11)."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("school code"), max_length=20, unique=True)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    disabled_modules = models.JSONField(_("modules switched off"), default=list, blank=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)

    def module_enabled(self, code: str) -> bool:
        return code not in (self.disabled_modules or [])


class UserManager(DjangoUserManager):
    pass


class User(AbstractUser):
    """An account. Staff have a Staff record; 系统管理员 and 教育局 users do not (architecture §3)."""

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("school")
    )
    display_name = models.CharField(_("name"), max_length=50, blank=True)
    mobile = models.CharField(
        _("mobile number"), max_length=11, blank=True, validators=[validate_mobile], db_index=True
    )
    must_change_password = models.BooleanField(_("must change password at next login"), default=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        permissions = [("manage_accounts", "Can create accounts, reset passwords and unlock logins")]

    def __str__(self) -> str:
        return self.display_name or self.username

    str_fields = ("display_name", "username")  # what __str__ reads (lists load only these)

    def has_perm(self, perm, obj=None) -> bool:
        """``AbstractUser.has_perm`` against the permission set read once for this object (one request),
        from the per-process cache of ``core.authcache`` while the rights have not changed.

        Django asks every authentication backend in turn and each builds its set again; a list page
        asks about sixty times (the menu, the buttons, the scoping). The backends' answer is the union
        of their ``get_all_permissions`` (none of them has its own ``has_perm`` rule or raises
        ``PermissionDenied``)."""
        if obj is not None:
            return super().has_perm(perm, obj)
        if self.is_active and self.is_superuser:
            return True
        if not self.is_active:
            return False
        return perm in self._rights()[0]

    @property
    def role_codes(self) -> frozenset[str]:
        return self._rights()[1]

    def _rights(self) -> tuple[frozenset, frozenset]:
        """(permission names, role codes), once per object. A tablet session's reduced permission set is
        put on the object by its backend (``_perm_cache``) and is used as it is."""
        rights = self.__dict__.get("_houqin_rights")
        if rights is None:
            if self.pk is None or not self.is_active or "_perm_cache" in self.__dict__:
                rights = self._rights_from_db()
            else:
                from houqin.core import authcache

                rights = authcache.rights(self, self._rights_from_db)
            self.__dict__["_houqin_rights"] = rights
        return rights

    def _rights_from_db(self) -> tuple[frozenset, frozenset]:
        perms = frozenset(self.get_all_permissions()) if self.is_active else frozenset()
        if self.pk is None:
            return perms, frozenset()
        codes = set(self.groups.values_list("name", flat=True))
        codes.update(
            Group.objects.filter(
                granting_departments__members__user=self, granting_departments__members__status="active"
            ).values_list("name", flat=True)
        )
        return perms, frozenset(codes)

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))

    @property
    def staff_or_none(self):
        try:
            return self.staff
        except Staff.DoesNotExist:
            return None


class Campus(SchoolScopedModel):
    """校区."""

    name = models.CharField(_("name"), max_length=50)
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("campus")
        verbose_name_plural = _("campuses")
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="org_campus_unique_name")]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)


class Building(SchoolScopedModel):
    """楼宇: every place has a responsible person (ORG-1, 篇3-三-一-6 "室室有人管")."""

    campus = models.ForeignKey(Campus, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("campus"))
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=50)
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    responsible = models.ForeignKey(
        "Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("responsible person"),
    )
    keepers = models.ManyToManyField(
        "Staff", blank=True, related_name="kept_buildings", verbose_name=_("dorm keepers")
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ("code",)
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="org_building_unique_code"),
            models.CheckConstraint(condition=Q(floors__gte=1) & Q(floors__lte=60), name="org_building_floors_range"),
        ]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)


class Room(SchoolScopedModel):
    """房间/场所 with its custodian (AST-2: every room has a custodian)."""

    class Kind(models.TextChoices):
        CLASSROOM = "classroom", _("Classroom")
        FUNCTION = "function", _("Function room")
        TRAINING = "training", _("Training room")
        OFFICE = "office", _("Office")
        DORM = "dorm", _("Dormitory")
        CANTEEN = "canteen", _("Canteen")
        TOILET = "toilet", _("Toilet")
        PLAYGROUND = "playground", _("Playground")
        STORE = "store", _("Storeroom")
        GATEHOUSE = "gatehouse", _("Gatehouse")
        OTHER = "other", _("Other")

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, related_name="rooms", verbose_name=_("building")
    )
    code = models.CharField(_("room code"), max_length=30)
    name = models.CharField(_("name"), max_length=50)
    floor = models.SmallIntegerField(_("floor"), default=1)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.CLASSROOM)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    custodian = models.ForeignKey(
        "Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="custody_rooms",
        verbose_name=_("custodian"),
    )

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ("code",)
        constraints = [models.UniqueConstraint(fields=["school", "code"], name="org_room_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    str_fields = ("code", "name")  # what __str__ reads (lists load only these)


class Department(SchoolScopedModel):
    """部门: 行政 offices (总务处, 保卫科, 学生处), 专业部, 年级组, 教研组 (ORG-2).

    ``roles`` grants rights to everyone in the department: 保卫科 owns security, 学生处 the dorms.
    """

    class Kind(models.TextChoices):
        ADMIN = "admin", _("Administrative office")
        MAJOR = "major", _("Major department")
        GRADE = "grade", _("Grade group")
        TEACHING = "teaching", _("Teaching and research group")
        OUTSOURCED = "outsourced", _("Outsourced company")

    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    head = models.ForeignKey(
        "Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="headed_departments",
        verbose_name=_("head"),
    )
    roles = models.ManyToManyField(
        Group, blank=True, related_name="granting_departments", verbose_name=_("rights granted to members")
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ("kind", "name")
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="org_department_unique_name")]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)


class Staff(SchoolScopedModel):
    """教职工 (ORG-2). One-to-one with an account; outsourced staff are flagged with their company."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LEFT = "left", _("Left")

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="staff", verbose_name=_("account"))
    staff_no = models.CharField(_("staff number"), max_length=20)
    name = models.CharField(_("full name"), max_length=50, validators=[validate_person_name])
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    mobile = models.CharField(_("mobile number"), max_length=11, blank=True, validators=[validate_mobile])
    departments = models.ManyToManyField(Department, blank=True, related_name="members", verbose_name=_("departments"))
    title = models.CharField(_("post"), max_length=50, blank=True)
    is_outsourced = models.BooleanField(_("outsourced"), default=False)
    company = models.CharField(_("company"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    search_keys = models.CharField(_("pinyin"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ("staff_no",)
        constraints = [
            models.UniqueConstraint(fields=["school", "staff_no"], name="org_staff_unique_no"),
            models.CheckConstraint(
                condition=Q(is_outsourced=False) | ~Q(company=""), name="org_staff_outsourced_has_company"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)


class SchoolClass(SchoolScopedModel):
    """班级, named by intake year and major, e.g. 2023级汽修1班 (ORG-3)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        GRADUATED = "graduated", _("Graduated (archived)")

    name = models.CharField(_("name"), max_length=50)
    intake_year = models.PositiveSmallIntegerField(_("intake year"))
    major = models.CharField(_("major"), max_length=30)
    number = models.PositiveSmallIntegerField(_("class number"), default=1)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="classes",
        verbose_name=_("major department"),
    )
    head_teacher = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="head_classes",
        verbose_name=_("class teacher"),
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("classroom"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    graduated_on = models.DateField(_("graduated on"), null=True, blank=True)

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ("-intake_year", "major", "number")
        permissions = [("turnover_schoolyear", "Can run the school-year turnover")]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="org_class_unique_name"),
            models.CheckConstraint(
                condition=Q(intake_year__gte=1990) & Q(intake_year__lte=2100), name="org_class_intake_year_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)

    @staticmethod
    def make_name(intake_year: int, major: str, number: int) -> str:
        return f"{intake_year}级{major}{number}班"


class Student(SchoolScopedModel):
    """学生 (ORG-3). The identity number is optional: fees need it, nothing else does."""

    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
        SUSPENDED = "suspended", _("Suspended")
        TRANSFERRED = "transferred", _("Transferred out")
        GRADUATED = "graduated", _("Graduated")

    student_no = models.CharField(_("student number"), max_length=30)
    name = models.CharField(_("full name"), max_length=50, validators=[validate_person_name])
    gender = models.CharField(_("gender"), max_length=1, choices=Staff.Gender.choices, blank=True)
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.PROTECT, related_name="students", verbose_name=_("class")
    )
    id_type = models.CharField(
        _("identity document"), max_length=30, choices=IdentityDocumentType.choices,
        default=IdentityDocumentType.RESIDENT_ID,
    )
    id_number = models.CharField(_("identity number"), max_length=30, blank=True)
    id_legacy_number = models.CharField(_("15-digit identity number"), max_length=15, blank=True)
    id_checksum_override = models.CharField(
        _("check digit override reason"), max_length=200, blank=True,
        help_text=_("Filled when an authorised user accepted a number whose GB 11643 check digit fails."),
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    is_boarder = models.BooleanField(_("boarder"), default=False)
    dorm_room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("dorm room"),
        limit_choices_to={"kind": Room.Kind.DORM},
    )
    guardian_name = models.CharField(_("guardian"), max_length=50, blank=True)
    guardian_phone = models.CharField(_("guardian phone"), max_length=11, blank=True, validators=[validate_mobile])
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ENROLLED)
    search_keys = models.CharField(_("pinyin"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ("student_no",)
        constraints = [
            models.UniqueConstraint(fields=["school", "student_no"], name="org_student_unique_no"),
            models.UniqueConstraint(
                fields=["school", "id_type", "id_number"], condition=~Q(id_number=""),
                name="org_student_unique_identity",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "school_class", "status"]),
            # The usual list filters (在读 + 住校生) count without reading every row, and their first
            # page comes in student number order straight from the index (bench/ at 100k).
            models.Index(fields=["school", "status", "is_boarder", "student_no"], name="org_student_status_boarder_no"),
        ]
        permissions = [
            ("override_identity_check", "Can accept an identity number whose check digit fails"),
            ("reveal_identity", "Can reveal a masked identity number (logged)"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.student_no}）"

    str_fields = ("name", "student_no")  # what __str__ reads (lists load only these)


class Term(SchoolScopedModel):
    """学期: 秋季/春季 with start, mid-term and end dates (ORG-3)."""

    class Season(models.TextChoices):
        AUTUMN = "autumn", _("Autumn term")
        SPRING = "spring", _("Spring term")

    school_year = models.PositiveSmallIntegerField(_("school year starting"))
    season = models.CharField(_("term"), max_length=6, choices=Season.choices)
    start_on = models.DateField(_("starts on"))
    mid_on = models.DateField(_("mid-term on"))
    end_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        ordering = ("-start_on",)
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year", "season"], name="org_term_unique"),
            models.CheckConstraint(
                condition=Q(start_on__lt=F("mid_on")) & Q(mid_on__lt=F("end_on")), name="org_term_dates_in_order"
            ),
        ]

    def clean(self) -> None:
        if self.start_on and self.mid_on and self.end_on and not (self.start_on < self.mid_on < self.end_on):
            raise ValidationError({"mid_on": _("The dates must be in order: start, mid-term, end.")})

    def __str__(self) -> str:
        # The school year runs from September to August (domain-rules §6.6).
        return f"{self.school_year}-{self.school_year + 1}{self.get_season_display()}"

    def teaching_week(self, day: datetime.date) -> int | None:
        """Week number of ``day`` counted from the Monday of the term's first week, or None."""
        if not (self.start_on <= day <= self.end_on):
            return None
        first_monday = self.start_on - datetime.timedelta(days=self.start_on.weekday())
        return (day - first_monday).days // 7 + 1

    @property
    def weeks(self) -> int:
        return self.teaching_week(self.end_on) or 0


class Holiday(SchoolScopedModel):
    """节假日 and 调休 make-up workdays: they decide which days are school days (X-5)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up workday")

    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.HOLIDAY)
    start_on = models.DateField(_("starts on"))
    end_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays and make-up workdays")
        ordering = ("start_on",)
        constraints = [
            models.CheckConstraint(condition=Q(start_on__lte=F("end_on")), name="org_holiday_dates_in_order"),
        ]

    def clean(self) -> None:
        if self.start_on and self.end_on and self.start_on > self.end_on:
            raise ValidationError({"end_on": _("The end date cannot be before the start date.")})

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)
