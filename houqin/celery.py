"""Celery for district mode (HOUQIN_MODE=district, HOUQIN_JOBS=celery), on Redis (HOUQIN_REDIS_URL).

    celery -A houqin worker --loglevel=INFO      # runs the jobs (as many as the load needs)
    celery -A houqin beat --loglevel=INFO        # sends the periodic jobs (one is enough; two are harmless)

Two tasks carry every job of ``houqin.core.jobs``: ``houqin.run_job`` (what ``enqueue`` sends) and
``houqin.run_periodic`` (what beat sends, one schedule entry per registered periodic job; the
worker claims the job's time slot before running it, so a second beat does not run it twice).
School mode does not use this module.
"""

import logging
import os

from celery import Celery
from celery.schedules import crontab, schedule
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "houqin.settings")

app = Celery("houqin")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task(name="houqin.run_job")
def run_job(name: str, job_id: str, kwargs: dict, tracked: bool = False):
    from houqin.core import jobs

    return jobs.execute(name, job_id, kwargs, tracked)


@app.task(name="houqin.run_periodic", ignore_result=True)
def run_periodic(name: str) -> bool:
    from houqin.core import jobs

    return jobs.run_periodic_now(name)


def beat_schedule() -> dict:
    """One beat entry per periodic job: at the start of each slot (crontab when the period divides
    an hour, else every N minutes)."""
    from houqin.core.jobs import periodic_jobs

    entries = {}
    for name, periodic in sorted(periodic_jobs().items()):
        n = max(1, periodic.every_minutes)
        when = crontab(minute="*" if n == 1 else f"*/{n}") if 60 % n == 0 else schedule(n * 60)
        entries[name] = {"task": "houqin.run_periodic", "schedule": when, "args": (name,),
                         "options": {"expires": n * 60}}
    return entries


@app.on_after_finalize.connect
def _set_beat_schedule(sender, **kwargs) -> None:
    # Beat finalizes the app after Celery's Django fix-up ran django.setup(), so the apps have
    # registered their periodic jobs by now.
    from django.apps import apps

    if apps.ready:
        sender.conf.beat_schedule = beat_schedule()


@worker_ready.connect
def _recover_stale_jobs(sender=None, **kwargs) -> None:
    # Tracked jobs a killed worker left "running" are marked failed when a worker starts (and every
    # five minutes by the periodic core.recover_jobs).
    from houqin.core import jobs

    try:
        jobs.recover_stale_jobs()
    except Exception:  # noqa: BLE001 - never keep a worker from starting
        logging.getLogger("houqin.jobs").warning("recovering interrupted jobs failed", exc_info=True)
