"""Record keys that come from a client (a query string, a posted field, a JSON body).

``str.isdigit()`` is no test for them: it accepts "²" and "①", which ``int()`` refuses (a server error
where the caller meant "no such record"), and a number of 30 digits overflows the database's integer.
"""

from __future__ import annotations

MAX_KEY = 2**63 - 1  # the largest key SQLite and PostgreSQL (bigint) hold


def as_key(value) -> int | None:
    """``value`` as a record key: ASCII digits for a whole number from 1 to ``MAX_KEY``; else None."""
    text = "" if value is None else str(value)
    if not (text.isascii() and text.isdigit()):
        return None
    key = int(text)
    return key if 1 <= key <= MAX_KEY else None
