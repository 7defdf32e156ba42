"""A web worker collects cyclic garbage after each response, not during requests (``core.collector``)."""

import gc
import weakref

import pytest
from django.core.signals import request_finished

from houqin.core import collector


class Node:
    pass


def _cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)



@pytest.fixture
def installed():
    before = gc.get_threshold()
    collector.install()
    yield
    collector.uninstall()
    gc.set_threshold(*before)
    gc.collect()


def test_a_worker_freezes_start_up_raises_the_first_threshold_and_listens_for_finished_requests(installed):
    assert gc.get_threshold() == (collector.THRESHOLD0, collector.THRESHOLD1, collector.THRESHOLD2)
    assert gc.get_freeze_count() > 0
    assert any(r[0][0] == collector._UID for r in request_finished.receivers)


def test_uninstall_gives_python_its_defaults_back(installed):
    collector.uninstall()
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
    assert not any(r[0][0] == collector._UID for r in request_finished.receivers)
    collector.install()  # for the fixture's own uninstall


def test_cycles_are_gone_once_a_response_is_closed(installed, client, db):
    """The threshold keeps the collector away while a request runs (a page allocates far fewer than 50,000
    objects); closing the response — the WSGI server does it after the last byte, the test client at once —
    collects what became garbage meanwhile."""
    gc.collect()
    ref = _cycle()
    response = client.get("/login/")
    assert response.status_code == 200
    assert ref() is None


def test_without_the_collector_the_cycle_outlives_the_request(client, db):
    """The test above would pass without it only if something else collected: here nothing does."""
    gc.collect()
    gc.disable()
    try:
        ref = _cycle()
        assert client.get("/login/").status_code == 200
        assert ref() is not None
    finally:
        gc.enable()
        gc.collect()


@pytest.mark.parametrize(("counts", "due"), [
    ((123, 0, 0), 0), ((40_000, 9, 9), 0), ((5, 10, 0), 1), ((5, 10, 9), 1), ((5, 10, 10), 2), ((0, 0, 10), 2),
])
def test_the_generation_collected_follows_pythons_ten_and_ten_rhythm(monkeypatch, counts, due):
    monkeypatch.setattr(collector.gc, "get_count", lambda: counts)
    assert collector.generation_due() == due


def test_responses_collect_the_young_each_time_the_middle_after_ten_and_all_after_ten_of_those(installed, monkeypatch):
    """Python's own rhythm (thresholds 10 and 10), with responses instead of allocations as the clock."""
    seen = []
    real = gc.collect
    monkeypatch.setattr(collector.gc, "collect", lambda generation=2: seen.append(generation) or real(generation))
    gc.collect()  # counters at zero
    seen.clear()
    for _ in range(111):
        collector.collect_after_response(sender=None)
    assert seen[:11] == [0] * 10 + [1]
    assert (seen.count(0), seen.count(1), seen.count(2)) == (100, 10, 1)
    assert seen[-1] == 2
