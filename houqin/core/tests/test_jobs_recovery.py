"""Jobs left "running" by a killed worker: the heartbeat, the recovery (worker start, periodic job, the
progress page) and what the owner reads."""

import datetime
import threading
import time

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core import jobs
from houqin.core.models import JobProgress
from houqin.core.tests.test_jobs import quiet_worker_logging, run_worker_batch  # noqa: F401 - a fixture

INTERRUPTED = "The job was interrupted: the background worker stopped while it ran. Please start it again."


@jobs.job("tests.sleep")
def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _row(user, *, status=JobProgress.Status.RUNNING, heartbeat_minutes_ago=None, updated_minutes_ago=0,
         job_id=None) -> JobProgress:
    now = timezone.now()
    p = JobProgress.objects.create(job_id=job_id or jobs.new_job_id(), name="tests.count", user=user,
                                   school_id=user.school_id, label="导出：台账", total=100, done=40, status=status)
    JobProgress.objects.filter(pk=p.pk).update(
        heartbeat_at=None if heartbeat_minutes_ago is None else now - datetime.timedelta(minutes=heartbeat_minutes_ago),
        updated_at=now - datetime.timedelta(minutes=updated_minutes_ago))
    p.refresh_from_db()
    return p


# Heartbeat ---------------------------------------------------------------------------------------------


@override_settings(HOUQIN_JOBS="immediate")
def test_a_tracked_job_beats_when_it_starts_and_at_each_progress_report(personas, monkeypatch):
    seen = []
    real_update = jobs.job_progress_update

    def spy(*args, **kwargs):
        real_update(*args, **kwargs)
        seen.append(JobProgress.objects.get(job_id=jobs.current_job_id()).heartbeat_at)

    monkeypatch.setattr(jobs, "job_progress_update", spy)
    job_id = jobs.enqueue_tracked("tests.count", user=personas["logistics_clerk"], n=3)
    assert len(seen) >= 4 and all(seen)  # the start of Progress, three steps (every_seconds=0), finish
    assert seen == sorted(seen)
    p = JobProgress.objects.get(job_id=job_id)
    assert p.status == "done" and p.heartbeat_at is not None


def test_heartbeat_beat_touches_only_a_running_row(personas):
    user = personas["logistics_clerk"]
    running = _row(user, heartbeat_minutes_ago=30)
    done = _row(user, status=JobProgress.Status.DONE, heartbeat_minutes_ago=30)
    assert jobs.heartbeat_beat(running.job_id) == 1
    assert jobs.heartbeat_beat(done.job_id) == 0
    running.refresh_from_db()
    assert timezone.now() - running.heartbeat_at < datetime.timedelta(seconds=30)
    assert not jobs.job_progress_is_stale(running)


@override_settings(HOUQIN_JOBS="immediate", HOUQIN_JOB_HEARTBEAT_SECONDS=0.02)
def test_a_job_reporting_nothing_still_beats_while_it_runs_and_stops_beating_after(personas, monkeypatch):
    beats = []
    lock = threading.Lock()

    def beat(job_id):
        with lock:
            beats.append(job_id)
        return 1

    monkeypatch.setattr(jobs, "heartbeat_beat", beat)  # the thread's own connection cannot see the test's rows
    job_id = jobs.enqueue_tracked("tests.sleep", user=personas["logistics_clerk"], seconds=0.3)
    count = len(beats)
    assert count >= 5 and set(beats) == {job_id}
    time.sleep(0.1)
    assert len(beats) == count  # the thread ended with the job
    assert not any(t.name.startswith("heartbeat-") for t in threading.enumerate())


@override_settings(HOUQIN_JOBS="immediate", HOUQIN_JOB_HEARTBEAT_SECONDS=0)
def test_heartbeat_thread_can_be_switched_off(personas):
    before = threading.active_count()
    jobs.enqueue_tracked("tests.sleep", user=personas["logistics_clerk"], seconds=0.01)
    assert threading.active_count() == before


# Recovery ----------------------------------------------------------------------------------------------


@override_settings(HOUQIN_JOB_STALE_MINUTES=10)
def test_running_rows_without_a_heartbeat_for_n_minutes_are_marked_failed(personas):
    user = personas["logistics_clerk"]
    killed = _row(user, heartbeat_minutes_ago=11)
    never_beat = _row(user, heartbeat_minutes_ago=None, updated_minutes_ago=30)  # a row from before heartbeats
    alive = _row(user, heartbeat_minutes_ago=2, updated_minutes_ago=30)
    queued = _row(user, status=JobProgress.Status.QUEUED, updated_minutes_ago=60)
    done = _row(user, status=JobProgress.Status.DONE, heartbeat_minutes_ago=60)
    assert jobs.job_progress_is_stale(killed) and not jobs.job_progress_is_stale(alive)

    assert jobs.recover_stale_jobs() == 2
    status = dict(JobProgress.objects.values_list("job_id", "status"))
    assert status[killed.job_id] == status[never_beat.job_id] == "failed"
    assert (status[alive.job_id], status[queued.job_id], status[done.job_id]) == ("running", "queued", "done")
    killed.refresh_from_db()
    assert killed.message == _(INTERRUPTED)
    assert jobs.recover_stale_jobs() == 0  # nothing left to do


def test_recovery_is_a_periodic_job(db):
    periodic = jobs.periodic_jobs()["core.recover_jobs"]
    assert periodic.every_minutes <= 10 and periodic.func() == 0


@override_settings(HOUQIN_JOBS="db", HOUQIN_JOB_STALE_MINUTES=10)
def test_a_starting_worker_marks_the_killed_workers_job_failed(personas, quiet_worker_logging, monkeypatch):  # noqa: F811
    """A worker killed mid-job leaves its progress row "running" and the queue's row RUNNING; the next
    worker to start tells the owner and finishes the queue's row (so pruning removes it)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    user = personas["logistics_clerk"]
    job_id = jobs.enqueue_tracked("tests.count", user=user, n=5)
    # What the killed worker left behind: it had taken the job, reported progress, then stopped beating.
    DBTaskResult.objects.filter(id=job_id).update(status=TaskResultStatus.RUNNING,
                                                  started_at=timezone.now() - datetime.timedelta(minutes=20))
    stale = timezone.now() - datetime.timedelta(minutes=15)
    JobProgress.objects.filter(job_id=job_id).update(status="running", done=2, heartbeat_at=stale, updated_at=stale)
    assert jobs.job_status(job_id) == "RUNNING"

    log = run_worker_batch()
    assert "1 interrupted job(s) marked failed" in log
    p = JobProgress.objects.get(job_id=job_id)
    assert (p.status, p.message) == ("failed", _(INTERRUPTED))
    assert jobs.job_status(job_id) == "FAILED"
    assert DBTaskResult.objects.get(id=job_id).finished_at is not None


def test_progress_page_says_the_job_was_interrupted_and_stops_polling(client, personas):
    owner = personas["logistics_clerk"]
    p = _row(owner, heartbeat_minutes_ago=120, updated_minutes_ago=120)
    client.force_login(owner)
    page = client.get(reverse("core:job_progress", args=[p.job_id])).content.decode()
    assert _(INTERRUPTED) in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    p.refresh_from_db()
    assert p.status == "failed"


def test_progress_page_of_a_live_job_keeps_polling(client, personas):
    owner = personas["logistics_clerk"]
    p = _row(owner, heartbeat_minutes_ago=1, updated_minutes_ago=120)
    client.force_login(owner)
    page = client.get(reverse("core:job_progress", args=[p.job_id])).content.decode()
    assert 'hx-trigger="every 1s"' in page and _(INTERRUPTED) not in page


@pytest.mark.parametrize("minutes", [5, 30])
def test_stale_minutes_is_a_setting(personas, settings, minutes):
    settings.HOUQIN_JOB_STALE_MINUTES = minutes
    row = _row(personas["logistics_clerk"], heartbeat_minutes_ago=10)
    assert jobs.job_progress_is_stale(row) is (minutes < 10)
