"""Excel export, import template and import reading (X-7). No database needed."""

import datetime
import io
import os
import re
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from houqin.core.excel import (
    Column,
    ExcelReadError,
    escape_formula,
    read_sheet,
    unescape_formula,
    write_template,
    write_xlsx,
)
from houqin.core.excel import _check_xlsx_size as check_xlsx_size

PROPERTY = settings(max_examples=60, database=None, deadline=None)
SHANGHAI = ZoneInfo("Asia/Shanghai")
COLUMNS = [
    Column("name", "姓名"),
    Column("age", "年龄", "int"),
    Column("fee", "住宿费", "decimal"),
    Column("born", "出生日期", "date"),
    Column("at", "登记时间", "datetime"),
    Column("boarder", "住校", "bool"),
    Column("note", "备注"),
]
# Text a cell holds: no surrogates, no U+FFFE/U+FFFF (not characters; Excel's own _xFFFE_ escape
# is not decoded by calamine). Control characters are kept: they travel as _xHHHH_ escapes.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"), max_size=40)


def export(columns, rows, **kwargs) -> bytes:
    buffer = io.BytesIO()
    kwargs.setdefault("sheet_title", "导出")
    write_xlsx(buffer, columns=columns, rows=rows, **kwargs)
    return buffer.getvalue()


def template(columns, example=None, **kwargs) -> bytes:
    buffer = io.BytesIO()
    kwargs.setdefault("sheet_title", "导入模板")
    write_template(buffer, columns=columns, example=example, **kwargs)
    return buffer.getvalue()


def part(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name).decode()


def raw_cells(data: bytes) -> list[list]:
    """The first sheet as calamine gives it, before read_sheet normalises anything."""
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python(skip_empty_area=False)


def xlsx(cells: dict[tuple[int, int], object], **options) -> bytes:
    """A workbook written cell by cell with xlsxwriter's plain API, as a user's own file would be."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, options)
    sheet = workbook.add_worksheet()
    for (row, col), value in sorted(cells.items()):
        sheet.write(row, col, value)
    workbook.close()
    return buffer.getvalue()


# --- write_xlsx -> read_sheet ------------------------------------------------------------------


def test_every_kind_round_trips():
    """Text, int, Decimal (exact), date, aware datetime (as Shanghai wall time), bool, None."""
    row = ["张三·买买提", 17, Decimal("1234.56"), datetime.date(2008, 9, 1),
           datetime.datetime(2026, 9, 1, 0, 30, tzinfo=datetime.UTC), True, None]
    with translation.override("zh-hans"):
        data = export(COLUMNS, [row, ["李四", -3, Decimal("-0.01"), None, None, False, "走读"]])
    sheet = read_sheet(data)
    assert sheet.headers == [c.header for c in COLUMNS]
    (n1, first), (n2, second) = sheet.rows
    assert (n1, n2) == (2, 3)
    name, age, fee, born, at, boarder, note = first
    assert name == "张三·买买提" and age == 17 and type(age) is int
    assert Decimal(str(fee)) == Decimal("1234.56")
    assert born == datetime.date(2008, 9, 1)
    assert at == datetime.datetime(2026, 9, 1, 8, 30)  # 00:30 UTC is 08:30 in Asia/Shanghai
    assert boarder == "是" and note is None
    assert second == ["李四", -3, -0.01, None, None, "否", "走读"]


def test_naive_datetime_is_written_as_is_and_midnight_reads_as_a_date():
    data = export([Column("at", "时间", "datetime")],
                  [[datetime.datetime(2026, 9, 1, 7, 45, 30)], [datetime.datetime(2026, 9, 1)]])
    assert [values for _n, values in read_sheet(data).rows] == [
        [datetime.datetime(2026, 9, 1, 7, 45, 30)], [datetime.date(2026, 9, 1)]]


def test_datetime_uses_the_active_time_zone():
    with timezone.override("UTC"):
        data = export([Column("at", "时间", "datetime")],
                      [[datetime.datetime(2026, 9, 1, 8, 30, tzinfo=SHANGHAI)]])
    assert read_sheet(data).rows == [(2, [datetime.datetime(2026, 9, 1, 0, 30)])]


@PROPERTY
@given(st.lists(st.decimals(min_value=Decimal("-9999999999.99"), max_value=Decimal("9999999999.99"),
                            places=2, allow_nan=False, allow_infinity=False), min_size=1, max_size=30))
def test_money_never_loses_a_cent(amounts):
    """Decimal(12,2) goes out as a double and comes back exactly through Decimal(str(value))."""
    data = export([Column("amount", "金额", "decimal")], [[a] for a in amounts])
    assert [Decimal(str(values[0])) for _n, values in read_sheet(data).rows] == amounts


def test_decimal_places_set_the_number_format():
    data = export([Column("a", "金额", "decimal"), Column("b", "单价", "decimal", decimal_places=4)],
                  [[Decimal("1.5"), Decimal("0.1234")]])
    styles = part(data, "xl/styles.xml")
    assert 'formatCode="#,##0.00"' in styles and 'formatCode="#,##0.0000"' in styles


def test_title_lines_are_skipped_with_expected_headers():
    data = export(COLUMNS[:2], [["王五", 16]], title_lines=["学生名单", "筛选：2024级 汽修专业"])
    sheet = read_sheet(data, expected_headers=["姓名", "年龄"])
    assert sheet.headers == ["姓名", "年龄"]
    assert sheet.rows == [(4, ["王五", 16])]
    assert read_sheet(data, header_row=3).rows == [(4, ["王五", 16])]
    # Without expected headers the first non-empty row (the title) is taken for the header.
    assert read_sheet(data).headers == ["学生名单"]


def test_header_is_bold_frozen_and_filtered_and_the_count_is_returned():
    buffer = io.BytesIO()
    count = write_xlsx(buffer, columns=COLUMNS[:2], rows=(["张三", i] for i in range(5)),
                       sheet_title="名单", title_lines=["学生名单"])
    assert count == 5
    sheet_xml = part(buffer.getvalue(), "xl/worksheets/sheet1.xml")
    assert '<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>' in sheet_xml
    assert '<autoFilter ref="A2:B7"/>' in sheet_xml
    assert '<dimension ref="A1:B7"/>' in sheet_xml
    assert "<b/>" in part(buffer.getvalue(), "xl/styles.xml")


def test_no_rows_writes_the_header_only():
    buffer = io.BytesIO()
    assert write_xlsx(buffer, columns=COLUMNS[:2], rows=[], sheet_title="空") == 0
    assert '<autoFilter ref="A1:B1"/>' in part(buffer.getvalue(), "xl/worksheets/sheet1.xml")
    assert read_sheet(buffer.getvalue()).rows == []


def test_path_target_and_sheet_title_cleaned(tmp_path):
    path = tmp_path / "export.xlsx"
    write_xlsx(path, columns=COLUMNS[:1], rows=[["张三"]], sheet_title="2024/2025 学年[上]: 名单*?\\" + "长" * 40)
    name = CalamineWorkbook.from_path(str(path)).sheet_names[0]
    assert len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name)
    assert name.startswith("20242025 学年上 名单")
    assert read_sheet(path).rows == [(2, ["张三"])]


def test_big_integers_and_other_objects_are_written_as_text():
    """Excel keeps 15 digits: a longer integer is written as text rather than rounded."""
    data = export([Column("n", "编号", "int"), Column("o", "其他")],
                  [[10**15 - 1, datetime.time(8, 0)], [2**60, Decimal("NaN")], [-(2**60), 1.5]])
    assert [values for _n, values in read_sheet(data).rows] == [
        [10**15 - 1, "08:00:00"], [str(2**60), "NaN"], [str(-(2**60)), 1.5]]


def test_overlong_text_is_cut_to_excels_limit_and_extra_values_are_ignored():
    data = export([Column("t", "备注")], [["长" * 40_000, "no column for this"]])
    assert read_sheet(data).rows == [(2, ["长" * 32_767])]


def test_lazy_translations_are_written_as_text():
    data = export([Column("name", gettext_lazy("Name"))], [[gettext_lazy("Yes")]], sheet_title=gettext_lazy("Name"))
    assert read_sheet(data).headers == [_("Name")]
    assert read_sheet(data).rows == [(2, [_("Yes")])]


def test_unknown_column_kind_is_refused():
    with pytest.raises(ValueError, match="money"):
        Column("fee", "费用", "money")


# --- formula injection ---------------------------------------------------------------------------

INJECTIONS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x", "=HYPERLINK(\"http://evil\",\"点我\")",
              "'=already quoted", "''=twice"]


def test_formula_like_text_is_stored_quoted_and_comes_back_identical():
    data = export([Column("t", "内容"), Column("n", "数量", "int"), Column("d", "金额", "decimal")],
                  [[text, -5, Decimal("-3.50")] for text in INJECTIONS])
    raw = raw_cells(data)[1:]
    assert [row[0] for row in raw] == ["'" + text for text in INJECTIONS]
    assert all(row[1] == -5.0 and row[2] == -3.5 for row in raw)  # negative numbers stay numbers
    assert "<f>" not in part(data, "xl/worksheets/sheet1.xml")
    sheet = read_sheet(data)
    assert [values[0] for _n, values in sheet.rows] == INJECTIONS
    assert all(values[1:] == [-5, -3.5] for _n, values in sheet.rows)


def test_title_lines_and_headers_are_escaped_too():
    data = export([Column("t", "=标题")], [], title_lines=["=cmd|' /C calc'!A0"])
    assert [row[0] for row in raw_cells(data)] == ["'=cmd|' /C calc'!A0", "'=标题"]


def test_escape_formula():
    assert escape_formula("=1+1") == "'=1+1"
    assert escape_formula("张三") == "张三"
    assert escape_formula("'abc") == "'abc"
    assert escape_formula("'=x") == "''=x"
    assert escape_formula("") == ""
    assert unescape_formula("'=1+1") == "=1+1"
    assert unescape_formula("'abc") == "'abc"
    assert unescape_formula("'") == "'"


@PROPERTY
@given(TEXT)
def test_unescape_inverts_escape(text):
    assert unescape_formula(escape_formula(text)) == text


@PROPERTY
@given(st.lists(TEXT.filter(lambda t: t and t == t.strip()), min_size=1, max_size=20))
def test_any_text_round_trips_exactly(texts):
    """Text without surrounding white space comes back exactly (XML escapes, _xHHHH_, quotes...)."""
    data = export([Column("t", "文本")], [[t] for t in texts])
    assert [values[0] for _n, values in read_sheet(data).rows] == texts


def test_surrounding_white_space_is_stripped_on_reading():
    data = export([Column("t", "文本"), Column("u", "其他")], [["\u3000张三 ", "x"], ["   ", "y"]])
    assert [values for _n, values in read_sheet(data).rows] == [["张三", "x"], [None, "y"]]


# --- write_template -----------------------------------------------------------------------------

TEMPLATE_COLUMNS = [
    Column("student_no", "学号", required=True),
    Column("sex", "性别", choices=("男", "女"), required=True),
    Column("born", "出生日期", "date"),
    Column("boarder", "住校", "bool"),
    Column("fee", "住宿费", "decimal"),
]


def test_template_header_example_and_validations():
    with translation.override("zh-hans"):
        data = template(TEMPLATE_COLUMNS, ["2024001", "男", datetime.date(2008, 9, 1), True, Decimal("800")],
                        notes=["第一行是表头，不要修改。", "=不会被执行"])
        required, date_message = _("Required"), _("Date format: 2026-09-01")
    sheet_xml = part(data, "xl/worksheets/sheet1.xml")
    validations = re.findall(r"<dataValidation .*?</dataValidation>", sheet_xml)
    assert len(validations) == 3
    assert 'sqref="B2:B10001"><formula1>"男,女"</formula1>' in validations[0]
    assert 'type="date"' in validations[1] and f'prompt="{date_message}"' in validations[1]
    assert 'sqref="C2:C10001"' in validations[1]
    assert '"是,否"' in validations[2]  # bool columns offer Yes/No
    assert 'state="frozen"' in sheet_xml
    assert part(data, "xl/comments1.xml").count(f"<t>{required}</t>") == 2
    # Required headers have their own fill: two distinct styles in the header row.
    header_styles = re.findall(r'<c r="[A-E]1" s="(\d+)"', sheet_xml)
    assert header_styles[0] == header_styles[1] != header_styles[2]
    # The example row reads back like data, the notes sheet is visible and escaped.
    sheet = read_sheet(data, expected_headers=["学号"])
    assert sheet.headers == ["学号", "性别", "出生日期", "住校", "住宿费"]
    assert sheet.rows == [(2, ["2024001", "男", datetime.date(2008, 9, 1), "是", 800])]
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert len(workbook.sheet_names) == 2
    notes = workbook.get_sheet_by_index(1).to_python()
    assert notes == [["第一行是表头，不要修改。"], ["'=不会被执行"]]


def test_long_choice_lists_go_to_a_hidden_sheet():
    majors = tuple(f"{name}专业（三年制）" for name in ["汽车运用与维修", "机电技术应用", "计算机应用", "电子商务",
                                                 "会计事务", "数控技术应用", "旅游服务与管理", "幼儿保育"] * 4)
    columns = [Column("major", "专业", choices=majors), Column("class", "班级", choices=("1班", "2班,3班"))]
    assert len(",".join(majors)) > 255
    with translation.override("zh-hans"):
        data = template(columns)
        options = _("Options")
    workbook_xml = part(data, "xl/workbook.xml")
    assert re.search(rf'<sheet name="{options}" sheetId="2" state="hidden"', workbook_xml)
    sheet_xml = part(data, "xl/worksheets/sheet1.xml")
    assert f"<formula1>'{options}'!$A$1:$A${len(majors)}</formula1>" in sheet_xml
    assert f"<formula1>'{options}'!$B$1:$B$2</formula1>" in sheet_xml  # a comma cannot be in an inline list
    hidden = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(options).to_python()
    assert [row[0] for row in hidden] == list(majors)
    assert hidden[1][1] == "2班,3班"


def test_short_choices_need_no_options_sheet_and_example_may_be_none():
    data = template([Column("sex", "性别", choices=("男", "女"))], None)
    assert CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names == ["导入模板"]
    assert read_sheet(data).rows == []


def test_template_text_columns_are_formatted_as_text():
    """Typed student numbers such as 0012 keep their zeros: text columns use the "@" format."""
    data = template([Column("no", "学号"), Column("n", "人数", "int")])
    assert 'formatCode="@"' in part(data, "xl/styles.xml")


# --- read_sheet -----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    b"",
    b"not a spreadsheet at all",
    os.urandom(4096),
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + os.urandom(2048),  # a renamed .exe
    b"PK\x03\x04" + os.urandom(512),  # a broken zip
    "学号,姓名\n2024001,张三\n".encode(),  # CSV
    b"%PDF-1.7\n" + os.urandom(512),
], ids=["empty", "text", "random", "exe", "zip", "csv", "pdf"])
def test_a_file_that_is_no_workbook_is_refused_with_a_message(data):
    with pytest.raises(ExcelReadError) as error:
        read_sheet(data)
    assert str(error.value) == _("The file is not an Excel workbook (.xlsx, .xls or .ods).")


def test_a_workbook_with_a_password_to_open_gets_its_own_message():
    """Excel stores it as an OLE file with an EncryptedPackage stream (sketched here, not a real one)."""
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le") + bytes(500)
    with pytest.raises(ExcelReadError) as error:
        read_sheet(data)
    assert str(error.value) == _("The workbook is protected by a password; remove the password and upload it again.")


def test_a_zip_that_is_no_workbook_and_a_truncated_workbook_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "你好")
    for data in (buffer.getvalue(), export(COLUMNS, [["张三"] * 7] * 50)[:3000]):
        with pytest.raises(ExcelReadError):
            read_sheet(data)


def test_empty_rows_are_skipped_and_row_numbers_are_the_users():
    data = xlsx({(0, 0): "学号*", (0, 1): "姓名（必填）", (0, 3): "  备注 ",
                 (1, 0): "2024001", (1, 1): "张三",
                 (2, 0): "   ", (2, 1): "",  # blank: skipped
                 (4, 1): "李四", (4, 5): "beyond the header: dropped",
                 (6, 5): "only beyond the header: skipped",
                 (7, 0): 2024003.0, (7, 3): 12.5})
    sheet = read_sheet(data, expected_headers=["学号"])
    assert sheet.headers == ["学号", "姓名", "", "备注"]
    assert sheet.rows == [(2, ["2024001", "张三", None, None]), (5, [None, "李四", None, None]),
                          (8, [2024003, None, None, 12.5])]


@pytest.mark.parametrize("header", ["学号*", "*学号", "学号＊", "学号(必填)", "学号（必填）", " 学号 * "])
def test_required_marks_are_removed_from_headers(header):
    data = xlsx({(0, 0): "学生信息表", (1, 0): header, (2, 0): "2024001"})
    sheet = read_sheet(data, expected_headers=["学号*"])
    assert sheet.headers == ["学号"] and sheet.rows == [(3, ["2024001"])]


def test_header_search_is_limited_to_the_first_ten_rows():
    cells = {(row, 0): f"说明{row}" for row in range(10)}
    cells.update({(10, 0): "学号", (11, 0): "2024001"})
    # Not found in the first 10 rows: the first non-empty row is the header, the caller reports it.
    assert read_sheet(xlsx(cells), expected_headers=["学号"]).headers == ["说明0"]
    assert read_sheet(xlsx(cells), header_row=11).rows == [(12, ["2024001"])]


def test_an_empty_sheet_has_no_header():
    for data in (xlsx({}), xlsx({(3, 2): "   "})):
        with pytest.raises(ExcelReadError) as error:
            read_sheet(data)
        assert str(error.value) == _("The sheet has no header row.")
    with pytest.raises(ExcelReadError):
        read_sheet(xlsx({(0, 0): "学号"}), header_row=5)


def test_too_many_rows_are_refused():
    data = export(COLUMNS[:1], [["张三"]] * 4)
    assert len(read_sheet(data, max_rows=4).rows) == 4
    with translation.override("zh-hans"), pytest.raises(ExcelReadError) as error:
        read_sheet(data, max_rows=3)
    assert "3" in str(error.value)


def test_a_stray_far_away_cell_is_refused_before_calamine_allocates_the_grid():
    """A1 plus XFD1048576 would make calamine allocate 550 GB and abort the process."""
    for far in [(1_048_575, 16_383), (0, 16_383), (1_048_575, 30), (600_000, 26)]:
        with pytest.raises(ExcelReadError) as error:
            read_sheet(xlsx({(0, 0): "学号", far: "x"}, constant_memory=True))
        assert str(error.value) == _(
            "The sheet is too large to import; delete stray cells far below or to the right of the table, "
            "or split the file.")
    # Long but narrow, and wide but reasonable sheets pass: column AD is the 30th.
    check_xlsx_size(xlsx({(0, 0): "学号", (999_998, 0): "x"}, constant_memory=True), 0)
    assert read_sheet(xlsx({(0, 0): "学号", (150_000, 0): "x"}, constant_memory=True)).rows == [(150_001, ["x"])]
    assert read_sheet(xlsx({(0, 29): "备注", (40_000, 29): "x"})).rows == [(40_001, [None] * 29 + ["x"])]


def test_values_are_normalised():
    data = xlsx({(0, 0): "a", (0, 1): "b", (0, 2): "c", (0, 3): "d",
                 (1, 0): 3.0, (1, 1): 2.5, (1, 2): True, (1, 3): "'-1"})
    assert read_sheet(data).rows == [(2, [3, 2.5, True, "-1"])]


def test_sources_path_bytes_file_object_and_upload(tmp_path):
    data = export(COLUMNS[:1], [["张三"]])
    path = tmp_path / "学生.xlsx"
    path.write_bytes(data)
    stream = io.BytesIO(data)
    stream.read(10)  # read_sheet rewinds
    upload = SimpleUploadedFile("学生.xlsx", data)
    for source in (path, str(path), data, bytearray(data), stream, upload):
        assert read_sheet(source).rows == [(2, ["张三"])]


def test_the_first_visible_sheet_is_read():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    hidden = workbook.add_worksheet("隐藏")
    hidden.write(0, 0, "secret")
    visible = workbook.add_worksheet("数据")
    visible.write(0, 0, "学号")
    visible.write(1, 0, "2024001")
    visible.activate()
    hidden.hide()
    workbook.close()
    assert read_sheet(buffer.getvalue()).rows == [(2, ["2024001"])]
