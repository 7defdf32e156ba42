"""AST-8 from a browser. The 资产管理员 puts an empty room on the idle register, writes a lease of it to a tenant,
tries to put it in force without the approval number (the page names what is missing and the rule), fills in the
approval and the public tender, and puts it in force; the 会计 then records the first month's rent from the rent
schedule. The idle register and the rent report are checked at phone width. axe and the English-leak check on
every page visited."""

import re

import pytest

from .conftest import DESKTOP, PHONE, check_page, pick_lazy
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lease_setup(django_db_blocker):
    """The demo school, an empty room of our own and a tenant."""
    from conftest import _seed_if_empty

    with django_db_blocker.unblock():
        _seed_if_empty()
        from houqin.assets.tests.factories_leases import TenantFactory, _new_room

        room = _new_room()
        room.name = "旧琴房"
        room.save(update_fields=["name"])
        return {"room": room, "tenant": TenantFactory(name="西湖艺术培训有限公司")}


def test_keeper_leases_an_idle_room_and_the_accountant_records_the_rent(page_factory, lease_setup):
    from houqin.assets.models import IdleRoom, Lease, RentReceipt

    room, tenant = lease_setup["room"], lease_setup["tenant"]
    page = page_factory(DESKTOP)
    _login(page, "keeper")

    # 1. The room goes on the idle register.
    page.goto("/assets/idle-rooms/add/")
    pick_lazy(page, "id_room", room.name)
    page.locator("#id_since").fill("2026-01-05")
    page.locator("#id_area").fill("86.5")
    page.locator("#id_reason").fill("音乐专业停招后空置")
    check_page(page, "leases-1-idle-room-form")
    page.locator("#entity-form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/assets/idle-rooms/\d+/$"))
    record = IdleRoom.objects.get(room=room)
    assert record.status == IdleRoom.Status.IDLE
    check_page(page, "leases-2-idle-room")

    # 2. A draft lease of it.
    page.goto("/assets/leases/add/")
    pick_lazy(page, "id_tenant", tenant.name)
    page.get_by_label(str(record.room)).check()
    page.locator("#id_purpose").fill("少儿钢琴培训")
    page.locator("#id_start_on").fill("2026-02-01")
    page.locator("#id_end_on").fill("2027-01-31")
    page.locator("#id_rent_amount").fill("4500")
    page.locator("#id_rent_period").select_option("monthly")
    page.locator("#id_deposit").fill("9000")
    check_page(page, "leases-3-lease-form")
    page.locator("#entity-form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/assets/leases/\d+/$"))
    lease = Lease.objects.get(tenant=tenant)
    assert lease.status == Lease.Status.DRAFT
    check_page(page, "leases-4-lease-draft")

    # 3. Put in force without the approval number: refused, the page says what is missing and why.
    page.locator(f"a[href='/assets/leases/{lease.pk}/activate/']").click()
    page.wait_for_url(re.compile(r"/activate/$"))
    page.get_by_test_id("activate-submit").click()
    error = page.locator(".has-error .invalid-feedback").first
    error.wait_for()
    text = page.locator("main").inner_text()
    assert "批复文号" in text and "财政部令第36号" in text and "国务院令第738号" in text
    lease.refresh_from_db()
    assert lease.status == Lease.Status.DRAFT
    check_page(page, "leases-5-activate-refused")

    # 4. With the approval and the public tender it comes into force, with its rent schedule.
    page.locator("#id_approval_doc_no").fill("杭教资〔2026〕8号")
    page.locator("#id_approval_authority").fill("杭州市教育局")
    page.locator("#id_tender_platform").fill("杭州市公共资源交易中心")
    page.locator("#id_tender_notice_no").fill("HZGZ-2026-0015")
    page.locator("#id_tender_on").fill("2026-01-20")
    page.get_by_test_id("activate-submit").click()
    page.wait_for_url(re.compile(rf"/assets/leases/{lease.pk}/$"))
    page.locator(".alert-success").wait_for()
    lease.refresh_from_db()
    record.refresh_from_db()
    assert lease.status == Lease.Status.ACTIVE and lease.installments.count() == 12
    assert record.status == IdleRoom.Status.LEASED
    check_page(page, "leases-6-lease-in-force")

    # 5. The accountant records the first month's rent from the schedule.
    first = lease.installments.order_by("seq").first()
    accountant = page_factory(DESKTOP)
    _login(accountant, "accountant")
    accountant.goto(f"/assets/rent/?lease={lease.pk}")
    check_page(accountant, "leases-7-rent-schedule")
    accountant.goto(f"/assets/rent/{first.pk}/")
    accountant.locator(f"a[href='/assets/rent-receipts/add/?installment={first.pk}']").click()
    accountant.wait_for_url(re.compile(r"/assets/rent-receipts/add/"))
    assert accountant.locator("#id_amount").input_value() in ("4500.00", "4500")
    accountant.locator("#id_receipt_no").fill("3301012600001234")
    check_page(accountant, "leases-8-receipt-form")
    accountant.locator("#entity-form button[type=submit]").first.click()
    accountant.wait_for_url(re.compile(r"/assets/rent-receipts/\d+/$"))
    receipt = RentReceipt.objects.get(receipt_no="3301012600001234")
    first.refresh_from_db()
    assert receipt.amount == first.amount and first.status == "received"
    check_page(accountant, "leases-9-receipt")
    accountant.goto("/assets/rent/report/?year=2026")
    assert lease.number in accountant.locator("main").inner_text()
    check_page(accountant, "leases-10-rent-report")


def test_idle_register_and_rent_report_at_phone_width(page_factory, lease_setup):
    from houqin.assets.tests.factories_leases import IdleRoomFactory

    IdleRoomFactory(room=lease_setup["room"])
    page = page_factory(PHONE)
    _login(page, "director")
    page.goto("/assets/idle-register/")
    assert lease_setup["room"].name in page.locator("main").inner_text()
    check_page(page, "leases-11-idle-register-phone")
    page.goto("/assets/rent/report/")
    check_page(page, "leases-12-rent-report-phone")
