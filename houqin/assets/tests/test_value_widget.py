"""The dashboard's asset value widget (selectors.value_by_category_widget) reads the cards once, grouped by
accounting class and funding source, and adds them up in Python: the same classes, sources, counts, totals
and 待入账 number as aggregating each on its own, disposed cards left out."""

from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.test import RequestFactory

from houqin.assets import selectors
from houqin.assets.choices import AccountingClass, FundingSource, UseStatus
from houqin.assets.models import Asset

from .factories import AssetFactory

pytestmark = pytest.mark.django_db


def test_value_widget_equals_separate_aggregates(school, personas):
    kinds = [(AccountingClass.GENERAL_EQUIPMENT, FundingSource.FISCAL, "5200.00"),
             (AccountingClass.GENERAL_EQUIPMENT, FundingSource.SPECIAL, "1300.55"),
             (AccountingClass.FURNITURE, FundingSource.FISCAL, "2100.10"),
             (AccountingClass.FURNITURE, FundingSource.FISCAL, "999999.99")]
    for klass, source, value in kinds:
        AssetFactory(school=school, accounting_class=klass, funding_source=source, original_value=Decimal(value))
    gone = AssetFactory(school=school, original_value=Decimal("7777.00"))
    Asset.objects.filter(pk=gone.pk).update(status=UseStatus.DISPOSED)
    Asset.objects.filter(pk=Asset.objects.filter(school=school).exclude(pk=gone.pk).first().pk).update(
        booking=Asset.Booking.BOOKED)
    request = RequestFactory().get("/")
    request.user = personas["logistics_director"]
    widget = selectors.value_by_category_widget(request)

    on_books = Asset.objects.filter(school=school).exclude(status=UseStatus.DISPOSED)
    klass = dict(AccountingClass.choices)
    source = dict(FundingSource.choices)
    by_class = {str(klass.get(r["accounting_class"], r["accounting_class"])): (f"{r['v']:,.2f}", r["n"])
                for r in on_books.values("accounting_class").annotate(v=Sum("original_value"), n=Count("id"))}
    by_source = {str(source.get(r["funding_source"], r["funding_source"])): f"{r['v']:,.2f}"
                 for r in on_books.values("funding_source").annotate(v=Sum("original_value"))}
    assert {c["label"]: (c["value"], c["count"]) for c in widget["classes"]} == by_class
    assert {s["label"]: s["value"] for s in widget["sources"]} == by_source
    assert widget["pending"] == on_books.filter(booking=Asset.Booking.PENDING).count() >= 1
    total = on_books.aggregate(v=Sum("original_value"))["v"]
    assert widget["total"] == f"{total:,.2f}"
    values = [Decimal(c["value"].replace(",", "")) for c in widget["classes"]]
    assert values == sorted(values, reverse=True)  # largest class first, as before
