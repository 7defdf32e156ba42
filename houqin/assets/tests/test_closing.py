"""AST-7, AST-9, AST-10: depreciation against hand-computed cases, the 对账表, signatures and the close."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houqin.assets import depreciation as dep
from houqin.assets.choices import AccountingClass, Acquisition, FundingSource, UseStatus, ValuationType
from houqin.assets.models import AccountingPeriod, Asset, AssetMovement, DepreciationLine
from houqin.assets.services import cards, closing, journal, periods
from houqin.core.models import AuditEntry

from .factories import _category, _room

D = Decimal


@pytest.fixture
def keeper(personas):
    return personas["asset_keeper"]


@pytest.fixture
def accountant(personas):
    return personas["accountant"]


def card(school, keeper, *, value="6000.00", in_service=datetime.date(2024, 3, 15), life=None, booked=True,
         category="A02010105", **extra):
    data = {"name": "台式计算机", "category": _category(category), "original_value": D(value), "quantity": 1,
            "acquired_on": extra.pop("acquired_on", in_service), "in_service_on": in_service, "room": _room(1)}
    if life:
        data["life_months"] = life
    data.update(extra)
    asset = cards.asset_create(school=school, actor=keeper, data=data)
    if booked:
        closing.book_cards(school=school, actor=keeper, cards=[asset], voucher_no="记-0001",
                           booked_on=max(in_service, data["acquired_on"]))
    asset.refresh_from_db()
    return asset


def run(school, keeper, year, month, **kw):
    return closing.run_depreciation(period=closing.period_get(school, year, month), actor=keeper, **kw)


def charges(asset):
    return list(DepreciationLine.objects.filter(asset=asset, run__voided_at__isnull=True)
                .order_by("run__period__year", "run__period__month").values_list("amount", flat=True))


# The arithmetic (domain-rules.md §2.3) -------------------------------------------------------------------------------
def test_the_6000_yuan_computer_over_six_years():
    """¥6,000 over 72 months: ¥83.33 for 71 months and ¥83.57 in month 72."""
    months = dep.schedule(dep.basis_for(original_value=D("6000"), life_months=72,
                                        in_service_on=datetime.date(2024, 3, 15)))
    assert len(months) == 72
    assert set(months[:71]) == {D("83.33")}
    assert months[71] == D("83.57")
    assert sum(months) == D("6000.00")


def test_cut_over_card_spreads_its_remaining_value_over_its_remaining_life():
    # In service 2020-03, opening balance at 2021-12-31 after 22 months: 4,166.74 left over 50 months.
    basis = dep.basis_for(original_value=D("6000"), life_months=72, in_service_on=datetime.date(2020, 3, 1),
                          opening_on=datetime.date(2021, 12, 31), opening_depreciation=D("1833.26"))
    assert (basis.start, basis.months, basis.value) == (dep.month_index(datetime.date(2022, 1, 1)), 50, D("4166.74"))
    months = dep.schedule(basis)
    assert len(months) == 50 and months[0] == D("83.33") and sum(months) == D("4166.74")


def test_cut_over_card_past_its_life_is_charged_its_remainder_once():
    basis = dep.basis_for(original_value=D("5000"), life_months=60, in_service_on=datetime.date(2010, 1, 1),
                          opening_on=datetime.date(2021, 12, 31), opening_depreciation=D("4900"))
    assert dep.schedule(basis) == [D("100.00")]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(value=st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2),
       life=st.integers(min_value=1, max_value=600))
def test_schedule_sums_to_the_value_and_never_overshoots(value, life):
    months = dep.schedule(dep.basis_for(original_value=value, life_months=life,
                                        in_service_on=datetime.date(2024, 1, 1)))
    assert sum(months) == value
    assert len(months) <= life
    assert all(m >= 0 for m in months)
    running = D("0")
    for m in months:
        running += m
        assert running <= value


# The run ----------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_in_service_month_is_charged_and_the_final_month_takes_the_rounding(school, keeper):
    asset = card(school, keeper, in_service=datetime.date(2024, 3, 31))
    first = run(school, keeper, 2024, 3)
    assert first.cards >= 1
    assert charges(asset) == [D("83.33")]  # 当月增加当月计提: put in service on the 31st, charged for March
    asset.refresh_from_db()
    assert asset.accumulated_depreciation == D("83.33")


@pytest.mark.django_db
def test_disposal_month_is_not_charged_and_never_caught_up(school, keeper):
    asset = card(school, keeper, in_service=datetime.date(2024, 1, 10))
    run(school, keeper, 2024, 1)
    run(school, keeper, 2024, 2)
    locked = journal.lock(Asset, [asset.pk])[asset.pk]
    journal.post(locked, kind=AssetMovement.Kind.DISPOSE, actor=keeper, on=datetime.date(2024, 3, 5),
                 status=UseStatus.DISPOSED, value_change=-locked.original_value)
    run(school, keeper, 2024, 3)
    run(school, keeper, 2024, 4)
    assert charges(asset) == [D("83.33"), D("83.33")]
    asset.refresh_from_db()
    assert asset.disposed_on == datetime.date(2024, 3, 5)


@pytest.mark.django_db
def test_fully_depreciated_card_stops_and_stays_on_the_books(school, keeper):
    asset = card(school, keeper, value="1200.00", life=72, in_service=datetime.date(2018, 1, 1),
                 opening_on=datetime.date(2023, 11, 30), opening_depreciation=D("1180.00"))
    assert asset.accumulated_depreciation == D("1180.00")
    result = run(school, keeper, 2023, 12)
    assert charges(asset) == [D("20.00")]  # month 72 of 72: the remainder
    assert result.fully_depreciated >= 1
    run(school, keeper, 2024, 1)
    assert charges(asset) == [D("20.00")]
    asset.refresh_from_db()
    assert asset.accumulated_depreciation == asset.original_value and asset.net_value == 0
    assert asset.status != UseStatus.DISPOSED


@pytest.mark.django_db
def test_not_depreciated_classes_nominal_partner_and_unbooked(school, keeper):
    books = _category("A05010304")
    books.accounting_class, books.default_life_years = AccountingClass.BOOKS, None
    books.save()
    in_service = datetime.date(2024, 1, 5)
    library = card(school, keeper, value="30000.00", category="A05010304", in_service=in_service,
                   accounting_class=AccountingClass.BOOKS, quantity=2000)
    nominal = card(school, keeper, value="1.00", valuation_type=ValuationType.NOMINAL, in_service=in_service)
    lent = card(school, keeper, value="90000.00", acquisition=Acquisition.PARTNER_LENT, booked=False,
                in_service=in_service)
    pending = card(school, keeper, value="6000.00", booked=False, in_service=in_service)
    normal = card(school, keeper, value="6000.00", in_service=in_service)
    run(school, keeper, 2024, 1)
    assert charges(library) == charges(nominal) == charges(lent) == charges(pending) == []
    assert charges(normal) == [D("83.33")]
    # Booked late: caught up (补提) in the month it is booked, so the books agree with finance.
    closing.book_cards(school=school, actor=keeper, cards=[pending], voucher_no="记-0099",
                       booked_on=datetime.date(2024, 2, 20))
    run(school, keeper, 2024, 2)
    assert charges(pending) == [D("166.66")]


@pytest.mark.django_db
def test_cut_over_card_continues_from_its_opening_balance(school, keeper):
    asset = card(school, keeper, in_service=datetime.date(2020, 3, 1), opening_on=datetime.date(2021, 12, 31),
                 opening_depreciation=D("1833.26"), acquired_on=datetime.date(2020, 3, 1))
    run(school, keeper, 2022, 1)
    run(school, keeper, 2022, 2)
    assert charges(asset) == [D("83.33"), D("83.33")]
    asset.refresh_from_db()
    assert asset.accumulated_depreciation == D("1999.92")


@pytest.mark.django_db
def test_rerun_voids_the_previous_run_with_a_reason_and_months_run_in_order(school, keeper):
    asset = card(school, keeper, in_service=datetime.date(2024, 1, 1))
    run(school, keeper, 2024, 1)
    with pytest.raises(ValidationError, match="2024-02"):
        run(school, keeper, 2024, 3)
    with pytest.raises(ValidationError) as refused:
        run(school, keeper, 2024, 1)
    assert "reason" in refused.value.message_dict
    run(school, keeper, 2024, 1, reason="补录一张卡片")
    asset.refresh_from_db()
    assert asset.accumulated_depreciation == D("83.33")  # not doubled
    period = AccountingPeriod.objects.get(school=school, year=2024, month=1)
    assert period.runs.count() == 2 and period.runs.filter(voided_at__isnull=True).count() == 1
    run(school, keeper, 2024, 2)
    with pytest.raises(ValidationError, match="以后月份已计提"):
        run(school, keeper, 2024, 1, reason="again")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VOID, message="补录一张卡片").exists()


@pytest.mark.django_db
def test_depreciation_table_groups_by_class_department_and_source(school, keeper):
    card(school, keeper, in_service=datetime.date(2024, 1, 1))
    card(school, keeper, value="12000.00", in_service=datetime.date(2024, 1, 1), funding_source=FundingSource.SPECIAL)
    run(school, keeper, 2024, 1)
    table = closing.depreciation_table(closing.period_get(school, 2024, 1))
    amounts = sorted(row["amount"] for row in table)
    assert amounts == [D("83.33"), D("166.67")]


# The 对账表, signatures and the close -------------------------------------------------------------------------------
def _finance_rows(stmt, **override):
    rows = [{"accounting_class": ln.accounting_class, "funding_source": ln.funding_source,
             "original_value": ln.houqin_value, "accumulated_depreciation": ln.houqin_depreciation}
            for ln in stmt.lines]
    for row in rows:
        row.update(override.get(row["accounting_class"], {}))
    return rows


@pytest.mark.django_db
def test_statement_against_a_crafted_finance_balance(school, keeper, accountant):
    Asset.objects.filter(school=school).update(booking=Asset.Booking.PENDING)  # only this test's cards count
    card(school, keeper, in_service=datetime.date(2024, 1, 1))
    card(school, keeper, value="30000.00", category="A05010304", in_service=datetime.date(2024, 1, 1),
         accounting_class=AccountingClass.FURNITURE, quantity=20)
    base = closing.pending_cards(school, datetime.date(2024, 1, 31))
    card(school, keeper, value="4000.00", booked=False, in_service=datetime.date(2024, 1, 1), quantity=2)
    run(school, keeper, 2024, 1)
    period = closing.period_get(school, 2024, 1)
    closing.set_finance_balances(period=period, actor=accountant, rows=[
        {"accounting_class": "general", "funding_source": "fiscal", "original_value": "6000.00",
         "accumulated_depreciation": "83.33"},
        {"accounting_class": "furniture", "funding_source": "fiscal", "original_value": "29000.00",
         "accumulated_depreciation": "500.00"},
    ])
    stmt = closing.statement(period)
    by_class = {ln.accounting_class: ln for ln in stmt.lines}
    assert not by_class["general"].differs
    furniture = by_class["furniture"]
    assert furniture.houqin_value == D("30000.00") and furniture.value_difference == D("1000.00")
    assert furniture.houqin_depreciation == D("500.00")  # 30,000 / 60 months (student furniture, 5 years)
    assert [ln.accounting_class for ln in stmt.unexplained] == ["furniture"]
    assert stmt.pending["cards"] - base["cards"] == 1
    assert stmt.pending["value"] - base["value"] == D("4000.00")


@pytest.mark.django_db
def test_close_needs_voucher_explanations_and_both_signatures_then_locks(school, keeper, accountant, personas):
    Asset.objects.filter(school=school).update(booking=Asset.Booking.PENDING)
    asset = card(school, keeper, in_service=datetime.date(2024, 1, 1))
    period = closing.period_get(school, 2024, 1)
    with pytest.raises(ValidationError, match="尚未计提折旧"):
        closing.sign(period=period, actor=keeper, side="keeper")
    run(school, keeper, 2024, 1)
    stmt = closing.statement(period)
    closing.set_finance_balances(period=period, actor=accountant, rows=_finance_rows(
        stmt, general={"original_value": D("5000.00")}))
    with pytest.raises(ValidationError) as refused:
        closing.sign(period=period, actor=keeper, side="keeper")
    text = " ".join(refused.value.messages)
    assert "凭证号" in text and "没有说明" in text
    closing.book_depreciation(period=period, actor=accountant, voucher_no="记-0031",
                              booked_on=datetime.date(2024, 1, 31))
    closing.explain_difference(period=period, actor=accountant, accounting_class="general",
                               funding_source="fiscal", explanation="一台电脑财务记在1月凭证记-0040，资产2月入账")
    with pytest.raises(ValidationError, match="无权代表"):
        closing.sign(period=period, actor=keeper, side="finance")
    closing.sign(period=period, actor=keeper, side="keeper")
    with pytest.raises(ValidationError, match="双方签字"):
        closing.close(period=period, actor=keeper)
    closing.sign(period=period, actor=accountant, side="finance")
    # A change of the figures after signing withdraws the signatures.
    closing.explain_difference(period=period, actor=accountant, accounting_class="general",
                               funding_source="fiscal", explanation="原因：2月入账")
    period.refresh_from_db()
    assert period.keeper_signed_at is None and period.accountant_signed_at is None
    closing.sign(period=period, actor=keeper, side="keeper")
    closing.sign(period=period, actor=accountant, side="finance")
    with pytest.raises(ValidationError, match="无权结账"):
        closing.close(period=period, actor=accountant)
    closing.close(period=period, actor=keeper)
    period.refresh_from_db()
    assert period.status == AccountingPeriod.Status.CLOSED

    # A closed month refuses writes: the journal, depreciation, booking, finance balances.
    locked = journal.lock(Asset, [asset.pk])[asset.pk]
    with pytest.raises(ValidationError, match="已结账"):
        journal.post(locked, kind=AssetMovement.Kind.TRANSFER, actor=keeper, on=datetime.date(2024, 1, 20),
                     room=_room(2))
    with pytest.raises(ValidationError, match="已结账"):
        run(school, keeper, 2024, 1, reason="x")
    with pytest.raises(ValidationError, match="已结账"):
        closing.set_finance_balances(period=period, actor=accountant, rows=[])
    new = card(school, keeper, booked=False, in_service=datetime.date(2024, 2, 1))
    with pytest.raises(ValidationError) as refused:
        closing.book_cards(school=school, actor=keeper, cards=[new], voucher_no="记-1", booked_on=datetime.date(2024, 1, 31))
    assert "booked_on" in refused.value.message_dict
    with pytest.raises(ValidationError, match="已结账"):
        cards.asset_create(school=school, actor=keeper, data={
            "name": "补录电脑", "category": _category(), "original_value": D("5000"), "quantity": 1,
            "acquired_on": datetime.date(2024, 1, 15)})
    # …and the correction goes into the open month.
    journal.post(locked, kind=AssetMovement.Kind.TRANSFER, actor=keeper, on=datetime.date(2024, 2, 3), room=_room(2))
    assert periods.first_open_month(school) == (2024, 2)


@pytest.mark.django_db
def test_months_close_in_order(school, keeper, accountant):
    Asset.objects.filter(school=school).update(booking=Asset.Booking.PENDING)
    card(school, keeper, in_service=datetime.date(2024, 1, 1))
    for month in (1, 2):
        period = closing.period_get(school, 2024, month)
        run(school, keeper, 2024, month)
        closing.book_depreciation(period=period, actor=accountant, voucher_no=f"记-{month}",
                                  booked_on=datetime.date(2024, month, 28))
        closing.set_finance_balances(period=period, actor=accountant,
                                     rows=_finance_rows(closing.statement(period)))
    february = closing.period_get(school, 2024, 2)
    with pytest.raises(ValidationError, match="2024-01"):
        closing.sign(period=february, actor=keeper, side="keeper")


@pytest.mark.django_db
def test_finance_balances_refuse_bad_rows_by_number(school, accountant):
    period = closing.period_get(school, 2024, 5)
    with pytest.raises(ValidationError) as refused:
        closing.set_finance_balances(period=period, actor=accountant, rows=[
            {"accounting_class": "general", "funding_source": "fiscal", "original_value": "-5"},
            {"accounting_class": "nope", "funding_source": "fiscal", "original_value": "5"},
        ])
    text = " ".join(refused.value.messages)
    assert "第 1 行" in text and "第 2 行" in text
    assert not period.finance_balances.exists()
    # Not a number, infinite, or more digits than the column holds (16, 2 after the point): a row's message,
    # never a server error.
    for amount in ("NaN", "sNaN", "Infinity", "-Infinity", "1e20", "12345678901234567"):
        with pytest.raises(ValidationError) as refused:
            closing.set_finance_balances(period=period, actor=accountant, rows=[
                {"accounting_class": "general", "funding_source": "fiscal", "original_value": amount}])
        assert "第 1 行" in " ".join(refused.value.messages), amount
    assert not period.finance_balances.exists()


@pytest.mark.django_db
def test_a_booked_value_is_not_edited_and_a_longer_life_rebases(school, keeper):
    asset = card(school, keeper, in_service=datetime.date(2024, 1, 1))
    with pytest.raises(ValidationError) as refused:
        cards.asset_update(asset=asset, actor=keeper, data={"original_value": D("7000.00")})
    assert "original_value" in refused.value.message_dict
    for month in (1, 2, 3):
        run(school, keeper, 2024, month)
    asset.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        cards.asset_update(asset=asset, actor=keeper, data={"life_months": 96})
    assert "life_reason" in refused.value.message_dict
    cards.asset_update(asset=asset, actor=keeper, data={"life_months": 96, "life_reason": "大修后延长使用"})
    asset.refresh_from_db()
    assert asset.rebased_accumulated == D("249.99") and asset.rebased_on is not None
    basis = closing.card_basis(asset)
    # What is left (5,750.01) over what is left of the longer life, from the rebase month.
    assert basis.value == D("5750.01")
    assert basis.months == 96 - (dep.month_index(asset.rebased_on) - dep.month_index(asset.in_service_on))


@pytest.mark.django_db
def test_disposal_lines_carry_the_net_value_after_depreciation(school, keeper):
    from houqin.assets.services import documents

    asset = card(school, keeper, in_service=datetime.date(2024, 1, 1))
    run(school, keeper, 2024, 1)
    asset.refresh_from_db()
    assert documents.asset_net_value(asset) == D("5916.67")


@pytest.mark.django_db
def test_a_pending_cards_value_correction_is_a_journal_row(school, keeper):
    from django.db.models import Sum

    asset = card(school, keeper, booked=False, in_service=datetime.date(2024, 1, 1))
    cards.asset_update(asset=asset, actor=keeper, data={"original_value": D("5800.00")})
    asset.refresh_from_db()
    assert asset.original_value == D("5800.00")
    assert asset.movements.aggregate(total=Sum("value_change"))["total"] == D("5800.00")
    assert asset.movements.filter(kind=AssetMovement.Kind.REVALUE, value_change=D("-200.00")).exists()


@pytest.mark.django_db
def test_intangible_assets_are_reconciled_too(school, keeper, accountant):
    from houqin.assets.services import intangibles

    Asset.objects.filter(school=school).update(booking=Asset.Booking.PENDING)
    licence = intangibles.intangible_create(school=school, actor=keeper, data={
        "name": "教务管理系统", "kind": "software", "original_value": D("36000.00"),
        "acquired_on": datetime.date(2024, 1, 10), "life_months": 60})
    intangibles.intangible_book(intangible=licence, actor=accountant, voucher_no="记-0007",
                                booked_on=datetime.date(2024, 1, 12))
    run(school, keeper, 2024, 1)
    period = closing.period_get(school, 2024, 1)
    closing.set_finance_balances(period=period, actor=accountant, rows=[
        {"accounting_class": "intangible", "funding_source": "fiscal", "original_value": "36000.00",
         "accumulated_depreciation": "500.00"}])
    line = next(ln for ln in closing.statement(period).lines if ln.accounting_class == "intangible")
    assert (line.houqin_value, line.houqin_depreciation) == (D("36000.00"), D("600.00"))
    assert line.depreciation_difference == D("100.00") and line.class_label == "无形资产"


@pytest.mark.django_db
def test_cards_from_before_fixed_assets_ii_get_their_balances_and_disposal_dates(school, keeper):
    """assets.0005: existing cut-over cards start from their opening depreciation; disposed cards get the date
    of their journal's disposal row."""
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("houqin.assets.migrations.0005_fixed_assets_ii_backfill").backfill
    old = card(school, keeper, in_service=datetime.date(2020, 1, 1), opening_on=datetime.date(2021, 12, 31),
               opening_depreciation=D("1999.92"))
    gone = card(school, keeper, in_service=datetime.date(2020, 1, 1))
    locked = journal.lock(Asset, [gone.pk])[gone.pk]
    journal.post(locked, kind=AssetMovement.Kind.DISPOSE, actor=keeper, on=datetime.date(2024, 5, 6),
                 status=UseStatus.DISPOSED, value_change=-locked.original_value)
    Asset.objects.filter(pk__in=[old.pk, gone.pk]).update(accumulated_depreciation=0, disposed_on=None)
    backfill(apps, None)
    old.refresh_from_db()
    gone.refresh_from_db()
    assert old.accumulated_depreciation == D("1999.92")
    assert gone.disposed_on == datetime.date(2024, 5, 6)
