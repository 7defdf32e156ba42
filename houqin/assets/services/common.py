"""Numbering and school settings shared by the asset services."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import F

from .. import rules
from ..models import Asset, AssetSettings, Counter


def settings_for(school) -> AssetSettings:
    obj, _ = AssetSettings.objects.get_or_create(school=school)
    return obj


@transaction.atomic
def next_value(school, key: str, year: int, *, count: int = 1) -> int:
    """Reserve ``count`` numbers of a per-school, per-year sequence; returns the first one."""
    counter, _ = Counter.objects.get_or_create(school=school, key=key, year=year)
    Counter.objects.filter(pk=counter.pk).update(value=F("value") + count)
    counter.refresh_from_db(fields=["value"])
    return counter.value - count + 1


def document_number(school, kind: str, on: datetime.date | None = None) -> str:
    """e.g. ``DB2026-0001`` (rules.DOC_PREFIXES)."""
    year = (on or datetime.date.today()).year
    return f"{rules.DOC_PREFIXES[kind]}{year}-{next_value(school, kind, year):04d}"


def asset_code_prefix(school) -> str:
    return settings_for(school).code_prefix or school.code


def new_asset_codes(school, year: int, count: int = 1) -> list[str]:
    """Codes for new cards only: school prefix + year + sequence (imported codes are kept as they are).

    A number already used by an imported card is skipped, so a new label never repeats an old one.
    """
    prefix = f"{asset_code_prefix(school)}{year}"
    codes: list[str] = []
    while len(codes) < count:
        want = count - len(codes)
        first = next_value(school, "asset", year, count=want)
        candidates = [f"{prefix}{n:05d}" for n in range(first, first + want)]
        taken = set(Asset.objects.filter(school=school, code__in=candidates).values_list("code", flat=True))
        codes.extend(c for c in candidates if c not in taken)
    return codes
