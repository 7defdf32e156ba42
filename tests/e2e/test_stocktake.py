"""AST-4 on a phone (375 px): a stocktake of one room by manual entry and by a keyboard-wedge scan (typed
text + Enter), one asset missing, one unexpected code; finish; the 后勤主任 approves; the 盘盈盘亏 report.
axe runs on the counting page, the detail page and the report."""

import datetime
import re
from decimal import Decimal

import pytest

from .conftest import PHONE, check_axe, check_page
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)



@pytest.fixture
def planned(demo):
    from django.utils import timezone

    from houqin.assets.models import Stocktake
    from houqin.assets.services import cards
    from houqin.assets.services import stocktake as st
    from houqin.assets.tests.factories import _category
    from houqin.org.models import Building, Room, School, User

    school = School.objects.get(code="3301001")
    keeper = User.objects.get(username="keeper")
    building = Building.objects.create(school=school, code="E2E", name="实训楼E")
    room = Room.objects.create(school=school, building=building, code="E2E-101", name="数控实训室")
    for code, name in (("E2E0001", "数控车床"), ("E2E0002", "台式计算机"), ("E2E0003", "投影仪")):
        cards.asset_create(school=school, actor=keeper, data={
            "code": code, "name": name, "category": _category(), "unit": "台", "quantity": 1,
            "original_value": Decimal("6800.00"), "acquired_on": timezone.localdate() - datetime.timedelta(days=90),
            "room": room})
    return st.stocktake_plan(school=school, actor=keeper, title="期末盘点（实训楼E）", planned_on=timezone.localdate(),
                             scope=Stocktake.Scope.BUILDING, building=building)


def _count(page, code: str, how: str) -> None:
    box = page.locator("#code-input")
    if how == "manual":
        box.fill(code)
        page.locator("#scan-form button[type=submit]").click()
    else:  # a keyboard-wedge scanner types the code and presses Enter into the focused field
        assert page.evaluate("() => document.activeElement.id") == "code-input"
        page.keyboard.type(code)
        page.keyboard.press("Enter")
    page.wait_for_function("c => document.getElementById('scan-result').textContent.includes(c)", arg=code)


def test_phone_stocktake_of_one_room(page_factory, planned):
    page = page_factory(PHONE)
    page.on("dialog", lambda d: d.accept())
    _login(page, "keeper")
    page.goto(f"/assets/stocktakes/{planned.pk}/")
    page.locator(f"form[action='/assets/stocktakes/{planned.pk}/start/'] button").click()
    page.wait_for_url(re.compile(r"/count/$"))
    check_axe(page, "stocktake-count-start")
    # Step 1: the room, typed as a scanner would read the door label.
    page.locator("#room-input").fill("ROOM:E2E-101")
    page.locator("#room-input").press("Enter")
    page.locator("#room-current").wait_for(state="visible")
    assert page.locator("[data-testid=count-missing]").inner_text() == "3"
    # Step 2: one by hand, one by the wedge scanner, one unexpected code; E2E0003 stays missing.
    _count(page, "E2E0001", "manual")
    _count(page, "E2E0002", "wedge")
    _count(page, "OLD-9999", "wedge")
    assert page.locator("[data-testid=count-found]").inner_text() == "2"
    assert page.locator("[data-testid=count-missing]").inner_text() == "1"
    assert page.locator("[data-testid=count-unexpected]").inner_text() == "1"
    assert "2" in page.locator("[data-testid=progress]").inner_text()
    queue_key = f"houqin.stocktake.{planned.pk}.queue"
    assert page.evaluate("k => JSON.parse(localStorage.getItem(k) || '[]').length", queue_key) == 0
    check_page(page, "stocktake-count-phone")
    # Finish from the detail page.
    page.goto(f"/assets/stocktakes/{planned.pk}/")
    page.locator(f"form[action='/assets/stocktakes/{planned.pk}/finish/'] button").click()
    page.wait_for_url(re.compile(r"/report/$"))

    director = page_factory(PHONE)
    director.on("dialog", lambda d: d.accept())
    _login(director, "director")
    director.goto(f"/assets/stocktakes/{planned.pk}/")
    check_page(director, "stocktake-detail-phone")
    director.locator(f"form[action='/assets/stocktakes/{planned.pk}/approve/'] button").click()
    director.wait_for_url(re.compile(rf"/assets/stocktakes/{planned.pk}/$"))
    assert "CZ" in director.inner_text("main")  # the draft 盘亏 disposal is named in the message
    director.goto(f"/assets/stocktakes/{planned.pk}/report/")
    text = director.inner_text("main")
    assert "E2E0003" in text and "OLD-9999" in text
    assert director.locator("tr[data-result=missing] td").first.inner_text() == "1"
    assert director.locator("tr[data-result=surplus] td").first.inner_text() == "1"
    check_page(director, "stocktake-report-phone")
