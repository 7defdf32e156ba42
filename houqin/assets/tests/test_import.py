"""The cut-over from the old ledger (issue 5) and the other asset imports, on the core import machinery."""

import datetime
import io
import os
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from houqin.assets import importing
from houqin.assets.choices import AccountingClass, UseStatus, ValuationType
from houqin.assets.models import Asset, AssetCategory, AssetMovement, LowValueItem
from houqin.assets.services import journal
from houqin.assets.services.cards import category_seed
from houqin.assets.services.common import asset_code_prefix
from houqin.assets.tests.factories import AssetCategoryFactory
from houqin.core import excel
from houqin.core.entities import registry
from houqin.core.importing import run_import, template_columns
from houqin.core.models import AuditEntry
from houqin.org.models import Department, Room, Staff

CUTOVER = datetime.date(2025, 12, 31)


def _xlsx(model, rows: list[dict]):
    """A sheet with the template's headers (in the active language) and one row per dict (by field name)."""
    columns = template_columns(registry[model])
    buf = io.BytesIO()
    excel.write_xlsx(buf, columns=[excel.Column(key=c.key, header=c.header) for c in columns],
                     rows=[[row.get(c.key) for c in columns] for row in rows], sheet_title="sheet")
    buf.seek(0)
    buf.name = "ledger.xlsx"
    return buf


def _header(model, name):
    return str(registry[model].header(name))


@pytest.fixture
def places(school):
    category_seed(school)
    AssetCategory.objects.filter(school=school, code="A02010105").update(legacy_code="2010104")
    rooms = list(Room.objects.filter(school=school).order_by("pk")[:10])
    staff = list(Staff.objects.filter(school=school, status=Staff.Status.ACTIVE).order_by("pk")[:10])
    department = Department.objects.filter(school=school).order_by("pk").first()
    retired = AssetCategoryFactory(code="A05990001", name="旧式铁皮柜", active=False)
    return {"rooms": rooms, "staff": staff, "department": department, "retired": retired}


def _cutover_rows(places) -> list[dict]:
    """50-odd rows like a real 固定资产明细账: computers, a batch of desks, and rows today's rules refuse."""
    rooms, staff = places["rooms"], places["staff"]
    rows = []
    for i in range(45):
        rows.append({"code": f"ZC2015{8000 + i}", "finance_code": f"33010080{i:04d}", "name": "台式计算机",
                     "category": "A02010105", "spec": "联想启天M437", "unit": "台", "quantity": 1,
                     "original_value": Decimal("4850.00"), "acquired_on": datetime.date(2015 + i % 8, 3, 15),
                     "room": rooms[i % len(rooms)].code, "custodian": staff[i % len(staff)].staff_no,
                     "department": places["department"].name,
                     "opening_on": CUTOVER, "opening_depreciation": Decimal("2400.15")})
    rows += [
        # a batch card: 50 desks at ¥400 (each below the threshold, the batch is one card); all three balances
        {"code": "ZC20159001", "finance_code": "330100900001", "name": "学生课桌", "category": "A05010304",
         "unit": "张", "quantity": 50, "original_value": Decimal("20000.00"), "acquired_on": datetime.date(2015, 8, 20),
         "room": rooms[0].code, "opening_on": CUTOVER, "opening_depreciation": Decimal("12000.00"),
         "opening_net_value": Decimal("8000.00")},
        # historic: a ¥800 single item
        {"code": "ZC20129002", "finance_code": "330100900002", "name": "U盘", "category": "A02000000",
         "original_value": Decimal("800.00"), "acquired_on": datetime.date(2012, 5, 4), "custodian": staff[1].staff_no,
         "opening_on": CUTOVER, "opening_net_value": Decimal("0.00")},
        # historic: a ¥1 名义金额 item
        {"code": "ZC20109003", "name": "捐赠钢琴", "category": "A02000000", "original_value": Decimal("1.00"),
         "valuation_type": str(ValuationType.NOMINAL.label), "acquired_on": datetime.date(2010, 9, 1),
         "room": rooms[2].code, "opening_on": CUTOVER, "opening_depreciation": Decimal("0.00")},
        # historic: the old 7-digit GB/T 14885-2010 code, as a number cell
        {"code": "ZC20119004", "finance_code": "330100900004", "name": "台式计算机", "category": 2010104,
         "original_value": Decimal("5200.00"), "acquired_on": datetime.date(2011, 4, 1), "room": rooms[3].code,
         "opening_on": CUTOVER, "opening_depreciation": Decimal("5200.00")},
        # historic: a category no longer in use
        {"code": "ZC20089005", "name": "铁皮柜", "category": places["retired"].code,
         "original_value": Decimal("1200.00"), "acquired_on": datetime.date(2008, 1, 1),
         "opening_on": CUTOVER, "opening_depreciation": Decimal("1200.00"), "opening_net_value": Decimal("0.00")},
        # no code in the old ledger: gets a new number; original value derived from the balances
        {"name": "投影仪", "category": "A02000000", "acquired_on": datetime.date(2020, 6, 1), "room": rooms[4].code,
         "opening_on": CUTOVER, "opening_depreciation": Decimal("3300.50"), "opening_net_value": Decimal("2199.50")},
        # said otherwise: not booked yet
        {"code": "ZC20259006", "name": "笔记本电脑", "category": "A02010108", "original_value": Decimal("6999.00"),
         "acquired_on": datetime.date(2025, 11, 2), "booking": str(Asset.Booking.PENDING.label)},
    ]
    return rows


def _journal_matches(cards):
    for card in cards:
        assert journal.state_from_journal(card) == journal.cached_state(card), card.code


def test_cutover_keeps_codes_and_balances_and_accepts_historic_rows(personas, places, school):
    keeper = personas["asset_keeper"]
    rows = _cutover_rows(places)
    before = Asset.objects.count()
    result = run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=True)
    assert result.ok, [(p.row, p.column, p.message) for p in result.problems]
    assert result.created == len(rows) == 52 and Asset.objects.count() == before + 52

    computer = Asset.objects.get(school=school, code="ZC20158003")
    assert computer.finance_code == "330100800003" and computer.original_value == Decimal("4850.00")
    assert computer.opening_depreciation == Decimal("2400.15") and computer.opening_net_value == Decimal("2449.85")
    assert computer.opening_on == CUTOVER and not computer.historic
    assert computer.booking == Asset.Booking.BOOKED and computer.voucher_no == "期初"
    assert computer.status == UseStatus.IN_USE and computer.custodian.staff_no == places["staff"][3].staff_no
    assert computer.accounting_class == AccountingClass.GENERAL_EQUIPMENT and computer.life_months == 72

    desks = Asset.objects.get(school=school, code="ZC20159001")
    assert desks.quantity == 50 and not desks.historic and desks.opening_net_value == Decimal("8000.00")
    assert desks.status == UseStatus.IN_USE and desks.custodian is None

    historic = {a.code: a for a in Asset.objects.filter(school=school, historic=True, code__startswith="ZC")
                if a.code in ("ZC20129002", "ZC20109003", "ZC20119004", "ZC20089005")}
    assert set(historic) == {"ZC20129002", "ZC20109003", "ZC20119004", "ZC20089005"}
    assert "800.00" in historic["ZC20129002"].historic_warnings
    assert historic["ZC20129002"].opening_depreciation == Decimal("800.00")  # derived from the net value 0
    assert historic["ZC20109003"].valuation_type == ValuationType.NOMINAL
    legacy = historic["ZC20119004"]
    assert legacy.category.code == "A02010105" and legacy.legacy_category_code == "2010104"
    assert "2010104" in legacy.historic_warnings
    assert historic["ZC20089005"].category == places["retired"] and "A05990001" in historic["ZC20089005"].historic_warnings
    # the report names each historic row by its spreadsheet row (header is row 1)
    historic_rows = {48, 49, 50, 51}
    assert len(result.notes) == 4
    for row, note in zip(sorted(historic_rows), result.notes, strict=True):
        assert str(row) in note

    derived = Asset.objects.get(school=school, name="投影仪", opening_on=CUTOVER)
    assert derived.original_value == Decimal("5500.00") and derived.code.startswith(f"{asset_code_prefix(school)}2020")
    pending = Asset.objects.get(school=school, code="ZC20259006")
    assert pending.booking == Asset.Booking.PENDING and pending.voucher_no == "" and pending.status == UseStatus.IN_STORE

    cards = list(Asset.objects.filter(school=school, opening_on__isnull=False, movements__isnull=False).distinct())
    imported = Asset.objects.filter(school=school, pk__gt=0).order_by("-pk")[:52]
    movements = AssetMovement.objects.filter(asset__in=imported)
    assert movements.count() == 52 and set(movements.values_list("kind", flat=True)) == {AssetMovement.Kind.OPENING}
    assert all(m.value_change == m.asset.original_value for m in movements.select_related("asset"))
    assert movements.get(asset=computer).happened_on == CUTOVER
    _journal_matches(imported)
    assert cards


def _openings_by_code(school, actor, rows, *, in_sql: bool, monkeypatch) -> tuple[dict, int, int]:
    """Import ``rows`` (rolled back after) with the openings made in SQL (``_openings_in_sql``, the set-based paths
    on from 3 rows) or from Python; every column of each card's opening but its key and stamp, by card code, and
    the school's journal count as kept by the row-count triggers and as counted."""
    from django.db import transaction

    from houqin.core import bulk
    from houqin.core.rowcount import exact_total

    with monkeypatch.context() as m:
        m.setattr(bulk, "SET_BASED_TRIGGERS_FROM", 3)
        if not in_sql:
            m.setattr(importing, "_openings_in_sql", lambda *a, **k: False)
        made = []
        real = bulk.insert_select
        m.setattr(bulk, "insert_select", lambda *a, **k: made.append(a[0]) or real(*a, **k))
        with transaction.atomic():
            last = AssetMovement.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            result = run_import(registry[Asset], _xlsx(Asset, rows), actor=actor, school=school, commit=True)
            assert result.ok, [(p.row, p.column, p.message) for p in result.problems]
            assert made == ([AssetMovement] if in_sql and bulk.usable_for(AssetMovement) else [])
            names = [f.attname for f in AssetMovement._meta.concrete_fields
                     if f.attname not in ("id", "asset_id", "created_at")]
            journal_rows = {row[0]: row[1:] for row in AssetMovement.objects.filter(
                pk__gt=last, kind=AssetMovement.Kind.OPENING).values_list("asset__code", *names)}
            movements = AssetMovement.objects.filter(school=school)
            counts = (exact_total(movements), movements.count())
            transaction.set_rollback(True)
    return journal_rows, *counts


def test_openings_made_in_sql_are_the_rows_python_makes(personas, places, school, monkeypatch):
    """The cut-over's openings made from the cards as written (one INSERT … SELECT) hold what ``_opening`` gives
    each card, column for column — the generated code, a row without an opening date, the batch card — and the
    journal's kept count follows."""
    rows = _cutover_rows(places)
    in_sql, kept, counted = _openings_by_code(school, personas["asset_keeper"], rows, in_sql=True,
                                              monkeypatch=monkeypatch)
    python, _kept, _counted = _openings_by_code(school, personas["asset_keeper"], rows, in_sql=False,
                                                monkeypatch=monkeypatch)
    assert len(in_sql) == len(rows) == 52
    assert in_sql == python
    assert kept in (None, counted)  # None: not SQLite (no kept counts)


def test_bad_rows_are_refused_with_row_and_column_and_nothing_is_written(personas, places, school):
    keeper = personas["asset_keeper"]
    rows = _cutover_rows(places)[:5]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    rows[1]["room"] = "NO-SUCH-ROOM"                                  # row 3
    rows[2]["custodian"] = "X99999"                                   # row 4
    rows[3]["original_value"] = Decimal("-10.00")                     # row 5
    rows[3]["opening_depreciation"] = None
    rows[4]["acquired_on"] = tomorrow                                 # row 6
    rows.append(dict(rows[0], finance_code="330100999999"))           # row 7: same code as row 2
    rows.append(dict(rows[0], code="ZC20157001", finance_code="", opening_net_value=Decimal("1.00")))  # row 8
    rows.append(dict(rows[0], code="ZC20157002", finance_code="", opening_depreciation=Decimal("5000.00")))  # 9
    rows.append(dict(rows[0], code="ZC20157003", finance_code="", quantity=0))  # row 10
    rows.append(dict(rows[0], code="ZC20157004"))                     # row 11: same finance code as row 2
    rows.append(dict(rows[0], code="ZC20157005", finance_code="", original_value=0))  # row 12
    rows.append(dict(rows[0], code="ZC20157006", finance_code="", category="9999999"))  # row 13
    before = (Asset.objects.count(), AssetMovement.objects.count(), AuditEntry.objects.count())
    result = run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=True)
    found = {(p.row, p.column) for p in result.problems}
    expected = {
        (3, _header(Asset, "room")), (4, _header(Asset, "custodian")), (5, _header(Asset, "original_value")),
        (6, _header(Asset, "acquired_on")), (7, _header(Asset, "code")), (8, _header(Asset, "opening_net_value")),
        (9, _header(Asset, "opening_depreciation")), (10, _header(Asset, "quantity")),
        (11, _header(Asset, "finance_code")), (12, _header(Asset, "original_value")), (13, _header(Asset, "category")),
    }
    assert expected <= found, sorted(found)
    assert 2 not in {p.row for p in result.problems}
    inconsistent = next(p for p in result.problems if p.row == 8)
    for name in ("original_value", "opening_depreciation", "opening_net_value"):
        assert _header(Asset, name) in inconsistent.message
    assert "ZC20158000" not in str(Asset.objects.values_list("code", flat=True))
    assert (Asset.objects.count(), AssetMovement.objects.count(), AuditEntry.objects.count()) == before


def test_finance_code_of_another_card_and_future_opening_date_are_refused(personas, places, school):
    keeper = personas["asset_keeper"]
    rows = _cutover_rows(places)[:1]
    assert run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=True).ok
    later = dict(rows[0], code="ZC20156000", opening_on=timezone.localdate() + datetime.timedelta(days=3))
    result = run_import(registry[Asset], _xlsx(Asset, [later]), actor=keeper, school=school, commit=False)
    assert {(p.row, p.column) for p in result.problems} == {
        (2, _header(Asset, "finance_code")), (2, _header(Asset, "opening_on"))}
    assert "ZC20158000" in next(p.message for p in result.problems if p.column == _header(Asset, "finance_code"))


@pytest.mark.parametrize("scan_from", [5000, 0])  # keys looked up by IN, or the school's keys read at once
def test_reimport_updates_the_card_and_posts_a_movement_only_when_it_moved(personas, places, school, scan_from,
                                                                            monkeypatch):
    from houqin.core import importing as core_importing

    monkeypatch.setattr(core_importing, "KEY_SCAN_FROM", scan_from)
    keeper = personas["asset_keeper"]
    rows = _cutover_rows(places)[:3]
    assert run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=True).ok
    card = Asset.objects.get(school=school, code="ZC20158001")
    card.voucher_no = "记-2026-0012"  # finance booked it meanwhile: a blank voucher cell keeps it
    card.save(update_fields=["voucher_no"])
    new_room = places["rooms"][9]
    rows[1].update(name="台式计算机（教务处）", room=new_room.code)
    rows[2].update(spec="启天M438")
    first = Asset.objects.get(school=school, code=rows[0]["code"])
    audited = AuditEntry.objects.filter(object_id=str(first.pk), content_type__model="asset").count()
    result = run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=True)
    # The first row changes nothing (its 4850 is the stored 4850.00): not written, not audited, counted.
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert AuditEntry.objects.filter(object_id=str(first.pk), content_type__model="asset").count() == audited
    assert Asset.objects.get(pk=first.pk).updated_at == first.updated_at
    card.refresh_from_db()
    assert card.name == "台式计算机（教务处）" and card.room == new_room and card.voucher_no == "记-2026-0012"
    assert Asset.objects.filter(school=school, code="ZC20158001").count() == 1
    kinds = list(card.movements.order_by("id").values_list("kind", flat=True))
    assert kinds == [AssetMovement.Kind.OPENING, AssetMovement.Kind.TRANSFER]
    other = Asset.objects.get(school=school, code="ZC20158002")
    assert other.spec == "启天M438" and other.movements.count() == 1
    _journal_matches(Asset.objects.filter(school=school, code__in=[r["code"] for r in rows]))
    entry = AuditEntry.objects.filter(object_id=str(card.pk), content_type__model="asset").latest("id")
    assert entry.action == AuditEntry.Action.IMPORT and entry.before["room"] == places["rooms"][1].pk


def test_reimport_refuses_to_move_a_lent_card(personas, places, school):
    keeper = personas["asset_keeper"]
    rows = _cutover_rows(places)[:1]
    assert run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=True).ok
    Asset.objects.filter(school=school, code=rows[0]["code"]).update(status=UseStatus.LENT)
    rows[0]["room"] = places["rooms"][8].code
    result = run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=False)
    assert [(p.row, p.column) for p in result.problems] == [(2, _header(Asset, "room"))]


def test_import_through_the_pages_with_preview_warnings_and_one_request_id(client, personas, places, school):
    url = reverse("assets:asset_import")
    client.force_login(personas["teacher"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"file": _xlsx(Asset, _cutover_rows(places))}).status_code == 403
    client.force_login(personas["asset_keeper"])
    response = client.post(url, {"file": _xlsx(Asset, _cutover_rows(places))})
    assert response.status_code == 200, response.content.decode()[-3000:]
    html = response.content.decode()
    for row in (48, 49, 50, 51):
        assert importing.ImportRun(warnings=[(row, "x")]).notes()[0].split("x")[0] in html
    token = response.context["token"]
    assert token and not Asset.objects.filter(school=school, code="ZC20158000").exists()
    response = client.post(url, {"token": token})
    assert response.status_code == 302
    cards = Asset.objects.filter(school=school, code__startswith="ZC2015")
    assert cards.filter(code="ZC20158044").exists()
    imported = Asset.objects.filter(school=school).order_by("-pk")[:52]
    entries = AuditEntry.objects.filter(content_type__model="asset", object_id__in=[str(a.pk) for a in imported],
                                        action=AuditEntry.Action.IMPORT)
    assert entries.count() == 52
    assert len(set(entries.values_list("request_id", flat=True))) == 1 and entries.first().request_id
    assert set(entries.values_list("actor", flat=True)) == {personas["asset_keeper"].pk}
    _journal_matches(imported)


def test_templates_have_the_headers_example_rows_and_choices(client, personas, places):
    client.force_login(personas["asset_keeper"])
    for model, required in ((Asset, {"name", "category", "acquired_on"}),
                            (LowValueItem, {"name", "unit_price", "acquired_on"}),
                            (AssetCategory, {"code", "name", "accounting_class"})):
        entity = registry[model]
        response = client.get(reverse(entity.url_name("import")), {"template": 1})
        assert response.status_code == 200
        sheet = excel.read_sheet(io.BytesIO(b"".join(response.streaming_content)))
        assert sheet.headers == [str(entity.header(n)) for n in entity.import_fields]
        example = dict(zip(entity.import_fields, sheet.rows[0][1], strict=False))
        assert all(example[k] not in (None, "") for k in entity.example_row), example
        assert {c.key for c in template_columns(entity) if c.required} == required
    columns = {c.key: c for c in template_columns(registry[Asset])}
    assert str(ValuationType.NOMINAL.label) in columns["valuation_type"].choices
    assert str(Asset.Booking.BOOKED.label) in columns["booking"].choices
    assert not columns["code"].required  # a blank code gets a new number
    category_columns = {c.key: c for c in template_columns(registry[AssetCategory])}
    assert str(AccountingClass.FURNITURE.label) in category_columns["accounting_class"].choices


def test_category_table_import_resolves_parents_in_the_file_and_updates_seeded_ones(client, personas, places,
                                                                                 school):
    keeper = personas["asset_keeper"]
    rows = [
        {"code": "A02021100", "name": "打印设备", "parent": "A02020000",  # its parent comes two rows later
         "accounting_class": str(AccountingClass.GENERAL_EQUIPMENT.label), "default_life_years": 6,
         "legacy_code": "2020600"},
        {"code": "A02010108", "name": "便携式计算机（笔记本）", "parent": "A02000000",  # seeded: updated in place
         "accounting_class": str(AccountingClass.GENERAL_EQUIPMENT.label), "default_life_years": 6,
         "capitalise_threshold": Decimal("1500.00")},
        {"code": "A02020000", "name": "办公设备", "parent": "A02000000",
         "accounting_class": str(AccountingClass.GENERAL_EQUIPMENT.label), "default_life_years": 6},
    ]
    seeded = AssetCategory.objects.get(school=school, code="A02010108")
    result = run_import(registry[AssetCategory], _xlsx(AssetCategory, rows), actor=keeper, school=school,
                        commit=True)
    assert result.ok, result.problems
    assert (result.created, result.updated) == (2, 1)
    printer = AssetCategory.objects.get(school=school, code="A02021100")
    assert printer.parent.code == "A02020000" and printer.legacy_code == "2020600"
    assert printer.parent.parent.code == "A02000000"
    seeded.refresh_from_db()
    assert seeded.name == "便携式计算机（笔记本）" and seeded.capitalise_threshold == Decimal("1500.00")
    assert AssetCategory.objects.filter(school=school, code="A02010108").count() == 1
    entries = AuditEntry.objects.filter(content_type__model="assetcategory", action=AuditEntry.Action.IMPORT,
                                        object_id__in=[str(printer.pk), str(seeded.pk)])
    assert entries.count() == 2 and entries.get(object_id=str(printer.pk)).after["parent"] == printer.parent_id

    # a parent found neither in the school nor in the file: the check step names its row
    client.force_login(keeper)
    bad = [dict(rows[0], code="A02021200", parent="A09999999")]
    response = client.post(reverse("assets:assetcategory_import"), {"file": _xlsx(AssetCategory, bad)})
    assert "A09999999" in response.content.decode() and not response.context["token"]
    result = run_import(registry[AssetCategory], _xlsx(AssetCategory, bad), actor=keeper, school=school, commit=True)
    assert not result.ok and "A09999999" in result.problems[0].message
    assert not AssetCategory.objects.filter(school=school, code="A02021200").exists()
    # a category cannot be its own parent
    result = run_import(registry[AssetCategory], _xlsx(AssetCategory, [dict(rows[0], parent="A02021100")]),
                        actor=keeper, school=school, commit=False)
    assert [(p.row, p.column) for p in result.problems] == [(2, _header(AssetCategory, "parent"))]


def test_low_value_items_keep_or_get_codes_and_open_in_the_journal(personas, places, school):
    keeper = personas["asset_keeper"]
    rooms, staff = places["rooms"], places["staff"]
    rows = [
        {"code": "DZ2019001", "name": "电风扇", "unit": "台", "quantity": 4, "unit_price": Decimal("180.00"),
         "acquired_on": datetime.date(2019, 6, 1), "room": rooms[0].code, "custodian": staff[0].staff_no},
        {"name": "电水壶", "quantity": 2, "unit_price": Decimal("99.90"), "acquired_on": datetime.date(2022, 9, 1)},
        {"name": "鼠标", "unit_price": Decimal("45.00"), "acquired_on": datetime.date(2022, 9, 1),
         "custodian": "NOBODY"},
    ]
    result = run_import(registry[LowValueItem], _xlsx(LowValueItem, rows), actor=keeper, school=school, commit=True)
    assert [(p.row, p.column) for p in result.problems] == [(4, _header(LowValueItem, "custodian"))]
    rows.pop()
    result = run_import(registry[LowValueItem], _xlsx(LowValueItem, rows), actor=keeper, school=school, commit=True)
    assert result.ok and result.created == 2
    fan = LowValueItem.objects.get(school=school, code="DZ2019001")
    assert fan.status == UseStatus.IN_USE and fan.custodian == staff[0] and fan.search_keys.startswith("dianfengshan")
    kettle = LowValueItem.objects.get(school=school, name="电水壶", acquired_on=datetime.date(2022, 9, 1))
    assert kettle.code.startswith(f"D{asset_code_prefix(school)}2022") and kettle.status == UseStatus.IN_STORE and kettle.unit == "台"
    opening = fan.movements.get()
    assert opening.kind == AssetMovement.Kind.OPENING and opening.value_change == Decimal("720.00")
    _journal_matches([fan, kettle])


@pytest.mark.skipif(not os.environ.get("HOUQIN_BENCH"), reason="benchmark: HOUQIN_BENCH=1 to run")
def test_benchmark_10k_cutover_rows(personas, places, school, capsys):
    """10,000 cut-over rows: validate and write seconds (architecture §3: the write phase holds the lock briefly)."""
    from houqin.core import importing as core_importing

    keeper = personas["asset_keeper"]
    rooms, staff = places["rooms"], places["staff"]
    rows = [{"code": f"BM{i:08d}", "finance_code": f"FC{i:08d}", "name": "台式计算机", "category": "A02010105",
             "original_value": Decimal("4850.00"), "acquired_on": datetime.date(2015 + i % 8, 3, 15),
             "room": rooms[i % len(rooms)].code, "custodian": staff[i % len(staff)].staff_no,
             "opening_on": CUTOVER, "opening_depreciation": Decimal("2400.00"),
             "valuation_type": str(ValuationType.NOMINAL.label) if i % 100 == 0 else None} for i in range(10_000)]
    source = _xlsx(Asset, rows)
    entity = registry[Asset]
    started = time.perf_counter()
    result, new, changed = core_importing.validate(entity, source, actor=keeper, school=school)
    validated = time.perf_counter()
    assert result.ok, result.problems[:5]
    from django.db import transaction

    profile = None
    if os.environ.get("HOUQIN_BENCH") == "profile":
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    with transaction.atomic():
        entity.import_write(new=new, changed=changed, actor=keeper, school=school, result=result)
    written = time.perf_counter()
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    with capsys.disabled():
        print(f"\n10k cut-over rows: validate {validated - started:.2f} s, write {written - validated:.2f} s")
    assert Asset.objects.filter(school=school, code__startswith="BM").count() == 10_000
    assert AssetMovement.objects.filter(asset__code__startswith="BM", asset__school=school).count() == 10_000


def test_cutover_cards_start_from_their_opening_depreciation(personas, places, school):
    rows = _cutover_rows(places)[:3]
    result = run_import(registry[Asset], _xlsx(Asset, rows), actor=personas["asset_keeper"], school=school,
                        commit=True)
    assert result.ok
    computer = Asset.objects.get(school=school, code="ZC20158001")
    assert computer.accumulated_depreciation == Decimal("2400.15") and computer.net_value == Decimal("2449.85")


def test_an_import_dated_into_a_closed_month_is_refused_whole(personas, places, school):
    from houqin.assets.models import AccountingPeriod

    AccountingPeriod.objects.create(school=school, year=CUTOVER.year, month=CUTOVER.month,
                                    status=AccountingPeriod.Status.CLOSED)
    before = Asset.objects.count()
    rows = _cutover_rows(places)[:3]
    result = run_import(registry[Asset], _xlsx(Asset, rows), actor=personas["asset_keeper"], school=school,
                        commit=True)
    assert not result.ok
    text = " ".join(p.message for p in result.problems)
    assert "2025-12" in text and text.count("2025-12") >= 3  # every row named
    assert Asset.objects.count() == before


def test_a_number_in_a_date_column_is_read_as_a_date_or_reported_never_a_server_error(client, personas, places,
                                                                                     school):
    """An old ledger's date cell that lost its date format holds Excel's serial number (46266 is 2026-09-01), or
    20150315 typed as a number; anything else numeric is reported against its row and column."""
    keeper = personas["asset_keeper"]
    rows = _cutover_rows(places)[:3]
    rows[0]["acquired_on"] = 42078  # Excel's serial number of 2015-03-15
    rows[1]["acquired_on"] = 20150316
    rows[2]["acquired_on"] = 123  # 1900-05-02 as a serial: a date, though an odd one; refused by nothing
    rows[2]["in_service_on"] = 7.5  # no date at all
    result = run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=False)
    assert [(p.row, p.column) for p in result.problems] == [(4, _header(Asset, "in_service_on"))]
    assert "2026-09-01" in result.problems[0].message  # says how to write it
    del rows[2]
    assert run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=True).ok
    assert list(Asset.objects.filter(school=school, code__in=[r["code"] for r in rows]).order_by("code")
                .values_list("acquired_on", flat=True)) == [datetime.date(2015, 3, 15), datetime.date(2015, 3, 16)]
    # through the page: the preview lists it by row and column (400, as for any bad row), not a server error
    client.force_login(keeper)
    bad = _cutover_rows(places)[3:4]
    bad[0]["acquired_on"] = 99999999
    response = client.post(reverse("assets:asset_import"), {"file": _xlsx(Asset, bad)})
    assert response.status_code == 400
    html = response.content.decode()
    assert str(_header(Asset, "acquired_on")) in html and ("不是有效的日期" in html or "Not a date" in html)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="insert_select is SQLite's")
def test_insert_select_refuses_unknown_columns_and_a_wrong_count_leaves_nothing(personas, school):
    from django.db import transaction

    from houqin.core import bulk

    card = Asset.objects.filter(school=school).order_by("pk").first()
    given = {"school_id": ("school_id", ()), "asset_id": ("id", ()), "kind": ("%s", ("opening",)),
             "happened_on": ("acquired_on", ()), "status_after": ("status", ())}
    source = ("assets_asset WHERE id = %s", [card.pk])
    with pytest.raises(ValueError, match="no"):
        bulk.insert_select(AssetMovement, {**given, "nonsense": ("1", ())}, *source, 1)
    before = AssetMovement.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        bulk.insert_select(AssetMovement, given, *source, 2)  # one row made, two announced
    assert AssetMovement.objects.count() == before
    with transaction.atomic():
        assert bulk.insert_select(AssetMovement, given, *source, 1) == 1
    made = AssetMovement.objects.order_by("-pk").first()
    assert (made.asset_id, made.kind, made.quantity, made.note, made.status_before) == (card.pk, "opening", 0, "", "")


def test_a_reimported_change_audits_the_stored_values_and_loads_no_related_record_the_file_names(
        personas, places, school):
    """The check of a re-import reads each matched card's values as they are and makes a snapshot only of a card
    that changes (audit.snapshot_reader): its audit entry's "before" is exactly the stored card's snapshot. The
    cards are looked up without the place, custodian, category … the file names anyway (importing
    ._without_related_from_file)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from houqin.core.audit import serialize_for_audit

    keeper = personas["asset_keeper"]
    rows = _cutover_rows(places)[:3]
    assert run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=True).ok
    card = Asset.objects.get(school=school, code=rows[2]["code"])
    stored = serialize_for_audit(card)
    rows[2].update(spec="启天M438（复核）")
    with CaptureQueriesContext(connection) as captured:
        result = run_import(registry[Asset], _xlsx(Asset, rows), actor=keeper, school=school, commit=True)
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 1, 2)
    entry = AuditEntry.objects.filter(object_id=str(card.pk), content_type__model="asset").latest("id")
    assert entry.before == stored
    assert entry.after["spec"] == "启天M438（复核）" and entry.after["code"] == stored["code"]
    # The file's 4850 for the stored 4850.00 is no change: the history shows the spec alone.
    assert entry.after["original_value"] == stored["original_value"] and "spec" in entry.changed_fields
    assert "original_value" not in entry.changed_fields
    from houqin.core.views_entity import history_rows

    (shown,) = history_rows(registry[Asset], [entry])  # the card's 历史 tab
    assert [(c["old"], c["new"]) for c in shown["changes"]] == [("联想启天M437", "启天M438（复核）")]
    lookups = [q["sql"] for q in captured.captured_queries
               if q["sql"].startswith('SELECT "assets_asset"."id"') and '"assets_asset"."code" IN' in q["sql"]]
    assert lookups and not any(" JOIN " in sql for sql in lookups)
