"""Long list printouts (PUB-3) typeset on the job worker (core.print_list): the export's job and progress page."""

from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse

from houqin.core import printing
from houqin.core.models import JobProgress
from houqin.core.tests.test_jobs import ledger_lines  # noqa: F401 - a fixture

URL = "sampleapp:ledgerline_print"


@pytest.fixture
def typeset(monkeypatch):
    """Spy on the Typst step: what it was given (rows, timeout), then let it run."""
    calls = []
    real = printing._typeset

    def spy(data, font_dirs, timestamp, timeout=None):
        calls.append({"rows": data["rows"], "title": data["title"], "timeout": timeout})
        return real(data, font_dirs, timestamp, timeout=timeout)

    monkeypatch.setattr(printing, "_typeset", spy)
    return calls


@pytest.fixture
def director(client, personas):
    client.force_login(personas["logistics_director"])
    return personas["logistics_director"]


def test_a_long_list_is_printed_on_the_worker_with_progress_and_a_download(
        client, director, ledger_lines, tmp_path, typeset, settings):  # noqa: F811
    with override_settings(HOUQIN_JOBS="immediate", HOUQIN_PRINT_INLINE_MAX=1, HOUQIN_EXPORT_DIR=tmp_path,
                           HOUQIN_PRINT_JOB_TIMEOUT=321):
        response = client.get(reverse(URL), {"kind": "in", "sort": "-amount"})
        assert response.status_code == 302
        p = JobProgress.objects.get(user=director, name="core.print_list")
        assert response["Location"] == reverse("core:job_progress", args=[p.job_id])
        assert (p.status, p.total, p.done) == ("done", 2, 2)
        assert Path(p.result_file) == tmp_path / f"{p.job_id}.pdf" and p.result_name.endswith(".pdf")
        page = client.get(response["Location"]).content.decode()
        download = reverse("core:job_download", args=[p.job_id])
        assert download in page
        got = client.get(download)
        assert got.status_code == 200 and "attachment" in got["Content-Disposition"]
        assert b"".join(got.streaming_content).startswith(b"%PDF-")
    (call,) = typeset
    assert [row[0] for row in call["rows"]] == ["L000", "L002"]  # the filter and the sort kept
    assert call["timeout"] == 321  # the worker's timeout, not the request's


def test_a_short_list_is_still_printed_inside_the_request(client, director, ledger_lines, typeset):  # noqa: F811
    with override_settings(HOUQIN_JOBS="immediate", HOUQIN_PRINT_INLINE_MAX=2):
        response = client.get(reverse(URL), {"kind": "in"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert not JobProgress.objects.exists()
    assert typeset[0]["timeout"] is None  # HOUQIN_PRINT_TIMEOUT, under gunicorn's limit


def test_the_inline_limit_defaults_to_2000_rows():
    from django.conf import settings

    assert settings.HOUQIN_PRINT_INLINE_MAX == 2000


def test_a_print_error_on_the_worker_is_shown_on_the_progress_page(client, director, ledger_lines,  # noqa: F811
                                                                   monkeypatch, tmp_path):
    def no_font(*args, **kwargs):
        raise printing.PrintError("没有安装中文字体")

    monkeypatch.setattr(printing, "_typeset", no_font)
    with override_settings(HOUQIN_JOBS="immediate", HOUQIN_PRINT_INLINE_MAX=1, HOUQIN_EXPORT_DIR=tmp_path):
        assert client.get(reverse(URL)).status_code == 302
    p = JobProgress.objects.get(name="core.print_list")
    assert (p.status, p.message) == ("failed", "没有安装中文字体")
    page = client.get(reverse("core:job_progress", args=[p.job_id])).content.decode()
    assert "没有安装中文字体" in page and reverse("core:job_download", args=[p.job_id]) not in page


def test_more_rows_than_printing_allows_are_refused_without_a_job(client, director, ledger_lines,  # noqa: F811
                                                                   settings):
    settings.HOUQIN_PRINT_MAX_ROWS = 2
    settings.HOUQIN_PRINT_INLINE_MAX = 1
    response = client.get(reverse(URL))
    assert response.status_code == 302 and response["Location"].startswith(reverse("sampleapp:ledgerline_list"))
    assert not JobProgress.objects.exists()
    assert any("3" in str(m) for m in get_messages(response.wsgi_request))


def test_the_print_job_checks_the_permission_again(personas, ledger_lines, tmp_path):  # noqa: F811
    from houqin.core import jobs

    with override_settings(HOUQIN_JOBS="immediate", HOUQIN_EXPORT_DIR=tmp_path):
        teacher = personas["teacher"]
        jobs.enqueue_tracked("core.print_list", user=teacher, entity="sampleapp.ledgerline", query="",
                             user_id=teacher.pk)
    p = JobProgress.objects.get(name="core.print_list")
    assert p.status == "failed" and not p.result_file and not list(tmp_path.iterdir())
