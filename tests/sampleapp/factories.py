import datetime
from decimal import Decimal

import factory

from .models import LedgerLine, SampleRequest


class LedgerLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LedgerLine

    school = factory.LazyFunction(lambda: __import__("houqin.org.models", fromlist=["School"]).School.objects.get(
        code="3301001"))
    code = factory.Sequence(lambda n: f"F{n:04d}")
    description = "测试摘要"
    kind = LedgerLine.Kind.IN
    amount = Decimal("99.90")
    quantity = 3
    happened_on = datetime.date(2026, 9, 10)


class SampleRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SampleRequest

    school = factory.LazyFunction(lambda: __import__("houqin.org.models", fromlist=["School"]).School.objects.get(
        code="3301001"))
    title = factory.Sequence(lambda n: f"采购申请{n}")
    amount = Decimal("800.00")


FACTORIES = {LedgerLine: LedgerLineFactory, SampleRequest: SampleRequestFactory}
