"""When the search index finds exactly the rows the plain ``LIKE`` search finds, the list skips the ``LIKE``
conditions (core.search_index.exact_parts): this holds only if no character folds, in FTS5's trigram
tokenizer, onto a character the rule calls exact. Checked here against every character with the SQLite
the tests run on, and end to end on students."""

import sqlite3

import pytest
from django.db import connection

from houqin.core import search_index
from houqin.core.entities import registry
from houqin.core.search_index import _exact_char, candidate_sql
from houqin.org.models import Student

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 search indexes are SQLite's")


def _trigram_folds() -> dict[str, str]:
    """{character: what FTS5's trigram tokenizer folds it to} for every character it changes."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
        db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        chars = (chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000)
        db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", ((ord(c), c * 3) for c in chars))
        # Each row is one character three times: its only token is that character folded, three times.
        return {chr(doc): term[0] for doc, term in db.execute("SELECT doc, term FROM v") if term[0] != chr(doc)}
    finally:
        db.close()


def test_no_character_folds_onto_one_the_exact_rule_trusts():
    folds = _trigram_folds()
    assert folds, "the trigram tokenizer folds case: it must change some characters"
    # Only ASCII case may make two characters equal for both LIKE and the index.
    trusted = {c: f for c, f in folds.items() if _exact_char(f)}
    assert trusted == {}
    # The known cases the rule names, where this SQLite folds them (documented in search_index).
    for c, f in (("\u212a", "k"), ("\u017f", "s")):
        if c in folds:
            assert folds[c] == f and not _exact_char(f)


def test_exact_terms():
    assert candidate_sql("t", ("name", "search_keys"), "zhang", "zhang")[2] is True
    assert candidate_sql("t", ("name", "search_keys"), "计算机", None)[2] is True
    assert candidate_sql("t", ("name", "search_keys"), "钢琴", None)[2] is True  # bigrams: lower() is ASCII only
    assert candidate_sql("t", ("name", "search_keys"), "ke", "ke")[2] is True
    for inexact in ("kan", "sun", "lin", "Élan", "ÅBC", "ａｂｃ"):
        assert candidate_sql("t", ("name", "search_keys"), inexact, inexact.lower())[2] is False, inexact


def test_pinyin_keys_share_the_plain_columns_part_when_read_alike():
    sql, params, _ = candidate_sql("t", ("student_no", "name", "search_keys"), "Zhang", "zhang")
    assert params == ['{student_no name search_keys} : "Zhang"']
    sql, params, _ = candidate_sql("t", ("student_no", "name", "search_keys"), "Zhang San", "zhangsan")
    assert params == ['{student_no name} : "Zhang San" OR {search_keys} : "zhangsan"']


@sqlite_only
@pytest.mark.django_db
def test_an_exact_search_skips_like_and_an_inexact_one_keeps_it(school):
    klass = school.schoolclass_set.filter(status="active").order_by("pk").first()
    Student.objects.bulk_create([
        Student(school=school, school_class=klass, student_no="EX01", name="张三", gender="M", search_keys="zhangsan zs"),
        Student(school=school, school_class=klass, student_no="EX02", name="\u212a\u212a\u212a", gender="M",
                search_keys=""),
        Student(school=school, school_class=klass, student_no="EX03", name="kkk", gender="M", search_keys=""),
    ])
    entity = registry[Student]
    search_index.forget()
    base = Student.objects.filter(school=school, student_no__in=["EX01", "EX02", "EX03"])
    for query, expected, like in (("zhang", ["EX01"], False), ("张三", ["EX01"], False),
                                  ("kkk", ["EX03"], True), ("KKK", ["EX03"], True)):
        qs = entity.filterset_class({"q": query}, queryset=base).qs
        assert sorted(qs.values_list("student_no", flat=True)) == expected, query
        assert ("LIKE" in str(qs.query)) is like, query
