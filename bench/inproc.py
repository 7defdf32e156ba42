"""In-process measurements for ``bench/run.py`` (each prints one JSON object on its last line).

    inproc.py prepare               the director's API token, the student count, a class and dorm
    inproc.py queries PATHS_JSON    SQL queries per request with Django's test Client (same DB)
    inproc.py import ROWS XLSX      build an import file of ROWS new students, then time validate
                                    and the write phase (run it on a copy of the database)
    inproc.py cleanup PREFIX        delete the students the concurrency test created

HOUQIN_VAR_DIR / HOUQIN_DB_URL select the database, as for the server.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _django  # noqa: E402

USERNAME = "director"


def _director():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.select_related("school").get(username=USERNAME)


def prepare() -> dict:
    from rest_framework.authtoken.models import Token

    from houqin.core.demo import DEMO_PASSWORD
    from houqin.core.entities import registry
    from houqin.org.models import Room, SchoolClass, Student

    user = _director()
    token, _created = Token.objects.get_or_create(user=user)
    visible = registry[Student].queryset(user).count()
    cls = SchoolClass.objects.filter(school=user.school, status="active").order_by("pk").first()
    dorm = Room.objects.filter(school=user.school, kind="dorm").order_by("pk").first()
    return {"token": token.key, "password": DEMO_PASSWORD, "students": visible, "class_id": cls.pk, "class_name": cls.name,
            "dorm_id": dorm.pk if dorm else None}


def _vm(field: str) -> int:
    """VmRSS / VmHWM of this process in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)
        return True
    except OSError:
        return False


def queries(paths: list[dict]) -> dict:
    """For each {"label", "path", "api"}: the number of SQL queries, their total time, the slowest ones.

    Each path is requested twice and the second request is counted (the first fills per-process
    caches such as ContentType). The slowest query gets an EXPLAIN QUERY PLAN.
    """
    import statistics

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    user = _director()
    key = Token.objects.get_or_create(user=user)[0].key
    client = Client()
    client.force_login(user)
    phases = _wrap_list_phases()
    out = {}
    for item in paths:
        headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if item.get("api") else {}
        api_client = Client() if item.get("api") else client
        api_client.get(item["path"], **headers)
        with CaptureQueriesContext(connection) as ctx:
            response = api_client.get(item["path"], **headers)
        captured = [{"ms": float(q["time"]) * 1000, "sql": q["sql"]} for q in ctx.captured_queries]
        slow = sorted(captured, key=lambda q: -q["ms"])[:3]
        plan = []
        if slow and connection.vendor == "sqlite" and slow[0]["sql"].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN QUERY PLAN " + slow[0]["sql"])
                plan = [row[-1] for row in cursor.fetchall()]
        phases.clear()
        totals = []
        for _ in range(5):
            t0 = time.perf_counter()
            api_client.get(item["path"], **headers)
            totals.append((time.perf_counter() - t0) * 1000)
        out[item["label"]] = {
            "status": response.status_code, "queries": len(captured), "sql_ms": sum(q["ms"] for q in captured),
            "request_ms": statistics.median(totals), "slowest": slow, "plan": plan,
            "phases_ms": {k: statistics.median(v) for k, v in phases.items()},
        }
    return out


def _wrap_list_phases() -> dict:
    """Time the list view's phases (filter + count, rows of the page, template) where they exist."""
    from houqin.core import views_entity

    phases: dict[str, list[float]] = {}

    def wrap(owner, name, key):
        original = getattr(owner, name, None)
        if original is None:
            return

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases.setdefault(key, []).append((time.perf_counter() - t0) * 1000)

        setattr(owner, name, timed)

    wrap(views_entity.EntityListView, "filtered", "filter")
    wrap(views_entity.EntityListView, "rows", "rows")  # evaluates the page query
    wrap(views_entity, "render", "template")
    return phases


def _import_rows(n: int, *, school, seed: int = 7):
    from bench.data import IMPORT_AREA, identity, mobile, name_pool
    from houqin.org.models import Room, SchoolClass

    rng = random.Random(seed)
    pool = name_pool(rng, 2000)
    classes = list(SchoolClass.objects.filter(school=school, status="active").order_by("pk").values_list("name", flat=True))
    dorms = list(Room.objects.filter(school=school, kind="dorm").order_by("pk").values_list("code", flat=True))
    stamp = int(time.time()) % 100000
    for i in range(n):
        male = rng.random() < 0.6
        name = rng.choice(pool)[0]
        boarder = rng.random() < 0.3
        id_number = identity(i, male, IMPORT_AREA)[0] if rng.random() < 0.9 else ""
        yield [f"I{stamp:05d}{i:07d}", name, "男" if male else "女", classes[i % len(classes)], "居民身份证",
               id_number, "是" if boarder else "否", rng.choice(dorms) if boarder else "",
               name[0] + rng.choice(pool)[0][1:], mobile(rng)]


def import_(n: int, xlsx: str) -> dict:
    """``run_import`` of a new file of ``n`` students, each phase timed (``PeakPerPhase``)."""

    from houqin.core import excel
    from houqin.core.entities import registry
    from houqin.core.importing import (
        MAX_IMPORT_ROWS,
        run_import,
        template_columns,
    )
    from houqin.org.models import Student

    entity = registry[Student]
    user = _director()
    school = user.school
    before = Student.objects.filter(school=school).count()
    columns = template_columns(entity)
    assert [c.key for c in columns] == list(entity.import_fields), [c.key for c in columns]
    t0 = time.perf_counter()
    excel.write_xlsx(xlsx, columns=columns, rows=_import_rows(n, school=school), sheet_title="students")
    build_s = time.perf_counter() - t0
    size = Path(xlsx).stat().st_size

    peak_reset = _reset_peak()
    base_kb = _vm("VmRSS")
    t0 = time.perf_counter()
    headers = [str(entity.header(name)) for name in entity.import_fields]
    sheet = excel.read_sheet(xlsx, expected_headers=headers, max_rows=MAX_IMPORT_ROWS)
    read_s = time.perf_counter() - t0
    read_rows = len(sheet.rows)
    del sheet
    read_peak_kb = _vm("VmHWM")

    phases = PeakPerPhase()
    result = run_import(entity, xlsx, actor=user, school=school, commit=True, timings=phases)
    problems = [f"row {p.row} {p.column}: {p.message}" for p in result.problems[:5]]
    validate_s, prepare_s, write_s = phases.get("validate"), phases.get("prepare"), phases.get("write")
    index_s = phases.get("index")
    validate_peak_kb = phases.peak_kb.get("validate", 0)
    write_peak_kb = max(phases.peak_kb.get(k, 0) for k in ("prepare", "index", "write"))
    after = Student.objects.filter(school=school).count()
    return {
        "rows": n, "xlsx_bytes": size, "build_s": build_s, "read_s": read_s, "read_rows": read_rows,
        "validate_s": validate_s, "prepare_s": prepare_s, "index_s": index_s, "write_s": write_s,
        "checkpoint_s": phases.get("checkpoint"), "analyze_s": phases.get("analyze"), "created": result.created, "updated": result.updated,
        "problems": len(result.problems), "first_problems": problems, "students_before": before,
        "students_after": after, "rss_before_kb": base_kb, "read_peak_kb": read_peak_kb,
        "validate_peak_kb": validate_peak_kb, "write_peak_kb": write_peak_kb, "peak_reset": peak_reset,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


class PeakPerPhase(dict):
    """``run_import``'s ``timings``: each phase's seconds, and in ``peak_kb`` the process's peak RSS during it
    (VmHWM, reset as each phase ends)."""

    def __init__(self):
        super().__init__()
        self.peak_kb: dict[str, int] = {}
        _reset_peak()

    def __setitem__(self, phase, seconds):
        super().__setitem__(phase, seconds)
        self.peak_kb[phase] = _vm("VmHWM")
        _reset_peak()


def cleanup(prefix: str) -> dict:
    from django.contrib.contenttypes.models import ContentType

    from houqin.core.models import AuditEntry
    from houqin.org.models import Student

    qs = Student.objects.filter(student_no__startswith=prefix)
    ids = [str(pk) for pk in qs.values_list("pk", flat=True)]
    ct = ContentType.objects.get_for_model(Student)
    audits = 0
    for i in range(0, len(ids), 500):
        audits += AuditEntry.objects.filter(content_type=ct, object_id__in=ids[i:i + 500]).delete()[0]
    deleted = qs.delete()[0]
    return {"deleted": deleted, "audit_deleted": audits}


def main(argv: list[str]) -> None:
    _django.setup()
    command = argv[0]
    if command == "prepare":
        result = prepare()
    elif command == "queries":
        result = queries(json.loads(argv[1]))
    elif command == "import":
        result = import_(int(argv[1]), argv[2])
    elif command == "cleanup":
        result = cleanup(argv[1])
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
