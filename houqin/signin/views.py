"""Platform sign-in (start, callback), sign-in settings, tablets (pairing, PIN pad) and PINs."""

import hmac
import secrets
import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from houqin.core.models import LoginEvent
from houqin.core.redirects import safe_next
from houqin.org.models import Staff

from . import middleware, providers, selectors, services
from .forms import DeviceForm, PairForm, PinLoginForm, PinSetForm, SigninConfigForm
from .middleware import DEVICE_SESSION_KEY, SEEN_SESSION_KEY
from .models import Device, SigninConfig

STATE_SESSION_KEY = "signin_oauth"
STATE_MAX_AGE = 600  # seconds from the start of a platform sign-in to its callback


def absolute_url(request, path: str) -> str:
    """``path`` on the address staff open Houqin at (HOUQIN_SITE_URL, behind a proxy), else on this request's."""
    site = (getattr(settings, "HOUQIN_SITE_URL", "") or "").rstrip("/")
    return f"{site}{path}" if site else request.build_absolute_uri(path)


def problem(request, title, message, *, status=403, school=None, tablet=False):
    """A clear page for a refused sign-in: what happened and what to do, never a traceback."""
    retry = f"{reverse('signin:start')}?{urlencode({'school': school.code})}" if school is not None else ""
    return render(request, "signin/problem.html", {
        "title": title, "message": message, "retry_url": retry, "tablet": tablet,
    }, status=status)


# Platform sign-in --------------------------------------------------------------------------------


def start(request):
    """Send the browser to the school's WeCom / DingTalk authorisation page with a fresh ``state``."""
    school = selectors.login_school(request.GET.get("school"))
    config = selectors.enabled_config(school)
    if config is None:
        return problem(request, _("Platform sign-in is not set up"), _(
            "This school has not switched on WeCom or DingTalk sign-in. Log in with your password."
        ), status=404)
    state = secrets.token_urlsafe(24)
    request.session[STATE_SESSION_KEY] = {
        "state": state, "school": school.pk, "next": safe_next(request, request.GET.get("next")),
        "at": int(time.time()),
    }
    redirect_uri = absolute_url(request, reverse("signin:callback"))
    url = providers.authorize_url(config, redirect_uri, state, user_agent=request.headers.get("User-Agent", ""))
    return HttpResponseRedirect(url)


def callback(request):
    """The platform sends the browser back here with ``code`` (DingTalk: ``authCode``) and ``state``."""
    pending = request.session.pop(STATE_SESSION_KEY, None)
    state = request.GET.get("state", "")
    if (not pending or not state or not hmac.compare_digest(str(pending.get("state", "")).encode(), state.encode())
            or time.time() - pending.get("at", 0) > STATE_MAX_AGE):
        return problem(request, _("Sign-in expired"), _(
            "The sign-in link has expired or was opened in another browser. Please start again."
        ), status=400)
    config = SigninConfig.objects.select_related("school").filter(school_id=pending["school"], enabled=True).first()
    if config is None:
        return problem(request, _("Platform sign-in is not set up"), _(
            "This school has not switched on WeCom or DingTalk sign-in. Log in with your password."
        ), status=404)
    code = request.GET.get("code") or request.GET.get("authCode") or ""
    if not code:
        return problem(request, _("Sign-in cancelled"), _(
            "%(platform)s did not confirm the sign-in; it may have been declined. Please try again."
        ) % {"platform": config.get_provider_display()}, status=400, school=config.school)
    try:
        identity = providers.fetch_identity(config, code)
    except providers.ProviderError as exc:
        return problem(request, _("Sign-in failed"), str(exc), status=502, school=config.school)
    match = services.match_identity(config, identity)
    if match.user is None:
        services.log_login_event(request, LoginEvent.Kind.FAILED, username=services.platform_login_name(identity))
        return problem(request, match.title, match.problem, school=config.school)
    login(request, match.user, backend=services.PLATFORM_BACKEND)
    services.link_platform_account(user=match.user, config=config, identity=identity)
    return HttpResponseRedirect(pending.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL))


@login_required
@permission_required("signin.manage_signin", raise_exception=True)
def config(request):
    school = request.user.school
    if school is None:
        return problem(request, _("No school"), _("This page belongs to a school's administrator."))
    instance = SigninConfig.objects.filter(school=school).first() or SigninConfig(school=school)
    form = SigninConfigForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in SigninConfigForm.Meta.fields}
        try:
            services.config_save(school=school, data=data, actor=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Saved."))
            return redirect("signin:config")
    return render(request, "signin/config.html", {
        "form": form, "callback_url": absolute_url(request, reverse("signin:callback")),
        "login_url": absolute_url(request, f"{reverse('login')}?{urlencode({'school': school.code})}"),
        "host": urlsplit(absolute_url(request, "/")).hostname,
    })


# Tablets: administration -------------------------------------------------------------------------


def _school_devices(request):
    return Device.objects.filter(school=request.user.school)


@login_required
@permission_required("signin.manage_devices", raise_exception=True)
def devices(request):
    form = DeviceForm(request.POST or None, initial={"kind": Device.Kind.GATE})
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in DeviceForm.Meta.fields}
        try:
            device = services.device_save(device=None, school=request.user.school, data=data, actor=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Tablet added. Create a pairing code and open it on the tablet."))
            return redirect("signin:device", pk=device.pk)
    return render(request, "signin/devices.html", {"devices": _school_devices(request), "form": form})


@login_required
@permission_required("signin.manage_devices", raise_exception=True)
def device(request, pk):
    obj = get_object_or_404(_school_devices(request), pk=pk)
    form = DeviceForm(request.POST or None, instance=obj, initial={"roles": obj.roles})
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in DeviceForm.Meta.fields}
        try:
            services.device_save(device=obj, school=obj.school, data=data, actor=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Saved."))
            return redirect("signin:device", pk=obj.pk)
    return render(request, "signin/device.html", {
        "device": obj, "form": form, "people": selectors.device_people(obj),
    })


@require_POST
@login_required
@permission_required("signin.manage_devices", raise_exception=True)
def device_pairing_code(request, pk):
    obj = get_object_or_404(_school_devices(request).filter(active=True), pk=pk)
    code, expires = services.device_start_pairing(device=obj, actor=request.user)
    shown = f"{code[:4]}-{code[4:]}"
    link = absolute_url(request, f"{reverse('signin:pair')}?{urlencode({'code': shown})}")
    return render(request, "signin/pairing_code.html", {"device": obj, "code": shown, "link": link,
                                                        "expires": expires})


@require_POST
@login_required
@permission_required("signin.manage_devices", raise_exception=True)
def device_unpair(request, pk):
    obj = get_object_or_404(_school_devices(request), pk=pk)
    services.device_unpair(device=obj, actor=request.user)
    messages.success(request, _("%(name)s is no longer paired; its PIN pad is closed.") % {"name": obj.name})
    return redirect("signin:device", pk=obj.pk)


# Tablets: pairing and the PIN pad ----------------------------------------------------------------


def pair(request):
    """Opened on the tablet: the one-time code (typed, or in the link) pairs this browser as the tablet."""
    form = PairForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        result = services.device_pair(code=form.cleaned_data["code"])
        if result is None:
            form.add_error("code", _("This pairing code is wrong, used or expired. Ask for a new one."))
        else:
            obj, token = result
            if request.user.is_authenticated:
                logout(request)  # the administrator's own session does not stay on the shared tablet
            response = HttpResponseRedirect(reverse("signin:tablet"))
            services.set_device_cookie(response, obj, token)
            messages.success(request, _("This tablet is now paired as %(name)s.") % {"name": obj.name})
            return response
    return render(request, "signin/pair.html", {"form": form})


def _tablet_or_problem(request):
    obj = services.device_from_request(request)
    if obj is None:
        return None, problem(request, _("Not a paired tablet"), _(
            "The PIN pad only opens on a shared tablet paired by the logistics office. Ask them for a pairing "
            "code, or log in with your password."
        ), tablet=True)
    services.device_touch(obj)
    return obj, None


def _in_device_session(request, obj) -> bool:
    return request.user.is_authenticated and request.session.get(DEVICE_SESSION_KEY) == obj.pk


def tablet(request):
    """The people of a paired tablet: each chooses their name, then types the PIN."""
    obj, refused = _tablet_or_problem(request)
    if refused:
        return refused
    return render(request, "signin/tablet_people.html", {
        "device": obj, "people": selectors.device_people(obj), "next": safe_next(request, request.GET.get("next")),
        "current": request.user if _in_device_session(request, obj) else None,
    })


def tablet_pin(request, staff_id):
    obj, refused = _tablet_or_problem(request)
    if refused:
        return refused
    person = get_object_or_404(selectors.device_people(obj), pk=staff_id)
    next_url = safe_next(request, request.POST.get("next"), request.GET.get("next"))
    form = PinLoginForm(request.POST or None)
    locked_until = None
    if request.method == "POST" and form.is_valid():
        result = services.pin_check(staff=person, pin=form.cleaned_data["pin"], request=request)
        if result.ok:
            login(request, person.user, backend=services.DEVICE_BACKEND)
            request.session[DEVICE_SESSION_KEY] = obj.pk
            request.session[SEEN_SESSION_KEY] = middleware.now()
            return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        if result.locked_until:
            locked_until = result.locked_until
        else:
            form.add_error("pin", _("Wrong PIN. %(n)d tries left before the PIN is locked for 15 minutes.")
                           % {"n": result.tries_left})
    elif request.method == "GET":
        record = getattr(person, "tablet_pin", None)
        if record is not None and record.locked_until and record.locked_until > timezone.now():
            locked_until = record.locked_until
    return render(request, "signin/tablet_pin.html", {
        "device": obj, "person": person, "form": form, "next": next_url, "digits": "123456789",
        "locked_until": locked_until,
    }, status=423 if locked_until else 200)


@require_POST
def tablet_switch(request):
    """换人 / 退出: end the person's tablet session and go back to the PIN pad."""
    if request.user.is_authenticated:
        logout(request)
    return redirect("signin:tablet")


# PINs --------------------------------------------------------------------------------------------


@login_required
def my_pin(request):
    staff = request.user.staff_or_none
    if staff is None:
        return problem(request, _("No staff record"), _("Only staff members can have a tablet PIN."))
    form = PinSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.pin_set(staff=staff, pin=form.cleaned_data["pin1"], actor=request.user)
        messages.success(request, _("Your tablet PIN is set."))
        return redirect("signin:my_pin")
    return render(request, "signin/my_pin.html", {"form": form, "record": getattr(staff, "tablet_pin", None)})


@login_required
@permission_required("signin.manage_devices", raise_exception=True)
def pins(request):
    q = request.GET.get("q", "").strip()[:30]
    people = selectors.pin_candidates(request.user.school)
    if q:
        people = people.filter(Q(name__icontains=q) | Q(search_keys__icontains=q.lower()))
    return render(request, "signin/pins.html", {"people": people[:300], "q": q, "now": timezone.now()})


@login_required
@permission_required("signin.manage_devices", raise_exception=True)
def pin_reset(request, staff_id):
    person = get_object_or_404(Staff.objects.filter(school=request.user.school), pk=staff_id)
    form = PinSetForm(request.POST or None)
    if request.method == "POST" and request.POST.get("clear"):
        services.pin_clear(staff=person, actor=request.user)
        messages.success(request, _("The tablet PIN of %(name)s is cleared.") % {"name": person.name})
        return redirect("signin:pins")
    if request.method == "POST" and form.is_valid():
        services.pin_set(staff=person, pin=form.cleaned_data["pin1"], actor=request.user)
        messages.success(request, _("The tablet PIN of %(name)s is set.") % {"name": person.name})
        return redirect("signin:pins")
    return render(request, "signin/pin_reset.html", {
        "form": form, "person": person, "record": getattr(person, "tablet_pin", None),
    })
