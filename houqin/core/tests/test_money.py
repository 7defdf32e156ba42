"""Sums of money come back exact to the cent on every database (core.money.MoneySum)."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houqin.core.money import MoneySum
from tests.sampleapp.models import SampleRequest

D = Decimal


def _requests(school, amounts):
    SampleRequest.objects.bulk_create([SampleRequest(school=school, title=f"r{i}", amount=a)
                                       for i, a in enumerate(amounts)])
    return SampleRequest.objects.filter(school=school)


@pytest.mark.django_db
def test_a_sum_that_sqlite_adds_in_floating_point_comes_back_to_the_cent(school):
    rows = _requests(school, [D("1000.00"), D("1030.99"), D("67566.99"), D("-67566.99")])
    found = rows.aggregate(total=MoneySum("amount"), positive=MoneySum("amount", filter=Q(amount__gt=0)),
                           none=MoneySum("amount", filter=Q(amount__gt=10**6)),
                           nothing=MoneySum("amount", filter=Q(amount__gt=10**6), default=None))
    assert found == {"total": D("2030.99"), "positive": D("69597.98"), "none": D("0.00"), "nothing": None}
    # Exactly, not equal within noise: a plain Sum gives 2030.99000000001 on SQLite in this order.
    assert str(found["total"]) == "2030.99"


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.decimals(min_value=D("-99999999.99"), max_value=D("99999999.99"), places=2), max_size=40))
def test_money_sums_equal_pythons_decimal_sum(school, amounts):
    with transaction.atomic():
        rows = _requests(school, amounts)
        grouped = list(rows.values("school").annotate(total=MoneySum("amount")).values_list("total", flat=True))
        assert rows.aggregate(total=MoneySum("amount"))["total"] == sum(amounts, D("0.00"))
        assert grouped == ([sum(amounts, D("0.00"))] if amounts else [])
        transaction.set_rollback(True)


def test_fits_money_is_what_a_money_column_can_hold():
    from decimal import Decimal

    from houqin.core.money import MAX_MONEY, fits_money

    assert fits_money(Decimal("99999999999999.99")) and fits_money(Decimal("-99999999999999.99"))
    assert fits_money(Decimal("0.00"))
    for value in (MAX_MONEY, -MAX_MONEY, Decimal("1e20"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")):
        assert not fits_money(value), value
