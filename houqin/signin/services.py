"""Writes of the sign-in app: platform settings, platform sign-in, tablets and PINs; each audited."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core.audit import audit_record, serialize_for_audit
from houqin.core.models import AuditEntry, LoginEvent
from houqin.org.models import Staff
from houqin.org.validators import normalize_mobile

from . import selectors
from .models import Device, PlatformAccount, SigninConfig, StaffPin
from .providers import Identity

PLATFORM_BACKEND = "houqin.signin.backends.PlatformBackend"
DEVICE_BACKEND = "houqin.signin.backends.DeviceBackend"

DEVICE_COOKIE = "houqin_device"
DEVICE_COOKIE_SALT = "houqin.signin.device"
DEVICE_COOKIE_AGE = 5 * 365 * 24 * 3600  # a paired tablet stays paired until it is unpaired
PAIRING_MINUTES = 30
PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
PAIRING_LENGTH = 8


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def client_ip(request) -> str | None:
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None


def log_login_event(request, kind: str, *, user=None, username: str = "") -> None:
    """A login-log row for what the login signals do not see (refused platform sign-ins, PIN tries)."""
    LoginEvent.objects.create(
        user=user, username=(username or getattr(user, "username", ""))[:150], kind=kind,
        ip_address=client_ip(request), user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:300],
    )


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) == 11 else mobile


def platform_login_name(identity: Identity) -> str:
    """How a refused platform sign-in appears in the login log: platform and masked mobile (or user id)."""
    try:
        shown = mask_mobile(normalize_mobile(identity.mobile)) if identity.mobile else identity.user_id
    except ValidationError:
        shown = identity.user_id
    return f"{identity.provider}:{shown}"


# Platform settings -------------------------------------------------------------------------------


@transaction.atomic
def config_save(*, school, data: dict, actor) -> SigninConfig:
    """Create or update the school's sign-in settings; an empty ``secret`` keeps the stored one."""
    config = SigninConfig.objects.filter(school=school).first()
    before = serialize_for_audit(config, exclude=("secret",)) if config else None
    old_secret = config.secret if config else ""
    if config is None:
        config = SigninConfig(school=school)
    secret = (data.pop("secret", "") or "").strip()
    for field, value in data.items():
        setattr(config, field, value.strip() if isinstance(value, str) else value)
    if secret:
        config.secret = secret
    config.full_clean()
    config.save()
    after = serialize_for_audit(config, exclude=("secret",))
    message = "secret changed" if secret and secret != old_secret else ""
    audit_record(obj=config, action=AuditEntry.Action.UPDATE if before else AuditEntry.Action.CREATE,
                 actor=actor, before=before, after=after, message=message)
    return config


# Platform sign-in --------------------------------------------------------------------------------


@dataclass
class Match:
    user: object | None = None
    problem: str = ""  # a sentence for the person when no single account matched
    title: str = ""


def match_identity(config: SigninConfig, identity: Identity) -> Match:
    """The one active staff account of the config's school with the platform's mobile number.

    Without a mobile number (a WeCom app created since June 2022 signing in by QR code in an ordinary
    browser), the platform user id linked at an earlier sign-in inside the app is used instead.
    """
    school = config.school
    try:
        mobile = normalize_mobile(identity.mobile) if identity.mobile else ""
    except ValidationError:
        mobile = ""
    if not mobile:
        account = PlatformAccount.objects.filter(
            school=school, provider=identity.provider, platform_user_id=identity.user_id
        ).select_related("user").first() if identity.user_id else None
        staff = getattr(account.user, "staff_or_none", None) if account else None
        if staff is not None and staff.school_id == school.pk and staff.status == Staff.Status.ACTIVE \
                and staff.user.is_active:
            return Match(user=staff.user)
        return Match(title=_("No mobile number"), problem=_(
            "%(platform)s did not give your mobile number, so you cannot be matched to a staff member. "
            "Sign in once inside the %(platform)s app on your phone, or log in with your password."
        ) % {"platform": config.get_provider_display()})
    candidates = selectors.staff_by_mobile(school, mobile)
    active = [s for s in candidates if s.status == Staff.Status.ACTIVE and s.user.is_active]
    if len(active) == 1:
        return Match(user=active[0].user)
    if len(active) > 1:
        return Match(title=_("Several staff members match"), problem=_(
            "Several staff members of %(school)s have the mobile number %(mobile)s, so the sign-in cannot tell "
            "who you are. Ask the logistics office to correct the staff list."
        ) % {"school": school.name, "mobile": mask_mobile(mobile)})
    if candidates:
        return Match(title=_("Account disabled"), problem=_(
            "The staff account with the mobile number %(mobile)s is disabled. Ask the logistics office if you "
            "think this is a mistake."
        ) % {"mobile": mask_mobile(mobile)})
    return Match(title=_("No staff member matches"), problem=_(
        "No staff member of %(school)s has the mobile number %(mobile)s. Ask the logistics office to check "
        "your mobile number in the staff list."
    ) % {"school": school.name, "mobile": mask_mobile(mobile)})


@transaction.atomic
def link_platform_account(*, user, config: SigninConfig, identity: Identity) -> PlatformAccount | None:
    """Keep the platform user id of ``user`` (for app messages); a stale link of another account moves."""
    if not identity.user_id:
        return None
    PlatformAccount.objects.filter(
        school=config.school, provider=identity.provider, platform_user_id=identity.user_id
    ).exclude(user=user).delete()
    try:
        with transaction.atomic():
            account, _created = PlatformAccount.objects.update_or_create(
                user=user, provider=identity.provider,
                defaults={"school": config.school, "platform_user_id": identity.user_id,
                          "last_login_at": timezone.now()},
            )
    except IntegrityError:  # a concurrent sign-in of the same person: the other one won
        return None
    return account


# Tablets -----------------------------------------------------------------------------------------


@transaction.atomic
def device_save(*, device: Device | None, school, data: dict, actor) -> Device:
    before = serialize_for_audit(device, exclude=("token_hash", "pairing_code_hash")) if device else None
    if device is None:
        device = Device(school=school, created_by=actor)
    for field, value in data.items():
        setattr(device, field, value)
    device.full_clean()
    device.save()
    audit_record(obj=device, action=AuditEntry.Action.UPDATE if before else AuditEntry.Action.CREATE, actor=actor,
                 before=before, after=serialize_for_audit(device, exclude=("token_hash", "pairing_code_hash")))
    return device


def normalize_pairing_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


@transaction.atomic
def device_start_pairing(*, device: Device, actor) -> tuple[str, datetime.datetime]:
    """A one-time pairing code for ``device``, valid for 30 minutes; returns (code, expiry)."""
    code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_LENGTH))
    device.pairing_code_hash = _sha256(code)
    device.pairing_expires_at = timezone.now() + datetime.timedelta(minutes=PAIRING_MINUTES)
    device.save(update_fields=["pairing_code_hash", "pairing_expires_at", "updated_at"])
    audit_record(obj=device, action=AuditEntry.Action.ACCOUNT, actor=actor, message="pairing code issued")
    return code, device.pairing_expires_at


@transaction.atomic
def device_pair(*, code: str) -> tuple[Device, str] | None:
    """Pair the tablet presenting a valid pairing code; returns (device, device token) or None.

    The token goes into the tablet's signed cookie; only its hash is stored. The code works once.
    """
    code = normalize_pairing_code(code)
    if len(code) != PAIRING_LENGTH:
        return None
    device = (Device.objects.select_for_update()
              .filter(pairing_code_hash=_sha256(code), pairing_expires_at__gt=timezone.now(), active=True).first())
    if device is None:
        return None
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    device.token_hash = _sha256(token)
    device.pairing_code_hash = ""
    device.pairing_expires_at = None
    device.paired_at = device.last_seen = now
    device.save(update_fields=["token_hash", "pairing_code_hash", "pairing_expires_at", "paired_at", "last_seen",
                               "updated_at"])
    audit_record(obj=device, action=AuditEntry.Action.ACCOUNT, actor=None, message="tablet paired")
    return device, token


@transaction.atomic
def device_unpair(*, device: Device, actor) -> Device:
    device.token_hash = ""
    device.pairing_code_hash = ""
    device.pairing_expires_at = None
    device.save(update_fields=["token_hash", "pairing_code_hash", "pairing_expires_at", "updated_at"])
    audit_record(obj=device, action=AuditEntry.Action.ACCOUNT, actor=actor, message="tablet unpaired")
    return device


def set_device_cookie(response, device: Device, token: str) -> None:
    response.set_signed_cookie(
        DEVICE_COOKIE, f"{device.pk}:{token}", salt=DEVICE_COOKIE_SALT, max_age=DEVICE_COOKIE_AGE,
        httponly=True, samesite="Lax", secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
    )


def device_from_request(request) -> Device | None:
    """The active, paired tablet this browser's signed cookie names (cached on the request)."""
    if hasattr(request, "_houqin_device"):
        return request._houqin_device
    device = None
    value = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_COOKIE_SALT)
    if value and ":" in value:
        pk, token = value.split(":", 1)
        if pk.isascii() and pk.isdigit():
            found = Device.objects.select_related("school").filter(pk=int(pk), active=True).first()
            if found is not None and found.token_hash and hmac.compare_digest(found.token_hash, _sha256(token)):
                device = found
    request._houqin_device = device
    return device


def device_touch(device: Device) -> None:
    """Record that the tablet was used (at most once a minute)."""
    now = timezone.now()
    if device.last_seen is None or now - device.last_seen > datetime.timedelta(minutes=1):
        Device.objects.filter(pk=device.pk).update(last_seen=now)
        device.last_seen = now


# PINs --------------------------------------------------------------------------------------------

PIN_RE = re.compile(r"\d{4,6}", re.ASCII)


def validate_pin(pin: str) -> None:
    """4–6 digits, not one digit repeated, not a run of consecutive digits (up or down, 9→0 wraps)."""
    if not PIN_RE.fullmatch(pin or ""):
        raise ValidationError(_("The PIN must be 4 to 6 digits."), code="pin_format")
    if len(set(pin)) == 1:
        raise ValidationError(_("The PIN must not be one digit repeated, such as 1111."), code="pin_repeated")
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {9}):
        raise ValidationError(
            _("The PIN must not be a run of consecutive digits, such as 1234 or 4321."), code="pin_sequence"
        )


@transaction.atomic
def pin_set(*, staff: Staff, pin: str, actor) -> StaffPin:
    """Set ``staff``'s tablet PIN (by the person, or by an administrator); clears wrong tries and lock."""
    validate_pin(pin)
    record, _created = StaffPin.objects.update_or_create(staff=staff, defaults={
        "pin_hash": make_password(pin), "failed_attempts": 0, "locked_until": None, "set_at": timezone.now(),
        "set_by": actor,
    })
    own = actor is not None and actor.pk == staff.user_id
    audit_record(obj=staff, action=AuditEntry.Action.ACCOUNT, actor=actor,
                 message="tablet PIN set" if own else "tablet PIN reset by administrator")
    return record


@transaction.atomic
def pin_clear(*, staff: Staff, actor) -> None:
    if StaffPin.objects.filter(staff=staff).delete()[0]:
        audit_record(obj=staff, action=AuditEntry.Action.ACCOUNT, actor=actor, message="tablet PIN cleared")


def pin_failure_limit() -> int:
    return int(getattr(settings, "AXES_FAILURE_LIMIT", 5))


def pin_cooloff() -> datetime.timedelta:
    hours = getattr(settings, "AXES_COOLOFF_TIME", 0.25)
    return hours if isinstance(hours, datetime.timedelta) else datetime.timedelta(hours=float(hours))


@dataclass
class PinResult:
    ok: bool = False
    tries_left: int = 0
    locked_until: datetime.datetime | None = None


def pin_check(*, staff: Staff, pin: str, request=None) -> PinResult:
    """Check ``staff``'s PIN: 5 wrong tries in a row lock it for 15 minutes (the same limits as axes).

    Failures and lockouts go to the login log; a success is logged by the login itself.
    """
    with transaction.atomic():
        record = StaffPin.objects.select_for_update().filter(staff=staff).first()
        now = timezone.now()
        if record is None:
            return PinResult()
        if record.locked_until and record.locked_until > now:
            return PinResult(locked_until=record.locked_until)
        if check_password(pin, record.pin_hash):
            if record.failed_attempts or record.locked_until:
                record.failed_attempts, record.locked_until = 0, None
                record.save(update_fields=["failed_attempts", "locked_until"])
            return PinResult(ok=True)
        record.failed_attempts += 1
        locked = record.failed_attempts >= pin_failure_limit()
        if locked:
            record.locked_until = now + pin_cooloff()
            record.failed_attempts = 0
        record.save(update_fields=["failed_attempts", "locked_until"])
    log_login_event(request, LoginEvent.Kind.FAILED, user=staff.user)
    if locked:
        log_login_event(request, LoginEvent.Kind.LOCKED, user=staff.user)
        return PinResult(locked_until=record.locked_until)
    return PinResult(tries_left=pin_failure_limit() - record.failed_attempts)
