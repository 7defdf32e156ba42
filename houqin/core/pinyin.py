"""Pinyin search keys: "zhangsan" and "zs" both find 张三 (X-9)."""

from __future__ import annotations

import itertools

from pypinyin import Style, pinyin

MAX_VARIANTS = 8


def _readings(text: str) -> list[list[str]]:
    # Heteronyms (曾 zeng/ceng, 单 dan/shan) give several readings; keep them all, bounded.
    out = []
    for chunk in pinyin(text, style=Style.NORMAL, heteronym=True, errors=lambda s: list(s.lower())):
        readings = [r.lower() for r in chunk if r]
        out.append(list(dict.fromkeys(readings)) or [""])
    return out


def search_keys(text: str) -> str:
    """Lower-case keys: full pinyin and initials of each reading, space separated."""
    text = (text or "").strip()
    if not text:
        return ""
    readings = _readings(text)
    keys: list[str] = []
    for combo in itertools.islice(itertools.product(*readings), MAX_VARIANTS):
        full = "".join(combo).replace(" ", "")
        initials = "".join(r[0] for r in combo if r)
        for key in (full, initials):
            if key and key not in keys:
                keys.append(key)
    return " ".join(keys)[:200]


def query_matches(query: str, text: str) -> bool:
    query = (query or "").strip()
    if not query:
        return False
    if query in text:
        return True
    needle = query.lower().replace(" ", "")
    return any(needle in key for key in search_keys(text).split())
