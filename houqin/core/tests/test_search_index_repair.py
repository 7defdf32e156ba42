"""The trigram search indexes survive a migration that rebuilds their table (SQLite drops the old table's
triggers with it): post_migrate puts the triggers back and refills the index."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from houqin.core.search_index import repair_trigram_indexes

pytestmark = pytest.mark.django_db


def _triggers(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5 trigram indexes are SQLite's")
def test_card_search_finds_a_new_card_by_a_three_character_fragment(client, personas, school):
    from houqin.assets.services import cards
    from houqin.assets.tests.factories import _category

    assert {"assets_asset_fts_ai", "assets_asset_fts_ad", "assets_asset_fts_au"} <= _triggers("assets_asset")
    card = cards.asset_create(school=school, actor=personas["asset_keeper"], data={
        "name": "屋面防水改造", "category": _category(), "original_value": Decimal("5000"), "quantity": 1,
        "acquired_on": datetime.date(2026, 11, 1)})
    client.force_login(personas["asset_keeper"])
    assert card.code in client.get("/assets/cards/", {"q": "防水改造"}).content.decode()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5 trigram indexes are SQLite's")
def test_missing_triggers_are_recreated_and_the_index_refilled(client, personas, school):
    from houqin.org.models import Student

    student = Student.objects.filter(school=school).order_by("pk").first()
    with connection.cursor() as cursor:
        for name in ("org_student_fts_ai", "org_student_fts_ad", "org_student_fts_au"):
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        cursor.execute("INSERT INTO org_student_fts(org_student_fts) VALUES ('delete-all')")  # contentless: emptied so
    assert "org_student_fts" in repair_trigram_indexes()
    assert {"org_student_fts_ai", "org_student_fts_ad", "org_student_fts_au"} <= _triggers("org_student")
    with connection.cursor() as cursor:
        # Its rows as the index holds them (contentless, columnsize=0: the table itself cannot be scanned).
        cursor.execute("CREATE VIRTUAL TABLE temp.houqin_test_repaired USING fts5vocab(main, 'org_student_fts', 'instance')")
        cursor.execute("SELECT count(DISTINCT doc) FROM temp.houqin_test_repaired")
        assert cursor.fetchone()[0] == Student.objects.count()
        cursor.execute("DROP TABLE temp.houqin_test_repaired")
    assert repair_trigram_indexes() == []  # nothing missing: nothing done
    client.force_login(personas["logistics_director"])
    assert student.name in client.get("/org/students/", {"q": student.student_no[-4:] if len(student.student_no) >= 4
                                                               else student.name}).content.decode()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5 trigram indexes are SQLite's")
def test_the_contentless_trigram_index_follows_a_row_changed_and_deleted(school):
    """The index keeps no texts (content=''): its update and delete triggers hand FTS5 the old row's texts, so
    a changed name is no longer found by its old fragment, and a deleted row leaves nothing behind."""
    from houqin.org.models import SchoolClass, Student

    def found(term):
        with connection.cursor() as cursor:
            cursor.execute("SELECT rowid FROM org_student_fts WHERE org_student_fts MATCH %s", [f'name : "{term}"'])
            return {row[0] for row in cursor.fetchall()}

    def entries(pk):
        with connection.cursor() as cursor:
            cursor.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.houqin_test_trigrams "
                           "USING fts5vocab(main, 'org_student_fts', 'instance')")
            cursor.execute("SELECT count(*) FROM temp.houqin_test_trigrams WHERE doc = %s", [pk])
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'org_student_fts'")
        assert "content=''" in cursor.fetchone()[0]
    cls = SchoolClass.objects.filter(school=school).order_by("pk").first()
    student = Student.objects.create(school=school, school_class=cls, student_no="CL0001", name="欧阳钢琴家",
                                     gender="F", search_keys="oygqj")
    assert found("钢琴家") == {student.pk} and entries(student.pk) > 0
    student.name = "欧阳小提琴"
    student.save()
    assert found("钢琴家") == set() and found("小提琴") == {student.pk}
    student.save()  # nothing searched changed: the index is left as it is (the trigger's WHEN)
    assert found("小提琴") == {student.pk}
    pk = student.pk
    Student.objects.filter(pk=pk).delete()
    assert found("小提琴") == set() and entries(pk) == 0
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO org_student_fts(org_student_fts) VALUES ('integrity-check')")
