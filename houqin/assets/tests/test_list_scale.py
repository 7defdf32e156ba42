"""What keeps the asset lists fast at 100k cards and 1M journal rows changes nothing users see:
the card search through the trigram index (assets.0003) finds exactly what the plain search finds,
and a card's journal is read through its own index (bench/assets.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from houqin.assets.models import Asset, AssetMovement
from houqin.assets.tests.factories import AssetFactory
from houqin.core import search_index
from houqin.core.entities import registry

NAMES = [
    ("投影仪", "QX20190001", "EB-X05"), ("台式计算机", "QX20190002", "启天M437"), ("钢琴", "QX2015Q001", "珠江 UP118"),
    ("'; DROP TABLE assets_asset;--", "QX20190003", "x"), ("<script>alert(1)</script>", "QX20190004", "y"),
    ("100% 纯铜", "QX20190005", "下_划线"), ('引"号', "OLD-9999", "MATCH NEAR OR"), ("Projector", "QX-ABC-7", "{name} : x"),
]
QUERIES = ["投影仪", "投影", "QX2019", "qx2019", "2019000", "0001", "钢琴", "UP118", "'; DROP", "DROP TABLE", "<script>",
           "100%", "_", "下_划", '"', "MATCH", "NEAR", "{name}", "proj", "PROJECTOR", "touying", "tyy", "ABC-7", "*"]


@pytest.fixture
def cards(school):
    return [AssetFactory(name=name, code=code, spec=spec) for name, code, spec in NAMES]


def _found(entity, school, query, *, index: bool):
    original = entity.search_index
    type(entity).search_index = original if index else None
    try:
        # The index is read while filtering; the page's queries then read its ids (json_each).
        with CaptureQueriesContext(connection) as ctx:
            qs = entity.filterset_class({"q": query}, queryset=Asset.objects.filter(school=school)).qs
            pks = sorted(qs.values_list("pk", flat=True))
        return pks, "\n".join([q["sql"] for q in ctx.captured_queries] + [str(qs.query)])
    finally:
        type(entity).search_index = original


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the trigram index is SQLite's")
def test_card_search_through_the_index_finds_exactly_what_like_finds(school, cards):
    entity = registry[Asset]
    search_index.forget()
    assert search_index.index_exists(connection.alias, entity.search_index)
    used = []
    for query in QUERIES:
        with_index, sql = _found(entity, school, query, index=True)
        without, _ = _found(entity, school, query, index=False)
        assert with_index == without, query
        if "MATCH" in sql:
            used.append(query)
    assert "QX2019" in used and "投影仪" in used and "'; DROP" in used
    assert "钢琴" in used and "投影" in used and "_" not in used  # two characters: the bigram index
    assert len(_found(entity, school, "QX2019", index=True)[0]) == 5


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the query plan is SQLite's")
def test_a_cards_journal_uses_its_own_index(school, cards):
    card = cards[0]
    qs = AssetMovement.objects.filter(asset=card).order_by("-id")
    with connection.cursor() as cursor:
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "assets_movement_asset" in plan, plan


PARTIAL = {"assets_movement_item": "item_id", "assets_movement_room_before": "room_before_id",
           "assets_movement_dept_before": "department_before_id", "assets_movement_keeper_before": "custodian_before_id",
           "assets_movement_reversal_of": "reversal_of_id"}


def _index_sql(name: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
        else:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else ""


@pytest.mark.django_db
def test_journal_indexes_of_mostly_empty_columns_hold_only_rows_that_have_them():
    """assets.0008: an opening or a card's row (no state before, no item, not a reversal) adds no entry to them."""
    for name, column in PARTIAL.items():
        sql = _index_sql(name).replace('"', "").lower()
        assert f"where {column} is not null" in sql or f"where ({column} is not null)" in sql, (name, sql)
    for single in ("assets_assetmovement_room_before_id_70037080", "assets_assetmovement_reversal_of_id_483488e4"):
        assert _index_sql(single) == ""  # the full single-column indexes are gone


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the query plan and triggers are SQLite's")
def test_lookups_by_those_columns_still_use_their_partial_index(school, cards):
    from houqin.core import bulk

    room = cards[0].room
    reversed_row = AssetMovement.objects.filter(asset=cards[0]).first()
    lookups = {"assets_movement_item": {"item_id": 1}, "assets_movement_room_before": {"room_before": room},
               "assets_movement_reversal_of": {"reversal_of": reversed_row},
               "assets_movement_keeper_before": {"custodian_before_id": 1},
               "assets_movement_dept_before": {"department_before_id__in": [1]}}  # what a PROTECT check asks
    with connection.cursor() as cursor:
        for index, lookup in lookups.items():
            sql, params = AssetMovement.objects.filter(**lookup).order_by().query.sql_with_params()
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert index in plan, (lookup, plan)
    # The migration changed indexes only: the journal's row-count triggers are still there.
    assert bulk.count_triggers(connection, AssetMovement._meta.db_table)
