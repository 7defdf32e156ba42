"""AST-14 from a browser: the 后勤主任 cannot disable a leaving teacher who still holds things; he writes the
交接单 from the teacher's page; the receiving 班主任 ticks every line on a phone; the loans are given back; the
handover is confirmed; now the account can be disabled. Every page visited is checked with axe at 375 px too."""

import re

import pytest

from .conftest import DESKTOP, PHONE, check_page, pick_lazy
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)


BLOCKED = re.compile(r"请先办理交接|hand them over first")


@pytest.fixture
def leaving(django_db_blocker):
    """The demo school; the 语文教师 刘洋 holds a card and a low-value item and has borrowed a camera."""
    from conftest import _seed_if_empty

    with django_db_blocker.unblock():
        _seed_if_empty()
        from houqin.assets.services import documents
        from houqin.assets.tests.factories import AssetFactory, LowValueItemFactory
        from houqin.org.models import Staff, User

        staff = Staff.objects.get(user__username="teacher")
        AssetFactory(custodian=staff, name="语文组投影仪")
        LowValueItemFactory(custodian=staff, name="办公室电风扇")
        keeper = User.objects.get(username="keeper")
        documents.loan_create(school=keeper.school, actor=keeper, borrower=staff, asset=AssetFactory(name="借用的相机"),
                              purpose="公开课")
        return staff


def _disable(page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form[action$='/disable/'] button").click()
    page.wait_for_load_state()


def test_leaving_teacher_is_kept_until_the_handover_is_confirmed(page_factory, leaving):
    from houqin.assets.models import Asset, Handover, LowValueItem
    from houqin.org.models import Staff

    director = page_factory(DESKTOP)
    _login(director, "director")
    staff_url = f"/org/staff/{leaving.pk}/"
    director.goto(staff_url)
    _disable(director)
    alert = director.locator(".alert-danger, .alert-error, [role=alert]").filter(has_text=BLOCKED)
    assert alert.count() >= 1, director.inner_text("body")[:2000]
    assert Staff.objects.get(pk=leaving.pk).status == Staff.Status.ACTIVE
    check_page(director, "handover-1-disable-refused")

    # the staff page offers the 交接单 with the leaving teacher filled in
    director.get_by_test_id("start-handover").click()
    director.wait_for_url(re.compile(r"/assets/handovers/add/\?from_staff=\d+"))
    assert director.locator("input[name=from_staff]").input_value() == str(leaving.pk)
    check_page(director, "handover-2-form")
    pick_lazy(director, "id_to_staff", "陈静")
    pick_lazy(director, "id_supervisor", "王海涛")
    director.locator("#id_reason").fill("调往分校")
    director.get_by_role("button", name="保存").click()
    director.wait_for_url(re.compile(r"/assets/handovers/\d+/$"))
    handover = Handover.objects.get(from_staff=leaving, status=Handover.Status.DRAFT)
    url = f"/assets/handovers/{handover.pk}/"
    assert director.get_by_test_id("handover-confirm").is_disabled()
    check_page(director, "handover-3-written")

    # the receiver ticks each line on her phone (no asset permission needed: she is on the handover)
    phone = page_factory(PHONE)
    _login(phone, "teacher1")
    phone.goto(url)
    check_page(phone, "handover-4-phone-before")
    boxes = phone.locator("#handover-work input[type=checkbox]")
    total = boxes.count()
    assert total == handover.lines.filter(loan__isnull=True).count() >= 2
    for i in range(total):
        with phone.expect_response(re.compile(r"/lines/\d+/tick/$")):
            phone.locator("#handover-work input[type=checkbox]").nth(i).check()
        phone.wait_for_function(f"document.querySelectorAll('#handover-work input[type=checkbox]:checked').length"
                                f" >= {i + 1}")
    assert not handover.lines.filter(loan__isnull=True, received=False).exists()
    assert phone.get_by_test_id("handover-confirm").count() == 0  # the receiver does not confirm
    check_page(phone, "handover-5-phone-ticked")

    # the director: loans are given back, not handed over; then confirm
    director.goto(url)
    assert director.get_by_test_id("loan-return").count() >= 1
    assert director.get_by_test_id("handover-confirm").is_disabled()
    problems = director.get_by_test_id("handover-problems").inner_text()
    assert "借用的相机" in problems and ("须先归还" in problems or "given back first" in problems)
    check_page(director, "handover-6-loan-out")
    while director.get_by_test_id("loan-return").count():
        director.get_by_test_id("loan-return").first.click()
        director.wait_for_url(url)
    check_page(director, "handover-7-ready")
    director.get_by_test_id("handover-confirm").click()
    director.wait_for_url(url)
    handover.refresh_from_db()
    assert handover.status == Handover.Status.CONFIRMED
    assert not Asset.objects.filter(custodian=leaving).exists()
    assert not LowValueItem.objects.filter(custodian=leaving).exists()
    check_page(director, "handover-8-confirmed")

    # the printable 交接单
    response = director.request.get(f"{url}print/")
    assert response.status == 200 and response.body().startswith(b"%PDF-")

    # now the account can be disabled
    director.goto(staff_url)
    assert director.get_by_test_id("start-handover").count() == 0
    _disable(director)
    assert Staff.objects.get(pk=leaving.pk).status == Staff.Status.LEFT
    check_page(director, "handover-9-disabled")

    # the same pages at phone width for the director
    small = page_factory(PHONE)
    _login(small, "director")
    small.goto(url)
    check_page(small, "handover-10-phone-confirmed")
