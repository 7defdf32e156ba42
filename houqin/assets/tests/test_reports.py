"""The asset reports (AST-1, AST-12): 固定资产总账, 实训设备 value, 生均教学仪器设备值 — figures against a
hand-computed school, the tie-out as a hypothesis property, Excel read back, PDFs with Chinese text, and
who may see them.

The hand-computed school (its own school, so the demo cards do not count), year 2026:

====  ==========  =====  ==================================================  ================================
card  class       value  history                                             depreciation (active runs)
====  ==========  =====  ==================================================  ================================
C1    general     6000   cut-over 2025-12-31 with 1000 accumulated, 专业部 D1  83.33 in 2026-01, -02, -04
C2    general     4800   bought 2026-03-15 on project P1, 专业部 D1          66.67 in 2026-04
C3    furniture   3000   bought 2024-05-01, disposed of 2026-06-20           50 in 2025-12, 2026-01, -02, -04
C4    general     9000   lent by a partner company (校企合作), 专业部 D1       never on the books
C5    furniture   2000   bought 2020, disposed of 2025-10-01                 —
====  ==========  =====  ==================================================  ================================

A voided run of 2026-02 charged C1 999.00: it must not count anywhere.
"""

from __future__ import annotations

import datetime
import subprocess
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houqin.assets import reports, views_reports
from houqin.assets.choices import AccountingClass, Acquisition, FundingSource, UseStatus
from houqin.assets.models import (
    AccountingPeriod,
    Asset,
    AssetCategory,
    AssetMovement,
    DepreciationLine,
    DepreciationRun,
    FundingProject,
)
from houqin.assets.services.cards import category_seed
from houqin.org.models import Department, School, SchoolClass, Student, User

D = Decimal
MOVE = AssetMovement.Kind


def text_of(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return "".join(out.split())


def read_xlsx(content: bytes) -> list[list]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(__import__("io").BytesIO(content))
    return book.get_sheet_by_index(0).to_python()


# The hand-computed school -------------------------------------------------------------------------------------


_counter = iter(range(1, 10**6))


def new_school(name="报表测试学校") -> School:
    n = next(_counter)
    school = School.objects.create(name=f"{name}{n}", code=f"99{n:05d}")
    category_seed(school)
    return school


def card(school, code, klass, value, *, category="A02010105", acquired, moves=(), dept=None, project=None,
         acquisition=Acquisition.PURCHASE, opening=None, disposed=None, funding=FundingSource.FISCAL,
         booked_on=None) -> Asset:
    """A card and its journal rows, written straight into the tables (the services are tested elsewhere)."""
    asset = Asset.objects.create(
        school=school, code=code, name=f"测试{code}", category=AssetCategory.objects.get(school=school, code=category),
        accounting_class=klass, original_value=D(value), acquired_on=acquired, in_service_on=acquired,
        department=dept, project=project, acquisition=acquisition, funding_source=funding, life_months=72,
        opening_on=opening[0] if opening else None, opening_depreciation=D(opening[1]) if opening else None,
        disposed_on=disposed, status=UseStatus.DISPOSED if disposed else UseStatus.IN_USE,
        booking=Asset.Booking.BOOKED if booked_on else Asset.Booking.PENDING, booked_on=booked_on)
    for kind, day, change in moves:
        AssetMovement.objects.create(school=school, asset=asset, kind=kind, happened_on=day, value_change=D(change),
                                     status_after=UseStatus.IN_USE)
    return asset


def run(school, year, month, charges, *, voided=False) -> DepreciationRun:
    period, _created = AccountingPeriod.objects.get_or_create(school=school, year=year, month=month)
    r = DepreciationRun.objects.create(school=school, period=period, voided_at=timezone.now() if voided else None,
                                       void_reason="重算" if voided else "")
    for asset, amount in charges:
        DepreciationLine.objects.create(run=r, asset=asset, amount=D(amount), accumulated_after=D(0),
                                        accounting_class=asset.accounting_class, funding_source=asset.funding_source,
                                        department=asset.department)
    return r


@pytest.fixture
def hand(db):
    school = new_school()
    d1 = Department.objects.create(school=school, name="汽修专业部", kind=Department.Kind.MAJOR)
    office = Department.objects.create(school=school, name="总务处", kind=Department.Kind.ADMIN)
    p1 = FundingProject.objects.create(school=school, name="汽修实训基地项目", code="ZX-2026-01")
    c1 = card(school, "C1", AccountingClass.GENERAL_EQUIPMENT, "6000.00", acquired=datetime.date(2023, 1, 10),
              opening=(datetime.date(2025, 12, 31), "1000.00"), dept=d1, booked_on=datetime.date(2025, 12, 31),
              moves=[(MOVE.OPENING, datetime.date(2025, 12, 31), "6000.00")])
    c2 = card(school, "C2", AccountingClass.GENERAL_EQUIPMENT, "4800.00", acquired=datetime.date(2026, 3, 15),
              dept=d1, project=p1, funding=FundingSource.SPECIAL,
              moves=[(MOVE.REGISTER, datetime.date(2026, 3, 15), "4800.00")])
    c3 = card(school, "C3", AccountingClass.FURNITURE, "3000.00", category="A05010304",
              acquired=datetime.date(2024, 5, 1), disposed=datetime.date(2026, 6, 20), dept=office,
              moves=[(MOVE.REGISTER, datetime.date(2024, 5, 1), "3000.00"),
                     (MOVE.DISPOSE, datetime.date(2026, 6, 20), "-3000.00")])
    c4 = card(school, "C4", AccountingClass.GENERAL_EQUIPMENT, "9000.00", acquired=datetime.date(2025, 6, 1), dept=d1,
              acquisition=Acquisition.PARTNER_LENT, moves=[(MOVE.REGISTER, datetime.date(2025, 6, 1), "9000.00")])
    card(school, "C5", AccountingClass.FURNITURE, "2000.00", category="A05010304", acquired=datetime.date(2020, 3, 1),
         disposed=datetime.date(2025, 10, 1), moves=[(MOVE.REGISTER, datetime.date(2020, 3, 1), "2000.00"),
                                                     (MOVE.DISPOSE, datetime.date(2025, 10, 1), "-2000.00")])
    run(school, 2025, 12, [(c3, "50.00")])
    run(school, 2026, 1, [(c1, "83.33"), (c3, "50.00")])
    run(school, 2026, 2, [(c1, "999.00")], voided=True)
    run(school, 2026, 2, [(c1, "83.33"), (c3, "50.00")])
    run(school, 2026, 4, [(c1, "83.33"), (c2, "66.67"), (c3, "50.00")])
    # A partner-lent card never gets a line from the real run; one here proves the report leaves it out anyway.
    run(school, 2026, 5, [(c4, "125.00")])
    return {"school": school, "d1": d1, "office": office, "p1": p1, "c1": c1, "c2": c2, "c3": c3, "c4": c4}


def figures(row) -> dict:
    return dict(row.figures)


def by_key(ledger):
    return {r.key: r for r in ledger.rows}


# 总账 figures ---------------------------------------------------------------------------------------------------


def test_general_ledger_of_the_year_by_accounting_class(hand):
    ledger = reports.general_ledger(hand["school"].pk, reports.year_range(2026), "accounting_class")
    rows = by_key(ledger)
    assert set(rows) == {AccountingClass.GENERAL_EQUIPMENT, AccountingClass.FURNITURE}
    general = rows[AccountingClass.GENERAL_EQUIPMENT]
    assert general.cards == 2
    assert figures(general) == {
        "opening_value": D("6000.00"), "increases": D("4800.00"), "decreases": D("0.00"),
        "closing_value": D("10800.00"), "opening_depreciation": D("1000.00"), "depreciation": D("316.66"),
        "depreciation_taken_on": D("0.00"), "depreciation_written_off": D("0.00"),
        "closing_depreciation": D("1316.66"), "closing_net_value": D("9483.34")}
    furniture = rows[AccountingClass.FURNITURE]
    assert furniture.cards == 0  # C3 left the books in June, C5 before the year
    assert figures(furniture) == {
        "opening_value": D("3000.00"), "increases": D("0.00"), "decreases": D("3000.00"),
        "closing_value": D("0.00"), "opening_depreciation": D("50.00"), "depreciation": D("150.00"),
        "depreciation_taken_on": D("0.00"), "depreciation_written_off": D("200.00"),
        "closing_depreciation": D("0.00"), "closing_net_value": D("0.00")}
    total = ledger.total.figures
    assert (total["opening_value"], total["increases"], total["decreases"], total["closing_value"]) == (
        D("9000.00"), D("4800.00"), D("3000.00"), D("10800.00"))
    assert (total["opening_depreciation"], total["depreciation"], total["depreciation_written_off"],
            total["closing_depreciation"], total["closing_net_value"]) == (
        D("1050.00"), D("466.66"), D("200.00"), D("1316.66"), D("9483.34"))
    assert ledger.ties_out
    # The partner-lent card is reported beside the ledger, never in it.
    assert ledger.partner_lent == {"cards": 1, "value": D("9000.00")}
    assert "depreciation_taken_on" not in ledger.figures  # nothing was taken on in 2026


def test_general_ledger_of_a_month_ignores_the_voided_run(hand):
    ledger = reports.general_ledger(hand["school"].pk, reports.month_range(2026, 2), "accounting_class")
    general = by_key(ledger)[AccountingClass.GENERAL_EQUIPMENT].figures
    assert (general["opening_value"], general["closing_value"]) == (D("6000.00"), D("6000.00"))
    assert (general["opening_depreciation"], general["depreciation"], general["closing_depreciation"]) == (
        D("1083.33"), D("83.33"), D("1166.66"))
    furniture = by_key(ledger)[AccountingClass.FURNITURE].figures
    assert (furniture["opening_depreciation"], furniture["depreciation"], furniture["closing_depreciation"]) == (
        D("100.00"), D("50.00"), D("150.00"))


def test_general_ledger_of_the_second_quarter_writes_off_the_disposal(hand):
    ledger = reports.general_ledger(hand["school"].pk, reports.quarter_range(2026, 2), "accounting_class")
    general = by_key(ledger)[AccountingClass.GENERAL_EQUIPMENT].figures
    assert (general["opening_value"], general["increases"], general["closing_value"]) == (
        D("10800.00"), D("0.00"), D("10800.00"))
    assert (general["opening_depreciation"], general["depreciation"], general["closing_depreciation"]) == (
        D("1166.66"), D("150.00"), D("1316.66"))
    furniture = by_key(ledger)[AccountingClass.FURNITURE].figures
    assert (furniture["opening_value"], furniture["decreases"], furniture["closing_value"]) == (
        D("3000.00"), D("3000.00"), D("0.00"))
    assert (furniture["opening_depreciation"], furniture["depreciation"], furniture["depreciation_written_off"],
            furniture["closing_depreciation"]) == (D("150.00"), D("50.00"), D("200.00"), D("0.00"))
    assert ledger.ties_out


def test_general_ledger_by_department_category_and_funding_source(hand):
    school = hand["school"].pk
    year = reports.year_range(2026)
    by_dept = reports.general_ledger(school, year, "department")
    assert sorted(r.label for r in by_dept.rows) == sorted(["汽修专业部", "总务处"])
    assert by_key(by_dept)[hand["d1"].pk].figures["closing_value"] == D("10800.00")
    assert by_key(by_dept)[hand["office"].pk].figures["decreases"] == D("3000.00")
    top = reports.general_ledger(school, year, "category_top")
    assert [r.label for r in top.rows] == ["A02 设备", "A05 家具和用具"]
    full = reports.general_ledger(school, year, "category")
    assert [r.label for r in full.rows] == ["A02010105 台式计算机", "A05010304 教学、实验椅凳"]
    source = reports.general_ledger(school, year, "funding_source")
    assert by_key(source)[FundingSource.SPECIAL].figures["increases"] == D("4800.00")
    assert by_key(source)[FundingSource.FISCAL].figures["opening_value"] == D("9000.00")
    for ledger in (by_dept, top, full, source):
        assert ledger.ties_out
        assert ledger.total.figures["closing_value"] == D("10800.00")
        assert ledger.total.figures["closing_depreciation"] == D("1316.66")


def test_general_ledger_booked_only_keeps_the_cards_finance_booked(hand):
    ledger = reports.general_ledger(hand["school"].pk, reports.year_range(2026), "accounting_class",
                                    booked_only=True)
    assert [r.key for r in ledger.rows] == [AccountingClass.GENERAL_EQUIPMENT]
    general = ledger.rows[0].figures
    assert (general["opening_value"], general["increases"], general["closing_value"]) == (
        D("6000.00"), D("0.00"), D("6000.00"))
    assert general["closing_depreciation"] == D("1249.99")


def test_cut_over_in_the_range_is_taken_on_not_charged(db):
    school = new_school()
    card(school, "K1", AccountingClass.GENERAL_EQUIPMENT, "1200.00", acquired=datetime.date(2022, 1, 1),
         opening=(datetime.date(2026, 3, 31), "400.00"), moves=[(MOVE.OPENING, datetime.date(2026, 3, 31), "1200.00")])
    ledger = reports.general_ledger(school.pk, reports.year_range(2026), "accounting_class")
    row = ledger.rows[0].figures
    assert (row["opening_value"], row["increases"], row["closing_value"]) == (D("0.00"), D("1200.00"),
                                                                              D("1200.00"))
    assert (row["depreciation"], row["depreciation_taken_on"], row["closing_depreciation"]) == (
        D("0.00"), D("400.00"), D("400.00"))
    assert "depreciation_taken_on" in ledger.figures and ledger.ties_out


# The tie-out property ------------------------------------------------------------------------------------------


MONTHS = [(2025, m) for m in range(10, 13)] + [(2026, m) for m in range(1, 13)]


def _day(index: int, dom: int) -> datetime.date:
    year, month = MONTHS[index]
    return datetime.date(year, month, min(dom, 28))


card_strategy = st.fixed_dictionaries({
    "klass": st.sampled_from([AccountingClass.GENERAL_EQUIPMENT, AccountingClass.FURNITURE,
                              AccountingClass.SPECIAL_EQUIPMENT]),
    "value": st.decimals(min_value=D("1000.00"), max_value=D("99999.99"), places=2),
    "start": st.integers(0, len(MONTHS) - 1),
    "dom": st.integers(1, 28),
    "opening": st.one_of(st.none(), st.decimals(min_value=D("0.00"), max_value=D("900.00"), places=2)),
    "dispose_after": st.one_of(st.none(), st.integers(0, 8)),
    "lent": st.booleans(),
    "charges": st.lists(st.decimals(min_value=D("0.01"), max_value=D("99.99"), places=2), max_size=5),
    "voided": st.lists(st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2), max_size=2),
})


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(cards=st.lists(card_strategy, min_size=1, max_size=6), first=st.integers(0, len(MONTHS) - 1),
       length=st.integers(1, 6), dimension=st.sampled_from(list(reports.DIMENSIONS)))
def test_ledger_ties_out_and_ranges_chain(cards, first, length, dimension):
    """opening + increases − decreases = closing per row and in total; depreciation likewise; the closing of a
    range is the opening of the next; the totals do not depend on the dimension."""
    with transaction.atomic():
        school = new_school("性质测试")
        lines: dict = {}
        for n, spec in enumerate(cards):
            acquired = _day(spec["start"], spec["dom"])
            end_index = None if spec["dispose_after"] is None else min(spec["start"] + spec["dispose_after"],
                                                                       len(MONTHS) - 1)
            disposed = None if end_index is None else _day(end_index, 28)
            moves = [(MOVE.OPENING if spec["opening"] is not None else MOVE.REGISTER, acquired, spec["value"])]
            if disposed:
                moves.append((MOVE.DISPOSE, disposed, -spec["value"]))
            asset = card(school, f"P{n}", spec["klass"], spec["value"], acquired=acquired, moves=moves,
                         opening=(acquired, spec["opening"]) if spec["opening"] is not None else None,
                         disposed=disposed, category="A05010304" if spec["klass"] == AccountingClass.FURNITURE
                         else "A02010105",
                         acquisition=Acquisition.PARTNER_LENT if spec["lent"] else Acquisition.PURCHASE)
            last = end_index - 1 if end_index is not None else len(MONTHS) - 1
            for k, amount in enumerate(spec["charges"]):
                month = spec["start"] + k
                if month <= last:
                    lines.setdefault(month, []).append((asset, amount))
            for k, amount in enumerate(spec["voided"]):
                if spec["start"] + k < len(MONTHS):
                    lines.setdefault(("void", spec["start"] + k), []).append((asset, amount))
        for key, charges in lines.items():
            voided = isinstance(key, tuple)
            year, month = MONTHS[key[1] if voided else key]
            run(school, year, month, charges, voided=voided)

        last_index = min(first + length - 1, len(MONTHS) - 1)
        whole = reports.months_range(MONTHS[first], MONTHS[last_index])
        ledger = reports.general_ledger(school.pk, whole, dimension)
        assert ledger.ties_out
        baseline = reports.general_ledger(school.pk, whole, "accounting_class")
        assert ledger.total.figures == baseline.total.figures
        # Month by month: each closing is the next opening, and the flows add up to the whole range's.
        previous = None
        flows = dict.fromkeys(("increases", "decreases", "depreciation", "depreciation_written_off"), D("0.00"))
        for index in range(first, last_index + 1):
            month = reports.general_ledger(school.pk, reports.month_range(*MONTHS[index]), dimension)
            assert month.ties_out
            if previous is not None:
                assert month.total.figures["opening_value"] == previous.total.figures["closing_value"]
                assert month.total.figures["opening_depreciation"] == previous.total.figures["closing_depreciation"]
            for name in flows:
                flows[name] += month.total.figures[name]
            previous = month
        for name, value in flows.items():
            assert ledger.total.figures[name] == value, name
        assert previous.total.figures["closing_value"] == ledger.total.figures["closing_value"]
        transaction.set_rollback(True)


# 实训设备 and 生均值 ------------------------------------------------------------------------------------------------


def test_training_equipment_by_major_department_and_project(hand):
    report = reports.training_equipment(hand["school"].pk, datetime.date(2026, 6, 30))
    assert [r["label"] for r in report.by_department] == ["汽修专业部"]  # 总务处 is not a 专业部
    own, lent = report.by_department[0]["own"], report.by_department[0]["lent"]
    assert (own.cards, own.original_value, own.depreciation, own.net_value) == (
        2, D("10800.00"), D("1316.66"), D("9483.34"))
    assert (lent.cards, lent.original_value) == (1, D("9000.00"))  # tracked beside, not owned
    assert [(b.label, b.cards, b.original_value, b.depreciation, b.net_value) for b in report.by_project] == [
        ("汽修实训基地项目", 1, D("4800.00"), D("66.67"), D("4733.33"))]
    # Before C2 was bought the project had nothing, and C1 had its cut-over balance only.
    early = reports.training_equipment(hand["school"].pk, datetime.date(2026, 1, 31))
    assert early.by_project == []
    own = early.by_department[0]["own"]
    assert (own.cards, own.original_value, own.depreciation) == (1, D("6000.00"), D("1083.33"))


def test_per_student_value_hand_computed(hand):
    school = hand["school"]
    klass = SchoolClass.objects.create(school=school, name="汽修2401", intake_year=2024, major="汽车运用与维修",
                                       department=hand["d1"])
    for n, status in enumerate([Student.Status.ENROLLED] * 3 + [Student.Status.GRADUATED, Student.Status.SUSPENDED]):
        Student.objects.create(school=school, school_class=klass, student_no=f"S{n}", name=f"学生{'甲乙丙丁戊'[n]}",
                               status=status)
    report = reports.per_student_value(school.pk, datetime.date(2026, 6, 30))
    assert report.equipment.original_value == D("10800.00")  # C1 + C2; C4 is lent, C3 is furniture
    assert (report.students, report.per_student) == (3, D("3600.00"))
    entered = reports.per_student_value(school.pk, datetime.date(2026, 6, 30), students=36)
    assert (entered.students, entered.students_counted, entered.per_student) == (36, 3, D("300.00"))
    furniture_too = reports.per_student_value(school.pk, datetime.date(2026, 5, 31), classes=[
        AccountingClass.GENERAL_EQUIPMENT, AccountingClass.FURNITURE])
    assert furniture_too.equipment.original_value == D("13800.00")  # C3 is still there in May
    only_a05 = reports.per_student_value(school.pk, datetime.date(2026, 5, 31), classes=[
        AccountingClass.GENERAL_EQUIPMENT, AccountingClass.FURNITURE], categories=["A05"])
    assert only_a05.equipment.original_value == D("3000.00")
    nobody = reports.per_student_value(new_school().pk, datetime.date(2026, 6, 30))
    assert nobody.students == 0 and nobody.per_student is None


# Pages, Excel, PDF ---------------------------------------------------------------------------------------------


def keeper_of(school) -> User:
    user = User.objects.create_user(username=f"keeper-{school.code}", password="x", school=school,
                                    display_name="资产管理员")
    user.groups.add(Group.objects.get(name="asset_keeper"))
    return user


def test_ledger_page_excel_and_pdf(client, hand):
    client.force_login(keeper_of(hand["school"]))
    url = reverse("assets:report_ledger")
    page = client.get(url, {"period": "year", "year": 2026, "dimension": "accounting_class"})
    assert page.status_code == 200
    html = page.content.decode()
    # zh-hans pages print numbers without a thousands separator (Django's zh_Hans formats).
    assert "10800.00" in html and "1316.66" in html and "9483.34" in html
    assert reverse("assets:print_center") in html  # the 明细账 is linked, not repeated

    xlsx = client.get(url, {"period": "year", "year": 2026, "dimension": "department", "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    sheet = read_xlsx(b"".join(xlsx.streaming_content))
    header_row = next(i for i, row in enumerate(sheet) if row and row[0] == str(reports.DIMENSIONS["department"]))
    body = sheet[header_row + 1:]
    d1 = next(r for r in body if r[0] == "汽修专业部")
    assert d1[1:6] == [2, 6000.0, 4800.0, 0.0, 10800.0]
    assert body[-1][0] == views_reports._("Total") and body[-1][5] == 10800.0
    assert all(isinstance(v, float | int) for v in body[-1][1:])  # numbers as numbers

    pdf = client.get(url, {"period": "quarter", "year": 2026, "quarter": 2, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = text_of(pdf.content)
    assert "".join(views_reports.ledger_title().split()) in text
    assert hand["school"].name in text
    assert "1,316.66" in text


def test_ledger_filter_errors_are_shown_next_to_the_field(client, hand):
    client.force_login(keeper_of(hand["school"]))
    page = client.get(reverse("assets:report_ledger"), {"period": "quarter", "year": 2026})
    assert page.status_code == 200
    assert page.context["form"].errors["quarter"]
    bad_year = client.get(reverse("assets:report_ledger"), {"year": "19"})
    assert bad_year.context["form"].errors["year"]


def test_training_and_per_student_pages_excel_and_pdf(client, hand):
    client.force_login(keeper_of(hand["school"]))
    training = reverse("assets:report_training")
    page = client.get(training, {"day": "2026-06-30"})
    assert page.status_code == 200 and "汽修实训基地项目" in page.content.decode()
    sheet = read_xlsx(b"".join(client.get(training, {"day": "2026-06-30", "format": "xlsx"}).streaming_content))
    row = next(r for r in sheet if r and r[0] == "汽修专业部")
    assert row[1:] == [2, 10800.0, 1316.66, 9483.34, 1, 9000.0]
    pdf = client.get(training, {"day": "2026-06-30", "format": "pdf"}).content
    assert "".join(views_reports.training_title().split()) in text_of(pdf) and "汽修实训基地项目" in text_of(pdf)

    per = reverse("assets:report_per_student")
    page = client.get(per, {"day": "2026-06-30", "students": 36})
    assert page.status_code == 200 and "¥300.00" in page.content.decode()
    sheet = read_xlsx(b"".join(client.get(per, {"day": "2026-06-30", "students": 36, "format": "xlsx"})
                               .streaming_content))
    assert sheet[-1][2] == 300.0 and sheet[-2][1] == 36
    pdf = client.get(per, {"day": "2026-06-30", "students": 36, "format": "pdf"}).content
    text = text_of(pdf)
    assert "".join(views_reports.per_student_title().split()) in text and "¥300.00" in text
    future = client.get(per, {"day": "2999-01-01"})
    assert future.context["form"].errors["day"]
    bad_code = client.get(per, {"categories": "A05;drop"})
    assert bad_code.context["form"].errors["categories"]


ALLOWED = ("asset_keeper", "logistics_director", "accountant", "principal", "vice_principal", "bureau")
REFUSED = ("teacher", "class_teacher", "cashier", "logistics_clerk", "guard", "sysadmin", "group_head")
PAGES = ("assets:report_ledger", "assets:report_training", "assets:report_per_student",
         "assets:report_fiscal_export")


@pytest.mark.parametrize("role", ALLOWED + REFUSED)
def test_report_pages_per_role(client, personas, role):
    client.force_login(personas[role])
    for name in PAGES:
        status = client.get(reverse(name)).status_code
        assert status == (200 if role in ALLOWED else 403), (role, name, status)
    for name in ("assets:report_ledger", "assets:report_training"):
        status = client.get(reverse(name), {"format": "xlsx"}).status_code
        assert status == (200 if role in ALLOWED else 403), (role, name, status)


def test_the_bureau_picks_the_school(client, personas, hand):
    client.force_login(personas["bureau"])
    page = client.get(reverse("assets:report_ledger"), {"school": hand["school"].pk, "year": 2026})
    assert page.status_code == 200 and page.context["school"] == hand["school"]
    assert page.context["report"].total.figures["closing_value"] == D("10800.00")


def test_menu_entries_follow_the_permission(client, personas):
    client.force_login(personas["accountant"])
    assert reverse("assets:report_ledger") in client.get("/").content.decode()
    client.force_login(personas["teacher"])
    assert reverse("assets:report_ledger") not in client.get("/").content.decode()


def test_the_figures_as_json_for_programs(client, hand):
    client.force_login(keeper_of(hand["school"]))
    ledger = client.get(reverse("assets:report_ledger"), {"year": 2026, "format": "json"})
    assert ledger.status_code == 200
    data = ledger.json()
    assert (data["start"], data["end"], data["dimension"]) == ("2026-01-01", "2026-12-31", "accounting_class")
    assert data["total"]["closing_value"] == "10800.00" and data["total"]["closing_depreciation"] == "1316.66"
    assert data["partner_lent"] == {"cards": 1, "value": "9000.00"}
    bad = client.get(reverse("assets:report_ledger"), {"period": "quarter", "format": "json"})
    assert bad.status_code == 400 and "quarter" in bad.json()["errors"]
    training = client.get(reverse("assets:report_training"), {"day": "2026-06-30", "format": "json"}).json()
    assert training["by_project"][0]["net_value"] == "4733.33"
    assert training["by_department"][0]["partner_lent"]["original_value"] == "9000.00"
    per = client.get(reverse("assets:report_per_student"), {"day": "2026-06-30", "students": 36,
                                                            "format": "json"}).json()
    assert (per["equipment_value"], per["students"], per["per_student"]) == ("10800.00", 36, "300.00")
    assert client.get(reverse("assets:report_per_student"), {"students": 0, "format": "json"}).status_code == 400
