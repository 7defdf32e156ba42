"""Cyclic garbage collected between requests instead of during them (a web worker: ``houqin.wsgi``).

Python's cyclic collector runs whenever 700 more container objects have been allocated than freed. A list
page holds a few thousand at its peak (its records, querysets, forms, template nodes), so the collector ran
several times inside each request, each time scanning the page's live objects, only to find the few hundred
in reference cycles (django-filter's filters and their filterset, a form and its bound fields, DRF's
serializers and their fields). Measured in-process with the real WSGI handler at 100,000 cards: 0.26 ms of
a filtered list request and 0.45 ms of a filtered API request went to collections.

A worker instead:
- freezes what start-up made (``gc.freeze``: ~150,000 objects that live as long as the worker, never scanned
  again; python.org/3/library/gc.html#gc.freeze);
- raises the first threshold to ``THRESHOLD0``, so a request collects only when it builds far more than a
  page does (an inline import preview, an export), which keeps memory bounded;
- collects once after each response has been sent (``request_finished``, which the WSGI server sends when it
  closes the response, after its last byte): the youngest generation every time (that request's cycles: 0.02
  to 0.18 ms), the middle one after ten of those, everything after ten of those (~2.4 ms for the ~30,000
  objects a warm worker adds after start-up) — Python's own 10 and 10, counted in responses.

This is the out-of-band collection of Ruby's Unicorn (``Unicorn::OobGC``): the work is done while the worker
is idle, not while a user waits.
"""

from __future__ import annotations

import gc

from django.core.signals import request_finished

THRESHOLD0 = 50_000  # net container allocations before a collection inside a request
THRESHOLD1 = 10  # youngest-generation collections between two collections of the middle one
THRESHOLD2 = 10  # middle-generation collections between two full ones
_UID = "houqin.core.collector"


def generation_due() -> int:
    """The oldest generation whose turn it is, by the counters Python keeps (``gc.get_count``)."""
    _young, young_runs, middle_runs = gc.get_count()
    if middle_runs >= THRESHOLD2:
        return 2
    if young_runs >= THRESHOLD1:
        return 1
    return 0


def collect_after_response(**kwargs) -> None:
    """``request_finished`` receiver: collect what is due now that the response has gone."""
    gc.collect(generation_due())


def install() -> None:
    """Set a web worker's collector up: freeze start-up's objects, collect between requests."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(THRESHOLD0, THRESHOLD1, THRESHOLD2)
    request_finished.connect(collect_after_response, dispatch_uid=_UID)


def uninstall() -> None:
    """Python's defaults again (tests)."""
    request_finished.disconnect(dispatch_uid=_UID)
    gc.set_threshold(700, 10, 10)
    gc.unfreeze()
