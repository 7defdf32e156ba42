"""Read paths for org pages, dashboard and search; the row rules of the scoping function."""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from houqin.core.permissions import scope

from . import roles
from .models import Building, Room, School, SchoolClass, Staff, Student, Term
from .validators import mask_identity_number


def _staff(user) -> Staff | None:
    return getattr(user, "staff_or_none", None)


def _visible_class_filter(user) -> Q | None:
    """None: the whole school. Otherwise a Q on SchoolClass for the classes the user may see."""
    if user.has_role(*roles.WHOLE_SCHOOL_STUDENTS):
        return None
    staff = _staff(user)
    if staff is None:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    if user.has_role("class_teacher"):
        q |= Q(head_teacher=staff)
    if user.has_role("group_head"):
        # A group head sees the classes of the 专业部 (or group) they head.
        q |= Q(department__head=staff)
    return q


def student_row_rule(qs: QuerySet, user, action: str) -> QuerySet:
    """班主任: own class; group heads: their 专业部; 宿管员: boarders of their buildings (issue 2 §6)."""
    class_q = _visible_class_filter(user)
    if class_q is None:
        return qs
    q = Q(school_class__in=SchoolClass.objects.filter(class_q))
    staff = _staff(user)
    if user.has_role("dorm_keeper") and staff is not None and action == "view":
        q |= Q(is_boarder=True, dorm_room__building__keepers=staff)
    return qs.filter(q).distinct() if user.has_role("dorm_keeper") else qs.filter(q)


def class_row_rule(qs: QuerySet, user, action: str) -> QuerySet:
    if action == "view" and user.has_role("teacher", "dorm_keeper"):
        return qs  # everyone teaching may see the list of classes (not their students)
    class_q = _visible_class_filter(user)
    return qs if class_q is None else qs.filter(class_q)


def can_see_identity(user, student: Student) -> bool:
    """Full identity numbers: 会计, and a 班主任 for their own class; everyone else sees a mask. Reads the student's
    own row only (its class's id), so an API page written from the database's values can ask it (``api.RawPlan``)."""
    reads_all, own_classes = _identity_rule(user)
    return reads_all or student.school_class_id in own_classes


def _identity_rule(user) -> tuple[bool, frozenset]:
    """(reads every number, the ids of the classes whose 班主任 the user is), once per user object as its roles are
    (``User._rights``): a list of 50 students asked the user's staff record 50 times."""
    rule = user.__dict__.get("_houqin_identity_rule")
    if rule is None:
        if user.has_role(*roles.IDENTITY_READERS):
            rule = (True, frozenset())
        else:
            staff = _staff(user) if user.has_role("class_teacher") else None
            own = SchoolClass.objects.filter(head_teacher=staff).values_list("pk", flat=True) if staff else ()
            rule = (False, frozenset(own))
        user.__dict__["_houqin_identity_rule"] = rule
    return rule


def identity_display(user, student: Student) -> str:
    if not student.id_number:
        return ""
    return student.id_number if can_see_identity(user, student) else mask_identity_number(student.id_number)


def current_term(school: School, today: datetime.date | None = None) -> Term | None:
    today = today or timezone.localdate()
    terms = Term.objects.filter(school=school)
    return (
        terms.filter(start_on__lte=today, end_on__gte=today).first()
        or terms.filter(start_on__gt=today).order_by("start_on").first()
        or terms.order_by("-end_on").first()
    )


def students_visible(user) -> QuerySet:
    return scope(Student.objects.all(), user).select_related("school_class")


def staff_visible(user) -> QuerySet:
    return scope(Staff.objects.all(), user)


def count_or_none(user, qs: QuerySet, perm: str):
    if not user.has_perm(perm):
        return None
    return scope(qs, user).count()


def buildings_count(request):
    return count_or_none(request.user, Building.objects.all(), "org.view_building")


def rooms_count(request):
    return count_or_none(request.user, Room.objects.all(), "org.view_room")


def classes_count(request):
    return count_or_none(request.user, SchoolClass.objects.filter(status="active"), "org.view_schoolclass")


def students_count(request):
    return count_or_none(request.user, Student.objects.filter(status="enrolled"), "org.view_student")


def staff_count(request):
    return count_or_none(request.user, Staff.objects.filter(status="active"), "org.view_staff")


def search_people(request, query: str, limit: int):
    """Global search provider: staff and students by name, number, pinyin or initials."""
    from django.urls import reverse

    user = request.user
    needle = query.strip().lower().replace(" ", "")
    results = []
    if user.has_perm("org.view_staff"):
        qs = staff_visible(user).filter(
            Q(name__icontains=query) | Q(staff_no__iexact=query) | Q(search_keys__contains=needle)
        )[:limit]
        results += [(s.name, s.staff_no, reverse("org:staff", args=[s.pk])) for s in qs]
    if user.has_perm("org.view_student"):
        qs = students_visible(user).filter(
            Q(name__icontains=query) | Q(student_no__iexact=query) | Q(search_keys__contains=needle)
        )[:limit]
        results += [
            (s.name, f"{s.school_class.name} {s.student_no}", reverse("org:student", args=[s.pk])) for s in qs
        ]
    return results[:limit]


def search_places(request, query: str, limit: int):
    from django.urls import reverse

    user = request.user
    if not user.has_perm("org.view_room"):
        return []
    qs = scope(Room.objects.all(), user).filter(Q(code__icontains=query) | Q(name__icontains=query))[:limit]
    return [(str(r), r.get_kind_display(), reverse("org:room", args=[r.pk])) for r in qs]


def search_classes(request, query: str, limit: int):
    from django.urls import reverse

    user = request.user
    qs = scope(SchoolClass.objects.all(), user).filter(Q(name__icontains=query) | Q(major__icontains=query))[:limit]
    return [(c.name, c.get_status_display(), reverse("org:schoolclass", args=[c.pk])) for c in qs]
