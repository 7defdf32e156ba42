"""``manage.py run_worker``: the school-mode job worker (django-tasks-db's ``db_worker``, our defaults).

It runs the jobs enqueued through ``houqin.core.jobs`` on the database queue, one at a time; SIGINT or
SIGTERM lets the running job finish, then exits. On start it marks failed the tracked jobs a killed
worker left "running" (``jobs.recover_stale_jobs``). ``--batch`` runs what is queued and exits (tests,
cron). In district mode the worker is Celery's: ``celery -A houqin worker``.
"""

import logging

from django.conf import settings
from django.core.management.base import CommandError
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from houqin.core import jobs


class Command(DbWorkerCommand):
    help = "Run the background job worker (school mode: the database queue)."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        # No autoreload (a job must not be cut off by a code change); the interval bounds a job's wait.
        parser.set_defaults(reload=False, interval=1.0)

    def configure_logging(self, verbosity: int) -> None:
        # Every job runs through one django-tasks task (houqin.core.jobs.run_job), so django-tasks'
        # own per-task lines say nothing: its warnings and errors are kept, and houqin.jobs names the
        # job (failures always, successes with -v 2).
        level = logging.DEBUG if verbosity >= 3 else logging.INFO if verbosity == 2 else logging.WARNING
        handler = logging.StreamHandler(self.stdout)
        for name in ("django_tasks", "django_tasks_db", "houqin.jobs"):
            logger = logging.getLogger(name)
            logger.setLevel(level)
            if not logger.handlers:
                logger.addHandler(handler)
            logger.propagate = False

    def handle(self, *args, **options):
        if settings.HOUQIN_JOBS != "db":
            raise CommandError(f"HOUQIN_JOBS is {settings.HOUQIN_JOBS!r}: jobs do not go through the database "
                               "queue. In district mode run `celery -A houqin worker`.")
        jobs.autodiscover()  # every app's tasks module, before the first job
        # Jobs a killed worker left "running" (no heartbeat for HOUQIN_JOB_STALE_MINUTES) are told failed.
        recovered = jobs.recover_stale_jobs()
        if recovered and options["verbosity"]:
            self.stdout.write(f"worker: {recovered} interrupted job(s) marked failed")
        if options["verbosity"] and not options["batch"]:
            self.stdout.write(f"worker: database queue, {len(jobs.registered_jobs())} jobs known, polling every "
                              f"{options['interval']:g} s")
            self.stdout.flush()
        return super().handle(*args, **options)
