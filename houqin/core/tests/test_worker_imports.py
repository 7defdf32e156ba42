"""What a web worker loads before its first request (performance.md: worker RSS ≤ 100 MB).

Each library below is needed by a few actions only (a photo upload, a label, an Excel file, a PDF, a
pinyin key, PostgreSQL in district mode); loaded at start-up they would cost every gunicorn worker
its memory whether the action is ever used or not. They are imported where they are used.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LAZY = ("psycopg", "pypinyin", "PIL", "barcode", "segno", "xlsxwriter", "python_calamine", "typst")

LOAD_LIKE_A_WORKER = f"""
import json, sys
import django
django.setup()
from django.urls import get_resolver
from houqin.wsgi import application
get_resolver().url_patterns
print(json.dumps({{name: name in sys.modules and sys.modules[name] is not None for name in {LAZY!r}}}))
"""


def _loaded(tmp_path, **env) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != "HOUQIN_DB_URL"}  # the default: SQLite
    environ.update(DJANGO_SETTINGS_MODULE="houqin.settings", HOUQIN_VAR_DIR=str(tmp_path), **env)
    out = subprocess.run([sys.executable, "-c", LOAD_LIKE_A_WORKER], capture_output=True, text=True, cwd=ROOT,
                         env=environ, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_sqlite_worker_starts_without_the_optional_libraries(tmp_path):
    loaded = _loaded(tmp_path)
    assert [name for name, present in loaded.items() if present] == []


def test_the_libraries_are_still_importable_where_they_are_used():
    """Lazy is not missing: each action imports its library (a district server gets psycopg)."""
    from houqin.assets import barcodes
    from houqin.core import attachments

    assert barcodes.code128_svg("A-2026-0001").startswith("<svg")
    image, _ops = attachments._pillow()
    assert image.MAX_IMAGE_PIXELS == attachments.MAX_PIXELS
