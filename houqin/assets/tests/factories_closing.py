"""Factories for the monthly close (AST-7): a month of the asset books, opened through the service."""

import factory

from houqin.assets.models import AccountingPeriod

from .factories import SchoolScoped


class AccountingPeriodFactory(SchoolScoped):
    class Meta:
        model = AccountingPeriod

    year = factory.Sequence(lambda n: 2030 + n // 12)
    month = factory.Sequence(lambda n: n % 12 + 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import closing

        return closing.period_get(kwargs["school"], kwargs["year"], kwargs["month"])


FACTORIES = {AccountingPeriod: AccountingPeriodFactory}
