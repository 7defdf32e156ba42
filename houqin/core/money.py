"""Sums of money read back exact to the cent.

Money is Decimal(…, 2) everywhere (architecture §3). PostgreSQL adds NUMERIC values exactly, but SQLite adds
them as binary floating point, and Django reads an aggregate's result back as the float's first 15 digits
without rounding it to the field's places (``DatabaseOperations.get_decimalfield_converter`` rounds plain
columns only): 1000.00 + 1030.99 + 67566.99 − 67566.99 comes back as 2030.99000000001, and which noise a sum
carries depends on the order SQLite happens to read its rows in. A sum of amounts of whole cents is a whole
number of cents, and the float's error is far below half a cent for any school's figures (15 significant
digits), so rounding the result to cents gives the exact sum on every database.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, Sum, Value
from django.db.models.functions import Coalesce

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)
MAX_MONEY = Decimal(10) ** (MONEY.max_digits - MONEY.decimal_places)  # a money column holds less than this


def fits_money(value: Decimal) -> bool:
    """Whether ``value`` (in cents) fits a money column: a finite number below ``MAX_MONEY`` either way. Django
    would raise ``decimal.InvalidOperation`` writing NaN, an infinity or more digits: a server error."""
    return value.is_finite() and abs(value) < MAX_MONEY


def _to_cents(value, expression, connection):
    return value if value is None else value.quantize(CENT)


class MoneySum(Coalesce):
    """``SUM(expression)`` of money (an amount column, or amounts times whole quantities), rows chosen by
    ``filter``: exact to the cent, and ``default`` (0.00; None for NULL) when no row is summed."""

    def __init__(self, expression, *, filter=None, default=ZERO):  # noqa: A002 - Django's name for it
        super().__init__(Sum(expression, filter=filter), Value(default, output_field=MONEY), output_field=MONEY)

    def get_db_converters(self, connection):
        return [*super().get_db_converters(connection), _to_cents]
