"""Shared gate / canteen tablets: pairing, PINs, the PIN pad, idle timeout, lockout, no administration."""

import datetime
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from houqin.core.models import AuditEntry, LoginEvent
from houqin.org.models import Building, Room
from houqin.signin import middleware, selectors, services
from houqin.signin.models import Device, StaffPin


def _says(response, msgid) -> bool:
    return escape(_(msgid)) in response.content.decode()


def _pair(admin_client, tablet_client, name="东门岗亭", kind="gate", roles=()):
    """The administrator adds a tablet and creates a code; the tablet opens the link and pairs."""
    data = {"name": name, "kind": kind, "active": "on", "roles": list(roles)}
    added = admin_client.post(reverse("signin:devices"), data)
    assert added.status_code == 302, added.content.decode()[-2000:]
    device = Device.objects.get(name=name)
    shown = admin_client.post(reverse("signin:device_pairing_code", args=[device.pk]))
    assert shown.status_code == 200
    code = re.search(r"<strong>([A-Z0-9]{4}-[A-Z0-9]{4})</strong>", shown.content.decode()).group(1)
    assert f"/signin/pair/?code={code}" in shown.content.decode()
    form = tablet_client.get(reverse("signin:pair"), {"code": code})
    assert form.status_code == 200 and code in form.content.decode()
    paired = tablet_client.post(reverse("signin:pair"), {"code": code.lower()})  # typed in lower case
    assert paired.status_code == 302 and paired["Location"] == reverse("signin:tablet")
    assert services.DEVICE_COOKIE in paired.cookies
    device.refresh_from_db()
    return device, code


@pytest.fixture
def admin_client(personas):
    c = Client()
    c.force_login(personas["logistics_director"])
    return c


@pytest.fixture
def tablet_client():
    return Client()


def _pin_login(tablet_client, staff, pin, **params):
    return tablet_client.post(reverse("signin:tablet_pin", args=[staff.pk]), {"pin": pin, **params})


def _user_id(c):
    value = c.session.get(SESSION_KEY)
    return int(value) if value else None


# Pairing -----------------------------------------------------------------------------------------


def test_pairing_code_pairs_one_tablet_once(admin_client, tablet_client, school):
    device, code = _pair(admin_client, tablet_client)
    assert device.is_paired and device.paired_at and not device.pairing_code_hash
    assert device.school == school and device.allowed_roles == ("guard",)
    assert tablet_client.get(reverse("signin:tablet")).status_code == 200
    again = Client().post(reverse("signin:pair"), {"code": code})
    assert again.status_code == 200
    assert _says(again, "This pairing code is wrong, used or expired. Ask for a new one.")
    messages = list(AuditEntry.objects.filter(content_type__model="device", object_id=str(device.pk))
                    .values_list("message", flat=True))
    assert {"pairing code issued", "tablet paired"} <= set(messages)


def test_expired_pairing_code_is_refused(admin_client, tablet_client, personas, school):
    device = Device.objects.create(school=school, name="食堂平板", kind="canteen")
    code, _expires = services.device_start_pairing(device=device, actor=personas["sysadmin"])
    Device.objects.filter(pk=device.pk).update(pairing_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert services.device_pair(code=code) is None


def test_browser_that_is_not_paired_cannot_open_the_pin_pad(admin_client, tablet_client, personas, make_staff):
    guard = make_staff(name="门卫甲", roles=["guard"])
    services.pin_set(staff=guard, pin="2580", actor=guard.user)
    response = Client().get(reverse("signin:tablet"))
    assert response.status_code == 403 and _says(response, "Not a paired tablet")
    assert Client().post(reverse("signin:tablet_pin", args=[guard.pk]), {"pin": "2580"}).status_code == 403
    # A forged or tampered cookie is no better.
    forged = Client()
    forged.cookies[services.DEVICE_COOKIE] = "1:made-up-token"
    assert forged.get(reverse("signin:tablet")).status_code == 403
    # An unpaired tablet loses its pad.
    device, _code = _pair(admin_client, tablet_client)
    admin_client.post(reverse("signin:device_unpair", args=[device.pk]))
    assert tablet_client.get(reverse("signin:tablet")).status_code == 403


def test_only_administrators_manage_tablets(client, personas):
    client.force_login(personas["guard"])
    assert client.get(reverse("signin:devices")).status_code == 403
    assert client.get(reverse("signin:pins")).status_code == 403
    client.force_login(personas["sysadmin"])
    assert client.get(reverse("signin:devices")).status_code == 200


# PINs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pin,msgid", [
    ("123", "The PIN must be 4 to 6 digits."),
    ("1234567", "The PIN must be 4 to 6 digits."),
    ("12a4", "The PIN must be 4 to 6 digits."),
    ("１３５７", "The PIN must be 4 to 6 digits."),  # full-width digits
    ("1111", "The PIN must not be one digit repeated, such as 1111."),
    ("000000", "The PIN must not be one digit repeated, such as 1111."),
    ("1234", "The PIN must not be a run of consecutive digits, such as 1234 or 4321."),
    ("4321", "The PIN must not be a run of consecutive digits, such as 1234 or 4321."),
    ("456789", "The PIN must not be a run of consecutive digits, such as 1234 or 4321."),
    ("7890", "The PIN must not be a run of consecutive digits, such as 1234 or 4321."),
    ("98765", "The PIN must not be a run of consecutive digits, such as 1234 or 4321."),
])
def test_weak_pins_are_refused_with_a_reason(pin, msgid):
    with pytest.raises(ValidationError) as exc:
        services.validate_pin(pin)
    assert exc.value.messages == [_(msgid)]


@pytest.mark.parametrize("pin", ["2580", "1357", "1122", "908172", "123459"])
def test_good_pins_are_accepted(pin):
    services.validate_pin(pin)


def test_person_sets_own_pin_on_the_account_page(client, personas):
    guard = personas["guard"]
    client.force_login(guard)
    weak = client.post(reverse("signin:my_pin"), {"pin1": "1234", "pin2": "1234"})
    assert weak.status_code == 200
    assert _says(weak, "The PIN must not be a run of consecutive digits, such as 1234 or 4321.")
    differ = client.post(reverse("signin:my_pin"), {"pin1": "2580", "pin2": "2581"})
    assert _says(differ, "The two PINs differ.")
    assert client.post(reverse("signin:my_pin"), {"pin1": "2580", "pin2": "2580"}).status_code == 302
    record = StaffPin.objects.get(staff=guard.staff)
    assert record.pin_hash != "2580" and record.set_by == guard
    assert AuditEntry.objects.filter(content_type__model="staff", object_id=str(guard.staff.pk), message="tablet PIN set").exists()
    # The menu offers the page to the people who use tablets.
    assert reverse("signin:my_pin") in client.get(reverse("core:dashboard")).content.decode()


def test_account_without_staff_record_has_no_pin(client, personas):
    client.force_login(personas["bureau"])
    assert client.get(reverse("signin:my_pin")).status_code == 403


def test_administrator_sets_and_clears_a_pin(admin_client, make_staff):
    cook = make_staff(name="厨师甲", roles=["canteen_manager"])
    listing = admin_client.get(reverse("signin:pins"))
    assert "厨师甲" in listing.content.decode()
    weak = admin_client.post(reverse("signin:pin_reset", args=[cook.pk]), {"pin1": "0000", "pin2": "0000"})
    assert weak.status_code == 200 and not StaffPin.objects.filter(staff=cook).exists()
    assert admin_client.post(reverse("signin:pin_reset", args=[cook.pk]),
                             {"pin1": "4826", "pin2": "4826"}).status_code == 302
    assert StaffPin.objects.filter(staff=cook).exists()
    assert AuditEntry.objects.filter(content_type__model="staff", object_id=str(cook.pk), message="tablet PIN reset by administrator").exists()
    assert admin_client.post(reverse("signin:pin_reset", args=[cook.pk]), {"clear": "1"}).status_code == 302
    assert not StaffPin.objects.filter(staff=cook).exists()


# The PIN pad -------------------------------------------------------------------------------------


def test_pad_lists_the_people_of_the_device_kind(admin_client, tablet_client, make_staff):
    guard = make_staff(name="门卫乙", roles=["guard"])
    cook = make_staff(name="厨师乙", roles=["canteen_manager"])
    no_pin = make_staff(name="门卫丙", roles=["guard"])
    for person in (guard, cook):
        services.pin_set(staff=person, pin="3691", actor=person.user)
    _pair(admin_client, tablet_client)
    page = tablet_client.get(reverse("signin:tablet")).content.decode()
    assert guard.name in page and cook.name not in page and no_pin.name not in page
    assert tablet_client.get(reverse("signin:tablet_pin", args=[cook.pk])).status_code == 404

    pad = tablet_client.get(reverse("signin:tablet_pin", args=[guard.pk])).content.decode()
    # Accessible: a labelled input and real buttons.
    assert re.search(r'<label[^>]+for="id_pin"', pad) and 'id="id_pin"' in pad
    assert pad.count('<button type="button" class="pin-key"') >= 10

    canteen = Client()
    _pair(admin_client, canteen, name="一食堂平板", kind="canteen")
    page = canteen.get(reverse("signin:tablet")).content.decode()
    assert cook.name in page and guard.name not in page


def test_pin_login_records_are_audited_under_the_person(admin_client, tablet_client, school, make_staff):
    clerk = make_staff(name="干事丁", roles=["logistics_clerk"])
    services.pin_set(staff=clerk, pin="5170", actor=clerk.user)
    device, _code = _pair(admin_client, tablet_client, name="总务处平板", kind="other", roles=["logistics_clerk"])
    response = _pin_login(tablet_client, clerk, "5170")
    assert response.status_code == 302 and response["Location"] == reverse("core:dashboard")
    assert _user_id(tablet_client) == clerk.user_id
    assert tablet_client.session[middleware.DEVICE_SESSION_KEY] == device.pk
    assert LoginEvent.objects.filter(user=clerk.user, kind=LoginEvent.Kind.LOGIN).exists()
    # Not sent to the password change although the account is fresh.
    dashboard = tablet_client.get(reverse("core:dashboard"))
    assert dashboard.status_code == 200
    assert selectors.session_device(dashboard.wsgi_request) == device

    building = Building.objects.filter(school=school).first()
    created = tablet_client.post(reverse("org:room_add"), {
        "building": building.pk, "code": "PAD-1", "name": "平板登记室", "floor": 1, "kind": "office",
    })
    assert created.status_code == 302, created.content.decode()[-2000:]
    room = Room.objects.get(school=school, code="PAD-1")
    entry = AuditEntry.objects.get(content_type__model="room", object_id=str(room.pk), action="create")
    assert entry.actor == clerk.user


def test_idle_tablet_session_ends_and_returns_to_the_pad(admin_client, tablet_client, make_staff, monkeypatch):
    guard = make_staff(name="门卫戊", roles=["guard"])
    services.pin_set(staff=guard, pin="8642", actor=guard.user)
    _pair(admin_client, tablet_client)
    clock = [1_000_000.0]
    monkeypatch.setattr(middleware, "now", lambda: clock[0])
    assert _pin_login(tablet_client, guard, "8642").status_code == 302
    page = tablet_client.get(reverse("core:dashboard"))
    assert page.status_code == 200
    assert page["Refresh"] == f"{3 * 60 + 5}; url={reverse('signin:tablet')}"  # the screen goes back by itself

    clock[0] += 170  # still within 3 minutes of the last request
    assert tablet_client.get(reverse("core:dashboard")).status_code == 200
    clock[0] += 181  # more than 3 idle minutes
    response = tablet_client.get(reverse("core:dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("signin:tablet")
    assert _user_id(tablet_client) is None
    assert LoginEvent.objects.filter(user=guard.user, kind=LoginEvent.Kind.LOGOUT).exists()
    assert tablet_client.get(reverse("signin:tablet")).status_code == 200  # the pad, not a refusal


def test_switching_person_ends_the_session(admin_client, tablet_client, make_staff):
    guard = make_staff(name="门卫己", roles=["guard"])
    services.pin_set(staff=guard, pin="7531", actor=guard.user)
    _pair(admin_client, tablet_client)
    _pin_login(tablet_client, guard, "7531")
    response = tablet_client.post(reverse("signin:tablet_switch"))
    assert response.status_code == 302 and response["Location"] == reverse("signin:tablet")
    assert _user_id(tablet_client) is None
    # The shell's "Log out" ends on the login page, which a paired tablet turns into the pad.
    _pin_login(tablet_client, guard, "7531")
    assert tablet_client.post(reverse("logout"))["Location"] == reverse("login")
    assert tablet_client.get(reverse("login"))["Location"] == reverse("signin:tablet")
    assert tablet_client.get(reverse("login"), {"password": "1"}).status_code == 200


def test_five_wrong_pins_lock_the_pin_for_fifteen_minutes(admin_client, tablet_client, make_staff):
    guard = make_staff(name="门卫庚", roles=["guard"])
    services.pin_set(staff=guard, pin="1470", actor=guard.user)
    _pair(admin_client, tablet_client)
    for n in range(4):
        wrong = _pin_login(tablet_client, guard, "9999")
        assert wrong.status_code == 200
        assert escape(_("Wrong PIN. %(n)d tries left before the PIN is locked for 15 minutes.") % {"n": 4 - n}) \
            in wrong.content.decode()
    locked = _pin_login(tablet_client, guard, "9999")
    assert locked.status_code == 423
    record = StaffPin.objects.get(staff=guard)
    assert record.locked_until > timezone.now() + datetime.timedelta(minutes=14)
    assert LoginEvent.objects.filter(user=guard.user, kind=LoginEvent.Kind.FAILED).count() == 5
    assert LoginEvent.objects.filter(user=guard.user, kind=LoginEvent.Kind.LOCKED).count() == 1
    # The right PIN does not open a locked PIN, on this tablet or another.
    assert _pin_login(tablet_client, guard, "1470").status_code == 423
    assert _user_id(tablet_client) is None
    # After 15 minutes it works again.
    StaffPin.objects.filter(pk=record.pk).update(locked_until=timezone.now() - datetime.timedelta(seconds=1))
    assert _pin_login(tablet_client, guard, "1470").status_code == 302
    assert _user_id(tablet_client) == guard.user_id


def test_administrator_reset_lifts_the_lock(admin_client, tablet_client, make_staff):
    guard = make_staff(name="门卫辛", roles=["guard"])
    services.pin_set(staff=guard, pin="1470", actor=guard.user)
    _pair(admin_client, tablet_client)
    for _n in range(5):
        _pin_login(tablet_client, guard, "0852")
    assert tablet_client.get(reverse("signin:tablet_pin", args=[guard.pk])).status_code == 423
    admin_client.post(reverse("signin:pin_reset", args=[guard.pk]), {"pin1": "3907", "pin2": "3907"})
    assert _pin_login(tablet_client, guard, "3907").status_code == 302


def test_tablet_session_cannot_reach_administration(admin_client, tablet_client, make_staff, personas):
    """Even a person who is also a system administrator gets no account pages on a shared tablet."""
    admin_guard = make_staff(name="兼管员", roles=["guard", "sysadmin"])
    services.pin_set(staff=admin_guard, pin="6284", actor=admin_guard.user)
    own = Client()
    own.force_login(admin_guard.user)
    admin_guard.user.__class__.objects.filter(pk=admin_guard.user_id).update(must_change_password=False)
    assert own.get(reverse("core:login_log")).status_code == 200  # on the person's own computer
    assert selectors.session_device(own.get(reverse("core:dashboard")).wsgi_request) is None
    _pair(admin_client, tablet_client)
    assert _pin_login(tablet_client, admin_guard, "6284").status_code == 302
    assert tablet_client.get(reverse("core:login_log")).status_code == 403
    assert tablet_client.get(reverse("core:lockouts")).status_code == 403
    assert tablet_client.get(reverse("signin:devices")).status_code == 403
    assert tablet_client.get(reverse("signin:my_pin")).status_code == 403  # nobody changes the PIN here
    victim = personas["teacher"].staff
    assert tablet_client.post(reverse("org:staff_reset_password", args=[victim.pk])).status_code == 403
    assert tablet_client.get(reverse("core:dashboard")).status_code == 200  # ordinary pages work


def test_deactivated_tablet_ends_its_sessions(admin_client, tablet_client, make_staff):
    guard = make_staff(name="门卫壬", roles=["guard"])
    services.pin_set(staff=guard, pin="5038", actor=guard.user)
    device, _code = _pair(admin_client, tablet_client)
    _pin_login(tablet_client, guard, "5038")
    Device.objects.filter(pk=device.pk).update(active=False)
    response = tablet_client.get(reverse("core:dashboard"))
    assert response.status_code == 302 and _user_id(tablet_client) is None
    assert tablet_client.get(reverse("signin:tablet")).status_code == 403


def test_session_copied_to_another_browser_is_ended(admin_client, tablet_client, make_staff):
    guard = make_staff(name="门卫癸", roles=["guard"])
    services.pin_set(staff=guard, pin="5038", actor=guard.user)
    _pair(admin_client, tablet_client)
    _pin_login(tablet_client, guard, "5038")
    thief = Client()
    thief.cookies["sessionid"] = tablet_client.cookies["sessionid"].value  # without the tablet cookie
    response = thief.get(reverse("core:dashboard"))
    assert response.status_code == 302
    assert tablet_client.get(reverse("core:dashboard")).status_code == 302  # the session is gone
