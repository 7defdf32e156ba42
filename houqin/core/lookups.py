"""Lookups Django leaves unguarded.

``IntegerIn``: ``col IN (…)`` on an integer column (keys included) without the values no such column can hold.
Django drops out-of-range values for ``=``, ``<`` and ``>`` (``lookups.IntegerFieldOverflow``) but not for
``IN``, and SQLite's driver cannot even bind an integer beyond 64 bits: a form post or an API call naming a
record by a 20-digit key (check boxes, a multiple select: ``ModelMultipleChoiceField`` asks ``pk__in``) raised
``OverflowError``, a server error. Such a value matches no row, so leaving it out changes no answer; with
nothing left, the condition matches nothing (``EmptyResultSet``, as for ``IN ()``).
"""

from __future__ import annotations

from django.db.models import IntegerField
from django.db.models.lookups import In


class IntegerIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            self.rhs = [v for v in self.rhs if type(v) is not int
                        or ((low is None or v >= low) and (high is None or v <= high))]
        return super().process_rhs(compiler, connection)


def install() -> None:
    """Register ``IntegerIn`` as ``in`` for every integer field (auto fields and keys are integer fields)."""
    IntegerField.register_lookup(IntegerIn)
