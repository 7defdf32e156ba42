"""Search indexes for list searches on SQLite (architecture §3: fast at 100k rows).

An entity may name an FTS5 table (``Entity.search_index``) with the trigram tokenizer that indexes
its search columns under the same names (``search_fields``), keyed by the row's primary key and
kept in step by triggers (the table and triggers are created by the app's migration, e.g.
``org.0004_student_search_index``; contentless since ``org.0006`` and ``assets.0010``: it keeps the
index, not a copy of the texts — ``trigram_index``). The list search then asks that index for candidate rows and
still applies the ``LIKE '%…%'`` conditions to them, so the rows found are exactly those of the
plain search: the trigram index folds case at least as widely as ``LIKE`` does, so it never
misses a row ``LIKE`` finds. Where it cannot find more either — a term whose every character folds
alike in both (``exact_parts``: 汉字, digits, most ASCII letters; every bigram term) — the candidates
are the answer and the ``LIKE`` conditions are not applied again.

Trigrams answer only terms of three characters or more. Two-character terms (most Chinese names
and asset names: 张伟, 钢琴, 空调; pinyin initials: zw) are answered by a second FTS5 table
``<search_index>_bi`` (``bigram_index``, e.g. ``org.0005_student_search_bigrams``): one token per
character pair of each search column, the pair lower-cased by SQLite's ``lower()`` (ASCII only, as
``LIKE`` folds case) and written as the hex of its UTF-8 bytes, so that every pair is one token of
the ``ascii`` tokenizer whatever its characters. The tokens are made by plain SQL in the triggers
(``json_each`` numbers the positions), not by an application-defined function: any program that
writes the database (the ``sqlite3`` shell, ``manage.py dbshell``, a restore script) keeps the index
in step, and none of them fails for want of a function. The table is contentless (``content=''``:
it stores only the index), so its delete trigger hands FTS5 the old row's tokens again.

One-character terms, other databases, related-field search columns or a database without the
tables search as before. So does a term found in a large share of the table (``DENSE_SHARE``): a
scan in the list's order stops after one page of matches, whereas the candidates would all be
fetched and sorted.

The index is read once per search (``candidates``): the candidates' ids go to the page's count and
rows as one JSON array parameter (``json_each``), so neither runs the full-text query again — except for a
term that is one token's entries (a bigram, a three-character trigram), which the page's statements read
again as cheaply as they would parse the array (``_one_token``); a term found too common is remembered for
``DENSITY_TTL`` and searched by the scan without reading the index, and its count starts from the index,
without the ``LIKE`` conditions when the index finds exactly their rows (``IndexedCondition``).
"""

from __future__ import annotations

import operator
import time
from typing import NamedTuple

from django.db import OperationalError, connections
from django.db.models import BooleanField, Func
from django.db.models.expressions import RawSQL

from .caching import database_key

MIN_TERM = 3  # the trigram tokenizer matches substrings of at least three characters
MIN_BIGRAM = 2  # the bigram table answers two-character terms
DENSE_MIN = 10_000  # never give up the index for fewer candidates than this (a scan then costs more than reading them)
DENSE_SHARE = 8  # ... and beyond that, give it up when the candidates are more than 1/8 of the table
TRIGGERS = ("ai", "ad", "au")
# The candidates' ids as a source a query may start from (``paging._from_candidates``), named ``houqin_id``.
CANDIDATE_IDS = "SELECT value AS houqin_id FROM json_each(%s)"
JSON_IDS = "SELECT value FROM json_each(%s)"  # the ids of a JSON array parameter


class Source(NamedTuple):
    """A search's candidates as a source a query may start from (``paging._from_candidates``): ``sql`` selecting
    their ids as ``houqin_id`` with its ``params``; ``test_sql``/``test_params``: the test ``pk IN (…)`` of the
    same candidates the queryset's WHERE holds, if any; ``exact``: the candidates are exactly the rows the
    search's ``LIKE`` conditions find, and the queryset holds those conditions as an ``IndexedCondition``."""

    sql: str
    params: list
    test_sql: str | None = None
    test_params: tuple = ()
    exact: bool = False


class IndexedCondition(Func):
    """A search's ``LIKE`` conditions (a ``Q``), marked in the SQL by two comments (``MARK_START``, ``MARK_END``): a
    query that starts from the search index's candidates, when these are exactly the rows the conditions find
    (``Source.exact``), writes them ``1`` there (``paging._from_candidates``). Elsewhere they apply as written."""

    template = "/*houqin:indexed*/ (%(expressions)s) /*houqin:end*/"
    output_field = BooleanField()
    conditional = True


MARK_START, MARK_END = "/*houqin:indexed*/ (", ") /*houqin:end*/"

_exists: dict[tuple[str, str], bool] = {}


def bigram_table(table: str) -> str:
    """The bigram table that goes with the trigram table ``table``."""
    return f"{table}_bi"


def index_exists(alias: str, table: str) -> bool:
    """Whether ``table`` exists in database ``alias`` (checked once per process and database)."""
    key = (database_key(alias), table)
    found = _exists.get(key)
    if found is None:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            found = False
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
                found = cursor.fetchone() is not None
        _exists[key] = found
    return found


def forget() -> None:
    """Check again on next use (tests that create or drop the index)."""
    _exists.clear()
    _density.clear()
    _json_each.clear()


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _same_tokens(a: str, b: str) -> bool:
    """Whether the indexes fold ``a`` and ``b`` to the same tokens (both fold ASCII case)."""
    return a == b or (a.isascii() and b.isascii() and a.lower() == b.lower())


def _parts(fields, value: str, key: str | None):
    """``[(kind, columns, term)]``: which table answers which columns for which term (kind "tri" or "bi");
    None when some part cannot be answered by an index (one character). The pinyin keys join the plain
    columns' part when the index reads both terms alike (``zhang`` and ``Zhang``): FTS5 then reads the
    term's posting lists once, not once per part (``zhang`` among 100,000 students: 2.1 → 1.2 ms)."""
    plain = tuple(f for f in fields if f != "search_keys")
    wanted = []
    if plain:
        wanted.append((plain, value))
    if "search_keys" in fields and key is not None:
        if plain and _same_tokens(value, key):
            wanted[0] = ((*plain, "search_keys"), value)
        else:
            wanted.append((("search_keys",), key))
    parts = []
    for columns, term in wanted:
        if len(term) >= MIN_TERM:
            parts.append(("tri", columns, term))
        elif len(term) == MIN_BIGRAM:
            parts.append(("bi", columns, term))
        else:
            return None
    return parts


# Characters of a term the trigram index matches exactly as LIKE does. FTS5's trigram tokenizer folds case
# by Unicode's case mappings, LIKE by ASCII alone (sqlite.org/lang_expr.html#like); they agree on a character
# without case (汉字, digits, punctuation) and on ASCII letters, except where another character folds to
# one: U+212A (the Kelvin sign) to "k", U+017F ſ to "s" (İ to "i" by some Unicode tables), and U+FFFE/U+FFFF
# to U+FFFD. test_search_exact checks this against every character with the SQLite the tests run on.
_INEXACT = frozenset("kKsSiI\ufffd")


def _exact_char(c: str) -> bool:
    if c in _INEXACT:
        return False
    return c.isascii() or (c.lower() == c and c.upper() == c)


def exact_parts(parts) -> bool:
    """Whether the rows the index finds for ``parts`` are exactly those the plain ``LIKE`` search finds, so
    the ``LIKE`` conditions need not be checked again. Bigram tokens are folded by SQLite's own ``lower()``,
    ASCII only, as ``LIKE`` folds: always exact. Trigrams: when every character of the term is
    (``_exact_char``)."""
    return all(kind == "bi" or all(_exact_char(c) for c in term) for kind, _columns, term in parts)


def candidate_sql(table: str, fields, value: str, key: str | None, *, bigrams: bool = True):
    """``(sql, params, exact)`` selecting the rowids that may match, or None when the indexes cannot answer.
    ``bigrams``: whether the bigram table ``<table>_bi`` may be used; ``exact``: whether those rowids are
    exactly the rows that match (``exact_parts``)."""
    parts = _parts(fields, value, key)
    if not parts:
        return None
    tri = [(columns, term) for kind, columns, term in parts if kind == "tri"]
    bi = [(columns, term) for kind, columns, term in parts if kind == "bi"]
    if bi and not bigrams:
        return None
    selects, params = [], []
    if tri:
        match = " OR ".join("{" + " ".join(columns) + "} : " + _quote(term) for columns, term in tri)
        selects.append(f'SELECT rowid FROM "{table}" WHERE "{table}" MATCH %s')  # noqa: S608 - table from code
        params.append(match)
    if bi:
        bt = bigram_table(table)
        exprs = []
        for columns, term in bi:
            exprs.append("'{" + " ".join(columns) + "} : \"' || hex(lower(%s)) || '\"'")
            params.append(term)
        selects.append(f'SELECT rowid FROM "{bt}" WHERE "{bt}" MATCH ' + " || ' OR ' || ".join(exprs))  # noqa: S608
    return " UNION ".join(selects), params, exact_parts(parts)


DENSITY_TTL = 600.0  # seconds a term found too common for the index is searched by a scan without asking again
DENSITY_CACHE_SIZE = 5000
_density: dict[tuple, float] = {}  # (database, table, sql, params, limits) → when the term was found dense
_json_each: dict[str, bool] = {}


def _fetch_candidates(alias: str, source: str, sql: str, params, *, as_json: bool = False) -> str | int | None:
    """The candidates, read once — ``as_json``: their rowids as the JSON array text SQLite makes of them
    (``json_group_array``), the very parameter ``json_each`` reads, with no row per id through Python (982 ids
    for zhang among 100,000 students); otherwise how many there are (the page's statements then read the index
    query itself) —; None when they are so many that a scan in the list's order is the cheaper plan (more than
    ``max(DENSE_MIN, rows / DENSE_SHARE)``; ``max(id)`` stands for the row count).

    A common term's answer is kept for ``DENSITY_TTL``: it picks the plan, never the rows (both plans return
    exactly what the plain search returns), and reading 12,500 index entries to find a term common (计算机)
    costs more than the scan's first page. A term's share of a table changes slowly."""
    key = _density_key(alias, source, sql, params)
    now = time.monotonic()
    found_dense = _density.get(key)
    if found_dense is not None and now - found_dense < DENSITY_TTL:
        return None
    limit = f"max({int(DENSE_MIN)}, coalesce((SELECT max(id) FROM \"{source}\"), 0) / {int(DENSE_SHARE)})"  # noqa: S608
    with connections[alias].cursor() as cursor:
        if as_json:
            cursor.execute(f"SELECT json_group_array(rowid), count(*), {limit} FROM "  # noqa: S608 - names from code
                           f"(SELECT rowid FROM ({sql}) LIMIT {limit} + 1)", params)
            found, count, most = cursor.fetchone()
        else:
            cursor.execute(f"SELECT count(*), {limit} FROM (SELECT rowid FROM ({sql}) LIMIT {limit} + 1)",  # noqa: S608
                           params)
            count, most = cursor.fetchone()
            found = count
    if count and count > most:
        if len(_density) >= DENSITY_CACHE_SIZE:
            _density.clear()
        _density[key] = now
        return None
    return found


def count_source(entity, alias: str, value: str, key: str | None) -> Source | None:
    """For a term searched by a scan because the index found it common (``_density``): ``(sql, params)``
    selecting the index's candidate rowids as ``houqin_id``, for the page's count to start from
    (``paging.capped_count``). The count stops after cap + 1 matches; the index gives its rowids in order
    as it reads them, so it reads about that many, where the scan looks at every row until it has found as
    many matches (计算机 among 100,000 cards: 1,001 matches among 8,000 rows, 1.3 ms; through the index
    0.35 ms). None when the term is not known as common, or the index would first read all its candidates
    (two tables: a UNION)."""
    found = entity_candidate_sql(entity, alias, value, key)
    if found is None:
        return None
    sql, params, _exact = found
    seen = _density.get(_density_key(alias, entity.model._meta.db_table, sql, params))
    if seen is None or time.monotonic() - seen >= DENSITY_TTL:
        return None
    source = _as_source(sql, params)
    return source and source._replace(exact=_exact)


def _density_key(alias: str, source: str, sql: str, params) -> tuple:
    return (database_key(alias), source, sql, tuple(params), DENSE_MIN, DENSE_SHARE)


def entity_candidate_sql(entity, alias: str, value: str, key: str | None):
    """``candidate_sql`` for ``entity``'s declared index on database ``alias``, or None when it has none there
    (no index declared or built, no search fields, a related-field search column)."""
    table = getattr(entity, "search_index", None)
    fields = tuple(entity.search_fields)
    if not table or not fields or any("__" in f for f in fields) or not index_exists(alias, table):
        return None
    return candidate_sql(table, fields, value, key, bigrams=index_exists(alias, bigram_table(table)))


def _has_json_each(alias: str) -> bool:
    name = database_key(alias)
    if name not in _json_each:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT count(*) FROM json_each('[1]')")
            _json_each[name] = True
        except OperationalError:  # SQLite built without JSON: the index query runs in each statement
            _json_each[name] = False
    return _json_each[name]


def candidates(entity, alias: str, value: str, key: str | None):
    """``(RawSQL of the primary keys that may match (for pk__in), exact)``, or None to search as before.
    ``exact``: those keys are exactly the rows the plain search finds (``exact_parts``), so the caller
    need not apply its ``LIKE`` conditions as well.

    The index is read once, here: the page's count and its rows then both read the ids as a JSON array
    (``json_each``) instead of each running the full-text query again (``zhang`` among 100,000 students:
    982 candidates, 1.5 ms per reading)."""
    found = entity_candidate_sql(entity, alias, value, key)
    if found is None:
        return None
    sql, params, exact = found
    source = _as_source(sql, params)
    # One token's entries (a bigram, a trigram term of three characters: 钢琴, 计算机) are read again as cheaply as
    # the JSON array of their ids is parsed (json_each: ~0.4 µs an id), so the index query itself is the source and
    # only the candidates' count is read here (钢琴 among 100,000 cards, 1,017 candidates: 0.21 → 0.16 ms).
    as_json = _has_json_each(alias) and not (source and _one_token(entity, value, key))
    ids = _fetch_candidates(alias, entity.model._meta.db_table, sql, params, as_json=as_json)
    if ids is None:
        return None
    # The index query itself, or its ids as SQLite's JSON text (tables are declared in code, the terms parameters).
    found = RawSQL(JSON_IDS, [ids]) if as_json else RawSQL(sql, params)  # noqa: S611
    found.rows_at_most = _found_count(ids)
    # The same ids as a source a query may start from (``paging._from_candidates``), named ``houqin_id``, with the
    # test ``pk IN (…)`` the queryset's WHERE holds of them (a query starting from them need not apply it again).
    if as_json:
        found.source = Source(CANDIDATE_IDS, [ids], JSON_IDS, (ids,))
    elif source:
        found.source = source._replace(test_sql=sql, test_params=tuple(params))
    else:
        found.source = None
    return found, exact


def _one_token(entity, value: str, key: str | None) -> bool:
    """Whether the index answers ``value`` by one token's entries: one part, a bigram or a single trigram."""
    parts = _parts(tuple(entity.search_fields), value, key)
    return bool(parts) and len(parts) == 1 and (parts[0][0] == "bi" or len(parts[0][2]) == MIN_TERM)


def _as_source(sql: str, params) -> Source | None:
    """``candidate_sql``'s rowids named ``houqin_id`` (one table; a UNION of two is left alone)."""
    if " UNION " in sql or not sql.startswith("SELECT rowid FROM "):
        return None
    return Source("SELECT rowid AS houqin_id FROM " + sql[len("SELECT rowid FROM "):], list(params))  # noqa: S608


def _found_count(ids: str | int) -> int:
    """How many candidates ``_fetch_candidates`` found: the count itself, or the entries of SQLite's JSON array
    text (integers: one comma between each two)."""
    if isinstance(ids, int):
        return ids
    return 0 if ids.strip() in ("[]", "") else ids.count(",") + 1


# Migrations ------------------------------------------------------------------------------------------------------
def _contentless_statements(source: str, table: str, columns: tuple[str, ...], *, value, options: str
                             ) -> tuple[list[str], str, str]:
    """``(triggers, create table, fill)`` of a contentless FTS5 table ``table`` (``options``: its tokenizer and
    detail) indexing ``value(column expression)`` of each of ``source``'s ``columns``, rowid = the row's id. Its
    delete and update triggers hand FTS5 the old row's values again (a contentless table keeps none)."""
    cols = ", ".join(columns)
    new = ", ".join(value(f"new.{c}") for c in columns)
    old = ", ".join(value(f"old.{c}") for c in columns)
    delete = f"INSERT INTO {table}({table}, rowid, {cols}) VALUES ('delete', old.id, {old});"  # noqa: S608 - names from code
    insert = f"INSERT INTO {table}(rowid, {cols}) VALUES (new.id, {new});"  # noqa: S608 - names from code
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in ("id", *columns))
    triggers = [
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {source} BEGIN {insert} END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {source} BEGIN {delete} END",
        # Django's save() writes every column: only a change of the texts is worth the work.
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF id, {cols} ON {source} WHEN {changed} BEGIN {delete} {insert} END",
    ]
    # columnsize=0: no per-row token counts (the %_docsize table), which only ranking (bm25) reads — a search
    # here reads rowids alone; 100,000 rows inserted 0.1 s sooner per index (issue 5's import).
    create = f"CREATE VIRTUAL TABLE {table} USING fts5({cols}, {options}, content='', columnsize=0)"
    fill = (f"INSERT INTO {table}(rowid, {cols}) "  # noqa: S608 - names from code
            f"SELECT id, {', '.join(value(c) for c in columns)} FROM {source}")
    return triggers, create, fill


def _trigram_statements(source: str, table: str, columns: tuple[str, ...]) -> tuple[list[str], str, str]:
    """``(triggers, create table, fill)`` of the trigram table ``table`` of ``source``'s ``columns``.

    The table is contentless (``content=''``): a search reads only the rowids of its matches, so a copy of the
    texts would be kept for nothing — 100,000 cards: 74 MB instead of 107 MB, 0.64 s to fill instead of 0.75 s
    and less to commit (the cut-over import fills it with the write lock held, issue 5)."""
    return _contentless_statements(source, table, columns, value=str, options="tokenize='trigram'")


def trigram_index(source: str, table: str, columns: tuple[str, ...], *, replace: bool = False):
    """``(forwards, backwards)`` for ``migrations.RunPython``: on SQLite with FTS5, a contentless FTS5 trigram
    table ``table`` of ``source``'s ``columns`` (rowid = the row's id), kept in step by triggers and filled
    from the rows already there; elsewhere nothing (the search runs as before). ``replace``: an index of that
    name made before (with its texts, as ``org.0004`` and ``assets.0003`` made them) is dropped first."""
    triggers, create, fill = _trigram_statements(source, table, columns)
    drop = [f"DROP TRIGGER IF EXISTS {table}_{t}" for t in TRIGGERS] + [f"DROP TABLE IF EXISTS {table}"]
    return _sqlite_steps(table, [*(drop if replace else []), create, *triggers, fill],
                         probe=["CREATE VIRTUAL TABLE temp.houqin_fts_probe USING fts5(x, tokenize='trigram')"])


def _sqlite_steps(table: str, statements: list[str], *, probe: list[str]):
    """``(forwards, backwards)`` running ``statements`` on SQLite when the ``probe`` statements work there (FTS5,
    its tokenizer, JSON); elsewhere, or on an SQLite without them, nothing: the search runs as before."""
    drop = [f"DROP TRIGGER IF EXISTS {table}_{t}" for t in TRIGGERS] + [f"DROP TABLE IF EXISTS {table}"]

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            try:
                for sql in probe:
                    cursor.execute(sql)
                cursor.execute("DROP TABLE IF EXISTS temp.houqin_fts_probe")
            except Exception:  # noqa: BLE001 - SQLite without FTS5 (3.34+ for trigrams) or JSON: no index
                return
            for sql in statements:
                cursor.execute(sql)
        forget()

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            for sql in drop:
                cursor.execute(sql)
        forget()

    return forwards, backwards


def bigrams_sql(expr: str) -> str:
    """SQL of the bigram tokens of the text ``expr``: for each pair of adjacent characters, the hex of the pair
    as ``lower()`` leaves it, separated by spaces (NULL for a text shorter than two characters).

    ``json_each`` over ``[0,0,…]`` (one element per pair, made from a zero-filled blob) numbers the pairs:
    triggers may not use a recursive common table expression."""
    return (f"(SELECT group_concat(hex(substr(b.s, j.key + 1, 2)), ' ') "  # noqa: S608 - expr: a column
            f"FROM (SELECT lower({expr}) AS s) AS b, "
            f"json_each('[' || substr(replace(hex(zeroblob(length({expr}) - 1)), '00', ',0'), 2) || ']') AS j)")


_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}  # SQLite's lower() without ICU


class _CharHex(dict):
    """character -> the hex of its UTF-8 bytes, as SQLite's hex() writes it (made once per character)."""

    def __missing__(self, char):
        value = char.encode("utf-8").hex().upper()  # UnicodeEncodeError for a lone surrogate
        if len(self) < 200_000:
            self[char] = value
        return value


_CHAR_HEX = _CharHex()


def bigrams_text(value: str | None) -> str | None:
    """What ``bigrams_sql`` gives for ``value``, worked out in Python (``bulk.prepare_insert_triggers``: 0.07 ms a
    card in SQL). ``NotImplemented`` for a text SQLite reads differently from Python (a NUL ends SQLite's
    ``length()``; a lone surrogate has no UTF-8): the caller asks SQLite."""
    if value is None:
        return None
    if "\x00" in value:
        return NotImplemented
    if len(value) < 2:
        return None
    try:
        hexes = list(map(_CHAR_HEX.__getitem__, value.translate(_ASCII_LOWER)))
    except UnicodeEncodeError:
        return NotImplemented
    return " ".join(map(operator.add, hexes, hexes[1:]))


def _bigram_statements(source: str, table: str, columns: tuple[str, ...]) -> tuple[list[str], str, str]:
    """``(triggers, create table, fill)`` of the bigram table ``table`` of ``source``'s ``columns``."""
    return _contentless_statements(source, table, columns, value=bigrams_sql,
                                   options="tokenize='ascii', detail='column'")


def bigram_index(source: str, table: str, columns: tuple[str, ...], *, replace: bool = False):
    """``(forwards, backwards)`` for ``migrations.RunPython``: on SQLite with FTS5 and JSON, a contentless FTS5
    table ``table`` of the character pairs of ``source``'s ``columns`` (rowid = the row's id; see the module's
    docstring), kept in step by triggers and filled from the rows already there; elsewhere nothing.
    ``replace``: an index of that name made before is dropped first."""
    triggers, create, fill = _bigram_statements(source, table, columns)
    drop = [f"DROP TRIGGER IF EXISTS {table}_{t}" for t in TRIGGERS] + [f"DROP TABLE IF EXISTS {table}"]
    return _sqlite_steps(table, [*(drop if replace else []), create, *triggers, fill], probe=[
        "CREATE VIRTUAL TABLE temp.houqin_fts_probe USING fts5(x, tokenize='ascii', content='', detail='column')",
        "SELECT count(*) FROM json_each('[0]')",
    ])


def _table_exists(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [name])
    return cursor.fetchone() is not None


def _columns(cursor, table: str) -> tuple[str, ...]:
    cursor.execute(f'PRAGMA table_info("{table}")')
    return tuple(row[1] for row in cursor.fetchall())


def repair_trigram_indexes(using: str = "default", *, force: bool = False) -> list[str]:
    """Recreate missing triggers of the entities' search indexes (trigram and bigram) and refill those indexes.

    SQLite alters a table in some migrations by building a new table and dropping the old one, which
    drops the old table's triggers with it: the index would then silently stop following the rows
    (found by the fixed-assets II migration, which added columns to the asset cards). Run after every
    migrate (``post_migrate``); returns the tables repaired. Cheap when nothing is missing. ``force``:
    rebuild every index even so (e.g. after rows were written by a program without the triggers).
    """
    from .entities import registry

    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    repaired = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
        for entity in list(registry):
            table = getattr(entity, "search_index", None)
            if not table:
                continue
            source = entity.model._meta.db_table
            if _table_exists(cursor, table) and (force or not {f"{table}_{t}" for t in TRIGGERS} <= present):
                triggers, create, fill = _trigram_statements(source, table, _columns(cursor, table))
                for t in TRIGGERS:
                    cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_{t}"')
                cursor.execute(f'DROP TABLE "{table}"')  # made again contentless, whatever it was
                for sql in [create, *triggers, fill]:
                    cursor.execute(sql)
                repaired.append(table)
            bt = bigram_table(table)
            if _table_exists(cursor, bt) and (force or not {f"{bt}_{t}" for t in TRIGGERS} <= present):
                triggers, _create, fill = _bigram_statements(source, bt, _columns(cursor, bt))
                for t in TRIGGERS:
                    cursor.execute(f'DROP TRIGGER IF EXISTS "{bt}_{t}"')
                for sql in triggers:
                    cursor.execute(sql)
                cursor.execute(f"INSERT INTO {bt}({bt}) VALUES ('delete-all')")  # noqa: S608 - names from code
                cursor.execute(fill)
                repaired.append(bt)
    forget()
    return repaired
