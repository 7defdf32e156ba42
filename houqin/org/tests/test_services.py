"""Org write services: identity numbers with override, turnover, leaving staff, terms (ORG-3)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from houqin.core.models import AuditEntry
from houqin.core.registry import registry
from houqin.org import services
from houqin.org.models import SchoolClass, Staff, Student, Term
from houqin.org.validators import id_check_char


def _valid_id(first17="33010220080512003"):
    return first17 + id_check_char(first17)


def _bad_id():
    good = _valid_id()
    return good[:-1] + ("0" if good[-1] != "0" else "1")


@pytest.fixture
def a_class(school):
    return SchoolClass.objects.filter(school=school, status="active").first()


def test_student_with_valid_identity_gets_birth_date_and_gender(school, personas, a_class):
    s = services.student_create(school=school, actor=personas["logistics_director"], student_no="X1", name="王小明",
                                school_class=a_class, id_number=_valid_id().lower())
    assert s.id_number == _valid_id() and s.birth_date == datetime.date(2008, 5, 12) and s.gender == "M"
    assert s.search_keys.startswith("wangxiaoming")
    assert AuditEntry.objects.filter(content_type__model="student", object_id=str(s.pk), action="create").count() == 1


def test_wrong_check_digit_is_refused_without_override(school, personas, a_class):
    with pytest.raises(ValidationError) as exc:
        services.student_create(school=school, actor=personas["logistics_director"], student_no="X2", name="李四",
                                school_class=a_class, id_number=_bad_id())
    assert "id_number" in exc.value.message_dict
    assert not Student.objects.filter(student_no="X2").exists()


def test_wrong_check_digit_accepted_with_authorised_override(school, personas, a_class):
    s = services.student_create(school=school, actor=personas["logistics_director"], student_no="X3", name="李四",
                                school_class=a_class, id_number=_bad_id(), id_checksum_override="户口本核对无误")
    assert s.id_checksum_override == "户口本核对无误"


def test_override_refused_for_unauthorised_user(school, personas, a_class):
    with pytest.raises(ValidationError) as exc:
        services.student_create(school=school, actor=personas["class_teacher"], student_no="X4", name="李四",
                                school_class=a_class, id_number=_bad_id(), id_checksum_override="我说没问题")
    assert "id_checksum_override" in exc.value.message_dict


def test_fifteen_digit_number_is_converted(school, personas, a_class):
    s = services.student_create(school=school, actor=personas["logistics_director"], student_no="X5", name="赵五",
                                school_class=a_class, id_number="330102850512003")
    assert len(s.id_number) == 18 and s.id_number.startswith("33010219850512003")
    assert s.id_legacy_number == "330102850512003"


def test_impossible_birth_date_refused(school, personas, a_class):
    first17 = "33010219990230003"
    with pytest.raises(ValidationError):
        services.student_create(school=school, actor=personas["logistics_director"], student_no="X6", name="钱六",
                                school_class=a_class, id_number=first17 + id_check_char(first17))


def test_bad_guardian_phone_refused(school, personas, a_class):
    with pytest.raises(ValidationError):
        services.student_create(school=school, actor=personas["logistics_director"], student_no="X7", name="孙七",
                                school_class=a_class, guardian_phone="12345")


def test_suspend_resume_transfer(school, personas, a_class):
    actor = personas["logistics_director"]
    s = Student.objects.filter(school_class=a_class, status="enrolled").first()
    services.student_change_status(student=s, transition="suspend", actor=actor, note="病休")
    s.refresh_from_db()
    assert s.status == "suspended"
    with pytest.raises(ValidationError):
        services.student_change_status(student=s, transition="suspend", actor=actor)
    services.student_change_status(student=s, transition="resume", actor=actor)
    services.student_change_status(student=s, transition="transfer_out", actor=actor, note="转学")
    s.refresh_from_db()
    assert s.status == "transferred" and not s.is_boarder
    assert AuditEntry.objects.filter(content_type__model="student", object_id=str(s.pk), action="transition").count() == 3


def test_open_intake_names_classes_by_year_and_major(school, personas):
    created = services.classes_open_intake(school=school, intake_year=2030, actor=personas["logistics_director"],
                                           plan=[{"major": "汽修", "count": 2}])
    assert [c.name for c in created] == ["2030级汽修1班", "2030级汽修2班"]
    again = services.classes_open_intake(school=school, intake_year=2030, actor=personas["logistics_director"],
                                         plan=[{"major": "汽修", "count": 1}])
    assert again[0].name == "2030级汽修3班"


def test_graduate_archives_class_and_students(school, personas, a_class):
    n_enrolled = a_class.students.filter(status="enrolled").count()
    n = services.class_graduate(school_class=a_class, actor=personas["logistics_director"])
    a_class.refresh_from_db()
    assert n == n_enrolled and a_class.status == "graduated"
    assert not a_class.students.filter(status="enrolled").exists()
    assert a_class.students.count() >= n  # archived, never deleted
    with pytest.raises(ValidationError):
        services.class_graduate(school_class=a_class, actor=personas["logistics_director"])


def test_leaving_staff_blocked_while_holding_items(school, personas):
    staff = personas["teacher"].staff

    def holds_projector(s):
        return ["投影仪 1 台"] if s.pk == staff.pk else []

    registry.leave_blockers.append(holds_projector)
    try:
        with pytest.raises(ValidationError) as exc:
            services.staff_disable(staff=staff, actor=personas["logistics_director"])
        assert "投影仪" in str(exc.value)
        staff.refresh_from_db()
        assert staff.status == Staff.Status.ACTIVE and staff.user.is_active
    finally:
        registry.leave_blockers.remove(holds_projector)
    services.staff_disable(staff=staff, actor=personas["logistics_director"])
    staff.refresh_from_db()
    staff.user.refresh_from_db()
    assert staff.status == Staff.Status.LEFT and not staff.user.is_active


def test_staff_create_validates_mobile_and_outsourced_company(school, personas):
    with pytest.raises(ValidationError):
        services.staff_create(school=school, staff_no="S1", name="周八", actor=personas["sysadmin"], mobile="1234")
    with pytest.raises(ValidationError):
        services.staff_create(school=school, staff_no="S2", name="吴九", actor=personas["sysadmin"],
                              is_outsourced=True, company="")
    staff, _ = services.staff_create(school=school, staff_no="S3", name="郑十", actor=personas["sysadmin"],
                                     mobile="+86 139 0000 1111", is_outsourced=True, company="物业公司")
    assert staff.mobile == "13900001111" and staff.user.mobile == "13900001111"


def test_term_dates_must_be_in_order(school, personas):
    with pytest.raises(ValidationError):
        services.term_create(school=school, actor=personas["logistics_director"], school_year=2031, season="autumn",
                             start_on=datetime.date(2031, 9, 1), mid_on=datetime.date(2031, 8, 1),
                             end_on=datetime.date(2032, 1, 20))
    term = services.term_create(school=school, actor=personas["logistics_director"], school_year=2031,
                                season="autumn", start_on=datetime.date(2031, 9, 1),
                                mid_on=datetime.date(2031, 11, 10), end_on=datetime.date(2032, 1, 20))
    assert term.teaching_week(datetime.date(2031, 9, 1)) == 1
    assert term.teaching_week(datetime.date(2031, 9, 8)) == 2
    assert term.teaching_week(datetime.date(2032, 2, 1)) is None


def test_module_switch(school, personas, client):
    from django.urls import reverse

    services.school_set_modules(school=school, disabled=["dismissal_cards"], actor=personas["sysadmin"])
    school.refresh_from_db()
    assert not school.module_enabled("dismissal_cards") and school.module_enabled("class_contracting")
    with pytest.raises(ValidationError):
        services.school_set_modules(school=school, disabled=["nonsense"], actor=personas["sysadmin"])
    client.force_login(personas["sysadmin"])
    assert client.get(reverse("org:school_settings")).status_code == 200


@pytest.mark.dbsensitive
def test_term_order_is_a_database_constraint(school):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Term.objects.create(school=school, school_year=2040, season="autumn", start_on=datetime.date(2040, 9, 1),
                            mid_on=datetime.date(2040, 8, 1), end_on=datetime.date(2041, 1, 1))


@pytest.mark.dbsensitive
def test_student_number_unique_per_school(school, a_class):
    from django.db import IntegrityError, transaction

    existing = Student.objects.filter(school=school).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Student.objects.create(school=school, student_no=existing.student_no, name="重复", school_class=a_class)


@pytest.mark.dbsensitive
@pytest.mark.django_db(transaction=True)
def test_concurrent_status_changes_one_wins(personas):
    """Two clerks suspending the same student at once: exactly one succeeds (row lock / IMMEDIATE)."""
    import threading

    from django.db import connection

    from houqin.org.models import School

    if not School.objects.exists():
        from houqin.core import demo

        demo.seed(scale=0.1)
    actor_id = personas["logistics_director"].pk
    student_id = Student.objects.filter(status="enrolled").values_list("pk", flat=True).first()
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("an in-memory SQLite database is one connection; run with a file or PostgreSQL")
    results = []
    barrier = threading.Barrier(2)

    def worker():
        from django.db import connection as conn

        from houqin.org.models import User

        try:
            barrier.wait()
            services.student_change_status(student=Student.objects.get(pk=student_id), transition="suspend",
                                           actor=User.objects.get(pk=actor_id), note="并发")
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
