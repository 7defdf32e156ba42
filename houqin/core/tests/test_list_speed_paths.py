"""The list page's fast paths give what the plain paths give: rows loaded without Model.__init__
(core.fastload), the bounded count and its "count all", the list settings read once per change
(core.authcache.list_settings), filter forms copied lightly, the filter block rendered in Python."""

import copy
import json

import pytest
from django.db import connection, models
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.urls import reverse

from houqin.core import authcache, fastload, views_entity
from houqin.core.builders import light_copy
from houqin.core.entities import registry
from houqin.core.models import ListPreference, SavedFilter
from houqin.org.models import Room, Student
from houqin.org.tests.factories import RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stamp_rows():
    """A transactional test before this one may have flushed the table: put the rows back."""
    authcache.forget()
    with connection.cursor() as cursor:
        for stamp in (authcache.RIGHTS, authcache.LISTS):
            cursor.execute("SELECT count(*) FROM core_authstamp WHERE id = %s", [stamp])
            if cursor.fetchone()[0] == 0:
                cursor.execute("INSERT INTO core_authstamp (id, value) VALUES (%s, 'fixture')", [stamp])
    yield
    authcache.forget()


# core.fastload ----------------------------------------------------------------------------------------------------


def _slow(model, db, names, values):
    return fastload._DJANGO_FROM_DB(model, db, names, values)


def _same(a, b):
    da = {k: v for k, v in a.__dict__.items() if k != "_state"}
    db_ = {k: v for k, v in b.__dict__.items() if k != "_state"}
    assert da == db_
    assert (a._state.adding, a._state.db) == (b._state.adding, b._state.db) == (False, "default")


def test_every_houqin_model_loads_fast():
    from django.apps import apps

    ours = [m for m in apps.get_models() if m.__module__.startswith("houqin.")]
    assert ours and all(m.from_db.__func__ is fastload.fast_from_db for m in ours)


def test_a_fast_row_equals_a_django_row_full_deferred_and_joined(school):
    room = RoomFactory(school=school)
    fast = Room.objects.get(pk=room.pk)
    names = [f.attname for f in Room._meta.concrete_fields]
    _same(fast, _slow(Room, "default", names, [getattr(room, n) for n in names]))
    # Deferred fields stay unloaded and load on access, as with Model.__init__.
    partial = Room.objects.only("code").get(pk=room.pk)
    assert "name" not in partial.__dict__ and partial.get_deferred_fields() >= {"name"}
    slow = _slow(Room, "default", ["id", "code"], [room.pk, room.code])
    _same(partial, slow)
    assert partial.name == room.name
    # Related rows through select_related are fast-loaded and cached on the row.
    joined = Room.objects.select_related("building", "school").get(pk=room.pk)
    with CaptureQueriesContext(connection) as ctx:
        assert joined.building.pk == room.building_id and joined.school.pk == school.pk
    assert not ctx.captured_queries
    # A loaded row is saved as an UPDATE of the same row, never a second INSERT.
    fast.name = "改名的房间"
    fast.save()
    assert Room.objects.filter(pk=room.pk).values_list("name", flat=True).get() == "改名的房间"
    assert Room.objects.filter(code=room.code, school=school).count() == 1


def test_a_post_init_receiver_gets_django_s_way(school):
    room = RoomFactory(school=school)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Room)
    try:
        Room.objects.get(pk=room.pk)
    finally:
        post_init.disconnect(receiver, sender=Room)
    assert seen == [room.pk]
    Room.objects.get(pk=room.pk)
    assert seen == [room.pk]


@isolate_apps("houqin.core")
def test_models_that_could_tell_the_difference_keep_djangos_from_db():
    class Plain(models.Model):
        name = models.CharField(max_length=10)
        document = models.FileField(blank=True)

        class Meta:
            app_label = "core"

        def __str__(self):
            return str(self.pk)

    class Photo(models.Model):
        picture = models.ImageField(width_field="w", height_field="h")
        w = models.IntegerField(null=True)
        h = models.IntegerField(null=True)

        class Meta:
            app_label = "core"

        def __str__(self):
            return str(self.pk)

    class OwnInit(models.Model):
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "core"

        def __str__(self):
            return str(self.pk)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.extra = 1

    class OwnFromDb(models.Model):
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "core"

        def __str__(self):
            return str(self.pk)

        @classmethod
        def from_db(cls, db, field_names, values):
            return super().from_db(db, field_names, values)

    assert fastload.install([Plain, Photo, OwnInit, OwnFromDb]) == [Plain]
    assert Plain.from_db.__func__ is fastload.fast_from_db
    row = Plain.from_db("default", ["id", "name", "document"], [1, "甲", "a/b.pdf"])
    assert row.name == "甲" and row.document.name == "a/b.pdf" and not row._state.adding


# Bounded count and "count all" ------------------------------------------------------------------------------------


def test_count_all_counts_every_row_on_the_page_and_the_api(client, personas, school, settings):
    settings.HOUQIN_LIST_COUNT_CAP = 5
    RoomFactory.create_batch(55, school=school)
    user = personas["logistics_director"]
    total = registry[Room].queryset(user).filter(kind=Room.Kind.OFFICE).count()
    assert total > 50  # more than a page: counted up to max(cap, the page's rows) + 1
    client.force_login(user)
    url = reverse("org:room_list")
    # A filtered list is counted up to the cap; "count all" counts it.
    html = client.get(url, {"kind": Room.Kind.OFFICE}).content.decode()
    assert 'data-testid="count-all"' in html and "count=all" in html
    page = client.get(url, {"kind": Room.Kind.OFFICE, "count": "all"}, HTTP_HX_REQUEST="true",
                      HTTP_HX_TARGET="list-table")
    assert page.context["page"].exact and page.context["page"].paginator.count == total
    assert 'data-testid="count-all"' not in page.content.decode()
    # The pager's links do not carry count=all on (the next page counts as usual).
    assert "count=all" not in page.context["query"]
    data = client.get("/api/org/rooms/", {"kind": Room.Kind.OFFICE}).json()
    assert data["count_exact"] is False
    data = client.get("/api/org/rooms/", {"kind": Room.Kind.OFFICE, "count": "all"}).json()
    assert data["count_exact"] is True and data["count"] == total


def test_the_default_cap_is_a_thousand():
    from houqin.core.paging import count_cap

    assert count_cap() == 1000


# List settings read once per change --------------------------------------------------------------------------------


def _settings_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response, [q["sql"] for q in ctx.captured_queries
                      if "core_listpreference" in q["sql"] or "core_savedfilter" in q["sql"]]


def test_columns_and_saved_filters_change_on_the_next_request(client, personas, school):
    director, other = personas["logistics_director"], personas["principal"]
    client.force_login(director)
    url = reverse("org:room_list")
    _response, queries = _settings_queries(client, url)
    assert len(queries) == 2
    _response, queries = _settings_queries(client, url)
    assert queries == []  # read from the per-process cache: the stamp did not change
    # Choosing columns (a POST) is seen at once.
    client.post(url, {"what": "columns", "columns": ["code", "name"]})
    response, queries = _settings_queries(client, url)
    assert len(queries) == 2 and [c.name for c in response.context["columns"]] == ["code", "name"]
    # A colleague's shared filter appears; a private one does not.
    SavedFilter.objects.create(school=school, owner=other, entity=registry[Room].key, name="共享的", query="q=1",
                               shared=True)
    SavedFilter.objects.create(school=school, owner=other, entity=registry[Room].key, name="私有的", query="q=2")
    html = client.get(url).content.decode()
    assert "共享的" in html and "私有的" not in html
    # A change by any path (here an UPDATE without the ORM's signals) changes the stamp.
    ListPreference.objects.filter(user=director).update(columns=["name"])
    assert [c.name for c in client.get(url).context["columns"]] == ["name"]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_savedfilter")
    assert "共享的" not in client.get(url).content.decode()


def test_without_the_stamp_row_settings_are_read_every_time(client, personas):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_authstamp WHERE id = %s", [authcache.LISTS])
    client.force_login(personas["logistics_director"])
    url = reverse("org:room_list")
    _settings_queries(client, url)
    _response, queries = _settings_queries(client, url)
    assert len(queries) == 2


# Filter forms and the filter block ----------------------------------------------------------------------------------


def test_light_copies_share_nothing_a_form_changes(personas, school):
    from django.test import RequestFactory

    entity = registry[Student]
    request = RequestFactory().get("/")
    request.user = personas["logistics_director"]
    fs1 = entity.filterset_class(None, queryset=entity.model.objects.all(), request=request)
    fs2 = entity.filterset_class(None, queryset=entity.model.objects.all(), request=request)
    for name in fs1.form.fields:
        a, b = fs1.form.fields[name], fs2.form.fields[name]
        assert a is not b and a.widget is not b.widget and a.widget.attrs is not b.widget.attrs
        assert a.widget.render(name, None) == b.widget.render(name, None)
        declared = type(fs1.form).base_fields[name]
        assert copy.deepcopy(declared).widget.render(name, "x") == light_copy(declared).widget.render(name, "x")
    first = next(iter(fs1.form.fields.values()))
    first.widget.attrs["data-x"] = "1"
    assert "data-x" not in next(iter(fs2.form.fields.values())).widget.attrs
    assert "data-x" not in next(iter(type(fs1.form).base_fields.values())).widget.attrs


def test_the_filter_block_is_the_same_cached_or_not(client, personas):
    views_entity._filter_blocks.clear()
    views_entity._widget_html.clear()
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")

    def filters(page):
        return page.split('id="list-filters"')[1].split("</form>")[0]

    first = filters(client.get(url).content.decode())
    assert views_entity._filter_blocks  # the plain list's block is kept …
    assert filters(client.get(url).content.decode()) == first  # … and served the same
    assert '<label class="form-label" for="id_q">' in first and 'name="q" value=""' in first
    # Bound: values and errors show, each next to its field.
    bound = filters(client.get(url, {"q": "<b>张</b>", "status": "suspended"}).content.decode())
    assert 'value="&lt;b&gt;张&lt;/b&gt;"' in bound and '<option value="suspended" selected>' in bound
    holidays = filters(client.get(reverse("org:holiday_list"), {"start_on_after": "not a date"}).content.decode())
    assert 'class="filter filter-range has-error" role="group"' in holidays and "invalid-feedback" in holidays
    english = filters(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert ">Search</label>" in english and english != first



def test_a_filtered_block_is_kept_per_value_and_shows_a_renamed_record(client, personas, school, monkeypatch):
    from houqin.org.tests.factories import StudentFactory

    views_entity._bound_blocks.clear()
    klass = StudentFactory(school=school).school_class
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")

    def filters(params):
        html = client.get(url, params).content.decode()
        return html.split('id="list-filters"')[1].split("</form>")[0]

    first = filters({"school_class": klass.pk, "status": "active"})
    assert len(views_entity._bound_blocks) == 1
    assert filters({"school_class": klass.pk, "status": "active"}) == first
    assert len(views_entity._bound_blocks) == 1  # served from the kept block
    # Rendered afresh, it is the same HTML.
    views_entity._bound_blocks.clear()
    assert filters({"school_class": klass.pk, "status": "active"}) == first
    # Another value, a record's new name, an error: each its own block.
    assert '<option value="suspended" selected>' in filters({"school_class": klass.pk, "status": "suspended"})
    type(klass).objects.filter(pk=klass.pk).update(name="改名后的班")
    assert 'value="改名后的班"' in filters({"school_class": klass.pk, "status": "active"})
    bad = filters({"school_class": "999999", "status": "active"})
    assert "invalid-feedback" in bad and 'value="改名后的班"' not in bad
    # The kept blocks are bounded: a full cache starts again.
    monkeypatch.setattr(views_entity, "BOUND_BLOCKS_MAX", 2)
    for term in ("甲", "乙", "丙"):
        filters({"q": term})
    assert len(views_entity._bound_blocks) <= 2


def test_a_filter_form_gets_this_request_s_school_queryset_without_sharing_it(personas, school):
    from django.test import RequestFactory

    from houqin.org.models import SchoolClass

    entity = registry[Student]
    request = RequestFactory().get("/")
    request.user = personas["logistics_director"]
    fs1 = entity.filterset_class({"school_class": "1"}, queryset=Student.objects.all(), request=request)
    fs2 = entity.filterset_class({"school_class": "1"}, queryset=Student.objects.all(), request=request)
    a, b = fs1.form.fields["school_class"], fs2.form.fields["school_class"]
    declared = type(fs1.form).base_fields["school_class"]
    assert a.queryset is not b.queryset and a.queryset is not declared.queryset
    assert a.queryset.model is SchoolClass and f'"school_id" = {school.pk}' in str(a.queryset.query)
    assert a.queryset._result_cache is None and declared.queryset._result_cache is None


def test_the_capped_count_equals_djangos(school):
    from houqin.core.paging import capped_count
    from houqin.org.tests.factories import StudentFactory

    for _ in range(5):
        StudentFactory(school=school)
    base = Student.objects.filter(school=school)
    for qs in (base, base.filter(gender="F"), base.filter(pk__in=[]), base.distinct(), base.filter(name__contains="x"),
               base.select_related("school_class").order_by("name")):
        for limit in (1, 3, 100):
            assert capped_count(qs, limit) == qs.values("pk")[:limit].count()
    assert capped_count(base.none(), 10) == 0


# Entities that link a column their own way (``link_<column>``) -------------------------------------------------------


def test_the_journal_links_its_documents_and_loads_no_row_twice(client, personas, school):
    from houqin.assets.models import AssetMovement
    from houqin.assets.tests.factories import AssetMovementFactory

    client.force_login(personas["logistics_director"])
    url = reverse("assets:assetmovement_list")

    def page_queries():
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(url).content.decode()
        return html, len(ctx.captured_queries)

    first = AssetMovementFactory()
    AssetMovement.objects.filter(pk=first.pk).update(document="调拨单 DB-1", document_url="/assets/moves/777/")
    client.get(url)
    html, few = page_queries()
    assert '<a href="/assets/moves/777/">调拨单 DB-1</a>' in html
    for _ in range(6):
        AssetMovementFactory()
    html, more = page_queries()
    assert more == few  # the cells read only what the page loaded (list_reads): no query per row
    # A journal row without a document link shows its text, and the asset column links to its card.
    assert f'href="/assets/cards/{first.asset_id}/"' in html
    entity = registry[AssetMovement]
    row = AssetMovement.objects.get(pk=first.pk)
    assert entity.link(row, "document") == "/assets/moves/777/"
    AssetMovement.objects.filter(pk=first.pk).update(document_url="")
    assert entity.link(AssetMovement.objects.get(pk=first.pk), "document") is None


def test_a_related_filter_shows_its_record_read_once(client, personas, school):
    from houqin.org.tests.factories import StudentFactory

    student = StudentFactory(school=school)
    klass = student.school_class
    client.force_login(personas["logistics_director"])
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("org:student_list"), {"school_class": klass.pk}).content.decode()
    filters = html.split('id="list-filters"')[1].split("</form>")[0]
    assert f'value="{klass.pk}" data-lazy-value' in filters and f'value="{klass}"' in filters
    reads = [q["sql"] for q in ctx.captured_queries
             if 'FROM "org_schoolclass"' in q["sql"] and "WHERE" in q["sql"] and str(klass.pk) in q["sql"]]
    assert len(reads) == 1, reads  # validating the filter read it; its name is not read again


def _a_row_of_every_entity() -> None:
    """A record of each registered entity that has none yet, where its factory makes one on its own."""
    from houqin.core.tests.test_entity_matrix import _factories

    factories = _factories()
    for entity in registry:
        make = factories.get(entity.model)
        if make is not None and not entity.model._default_manager.exists():
            try:
                make()
            except Exception:  # noqa: BLE001, S112 - a factory needing more context: the entity stays without rows
                continue


def _api_first_page(client, entity, queryset) -> tuple[list, dict]:
    """The entity's API list, first page, and the records it shows loaded whole from ``queryset``, by key."""
    url = f"/api/{entity.app_label}/{entity.url_path}/"
    response = client.get(url)
    assert response.status_code == 200, url
    results = response.json()["results"]
    return results, {o.pk: o for o in queryset.filter(pk__in=[row["id"] for row in results])}


def test_api_rows_read_straight_from_the_row_equal_drf(personas, school):
    """EntitySerializer reads plain columns and foreign-key ids from the row itself (api._reader): the
    output equals DRF's own Serializer.to_representation for every registered entity with rows."""
    from django.test import RequestFactory
    from rest_framework import serializers

    from houqin.assets.tests.factories import AssetFactory
    from houqin.org.tests.factories import StudentFactory

    AssetFactory(school=school)
    StudentFactory(school=school)
    _a_row_of_every_entity()
    request = RequestFactory().get("/api/")
    request.user = personas["logistics_director"]
    compared = 0
    for entity in registry:
        for obj in entity.model._default_manager.all()[:3]:
            ser = entity.serializer_class(obj, context={"request": request})
            ours = ser.data
            plain = serializers.Serializer.to_representation(entity.serializer_class(obj, context={"request": request}),
                                                             obj)
            computed = set(entity.computed_api_fields())  # per-user values (masked numbers) the entity gives
            assert ({k: v for k, v in ours.items() if k not in computed}
                    == {k: v for k, v in plain.items() if k not in computed}), entity.key
            compared += 1
    assert compared >= 20


def test_a_first_page_of_fewer_rows_than_a_page_is_counted_by_its_ids(client, personas, school):
    from houqin.org.tests.factories import StudentFactory

    StudentFactory.create_batch(3, school=school, name="罕见名")
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url, {"q": "罕见名"}).context["page"]
    assert page.exact and page.paginator.count == 3 and len(page.object_list) == 3
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    ids = [q for q in ctx.captured_queries if q["sql"].startswith('SELECT "org_student"."id" AS "pk"')
           or q["sql"].startswith('SELECT "org_student"."id" FROM')]
    assert len(ids) == 1  # the ids were read once, for the count and the rows
    api = client.get("/api/org/students/", {"q": "罕见名"}).json()
    assert api["count"] == 3 and api["count_exact"] is True and len(api["results"]) == 3


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the search index is SQLite's")
@pytest.mark.parametrize("json_each", [True, False])
def test_a_search_of_few_candidates_is_counted_by_its_ids_beyond_a_page(client, personas, school, monkeypatch,
                                                                        json_each):
    from houqin.core import paging, search_index
    from houqin.org.tests.factories import StudentFactory

    monkeypatch.setattr(search_index, "_has_json_each", lambda alias: json_each)
    monkeypatch.setattr(paging, "count_cap", lambda: 4)  # a page of 2, a cap of 4: 6 candidates lie beyond both
    monkeypatch.setattr(views_entity, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "FULL_READ_MAX", 8)
    StudentFactory.create_batch(6, school=school, name="候选探针")
    search_index.forget()
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url, {"q": "候选探针"}).context["page"]
    assert page.exact and page.paginator.count == 6 and len(page.object_list) == 2
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    # All the ids are read starting from the candidates, not by walking the list's order probing each row; the
    # first page's and the total in one statement (paging.DeferredJoin.first_ids_and_total): 3 ids, not 6.
    started = [q["sql"] for q in ctx.captured_queries if "CROSS JOIN" in q["sql"] and "houqin_candidates" in q["sql"]]
    assert started
    assert len(started) == 1 and "count(*) OVER ()" in started[0] and started[0].rstrip().endswith("LIMIT 3")
    if json_each:  # and not tested against the candidates a second time (_candidate_test_dropped)
        assert all(s.count("json_each") == 1 for s in started), started
    expected = list(Student.objects.filter(school=school, name="候选探针").order_by("name", "pk")
                    .values_list("pk", flat=True))
    assert [o.pk for o in page.object_list] == expected[:2]
    assert [o.pk for o in client.get(url, {"q": "候选探针", "page": 3}).context["page"].object_list] == expected[4:]
    # More candidates than FULL_READ_MAX: counted as before, up to the cap.
    monkeypatch.setattr(paging, "FULL_READ_MAX", 5)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url, {"q": "候选探针"}).context["page"]
    assert not page.exact and page.paginator.count == 4
    assert [q for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(")]


def test_the_count_reuses_the_first_page_s_sql_where_its_order_is_plain_columns(school):
    from django.db.models.functions import Lower

    from houqin.core.paging import BoundedPaginator, DeferredJoin, capped_count
    from houqin.org.tests.factories import StudentFactory

    StudentFactory.create_batch(6, school=school, name="复用探针")
    base = Student.objects.filter(school=school, name="复用探针")
    cases = ((base.order_by("name", "pk"), True), (base.order_by("-school_class__name", "pk"), True),
             (base.order_by(Lower("name"), "pk"), False), (base.order_by("pk").distinct(), False))
    for qs, reused in cases:
        join = DeferredJoin(qs)
        assert join.first_ids(3) == list(qs.values_list("pk", flat=True)[:3])
        compiled = join.count_sql(5)
        assert (compiled is not None) is reused, qs.query
        if compiled:
            assert "ORDER BY" not in compiled[0] and compiled[0].endswith(" LIMIT 5")
        assert capped_count(qs.order_by(), 5, compiled=compiled) == 5
        assert capped_count(qs.order_by(), 10, compiled=join.count_sql(10)) == 6
        paginator = BoundedPaginator(DeferredJoin(qs), 2, cap=4)
        assert (paginator.count, paginator.exact) == (4, False)
        assert [o.pk for o in paginator.page(1).object_list] == list(qs.values_list("pk", flat=True)[:2])
    assert DeferredJoin(base.filter(pk__in=[]).order_by("pk")).first_ids(3) == []


def test_the_sorted_order_prefixes_plain_column_terms_only():
    from houqin.core.paging import _sorted_order

    assert (_sorted_order('SELECT "t"."id" AS "pk" FROM "t" WHERE "t"."a" = %s ORDER BY "t"."code" ASC, 1 ASC LIMIT 51')
            == 'SELECT "t"."id" AS "pk" FROM "t" WHERE "t"."a" = %s ORDER BY +"t"."code" ASC, 1 ASC LIMIT 51')
    assert (_sorted_order('SELECT 1 FROM "t" ORDER BY "t"."d" DESC NULLS LAST, "t"."id" DESC LIMIT 5 OFFSET 10')
            == 'SELECT 1 FROM "t" ORDER BY +"t"."d" DESC NULLS LAST, +"t"."id" DESC LIMIT 5 OFFSET 10')
    assert _sorted_order('SELECT 1 FROM "t" ORDER BY LOWER("t"."n") ASC LIMIT 5') is None  # an expression
    assert _sorted_order('SELECT 1 FROM "t" ORDER BY "t"."n" = %s ASC LIMIT 5') is None  # a parameter
    assert _sorted_order('SELECT 1 FROM "t" LIMIT 5') is None


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the walk budget is SQLite's")
def test_a_first_page_that_walks_too_far_is_read_sorted_and_equal(client, personas, school, monkeypatch):
    from houqin.core import paging
    from houqin.org.tests.factories import StudentFactory

    StudentFactory.create_batch(4, school=school, name="预算探针", status="suspended")
    StudentFactory.create_batch(3, school=school, name="预算探针")
    klass = Student.objects.filter(school=school, name="预算探针").first().school_class
    Student.objects.filter(school=school, name="预算探针").update(school_class=klass)
    base = Student.objects.filter(school=school, school_class=klass)
    orders = (("name", "pk"), ("-student_no", "pk"), ("school_class__name", "-pk"))
    expected = {o: list(base.order_by(*o).values_list("pk", flat=True)) for o in orders}
    monkeypatch.setattr(paging, "_STEP", 1)  # every read is over its budget at its first step: each is read again
    monkeypatch.setattr(paging, "ORDER_WALK_BUDGET", 0)
    monkeypatch.setattr(paging, "_sorts", {})
    ways = set()
    for o in orders:
        with CaptureQueriesContext(connection) as ctx:
            ids = paging.DeferredJoin(base.order_by(*o)).first_ids(3)
        assert ids == expected[o][:3], o
        sqls = [q["sql"] for q in ctx.captured_queries]
        assert any(q.startswith("EXPLAIN QUERY PLAN") for q in sqls), o  # was it walking an index, or sorting?
        reads = [q for q in sqls if not q.startswith("EXPLAIN")]
        ways.add("sorted" if any(" ORDER BY +" in q for q in reads) else "again")
    # The student number's index serves its order (a walk: read sorted, by the class's index); a class name's
    # order is a sort already (read again as it was).
    assert ways == {"sorted", "again"}
    # A search by LIKE: no index serves it better than the walk, which is read again to its end.
    liked = Student.objects.filter(school=school, guardian_name__contains="x").order_by("student_no", "pk")
    with CaptureQueriesContext(connection) as ctx:
        ids = paging.DeferredJoin(liked).first_ids(3)
    assert ids == list(liked.values_list("pk", flat=True)[:3])
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert any(q.startswith("EXPLAIN QUERY PLAN") for q in sqls)
    assert not any(" ORDER BY +" in q for q in sqls if not q.startswith("EXPLAIN"))
    client.force_login(personas["logistics_director"])
    page = client.get(reverse("org:student_list"), {"q": "预算探针", "status": "suspended"}).context["page"]
    assert sorted(o.pk for o in page.object_list) == sorted(
        base.filter(status="suspended", name="预算探针").values_list("pk", flat=True))
    # Reads after it run to their end.
    monkeypatch.setattr(paging, "_STEP", 10**6)
    with connection.cursor() as cursor:
        cursor.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
                       "SELECT count(*) FROM n")
        assert cursor.fetchone()[0] == 20000
    # Another error than the budget is raised as it is.
    from django.db import OperationalError

    with pytest.raises(OperationalError):
        paging._read_first_ids("default", 'SELECT "nope"."id" FROM "nope" ORDER BY "nope"."id" ASC LIMIT 5', [], "nope")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the plans are SQLite's")
def test_deep_pages_of_few_rows_are_read_sorted_and_equal(school, monkeypatch):
    from houqin.core import paging
    from houqin.org.tests.factories import StudentFactory

    monkeypatch.setattr(paging, "_sorts", {})
    StudentFactory.create_batch(7, school=school, name="深页探针")
    klass = Student.objects.filter(school=school, name="深页探针").first().school_class
    Student.objects.filter(school=school, name="深页探针").update(school_class=klass)
    for order in (("student_no", "pk"), ("-student_no", "-pk"), ("school_class__name", "pk")):
        qs = Student.objects.filter(school=school, school_class=klass).order_by(*order)
        every = list(qs.values_list("pk", flat=True))
        total = len(every)
        join = paging.DeferredJoin(qs)
        for bottom in range(2, total, 2):  # pages 2…, from the front and (past the middle) from the back
            with CaptureQueriesContext(connection) as ctx:
                rows = join.window(bottom, min(bottom + 2, total), total)
            assert [o.pk for o in rows] == every[bottom:bottom + 2], (order, bottom)
            reads = [q["sql"] for q in ctx.captured_queries
                     if not q["sql"].startswith("EXPLAIN") and ("OFFSET" in q["sql"] or "LIMIT" in q["sql"])]
            # The student number's index walked for a class: read sorted by the class's index instead.
            assert any(" ORDER BY +" in q for q in reads) is (order[0].lstrip("-") == "student_no"), (order, reads)
    # More rows than DEEP_SORT_MAX: read as Django reads them.
    monkeypatch.setattr(paging, "DEEP_SORT_MAX", 3)
    qs = Student.objects.filter(school=school, school_class=klass).order_by("student_no", "pk")
    with CaptureQueriesContext(connection) as ctx:
        paging.DeferredJoin(qs).window(2, 4, len(qs))
    assert not any(" ORDER BY +" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the plans are SQLite's")
def test_a_first_page_that_would_walk_is_counted_first_and_read_the_cheap_way(client, personas, school, monkeypatch):
    """A class's students ordered by number walk the number's index (the class's index seeks more): counted first,
    a class of fewer than the limit is read by its index and sorted (none: not read at all); more, by the walk."""
    from houqin.core import paging
    from houqin.core.paging import BoundedPaginator, DeferredJoin
    from houqin.org.tests.factories import SchoolClassFactory, StudentFactory

    monkeypatch.setattr(paging, "_sorts", {})
    for size in (0, 1, 4, 7):
        klass = SchoolClassFactory(school=school)
        StudentFactory.create_batch(size, school=school, school_class=klass)
        for order in (("student_no", "pk"), ("-student_no", "-pk")):
            qs = Student.objects.filter(school=school, school_class=klass).order_by(*order)
            every = list(qs.values_list("pk", flat=True))
            with CaptureQueriesContext(connection) as ctx:
                paginator = BoundedPaginator(DeferredJoin(qs), 2, cap=5)  # counts up to 6
                rows = [o.pk for o in paginator.page(1).object_list]
            assert rows == every[:2], (size, order)
            assert (paginator.count, paginator.exact) == ((5, False) if size > 5 else (size, True)), size
            reads = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("EXPLAIN")]
            assert reads[0].startswith("SELECT COUNT(*) FROM (") and " ORDER BY " not in reads[0], (size, reads)
            ids = [q for q in reads[1:] if q.startswith('SELECT "org_student"."id" AS "pk"')]
            if size == 0:
                assert ids == [] and len(reads) == 1
            else:
                assert len(ids) == 1 and (" ORDER BY +" in ids[0]) is (size <= 5), (size, ids)
            assert not [q for q in reads[1:] if q.startswith("SELECT COUNT(")]  # counted once
    # Not such a walk (the list of the whole school, the class's own order): read as before, ids first.
    qs = Student.objects.filter(school=school).order_by("school_class__name", "pk")
    with CaptureQueriesContext(connection) as ctx:
        paginator = BoundedPaginator(DeferredJoin(qs), 2, cap=5)
        assert [o.pk for o in paginator.page(1).object_list] == list(qs.values_list("pk", flat=True)[:2])
    assert not ctx.captured_queries[0]["sql"].startswith("SELECT COUNT(")
    # The list page and the API of an empty class: no rows, the exact count 0.
    klass = SchoolClassFactory(school=school)
    client.force_login(personas["logistics_director"])
    page = client.get(reverse("org:student_list"), {"school_class": klass.pk}).context["page"]
    assert page.paginator.count == 0 and page.exact and list(page.object_list) == []
    api = client.get("/api/org/students/", {"school_class": klass.pk}).json()
    assert api["count"] == 0 and api["count_exact"] is True and api["results"] == []


def test_a_wrong_bound_only_sizes_the_read_never_the_count(school):
    from houqin.core.paging import BoundedPaginator, DeferredJoin
    from houqin.org.tests.factories import StudentFactory

    StudentFactory.create_batch(7, school=school, name="界限探针")
    qs = Student.objects.filter(school=school, name="界限探针").order_by("pk")
    for bound, count, exact in ((3, 5, False), (6, 5, False), (7, 7, True), (50, 7, True)):
        qs.query.houqin_rows_at_most = bound  # too few (a join repeating rows), right, or too many
        paginator = BoundedPaginator(DeferredJoin(qs), 2, cap=5)
        assert (paginator.count, paginator.exact) == (count, exact), bound
        assert [o.pk for o in paginator.page(1).object_list] == list(qs.values_list("pk", flat=True)[:2])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the search index is SQLite's")
def test_the_index_is_read_once_per_search_and_a_common_term_not_again(client, personas, school, monkeypatch):
    from houqin.core import search_index
    from houqin.org.tests.factories import StudentFactory

    StudentFactory.create_batch(2, school=school, name="欧阳探针")
    StudentFactory.create_batch(12, school=school, name="常见名")
    search_index.forget()
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")

    def search(term):
        with CaptureQueriesContext(connection) as ctx:
            found = client.get(url, {"q": term}).context["page"].object_list
        return sorted(o.pk for o in found), len([q for q in ctx.captured_queries if "MATCH" in q["sql"]])

    found, reads = search("欧阳探针")
    assert len(found) == 2 and reads == 1  # the rows and the count read the ids, not the index again
    assert search("欧阳探针") == (found, 1)
    # A term found in more than the limit's share of rows: a scan; not read again for DENSITY_TTL.
    monkeypatch.setattr(search_index, "DENSE_MIN", 5)
    monkeypatch.setattr(search_index, "DENSE_SHARE", 10_000)
    common = sorted(registry[Student].queryset(personas["logistics_director"]).filter(name="常见名")
                    .values_list("pk", flat=True))
    assert search("常见名") == (common, 1)  # read, found common
    assert search("常见名") == (common, 0)  # not read again
    search_index._density.clear()
    assert search("常见名") == (common, 1)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the search index is SQLite's")
def test_a_one_token_search_starts_from_the_index_query_itself(client, personas, school, monkeypatch):
    """A bigram or a three-character term is one token's entries in the index: the first page's ids are read
    starting from the index query itself, not from the JSON array of its ids (``search_index._one_token``), and
    the queryset's own ``pk IN (that query)`` is not tested again. Same rows, same count as the plain search."""
    from houqin.core import paging, search_index
    from houqin.org.tests.factories import StudentFactory

    monkeypatch.setattr(views_entity, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "FULL_READ_MAX", 8)
    StudentFactory.create_batch(5, school=school, name="探针")
    StudentFactory.create_batch(4, school=school, name="探针甲乙")
    search_index.forget()
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")
    visible = registry[Student].queryset(personas["logistics_director"])
    for term in ("探针", "针甲乙"):
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(url, {"q": term}).context["page"]
        expected = list(visible.filter(name__contains=term).order_by("name", "pk").values_list("pk", flat=True))
        assert page.exact and page.paginator.count == len(expected) and len(expected) in (9, 4)
        assert [o.pk for o in page.object_list] == expected[:2]
        started = [q["sql"] for q in ctx.captured_queries if "houqin_candidates" in q["sql"]]
        assert started and all("json_each" not in sql and sql.count(" MATCH ") == 1 for sql in started), started
    page4 = client.get(url, {"q": "探针", "page": 4}).context["page"]
    assert [o.pk for o in page4.object_list] == list(
        visible.filter(name__contains="探针").order_by("name", "pk").values_list("pk", flat=True))[6:8]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the search index is SQLite's")
def test_a_common_term_is_counted_from_the_index_and_finds_what_the_scan_finds(client, personas, school,
                                                                               monkeypatch):
    from houqin.core import paging, search_index
    from houqin.org.tests.factories import StudentFactory

    monkeypatch.setattr(paging, "count_cap", lambda: 3)
    monkeypatch.setattr(views_entity, "PAGE_SIZE", 2)
    monkeypatch.setattr(search_index, "DENSE_MIN", 2)
    monkeypatch.setattr(search_index, "DENSE_SHARE", 10_000)
    StudentFactory.create_batch(5, school=school, name="常见探针")
    StudentFactory.create_batch(2, school=school, name="常见探针", status="suspended")
    StudentFactory.create_batch(2, school=school, name="别的名字")
    search_index.forget()
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")

    def count(params):
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(url, params).context["page"]
        counts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(")]
        return page.paginator.count, page.exact, counts

    client.get(url, {"q": "常见探针"})  # the index finds the term common: a scan from now on
    n, exact, counts = count({"q": "常见探针"})
    assert (n, exact) == (3, False) and len(counts) == 1 and "houqin_candidates" in counts[0]
    # The index finds exactly the rows of an exact term (汉字): the count does not test them with LIKE again.
    assert "LIKE" not in counts[0] and "houqin:indexed" not in counts[0]
    n, exact, counts = count({"q": "常见探针", "status": "suspended"})
    assert (n, exact, counts) == (2, True, [])  # fewer than a page and one: counted by its ids
    monkeypatch.setattr(paging, "count_cap", lambda: 100)
    n, exact, counts = count({"q": "常见探针"})
    assert (n, exact) == (7, True) and "houqin_candidates" in counts[0]
    # The same count as the scan's: without the index's source, and as Django counts.
    qs = registry[Student].queryset(personas["logistics_director"]).filter(name__contains="常见探针")
    assert paging.capped_count(qs, 100) == 7
    qs.query.houqin_candidates = search_index.count_source(registry[Student], "default", "常见探针", None)
    assert qs.query.houqin_candidates is not None and paging.capped_count(qs, 100) == 7
    assert paging.capped_count(qs.filter(status="suspended"), 100) == 2
    # A query joining another table counts the plain way (the rows are the same either way).
    joined = qs.filter(school_class__name__isnull=False)
    sql, params = joined.values_list("pk").query.sql_with_params()
    assert paging._from_candidates(joined, sql, params) == (sql, params)
    assert paging.capped_count(joined, 100) == joined.count()
    # OR-ed with rows the index did not find (``|``): not started from the candidates.
    other = registry[Student].queryset(personas["logistics_director"]).filter(name="别的名字")
    either = qs | other
    sql, params = either.values_list("pk").query.sql_with_params()
    assert paging._from_candidates(either, sql, params) == (sql, params)
    assert paging.capped_count(either, 100) == 9
    assert paging.capped_count(qs.exclude(status="suspended"), 100) == 5
    # A term the index may find more rows for than LIKE (``exact_parts``: k folds like the Kelvin sign): the
    # count still tests its rows with LIKE, and finds what the scan finds.
    StudentFactory.create_batch(3, school=school, name="Kk探针")
    StudentFactory.create(school=school, name="\u212ak探针")  # KELVIN SIGN k: the index folds it to k, LIKE does not
    client.get(url, {"q": "kk探针"})
    monkeypatch.setattr(paging, "count_cap", lambda: 2)
    n, exact, counts = count({"q": "kk探针"})
    assert (n, exact) == (2, False) and len(counts) == 1 and "houqin_candidates" in counts[0]
    assert "LIKE" in counts[0] and "houqin:indexed" not in counts[0]
    monkeypatch.setattr(paging, "count_cap", lambda: 100)
    assert count({"q": "kk探针"})[:2] == (3, True)
    # Not known as common, or one character: no source.
    assert search_index.count_source(registry[Student], "default", "别的名字", None) is None
    assert search_index.count_source(registry[Student], "default", "常", None) is None


@pytest.mark.parametrize("json_each", [True, False])
def test_candidates_read_as_json_text_or_as_rows_find_the_same(client, personas, school, monkeypatch, json_each):
    """The index's candidates come back as SQLite's JSON array text where json_each exists (one row, no id through
    Python) or as rows where it does not (the index is then searched again by the count and the rows): the same
    students either way, and a common term is found common either way."""
    from houqin.core import search_index
    from houqin.org.tests.factories import StudentFactory

    StudentFactory.create_batch(3, school=school, name="欧阳探针")
    StudentFactory.create_batch(12, school=school, name="常见名")
    search_index.forget()
    monkeypatch.setattr(search_index, "_has_json_each", lambda alias: json_each)
    client.force_login(personas["logistics_director"])
    url = reverse("org:student_list")
    visible = registry[Student].queryset(personas["logistics_director"])

    def search(term):
        return sorted(o.pk for o in client.get(url, {"q": term}).context["page"].object_list)

    assert search("欧阳探针") == sorted(visible.filter(name="欧阳探针").values_list("pk", flat=True))
    entity = registry[Student]
    table, fields = entity.search_index, tuple(entity.search_fields)
    if search_index.index_exists("default", table):
        sql, params, _exact = search_index.candidate_sql(table, fields, "欧阳探针", None)
        found = search_index._fetch_candidates("default", "org_student", sql, params, as_json=json_each)
        wanted = set(visible.filter(name="欧阳探针").values_list("pk", flat=True))
        if json_each:  # the ids themselves
            assert wanted <= set(json.loads(found))
        else:  # how many there are
            assert found >= len(wanted) == 3
        monkeypatch.setattr(search_index, "DENSE_MIN", 5)
        monkeypatch.setattr(search_index, "DENSE_SHARE", 10_000)
        sql, params, _exact = search_index.candidate_sql(table, fields, "常见名", None)
        assert search_index._fetch_candidates("default", "org_student", sql, params, as_json=json_each) is None
    assert search("常见名") == sorted(visible.filter(name="常见名").values_list("pk", flat=True))


def test_an_api_list_without_filters_equals_the_filtered_way(client, personas, school):
    """The API skips the filterset when only paging is asked for (api.PAGING_PARAMS): same rows as with it."""
    from houqin.org.tests.factories import StudentFactory

    StudentFactory.create_batch(3, school=school)
    client.force_login(personas["logistics_director"])
    plain = client.get("/api/org/students/", {"page": 1}).json()
    through_filters = client.get("/api/org/students/", {"page": 1, "q": ""}).json()  # a filter, empty
    assert plain == through_filters and plain["results"]
    # A date range filter's parameters (name_after/_before) still filter.
    assert client.get("/api/org/holidays/").json()["results"]
    assert client.get("/api/org/holidays/", {"start_on_after": "2999-01-01"}).json()["results"] == []


def test_the_shell_links_what_static_and_reverse_give(client, personas):
    from django.templatetags.static import static

    client.force_login(personas["logistics_director"])
    html = client.get(reverse("core:dashboard")).content.decode()
    for asset in ("houqin/favicon.svg", "vendor/tabler/css/tabler.min.css", "houqin/houqin.css", "vendor/htmx/htmx.min.js",
                  "vendor/alpinejs/cdn.min.js", "vendor/tabler/js/tabler.min.js", "houqin/houqin.js"):
        assert f'"{static(asset)}"' in html, asset
    for name in ("core:dashboard", "core:search", "set_language", "password_change", "logout"):
        assert f'"{reverse(name)}"' in html, name
    client.logout()
    login = client.get(reverse("login")).content.decode()  # a page without a signed-in user has them too
    assert f'"{static("vendor/tabler/css/tabler.min.css")}"' in login


def test_get_display_equals_djangos_in_both_languages():
    """fastload gives get_<field>_display a dict made once per field: the same label as Django's, translated
    in the language active at the call, the value itself when it is not a choice."""
    from django.apps import apps
    from django.utils import translation

    checked = 0
    for model in apps.get_models():
        if not model.__module__.startswith("houqin."):
            continue
        for field in model._meta.local_fields:
            if not field.choices or not isinstance(field.choices, list | tuple):
                continue
            display = getattr(model, f"get_{field.name}_display")
            obj = model()
            for value, _label in [*field.flatchoices, ("no-such-value", None)]:
                setattr(obj, field.attname, value)
                for language in ("zh-hans", "en"):
                    with translation.override(language):
                        assert display(obj) == fastload._DJANGO_DISPLAY(obj, field), (model, field.name, value)
            checked += 1
    assert checked >= 30


def test_api_lists_with_lean_joins_equal_the_whole_records(client, personas, school):
    """The API's list joins related records with only the fields their __str__ reads (api.lean_joins): every
    entity's first page equals its records serialized whole."""
    from django.test import RequestFactory

    from houqin.assets.tests.factories import AssetMovementFactory
    from houqin.core.api import lean_joins

    AssetMovementFactory()
    user = personas["logistics_director"]
    request = RequestFactory().get("/api/")
    request.user = user
    client.force_login(user)
    leaned = 0
    for entity in registry:
        qs = entity.queryset(user, "view").order_by(*entity.default_ordering(), "pk")
        if lean_joins(qs) is qs or not qs.exists():
            continue
        results, whole = _api_first_page(client, entity, qs)
        ids = [row["id"] for row in results]
        expected = [entity.serializer_class(whole[i], context={"request": request}).data for i in ids]
        assert results == [dict(row) for row in expected], entity.key
        leaned += 1
    assert leaned >= 3


def test_api_datetimes_read_from_the_row_equal_drf():
    """api._datetime_reader gives what DRF's DateTimeField gives: aware values in the time zone current when the
    serializer's plan is made (UTC as "Z"), naive ones and None as DRF treats them, under another zone too."""
    import datetime as dt
    import zoneinfo

    from django.utils import timezone
    from rest_framework import serializers

    from houqin.core.api import _reader
    from houqin.org.models import Student

    field = serializers.DateTimeField()
    field.bind("created_at", serializers.Serializer())
    read = _reader(field, Student)
    values = [dt.datetime(2026, 12, 6, 5, 30, 1, 123456, tzinfo=dt.UTC),
              dt.datetime(2026, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),
              dt.datetime(2026, 6, 1, 12, 0), None]
    for zone in ("Asia/Shanghai", "UTC", "America/New_York"):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            zoned = _reader(field, Student)  # a serializer's plan is made in its request's time zone
            for value in values:
                row = Student(created_at=value)
                expected = None if value is None else field.to_representation(value)
                assert zoned(row) == expected, (zone, value)
            for value in values:
                if value is not None and value.tzinfo is not None:  # the zone of the plan's making (Shanghai)
                    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
                        expected = field.to_representation(value)
                    assert read(Student(created_at=value)) == expected
    assert read(Student(created_at=dt.datetime(2026, 12, 6, 5, 30, tzinfo=dt.UTC))) == "2026-12-06T13:30:00+08:00"


def test_new_instances_equal_django_s_for_every_entity_model():
    """fastload.new_instance(model) holds what model() holds (defaults, callable ones made anew, the state)."""
    from django.db.models.signals import pre_init

    from houqin.core.fastload import new_instance

    compared = 0
    for entity in registry:
        model = entity.model
        ours, django_s = new_instance(model), model()
        assert type(ours) is model
        plain = {k: v for k, v in django_s.__dict__.items() if k != "_state"}
        assert {k: v for k, v in ours.__dict__.items() if k != "_state"} == plain, entity.key
        assert list(ours.__dict__) == list(django_s.__dict__), entity.key
        assert ours._state.adding and ours._state.db is None and not ours._state.fields_cache
        again = new_instance(model)
        for f in model._meta.concrete_fields:  # a mutable default (a list, a dict) is made anew for each
            if isinstance(ours.__dict__.get(f.attname), list | dict):
                assert again.__dict__[f.attname] is not ours.__dict__[f.attname], (entity.key, f.name)
        compared += 1
    assert compared >= 20
    # A receiver anywhere: Django's way.
    seen = []

    def receiver(sender, **kwargs):
        seen.append(sender)

    pre_init.connect(receiver)
    try:
        new_instance(Room)
    finally:
        pre_init.disconnect(receiver)
    assert seen == [Room]


# core.paging.precompiled --------------------------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the keys go in as a JSON array on SQLite")
def test_rows_by_key_compiled_once_per_shape_equal_djangos_rows(school, monkeypatch):
    """The page rows read by the SQL compiled once for their shape are the rows Django's own query reads — the
    same records, every loaded field, the related rows select_related joins, deferred fields left unloaded — and
    a second page of the same shape is not compiled again."""
    from houqin.core import paging

    ids = list(Student.objects.filter(school=school).order_by("pk").values_list("pk", flat=True)[:30])
    assert len(ids) >= 10
    paging._SHAPES.clear()
    compiled = []
    compile_shape = paging._compile
    monkeypatch.setattr(paging, "_compile", lambda probe: compiled.append(1) or compile_shape(probe))

    def by_keys(shape):
        def make(keys):  # as DeferredJoin._by_pk makes it: one filter by key
            qs = Student.objects.filter(pk__in=keys).select_related(*shape["related"])
            return qs.defer(*shape["defer"]) if shape["defer"] else qs

        return make

    shapes = [{"related": ("school_class", "dorm_room"), "defer": ()},
              {"related": ("school_class",), "defer": ("guardian_phone", "search_keys")},
              {"related": (), "defer": ()}]
    for shape in shapes:
        for keys in (ids[:10], ids[5:30], ids[:10]):
            expected = {o.pk: o for o in by_keys(shape)(keys)}
            with CaptureQueriesContext(connection) as ctx:
                found = {o.pk: o for o in paging.precompiled(by_keys(shape), keys, "default")}
                for o in found.values():
                    for name in shape["related"]:
                        getattr(o, name)  # joined: no query
            assert len(ctx.captured_queries) == 1 and "json_each" in ctx.captured_queries[0]["sql"]
            assert sorted(found) == sorted(keys)
            for pk, obj in found.items():
                want = expected[pk]
                assert obj.get_deferred_fields() == want.get_deferred_fields()
                loaded = [f.attname for f in Student._meta.concrete_fields if f.attname not in want.get_deferred_fields()]
                assert [getattr(obj, a) for a in loaded] == [getattr(want, a) for a in loaded]
                for name in shape["related"]:
                    assert getattr(obj, name) == getattr(want, name)
                    if getattr(obj, name) is not None:
                        assert getattr(obj, name).__dict__.keys() == getattr(want, name).__dict__.keys()
    assert len(compiled) == len(shapes)  # once per shape


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the keys go in as a JSON array on SQLite")
def test_a_precompiled_queryset_changed_further_is_compiled_djangos_way(school):
    from houqin.core import paging

    ids = list(Student.objects.filter(school=school).order_by("pk").values_list("pk", flat=True)[:12])
    run = paging.precompiled(lambda keys: Student.objects.filter(pk__in=keys).select_related("school_class"), ids,
                             "default")
    assert type(run.query) is paging._PrecompiledQuery
    narrowed = run.filter(pk__in=ids[:3])
    assert type(narrowed.query) is not paging._PrecompiledQuery
    assert sorted(o.pk for o in narrowed) == sorted(ids[:3])
    assert run.count() == len(ids)
    ordered = paging.precompiled(lambda keys: Student.objects.filter(pk__in=keys).order_by("name"), ids, "default")
    assert ordered is not None
    assert type(ordered.query) is not paging._PrecompiledQuery  # not a plain shape: Django's way
    assert sorted(o.pk for o in ordered) == sorted(ids)


def test_set_related_does_what_the_foreign_key_descriptor_does(school):
    """fastload.set_related on each foreign key of every entity with a loaded row of the related model, None,
    or another kind of value: the same key, relation cache and database as Django's setattr (or its error)."""
    from houqin.core.fastload import new_instance, set_related

    checked = 0
    for entity in registry:
        model = entity.model
        for f in model._meta.concrete_fields:
            if not f.many_to_one:
                continue
            row = f.related_model._default_manager.order_by("pk").first()
            for value, first in ((row, None), (None, None), (None, row)):  # None over a cached row too
                ours, django_s = new_instance(model), new_instance(model)
                if first is not None:
                    setattr(ours, f.name, first)
                    setattr(django_s, f.name, first)
                set_related(ours, f, value)
                setattr(django_s, f.name, value)
                assert ours.__dict__.keys() == django_s.__dict__.keys()
                assert {k: v for k, v in ours.__dict__.items() if k != "_state"} == {
                    k: v for k, v in django_s.__dict__.items() if k != "_state"}, (entity.key, f.name)
                assert ours._state.db == django_s._state.db
                assert ours._state.fields_cache.keys() == django_s._state.fields_cache.keys()
                assert all(ours._state.fields_cache[k] is django_s._state.fields_cache[k]
                           for k in ours._state.fields_cache)
                checked += value is not None
    assert checked >= 30
    with pytest.raises(ValueError):  # not a row of the related model: refused as Django refuses it
        set_related(new_instance(Student), Student._meta.get_field("school_class"), school)


def test_a_candidate_test_is_dropped_only_for_the_very_candidates_started_from():
    """Rows started from the candidates (CROSS JOIN) all pass ``pk IN (those candidates)``: the test becomes ``1``
    wherever it stands, and its parameter goes. Another list of ids, or SQL that does not parse as expected, is
    left as it is."""
    from houqin.core.paging import _candidate_test_dropped

    pk = '"t"."id"'
    ids_sql = "SELECT value FROM json_each(%s)"
    test = f"{pk} IN ({ids_sql})"
    where = f'("t"."school_id" = %s AND {test}) ORDER BY "t"."code" ASC LIMIT 51'
    assert _candidate_test_dropped(where, (7, "[1,2]"), pk, ids_sql, ("[1,2]",)) == (
        '("t"."school_id" = %s AND 1) ORDER BY "t"."code" ASC LIMIT 51', (7,))
    # Under OR and NOT alike (true for every joined row), each occurrence; other ids are kept.
    where = f'(NOT ({test}) OR ("t"."name" LIKE %s AND {test} AND {test}))'
    assert _candidate_test_dropped(where, ("[1]", "%a%", "[9]", "[1]"), pk, ids_sql, ("[1]",)) == (
        f'(NOT (1) OR ("t"."name" LIKE %s AND {test} AND 1))', ("%a%", "[9]"))
    # Another table's key, no test, or parameters that do not line up with the placeholders: unchanged.
    assert _candidate_test_dropped(where.replace('"t"', '"u"'), ("[1]", "%a%", "[9]", "[1]"), pk, ids_sql, ("[1]",))[1] == (
        "[1]", "%a%", "[9]", "[1]")
    assert _candidate_test_dropped('"t"."x" = %s', (1,), pk, ids_sql, ("[1]",)) == ('"t"."x" = %s', (1,))
    assert _candidate_test_dropped(f"{test} AND %s", ("[1]",), pk, ids_sql, ("[1]",)) == (f"{test} AND %s", ("[1]",))
    # A literal percent sign (%%s) is no placeholder.
    where = f"\"t\".\"name\" LIKE '%%s' AND {test}"
    assert _candidate_test_dropped(where, ("[1]",), pk, ids_sql, ("[1]",)) == ("\"t\".\"name\" LIKE '%%s' AND 1", ())
    # The index query itself as the candidates (one token: ``search_index._one_token``): its term is the parameter.
    fts = 'SELECT rowid FROM "f" WHERE "f" MATCH \'{name} : "\' || hex(lower(%s)) || \'"\''
    where = f'("t"."school_id" = %s AND {pk} IN ({fts}))'
    assert _candidate_test_dropped(where, (7, "钢琴"), pk, fts, ("钢琴",)) == ('("t"."school_id" = %s AND 1)', (7,))
    assert _candidate_test_dropped(where, (7, "空调"), pk, fts, ("钢琴",)) == (where, (7, "空调"))


def test_status_badges_are_built_once_per_status_in_the_request_s_language(client, personas, school):
    """The badge labels are translated once per page (``Entity.badge_function``) and each status's cell built
    once (``EntityListView.rows``): the same cells as before, in the language of each request."""
    import re as _re

    from houqin.assets.models import Asset

    client.force_login(personas["logistics_director"])
    for language, in_use, idle in (("zh-hans", "在用", "闲置"), ("en", "In use", "Idle")):
        html = client.get("/assets/cards/", {"status": "in_use"}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        badges = _re.findall(r'<span class="badge bg-([a-z]+)-lt">([^<]+)</span>', html)
        shown = Asset.objects.filter(school=school, status="in_use").count()
        assert len(badges) == min(shown, 50) and shown, language
        assert {text for _c, text in badges} == {in_use}, (language, set(badges))
        html = client.get("/assets/cards/", {"status": "idle"}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert {t for _c, t in _re.findall(r'<span class="badge bg-([a-z]+)-lt">([^<]+)</span>', html)} <= {idle}


def test_api_lists_written_from_database_values_equal_drf_for_every_entity(client, personas, school):
    """api.RawPlan writes a list page's rows from the database's values without model instances: every
    entity's first page equals its records loaded whole and serialized by DRF — values, order of fields and
    of rows — whether it takes that way (the cards, rooms, classes and a dozen more) or DRF's."""
    from django.test import RequestFactory
    from rest_framework import serializers

    from houqin.assets.tests.factories import AssetFactory, AssetMovementFactory
    from houqin.core.api import RawPlan
    from houqin.org.tests.factories import StudentFactory

    AssetFactory(school=school, custodian=None, note="含\"引号\"与<尖括号>")
    AssetMovementFactory()
    StudentFactory(school=school)
    _a_row_of_every_entity()
    user = personas["logistics_director"]
    request = RequestFactory().get("/api/")
    request.user = user
    client.force_login(user)
    raw, compared = [], 0
    for entity in registry:
        qs = entity.queryset(user, "view")
        if not qs.exists():
            continue
        results, whole = _api_first_page(client, entity, entity.model._default_manager.all())
        ids = [row["id"] for row in results]
        expected = [serializers.Serializer.to_representation(
            entity.serializer_class(whole[i], context={"request": request}), whole[i]) for i in ids]
        computed = set(entity.computed_api_fields())
        assert [{k: v for k, v in r.items() if k not in computed} for r in results] == [
            {k: v for k, v in dict(r).items() if k not in computed} for r in expected], entity.key
        assert [[k for k in r if k not in computed] for r in results] == [
            [k for k in r if k not in computed] for r in expected], entity.key  # the fields' order
        compared += 1
        if RawPlan.of(entity.serializer_class) is not None:
            raw.append(entity.key)
    assert compared >= 30
    assert len(raw) >= 10 and {"assets.asset", "org.room", "org.schoolclass"} <= set(raw), raw


def test_the_card_api_list_builds_no_model_instance(client, personas, school, monkeypatch):
    """The card list's page never goes through DeferredJoin's by-key queryset (instances): its rows come from
    RawPlan, including the label made from the code and name, a null custodian and a decimal value."""
    from decimal import Decimal

    from houqin.assets.models import Asset
    from houqin.assets.tests.factories import AssetFactory
    from houqin.core import paging

    card = AssetFactory(school=school, custodian=None, original_value=Decimal("1234.50"))

    def refuse(self, ids):
        raise AssertionError("instances built")

    monkeypatch.setattr(paging.DeferredJoin, "_by_pk", refuse)
    client.force_login(personas["logistics_director"])
    rows = client.get("/api/assets/cards/", {"q": card.code}).json()["results"]
    assert len(rows) == 1
    row = rows[0]
    assert row["label"] == str(Asset.objects.get(pk=card.pk))
    assert row["custodian"] is None and row["original_value"] == "1234.50"
    assert row["created_at"].endswith("+08:00")


def test_a_related_record_filter_reads_its_choice_by_the_compiled_statement_and_keeps_to_the_school(client, personas, school):
    """builders.SchoolChoiceField: the chosen record is read by the statement compiled once for its model (keys as
    JSON) and must belong to the user's school; another school's record, a missing one and a value that is no key
    are each refused next to the filter as before, and the list is not filtered by them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from houqin.org.models import Room, School

    own = Room.objects.filter(school=school).first()
    other_school = School.objects.create(name="另一所学校", code="9999998")
    foreign = Room.objects.create(school=other_school, code="Y101", name="外校教室")
    client.force_login(personas["logistics_director"])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("assets:asset_list"), {"room": own.pk})
    assert response.status_code == 200
    reads = [q["sql"] for q in ctx.captured_queries if 'FROM "org_room"' in q["sql"] and "WHERE" in q["sql"]]
    assert len(reads) == 1, reads  # read once for both of the page's forms
    if connection.vendor == "sqlite":  # by the statement compiled once (keys as JSON); elsewhere Django's way
        assert "json_each" in reads[0]
    form = response.context["filterset"].form
    assert form.is_valid() and form.cleaned_data["room"] == own
    for bad in (foreign.pk, 10**9, "abc", "1.5", "-3", "9" * 30):
        response = client.get(reverse("assets:asset_list"), {"room": bad})
        assert response.status_code == 200, bad
        form = response.context["filterset"].form
        assert not form.is_valid() and "room" in form.errors, bad


def test_related_cells_built_once_per_record_still_show_each_row_s_own(client, personas, school):
    """views_entity._cell_function keeps a related record's cell per key (a room repeats down a page): rows in
    different rooms show their own room and link, rows without one show none."""
    import re

    from houqin.assets.tests.factories import AssetFactory
    from houqin.org.models import Room

    a, b = Room.objects.filter(school=school)[:2]
    cards = [AssetFactory(school=school, room=a, name="同屋探针"), AssetFactory(school=school, room=b, name="同屋探针"),
             AssetFactory(school=school, room=a, name="同屋探针"), AssetFactory(school=school, room=None, name="同屋探针")]
    client.force_login(personas["logistics_director"])
    html = client.get(reverse("assets:asset_list"), {"q": "同屋探针", "sort": "code"}).content.decode()
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    assert len(rows) == 4
    by_code = {next(c.code for c in cards if c.code in r): r for r in rows}
    for card in cards:
        row = by_code[card.code]
        if card.room is None:
            assert str(a) not in row and str(b) not in row
        else:
            other = b if card.room == a else a
            assert f'href="/org/rooms/{card.room.pk}/"' in row and str(card.room) in row, row
            assert str(other) not in row


def test_filtering_validates_only_the_filters_the_address_names_and_equals_the_full_form(rf, personas, school):
    """EntityFilterSet.query_form holds the fields the data names (a date range by either end, a search, a key);
    the rows and errors equal those of the full form — the page's — for valid, invalid and empty values."""
    from django.http import QueryDict

    from houqin.assets.models import Asset
    from houqin.assets.tests.factories import AssetFactory
    from houqin.org.models import Room, School

    AssetFactory.create_batch(3, school=school)
    room = Room.objects.filter(school=school).first()
    foreign = Room.objects.create(school=School.objects.create(name="外校", code="9999997"), code="Z1", name="外校")
    entity = registry[Asset]
    user = personas["logistics_director"]
    queries = ["status=in_use", "status=in_use&category=", f"room={room.pk}&q=A", f"room={foreign.pk}",
               "acquired_on_after=2020-01-01", "acquired_on_before=not-a-date&status=nope", "q=", "", "page=2",
               "status=in_use&category=&room=&custodian=&department=&accounting_class=&funding_source=&q=x"]
    for query in queries:
        request = rf.get("/assets/cards/?" + query)
        request.user = user
        data = QueryDict(query) if query else None
        ours = entity.filterset_class(data, queryset=entity.queryset(user), request=request)
        full = entity.filterset_class(data, queryset=entity.queryset(user), request=request)
        full.__dict__["_query_form"] = full.form  # the way before: every filter's field
        named = {k.removesuffix("_after").removesuffix("_before") for k in (data or {}) if k != "page"}
        if data is not None:
            assert set(ours.query_form.fields) == named & set(full.form.fields), query
        assert ours.is_valid() == full.is_valid(), query
        assert dict(ours.errors) == dict(full.errors), query
        assert sorted(ours.qs.values_list("pk", flat=True)) == sorted(full.qs.values_list("pk", flat=True)), query


def test_the_pager_written_in_python_links_pages_and_counts_as_the_template_did(rf):
    """views_entity.pager_html: the count (exact, or "more than" with a count-all link keeping the filters),
    previous and next keeping the query with its & escaped, in the request's language."""
    from django.utils import translation

    from houqin.core.views_entity import pager_html

    class Page:
        def __init__(self, number, count, pages, exact):
            self.number, self.exact = number, exact
            self.paginator = type("P", (), {"count": count, "num_pages": pages})()

        def has_previous(self):
            return self.number > 1

        def has_next(self):
            return self.number < self.paginator.num_pages

        def previous_page_number(self):
            return self.number - 1

        def next_page_number(self):
            return self.number + 1

    with translation.override("zh-hans"):
        html = pager_html(Page(2, 1000, 21, False), "q=a&b<c>&status=in_use")
        assert "1000" in html and 'data-testid="count-all"' in html
        assert 'href="?q=a&amp;b&lt;c&gt;&amp;status=in_use&amp;count=all&amp;page=2"' in html
        assert 'href="?q=a&amp;b&lt;c&gt;&amp;status=in_use&amp;page=1"' in html
        assert 'href="?q=a&amp;b&lt;c&gt;&amp;status=in_use&amp;page=3"' in html
        first = pager_html(Page(1, 7, 1, True), "")
        assert "count-all" not in first and 'href="?page=' not in first and "7" in first
    with translation.override("en"):
        html = pager_html(Page(3, 120, 3, True), "")
        assert "120 records" in html and "Page 3 of 3" in html and ">Previous</a>" in html and ">Next<" not in html
