"""Fast bulk inserts for the write phase of large imports (architecture §3: the write lock for seconds).

``bulk_insert(model, objs)`` writes what ``bulk_create`` writes — every concrete field, ``auto_now``
and ``auto_now_add`` stamps, primary keys set on the objects afterwards — but prepares the values
once per column kind instead of calling each field's ``get_db_prep_save`` per value (three quarters
of ``bulk_create``'s time at 100k rows), and sends multi-row ``INSERT … RETURNING`` statements.

Only on SQLite (3.35+ for RETURNING); other databases, models with a primary key that is not an
auto field, and multi-table inheritance go through ``bulk_create``.

A large ``bulk_insert`` inside a transaction also does the work of the table's search-index triggers
(``core.search_index``: ``AFTER INSERT … BEGIN INSERT INTO <index>(…) VALUES (new.…); END``) once for all
its rows instead of once per row (``set_based_triggers``): per row, the FTS5 triggers cost four times the
insert itself at 100k cards. So do the row-count triggers (``core.rowcount``: an upsert per row), for
``insert_rows`` too: inside the savepoint each per-row upsert made the 100k-card insert take 27-33 s instead
of 2.8 s (``count_triggers``).

Before the write transaction of a large import, ``index_ahead`` reserves the new rows' keys and makes their
search-index entries in a short transaction of its own; the write then inserts the rows under those keys and
holds the lock only for the rows (100,000 cards: 4.6 → 3.0 s; the entries' 1.2-1.7 s now in their own lock).
"""

from __future__ import annotations

import datetime
import decimal
import functools
import re
import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import chain, repeat
from operator import attrgetter, is_, itemgetter

from django.db import connections, models, router, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone

MAX_PARAMS = 30000  # SQLite accepts 32766 bound parameters per statement (3.32+)

_STR = (models.CharField, models.TextField, models.SlugField)
_INT = (models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
        models.PositiveSmallIntegerField, models.PositiveBigIntegerField)
_AUTO = (models.AutoField, models.BigAutoField, models.SmallAutoField)
_ADAPT_DECIMAL = BaseDatabaseOperations.adapt_decimalfield_value
SET_BASED_TRIGGERS_FROM = 1000  # rows of one bulk_insert from which the insert triggers run set-based


def _converter(field, connection):
    """A function value -> database value equal to ``field.get_db_prep_save(value, connection)``
    (None: the value is used as it is). Exact field classes only; anything else asks the field."""
    kind = type(field)
    if field.is_relation and field.many_to_one:
        if type(field.target_field) in _AUTO + _INT:
            return lambda v: v if v is None or type(v) is int else field.get_db_prep_save(v, connection)
    elif kind in _STR:
        # Any str passes as it is, a choices enum member too: CharField.get_prep_value returns a str unchanged.
        return lambda v: v if v is None or isinstance(v, str) else field.get_db_prep_save(v, connection)
    elif kind in _INT:
        return lambda v: v if v is None or type(v) is int else field.get_db_prep_save(v, connection)
    elif kind is models.BooleanField:
        return lambda v: v if v is None or type(v) is bool else field.get_db_prep_save(v, connection)
    elif kind is models.DateField:  # adapt_datefield_value: str(date)
        def convert(v):
            return (v.isoformat() if type(v) is datetime.date else None if v is None
                    else field.get_db_prep_save(v, connection))

        # a column of dates only: one C-level map (5 date columns: 0.4 s of the write at 100k cards)
        convert.whole = lambda column, kinds: list(map(datetime.date.isoformat, column)) if kinds == _DATES else None
        return convert
    elif kind is models.DecimalField and type(connection.ops).adapt_decimalfield_value is _ADAPT_DECIMAL:
        # to_python(Decimal) is Decimal(value), the same number with the same exponent; the driver adapts it.
        def convert(v):
            return v if v is None or type(v) is decimal.Decimal and v.is_finite() else field.get_db_prep_save(v, connection)

        convert.whole = lambda column, kinds: (column if kinds == _DECIMALS
                                               and all(map(decimal.Decimal.is_finite, column)) else None)
        return convert
    return lambda v: field.get_db_prep_save(v, connection)


_DATES = {datetime.date}
_DECIMALS = {decimal.Decimal}


def _convert_column(column, convert, types: tuple, kinds: set):
    """``column`` in its database form: unchanged when every value is of a type the converter passes through,
    else converted as a whole where the converter can (``convert.whole``), else value by value."""
    if types and kinds.issubset(types):
        return column
    whole = getattr(convert, "whole", None)
    if whole is not None:
        done = whole(column, kinds)
        if done is not None:
            return done
    return list(map(convert, column))


def _ready_types(field) -> tuple:
    """The value types a column's converter passes through unchanged (checked a whole column at once)."""
    kind = type(field)
    if field.is_relation and field.many_to_one and type(field.target_field) in _AUTO + _INT:
        return (int, type(None))
    if kind in _STR:
        return (str, type(None))
    if kind in _INT:
        return (int, type(None))
    if kind is models.BooleanField:
        return (bool, type(None))
    return ()


def values_getter(model, attnames: list):
    """A function obj -> the tuple of its ``attnames``, as ``attrgetter`` reads them. Where every one is read
    through Django's own ``DeferredAttribute`` (or the foreign key's, a data descriptor whose ``__get__`` runs on
    every read: 1M calls, 0.6 s of the write at 100k students), the values are taken from the instance's
    ``__dict__`` — what ``__get__`` returns when the value is loaded; an object missing one is read the usual way."""
    slow = attrgetter(*attnames)
    if len(attnames) == 1:
        slow = (lambda one: lambda obj: (one(obj),))(slow)
    if not all(type(getattr(model, a, None)) in (DeferredAttribute, ForeignKeyDeferredAttribute) for a in attnames):
        return slow
    fast = itemgetter(*attnames)
    if len(attnames) == 1:
        fast = (lambda one: lambda values: (one(values),))(fast)

    def get(obj):
        try:
            return fast(obj.__dict__)
        except KeyError:  # a deferred field: loaded as attrgetter would
            return slow(obj)

    return get


def values_of(model, attnames: list, objs: list) -> list[tuple]:
    """``list(map(values_getter(model, attnames), objs))``, read straight from the instances' ``__dict__`` in one
    C-level pass where every attribute is Django's plain one and loaded on every object (a Python call per
    object: 0.1 s at 100k rows)."""
    if attnames and all(type(getattr(model, a, None)) in (DeferredAttribute, ForeignKeyDeferredAttribute)
                        for a in attnames):
        fast = itemgetter(*attnames)
        try:
            values = list(map(fast, map(attrgetter("__dict__"), objs)))
        except KeyError:  # a deferred field somewhere: read as attrgetter would
            pass
        else:
            return values if len(attnames) > 1 else [(v,) for v in values]
    return list(map(values_getter(model, attnames), objs))


class ReadyColumn:
    """A column of ``insert_columns`` already in its database form (e.g. audit entries' JSON texts)."""

    __slots__ = ("values",)

    def __init__(self, values: list):
        self.values = values


class _PerRow:
    """A default made anew for every row (a callable default)."""

    def __init__(self, make):
        self.make = make


class _Same:
    """A column holding one prepared value on every row (the ``auto_now`` stamps)."""

    def __init__(self, value):
        self.value = value


def _rows_of(columns: list, start: int, end: int) -> list[tuple]:
    """Rows ``start:end`` of columns in database form (a list each, or ``_Same``: one value on every row)."""
    return list(zip(*[[c.value] * (end - start) if isinstance(c, _Same) else c[start:end] for c in columns],
                    strict=True))


def _column_values(objs: list, fields: list, converters: list, ready: list) -> list[tuple]:
    """The rows of parameters for ``objs``: per column, the converter is applied only when some value is not
    of a type it passes through unchanged (one ``type()`` pass per column instead of a call per value)."""
    if not objs:
        return []
    get = values_getter(type(objs[0]), [f.attname for f in fields])
    rows = list(map(get, objs))
    columns = list(zip(*rows, strict=True))
    for i, (convert, types) in enumerate(zip(converters, ready, strict=True)):
        if isinstance(convert, _Same):
            columns[i] = [convert.value] * len(objs)
        else:
            columns[i] = _convert_column(columns[i], convert, types, set(map(type, columns[i])))
    return list(zip(*columns, strict=True))


def _related_checker(meta):
    """A function obj -> True when ``obj._prepare_related_fields_for_save`` would do nothing to it: every related
    record cached on it is saved (integer key) and its key is the foreign key's value. Django's method asks each
    concrete field (1.2 s of the write at 100k students); this asks only the cached relations. False: ask
    Django's method (it raises for an unsaved record, or fixes the key or the cache)."""
    if any(f.is_relation for f in meta.private_fields):
        return lambda obj: False
    checks = []
    for f in meta.concrete_fields:
        if f.is_relation:
            if type(f.remote_field.model._meta.pk) not in _AUTO + _INT:
                return lambda obj: False
            # the target is the related key itself (the usual case): a value equal to it means the key is set
            checks.append((f.cache_name, f.attname, f.target_field.attname, f.empty_values,
                           f.target_field.primary_key))
    missing = object()

    def related_ok(obj) -> bool:
        cache = obj._state.fields_cache
        if not cache:
            return True
        for name, attname, target, empty, target_is_pk in checks:
            rel = cache.get(name, missing)
            if rel is missing or rel is None:
                continue
            state = obj.__dict__
            value = state[attname] if attname in state else getattr(obj, attname)
            if value in empty or getattr(rel, target) != value or (not target_is_pk and rel.pk is None):
                return False
        return True

    return related_ok


class Ready:
    """A value already in its database form (made before the write transaction, e.g. an audit entry's JSON
    text): ``insert_rows`` stores it as it is instead of converting it."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


STAGE_FROM = 1000  # rows of one insert in a write transaction from which they pass through a TEMP table
_STAGES = iter(range(1, 1 << 62))
_DROP_LATER: ContextVar[list | None] = ContextVar("houqin_bulk_drop_later", default=None)


@contextmanager
def stages_dropped_after(using: str = "default"):
    """The TEMP tables ``_insert_many`` stages rows in during the block are dropped at its end, not each right after
    its copy: dropping 100,000 staged rows frees their pages (0.1 s a table), work that need not happen while a
    write transaction holds the lock (``importing.run_import`` puts its transaction inside this block)."""
    pending: list = []
    token = _DROP_LATER.set(pending)
    try:
        yield
    finally:
        _DROP_LATER.reset(token)
        if pending:
            with connections[using].cursor() as cursor:
                for stage in pending:
                    cursor.execute(f"DROP TABLE IF EXISTS temp.{stage}")


def _insert_many(cursor, head: str, row_sql: str, per_row: int, batches, count: int) -> None:
    """Insert the rows of ``batches`` (lists of parameter tuples) with ``head`` (``INSERT INTO t (cols) VALUES ``),
    in a write transaction on SQLite. From ``STAGE_FROM`` rows they are bound into a TEMP table (in memory,
    ``temp_store``; no index, no constraint) and copied with one ``INSERT … SELECT`` in their order: the
    table's indexes are then kept by one statement instead of one per row. 100,000 rows: journal 1.79 → 1.23 s,
    cards 1.75 → 1.47 s. The rows, their order, their keys and any constraint error are the same; the TEMP table
    is dropped whatever happens (at the end of ``stages_dropped_after`` when inside one)."""
    if count < STAGE_FROM:
        for rows in batches:
            cursor.executemany(head + row_sql, rows)
        return
    stage = _new_stage(cursor, per_row)
    try:
        _fill_stage(cursor, stage, per_row, batches)
        _copy_stage(cursor, head, stage, ", ".join(f"c{i}" for i in range(per_row)))
    finally:
        _drop_stage(cursor, stage)


def _new_stage(cursor, width: int) -> str:
    """A new TEMP table of ``width`` untyped columns ``c0 …`` (no index, no constraint); its name."""
    stage = f"houqin_stage_{next(_STAGES)}"
    cursor.execute(f"CREATE TEMP TABLE {stage} ({', '.join(f'c{i}' for i in range(width))})")
    return stage


def _fill_stage(cursor, stage: str, width: int, batches) -> None:
    insert = f"INSERT INTO temp.{stage} VALUES ({', '.join(['%s'] * width)})"  # noqa: S608 - our own name
    for rows in batches:
        cursor.executemany(insert, rows)


def _copy_stage(cursor, head: str, stage: str, picked: str, params=()) -> None:
    """``head`` (``INSERT INTO t (cols) VALUES ``) with the rows of ``stage`` in their order, ``picked`` per row."""
    cursor.execute(f"{head.rstrip().removesuffix('VALUES')} SELECT {picked} FROM temp.{stage} ORDER BY rowid",  # noqa: S608
                   list(params))


def _drop_stage(cursor, stage: str) -> None:
    """Drop the TEMP table ``stage`` now, or at the end of the ``stages_dropped_after`` block the code is in."""
    later = _DROP_LATER.get()
    if later is None:
        cursor.execute(f"DROP TABLE IF EXISTS temp.{stage}")
    else:
        later.append(stage)


def _stage_columns(connection, batch: _Batch) -> None:
    """Bind ``batch.columns`` (in ``batch.attnames`` order) into a new TEMP table before the write transaction:
    outside any transaction (a TEMP table is the connection's own, nobody waits for it), so the write only
    copies them (``bulk_insert``): 100,000 cards bound in 0.8 s, copied in 0.85 s under the lock instead of
    1.7 s. Dropped where ``bulk_insert`` takes the batch, or at the end of ``stages_dropped_after``."""
    if connection.in_atomic_block or batch.columns is None or len(batch.objs) < STAGE_FROM:
        return
    count = len(batch.objs)
    columns = [batch.columns[a] for a in batch.attnames]
    batch.stage = stage_rows(connection, len(columns), (_rows_of(columns, start, min(count, start + 10_000))
                                                       for start in range(0, count, 10_000)))


def stage_rows(connection, width: int, batches) -> str:
    """A new TEMP table ``c0 … c<width - 1>`` holding the rows of ``batches`` (lists of tuples) in their order as
    rowid 1, 2, …: bound before a write transaction (outside any: a TEMP table is the connection's own), for the
    write to copy (``_copy_stage``, ``insert_select`` from ``temp.<name> ORDER BY rowid``). Dropped at the end
    of ``stages_dropped_after``, even if the write never takes it; its name."""
    with connection.cursor() as cursor:
        stage = _kept_stage(cursor, width)
        _fill_stage(cursor, stage, width, batches)
    return stage


def _kept_stage(cursor, width: int) -> str:
    """A new TEMP table (``_new_stage``) dropped at the end of the ``stages_dropped_after`` block, not by its user."""
    stage = _new_stage(cursor, width)
    later = _DROP_LATER.get()
    if later is not None:
        later.append(stage)
    return stage


UPDATE_STAGED_FROM = 50  # rows of one bulk_update from which they are staged and updated by one statement


def bulk_update(model, objs: list, fields: list[str]) -> int:
    """What ``model.objects.bulk_update(objs, fields)`` writes — each object's ``fields`` (names or attnames)
    stored on its row — by one ``UPDATE … FROM`` a TEMP table the values are bound into, on SQLite inside a
    transaction. Django's bulk update sends ``CASE WHEN pk = … THEN …`` per field and batch: SQLite compares
    every row against every branch, 5 ms a card (100,000 re-imported cards held the write lock for 400 s;
    one statement: under a second per 10,000). The table's update triggers run per row as with Django's. The
    number of rows updated. Elsewhere, with duplicate or missing keys, or for a few rows: Django's."""
    if not objs:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    chosen = [meta.get_field(name) for name in fields]
    keys = [obj.pk for obj in objs]
    if (not _usable(model, connection) or not connection.in_atomic_block or len(objs) < UPDATE_STAGED_FROM
            or any(not f.concrete or f.primary_key or f.many_to_many for f in chosen)
            or None in keys or len(set(keys)) != len(keys)):
        return model._default_manager.bulk_update(objs, fields=fields, batch_size=500)
    chosen = list({f.attname: f for f in chosen}.values())
    related_ok = _related_checker(meta)
    for obj in objs:
        if not related_ok(obj):
            obj._prepare_related_fields_for_save(operation_name="bulk_update", fields=chosen)
    columns = list(zip(*values_of(model, [f.attname for f in chosen], objs), strict=True))
    converted = [_convert_column(column, _converter(f, connection), _ready_types(f), set(map(type, column)))
                 for f, column in zip(chosen, columns, strict=True)]
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    width = len(chosen) + 1
    updated = {f.column for f in chosen}
    triggers = ([t for t in update_triggers(connection, meta.db_table) if t.fires(updated)]
                if len(objs) >= SET_BASED_TRIGGERS_FROM else [])
    pk = qn(meta.pk.column)
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        stage = _new_stage(cursor, width)
        before = None
        try:
            _fill_stage(cursor, stage, width, (list(zip(keys[i:i + 10_000], *(c[i:i + 10_000] for c in converted),
                                                        strict=True)) for i in range(0, len(keys), 10_000)))
            if triggers:
                # Per row, the search-index triggers cost five times the update (100,000 cards: 18 s): the rows as
                # they were are kept aside, the triggers dropped, and after the update each trigger's statements
                # run once for all the rows (old. → the rows kept, new. → the rows now), then it is made again.
                before = f"houqin_stage_{next(_STAGES)}"
                cursor.execute(f"CREATE TEMP TABLE {before} AS SELECT * FROM {table} "  # noqa: S608 - our own names
                               f"WHERE {pk} IN (SELECT c0 FROM temp.{stage})")
                for trigger in triggers:
                    cursor.execute(f"DROP TRIGGER {qn(trigger.name)}")
            assignments = ", ".join(f"{qn(f.column)} = s.c{i + 1}" for i, f in enumerate(chosen))
            cursor.execute(f"UPDATE {table} SET {assignments} FROM temp.{stage} AS s "  # noqa: S608 - our own names
                           f"WHERE {table}.{pk} = s.c0")
            count = cursor.rowcount
            for trigger in triggers:
                for statement in trigger.set_based(f"temp.{before}", table, pk):
                    target = _INSERT_TARGET.match(statement)
                    if target is not None:
                        with fts5_merges_deferred(cursor, target["target"]):
                            cursor.execute(statement)
                    else:
                        cursor.execute(statement)
                cursor.execute(trigger.sql)
            return count
        finally:
            _drop_stage(cursor, stage)
            if before is not None:
                _drop_stage(cursor, before)


# ``AFTER UPDATE [OF cols] ON t [WHEN …] BEGIN …; END`` (what core.search_index creates for its indexes).
_UPDATE_TRIGGER = re.compile(
    r"^\s*CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`\[]?(?P<name>\w+)[\"`\]]?\s+AFTER\s+UPDATE"
    r"(?:\s+OF\s+(?P<columns>[\w\s,\"`\[\]]+?))?\s+ON\s+[\"`\[]?(?P<table>\w+)[\"`\]]?\s+(?:FOR\s+EACH\s+ROW\s+)?"
    r"(?:WHEN\s+(?P<when>.+?)\s+)?BEGIN\s+(?P<body>.+?)\s*END\s*;?\s*$",
    re.IGNORECASE | re.DOTALL)
_VALUES_STATEMENT = re.compile(r"^\s*(?P<head>INSERT\s+INTO\s+\w+\s*\([\w\s,]+\))\s*VALUES\s*\((?P<values>.*)\)\s*;\s*$",
                               re.IGNORECASE | re.DOTALL)
_DELETE_BY_ROWID = re.compile(r"^\s*DELETE\s+FROM\s+(?P<target>\w+)\s+WHERE\s+rowid\s*=\s*old\s*\.\s*(?P<column>\w+)\s*;\s*$",
                              re.IGNORECASE)
_ROW_REFERENCE = re.compile(r"\b(old|new)\s*\.\s*[\"`\[]?(\w+)[\"`\]]?", re.IGNORECASE)
_QUOTED_TEXT = re.compile(r"('(?:[^']|'')*')")


class UpdateTrigger:
    """A table's update trigger whose statements can run once for many rows: each an ``INSERT INTO x (…) VALUES
    (…)`` or a ``DELETE FROM x WHERE rowid = old.<column>``, reading the row only through ``old.`` and ``new.``."""

    def __init__(self, name: str, sql: str, columns: set | None, when: str | None, statements: list):
        self.name, self.sql, self.columns, self.when, self.statements = name, sql, columns, when, statements

    def fires(self, updated: set) -> bool:
        return self.columns is None or not self.columns.isdisjoint(updated)

    def set_based(self, before: str, table: str, pk: str) -> list[str]:
        """The statements for every updated row at once: ``before`` holds the rows as they were (``old``), the
        table as it is now (``new``), the trigger's WHEN as the condition."""
        rows = f"FROM {before} AS old_row JOIN {table} AS new_row ON new_row.{pk} = old_row.{pk}"
        when = self.when
        if when is None and self.columns:
            # A trigger without WHEN rewrites a row's entry even when none of its columns changed (UPDATE OF fires
            # on the columns set): deleting and adding back the same entry changes nothing, so such rows are left.
            when = " OR ".join(f'old."{c}" IS NOT new."{c}"' for c in sorted(self.columns))
        where = f" WHERE {_rows_named(when)}" if when else ""
        out = []
        for kind, first, second in self.statements:
            if kind == "insert":
                out.append(f"{first} SELECT {_rows_named(second)} {rows}{where}")
            else:  # delete by rowid
                out.append(f"DELETE FROM {first} WHERE rowid IN (SELECT old_row.\"{second}\" {rows}{where})")  # noqa: S608
        return out


def _rows_named(sql: str) -> str:
    """``sql`` with each ``old.col`` / ``new.col`` outside quoted text read from ``old_row`` / ``new_row``."""
    parts = _QUOTED_TEXT.split(sql)
    for i in range(0, len(parts), 2):
        parts[i] = _ROW_REFERENCE.sub(lambda m: f'{m[1].lower()}_row."{m[2]}"', parts[i])
    return "".join(parts)


def _statements(body: str) -> list[str] | None:
    """The trigger body's statements (``sqlite3.complete_statement`` tells where each ends), or None."""
    out, current = [], ""
    for piece in body.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" ;\n\t"):
                out.append(current)
            current = ""
    return out if not current.strip(" ;\n\t") else None


def update_triggers(connection, table: str) -> list[UpdateTrigger]:
    """``table``'s update triggers that ``bulk_update`` can run set-based (``UpdateTrigger``)."""
    out = []
    for name, _sql, match in _matching_triggers(connection, table, _UPDATE_TRIGGER):
        statements = _statements(match["body"])
        if not statements:
            continue
        parsed = []
        for statement in statements:
            insert = _VALUES_STATEMENT.match(statement)
            delete = _DELETE_BY_ROWID.match(statement)
            if insert is not None:
                parsed.append(("insert", insert["head"], insert["values"]))
            elif delete is not None:
                parsed.append(("delete", delete["target"], delete["column"]))
            else:
                break
        else:
            columns = ({c.strip().strip('"`[]') for c in match["columns"].split(",")} if match["columns"] else None)
            out.append(UpdateTrigger(name, _sql, columns, match["when"], parsed))
    return out


def stage_select(connection, width: int, select: str, params=()) -> str:
    """As ``stage_rows``, the rows given by ``select`` (SQL over other TEMP tables, ``width`` columns) in its order."""
    with connection.cursor() as cursor:
        stage = _kept_stage(cursor, width)
        cursor.execute(f"INSERT INTO temp.{stage} {select}", list(params))  # noqa: S608 - our own SQL
    return stage


def _set_based(model, connection, rows: int) -> bool:
    """Whether an insert of ``rows`` rows runs the table's triggers set-based (``set_based_triggers``)."""
    return (rows >= SET_BASED_TRIGGERS_FROM and connection.vendor == "sqlite" and connection.in_atomic_block
            and type(model._meta.pk) in _AUTO)


def usable_for(model) -> bool:
    """Whether this module's SQLite paths serve ``model`` on the database it is written to."""
    return _usable(model, connections[router.db_for_write(model)])


def _usable(model, connection) -> bool:
    meta = model._meta
    return (connection.vendor == "sqlite" and connection.features.can_return_rows_from_bulk_insert
            and not meta.parents and type(meta.pk) in _AUTO)


def bulk_insert(model, objs: list, *, batch_size: int = 1000) -> list:
    """Insert ``objs`` (unsaved instances of ``model``) and set their primary keys; returns ``objs``."""
    if not objs:
        return objs
    using = router.db_for_write(model)
    connection = connections[using]
    if not _usable(model, connection):
        model._default_manager.bulk_create(objs, batch_size=batch_size)
        return objs
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    # auto_now and auto_now_add: the same stamp for every row (bulk_create's pre_save sets both).
    stamps = {f.attname: _Same(f.get_db_prep_save(now, connection)) for f in fields
              if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    prepared = _take_batch(model, objs, using) if connection.in_atomic_block else _discard_batch(objs, connection)
    if prepared is not None and prepared[1] is True:  # nothing changed since: the related keys were checked then
        for attname in stamps:
            for obj in objs:
                obj.__dict__[attname] = now  # a DeferredAttribute (_take_batch): what setattr does
    else:
        related_ok = _related_checker(meta)
        for obj in objs:
            for attname in stamps:
                setattr(obj, attname, now)
            if not related_ok(obj):
                obj._prepare_related_fields_for_save(operation_name="bulk_insert")
    converters = [stamps.get(f.attname) or _converter(f, connection) for f in fields]
    ready = [_ready_types(f) for f in fields]
    per_row = len(fields)
    batch = max(1, min(batch_size, MAX_PARAMS // max(per_row, 1)))
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "  # noqa: S608 - names from the model
    row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
    pk = meta.pk
    columns = None  # the prepared columns, when the batch is used
    with set_based_triggers(model, using, objs, prepared=prepared) as inserted, connection.cursor() as cursor:
        if connection.in_atomic_block:
            # One prepared statement for every row (a multi-row statement is re-parsed for its placeholders
            # each time: 2 s at 100k rows). In a write transaction nobody else inserts: the rows after the
            # largest key are ours, their keys increasing in the order they were inserted.
            cursor.execute(f"SELECT max({qn(pk.column)}) FROM {qn(meta.db_table)}")  # noqa: S608 - names from the model
            (largest,) = cursor.fetchone()
            stage = prepared[0].stage if prepared is not None else None
            if prepared is not None and prepared[1] is True and prepared[0].columns is not None:
                columns = [stamps[f.attname] if f.attname in stamps else prepared[0].columns[f.attname]
                           for f in fields]

            def batches():
                for start in range(0, len(objs), 10 * batch):
                    end = min(len(objs), start + 10 * batch)
                    if columns is not None:  # worked out before the transaction (prepare_insert)
                        yield _rows_of(columns, start, end)
                    else:
                        yield _column_values(objs[start:end], fields, converters, ready)

            ahead = getattr(inserted, "ahead", None)
            if columns is not None and stage is not None:
                # Bound into a TEMP table before the transaction (prepare_insert): only the copy happens here.
                position = {a: i for i, a in enumerate(prepared[0].attnames)}
                picked = ", ".join("%s" if f.attname in stamps else f"c{position[f.attname]}" for f in fields)
                params = [stamps[f.attname].value for f in fields if f.attname in stamps]
                if ahead is not None:
                    # Under the keys reserved before the transaction, in order (index_ahead made their entries).
                    head = f"INSERT INTO {qn(meta.db_table)} ({qn(pk.column)}, {head[head.index('(') + 1:]}"
                    picked, params = f"%s + rowid, {picked}", [ahead.first - 1, *params]
                _copy_stage(cursor, head, stage, picked, params)
                if ahead is not None:
                    ahead.used = True
                    transaction.on_commit(functools.partial(setattr, ahead, "committed", True), using=using)
            else:
                _insert_many(cursor, head, row_sql, per_row, batches(), len(objs))
            if stage is not None:
                _drop_stage(cursor, stage)
            if ahead is not None and ahead.used:
                keys = list(range(ahead.first, ahead.first + len(objs)))  # one statement: every row or an error
            else:
                cursor.execute(f"SELECT {qn(pk.column)} FROM {qn(meta.db_table)} WHERE {qn(pk.column)} > %s "  # noqa: S608
                               f"ORDER BY {qn(pk.column)}", [largest if largest is not None else -(1 << 63)])
                keys = [value for (value,) in cursor.fetchall()]
            if len(keys) != len(objs):
                raise RuntimeError(f"bulk_insert: {len(keys)} new rows in {meta.db_table}, {len(objs)} inserted")
        else:
            keys = []
            for start in range(0, len(objs), batch):
                chunk = objs[start:start + batch]
                params = [value for row in _column_values(chunk, fields, converters, ready) for value in row]
                cursor.execute(head + ", ".join([row_sql] * len(chunk)) + f" RETURNING {qn(pk.column)}", params)
                keys += [value for (value,) in cursor.fetchall()]
        for obj, value in zip(objs, keys, strict=True):
            setattr(obj, pk.attname, value)
            obj._state.adding = False
            obj._state.db = using
        if inserted is not None:
            inserted.extend(keys)
    if columns is not None:
        objs[0].__dict__[INSERTED_AS_PREPARED] = (prepared[0].objs, prepared[0].values)
    return objs


def inserted_values(objs: list) -> list[tuple] | None:
    """The values (``_Batch.values``: a tuple per object) ``objs`` — the very list, in order — were inserted with by
    ``bulk_insert`` from ``prepare_insert``'s batch, every object unchanged then; the mark is taken off. None: not
    inserted so. A caller recording what was written (``audit._prepared_columns``) need not read them again."""
    if not objs:
        return None
    marked = objs[0].__dict__.pop(INSERTED_AS_PREPARED, None)
    if marked is None or len(marked[0]) != len(objs) or not all(map(is_, marked[0], objs)):
        return None
    return marked[1]


# Search-index triggers, set-based ------------------------------------------------------------------

# One ``INSERT INTO … VALUES (…);`` made of the new row's values, and nothing else: what
# ``core.search_index`` creates (trigram and bigram indexes).
_INSERT_TRIGGER = re.compile(
    r"^\s*CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`\[]?(?P<name>\w+)[\"`\]]?\s+AFTER\s+INSERT\s+ON\s+"
    r"[\"`\[]?(?P<table>\w+)[\"`\]]?\s+(?:FOR\s+EACH\s+ROW\s+)?BEGIN\s+"
    r"(?P<head>INSERT\s+INTO\s+\w+\s*\([\w\s,]+\))\s*VALUES\s*\((?P<values>[^;]*)\)\s*;\s*END\s*;?\s*$",
    re.IGNORECASE | re.DOTALL)


_INSERT_TARGET = re.compile(r"\s*INSERT\s+INTO\s+(?P<target>\w+)", re.IGNORECASE)
# FTS5's defaults (https://sqlite.org/fts5.html#the_automerge_configuration_option and crisismerge)
FTS5_MERGE_DEFAULTS = {"automerge": 4, "crisismerge": 16}
FTS5_BULK_MERGES = {"automerge": 0, "crisismerge": 64}


def _table_sql(cursor, table: str) -> str:
    """The CREATE statement of ``table`` ("" when there is no such table)."""
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
    found = cursor.fetchone()
    return (found[0] or "") if found else ""


def _is_fts5(cursor, table: str) -> bool:
    return re.search(r"\bUSING\s+fts5\b", _table_sql(cursor, table), re.IGNORECASE) is not None


def _keys_reserved(cursor, table: str, pk_column: str, count: int) -> int:
    """Move ``table``'s AUTOINCREMENT sequence on by ``count`` (in the caller's write transaction): the keys after
    the returned one, up to it + ``count``, are the caller's — SQLite hands out none at or below the sequence."""
    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    found = cursor.fetchone()
    cursor.execute(f"SELECT max({pk_column}) FROM {table}")  # noqa: S608 - names from the model or a trigger
    (largest,) = cursor.fetchone()
    base = max(found[0] if found else 0, largest or 0)
    if found:
        cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [base + count, table])
    else:
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, base + count])
    return base


@contextmanager
def fts5_merges_deferred(cursor, table: str):
    """Around a bulk insert into ``table`` when it is an FTS5 table: no incremental merging of its index segments
    (``automerge`` 0) and a forced merge only once 64 segments of a level pile up (``crisismerge``), then the
    table's own settings again — inside the caller's transaction, so the index is complete at its commit. At 100k
    cards the trigram index took 1.49 s with FTS5's defaults, 0.88 s so; the ~10 extra segments are folded by
    the next inserts' automerge and cost a search nothing measurable (0.61 vs 0.60 ms for three terms). Any
    other table: nothing changes."""
    if not _is_fts5(cursor, table):
        yield
        return
    cursor.execute(f"SELECT k, v FROM {table}_config WHERE k IN ('automerge', 'crisismerge')")  # noqa: S608 - a table named by a trigger
    kept = {**FTS5_MERGE_DEFAULTS, **dict(cursor.fetchall())}
    for key, value in FTS5_BULK_MERGES.items():
        cursor.execute(f"INSERT INTO {table}({table}, rank) VALUES (%s, %s)", [key, value])  # noqa: S608
    yield
    for key in FTS5_BULK_MERGES:
        cursor.execute(f"INSERT INTO {table}({table}, rank) VALUES (%s, %s)", [key, int(kept[key])])  # noqa: S608


def _matching_triggers(connection, table: str, pattern):
    """``[(name, sql, match)]`` of ``table``'s triggers whose SQL ``pattern`` matches (names and table checked)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s ORDER BY name",
                       [table])
        found = cursor.fetchall()
    out = []
    for name, sql in found:
        match = pattern.match(sql or "")
        if match is not None and match["name"] == name and match["table"] == table:
            out.append((name, sql, match))
    return out


def insert_triggers(connection, table: str) -> list[tuple[str, str, str, str, str]]:
    """``[(name, create sql, set-based insert, insert head, values)]`` of the AFTER INSERT triggers of ``table``
    that can run once for many rows: the trigger's own statement with ``VALUES (new.…)`` read as ``SELECT …
    FROM <table> AS new`` (so the index gets exactly what the trigger gives it). Other triggers are not listed."""
    result = []
    for name, sql, match in _matching_triggers(connection, table, _INSERT_TRIGGER):
        qn = connection.ops.quote_name
        result.append((name, sql, f"{match['head']} SELECT {match['values']} FROM {qn(table)} AS new "  # noqa: S608 - the trigger's own SQL
                                  f"WHERE new.rowid BETWEEN %s AND %s ORDER BY new.rowid",
                       match["head"], match["values"]))
    return result


# A counting trigger (``core.rowcount``): ``INSERT INTO <counts> (<key columns>, n) VALUES (<new.…>, 1) ON CONFLICT
# (<key columns>) DO UPDATE SET n = n + 1;`` and nothing else.
_COUNT_TRIGGER = re.compile(
    r"^\s*CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`\[]?(?P<name>\w+)[\"`\]]?\s+AFTER\s+INSERT\s+ON\s+"
    r"[\"`\[]?(?P<table>\w+)[\"`\]]?\s+(?:FOR\s+EACH\s+ROW\s+)?BEGIN\s+"
    r"INSERT\s+INTO\s+(?P<target>\w+)\s*\((?P<columns>[\w\s,]+)\)\s*VALUES\s*\((?P<values>[^;]*),\s*1\s*\)\s*"
    r"ON\s+CONFLICT\s*\((?P<keys>[\w\s,]+)\)\s*DO\s+UPDATE\s+SET\s+(?P<count>\w+)\s*=\s*(?P=count)\s*\+\s*1\s*;"
    r"\s*END\s*;?\s*$",
    re.IGNORECASE | re.DOTALL)


def count_triggers(connection, table: str) -> list[tuple[str, str, str, str, tuple[str, str]]]:
    """``[(name, create sql, counts table, its key column, set-based statements)]`` of the AFTER INSERT triggers of ``table`` that
    count its rows into another table (``core.rowcount``): per row, an upsert adding 1 to the row of its key.

    Per row inside the import's savepoint, each upsert's statement journal copies the pages it touches: the
    100k-card insert took 27-33 s instead of 2.8 s. The set-based statement does what the per-row upserts do,
    row for row: a key's count grows by its number of rows; a key met for the first time gets the row id the
    upsert of its first row would have got (each upsert, inserting or not, takes the next AUTOINCREMENT
    number), and the sequence ends where theirs would. The statement comes twice (``_counted``): numbering the rows
    with ``row_number()``, parameters (sequence before, first key, last key) of rows of which every row between
    the two is counted; and, for keys without a gap, by key less the first, parameters (sequence before, first
    key, first key, last key). Only for a counts table with an AUTOINCREMENT integer key whose key columns
    are NOT NULL (a NULL key would fail either way) and are exactly the columns written but the count."""
    result = []
    for name, sql, match in _matching_triggers(connection, table, _COUNT_TRIGGER):
        columns = [c.strip() for c in match["columns"].split(",")]
        keys = [c.strip() for c in match["keys"].split(",")]
        values = _split_values(match["values"])
        target, count = match["target"], match["count"]
        if columns[-1] != count or sorted(columns[:-1]) != sorted(keys) or len(values) != len(columns) - 1:
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [target])
            (create,) = cursor.fetchone() or ("",)
            cursor.execute(f"PRAGMA table_info({connection.ops.quote_name(target)})")
            info = {row[1]: row for row in cursor.fetchall()}
        pks = [c for c, row in info.items() if row[5]]
        if ("AUTOINCREMENT" not in (create or "").upper() or len(pks) != 1 or pks[0] in columns
                or any(c not in info or not info[c][3] for c in columns)):
            continue
        picked = ", ".join(f"{v} AS v{i}" for i, v in enumerate(values))
        grouped = ", ".join(f"v{i}" for i in range(len(values)))
        statement = (
            f"INSERT INTO {target} ({pks[0]}, {', '.join(columns)}) SELECT %s + min(pos), {grouped}, count(*) "  # noqa: S608 - the trigger's own SQL
            f"FROM (SELECT <position> AS pos, {picked} FROM {table} AS new "
            f"WHERE new.rowid BETWEEN %s AND %s) WHERE true GROUP BY {grouped} ORDER BY min(pos) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {count} = {count} + excluded.{count}")
        # Parameters (sequence before, first key, last key); the second also (…, first key, first key, last key):
        # for keys without a gap a row's position is its key less the first (0.06 s at 100k rows, the window 0.12).
        result.append((name, sql, target, pks[0],
                       (statement.replace("<position>", "row_number() OVER (ORDER BY new.rowid)"),
                        statement.replace("<position>", "new.rowid - %s + 1"))))
    return result


def _counted(cursor, target: str, pk_column: str, statements: tuple[str, str], keys: list, *,
             by_window: bool = False) -> None:
    """Run a counting trigger's set-based statement for the rows ``keys``: all the table's rows from the least to
    the largest (a ``bulk_insert`` in a transaction: every row after the largest key before it). ``statements``:
    what ``count_triggers`` gives, the second for keys without a gap (``by_window``: the first whatever the keys)."""
    base = _keys_reserved(cursor, target, pk_column, len(keys))  # the upserts' own numbers, one per row
    low, high = min(keys), max(keys)
    if not by_window and high - low + 1 == len(keys) == len(set(keys)):
        cursor.execute(statements[1], [base, low, low, high])
    else:
        cursor.execute(statements[0], [base, low, high])


class _Keys(list):
    """The new rows' keys, as ``set_based_triggers`` gives them to its block; ``ahead``: the ``_Ahead`` whose keys
    the block may insert the rows under (``bulk_insert``), or None."""

    ahead = None


@contextmanager
def set_based_triggers(model, using: str, objs: list, *, counts_only: bool = False, prepared=None):
    """Around the insert of ``objs`` (the block appends their primary keys to the list it is given): inside a
    transaction on SQLite, the table's simple insert triggers (``insert_triggers``) and counting triggers
    (``count_triggers``) are dropped for the block and, at its end, run once for all the rows inserted and
    created again with their own SQL — all in the caller's transaction, so an error leaves the triggers and the
    rows as they were: Django marks that transaction for rollback (``atomic(savepoint=False)``: releasing a
    savepoint over 100,000 cards cost 0.3-0.6 s of the write lock), nothing more runs in it until it is undone. A trigger's values worked out before the transaction (``prepare_insert``; ``prepared``: what
    ``_take_batch`` gave) are used for the rows whose columns are still what they were then. Elsewhere, or for fewer than
    ``SET_BASED_TRIGGERS_FROM`` rows, the triggers run per row. ``counts_only``: ``objs`` are plain rows
    (``insert_rows``), only the counting triggers are set-based. The block is told whether it must give the
    keys (``pks`` is not None)."""
    connection = connections[using]
    usable = _set_based(model, connection, len(objs))
    triggers = insert_triggers(connection, model._meta.db_table) if usable and not counts_only else []
    counters = count_triggers(connection, model._meta.db_table) if usable else []
    if not triggers and not counters:
        yield None
        return
    pks = _Keys()
    # Index entries made before the transaction (``index_ahead``) for these very objects, still as they were then:
    # ``bulk_insert`` may insert the rows under the keys they were made for, and those triggers are then not run.
    ahead = prepared[0].ahead if prepared is not None and prepared[1] is True else None
    if ahead is not None and ahead.count == len(objs) and set(ahead.entries) <= {sql for _n, sql, *_r in triggers}:
        pks.ahead = ahead
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        for name, *_rest in [*triggers, *counters]:
            cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
        yield pks
        # The counts first: their statement reads the rows just inserted, still in the page cache (after the
        # search indexes' fill, the 100k cards' count took 0.86 s instead of 0.2).
        for _name, _sql, target, pk_column, statement in counters:
            _counted(cursor, target, pk_column, statement, pks)
        for _name, sql, insert, head, _values in triggers:
            if pks.ahead is not None and pks.ahead.used and sql in pks.ahead.entries:
                continue  # the rows took the keys their entries were made for
            todo = []
            rows = _prepared_rows(sql, prepared, pks, todo)
            with fts5_merges_deferred(cursor, _INSERT_TARGET.match(head)["target"]):
                if rows:
                    cursor.executemany(f"{head} VALUES ({', '.join(['%s'] * len(rows[0]))})", rows)
                for low, high in _ranges(sorted(todo)):
                    cursor.execute(insert, [low, high])
        for _name, sql, *_rest in [*triggers, *counters]:
            cursor.execute(sql)


# The insert worked out before the transaction -----------------------------------------------------------------

_NEW_COLUMN = re.compile(r"\bnew\s*\.\s*[\"`\[]?(\w+)[\"`\]]?", re.IGNORECASE)
PREPARED_BATCH = "_bulk_insert_batch"  # on the first object of a prepared list: its _Batch
INSERTED_AS_PREPARED = "_bulk_inserted_as_prepared"  # on the first object of a list inserted from its _Batch


class _Batch:
    """What ``prepare_insert`` worked out for a list of objects: ``values`` of ``attnames`` (every concrete field
    but the key and the ``auto_now`` stamps) per object then; ``columns``: ``{attname: database values}`` for
    the insert (None: worked out in the transaction); ``triggers``: ``{trigger SQL: (key position, rows of its
    values without the key)}``."""

    __slots__ = ("objs", "attnames", "values", "columns", "kinds", "triggers", "stage", "ahead")

    def __init__(self, objs, attnames, values):
        self.objs, self.attnames, self.values = list(objs), attnames, values
        self.columns = None
        self.kinds = None  # the types of every value in ``values`` (worked out with ``columns``)
        self.triggers: dict = {}
        self.stage = None  # a TEMP table holding ``columns``' rows in ``attnames`` order (``_stage_columns``)
        self.ahead = None  # ``_Ahead``: keys reserved and index entries made before the write (``index_ahead``)


def prepared_batch(objs: list) -> _Batch | None:
    """The batch ``prepare_insert`` left on ``objs`` (for tests and the write)."""
    return objs[0].__dict__.get(PREPARED_BATCH) if objs else None


def _take_batch(model, objs: list, using: str):
    """``(batch, same)`` for ``objs`` from ``prepare_insert``, taken off them: ``same`` is True when every object
    still holds the very same values (identity: 1.0 never stands for 1.00), else a flag per object. None: not
    prepared, or prepared for another list."""
    batch = objs[0].__dict__.pop(PREPARED_BATCH, None)
    if batch is None or len(batch.objs) != len(objs) or not all(map(is_, batch.objs, objs)):
        return None
    now = values_of(model, batch.attnames, objs)
    if all(map(is_, chain.from_iterable(now), chain.from_iterable(batch.values))):
        return batch, True
    return batch, [all(map(is_, a, b)) for a, b in zip(now, batch.values, strict=True)]


def _discard_batch(objs: list, connection) -> None:
    """Take ``prepare_insert``'s batch off ``objs`` unused (an insert outside a transaction), its TEMP table gone."""
    batch = objs[0].__dict__.pop(PREPARED_BATCH, None)
    if batch is not None and batch.stage is not None:
        with connection.cursor() as cursor:
            _drop_stage(cursor, batch.stage)


def _stamped(field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def prepare_insert(model, objs: list, using: str | None = None) -> None:
    """Before the write transaction of a large import: work out what ``bulk_insert`` of ``objs`` will write but
    the row's key and stamps — the rows' values in their database form, and the values the table's insert
    triggers give their index (``prepare_insert_triggers``) — so the transaction only stores them (the bigram
    index's values, made of plain SQL, took 5 s at 100k cards; the rows' values and the check of their related
    records 1 s of the 6 s write at 100k students). ``bulk_insert`` uses them if every value of every object is
    still the very same one, the trigger values for the objects that are."""
    if len(objs) < SET_BASED_TRIGGERS_FROM:
        return
    using = using or router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    if not _usable(model, connection) or any(type(o) is not model for o in objs):
        return
    fields = [f for f in meta.concrete_fields if not f.primary_key and not _stamped(f)]
    attnames = [f.attname for f in fields]
    if not attnames or not all(type(getattr(model, a, None)) in (DeferredAttribute, ForeignKeyDeferredAttribute)
                               for a in attnames + [f.attname for f in meta.concrete_fields if _stamped(f)]):
        return
    values = values_of(model, attnames, objs)
    batch = _Batch(objs, attnames, values)
    related_ok = _related_checker(meta)
    if all(map(related_ok, objs)):
        columns = list(zip(*values, strict=True))
        kinds = [set(map(type, column)) for column in columns]
        batch.kinds = set().union(*kinds)
        batch.columns = {
            f.attname: _convert_column(column, _converter(f, connection), _ready_types(f), column_kinds)
            for f, column, column_kinds in zip(fields, columns, kinds, strict=True)}
    prepare_insert_triggers(model, batch, connection)
    _stage_columns(connection, batch)
    objs[0].__dict__[PREPARED_BATCH] = batch


def prepare_insert_triggers(model, batch: _Batch, connection) -> None:
    """The values ``model``'s insert triggers would give the index for each object of ``batch`` — every value but
    the new row's key, which only the insert gives — into ``batch.triggers``. The trigger's own expressions are
    evaluated in Python where Houqin wrote them (``_in_python``), else by SQLite in a private in-memory database
    holding the rows' columns under the table's declared types; a trigger whose values read anything but the
    new row's text columns (another table, a function of the connection) is left to the transaction."""
    meta = model._meta
    by_column = {f.column: f for f in meta.concrete_fields}
    position = {a: i for i, a in enumerate(batch.attnames)}
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({connection.ops.quote_name(meta.db_table)})")
        declared = {row[1]: row[2] for row in cursor.fetchall()}
    for _name, sql, _insert, _head, values in insert_triggers(connection, meta.db_table):
        expressions = _split_values(values)
        key_at = [i for i, e in enumerate(expressions)
                  if _NEW_COLUMN.fullmatch(e) and _NEW_COLUMN.fullmatch(e).group(1) in (meta.pk.column, "rowid")]
        others = [e for i, e in enumerate(expressions) if i not in key_at]
        if all(_NEW_COLUMN.fullmatch(e) for e in others):
            # The row's own columns (a trigram index): the transaction's ``INSERT … SELECT`` reads them from the
            # rows just written, nothing bound per row (100k cards: 0.75 s instead of 0.83 s and the rows' build).
            continue
        columns = sorted({c for e in others for c in _NEW_COLUMN.findall(e)})
        if (len(key_at) != 1 or not others
                or any(c not in by_column or c == meta.pk.column or type(by_column[c]) not in _STR
                       or by_column[c].attname not in position for c in columns)):
            continue
        picked = itemgetter(*[position[by_column[c].attname] for c in columns])
        sources = [picked(v) if len(columns) > 1 else (picked(v),) for v in batch.values]
        if any(v is not None and type(v) is not str for row in sources for v in row):
            continue
        computed = _in_python(others, columns, sources, declared)
        if computed is None:
            memory = sqlite3.connect(":memory:")
            try:
                memory.execute("CREATE TABLE new ({})".format(", ".join(f'"{c}" {declared.get(c, "")}' for c in columns)))
                memory.executemany(f"INSERT INTO new VALUES ({', '.join('?' * len(columns))})", sources)  # noqa: S608 - no names from outside
                computed = memory.execute(f"SELECT {', '.join(others)} FROM new ORDER BY rowid").fetchall()  # noqa: S608 - the trigger's own SQL
            except sqlite3.Error:
                continue  # the expressions need more than the row: the transaction runs them
            finally:
                memory.close()
        batch.triggers[sql] = (key_at[0], computed)


# Index entries made before the write ---------------------------------------------------------------------------

AHEAD = "_bulk_index_ahead"  # on the first object of a list ``index_ahead`` served: its _Ahead, until released


class _Ahead:
    """What ``index_ahead`` did for a batch: the first of the ``count`` keys it reserved, and per index trigger
    (its SQL) how its entries were made — ``("stage", FTS5 table, columns, (TEMP table, the values read from it))``
    or ``("rows", FTS5 table, columns, the rows bound)`` — so that ``release_ahead`` can take them out again.
    ``used``: the write inserted the rows with those keys; ``committed``: its transaction committed."""

    __slots__ = ("first", "count", "entries", "used", "committed")

    def __init__(self, first: int, count: int, entries: dict):
        self.first, self.count, self.entries = first, count, entries
        self.used = self.committed = False


def _ahead_plans(model, batch: _Batch, connection) -> dict | None:
    """``{trigger SQL: plan}`` (``_Ahead.entries`` without the rows) for every insert trigger of ``model``'s table
    that fills an FTS5 table, each worked out from ``batch`` alone: the row's own text columns, read from the
    batch's TEMP table, or the values ``prepare_insert_triggers`` computed. None: a trigger that cannot be, or
    none at all."""
    meta = model._meta
    by_column = {f.column: f for f in meta.concrete_fields}
    position = {a: i for i, a in enumerate(batch.attnames)}
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({connection.ops.quote_name(meta.db_table)})")
        declared = {row[1]: row[2] for row in cursor.fetchall()}
        for _name, sql, _insert, head, values in insert_triggers(connection, meta.db_table):
            target = _INSERT_TARGET.match(head)["target"]
            if not _is_fts5(cursor, target):
                continue  # not a search index: it runs in the write as before
            columns = head[head.index("(") + 1:head.rindex(")")]
            if sql in batch.triggers:
                plans[sql] = ("rows", target, columns, None)
                continue
            picked = []
            for expression in _split_values(values):
                column = _NEW_COLUMN.fullmatch(expression)
                name = column.group(1) if column is not None else None
                if name in (meta.pk.column, "rowid"):
                    picked.append("%s + s.rowid")
                elif (name in by_column and by_column[name].attname in position
                      and type(by_column[name]) in _STR and _text_affinity(declared.get(name, ""))):
                    picked.append(f"s.c{position[by_column[name].attname]}")  # text stays text in a TEXT column
                else:
                    return None
            if sum(p.startswith("%s") for p in picked) != 1:
                return None
            plans[sql] = ("stage", target, columns, ", ".join(picked))
    return plans or None


def index_ahead(model, objs: list, using: str | None = None) -> bool:
    """After ``prepare_insert``, before the write transaction of a large import: reserve the new rows' keys and put
    their search-index entries in, in a short transaction of its own — so the write transaction that follows
    holds the lock only to store the rows (100,000 cards: the trigram and bigram entries took 1.2 s of the 5 s
    write). True when done.

    The keys: the table's AUTOINCREMENT sequence moves on by ``len(objs)``; SQLite never hands out a key at or
    below it, so no other row can take one, and ``bulk_insert`` inserts the rows with exactly these keys (in
    their order, as it would have numbered them). Until the rows are committed their entries point at keys no
    row has: a search reads the rows of its candidates (``candidates``' ``pk__in``, ``paging._from_candidates``'
    join), so such an entry is never shown nor counted. ``release_ahead`` (after the write) takes the entries out
    again if the rows did not come with those keys — a write refused or rolled back, the objects changed; a
    crash in between leaves entries of keys that never come, shown nowhere.

    Only on SQLite, outside any transaction, inside ``stages_dropped_after`` (the entries are read from the batch's
    TEMP table, which must outlive the write), for a batch ``prepare_insert`` staged whose every search-index
    trigger it can serve (``_ahead_plans``), on a table with an AUTOINCREMENT key."""
    if len(objs) < STAGE_FROM:
        return False
    using = using or router.db_for_write(model)
    connection = connections[using]
    batch = prepared_batch(objs)
    if (batch is None or batch.stage is None or batch.columns is None or connection.in_atomic_block
            or _DROP_LATER.get() is None or not _usable(model, connection) or len(batch.objs) != len(objs)):
        return False
    meta = model._meta
    with connection.cursor() as cursor:
        if "AUTOINCREMENT" not in _table_sql(cursor, meta.db_table).upper():
            return False
    plans = _ahead_plans(model, batch, connection)
    if plans is None:
        return False
    qn = connection.ops.quote_name
    entries = {}
    with transaction.atomic(using=using), connection.cursor() as cursor:
        base = _keys_reserved(cursor, meta.db_table, qn(meta.pk.column), len(objs))
        keys = range(base + 1, base + len(objs) + 1)
        for sql, (kind, target, columns, picked) in plans.items():
            with fts5_merges_deferred(cursor, target):
                if kind == "stage":
                    cursor.execute(f"INSERT INTO {target}({columns}) SELECT {picked} "  # noqa: S608 - the trigger's own names
                                   f"FROM temp.{batch.stage} AS s ORDER BY s.rowid", [base])
                    entries[sql] = (kind, target, columns, (batch.stage, picked))
                else:
                    rows = _prepared_rows(sql, (batch, True), keys, [])
                    cursor.executemany(f"INSERT INTO {target}({columns}) VALUES ({', '.join(['%s'] * len(rows[0]))})",  # noqa: S608
                                       rows)
                    entries[sql] = (kind, target, columns, rows)
    batch.ahead = _Ahead(base + 1, len(objs), entries)
    objs[0].__dict__[AHEAD] = batch.ahead
    return True


def release_ahead(objs: list, using: str | None = None) -> None:
    """After the write that followed ``index_ahead``: unless it committed the rows under the reserved keys, take
    the entries made for them out of the indexes again (FTS5's ``delete`` with the very values they were made
    of), in a transaction of its own; the keys stay unused. Nothing to do for a list ``index_ahead`` did not serve."""
    ahead = objs[0].__dict__.pop(AHEAD, None) if objs else None
    if ahead is None or ahead.committed:
        return
    using = using or router.db_for_write(type(objs[0]))
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for kind, target, columns, data in ahead.entries.values():
            if kind == "stage":
                stage, picked = data
                cursor.execute(f"INSERT INTO {target}({target}, {columns}) SELECT 'delete', {picked} "  # noqa: S608 - the trigger's own names
                               f"FROM temp.{stage} AS s ORDER BY s.rowid", [ahead.first - 1])
            else:
                cursor.executemany(f"INSERT INTO {target}({target}, {columns}) "  # noqa: S608
                                   f"VALUES ('delete', {', '.join(['%s'] * len(data[0]))})", data)


def _split_values(values: str) -> list[str]:
    """The top-level comma-separated expressions of a VALUES list (parentheses and quotes respected)."""
    parts, depth, quote, current = [], 0, None, []
    for char in values:
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def _text_affinity(declared: str) -> bool:
    """Whether a column of this declared type has TEXT affinity (sqlite.org/datatype3.html, 3.1)."""
    kind = declared.upper()
    return "INT" not in kind and any(word in kind for word in ("CHAR", "CLOB", "TEXT"))


def _in_python(expressions: list[str], columns: list[str], sources: list[tuple], declared: dict) -> list[tuple] | None:
    """The trigger's values for the rows ``sources`` (of ``columns``) worked out in Python, when every expression is
    one Houqin writes itself: a text column as it is (``new.<col>``) or its bigram tokens
    (``search_index.bigrams_sql(new.<col>)``, ``bigrams_text``); None when one is not, or a value is one Python
    cannot read as SQLite does — SQLite then evaluates them all."""
    from .search_index import bigrams_sql, bigrams_text

    at = {c: i for i, c in enumerate(columns)}
    plan = []
    for expression in expressions:
        column = _NEW_COLUMN.fullmatch(expression)
        if column is not None and column.group(1) in at and _text_affinity(declared.get(column.group(1), "")):
            plan.append((at[column.group(1)], False))  # a text stored in a TEXT column reads back as it is
            continue
        found = next((c for c in columns if expression == bigrams_sql(f"new.{c}")), None)
        if found is None:
            return None
        plan.append((at[found], True))
    # Column by column, each distinct text's tokens worked out once (names, specifications and pinyin repeat).
    columns_of = list(zip(*sources, strict=True)) if sources else [() for _c in columns]
    values = []
    for position, bigrams in plan:
        column = columns_of[position]
        if bigrams:
            tokens = {text: bigrams_text(text) for text in dict.fromkeys(column)}
            if NotImplemented in tokens.values():
                return None
            column = list(map(tokens.__getitem__, column))
        values.append(column)
    return list(zip(*values, strict=True)) if sources else []


def _prepared_rows(trigger: str, prepared, keys: list, todo: list) -> list[tuple]:
    """The rows of the trigger (its SQL) worked out before (``prepared``: what ``_take_batch`` gave, or None), the
    key (from ``keys``, the new rows' keys in order) put in, for the objects whose values are unchanged; the keys
    of the others are added to ``todo``."""
    found = prepared[0].triggers.get(trigger) if prepared is not None else None
    if found is None:
        todo.extend(keys)
        return []
    at, values = found
    same = prepared[1]
    if at == 0:
        rows = [(key, *row) for key, row in zip(keys, values, strict=True)]
    else:
        rows = [(*row[:at], key, *row[at:]) for key, row in zip(keys, values, strict=True)]
    if same is True:
        return rows
    todo.extend(key for key, ok in zip(keys, same, strict=True) if not ok)
    return [row for row, ok in zip(rows, same, strict=True) if ok]


def _ranges(pks: list[int]) -> list[tuple[int, int]]:
    """Runs of consecutive keys as (first, last)."""
    runs = []
    for pk in pks:
        if runs and pk == runs[-1][1] + 1:
            runs[-1][1] = pk
        else:
            runs.append([pk, pk])
    return [(low, high) for low, high in runs]


def insert_rows(model, rows: list[dict], *, as_model: bool = False) -> int:
    """Insert plain rows (``{attname: value}``; a missing field takes its default, ``auto_now`` and
    ``auto_now_add`` fields the time of the call) without building model instances: for append-only
    records nobody reads back in the same request, such as the audit entries of an import. ``as_model``:
    a missing field takes what ``model()`` would give it (``Field.get_default``: "" for a text field
    without a default), not NULL."""
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    if not _usable(model, connection):
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=1000)
        return len(rows)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if as_model:  # a callable default is called for every row, as model() does
        defaults = [_PerRow(f.get_default) if f.has_default() and callable(f.default) else f.get_default()
                    for f in fields]
    else:
        defaults = [f.get_default() if f.has_default() or f.null else None for f in fields]
    columns = {}
    for f, default in zip(fields, defaults, strict=True):
        a = f.attname
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue  # stamped by insert_columns
        if isinstance(default, _PerRow):
            column = [row[a] if a in row else default.make() for row in rows]
        elif f.is_relation:
            n = f.name
            column = [row[a] if a in row else (row[n].pk if row.get(n) is not None else default) for row in rows]
        else:
            column = [row.get(a, default) for row in rows]
        columns[a] = column
    return insert_columns(model, columns, len(rows))


def same(model, attname: str, value) -> _Same:
    """A column of ``insert_columns`` holding ``value`` on every row (converted once)."""
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    return _Same(field.get_db_prep_save(value, connections[router.db_for_write(model)]))


def insert_columns(model, columns: dict, count: int) -> int:
    """Insert ``count`` rows given by column (SQLite, ``_usable``): ``{attname: list of values}`` (a value may be
    ``Ready``) or ``same(…)``; every concrete field but the key must be given, except the ``auto_now`` and
    ``auto_now_add`` fields (the time of the call). What ``insert_rows`` does once it has its columns, and
    what a caller with its values already in columns calls directly (``audit.audit_bulk``)."""
    if not count:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    per_row = len(fields)
    batch = max(1, min(1000, MAX_PARAMS // per_row))
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "  # noqa: S608 - names from the model
    row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
    prepared = []
    for f in fields:
        a = f.attname
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            prepared.append(_Same(f.get_db_prep_save(now, connection)))
            continue
        column = columns[a]
        if isinstance(column, _Same):
            prepared.append(column)
            continue
        if isinstance(column, ReadyColumn):
            column = column.values
            if len(column) != count:
                raise ValueError(f"insert_columns: {len(column)} values of {a}, {count} rows")
            prepared.append(column)
            continue
        if len(column) != count:
            raise ValueError(f"insert_columns: {len(column)} values of {a}, {count} rows")
        convert = _converter(f, connection)
        kinds = set(map(type, column))
        if Ready in kinds:
            prepared.append([v.value if type(v) is Ready else convert(v) for v in column])
        else:
            prepared.append(_convert_column(column, convert, _ready_types(f), kinds))
    with _counted_insert(model, using, count, "insert_columns") as cursor:
        if connection.in_atomic_block:  # one prepared statement (see bulk_insert)
            _insert_many(cursor, head, row_sql, per_row,
                         (_rows_of(prepared, start, min(count, start + 10 * batch))
                          for start in range(0, count, 10 * batch)), count)
        else:
            for start in range(0, count, batch):
                end = min(count, start + batch)
                params = [value for row in _rows_of(prepared, start, end) for value in row]
                cursor.execute(head + ", ".join([row_sql] * (end - start)), params)
    return count


@contextmanager
def _counted_insert(model, using: str, count: int, caller: str):
    """A cursor for inserting ``count`` rows of ``model`` whose row-count triggers run once for all of them
    (``set_based_triggers``, ``counts_only``) when in a write transaction: the rows after the largest key
    before the block are the block's (nobody else inserts), and there must be ``count`` of them."""
    connection = connections[using]
    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    with set_based_triggers(model, using, [None] * count, counts_only=True) as inserted, connection.cursor() as cursor:
        if inserted is not None:
            cursor.execute(f"SELECT max({pk}) FROM {table}")  # noqa: S608 - names from the model
            (largest,) = cursor.fetchone()
        yield cursor
        if inserted is not None:
            after = [largest if largest is not None else -(1 << 63)]
            # Without a gap the keys are low … high: three numbers read instead of every key (100k journal rows).
            cursor.execute(f"SELECT count(*), min({pk}), max({pk}) FROM {table} WHERE {pk} > %s", after)  # noqa: S608
            found, low, high = cursor.fetchone()
            if found and isinstance(low, int) and isinstance(high, int) and high - low + 1 == found:
                inserted.extend(range(low, high + 1))
            else:
                cursor.execute(f"SELECT {pk} FROM {table} WHERE {pk} > %s ORDER BY {pk}", after)  # noqa: S608
                inserted.extend(value for (value,) in cursor.fetchall())
            if len(inserted) != count:
                raise RuntimeError(f"{caller}: {len(inserted)} new rows in {model._meta.db_table}, {count} inserted")


def consecutive_keys(objs: list) -> tuple[int, int] | None:
    """(first, last) primary key of ``objs`` when they are the integers first, first + 1, … in the list's order
    (one ``bulk_insert`` in a write transaction); None otherwise."""
    if not objs:
        return None
    # One attribute read per object in C (``o.pk`` is a property calling ``_get_pk_val``: 0.1 s at 100k rows).
    keys = list(map(attrgetter(objs[0]._meta.pk.attname), objs))
    if type(keys[0]) is not int or not all(map(is_, map(type, keys), repeat(int))):
        return None
    if keys != list(range(keys[0], keys[0] + len(keys))):
        return None
    return keys[0], keys[-1]


def insert_select(model, given: dict, source: str, params, count: int) -> int:
    """Insert ``count`` rows of ``model`` made in SQL from rows already written (SQLite, ``_usable``), with one
    ``INSERT INTO t (cols) SELECT … FROM <source>``: nothing is bound or built in Python per row — the journal
    openings of a 100,000-card import are made from the cards themselves. ``given``: ``{attname: (an SQL
    expression over ``source``'s columns, its parameters)}``; every other column but the key takes what
    ``model()`` gives it (its default; "" for text without one) and the ``auto_now`` stamps the time of the
    call, as ``insert_rows(…, as_model=True)`` does. ``source``: the FROM clause and what follows it (WHERE,
    ORDER BY: the rows' order), ``params`` its parameters. The row-count triggers run once for all the rows
    (``set_based_triggers``); anything but ``count`` new rows raises and the savepoint undoes them."""
    if not count:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    if not _usable(model, connection):
        raise ValueError(f"insert_select: {model._meta.label} on {connection.vendor}")
    now = timezone.now()
    names, picked, values = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        names.append(connection.ops.quote_name(f.column))
        if f.attname in given:
            expression, expression_params = given[f.attname]
            picked.append(f"({expression})")
            values += list(expression_params)
            continue
        if _stamped(f):
            value = now
        elif f.has_default() and callable(f.default):
            raise ValueError(f"insert_select: give {f.attname}: its default is made per row")
        else:
            value = f.get_default()
        picked.append("%s")
        values.append(f.get_db_prep_save(value, connection))
    unknown = set(given) - {f.attname for f in model._meta.concrete_fields if not f.primary_key}
    if unknown:
        raise ValueError(f"insert_select: {model._meta.label} has no {sorted(unknown)}")
    sql = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(names)}) "  # noqa: S608
           f"SELECT {', '.join(picked)} FROM {source}")
    with _counted_insert(model, using, count, "insert_select") as cursor:
        cursor.execute(sql, [*values, *params])
        if cursor.rowcount not in (-1, count):
            raise RuntimeError(f"insert_select: {cursor.rowcount} rows made, {count} expected")
    return count
