"""A large import makes its new rows' search-index entries before its write transaction, under keys reserved for
the rows (``bulk.index_ahead``, issue 5: the write held the lock 1.2 s of 5 s for them). The index is then what
the per-row triggers would have made, whatever happens between: another user's new row, a refused write, rows
changed before the write. Until the rows are committed their entries are never shown by a search."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from houqin.core import bulk, importing, search_index
from houqin.core.entities import registry
from houqin.core.importing import run_import
from houqin.core.tests.test_import_speed_paths import (
    ROWS,
    _index_entries,
    _temp_tables,
    _trigram_entries,
    _trigrams_of,
    _xlsx,
)
from houqin.org.models import SchoolClass, Student

pytestmark = [pytest.mark.skipif(connection.vendor != "sqlite", reason="the index made ahead is SQLite's"),
              pytest.mark.django_db(transaction=True)]


def _sequence():
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'org_student'")
        (seq,) = cursor.fetchone()
        cursor.execute("SELECT coalesce(max(id), 0) FROM org_student")
        return max(seq, cursor.fetchone()[0])


def _bigram_entries(first, last):
    """The student bigram index's entries of rows ``first``..``last`` (``_index_entries``), None without the index."""
    if not search_index.index_exists("default", "org_student_fts_bi"):
        return None
    return _index_entries("org_student_fts_bi", first, last)


def _bigrams_of(rows):
    """What the bigram index holds for ``rows`` of ``(rowid, student_no, name, search_keys)`` (its own SQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'org_student_fts_bi_ai'")
        (trigger,) = cursor.fetchone()
    values = trigger[trigger.index("VALUES (") + len("VALUES ("):trigger.rindex(");")]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS temp.houqin_test_expected_bv")
        cursor.execute("DROP TABLE IF EXISTS temp.houqin_test_expected_b")
        cursor.execute("DROP TABLE IF EXISTS temp.houqin_test_rows")
        cursor.execute("CREATE TEMP TABLE houqin_test_rows (id, student_no, name, search_keys)")
        cursor.executemany("INSERT INTO temp.houqin_test_rows VALUES (%s, %s, %s, %s)", [tuple(r) for r in rows])
        cursor.execute("CREATE VIRTUAL TABLE temp.houqin_test_expected_b USING fts5(student_no, name, search_keys, "
                       "tokenize='ascii', content='', detail='column')")
        cursor.execute("INSERT INTO temp.houqin_test_expected_b(rowid, student_no, name, search_keys) "  # noqa: S608
                       f"SELECT {values.replace('new.', 'new_row.')} FROM temp.houqin_test_rows AS new_row")
        cursor.execute("CREATE VIRTUAL TABLE temp.houqin_test_expected_bv "
                       "USING fts5vocab(temp, 'houqin_test_expected_b', 'instance')")
        cursor.execute('SELECT doc, col, "offset", term FROM temp.houqin_test_expected_bv '
                       'ORDER BY doc, col, "offset", term')
        return cursor.fetchall()


def _rows(prefix="Q"):
    return [(r["id"], r["student_no"], r["name"], r["search_keys"]) for r in
            Student.objects.filter(student_no__startswith=prefix).order_by("pk").values(
                "id", "student_no", "name", "search_keys")]


def _integrity():
    with connection.cursor() as cursor:
        for table in ("org_student_fts", "org_student_fts_bi"):
            if search_index.index_exists("default", table):
                cursor.execute(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 0)")  # noqa: S608


def _import(school, personas, source=None):
    timings = {}
    result = run_import(registry[Student], source or _xlsx(school, ROWS), actor=personas["logistics_director"],
                        school=school, commit=True, timings=timings)
    return result, timings


def _around_index_ahead(monkeypatch, after):
    """Run ``after(new)`` right after ``index_ahead`` made the entries (between its transaction and the write's)."""
    made = []

    def wrapped(model, objs, *args, **kwargs):
        made.append(bulk.index_ahead(model, objs, *args, **kwargs))
        after(objs)
        return made[-1]

    monkeypatch.setattr(importing, "index_ahead", wrapped)
    return made


def test_the_entries_are_made_before_the_write_under_the_keys_the_rows_then_take(school, personas):
    before = _sequence()
    with CaptureQueriesContext(connection) as captured:
        result, timings = _import(school, personas)
    assert result.ok and result.created == ROWS, result.problems[:3]
    sqls = [q["sql"] for q in captured.captured_queries]
    ahead = next(i for i, s in enumerate(sqls) if s.startswith("INSERT INTO org_student_fts(rowid"))
    rows_at = next(i for i, s in enumerate(sqls) if s.startswith('INSERT INTO "org_student" ("id", '))
    assert ahead < rows_at and "index" in timings and timings["index"] > 0
    # No trigger fills the index in the write: the trigram statement comes once, before it.
    assert sum(s.startswith("INSERT INTO org_student_fts(rowid") for s in sqls) == 1
    rows = _rows()
    assert [r[0] for r in rows] == list(range(before + 1, before + ROWS + 1))
    assert _trigram_entries(before + 1) == _trigrams_of(rows)
    bigrams = _bigram_entries(before + 1, before + ROWS)
    assert bigrams is None or bigrams == _bigrams_of(rows)
    _integrity()
    assert _temp_tables() == []
    # The index follows the rows afterwards as ever: a rename and a deletion leave no stale entry.
    first = Student.objects.get(pk=before + 1)
    first.name = "改名同学"
    first.save()
    Student.objects.filter(pk=before + 2).delete()
    rows = _rows()
    assert _trigram_entries(before + 1) == _trigrams_of(rows)
    assert bigrams is None or _bigram_entries(before + 1, before + ROWS) == _bigrams_of(rows)
    _integrity()


def test_another_users_row_between_the_two_transactions_takes_a_key_after_the_reserved_ones(school, personas,
                                                                                            monkeypatch):
    cls = SchoolClass.objects.filter(school=school).order_by("pk").first()
    others = []

    def another_user(_objs):
        others.append(Student.objects.create(school=school, school_class=cls, student_no="Z000001",
                                             name="插队同学", gender="M"))

    before = _sequence()
    made = _around_index_ahead(monkeypatch, another_user)
    result, _timings = _import(school, personas)
    assert made == [True] and result.ok and result.created == ROWS
    assert others[0].pk == before + ROWS + 1
    assert [r[0] for r in _rows()] == list(range(before + 1, before + ROWS + 1))
    every = _rows("Q") + _rows("Z")
    assert _trigram_entries(before + 1) == _trigrams_of(every)
    bigrams = _bigram_entries(before + 1, before + ROWS + 1)
    assert bigrams is None or bigrams == _bigrams_of(every)
    _integrity()


def test_a_refused_write_takes_the_entries_out_again_and_leaves_the_keys_unused(school, personas, monkeypatch):
    cls = SchoolClass.objects.filter(school=school).order_by("pk").first()

    def same_number_meanwhile(_objs):
        # Another user registers one of the file's student numbers after it was checked: the write is refused.
        Student.objects.create(school=school, school_class=cls, student_no="Q000007", name="先到同学", gender="M")

    before = _sequence()
    made = _around_index_ahead(monkeypatch, same_number_meanwhile)
    result, _timings = _import(school, personas)
    assert made == [True] and not result.ok and "冲突" in result.problems[0].message
    assert list(Student.objects.filter(student_no__startswith="Q").values_list("student_no", flat=True)) == ["Q000007"]
    early = Student.objects.get(student_no="Q000007")
    # The reserved keys hold no entry; the early row's entries are its own and whole.
    assert _trigram_entries(before + 1, before + ROWS) == []
    assert _trigram_entries(early.pk) == _trigrams_of(_rows())
    assert _bigram_entries(before + 1, before + ROWS) in (None, [])
    _integrity()
    assert early.pk == before + ROWS + 1  # the reserved keys stay unused
    # The same file, the early row gone, imports and is indexed as usual.
    early.delete()
    monkeypatch.undo()
    again, _timings = _import(school, personas)
    assert again.ok and again.created == ROWS
    assert _trigram_entries(before + 1) == _trigrams_of(_rows())
    _integrity()


def test_rows_changed_after_the_entries_were_made_are_indexed_as_written(school, personas, monkeypatch):
    def change_one(objs):
        objs[5].name = "改了名字"  # after prepare_insert: the write no longer uses what was prepared

    before = _sequence()
    made = _around_index_ahead(monkeypatch, change_one)
    result, _timings = _import(school, personas)
    assert made == [True] and result.ok and result.created == ROWS
    rows = _rows()
    assert [r[0] for r in rows] == list(range(before + ROWS + 1, before + 2 * ROWS + 1))
    assert rows[5][2] == "改了名字"
    assert _trigram_entries(before + 1) == _trigrams_of(rows)
    bigrams = _bigram_entries(before + 1, before + 2 * ROWS)
    assert bigrams is None or bigrams == _bigrams_of(rows)
    _integrity()


def test_a_search_between_the_two_transactions_shows_only_rows_that_exist(school, personas, monkeypatch):
    client = Client()
    client.force_login(personas["logistics_director"])
    seen = {}

    def search(_objs):
        for term in ("王小明", "Zhang Wei", "xiaoming"):
            page = client.get(reverse("org:student_list"), {"q": term})
            api = client.get("/api/org/students/", {"q": term})
            seen[term] = (page.status_code, page.context["page"].paginator.count,
                          api.status_code, api.json()["count"])

    expected = {term: Student.objects.filter(name__icontains=term).count() for term in ("王小明", "Zhang Wei")}
    made = _around_index_ahead(monkeypatch, search)
    result, _timings = _import(school, personas)
    assert made == [True] and result.ok
    assert seen["王小明"] == (200, expected["王小明"], 200, expected["王小明"])
    assert seen["Zhang Wei"] == (200, expected["Zhang Wei"], 200, expected["Zhang Wei"])
    assert seen["xiaoming"][0] == seen["xiaoming"][2] == 200
    # Afterwards the imported rows are found.
    page = client.get(reverse("org:student_list"), {"q": "王小明"})
    assert page.context["page"].paginator.count == Student.objects.filter(name__icontains="王小明").count() > expected["王小明"]
