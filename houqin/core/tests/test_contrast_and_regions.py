"""Accessibility rules read from the stylesheet and the templates, without a browser (WCAG 2.1 AA).

- Every badge colour the code uses (``bg-<colour>-lt``: status colours of entities and workflows, the month-close
  states …) has Houqin's own override in ``houqin.css`` with text at 4.5:1 or more. Tabler's own light badges
  are below that; an orange badge without an override was found on the dashboard by axe.
- The red button (void, delete, scrap) has 4.5:1 or more: Tabler's is 4.2:1.
- A table wrapper that scrolls sideways on a phone can be reached by keyboard: ``tabindex="0"``, a name, and a
  role — a region, or a group where its card is already the region of that name (one landmark per name).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # houqin/
CSS = (ROOT / "static" / "houqin" / "houqin.css").read_text(encoding="utf-8")
# Tabler's colour names; "primary", "warning" … are button and text classes, not light badges.
PALETTE = ("blue", "azure", "indigo", "purple", "pink", "red", "orange", "yellow", "lime", "green", "teal", "cyan",
           "secondary")
# A wrapper whose table always holds links (each row's record): reachable by keyboard through them.
WRAPPERS_WITH_LINKS = {"core/partials/entity_table.html"}


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _rule(selector: str) -> str:
    found = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert found, f"houqin.css has no rule for {selector}"
    return found.group(1)


def _colour(rule: str, prop: str) -> str:
    found = re.search(r"(?:^|[;\s])" + prop + r"\s*:\s*(#[0-9a-fA-F]{6})", rule)
    assert found, f"{prop} is not a #rrggbb colour in {rule!r}"
    return found.group(1)


def _sources(suffix: str):
    for path in ROOT.rglob(f"*{suffix}"):
        if "tests" in path.parts or "migrations" in path.parts or "static" in path.parts:
            continue
        yield path, path.read_text(encoding="utf-8")


def badge_colours_in_use() -> set[str]:
    """The palette colours named anywhere in the code (as a quoted word) or in a template's ``bg-<colour>-lt``."""
    words = "|".join(PALETTE)
    used = set()
    for _path, text in _sources(".py"):
        used.update(re.findall(rf"""["']({words})["']""", text))
    for _path, text in _sources(".html"):
        used.update(re.findall(rf"bg-({words})-lt", text))
    return used


def test_the_contrast_formula():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#d63939", "#ffffff"), 2) == 4.66  # Tabler's red as a hex: AA only just
    assert contrast("#777777", "#ffffff") < 4.5


def test_every_badge_colour_in_use_has_text_at_aa_contrast():
    used = badge_colours_in_use()
    assert {"green", "orange", "secondary", "red"} <= used  # the scan sees the status colours
    low = []
    for colour in sorted(used):
        rule = _rule(f".badge.bg-{colour}-lt")
        ratio = contrast(_colour(rule, "background"), _colour(rule, "color"))
        if ratio < 4.5:
            low.append(f"bg-{colour}-lt {ratio:.2f}:1")
    assert not low, low


def test_the_red_button_has_white_text_at_aa_contrast():
    rule = _rule(".btn-danger")
    assert contrast(_colour(rule, "background-color"), _colour(rule, "color")) >= 4.5
    hover = _rule(".btn-danger:hover, .btn-danger:focus-visible")
    assert contrast(_colour(hover, "background-color"), _colour(hover, "color")) >= 4.5


def test_what_the_keyboard_reaches_shows_its_focus():
    """Links, buttons, inputs, the "more filters" summaries and the scrolling table regions (tabindex)."""
    rule = re.search(r"([^{}]*)\{\s*outline:\s*3px solid (#[0-9a-fA-F]{6})", CSS)
    assert rule, "no focus outline rule"
    selectors = {s.strip() for s in rule.group(1).split(",")}
    assert {"a:focus-visible", "button:focus-visible", "input:focus-visible", "select:focus-visible",
            "summary:focus-visible", "[tabindex]:focus-visible"} <= selectors
    # A focus ring is non-text contrast: 3:1 against what it sits on (WCAG 1.4.11) — the white page, and in the
    # menu (its own colour there) the dark menu.
    assert contrast(rule.group(2), "#ffffff") >= 3
    menu = _colour(_rule(".navbar-vertical"), "background")
    assert contrast(_colour(_rule(".navbar-vertical :focus-visible"), "outline-color"), menu) >= 3


def test_a_table_that_scrolls_sideways_is_reachable_by_keyboard():
    wrapper = re.compile(r"<div\b[^>]*\bclass=\"table-responsive[^\"]*\"[^>]*>")
    bad = []
    for path, text in _sources(".html"):
        name = path.relative_to(ROOT / "templates").as_posix() if "templates" in path.parts[:len(ROOT.parts) + 1] \
            else path.as_posix()
        for tag in wrapper.findall(text):
            if name in WRAPPERS_WITH_LINKS:
                continue
            if not ('tabindex="0"' in tag and re.search(r'role="(?:region|group)"', tag)
                    and re.search(r"aria-label(?:ledby)?=", tag)):
                bad.append(f"{name}: {tag}")
    assert not bad, "\n".join(bad)
