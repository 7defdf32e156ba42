"""Keys and lookups of the per-process caches (rights, list settings, row totals, search plans, URLs)."""

from __future__ import annotations

from django.db import connections
from django.urls import NoReverseMatch, get_script_prefix, reverse


def database_key(alias: str) -> str:
    """What a per-process cache keys a database by: its file or name, so that two databases under one alias
    (a test database, a restored copy) never share entries."""
    return connections[alias].settings_dict.get("NAME") or alias


_NO_URL = object()
_urls: dict[tuple[str, str], object] = {}


def cached_reverse(url_name: str) -> str | None:
    """``reverse(url_name)`` of a route without arguments, once per process and script prefix (None: the
    route does not exist)."""
    key = (get_script_prefix(), url_name)
    url = _urls.get(key, _NO_URL)
    if url is _NO_URL:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            url = None
        _urls[key] = url
    return url
