"""Bad input never crashes the API or a list (X-8): for every entity, a create or an edit whose fields hold any
JSON value, and list filters holding any text, are answered with field errors (400) or the page — never a
server error. (A date field given a number or ``true`` through the API raised one before ``api._as_form_data``.)"""

import pytest
from django import forms
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houqin.core.api import takes_list
from houqin.core.entities import registry

ENTITIES = sorted(registry, key=lambda e: e.key)
ADDABLE = [e for e in ENTITIES if e.can_add and e.serializer_class is not None]

SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["", "0", "-1", "1e400", "2026-02-30", "2026-09-01", "99999999999999999999", "x" * 3000,
                     "<script>", "'; DROP TABLE x;--", "是", "null", "[]", "{}"]),
)
VALUE = st.one_of(SCALAR, st.lists(SCALAR, max_size=3), st.dictionaries(st.text(max_size=5), SCALAR, max_size=2))
QUERY = st.one_of(st.text(max_size=20), st.sampled_from(["", "0", "-1", "abc", "2026-13-01", "9" * 30, "true", "%",
                                                        "'", "\\", "../", "1,2", "x" * 500]))


def _fuzz(examples: int):
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _user(personas, entity, action):
    for user in personas.values():
        if user.school_id and user.has_perm(entity.perm(action)):
            return user
    return None


def _log_in(client, personas, entity, action):
    """Log in a persona who may ``action`` ``entity`` (skip the entity when none may)."""
    user = _user(personas, entity, action)
    if user is None:
        pytest.skip(f"no persona may {action}")
    client.force_login(user)
    return user


def _fields(entity) -> list[str]:
    serializer = entity.serializer_class()
    return [name for name, field in serializer.fields.items() if not field.read_only]


@pytest.mark.parametrize("entity", ADDABLE, ids=[e.key for e in ADDABLE])
@_fuzz(10)
@given(data=st.data())
def test_an_api_create_with_any_values_is_400_or_created_never_500(entity, data, client, personas):
    _log_in(client, personas, entity, "add")
    body = {name: data.draw(VALUE, label=name) for name in _fields(entity)}
    response = client.post(f"/api/{entity.app_label}/{entity.url_path}/", body, content_type="application/json")
    assert response.status_code in (201, 400), (response.status_code, body)
    if response.status_code == 400:
        assert response.json()


@pytest.mark.parametrize("entity", ADDABLE[:3], ids=[e.key for e in ADDABLE[:3]])
def test_an_api_create_says_which_field_got_a_list_and_that_the_body_must_be_an_object(entity, client, personas):
    _log_in(client, personas, entity, "add")
    url = f"/api/{entity.app_label}/{entity.url_path}/"
    single = next(n for n, f in entity.form_class.base_fields.items()
                  if not takes_list(f) and not isinstance(f, forms.JSONField))
    response = client.post(url, {single: [1, 2]}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400 and "这里只能填一个值" in str(response.json()), response.json()
    for body in ([1, 2], "text", 5):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400 and response.json(), body


@pytest.mark.parametrize("entity", ENTITIES, ids=[e.key for e in ENTITIES])
@_fuzz(8)
@given(data=st.data())
def test_list_filters_with_any_text_answer_the_page_never_500(entity, data, client, personas):
    _log_in(client, personas, entity, "view")
    names = list(entity.filterset_class.base_filters) if entity.filterset_class else []
    params = {name: data.draw(QUERY, label=name) for name in names}
    params |= {"sort": data.draw(QUERY, label="sort"), "page": data.draw(QUERY, label="page")}
    urls = [reverse(entity.url_name("list"))]
    api = f"/api/{entity.app_label}/{entity.url_path}/"
    if client.get(api).status_code != 404:  # a few entities have no API (the router leaves them out)
        urls.append(api)
    for url in urls:
        response = client.get(url, params)
        if url == api and response.status_code == 404:  # DRF's answer to a page that does not exist (page=0)
            assert "detail" in response.json()
            response = client.get(url, {k: v for k, v in params.items() if k != "page"})
        assert response.status_code in (200, 400), (url, response.status_code, params)


EDITABLE = [e for e in ENTITIES if e.can_edit and e.serializer_class is not None]


@pytest.mark.parametrize("entity", EDITABLE, ids=[e.key for e in EDITABLE])
@_fuzz(6)
@given(data=st.data())
def test_an_api_edit_with_any_values_is_400_or_saved_never_500(entity, data, client, personas):
    from houqin.core.tests.test_entity_matrix import _factories

    _log_in(client, personas, entity, "change")
    obj = _factories()[entity.model]()
    fields = [n for n in _fields(entity) if n in entity.form_class.base_fields]
    body = {name: data.draw(VALUE, label=name) for name in data.draw(st.lists(st.sampled_from(fields), unique=True,
                                                                              max_size=4), label="fields")} if fields else {}
    response = client.patch(f"/api/{entity.app_label}/{entity.url_path}/{obj.pk}/", body,
                            content_type="application/json")
    assert response.status_code in (200, 400), (response.status_code, body)


@pytest.mark.parametrize("entity", EDITABLE, ids=[e.key for e in EDITABLE])
def test_an_api_edit_whose_body_is_not_an_object_is_400(entity, client, personas):
    """A PUT looked for its required fields in the body before checking what it was: ``null`` was a server error."""
    from houqin.core.tests.test_entity_matrix import _factories

    _log_in(client, personas, entity, "change")
    obj = _factories()[entity.model]()
    url = f"/api/{entity.app_label}/{entity.url_path}/{obj.pk}/"
    for body in ("null", "[1, 2]", '"text"', "5"):
        for method in (client.put, client.patch):
            response = method(url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
            assert response.status_code == 400, (method, body, response.status_code)
            assert "JSON 对象" in str(response.json()), response.json()


def test_a_key_filter_refuses_a_number_too_long_or_not_whole(client, personas):
    """``?lease=`` on the rent schedule: a 30-digit number was a server error (SQLite's driver cannot bind it)."""
    from houqin.assets.models import RentInstallment

    entity = registry[RentInstallment]
    _log_in(client, personas, entity, "view")
    api = f"/api/{entity.app_label}/{entity.url_path}/"
    for value in ("9" * 30, "1.5", "-3", "x"):
        assert client.get(reverse(entity.url_name("list")), {"lease": value}).status_code == 200
        response = client.get(api, {"lease": value})
        assert response.status_code == 400 and "lease" in response.json()["errors"], (value, response.content)
    assert client.get(api, {"lease": "1"}).status_code == 200


def test_keys_no_column_can_hold_match_nothing_and_a_form_says_so(client, personas, school):
    """A building's keepers (check boxes: ``pk IN (…)``) given a 20-digit key was a server error on SQLite
    (``core.lookups.IntegerIn``)."""
    from houqin.org.models import Building, Staff

    some = Staff.objects.filter(school=school).order_by("pk").first()
    assert list(Staff.objects.filter(pk__in=[2**63, some.pk]).values_list("pk", flat=True)) == [some.pk]
    assert not Staff.objects.filter(pk__in=[2**63, -(2**64)]).exists()
    entity = registry[Building]
    _log_in(client, personas, entity, "add")
    response = client.post(f"/api/{entity.app_label}/{entity.url_path}/", {"code": "FZ1", "name": "测试楼",
                           "keepers": [2**63]}, content_type="application/json")
    assert response.status_code == 400 and "keepers" in response.json()["errors"], response.content


TEXT_VALUE = st.one_of(QUERY, st.integers(min_value=-(10**25), max_value=10**25).map(str),
                       st.sampled_from(["2026-09-01", "2026-09-01 08:30", "on", "true", "1", "0.005"]))


def _form_body(data, entity) -> dict:
    """What a browser can post to the entity's form: text in every field, a list where the field takes one."""
    return {name: (data.draw(st.lists(TEXT_VALUE, max_size=2), label=name) if takes_list(field)
                   else data.draw(TEXT_VALUE, label=name))
            for name, field in entity.form_class.base_fields.items()}


@pytest.mark.parametrize("entity", ADDABLE, ids=[e.key for e in ADDABLE])
@_fuzz(6)
@given(data=st.data())
def test_a_form_post_with_any_text_shows_the_form_again_or_saves_never_500(entity, data, client, personas):
    """What a browser (or someone typing a URL) can post to the create page: text in every field."""
    _log_in(client, personas, entity, "add")
    body = _form_body(data, entity)
    response = client.post(reverse(entity.url_name("add")), body)
    assert response.status_code in (200, 302, 400), (response.status_code, body)


@pytest.mark.parametrize("entity", EDITABLE, ids=[e.key for e in EDITABLE])
@_fuzz(5)
@given(data=st.data())
def test_an_edit_post_with_any_text_shows_the_form_again_or_saves_never_500(entity, data, client, personas):
    from houqin.core.tests.test_entity_matrix import _factories

    _log_in(client, personas, entity, "change")
    obj = _factories()[entity.model]()
    body = _form_body(data, entity)
    response = client.post(reverse(entity.url_name("edit"), args=[obj.pk]), body)
    assert response.status_code in (200, 302, 400), (response.status_code, body)
    if entity.is_voidable:
        reason = data.draw(TEXT_VALUE, label="reason")
        response = client.post(reverse(entity.url_name("void"), args=[obj.pk]), {"reason": reason})
        assert response.status_code in (200, 302, 400), (response.status_code, reason)
