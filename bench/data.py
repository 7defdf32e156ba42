"""Synthetic but valid student data: names with their pinyin keys, unique identity numbers, phones.

Identity numbers are valid GB 11643 numbers built from a running index, so they are unique without
a lookup: the area code says who made them (1101xx: ``generate.py``, 1201xx: the import file of
``inproc.py import``; the demo school uses 33xxxx), the birth date and sequence come from the index.
"""

from __future__ import annotations

import datetime
import random

from houqin.core.pinyin import search_keys
from houqin.org.demo import GIVEN, SURNAMES
from houqin.org.validators import id_check_char

GENERATED_AREA = "1101"
IMPORT_AREA = "1201"
_BIRTH0 = datetime.date(2006, 1, 1)


def name_pool(rng: random.Random, size: int = 3000) -> list[tuple[str, str]]:
    """(name, search_keys) pairs: pinyin is computed once per name, not once per row."""
    names = set()
    while len(names) < size:
        n = 1 if rng.random() < 0.35 else 2
        names.add(rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(n)))
    return [(name, search_keys(name)) for name in sorted(names)]


def identity(index: int, male: bool, area: str = GENERATED_AREA) -> tuple[str, datetime.date]:
    """A valid, unique (per area prefix and index < 3,000,000) resident identity number."""
    birth = _BIRTH0 + datetime.timedelta(days=(index // 6) % 1000)
    seq = (index // 6000) * 2 + (1 if male else 0)  # odd: male, even: female (GB 11643)
    if seq > 999:
        raise ValueError("index too large for unique identity numbers")
    first17 = f"{area}{index % 6 + 1:02d}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17), birth


def mobile(rng: random.Random) -> str:
    return rng.choice(["138", "139", "135", "186", "158", "177", "199"]) + f"{rng.randrange(10**8):08d}"
