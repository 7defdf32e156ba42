"""Background jobs (architecture §4.6 "Processes"): the one interface, the database queue and its worker,
periodic jobs once per slot, the ``serve`` supervisor, progress pages, large exports on the worker, and
Celery on a real redis-server (district mode)."""

import datetime
import io
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from houqin.core import jobs
from houqin.core.models import JobProgress, PeriodicSlot
from houqin.core.registry import PeriodicJob, registry
from houqin.core.tests import jobs_for_tests

ROOT = Path(__file__).resolve().parents[3]
PY = sys.executable
T0 = datetime.datetime(2026, 9, 1, 2, 0, 5, tzinfo=datetime.UTC)  # 10:00:05 in Shanghai, a 5-minute boundary
# The process tests run their children on a SQLite file of their own, whatever the test database is:
# the PostgreSQL stage of `make test` (HOUQIN_DB_URL set) skips them rather than repeat them.
processes = pytest.mark.skipif(bool(os.environ.get("HOUQIN_DB_URL")), reason="process tests run in the SQLite stage")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


def processes_with_env(marker: str) -> list[int]:
    """Live processes whose environment holds ``marker`` (children and grandchildren of a test)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state not in ("Z", "X"):
                    found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture
def quiet_worker_logging():
    """run_worker configures its loggers; put them back for the other tests."""
    names = ("django_tasks", "django_tasks_db", "houqin.jobs")
    saved = [(logging.getLogger(n), logging.getLogger(n).level, list(logging.getLogger(n).handlers),
              logging.getLogger(n).propagate) for n in names]
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for logger, level, hs, propagate in saved:
        logger.setLevel(level)
        logger.handlers[:] = hs
        logger.propagate = propagate
    for s, h in handlers.items():
        signal.signal(s, h)


def run_worker_batch() -> str:
    out = io.StringIO()
    call_command("run_worker", batch=True, verbosity=2, stdout=out)
    return out.getvalue()


# The interface ---------------------------------------------------------------------------------------------


def test_job_names_are_checked_when_registered_and_enqueued():
    def nested():
        pass

    with pytest.raises(ValueError, match="module-level"):
        jobs.job("tests.nested")(nested)
    with pytest.raises(ValueError, match="already"):
        jobs.job("tests.touch")(jobs_for_tests.count)
    assert jobs.job("tests.touch")(jobs_for_tests.touch) is jobs_for_tests.touch  # re-import: same function
    with pytest.raises(jobs.UnknownJob):
        jobs.enqueue("tests.no_such_job")
    with pytest.raises(TypeError, match="JSON"):
        jobs.enqueue("tests.touch", path=Path("/tmp/x"))


@override_settings(HOUQIN_JOBS="immediate")
def test_immediate_backend_runs_the_job_inside_enqueue(tmp_path):
    trace = tmp_path / "trace"
    job_id = jobs.enqueue("tests.touch", path=str(trace), text="inline")
    assert trace.read_text() == "inline\n" and len(job_id) == 36


@pytest.mark.django_db
def test_database_queue_roundtrip_through_run_worker(tmp_path, quiet_worker_logging, monkeypatch, personas):
    """School mode: enqueue writes a row whose id is the job id; the worker runs it and records the outcome."""
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    # In-process, inside the test's transaction: the worker's connection recycling would close it (PostgreSQL).
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    trace = tmp_path / "trace"
    ok = jobs.enqueue("tests.touch", path=str(trace), text="from the queue")
    bad = jobs.enqueue("tests.fail")
    tracked = jobs.enqueue_tracked("tests.count", user=personas["logistics_clerk"], n=5)
    assert {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)} >= {ok, bad, tracked}
    assert JobProgress.objects.get(job_id=tracked).status == "queued"
    assert jobs.job_status(ok) == "READY" and not trace.exists()
    log = run_worker_batch()
    assert trace.read_text() == "from the queue\n"
    assert jobs.job_status(ok) == "SUCCESSFUL" and jobs.job_status(bad) == "FAILED"
    assert DBTaskResult.objects.get(id=ok).return_value == "from the queue"
    assert "RuntimeError: internal detail" in DBTaskResult.objects.get(id=bad).traceback
    assert f"job tests.touch {ok} done" in log and f"job tests.fail {bad} failed" in log
    progress = JobProgress.objects.get(job_id=tracked)
    assert (progress.status, progress.done, progress.total) == ("done", 5, 5)
    assert jobs.job_status("7d3c1f5e-0000-4000-8000-000000000000") is None


# Progress --------------------------------------------------------------------------------------------------


@override_settings(HOUQIN_JOBS="immediate")
def test_tracked_jobs_report_progress_and_failures(personas):
    user = personas["logistics_clerk"]
    job_id = jobs.enqueue_tracked("tests.count", user=user, label="数一数", n=7)
    p = JobProgress.objects.get(job_id=job_id)
    assert (p.status, p.total, p.done, p.percent, p.school_id, p.label) == ("done", 7, 7, 100, user.school_id, "数一数")
    shown = JobProgress.objects.get(job_id=jobs.enqueue_tracked("tests.fail", user=user, visible=True))
    assert (shown.status, shown.message) == ("failed", "the list no longer exists")
    hidden = JobProgress.objects.get(job_id=jobs.enqueue_tracked("tests.fail", user=user))
    assert hidden.status == "failed" and "internal detail" not in hidden.message and hidden.message
    jobs.job_progress_update(done=3)  # outside a job: nothing to update, no error


def test_progress_page_only_for_the_owner_and_the_school_sysadmin(client, personas):
    owner, other, admin = personas["logistics_clerk"], personas["teacher"], personas["sysadmin"]
    p = JobProgress.objects.create(job_id="0b0e6f4c-6e7d-4c55-9d8c-3b1f1f0a7e11", name="tests.count", user=owner,
                                   school_id=owner.school_id, label="导出：台账", total=200, done=50,
                                   status=JobProgress.Status.RUNNING)
    url = reverse("core:job_progress", args=[p.job_id])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(owner)
    page = client.get(url).content.decode()
    assert "导出：台账" in page and 'hx-trigger="every 1s"' in page and "<progress" in page
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="job-progress"') and "<html" not in partial
    assert client.get(reverse("core:job_download", args=[p.job_id])).status_code == 404  # not done yet
    JobProgress.objects.filter(pk=p.pk).update(status=JobProgress.Status.DONE, done=200)
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done  # finished: the polling stops
    client.force_login(other)
    assert client.get(url).status_code == 403
    if admin.school_id == owner.school_id:
        client.force_login(admin)
        assert client.get(url).status_code == 200
    assert client.get(reverse("core:job_progress", args=["00000000-0000-4000-8000-000000000000"])).status_code == 404


# Large exports on the worker (X-7) ---------------------------------------------------------------------------


@pytest.fixture
def ledger_lines(school, personas):
    from houqin.core.crud import object_create
    from tests.sampleapp.models import LedgerLine

    for i, (desc, kind, amount) in enumerate([("粉笔", "in", "12.50"), ("扫帚", "out", "30.00"), ("墨水", "in", "0.10")]):
        object_create(obj=LedgerLine(school=school, code=f"L{i:03d}", description=desc, kind=kind,
                                     amount=Decimal(amount), quantity=i + 1, happened_on=datetime.date(2026, 9, 1 + i)),
                      actor=personas["logistics_director"])


def test_large_export_runs_as_a_job_with_progress_and_a_download(client, personas, ledger_lines, tmp_path):
    from houqin.core import excel

    director = personas["logistics_director"]
    client.force_login(director)
    url = reverse("sampleapp:ledgerline_export")
    with override_settings(HOUQIN_JOBS="immediate", HOUQIN_EXPORT_INLINE_MAX=1, HOUQIN_EXPORT_DIR=tmp_path):
        response = client.get(url, {"kind": "in", "sort": "-amount"})
        assert response.status_code == 302 and response["Location"].startswith("/jobs/")
        p = JobProgress.objects.get(user=director, name="core.export_list")
        assert response["Location"] == reverse("core:job_progress", args=[p.job_id])
        assert (p.status, p.total, p.done) == ("done", 2, 2) and p.result_name.endswith(".xlsx")
        assert Path(p.result_file) == tmp_path / f"{p.job_id}.xlsx"
        page = client.get(response["Location"]).content.decode()
        download = reverse("core:job_download", args=[p.job_id])
        assert download in page
        got = client.get(download)
        assert got.status_code == 200 and "attachment" in got["Content-Disposition"]
        sheet = excel.read_sheet(io.BytesIO(b"".join(got.streaming_content)), expected_headers=["编号"])
        assert [values[0] for _row, values in sheet.rows] == ["L000", "L002"]  # the filter and the sort kept
        client.force_login(personas["teacher"])
        assert client.get(download).status_code == 403
        client.force_login(director)
        small = client.get(url, {"kind": "out"})  # one row, within the limit: still inline
        assert small.status_code == 200 and small["Content-Type"].startswith("application/vnd.openxmlformats")


# Periodic jobs ---------------------------------------------------------------------------------------------


@pytest.fixture
def periodic(monkeypatch):
    table = {"tests.every1": PeriodicJob("tests.every1", jobs_for_tests.tick, 1),
             "tests.every5": PeriodicJob("tests.every5", jobs_for_tests.tick, 5)}
    monkeypatch.setattr(registry, "periodic_jobs", table)
    return table


@pytest.mark.dbsensitive
@pytest.mark.django_db
def test_periodic_jobs_are_enqueued_once_per_slot(periodic):
    from django_tasks_db.models import DBTaskResult

    minute = datetime.timedelta(minutes=1)
    assert jobs.run_due_periodic(T0) == ["core.prune_jobs", "core.recover_jobs", "tests.every1", "tests.every5"]
    assert jobs.run_due_periodic(T0) == []  # a second scheduler, or a restart, in the same slot
    assert jobs.run_due_periodic(T0 + datetime.timedelta(seconds=40)) == []
    assert jobs.run_due_periodic(T0 + minute) == ["tests.every1"]
    assert jobs.run_due_periodic(T0 + 5 * minute) == ["core.recover_jobs", "tests.every1", "tests.every5"]
    # The scheduler was down for an hour: one run per job, not one per missed minute.
    assert jobs.run_due_periodic(T0 + 65 * minute) == ["core.prune_jobs", "core.recover_jobs", "tests.every1",
                                                        "tests.every5"]
    assert jobs.run_due_periodic(T0 + 65 * minute) == []
    names = [r["kwargs"]["name"] for r in DBTaskResult.objects.values_list("args_kwargs", flat=True)]
    assert sorted(names) == sorted(["core.prune_jobs"] * 2 + ["core.recover_jobs"] * 3 + ["tests.every1"] * 4
                                   + ["tests.every5"] * 3)
    assert PeriodicSlot.objects.count() == 12


@pytest.mark.dbsensitive
@pytest.mark.skipif(not os.environ.get("HOUQIN_DB_URL"), reason="threads need a shared database: runs on "
                    "PostgreSQL (make test); the in-memory SQLite stage tests processes instead (below)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_claim_each_slot_once(periodic):
    """Four schedulers in the same slot at once (threads, separate connections): each job once."""
    import threading

    results, barrier = [], threading.Barrier(4)

    def scheduler():
        from django.db import connection as conn

        barrier.wait()
        try:
            results.extend(jobs.run_due_periodic(T0))
        finally:
            conn.close()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == ["core.prune_jobs", "core.recover_jobs", "tests.every1", "tests.every5"]
    assert PeriodicSlot.objects.count() == 4


@pytest.mark.django_db
def test_celery_beat_entry_claims_the_nearest_slot_then_runs_here(periodic, tmp_path):
    assert jobs.slot_of(T0, 5) == jobs.slot_of(T0 - datetime.timedelta(seconds=10), 5, nearest=True)
    assert jobs.run_periodic_now("tests.every5", T0) is True
    assert jobs.run_periodic_now("tests.every5", T0 - datetime.timedelta(seconds=3)) is False  # a second beat
    assert PeriodicSlot.objects.filter(name="tests.every5").count() == 1


def test_celery_beat_schedule_lists_every_periodic_job(periodic, monkeypatch):
    from celery.schedules import crontab, schedule

    from houqin.celery import beat_schedule

    periodic["tests.every7"] = PeriodicJob("tests.every7", jobs_for_tests.tick, 7)
    entries = beat_schedule()
    assert set(entries) == {"core.prune_jobs", "core.recover_jobs", "tests.every1", "tests.every5", "tests.every7"}
    assert entries["tests.every5"]["task"] == "houqin.run_periodic" and entries["tests.every5"]["args"] == ("tests.every5",)
    assert isinstance(entries["tests.every1"]["schedule"], crontab)
    assert entries["tests.every5"]["schedule"] == crontab(minute="*/5")
    assert isinstance(entries["tests.every7"]["schedule"], schedule)
    assert entries["tests.every7"]["schedule"].run_every == datetime.timedelta(minutes=7)


@pytest.mark.django_db
def test_pruning_keeps_recent_rows_and_removes_old_ones_with_their_files(personas, tmp_path):
    user = personas["logistics_clerk"]
    old_file = tmp_path / "old.xlsx"
    old_file.write_bytes(b"x")
    old = JobProgress.objects.create(job_id="old", name="core.export_list", user=user, result_file=str(old_file))
    new = JobProgress.objects.create(job_id="new", name="core.export_list", user=user)
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    JobProgress.objects.filter(pk=old.pk).update(updated_at=long_ago)
    PeriodicSlot.objects.create(name="x", slot=1)
    PeriodicSlot.objects.update(created_at=long_ago)
    with override_settings(HOUQIN_EXPORT_DIR=tmp_path):
        counts = jobs.prune_jobs()
    assert counts["slots"] == 1 and counts["progress"] == 1 and not old_file.exists()
    assert list(JobProgress.objects.values_list("pk", flat=True)) == [new.pk]


# Processes: real subprocesses against a file SQLite database ----------------------------------------------


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """A migrated file database for the subprocess tests (about 4 s, once)."""
    var = tmp_path_factory.mktemp("houqin-var")
    done = subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=child_env(var), timeout=180,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return var


def child_env(var: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOUQIN_", "PYTEST_"))}
    env.update(DJANGO_SETTINGS_MODULE="houqin.settings_test", HOUQIN_VAR_DIR=str(var), PYTHONUNBUFFERED="1",
               HOUQIN_TEST_MARKER=f"houqin-jobs-test-{var.name}", **extra)
    return env


def db_rows(var: Path, sql: str) -> list:
    with sqlite3.connect(var / "houqin.sqlite3", timeout=20) as conn:
        return conn.execute(sql).fetchall()


@processes
def test_concurrent_scheduler_processes_enqueue_each_job_once(var_dir):
    """Two schedulers started at once on one SQLite file: no "database is locked", each job enqueued by
    exactly one of them (twice only if they straddle a minute, then once in each slot)."""
    count = "select count(*) from {}"
    before = [db_rows(var_dir, count.format(t))[0][0] for t in ("core_periodicslot", "django_tasks_database_dbtaskresult")]
    procs = [subprocess.Popen([PY, "manage.py", "run_scheduler", "--once"], cwd=ROOT, env=child_env(var_dir),
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    lines = [line for p in procs for line in p.communicate(timeout=60)[0].splitlines()]
    assert all(p.returncode == 0 for p in procs)
    enqueued = [line.removeprefix("scheduler: enqueued ") for line in lines]
    slots = db_rows(var_dir, f"select name, slot from core_periodicslot order by id limit -1 offset {before[0]}")
    assert enqueued and sorted(enqueued) == sorted(name for name, _slot in slots), lines
    assert len(set(slots)) == len(slots)
    after = [db_rows(var_dir, count.format(t))[0][0] for t in ("core_periodicslot", "django_tasks_database_dbtaskresult")]
    assert after[0] - before[0] == after[1] - before[1] == len(enqueued)  # one queued job per claimed slot


FAKE_CHILD = """
import os, signal, sys, time
name, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
def bye(signum, frame):
    open(out, "a").write(f"{name} {signal.Signals(signum).name}\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
signal.signal(signal.SIGINT, bye)
open(out, "a").write(f"{name} up {os.getpid()}\\n")
time.sleep(0.8 if mode == "die" else 60)
sys.exit(3)
"""


def start_fake_serve(tmp_path, die: str = ""):
    script = tmp_path / "child.py"
    script.write_text(FAKE_CHILD)
    out = tmp_path / "children.log"
    env = child_env(tmp_path, HOUQIN_SERVE_GRACE="5", **{
        f"HOUQIN_SERVE_{name.upper()}": f"{PY} {script} {name} {'die' if name == die else 'live'} {out}"
        for name in ("web", "worker", "scheduler")})
    serve = subprocess.Popen([PY, "manage.py", "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    wait_for(lambda: out.exists() and out.read_text().count(" up ") == 3, 20, "three children")
    return serve, out, env["HOUQIN_TEST_MARKER"]


@processes
def test_serve_stops_all_children_when_one_dies(tmp_path):
    serve, out, marker = start_fake_serve(tmp_path, die="worker")
    stdout, _ = serve.communicate(timeout=20)
    assert serve.returncode == 1
    assert [line.split(":")[0] for line in stdout.splitlines()[:3]] == ["serve", "serve", "serve"]
    assert "worker (pid" in stdout and "exited with status 3: stopping the others" in stdout
    log = out.read_text()
    assert "web SIGTERM" in log and "scheduler SIGTERM" in log
    assert processes_with_env(marker) == []


@processes
def test_serve_forwards_sigint_and_sigterm_and_leaves_no_process(tmp_path):
    for sig in (signal.SIGTERM, signal.SIGINT):
        folder = tmp_path / sig.name
        folder.mkdir()
        serve, out, marker = start_fake_serve(folder)
        serve.send_signal(sig)
        stdout, _ = serve.communicate(timeout=20)
        assert serve.returncode == 0, stdout
        assert sorted(out.read_text().split("\n")[3:-1]) == [f"{n} {sig.name}" for n in ("scheduler", "web", "worker")]
        lines = stdout.splitlines()
        assert [line.split(" pid ")[0] for line in lines[:3]] == ["serve: web", "serve: worker", "serve: scheduler"]
        assert processes_with_env(marker) == []


@processes
def test_serve_runs_the_web_server_worker_and_scheduler_together(var_dir):
    """The real thing, as `make run` starts it: the login page answers, the scheduler's jobs get done,
    and SIGINT (Ctrl-C) stops gunicorn and its workers, the job worker and the scheduler."""
    port = free_port()
    env = child_env(var_dir, HOUQIN_BIND=f"127.0.0.1:{port}", HOUQIN_WEB_WORKERS="1")
    serve = subprocess.Popen([PY, "manage.py", "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        def login_page():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as r:  # noqa: S310
                    return r.status == 200
            except OSError:
                return False

        wait_for(login_page, 30, "the login page")
        done = "select count(*) from django_tasks_database_dbtaskresult where status = 'SUCCESSFUL'"
        wait_for(lambda: db_rows(var_dir, done)[0][0] > 0, 30, "a periodic job run by the worker")
    finally:
        serve.send_signal(signal.SIGINT)
        stdout, _ = serve.communicate(timeout=40)
    assert serve.returncode == 0, stdout
    for name in ("web", "worker", "scheduler"):
        assert f"serve: {name} pid " in stdout
    assert "scheduler: " in stdout and "worker: database queue" in stdout
    wait_for(lambda: processes_with_env(env["HOUQIN_TEST_MARKER"]) == [], 10, "no process left")


@override_settings(HOUQIN_JOBS="celery")
def test_serve_and_run_worker_refuse_district_mode():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="celery -A houqin worker"):
        call_command("serve")
    with pytest.raises(CommandError, match="celery -A houqin worker"):
        call_command("run_worker", batch=True)


# District mode: Celery on a real redis-server ------------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    if server is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; make test installs it)")
    import redis

    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
                             "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
                            stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def ping():
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    try:
        wait_for(ping, 10, "redis-server")
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


@processes
@pytest.mark.celery
@pytest.mark.django_db
def test_celery_worker_runs_an_enqueued_job_via_redis(redis_url, tmp_path, django_capture_on_commit_callbacks):
    from houqin.celery import app

    env = child_env(tmp_path, HOUQIN_MODE="district", HOUQIN_REDIS_URL=redis_url)
    worker = subprocess.Popen(
        [PY, "-m", "celery", "-A", "houqin", "worker", "--pool=solo", "--concurrency=1", "--loglevel=WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-I", "houqin.core.tests.jobs_for_tests"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    saved = {"broker_url": app.conf.broker_url, "result_backend": app.conf.result_backend}
    app.conf.update(broker_url=redis_url, result_backend=redis_url)
    app._pool, app._backend_cache = None, None
    trace = tmp_path / "trace"
    try:
        with override_settings(HOUQIN_JOBS="celery"), django_capture_on_commit_callbacks(execute=True):
            job_id = jobs.enqueue("tests.touch", path=str(trace), text="from celery")
        assert app.AsyncResult(job_id).get(timeout=30) == "from celery"
        assert trace.read_text() == "from celery\n"
        with override_settings(HOUQIN_JOBS="celery"):
            assert jobs.job_status(job_id) == "SUCCESSFUL"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output = worker.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0]
        app.conf.update(saved)
        app._pool, app._backend_cache = None, None
    assert worker.returncode == 0, output


def test_large_import_is_written_on_the_worker_with_progress(client, personas, school, tmp_path):
    """Above HOUQIN_IMPORT_INLINE_MAX rows the commit runs as core.import_commit: all rows, one request id."""
    import datetime

    from houqin.core import excel
    from houqin.core.models import AuditEntry
    from tests.sampleapp.models import LedgerLine

    director = personas["logistics_director"]
    client.force_login(director)
    headers = ["编号", "摘要", "类型", "金额", "数量", "日期", "地点", "已付款"]
    rows = [[f"W{i:03d}", "批量", "入库", 1.5, 1, datetime.date(2026, 9, 1), None, "否"] for i in range(3)]
    buf = io.BytesIO()
    excel.write_xlsx(buf, columns=[excel.Column(key=h, header=h) for h in headers], rows=rows, sheet_title="x")
    buf.seek(0)
    buf.name = "w.xlsx"
    url = reverse("sampleapp:ledgerline_import")
    with override_settings(HOUQIN_JOBS="immediate", HOUQIN_IMPORT_INLINE_MAX=2):
        token = client.post(url, {"file": buf}).context["token"]
        assert LedgerLine.objects.filter(code__startswith="W").count() == 0
        response = client.post(url, {"token": token})
        assert response.status_code == 302 and response["Location"].startswith("/jobs/")
        p = JobProgress.objects.get(user=director, name="core.import_commit")
        assert (p.status, p.done) == ("done", 3) and "3" in p.message
    lines = LedgerLine.objects.filter(code__startswith="W")
    assert lines.count() == 3
    entries = AuditEntry.objects.filter(object_id__in=[str(x.pk) for x in lines], action="import")
    assert entries.count() == 3 and len({e.request_id for e in entries}) == 1
    assert "导入完成" in client.get(response["Location"]).content.decode()


def test_serve_replaces_web_workers_after_max_requests(settings):
    """Each gunicorn worker is replaced after HOUQIN_WEB_MAX_REQUESTS requests (plus jitter), so memory an inline
    import or export left behind is given back; 0 keeps workers for good."""
    from houqin.core.management.commands.serve import default_commands

    settings.HOUQIN_WEB_MAX_REQUESTS = 1000
    web = dict(default_commands())["web"]
    assert web[web.index("--max-requests") + 1] == "1000"
    assert web[web.index("--max-requests-jitter") + 1] == "100"
    settings.HOUQIN_WEB_MAX_REQUESTS = 0
    assert "--max-requests" not in dict(default_commands())["web"]
