"""Org records on the entity machinery: masking in exports and the API, staff and student imports."""

import io

import pytest
from django.urls import reverse

from houqin.core import excel
from houqin.core.entities import registry
from houqin.core.importing import run_import, template_columns
from houqin.org.models import SchoolClass, Staff, Student
from houqin.org.validators import mask_identity_number


def _xlsx(headers, rows):
    buf = io.BytesIO()
    excel.write_xlsx(buf, columns=[excel.Column(key=h, header=h) for h in headers], rows=rows, sheet_title="x")
    buf.seek(0)
    buf.name = "x.xlsx"
    return buf


def _export_rows(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    sheet = excel.read_sheet(io.BytesIO(b"".join(response.streaming_content)), expected_headers=["学号"])
    return sheet


@pytest.fixture
def student_with_id(school):
    return Student.objects.filter(school=school).exclude(id_number="").select_related("school_class").first()


def test_identity_masked_in_export_and_api_except_for_the_accountant(client, personas, student_with_id):
    s = student_with_id
    masked = mask_identity_number(s.id_number)
    for role, expected in [("logistics_director", masked), ("accountant", s.id_number)]:
        client.force_login(personas[role])
        client.post(reverse("org:student_list"), {"what": "columns", "columns": ["student_no", "name", "id_number"]})
        sheet = _export_rows(client, reverse("org:student_export"), q=s.student_no)
        assert sheet.headers == ["学号", "姓名", "证件号码"]
        row = next(values for _n, values in sheet.rows if values[0] == s.student_no)
        assert str(row[2]) == expected, role
        html = client.get(reverse("org:student_list"), {"q": s.student_no}).content.decode()
        assert expected in html
        if expected == masked:
            assert s.id_number not in html
        api = client.get(f"/api/org/students/{s.pk}/").json()
        assert api["id_number"] == expected


def test_masked_number_left_unchanged_in_the_edit_form_keeps_the_real_one(client, personas, student_with_id):
    s = student_with_id
    client.force_login(personas["logistics_director"])
    form = client.get(reverse("org:student_edit", args=[s.pk])).content.decode()
    assert mask_identity_number(s.id_number) in form and s.id_number not in form
    data = {"student_no": s.student_no, "name": s.name + "改", "gender": s.gender, "school_class": s.school_class_id,
            "id_type": s.id_type, "id_number": mask_identity_number(s.id_number), "guardian_name": s.guardian_name,
            "guardian_phone": s.guardian_phone, "is_boarder": "on" if s.is_boarder else "",
            "dorm_room": s.dorm_room_id or ""}
    response = client.post(reverse("org:student_edit", args=[s.pk]), data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    old = s.id_number
    s.refresh_from_db()
    assert s.id_number == old and s.name.endswith("改")


def test_staff_import_creates_accounts_that_must_change_password(client, personas, school):
    client.force_login(personas["logistics_director"])
    headers = [c.header for c in template_columns(registry[Staff])]
    assert headers[:2] == ["工号", "姓名"]
    dept = school.department_set.order_by("name").first() if hasattr(school, "department_set") else None
    from houqin.org.models import Department

    dept = Department.objects.filter(school=school).order_by("name").first()
    rows = [
        ["N9001", "新同事甲", "男", "13700001111", "保安", dept.name, "否", None, None],
        ["N9002", "新同事乙", "女", "1370000", "保洁", None, "否", None, None],  # bad mobile: row 3
    ]
    url = reverse("org:staff_import")
    response = client.post(url, {"file": _xlsx(headers, rows)})
    assert response.status_code == 400 and "第 3 行" in response.content.decode()
    assert not Staff.objects.filter(staff_no__in=["N9001", "N9002"]).exists()
    rows[1][3] = "13700002222"
    response = client.post(url, {"file": _xlsx(headers, rows)})
    token = response.context["token"]
    response = client.post(url, {"token": token})
    assert response.status_code == 200  # the one-time list of initial passwords
    html = response.content.decode()
    staff = Staff.objects.get(staff_no="N9001")
    assert staff.user.must_change_password and staff.user.is_active
    assert list(staff.departments.all()) == [dept]
    assert staff.search_keys.startswith("xintongshijia")
    assert "N9001" in html and "N9002" in html and "初始密码" in html
    # re-import with the key column updates the existing person
    rows = [["N9001", "新同事甲", "男", "13700001111", "保安队长", dept.name, "否", None, None]]
    token = client.post(url, {"file": _xlsx(headers, rows)}).context["token"]
    client.post(url, {"token": token})
    staff.refresh_from_db()
    assert staff.title == "保安队长" and Staff.objects.filter(staff_no="N9001").count() == 1


def test_student_import_checks_identity_numbers_and_derives_birth_date(personas, school):
    director = personas["logistics_director"]
    cls = SchoolClass.objects.filter(school=school, status="active").order_by("name").first()
    headers = [c.header for c in template_columns(registry[Student])]
    rows = [
        ["S9001", "王小明", None, cls.name, "居民身份证", "11010519491231002X", "否", None, None, None],
        ["S9002", "李小红", None, cls.name, "居民身份证", "110105194912310021", "否", None, None, None],  # check digit
        ["S9003", "赵小刚", None, cls.name, "居民身份证", "11010519491231002x", "是", None, None, None],  # same as row 2
    ]
    result = run_import(registry[Student], _xlsx(headers, rows), actor=director, school=school, commit=True)
    assert not result.ok
    assert {(p.row, p.column) for p in result.problems} >= {(3, "证件号码")}
    assert not Student.objects.filter(student_no__startswith="S900").exists()
    rows = [rows[0]]
    result = run_import(registry[Student], _xlsx(headers, rows), actor=director, school=school, commit=True)
    assert result.ok, result.problems
    s = Student.objects.get(student_no="S9001")
    assert s.birth_date.isoformat() == "1949-12-31" and s.gender == "F" and s.search_keys.startswith("wangxiaoming")


def test_class_teacher_cannot_reach_other_classes_through_the_api(client, personas):
    teacher = personas["class_teacher"]
    own = SchoolClass.objects.filter(head_teacher=teacher.staff).first()
    other = Student.objects.exclude(school_class=own).first()
    client.force_login(teacher)
    listing = client.get("/api/org/students/").json()
    assert listing["count"] == Student.objects.filter(school_class=own).count()
    assert client.get(f"/api/org/students/{other.pk}/").status_code == 404
    assert client.patch(f"/api/org/students/{other.pk}/", {"name": "x"}, content_type="application/json"
                        ).status_code == 404
    assert client.get("/api/org/students/", {"school_class": other.school_class_id}).json()["count"] == 0


def test_holiday_plain_delete_is_audited_and_needs_permission(client, personas, school):
    from houqin.core.models import AuditEntry
    from houqin.org.models import Holiday
    from houqin.org.tests.factories import HolidayFactory

    holiday = HolidayFactory()
    client.force_login(personas["teacher"])
    assert client.post(reverse("org:holiday_delete", args=[holiday.pk])).status_code == 403
    client.force_login(personas["logistics_director"])
    response = client.post(reverse("org:holiday_delete", args=[holiday.pk]))
    assert response.status_code == 302 and not Holiday.objects.filter(pk=holiday.pk).exists()
    entry = AuditEntry.objects.get(object_id=str(holiday.pk), content_type__model="holiday", action="delete")
    assert entry.before["name"] == holiday.name and entry.actor == personas["logistics_director"]


def test_detail_page_has_attachments_and_history(client, personas, school):
    from houqin.org.models import Room

    room = Room.objects.filter(school=school).first()
    client.force_login(personas["logistics_director"])
    html = client.get(reverse("org:room", args=[room.pk])).content.decode()
    assert "附件" in html and 'id="history"' in html and 'type="file"' in html
    client.force_login(personas["teacher"])  # may view rooms, not change them: no upload form
    html = client.get(reverse("org:room", args=[room.pk])).content.decode()
    assert "附件" in html and 'type="file"' not in html


@pytest.mark.dbsensitive
@pytest.mark.django_db(transaction=True)
def test_import_is_all_or_nothing_when_the_database_refuses_a_row(personas, school):
    """A row passing validation but refused by a unique constraint rolls back every row (X-7)."""
    from conftest import _seed_if_empty

    _seed_if_empty()
    from houqin.org.models import School

    school = School.objects.get(code="3301001")
    director = type(personas["logistics_director"]).objects.get(username="director")
    taken = Student.objects.filter(school=school).exclude(id_number="").first()
    cls = SchoolClass.objects.filter(school=school, status="active").order_by("name").first()
    headers = [c.header for c in template_columns(registry[Student])]
    rows = [
        ["Z9001", "甲同学", None, cls.name, "居民身份证", None, "否", None, None, None],
        ["Z9002", "乙同学", None, cls.name, taken.get_id_type_display(), taken.id_number, "否", None, None, None],
    ]
    before = Student.objects.count()
    result = run_import(registry[Student], _xlsx(headers, rows), actor=director, school=school, commit=True)
    assert not result.ok and result.problems[0].row == 0
    assert Student.objects.count() == before
    assert not Student.objects.filter(student_no="Z9001").exists()
