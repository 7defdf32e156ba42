#!/usr/bin/env python3
"""Write houqin/core/data/pinyin.txt, the readings the pinyin search keys use, from pypinyin.

Run after upgrading pypinyin: `.venv/bin/python scripts/build_pinyin_table.py`. The file is
committed; a test fails while it differs from what the installed pypinyin gives.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from houqin.core.pinyin import TABLE_PATH, build_table  # noqa: E402 - after the path is set

TABLE_PATH.parent.mkdir(exist_ok=True)
TABLE_PATH.write_text(build_table(), encoding="utf-8")
print(f"wrote {TABLE_PATH.relative_to(ROOT)}: {TABLE_PATH.stat().st_size:,} bytes")
