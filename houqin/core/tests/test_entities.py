"""The entity machinery end to end on a voidable sample ledger (tests/sampleapp): list, filters,
htmx partials, forms, void, history, API, Excel import/export and print (architecture §4.4–4.9)."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse

from houqin.core import excel
from houqin.core.entities import registry
from houqin.core.models import AuditEntry
from houqin.org.models import Room
from tests.sampleapp.models import LedgerLine

ENTITY = None


@pytest.fixture
def entity():
    return registry[LedgerLine]


@pytest.fixture
def director(personas):
    return personas["logistics_director"]


@pytest.fixture
def lines(school, director):
    from houqin.core.crud import object_create

    room = Room.objects.filter(school=school).order_by("code").first()
    made = []
    for i, (desc, kind, amount) in enumerate([("粉笔", "in", "12.50"), ("扫帚", "out", "30.00"),
                                              ("=1+1 危险", "in", "0.10")]):
        made.append(object_create(obj=LedgerLine(
            school=school, code=f"L{i:03d}", description=desc, kind=kind, amount=Decimal(amount), quantity=i + 1,
            happened_on=datetime.date(2026, 9, 1 + i), room=room if i == 0 else None, paid=i == 1,
        ), actor=director))
    return made


def _xlsx(rows, headers):
    buf = io.BytesIO()
    cols = [excel.Column(key=h, header=h) for h in headers]
    excel.write_xlsx(buf, columns=cols, rows=rows, sheet_title="导入")
    buf.seek(0)
    buf.name = "lines.xlsx"
    return buf


# Classes built from the declaration -----------------------------------------------------------------


def test_registry_builds_named_classes(entity):
    assert entity.filterset_class.__name__ == "LedgerLineFilterSet"
    assert entity.form_class.__name__ == "LedgerLineForm"
    assert entity.import_form_class.__name__ == "LedgerLineImportForm"
    assert entity.serializer_class.__name__ == "LedgerLineSerializer"
    assert entity.viewset_class.__name__ == "LedgerLineViewSet"
    assert entity.views["list"].__name__ == "LedgerLineListView"
    assert entity.views["void"].__name__ == "LedgerLineVoidView"
    assert "delete" not in entity.views  # a ledger is voided, never deleted


def test_show_entity_command_prints_what_was_built():
    from django.core.management import call_command

    out = io.StringIO()
    call_command("show_entity", "sampleapp.LedgerLine", stdout=out)
    text = out.getvalue()
    for name in ("LedgerLineFilterSet", "LedgerLineForm", "LedgerLineViewSet", "sampleapp:ledgerline_list",
                 "/api/sampleapp/ledgerlines/"):
        assert name in text


# List ---------------------------------------------------------------------------------------------------


def test_list_search_filter_sort_and_partial(client, director, lines):
    client.force_login(director)
    url = reverse("sampleapp:ledgerline_list")
    html = client.get(url).content.decode()
    assert "L000" in html and "L001" in html and "12.50" in html
    html = client.get(url, {"q": "扫帚"}).content.decode()
    assert "L001" in html and "L000" not in html
    html = client.get(url, {"kind": "in"}).content.decode()
    assert "L000" in html and "L001" not in html
    html = client.get(url, {"happened_on_after": "2026-09-02", "happened_on_before": "2026-09-02"}).content.decode()
    assert "L001" in html and "L000" not in html
    # The range is a group named by its label, each input by its own; 至 between them, the values kept.
    assert ('role="group" aria-labelledby="id_happened_on-label"><span class="form-label" '
            'id="id_happened_on-label">日期</span>') in html
    assert 'aria-label="日期（起）"' in html and 'aria-label="日期（止）"' in html
    assert '<span class="date-range-sep" aria-hidden="true">至</span>' in html and 'value="2026-09-02"' in html
    html = client.get(url, {"sort": "-amount"}).content.decode()
    assert html.index("L001") < html.index("L000") < html.index("L002")
    partial = client.get(url, {"q": "粉笔"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-table")
    text = partial.content.decode()
    assert "<html" not in text and "L000" in text and 'data-testid="entity-table"' in text


def test_hostile_search_strings_are_harmless(client, director, lines):
    client.force_login(director)
    url = reverse("sampleapp:ledgerline_list")
    for q in ["' OR 1=1 --", "<script>alert(1)</script>", "%", "_", "\\", "a" * 500, "🙂", "'; DROP TABLE x;"]:
        response = client.get(url, {"q": q, "sort": q, "page": q, "room": q})
        assert response.status_code == 200
        assert b"<script>alert(1)</script>" not in response.content
    assert LedgerLine.objects.count() == 3


def test_column_chooser_is_remembered(client, director, lines):
    client.force_login(director)
    url = reverse("sampleapp:ledgerline_list")
    client.post(url, {"what": "columns", "columns": ["code", "amount"]})
    html = client.get(url).content.decode()
    assert "粉笔" not in html and "12.50" in html
    client.post(url, {"what": "columns"})  # nothing chosen: back to the default columns
    assert "粉笔" in client.get(url).content.decode()


def test_saved_filter_private_and_shared(client, director, personas, lines):
    from houqin.core.models import SavedFilter

    client.force_login(director)
    url = reverse("sampleapp:ledgerline_list")
    client.post(url, {"what": "save_filter", "name": "我的入库单", "query": "kind=in"})
    client.post(url, {"what": "save_filter", "name": "全部出库", "query": "kind=out", "shared": "on"})
    assert SavedFilter.objects.filter(owner=director).count() == 2
    client.force_login(personas["logistics_clerk"])
    html = client.get(url).content.decode()
    assert "全部出库" in html and "我的入库单" not in html


# Forms, audit, void -------------------------------------------------------------------------------------


def test_create_edit_void_each_audited(client, director, school):
    client.force_login(director)
    room = Room.objects.filter(school=school).first()
    response = client.post(reverse("sampleapp:ledgerline_add"), {
        "code": "N1", "description": "拖把", "kind": "out", "amount": "15.80", "quantity": "2",
        "happened_on": "2026-10-08", "room": room.pk,
    })
    line = LedgerLine.objects.get(code="N1")
    assert response.status_code == 302 and response["Location"] == reverse("sampleapp:ledgerline", args=[line.pk])
    assert line.school == school and line.amount == Decimal("15.80")

    def entries(action):
        return AuditEntry.objects.filter(object_id=str(line.pk), content_type__model="ledgerline", action=action)

    assert entries("create").count() == 1 and entries("create").get().actor == director

    client.post(reverse("sampleapp:ledgerline_edit", args=[line.pk]), {
        "code": "N1", "description": "拖把（大）", "kind": "out", "amount": "16.80", "quantity": "2",
        "happened_on": "2026-10-08", "room": room.pk,
    })
    update = entries("update").get()
    assert update.changed_fields == ["amount", "description"]
    assert update.before["amount"] == "15.80" and update.after["amount"] == "16.80"

    history_url = reverse("sampleapp:ledgerline_history", args=[line.pk])
    history = client.get(history_url).content.decode()
    assert "15.80" in history and "16.80" in history and "拖把（大）" in history
    assert f'href="{history_url}"' not in history  # the full history does not link to itself
    assert f'href="{history_url}"' in client.get(reverse("sampleapp:ledgerline", args=[line.pk])).content.decode()

    response = client.post(reverse("sampleapp:ledgerline_void", args=[line.pk]), {"reason": ""})
    assert response.status_code == 400 and "作废原因" in response.content.decode()
    # a NUL character (PostgreSQL cannot store one): refused with a message, not a 500, on every database
    response = client.post(reverse("sampleapp:ledgerline_void", args=[line.pk]), {"reason": "重复\x00登记"})
    assert response.status_code == 400 and "空字符" in response.content.decode()
    line.refresh_from_db()
    assert line.voided_at is None
    client.post(reverse("sampleapp:ledgerline_void", args=[line.pk]), {"reason": "重复登记"})
    line.refresh_from_db()
    assert line.voided_at and line.voided_by == director and line.void_reason == "重复登记"
    assert entries("void").count() == 1
    url = reverse("sampleapp:ledgerline_list")
    # ">N1<": the code as a cell's text (a bare "N1" also turns up in random CSRF tokens now and then)
    assert ">N1<" not in client.get(url).content.decode()
    assert ">N1<" in client.get(url, {"voided": "all"}).content.decode()
    assert ">N1<" in client.get(url, {"voided": "only"}).content.decode()
    # a voided record cannot be edited
    assert client.get(reverse("sampleapp:ledgerline_edit", args=[line.pk])).status_code == 403


def test_form_errors_in_chinese_next_to_the_field(client, director, lines):
    client.force_login(director)
    response = client.post(reverse("sampleapp:ledgerline_add"), {
        "code": "L000", "description": "", "kind": "in", "amount": "abc", "quantity": "-1", "happened_on": "2026-13-01",
    })
    html = response.content.decode()
    assert response.status_code == 400
    assert "该字段是必填项" in html  # description
    assert "输入一个数字" in html  # amount
    assert "输入一个有效的日期" in html
    assert "编号“L000”在本校已被使用" in html  # the code is unique per school
    partial = client.post(reverse("sampleapp:ledgerline_add"), {"code": ""}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert LedgerLine.objects.count() == 3


def test_roles_without_permission_get_403(client, personas, lines):
    line = lines[0]
    client.force_login(personas["teacher"])
    for name, args in [("list", []), ("detail", [line.pk]), ("add", []), ("edit", [line.pk]), ("void", [line.pk]),
                       ("import", []), ("export", []), ("print", []), ("history", [line.pk])]:
        url = reverse(registry[LedgerLine].url_name(name), args=args)
        assert client.get(url).status_code == 403, name
    assert client.get("/api/sampleapp/ledgerlines/").status_code == 403
    client.force_login(personas["logistics_clerk"])  # view only
    assert client.get(reverse("sampleapp:ledgerline_list")).status_code == 200
    assert client.post(reverse("sampleapp:ledgerline_void", args=[line.pk]), {"reason": "x"}).status_code == 403
    assert client.post("/api/sampleapp/ledgerlines/", {"code": "X"}).status_code == 403
    line.refresh_from_db()
    assert line.voided_at is None


# API ----------------------------------------------------------------------------------------------------


def test_api_list_filter_create_400_update_void(client, director, lines, school):
    client.force_login(director)
    api = "/api/sampleapp/ledgerlines/"
    data = client.get(api).json()
    assert data["count"] == 3
    data = client.get(api, {"kind": "out"}).json()
    assert [r["code"] for r in data["results"]] == ["L001"]
    assert data["results"][0]["amount"] == "30.00"
    assert client.get(api, {"q": "粉笔"}).json()["count"] == 1

    response = client.post(api, {"code": "A1", "description": "水桶", "kind": "in", "amount": "8.00",
                                 "quantity": 1, "happened_on": "2026-11-01"}, content_type="application/json")
    assert response.status_code == 201, response.content
    created = LedgerLine.objects.get(code="A1")
    assert created.school == school and AuditEntry.objects.filter(content_type__model=created._meta.model_name, object_id=str(created.pk),
                                  action="create").exists()

    response = client.post(api, {"code": "A1", "description": "", "amount": "x", "happened_on": "bad"},
                           content_type="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"description", "amount", "happened_on", "code"} <= set(errors)
    assert "该字段是必填项" in errors["description"][0]

    response = client.patch(f"{api}{created.pk}/", {"amount": "9.50"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["amount"] == "9.50"
    assert AuditEntry.objects.filter(content_type__model=created._meta.model_name, object_id=str(created.pk),
                                     action="update").get().changed_fields == ["amount"]

    assert client.post(f"{api}{created.pk}/void/", {}, content_type="application/json").status_code == 400
    response = client.post(f"{api}{created.pk}/void/", {"reason": "录错"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["voided_at"]
    assert client.get(api).json()["count"] == 3
    assert client.get(api, {"voided": "all"}).json()["count"] == 4
    assert client.delete(f"{api}{created.pk}/").status_code == 405


def test_api_token_auth_and_schema(client, director):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=director)
    response = client.get("/api/sampleapp/ledgerlines/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert client.get("/api/sampleapp/ledgerlines/").status_code == 401
    client.force_login(director)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/org/students/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "cdn" not in docs.lower() and "/static/" in docs


# Export, import, print -------------------------------------------------------------------------------


def test_export_is_what_the_list_shows(client, director, lines):
    client.force_login(director)
    response = client.get(reverse("sampleapp:ledgerline_export"), {"kind": "in", "sort": "-amount"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = excel.read_sheet(io.BytesIO(content), expected_headers=["编号"])
    assert sheet.headers[:4] == ["编号", "摘要", "类型", "金额"]
    codes = [values[0] for _row, values in sheet.rows]
    assert codes == ["L000", "L002"]
    first = sheet.rows[0][1]
    assert Decimal(str(first[3])) == Decimal("12.50") and first[5] == datetime.date(2026, 9, 1)
    assert sheet.rows[1][1][1] == "=1+1 危险"  # round-trips; stored escaped (below)
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        strings = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else ""
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "'=1+1" in strings + sheet_xml and "<f>" not in sheet_xml


def test_import_reports_every_bad_row_then_commits_all(client, director, lines, school):
    client.force_login(director)
    url = reverse("sampleapp:ledgerline_import")
    template = client.get(url, {"template": "1"})
    assert template.status_code == 200
    headers = ["编号", "摘要", "类型", "金额", "数量", "日期", "地点", "已付款"]
    room = Room.objects.filter(school=school).order_by("code").first()
    rows = [
        ["I1", "墨水", "入库", 3.5, 2, datetime.date(2026, 9, 3), room.code, "是"],
        ["I2", "", "入库", 1, 1, datetime.date(2026, 9, 3), None, "否"],  # row 3: description missing
        ["I3", "纸", "借出", "abc", 1, "2026-02-30", "NOPE", "也许"],  # row 4: kind, amount, date, room, paid
        ["L000", "粉笔（更新）", "入库", 13, 10, datetime.date(2026, 9, 1), None, "否"],  # update
    ]
    response = client.post(url, {"file": _xlsx(rows, headers)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "第 3 行" in html and "第 4 行" in html and "第 2 行" not in html
    assert "NOPE" in html
    assert LedgerLine.objects.count() == 3  # nothing written

    rows[1][1] = "抹布"
    rows[2] = ["I3", "纸", "出库", 2, 1, datetime.date(2026, 9, 4), None, "否"]
    response = client.post(url, {"file": _xlsx(rows, headers)})
    assert response.status_code == 200 and 'data-testid="import-ready"' in response.content.decode()
    token = response.context["token"]
    assert LedgerLine.objects.count() == 3  # preview only
    before = AuditEntry.objects.count()
    response = client.post(url, {"token": token})
    assert response.status_code == 302
    assert LedgerLine.objects.count() == 6
    assert LedgerLine.objects.get(code="I1").amount == Decimal("3.50")
    updated = LedgerLine.objects.get(code="L000")
    assert updated.description == "粉笔（更新）" and updated.amount == Decimal("13")
    entries = AuditEntry.objects.order_by("-id")[: AuditEntry.objects.count() - before]
    assert len(entries) == 4 and {e.action for e in entries} == {"import"}
    assert len({e.request_id for e in entries}) == 1 and entries[0].request_id
    assert client.post(url, {"token": token}).status_code == 302  # used token: expired, nothing imported twice
    assert LedgerLine.objects.count() == 6


def test_a_reimport_leaves_rows_that_change_nothing_alone_and_says_so(client, director, lines, school):
    """The ledger exported, one cell corrected, uploaded again: the other rows are counted as unchanged (an amount
    written 13 is the stored 13.00), not updated, not audited; the check and the result say how many."""
    client.force_login(director)
    url = reverse("sampleapp:ledgerline_import")
    headers = ["编号", "摘要", "类型", "金额", "数量", "日期", "地点", "已付款"]
    stored = list(LedgerLine.objects.filter(school=school).order_by("code"))
    kinds = dict(LedgerLine.Kind.choices)
    rows = [[line.code, line.description, str(kinds[line.kind]), int(line.amount) if line.amount == int(line.amount)
             else line.amount, line.quantity, line.happened_on, line.room.code if line.room else None,
             "是" if line.paid else "否"] for line in stored]
    rows[-1][1] += "（改）"
    response = client.post(url, {"file": _xlsx(rows, headers)})
    assert response.status_code == 200, response.content.decode()[-2000:]
    result = response.context["result"]
    assert (result.created, result.updated, result.unchanged) == (0, 1, len(rows) - 1)
    assert [r["unchanged"] for r in result.preview] == [False] + [True] * (len(rows) - 1)  # the change first
    html = response.content.decode()
    assert f"另有 {len(rows) - 1} 条与系统中一致" in html and "不变" in html
    before = AuditEntry.objects.count()
    stamps = {line.pk: line.updated_at for line in stored}
    response = client.post(url, {"token": response.context["token"]}, follow=True)
    assert f"{len(rows) - 1} 条未变" in response.content.decode()
    assert AuditEntry.objects.count() == before + 1
    assert LedgerLine.objects.get(pk=stored[-1].pk).description.endswith("（改）")
    assert all(line.updated_at == stamps[line.pk] for line in LedgerLine.objects.filter(pk__in=stamps)
               if line.pk != stored[-1].pk)


def test_import_refuses_a_file_that_is_not_excel(client, director):
    client.force_login(director)
    fake = io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200)
    fake.name = "lines.xlsx"
    response = client.post(reverse("sampleapp:ledgerline_import"), {"file": fake})
    assert response.status_code == 400 and 'data-testid="import-problem"' in response.content.decode()


def test_print_pdf(client, director, lines):
    client.force_login(director)
    response = client.get(reverse("sampleapp:ledgerline_print"), {"kind": "in"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


# Lookup ------------------------------------------------------------------------------------------------


def test_lookup_is_scoped_and_bounded(client, personas, school):
    client.force_login(personas["logistics_director"])
    url = reverse("core:lookup", args=["org", "room"])
    response = client.get(url, {"q": "1"}, HTTP_ACCEPT="application/json")
    results = response.json()["results"]
    assert 0 < len(results) <= 20
    assert set(Room.objects.filter(pk__in=[r["id"] for r in results]).values_list("school_id", flat=True)) == {school.pk}
    client.force_login(personas["teacher"])
    assert client.get(reverse("core:lookup", args=["org", "student"]), {"q": "a"}).status_code == 403
    assert client.get(reverse("core:lookup", args=["org", "nothing"])).status_code == 404


def test_entities_can_join_the_global_search(client, personas, school):
    from houqin.org.models import Building

    building = Building.objects.filter(school=school).first()
    client.force_login(personas["logistics_director"])
    data = client.get(reverse("core:search"), {"q": building.name, "format": "json"}).json()
    hits = [h for g in data["groups"] for h in g["hits"]]
    assert any(h[2] == reverse("org:building", args=[building.pk]) for h in hits)


def test_help_texts_are_linked_to_their_inputs(client, personas):
    """Django points aria-describedby at <id>_helptext: the hint element must carry that id."""
    client.force_login(personas["logistics_director"])
    html = client.get(reverse("org:student_add")).content.decode()
    assert 'aria-describedby="id_id_checksum_override_helptext"' in html
    assert 'id="id_id_checksum_override_helptext"' in html
