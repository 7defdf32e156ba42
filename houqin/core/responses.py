"""The two file answers every printable or exportable page gives: an inline A4 PDF and an .xlsx download."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from django.http import FileResponse, HttpResponse
from django.utils import timezone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stamp() -> str:
    """Local date and time for file names, e.g. ``20261205-1742``."""
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    """The PDF shown in the browser (printed from there), saved under ``filename``."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def xlsx_response(write: Callable, filename: str) -> FileResponse:
    """An .xlsx download: ``write(out)`` fills a temporary file, streamed and closed by the response."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX)
