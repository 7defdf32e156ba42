"""Bounded pagination for entity lists, page and API (architecture §3: no COUNT(*) over millions).

A list counts its rows only up to a cap (``HOUQIN_LIST_COUNT_CAP``, 1,000) — or up to the page
asked for, when that lies further — plus one: ``SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)``.
Below the cap the total is exact; above it the page says "more than 1,000" and offers the next
page, never a made-up number, and a "count all" button (``?count=all``, the API too) counts every
row on request. Counting is what a first page spends most on when many rows match: a search for
计算机 among 100,000 cards scans until it has found cap + 1 matches, ~4,000 rows for 1,000 and
~38,000 (19 ms) for 10,000; what a user reads on page 1 is the first 50 rows, and "more than 1,000"
tells them to narrow the search. A plain school list (no filter, no search) needs no counting at all:
its exact total is kept by triggers (``core.rowcount``, SQLite), so it shows "100,000 records" and its
deep pages skip the COUNT(*) too. A deep page (``?page=2000``) still counts up to its own rows, so the
pager is exact there and the last page is reachable; on SQLite it counts every row (one plain
COUNT(*) over an index costs no more than counting a LIMIT subquery that far), and with the exact
total a page past the middle is read from the other end (``DeferredJoin.window``).
"""

from __future__ import annotations

import json
import math
import re

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, InvalidPage, Page, PageNotAnInteger, Paginator
from django.db import OperationalError, connections
from django.db.models.expressions import RawSQL
from django.db.models.fields import AutoFieldMixin
from django.db.models.query import ModelIterable
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.where import AND
from django.utils.functional import cached_property

from .caching import database_key
from .rowcount import exact_total
from .search_index import MARK_END, MARK_START

DEFAULT_COUNT_CAP = 1_000
COUNT_ALL = 10**12  # ``?count=all``: a cap no list reaches
FULL_READ_MAX = 2_000  # a search with up to this many index candidates reads all their ids on page 1 (``_bounded``)


def count_cap() -> int:
    return int(getattr(settings, "HOUQIN_LIST_COUNT_CAP", DEFAULT_COUNT_CAP))


class DeferredJoin:
    """A queryset for the Paginator that pages by primary keys first (architecture §3: deep pages).

    ``SELECT id … ORDER BY … LIMIT 50 OFFSET 99950`` walks a covering index instead of whole rows
    with their joins; the 50 rows are then fetched by primary key in the same order. Also on the
    first page: when a search matches many rows, sorting their ids is much cheaper than sorting
    the joined rows.
    """

    def __init__(self, queryset, fetch=None):
        self.queryset = queryset
        self.fetch = fetch  # ``fetch(ids, db)`` → (key, row) pairs: the rows read another way (``api.RawPlan``)
        self._first: list | None = None
        self._first_sql: tuple | None = None

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:  # pragma: no cover - the Paginator uses count()
        return self.count()

    def first_ids(self, n: int, *, from_candidates: bool = False) -> list:
        """The first ``n`` primary keys in order, kept for the first page's rows (read once). Integer keys are
        read by the compiled SQL straight from the cursor, and that SQL is kept: the page's count reuses its
        WHERE (``count_sql``) instead of compiling the filters again. ``from_candidates``: read them starting
        from the search index's candidates (``_from_candidates``) — for reading all of a search's rows: SQLite
        may otherwise walk the list's order index probing each entry against the candidates (983 of zhang
        among 100,000 students: the whole index, 11 ms, where looking the candidates up and sorting them
        takes 1)."""
        qs = self.queryset.values_list("pk", flat=True)[:n]
        self._first_sql = None
        if not isinstance(qs.model._meta.pk, AutoFieldMixin):
            self._first = list(qs)
            return self._first
        try:
            sql, params = qs.query.get_compiler(using=qs.db).as_sql()
        except EmptyResultSet:
            self._first = []
            return self._first
        if from_candidates:
            sql, params = _from_candidates(qs, sql, params)
        # Read from the candidates, the ids are looked up and sorted anyway: no walk to stop.
        self._first = _read_first_ids(qs.db, sql, params, qs.model._meta.db_table, budget=not from_candidates)
        self._first_sql = (sql, params)
        return self._first

    def first_ids_and_total(self, n: int) -> tuple[list, int] | None:
        """SQLite: the first ``n`` primary keys in order, read starting from the search index's candidates
        (``_from_candidates``), and how many rows the query has in all — one statement, ``count(*) OVER ()``
        beside each id. Reading all of a search's ids to count them (``first_ids``) brought every one into
        Python: 1,017 for 钢琴 among 100,000 cards, 1.35 ms of the request, where SQLite itself counts and keeps
        the first page for ~0.8. None where that does not apply (not SQLite, DISTINCT, a key that is not an
        integer, a select list that is not a plain column): read as ``first_ids``."""
        qs = self.queryset.values_list("pk", flat=True)[:n]
        if (connections[qs.db].vendor != "sqlite" or qs.query.distinct or qs.query.combinator
                or not isinstance(qs.model._meta.pk, AutoFieldMixin)):
            return None
        try:
            sql, params = qs.query.get_compiler(using=qs.db).as_sql()
        except EmptyResultSet:
            self._first, self._first_sql = [], None
            return [], 0
        sql, params = _from_candidates(qs, sql, params)
        head, sep, tail = sql.partition(" FROM ")
        if not sep or not head.startswith("SELECT ") or "(" in head or "," in head:
            return None
        with connections[qs.db].cursor() as cursor:
            cursor.execute(f"{head}, count(*) OVER (){sep}{tail}", params)
            rows = cursor.fetchall()
        self._first = [row[0] for row in rows]
        self._first_sql = None
        return self._first, (rows[0][1] if rows else 0)

    def counted_first_ids(self, n: int, limit: int) -> int | None:
        """On SQLite, for a first page whose ids would be read by walking the order's index while the filter's index
        seeks more of its conditions (``_sorts_better``, kept per list shape): the rows counted first, up to
        ``limit``, then the first ``n`` ids read the way that count makes cheap — fewer than ``limit`` rows (the
        count is exact) are found by the filter's index and sorted (``_sorted_order``: a category of 0 or 30 cards
        among 100,000 no longer walks the code index until the budget runs out, 5 ms, before doing so); more are
        read by the walk, which meets a page of them soon (the budget still bounds it). Returns the count, the ids
        being kept for the page (``first_ids``); None when the shape is not such a walk (read as ``first_ids``).
        A common filter costs the same two queries as before, in the other order; the count is the capped one the
        page needs anyway (``_count``), read by the filter's index without the ORDER BY."""
        qs = self.queryset.values_list("pk", flat=True)[:n]
        query = qs.query
        if (not isinstance(qs.model._meta.pk, AutoFieldMixin) or connections[qs.db].vendor != "sqlite"
                or query.distinct or query.combinator or getattr(query, "houqin_candidates", None)):
            return None
        try:
            sql, params = query.get_compiler(using=qs.db).as_sql()
        except EmptyResultSet:
            self._first, self._first_sql = [], None
            return 0
        clause = _order_clause(sql)
        sorted_sql = _sorted_order(sql)
        table = qs.model._meta.db_table
        if (clause is None or sorted_sql is None or clause[2] != f" LIMIT {int(n)}"
                or not _sorts_better(qs.db, sql, sorted_sql, params, table)):
            return None
        total = capped_count(self.queryset, limit, compiled=(f"{clause[0]} LIMIT {int(limit)}", tuple(params)))
        self._first_sql = (sql, params)
        if total < limit:
            self._first = _run_ids(qs.db, sorted_sql, params) if total else []
        else:
            self._first = _read_first_ids(qs.db, sql, params, table)
        return total

    def count_sql(self, limit: int) -> tuple[str, tuple] | None:
        """``SELECT pk … WHERE … LIMIT limit`` for the capped count, made from the first page's compiled SQL by
        dropping its ORDER BY — when that is plain columns (``_order_clause``) and the query is not DISTINCT;
        None otherwise (the count compiles its own)."""
        first = getattr(self, "_first_sql", None)
        query = self.queryset.query
        if first is None or query.distinct or query.combinator:
            return None
        sql, params = first
        clause = _order_clause(sql)
        if clause is None:
            return None
        return f"{clause[0]} LIMIT {int(limit)}", tuple(params)

    def __getitem__(self, window):
        first = self._first
        if (first is not None and not window.start and window.stop is not None and window.stop <= len(first)
                and window.step is None):
            return self._rows(first[:window.stop])
        return self._rows(list(self.queryset.values_list("pk", flat=True)[window]))

    def window(self, bottom: int, top: int, total: int) -> list:
        """Rows ``bottom:top`` of ``total``. Past the middle they are read from the other end in the
        opposite order (``ORDER BY … DESC LIMIT 50 OFFSET total - top``): an OFFSET walks every row it
        skips, and the last page of 100,000 then skips 0 rows instead of 99,950. Every list orders by
        its columns and then the primary key, so the reversed order is the exact mirror (NULLs too:
        SQLite and PostgreSQL both put them at opposite ends of ASC and DESC)."""
        qs = self.queryset
        if not qs.ordered or not bottom:  # page 1: its ids were read first (``first_ids``)
            return self[bottom:top]
        if bottom * 2 <= total:
            return self._rows(_window_ids(qs.values_list("pk", flat=True)[bottom:top], total))
        ids = _window_ids(qs.reverse().values_list("pk", flat=True)[max(total - top, 0):total - bottom], total)
        ids.reverse()
        return self._rows(ids)

    def _rows(self, ids: list) -> list:
        if not ids:
            return []
        if self.fetch is not None:
            found = dict(self.fetch(ids, self.queryset.db))
            return [found[i] for i in ids if i in found]
        found = {o.pk: o for o in precompiled(self._by_pk, ids, self.queryset.db)}
        return [found[i] for i in ids if i in found]

    def _by_pk(self, ids):
        """The rows of ``ids`` (a list, or SQL giving them) by primary key alone: the filters already chose them,
        and repeating them lets SQLite pick a filter index over the primary key (5 ms instead of 0.2 at 100k)."""
        base = self.queryset
        if base.query.annotations or base.query.extra or base.query.distinct:
            return base.order_by().filter(pk__in=ids)
        qs = base.model._default_manager.using(base.db).filter(pk__in=ids)
        qs.query.select_related = base.query.select_related
        qs.query.deferred_loading = base.query.deferred_loading
        if base._prefetch_related_lookups:
            qs = qs.prefetch_related(*base._prefetch_related_lookups)
        return qs


# Rows by primary key, compiled once per shape -----------------------------------------------------------------
# A page's rows are read by their keys (``DeferredJoin._by_pk``): the same query on every request but for the keys.
# Django compiles it anew each time (the joins of select_related, the columns): 0.7 of the 1.6 ms the 50 rows of a
# list take in-process. On SQLite the keys go in as one JSON array (``json_each``), so the SQL of a shape — model,
# database, select_related, deferred fields — never changes: it is compiled once and run with the new array.

_SHAPES: dict = {}
SHAPES_MAX = 512  # shapes kept per process (a few per list; the oldest go first)
_KEYS_MARK = "[-7654321]"


class _Shape:
    """A compiled rows-by-key query: its SQL and parameters (the keys' JSON at ``at``) and what the compiler set
    up for ``ModelIterable`` (the columns, the related-row plan)."""

    __slots__ = ("sql", "params", "at", "select", "klass_info", "annotation_col_map", "col_count", "has_extra_select")


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return tuple(sorted(value))
    return value


def _shape_key(qs) -> tuple | None:
    """The shape of a rows-by-key queryset (None: one this path does not take: anything beyond a plain filter
    by key, select_related and deferred fields)."""
    query = qs.query
    if (query.annotations or query.extra or query.distinct or query.order_by or query.low_mark
            or query.high_mark is not None or query.combinator or len(query.where.children) != 1
            or qs._iterable_class is not ModelIterable or qs._fields is not None):
        return None
    return (qs.model, database_key(qs.db), _freeze(query.select_related), _freeze(query.deferred_loading[0]),
            query.deferred_loading[1])


def _json_keys(keys_json: str) -> RawSQL:
    return RawSQL("SELECT value FROM json_each(%s)", [keys_json])  # noqa: S611 - a parameter


def precompiled(by_keys, ids: list, db: str):
    """The rows ``ids`` by primary key from database ``db``: ``by_keys(keys)`` (``DeferredJoin._by_pk``) given the
    keys as one JSON array, run with the SQL compiled once for its shape; ``by_keys(ids)`` as Django runs it where
    that does not apply (not SQLite, no ``json_each``, keys that are not integers). A queryset of another shape
    runs Django's way, with the JSON array."""
    from .search_index import _has_json_each

    if (not ids or connections[db].vendor != "sqlite" or not all(type(i) is int for i in ids)
            or not _has_json_each(db)):
        return by_keys(ids)
    keys_json = json.dumps(ids)
    run = by_keys(_json_keys(keys_json))
    key = _shape_key(run)
    if key is None:
        return run
    shape = _SHAPES.get(key)
    if shape is None:
        shape = _compile(by_keys(_json_keys(_KEYS_MARK)))
        if shape is None:
            return run
        if len(_SHAPES) >= SHAPES_MAX:
            _SHAPES.pop(next(iter(_SHAPES)))
        _SHAPES[key] = shape
    query = run.query
    query.__class__ = _PrecompiledQuery
    query.shape = shape
    query.keys_json = keys_json
    return run


def mark_at(params) -> int | None:
    """Where the keys' mark (``_KEYS_MARK``) is among a compiled statement's parameters; None unless exactly once."""
    at = [i for i, p in enumerate(params) if p == _KEYS_MARK]
    return at[0] if len(at) == 1 else None


def _compile(probe) -> _Shape | None:
    """Compile ``probe`` (its keys a mark); None when the mark is not one parameter."""
    compiler = probe.query.get_compiler(using=probe.db)
    sql, params = compiler.as_sql()
    at = mark_at(params)
    if at is None or type(compiler) is not SQLCompiler:
        return None
    shape = _Shape()
    shape.sql, shape.params, shape.at = sql, tuple(params), at
    shape.select, shape.klass_info = compiler.select, compiler.klass_info
    shape.annotation_col_map, shape.col_count = compiler.annotation_col_map, compiler.col_count
    shape.has_extra_select = compiler.has_extra_select
    return shape


class _PrecompiledCompiler(SQLCompiler):
    """Gives the shape's SQL with this query's keys instead of compiling (``precompiled``)."""

    def as_sql(self, with_limits=True, with_col_aliases=False):
        shape = self.query.shape
        self.select, self.klass_info = shape.select, shape.klass_info
        self.annotation_col_map, self.col_count = shape.annotation_col_map, shape.col_count
        self.has_extra_select = shape.has_extra_select
        params = list(shape.params)
        params[shape.at] = self.query.keys_json
        return shape.sql, tuple(params)


class _PrecompiledQuery(Query):
    shape: _Shape
    keys_json: str

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        if connection is None:
            connection = connections[using]
        return _PrecompiledCompiler(self, connection, using, elide_empty)

    def clone(self):
        plain = super().clone()  # anything else done to the queryset compiles it Django's way
        plain.__class__ = Query
        return plain


# A first page's ids, read without walking a whole index (SQLite) ----------------------------------------------------
# SQLite picks one plan for a filtered list's first page whatever the values, from average counts (it is built
# without STAT4): for ``status = ? AND category = ? ORDER BY code LIMIT 51`` it walks the code index and tests each
# card, which finds 51 cards of a common category at once but walks all 100,000 for a category of 30 cards
# (130 ms; a rare status, room or custodian alike). The read is given a budget of VM steps (``ORDER_WALK_BUDGET``
# thousands, ~3 ms; a 计算机 search's first page takes 8); past it, the same query with its ORDER BY terms written ``+"table"."column"`` (no index can
# serve that order) lets SQLite find the matching rows by their filter's index and sort them — few, since a walk
# that long met few (30 cards: 0.02 ms). Same rows, same order: unary + changes neither value nor collation
# (sqlite.org/datatype3.html#collation).

ORDER_WALK_BUDGET = 20
_STEP = 1000
_ORDER_TERM = re.compile(r'^(?:"[^"]+"\.)?"[^"]+" (?:ASC|DESC)(?: NULLS (?:FIRST|LAST))?$|^\d+ (?:ASC|DESC)$')


def _order_clause(sql: str) -> tuple[str, list[str], str] | None:
    """``(what comes before, terms, LIMIT/OFFSET after)`` of ``sql``'s final ORDER BY, or None unless that clause
    is plain column terms (quoted names or result positions: no parameter, expression or subquery) followed by
    nothing but LIMIT/OFFSET numbers."""
    at = sql.rfind(" ORDER BY ")
    if at < 0:
        return None
    tail = sql[at + len(" ORDER BY "):]
    limit_at = tail.find(" LIMIT ")
    order, rest = (tail, "") if limit_at < 0 else (tail[:limit_at], tail[limit_at:])
    if rest and not re.fullmatch(r" LIMIT \d+(?: OFFSET \d+)?", rest):
        return None
    terms = order.split(", ")
    if not all(_ORDER_TERM.match(t) for t in terms):
        return None
    return sql[:at], terms, rest


def _sorted_order(sql: str) -> str | None:
    """``sql`` with every column of its final ORDER BY prefixed by unary + (``_order_clause``), or None."""
    clause = _order_clause(sql)
    if clause is None:
        return None
    head, terms, rest = clause
    return head + " ORDER BY " + ", ".join(t if t[0].isdigit() else "+" + t for t in terms) + rest


def _run_ids(db: str, sql: str, params) -> list:
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _read_first_ids(db: str, sql: str, params, table: str, *, budget: bool = True) -> list:
    """The ids ``sql`` (a first page of ``table``: LIMIT, no OFFSET) selects; on SQLite a plan that walks too far
    is left for the sorted one (block comment) when that seeks more of the conditions in an index — not when it
    was sorting already, nor when no index serves the filter (``LIKE``): then it runs again to its end."""
    connection = connections[db]
    sorted_sql = _sorted_order(sql) if budget and connection.vendor == "sqlite" and " OFFSET " not in sql else None
    if sorted_sql is None:
        return _run_ids(db, sql, params)
    connection.ensure_connection()
    raw = connection.connection
    steps = [0]

    def stop() -> int:
        # Stops the read once, then never again: a statement run meanwhile (the debug cursor quoting the
        # parameters for its log) finishes; SQLite calls this only for statements of more than _STEP steps.
        steps[0] += 1
        return steps[0] == ORDER_WALK_BUDGET + 1

    raw.set_progress_handler(stop, _STEP)
    try:
        return _run_ids(db, sql, params)
    except OperationalError:
        if steps[0] <= ORDER_WALK_BUDGET:
            raise  # another error, not the budget
    finally:
        raw.set_progress_handler(None, _STEP)
    if _sorts_better(db, sql, sorted_sql, params, table):
        return _run_ids(db, sorted_sql, params)
    return _run_ids(db, sql, params)  # it was sorting, or no index serves the filter better (LIKE): to its end


# A deep page of a filter matching few rows walks the order's index too, further with each page (page 2 of a
# 300-card category: ~33,000 entries for its 100 cards). Its total is known there (counted in full), so when it is
# at most DEEP_SORT_MAX the sorted form is read at once — sorting that many costs under a millisecond.
DEEP_SORT_MAX = 1_000
_sorts: dict[tuple, bool] = {}
_LIMITS = re.compile(r" LIMIT \d+(?: OFFSET \d+)?$")


def _window_ids(sliced, total: int) -> list:
    """The ids of ``sliced`` (a page's ``values_list("pk", flat=True)[a:b]`` of ``total`` rows)."""
    db = sliced.db
    if (total > DEEP_SORT_MAX or connections[db].vendor != "sqlite"
            or not isinstance(sliced.model._meta.pk, AutoFieldMixin)):
        return list(sliced)
    try:
        sql, params = sliced.query.get_compiler(using=db).as_sql()
    except EmptyResultSet:
        return []
    sorted_sql = _sorted_order(sql)
    if sorted_sql is not None and _sorts_better(db, sql, sorted_sql, params, sliced.model._meta.db_table):
        sql = sorted_sql
    return _run_ids(db, sql, params)


def _sorts_better(db: str, sql: str, sorted_sql: str, params, table: str) -> bool:
    """Whether SQLite serves ``sql`` by walking its order's index while the sorted form seeks a column the walk
    did not (the filter's). Kept per SQL text: built without STAT4, SQLite plans a statement the same whatever its
    values, so two EXPLAINs per list shape and process."""
    key = (database_key(db), _LIMITS.sub("", sql))  # one entry for every page of a list
    found = _sorts.get(key)
    if found is None:
        walked = _plan(db, sql, params)
        found = not any("TEMP B-TREE FOR ORDER BY" in line for line in walked) and bool(
            _seeks(_plan(db, sorted_sql, params), table) - _seeks(walked, table))
        if len(_sorts) >= SHAPES_MAX:
            _sorts.clear()
        _sorts[key] = found
    return found


def _plan(db: str, sql: str, params) -> list[str]:
    with connections[db].cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)  # noqa: S608 - Django's compiled SQL
        return [str(row[-1]) for row in cursor.fetchall()]


_SEEK = re.compile(r"\((.*)\)\s*$")


def _seeks(plan: list[str], table: str) -> set[str]:
    """The columns the plan's search of ``table`` seeks in an index: ``SEARCH t USING INDEX i (a=? AND b>?)`` →
    {"a", "b"}. The sorted plan helps only if it seeks a column the walk did not (the filter's)."""
    columns: set[str] = set()
    for line in plan:
        if line.startswith((f"SEARCH {table} ", f'SEARCH "{table}" ')):
            found = _SEEK.search(line)
            if found:
                columns.update(re.split(r"[=<>]", term, maxsplit=1)[0].strip() for term in found[1].split(" AND "))
    return columns


def _count(object_list, limit: int, *, deep: bool = True) -> tuple[int, bool]:
    """(rows counted, whether that is all of them): at most ``limit`` rows, or all of them on a deep page
    on SQLite — a deep page walks that many rows anyway, and SQLite's plain COUNT(*) over a covering
    index is about twice as fast as counting a LIMIT subquery."""
    compiled = None
    if isinstance(object_list, DeferredJoin):
        compiled = object_list.count_sql(limit)
        object_list = object_list.queryset
    if hasattr(object_list, "query"):  # a QuerySet
        qs = object_list.order_by()
        total = exact_total(qs)  # a plain school list: its total kept by triggers (SQLite)
        if total is not None:
            return total, True
        if deep and limit > count_cap() + 1 and qs.db and connections[qs.db].vendor == "sqlite":
            return qs.count(), True
        n = capped_count(qs, limit, compiled=compiled)
        return n, n < limit
    n = min(len(object_list), limit)
    return n, n < limit


def capped_count(qs, limit: int, *, compiled: tuple | None = None) -> int:
    """``qs.values("pk")[:limit].count()`` — the same SQL, ``SELECT COUNT(*) FROM (SELECT pk … LIMIT n) subquery``
    — without Django's aggregation machinery around it (a copy of the query turned into an aggregate, its
    compiler, the result converters): 0.9 → 0.6 ms for a filtered list, the SQL itself taking 0.45 of it.
    ``compiled``: that inner SQL and its parameters when the caller has them (``DeferredJoin.count_sql``)."""
    inner = qs.values_list("pk")[:limit]
    if compiled is not None:
        sql, params = compiled
    else:
        try:
            sql, params = inner.query.get_compiler(using=inner.db).as_sql()
        except EmptyResultSet:
            return 0
    sql, params = _from_candidates(inner, sql, params)
    with connections[inner.db].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) subquery", params)  # noqa: S608 - Django's compiled SQL
        return cursor.fetchone()[0]


def _from_candidates(qs, sql: str, params):
    """``sql`` (``qs`` compiled) starting from a search index's candidates (``houqin_candidates``, set by the
    list search: the candidates' ids, or for a common term searched by a scan the index query itself,
    ``search_index.count_source``): ``FROM (candidates) CROSS JOIN "table" ON its key … WHERE <the same>``.
    The candidates include every match and the WHERE is unchanged, so the rows are the same; CROSS JOIN
    makes SQLite read the candidates first (and a count stop at its LIMIT). As it was when the query joins
    other tables, is not SQLite's, or its conditions are no longer all AND-ed to the search's."""
    source = getattr(qs.query, "houqin_candidates", None)
    where = qs.query.where
    if not source or connections[qs.db].vendor != "sqlite" or where.connector != AND or where.negated:
        return sql, params  # OR-ed with another queryset (``|``) or negated: rows beyond the candidates may match
    connection = connections[qs.db]
    table = connection.ops.quote_name(qs.model._meta.db_table)
    marker = f" FROM {table} WHERE "
    at = sql.find(marker)
    if at < 0 or sql.count(marker) != 1 or "%s" in sql[:at]:
        return sql, params
    pk = f"{table}.{connection.ops.quote_name(qs.model._meta.pk.column)}"
    where, params = sql[at + len(marker):], tuple(params)
    if source.test_sql:
        where, params = _candidate_test_dropped(where, params, pk, source.test_sql, tuple(source.test_params))
    if source.exact:
        where, params = _indexed_condition_dropped(where, params)
    sql = (f"{sql[:at]} FROM ({source.sql}) AS houqin_candidates CROSS JOIN {table} "
           f"ON {pk} = houqin_candidates.houqin_id WHERE {where}")
    return sql, (*source.params, *params)


def _indexed_condition_dropped(where: str, params: tuple) -> tuple[str, tuple]:
    """``where`` with the search's ``LIKE`` conditions (``search_index.IndexedCondition``) written ``1`` and their
    parameters gone: the candidates a query starts from are exactly the rows they find (``Source.exact``), so
    they hold for every row (计算机 among 100,000 cards: the capped count 0.84 → 0.46 ms). Unchanged unless the
    marks appear once each, in order."""
    start, end = where.find(MARK_START), where.find(MARK_END)
    if start < 0 or end < start or where.count(MARK_START) != 1 or where.count(MARK_END) != 1:
        return where, params
    first = len(_PLACEHOLDER.findall(where[:start]))
    inside = len(_PLACEHOLDER.findall(where[start:end]))
    if first + inside > len(params):
        return where, params
    return (f"{where[:start]}1{where[end + len(MARK_END):]}",
            tuple(params[:first]) + tuple(params[first + inside:]))


_PLACEHOLDER = re.compile(r"(?<!%)%s")


def _candidate_test_dropped(where: str, params: tuple, pk: str, test_sql: str, test_params: tuple
                            ) -> tuple[str, tuple]:
    """``where`` (the SQL after WHERE, with its ``params``) with every ``pk IN (test_sql)`` of these very
    candidates (``test_params``: the JSON array of their ids, or the search index query's term) written ``1``.
    Each row the CROSS JOIN gives is one of the candidates, so that test is true for every row it is asked of,
    wherever it stands (under OR or NOT too); SQLite then no longer builds a second list of the candidates to
    probe each row against (zhang among 100,000 students, 982 candidates: the ids query 1.5 → 1.0 ms)."""
    test = f"{pk} IN ({test_sql})"
    width = len(_PLACEHOLDER.findall(test_sql))
    pieces = where.split(test)
    if len(pieces) == 1:
        return where, params
    index = len(_PLACEHOLDER.findall(pieces[0]))
    out, dropped = [pieces[0]], set()
    for piece in pieces[1:]:
        if index + width > len(params):
            return where, params
        if tuple(params[index:index + width]) == test_params:
            out.append("1")
            dropped.update(range(index, index + width))
        else:
            out.append(test)
        out.append(piece)
        index += width + len(_PLACEHOLDER.findall(piece))
    if index != len(params):
        return where, params
    return "".join(out), tuple(p for i, p in enumerate(params) if i not in dropped)


class BoundedPaginator(Paginator):
    """A Paginator whose count stops at ``max(cap, rows up to the wanted page)``.

    ``count`` is exact when ``exact`` is True; otherwise there are more than ``count`` rows and
    ``num_pages`` ends at the page holding row ``count + 1`` (so every known page has a next).
    """

    def __init__(self, object_list, per_page, *, wanted_page=1, cap=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = count_cap() if cap is None else cap
        try:
            wanted = int(wanted_page)
        except (TypeError, ValueError):
            wanted = 1
        self.wanted = min(max(wanted, 1), 10**7)
        self.limit = max(self.cap, self.wanted * self.per_page)

    @cached_property
    def _bounded(self) -> tuple[int, bool]:
        ol = self.object_list
        if self.wanted == 1 and isinstance(ol, DeferredJoin) and self.cap < COUNT_ALL and ol.queryset.ordered:
            # Page 1 reads its ids (and one more) first: fewer than a page and one is the exact count, with no
            # COUNT query (a card's journal, a code search); the ids serve the page's rows either way.
            # A search whose index found at most n candidates (``search_index.candidates``; n up to the limit or
            # ``FULL_READ_MAX``) reads n + 1 ids: its rows are sorted in full either way, and fewer than n + 1 is
            # the exact count without a COUNT that looks every candidate up again (zhang among 100,000 students:
            # 982 candidates; 钢琴 among 100,000 cards: 1,017, then counted exactly, not "more than 1,000").
            # The bound only sizes the read: n + 1 rows found (a join repeating rows) are counted as usual.
            want = self.per_page + 1
            at_most = getattr(ol.queryset.query, "houqin_rows_at_most", None)
            every = isinstance(at_most, int) and want <= at_most <= max(self.limit, FULL_READ_MAX)
            if every:
                want = at_most + 1
            if every:
                # The first page's ids and the total in one statement: all n ids are not needed to count them.
                found = ol.first_ids_and_total(self.per_page + 1)
                if found is not None and found[1] <= at_most:
                    return found[1], True
            counted = None if every else ol.counted_first_ids(want, self.limit + 1)
            if counted is not None:
                return (self.limit, False) if counted > self.limit else (counted, True)
            ids = ol.first_ids(want, from_candidates=every)
            if len(ids) < want:
                return len(ids), True
        n, complete = _count(self.object_list, self.limit + 1, deep=self.wanted > 1 or self.cap >= COUNT_ALL)
        if complete:
            return n, True
        return (self.limit, False) if n > self.limit else (n, True)

    @cached_property
    def count(self) -> int:
        return self._bounded[0]

    @property
    def exact(self) -> bool:
        return self._bounded[1]

    @cached_property
    def num_pages(self) -> int:
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        if not self.exact:  # up to the page that holds row limit + 1, which exists
            return self.limit // self.per_page + 1
        hits = max(1, self.count - self.orphans)
        return math.ceil(hits / self.per_page)

    def get_page(self, number):
        try:
            number = self.validate_number(number)
        except PageNotAnInteger:
            number = 1
        except EmptyPage:
            number = self.num_pages
        return self.page(number)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.exact and top + self.orphans >= self.count:
            top = self.count
        if self.exact and isinstance(self.object_list, DeferredJoin):
            return self._get_page(self.object_list.window(bottom, top, self.count), number, self)
        return self._get_page(self.object_list[bottom:top], number, self)

    def _get_page(self, *args, **kwargs):
        return BoundedPage(*args, **kwargs)


class BoundedPage(Page):
    @property
    def exact(self) -> bool:
        return self.paginator.exact

    def end_index(self) -> int:
        if self.paginator.exact:
            return super().end_index()
        return self.start_index() + len(self.object_list) - 1


__all__ = ["COUNT_ALL", "BoundedPaginator", "DeferredJoin", "EmptyPage", "InvalidPage", "count_cap"]
