"""Every page, GET and POST, given nasty values for every parameter the views read: never a server error.

The parameter names are the ones the code reads (``request.GET.get("…")``, ``POST``, DRF's ``data`` and
``query_params``), all set at once to one value per request: a word where a key or a URL is wanted ("x":
``redirect()`` took it for a URL name; ``int()`` refuses it), a number no integer column holds, "NaN" where
an amount is. A page of a record is crawled on one that exists (the first key of a few tried that is no 404). A crawl
like this found the open redirect and server error of a loan's "next" (``core.redirects``)."""

import re
from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver

pytestmark = pytest.mark.django_db

VALUES = ("x", "9" * 30, "NaN")
READS = re.compile(r"""(?:GET|POST|data|query_params)\.(?:get|getlist)\(["']([a-z_0-9]+)["']""")
SKIPPED = ("api/", "admin/", "static/", "media/", "accounts/logout/")


def _parameter_names() -> list[str]:
    root = Path(__file__).resolve().parents[2]
    names = set()
    for path in root.rglob("*.py"):
        if "tests" not in path.parts and "migrations" not in path.parts:
            names.update(READS.findall(path.read_text(encoding="utf-8")))
    return sorted(names)


def _page_paths() -> list[str]:
    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    paths = set()
    for route in walk(get_resolver()):
        if route.startswith(SKIPPED) or route.startswith("^") or "(?P" in route:
            continue
        paths.add("/" + re.sub(r"<(?:str|slug|path):\w+>", "x", route))
    return sorted(paths)


KEY = re.compile(r"<(?:int:)?\w+>")
KEYS_TRIED = (1, 2, 3, 5, 8, 13)


def _with_a_record(client, route: str) -> str:
    """``route`` with its keys filled in: the first of ``KEYS_TRIED`` whose page is not a 404 (a record that
    exists), else 1 — so an action's parameters reach the action, not only the record lookup."""
    if not KEY.search(route):
        return route
    for key in KEYS_TRIED:
        path = KEY.sub(str(key), route)
        if client.get(path).status_code != 404:
            return path
    return KEY.sub("1", route)


def test_the_crawl_sees_the_pages_and_the_parameters():
    paths, names = _page_paths(), _parameter_names()
    assert len(paths) > 300 and "/assets/cards/" in paths and "/assets/loans/<int:pk>/return/" in paths
    assert {"next", "q", "page", "asset", "quantity", "amount"} <= set(names)


def test_every_page_answers_nasty_parameters_without_a_server_error(client, school):
    from houqin.org.models import User

    admin = User.objects.create_superuser("crawler", password="crawl-pass-2026", school=school)
    names = _parameter_names()
    client.raise_request_exception = False  # a server error is a 500 to list, not the end of the crawl
    failures, with_records = [], 0
    for route in _page_paths():
        client.force_login(admin)  # a page may log out or change the session
        path = _with_a_record(client, route)
        with_records += path != route and client.get(path).status_code != 404
        for value in VALUES:
            params = dict.fromkeys(names, value)
            for method in (client.get, client.post):
                response = method(path, params)
                if response.status_code >= 500:
                    failures.append(f"{method.__name__.upper()} {path} {value!r}: {response.status_code}")
                    break
    assert not failures, "\n".join(failures)
    assert with_records > 100  # most pages of a record were crawled on one that exists


LABEL_FOR_NOTHING = re.compile(rb"<label\b[^>]*\bfor=\"\"")
LABELLED_BY = re.compile(rb'aria-labelledby="([^"]+)"')


def test_every_label_names_an_input(client, school):
    """No page has a <label for=""> (it names nothing: a list's date range once had one), and every
    aria-labelledby points at an element of the page. Every page without a key, as a superuser."""
    from houqin.org.models import User

    admin = User.objects.create_superuser("reader", password="read-pass-2026", school=school)
    client.force_login(admin)
    client.raise_request_exception = False
    found, pages = [], 0
    for route in _page_paths():
        if "<" in route or route.endswith(("/export/", "/print/", "/template/")):
            continue
        response = client.get(route)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        pages += 1
        html = response.content
        if LABEL_FOR_NOTHING.search(html):
            found.append(f"{route}: <label for=\"\">")
        for target in set(LABELLED_BY.findall(html)):
            if not all(re.search(rb'\bid="' + re.escape(name) + rb'"', html) for name in target.split()):
                found.append(f"{route}: aria-labelledby={target.decode()} names no element")
    assert not found, "\n".join(found)
    assert pages > 100
