"""The monthly close through the pages and the API (AST-7, AST-10), role by role."""

import datetime
import io
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook
from rest_framework.test import APIClient

from houqin.assets.models import AccountingPeriod, Asset
from houqin.assets.services import cards, closing
from houqin.core import excel

from .factories import _category, _room

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def month(school, personas):
    """2024-01 with one booked computer and nothing else on the books."""
    Asset.objects.filter(school=school).update(booking=Asset.Booking.PENDING)
    keeper = personas["asset_keeper"]
    asset = cards.asset_create(school=school, actor=keeper, data={
        "name": "台式计算机", "category": _category(), "original_value": D("6000.00"), "quantity": 1,
        "acquired_on": datetime.date(2024, 1, 5), "room": _room(1)})
    closing.book_cards(school=school, actor=keeper, cards=[asset], voucher_no="记-0001",
                       booked_on=datetime.date(2024, 1, 5))
    return closing.period_get(school, 2024, 1)


def login(client, personas, role):
    client.force_login(personas[role])
    return client


def api(personas, role):
    c = APIClient()
    c.force_authenticate(personas[role])
    return c


def test_the_whole_close_through_the_pages(client, personas, month):
    page = reverse("assets:accountingperiod", args=[month.pk])
    keeper = login(client, personas, "asset_keeper")
    assert "run-depreciation" in keeper.get(page).content.decode()
    keeper.post(reverse("assets:period_depreciate", args=[month.pk]))
    assert closing.active_run(month).total == D("83.33")
    table = keeper.get(reverse("assets:period_depreciation", args=[month.pk]))
    assert "83.33" in table.content.decode()
    xlsx = keeper.get(reverse("assets:period_depreciation", args=[month.pk]) + "?format=xlsx")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(xlsx.streaming_content))).get_sheet_by_index(0).to_python()
    assert any(83.33 in row for row in rows)
    pdf = keeper.get(reverse("assets:period_depreciation", args=[month.pk]) + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert "折旧计提表" in text and "83.33" in text
    # The keeper may not enter the finance voucher.
    assert keeper.post(reverse("assets:period_voucher", args=[month.pk]),
                       {"voucher_no": "记-9", "booked_on": "2024-01-31"}).status_code == 403

    accountant = login(client, personas, "accountant")
    accountant.post(reverse("assets:period_voucher", args=[month.pk]),
                    {"voucher_no": "记-0031", "booked_on": "2024-01-31"})
    accountant.post(reverse("assets:period_balances", args=[month.pk]), {
        "key": ["general|fiscal"], "value-general|fiscal": "6,000.00", "dep-general|fiscal": "80.00"})
    month.refresh_from_db()
    assert month.depreciation_voucher_no == "记-0031"
    body = accountant.get(page).content.decode()
    assert 'data-differs="1"' in body  # 83.33 against 80.00
    response = accountant.post(reverse("assets:period_sign", args=[month.pk, "finance"]), follow=True)
    assert "没有说明" in response.content.decode() or "no explanation" in response.content.decode()
    accountant.post(reverse("assets:period_explain", args=[month.pk]),
                    {"key": "general|fiscal", "explanation": "财务少计提3.33元，2月补记"})
    accountant.post(reverse("assets:period_sign", args=[month.pk, "finance"]))
    keeper = login(client, personas, "asset_keeper")
    keeper.post(reverse("assets:period_sign", args=[month.pk, "keeper"]))
    keeper.post(reverse("assets:period_close", args=[month.pk]))
    month.refresh_from_db()
    assert month.status == AccountingPeriod.Status.CLOSED
    pdf = keeper.get(reverse("assets:period_statement", args=[month.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_bad_finance_input_gives_messages_and_saves_nothing(client, personas, month):
    accountant = login(client, personas, "accountant")
    response = accountant.post(reverse("assets:period_balances", args=[month.pk]), {
        "key": ["general|fiscal"], "value-general|fiscal": "六千", "dep-general|fiscal": ""}, follow=True)
    assert "六千" in response.content.decode()
    assert not month.finance_balances.exists()


def test_finance_balances_from_the_trial_balance_excel(client, personas, month, tmp_path):
    path = tmp_path / "balances.xlsx"
    columns = [excel.Column(f"c{i}", h) for i, h in enumerate(["会计科目", "资金来源", "固定资产期末余额", "累计折旧期末余额"])]
    excel.write_xlsx(path, columns=columns, sheet_title="余额", rows=[
        ["通用设备", "财政拨款", "6000", "83.33"], ["家具", "财政拨款", "abc", "0"], ["通用设备", "捐赠", "1", "0"]])
    accountant = login(client, personas, "accountant")
    with open(path, "rb") as fh:
        response = accountant.post(reverse("assets:period_balances_import", args=[month.pk]), {"file": fh},
                                   follow=True)
    body = response.content.decode()
    assert "第 3 行" in body or "Row 3" in body
    assert not month.finance_balances.exists()  # all or nothing
    excel.write_xlsx(path, columns=columns, sheet_title="余额", rows=[["通用设备", "财政拨款", "6000", "83.33"]])
    with open(path, "rb") as fh:
        accountant.post(reverse("assets:period_balances_import", args=[month.pk]), {"file": fh})
    balance = month.finance_balances.get()
    assert (balance.accounting_class, balance.funding_source, balance.original_value) == ("general", "fiscal",
                                                                                        D("6000.00"))
    template = accountant.get(reverse("assets:period_balances_template", args=[month.pk]))
    assert template.status_code == 200


@pytest.mark.parametrize("role, status", [("asset_keeper", 200), ("logistics_director", 200), ("accountant", 200),
                                          ("principal", 200), ("teacher", 403), ("guard", 403)])
def test_who_sees_the_month(client, personas, month, role, status):
    response = login(client, personas, role).get(reverse("assets:accountingperiod", args=[month.pk]))
    assert response.status_code == status


@pytest.mark.parametrize("role", ["principal", "teacher", "accountant"])
def test_only_the_asset_side_depreciates_and_closes(client, personas, month, role):
    c = login(client, personas, role)
    assert c.post(reverse("assets:period_depreciate", args=[month.pk])).status_code == 403
    assert c.post(reverse("assets:period_close", args=[month.pk])).status_code == 403
    assert closing.active_run(month) is None


def test_the_close_through_the_api(personas, month):
    base = f"/api/assets/periods/{month.pk}/"
    keeper, accountant = api(personas, "asset_keeper"), api(personas, "accountant")
    assert accountant.post(base + "depreciate/", {}, format="json").status_code == 403
    response = keeper.post(base + "depreciate/", {}, format="json")
    assert response.status_code == 200 and D(str(response.json()["total"])) == D("83.33")
    refused = keeper.post(base + "depreciate/", {}, format="json")
    assert refused.status_code == 400 and "reason" in str(refused.json())
    bad = accountant.post(base + "voucher/", {"voucher_no": ""}, format="json")
    assert bad.status_code == 400 and "voucher_no" in bad.json().get("errors", bad.json())
    accountant.post(base + "voucher/", {"voucher_no": "记-0031", "booked_on": "2024-01-31"}, format="json")
    bad_rows = accountant.post(base + "balances/", {"rows": [{"accounting_class": "x", "funding_source": "fiscal",
                                                              "original_value": "1", "accumulated_depreciation": "0"}]},
                               format="json")
    assert bad_rows.status_code == 400
    accountant.post(base + "balances/", {"rows": [{"accounting_class": "general", "funding_source": "fiscal",
                                                   "original_value": "6000.00",
                                                   "accumulated_depreciation": "83.33"}]}, format="json")
    statement = keeper.get(base + "statement/").json()
    assert statement["problems"] == [] and statement["lines"][0]["value_difference"] in ("0.00", 0, "0")
    assert keeper.post(base + "close/", {}, format="json").status_code == 400  # nobody signed yet
    assert accountant.post(base + "sign/", {"side": "keeper"}, format="json").status_code == 403
    keeper.post(base + "sign/", {"side": "keeper"}, format="json")
    accountant.post(base + "sign/", {"side": "finance"}, format="json")
    assert keeper.post(base + "close/", {}, format="json").status_code == 200
    month.refresh_from_db()
    assert month.status == AccountingPeriod.Status.CLOSED


def test_booking_cards_page_and_api(client, personas, school):
    keeper = personas["asset_keeper"]
    new = cards.asset_create(school=school, actor=keeper, data={
        "name": "投影仪", "category": _category(), "original_value": D("4200.00"), "quantity": 1,
        "acquired_on": datetime.date(2024, 3, 1)})
    other = cards.asset_create(school=school, actor=keeper, data={
        "name": "投影仪", "category": _category(), "original_value": D("4200.00"), "quantity": 1,
        "acquired_on": datetime.date(2024, 3, 1)})
    c = login(client, personas, "accountant")
    page = c.get(reverse("assets:booking"))
    assert new.code in page.content.decode()
    response = c.post(reverse("assets:booking"), {"card": [new.pk], "voucher_no": "", "booked_on": "2024-03-10"})
    assert response.status_code == 200 and "voucher" not in new.__class__.objects.get(pk=new.pk).voucher_no
    # Card keys that are no whole numbers ("²" passes str.isdigit()) are ignored, not a server error.
    response = c.post(reverse("assets:booking"), {"card": ["²", "99999999999999999999", "x"], "voucher_no": "",
                                                  "booked_on": "2024-03-10"})
    assert response.status_code == 200
    c.post(reverse("assets:booking"), {"card": [new.pk], "voucher_no": "记-0305", "booked_on": "2024-03-10"})
    new.refresh_from_db()
    assert (new.booking, new.voucher_no, new.booked_on) == ("booked", "记-0305", datetime.date(2024, 3, 10))
    assert login(client, personas, "asset_keeper").post(reverse("assets:booking"), {
        "card": [other.pk], "voucher_no": "记-1", "booked_on": "2024-03-10"}).status_code == 403
    accountant = api(personas, "accountant")
    twice = accountant.post("/api/assets/cards/book/", {"cards": [new.pk], "voucher_no": "记-2",
                                                          "booked_on": "2024-03-11"}, format="json")
    assert twice.status_code == 400 and "already booked" in str(twice.json()) or "已入账" in str(twice.json())
    ok = accountant.post("/api/assets/cards/book/", {"cards": [other.pk], "voucher_no": "记-2",
                                                       "booked_on": "2024-03-11"}, format="json")
    assert ok.status_code == 200 and ok.json() == {"booked": 1}


def test_dashboard_widget_shows_the_months_and_the_trend(client, personas, month):
    closing.run_depreciation(period=month, actor=personas["asset_keeper"])
    body = login(client, personas, "accountant").get("/").content.decode()
    assert 'id="w-assets-close"' in body and "assets-depreciation-data" in body
    assert reverse("assets:accountingperiod", args=[month.pk]) in body
    assert 'id="w-assets-close"' not in login(client, personas, "teacher").get("/").content.decode()


def test_the_run_amortises_intangibles_and_the_table_shows_it(client, personas, month, school):
    from houqin.assets.services import intangibles

    keeper = personas["asset_keeper"]
    intangibles.intangible_create(school=school, actor=keeper, data={
        "name": "教务管理系统", "kind": "software", "original_value": D("36000.00"),
        "acquired_on": datetime.date(2024, 1, 10), "life_months": 60})
    result = closing.run_depreciation(period=month, actor=keeper)
    assert result.amortisation.total == D("600.00")
    assert closing.amortisation_table(month)[0]["amount"] == D("600.00")
    body = login(client, personas, "accountant").get(reverse("assets:period_depreciation", args=[month.pk]))
    assert 'data-testid="amortisation-table"' in body.content.decode() and "600.00" in body.content.decode()


def test_the_demo_school_year_of_closes_and_leases_at_full_scale(school, personas):
    """``make run`` builds the full demo with these two generators: this year's months closed in order, last
    month left with one unexplained difference, a lease in force with rent received and paid over."""
    import random

    from houqin.assets import demo
    from houqin.assets.models import IntangibleAsset, Lease, RentPayOver
    from houqin.core.demo import DEMO_PASSWORD

    ctx = {"school": school, "scale": 1.0, "rng": random.Random(2026), "password": DEMO_PASSWORD}
    demo.more_history(ctx)
    demo.close_history(ctx)
    today = timezone.localdate()
    closed = AccountingPeriod.objects.filter(school=school, status=AccountingPeriod.Status.CLOSED)
    if today.month >= 3:
        assert closed.count() == today.month - 2
        last = AccountingPeriod.objects.get(school=school, year=today.year, month=today.month - 1)
        assert last.status == AccountingPeriod.Status.OPEN and len(closing.statement(last).unexplained) == 1
    if today.month >= 4:
        assert Lease.objects.filter(school=school, status="active").count() == 1
        assert RentPayOver.objects.filter(school=school).exists()
        assert IntangibleAsset.objects.get(school=school, name="教务管理系统授权").accumulated_amortisation > 0
