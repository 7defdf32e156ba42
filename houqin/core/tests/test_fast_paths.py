"""The fast paths of issue 3 (Performance) write and show exactly what the slow ones did."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse

from houqin.core import audit, bulk, context_processors, views_entity
from houqin.core.models import AuditEntry
from houqin.org.models import Room, SchoolClass, Student

FIELDS = ["student_no", "name", "gender", "school_class_id", "id_type", "id_number", "id_legacy_number",
          "id_checksum_override", "birth_date", "is_boarder", "dorm_room_id", "guardian_name", "guardian_phone",
          "status", "search_keys", "school_id"]


def _students(school, prefix):
    cls = SchoolClass.objects.filter(school=school).order_by("pk").first()
    dorm = Room.objects.filter(school=school).order_by("pk").first()
    return [
        Student(school=school, school_class=cls, student_no=f"{prefix}1", name="张三", gender="M",
                birth_date=datetime.date(2009, 2, 3), is_boarder=True, dorm_room=dorm, guardian_phone="13900139000",
                search_keys="zhangsan zs"),
        Student(school=school, school_class_id=cls.pk, student_no=f"{prefix}2", name="O'Brien \"x\" <b>", gender="F",
                id_number="", is_boarder=False, status="suspended"),
    ]


def test_bulk_insert_writes_what_bulk_create_writes(school):
    slow = Student.objects.bulk_create(_students(school, "S"))
    fast = bulk.bulk_insert(Student, _students(school, "F"))
    assert all(o.pk and not o._state.adding for o in fast)
    for a, b in zip(slow, fast, strict=True):
        ra = Student.objects.values(*FIELDS).get(pk=a.pk)
        rb = Student.objects.values(*FIELDS).get(pk=b.pk)
        ra.pop("student_no"), rb.pop("student_no")
        assert ra == rb
        got = Student.objects.get(pk=b.pk)
        # One stamp for both on SQLite's fast path; elsewhere bulk_create's pre_save stamps each field
        # itself, microseconds apart.
        assert got.created_at is not None and abs(got.updated_at - got.created_at) < datetime.timedelta(seconds=1)
        assert (got.birth_date, got.is_boarder) == (b.birth_date, b.is_boarder)


def test_insert_rows_writes_what_audit_entries_did(school, personas):
    student = bulk.bulk_insert(Student, _students(school, "A"))[0]
    actor = personas["logistics_director"]
    token = audit.set_request_id("req-1")
    try:
        audit.audit_bulk([(student, AuditEntry.Action.IMPORT, None, audit.serialize_for_audit(student))],
                         actor=actor, message="Excel import")
    finally:
        audit.reset_request_id(token)
    entry = AuditEntry.objects.get(object_id=str(student.pk), content_type=ContentType.objects.get_for_model(Student))
    assert entry.action == "import" and entry.actor == actor and entry.school_id == school.pk
    assert entry.request_id == "req-1" and entry.message == "Excel import" and entry.before is None
    assert entry.after == audit.serialize_for_audit(student) and entry.after["birth_date"] == "2009-02-03"
    assert entry.changed_fields == [] and entry.object_repr == str(student) and entry.at is not None


def test_serialize_for_audit_is_unchanged_for_every_kind_of_value(school):
    student = Student.objects.filter(school=school).first()
    expected = {f.name: audit._jsonable(getattr(student, f.attname)) for f in Student._meta.concrete_fields
                if f.name not in ("password", "created_at", "updated_at")}
    assert audit.serialize_for_audit(student) == expected


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the fast insert is SQLite's")
def test_bulk_insert_is_the_fast_path_on_sqlite():
    assert bulk._usable(Student, connection) and bulk._usable(AuditEntry, connection)


def test_menu_is_rendered_once_but_checked_every_time(client, personas):
    context_processors._nav_html.clear()
    director, cleaner = personas["logistics_director"], personas.get("cleaner") or personas["guard"]
    client.force_login(director)
    html = client.get(reverse("org:student_list")).content.decode()
    assert 'href="/org/students/" aria-current="page"' in html
    assert len(context_processors._nav_html) == 1
    html = client.get(reverse("org:student_list")).content.decode()
    assert len(context_processors._nav_html) == 1  # the same menu: rendered once
    other = client.get(reverse("org:room_list")).content.decode()
    assert 'href="/org/rooms/" aria-current="page"' in other and 'href="/org/students/" aria-current' not in other
    english = client.get(reverse("org:room_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.force_login(cleaner)
    theirs = client.get(reverse("core:dashboard")).content.decode()
    # Entries the user may not open are absent, whatever was cached for someone else.
    assert 'href="/org/students/"' in html and 'href="/org/students/"' not in theirs
    assert '>Students</a>' in english and '>学生</a>' in other


def test_filter_widgets_are_the_same_cached_or_not(client, personas):
    views_entity._widget_html.clear()
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")
    first = client.get(url, {"status": "suspended", "is_boarder": "true"}).content.decode()
    assert views_entity._widget_html
    second = client.get(url, {"status": "suspended", "is_boarder": "true"}).content.decode()
    def filters(page):
        return page.split('id="list-filters"')[1].split("</form>")[0]

    assert filters(first) == filters(second)
    assert '<option value="suspended" selected>' in second
    plain = client.get(url).content.decode()
    assert '<option value="suspended" selected>' not in plain
