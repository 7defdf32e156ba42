"""Settings helpers and the deployment checks (issue 2 §3)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from houqin.settings import database_from_url, env_bool, env_int

ROOT = Path(__file__).resolve().parents[3]


def test_env_bool_rejects_garbage(monkeypatch):
    monkeypatch.setenv("HOUQIN_X", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("HOUQIN_X")
    monkeypatch.setenv("HOUQIN_X", "1")
    assert env_bool("HOUQIN_X") is True


def test_env_int_rejects_garbage(monkeypatch):
    monkeypatch.setenv("HOUQIN_N", "ten")
    with pytest.raises(ImproperlyConfigured):
        env_int("HOUQIN_N", 3)


def test_sqlite_url_sets_wal_busy_timeout_and_immediate():
    db = database_from_url("sqlite:////tmp/x.sqlite3")
    assert db["NAME"] == "/tmp/x.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert "busy_timeout" in db["OPTIONS"]["init_command"]


def test_postgres_url_is_parsed():
    db = database_from_url("postgres://u:p%40ss@127.0.0.1:5433/houqin")
    assert (db["ENGINE"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "django.db.backends.postgresql", "u", "p@ss", "127.0.0.1", "5433", "houqin")


def test_unknown_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://x/y")


def _check_deploy(tmp_path, **env):
    full = {**os.environ, "HOUQIN_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "houqin.settings",
            "HOUQIN_DEBUG": "0", "HOUQIN_SECRET_KEY": "k" * 60 + "Q9!xZ", **env}
    full.pop("HOUQIN_DB_URL", None)
    full.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests of the same run
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_https(tmp_path):
    result = _check_deploy(tmp_path, HOUQIN_HTTPS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_plain_http_silences_only_https_checks(tmp_path):
    result = _check_deploy(tmp_path, HOUQIN_HTTPS="0")
    assert result.returncode == 0, result.stdout + result.stderr
    from django.conf import settings

    assert set(settings.SILENCED_SYSTEM_CHECKS) <= {"security.W004", "security.W008", "security.W012",
                                                    "security.W016", "security.W021"}


def test_secret_key_is_generated_once_owner_only(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {**os.environ, "HOUQIN_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "houqin.settings"}
    env.pop("HOUQIN_SECRET_KEY", None)
    run = [sys.executable, "-c", "import django; django.setup(); " + code]
    first = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    second = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert first == second and len(first.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_dashboard_shows_registered_widgets_with_a_chart(client, personas):
    """Apps register dashboard widgets; the office's change trend is an ECharts chart with a table."""
    client.force_login(personas["logistics_director"])
    html = client.get("/").content.decode()
    assert 'data-widget="core.changes"' in html and 'data-echarts="changes-data"' in html
    assert "vendor/echarts/echarts.min.js" in html and 'id="changes-data"' in html
    client.force_login(personas["guard"])  # no audit permission: no chart
    assert 'data-widget="core.changes"' not in client.get("/").content.decode()
