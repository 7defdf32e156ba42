"""``core.redirects.safe_next``: a form's ``next`` is followed only to a page of this site."""

import pytest
from django.shortcuts import redirect
from django.test import RequestFactory
from django.urls import NoReverseMatch

from houqin.core.redirects import safe_next


@pytest.mark.parametrize("url,kept", [
    ("/assets/cards/?q=x", True),
    ("http://testserver/assets/", True),
    ("/", True),
    ("https://evil.example/", False),  # another site: an open redirect
    ("//evil.example/x", False),
    ("http://testserver.evil.example/", False),
    ("x", False),  # no path: redirect() took it for a URL name, NoReverseMatch
    ("null,null", False),
    ("../admin/", False),
    ("javascript:alert(1)", False),
    ("", False),
    (None, False),
])
def test_only_a_page_of_this_site_is_kept(url, kept):
    request = RequestFactory().post("/", {"next": url or ""})
    assert safe_next(request, url) == (url if kept else "")
    if url and not kept and "/" not in url and "." not in url:
        with pytest.raises(NoReverseMatch):
            redirect(url)  # what the views did with it


def test_the_first_page_of_this_site_among_the_candidates():
    request = RequestFactory().get("/", HTTP_REFERER="http://testserver/org/rooms/")
    assert safe_next(request, "x", "https://evil.example/", None, "/org/staff/", "/later/") == "/org/staff/"
    assert safe_next(request, "x", request.META["HTTP_REFERER"]) == "http://testserver/org/rooms/"
    assert safe_next(request) == ""
    https = RequestFactory().get("/", secure=True)
    assert safe_next(https, "http://testserver/x") == ""  # no step down from https
