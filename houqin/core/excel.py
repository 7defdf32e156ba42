"""Excel layer of the generic import/export (X-7): xlsxwriter writes, python-calamine reads.

``write_xlsx`` streams a list export (100k rows in constant memory), ``write_template`` builds an
import template with drop-down lists, and ``read_sheet`` reads the first sheet of an uploaded
.xlsx/.xls/.ods into normalised Python values with the row numbers the user sees. No database.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import math
import os
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

KINDS = ("text", "int", "decimal", "date", "datetime", "bool")
TEMPLATE_ROWS = 10_000  # data validation covers rows 2..10001 of the template
MAX_CELLS = 10_000_000  # rows x columns a sheet may span when read (about 0.5 GB while parsing)

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CHARS = 32_767  # per cell, in UTF-16 code units
EXCEL_LIST_LIMIT = 255  # characters of an inline data validation list "a,b,c"
EXACT_INT_LIMIT = 10**15  # Excel keeps 15 significant digits; larger integers are written as text
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_WRITER_OPTIONS = {
    "in_memory": False,  # temporary files, not RAM
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
_MIN_WIDTH = {"text": 10, "int": 10, "decimal": 14, "date": 12, "datetime": 17, "bool": 6}

# CSV/Excel formula injection (OWASP "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection):
# text starting with = + - @ tab or CR may run as a formula once a user edits or re-saves the cell,
# so such text is written with a leading apostrophe. Text that already starts with apostrophes
# followed by one of these characters gets one more, so that unescape_formula is an exact inverse.
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")


def escape_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet could run as a formula."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def unescape_formula(text: str) -> str:
    """Inverse of ``escape_formula``: drop the one ``'`` it added."""
    return text[1:] if _QUOTED.match(text) else text


@dataclass(frozen=True)
class Column:
    """One column of an export or import template."""

    key: str
    header: str
    kind: str = "text"
    width: int | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    decimal_places: int = 2

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Column {self.key!r}: unknown kind {self.kind!r}")


class ExcelReadError(Exception):
    """An uploaded file that cannot be read as a sheet; the message is for the user."""


@dataclass
class Sheet:
    """The header texts and the non-empty data rows, as (row number the user sees, values)."""

    headers: list[str]
    rows: list[tuple[int, list]]


# --- writing -----------------------------------------------------------------------------------

_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def _sheet_name(title: str, taken: Sequence[str] = ()) -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters, not History, unique."""
    name = _SHEET_NAME_FORBIDDEN.sub("", str(title)).strip().strip("'")[:31].strip().strip("'") or "Sheet1"
    if name.casefold() == "history":  # reserved by Excel
        name += "_"
    number = 1
    base = name
    while name.casefold() in {t.casefold() for t in taken}:
        number += 1
        name = f"{base[: 31 - len(str(number)) - 1]}_{number}"
    return name


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_width(column: Column) -> int:
    if column.width is not None:
        return column.width
    # + 4: padding and the autofilter button
    return min(max(_display_width(column.header) + 4, _MIN_WIDTH[column.kind]), 60)


def _number_format(places: int) -> str:
    return "#,##0." + "0" * places if places > 0 else "#,##0"


def _excel_serial(value: datetime.date) -> float | None:
    """Excel's serial day number (1900 date system), or None before 1900-03-01 (Excel's leap-year bug)."""
    days = value.toordinal() - 693594  # date(1899, 12, 30).toordinal()
    if days < 61:
        return None
    if isinstance(value, datetime.datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return days + seconds / 86400
    return days


def _as_number(value: int | float | Decimal) -> int | float | None:
    """The number Excel stores for value, or None if it cannot hold it (then it is written as text).

    Integers beyond 15 digits would be rounded; a Decimal of up to 15 significant digits (every
    Decimal(12,2)) comes back exactly through Decimal(str(value)).
    """
    if isinstance(value, int):
        return int(value) if -EXACT_INT_LIMIT < value < EXACT_INT_LIMIT else None
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _naive_local(value: datetime.datetime) -> datetime.datetime:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


def _limit_length(text: str) -> str:
    if len(text) > EXCEL_MAX_CHARS // 2:
        encoded = text.encode("utf-16-le")
        if len(encoded) > EXCEL_MAX_CHARS * 2:
            return encoded[: EXCEL_MAX_CHARS * 2].decode("utf-16-le", errors="ignore")
    return text


# The rows of write_xlsx are rendered here rather than through Worksheet.write_*(): xlsxwriter's
# per-cell path takes about 10 s for 100k x 12 cells on a school server, this one about a quarter
# of that. The escaping repeats xlsxwriter's own (xmlwriter._escape_control_characters and
# _escape_data): literal "_xHHHH_" -> "_x005F_xHHHH_", control characters -> "_xHHHH_", then & < >.
_XML_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_OOXML_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    text = _OOXML_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_QUOTE_FIRST = frozenset("'=+-@\t\r")  # first characters that may need escape_formula


def _string_cell(ref: str, text: str) -> str:
    if text[:1] in _QUOTE_FIRST:
        text = escape_formula(text)
    if len(text) > EXCEL_MAX_CHARS // 2:
        text = _limit_length(text)
    if _XML_SPECIAL.search(text) is not None:
        text = _xml_text(text)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


class _CellRenderer:
    """Turns one value into the XML of a cell; formats are created once per workbook."""

    def __init__(self, workbook, columns: Sequence[Column]):
        self.yes, self.no = _("Yes"), _("No")
        self.timezone = timezone.get_current_timezone()
        self.date_style = f' s="{workbook.add_format({"num_format": DATE_FORMAT})._get_xf_index()}"'
        self.datetime_style = f' s="{workbook.add_format({"num_format": DATETIME_FORMAT})._get_xf_index()}"'
        styles = {}
        for places in {c.decimal_places for c in columns}:
            styles[places] = f' s="{workbook.add_format({"num_format": _number_format(places)})._get_xf_index()}"'
        self.decimal_styles = [styles[c.decimal_places] for c in columns]
        self.float_styles = [styles[c.decimal_places] if c.kind == "decimal" else "" for c in columns]

    def cell(self, index: int, ref: str, value) -> str:
        kind = value.__class__
        if kind is str:
            return _string_cell(ref, value)
        if kind is int and -EXACT_INT_LIMIT < value < EXACT_INT_LIMIT:
            return f'<c r="{ref}"><v>{value}</v></c>'
        if kind is Decimal and value.is_finite():
            return f'<c r="{ref}"{self.decimal_styles[index]}><v>{float(value)!r}</v></c>'
        if kind is datetime.date and value.year >= 1901:
            return f'<c r="{ref}"{self.date_style}><v>{value.toordinal() - 693594}</v></c>'
        return self.other_cell(index, ref, value)

    def other_cell(self, index: int, ref: str, value) -> str:
        if isinstance(value, str):
            return _string_cell(ref, str(value))
        if isinstance(value, bool):
            return _string_cell(ref, self.yes if value else self.no)
        if isinstance(value, int | float | Decimal):
            number = _as_number(value)
            if number is None:
                return _string_cell(ref, str(value))
            style = "" if isinstance(value, int) else (
                self.decimal_styles[index] if isinstance(value, Decimal) else self.float_styles[index])
            return f'<c r="{ref}"{style}><v>{number!r}</v></c>'
        if isinstance(value, datetime.datetime):
            if value.utcoffset() is not None:
                value = value.astimezone(self.timezone)
            value = value.replace(tzinfo=None)
            serial = _excel_serial(value)
            if serial is None:
                return _string_cell(ref, value.strftime("%Y-%m-%d %H:%M"))
            return f'<c r="{ref}"{self.datetime_style}><v>{serial!r}</v></c>'
        if isinstance(value, datetime.date):
            serial = _excel_serial(value)
            if serial is None:
                return _string_cell(ref, value.isoformat())
            return f'<c r="{ref}"{self.date_style}><v>{serial}</v></c>'
        return _string_cell(ref, str(value))


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _append_rows(worksheet, first_row: int, renderer: _CellRenderer, width: int, rows: Iterable[Sequence]) -> int:
    """Append the data rows to a constant_memory worksheet's row file; return how many.

    Uses three internals of xlsxwriter 3.3 (requirements.lock): ``_write_single_row`` (flushes
    the pending header row), ``fh`` (the temporary row file) and ``_check_dimensions``.
    """
    worksheet._write_single_row(first_row)
    letters = [_column_letters(i) for i in range(width)]
    indexes = range(width)
    cell = renderer.cell
    write = worksheet.fh.write
    pending: list[str] = []
    row = first_row
    for values in rows:
        if row >= EXCEL_MAX_ROWS:
            raise ValueError(f"More rows than an Excel sheet holds ({EXCEL_MAX_ROWS})")
        number = str(row + 1)
        cells = [cell(i, letter + number, value)
                 for i, letter, value in zip(indexes, letters, values, strict=False) if value is not None]
        if cells:
            pending.append(f'<row r="{number}">{"".join(cells)}</row>')
            if len(pending) >= 1000:
                write("".join(pending))
                pending.clear()
        row += 1
    write("".join(pending))
    if row > first_row:
        worksheet._check_dimensions(row - 1, width - 1)
        worksheet.previous_row = row - 1
    return row - first_row


def write_xlsx(target, *, columns: list[Column], rows: Iterable[Sequence], sheet_title: str,
               title_lines: Sequence[str] = ()) -> int:
    """Write one sheet: optional title lines, a bold frozen header with autofilter, the rows.

    ``target`` is a path or a binary file object. Returns the number of data rows written.
    """
    if not columns:
        raise ValueError("write_xlsx needs at least one column")
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    import xlsxwriter  # imported on use: ~12 MB a worker need not hold until someone exports

    workbook = xlsxwriter.Workbook(target, {**_WRITER_OPTIONS, "constant_memory": True})
    try:
        worksheet = workbook.add_worksheet(_sheet_name(sheet_title))
        title_format = workbook.add_format({"bold": True, "font_size": 14})
        subtitle_format = workbook.add_format({"font_color": "#595959"})
        header_format = workbook.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "valign": "vcenter"})
        renderer = _CellRenderer(workbook, columns)
        for index, column in enumerate(columns):
            worksheet.set_column(index, index, _column_width(column))
        row = 0
        for line in title_lines:
            worksheet.write_string(row, 0, escape_formula(str(line)), title_format if row == 0 else subtitle_format)
            row += 1
        header_row = row
        for index, column in enumerate(columns):
            worksheet.write_string(header_row, index, escape_formula(str(column.header)), header_format)
        worksheet.freeze_panes(header_row + 1, 0)
        count = _append_rows(worksheet, header_row + 1, renderer, len(columns), rows)
        worksheet.autofilter(header_row, 0, header_row + count, len(columns) - 1)
    finally:
        workbook.close()
    return count


def write_template(target, *, columns: list[Column], example: Sequence | None, sheet_title: str,
                   notes: Sequence[str] = ()) -> None:
    """Write an import template: header, a grey example row, drop-down lists, date checks, notes.

    Required columns get a distinct fill and the comment "Required". Choice lists longer than
    Excel's 255-character limit (or holding commas or quotes) go to a hidden sheet "Options";
    ``bool`` columns without choices offer Yes/No.
    """
    if not columns:
        raise ValueError("write_template needs at least one column")
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    import xlsxwriter

    workbook = xlsxwriter.Workbook(target, dict(_WRITER_OPTIONS))
    try:
        name = _sheet_name(sheet_title)
        worksheet = workbook.add_worksheet(name)
        notes_sheet = workbook.add_worksheet(_sheet_name(_("Instructions"), [name])) if notes else None
        header_format = workbook.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
        required_format = workbook.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
        formats: dict[tuple, object] = {}

        def fmt(num_format: str, example_row: bool):
            key = (num_format, example_row)
            if key not in formats:
                props = {"num_format": num_format}
                if example_row:
                    props.update(italic=True, font_color="#808080")
                formats[key] = workbook.add_format(props)
            return formats[key]

        num_formats = {"text": "@", "int": "0", "date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "bool": "@"}
        yes, no = _("Yes"), _("No")
        option_lists: list[tuple[str, ...]] = []
        options_name = _sheet_name(_("Options"), [name] + ([notes_sheet.name] if notes_sheet else []))
        options_quoted = options_name.replace("'", "''")
        for index, column in enumerate(columns):
            num_format = num_formats.get(column.kind) or _number_format(column.decimal_places)
            worksheet.set_column(index, index, _column_width(column), fmt(num_format, False))
            header = escape_formula(str(column.header))
            worksheet.write_string(0, index, header, required_format if column.required else header_format)
            if column.required:
                worksheet.write_comment(0, index, _("Required"))
            value = example[index] if example is not None and index < len(example) else None
            cell_format = fmt(num_format, True)
            if value is None:
                worksheet.write_blank(1, index, None, cell_format)
            elif isinstance(value, bool):
                worksheet.write_string(1, index, yes if value else no, cell_format)
            elif isinstance(value, int | float | Decimal) and _as_number(value) is not None:
                worksheet.write_number(1, index, _as_number(value), cell_format)
            elif isinstance(value, datetime.date) and value >= datetime.date(1900, 3, 1):
                if isinstance(value, datetime.datetime):
                    value = _naive_local(value)
                worksheet.write_datetime(1, index, value, cell_format)
            else:
                worksheet.write_string(1, index, _limit_length(escape_formula(str(value))), cell_format)

            choices = tuple(map(str, column.choices)) or ((yes, no) if column.kind == "bool" else ())
            if choices:
                if len(",".join(choices)) <= EXCEL_LIST_LIMIT and not any("," in c or '"' in c for c in choices):
                    source = list(choices)
                else:  # too long for an inline list: a range on the hidden sheet
                    letter = _column_letters(len(option_lists))
                    option_lists.append(choices)
                    source = f"='{options_quoted}'!${letter}$1:${letter}${len(choices)}"
                worksheet.data_validation(1, index, TEMPLATE_ROWS, index, {"validate": "list", "source": source})
            elif column.kind in ("date", "datetime"):
                message = _("Date format: 2026-09-01") if column.kind == "date" else _(
                    "Date and time format: 2026-09-01 08:00")
                worksheet.data_validation(1, index, TEMPLATE_ROWS, index, {
                    "validate": "date", "criteria": "between",
                    "minimum": datetime.date(1900, 3, 1), "maximum": datetime.date(9999, 12, 31),
                    "input_message": message, "error_message": message,
                })
        if option_lists:
            options_sheet = workbook.add_worksheet(options_name)
            options_sheet.hide()
            for list_number, choices in enumerate(option_lists):
                for row, choice in enumerate(choices):
                    options_sheet.write_string(row, list_number, choice)
        worksheet.freeze_panes(1, 0)
        if notes_sheet is not None:
            notes_sheet.set_column(0, 0, 100, workbook.add_format({"text_wrap": True, "valign": "top"}))
            for row, line in enumerate(notes):
                notes_sheet.write_string(row, 0, escape_formula(str(line)))
    finally:
        workbook.close()


# --- reading -----------------------------------------------------------------------------------

_REQUIRED_MARK = re.compile(r"^[*＊]+|(?:[*＊]|[(（]\s*必填\s*[)）])$")


def _clean_header(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unescape_formula(str(value).strip())
    previous = None
    while text != previous:
        previous = text
        text = _REQUIRED_MARK.sub("", text).strip()
    return text


def _normalise(value):
    kind = value.__class__
    if kind is str:
        if value:
            value = value.strip()
            if value:
                return unescape_formula(value) if value[0] == "'" else value
        return None
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is datetime.datetime and not (value.hour or value.minute or value.second or value.microsecond):
        return value.date()
    return value


def _read_source(source) -> bytes:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as f:
            return f.read()
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if hasattr(source, "read"):
        with contextlib.suppress(AttributeError, OSError):
            source.seek(0)  # an upload that was looked at before
        return source.read()
    raise TypeError(f"read_sheet cannot read a {type(source).__name__}")


def _not_a_workbook() -> ExcelReadError:
    return ExcelReadError(_("The file is not an Excel workbook (.xlsx, .xls or .ods)."))


def _too_large() -> ExcelReadError:
    return ExcelReadError(_(
        "The sheet is too large to import; delete stray cells far below or to the right of the table, "
        "or split the file."))


# calamine holds a sheet as a dense grid from its first to its last cell: one cell at A1 and one at
# XFD1048576 (a stray entry far from the table, or a crafted 9 kB file) make it allocate 550 GB and
# abort the whole process. So the cell references of an .xlsx are checked first, in the form that
# spreadsheet programs write (<c r="B12" ...>); the scan costs about a tenth of calamine's parse.
# A file crafted to hide its references from this scan is not caught; only reading in a separate,
# memory-limited process would catch that.
_XLSX_SHEET_ID = re.compile(rb'<(?:[\w.-]+:)?sheet\s[^>]*?\s[\w.-]+:id\s*=\s*["\']([^"\']+)')
_XLSX_RELATIONSHIP = re.compile(rb'<(?:[\w.-]+:)?Relationship\s([^>]*)>')
_XLSX_REL_ID = re.compile(rb'\bId\s*=\s*["\']([^"\']+)')
_XLSX_REL_TARGET = re.compile(rb'\bTarget\s*=\s*["\']([^"\']+)')
_FAR_ROW = re.compile(rb'<c r="[A-Za-z]*([0-9]{6,})"')  # row 100000 and below
_WIDE_COLUMN = re.compile(rb'<c r="([A-Za-z]{2,})[0-9]')  # column AA and to the right
_ANY_COLUMN = re.compile(rb'<c r="([A-Za-z]+)[0-9]')
_MAX_PART_BYTES = 2 << 30  # uncompressed size of one part of a workbook


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper()[:8]:
        number = number * 26 + letter - 64
    return number


def _xlsx_sheet_parts(archive: zipfile.ZipFile, sheet_index: int) -> list[str]:
    """The part holding the sheet calamine will read; every XML part if that cannot be told."""
    names = set(archive.namelist())
    try:
        rel_id = _XLSX_SHEET_ID.findall(archive.read("xl/workbook.xml"))[sheet_index]
        for attributes in _XLSX_RELATIONSHIP.findall(archive.read("xl/_rels/workbook.xml.rels")):
            found = _XLSX_REL_ID.search(attributes)
            if found and found.group(1) == rel_id:
                target = _XLSX_REL_TARGET.search(attributes).group(1).decode()
                path = posixpath.normpath(target.lstrip("/") if target.startswith("/") else "xl/" + target)
                if path in names:
                    return [path]
    except (KeyError, IndexError, AttributeError, UnicodeDecodeError):
        pass
    return sorted(name for name in names if name.lower().endswith(".xml"))


def _chunks(archive: zipfile.ZipFile, path: str):
    """The part in 8 MB pieces, each starting with the last 64 bytes of the one before."""
    tail = b""
    with archive.open(path) as part:
        while chunk := part.read(8 << 20):
            yield tail + chunk
            tail = chunk[-64:]


def _sheet_extent(archive: zipfile.ZipFile, path: str) -> tuple[int, int]:
    """An upper bound of (rows, columns) from the cell references: rows < 100000 and columns <= Z
    count as 99999 and 26, unless that bound is too large; then the columns are counted exactly."""
    rows, columns = 99_999, 26
    for text in _chunks(archive, path):
        rows = max(rows, max(map(int, _FAR_ROW.findall(text)), default=0))
        columns = max(columns, max(map(_column_number, set(_WIDE_COLUMN.findall(text))), default=0))
    if rows * columns > MAX_CELLS and columns == 26:
        columns = 1
        for text in _chunks(archive, path):
            columns = max(columns, max(map(_column_number, set(_ANY_COLUMN.findall(text))), default=0))
    return rows, columns


def _check_xlsx_size(data: bytes, sheet_index: int) -> None:
    """Refuse an .xlsx sheet spanning more than MAX_CELLS cells before calamine reads it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # calamine reports it
    with archive:
        if any(info.file_size > _MAX_PART_BYTES for info in archive.infolist()):
            raise _too_large()
        for path in _xlsx_sheet_parts(archive, sheet_index):
            try:
                rows, columns = _sheet_extent(archive, path)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
                continue  # calamine reports it
            if rows * columns > MAX_CELLS:
                raise _too_large()


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def _open_first_sheet(data: bytes) -> list[list]:
    from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:
        # Excel saves a workbook with a password to open as an OLE file holding an "EncryptedPackage".
        if isinstance(exc, PasswordError) or (data[:8] == _OLE_MAGIC and _ENCRYPTED_PACKAGE in data):
            raise ExcelReadError(_(
                "The workbook is protected by a password; remove the password and upload it again.")) from exc
        raise _not_a_workbook() from exc
    with workbook:
        if not workbook.sheet_names:
            raise ExcelReadError(_("The sheet has no header row."))
        index = next((i for i, meta in enumerate(workbook.sheets_metadata)
                      if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible), 0)
        if data[:4] == b"PK\x03\x04":
            _check_xlsx_size(data, index)
        try:
            sheet = workbook.get_sheet_by_index(index)
        except Exception as exc:
            raise _not_a_workbook() from exc
        end = sheet.end
        if end is None:
            return []
        if (end[0] + 1) * (end[1] + 1) > MAX_CELLS:
            raise _too_large()
        return sheet.to_python(skip_empty_area=False)


def read_sheet(source, *, header_row: int | None = None, expected_headers: Sequence[str] = (),
               max_rows: int = 200_000) -> Sheet:
    """Read the first visible sheet of an .xlsx, .xls or .ods file.

    ``source``: a path, bytes or a binary file object (e.g. an UploadedFile). ``header_row`` is
    1-based; by default it is the first of the first 10 rows holding one of ``expected_headers``,
    else the first non-empty row. Header marks (*, （必填）) are removed. Empty rows are skipped;
    text is stripped (blank -> None) and unescape_formula'd, whole floats become int, midnight
    datetimes become dates. Raises ExcelReadError with a message for the user.
    """
    grid = _open_first_sheet(_read_source(source))
    index = None
    if header_row is not None:
        index = header_row - 1
        if not 0 <= index < len(grid) or not any(_clean_header(v) for v in grid[index]):
            index = None
    else:
        wanted = {_clean_header(h) for h in expected_headers} - {""}
        if wanted:
            index = next((i for i, row in enumerate(grid[:10]) if any(_clean_header(v) in wanted for v in row)), None)
        if index is None:
            index = next((i for i, row in enumerate(grid) if any(_clean_header(v) for v in row)), None)
    if index is None:
        raise ExcelReadError(_("The sheet has no header row."))
    headers = [_clean_header(v) for v in grid[index]]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    padding = [None] * width
    rows: list[tuple[int, list]] = []
    for number in range(index + 1, len(grid)):
        values = [_normalise(v) for v in grid[number][:width]]
        if values.count(None) == len(values):
            continue
        if len(values) < width:
            values += padding[len(values):]
        rows.append((number + 1, values))
        if len(rows) > max_rows:
            raise ExcelReadError(_("The file has more than %(max)s rows; split it into smaller files.") % {"max": max_rows})
    return Sheet(headers=headers, rows=rows)
