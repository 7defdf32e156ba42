"""Monthly close benchmark (issue 6, AST-7/9/10): ``.venv/bin/python bench/closing.py``.

Takes the database of ``bench/assets.py`` (100k cards, 1M journal rows; default /tmp/houqin-bench-assets),
copies it to a throwaway var dir, migrates it to the current code, books every owned card (the cut-over
voucher) and then, in-process, times what a month-end does with it: the depreciation run (one read of the
cards, one bulk insert, one UPDATE), the 折旧计提表, the 对账表 (Houqin's balances by 会计科目 and 资金来源),
a second month, a re-run that voids the first run, and the month's page. Writes a Markdown report.

    bench/closing.py [--source /tmp/houqin-bench-assets] [--var-dir /tmp/houqin-bench-close] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _measure() -> dict:
    """Runs inside the copied database (HOUQIN_VAR_DIR set by the parent)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from houqin.assets.models import Asset
    from houqin.assets.services import closing
    from houqin.org.models import School, User

    school = School.objects.order_by("pk").first()
    keeper = User.objects.get(username="keeper")
    out: dict = {}
    t = time.perf_counter()
    Asset.objects.filter(school=school).update(booking=Asset.Booking.BOOKED, voucher_no="期初",
                                               booked_on=datetime.date(2025, 12, 31))
    out["book_all_s"] = time.perf_counter() - t
    out["cards"] = Asset.objects.filter(school=school).count()

    def timed(name, fn):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            value = fn()
            seconds = time.perf_counter() - start
        out[name] = {"s": round(seconds, 3), "queries": len(queries)}
        return value

    january = closing.period_get(school, 2026, 1)
    result = timed("run_january", lambda: closing.run_depreciation(period=january, actor=keeper))
    out["january_charged"] = result.cards
    out["january_total"] = str(result.total)
    table = timed("depreciation_table", lambda: closing.depreciation_table(january))
    out["table_rows"] = len(table)
    stmt = timed("statement", lambda: closing.statement(january))
    out["statement_lines"] = len(stmt.lines)
    timed("rerun_january_voiding_the_first", lambda: closing.run_depreciation(period=january, actor=keeper,
                                                                              reason="bench"))
    february = closing.period_get(school, 2026, 2)
    result = timed("run_february", lambda: closing.run_depreciation(period=february, actor=keeper))
    out["february_charged"] = result.cards
    from houqin.assets import fiscal_export, reports

    for dimension in ("accounting_class", "department"):
        timed(f"general_ledger_{dimension}", lambda d=dimension: reports.general_ledger(
            school.pk, reports.year_range(2026), d))
    timed("training_equipment", lambda: reports.training_equipment(school.pk, datetime.date(2026, 2, 28)))
    timed("per_student_value", lambda: reports.per_student_value(school.pk, datetime.date(2026, 2, 28)))
    client = Client()
    client.force_login(keeper)
    page = timed("month_page", lambda: client.get(f"/assets/periods/{february.pk}/", HTTP_HOST="127.0.0.1"))
    out["month_page"]["status"] = page.status_code
    page = timed("general_ledger_page", lambda: client.get("/assets/reports/ledger/", {"year": 2026},
                                                           HTTP_HOST="127.0.0.1"))
    out["general_ledger_page"]["status"] = page.status_code
    fiscal_export.load_default_layout(school=school, actor=keeper)
    target = Path(os.environ["HOUQIN_VAR_DIR"]) / "fiscal-export.xlsx"
    timed("fiscal_export", lambda: fiscal_export.write(str(target), school.pk))
    out["fiscal_export_mb"] = round(target.stat().st_size / 1e6, 1)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default="/tmp/houqin-bench-assets")  # noqa: S108
    parser.add_argument("--var-dir", default="/tmp/houqin-bench-close")  # noqa: S108
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    source, var_dir = Path(args.source), Path(args.var_dir)
    if not (source / "houqin.sqlite3").exists():
        sys.exit(f"{source}/houqin.sqlite3 is missing: run bench/assets.py first")
    if var_dir.exists():
        shutil.rmtree(var_dir)
    shutil.copytree(source, var_dir, ignore=shutil.ignore_patterns("media", "*.log"))
    env = {**os.environ, "HOUQIN_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "bench.settings_bench"}
    python = sys.executable
    start = time.perf_counter()
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    migrate_s = time.perf_counter() - start
    load = os.getloadavg()
    done = subprocess.run([python, __file__, "--inside"], cwd=ROOT, env=env, capture_output=True,  # noqa: S603
                          text=True)
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["migrate_s"] = round(migrate_s, 1)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,  # noqa: S603, S607
                            text=True).stdout.strip()
    lines = [
        f"# Houqin benchmark: the monthly close at {figures['cards']:,} cards, SQLite",
        "",
        f"{datetime.datetime.now():%Y-%m-%d %H:%M} · commit {commit} · `bench/closing.py` on a copy of "
        f"`{source}` · Python {platform.python_version()} · load average at the start "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs",
        "",
        "| step | seconds | queries |",
        "| --- | ---: | ---: |",
    ]
    for key in ("run_january", "depreciation_table", "statement", "rerun_january_voiding_the_first",
                "run_february", "month_page", "general_ledger_accounting_class", "general_ledger_department",
                "general_ledger_page", "training_equipment", "per_student_value", "fiscal_export"):
        status = f" (HTTP {figures[key]['status']})" if "status" in figures[key] else ""
        lines.append(f"| {key.replace('_', ' ')}{status} | {figures[key]['s']:.3f} | {figures[key]['queries']} |")
    lines += ["", f"Cards charged in January: {figures['january_charged']:,} (¥{figures['january_total']}); "
                  f"in February: {figures['february_charged']:,}. 折旧计提表 rows: {figures['table_rows']}; "
                  f"对账表 lines: {figures['statement_lines']}. Peak RSS {figures['peak_rss_mb']} MB. "
                  f"财政 export of every card: {figures['fiscal_export_mb']} MB. "
                  f"Migration to this commit {figures['migrate_s']} s; booking every card (one UPDATE) "
                  f"{figures['book_all_s']:.1f} s.", ""]
    report = "\n".join(lines)
    print(report)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")


if __name__ == "__main__":
    if "--inside" in sys.argv:
        print(json.dumps(_measure()))
    else:
        main()
