"""What keeps the student list fast at 100k rows changes nothing users see (issue 3, Performance):
the trigram search index finds exactly what the plain search finds, the bounded count is truthful."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from houqin.core import search_index
from houqin.core.entities import registry
from houqin.core.pinyin import search_keys
from houqin.org.models import Student
from houqin.org.tests.factories import StudentFactory

CORPUS = [
    ("张伟", "X000001"), ("张三", "X000002"), ("章子怡", "X000003"), ("王芳", "X000004"), ("欧阳娜娜", "X000005"),
    ("Zhang Wei", "X000006"), ("ZHANGSAN", "X000007"), ("李'; DROP TABLE org_student;--", "X000008"),
    ("100% 真实", "X000009"), ("下_划线", "X000010"), ("<script>alert(1)</script>", "X000011"),
    ('引"号', "X000012"), ("O'Brien", "X000013"), ("阿卜杜·热合曼", "X000014"), ("Ａｂｃ全角", "X000015"),
    ("曾小贤", "X000016"), ("单田芳", "X000017"), ("Émile", "X000018"), ("MATCH NEAR OR", "X000019"),
    ("{name} : x", "X000020"), ("*", "X000021"), ("张伟伟", "ABC-7"),
]

QUERIES = [
    "zhang", "Zhang", "ZHANG", "zhangwei", "Zhang Wei", "zw", "zs", "张", "张伟", "张伟伟", "章子怡", "X0000",
    "x000001", "000", "00", "'; DROP", "DROP TABLE", "%", "100%", "_", "下_划", "<script>", "alert(1)",
    '"', '引"号', "O'Brien", "brien", "热合曼", "·", "ａｂｃ", "abc", "Ａｂｃ", "zeng", "ceng", "shantianfang",
    "émile", "ÉMILE", "MATCH", "NEAR", "OR", "{name}", "name} :", "*", "AND NOT", "wang fang", "wangf", "oyn",
    "ouyang", "a" * 60, "  zhang  ", "abc-7", "C-7",
]


@pytest.fixture
def corpus(school):
    made = [StudentFactory(school=school, name=name, student_no=no, search_keys=search_keys(name))
            for name, no in CORPUS]
    # Enough rows for three pages.
    Student.objects.bulk_create([Student(school=school, school_class=made[0].school_class, student_no=f"F{i:05d}",
                                         name=f"填充{i}", gender="F") for i in range(120)])
    return made


def _found(entity, school, query, *, index: bool):
    base = Student.objects.filter(school=school)
    original = entity.search_index
    type(entity).search_index = original if index else None
    try:
        with CaptureQueriesContext(connection) as ctx:
            found = sorted(entity.filterset_class({"q": query}, queryset=base).qs.values_list("pk", flat=True))
    finally:
        type(entity).search_index = original
    used = any("MATCH" in q["sql"] for q in ctx.captured_queries)
    return found, used


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the trigram index is SQLite's")
def test_trigram_search_finds_exactly_what_like_finds(school, corpus):
    entity = registry[Student]
    search_index.forget()
    assert search_index.index_exists(connection.alias, entity.search_index)
    used_for = []
    for query in QUERIES:
        with_index, used = _found(entity, school, query, index=True)
        without, _ = _found(entity, school, query, index=False)
        assert with_index == without, query
        if used:
            used_for.append(query)
    # Three characters or more through the trigram index, two through the bigram index (names of two
    # characters, pinyin initials); one character searches as before.
    assert "zhang" in used_for and "章子怡" in used_for and "'; DROP" in used_for
    assert "zs" in used_for and "张伟" in used_for and "张" not in used_for
    names = set(Student.objects.filter(pk__in=_found(entity, school, "zhang", index=True)[0])
                .values_list("name", flat=True))
    assert {"张伟", "张三", "章子怡", "Zhang Wei", "ZHANGSAN", "张伟伟"} <= names


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the trigram index is SQLite's")
def test_trigram_index_follows_inserts_updates_and_deletes(school, corpus):
    entity = registry[Student]
    someone = Student.objects.get(school=school, student_no="X000004")
    assert _found(entity, school, "wangfang", index=True)[0] == [someone.pk]
    someone.name = "王小芳"
    someone.search_keys = "wangxiaofang wxf"
    someone.save()
    assert _found(entity, school, "wangfang", index=True)[0] == []
    assert _found(entity, school, "xiaofang", index=True)[0] == [someone.pk]
    Student.objects.filter(pk=someone.pk).update(student_no="Y999")
    assert _found(entity, school, "Y999", index=True)[0] == [someone.pk]
    someone.delete()
    assert _found(entity, school, "xiaofang", index=True)[0] == []
    Student.objects.bulk_create([Student(school=school, school_class=corpus[0].school_class, student_no="B1",
                                         name="包大人", gender="M", search_keys="baodaren bdr")])
    assert len(_found(entity, school, "baodaren", index=True)[0]) == 1


def test_list_count_is_bounded_and_truthful(client, personas, school, corpus, settings):
    settings.HOUQIN_LIST_COUNT_CAP = 5
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")
    # A filtered list (the plain list's total is kept by triggers: test_plain_list_total_is_exact_without_counting).
    girls = {"gender": "F"}
    total = registry[Student].queryset(personas["logistics_director"]).filter(gender="F").count()
    assert total > 120
    page = client.get(url, girls).context["page"]
    # Counted up to the rows of the page asked for (50 > the cap of 5) plus one: "more than 50".
    assert not page.exact and page.paginator.count == 50 and page.has_next() and page.paginator.num_pages == 2
    assert len(page.object_list) == 50
    page = client.get(url, {**girls, "page": 2}).context["page"]
    if connection.vendor == "sqlite":
        # Beyond the cap SQLite counts every row (one plain COUNT(*), cheaper than counting a LIMIT
        # subquery): the pager is exact there.
        assert page.exact and page.paginator.count == total and page.has_next()
    else:
        assert not page.exact and page.paginator.count == 100 and page.has_next()
    assert len(page.object_list) == 50
    # A page asked for beyond the cap counts up to its own rows: the last page is exact.
    last = (total + 49) // 50
    page = client.get(url, {**girls, "page": last}).context["page"]
    assert page.exact and page.paginator.count == total and page.number == last and not page.has_next()
    # A small result is counted exactly.
    page = client.get(url, {"q": "X00000"}).context["page"]
    assert page.exact and page.paginator.count == 9
    html = client.get(url, {"q": "X00000"}).content.decode()
    assert 'data-testid="row-count"' in html and "9" in html


def test_plain_list_total_is_exact_without_counting(client, personas, school, corpus, settings):
    """The school's whole list: its total comes from core_rowcount (SQLite triggers), exact at any cap."""
    settings.HOUQIN_LIST_COUNT_CAP = 5
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")
    total = registry[Student].queryset(personas["logistics_director"]).count()
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url).context["page"]
    counted = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    if connection.vendor == "sqlite":
        assert page.exact and page.paginator.count == total and not counted
    else:
        assert not page.exact and page.paginator.count == 50 and counted
    assert client.get("/api/org/students/").json()["count"] == (total if connection.vendor == "sqlite" else 50)


def test_api_count_is_bounded_and_says_so(client, personas, school, corpus, settings):
    settings.HOUQIN_LIST_COUNT_CAP = 5
    client.force_login(personas["logistics_director"])
    total = registry[Student].queryset(personas["logistics_director"]).filter(gender="F").count()
    data = client.get("/api/org/students/", {"gender": "F"}).json()
    assert data["count"] == 50 and data["count_exact"] is False and data["next"] and len(data["results"]) == 50
    data = client.get("/api/org/students/", {"gender": "F", "page": "last"}).json()
    assert data["count"] == total and data["count_exact"] is True and data["next"] is None
    data = client.get("/api/org/students/", {"q": "X00000"}).json()
    assert data["count"] == 9 and data["count_exact"] is True
    assert client.get("/api/org/students/", {"page": 10**6}).status_code == 404


def test_boolean_filter_still_filters_both_ways(client, personas, school):
    client.force_login(personas["logistics_director"])
    user = personas["logistics_director"]
    visible = registry[Student].queryset(user)
    for value, expected in (("true", True), ("false", False)):
        data = client.get("/api/org/students/", {"is_boarder": value}).json()
        assert data["count"] == visible.filter(is_boarder=expected).count()
        assert {row["is_boarder"] for row in data["results"]} <= {expected}
