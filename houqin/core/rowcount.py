"""Exact row totals of the plain lists, kept by triggers (SQLite): no COUNT(*) over a million rows.

A list that shows a school's records (the queryset of ``core.permissions.scope`` for a school-wide
role, voided rows hidden or shown) needs their total for its pager: ``COUNT(*)`` walks every row
of the school — 2.5 ms at 100,000 cards, 33 ms at 1,000,000 journal rows for a deep page. Each
school-scoped entity table instead keeps its totals in ``core_rowcount`` (one row per table,
school and live/voided), changed by AFTER INSERT / DELETE / UPDATE OF school_id, voided_at triggers
in the same transaction as the change — imports, bulk writes and raw SQL included.

``exact_total(queryset)`` answers only for a queryset whose WHERE clause is, compiled, exactly one of
``school_id = %s``, ``school_id = %s AND voided_at IS NULL`` or ``… IS NOT NULL`` on the table itself
(compared as SQL with the same query built on the model's base manager, so a default manager's filter,
a row rule, a search or any other filter makes it answer None and the list counts as before).

SQLite only: on PostgreSQL (district mode) many schools write concurrently and one counter row per
school and table would serialise their inserts; lists there keep the bounded count.

Triggers are (re)created after every migrate (``repair``): a migration that rebuilds a table drops
its triggers, so whenever a table's triggers were missing its totals are counted again from the rows.
"""

from __future__ import annotations

from django.db import connections, transaction

from .caching import database_key

TRIGGERS = ("ai", "ad", "au")


def counted_models() -> list:
    """The registered entities' models counted: a NOT NULL ``school`` foreign key, on a plain table."""
    from .entities import registry

    out = []
    for entity in registry:
        model = entity.model
        school = next((f for f in model._meta.concrete_fields if f.name == "school"), None)
        if school is not None and school.many_to_one and not school.null and not model._meta.proxy and model._meta.managed:
            out.append(model)
    return sorted(set(out), key=lambda m: m._meta.db_table)


def _live(model, row: str) -> str:
    return f"({row}.voided_at IS NULL)" if _voidable(model) else "1"


def _voidable(model) -> bool:
    return any(f.name == "voided_at" for f in model._meta.concrete_fields)


def trigger_sql(model) -> list[str]:
    table = model._meta.db_table
    add = ("INSERT INTO core_rowcount (table_name, school_id, live, n) VALUES ('{t}', {r}.school_id, {live}, 1) "
           "ON CONFLICT (table_name, school_id, live) DO UPDATE SET n = n + 1;")
    sub = "UPDATE core_rowcount SET n = n - 1 WHERE table_name = '{t}' AND school_id = {r}.school_id AND live = {live};"
    new = add.format(t=table, r="new", live=_live(model, "new"))
    old = sub.format(t=table, r="old", live=_live(model, "old"))
    watched = "school_id, voided_at" if _voidable(model) else "school_id"
    return [
        f"CREATE TRIGGER IF NOT EXISTS core_rowcount_{table}_ai AFTER INSERT ON {table} BEGIN {new} END",
        f"CREATE TRIGGER IF NOT EXISTS core_rowcount_{table}_ad AFTER DELETE ON {table} BEGIN {old} END",
        f"CREATE TRIGGER IF NOT EXISTS core_rowcount_{table}_au AFTER UPDATE OF {watched} ON {table} "
        f"WHEN old.school_id IS NOT new.school_id OR {_live(model, 'old')} IS NOT {_live(model, 'new')} "
        f"BEGIN {old} {new} END",
    ]


def recount_sql(model) -> list[tuple[str, list]]:
    table = model._meta.db_table
    return [
        ("DELETE FROM core_rowcount WHERE table_name = %s", [table]),
        (f"INSERT INTO core_rowcount (table_name, school_id, live, n) SELECT %s, school_id, {_live(model, table)}, "  # noqa: S608 - names from the models
         f"count(*) FROM {table} GROUP BY 2, 3", [table]),
    ]


def repair(using: str = "default", *, force: bool = False) -> list[str]:
    """Create the missing triggers; count again the tables whose triggers were missing. Returns those tables."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    tables = set(connection.introspection.table_names())
    if "core_rowcount" not in tables:
        return []
    done = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'core_rowcount_%'")
        present = {row[0] for row in cursor.fetchall()}
        for model in counted_models():
            table = model._meta.db_table
            if table not in tables:
                continue
            names = {f"core_rowcount_{table}_{t}" for t in TRIGGERS}
            if names <= present and not force:
                continue
            for t in TRIGGERS:
                cursor.execute(f'DROP TRIGGER IF EXISTS "core_rowcount_{table}_{t}"')
            for sql in trigger_sql(model):
                cursor.execute(sql)
            for sql, params in recount_sql(model):
                cursor.execute(sql, params)
            done.append(table)
    _installed.pop(database_key(using), None)
    return done


# Reading -----------------------------------------------------------------------------------------------------------

_installed: dict[str, frozenset] = {}  # database → tables whose triggers exist
_canonical: dict[tuple, tuple[str, str, str]] = {}  # (model, vendor) → WHERE SQL of (all, live, voided)


def _counted_tables(connection) -> frozenset:
    name = database_key(connection.alias)
    tables = _installed.get(name)
    if tables is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'core_rowcount_%'")
            present = {row[0] for row in cursor.fetchall()}
        tables = frozenset(m._meta.db_table for m in counted_models()
                           if {f"core_rowcount_{m._meta.db_table}_{t}" for t in TRIGGERS} <= present)
        _installed[name] = tables
    return tables


def _where(queryset, connection):
    query = queryset.query
    return query.get_compiler(connection=connection).compile(query.where)


def _canonical_where(model, connection) -> tuple[str, str, str]:
    key = (model, connection.vendor)
    found = _canonical.get(key)
    if found is None:
        base = model._base_manager.db_manager(connection.alias).filter(school_id=0)
        forms = [base]
        if _voidable(model):
            forms += [base.filter(voided_at__isnull=True), base.filter(voided_at__isnull=False)]
        found = tuple(_where(qs, connection)[0] for qs in forms) + ("",) * (3 - len(forms))
        _canonical[key] = found
    return found


def exact_total(queryset) -> int | None:
    """The total of ``queryset`` from the kept counts, or None when it is not a plain school list (module doc)."""
    connection = connections[queryset.db]
    if connection.vendor != "sqlite":
        return None
    model = queryset.model
    query = queryset.query
    if (query.distinct or query.combinator or query.low_mark or query.high_mark is not None or query.extra
            or query.annotations or query.is_empty()):
        return None
    if model._meta.db_table not in _counted_tables(connection):
        return None
    if _leaves(query.where) > 2:  # a filtered list: more conditions than any plain one, not worth compiling
        return None
    try:
        sql, params = _where(queryset, connection)
    except Exception:  # noqa: BLE001 - an unusual WHERE (EmptyResultSet, FullResultSet…): count as usual
        return None
    if len(params) != 1 or not sql:
        return None
    every, live, voided = _canonical_where(model, connection)
    lives = {every: (0, 1), live: (1,), voided: (0,)}.get(sql)
    if lives is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(sum(n), 0) FROM core_rowcount WHERE table_name = %s AND school_id = %s "  # noqa: S608 - placeholders only
            f"AND live IN ({', '.join(['%s'] * len(lives))})", [model._meta.db_table, params[0], *lives])
        return cursor.fetchone()[0]


def _leaves(node) -> int:
    """The conditions of a WHERE tree (a plain school list has one or two: its school, and live or voided)."""
    children = getattr(node, "children", None)
    if children is None:
        return 1
    return sum(_leaves(child) for child in children)


def forget() -> None:
    _installed.clear()
    _canonical.clear()
