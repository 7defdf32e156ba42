"""Row scoping and identity masking (issue 2 §6): a 班主任 sees only their class, numbers are masked."""

import pytest
from django.urls import reverse

from houqin.core.models import AuditEntry
from houqin.org.models import Room, SchoolClass, Student
from houqin.org.validators import mask_identity_number


@pytest.fixture
def own_and_other(personas):
    teacher = personas["class_teacher"].staff
    own_class = SchoolClass.objects.filter(head_teacher=teacher).first()
    other_class = SchoolClass.objects.exclude(head_teacher=teacher).first()
    own = Student.objects.filter(school_class=own_class).exclude(id_number="").first()
    other = Student.objects.filter(school_class=other_class).exclude(id_number="").first()
    assert own and other
    return own, other


def test_class_teacher_list_holds_only_own_class(client, personas, own_and_other):
    own, other = own_and_other
    client.force_login(personas["class_teacher"])
    html = client.get(reverse("org:student_list") + "?status=").content.decode()
    assert own.name in html
    for s in Student.objects.exclude(school_class=own.school_class)[:20]:
        assert reverse("org:student", args=[s.pk]) not in html


def test_class_teacher_cannot_open_another_class_student_by_url(client, personas, own_and_other):
    own, other = own_and_other
    client.force_login(personas["class_teacher"])
    assert client.get(reverse("org:student", args=[own.pk])).status_code == 200
    assert client.get(reverse("org:student", args=[other.pk])).status_code == 404
    assert client.get(reverse("org:student_edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("org:student_status", args=[other.pk]),
                       {"transition": "suspend", "note": "x"}).status_code == 404
    other.refresh_from_db()
    assert other.status == Student.Status.ENROLLED


def test_class_teacher_cannot_reach_another_class_by_api(client, personas, own_and_other):
    own, other = own_and_other
    client.force_login(personas["class_teacher"])
    data = client.get("/api/org/students/?page_size=500").json()
    ids = {row["id"] for row in data["results"]}
    assert own.pk in ids and other.pk not in ids
    assert client.get(f"/api/org/students/{other.pk}/").status_code == 404
    assert client.get(f"/api/org/students/?school_class={other.school_class_id}").json()["count"] == 0


def test_api_token_auth_and_scoping(client, personas, own_and_other):
    from rest_framework.authtoken.models import Token

    own, other = own_and_other
    token = Token.objects.create(user=personas["class_teacher"])
    response = client.get(f"/api/org/students/{own.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    # The class teacher sees the full number of their own class (issue 2 §6).
    assert response.json()["id_number"] == own.id_number
    assert client.get(f"/api/org/students/{other.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 404
    assert client.get("/api/org/students/", HTTP_AUTHORIZATION="Token wrong").status_code == 401


def test_teacher_has_no_student_lists(client, personas):
    client.force_login(personas["teacher"])
    assert client.get(reverse("org:student_list")).status_code == 403
    assert client.get("/api/org/students/").status_code == 403


def test_identity_masked_for_director_shown_to_accountant(client, personas, own_and_other):
    own, _ = own_and_other
    masked = mask_identity_number(own.id_number)
    client.force_login(personas["logistics_director"])
    html = client.get(reverse("org:student", args=[own.pk])).content.decode()
    assert masked in html and own.id_number not in html
    api = client.get(f"/api/org/students/{own.pk}/").json()
    assert api["id_number"] == masked
    client.force_login(personas["accountant"])
    html = client.get(reverse("org:student", args=[own.pk])).content.decode()
    assert own.id_number in html


def test_director_reveal_is_logged(client, personas, own_and_other):
    own, _ = own_and_other
    director = personas["logistics_director"]
    client.force_login(director)
    html = client.post(reverse("org:student", args=[own.pk]), {"reveal": "1"}).content.decode()
    assert own.id_number in html
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL, object_id=str(own.pk)).get()
    assert entry.actor == director


def test_clerk_cannot_reveal(client, personas, own_and_other):
    own, _ = own_and_other
    client.force_login(personas["logistics_clerk"])
    assert client.post(reverse("org:student", args=[own.pk]), {"reveal": "1"}).status_code == 403
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL).exists()


def test_dorm_keeper_sees_boarders_of_their_buildings_only(client, personas, school):
    keeper = personas["dorm_keeper"].staff
    client.force_login(personas["dorm_keeper"])
    data = client.get("/api/org/students/?page_size=1000").json()
    visible = set(Student.objects.filter(pk__in=[r["id"] for r in data["results"]]).values_list("is_boarder", flat=True))
    assert data["count"] > 0 and visible == {True}
    kept = Room.objects.filter(building__keepers=keeper)
    assert Student.objects.filter(pk__in=[r["id"] for r in data["results"]]).exclude(dorm_room__in=kept).count() == 0


def test_other_school_rows_are_invisible(client, personas, school):
    from houqin.org.models import School

    other = School.objects.create(name="另一所学校", code="9999999")
    room = Room.objects.create(school=other, code="X101", name="外校教室")
    client.force_login(personas["logistics_director"])
    assert client.get(reverse("org:room", args=[room.pk])).status_code == 404
    # The education bureau reads across schools.
    client.force_login(personas["bureau"])
    assert client.get(reverse("org:room", args=[room.pk])).status_code == 200


def test_identity_rule_per_student_with_the_users_rule_worked_out_once(personas, own_and_other, django_assert_num_queries):
    """A 班主任 reads the numbers of their own class only, 会计 every number, the director none; the user's rule is
    worked out once per user object, so a list of students does not ask for the staff record per row."""
    from houqin.org import selectors

    own, other = own_and_other
    teacher = personas["class_teacher"]
    assert selectors.can_see_identity(teacher, own) is True
    with django_assert_num_queries(0):
        for _ in range(50):
            assert selectors.can_see_identity(teacher, own) is True
    assert selectors.can_see_identity(teacher, other) is False
    assert selectors.can_see_identity(personas["accountant"], other) is True
    director = personas["logistics_director"]
    assert selectors.can_see_identity(director, own) is False
    assert selectors.identity_display(director, own) == mask_identity_number(own.id_number)


def test_the_api_list_masks_identity_numbers_per_role_from_the_rows_values(client, personas, own_and_other):
    """The student API list is written from the database's values (api.RawPlan, Entity.list_reads): the 会计 reads
    every number, a 班主任 their own class's and a mask for others', the director masks only, a class teacher's
    list holds only their class — each row as the record serialized whole would show it."""
    from houqin.core.api import RawPlan
    from houqin.org.entities import StudentEntity

    assert RawPlan.of(StudentEntity.serializer_class) is not None
    own, other = own_and_other
    cases = [("accountant", own, own.id_number), ("accountant", other, other.id_number),
             ("class_teacher", own, own.id_number),
             ("logistics_director", own, mask_identity_number(own.id_number)),
             ("logistics_director", other, mask_identity_number(other.id_number))]
    for role, student, expected in cases:
        client.force_login(personas[role])
        rows = client.get("/api/org/students/", {"q": student.student_no}).json()["results"]
        row = next(r for r in rows if r["id"] == student.pk)
        assert row["id_number"] == expected, (role, student)
        assert row == client.get(f"/api/org/students/{student.pk}/").json(), role
    client.force_login(personas["class_teacher"])
    assert not [r for r in client.get("/api/org/students/", {"q": other.student_no}).json()["results"]
                if r["id"] == other.pk]
