"""Every registered entity, data-driven (architecture §4.12): completeness, then list/detail/create/
edit/history/export/API with and without permission, one audit entry per write, query counts."""

import datetime
import importlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from houqin.core.entities import registry
from houqin.core.models import AuditEntry
from houqin.core.registry import registry as shell_registry

BASELINE = Path(__file__).with_name("query_baseline.json")

# Concrete models that are not entities, each with the reason.
NOT_ENTITIES = {
    "org.school": "the school itself: set up by setup_school, edited on the school settings page",
    "org.user": "accounts are created, reset and disabled through Staff (org.staff) and the account pages",
    "core.auditentry": "the audit log: written only by services, read on each record's history tab",
    "core.loginevent": "the login log: written by the login signals, read on the login-log page",
    "core.statuschange": "workflow history: written by Workflow.apply, read with the record's history",
    "core.attachment": "attachments: shown and uploaded on the detail page of the record they belong to",
    "core.savedfilter": "list preferences of a user, managed on the list page",
    "core.listpreference": "list preferences of a user, managed on the list page",
    "core.jobprogress": "progress of a background job: written by the job, shown to its owner at /jobs/<id>/",
    "core.periodicslot": "the scheduler's claim of a periodic job's time slot: internal, pruned after two days",
    "core.authstamp": "one row changed by database triggers when permissions or roles change (core.authcache)",
    "core.rowcount": "row totals per school and table kept by database triggers (core.rowcount)",
}


def _factory_modules():
    for config in apps.get_app_configs():
        if not (config.name.startswith("houqin.") or config.name.startswith("tests.")):
            continue
        for module in (f"{config.name}.tests.factories", f"{config.name}.factories"):
            try:
                yield importlib.import_module(module)
            except ModuleNotFoundError:
                continue


def _factories():
    found = {}
    for module in _factory_modules():
        found.update(module.FACTORIES)
    return found


def _form_extra(model) -> dict:
    """Form fields that are not model fields (e.g. a document's asset codes): {name: () -> value}."""
    for module in _factory_modules():
        extra = getattr(module, "FORM_EXTRA", {}).get(model)
        if extra:
            return {name: make() for name, make in extra.items()}
    return {}


def _model_field(entity, name):
    try:
        return entity.model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


ENTITIES = sorted(registry, key=lambda e: e.key)
IDS = [e.key for e in ENTITIES]


def test_every_concrete_model_is_an_entity_or_says_why_not():
    from houqin.core.entities import not_entities

    explained = {**NOT_ENTITIES, **not_entities}
    ours = [m for m in apps.get_models() if m.__module__.startswith(("houqin.", "tests."))]
    missing = [m._meta.label_lower for m in ours
               if registry.get(m) is None and m._meta.label_lower not in explained]
    assert not missing, f"register an Entity or call core.entities.not_an_entity(label, reason): {missing}"
    assert all(reason.strip() for reason in explained.values())
    stale = [k for k in NOT_ENTITIES if registry.for_key(k) is not None]
    assert not stale


@pytest.mark.parametrize("entity", ENTITIES, ids=IDS)
def test_every_entity_has_factory_menu_permissions_and_routes(entity):
    assert entity.model in _factories(), f"{entity.key}: add a factory"
    if entity.app_label != "sampleapp":
        assert entity.menu is not None, f"{entity.key}: give it a menu entry"
        items = [i.url_name for g in shell_registry.menu_groups.values() for i in g.items]
        assert entity.url_name("list") in items
    granted = set().union(*shell_registry.role_perms.values())
    actions = ("view",) + (("add",) if entity.can_add else ()) + (("change",) if entity.can_edit else ())
    for action in actions + (("void",) if entity.is_voidable else ()):
        assert entity.perm(action) in granted, f"no role has {entity.perm(action)}"
    for key in entity.views:
        args = [] if key in ("list", "add", "import", "export", "print") else [1]
        assert reverse(entity.url_name(key), args=args)
    assert reverse(f"api:{entity.app_label}-{entity.model_name}-list")


def _user_with(personas, entity, *actions):
    for user in personas.values():
        if user.school_id and all(user.has_perm(entity.perm(a)) for a in actions):
            return user
    pytest.fail(f"no persona may {actions} {entity.key}")


def _user_without(personas, entity, action):
    for user in personas.values():
        if user.school_id and not user.has_perm(entity.perm(action)):
            return user
    return None


def _form_data(entity, obj) -> dict:
    data = {}
    for name in entity.form_fields:
        f = _model_field(entity, name)
        if f is None:
            continue  # a form-only field: FORM_EXTRA of the app's factories
        value = getattr(obj, f.attname, None) if not f.many_to_many else []
        if f.many_to_many:
            continue
        if isinstance(f, models.BooleanField):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif isinstance(value, datetime.date | Decimal | int):
            data[name] = str(value)
        else:
            data[name] = value
    return {**data, **_form_extra(entity.model)}


@pytest.mark.parametrize("entity", ENTITIES, ids=IDS)
def test_create_edit_history_export_api_each_audited(client, personas, school, entity):
    factory = _factories()[entity.model]
    if entity.can_add:
        user = _user_with(personas, entity, "view", "add", *(("change",) if entity.can_edit else ()))
        client.force_login(user)
        obj = factory.build()
        data = _form_data(entity, obj)
        before = set(entity.model._default_manager.values_list("pk", flat=True))
        response = client.post(reverse(entity.url_name("add")), data)
        assert response.status_code == 302, (entity.key, response.content.decode()[-3000:])
        created = entity.model._default_manager.exclude(pk__in=before).get()
        audit = AuditEntry.objects.filter(content_type__model=entity.model_name, object_id=str(created.pk))
        assert audit.filter(action="create").count() == 1
    else:  # made by the system (a journal row, a school's settings): the page refuses to add one
        user = _user_with(personas, entity, "view")
        client.force_login(user)
        assert client.get(reverse(entity.url_name("add"))).status_code in (403, 404)
        created = factory()
        data = _form_data(entity, created)
        audit = AuditEntry.objects.filter(content_type__model=entity.model_name, object_id=str(created.pk))
    assert created.school_id == school.pk

    if entity.can_edit:
        # edit: change one text field and see exactly one update entry with the diff
        editable = entity.form_for(user, instance=created).fields
        text_field = next((n for n in entity.form_fields if n in editable
                           and isinstance(_model_field(entity, n), models.CharField)
                           and not _model_field(entity, n).choices and n not in ("mobile", "id_number")), None)
        if text_field is not None:
            data[text_field] = str(data[text_field])[:-1] + "改" if data[text_field] else "改"
        else:  # no free text (a term): move a number
            text_field = next(n for n in entity.form_fields if n in editable
                              and isinstance(_model_field(entity, n), models.IntegerField | models.DecimalField))
            data[text_field] = str(int(Decimal(data[text_field])) + 100)
        client.force_login(_user_with(personas, entity, "view", "change"))
        response = client.post(reverse(entity.url_name("edit"), args=[created.pk]), data)
        assert response.status_code == 302, (entity.key, response.context and response.context["form"].errors)
        update = audit.filter(action="update").get()
        assert text_field in update.changed_fields
    else:
        assert client.get(reverse(entity.url_name("edit"), args=[created.pk])).status_code in (403, 404)

    for key in ("detail", "history"):
        assert client.get(reverse(entity.url_name(key), args=[created.pk])).status_code == 200
    page = client.get(reverse(entity.url_name("list")), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-table")
    assert page.status_code == 200 and b"<html" not in page.content
    export = client.get(reverse(entity.url_name("export")))
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")

    api = f"/api/{entity.app_label}/{entity.url_path}/"
    listing = client.get(api)
    assert listing.status_code == 200 and listing.json()["count"] >= 1
    assert client.get(f"{api}{created.pk}/").json()["id"] == created.pk
    bad = client.post(api, {}, content_type="application/json")
    assert bad.status_code in (400, 403) and ("errors" in bad.json() or bad.status_code == 403)


@pytest.mark.parametrize("entity", ENTITIES, ids=IDS)
def test_role_without_permission_gets_403(client, personas, entity):
    user = _user_without(personas, entity, "add")
    if user is None:
        pytest.skip("every persona may add")
    client.force_login(user)
    assert client.get(reverse(entity.url_name("add"))).status_code == 403
    assert client.post(f"/api/{entity.app_label}/{entity.url_path}/", {}, content_type="application/json"
                       ).status_code == 403
    viewer = _user_without(personas, entity, "view")
    if viewer is not None:
        client.force_login(viewer)
        assert client.get(reverse(entity.url_name("list"))).status_code == 403
        assert client.get(f"/api/{entity.app_label}/{entity.url_path}/").status_code == 403


def _list_queries(client, entity) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(entity.url_name("list")))
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("entity", ENTITIES, ids=IDS)
def test_list_query_count_is_the_baseline_and_independent_of_rows(client, personas, entity):
    """Committed baseline per list page (query_baseline.json); adding rows adds no queries."""
    user = _user_with(personas, entity, "view", *(("add",) if entity.can_add else ()))
    client.force_login(user)
    factory = _factories()[entity.model]
    factory()
    _list_queries(client, entity)  # warm caches (content types, permissions)
    count = _list_queries(client, entity)
    for _ in range(3):
        factory()
    _list_queries(client, entity)  # new staff change the rights stamp: warm the permission cache again
    assert _list_queries(client, entity) == count, "the list page makes a query per row"
    baseline = json.loads(BASELINE.read_text())
    assert entity.key in baseline, f"add {entity.key}: {count} to {BASELINE.name}"
    assert count <= baseline[entity.key], f"{entity.key} list now makes {count} queries (baseline {baseline[entity.key]})"
