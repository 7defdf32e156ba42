"""Login-page shortcuts (paired tablet → PIN pad, WeCom/DingTalk app → platform sign-in) and tablet sessions.

A tablet session (``session[DEVICE_SESSION_KEY]``) ends after ``HOUQIN_DEVICE_IDLE_MINUTES`` without a
request, when the tablet is unpaired or deactivated, or when the browser no longer carries that tablet's
cookie; it never reaches the account pages. Ordinary sessions cost this middleware no query.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from . import selectors, services
from .providers import platform_app

DEVICE_SESSION_KEY = "device_id"  # the paired tablet (Device pk) of a PIN session
SEEN_SESSION_KEY = "signin_device_seen"
SEEN_GRANULARITY = 15  # seconds: the session is rewritten at most this often


def now() -> float:
    """The clock of the idle timeout (tests replace it)."""
    return time.time()


def idle_seconds() -> int:
    return int(getattr(settings, "HOUQIN_DEVICE_IDLE_MINUTES", 3)) * 60


def blocked_prefixes() -> tuple[str, ...]:
    """Pages a tablet session never opens: accounts, passwords, sign-in and tablet administration."""
    return (
        "/accounts/", "/api/", reverse("password_change"), reverse("org:school_settings"),
        reverse("signin:config"), reverse("signin:devices"), reverse("signin:pins"), reverse("signin:my_pin"),
    )


class SigninMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and request.path_info == reverse("login"):
            response = self.login_shortcut(request)
            if response is not None:
                return response
        if request.user.is_authenticated and request.session.get(DEVICE_SESSION_KEY):
            response = self.device_session(request)
            if response is not None:
                return response
            response = self.get_response(request)
            if "text/html" in response.get("Content-Type", "") and not request.headers.get("HX-Request"):
                # The screen of an idle tablet goes back to the PIN pad by itself.
                response["Refresh"] = f"{idle_seconds() + 5}; url={reverse('signin:tablet')}"
            return response
        return self.get_response(request)

    def login_shortcut(self, request):
        if request.user.is_authenticated or "password" in request.GET:
            return None
        query = {k: request.GET[k] for k in ("next", "school") if request.GET.get(k)}
        suffix = f"?{urlencode(query)}" if query else ""
        if services.DEVICE_COOKIE in request.COOKIES and services.device_from_request(request) is not None:
            return HttpResponseRedirect(reverse("signin:tablet") + suffix)
        provider = platform_app(request.headers.get("User-Agent", ""))
        if provider is None:
            return None
        school = selectors.login_school(request.GET.get("school"))
        config = selectors.enabled_config(school)
        if config is None or config.provider != provider:
            return None
        query["school"] = school.code
        return HttpResponseRedirect(f"{reverse('signin:start')}?{urlencode(query)}")

    def device_session(self, request):
        device = services.device_from_request(request)
        if device is None or device.pk != request.session.get(DEVICE_SESSION_KEY):
            logout(request)
            return HttpResponseRedirect(reverse("signin:tablet"))
        moment = now()
        seen = request.session.get(SEEN_SESSION_KEY, 0)
        if moment - seen > idle_seconds():
            minutes = idle_seconds() // 60
            logout(request)
            messages.info(request, _("Signed out after %(minutes)d minutes without use.") % {"minutes": minutes})
            url = reverse("signin:tablet")
            if request.headers.get("HX-Request"):  # htmx would swap a followed redirect into the page
                response = HttpResponse(status=200)
                response["HX-Redirect"] = url
                return response
            return HttpResponseRedirect(url)
        if moment - seen >= SEEN_GRANULARITY:
            request.session[SEEN_SESSION_KEY] = moment
        services.device_touch(device)
        if request.path_info.startswith(blocked_prefixes()):
            return render(request, "signin/problem.html", {
                "title": _("Not on a shared tablet"),
                "message": _("This page cannot be opened on a shared tablet. Use your own phone or computer."),
                "tablet": True,
            }, status=403)
        return None
