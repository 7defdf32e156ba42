"""A4 PDF printouts of list pages with Typst (PUB-3). No database needed.

The PDFs are read back with a small reader below (Typst's PDFs have plain cross-reference
tables and Flate streams; text is CID glyphs mapped back through each font's ToUnicode CMap),
so the tests need no poppler. Rendering tests need a Chinese font (fonts-noto-cjk) and are
skipped with that reason without one.
"""

import functools
import itertools
import re
import zlib
from datetime import UTC, datetime

import pytest
import typst
from django.utils import translation
from django.utils.translation import gettext as _

from houqin.core import printing
from houqin.core.printing import PrintColumn, PrintError, render_table_pdf

A4 = (595.28, 841.89)  # points


@functools.cache
def _has_cjk_font() -> bool:
    fonts = typst.Fonts(include_system_fonts=False, font_paths=printing.find_cjk_font_dirs())
    return bool(set(printing.CJK_FAMILIES) & set(fonts.families()))


needs_font = pytest.mark.skipif(not _has_cjk_font(), reason="no Chinese font: install fonts-noto-cjk")

# --- a minimal reader for Typst's PDFs -------------------------------------------------------------


class Pdf:
    """Pages, their sizes and text, and the embedded font names of a PDF written by Typst."""

    def __init__(self, data: bytes):
        assert data.startswith(b"%PDF-")
        self.data = data
        self.objects = self._objects()
        root = self.objects[self._ref(self._trailer(), b"Root")][0]
        self.pages = self._pages(self._ref(root, b"Pages"))
        self._cmaps: dict[int, dict[int, str]] = {}

    def _trailer(self) -> bytes:
        return self.data[self.data.rindex(b"trailer") :]

    def _objects(self) -> dict[int, tuple[bytes, bytes | None]]:
        """Object number -> (dictionary text, decoded stream or None), found through the xref table."""
        start = int(re.search(rb"startxref\s+(\d+)", self.data[-100:]).group(1))
        count = int(re.match(rb"xref\s+0\s+(\d+)", self.data[start:]).group(1))
        entries = re.findall(rb"(\d{10}) \d{5} ([nf])", self.data[start:])[:count]
        objects = {}
        for number, (offset, kind) in enumerate(entries):
            if kind != b"n":
                continue
            head = re.match(rb"\d+ \d+ obj\s*", self.data[int(offset) :])
            begin = int(offset) + head.end()
            end, stream = self.data.find(b"endobj", begin), self.data.find(b"stream", begin)
            if 0 <= stream < end:
                head_text = self.data[begin:stream]
                length = int(re.search(rb"/Length (\d+)", head_text).group(1))
                body_start = (
                    stream + len(b"stream") + (2 if self.data[stream + 6 : stream + 8] == b"\r\n" else 1)
                )
                body = self.data[body_start : body_start + length]
                if b"/FlateDecode" in head_text:
                    body = zlib.decompress(body)
                objects[number] = (head_text, body)
            else:
                objects[number] = (self.data[begin:end], None)
        return objects

    @staticmethod
    def _ref(text: bytes, key: bytes) -> int:
        return int(re.search(rb"/" + key + rb"\s*(\d+) 0 R", text).group(1))

    def _pages(self, number: int) -> list[bytes]:
        text = self.objects[number][0]
        if re.search(rb"/Type\s*/Pages\b", text):
            kids = re.search(rb"/Kids\s*\[([^\]]*)\]", text).group(1)
            return [page for kid in re.findall(rb"(\d+) 0 R", kids) for page in self._pages(int(kid))]
        return [text]

    def page_size(self, index: int) -> tuple[float, float]:
        box = re.search(rb"/MediaBox\s*\[([^\]]*)\]", self.pages[index]).group(1).split()
        x0, y0, x1, y1 = (float(v) for v in box)
        return x1 - x0, y1 - y0

    def font_names(self) -> set[str]:
        return {
            m.decode()
            for text, _body in self.objects.values()
            for m in re.findall(rb"/BaseFont\s*/([^\s/<>\[]+)", text)
        }

    def _cmap(self, font: int) -> dict[int, str]:
        if font not in self._cmaps:
            cmap: dict[int, str] = {}
            body = self.objects[self._ref(self.objects[font][0], b"ToUnicode")][1].decode("latin-1")
            for block in re.findall(r"beginbfchar(.*?)endbfchar", body, re.S):
                for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                    cmap[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
            for block in re.findall(r"beginbfrange(.*?)endbfrange", body, re.S):
                for lo, hi, dst in re.findall(
                    r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
                ):
                    first = int(dst, 16)
                    for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                        cmap[code] = chr(first + i)
            self._cmaps[font] = cmap
        return self._cmaps[font]

    def page_text(self, index: int) -> str:
        """The text shown on a page, in drawing order, one line per text object."""
        page = self.pages[index]
        resources = self.objects[self._ref(page, b"Resources")][0]
        fonts_dict = re.search(rb"/Font\s*<<(.*?)>>", resources, re.S).group(1)
        fonts = {name: int(ref) for name, ref in re.findall(rb"/([^\s/<>\[\]()]+)\s*(\d+) 0 R", fonts_dict)}
        lines, line, cmap, name, actual = [], [], {}, b"", False
        for kind, value in _content_tokens(self.objects[self._ref(page, b"Contents")][1]):
            if kind == "string" and name == b"ActualText":  # replaces the glyphs up to EMC
                line.append(value.decode("utf-16"))
                name, actual = b"", True
            elif kind == "name":
                name = value
            elif kind == "string" and not actual:
                line.extend(
                    cmap.get(int.from_bytes(value[i : i + 2], "big"), "\ufffd")
                    for i in range(0, len(value), 2)
                )
            elif value == b"EMC":
                actual = False
            elif value == b"Tf":
                cmap = self._cmap(fonts[name])
            elif value == b"ET":
                lines.append("".join(line))
                line = []
        return "\n".join(lines)

    def text(self) -> str:
        return "\n".join(self.page_text(i) for i in range(len(self.pages)))


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
_DELIMITERS = b"()<>[]{}/%"
_OCTAL = re.compile(rb"[0-7]{1,3}")
_NAME = re.compile(rb"/([^\s()<>\[\]{}/%]*)")
_REGULAR = re.compile(rb"[^\s()<>\[\]{}/%]+")


def _content_tokens(content: bytes):
    """Tokens of a content stream: ("string", bytes), ("name", bytes) and ("op", bytes) for the rest."""
    i, end = 0, len(content)
    while i < end:
        c = content[i]
        if c in b" \t\r\n\f\0":
            i += 1
        elif c == ord("("):  # literal string: balanced parentheses, backslash escapes
            depth, i, out = 1, i + 1, bytearray()
            while True:
                c = content[i]
                if c == ord("\\"):
                    octal = _OCTAL.match(content, i + 1, i + 4)
                    if octal:
                        out.append(int(octal.group(0), 8) & 0xFF)
                        i += 1 + len(octal.group(0))
                        continue
                    nxt = content[i + 1]
                    if nxt not in b"\r\n":  # a backslash before a line end continues the line
                        out += _ESCAPES.get(nxt, bytes([nxt]))
                    i += 2
                    continue
                depth += (c == ord("(")) - (c == ord(")"))
                if depth == 0:
                    break
                out.append(c)
                i += 1
            i += 1
            yield "string", bytes(out)
        elif c == ord("<") and content[i + 1 : i + 2] != b"<":  # hex string
            close = content.index(b">", i)
            yield "string", bytes.fromhex(content[i + 1 : close].decode())
            i = close + 1
        elif c == ord("/"):
            m = _NAME.match(content, i)
            yield "name", m.group(1)
            i = m.end()
        elif c in _DELIMITERS:
            i += 2 if content[i : i + 2] in (b"<<", b">>") else 1
        else:
            m = _REGULAR.match(content, i)
            yield "op", m.group(0)
            i = m.end()


def squeeze(text: str) -> str:
    """Text without white space: Typst draws spaces and line breaks as positions, not characters.

    Zero-width spaces go too: the template puts them into long runs such as ID numbers.
    """
    return "".join(text.replace("\u200b", "").split())


# --- fixtures ------------------------------------------------------------------------------------------

COLUMNS = [
    PrintColumn("姓名", weight=1.2),
    PrintColumn("部门", weight=2),
    PrintColumn("金额（元）", align="right"),
    PrintColumn("状态", align="center"),
]
PRINTED_AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # 17:30 in Asia/Shanghai
LONG_RUN = "1234567890" * 8  # no break opportunity: must wrap inside its cell, not overflow
HOSTILE = [
    "#set page(width: 1pt)",
    "$x^2$",
    "*bold*",
    "_under_",
    '#import "/etc/passwd"',
    '#read("/etc/passwd")',
    "]",
    "[",
    "\\",
    "@label",
    "<tag>",
    "// comment",
    "`raw`",
    "#{1 + 1}",
    '")] #eval("1")',
]


def render(**kwargs) -> bytes:
    options = {
        "title": "固定资产台账",
        "school": "某某市职业技术学校",
        "columns": COLUMNS,
        "rows": [],
        "printed_at": PRINTED_AT,
    }
    options.update(kwargs)
    with translation.override("zh-hans"):
        return render_table_pdf(**options)


def chinese_rows(count: int):
    return [[f"张三{i}", "后勤服务中心食堂管理科", f"{i * 100:,}.00", "在用"] for i in range(count)]


@pytest.fixture(scope="module")
def sample():
    if not _has_cjk_font():
        pytest.skip("no Chinese font: install fonts-noto-cjk")
    rows = chinese_rows(3) + [["李四", None, "", "报废"], ["王五", LONG_RUN, "", ""]]
    return Pdf(render(rows=rows, filter_summary="部门：全部", footer_note="后勤管理系统"))


@pytest.fixture(scope="module")
def long_list():
    if not _has_cjk_font():
        pytest.skip("no Chinese font: install fonts-noto-cjk")
    return Pdf(render(rows=chinese_rows(160)))


# --- tests ---------------------------------------------------------------------------------------------


def test_a_short_list_is_one_portrait_a4_page(sample):
    assert sample.data.startswith(b"%PDF-")
    assert len(sample.pages) == 1
    width, height = sample.page_size(0)
    assert (round(width, 1), round(height, 1)) == (round(A4[0], 1), round(A4[1], 1))


def test_chinese_text_is_embedded_with_a_cjk_font(sample):
    assert any("NotoSansCJK" in name or "NotoSerifCJK" in name for name in sample.font_names()), (
        sample.font_names()
    )
    text = squeeze(sample.text())
    for expected in (
        "某某市职业技术学校",
        "固定资产台账",
        "部门：全部",
        "后勤管理系统",
        "张三2",
        "后勤服务中心食堂管理科",
        "200.00",
        "报废",
    ):
        assert expected in text


def test_a_long_run_without_spaces_wraps_inside_its_cell(sample):
    lines = [squeeze(line) for line in sample.text().splitlines()]
    pieces = [line for line in lines if line and line in LONG_RUN]
    assert "".join(pieces) == LONG_RUN
    assert len(pieces) >= 2


def test_header_block_footer_and_signatures_use_the_active_language(sample):
    text = squeeze(sample.text())
    with translation.override("zh-hans"):
        expected = [_("Printed at"), _("Prepared by"), _("Checked by"), _("Date")]
        expected.append(_("Page %(page)s of %(total)s") % {"page": 1, "total": 1})
    for label in expected:
        assert squeeze(label) in text
    assert "2026-11-2517:30" in text  # printed_at in local time (Asia/Shanghai)


def test_pages_grow_with_rows_and_repeat_the_header_row(long_list):
    total = len(long_list.pages)
    assert total >= 3
    with translation.override("zh-hans"):
        labels = [_("Page %(page)s of %(total)s") % {"page": i + 1, "total": total} for i in range(total)]
    for index in range(total):
        text = squeeze(long_list.page_text(index))
        assert "姓名部门金额（元）状态" in text  # the header row, on every page
        assert squeeze(labels[index]) in text
    assert "张三159" in squeeze(long_list.page_text(total - 1))
    # The title is printed once, on the first page.
    assert "固定资产台账" not in squeeze(long_list.page_text(1))


@needs_font
def test_landscape_when_asked_or_when_the_table_is_wide():
    wide = [PrintColumn(f"列{i}") for i in range(8)]
    pdf = Pdf(render(columns=wide, rows=[[str(i) for i in range(8)]]))
    width, height = pdf.page_size(0)
    assert width > height
    pdf = Pdf(render(landscape=True))
    width, height = pdf.page_size(0)
    assert width > height


def test_orientation_rule():
    seven = [PrintColumn("x")] * 7
    assert not printing.is_landscape(seven)
    assert printing.is_landscape(seven + [PrintColumn("y")])
    assert printing.is_landscape([PrintColumn("x", weight=4.5), PrintColumn("y", weight=3.6)])
    assert not printing.is_landscape([PrintColumn("x", weight=4), PrintColumn("y", weight=4)])
    assert not printing.is_landscape(seven + [PrintColumn("y")], landscape=False)


@needs_font
def test_hostile_text_prints_literally_everywhere():
    """Typst markup and code in the data print as typed: nothing is evaluated, no file is read."""
    columns = [PrintColumn(h) for h in ("#h(1fr)", "$a$", "*b*")]
    rows = [HOSTILE[i : i + 3] for i in range(0, len(HOSTILE), 3)]
    pdf = Pdf(
        render(
            title="#set text(size: 1pt)",
            school='#read("/etc/hostname")',
            filter_summary="*x* _y_ `z`",
            footer_note="#pagebreak()",
            columns=columns,
            rows=rows,
            signatures=("#sym.arrow", "<sig>"),
        )
    )
    assert len(pdf.pages) == 1
    width, height = pdf.page_size(0)
    assert round(width) == round(A4[0]) and round(height) == round(A4[1])
    text = squeeze(pdf.text())
    for literal in [
        *HOSTILE,
        "#h(1fr)",
        "$a$",
        "*b*",
        "#set text(size: 1pt)",
        '#read("/etc/hostname")',
        "*x* _y_ `z`",
        "#pagebreak()",
        "#sym.arrow",
        "<sig>",
    ]:
        assert squeeze(literal) in text, literal
    assert "root:" not in text
    assert '"' in text and "“" not in text  # no smart quotes either: strings are not markup


@needs_font
def test_none_cells_print_empty_and_control_characters_are_dropped():
    pdf = Pdf(render(rows=[["王\x00五", None, "1\t2", "在\x1b用"]], signatures=()))
    text = squeeze(pdf.text())
    assert "王五" in text and "在用" in text and "12" in text
    assert "None" not in text


def test_no_chinese_font_is_a_print_error(monkeypatch, tmp_path):
    (tmp_path / "readme.txt").write_text("no fonts here")
    monkeypatch.setattr(printing, "find_cjk_font_dirs", lambda: [str(tmp_path)])
    with pytest.raises(PrintError) as raised, translation.override("en"):
        render_table_pdf(title="T", school="S", columns=COLUMNS, rows=[["a", "b", "c", "d"]])
    assert "fonts-noto-cjk" in str(raised.value)
    monkeypatch.setattr(printing, "find_cjk_font_dirs", list)
    with pytest.raises(PrintError, match="fonts-noto-cjk"):
        render(rows=[])


def test_font_dirs_from_the_setting_come_first_and_fc_list_is_optional(settings, tmp_path, monkeypatch):
    settings.HOUQIN_FONT_DIRS = [str(tmp_path), str(tmp_path / "missing")]
    dirs = printing.find_cjk_font_dirs()
    assert dirs[0] == str(tmp_path.resolve())
    assert str(tmp_path / "missing") not in dirs
    monkeypatch.setattr(printing.shutil, "which", lambda name: None)
    assert printing._fontconfig_zh_dirs() == []
    known = [d for d in printing.KNOWN_FONT_DIRS if printing.os.path.isdir(d)]
    assert printing.find_cjk_font_dirs() == [
        str(tmp_path.resolve()),
        *[printing.os.path.realpath(d) for d in known],
    ]


def test_too_many_rows_stop_reading_early(settings):
    settings.HOUQIN_PRINT_MAX_ROWS = 5
    endless = itertools.repeat(["a", "b", "c", "d"])
    with pytest.raises(PrintError):
        render(rows=endless)


def test_malformed_tables_are_programming_errors():
    with pytest.raises(ValueError, match="row 2 has 3 cells"):
        render(rows=[["a", "b", "c", "d"], ["a", "b", "c"]])
    with pytest.raises(ValueError, match="align"):
        render(columns=[PrintColumn("x", align="justify")])
    with pytest.raises(ValueError, match="weight"):
        render(columns=[PrintColumn("x", weight=0)])
    with pytest.raises(ValueError, match="column"):
        render(columns=[])


@needs_font
def test_typst_failure_and_timeout_are_print_errors(monkeypatch, settings, tmp_path):
    broken = tmp_path / "table.typ"
    broken.write_text("#let x = (\n", encoding="utf-8")
    monkeypatch.setattr(printing, "TABLE_TEMPLATE", broken)
    with pytest.raises(PrintError):
        render(rows=[])
    monkeypatch.undo()
    settings.HOUQIN_PRINT_TIMEOUT = 0.01
    with pytest.raises(PrintError):
        render(rows=chinese_rows(50))
