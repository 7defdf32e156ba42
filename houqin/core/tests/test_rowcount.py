"""core.rowcount: the kept totals always equal COUNT(*), whatever path changed the rows, and are used
only for a plain school list (SQLite)."""

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houqin.assets.models import DamageRecord
from houqin.assets.tests.factories_contracting import DamageRecordFactory
from houqin.core import rowcount
from houqin.core.entities import registry
from houqin.org.models import School, Student
from houqin.org.tests.factories import StudentFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="row totals are kept on SQLite only"),
]


def _kept(model) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT school_id, live, n FROM core_rowcount WHERE table_name = %s AND n <> 0",
                       [model._meta.db_table])
        return {(s, bool(live)): n for s, live, n in cursor.fetchall()}


def _actual(model) -> dict:
    voidable = any(f.name == "voided_at" for f in model._meta.concrete_fields)
    rows = model._base_manager.values("school_id")
    if voidable:
        out = {}
        for r in rows.annotate(n=Count("pk")).values("school_id", "voided_at", "n"):
            key = (r["school_id"], r["voided_at"] is None)
            out[key] = out.get(key, 0) + r["n"]
        return out
    return {(r["school_id"], True): r["n"] for r in rows.annotate(n=Count("pk")).values("school_id", "n")}


@pytest.fixture
def other_school(school):
    return School.objects.create(name="第二职业学校", short_name="二职", code="OTHER2")


def test_every_write_path_keeps_the_student_totals(school, other_school):
    assert _kept(Student) == _actual(Student)
    one = StudentFactory(school=school)
    Student.objects.bulk_create([Student(school=school, school_class=one.school_class, student_no=f"RC{i}",
                                         name=f"计数{i}", gender="F") for i in range(30)])
    assert _kept(Student) == _actual(Student)
    # Moved to another school (rare, but a raw UPDATE must keep both totals right).
    Student.objects.filter(student_no__in=["RC1", "RC2"]).update(school=other_school)
    assert _kept(Student) == _actual(Student) and _kept(Student)[(other_school.pk, True)] == 2
    Student.objects.filter(student_no__startswith="RC").delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM org_student WHERE id = %s", [one.pk])
    assert _kept(Student) == _actual(Student)


def test_voiding_moves_a_row_between_live_and_voided(school, personas):
    records = [DamageRecordFactory(school=school) for _ in range(3)]
    assert _kept(DamageRecord) == _actual(DamageRecord)
    DamageRecord.objects.filter(pk=records[0].pk).update(voided_at=timezone.now(), void_reason="录错")
    kept = _kept(DamageRecord)
    assert kept == _actual(DamageRecord) and kept[(school.pk, False)] == 1
    DamageRecord.objects.filter(pk=records[0].pk).update(voided_at=None)
    assert _kept(DamageRecord) == _actual(DamageRecord)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["add", "bulk", "move", "delete", "raw"]), st.integers(0, 5)), max_size=8))
def test_any_sequence_of_writes_keeps_the_totals(school, other_school, ops):
    one = StudentFactory(school=school)
    for op, n in ops:
        if op == "add":
            StudentFactory(school=school if n % 2 else other_school, school_class=one.school_class)
        elif op == "bulk":
            Student.objects.bulk_create([Student(school=school, school_class=one.school_class,
                                                 student_no=f"H{n}-{i}-{Student.objects.count()}", name="批量",
                                                 gender="M") for i in range(n)])
        elif op == "move":
            Student.objects.filter(pk__in=Student.objects.values("pk")[:n]).update(school=other_school)
        elif op == "delete":
            Student.objects.filter(pk__in=Student.objects.order_by("-pk").values("pk")[:n]).delete()
        else:
            with connection.cursor() as cursor:
                cursor.execute("UPDATE org_student SET school_id = %s WHERE id IN (SELECT id FROM org_student LIMIT %s)",
                               [school.pk, n])
        assert _kept(Student) == _actual(Student)


def test_used_only_for_a_plain_school_list(school, personas):
    StudentFactory.create_batch(3, school=school)
    qs = registry[Student].queryset(personas["logistics_director"])
    total = qs.count()
    assert rowcount.exact_total(qs.order_by()) == total
    assert rowcount.exact_total(qs.filter(gender="F").order_by()) is None
    assert rowcount.exact_total(qs.filter(name__contains="张").order_by()) is None
    assert rowcount.exact_total(qs.distinct().order_by()) is None
    assert rowcount.exact_total(qs.annotate(x=Count("pk")).order_by()) is None
    assert rowcount.exact_total(qs.none()) is None
    assert rowcount.exact_total(Student.objects.all()) is None  # every school: counted as usual
    # A row rule narrows the school's rows (a head teacher: their own class): counted as usual.
    assert rowcount.exact_total(qs.filter(school_class__head_teacher__isnull=False).order_by()) is None
    voidable = DamageRecord._base_manager.filter(school_id=school.pk)
    DamageRecordFactory(school=school)
    assert rowcount.exact_total(voidable.filter(voided_at__isnull=True)) == voidable.filter(voided_at__isnull=True).count()
    assert rowcount.exact_total(voidable.filter(voided_at__isnull=False)) == 0


def test_repair_counts_again_a_table_whose_triggers_were_lost(school):
    StudentFactory.create_batch(2, school=school)
    with connection.cursor() as cursor:
        for t in rowcount.TRIGGERS:
            cursor.execute(f"DROP TRIGGER core_rowcount_org_student_{t}")
    rowcount.forget()
    StudentFactory.create_batch(3, school=school)  # not counted: no triggers
    assert rowcount.exact_total(Student.objects.filter(school_id=school.pk)) is None  # triggers missing: not used
    assert _kept(Student) != _actual(Student)
    assert rowcount.repair() == ["org_student"]
    assert _kept(Student) == _actual(Student)
    assert rowcount.exact_total(Student.objects.filter(school_id=school.pk)) == Student.objects.filter(
        school_id=school.pk).count()
    assert rowcount.repair() == []  # nothing missing: nothing counted again
