"""Fast bulk inserts for the write phase of large imports (architecture §3: the write lock for seconds).

``bulk_insert(model, objs)`` writes what ``bulk_create`` writes — every concrete field, ``auto_now``
and ``auto_now_add`` stamps, primary keys set on the objects afterwards — but prepares the values
once per column kind instead of calling each field's ``get_db_prep_save`` per value (three quarters
of ``bulk_create``'s time at 100k rows), and sends multi-row ``INSERT … RETURNING`` statements.

Only on SQLite (3.35+ for RETURNING); other databases, models with a primary key that is not an
auto field, and multi-table inheritance go through ``bulk_create``.
"""

from __future__ import annotations

import datetime

from django.db import connections, models, router
from django.utils import timezone

MAX_PARAMS = 30000  # SQLite accepts 32766 bound parameters per statement (3.32+)

_STR = (models.CharField, models.TextField, models.SlugField)
_INT = (models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
        models.PositiveSmallIntegerField, models.PositiveBigIntegerField)
_AUTO = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _converter(field, connection):
    """A function value -> database value equal to ``field.get_db_prep_save(value, connection)``
    (None: the value is used as it is). Exact field classes only; anything else asks the field."""
    kind = type(field)
    if field.is_relation and field.many_to_one:
        if type(field.target_field) in _AUTO + _INT:
            return lambda v: v if v is None or type(v) is int else field.get_db_prep_save(v, connection)
    elif kind in _STR:
        return lambda v: v if v is None or type(v) is str else field.get_db_prep_save(v, connection)
    elif kind in _INT:
        return lambda v: v if v is None or type(v) is int else field.get_db_prep_save(v, connection)
    elif kind is models.BooleanField:
        return lambda v: v if v is None or type(v) is bool else field.get_db_prep_save(v, connection)
    elif kind is models.DateField:  # adapt_datefield_value: str(date)
        return lambda v: v.isoformat() if type(v) is datetime.date else field.get_db_prep_save(v, connection)
    return lambda v: field.get_db_prep_save(v, connection)


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
    stamps = {f.attname: f.get_db_prep_save(now, connection) for f in fields
              if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    for obj in objs:
        for attname in stamps:
            setattr(obj, attname, now)
        obj._prepare_related_fields_for_save(operation_name="bulk_insert")
    columns = []
    for f in fields:
        attname = f.attname
        if attname in stamps:
            columns.append((f, lambda _obj, value=stamps[attname]: value))
            continue
        convert = _converter(f, connection)
        columns.append((f, lambda obj, a=attname, c=convert: c(getattr(obj, a))))
    per_row = len(columns)
    batch = max(1, min(batch_size, MAX_PARAMS // max(per_row, 1)))
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f, _get in columns)}) VALUES "  # noqa: S608 - names from the model
    row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
    getters = [get for _f, get in columns]
    pk = meta.pk
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start:start + batch]
            params = []
            for obj in chunk:
                params.extend(get(obj) for get in getters)
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + f" RETURNING {qn(pk.column)}", params)
            for obj, (value,) in zip(chunk, cursor.fetchall(), strict=True):
                setattr(obj, pk.attname, value)
                obj._state.adding = False
                obj._state.db = using
    return objs


def insert_rows(model, rows: list[dict]) -> int:
    """Insert plain rows (``{attname: value}``; a missing field takes its default, ``auto_now`` and
    ``auto_now_add`` fields the time of the call) without building model instances: for append-only
    records nobody reads back in the same request, such as the audit entries of an import."""
    if not rows:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    if not _usable(model, connection):
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=1000)
        return len(rows)
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    columns = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = f.get_db_prep_save(now, connection)
            columns.append((f, lambda _row, value=value: value))
            continue
        convert = _converter(f, connection)
        default = f.get_default() if f.has_default() or f.null else None
        name = f.attname
        if f.is_relation:
            columns.append((f, lambda row, a=name, n=f.name, c=convert, d=default:
                            c(row[a] if a in row else (row[n].pk if row.get(n) is not None else d))))
        else:
            columns.append((f, lambda row, a=name, c=convert, d=default: c(row.get(a, d))))
    per_row = len(columns)
    batch = max(1, min(1000, MAX_PARAMS // per_row))
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f, _get in columns)}) VALUES "  # noqa: S608 - names from the model
    row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
    getters = [get for _f, get in columns]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            params = []
            for row in chunk:
                params.extend(get(row) for get in getters)
            cursor.execute(head + ", ".join([row_sql] * len(chunk)), params)
    return len(rows)
