"""Background jobs: the one interface every app uses (architecture §4.6 "Processes").

    from houqin.core.jobs import job, enqueue

    @job("notifications.deliver")          # a module-level function, JSON-able keyword arguments
    def deliver(batch: int = 200) -> int: ...

    job_id = enqueue("notifications.deliver", batch=50)

Where a job runs is the setting ``HOUQIN_JOBS``:

- ``db`` (school mode): django-tasks with django-tasks-db's database backend. ``enqueue`` inserts a
  row (in the caller's transaction: the job exists only if that commits); the worker process
  (``manage.py run_worker``, started with the web server and the scheduler by ``manage.py serve``)
  runs it. The job id is the DBTaskResult's id.
- ``celery`` (district mode): Celery on Redis, sent once the caller's transaction commits; the
  job id is the Celery task id. ``celery -A houqin worker`` runs it (``houqin/celery.py``).
- ``immediate``: inline, inside ``enqueue`` (unit tests, one-off scripts).

Every backend runs a job the same way, ``execute(name, job_id, kwargs)``: jobs are found by name,
never by import path, so moving a function does not break jobs already queued. The one
django-tasks task is ``run_job`` below, the one Celery task ``houqin.run_job``.

Progress: ``enqueue_tracked`` creates a ``core.JobProgress`` row (owner, school, total) before
queueing; the job reports through ``job_progress_update`` and its owner watches ``/jobs/<id>/``.

Periodic jobs (``registry.periodic_jobs``, registered by apps): the school scheduler
(``manage.py run_scheduler``) calls ``run_due_periodic`` three times a minute; each job is enqueued
once per time slot, whoever asks, claimed by inserting a ``core.PeriodicSlot`` row. Missed slots
are not replayed: the jobs catch up themselves (generation covers the days it missed). In district
mode Celery beat sends ``houqin.run_periodic`` per job (``beat_schedule``), which claims the same way.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django_tasks import task as django_task

from .registry import PeriodicJob, registry

log = logging.getLogger("houqin.jobs")

CELERY_RUN_JOB = "houqin.run_job"
CELERY_RUN_PERIODIC = "houqin.run_periodic"

_jobs: dict[str, Callable] = {}
_discovered = False
# The id enqueue() chose, read by django-tasks-db through next_job_id (its "id_function" option).
_next_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("houqin_next_job_id", default=None)
# The job running in this thread, so that job_progress_update() needs no id.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("houqin_current_job", default=None)


class UnknownJob(LookupError):
    pass


class JobError(Exception):
    """A failure to show the job's owner as it is ("the list no longer exists"); any other
    exception shows a generic message and leaves the traceback to the worker's log."""


# Registering -----------------------------------------------------------------------------------------


def job(name: str) -> Callable[[Callable], Callable]:
    """Register a module-level function as the job ``name`` ("app.verb"); returns it unchanged."""

    def decorator(func: Callable) -> Callable:
        if not callable(func) or "<locals>" in getattr(func, "__qualname__", "<locals>"):
            raise ValueError(f"job {name!r}: only module-level functions can be jobs")
        existing = _jobs.get(name)
        if existing is not None and _path(existing) != _path(func):
            raise ValueError(f"job {name!r} is already {_path(existing)}")
        _jobs[name] = func
        func.job_name = name
        return func

    return decorator


def _path(func: Callable) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def periodic_jobs() -> dict[str, PeriodicJob]:
    """The periodic jobs apps registered, plus core's own housekeeping."""
    return {**BUILTIN_PERIODIC, **registry.periodic_jobs}


def registered_jobs() -> dict[str, Callable]:
    return {**{name: p.func for name, p in periodic_jobs().items()}, **_jobs}


def autodiscover() -> None:
    """Import every installed app's ``tasks`` module (where apps keep their jobs), once."""
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("tasks")


def resolve(name: str) -> Callable:
    """The function of job ``name``; imports the apps' ``tasks`` modules once if it is not known yet."""
    func = registered_jobs().get(name)
    if func is None and not _discovered:
        autodiscover()
        func = registered_jobs().get(name)
    if func is None:
        raise UnknownJob(f"no job named {name!r}")
    return func


# Enqueueing ------------------------------------------------------------------------------------------


def new_job_id() -> str:
    return str(uuid.uuid4())


def next_job_id() -> uuid.UUID:
    """django-tasks-db's ``id_function``: the id enqueue() chose, so DBTaskResult.id is the job id."""
    chosen = _next_id.get()
    return uuid.UUID(chosen) if chosen else uuid.uuid4()


def enqueue(name: str, **kwargs) -> str:
    """Queue job ``name`` with JSON-able keyword arguments; returns the job id."""
    job_id = new_job_id()
    _send(name, job_id, kwargs, tracked=False)
    return job_id


def enqueue_tracked(name: str, *, user, label: str = "", total: int = 0, **kwargs) -> str:
    """Queue a job whose progress ``user`` watches at ``/jobs/<id>/`` (core.JobProgress)."""
    from .models import JobProgress

    job_id = new_job_id()
    JobProgress.objects.create(job_id=job_id, name=name, label=label[:200], user=user, total=total,
                               school_id=getattr(user, "school_id", None))
    _send(name, job_id, kwargs, tracked=True)
    return job_id


def _send(name: str, job_id: str, kwargs: dict, *, tracked: bool) -> None:
    resolve(name)  # an unknown name fails here, in the caller, not later on the worker
    try:
        json.dumps(kwargs)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"job {name!r}: arguments must be JSON-able ({exc})") from None
    backend = settings.HOUQIN_JOBS
    if backend == "celery":
        from houqin.celery import app

        def send() -> None:
            app.send_task(CELERY_RUN_JOB, args=[name, job_id, kwargs, tracked], task_id=job_id)

        transaction.on_commit(send)  # the worker must see what the caller wrote
        return
    token = _next_id.set(job_id)
    try:
        run_job.using(backend="immediate" if backend == "immediate" else "default").enqueue(
            name=name, job_id=job_id, kwargs=kwargs, tracked=tracked)
    finally:
        _next_id.reset(token)


def job_status(job_id: str) -> str | None:
    """READY, RUNNING, SUCCESSFUL or FAILED (django-tasks' names); None when unknown or not kept."""
    backend = settings.HOUQIN_JOBS
    if backend == "db":
        from django_tasks import task_backends
        from django_tasks.exceptions import TaskResultDoesNotExist

        try:
            return str(task_backends["default"].get_result(job_id).status)
        except TaskResultDoesNotExist:
            return None
    if backend == "celery":
        from celery.result import AsyncResult

        from houqin.celery import app

        state = AsyncResult(job_id, app=app).state
        return {"PENDING": "READY", "RECEIVED": "READY", "RETRY": "READY", "STARTED": "RUNNING",
                "SUCCESS": "SUCCESSFUL", "FAILURE": "FAILED", "REVOKED": "FAILED"}.get(state)
    return None


# Running ---------------------------------------------------------------------------------------------


def execute(name: str, job_id: str, kwargs: dict, tracked: bool = False):
    """Run one job here and now: what every backend's worker calls."""
    from .models import JobProgress

    func = resolve(name)
    token = _current.set(job_id)
    started = time.monotonic()
    heartbeat = None
    try:
        if tracked:
            now = timezone.now()
            JobProgress.objects.filter(job_id=job_id).update(status=JobProgress.Status.RUNNING,
                                                             heartbeat_at=now, updated_at=now)
            heartbeat = Heartbeat(job_id)
            heartbeat.start()
        try:
            result = func(**kwargs)
        except Exception as exc:
            log.exception("job %s %s failed", name, job_id)
            if tracked:
                message = str(exc) if isinstance(exc, JobError) else _("The job failed; the details are in the "
                                                                        "server log.")
                JobProgress.objects.filter(job_id=job_id).update(
                    status=JobProgress.Status.FAILED, message=message[:500], updated_at=timezone.now())
            raise
        if tracked:
            JobProgress.objects.filter(job_id=job_id).exclude(status=JobProgress.Status.FAILED).update(
                status=JobProgress.Status.DONE, updated_at=timezone.now())
        log.info("job %s %s done in %.2f s", name, job_id, time.monotonic() - started)
        return result
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        _current.reset(token)


def heartbeat_beat(job_id: str) -> int:
    """Say that the tracked job ``job_id`` is still running (its row's ``heartbeat_at``)."""
    from .models import JobProgress

    return JobProgress.objects.filter(job_id=job_id, status=JobProgress.Status.RUNNING).update(
        heartbeat_at=timezone.now())


class Heartbeat:
    """A daemon thread writing the running job's heartbeat every ``HOUQIN_JOB_HEARTBEAT_SECONDS``, so that
    a job reporting no progress for a while (one long query, typesetting a PDF) is not taken for dead.

    It uses its own database connection and gives up quietly on errors (a locked SQLite database): a
    missed beat only matters after ``HOUQIN_JOB_STALE_MINUTES``, several beats later.
    """

    def __init__(self, job_id: str, every_seconds: float | None = None) -> None:
        self.job_id = job_id
        self.every = settings.HOUQIN_JOB_HEARTBEAT_SECONDS if every_seconds is None else every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def start(self) -> None:
        if self.every > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(self.every):
                try:
                    heartbeat_beat(self.job_id)
                except Exception:  # noqa: BLE001 - a missed beat is harmless; the next one may work
                    log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)
        finally:
            connection.close()


# The one django-tasks task: the database worker finds it by its path, houqin.core.jobs.run_job. Defined
# after next_job_id, which the database backend imports (by its "id_function" option) when created here.
@django_task()
def run_job(name: str, job_id: str, kwargs: dict, tracked: bool = False):
    return execute(name, job_id, kwargs, tracked)


def current_job_id() -> str | None:
    return _current.get()


# Progress --------------------------------------------------------------------------------------------


def job_progress_update(job_id: str | None = None, *, total: int | None = None, done: int | None = None,
                        message: str | None = None, result_file: str | None = None,
                        result_name: str | None = None) -> None:
    """Report progress of a tracked job (by default the one running in this thread)."""
    from .models import JobProgress

    job_id = job_id or _current.get()
    if job_id is None:
        return
    fields = {"total": total, "done": done, "message": message, "result_file": result_file,
              "result_name": result_name}
    fields = {k: v for k, v in fields.items() if v is not None}
    now = timezone.now()
    JobProgress.objects.filter(job_id=job_id).update(updated_at=now, heartbeat_at=now, **fields)


class Progress:
    """Counts done rows and writes them at most once a second: ``p = Progress(total); p.step()``."""

    def __init__(self, total: int, every_seconds: float = 1.0) -> None:
        self.total = total
        self.done = 0
        self.every = every_seconds
        self._last = time.monotonic()
        job_progress_update(total=total, done=0)

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            job_progress_update(done=self.done)

    def finish(self, **fields) -> None:
        job_progress_update(done=self.done, **fields)


def job_progress_get(job_id: str):
    """The JobProgress row of ``job_id`` or None."""
    from .models import JobProgress

    return JobProgress.objects.filter(job_id=job_id).select_related("user").first()


def job_progress_is_stale(progress, now: datetime | None = None) -> bool:
    """Whether a "running" row has had no heartbeat for HOUQIN_JOB_STALE_MINUTES (its worker is gone)."""
    if progress.status != progress.Status.RUNNING:
        return False
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.HOUQIN_JOB_STALE_MINUTES)
    last = progress.heartbeat_at or progress.updated_at
    return last is not None and last < cutoff


def job_progress_visible(progress, user) -> bool:
    """Only the job's owner sees its progress and result, and the 系统管理员 of its school."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser or progress.user_id == user.pk:
        return True
    return bool(getattr(user, "has_role", None) and user.has_role("sysadmin") and user.school_id
                and user.school_id == progress.school_id)


# Periodic jobs ---------------------------------------------------------------------------------------


def slot_of(now: datetime, every_minutes: int, *, nearest: bool = False) -> int:
    """The time slot ``now`` falls in: floor(minutes since the epoch / every_minutes).

    ``nearest`` (Celery beat, which sends at the slot's start) rounds instead, so that a worker whose
    clock is a little behind beat's still lands in the slot beat meant."""
    minutes = now.timestamp() / 60 / max(1, every_minutes)
    return round(minutes) if nearest else math.floor(minutes)


def _claim(name: str, slot: int, job_id: str) -> bool:
    from .models import PeriodicSlot

    try:
        with transaction.atomic():
            PeriodicSlot.objects.create(name=name, slot=slot, job_id=job_id)
    except IntegrityError:
        return False
    return True


def run_due_periodic(now: datetime | None = None) -> list[str]:
    """Enqueue every periodic job whose current slot nobody has claimed yet; returns their names."""
    from .models import PeriodicSlot

    now = now or timezone.now()
    enqueued = []
    for name, periodic in sorted(periodic_jobs().items()):
        slot = slot_of(now, periodic.every_minutes)
        job_id = new_job_id()
        try:
            # Claim and enqueue together: on the database queue both rows commit or neither does.
            with transaction.atomic():
                PeriodicSlot.objects.create(name=name, slot=slot, job_id=job_id)
                _send(name, job_id, {}, tracked=False)
        except IntegrityError:
            continue  # another scheduler, or this one before a restart, enqueued it
        enqueued.append(name)
    return enqueued


def run_periodic_now(name: str, now: datetime | None = None) -> bool:
    """Celery beat's entry (houqin.run_periodic): claim the slot, then run the job on this worker."""
    periodic = periodic_jobs()[name]
    job_id = new_job_id()
    if not _claim(name, slot_of(now or timezone.now(), periodic.every_minutes, nearest=True), job_id):
        return False
    execute(name, job_id, {})
    return True


# Housekeeping ----------------------------------------------------------------------------------------


def prune_jobs() -> dict[str, int]:
    """Delete finished queue rows, progress rows with their files, and old slot claims."""
    from .models import JobProgress, PeriodicSlot

    cutoff = timezone.now() - timedelta(days=settings.HOUQIN_JOBS_KEEP_DAYS)
    counts = {"slots": PeriodicSlot.objects.filter(created_at__lt=timezone.now() - timedelta(days=2)).delete()[0]}
    old = JobProgress.objects.filter(updated_at__lt=cutoff)
    export_dir = Path(settings.HOUQIN_EXPORT_DIR).resolve()
    for path in old.exclude(result_file="").values_list("result_file", flat=True):
        file = Path(path).resolve()
        if file.parent == export_dir:
            file.unlink(missing_ok=True)
    counts["progress"] = old.delete()[0]
    from django_tasks_db.models import DBTaskResult

    counts["results"] = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()[0]
    return counts


def recover_stale_jobs(now: datetime | None = None) -> int:
    """Mark failed the tracked jobs left "running" by a worker that was killed; returns how many.

    A running job writes its heartbeat at each progress report and every HOUQIN_JOB_HEARTBEAT_SECONDS;
    one silent for HOUQIN_JOB_STALE_MINUTES is not running any more. Its owner reads on the progress
    page that it was interrupted and must be started again. Runs when a worker starts and as the
    periodic job ``core.recover_jobs``; a job still alive (another worker's) keeps beating and is left alone.
    """
    from django.db.models import Q

    from .models import JobProgress

    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.HOUQIN_JOB_STALE_MINUTES)
    stale = JobProgress.objects.filter(status=JobProgress.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff))
    job_ids = list(stale.values_list("job_id", flat=True))
    if not job_ids:
        return 0
    message = _("The job was interrupted: the background worker stopped while it ran. Please start it again.")
    # The same condition again: a job that beat in the meantime is left running.
    count = stale.filter(job_id__in=job_ids).update(status=JobProgress.Status.FAILED, message=message[:500],
                                                     updated_at=now)
    if settings.HOUQIN_JOBS == "db":
        # The queue's own row of a killed job stays RUNNING too: finish it, so that pruning removes it.
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        uuids = []
        for job_id in job_ids:
            try:
                uuids.append(uuid.UUID(job_id))
            except ValueError:
                continue
        DBTaskResult.objects.filter(id__in=uuids, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED, finished_at=now)
    log.warning("marked %s interrupted job(s) failed: %s", count, ", ".join(job_ids))
    return count


def recover_stale_jobs_job() -> int:
    return recover_stale_jobs()


BUILTIN_PERIODIC = {
    "core.prune_jobs": PeriodicJob("core.prune_jobs", prune_jobs, every_minutes=60),
    "core.recover_jobs": PeriodicJob("core.recover_jobs", recover_stale_jobs_job, every_minutes=5),
}


@job("core.import_commit")
def import_commit(**kwargs) -> dict:
    """A large Excel import written on the worker (X-7); see views_entity.import_commit_job."""
    from .views_entity import import_commit_job

    return import_commit_job(**kwargs)


@job("core.export_list")
def export_list(**kwargs) -> dict:
    """A list exported on the worker (Platform II's large exports); see views_entity.export_list_job."""
    from .views_entity import export_list_job

    return export_list_job(**kwargs)


@job("core.print_list")
def print_list(**kwargs) -> dict:
    """A long list printed (PDF, PUB-3) on the worker: the export's job with the print view's writer."""
    from .views_entity import export_list_job

    return export_list_job(kind="print", **kwargs)
