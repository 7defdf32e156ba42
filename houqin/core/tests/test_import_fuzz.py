"""Bad input never crashes an import (X-7): for every importable entity, sheets whose cells hold anything a
spreadsheet can hold — text of any length, formulas as text, numbers of any size, yes/no, dates and times in
any column — give a preview (and, when it says the file is fine, a commit) with problems by row and column,
never an exception."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houqin.core import excel
from houqin.core.entities import registry
from houqin.core.importing import run_import, template_columns

IMPORTABLE = sorted((e for e in registry if e.can_import and e.import_fields), key=lambda e: e.key)

TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
CELL = st.one_of(
    st.none(),
    TEXT,
    st.sampled_from(["", " ", "是", "否", "=1+1", "+86 138", "-", "@x", "—", "0", "00012", "1e309", "NaN", "2026-02-30",
                     "2026-09-01", "2026/9/1", "9月1日", "1,000.50", "￥1000", "x" * 600, "A02010105", "2026-09-01 08:30"]),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=datetime.date(1900, 3, 1), max_value=datetime.date(2100, 12, 31)),
    st.datetimes(min_value=datetime.datetime(1900, 3, 1), max_value=datetime.datetime(2100, 12, 31)),
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=3, allow_nan=False),
)


def _sheet(entity, rows) -> io.BytesIO:
    columns = [excel.Column(key=c.key, header=c.header) for c in template_columns(entity)]
    buf = io.BytesIO()
    excel.write_xlsx(buf, columns=columns, rows=rows, sheet_title="sheet")
    buf.seek(0)
    buf.name = "fuzz.xlsx"
    return buf


@pytest.mark.parametrize("entity", IMPORTABLE, ids=[e.key for e in IMPORTABLE])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_any_cells_give_a_preview_with_problems_never_an_exception(entity, data, personas, school):
    width = len(entity.import_fields)
    rows = data.draw(st.lists(st.lists(CELL, min_size=width, max_size=width), min_size=1, max_size=3))
    cells = [[float(v) if isinstance(v, Decimal) else v for v in row] for row in rows]
    actor = personas["logistics_director"]
    with transaction.atomic():
        result = run_import(entity, _sheet(entity, cells), actor=actor, school=school, commit=False)
        for problem in result.problems:
            assert str(problem.message).strip()
            assert problem.row == 0 or 2 <= problem.row <= len(rows) + 1
        if result.ok:  # what the preview accepts, the commit writes (or reports), all or nothing
            committed = run_import(entity, _sheet(entity, cells), actor=actor, school=school, commit=True)
            assert committed.ok or committed.problems
        transaction.set_rollback(True)
