"""Houqin benchmark runner: ``.venv/bin/python bench/run.py --rows 100000`` (see bench/README.md).

1. a throwaway var dir (default /tmp/houqin-bench): migrate, sync_roles, seed_demo, collectstatic,
   ``generate.py`` up to --rows students; a second, small one (--small-rows) for the query counts;
2. gunicorn, 2 workers, on 127.0.0.1:<free port> with ``bench.settings_bench`` (houqin's settings
   plus the floor views), HOUQIN_DEBUG=0, HOUQIN_EXPORT_INLINE_MAX raised for the export;
3. logs in as "director" (session cookie) and uses his API token; times every request from a
   plain http.client client, sequentially, in interleaved rounds (one request of each kind per
   round, the floors included) so that drift of the shared machine hits every figure alike;
4. requests/s under 4 client threads, worker RSS, the export, creates (sequential and 8 concurrent
   writers), then the import in-process on a copy of the database;
5. prints a Markdown report and writes it to bench/results/<date>-students-<N>.md.

Only the standard library is used on the client side; Django runs in the server and in
subprocesses (``bench/inproc.py``), never in this process.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
EXPORT_INLINE_MAX = 1_000_000
DEFAULT_VAR_DIR = "/tmp/houqin-bench"  # noqa: S108 - a throwaway benchmark database
WRITE_PREFIX = "BW"  # student numbers of the rows the write tests create (deleted afterwards)

GOALS = {"list": 3.0, "filter": 3.0, "search": 3.0, "deep": 5.0, "create": 5.0, "throughput": 200.0,
         "rss_mb": 100.0, "import_s": 20.0, "write_s": 5.0, "export_s": 10.0}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Environment and set-up -----------------------------------------------------------------------------


def bench_env(var_dir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("HOUQIN_DB_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({
        "HOUQIN_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
        "HOUQIN_DEBUG": "0",
        "HOUQIN_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "HOUQIN_EXPORT_INLINE_MAX": str(EXPORT_INLINE_MAX),
        "HOUQIN_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    })
    return env


def run(args: list[str], env: dict, *, capture: bool = False) -> str:
    result = subprocess.run([PY, *args], cwd=ROOT, env=env, text=True, capture_output=True)  # noqa: S603
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(args)}")
    return result.stdout


def inproc(env: dict, *args: str) -> dict:
    out = run(["bench/inproc.py", *args], env)
    return json.loads(out.strip().splitlines()[-1])


def build_db(var_dir: Path, rows: int, *, static: bool) -> dict:
    env = bench_env(var_dir)
    times = {}
    t0 = time.perf_counter()
    run(["manage.py", "migrate", "--noinput", "-v0"], env)
    # On a fresh database post_migrate does not reach sync_roles (see bench/README.md): run it.
    run(["manage.py", "sync_roles"], env)
    times["migrate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run(["manage.py", "seed_demo", "--if-empty"], env)
    times["seed_s"] = time.perf_counter() - t0
    if static:
        run(["manage.py", "collectstatic", "--noinput", "-v0"], env)
    t0 = time.perf_counter()
    out = run(["bench/generate.py", str(rows)], env)
    times["generate_s"] = time.perf_counter() - t0
    times["generate_out"] = out.strip().splitlines()[-1]
    return times


# The server ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn houqin.wsgi, 2 sync workers, as ``make run`` serves it."""

    def __init__(self, env: dict, log_path: Path, workers: int = 2):
        self.port = free_port()
        self.log_path = log_path
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(  # noqa: S603 - our own gunicorn and arguments
            [GUNICORN, "houqin.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--timeout", "300", "--error-logfile", "-", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited: see {log_path}")
            try:
                status = Http(self.port).request("GET", "/login/")[0]
                if status == 200 and len(self.workers()) == workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def workers(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def memory(self) -> list[dict]:
        """VmRSS and VmHWM (peak) of each worker, in MB."""
        out = []
        for pid in self.workers():
            values = {}
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    key, _, rest = line.partition(":")
                    if key in ("VmRSS", "VmHWM"):
                        values[key] = int(rest.split()[0]) / 1024
            out.append({"pid": pid, **values})
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# The client ---------------------------------------------------------------------------------------


class Http:
    """http.client with a cookie jar (gunicorn's sync workers close the connection after each request)."""

    def __init__(self, port: int, cookies: dict | None = None, headers: dict | None = None):
        self.port = port
        self.cookies = dict(cookies or {})
        self.headers = dict(headers or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def clone(self) -> Http:
        return Http(self.port, self.cookies, self.headers)

    def request(self, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None):
        h = {"Host": f"127.0.0.1:{self.port}", "Accept-Encoding": "identity", **self.headers, **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=h)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            raise
        elapsed = time.perf_counter() - t0
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if value in ("", '""') or "1970" in cookie:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        if response.will_close:
            self.conn.close()
        return response.status, response.headers, data, elapsed


def login(port: int, username: str, password: str) -> Http:
    client = Http(port)
    status, _h, body, _t = client.request("GET", "/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    status, headers, _body, _t = client.request(
        "POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded",
                                  "Referer": f"http://127.0.0.1:{port}/login/"})
    if status != 302 or "sessionid" not in client.cookies:
        raise SystemExit(f"login as {username} failed: HTTP {status}")
    return client


# Measurements -------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed_rounds(clients: dict, targets: list[dict], *, warmup: int, samples: int) -> dict:
    """One request per target per round; returns ms samples, statuses and sizes per label."""
    out = {t["label"]: {"ms": [], "status": Counter(), "bytes": 0} for t in targets}
    for round_no in range(warmup + samples):
        for t in targets:
            status, _h, body, elapsed = clients[t["client"]].request("GET", t["path"])
            rec = out[t["label"]]
            rec["status"][status] += 1
            rec["bytes"] = len(body)
            if round_no == warmup - 1:
                t["check"](status, body)
            if round_no >= warmup:
                rec["ms"].append(elapsed * 1000)
    return out


def throughput(client: Http, path: str, *, threads: int, seconds: float) -> dict:
    lock = threading.Lock()
    stats = {"ok": 0, "errors": 0, "ms": []}
    deadline = time.perf_counter() + seconds

    def worker():
        c = client.clone()
        ok = errors = 0
        ms = []
        while time.perf_counter() < deadline:
            try:
                status, _h, _b, elapsed = c.request("GET", path)
            except (http.client.HTTPException, OSError):
                errors += 1
                continue
            if status == 200:
                ok += 1
                ms.append(elapsed * 1000)
            else:
                errors += 1
        with lock:
            stats["ok"] += ok
            stats["errors"] += errors
            stats["ms"] += ms

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    return {"rps": stats["ok"] / wall, "ok": stats["ok"], "errors": stats["errors"], "seconds": wall,
            "median_ms": statistics.median(stats["ms"]) if stats["ms"] else None,
            "p95_ms": pct(stats["ms"], 0.95) if stats["ms"] else None}


def student_payload(no: str, info: dict, name: str = "测试学生") -> dict:
    return {"student_no": no, "name": name, "gender": "M", "school_class": str(info["class_id"]),
            "id_type": "resident_id", "id_number": "", "id_checksum_override": "", "dorm_room": "",
            "guardian_name": "", "guardian_phone": ""}


def create_api(client: Http, no: str, info: dict):
    body = json.dumps({**student_payload(no, info), "school_class": info["class_id"], "dorm_room": None,
                       "is_boarder": False})
    status, _h, data, elapsed = client.request("POST", "/api/org/students/", body,
                                               {"Content-Type": "application/json"})
    return status, data, elapsed, 201


def create_form(client: Http, no: str, info: dict):
    form = urllib.parse.urlencode({**student_payload(no, info), "csrfmiddlewaretoken": client.cookies["csrftoken"]})
    status, _h, data, elapsed = client.request(
        "POST", "/org/students/add/", form,
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{client.port}/"})
    return status, data, elapsed, 302


def sequential_creates(session: Http, api: Http, info: dict, *, rounds: int, stamp: str) -> dict:
    """Interleaved: floor, form create, API floor, API create (each round)."""
    rec = {k: [] for k in ("floor", "form", "api_floor", "api")}
    bad = Counter()
    for i in range(rounds):
        rec["floor"].append(session.request("GET", "/bench/floor/")[3] * 1000)
        status, _d, elapsed, want = create_form(session, f"{WRITE_PREFIX}{stamp}S{i:04d}", info)
        rec["form"].append(elapsed * 1000)
        bad[status] += status != want
        rec["api_floor"].append(api.request("GET", "/bench/api-floor/")[3] * 1000)
        status, _d, elapsed, want = create_api(api, f"{WRITE_PREFIX}{stamp}A{i:04d}", info)
        rec["api"].append(elapsed * 1000)
        bad[status] += status != want
    return {"ms": rec, "unexpected": {k: v for k, v in bad.items() if v}}


def concurrent_writers(session: Http, api: Http, info: dict, *, threads: int, writes: int, stamp: str) -> dict:
    """Even threads create through the API, odd ones through the form; all at once."""
    lock = threading.Lock()
    statuses, ms, failures = Counter(), [], []
    barrier = threading.Barrier(threads)

    def worker(n: int):
        c = (api if n % 2 == 0 else session).clone()
        create = create_api if n % 2 == 0 else create_form
        local = []
        barrier.wait()
        for i in range(writes):
            try:
                status, data, elapsed, want = create(c, f"{WRITE_PREFIX}{stamp}C{n:02d}{i:03d}", info)
            except (http.client.HTTPException, OSError) as exc:
                status, data, elapsed, want = f"error {type(exc).__name__}", b"", 0.0, None
            with lock:
                statuses[status] += 1
                if status != want:
                    failures.append(f"{status}: {data[:200]!r}")
            local.append(elapsed * 1000)
        with lock:
            ms.extend(local)

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    return {"statuses": dict(statuses), "failures": failures[:5], "wall_s": wall, "median_ms": statistics.median(ms),
            "p95_ms": pct(ms, 0.95), "max_ms": max(ms), "total": threads * writes}


# The report ---------------------------------------------------------------------------------------


def machine_info() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    mem = ""
    with contextlib.suppress(OSError):
        mem = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.1f} GB"
    versions = run(["-c", "import django, rest_framework, gunicorn, sqlite3; print(django.get_version(), "
                          "rest_framework.VERSION, gunicorn.__version__, sqlite3.sqlite_version)"], os.environ.copy())
    django_v, drf_v, gunicorn_v, sqlite_v = versions.split()
    def git(*args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True).stdout  # noqa: S603, S607

    commit = git("rev-parse", "--short", "HEAD").decode().strip()
    diff = git("diff", "HEAD", "--", "houqin")
    dirty = ""
    if diff:
        import hashlib

        files = git("diff", "HEAD", "--name-only", "--", "houqin").decode().split()
        dirty = f"uncommitted changes in {len(files)} houqin/ files, diff sha256 {hashlib.sha256(diff).hexdigest()[:10]}"
    return {"load": loadavg(), "cpus": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)), "cpu": cpu, "mem": mem,
            "python": platform.python_version(), "django": django_v, "drf": drf_v, "gunicorn": gunicorn_v,
            "sqlite": sqlite_v, "kernel": platform.release(),
            "commit": commit + (f" + {dirty}" if dirty else "")}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def ok(flag: bool | None) -> str:
    return "—" if flag is None else ("yes" if flag else "**NO**")


def import_total(im: dict) -> float:
    """An import's seconds until the write is committed: validate (the read included), prepare, the search-index
    entries made in their own transaction (``index``), write."""
    return im["validate_s"] + (im.get("prepare_s") or 0) + (im.get("index_s") or 0) + (im["write_s"] or 0)


def report(r: dict) -> str:
    m = r["machine"]
    n = r["rows"]
    lines = [
        f"# Houqin benchmark: students, {n:,} rows, SQLite",
        "",
        f"{r['date']} · commit {m['commit']} · `bench/run.py --rows {n}` · total run {r['total_s']:.0f} s",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['mem']} RAM, Linux {m['kernel']}; Python {m['python']}, "
        f"Django {m['django']}, DRF {m['drf']}, gunicorn {m['gunicorn']} (2 sync workers, 127.0.0.1), "
        f"SQLite {m['sqlite']} (WAL). HOUQIN_DEBUG=0, HOUQIN_EXPORT_INLINE_MAX={EXPORT_INLINE_MAX:,} for the "
        f"export. Client: http.client, one connection per request (sync workers close it), same machine. "
        f"Load average (1/5/15 min) at the start {m['load']}, at the end {r['load_end']}: the machine is shared, "
        f"absolute times drift with it, the ratios much less.",
        "",
        f"Data: the demo school (`seed_demo`, scale 1) plus `bench/generate.py` up to {n:,} students "
        f"(the director sees {r['info']['students']:,}); query counts also at {r['small_rows']:,} students "
        f"in a second database. Logged in as `director` (session) and with his API token.",
        "",
        f"## Requests ({r['samples']} timed samples each after {r['warmup']} warm-ups, interleaved rounds)",
        "",
        "| request | path | median ms | p95 ms | × floor (median) | goal | met | queries @ "
        f"{r['small_rows']:,} | queries @ {n:,} | KB |",
        "| --- | --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: |",
    ]
    for t in r["targets"]:
        rec = r["timings"][t["label"]]
        floor_label = "floor" if t["client"] == "session" else "api_floor"
        med, p95 = statistics.median(rec["ms"]), pct(rec["ms"], 0.95)
        ratio = med / statistics.median(r["timings"][floor_label]["ms"])
        goal = GOALS.get(t.get("goal"))
        met = None if goal is None else ratio <= goal
        t["ratio"], t["met"] = ratio, met
        q_small = r["queries_small"].get(t["label"], {}).get("queries", "?")
        q_big = r["queries_big"].get(t["label"], {}).get("queries", "?")
        lines.append(
            f"| {t['name']} | `{t['path']}` | {med:.1f} | {p95:.1f} | {ratio:.1f}× | "
            f"{f'≤ {goal:g}×' if goal else 'floor'} | {ok(met)} | {q_small} | {q_big} | {rec['bytes'] / 1024:.1f} |")
    same = all(r["queries_small"].get(t["label"], {}).get("queries") == r["queries_big"].get(t["label"], {}).get("queries")
               for t in r["targets"])
    lines += ["", f"Query count independent of the row count: **{'yes' if same else 'NO'}** "
                  f"(in-process, Django test Client on the same databases, second request counted)."]

    thr = r["throughput"]
    lines += ["", f"## Throughput ({r['threads']} client threads, {r['throughput_s']:g} s each)", "",
              "| request | requests/s | median ms | p95 ms | errors | goal | met |",
              "| --- | ---: | ---: | ---: | ---: | ---: | :---: |"]
    for label, name in (("floor", "floor"), ("list", "list page")):
        t = thr[label]
        goal = GOALS["throughput"] if label == "list" else None
        lines.append(f"| {name} | {t['rps']:.0f} | {t['median_ms']:.1f} | {t['p95_ms']:.1f} | {t['errors']} | "
                     f"{f'≥ {goal:g}' if goal else '—'} | {ok(None if goal is None else t['rps'] >= goal)} |")

    lines += ["", "## Worker memory (gunicorn workers, /proc/<pid>/status)", "",
              "| when | worker RSS MB | worker peak (VmHWM) MB | goal | met |", "| --- | --- | --- | ---: | :---: |"]
    for label, mem in [("at start, before any request", r["memory_start"]),
                       ("after the login (Argon2 hash)", r["memory_login"]), *r["memory"]]:
        rss = " / ".join(f"{w.get('VmRSS', 0):.0f}" for w in mem)
        hwm = " / ".join(f"{w.get('VmHWM', 0):.0f}" for w in mem)
        now = max(w.get("VmRSS", 0) for w in mem)
        lines.append(f"| {label} | {rss} | {hwm} | RSS ≤ {GOALS['rss_mb']:g} | {ok(now <= GOALS['rss_mb'])} |")

    ex = r["export"]
    lines += ["", "## Export (`GET /org/students/export/`, every student, .xlsx streamed by xlsxwriter)", ""]
    if ex.get("ms"):
        best = min(ex["ms"]) / 1000
        lines += ["| rows | runs s | best s | file MB | goal | met |", "| ---: | --- | ---: | ---: | ---: | :---: |",
                  f"| {ex['rows']:,} | {' / '.join(f'{v / 1000:.1f}' for v in ex['ms'])} | {best:.1f} | "
                  f"{ex['bytes'] / 1e6:.1f} | ≤ {GOALS['export_s']:g} s | {ok(best <= GOALS['export_s'])} |"]
    else:
        lines.append(f"Export failed: {ex.get('error')}")

    im = r.get("import")
    runs = r.get("import_runs") or ([im] if im else [])
    lines += ["", "## Import (in-process on a copy of the database: `run_import` with its phases timed — `validate`, "
                  "`prepare` before the lock, `import_write` in one transaction, then the WAL checkpoint and ANALYZE)", ""]
    if im:
        total = import_total(im)
        every = ", ".join(f"{x['validate_s']:.1f} / {x.get('prepare_s') or 0:.1f} / {x.get('index_s') or 0:.1f} / "
                          f"{x['write_s'] or 0:.1f}" for x in runs)
        lines += [
            f"The run with the least total of {len(runs)} (each a new file on a fresh copy of the database); every run's "
            f"validate / prepare / index / write s: {every}.",
            "",
            "| rows | file MB | read_sheet s | validate s (incl. read) | prepare s (before the lock) | index s (own "
            "transaction, lock held) | write s (lock held) | total s | after the lock: checkpoint / ANALYZE s | peak RSS MB "
            "(read / validate / write) | goals | met |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | :---: |",
            f"| {im['rows']:,} | {im['xlsx_bytes'] / 1e6:.1f} | {im['read_s']:.1f} | {im['validate_s']:.1f} | "
            f"{im.get('prepare_s') or 0:.1f} | {im.get('index_s') or 0:.1f} | {im['write_s'] or 0:.1f} | {total:.1f} | "
            f"{im.get('checkpoint_s') or 0:.1f} / {im.get('analyze_s') or 0:.1f} | "
            f"{im['read_peak_kb'] / 1024:.0f} / {im['validate_peak_kb'] / 1024:.0f}"
            f" / {im['write_peak_kb'] / 1024:.0f} | total ≤ {GOALS['import_s']:g} s, write ≤ {GOALS['write_s']:g} s | "
            f"{ok(im['write_s'] is not None and total <= GOALS['import_s'] and im['write_s'] <= GOALS['write_s'])} |",
            "",
            f"Created {im['created']:,}, problems {im['problems']} (students {im['students_before']:,} → "
            f"{im['students_after']:,}); building the file took {im['build_s']:.1f} s (not counted); RSS before "
            f"reading {im['rss_before_kb'] / 1024:.0f} MB, process maxrss {im['maxrss_kb'] / 1024:.0f} MB.",
        ]
        if im["first_problems"]:
            lines.append("First problems: " + "; ".join(im["first_problems"]))
    else:
        lines.append("Skipped (--skip-import).")

    sc = r["creates"]
    lines += ["", f"## Writes (student create, {len(sc['ms']['api'])} sequential each, interleaved with the floors)", "",
              "| request | median ms | p95 ms | × floor | goal | met |", "| --- | ---: | ---: | ---: | ---: | :---: |"]
    for label, floor_label, name in (("form", "floor", "form `POST /org/students/add/` (302)"),
                                     ("api", "api_floor", "API `POST /api/org/students/` (201)")):
        med = statistics.median(sc["ms"][label])
        ratio = med / statistics.median(sc["ms"][floor_label])
        lines.append(f"| {name} | {med:.1f} | {pct(sc['ms'][label], 0.95):.1f} | {ratio:.1f}× | ≤ {GOALS['create']:g}× | "
                     f"{ok(ratio <= GOALS['create'])} |")
    if sc["unexpected"]:
        lines.append(f"Unexpected statuses: {sc['unexpected']}")
    cw = r["concurrency"]
    fivexx = sum(v for k, v in cw["statuses"].items() if isinstance(k, int) and k >= 500 or not isinstance(k, int))
    lines += ["", f"Concurrent writers: {r['writers']} threads × {r['writes']} creates ({cw['total']} in all; even "
                  f"threads through the API, odd through the form) in {cw['wall_s']:.1f} s: statuses "
                  f"{', '.join(f'{k}: {v}' for k, v in sorted(cw['statuses'].items(), key=str))}; "
                  f"latency median {cw['median_ms']:.0f} ms, p95 {cw['p95_ms']:.0f} ms, max {cw['max_ms']:.0f} ms. "
                  f"5xx: **{fivexx}**; \"database is locked\" in the server log: **{r['locked_in_log']}**; "
                  f"tracebacks in the server log: {r['tracebacks_in_log']} — goal zero: {ok(fivexx == 0 and r['locked_in_log'] == 0)}."]
    if cw["failures"]:
        lines.append("First failures: " + "; ".join(cw["failures"]))

    lines += ["", "## Where the time goes (in-process at the full row count: SQL time and the slowest query)", "",
              "| request | queries | SQL ms | request ms (in-process) | filter / rows / template ms | slowest query ms "
              "| its plan |",
              "| --- | ---: | ---: | ---: | --- | ---: | --- |"]
    for t in r["targets"]:
        q = r["queries_big"].get(t["label"])
        if not q:
            continue
        slow = q["slowest"][0] if q["slowest"] else {"ms": 0}
        plan = "; ".join(q["plan"]) or "—"
        ph = q.get("phases_ms") or {}
        phases = " / ".join(f"{ph[k]:.0f}" for k in ("filter", "rows", "template") if k in ph) or "—"
        lines.append(f"| {t['name']} | {q['queries']} | {q['sql_ms']:.0f} | {q['request_ms']:.0f} | {phases} | "
                     f"{slow['ms']:.0f} | {plan} |")
    lines += ["", "In-process: Django test Client in one process, no HTTP, persistent database connection (median "
                  "of 5). filter = `EntityListView.filtered` (filterset, columns); rows = `rows()`, which runs the "
                  "page query; template = `render`. The count runs in between (paginator).",
              "", "Slowest query per request at the full row count:", ""]
    for t in r["targets"]:
        q = r["queries_big"].get(t["label"])
        if q and q["slowest"] and q["slowest"][0]["ms"] >= 5:
            sql = re.sub(r'"org_student"\."(\w+)"', r"\1", q["slowest"][0]["sql"])
            lines.append(f"- {t['name']} ({q['slowest'][0]['ms']:.0f} ms): `{sql[:600]}`")

    misses = [t["name"] for t in r["targets"] if t.get("met") is False]
    lines += ["", "## Setup", "",
              f"migrate + sync_roles {r['setup']['migrate_s']:.1f} s, seed_demo {r['setup']['seed_s']:.1f} s, "
              f"generate {r['setup']['generate_s']:.1f} s ({r['setup']['generate_out']}).", "",
              "Goals missed among the requests: " + (", ".join(misses) if misses else "none") + "."]
    return "\n".join(lines) + "\n"


# Main ---------------------------------------------------------------------------------------------


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Houqin benchmark (students)")
    parser.add_argument("--rows", type=int, default=100_000, help="students in the school")
    parser.add_argument("--small-rows", type=int, default=2_000, help="students of the query-count comparison")
    parser.add_argument("--var-dir", default=DEFAULT_VAR_DIR, help="throwaway var dir (never the repo's var/)")
    parser.add_argument("--fresh", action="store_true", help="delete the var dir first")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--writes", type=int, default=25)
    parser.add_argument("--export-runs", type=int, default=2)
    parser.add_argument("--import-rows", type=int, default=None, help="default: --rows")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--import-runs", type=int, default=3, help="imports, each on a fresh copy (the best is reported)")
    parser.add_argument("--out", default=None, help="report path (default bench/results/<date>-students-<N>.md)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    var_dir = Path(args.var_dir).resolve()
    if var_dir == (ROOT / "var").resolve():
        raise SystemExit("refusing to use the repository's var/")
    if args.fresh and var_dir.exists():
        shutil.rmtree(var_dir)
    small_dir = var_dir.with_name(var_dir.name + "-small")
    if small_dir.exists():
        shutil.rmtree(small_dir)
    r: dict = {"rows": args.rows, "small_rows": args.small_rows, "samples": args.samples, "warmup": args.warmup,
               "threads": args.threads, "throughput_s": args.throughput_seconds, "writers": args.writers,
               "writes": args.writes, "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}
    r["machine"] = machine_info()
    log(f"database with {args.rows:,} students in {var_dir}")
    r["setup"] = build_db(var_dir, args.rows, static=True)
    log(f"  {r['setup']['generate_out']}")
    log(f"small database with {args.small_rows:,} students in {small_dir}")
    build_db(small_dir, args.small_rows, static=True)
    env = bench_env(var_dir)
    small_env = bench_env(small_dir)
    info = inproc(env, "prepare")
    small_info = inproc(small_env, "prepare")
    r["info"] = info

    def targets_for(students: int) -> list[dict]:
        last = max(1, -(-students // 50))
        return [
            {"label": "floor", "name": "floor (login_required, 1 query)", "path": "/bench/floor/", "client": "session"},
            {"label": "list", "name": "list page", "path": "/org/students/", "client": "session", "goal": "list"},
            {"label": "filter", "name": "filtered list", "path": "/org/students/?status=enrolled&is_boarder=true",
             "client": "session", "goal": "filter"},
            {"label": "search", "name": "search (pinyin)", "path": "/org/students/?q=zhang", "client": "session",
             "goal": "search"},
            {"label": "deep", "name": f"deep page (last, {last:,})", "path": f"/org/students/?page={last}",
             "client": "session", "goal": "deep"},
            {"label": "api_floor", "name": "API floor (token, 1 query)", "path": "/bench/api-floor/", "client": "api"},
            {"label": "api_list", "name": "API list", "path": "/api/org/students/", "client": "api", "goal": "list"},
            {"label": "api_filter", "name": "API filtered", "path": "/api/org/students/?status=enrolled&is_boarder=true",
             "client": "api", "goal": "filter"},
            {"label": "api_search", "name": "API search (pinyin)", "path": "/api/org/students/?q=zhang", "client": "api",
             "goal": "search"},
        ]

    targets = targets_for(info["students"])
    r["targets"] = targets
    log("query counts (in-process)")
    r["queries_big"] = inproc(env, "queries", json.dumps([{"label": t["label"], "path": t["path"],
                                                           "api": t["client"] == "api"} for t in targets]))
    r["queries_small"] = inproc(small_env, "queries", json.dumps(
        [{"label": t["label"], "path": t["path"], "api": t["client"] == "api"} for t in targets_for(small_info["students"])]))
    shutil.rmtree(small_dir, ignore_errors=True)

    log_path = var_dir / "gunicorn.log"
    server = Server(env, log_path)
    try:
        log(f"gunicorn on 127.0.0.1:{server.port}, workers {server.workers()}")
        r["memory_start"] = server.memory()
        session = login(server.port, "director", info["password"])
        r["memory_login"] = server.memory()
        api = Http(server.port, headers={"Authorization": f"Token {info['token']}", "Accept": "application/json"})
        clients = {"session": session, "api": api}

        def check(t):
            def _check(status, body):
                if status != 200:
                    raise SystemExit(f"{t['path']}: HTTP {status}")
                if t["label"] == "api_list":
                    # The count is exact up to the cap (core.paging); beyond it, a lower bound.
                    data = json.loads(body)
                    exact = data.get("count_exact", True)
                    if (exact and data["count"] != info["students"]) or (not exact and data["count"] >= info["students"]):
                        raise SystemExit(f"{t['path']}: count {data['count']} (exact: {exact}) for {info['students']}")
                if t["label"] in ("list", "deep") and b"<table" not in body:
                    raise SystemExit(f"{t['path']}: no table in the page")
            return _check

        for t in targets:
            t["check"] = check(t)
        log(f"timing {len(targets)} requests × ({args.warmup} + {args.samples}) rounds")
        r["timings"] = timed_rounds(clients, targets, warmup=args.warmup, samples=args.samples)
        for t in targets:
            t.pop("check")
        log(f"throughput, {args.threads} threads")
        r["throughput"] = {
            "floor": throughput(session, "/bench/floor/", threads=args.threads, seconds=args.throughput_seconds),
            "list": throughput(session, "/org/students/", threads=args.threads, seconds=args.throughput_seconds),
        }
        r["memory"] = [("after the timed requests and throughput", server.memory())]

        log("export")
        export = {"rows": info["students"], "ms": []}
        for _ in range(args.export_runs):
            status, headers, body, elapsed = session.request("GET", "/org/students/export/")
            if status != 200 or not headers.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
                export = {"error": f"HTTP {status} {headers.get('Location', '')}"}
                break
            export["ms"].append(elapsed * 1000)
            export["bytes"] = len(body)
        r["export"] = export
        r["memory"].append(("after the export", server.memory()))

        log("writes")
        stamp = f"{int(time.time()) % 100000:05d}"
        r["creates"] = sequential_creates(session, api, info, rounds=20, stamp=stamp)
        r["concurrency"] = concurrent_writers(session, api, info, threads=args.writers, writes=args.writes, stamp=stamp)
        r["memory"].append(("after the writes", server.memory()))
    finally:
        server.stop()
    text = log_path.read_text(errors="replace")
    r["locked_in_log"] = text.count("database is locked")
    r["tracebacks_in_log"] = text.count("Traceback")
    r["cleanup"] = inproc(env, "cleanup", WRITE_PREFIX)

    if not args.skip_import:
        rows = args.import_rows or args.rows
        log(f"import of {rows:,} rows on a copy of the database")
        copy = var_dir / "import-copy.sqlite3"
        xlsx = var_dir / f"import-{rows}.xlsx"
        runs = []
        try:
            for _run in range(args.import_runs):  # each on a fresh copy; the report lists every run
                for suffix in ("", "-wal", "-shm"):
                    Path(str(copy) + suffix).unlink(missing_ok=True)
                with sqlite3.connect(var_dir / "houqin.sqlite3") as src, sqlite3.connect(copy) as dst:
                    src.backup(dst)
                os.sync()  # the copy on disk before the timed import (its write-back stalled the import's IO)
                runs.append(inproc(bench_env(var_dir, HOUQIN_DB_URL=f"sqlite:///{copy}"), "import", str(rows),
                                   str(xlsx)))
                xlsx.unlink(missing_ok=True)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(str(copy) + suffix).unlink(missing_ok=True)
            xlsx.unlink(missing_ok=True)
        r["import"] = min(runs, key=import_total) if runs else None
        r["import_runs"] = runs

    r["total_s"] = time.perf_counter() - started
    r["load_end"] = loadavg()
    text = report(r)
    out = Path(args.out) if args.out else BENCH / "results" / f"{datetime.date.today():%Y-%m-%d}-students-{args.rows}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    (var_dir / "last-run.json").write_text(json.dumps(r, ensure_ascii=False, default=str, indent=1))
    print(text)
    log(f"report written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}; raw data in "
        f"{var_dir / 'last-run.json'}")


if __name__ == "__main__":
    main()
