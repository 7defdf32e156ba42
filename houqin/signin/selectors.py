"""Read-only queries of the sign-in app; ``platform_user_id`` is for the notifications app."""

from __future__ import annotations

from django.db.models import Q

from houqin.org.models import School, Staff

from .models import Device, PlatformAccount, SigninConfig


def platform_user_id(user) -> tuple[str, str] | None:
    """(provider, id) to send this user an app message through the school's WeCom / DingTalk app.

    The id is the WeCom ``userid`` (``message/send`` ``touser``) or the DingTalk ``unionId`` (turned into a
    userid with ``topapi/user/getbyunionid`` before ``corpconversation`` messages). It is kept at each
    platform sign-in, for the platform the school currently uses; None when the person never signed in
    through it.
    """
    if user is None or not getattr(user, "pk", None) or not user.school_id:
        return None
    config = SigninConfig.objects.filter(school_id=user.school_id, enabled=True).first()
    if config is None:
        return None
    account = PlatformAccount.objects.filter(user=user, provider=config.provider).first()
    return (account.provider, account.platform_user_id) if account else None


def login_school(code: str | None) -> School | None:
    """The school a login page is for: ``?school=<code>``, or the only school of the deployment."""
    if code:
        return School.objects.filter(code=code).first()
    schools = list(School.objects.all()[:2])
    return schools[0] if len(schools) == 1 else None


def enabled_config(school: School | None) -> SigninConfig | None:
    if school is None:
        return None
    return SigninConfig.objects.filter(school=school, enabled=True).first()


def staff_by_mobile(school: School, mobile: str) -> list[Staff]:
    """Every staff record of the school with this (normalised) mobile number, active or not."""
    return list(Staff.objects.filter(school=school, mobile=mobile).select_related("user", "school"))


def _with_roles(qs, roles):
    return qs.filter(Q(user__groups__name__in=roles) | Q(departments__roles__name__in=roles)).distinct()


def device_people(device: Device):
    """The active staff allowed on this tablet (by role, directly or through a department) with a PIN."""
    roles = device.allowed_roles
    if not roles:
        return Staff.objects.none()
    qs = Staff.objects.filter(
        school_id=device.school_id, status=Staff.Status.ACTIVE, user__is_active=True, tablet_pin__isnull=False
    )
    return _with_roles(qs, roles).select_related("user").order_by("search_keys", "name")


def pin_candidates(school: School):
    """Staff who may use some tablet of the school, or already have a PIN (the administrator's PIN list)."""
    from .models import DEFAULT_DEVICE_ROLES

    roles = {r for d in Device.objects.filter(school=school) for r in d.allowed_roles}
    roles.update(r for rs in DEFAULT_DEVICE_ROLES.values() for r in rs)
    qs = Staff.objects.filter(school=school, status=Staff.Status.ACTIVE)
    with_role = _with_roles(qs, roles).values("pk")
    return (qs.filter(Q(pk__in=with_role) | Q(tablet_pin__isnull=False))
            .select_related("tablet_pin").order_by("search_keys", "name"))


def session_device(request) -> Device | None:
    """The shared tablet of a PIN session (a record may name it beside the person), else None."""
    from .middleware import DEVICE_SESSION_KEY
    from .services import device_from_request

    if not request.user.is_authenticated or not request.session.get(DEVICE_SESSION_KEY):
        return None
    device = device_from_request(request)
    return device if device is not None and device.pk == request.session[DEVICE_SESSION_KEY] else None
