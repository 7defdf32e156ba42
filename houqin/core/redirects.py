"""Where a form goes back to after a POST: its ``next`` (or the referring page), only if it is on this site.

One rule for every view. A ``next`` naming another site is an open redirect, and a ``next`` that is no path
("x", "null") made ``redirect()`` try it as a URL name: ``NoReverseMatch``, a server error.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, *candidates: str | None) -> str:
    """The first of ``candidates`` that is a path on this site (``/…``) or an http(s) URL of this host;
    "" when none is. Give the result to ``HttpResponseRedirect`` or ``redirect()``: it is never a URL name."""
    for url in candidates:
        if not url or not isinstance(url, str):
            continue
        parts = urlsplit(url)
        if not parts.netloc and not parts.path.startswith("/"):
            continue  # "x", "../x", "javascript:…": not a page of this site
        if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            return url
    return ""
