"""Django set-up for the bench scripts: repository root on sys.path, bench settings, a /tmp var dir.

Never the developer's ``var/``: HOUQIN_VAR_DIR defaults to /tmp/houqin-bench unless given.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = "/tmp/houqin-bench"  # noqa: S108 - a throwaway benchmark database


def setup() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("HOUQIN_VAR_DIR", DEFAULT_VAR_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")
    import django

    django.setup()
