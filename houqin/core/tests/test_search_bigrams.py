"""Two-character searches through the bigram index (core.search_index, org.0005, assets.0006) find exactly
what the plain ``LIKE`` search finds, the index follows every write (also writes by programs that know
nothing of Houqin: its triggers are plain SQL), and post_migrate repairs it like the trigram index."""

import sqlite3

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houqin.core import search_index
from houqin.core.entities import registry
from houqin.core.pinyin import search_keys
from houqin.org.models import Student

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 search indexes are SQLite's")

# Characters that make case folding, LIKE's wildcards and FTS5's query syntax interesting.
ALPHABET = "张伟章三王芳钢琴空调计算机aAbBzZwWsSqQgG0123456789 -_%'\"*:{}()\\ÉéÅåＡａ·İıſK\u212a\ufffd"


def _found(entity, queryset, query, *, index: bool):
    original = entity.search_index
    type(entity).search_index = original if index else None
    try:
        # The index is read while filtering (its ids then go to the page's queries as a JSON array):
        # what was read is every statement run, plus the final query.
        with CaptureQueriesContext(connection) as ctx:
            qs = entity.filterset_class({"q": query}, queryset=queryset).qs
            pks = sorted(qs.values_list("pk", flat=True))
        return pks, "\n".join([q["sql"] for q in ctx.captured_queries] + [str(qs.query)])
    finally:
        type(entity).search_index = original


def _students(school, rows):
    klass = school.schoolclass_set.filter(status="active").order_by("pk").first()
    Student.objects.bulk_create([Student(school=school, school_class=klass, student_no=no, name=name, gender="F",
                                         search_keys=keys) for no, name, keys in rows])


text = st.text(alphabet=ALPHABET, min_size=0, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(text, text.filter(bool), st.booleans()), min_size=1, max_size=8),
       queries=st.lists(st.one_of(st.text(alphabet=ALPHABET, min_size=1, max_size=4), text), min_size=1, max_size=6),
       data=st.data())
def test_indexed_search_finds_exactly_what_the_plain_search_finds(school, rows, queries, data):
    with transaction.atomic():  # each example rolls back to a savepoint
        _compare(school, rows, queries, data)
        transaction.set_rollback(True)


def _compare(school, rows, queries, data):
    entity = registry[Student]
    search_index.forget()
    base = Student.objects.filter(school=school, student_no__startswith="HYP")
    # Pinyin keys as the application makes them, or random text (a database filled by another program).
    _students(school, [(f"HYP{i:02d}|{no}", name, search_keys(name) if real else name.lower())
                       for i, (no, name, real) in enumerate(rows)])
    made = list(base.values_list("student_no", "name", "search_keys"))
    # Also two-character pieces of what is there, in either case, so that most queries find something.
    pieces = [t[i:i + 2] for row in made for t in row for i in range(max(len(t) - 1, 0))]
    if pieces:
        queries = [*queries, *data.draw(st.lists(st.sampled_from(pieces), max_size=4))]
    for query in queries + [q.upper() for q in queries] + [q.swapcase() for q in queries]:
        with_index, _ = _found(entity, base, query, index=True)
        without, _ = _found(entity, base, query, index=False)
        assert with_index == without, (query, made)


@sqlite_only
def test_two_character_searches_use_the_bigram_index(school):
    entity = registry[Student]
    search_index.forget()
    assert search_index.index_exists(connection.alias, "org_student_fts_bi")
    assert search_index.index_exists(connection.alias, "assets_asset_fts_bi")
    _students(school, [("BG001", "张伟", search_keys("张伟")), ("BG002", "张伟伟", search_keys("张伟伟")),
                       ("BG003", "王芳", search_keys("王芳")), ("BG004", "Zw", "zw")])
    base = Student.objects.filter(school=school, student_no__startswith="BG")
    for query, expected in (("张伟", {"BG001", "BG002"}), ("伟伟", {"BG002"}), ("zw", {"BG001", "BG002", "BG004"}),
                            ("ZW", {"BG001", "BG002", "BG004"}), ("G0", {"BG001", "BG002", "BG003", "BG004"}),
                            ("Z w", {"BG001", "BG002", "BG004"}),  # plain fields "Z w" (trigram), pinyin "zw" (bigram)
                            ("芳王", set())):
        pks, sql = _found(entity, base, query, index=True)
        assert set(Student.objects.filter(pk__in=pks).values_list("student_no", flat=True)) == expected, query
        assert "org_student_fts_bi" in sql, query
    # One character: the plain search, as before.
    assert "MATCH" not in _found(entity, base, "张", index=True)[1]


@sqlite_only
def test_the_bigram_index_follows_inserts_updates_and_deletes(school):
    entity = registry[Student]
    base = Student.objects.filter(school=school, student_no__startswith="BG")
    _students(school, [("BG001", "王芳", search_keys("王芳"))])
    someone = base.get()
    assert _found(entity, base, "王芳", index=True)[0] == [someone.pk]
    someone.name, someone.search_keys = "王小芳", search_keys("王小芳")
    someone.save()
    assert _found(entity, base, "王芳", index=True)[0] == []
    assert _found(entity, base, "小芳", index=True)[0] == [someone.pk]
    assert _found(entity, base, "xf", index=True)[0] == [someone.pk]
    Student.objects.filter(pk=someone.pk).update(student_no="BGQ9")
    assert _found(entity, base, "q9", index=True)[0] == [someone.pk]
    # A raw write, as another program would make it: the triggers are plain SQL.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE org_student SET name = '赵六' WHERE id = %s", [someone.pk])
    assert _found(entity, base, "赵六", index=True)[0] == [someone.pk]
    assert _found(entity, base, "小芳", index=True)[0] == []
    someone.delete()
    assert _found(entity, base, "赵六", index=True)[0] == []
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO " + search_index.bigram_table("org_student_fts") + "("
                       + search_index.bigram_table("org_student_fts") + ") VALUES ('integrity-check')")


def test_the_triggers_need_no_application_function():
    """The bigram triggers work in any SQLite connection (the sqlite3 shell, a restore script): no function
    of Houqin's is registered here."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE temp.probe USING fts5(x, tokenize='ascii', content='', detail='column')")
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no FTS5")
    db.execute("CREATE TABLE card (id INTEGER PRIMARY KEY, code TEXT, name TEXT)")
    db.execute("INSERT INTO card VALUES (1, 'ZC-01', '钢琴'), (2, NULL, 'X'), (3, 'ab', '')")
    triggers, create, fill = search_index._bigram_statements("card", "card_bi", ("code", "name"))
    for sql in [create, *triggers, fill]:
        db.execute(sql)
    db.execute("INSERT INTO card VALUES (4, 'zc-02', '立式钢琴')")
    db.execute("UPDATE card SET name = '空调' WHERE id = 1")
    db.execute("DELETE FROM card WHERE id = 3")

    def match(columns, term):
        sql = "SELECT rowid FROM card_bi WHERE card_bi MATCH '{' || ? || '} : \"' || hex(lower(?)) || '\"' ORDER BY rowid"
        return [r[0] for r in db.execute(sql, [columns, term])]

    assert match("name", "钢琴") == [4]
    assert match("name", "空调") == [1]
    assert match("code", "Zc") == [1, 4]
    assert match("code", "c-") == [1, 4]
    assert match("code", "ab") == []
    db.execute("INSERT INTO card_bi(card_bi) VALUES ('integrity-check')")


@sqlite_only
def test_missing_bigram_triggers_are_recreated_and_the_index_refilled(school):
    from houqin.core.search_index import repair_trigram_indexes

    entity = registry[Student]
    base = Student.objects.filter(school=school, student_no__startswith="BG")
    _students(school, [("BG001", "欧阳娜娜", search_keys("欧阳娜娜"))])
    with connection.cursor() as cursor:
        for name in ("ai", "ad", "au"):
            cursor.execute(f'DROP TRIGGER IF EXISTS "org_student_fts_bi_{name}"')
        cursor.execute("INSERT INTO org_student_fts_bi(org_student_fts_bi) VALUES ('delete-all')")
    _students(school, [("BG002", "娜娜", search_keys("娜娜"))])  # written while the triggers were missing
    assert repair_trigram_indexes() == ["org_student_fts_bi"]
    assert _found(entity, base, "娜娜", index=True)[0] == sorted(base.values_list("pk", flat=True))
    assert _found(entity, base, "阳娜", index=True)[0] == list(base.filter(student_no="BG001").values_list("pk", flat=True))
    assert repair_trigram_indexes() == []  # nothing missing: nothing done
    assert set(repair_trigram_indexes(force=True)) >= {"org_student_fts", "org_student_fts_bi", "assets_asset_fts_bi"}
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO org_student_fts_bi(org_student_fts_bi) VALUES ('integrity-check')")


@sqlite_only
def test_a_term_found_in_a_large_share_of_the_table_searches_as_before(school, monkeypatch):
    entity = registry[Student]
    _students(school, [(f"BG{i:03d}", f"张{i}伟", "") for i in range(30)])
    base = Student.objects.filter(school=school, student_no__startswith="BG")
    monkeypatch.setattr(search_index, "DENSE_MIN", 10)
    monkeypatch.setattr(search_index, "DENSE_SHARE", 10_000)
    pks, sql = _found(entity, base, "bg", index=True)  # every BG row: more than 10 candidates
    assert "json_each" not in sql.splitlines()[-1] and len(pks) == 30  # the page's query scans
    pks, sql = _found(entity, base, "张1", index=True)  # 张1伟, 张10伟 … 张19伟: 11
    assert "json_each" not in sql.splitlines()[-1] and len(pks) == 11
    pks, sql = _found(entity, base, "张2", index=True)  # 张2伟, 张20伟 … 张29伟: 11
    assert len(pks) == 11
    pks, sql = _found(entity, base, "5伟", index=True)  # 张5伟, 张15伟, 张25伟: 3
    # The index's candidates; one bigram is one token's entries, read again as the index query itself
    # (search_index._one_token), not as the JSON array of its ids.
    assert "_bi\" MATCH" in sql.splitlines()[-1] and "json_each" not in sql.splitlines()[-1] and len(pks) == 3
    pks, sql = _found(entity, base, "张5伟", index=True)  # a trigram term of three characters: one token too
    assert "MATCH" in sql.splitlines()[-1] and "json_each" not in sql.splitlines()[-1] and len(pks) == 1
    pks, sql = _found(entity, base, "BG005", index=True)  # three trigrams: their ids as a JSON array
    assert "json_each" in sql.splitlines()[-1] and len(pks) == 1


def test_other_databases_search_as_before(school):
    """PostgreSQL (and SQLite without the tables) get no candidates: the plain search, same rows."""
    entity = registry[Student]
    _students(school, [("BG001", "张伟", search_keys("张伟")), ("BG002", "王芳", search_keys("王芳"))])
    base = Student.objects.filter(school=school, student_no__startswith="BG")
    assert _found(entity, base, "张伟", index=True)[0] == _found(entity, base, "张伟", index=False)[0]
    assert len(_found(entity, base, "zw", index=True)[0]) == 1
    if connection.vendor != "sqlite":
        assert search_index.candidates(entity, connection.alias, "张伟", None) is None
