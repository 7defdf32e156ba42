"""X-3 from a browser: a teacher submits a sample request, the 后勤主任 approves it from 待我审批 on a phone,
and the teacher sees the bell's unread count go up and the request approved."""

import re

import pytest

from .conftest import DESKTOP, PHONE, check_axe, check_page, shot
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "购买实训室灭火器"



def _unread(page) -> int:
    badge = page.locator("#notification-bell [data-unread]")
    return int(badge.get_attribute("data-unread")) if badge.count() else 0


def test_teacher_submits_director_approves_on_a_phone(page_factory, demo):
    teacher = page_factory(DESKTOP)
    _login(teacher, "teacher")
    teacher.goto("/sample/samplerequests/add/")
    teacher.get_by_label("事由").fill(TITLE)
    teacher.get_by_label("金额").fill("860")
    teacher.get_by_role("button", name="保存").click()
    teacher.wait_for_url(re.compile(r"/sample/samplerequests/\d+/$"))
    detail_url = teacher.url
    teacher.get_by_test_id("transition-submit").click()
    teacher.locator("h1 .badge", has_text="审批中").wait_for()
    before = _unread(teacher)
    check_page(teacher, "40-approvals-submitted")

    # The 后勤主任 on a phone: the inbox, the decision page, a send-back without a reason, then approve.
    director = page_factory(PHONE)
    _login(director, "director")
    widget = director.locator('[data-widget="approvals.waiting"]')
    assert TITLE in widget.inner_text() and int(widget.get_by_test_id("approvals-waiting-count").inner_text()) >= 1
    check_page(director, "41-approvals-dashboard-phone")
    widget.get_by_role("link", name=re.compile("approval|待")).first.click()
    director.wait_for_url("**/approvals/waiting/")
    item = director.get_by_test_id("inbox-item").filter(has_text=TITLE)
    item.wait_for()
    assert "¥860.00" in item.inner_text() and "刘洋" in item.inner_text()
    assert int(director.get_by_test_id("inbox-count").inner_text()) >= 1
    check_page(director, "42-approvals-inbox-phone")

    item.get_by_test_id("decide").click()
    director.get_by_test_id("decide-form").wait_for()
    assert director.get_by_test_id("approval-trail").is_visible()
    assert director.locator("label[for=id_comment]").is_visible()
    check_page(director, "43-approvals-decide-phone")

    director.get_by_test_id("reject").click()
    director.get_by_test_id("comment-error").wait_for()
    check_page(director, "44-approvals-reason-needed-phone")

    director.locator("#id_comment").fill("同意，请索要发票")
    director.get_by_test_id("approve").click()
    director.wait_for_url("**/approvals/waiting/")
    director.locator(".alert-success").wait_for()
    assert director.get_by_test_id("inbox-item").filter(has_text=TITLE).count() == 0
    check_page(director, "45-approvals-inbox-after-phone")

    # The teacher: the bell counts one more unread notice, and the request is approved.
    teacher.goto(detail_url)
    teacher.locator("h1 .badge", has_text="已批准").wait_for()
    assert _unread(teacher) == before + 1
    check_page(teacher, "46-approvals-approved")
    teacher.locator("#notification-bell a").click()
    teacher.wait_for_url("**/notifications/")
    assert TITLE in teacher.locator("main").inner_text()
    teacher.goto("/approvals/mine/")
    mine = teacher.get_by_test_id("my-request").filter(has_text=TITLE)
    assert mine.get_attribute("data-request-status") == "approved"
    check_page(teacher, "47-approvals-my-requests")


def test_policy_pages_at_desktop_and_phone(page_factory, demo):
    page = page_factory(DESKTOP)
    _login(page, "director")
    page.goto("/approvals/policies/")
    page.get_by_test_id("policies").wait_for()
    check_page(page, "48-approvals-policies")
    page.get_by_test_id("policies").get_by_role("link").first.click()
    page.get_by_test_id("policy-steps").wait_for()
    check_page(page, "49-approvals-policy")
    page.get_by_test_id("policy-edit").click()
    page.get_by_test_id("policy-form").wait_for()
    check_axe(page, "approvals-policy-edit")
    shot(page, "50-approvals-policy-edit")
    phone = page_factory(PHONE)
    _login(phone, "director")
    phone.goto(page.url)
    phone.get_by_test_id("policy-form").wait_for()
    check_page(phone, "51-approvals-policy-edit-phone")
