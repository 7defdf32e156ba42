"""The shell from a browser (issue 2): log in as 后勤主任, dashboard in Chinese, English, log out; at 375 px."""

import pytest

from houqin.core.demo import DEMO_PASSWORD

from .conftest import DESKTOP, PHONE, check_axe, english_leaks, no_horizontal_overflow, shot

pytestmark = pytest.mark.django_db(transaction=True)



def _login(page, username="director"):
    page.goto("/login/")
    page.get_by_label("用户名、工号或手机号").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")


@pytest.mark.parametrize("viewport,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_director_dashboard_language_switch_and_logout(page_factory, demo, viewport, name):
    page = page_factory(viewport)
    page.goto("/login/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    check_axe(page, f"login-{name}")
    shot(page, f"01-login-{name}")
    _login(page)

    # Chinese dashboard with real facts, each linking to its list.
    assert page.get_by_role("heading", level=1).inner_text() == "杭州市示范职业中等专业学校"
    facts = page.locator("a.fact")
    assert facts.count() == 5
    assert "楼宇" in facts.first.inner_text()
    assert page.locator("text=王海涛").first.is_visible()
    assert page.locator("text=后勤主任").count() >= 1 if name == "desktop" else True
    assert not english_leaks(page), english_leaks(page)
    assert no_horizontal_overflow(page)
    check_axe(page, f"dashboard-{name}")
    shot(page, f"02-dashboard-zh-{name}")

    if name == "phone":
        # The navigation collapses into a menu button at phone width.
        nav_link = page.locator("#sidebar-menu").get_by_role("link", name="学生")
        assert not nav_link.is_visible()
        page.get_by_role("button", name="菜单").click()
        nav_link.wait_for(state="visible")
        shot(page, "03-menu-open-phone")
        nav_link.click()
        page.wait_for_url("**/org/students/")
        assert no_horizontal_overflow(page)
        check_axe(page, "students-phone")
        shot(page, "04-students-phone")
        page.goto("/")

    # Switch to English.
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Buildings" in page.locator("a.fact").first.inner_text()
    check_axe(page, f"dashboard-en-{name}")
    shot(page, f"05-dashboard-en-{name}")
    page.get_by_role("button", name="中文").click()
    page.wait_for_load_state()
    assert "楼宇" in page.locator("a.fact").first.inner_text()

    # Log out.
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login/")
    assert page.get_by_role("button", name="登录").is_visible()


def test_org_pages_in_chinese_have_no_english_and_pass_axe(page_factory, demo):
    page = page_factory(DESKTOP)
    _login(page)
    for path in ["/org/buildings/", "/org/rooms/", "/org/departments/", "/org/staff/", "/org/classes/",
                 "/org/students/", "/org/terms/", "/org/holidays/", "/search/?q=whh",
                 "/docs/workflows/", "/sample/samplerequests/"]:
        page.goto(path)
        assert page.locator("h1").count() == 1, path
        leaks = english_leaks(page)
        assert not leaks, (path, leaks)
        check_axe(page, path)
    # A detail page reached by clicking, and the pinyin search finds 王海涛 by initials.
    page.goto("/org/students/")
    page.locator("#list-table tbody a").first.click()
    page.locator("dt", has_text="证件号码").wait_for()
    check_axe(page, "student-detail")
    shot(page, "06-student-detail")
    page.goto("/")
    page.get_by_label("搜索人员、班级和房间").fill("wht")
    page.locator("#search-popup a", has_text="王海涛").wait_for()
    shot(page, "07-search-popup")


def test_wrong_password_message_in_chinese(page_factory, demo):
    page = page_factory(PHONE)
    page.goto("/login/")
    page.get_by_label("用户名、工号或手机号").fill("director")
    page.get_by_label("密码").fill("not-the-password1")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("alert").wait_for()
    assert "用户名或密码不正确" in page.get_by_role("alert").inner_text()
    check_axe(page, "login-error")
    shot(page, "08-login-error-phone")
