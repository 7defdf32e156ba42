"""Houqin's own settings plus the two floor endpoints of the benchmark (bench/urls_bench.py).

Everything else (middleware, authentication, database options) is exactly ``houqin.settings``,
driven by the same HOUQIN_* environment variables; ``bench/run.py`` points HOUQIN_VAR_DIR at a
throwaway directory under /tmp.
"""

from houqin.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_bench"
