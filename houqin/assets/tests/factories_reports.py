"""Factories of the report records (AST-10): the 财政 export layout columns."""

import factory

from houqin.assets.models import FiscalExportColumn
from houqin.assets.tests.factories import SchoolScoped


class FiscalExportColumnFactory(SchoolScoped):
    class Meta:
        model = FiscalExportColumn

    position = factory.Sequence(lambda n: 100 + n)
    header = factory.Sequence(lambda n: f"导出列{n}")
    field = "code"


FACTORIES = {FiscalExportColumn: FiscalExportColumnFactory}
