#!/usr/bin/env python3
"""Compile locale/*/LC_MESSAGES/django.po into the committed django.mo (no GNU gettext needed).

Run after translating: `.venv/bin/python scripts/compile_catalogue.py`. The .mo is committed so
that `make run` works on a machine without gettext; a test fails when it is stale.
"""

from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent

for po_path in sorted((ROOT / "locale").glob("*/LC_MESSAGES/django.po")):
    po = polib.pofile(str(po_path))
    po.save_as_mofile(str(po_path.with_suffix(".mo")))
    print(f"compiled {po_path.relative_to(ROOT)}: {len(po.translated_entries())} messages")
