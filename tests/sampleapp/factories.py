import datetime
from decimal import Decimal

import factory

from .models import LedgerLine


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


FACTORIES = {LedgerLine: LedgerLineFactory}
