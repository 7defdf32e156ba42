"""Audit entries written explicitly by services in the same transaction (architecture §4.7)."""

import datetime
import decimal
import enum
import json
import uuid
from contextvars import ContextVar
from itertools import chain, repeat
from operator import attrgetter, is_, itemgetter

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .bulk import _INT, _STR, Ready, values_getter, values_of
from .models import AuditEntry

_request_id: ContextVar[str] = ContextVar("houqin_request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str | None = None) -> object:
    """Bind a request id (one per HTTP request, import or job); returns a token for reset."""
    return _request_id.set(value or str(uuid.uuid4()))


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


def _jsonable(value):
    if isinstance(value, decimal.Decimal):
        return str(value)  # never float (unlike InvenTree's deltas)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
        return value.name or ""
    return value


def serialize_for_audit(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict:
    """Snapshot of the concrete fields of ``obj``; foreign keys as ids, Decimal as strings."""
    names = _snapshot_names(obj.__class__, tuple(exclude))
    data = {}
    for name, attname in names:
        value = getattr(obj, attname)
        data[name] = value if value is None or type(value) in _AS_IS else _jsonable(value)
    return data


_AS_IS = (str, int, bool, float)  # what _jsonable returns unchanged


def snapshot_attnames(model) -> list[str]:
    """The attnames of ``model``'s audit snapshot fields, in the snapshot's order (``snapshot_reader``'s tuples)."""
    return [attname for _name, attname in _snapshot_names(model, ())]


def snapshot_reader(model):
    """``(values, snapshot)`` for ``model``: ``values(obj)`` reads the fields of ``obj``'s audit snapshot as they
    are (a tuple in the snapshot's order, nothing converted); ``snapshot(values)`` makes of such a tuple what
    ``serialize_for_audit`` gives. A re-import compares the tuples and builds a snapshot only for a row that
    changed (100,000 cards uploaded again: 200,000 snapshots were 3 s of its check)."""
    names = _snapshot_names(model, ())
    read = attrgetter(*[attname for _name, attname in names])
    values = read if len(names) > 1 else (lambda obj: (read(obj),))

    def snapshot(found: tuple) -> dict:
        return {name: value if value is None or type(value) in _AS_IS else _jsonable(value)
                for (name, _attname), value in zip(names, found, strict=True)}

    return values, snapshot
_snapshot_fields: dict = {}


def _snapshot_names(model, exclude: tuple) -> list[tuple[str, str]]:
    """(name, attname) of the fields in ``model``'s audit snapshot, in order."""
    key = (model, exclude)
    names = _snapshot_fields.get(key)
    if names is None:
        names = _snapshot_fields[key] = [
            (f.name, f.attname) for f in model._meta.concrete_fields
            if f.name not in exclude and f.name not in ("password", "created_at", "updated_at")]
    return names


def diff(before: dict | None, after: dict | None) -> list[str]:
    before = before or {}
    after = after or {}
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def _school_id(obj: models.Model):
    if hasattr(obj, "school_id"):
        return obj.school_id
    return None


def audit_record(
    *,
    obj: models.Model,
    action: str,
    actor,
    before: dict | None = None,
    after: dict | None = None,
    message: str = "",
) -> AuditEntry:
    """Write one audit entry for ``obj``. Call it inside the service's transaction."""
    return AuditEntry.objects.create(**_entry_kwargs(obj, action, actor, before, after, message))


def audit_bulk(entries: list[tuple[models.Model, str, dict | None, dict | None]], *, actor, message="") -> None:
    """Bulk audit entries (imports): one per row, sharing the current request id. An entry's ``after`` may be
    ``SNAPSHOT``: ``serialize_for_audit(obj)`` as the object is now (taken from ``prepare_snapshots`` when
    that was worked out before the transaction and the object has not changed since)."""
    from .bulk import insert_columns, insert_rows

    columns = _prepared_columns(entries, actor=actor, message=message)
    if columns is not None:
        staged = columns.pop(_STAGED, None)
        if staged is not None:
            _insert_staged(staged, columns, len(entries))
        else:
            insert_columns(AuditEntry, columns, len(entries))
        return
    insert_rows(AuditEntry, audit_rows(entries, actor=actor, message=message))


SNAPSHOT = object()  # an entry's ``after``: the object's snapshot at the time of the write
PREPARED_SNAPSHOT = "_audit_snapshot"  # on each object: (values then, repr, JSON text before / after its key)
_KEY_MARK = "\x00houqin-audit-key\x00"
_IMMUTABLE = {str: True, int: True, bool: True, float: True, type(None): True, decimal.Decimal: True,
              datetime.date: True, datetime.datetime: True, datetime.time: True, uuid.UUID: True}


def _immutable(kind: type) -> bool:
    """Whether a value of this type cannot change in place (the plain types and the choices' enum members)."""
    known = _IMMUTABLE.get(kind)
    if known is None:
        known = _IMMUTABLE[kind] = issubclass(kind, enum.Enum) and issubclass(kind, str | int | float)
    return known


def _snapshot_plan(model):
    """(attnames compared, get them, key field name) for ``prepare_snapshots``, or None for a model whose
    snapshot could change between the preparation and the write other than by its key (an ``auto_now`` field
    in the snapshot) or whose key is not an integer."""
    from .bulk import _AUTO

    meta = model._meta
    fields = [f for f in meta.concrete_fields if f.name not in ("password", "created_at", "updated_at")]
    if (type(meta.pk) not in _AUTO or meta.pk not in fields
            or any(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in fields)):
        return None
    attnames = [f.attname for f in meta.concrete_fields if not f.primary_key
                and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)]
    if not attnames:
        return None
    return attnames, values_getter(model, attnames), meta.pk.name, meta.pk.attname


def prepare_snapshots(objs: list) -> None:
    """Before the write transaction of a large import (SQLite, ``core.bulk`` thresholds): for each new object,
    its audit snapshot as JSON text in the database's form, split around its future key, and its ``str()`` —
    so the transaction only puts the key in (snapshot, JSON and repr took 3.2 s of the 8.3 s write at 100k
    students). ``audit_rows`` uses them only if every field of the object is still the very same value
    (identity, so 1.0 never stands for 1.00), and the repr only if it reads neither the key nor the
    ``auto_now`` stamps (worked out with both changed); otherwise it works the entry out as before."""
    from django.db import connections, router

    from . import bulk

    if not objs or len(objs) < bulk.SET_BASED_TRIGGERS_FROM:
        return
    connection = connections[router.db_for_write(AuditEntry)]
    model = type(objs[0])
    plan = _snapshot_plan(model)
    if plan is None or not bulk._usable(AuditEntry, connection) or any(type(o) is not model for o in objs):
        return
    _attnames, get, key_name, key = plan
    meta = model._meta
    after = AuditEntry._meta.get_field("after")
    mark = after.get_db_prep_save(_KEY_MARK, connection)
    probes = {a: datetime.datetime(1901, 2, 3, 4, 5, 6, tzinfo=datetime.UTC) for a in (
        f.attname for f in meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))}
    probes[key] = -7_654_321
    batch = bulk.prepared_batch(objs)  # the same tuples as the insert's (_prepared_columns)
    if (batch is not None and batch.attnames == _attnames and len(batch.objs) == len(objs)
            and all(map(is_, batch.objs, objs))):
        rows = batch.values
    else:
        rows = values_of(model, _attnames, objs)
    # A value that could change in place (a list, a dict) is read in the write: such rows are not prepared.
    kinds = batch.kinds if batch is not None and rows is batch.values and batch.kinds is not None else {
        type(v) for values in rows for v in values}  # the batch's own: a walk of 4.5M values less (0.3 s at 100k cards)
    mutable = {kind for kind in kinds if not _immutable(kind)}
    if not mutable and rows is not None and batch is not None and rows is batch.values:
        in_sql = _snapshot_sql(model, batch, connection)
        if in_sql is not None and _snapshots_in_sql(objs, rows, in_sql, probes, key, connection):
            return
    for obj, values in zip(objs, rows, strict=True):
        state = obj.__dict__
        if state.get(key) is not None or (mutable and not mutable.isdisjoint(map(type, values))):
            continue
        data = serialize_for_audit(obj)
        data[key_name] = _KEY_MARK
        text = after.get_db_prep_save(data, connection)
        if type(text) is not str or text.count(mark) != 1:
            continue
        head, _mark, tail = text.partition(mark)
        state[PREPARED_SNAPSHOT] = (values, _repr_then(obj, probes), head, tail)
    _stage_entries(objs, connection)


def _repr_then(obj, probes: dict) -> str | None:
    """``str(obj)[:200]`` as it will read in the write, or None if it reads the key or the stamps (worked out
    there then): the repr with other values in their place (``probes``) must be the same text."""
    state = obj.__dict__
    text_repr = str(obj)[:200]
    saved = {a: state[a] for a in probes if a in state}
    try:
        state.update(probes)
        if str(obj)[:200] != text_repr:
            text_repr = None
    except Exception:  # noqa: BLE001 - a repr that needs more than the row: worked out in the write
        text_repr = None
    finally:
        for a in probes:
            state.pop(a, None)
        state.update(saved)
    return text_repr


# Field types whose value in a staged insert row (``bulk._converter``) is, in SQL, what ``serialize_for_audit``
# gives in JSON: text as text, whole numbers, a Decimal as its str() (the driver's adapter), a date as its ISO
# text, a boolean as 1/0 (made true/false).
_SQL_SNAPSHOT_TYPES = (*_STR, *_INT, models.DateField, models.DecimalField, models.BooleanField)


def _snapshot_sql(model, batch, connection) -> tuple[str, str] | None:
    """(JSON text before the key, SQL giving the text after it from the rows ``bulk.prepare_insert`` staged for the
    insert as ``s``: ``s.c0 …`` in ``batch.attnames`` order): the snapshot ``serialize_for_audit`` makes, made by SQLite's
    ``json_object`` for all rows at once before the lock — the same JSON value (compact, UTF-8 as it is),
    without a dict and a ``json.dumps`` per row (2 s of a 100,000-card import). None: a field of another kind,
    the key not first, no staged rows."""
    from . import bulk

    if batch.stage is None or batch.columns is None or connection.vendor != "sqlite":
        return None
    if type(connection.ops).adapt_decimalfield_value is not bulk._ADAPT_DECIMAL:
        return None
    meta = model._meta
    names = _snapshot_names(model, ())
    if not names or names[0][0] != meta.pk.name or len(names) < 2 or 2 * len(names) > 120:  # json_object: 127 args
        return None
    parts = []
    for name, attname in names[1:]:
        f = meta.get_field(name)
        if attname not in batch.attnames:
            return None
        column = f"s.c{batch.attnames.index(attname)}"
        if f.is_relation:
            if not f.many_to_one or type(f.target_field) not in (*bulk._AUTO, *bulk._INT):
                return None
        elif type(f) not in _SQL_SNAPSHOT_TYPES:
            return None
        if type(f) is models.BooleanField:
            column = f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} THEN json('true') ELSE json('false') END"
        parts.append(f"{_sql_text(name)}, {column}")
    return "{" + json.dumps(meta.pk.name) + ":", f"',' || substr(json_object({', '.join(parts)}), 2)"


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _snapshots_in_sql(objs, rows, in_sql, probes, key, connection) -> bool:
    """Prepare every new object's entry with its snapshot made in SQL (``_snapshot_sql``) into the TEMP table the
    write copies (``_insert_staged``): each object's repr in Python, the rest from the staged insert rows. False
    (nothing done): a repr that reads the key, fewer rows than staging takes, a key already set."""
    from . import bulk

    if connection.in_atomic_block or len(objs) < bulk.STAGE_FROM:
        return False
    if any(o.__dict__.get(key) is not None for o in objs):
        return False
    reprs = [_repr_then(obj, probes) for obj in objs]
    if None in reprs:
        return False
    batch = bulk.prepared_batch(objs)
    head, tail = in_sql
    school = f"c{batch.attnames.index('school_id')}" if "school_id" in batch.attnames else "NULL"
    named = bulk.stage_rows(connection, 1, ([(r,) for r in reprs[i:i + 10_000]] for i in range(0, len(reprs), 10_000)))
    select = (f"SELECT s.{school}, r.c0, %s, {tail} FROM temp.{batch.stage} s "  # noqa: S608 - our own names
              f"JOIN temp.{named} r ON r.rowid = s.rowid ORDER BY s.rowid")
    stage = bulk.stage_select(connection, 4, select, [head])
    for obj, values, text_repr in zip(objs, rows, reprs, strict=True):
        obj.__dict__[PREPARED_SNAPSHOT] = (values, text_repr, None, None)  # the JSON is in the stage only
    objs[0].__dict__[AUDIT_STAGE] = (stage, list(objs))
    return True


AUDIT_STAGE = "_audit_stage"  # on the first object: (TEMP table, the objects in order) of its entries' own columns
_STAGED = "\x00staged"  # in _prepared_columns' answer: (TEMP table, first key) to insert from


def _stage_entries(objs: list, connection) -> None:
    """Outside a transaction, for ``bulk.STAGE_FROM`` objects or more whose snapshot and repr were all prepared:
    bind the columns that differ per entry — school, repr, the JSON text before and after the key — into a TEMP
    table (``bulk.stage_rows``), so the write copies them with the keys put in by SQL (``_insert_staged``)
    instead of binding 100,000 rows with the write lock held (0.33 s, as much again to build them)."""
    from . import bulk

    if connection.in_atomic_block or len(objs) < bulk.STAGE_FROM:
        return
    found = [o.__dict__.get(PREPARED_SNAPSHOT) for o in objs]
    if any(f is None or f[1] is None for f in found):
        return
    if hasattr(objs[0], "school_id"):
        schools = [school_id for (school_id,) in values_of(type(objs[0]), ["school_id"], objs)]
    else:
        schools = [None] * len(objs)
    rows = [(school_id, text_repr, head, tail)
            for school_id, (_values, text_repr, head, tail) in zip(schools, found, strict=True)]
    stage = bulk.stage_rows(connection, 4, (rows[i:i + 10_000] for i in range(0, len(rows), 10_000)))
    objs[0].__dict__[AUDIT_STAGE] = (stage, list(objs))


def _insert_staged(staged: tuple[str, int], shared: dict, count: int) -> None:
    """The entries bound by ``_stage_entries``, the i-th with the key first + i - 1 (keys checked consecutive by
    ``_prepared_columns``): its object id and, between the JSON text around it, in its snapshot — the same
    text ``f"{head}{key}{tail}"`` gives. ``shared``: the columns the same on every entry (``bulk.same``)."""
    from .bulk import insert_select

    stage, first = staged
    key = "(%s + rowid - 1)"
    given = {attname: ("%s", (column.value,)) for attname, column in shared.items()}
    given |= {"school_id": ("c0", ()), "object_repr": ("c1", ()),
              "object_id": (f"CAST({key} AS TEXT)", (first,)), "after": (f"c2 || {key} || c3", (first,))}
    insert_select(AuditEntry, given, f"temp.{stage} ORDER BY rowid", (), count)


def _prepared_snapshot(obj, plans: dict):
    """(repr or None, ``Ready`` JSON text) of ``obj`` from ``prepare_snapshots``, or None if it changed."""
    found = obj.__dict__.pop(PREPARED_SNAPSHOT, None)
    if found is None:
        return None
    kind = type(obj)
    plan = plans.get(kind, False)
    if plan is False:
        plan = plans[kind] = _snapshot_plan(kind)
    if plan is None:
        return None
    key = obj.__dict__.get(plan[3])
    values, text_repr, head, tail = found
    if head is None or type(key) is not int or not all(map(is_, plan[1](obj), values)):  # None: in SQL only
        return None
    return text_repr, Ready(f"{head}{key}{tail}")


def _prepared_columns(entries, *, actor, message="") -> dict | None:
    """The columns of ``insert_columns`` for ``entries`` when every one is the entry of a new record of one type
    with the snapshot ``prepare_snapshots`` worked out (``after`` is ``SNAPSHOT``, no ``before``, one action that
    is not an update) and every record's fields are still the very same values: per column, what ``audit_rows``
    would give, made without a dict per row — the check is one pass over all the values, the per-row work a
    join of the JSON text around the key (1.7 s of the 6.5 s write at 100,000 students as rows). None: any
    other case, for ``audit_rows``."""
    from . import bulk

    if len(entries) < bulk.SET_BASED_TRIGGERS_FROM:
        return None
    obj0, action, _before, _after = entries[0]
    kind = type(obj0)
    objs = list(map(itemgetter(0), entries))
    stage = obj0.__dict__.pop(AUDIT_STAGE, None)  # bound before the transaction (_stage_entries)
    if (action == AuditEntry.Action.UPDATE or set(map(type, objs)) != {kind}
            or set(map(itemgetter(1), entries)) != {action}
            or not all(map(is_, map(itemgetter(2), entries), repeat(None)))
            or not all(map(is_, map(itemgetter(3), entries), repeat(SNAPSHOT)))):
        return None
    plan = _snapshot_plan(kind)
    if plan is None:
        return None
    attnames, _get, _key_name, key = plan
    states = list(map(attrgetter("__dict__"), objs))
    found = [state.get(PREPARED_SNAPSHOT) for state in states]
    if any(f is None or f[1] is None for f in found):
        return None
    keys = [state.get(key) for state in states]
    if not all(map(is_, map(type, keys), repeat(int))):
        return None
    # The snapshots were made of the very values the rows were inserted with (bulk_insert took them from the
    # same preparation): what the audit records is what was written. Else each record must still hold them.
    inserted = bulk.inserted_values(objs)
    if inserted is None or not all(map(is_, map(itemgetter(0), found), inserted)):
        then = chain.from_iterable(map(itemgetter(0), found))
        if not all(map(is_, chain.from_iterable(bulk.values_of(kind, attnames, objs)), then)):
            return None  # a field changed since (or a value was replaced by an equal one): entry by entry
    for state in states:
        del state[PREPARED_SNAPSHOT]
    if actor is not None and not getattr(actor, "pk", None):
        actor = None  # AnonymousUser
    shared = {
        "content_type_id": bulk.same(AuditEntry, "content_type_id",
                                     ContentType.objects.get_for_model(obj0, for_concrete_model=False).pk),
        "action": bulk.same(AuditEntry, "action", action),
        "before": bulk.same(AuditEntry, "before", None),
        "changed_fields": bulk.same(AuditEntry, "changed_fields", []),
        "actor_id": bulk.same(AuditEntry, "actor_id", actor.pk if actor is not None else None),
        "request_id": bulk.same(AuditEntry, "request_id", current_request_id()),
        "message": bulk.same(AuditEntry, "message", str(message)[:500]),
    }
    # The staged rows are the objects' in the order they were prepared: used only for the very same objects in
    # the same order, their keys consecutive in it (one insert), so the i-th row's key is first + i - 1.
    if (stage is not None and len(stage[1]) == len(objs) and all(map(is_, stage[1], objs))
            and bulk.consecutive_keys(objs) is not None and bulk.usable_for(AuditEntry)):
        return {**shared, _STAGED: (stage[0], keys[0])}
    if any(f[2] is None for f in found):
        return None  # snapshots made in SQL into a stage these objects cannot use: audit_rows makes them
    if hasattr(obj0, "school_id"):
        school = [school_id for (school_id,) in bulk.values_of(kind, ["school_id"], objs)]
    else:
        school = bulk.same(AuditEntry, "school_id", None)
    return {
        **shared,
        "school_id": school,
        "object_id": list(map(str, keys)),
        "object_repr": list(map(itemgetter(1), found)),
        "after": bulk.ReadyColumn([f"{head}{k}{tail}" for (_v, _r, head, tail), k in zip(found, keys, strict=True)]),
    }


def audit_rows(entries, *, actor, message="") -> list[dict]:
    """The rows ``audit_bulk`` inserts: ``_entry_kwargs`` of each entry, with what the entries share (actor,
    request id, message, record type) worked out once instead of once per row."""
    if actor is not None and not getattr(actor, "pk", None):
        actor = None  # AnonymousUser
    request_id = current_request_id()
    message = str(message)[:500]
    types: dict = {}
    plans: dict = {}
    empty_list = None
    rows = []
    for obj, action, before, after in entries:
        kind = obj.__class__
        content_type = types.get(kind)
        if content_type is None:
            content_type = types[kind] = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        prepared = None
        if after is SNAPSHOT:
            if action != AuditEntry.Action.UPDATE:  # an update's changed fields are read from the snapshot
                prepared = _prepared_snapshot(obj, plans)
            if prepared is None:
                after = serialize_for_audit(obj)
                obj.__dict__.pop(PREPARED_SNAPSHOT, None)
            else:
                after = prepared[1]
        row = _row(obj, action, before, after, content_type=content_type, actor=actor, request_id=request_id,
                   message=message, object_repr=prepared[0] if prepared is not None else None)
        if prepared is not None and row["changed_fields"] == []:
            if empty_list is None:
                empty_list = _ready_json(row["changed_fields"])
            row["changed_fields"] = empty_list
        rows.append(row)
    return rows


def _ready_json(value):
    """``value`` (JSON) in its database form, as ``AuditEntry.changed_fields`` stores it."""
    from django.db import connections, router


    connection = connections[router.db_for_write(AuditEntry)]
    return Ready(AuditEntry._meta.get_field("changed_fields").get_db_prep_save(value, connection))


def _row(obj, action, before, after, *, content_type, actor, request_id, message, object_repr=None) -> dict:
    """The fields of one audit entry (a single write or one row of a bulk write; ``object_repr``: ``str(obj)``
    worked out before)."""
    return {
        "school_id": _school_id(obj),
        "content_type": content_type,
        "object_id": str(obj.pk),
        "object_repr": str(obj)[:200] if object_repr is None else object_repr,
        "action": action,
        "before": before,
        "after": after,
        # An update, or a re-imported row that changed a record (an import of a new row has no "before"): the
        # history lists which fields changed, old → new.
        "changed_fields": (diff(before, after) if action == AuditEntry.Action.UPDATE
                           or (action == AuditEntry.Action.IMPORT and before is not None) else []),
        "actor": actor,
        "request_id": request_id,
        "message": message,
    }


def _entry_kwargs(obj, action, actor, before, after, message):
    if actor is not None and not getattr(actor, "pk", None):
        actor = None  # AnonymousUser
    return _row(obj, action, before, after, actor=actor, request_id=current_request_id(), message=str(message)[:500],
                content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False))


def history_for(obj: models.Model):
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).select_related("actor")
