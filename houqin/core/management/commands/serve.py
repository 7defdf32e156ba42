"""``manage.py serve``: school mode's three processes under one supervisor (what ``make run`` runs).

- web: gunicorn on HOUQIN_BIND with HOUQIN_WEB_WORKERS workers, each replaced after
  HOUQIN_WEB_MAX_REQUESTS requests (1,000, plus up to a tenth) to give back memory;
- worker: ``manage.py run_worker`` (the database job queue);
- scheduler: ``manage.py run_scheduler`` (periodic jobs, once per slot).

It prints one line per process, forwards SIGINT and SIGTERM to all three (each child runs in its own
process group, so Ctrl-C reaches them once, through here), and when one of them exits on its own it
stops the others and exits with status 1. Children get SIGTERM should the supervisor itself be
killed (Linux). A child that has not stopped HOUQIN_SERVE_GRACE seconds (default 20) after the
signal is killed. Each command can be replaced through the environment, e.g.
``HOUQIN_SERVE_WEB="gunicorn houqin.wsgi --bind 0.0.0.0:8000 --workers 4"`` (also HOUQIN_SERVE_WORKER,
HOUQIN_SERVE_SCHEDULER). District mode runs gunicorn and Celery under its own process manager.
"""

import os
import shlex
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def default_commands() -> list[tuple[str, list[str]]]:
    manage = str(settings.BASE_DIR / "manage.py")
    py = sys.executable
    web = [py, "-m", "gunicorn", "houqin.wsgi", "--bind", settings.HOUQIN_BIND,
           "--workers", str(settings.HOUQIN_WEB_WORKERS), "--access-logfile", "-"]
    if settings.HOUQIN_WEB_MAX_REQUESTS:
        web += ["--max-requests", str(settings.HOUQIN_WEB_MAX_REQUESTS),
                "--max-requests-jitter", str(max(1, settings.HOUQIN_WEB_MAX_REQUESTS // 10))]
    return [
        ("web", web),
        ("worker", [py, manage, "run_worker"]),
        ("scheduler", [py, manage, "run_scheduler"]),
    ]


class Command(BaseCommand):
    help = "Run the web server, the job worker and the scheduler together (school mode)."
    requires_system_checks = []

    def handle(self, *args, **options) -> None:
        if settings.HOUQIN_JOBS == "celery":
            raise CommandError("district mode: run gunicorn, `celery -A houqin worker` and `celery -A houqin beat` "
                               "under your process manager (see README.md, Processes)")
        commands = [(name, shlex.split(os.environ[f"HOUQIN_SERVE_{name.upper()}"])
                     if os.environ.get(f"HOUQIN_SERVE_{name.upper()}") else argv)
                    for name, argv in default_commands()]
        grace = float(os.environ.get("HOUQIN_SERVE_GRACE") or 20)
        sys.exit(Supervisor(commands, grace, self.stdout).run())


class Supervisor:
    def __init__(self, commands: list[tuple[str, list[str]]], grace: float, out) -> None:
        self.commands = commands
        self.grace = grace
        self.out = out
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.requested: int | None = None

    def say(self, text: str) -> None:
        self.out.write(f"serve: {text}")
        self.out.flush()

    def on_signal(self, signum, frame) -> None:
        if self.requested is None:
            self.requested = signum
        else:  # a second Ctrl-C: do not wait for the running job or requests
            for _name, child in self.children:
                if child.poll() is None:
                    child.kill()

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.on_signal)
        signal.signal(signal.SIGTERM, self.on_signal)
        for name, argv in self.commands:
            if self.requested is not None:
                break
            child = subprocess.Popen(argv, process_group=0, preexec_fn=_die_with_parent)  # noqa: S603
            self.children.append((name, child))
            self.say(f"{name} pid {child.pid}: {shlex.join(argv)}")
        while True:
            if self.requested is not None:
                self.say(f"{signal.Signals(self.requested).name}: stopping {len(self.children)} processes")
                self.stop(self.requested)
                return 0
            for name, child in self.children:
                code = child.poll()
                if code is not None:
                    self.say(f"{name} (pid {child.pid}) exited with status {code}: stopping the others")
                    self.stop(signal.SIGTERM)
                    return 1
            time.sleep(0.2)

    def stop(self, signum: int) -> None:
        for _name, child in self.children:
            if child.poll() is None:
                child.send_signal(signum)
        deadline = time.monotonic() + self.grace
        for name, child in self.children:
            try:
                child.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{name} (pid {child.pid}) did not stop within {self.grace:g} s: killed")
                child.kill()
                child.wait()
