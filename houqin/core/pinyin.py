"""Pinyin search keys, so that "zhangsan" and "zs" both find 张三 (X-9).

``search_keys`` computes the text of a search column (``Student.search_keys`` and the like) when
a record is saved; ``query_matches`` applies the same matching rule in Python. pypinyin is
imported on first use, not at import time: loading its dictionaries takes about 0.2 s.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache

# At most this many reading combinations per text (heteronyms multiply: 曾 zeng/ceng, 单 dan/shan).
MAX_COMBINATIONS = 8
# The search columns are CharField(max_length=200).
MAX_LENGTH = 200

_NOT_KEY_CHARS = re.compile(r"[^a-z0-9]+")


@cache
def _pypinyin():
    """Import pypinyin on first use and return (lazy_pinyin, pinyin, Style, PINYIN_DICT)."""
    from pypinyin import Style, lazy_pinyin, pinyin
    from pypinyin.constants import PINYIN_DICT

    return lazy_pinyin, pinyin, Style, PINYIN_DICT


def _fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Ａ" → "a", "José" → "jose", "·" and spaces dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    return _NOT_KEY_CHARS.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)).lower())


def _units(text: str) -> list[tuple[bool, list[str]]]:
    """Split ``text`` into units of ``(is_han, readings)``.

    A Han character is one unit whose first reading is the one pypinyin chooses in context
    (``lazy_pinyin``, which knows phrases such as 长大 zhang da) followed by the character's other
    readings (``pinyin(..., heteronym=True)``). A run of other characters is one unit whose single
    "reading" is its folded text; runs that fold to nothing (punctuation, "·") are dropped.
    """
    lazy_pinyin, pinyin, style, pinyin_dict = _pypinyin()
    units: list[tuple[bool, list[str]]] = []
    for is_han, group in itertools.groupby(text, key=lambda ch: ord(ch) in pinyin_dict):
        run = "".join(group)
        if not is_han:
            folded = _fold(run)
            if folded:
                units.append((False, [folded]))
            continue
        in_context = lazy_pinyin(run, style=style.NORMAL)
        # A list input stops pypinyin from matching phrases, so each character gets all its readings.
        per_char = pinyin(list(run), style=style.NORMAL, heteronym=True)
        if len(in_context) != len(run):  # not expected; fall back to the per-character readings
            in_context = [readings[0] for readings in per_char]
        for first, others in zip(in_context, per_char, strict=True):
            readings = [r for r in (_fold(x) for x in [first, *others]) if r]
            units.append((True, list(dict.fromkeys(readings)) or [""]))
    return units


def _combinations(readings: Sequence[Sequence[str]], limit: int) -> Iterator[tuple[str, ...]]:
    """Yield up to ``limit`` reading combinations, fewest departures from the first readings first.

    The first combination takes every unit's first reading. Then come the combinations that change
    one unit, then two, and so on; so with a small limit, each single heteronym (the surname 曾 as
    zeng as well as ceng) still shows up before pairs of changes do.
    """
    base = tuple(r[0] for r in readings)
    yield base
    count = 1
    variable = [i for i, r in enumerate(readings) if len(r) > 1]
    for k in range(1, len(variable) + 1):
        for positions in itertools.combinations(variable, k):
            for alternatives in itertools.product(*(readings[p][1:] for p in positions)):
                if count >= limit:
                    return
                combo = list(base)
                for p, alternative in zip(positions, alternatives, strict=True):
                    combo[p] = alternative
                yield tuple(combo)
                count += 1


@lru_cache(maxsize=20000)  # names repeat: an import of 100k students computes each once
def search_keys(text: str, *, max_length: int = MAX_LENGTH) -> str:
    """Return the lower-case search keys of ``text``, separated by single spaces.

    For each reading combination (at most ``MAX_COMBINATIONS``; heteronyms give several, e.g.
    曾 zeng/ceng) there are two keys: the full toneless pinyin run together, then the initials.
    Letters and digits are kept, lower-cased and folded to ASCII; a run of them counts as one unit,
    so it appears whole in the initials too ("2班" → "2ban 2b"). Duplicate keys are dropped and
    whole keys are left off beyond ``max_length`` characters. ``search_keys("张三") == "zhangsan zs"``;
    "" gives "".
    """
    units = _units(text or "")
    if not units:
        return ""
    han = [is_han for is_han, _ in units]
    keys: list[str] = []
    for combo in _combinations([readings for _, readings in units], MAX_COMBINATIONS):
        full = "".join(combo)
        initials = "".join(r[:1] if is_han else r for r, is_han in zip(combo, han, strict=True))
        for key in (full, initials):
            if key and key not in keys:
                keys.append(key)
    result = keys[0][:max_length]
    for key in keys[1:]:
        if len(result) + 1 + len(key) <= max_length:
            result += " " + key
    return result


def query_matches(query: str, text: str, *, keys: str | None = None) -> bool:
    """Return True when ``query`` finds ``text``.

    A query matches when it is a substring of the text (ignoring case), or when its lower-cased
    form without spaces is a substring of one of the search keys (``keys``, by default
    ``search_keys(text)``): "张", "zhangsan", "zs", "Zhang San" all find 张三. An empty query
    matches nothing.
    """
    query = (query or "").strip()
    if not query:
        return False
    if query.casefold() in (text or "").casefold():
        return True
    needle = "".join(query.lower().split())
    if keys is None:
        keys = search_keys(text)
    return any(needle in key for key in keys.split())
