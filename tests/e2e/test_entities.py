"""Platform II from a browser: import a student list with two bad rows, see both errors, fix, import,
filter, export and print; the same list at 375 px (issue 3)."""

import io

import pytest

from houqin.core import excel

from .conftest import DESKTOP, PHONE, check_axe, english_leaks, no_horizontal_overflow, shot
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = ["学号", "姓名", "性别", "班级", "证件类型", "证件号码", "住校生", "宿舍", "监护人", "监护人电话"]



def _workbook(rows) -> bytes:
    buf = io.BytesIO()
    excel.write_xlsx(buf, columns=[excel.Column(key=h, header=h) for h in HEADERS], rows=rows, sheet_title="学生")
    return buf.getvalue()


def _class_name(django_db_blocker):
    from houqin.org.models import SchoolClass

    with django_db_blocker.unblock():
        return SchoolClass.objects.filter(status="active").order_by("name").first().name


def test_import_fix_filter_export_print(page_factory, demo, django_db_blocker, tmp_path):
    cls = _class_name(django_db_blocker)
    rows = [
        ["E2E001", "欧阳晨曦", "女", cls, "居民身份证", "", "否", None, "欧阳明", "13812345678"],
        ["E2E002", "司马远航", "男", "不存在的班", "居民身份证", "", "否", None, None, None],  # row 3: class
        ["E2E003", "上官若水", "女", cls, "居民身份证", "", "否", None, None, "12345"],  # row 4: phone
    ]
    bad = tmp_path / "学生名单.xlsx"
    bad.write_bytes(_workbook(rows))
    page = page_factory(DESKTOP)
    _login(page)
    page.goto("/org/students/import/")
    check_axe(page, "student-import")
    page.get_by_label("Excel 文件（.xlsx、.xls、.ods）").set_input_files(str(bad))
    page.get_by_role("button", name="检查文件").click()
    page.get_by_test_id("import-errors").wait_for()
    problems = page.get_by_test_id("import-problem")
    assert problems.count() == 2
    text = page.locator("main").inner_text()
    assert "第 3 行" in text and "不存在的班" in text and "第 4 行" in text
    assert not english_leaks(page)
    shot(page, "20-import-errors")

    rows[1][3] = cls
    rows[2][9] = "13987654321"
    good = tmp_path / "学生名单-改.xlsx"
    good.write_bytes(_workbook(rows))
    page.get_by_label("Excel 文件（.xlsx、.xls、.ods）").set_input_files(str(good))
    page.get_by_role("button", name="检查文件").click()
    page.get_by_test_id("import-ready").wait_for()
    check_axe(page, "student-import-preview")
    shot(page, "21-import-preview")
    page.get_by_test_id("import-commit").click()
    page.wait_for_url("**/org/students/")
    assert "导入完成：新增 3 条" in page.locator("main").inner_text()

    page.get_by_label("搜索", exact=True).fill("ouyang")  # pinyin finds 欧阳晨曦
    page.locator("#list-table tbody tr", has_text="欧阳晨曦").wait_for()
    page.wait_for_function("() => document.querySelectorAll('#list-table tbody tr').length === 1")
    assert "ouyang" in page.url
    shot(page, "22-list-filtered")

    with page.expect_download() as info:
        page.get_by_test_id("export").click()
    sheet = excel.read_sheet(info.value.path(), expected_headers=["学号"])
    assert [values[1] for _row, values in sheet.rows] == ["欧阳晨曦"]

    href = page.get_by_test_id("print").get_attribute("href")
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")


def test_student_list_at_phone_width(page_factory, demo):
    page = page_factory(PHONE)
    _login(page)
    page.goto("/org/students/")
    page.locator("#list-table tbody tr").first.wait_for()
    assert no_horizontal_overflow(page)
    check_axe(page, "student-list-phone")
    shot(page, "23-student-list-phone")
    page.locator("#list-table tbody a").first.click()
    page.locator("dt", has_text="证件号码").wait_for()
    assert no_horizontal_overflow(page)
    check_axe(page, "student-detail-phone")
    shot(page, "24-student-detail-phone")


def test_count_all_on_a_filtered_list_by_keyboard(page_factory, demo, settings, django_db_blocker):
    """A filtered list counts up to the cap ("超过 … 条记录"); 统计总数 counts it all in place, by keyboard, at
    phone width, and the address keeps no count=all (core.paging). A search whose index finds only a few
    candidates is counted exactly at once."""
    from houqin.org.models import SchoolClass, Student

    settings.HOUQIN_LIST_COUNT_CAP = 5  # counted up to max(cap, a page) + 1: more than a page must match
    with django_db_blocker.unblock():
        klass = SchoolClass.objects.filter(status="active").order_by("pk").first()
        Student.objects.bulk_create([Student(school=klass.school, school_class=klass, student_no=f"CA{i:03d}",
                                             name=f"统计{i}", gender="F") for i in range(60)])
        in_class = Student.objects.filter(school_class=klass).count()
    page = page_factory(PHONE)
    _login(page)
    page.goto("/org/students/?q=统计")
    count = page.locator("[data-testid=row-count]")
    assert count.inner_text() == "共 60 条"  # 60 candidates in the search index: all read, counted exactly
    assert page.locator("[data-testid=count-all]").count() == 0
    page.goto(f"/org/students/?school_class={klass.pk}")
    assert count.inner_text().startswith("超过")
    check_axe(page, "student-list-count-bounded")
    button = page.locator("[data-testid=count-all]")
    button.focus()
    with page.expect_response(lambda r: "count=all" in r.url):
        page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=row-count]').innerText.startsWith('共')")
    assert count.inner_text() == f"共 {in_class} 条"
    assert page.locator("[data-testid=count-all]").count() == 0
    assert "count=all" not in page.url
    assert no_horizontal_overflow(page)
    check_axe(page, "student-list-count-all")
    shot(page, "25-student-list-count-all")
