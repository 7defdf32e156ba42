"""The template backend frees each rendering's context by reference counting (``core.templating``)."""

import gc
import weakref

import pytest
from django.template import engines
from django.template.loader import render_to_string

from houqin.core.templating import DjangoTemplates


class Thing:
    def __str__(self) -> str:
        return "物品"


@pytest.fixture
def no_cycle_collector():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_the_project_renders_through_the_releasing_backend():
    assert isinstance(engines["django"], DjangoTemplates)


def test_what_a_page_was_given_is_freed_when_its_rendering_returns(no_cycle_collector, rf):
    """Without the cycle collector: the objects a page's context held are gone once the page is rendered
    (Django's own backend left them in the context ↔ ContextDict cycle), and the page is the same."""
    thing = Thing()
    ref = weakref.ref(thing)
    template = engines["django"].from_string(
        "{% for x in items %}{{ x }}{% endfor %}{% with t=thing %}{{ t }}{% endwith %}{{ request.path }}")
    html = template.render({"thing": thing, "items": [1, 2]}, rf.get("/assets/cards/"))
    assert html == "12物品/assets/cards/"
    del thing
    assert ref() is None


def test_a_project_template_renders_and_releases_its_context(no_cycle_collector, rf, personas):
    request = rf.get("/")
    request.user = personas["logistics_director"]
    thing = Thing()
    ref = weakref.ref(thing)
    html = render_to_string("core/partials/messages.html", {"thing": thing}, request)
    assert isinstance(html, str)
    del thing
    assert ref() is None


def test_a_test_client_still_sees_the_page_s_context(client, personas):
    """``response.context`` (copies the test client keeps of each context) still holds what the page was given."""
    client.force_login(personas["logistics_director"])
    response = client.get("/org/rooms/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count >= 0 and response.context["entity"].key
