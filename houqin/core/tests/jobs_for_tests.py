"""Jobs for test_jobs.py; also imported by the Celery worker the test starts (``-I``)."""

from pathlib import Path

from houqin.core.jobs import JobError, Progress, job


@job("tests.touch")
def touch(path: str, text: str = "done") -> str:
    """Leave a trace another process can see."""
    with Path(path).open("a") as f:
        f.write(text + "\n")
    return text


@job("tests.fail")
def fail(visible: bool = False) -> None:
    if visible:
        raise JobError("the list no longer exists")
    raise RuntimeError("internal detail")


@job("tests.count")
def count(n: int) -> int:
    progress = Progress(n, every_seconds=0)
    for _ in range(n):
        progress.step()
    progress.finish()
    return n


def tick() -> str:
    """A periodic job (registered by the tests through registry.periodic_jobs)."""
    return "tick"
