"""AST-7, AST-10 from a browser: the asset keeper depreciates January; the 会计 opens the month's 折旧计提表,
enters its 凭证号 and the finance ledger's balances (one difference, explained); both sign the 对账表 (the
accountant on a phone); the keeper closes the month; a card dated into it is then refused with the reason.
axe on every page visited; no page wider than the phone."""

import datetime
import re
from decimal import Decimal

import pytest

from .conftest import DESKTOP, PHONE, check_page, pick_lazy
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def month(django_db_blocker):
    """January 2024 of the demo school, with one booked computer on the books."""
    from conftest import _seed_if_empty

    with django_db_blocker.unblock():
        _seed_if_empty()
        from houqin.assets.models import Asset
        from houqin.assets.services import cards, closing
        from houqin.assets.tests.factories import _category, _room
        from houqin.org.models import School, User

        school = School.objects.get(code="3301001")
        keeper = User.objects.get(username="keeper")
        asset = cards.asset_create(school=school, actor=keeper, data={
            "name": "教师机", "category": _category(), "original_value": Decimal("6000.00"), "quantity": 1,
            "acquired_on": datetime.date(2024, 1, 8), "room": _room(1)})
        closing.book_cards(school=school, actor=keeper, cards=[asset], voucher_no="记-0001",
                           booked_on=datetime.date(2024, 1, 8))
        assert Asset.objects.filter(pk=asset.pk, booking="booked").exists()
        return closing.period_get(school, 2024, 1)


def test_a_month_is_depreciated_booked_reconciled_signed_closed_and_locked(page_factory, month):
    from houqin.assets.models import AccountingPeriod, Asset

    url = f"/assets/periods/{month.pk}/"
    keeper = page_factory(DESKTOP)
    keeper.on("dialog", lambda dialog: dialog.accept())
    _login(keeper, "keeper")
    keeper.goto("/assets/periods/")
    check_page(keeper, "close-1-months")
    keeper.goto(url)
    keeper.get_by_test_id("run-depreciation").click()
    keeper.wait_for_url(re.compile(r"/assets/periods/\d+/"))
    assert "83.33" in keeper.locator("#step-depreciation").inner_text()
    check_page(keeper, "close-2-depreciated")

    accountant = page_factory(PHONE)
    _login(accountant, "accountant")
    accountant.goto(url)
    accountant.get_by_role("link", name="折旧计提表").first.click()
    accountant.wait_for_url(re.compile(r"/depreciation/$"))
    assert "83.33" in accountant.get_by_test_id("depreciation-table").inner_text()
    check_page(accountant, "close-3-depreciation-table-phone")
    accountant.goto(url)
    accountant.get_by_label("凭证号").fill("记-0031")
    accountant.get_by_label("入账日期").fill("2024-01-31")
    accountant.get_by_test_id("save-voucher").click()
    accountant.wait_for_url(re.compile(r"#step-voucher$"))
    assert "记-0031" in accountant.locator("#step-voucher").inner_text()
    balances = accountant.locator("#step-balances")
    balances.get_by_label(re.compile("通用设备 财政拨款 固定资产")).fill("6000.00")
    balances.get_by_label(re.compile("通用设备 财政拨款 累计折旧")).fill("80.00")
    accountant.get_by_test_id("save-balances").click()
    accountant.wait_for_url(re.compile(r"#step-balances$"))
    assert "差异原因" in accountant.locator("#step-statement").inner_html()
    check_page(accountant, "close-4-statement-difference-phone")
    accountant.get_by_test_id("sign-finance").click()
    assert "没有说明" in accountant.locator("main").inner_text()  # an unexplained difference stops the signature
    accountant.get_by_label("差异说明").fill("财务少计提3.33元，2月凭证补记")
    accountant.locator("#step-statement").get_by_role("button", name="保存").click()
    accountant.wait_for_url(re.compile(r"#step-statement$"))
    accountant.get_by_test_id("sign-finance").click()
    accountant.wait_for_url(re.compile(r"#step-sign$"))
    assert "钱慧敏" in accountant.get_by_test_id("finance-signature").inner_text()
    assert accountant.get_by_test_id("close-month").count() == 0  # finance signs, the asset side closes

    keeper.goto(url)
    keeper.get_by_test_id("sign-keeper").click()
    keeper.wait_for_url(re.compile(r"#step-sign$"))
    keeper.get_by_test_id("close-month").click()
    keeper.wait_for_url(re.compile(r"#step-sign$"))
    assert AccountingPeriod.objects.get(pk=month.pk).status == "closed"
    assert "已结账" in keeper.locator("main").inner_text()
    check_page(keeper, "close-5-closed")

    # An edit into the closed month is refused with the reason; nothing is written.
    keeper.goto("/assets/cards/add/")
    keeper.locator("#id_name").fill("补录的打印机")
    if keeper.locator("select#id_category").count():
        keeper.locator("select#id_category").select_option(label="A02010105 台式计算机")
    else:
        pick_lazy(keeper, "id_category", "台式计算机")
    keeper.locator("#id_original_value").fill("3000")
    keeper.locator("#id_acquired_on").fill("2024-01-20")
    keeper.locator("#entity-form button[type=submit]").first.click()
    keeper.locator("main").get_by_text(re.compile("2024-01 已结账")).first.wait_for()
    assert not Asset.objects.filter(name="补录的打印机").exists()
    check_page(keeper, "close-6-refused")
