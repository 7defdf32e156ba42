"""The tablet from a browser (Chromium, phone width): pairing, the people list and the PIN pad, axe-checked."""

import os
import re
from pathlib import Path

import pytest

from houqin.signin import services
from houqin.signin.models import Device
from tests.e2e.conftest import CHROMIUM, PHONE, check_axe, no_horizontal_overflow, shot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # as in tests/e2e: ORM calls beside Playwright's loop
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def tablet_browser():
    """This module's own Chromium, closed at the end of the module so that tests/e2e can start its own."""
    from playwright.sync_api import Error, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    try:
        manager = sync_playwright().start()
    except Error as exc:  # tests/e2e's session browser is already running in this process
        pytest.skip(f"another Playwright instance is running: {exc}")
    b = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
    yield b
    b.close()
    manager.stop()


@pytest.fixture
def page_factory(tablet_browser, live_server):
    contexts = []

    def make(viewport):
        ctx = tablet_browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server.url)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def test_pair_then_sign_in_with_the_pin_pad(page_factory, school, personas, make_staff):
    guard = make_staff(name="门卫郑", roles=["guard"])
    services.pin_set(staff=guard, pin="2580", actor=guard.user)
    device = Device.objects.create(school=school, name="东门岗亭", kind=Device.Kind.GATE)
    code, _expires = services.device_start_pairing(device=device, actor=personas["sysadmin"])

    page = page_factory(PHONE)
    page.goto(f"/signin/pair/?code={code[:4]}-{code[4:]}")
    check_axe(page, "signin-pair")
    page.locator("form.houqin-form button[type=submit]").click()
    page.wait_for_url("**/signin/tablet/")
    assert page.get_by_role("link", name=re.compile("门卫郑")).is_visible()
    assert no_horizontal_overflow(page)
    check_axe(page, "signin-tablet-people")
    shot(page, "signin-01-people-phone")

    page.get_by_role("link", name=re.compile("门卫郑")).click()
    pin = page.locator("#id_pin")
    for digit in "2581":
        page.get_by_role("button", name=digit, exact=True).click()
    page.locator("[data-action=back]").click()  # labelled "delete the last digit"
    page.get_by_role("button", name="0", exact=True).click()
    assert pin.input_value() == "2580"
    page.get_by_role("button", name="7", exact=True).focus()
    page.keyboard.press("Tab")  # keyboard focus on "8"
    assert page.evaluate("() => document.activeElement.textContent") == "8"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    assert no_horizontal_overflow(page)
    check_axe(page, "signin-tablet-pin")
    shot(page, "signin-02-pin-phone")
    page.locator(".pin-actions button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("text=门卫郑").first.is_visible()


def _password_login(page, username):
    from houqin.core.demo import DEMO_PASSWORD

    page.goto("/login/")
    page.get_by_label("用户名、工号或手机号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")


def test_administration_pages_pass_axe(page_factory, school, personas):
    page = page_factory(PHONE)
    _password_login(page, "director")
    page.goto("/signin/devices/")
    check_axe(page, "signin-devices")
    page.locator("#id_name").fill("北门岗亭")
    page.locator("form.houqin-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/signin/devices/\d+/$"))
    check_axe(page, "signin-device")
    page.locator("form[action$='/pairing-code/'] button").click()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", page.locator(".pairing-code strong").inner_text())
    check_axe(page, "signin-pairing-code")
    page.goto("/signin/pins/")
    check_axe(page, "signin-pins")
    page.goto("/signin/pin/")
    check_axe(page, "signin-my-pin")
    assert no_horizontal_overflow(page)

    admin = page_factory(PHONE)
    _password_login(admin, "admin")
    admin.goto("/signin/settings/")
    check_axe(admin, "signin-settings")
    assert no_horizontal_overflow(admin)
    shot(admin, "signin-03-settings-phone")
