"""``manage.py run_scheduler``: enqueue the periodic jobs (school mode).

Three times a minute, at :00, :20 and :40, it calls ``jobs.run_due_periodic``, which enqueues each
registered periodic job once per time slot however many schedulers run and however often they
restart. SIGINT or SIGTERM ends it after the current pass. ``--once`` makes one pass and exits.
In district mode Celery beat does this (``celery -A houqin beat``).
"""

import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from houqin.core import jobs


class Command(BaseCommand):
    help = "Enqueue the periodic jobs, once per time slot (school mode)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=20.0,
                            help="seconds between passes, aligned to the minute (default 20)")
        parser.add_argument("--once", action="store_true", help="make one pass and exit")

    def handle(self, *args, interval: float, once: bool, verbosity: int, **options) -> None:
        if once:
            for name in jobs.run_due_periodic():
                self.stdout.write(f"scheduler: enqueued {name}")
            return
        stop = threading.Event()

        def on_signal(signum, frame) -> None:
            stop.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        periodic = jobs.periodic_jobs()
        if verbosity:
            listed = ", ".join(f"{name} ({p.every_minutes} min)" for name, p in sorted(periodic.items()))
            self.stdout.write(f"scheduler: {len(periodic)} periodic jobs: {listed}")
            self.stdout.flush()
        while not stop.is_set():
            close_old_connections()
            try:
                for name in jobs.run_due_periodic():
                    if verbosity >= 2:
                        self.stdout.write(f"scheduler: enqueued {name}")
            except Exception as exc:  # a locked or briefly unreachable database: try again next pass
                self.stderr.write(f"scheduler: pass failed: {exc!r}")
            self.stdout.flush()
            # Sleep to just after the next multiple of `interval` past the minute: :00, :20, :40.
            stop.wait(interval - time.time() % interval + 0.05)
        close_old_connections()
