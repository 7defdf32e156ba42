"""Write paths for the org records (ORG-1..3): accounts, people and the school-year turnover."""

import datetime
import secrets

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core.audit import audit_record, serialize_for_audit
from houqin.core.crud import object_create, object_update
from houqin.core.models import AuditEntry, LoginEvent
from houqin.core.pinyin import search_keys
from houqin.core.registry import registry

from .choices import IdentityDocumentType
from .models import Department, School, SchoolClass, Staff, Student, Term, User
from .validators import normalize_mobile, parse_identity_number


def generate_password(length: int = 10) -> str:
    """A temporary password that satisfies the policy (letters and digits), without look-alikes."""
    letters = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    digits = "23456789"
    chars = [secrets.choice(letters), secrets.choice(digits)]
    chars += [secrets.choice(letters + digits) for _ in range(length - 2)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


# Schools -----------------------------------------------------------------------------------


@transaction.atomic
def school_setup(*, name: str, code: str, admin_username: str, admin_password: str, actor=None) -> tuple[School, User]:
    """Create a school and its first system administrator (``manage.py setup_school``)."""
    if School.objects.filter(code=code).exists():
        raise ValidationError({"code": _("A school with this code already exists.")})
    school = object_create(obj=School(name=name, code=code), actor=actor)
    user = User(username=admin_username, school=school, display_name=_("System administrator"))
    user.set_password(admin_password)
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get(name="sysadmin"))
    audit_record(obj=user, action=AuditEntry.Action.CREATE, actor=actor, after=serialize_for_audit(user))
    return school, user


@transaction.atomic
def school_set_modules(*, school: School, disabled: list[str], actor) -> School:
    unknown = sorted(set(disabled) - set(registry.modules))
    if unknown:
        raise ValidationError({"disabled_modules": _("Unknown module: %(codes)s") % {"codes": ", ".join(unknown)}})
    object_update(obj=school, data={"disabled_modules": sorted(disabled)}, actor=actor)
    return school


# Staff and accounts -------------------------------------------------------------------------


@transaction.atomic
def staff_create(
    *,
    school: School,
    staff_no: str,
    name: str,
    actor,
    roles: list[str] = (),
    departments: list[Department] = (),
    mobile: str = "",
    gender: str = "",
    title: str = "",
    is_outsourced: bool = False,
    company: str = "",
    username: str | None = None,
    password: str | None = None,
    must_change_password: bool = True,
    joined_on: datetime.date | None = None,
) -> tuple[Staff, str]:
    """Create a staff member with an account; returns (staff, initial password).

    Accounts created by an administrator must change their password at first login (issue 2 §7).
    """
    mobile = normalize_mobile(mobile) if mobile else ""
    username = username or staff_no
    if User.objects.filter(username=username).exists():
        raise ValidationError({"staff_no": _("An account with this username already exists.")})
    if Staff.objects.filter(school=school, staff_no=staff_no).exists():
        raise ValidationError({"staff_no": _("A staff member with this staff number already exists.")})
    password = password or generate_password()
    user = User(
        username=username, school=school, display_name=name, mobile=mobile,
        must_change_password=must_change_password,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    groups = list(Group.objects.filter(name__in=roles))
    if len(groups) != len(set(roles)):
        raise ValidationError({"roles": _("Unknown role.")})
    user.groups.set(groups)
    staff = Staff(
        school=school, user=user, staff_no=staff_no, name=name, mobile=mobile, gender=gender, title=title,
        is_outsourced=is_outsourced, company=company, joined_on=joined_on, search_keys=search_keys(name),
    )
    object_create(obj=staff, actor=actor, m2m={"departments": departments})
    return staff, password


@transaction.atomic
def staff_update(*, staff: Staff, data: dict, actor, roles: list[str] | None = None, departments=None) -> Staff:
    if "mobile" in data and data["mobile"]:
        data["mobile"] = normalize_mobile(data["mobile"])
    if "name" in data:
        data["search_keys"] = search_keys(data["name"])
    m2m = {"departments": departments} if departments is not None else None
    object_update(obj=staff, data=data, actor=actor, m2m=m2m)
    user_changes = {}
    if "name" in data:
        user_changes["display_name"] = data["name"]
    if "mobile" in data:
        user_changes["mobile"] = data["mobile"]
    if user_changes:
        User.objects.filter(pk=staff.user_id).update(**user_changes)
    if roles is not None:
        account_set_roles(user=staff.user, roles=roles, actor=actor)
    return staff


@transaction.atomic
def account_set_roles(*, user: User, roles: list[str], actor) -> User:
    before = sorted(user.groups.values_list("name", flat=True))
    groups = list(Group.objects.filter(name__in=roles))
    if len(groups) != len(set(roles)):
        raise ValidationError({"roles": _("Unknown role.")})
    user.groups.set(groups)
    after = sorted(g.name for g in groups)
    if before != after:
        audit_record(
            obj=user, action=AuditEntry.Action.UPDATE, actor=actor, before={"roles": before}, after={"roles": after}
        )
    return user


@transaction.atomic
def account_reset_password(*, user: User, actor) -> str:
    """Administrator reset without e-mail: a temporary password to hand over, changed at next login."""
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    audit_record(obj=user, action=AuditEntry.Action.ACCOUNT, actor=actor, message="password reset")
    return password


@transaction.atomic
def account_change_password(*, user: User, new_password: str) -> User:
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(obj=user, action=AuditEntry.Action.ACCOUNT, actor=user, message="password changed")
    return user


@transaction.atomic
def account_unlock(*, username: str, actor, ip_address: str | None = None) -> int:
    """Lift a django-axes lockout for ``username`` (all addresses); returns the attempts cleared."""
    from axes.utils import reset

    cleared = reset(username=username)
    user = User.objects.filter(username=username).first()
    LoginEvent.objects.create(user=user, username=username, kind=LoginEvent.Kind.UNLOCKED, ip_address=ip_address)
    if user is not None:
        audit_record(obj=user, action=AuditEntry.Action.ACCOUNT, actor=actor, message="login unlocked")
    return cleared


def staff_leave_blockers(staff: Staff) -> list[str]:
    messages = []
    for check in registry.leave_blockers:
        messages.extend(check(staff))
    return messages


@transaction.atomic
def staff_disable(*, staff: Staff, actor, left_on: datetime.date | None = None) -> Staff:
    """A leaving person's account is disabled only when they hold nothing any more (AST-14)."""
    blockers = staff_leave_blockers(staff)
    if blockers:
        raise ValidationError(_("Still in custody: %(items)s") % {"items": "; ".join(blockers)})
    object_update(
        obj=staff, data={"status": Staff.Status.LEFT, "left_on": left_on or timezone.localdate()}, actor=actor
    )
    User.objects.filter(pk=staff.user_id).update(is_active=False)
    audit_record(obj=staff.user, action=AuditEntry.Action.ACCOUNT, actor=actor, message="account disabled")
    return staff


# Students -----------------------------------------------------------------------------------


def _clean_identity(data: dict, *, actor) -> dict:
    """Validate the identity number (domain-rules §6.1); a failed check digit needs an override."""
    number = (data.get("id_number") or "").strip()
    if not number:
        data.update(id_number="", id_legacy_number="", id_checksum_override="")
        return data
    reason = (data.get("id_checksum_override") or "").strip()
    allow_bad = bool(reason)
    if allow_bad and not actor.has_perm("org.override_identity_check"):
        raise ValidationError({"id_checksum_override": _("You are not allowed to override the check digit.")})
    doc_type = data.get("id_type") or IdentityDocumentType.RESIDENT_ID
    try:
        parsed = parse_identity_number(doc_type, number, allow_bad_checksum=allow_bad)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    data["id_number"] = parsed.number
    data["id_legacy_number"] = parsed.legacy_number
    data["id_checksum_override"] = reason if not parsed.checksum_ok else ""
    if parsed.birth_date and not data.get("birth_date"):
        data["birth_date"] = parsed.birth_date
    if parsed.sex and not data.get("gender"):
        data["gender"] = parsed.sex
    return data


def student_prepare(student: Student, *, actor) -> Student:
    """Identity number, guardian phone and pinyin keys of an unsaved student (imports use it too)."""
    data = _clean_identity({
        "id_type": student.id_type, "id_number": student.id_number,
        "id_checksum_override": student.id_checksum_override, "birth_date": student.birth_date,
        "gender": student.gender,
    }, actor=actor)
    for name, value in data.items():
        setattr(student, name, value)
    if student.guardian_phone:
        try:
            student.guardian_phone = normalize_mobile(student.guardian_phone)
        except ValidationError as exc:
            raise ValidationError({"guardian_phone": exc.messages}) from None
    student.search_keys = search_keys(student.name or "")
    return student


@transaction.atomic
def student_create(*, school: School, actor, **data) -> Student:
    data = _clean_identity(dict(data), actor=actor)
    if data.get("guardian_phone"):
        data["guardian_phone"] = normalize_mobile(data["guardian_phone"])
    student = Student(school=school, search_keys=search_keys(data.get("name", "")), **data)
    return object_create(obj=student, actor=actor)


@transaction.atomic
def student_update(*, student: Student, data: dict, actor) -> Student:
    data = dict(data)
    if "id_number" in data or "id_type" in data:
        data.setdefault("id_type", student.id_type)
        data.setdefault("id_number", student.id_number)
        data = _clean_identity(data, actor=actor)
    if data.get("guardian_phone"):
        data["guardian_phone"] = normalize_mobile(data["guardian_phone"])
    if "name" in data:
        data["search_keys"] = search_keys(data["name"])
    object_update(obj=student, data=data, actor=actor)
    return student


_STUDENT_MOVES = {
    # transition: (allowed from, to)
    "suspend": ({Student.Status.ENROLLED}, Student.Status.SUSPENDED),
    "resume": ({Student.Status.SUSPENDED}, Student.Status.ENROLLED),
    "transfer_out": ({Student.Status.ENROLLED, Student.Status.SUSPENDED}, Student.Status.TRANSFERRED),
}


@transaction.atomic
def student_change_status(*, student: Student, transition: str, actor, note: str = "") -> Student:
    """休学 suspend, 复学 resume, 转出 transfer out: each audited with the reason."""
    if transition not in _STUDENT_MOVES:
        raise ValidationError(_("Unknown change."))
    allowed, target = _STUDENT_MOVES[transition]
    student = Student.objects.select_for_update().get(pk=student.pk)
    if student.status not in allowed:
        raise ValidationError(
            _("A student who is %(status)s cannot be changed this way.") % {"status": student.get_status_display()}
        )
    before = serialize_for_audit(student)
    student.status = target
    if target == Student.Status.TRANSFERRED:
        student.is_boarder = False
        student.dorm_room = None
    student.save(update_fields=["status", "is_boarder", "dorm_room", "updated_at"])
    audit_record(
        obj=student, action=AuditEntry.Action.TRANSITION, actor=actor, before=before,
        after=serialize_for_audit(student), message=note,
    )
    return student


@transaction.atomic
def student_move_class(*, student: Student, school_class: SchoolClass, actor, note: str = "") -> Student:
    if school_class.school_id != student.school_id or school_class.status != SchoolClass.Status.ACTIVE:
        raise ValidationError({"school_class": _("Choose an active class of the same school.")})
    object_update(obj=student, data={"school_class": school_class}, actor=actor, message=note)
    return student


# School-year turnover (ORG-3) -------------------------------------------------------------


@transaction.atomic
def classes_open_intake(*, school: School, intake_year: int, plan: list[dict], actor) -> list[SchoolClass]:
    """Open the new intake's classes. ``plan``: [{"major": "汽修", "count": 2, "department": dept}]."""
    created = []
    for row in plan:
        major = row["major"].strip()
        if not major:
            raise ValidationError({"major": _("Enter the major.")})
        existing = SchoolClass.objects.filter(school=school, intake_year=intake_year, major=major).count()
        for i in range(1, int(row["count"]) + 1):
            number = existing + i
            cls = SchoolClass(
                school=school, intake_year=intake_year, major=major, number=number,
                name=SchoolClass.make_name(intake_year, major, number), department=row.get("department"),
            )
            created.append(object_create(obj=cls, actor=actor, message="intake"))
    return created


@transaction.atomic
def class_graduate(*, school_class: SchoolClass, actor, on: datetime.date | None = None) -> int:
    """Archive a graduating class: the class is kept, its enrolled students become graduates."""
    if school_class.status == SchoolClass.Status.GRADUATED:
        raise ValidationError(_("This class has already graduated."))
    on = on or timezone.localdate()
    object_update(obj=school_class, data={"status": SchoolClass.Status.GRADUATED, "graduated_on": on}, actor=actor)
    students = list(school_class.students.filter(status__in=[Student.Status.ENROLLED, Student.Status.SUSPENDED]))
    for s in students:
        before = serialize_for_audit(s)
        s.status = Student.Status.GRADUATED
        s.is_boarder = False
        s.dorm_room = None
        s.save(update_fields=["status", "is_boarder", "dorm_room", "updated_at"])
        audit_record(
            obj=s, action=AuditEntry.Action.TRANSITION, actor=actor, before=before,
            after=serialize_for_audit(s), message="graduated",
        )
    return len(students)


@transaction.atomic
def term_create(*, school: School, actor, **data) -> Term:
    term = Term(school=school, **data)
    if term.start_on and term.mid_on and term.end_on and not (term.start_on < term.mid_on < term.end_on):
        raise ValidationError({"mid_on": _("The dates must be in order: start, mid-term, end.")})
    return object_create(obj=term, actor=actor)
