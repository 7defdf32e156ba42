"""An account's permissions and roles, read from the database once per change, not once per request.

Every page asks who may do what: Django's backends read the account's permissions (two queries) and
Houqin its roles (two more) on every request — about 2.5 ms of a list page that otherwise needs 10.
They change rarely (an administrator edits roles, a department's rights or a person's membership),
so each process keeps ``{account id: (stamp, permissions, roles)}`` and asks the database for one
value per request instead: ``core_authstamp.value``, which triggers on every table that decides
permissions or roles set to a new random value in the same transaction as the change (migration
core.0007). Triggers, not signals: imports, bulk writes and raw SQL change the stamp too.

A second row (``LISTS``, migration core.0008) changes with the list settings — the columns each user
chose (``ListPreference``) and the saved filters — so a list page reads them from the same kind of
per-process cache (``list_settings``) instead of two more queries.

A random value rather than a counter: a rolled-back change restores the old value, and a counter
would then hand out the same number again for a different change. The stamp is read before the
permissions, so a change committed in between makes the next request read them again.
"""

from __future__ import annotations

from django.db import connections, router

from .caching import database_key

RIGHTS, LISTS = 1, 2  # the rows of core_authstamp

# (table, events) whose writes change what an account may do (auth_permission and auth_group rows are
# only ever added or removed; a member's status and account decide the rights a department grants).
WATCHED = (
    ("auth_group", "INSERT OR DELETE"),
    ("auth_permission", "INSERT OR DELETE"),
    ("auth_group_permissions", "INSERT OR UPDATE OR DELETE"),
    ("org_user", "INSERT OR DELETE"),
    ("org_user_groups", "INSERT OR UPDATE OR DELETE"),
    ("org_user_user_permissions", "INSERT OR UPDATE OR DELETE"),
    ("org_department_roles", "INSERT OR UPDATE OR DELETE"),
    ("org_staff_departments", "INSERT OR UPDATE OR DELETE"),
    ("org_staff", "INSERT OR UPDATE OF status, user_id OR DELETE"),
)
# Stamp LISTS: the list settings of every user (columns chosen, saved filters).
WATCHED_LISTS = (
    ("core_listpreference", "INSERT OR UPDATE OR DELETE"),
    ("core_savedfilter", "INSERT OR UPDATE OR DELETE"),
)
MAX_ACCOUNTS = 20_000  # accounts (or account × list) kept per process before the cache starts again

_cache: dict[tuple[str, int], tuple[str, frozenset, frozenset]] = {}
_lists: dict[tuple, tuple] = {}


_tables: dict[str, bool] = {}


def current_stamp(alias: str, stamp: int = RIGHTS) -> str | None:
    """The stamp now; None when there is none (before migrate, or after a test's flush emptied the
    table): then every request reads the rights as Django does."""
    return current_stamps(alias).get(stamp)


def current_stamps(alias: str) -> dict[int, str]:
    """Both stamps now, in one query (a page needs the rights' and, for a list, the list settings')."""
    connection = connections[alias]
    name = database_key(alias)
    if not _tables.get(name):
        # Checked until found, so that a failing SELECT never aborts a PostgreSQL transaction.
        _tables[name] = "core_authstamp" in connection.introspection.table_names()
        if not _tables[name]:
            return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, value FROM core_authstamp WHERE id IN (1, 2)")
        return dict(cursor.fetchall())


def rights(user, compute) -> tuple[frozenset, frozenset]:
    """(permission names, role codes) of ``user``; ``compute()`` reads them from the database."""
    from django.contrib.auth import get_user_model

    alias = router.db_for_read(get_user_model())
    stamps = current_stamps(alias)
    user._houqin_stamps = (alias, stamps)  # this request's list settings use the same reading
    stamp = stamps.get(RIGHTS)
    key = (database_key(alias), user.pk)
    hit = _cache.get(key)
    if stamp is not None and hit is not None and hit[0] == stamp:
        return hit[1], hit[2]
    perms, roles = compute()
    if stamp is not None:
        if len(_cache) >= MAX_ACCOUNTS:
            _cache.clear()
        _cache[key] = (stamp, perms, roles)
    return perms, roles


def list_settings(user, entity_key: str, compute):
    """What ``compute()`` reads of ``user``'s settings for one list (chosen columns, saved filters),
    kept per process until any list setting changes (stamp ``LISTS``)."""
    from .models import ListPreference

    alias = router.db_for_read(ListPreference)
    read = getattr(user, "_houqin_stamps", None)  # read with the rights at the start of this request
    stamp = read[1].get(LISTS) if read is not None and read[0] == alias else current_stamp(alias, LISTS)
    key = (database_key(alias), user.pk, user.school_id, entity_key)
    hit = _lists.get(key)
    if stamp is not None and hit is not None and hit[0] == stamp:
        return hit[1]
    value = compute()
    if stamp is not None:
        if len(_lists) >= MAX_ACCOUNTS:
            _lists.clear()
        _lists[key] = (stamp, value)
    return value


def forget() -> None:
    _cache.clear()
    _lists.clear()
    _tables.clear()


# Migration -------------------------------------------------------------------------------------------------------
def _sqlite_statements(watched=WATCHED, stamp: int = RIGHTS) -> list[str]:
    out = []
    for table, events in watched:
        for event in events.split(" OR "):
            name = f"core_authstamp_{table}_{event.split()[0].lower()}"
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} BEGIN "  # noqa: S608 - names from code
                f"UPDATE core_authstamp SET value = lower(hex(randomblob(16))) WHERE id = {int(stamp)}; END"
            )
    return out


# The stamp row to change is the trigger's argument (none: RIGHTS, as core.0007 first created them).
PG_TOUCH_FUNCTION = (
    "CREATE OR REPLACE FUNCTION core_authstamp_touch() RETURNS trigger AS $$ BEGIN "
    "UPDATE core_authstamp SET value = md5(random()::text || clock_timestamp()::text) "
    "WHERE id = COALESCE(TG_ARGV[0]::int, 1); RETURN NULL; END; $$ LANGUAGE plpgsql"
)


def _postgres_statements() -> list[str]:
    out = [PG_TOUCH_FUNCTION]
    for table, events in WATCHED:
        out.append(f"DROP TRIGGER IF EXISTS core_authstamp_touch ON {table}")
        out.append(f"CREATE TRIGGER core_authstamp_touch AFTER {events} ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION core_authstamp_touch()")
    return out


def install_triggers(apps, schema_editor) -> None:
    connection = schema_editor.connection
    statements = {"sqlite": _sqlite_statements, "postgresql": _postgres_statements}.get(connection.vendor)
    fresh = "md5(random()::text)" if connection.vendor == "postgresql" else "lower(hex(randomblob(16)))"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO core_authstamp (id, value) VALUES (1, {fresh})")  # noqa: S608 - constant
        for sql in statements() if statements else ():
            cursor.execute(sql)


def repair_auth_triggers(using: str = "default") -> None:
    """On SQLite a migration that rebuilds a table (adding a column does) drops its triggers: create any
    that are missing (run after every migrate). PostgreSQL keeps triggers through ``ALTER TABLE``."""
    connection = connections[using]
    if connection.vendor != "sqlite" or "core_authstamp" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        for stamp, watched in ((RIGHTS, WATCHED), (LISTS, WATCHED_LISTS)):
            cursor.execute("INSERT OR IGNORE INTO core_authstamp (id, value) VALUES (%s, lower(hex(randomblob(16))))",
                           [stamp])
            for sql in _sqlite_statements(watched, stamp):
                cursor.execute(sql)


def install_list_triggers(apps, schema_editor) -> None:
    """Migration core.0008: stamp ``LISTS`` and its triggers. On PostgreSQL the touch function takes the
    row to change as its trigger argument (no argument: ``RIGHTS``, as core.0007 created them)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_TOUCH_FUNCTION)
            cursor.execute("INSERT INTO core_authstamp (id, value) VALUES (%s, md5(random()::text))", [LISTS])
            for table, events in WATCHED_LISTS:
                cursor.execute(f"DROP TRIGGER IF EXISTS core_authstamp_touch ON {table}")
                cursor.execute(f"CREATE TRIGGER core_authstamp_touch AFTER {events} ON {table} "
                               f"FOR EACH STATEMENT EXECUTE FUNCTION core_authstamp_touch('{LISTS}')")
        elif connection.vendor == "sqlite":
            cursor.execute("INSERT INTO core_authstamp (id, value) VALUES (%s, lower(hex(randomblob(16))))", [LISTS])
            for sql in _sqlite_statements(WATCHED_LISTS, LISTS):
                cursor.execute(sql)


def _drop_triggers(connection, cursor, watched) -> None:
    for table, events in watched:
        if connection.vendor == "sqlite":
            for event in events.split(" OR "):
                cursor.execute(f"DROP TRIGGER IF EXISTS core_authstamp_{table}_{event.split()[0].lower()}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS core_authstamp_touch ON {table}")


def remove_list_triggers(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        _drop_triggers(connection, cursor, WATCHED_LISTS)
        cursor.execute("DELETE FROM core_authstamp WHERE id = %s", [LISTS])


def remove_triggers(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        _drop_triggers(connection, cursor, WATCHED)
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS core_authstamp_touch()")
