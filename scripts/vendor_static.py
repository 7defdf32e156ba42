#!/usr/bin/env python3
"""Copy the front-end libraries from node_modules into houqin/static/vendor (git-ignored).

School intranets are often offline, so nothing is ever loaded from a CDN: every file a page uses
is served by Houqin itself. Run by `make deps` after `npm ci`; standard library only.

Files copied (node_modules/<source> -> houqin/static/vendor/<target>):
    htmx.org/dist/htmx.min.js             -> htmx/htmx.min.js
    alpinejs/dist/cdn.min.js              -> alpinejs/cdn.min.js
    echarts/dist/echarts.min.js           -> echarts/echarts.min.js
    @tabler/core/dist/css/tabler.min.css  -> tabler/css/tabler.min.css
    @tabler/core/dist/js/tabler.min.js    -> tabler/js/tabler.min.js
    axe-core/axe.min.js                   -> axe-core/axe.min.js
plus houqin/static/vendor/.vendored, a list of the files and package versions (hidden files are
not collected by collectstatic); `make deps` re-runs this script when that list is missing.

On the way:
- source-map comments are dropped: the .map files are not shipped, and collectstatic's manifest
  storage would fail on a reference to a missing file;
- in CSS, a remote `@import` and any `@font-face` that loads a remote font are stripped (reported
  on stderr). The script then fails if any url() in the copied CSS still points to http://,
  https:// or a protocol-relative //host, or to a relative file that is not shipped.
Any other file already in houqin/static/vendor is removed, so the folder holds exactly this list.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
DEST = ROOT / "houqin" / "static" / "vendor"
MANIFEST = DEST / ".vendored"

# (npm package, path inside the package, target under houqin/static/vendor)
FILES = [
    ("htmx.org", "dist/htmx.min.js", "htmx/htmx.min.js"),
    ("alpinejs", "dist/cdn.min.js", "alpinejs/cdn.min.js"),
    ("echarts", "dist/echarts.min.js", "echarts/echarts.min.js"),
    ("@tabler/core", "dist/css/tabler.min.css", "tabler/css/tabler.min.css"),
    ("@tabler/core", "dist/js/tabler.min.js", "tabler/js/tabler.min.js"),
    ("axe-core", "axe.min.js", "axe-core/axe.min.js"),
]

REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
JS_SOURCE_MAP = re.compile(r"^[ \t]*//[#@][ \t]*sourceMappingURL=.*$", re.M)
CSS_SOURCE_MAP = re.compile(r"/\*[#@]\s*sourceMappingURL=.*?\*/", re.S)
# @import url(https://…) …;  @import "https://…" …;  @import '//host/…';
REMOTE_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?['"]?\s*(?:https?:)?//[^;]*;?""", re.I)
FONT_FACE = re.compile(r"@font-face\s*\{[^{}]*\}", re.I)


class VendorError(Exception):
    pass


def css_urls(css: str) -> list[str]:
    """Every url(...) value of a stylesheet, quoted or not (data: URIs may contain parentheses)."""
    urls = []
    for match in re.finditer(r"url\(\s*", css, re.I):
        i = match.end()
        if i < len(css) and css[i] in "'\"":
            quote, j = css[i], i + 1
            while j < len(css) and css[j] != quote:
                j += 2 if css[j] == "\\" else 1
            urls.append(css[i + 1 : j])
        else:
            j = css.find(")", i)
            urls.append(css[i : j if j != -1 else len(css)].strip())
    return urls


def clean_css(css: str, name: str, target: Path) -> str:
    css = CSS_SOURCE_MAP.sub("", css)
    for found in REMOTE_IMPORT.findall(css):
        print(f"vendor_static: {name}: stripped remote {found.strip()[:100]}", file=sys.stderr)
    css = REMOTE_IMPORT.sub("", css)

    def drop_remote_font(m: re.Match) -> str:
        if any(REMOTE.match(u) for u in css_urls(m.group(0))):
            print(f"vendor_static: {name}: stripped remote {m.group(0)[:100]}", file=sys.stderr)
            return ""
        return m.group(0)

    css = FONT_FACE.sub(drop_remote_font, css)

    problems = []
    for url in css_urls(css):
        if url.lower().startswith("data:") or url.startswith("#") or not url:
            continue
        if REMOTE.match(url):
            problems.append(f"remote url({url[:100]})")
            continue
        relative = url.split("?")[0].split("#")[0]
        if not (target.parent / relative).resolve().is_relative_to(DEST) or not (target.parent / relative).exists():
            problems.append(f"url({url[:100]}) points to a file that is not shipped")
    if re.search(r"@import\s+(url\()?\s*['\"]?\s*(https?:)?//", css, re.I):
        problems.append("remote @import")
    if problems:
        raise VendorError(f"{name} still refers to files Houqin does not serve: " + "; ".join(problems))
    return css


def package_version(package: str) -> str:
    return json.loads((NODE / package / "package.json").read_text(encoding="utf-8"))["version"]


def main() -> int:
    if not NODE.is_dir():
        print("vendor_static: node_modules is missing: run `npm ci` (make deps does)", file=sys.stderr)
        return 1
    DEST.mkdir(parents=True, exist_ok=True)
    MANIFEST.unlink(missing_ok=True)  # written last, only when every file is in place
    # Write JavaScript first so that CSS url() checks see the final folder.
    ordered = sorted(FILES, key=lambda f: f[2].endswith(".css"))
    lines, changed = [], 0
    try:
        for package, inner, rel in ordered:
            source, target = NODE / package / inner, DEST / rel
            if not source.is_file():
                raise VendorError(f"{source.relative_to(ROOT)} is missing: run `npm ci` (make deps does)")
            text = source.read_text(encoding="utf-8")
            if target.suffix == ".css":
                text = clean_css(text, f"{package}/{inner}", target)
            else:
                text = JS_SOURCE_MAP.sub("", text)
            target.parent.mkdir(parents=True, exist_ok=True)
            # Rewrite only what changed, so collectstatic and browsers keep their caches.
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
                changed += 1
            lines.append(f"{rel}\t{package}@{package_version(package)}")
    except VendorError as exc:
        print(f"vendor_static: {exc}", file=sys.stderr)
        return 1

    wanted = {DEST / rel for _, _, rel in FILES}
    for path in sorted(DEST.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted and path != MANIFEST:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    MANIFEST.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    print(f"vendor_static: {len(FILES)} files in {DEST.relative_to(ROOT)} ({changed} updated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
