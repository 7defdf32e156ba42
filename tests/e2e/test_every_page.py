"""Every page the logistics director can open, in Chromium at phone width on the demo school: no serious or critical axe-core
violation and nothing wider than the screen. The other browser tests look at the pages of their own flows;
this one reaches the pages no flow visits (a sweep like it found a badge colour below AA contrast on the
dashboard, a red button at 4.2:1 and tables that scroll sideways but could not be reached by keyboard)."""

import pytest

from houqin.core.demo import DEMO_PASSWORD
from houqin.core.tests.test_page_crawl import KEY, KEYS_TRIED, _page_paths

from .conftest import PHONE, axe_violations, no_horizontal_overflow

pytestmark = pytest.mark.django_db(transaction=True)

# Files, print-outs, fragments and actions: not pages to read.
NOT_PAGES = ("/logout", "/export", "/print", "/template", "/download", "/pdf", "/labels", "/qr", "/lookup",
             "/bell", "/switch", "/read-all", "/test/")


def _html(response) -> bool:
    return (response.status == 200 and response.headers.get("content-type", "").startswith("text/html")
            and b"<html" in response.body())


def test_every_page_the_director_opens_passes_axe_at_phone_width(page_factory, demo):
    """The 后勤主任 opens the most pages of any role: ~195 of the full demo school, 110-150 of the tiny one the tests
    seed (a page of a kind of record the tiny school lacks is skipped)."""
    page = page_factory(PHONE)
    page.goto("/login/")
    page.get_by_label("用户名、工号或手机号").fill("director")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    found, seen = [], 0
    for route in _page_paths():
        if any(part in route for part in NOT_PAGES):
            continue
        candidates = [KEY.sub(str(key), route) for key in KEYS_TRIED] if KEY.search(route) else [route]
        path = next((c for c in candidates if _html(page.request.get(c, max_redirects=0))), None)
        if path is None:
            continue  # not this role's page, or no record of it in the demo school
        page.goto(path, wait_until="load")
        seen += 1
        found += [f"{path}: {line}" for line in axe_violations(page)]
        if not no_horizontal_overflow(page):
            found.append(f"{path}: wider than the screen")
    assert not found, "\n".join(found)
    assert seen >= 100, seen
