"""Student list speed at 100k rows: an ordered filter index and, on SQLite, a trigram search index.

``org_student_fts`` is an FTS5 table (trigram tokenizer) holding each student's number, name and
pinyin keys, kept in step by triggers; the list search uses it to find candidate rows instead of
``LIKE '%…%'`` over every row (``core.search_index``). Other databases get no such table and
search as before.
"""

from django.db import migrations, models

FTS_TABLE = "org_student_fts"
FTS_COLUMNS = ("student_no", "name", "search_keys")

CREATE = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({', '.join(FTS_COLUMNS)}, tokenize='trigram')",
    f"""CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON org_student BEGIN
        INSERT INTO {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)})
        VALUES (new.id, {', '.join('new.' + c for c in FTS_COLUMNS)});
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON org_student BEGIN
        DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF id, {', '.join(FTS_COLUMNS)} ON org_student BEGIN
        DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
        INSERT INTO {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)})
        VALUES (new.id, {', '.join('new.' + c for c in FTS_COLUMNS)});
    END""",
    f"INSERT INTO {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)}) SELECT id, {', '.join(FTS_COLUMNS)} FROM org_student",
]
DROP = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ai",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ad",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def _fts5_trigram(cursor) -> bool:
    try:
        cursor.execute("CREATE VIRTUAL TABLE temp.houqin_fts_probe USING fts5(x, tokenize='trigram')")
        cursor.execute("DROP TABLE temp.houqin_fts_probe")
    except Exception:  # noqa: BLE001 - an SQLite built without FTS5 or older than 3.34: no index
        return False
    return True


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        if not _fts5_trigram(cursor):
            return
        for sql in CREATE:
            cursor.execute(sql)
        # Statistics tell the planner that one school's rows are most of the table, so a search
        # starts from the index's few candidates rather than from the school index (see also
        # core.importing.analyze_after_import). Nothing to measure in an empty table.
        cursor.execute("SELECT EXISTS (SELECT 1 FROM org_student)")
        if cursor.fetchone()[0]:
            cursor.execute("ANALYZE org_student")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in DROP:
            cursor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0003_student_status_boarder_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="student", name="org_student_status_boarder"),
        migrations.AddIndex(
            model_name="student",
            index=models.Index(fields=["school", "status", "is_boarder", "student_no"],
                               name="org_student_status_boarder_no"),
        ),
        migrations.RunPython(create_index, drop_index),
    ]
