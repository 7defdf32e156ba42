"""Straight-line depreciation and amortisation, month by month (AST-9; domain-rules.md §2.3).

Pure arithmetic on Decimals, no database: the monthly run (``services.closing``), the intangible-asset
amortisation and the tests all use these functions, so the rules live once.

The rules (《政府会计准则第3号——固定资产》 and its 应用指南, domain-rules.md §2.3):

- 年限平均法, monthly, no residual value: the monthly amount is original value ÷ life in months, rounded
  to the fen; the rounding difference goes into the final month, so the accumulated amount equals the
  original value exactly (¥6,000 over 72 months: ¥83.33 for 71 months, ¥83.57 in month 72).
- 当月增加当月计提、当月减少当月不提: an asset put into service in month M is depreciated from M; an
  asset disposed of in month M is not depreciated in M (and is never caught up, 不再补提).
- Once fully depreciated (已提足折旧) nothing more is charged; the card stays on the books.
- A cut-over card continues from its opening balance: the remaining value is spread over the remaining
  months of its life, counted from the month after the opening-balance date.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def month_index(day: datetime.date) -> int:
    """Months since year 0, so that two months compare and subtract as integers."""
    return day.year * 12 + day.month - 1


def month_of(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1


def month_end(year: int, month: int) -> datetime.date:
    nxt = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - datetime.timedelta(days=1)


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Basis:
    """What a card's depreciation is computed from.

    ``start`` is the first month charged (index from ``month_index``), ``months`` the number of months
    over which ``value`` is spread. For a new card that is (in-service month, life, original value); for
    a cut-over card (month after the opening date, remaining life, original − opening depreciation).
    """

    value: Decimal
    start: int
    months: int

    @property
    def monthly(self) -> Decimal:
        if self.months <= 0:
            return cents(self.value)
        return cents(self.value / self.months)


def basis_for(*, original_value: Decimal, life_months: int, in_service_on: datetime.date,
              opening_on: datetime.date | None = None, opening_depreciation: Decimal | None = None,
              rebased_on: datetime.date | None = None, rebased_accumulated: Decimal | None = None) -> Basis:
    """The straight-line basis of one card (see the module docstring).

    A rebase (the value changed after service start, e.g. 在建工程转固 into a building) wins over the
    opening balance: from the month of ``rebased_on`` the remaining value (original − what was
    accumulated before that month) is spread over the remaining months of the life.
    """
    original_value = cents(original_value)
    service_start = month_index(in_service_on)
    if rebased_on is not None and rebased_accumulated is not None:
        resume = max(month_index(rebased_on), service_start)
        return Basis(original_value - cents(rebased_accumulated), resume, life_months - (resume - service_start))
    if opening_on is None or opening_depreciation is None:
        return Basis(original_value, service_start, life_months)
    # Opening balances are as at the end of the month of ``opening_on``; charging resumes the month after.
    resume = max(month_index(opening_on) + 1, service_start)
    used = max(resume - service_start, 0)
    return Basis(original_value - cents(opening_depreciation), resume, life_months - used)


def target_in_basis(basis: Basis, month: int) -> Decimal:
    """What the schedule says should be charged on this basis by the end of ``month`` (an index)."""
    elapsed = month - basis.start + 1
    if elapsed <= 0:
        return ZERO
    if elapsed >= basis.months:
        return basis.value
    return min(basis.monthly * elapsed, basis.value)


def charge_for_month(basis: Basis, month: int, accumulated_in_basis: Decimal) -> Decimal:
    """The charge for ``month`` (an index) given what has been charged on this basis before it.

    It is the schedule's target by the end of the month less what was charged, never negative and never
    beyond the basis value: zero before the start and once the value is used up; the final month of the
    basis takes the whole remainder (the rounding difference). A month that was not charged (a card
    booked late by finance) is caught up (补提) in the next charged month; a cut-over card already past
    its life is charged its remainder in its first month.
    """
    remaining = basis.value - accumulated_in_basis
    if month < basis.start or remaining <= 0:
        return ZERO
    return max(min(target_in_basis(basis, month) - accumulated_in_basis, remaining), ZERO)


def schedule(basis: Basis) -> list[Decimal]:
    """Every monthly charge of a basis from its start, in order (for cards, tests and the card's page)."""
    out: list[Decimal] = []
    accumulated = ZERO
    month = basis.start
    while accumulated < basis.value:
        amount = charge_for_month(basis, month, accumulated)
        out.append(amount)
        accumulated += amount
        month += 1
    return out
