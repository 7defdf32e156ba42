#!/usr/bin/env python3
"""Copy the front-end libraries from node_modules into houqin/static/vendor (git-ignored).

School intranets are often offline, so nothing is ever loaded from a CDN: every file the pages
use is served by Houqin itself. The copy refuses CSS that would fetch anything remote.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
DEST = ROOT / "houqin" / "static" / "vendor"

FILES = {
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    "alpinejs/dist/cdn.min.js": "alpinejs/cdn.min.js",
    "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
    "@tabler/core/dist/css/tabler.min.css": "tabler/css/tabler.min.css",
    "@tabler/core/dist/js/tabler.min.js": "tabler/js/tabler.min.js",
}
# url(...) that leaves the server: http(s):// or protocol-relative //host. data: URIs are fine.
REMOTE_URL = re.compile(r"""url\(\s*['"]?\s*(https?:)?//""", re.I)
REMOTE_IMPORT = re.compile(r"""@import\s+(url\()?\s*['"]?\s*(https?:)?//""", re.I)


def main() -> int:
    if not NODE.is_dir():
        print("node_modules is missing: run `npm ci` first", file=sys.stderr)
        return 1
    for src, dst in FILES.items():
        source, target = NODE / src, DEST / dst
        if not source.exists():
            print(f"missing {source}: run `npm ci`", file=sys.stderr)
            return 1
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".css":
            text = source.read_text(encoding="utf-8")
            # Drop source-map comments so the browser never asks for files we do not ship.
            text = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", text)
            if REMOTE_URL.search(text) or REMOTE_IMPORT.search(text):
                print(f"{src} refers to a remote URL; refusing to ship it", file=sys.stderr)
                return 1
            target.write_text(text, encoding="utf-8")
        else:
            text = source.read_text(encoding="utf-8")
            text = re.sub(r"//# sourceMappingURL=\S+", "", text)
            target.write_text(text, encoding="utf-8")
    print(f"vendored {len(FILES)} files into {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
