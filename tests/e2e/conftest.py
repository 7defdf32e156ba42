"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser), axe-core from npm."""

import os
import re
from pathlib import Path

import polib
import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the fixtures are
# still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "e2e"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("HOUQIN_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 860}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make test does it as root)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture
def demo(django_db_blocker):
    """The tiny demo school (the root conftest seeds it once; a transactional test may have emptied it)."""
    from conftest import _seed_if_empty

    with django_db_blocker.unblock():
        _seed_if_empty()


@pytest.fixture
def page_factory(browser, live_server):
    contexts = []

    def make(viewport=DESKTOP):
        ctx = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server.url)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page) -> list[str]:
    """The serious and critical axe-core violations of the current page, one line each."""
    assert AXE.exists(), "node_modules/axe-core is missing: run make deps"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def check_axe(page, name: str) -> None:
    """Fail on serious or critical axe-core violations of the current page."""
    bad = axe_violations(page)
    assert not bad, f"axe on {name}:\n" + "\n".join(bad)


def english_leaks(page) -> list[str]:
    """Source strings of our catalogue that show up untranslated in a Chinese page."""
    text = page.inner_text("body")
    po = polib.pofile(str(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    leaks = []
    for e in po:
        msgid = e.msgid
        if "%" in msgid or len(msgid) < 4 or not re.search(r"[A-Za-z]{3}", msgid):
            continue
        # A whole word: "Code" in the symbology name "Code128" is not a leak.
        if re.search(r"(?<![A-Za-z0-9])" + re.escape(msgid) + r"(?![A-Za-z0-9])", text):
            leaks.append(msgid)
    return leaks


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def check_page(page, name: str) -> None:
    """What every page a browser test visits gets: no wider than the screen, no untranslated English,
    no serious axe violation, and a screenshot to look at."""
    assert no_horizontal_overflow(page), f"{name}: wider than the screen"
    leaks = english_leaks(page)
    assert not leaks, f"{name}: untranslated {leaks}"
    check_axe(page, name)
    shot(page, name)


def pick_lazy(page, field_id: str, text: str) -> None:
    """Choose in a search-as-you-type select: type, wait for the matches, click the one with ``text``."""
    box = page.locator(f"#{field_id}")
    with page.expect_response(lambda r: "/lookup/" in r.url and "__search=&" not in r.url):
        box.fill(text)  # the typed text goes as <field>__search (an empty one is the list shown on focus)
    page.locator(f"#{field_id}_results [data-lazy-option]", has_text=text).first.click()
    page.wait_for_function(
        "id => document.getElementById(id).closest('[data-lazy-select]').querySelector('[data-lazy-value]').value"
        " && !document.getElementById(id + '_results').children.length", arg=field_id)
