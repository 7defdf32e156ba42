"""The 财政 export (AST-10): the school's column mapping, the default layout, the export read back with
python-calamine (headers and values in the mapped order, money exact, dates as dates), unknown fields
refused, and who may do what."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from python_calamine import CalamineWorkbook

from houqin.assets import fiscal_export
from houqin.assets.choices import AccountingClass, Acquisition, FundingSource
from houqin.assets.models import AssetMovement, FiscalExportColumn
from houqin.assets.tests.test_reports import card, keeper_of, new_school
from houqin.core.models import AuditEntry
from houqin.org.models import Department

D = Decimal
MOVE = AssetMovement.Kind


def sheet_of(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def download(response) -> list[list]:
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("application/vnd.openxml")
    return sheet_of(b"".join(response.streaming_content))


@pytest.fixture
def school(db):
    school = new_school("财政导出测试")
    office = Department.objects.create(school=school, name="信息中心", kind=Department.Kind.ADMIN)
    a = card(school, "000123", AccountingClass.GENERAL_EQUIPMENT, "12345.67", acquired=datetime.date(2025, 3, 15),
             dept=office, booked_on=datetime.date(2025, 3, 31), moves=[(MOVE.REGISTER, datetime.date(2025, 3, 15),
                                                                         "12345.67")])
    a.accumulated_depreciation = D("1234.56")
    a.voucher_no = "记-0315"
    a.finance_code = "330100000001"
    a.save()
    card(school, "ZC2", AccountingClass.FURNITURE, "1500.10", category="A05010304",
         acquired=datetime.date(2026, 2, 3), funding=FundingSource.SPECIAL,
         moves=[(MOVE.REGISTER, datetime.date(2026, 2, 3), "1500.10")])  # 待入账
    card(school, "LENT", AccountingClass.GENERAL_EQUIPMENT, "9000.00", acquired=datetime.date(2025, 1, 1),
         acquisition=Acquisition.PARTNER_LENT, moves=[(MOVE.REGISTER, datetime.date(2025, 1, 1), "9000.00")])
    card(school, "GONE", AccountingClass.GENERAL_EQUIPMENT, "3000.00", acquired=datetime.date(2020, 1, 1),
         disposed=datetime.date(2025, 6, 1), moves=[(MOVE.REGISTER, datetime.date(2020, 1, 1), "3000.00"),
                                                   (MOVE.DISPOSE, datetime.date(2025, 6, 1), "-3000.00")])
    return school


def mapping(school, columns):
    for position, (header, field) in enumerate(columns, start=1):
        FiscalExportColumn.objects.create(school=school, position=position, header=header, field=field)


def test_every_field_reads_and_the_default_layout_names_only_known_fields():
    assert all(code in fiscal_export.FIELDS for _header, code in fiscal_export.DEFAULT_LAYOUT)
    assert len({h for h, _c in fiscal_export.DEFAULT_LAYOUT}) == len(fiscal_export.DEFAULT_LAYOUT)
    for f in fiscal_export.FIELDS.values():
        assert f.kind in ("text", "int", "decimal", "date") and f.paths and str(f.label)


def test_round_trip_in_the_mapped_order(client, school):
    mapping(school, [("原值（元）", "original_value"), ("资产编号", "code"), ("取得日期", "acquired_on"),
                     ("使用部门", "department"), ("累计折旧", "accumulated_depreciation"), ("净值", "net_value"),
                     ("数量", "quantity"), ("会计科目", "accounting_class"), ("凭证号", "voucher_no"),
                     ("财政编号", "finance_code"), ("入账日期", "booked_on")])
    client.force_login(keeper_of(school))
    rows = download(client.get(reverse("assets:report_fiscal_export"), {"format": "xlsx"}))
    assert rows[0] == ["原值（元）", "资产编号", "取得日期", "使用部门", "累计折旧", "净值", "数量", "会计科目", "凭证号",
                       "财政编号", "入账日期"]
    assert [r[1] for r in rows[1:]] == ["000123", "ZC2"]  # lent and disposed cards are not the school's / gone
    first = rows[1]
    assert first[0] == 12345.67 and D(repr(first[0])) == D("12345.67")  # exact to the fen
    assert first[1] == "000123"  # codes stay text: the leading zeros are kept
    assert first[2] == datetime.date(2025, 3, 15)  # a date cell, not text
    assert first[3:] == ["信息中心", 1234.56, 11111.11, 1, str(AccountingClass.GENERAL_EQUIPMENT.label), "记-0315",
                         "330100000001", datetime.date(2025, 3, 31)]
    second = rows[2]
    assert second[0] == 1500.1 and second[3] == "" and second[5] == 1500.1 and second[10] == ""


def test_booked_only_and_changed_in_a_month(client, school):
    mapping(school, [("资产编号", "code")])
    client.force_login(keeper_of(school))
    url = reverse("assets:report_fiscal_export")
    assert download(client.get(url, {"format": "xlsx", "booked": "on"}))[1:] == [["000123"]]
    assert download(client.get(url, {"format": "xlsx", "month": "2026-02"}))[1:] == [["ZC2"]]
    page = client.get(url, {"month": "2026-13"})
    assert page.status_code == 200 and page.context["form"].errors["month"]
    refused = client.get(url, {"month": "二月", "format": "xlsx"}, follow=True)
    assert "YYYY-MM" in refused.content.decode()


def test_the_default_layout_is_loaded_by_one_action_and_audited(client, school):
    keeper = keeper_of(school)
    client.force_login(keeper)
    url = reverse("assets:report_fiscal_export")
    assert client.get(url).context["columns"] == []
    response = client.post(url, {"what": "load_default"})
    assert response.status_code == 302
    columns = list(FiscalExportColumn.objects.filter(school=school).order_by("position"))
    assert [(c.header, c.field) for c in columns] == list(fiscal_export.DEFAULT_LAYOUT)
    assert AuditEntry.objects.filter(content_type__model="fiscalexportcolumn", action="create",
                                     object_id__in=[str(c.pk) for c in columns]).count() == len(columns)
    # Loading again without ticking "replace" changes nothing; ticking it replaces (each removal audited).
    client.post(url, {"what": "load_default"})
    assert list(FiscalExportColumn.objects.filter(school=school).order_by("position")) == columns
    client.post(url, {"what": "load_default", "replace": "1"})
    assert FiscalExportColumn.objects.filter(school=school).count() == len(fiscal_export.DEFAULT_LAYOUT)
    assert AuditEntry.objects.filter(content_type__model="fiscalexportcolumn", action="delete",
                                     object_id__in=[str(c.pk) for c in columns]).count() == len(columns)
    rows = download(client.get(url, {"format": "xlsx"}))
    assert rows[0] == [h for h, _c in fiscal_export.DEFAULT_LAYOUT]
    assert len(rows) == 3


def test_unknown_field_names_are_refused_with_a_clear_message(client, school):
    keeper = keeper_of(school)
    client.force_login(keeper)
    # The form and the API refuse an unknown name next to the field.
    page = client.post(reverse("assets:fiscalexportcolumn_add"), {"position": 1, "header": "资产编号",
                                                                  "field": "asset_no"})
    assert page.status_code == 400 and "asset_no" in " ".join(page.context["form"].errors["field"])
    api = client.post("/api/assets/fiscal-columns/", {"position": 1, "header": "资产编号", "field": "asset_no"},
                      content_type="application/json")
    assert api.status_code == 400 and "field" in api.json()["errors"]
    ok = client.post(reverse("assets:fiscalexportcolumn_add"), {"position": 1, "header": "资产编号", "field": "code"})
    assert ok.status_code == 302
    with pytest.raises(ValidationError) as exc:
        fiscal_export.column_create(school=school, actor=keeper, data={"position": 2, "header": "X", "field": "nope"})
    assert "nope" in exc.value.message_dict["field"][0]
    # A layout stored before a field was renamed: the export says which column is wrong, and writes nothing.
    FiscalExportColumn.objects.create(school=school, position=2, header="旧列", field="old_field")
    with pytest.raises(ValidationError) as exc:
        fiscal_export.layout(school.pk)
    assert "旧列" in exc.value.messages[0] and "old_field" in exc.value.messages[0]
    response = client.get(reverse("assets:report_fiscal_export"), {"format": "xlsx"}, follow=True)
    assert response["Content-Type"].startswith("text/html") and "old_field" in response.content.decode()


def test_no_layout_no_export(client, school):
    client.force_login(keeper_of(school))
    response = client.get(reverse("assets:report_fiscal_export"), {"format": "xlsx"}, follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert response.context["columns"] == [] and list(response.context["messages"])


@pytest.mark.parametrize("role,allowed", [("asset_keeper", True), ("logistics_director", True),
                                          ("accountant", False), ("principal", False), ("bureau", False)])
def test_who_may_change_the_layout(client, personas, role, allowed):
    client.force_login(personas[role])
    response = client.post(reverse("assets:report_fiscal_export"), {"what": "load_default", "replace": "1"})
    assert response.status_code == (302 if allowed else 403)
    add = client.get(reverse("assets:fiscalexportcolumn_add"))
    assert add.status_code == (200 if allowed else 403)
    assert client.get(reverse("assets:fiscalexportcolumn_list")).status_code == 200  # every report reader sees it


def test_a_card_edited_in_the_month_by_local_time(school):
    """``cards(month=…)`` takes a card edited in the month by the local calendar (Asia/Shanghai): one edited a
    microsecond before local midnight of 1 March is in February, one a microsecond after is not — as
    ``updated_at__date`` reads them."""
    import zoneinfo

    from houqin.assets.models import Asset

    local = zoneinfo.ZoneInfo("Asia/Shanghai")
    march = datetime.datetime(2026, 3, 1, tzinfo=local)
    card(school, "EDIT", AccountingClass.GENERAL_EQUIPMENT, "2000.00", acquired=datetime.date(2025, 1, 1))
    found = list(fiscal_export.cards(school.pk, month=(2026, 2)).values_list("code", flat=True))
    picked = list(fiscal_export.cards(school.pk).exclude(code__in=found)[:2])  # exported, not changed in February
    assert len(picked) == 2
    Asset.objects.filter(pk=picked[0].pk).update(updated_at=march - datetime.timedelta(microseconds=1))
    Asset.objects.filter(pk=picked[1].pk).update(updated_at=march + datetime.timedelta(microseconds=1))
    codes = set(fiscal_export.cards(school.pk, month=(2026, 2)).values_list("code", flat=True))
    assert picked[0].code in codes and picked[1].code not in codes
    by_date = set(Asset.objects.filter(school=school, updated_at__date__gte=datetime.date(2026, 2, 1),
                                       updated_at__date__lte=datetime.date(2026, 2, 28)).values_list("code", flat=True))
    assert by_date <= codes and picked[0].code in by_date
