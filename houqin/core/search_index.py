"""A trigram search index for list searches on SQLite (architecture §3: fast at 100k rows).

An entity may name an FTS5 table (``Entity.search_index``) with the trigram tokenizer that holds
its search columns under the same names (``search_fields``), keyed by the row's primary key and
kept in step by triggers (the table and triggers are created by the app's migration, e.g.
``org.0004_student_search_index``). The list search then asks that index for candidate rows and
still applies the ``LIKE '%…%'`` conditions to them, so the rows found are exactly those of the
plain search: the trigram index folds case at least as widely as ``LIKE`` does, so it never
misses a row ``LIKE`` finds.

The index answers only terms of three characters or more (trigrams); shorter searches, other
databases, related-field search columns or a database without the table search as before.
"""

from __future__ import annotations

from django.db import connections
from django.db.models.expressions import RawSQL

MIN_TERM = 3  # the trigram tokenizer matches substrings of at least three characters

_exists: dict[tuple[str, str], bool] = {}


def index_exists(alias: str, table: str) -> bool:
    """Whether ``table`` exists in database ``alias`` (checked once per process and database)."""
    key = (connections[alias].settings_dict.get("NAME") or alias, table)
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


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expression(fields, value: str, key: str | None) -> str | None:
    """The FTS5 query finding every row where a plain field contains ``value`` or the pinyin keys
    contain ``key`` (None: the keys are not searched); None when the index cannot answer it."""
    plain = [f for f in fields if f != "search_keys"]
    parts = []
    if plain:
        if len(value) < MIN_TERM:
            return None
        parts.append("{" + " ".join(plain) + "} : " + _quote(value))
    if "search_keys" in fields and key is not None:
        if len(key) < MIN_TERM:
            return None
        parts.append("{search_keys} : " + _quote(key))
    return " OR ".join(parts) or None


def candidates(entity, alias: str, value: str, key: str | None):
    """``RawSQL`` of the primary keys that may match (for ``pk__in``), or None to search as before."""
    table = getattr(entity, "search_index", None)
    fields = tuple(entity.search_fields)
    if not table or not fields or any("__" in f for f in fields):
        return None
    if not index_exists(alias, table):
        return None
    match = match_expression(fields, value, key)
    if match is None:
        return None
    return RawSQL(f'SELECT rowid FROM "{table}" WHERE "{table}" MATCH %s', [match])  # noqa: S608,S611 - table is declared in code


# Migrations ------------------------------------------------------------------------------------------------------
def trigram_index(source: str, table: str, columns: tuple[str, ...]):
    """``(forwards, backwards)`` for ``migrations.RunPython``: on SQLite with FTS5, an FTS5 trigram table
    ``table`` of ``source``'s ``columns`` (rowid = the row's id), kept in step by triggers and filled
    from the rows already there; elsewhere nothing (the search runs as before)."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    create = [
        f"CREATE VIRTUAL TABLE {table} USING fts5({cols}, tokenize='trigram')",
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {source} BEGIN "  # noqa: S608 - names from the migration's code
        f"INSERT INTO {table}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {source} BEGIN DELETE FROM {table} WHERE rowid = old.id; END",  # noqa: S608 - names from the migration's code
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF id, {cols} ON {source} BEGIN "  # noqa: S608 - names from the migration's code
        f"DELETE FROM {table} WHERE rowid = old.id; INSERT INTO {table}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {table}(rowid, {cols}) SELECT id, {cols} FROM {source}",  # noqa: S608 - names from code
    ]
    drop = [f"DROP TRIGGER IF EXISTS {table}_{t}" for t in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {table}"]

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            try:
                cursor.execute("CREATE VIRTUAL TABLE temp.houqin_fts_probe USING fts5(x, tokenize='trigram')")
                cursor.execute("DROP TABLE temp.houqin_fts_probe")
            except Exception:  # noqa: BLE001 - SQLite without FTS5 or older than 3.34: no index
                return
            for sql in create:
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


def repair_trigram_indexes(using: str = "default") -> list[str]:
    """Recreate missing triggers of the entities' trigram indexes and refill those indexes.

    SQLite alters a table in some migrations by building a new table and dropping the old one, which
    drops the old table's triggers with it: the index would then silently stop following the rows
    (found by the fixed-assets II migration, which added columns to the asset cards). Run after every
    migrate (``post_migrate``); returns the tables repaired. Cheap when nothing is missing.
    """
    from .entities import registry

    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    repaired = []
    with connection.cursor() as cursor:
        for entity in list(registry):
            table = getattr(entity, "search_index", None)
            if not table:
                continue
            source = entity.model._meta.db_table
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
            if cursor.fetchone() is None:
                continue
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [source])
            present = {row[0] for row in cursor.fetchall()}
            wanted = {f"{table}_{t}" for t in ("ai", "ad", "au")}
            if wanted <= present:
                continue
            cursor.execute(f'PRAGMA table_info("{table}")')
            columns = tuple(row[1] for row in cursor.fetchall())
            cols = ", ".join(columns)
            new = ", ".join(f"new.{c}" for c in columns)
            for name in wanted:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            cursor.execute(f"CREATE TRIGGER {table}_ai AFTER INSERT ON {source} BEGIN "  # noqa: S608 - names from code
                           f"INSERT INTO {table}(rowid, {cols}) VALUES (new.id, {new}); END")
            cursor.execute(f"CREATE TRIGGER {table}_ad AFTER DELETE ON {source} BEGIN "  # noqa: S608 - names from code
                           f"DELETE FROM {table} WHERE rowid = old.id; END")
            cursor.execute(f"CREATE TRIGGER {table}_au AFTER UPDATE OF id, {cols} ON {source} BEGIN "  # noqa: S608
                           f"DELETE FROM {table} WHERE rowid = old.id; "
                           f"INSERT INTO {table}(rowid, {cols}) VALUES (new.id, {new}); END")
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - names from code
            cursor.execute(f"INSERT INTO {table}(rowid, {cols}) SELECT id, {cols} FROM {source}")  # noqa: S608
            repaired.append(table)
    forget()
    return repaired
