"""A4 PDF printouts of list pages, Chinese text included (PUB-3).

``render_table_pdf`` lays a table out with Typst: a header block (school, title, filter summary,
printing time), the table with its header row repeated on every page, a signature line after it,
and "page X of Y" in the footer of every page.

Safety: the Typst source is the fixed file ``templates_typst/table.typ``. The data (titles,
headers, cells, labels) reaches it as one JSON document in ``sys.inputs`` and is shown as Typst
*string values*, which print literally. No user text is ever concatenated into Typst source, so
a name such as ``#read("/etc/passwd")`` or ``*x*`` prints as typed.

Fonts: Typst ships no Chinese font. The Noto CJK fonts of Debian's fonts-noto-cjk package are
found through the optional setting ``HOUQIN_FONT_DIRS`` (a list of folders, searched first),
fontconfig (``fc-list :lang=zh``) and the usual font folders. Only those folders are loaded, not
every system font, so a printout looks the same on every machine.

Cost: Typst keeps a whole document in memory, about 0.13 MB per row of 8 columns, and its
caches keep it after the compile (until ten more compiles have run). So each printout is
compiled in a short-lived child process (``python -c``, importing only typst): the memory goes
back to the system when it exits, a runaway compile is killed after ``HOUQIN_PRINT_TIMEOUT``
seconds (default 25, under gunicorn's 30), and lists longer than ``HOUQIN_PRINT_MAX_ROWS``
(default 10,000) are refused with a message. Measured on a busy 2-core development machine,
8 columns of Chinese text, landscape: 60 rows in 0.3 s; 2,000 rows (55 pages) in 2 to 2.5 s,
0.3 GB peak; 10,000 rows (274 pages) in 8 to 13 s, 1.2 GB peak. That includes the child's start,
about 0.2 s, mostly reading the fonts.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates_typst"
TABLE_TEMPLATE = TEMPLATE_DIR / "table.typ"

# Chinese font families, best first. Noto CJK (Debian's fonts-noto-cjk) is the supported one;
# the others are its renamed twin (Source Han) and common fonts of other distributions.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Serif SC",
    "Noto Sans SC",
    "Noto Serif SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)
# Where distributions install Chinese fonts, for machines without fc-list.
KNOWN_FONT_DIRS = (
    "/usr/share/fonts/opentype/noto",  # Debian, Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/noto-cjk",  # Arch
    "/usr/share/fonts/google-noto-cjk",  # Fedora
    "/usr/share/fonts/truetype/wqy",  # Debian: fonts-wqy-zenhei
)
ALIGNMENTS = ("left", "right", "center")
# Without an explicit choice, a table wider than this is printed landscape.
PORTRAIT_MAX_WEIGHT = 8
PORTRAIT_MAX_COLUMNS = 7
DEFAULT_MAX_ROWS = 10_000
DEFAULT_TIMEOUT = 25  # seconds; gunicorn kills a worker after 30

# Exit codes of the child process (written as literals in _CHILD).
_NO_FONT, _TYPST_ERROR = 3, 4
# The child: reads a job (JSON) on stdin, writes the PDF on stdout. It imports typst only, which
# keeps its start short; it must not import Django or Houqin.
_CHILD = """\
import json, sys
import typst
job = json.load(sys.stdin.buffer)
fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=job["font_dirs"])
available = set(fonts.families())
families = [f for f in job["families"] if f in available]
if not families:
    sys.exit(3)
try:
    pdf = typst.compile(
        job["template"].encode(), root=job["root"], font_paths=fonts, ignore_system_fonts=True,
        format="pdf", sys_inputs={"data": job["data"], "fonts": json.dumps(families)},
        timestamp=job["timestamp"], pdf_tags=False,
    )
except typst.TypstError as error:
    sys.stderr.write(error.message)
    sys.exit(4)
sys.stdout.buffer.write(pdf)
"""


class PrintError(Exception):
    """The PDF cannot be produced (no Chinese font, too many rows, Typst failed); the message is for the user."""


@dataclass(frozen=True)
class PrintColumn:
    """One column of a printed table: its header, alignment and relative width."""

    header: str
    align: str = "left"  # "left" | "right" | "center"; numbers and money right
    weight: float = 1.0  # relative width; the columns share the page width in proportion


def find_cjk_font_dirs() -> list[str]:
    """Folders that may hold a Chinese font: ``HOUQIN_FONT_DIRS``, then fontconfig's, then known ones.

    Only existing folders are returned, each once. Whether one holds a usable Chinese font is
    checked when Typst loads them.
    """
    candidates = [str(d) for d in getattr(settings, "HOUQIN_FONT_DIRS", None) or []]
    candidates += _fontconfig_zh_dirs()
    candidates += KNOWN_FONT_DIRS
    found: list[str] = []
    for folder in candidates:
        real = os.path.realpath(folder)
        if real not in found and os.path.isdir(real):
            found.append(real)
    return found


def _fontconfig_zh_dirs() -> list[str]:
    """Folders of the fonts that fontconfig knows for Chinese, or [] without fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        out = subprocess.run(  # noqa: S603 - fixed arguments
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = (line.strip().rstrip(":").strip() for line in out.splitlines())
    return sorted({os.path.dirname(f) for f in files if f})


def is_landscape(columns: Sequence[PrintColumn], landscape: bool | None = None) -> bool:
    """The orientation ``render_table_pdf`` uses: the caller's choice, else landscape for wide tables."""
    if landscape is not None:
        return landscape
    return sum(c.weight for c in columns) > PORTRAIT_MAX_WEIGHT or len(columns) > PORTRAIT_MAX_COLUMNS


def _text(value) -> str:
    """A value as printable text: None is "", a tab a space; other control characters but newline go."""
    if value is None:
        return ""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\n" else " " if c == "\t" else "" for c in text)


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def render_table_pdf(
    *,
    title: str,
    school: str,
    columns: Sequence[PrintColumn],
    rows: Iterable[Sequence[str]],
    filter_summary: str = "",
    landscape: bool | None = None,
    signatures: Sequence[str] | None = None,
    signature_lines: Sequence[Sequence[str]] = (),
    printed_at: datetime | None = None,
    footer_note: str = "",
    timeout: float | None = None,
) -> bytes:
    """Render a table as an A4 PDF and return its bytes.

    ``rows`` are sequences of already formatted strings, one per column (None prints empty); they
    are read once, and reading stops after ``HOUQIN_PRINT_MAX_ROWS`` (default 10,000) rows with a
    PrintError. ``landscape`` None chooses landscape for more than 7 columns or weights summing to
    more than 8. ``signatures`` defaults to "Prepared by", "Checked by", "Date" in the active
    language; () leaves the signature line out. ``signature_lines``, when given, replaces that one
    line by several, one per sequence of labels (a 交接单: ("交接人", "日期"), ("接收人", "日期"), …).
    ``printed_at`` defaults to now, in local time.
    ``timeout`` (seconds) defaults to ``HOUQIN_PRINT_TIMEOUT``; the job worker allows longer.

    Raises PrintError (a message for the user) when no Chinese font is installed, the list is too
    long, or Typst fails or times out; ValueError for a malformed table (a programming error).
    """
    if not columns:
        raise ValueError("a printed table needs at least one column")
    for column in columns:
        if column.align not in ALIGNMENTS:
            raise ValueError(
                f"column {column.header!r}: align must be one of {ALIGNMENTS}, not {column.align!r}"
            )
        if not column.weight > 0:
            raise ValueError(f"column {column.header!r}: weight must be positive, not {column.weight!r}")
    max_rows = getattr(settings, "HOUQIN_PRINT_MAX_ROWS", DEFAULT_MAX_ROWS)
    cells: list[list[str]] = []
    for number, row in enumerate(rows, start=1):
        if number > max_rows:
            raise PrintError(
                _("Too many rows to print (at most %(max)s): narrow the filter or export to Excel.")
                % {"max": max_rows}
            )
        texts = [_text(value) for value in row]
        if len(texts) != len(columns):
            raise ValueError(f"row {number} has {len(texts)} cells for {len(columns)} columns")
        cells.append(texts)

    if signatures is None:
        signatures = (_("Prepared by"), _("Checked by"), _("Date"))
    if printed_at is None:
        printed_at = timezone.now()
    if timezone.is_aware(printed_at):
        printed_at = timezone.localtime(printed_at)
    chinese = _chinese()
    colon = "：" if chinese else ": "
    printed_label = _("Printed at")
    data = {
        "title": _text(title),
        "school": _text(school),
        "filter_summary": _text(filter_summary),
        "printed_at": f"{printed_label}{colon}{printed_at:%Y-%m-%d %H:%M}",
        "footer_note": _text(footer_note),
        # The template puts the numbers in: Typst knows them only while laying the pages out.
        "page_label": _("Page %(page)s of %(total)s") % {"page": "{page}", "total": "{total}"},
        "signatures": [_text(label) for label in signatures],
        "signature_lines": [[_text(label) for label in line] for line in signature_lines],
        "colon": colon,
        "landscape": is_landscape(columns, landscape),
        "lang": "zh" if chinese else "en",
        "region": "CN" if chinese else "GB",
        "columns": [
            {"header": _text(c.header), "align": c.align, "weight": float(c.weight)} for c in columns
        ],
        "rows": cells,
    }
    return _typeset(data, find_cjk_font_dirs(), int(printed_at.timestamp()), timeout=timeout)


def render_typst_pdf(
    template: Path, data: dict, *, printed_at: datetime | None = None, timeout: float | None = None
) -> bytes:
    """Typeset one fixed Typst source file with ``data`` and return the PDF (cards, labels, ledgers).

    The same machinery as ``render_table_pdf``: a child process, the Chinese fonts, the timeout.
    ``template`` is a file of the app; its folder is Typst's root, so it may import its neighbours.
    ``data`` reaches it as the JSON string ``sys.inputs.data`` and the font families found as
    ``sys.inputs.fonts`` (a JSON list). Pass user text only inside ``data`` and show it as string
    values (never eval it); images such as QR codes go in as SVG text and are shown with
    ``image(bytes(svg), format: "svg")``. Raises PrintError like ``render_table_pdf``.
    """
    if printed_at is None:
        printed_at = timezone.now()
    return _typeset(data, find_cjk_font_dirs(), int(printed_at.timestamp()), timeout=timeout,
                    template=Path(template))


def _typeset(data: dict, font_dirs: Sequence[str], timestamp: int, timeout: float | None = None,
             template: Path | None = None) -> bytes:
    """Compile ``template`` (default: the table template) with ``data`` in a child process and return the PDF."""
    if template is None:
        template = TABLE_TEMPLATE
    job = {
        "font_dirs": list(font_dirs),
        "families": CJK_FAMILIES,
        "template": template.read_text(encoding="utf-8"),
        "root": str(template.parent),
        "timestamp": timestamp,
        "data": json.dumps(data, ensure_ascii=False),
    }
    if timeout is None:
        timeout = getattr(settings, "HOUQIN_PRINT_TIMEOUT", DEFAULT_TIMEOUT)
    try:
        done = subprocess.run(  # noqa: S603 - our interpreter and our fixed script
            [sys.executable, "-c", _CHILD],
            input=json.dumps(job, ensure_ascii=False).encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise PrintError(_("Printing took too long: narrow the filter and try again.")) from error
    except OSError as error:  # no interpreter to start (sys.executable is empty under some servers)
        logger.error("printing: cannot start %r: %s", sys.executable, error)
        raise PrintError(_("The PDF could not be produced: %(error)s") % {"error": error}) from error
    if done.returncode == 0 and done.stdout.startswith(b"%PDF-"):
        return done.stdout
    if done.returncode == _NO_FONT:
        raise PrintError(_("No Chinese font is installed: install the fonts-noto-cjk package."))
    message = done.stderr.decode("utf-8", "replace").strip()
    logger.error("printing: Typst failed (exit code %s): %s", done.returncode, message[-2000:])
    if done.returncode != _TYPST_ERROR:
        message = f"exit code {done.returncode}"
    raise PrintError(_("The PDF could not be produced: %(error)s") % {"error": message})
