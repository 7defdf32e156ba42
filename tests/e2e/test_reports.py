"""AST-1, AST-10, AST-12 from a browser: the logistics director opens this year's 固定资产总账, switches it to
departments and downloads the Excel file; the 实训设备, 生均值 and 财政 export pages pass check_page, the 总账
also at phone width."""

import io

import pytest
from python_calamine import CalamineWorkbook

from .conftest import PHONE, check_page
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)



def test_director_opens_the_ledger_switches_dimension_and_downloads_excel(page_factory, demo):
    page = page_factory()
    _login(page, "director")
    page.goto("/assets/reports/ledger/")
    assert page.locator("h1").inner_text() == "固定资产总账"
    assert page.get_by_label("期间").input_value() == "year"
    assert page.get_by_test_id("ledger-total").is_visible() or page.get_by_test_id("ledger-empty").is_visible()
    check_page(page, "reports-ledger")

    page.get_by_label("汇总方式").select_option("department")
    page.get_by_test_id("report-show").click()
    page.wait_for_url("**dimension=department**")
    assert page.locator("table[data-testid=ledger] thead th").first.inner_text() == "部门"

    with page.expect_download() as download:
        page.get_by_test_id("report-xlsx").click()
    content = download.value.path().read_bytes()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    header = next(r for r in rows if r and r[0] == "部门")
    assert header[1:4] == ["卡片数", "期初原值", "本期增加"]
    total = rows[-1]
    assert total[0] == "合计" and all(isinstance(v, int | float) for v in total[1:])

    pdf = page.request.get("/assets/reports/ledger/?dimension=department&format=pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")


def test_report_pages_pass_the_checks(page_factory, demo):
    page = page_factory()
    _login(page, "keeper")
    page.goto("/assets/reports/training/")
    check_page(page, "reports-training")
    page.goto("/assets/reports/per-student/")
    assert page.get_by_test_id("per-student").is_visible()
    check_page(page, "reports-per-student")
    page.goto("/assets/reports/fiscal-export/")
    check_page(page, "reports-fiscal-export")
    if page.get_by_test_id("replace-layout").count():
        page.get_by_test_id("replace-layout").check()
    page.get_by_test_id("load-default").click()
    page.wait_for_selector("[data-testid=export-columns]")
    check_page(page, "reports-fiscal-export-layout")
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(download.value.path().read_bytes())).get_sheet_by_index(0)
    assert rows.to_python()[0][:3] == ["资产编号", "财政资产编号", "资产分类代码"]


def test_ledger_at_phone_width(page_factory, demo):
    page = page_factory(PHONE)
    _login(page, "accountant")
    page.goto("/assets/reports/ledger/?period=month&month=1")
    check_page(page, "reports-ledger-phone")
