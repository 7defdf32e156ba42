"""AuditEntry indexes (core.0010)."""

import pytest


@pytest.mark.django_db
def test_audit_entries_keep_only_the_indexes_their_reads_use():
    """core.0010: a record's history and a school's newest entries each have their index; no single-column index
    repeats their first column (each costs a B-tree insert per entry of a 100,000-row import)."""
    from django.db import connection

    from houqin.core.models import AuditEntry

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, AuditEntry._meta.db_table)
    # A set: PostgreSQL adds a second (LIKE) index to an indexed text column (request_id).
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"] and not c["primary_key"]}
    assert indexed == {("actor_id",), ("content_type_id", "object_id", "at"), ("request_id",), ("school_id", "at")}
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN SELECT id FROM core_auditentry WHERE school_id = 1 ORDER BY at DESC LIMIT 20")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "core_audit_school_at" in plan and "TEMP B-TREE" not in plan, plan
