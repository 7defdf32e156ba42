"""AST-4 stocktake (domain-rules.md §2.6): start, every scan outcome, refusals, idempotent and replayed scans,
finish, the 盘盈盘亏 report, approval posting (place corrections, the draft 盘亏 disposal, written-off
items), send back and recount, timing of start + reconciliation, and the pages (permissions, JSON, photo
decoding, PDF and Excel)."""

import datetime
import json
import os
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from houqin.assets.choices import AccountingClass, UseStatus
from houqin.assets.models import Asset, AssetDisposal, AssetMovement, LowValueItem, Stocktake, StocktakeLine
from houqin.assets.models.stocktake import StocktakeScan
from houqin.assets.services import documents, journal
from houqin.assets.services import stocktake as st
from houqin.org.models import Building, Department, Room

from .factories import AssetFactory, LowValueItemFactory, _category

R = StocktakeLine.Result
TODAY = timezone.localdate()


@pytest.fixture
def site(school):
    """A building of its own with three rooms, and a room in another building."""
    building = Building.objects.create(school=school, code="PDT", name="盘点测试楼")
    other = Building.objects.create(school=school, code="PDX", name="别的楼")
    rooms = [Room.objects.create(school=school, building=building, code=f"PD-10{i}", name=f"测试室{i}")
             for i in range(1, 4)]
    outside = Room.objects.create(school=school, building=other, code="PX-101", name="别的楼教室")
    return {"building": building, "rooms": rooms, "outside": outside}


@pytest.fixture
def keeper(personas):
    return personas["asset_keeper"]


@pytest.fixture
def director(personas):
    return personas["logistics_director"]


def _plan(school, keeper, site, **extra):
    data = {"title": "期末盘点", "planned_on": TODAY, "scope": Stocktake.Scope.BUILDING,
            "building": site["building"]}
    data.update(extra)
    return st.stocktake_plan(school=school, actor=keeper, **data)


@pytest.fixture
def counting(school, keeper, site):
    """A building stocktake started over: two single cards in room 1, a batch of 50 chairs in room 2, a
    low-value item in room 1, one card in room 3, one card of the other building (out of scope)."""
    r1, r2, r3 = site["rooms"]
    assets = {
        "pc1": AssetFactory(code="PDA0001", room=r1),
        "pc2": AssetFactory(code="PDA0002", room=r1),
        "chairs": AssetFactory(code="PDA0003", room=r2, name="学生椅", quantity=50, unit="把",
                               category=_category("A05010304"), accounting_class=AccountingClass.FURNITURE,
                               original_value=Decimal("15000.00")),
        "pc3": AssetFactory(code="PDA0004", room=r3),
        "far": AssetFactory(code="PDA0005", room=site["outside"]),
    }
    item = LowValueItemFactory(code="PDD0001", room=r1, quantity=1)
    stocktake = _plan(school, keeper, site)
    st.stocktake_start(stocktake=stocktake, actor=keeper)
    return {"stocktake": stocktake, "item": item, **assets, **site}


def _line(stocktake, code, **extra):
    return StocktakeLine.objects.get(stocktake=stocktake, code=code, **extra)


# Start ------------------------------------------------------------------------------------------------------------
def test_start_writes_an_expected_line_per_card_and_item_of_the_scope(counting):
    stocktake = counting["stocktake"]
    stocktake.refresh_from_db()
    assert stocktake.status == Stocktake.Status.COUNTING and stocktake.started_at
    lines = {line.code: line for line in stocktake.lines.all()}
    assert set(lines) == {"PDA0001", "PDA0002", "PDA0003", "PDA0004", "PDD0001"}  # not the other building's
    assert lines["PDA0003"].book_quantity == 50 and lines["PDA0003"].book_room == counting["rooms"][1]
    assert lines["PDD0001"].item_id == counting["item"].pk and lines["PDD0001"].asset_id is None
    assert all(line.result == R.PENDING for line in lines.values())


def test_start_by_department_and_disposed_cards_left_out(school, keeper, site):
    dept = Department.objects.filter(school=school).order_by("pk").first()
    mine = AssetFactory(code="PDB0001", room=site["rooms"][0], department=dept)
    gone = AssetFactory(code="PDB0002", room=site["rooms"][0], department=dept)
    journal.post(gone, kind=AssetMovement.Kind.DISPOSE, actor=keeper, status=UseStatus.DISPOSED)
    stocktake = _plan(school, keeper, site, scope=Stocktake.Scope.DEPARTMENT, department=dept, building=None)
    st.stocktake_start(stocktake=stocktake, actor=keeper)
    codes = set(stocktake.lines.values_list("code", flat=True))
    assert mine.code in codes and gone.code not in codes
    assert not codes - set(Asset.objects.filter(department=dept).values_list("code", flat=True)) - set(
        LowValueItem.objects.filter(department=dept).values_list("code", flat=True))


def test_start_refused_twice_and_without_permission(counting, personas):
    with pytest.raises(ValidationError, match="Start counting|开始盘点"):
        st.stocktake_start(stocktake=counting["stocktake"], actor=personas["asset_keeper"])
    fresh = st.stocktake_plan(school=counting["stocktake"].school, actor=personas["asset_keeper"], title="再盘",
                              planned_on=TODAY)
    with pytest.raises(ValidationError):
        st.stocktake_start(stocktake=fresh, actor=personas["teacher"])
    fresh.refresh_from_db()
    assert fresh.status == Stocktake.Status.PLANNED and not fresh.lines.exists()


# Scans ------------------------------------------------------------------------------------------------------------
def test_a_card_in_its_book_room_is_found(counting, keeper):
    r1 = counting["rooms"][0]
    result = st.stocktake_scan(stocktake=counting["stocktake"], code="PDA0001", room=r1, counted_by=keeper)
    assert result.outcome == R.FOUND and not result.again
    assert "PDA0001" in result.message
    line = _line(counting["stocktake"], "PDA0001")
    assert (line.result, line.found_room, line.found_quantity, line.counted_by) == (R.FOUND, r1, 1, keeper)


def test_a_card_in_another_room_is_found_elsewhere(counting, keeper):
    r2 = counting["rooms"][1]
    result = st.stocktake_scan(stocktake=counting["stocktake"], code="PDA0002", room=r2, counted_by=keeper)
    assert result.outcome == R.MOVED
    line = _line(counting["stocktake"], "PDA0002")
    assert line.found_room == r2 and line.book_room == counting["rooms"][0]


def test_a_batch_card_is_counted_by_quantity_per_room(counting, keeper):
    stocktake, (r1, r2, _r3) = counting["stocktake"], counting["rooms"]
    asked = st.stocktake_scan(stocktake=stocktake, code="PDA0003", room=r2, counted_by=keeper)
    assert asked.need_quantity and not asked.recorded and asked.extra["book_quantity"] == 50
    assert not StocktakeScan.objects.filter(stocktake=stocktake).exists()
    short = st.stocktake_scan(stocktake=stocktake, code="PDA0003", room=r2, counted_by=keeper, quantity=45)
    assert short.outcome == R.SHORT and "45" in short.message and "50" in short.message
    # The rest are in room 1: the rooms add up to the book quantity; most are in the book room.
    found = st.stocktake_scan(stocktake=stocktake, code="PDA0003", room=r1, counted_by=keeper, quantity=5)
    assert found.outcome == R.FOUND
    line = _line(stocktake, "PDA0003")
    assert line.found_quantity == 50 and line.found_room == r2 and "PD-102 ×45" in line.note
    # A corrected count for a room replaces that room's count, it is not added.
    again = st.stocktake_scan(stocktake=stocktake, code="PDA0003", room=r2, counted_by=keeper, quantity=40)
    assert again.outcome == R.SHORT and _line(stocktake, "PDA0003").found_quantity == 45


def test_an_unknown_code_is_recorded_as_unexpected_never_lost(counting, keeper):
    r1 = counting["rooms"][0]
    result = st.stocktake_scan(stocktake=counting["stocktake"], code="  OLD-LABEL-77 ", room=r1, counted_by=keeper)
    assert result.outcome == R.SURPLUS and "OLD-LABEL-77" in result.message
    line = _line(counting["stocktake"], "OLD-LABEL-77")
    assert line.asset_id is None and line.found_room == r1 and line.found_quantity == 1
    scan = StocktakeScan.objects.get(line=line)
    assert (scan.code, scan.room, scan.outcome) == ("OLD-LABEL-77", r1, R.SURPLUS)
    # Twice in the same room: one line; in another room: a line of its own.
    st.stocktake_scan(stocktake=counting["stocktake"], code="OLD-LABEL-77", room=r1, counted_by=keeper)
    st.stocktake_scan(stocktake=counting["stocktake"], code="OLD-LABEL-77", room=counting["rooms"][1],
                      counted_by=keeper)
    assert StocktakeLine.objects.filter(stocktake=counting["stocktake"], code="OLD-LABEL-77").count() == 2


def test_a_card_outside_the_scope_is_unexpected_with_its_book_place(counting, keeper):
    result = st.stocktake_scan(stocktake=counting["stocktake"], code="PDA0005", room=counting["rooms"][0],
                               counted_by=keeper)
    assert result.outcome == R.SURPLUS
    line = _line(counting["stocktake"], "PDA0005")
    assert line.asset == counting["far"] and line.book_room == counting["outside"] and "PX-101" in line.note


def test_scanning_twice_changes_nothing(counting, keeper):
    r1 = counting["rooms"][0]
    st.stocktake_scan(stocktake=counting["stocktake"], code="PDA0001", room=r1, counted_by=keeper)
    before = StocktakeLine.objects.filter(stocktake=counting["stocktake"]).values_list(
        "code", "result", "found_room", "found_quantity")
    before = sorted(before)
    second = st.stocktake_scan(stocktake=counting["stocktake"], code="PDA0001", room=r1, counted_by=keeper)
    assert second.again and second.outcome == R.FOUND
    assert sorted(StocktakeLine.objects.filter(stocktake=counting["stocktake"]).values_list(
        "code", "result", "found_room", "found_quantity")) == before
    assert st.progress(counting["stocktake"])["counted"] == 1


def test_a_replayed_queued_scan_is_recorded_once(counting, keeper):
    stocktake, (r1, r2, _r3) = counting["stocktake"], counting["rooms"]
    st.stocktake_scan(stocktake=stocktake, code="PDA0001", room=r2, counted_by=keeper, client_id="c-1")
    st.stocktake_scan(stocktake=stocktake, code="PDA0001", room=r1, counted_by=keeper, client_id="c-2")
    # The phone resends c-1 after the network came back: it must not put the card back in room 2.
    replay = st.stocktake_scan(stocktake=stocktake, code="PDA0001", room=r2, counted_by=keeper, client_id="c-1")
    assert replay.replayed and replay.outcome == R.MOVED  # what it did the first time
    assert StocktakeScan.objects.filter(stocktake=stocktake, client_id="c-1").count() == 1
    line = _line(stocktake, "PDA0001")
    assert (line.result, line.found_room) == (R.FOUND, r1)


def test_scans_refused_with_a_message(counting, keeper, school, site):
    stocktake, r1 = counting["stocktake"], counting["rooms"][0]
    with pytest.raises(ValidationError) as caught:
        st.stocktake_scan(stocktake=stocktake, code="   ", room=r1, counted_by=keeper)
    assert "code" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        st.stocktake_scan(stocktake=stocktake, code="PDA0001", room=None, counted_by=keeper)
    assert "room" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        st.stocktake_scan(stocktake=stocktake, code="X" * 61, room=r1, counted_by=keeper)
    assert "60" in caught.value.message_dict["code"][0]
    with pytest.raises(ValidationError) as caught:
        st.stocktake_scan(stocktake=stocktake, code="PDA0003", room=r1, counted_by=keeper, quantity=-1)
    assert "quantity" in caught.value.message_dict
    planned = _plan(school, keeper, site)
    with pytest.raises(ValidationError) as caught:
        st.stocktake_scan(stocktake=planned, code="PDA0001", room=r1, counted_by=keeper)
    assert planned.number in caught.value.messages[0]
    st.stocktake_finish(stocktake=stocktake, actor=keeper)
    with pytest.raises(ValidationError, match=stocktake.number):
        st.stocktake_scan(stocktake=stocktake, code="PDA0001", room=r1, counted_by=keeper)
    assert not StocktakeScan.objects.filter(stocktake=stocktake).exists()


def test_a_count_of_zero_takes_a_count_back(counting, keeper):
    stocktake, r2 = counting["stocktake"], counting["rooms"][1]
    st.stocktake_scan(stocktake=stocktake, code="PDA0003", room=r2, counted_by=keeper, quantity=50)
    st.stocktake_scan(stocktake=stocktake, code="PDA0003", room=r2, counted_by=keeper, quantity=0)
    line = _line(stocktake, "PDA0003")
    assert (line.result, line.found_room, line.found_quantity) == (R.PENDING, None, 0)


# Finish, report -------------------------------------------------------------------------------------------------
def _count_everything(counting, keeper):
    """found pc1 + item, pc2 found in room 2 (moved), 45 of 50 chairs (short), pc3 missing, one unknown code."""
    stocktake, (r1, r2, _r3) = counting["stocktake"], counting["rooms"]
    for code, room, quantity in (("PDA0001", r1, None), ("PDD0001", r1, None), ("PDA0002", r2, None),
                                 ("PDA0003", r2, 45), ("NEW-0001", r2, None)):
        st.stocktake_scan(stocktake=stocktake, code=code, room=room, counted_by=keeper, quantity=quantity)
    st.stocktake_finish(stocktake=stocktake, actor=keeper)
    return stocktake


def test_finish_marks_what_was_not_counted_missing_and_the_report_adds_up(counting, keeper):
    stocktake = _count_everything(counting, keeper)
    stocktake.refresh_from_db()
    assert stocktake.status == Stocktake.Status.SUBMITTED and stocktake.finished_at
    assert _line(stocktake, "PDA0004").result == R.MISSING
    summary = st.report_summary(stocktake)
    by = summary["by_result"]
    assert {r: by[r]["count"] for r in (R.FOUND, R.MOVED, R.SHORT, R.MISSING, R.SURPLUS)} == {
        R.FOUND: 2, R.MOVED: 1, R.SHORT: 1, R.MISSING: 1, R.SURPLUS: 1}
    assert by[R.MISSING]["difference"] == Decimal("-5200.00")
    assert by[R.SHORT]["difference"] == Decimal("-1500.00")  # 5 chairs at 15,000 / 50
    assert summary["loss"] == Decimal("-6700.00") and summary["expected"] == 5
    lines = {line["code"]: line for line in st.report_lines(stocktake)}
    assert lines["PDA0003"]["difference"] == Decimal("-1500.00") and lines["NEW-0001"]["difference"] is None
    assert lines["PDA0002"]["found_room"].startswith("PD-102")
    assert [line["result"] for line in st.report_lines(stocktake, results=[R.MISSING])] == [R.MISSING]


def test_a_lent_card_not_found_is_missing_with_a_note_and_kept_off_the_disposal(counting, keeper, director):
    documents.loan_create(school=counting["stocktake"].school, actor=keeper, asset=counting["pc3"],
                          borrower=keeper.staff_or_none)
    stocktake = counting["stocktake"]
    st.stocktake_finish(stocktake=stocktake, actor=keeper)
    line = _line(stocktake, "PDA0004")
    assert line.result == R.MISSING and line.note
    result = st.stocktake_approve(stocktake=stocktake, actor=director)
    assert any("PDA0004" in text for text in result.not_disposed)
    assert result.disposal is not None
    assert not result.disposal.lines.filter(asset=counting["pc3"]).exists()


# Approval -------------------------------------------------------------------------------------------------------
def test_approval_corrects_places_drafts_the_loss_disposal_and_keeps_the_journal_true(counting, keeper, director):
    stocktake = _count_everything(counting, keeper)
    with pytest.raises(ValidationError):
        st.stocktake_approve(stocktake=stocktake, actor=keeper)  # a keeper counts, the director approves
    result = st.stocktake_approve(stocktake=stocktake, actor=director)
    stocktake.refresh_from_db()
    assert stocktake.status == Stocktake.Status.APPROVED and stocktake.approved_at
    pc2 = Asset.objects.get(pk=counting["pc2"].pk)
    assert pc2.room == counting["rooms"][1] and result.moved == 1
    movement = pc2.movements.order_by("-id").first()
    assert movement.kind == AssetMovement.Kind.STOCKTAKE and stocktake.number in movement.document
    assert movement.room_before == counting["rooms"][0]
    disposal = result.disposal
    assert stocktake.disposal == disposal
    assert disposal.status == AssetDisposal.Status.DRAFT and disposal.method == AssetDisposal.Method.WRITE_OFF
    assert list(disposal.lines.values_list("asset__code", flat=True)) == ["PDA0004"]
    assert "盘亏" in disposal.reason and stocktake.number in disposal.reason
    assert result.short == ["PDA0003 (45/50)"] and result.surplus == ["NEW-0001"]
    for asset in Asset.objects.filter(code__startswith="PDA"):
        assert journal.state_from_journal(asset) == journal.cached_state(asset), asset.code
    item = LowValueItem.objects.get(pk=counting["item"].pk)
    assert journal.state_from_journal(item) == journal.cached_state(item)


def test_approval_writes_off_missing_low_value_items(counting, keeper, director):
    stocktake = counting["stocktake"]
    st.stocktake_finish(stocktake=stocktake, actor=keeper)
    result = st.stocktake_approve(stocktake=stocktake, actor=director)
    item = LowValueItem.objects.get(pk=counting["item"].pk)
    assert result.items_written_off == 1 and item.status == UseStatus.DISPOSED
    assert journal.state_from_journal(item) == journal.cached_state(item)


def test_approval_leaves_a_card_moved_by_a_document_since_the_count(counting, keeper, director):
    stocktake, (_r1, r2, r3) = counting["stocktake"], counting["rooms"]
    st.stocktake_scan(stocktake=stocktake, code="PDA0002", room=r2, counted_by=keeper)
    move = documents.move_create(school=stocktake.school, actor=keeper, kind="transfer", assets=[counting["pc2"]],
                                 to_room=r3)
    documents.move_submit(move=move, actor=keeper)  # no approval policy: posted at once
    st.stocktake_finish(stocktake=stocktake, actor=keeper)
    result = st.stocktake_approve(stocktake=stocktake, actor=director)
    assert result.moved == 0 and any("PDA0002" in text for text in result.kept)
    assert Asset.objects.get(pk=counting["pc2"].pk).room == r3


def test_reject_then_recount_opens_the_missing_lines_again(counting, keeper, director):
    stocktake = _count_everything(counting, keeper)
    with pytest.raises(ValidationError):
        st.stocktake_reject(stocktake=stocktake, actor=director, note="")
    st.stocktake_reject(stocktake=stocktake, actor=director, note="三楼没有盘")
    stocktake.refresh_from_db()
    assert stocktake.status == Stocktake.Status.REJECTED
    st.stocktake_recount(stocktake=stocktake, actor=keeper)
    stocktake.refresh_from_db()
    assert stocktake.status == Stocktake.Status.COUNTING and stocktake.finished_at is None
    assert _line(stocktake, "PDA0004").result == R.PENDING
    assert _line(stocktake, "PDA0001").result == R.FOUND  # what was counted stays
    result = st.stocktake_scan(stocktake=stocktake, code="PDA0004", room=counting["rooms"][2], counted_by=keeper)
    assert result.outcome == R.FOUND


# Timing ---------------------------------------------------------------------------------------------------------
def _generate(school, building, n: int) -> None:
    rooms = [Room(school=school, building=building, code=f"PT-{i:03d}", name=f"计时室{i}") for i in range(50)]
    Room.objects.bulk_create(rooms)
    rooms = list(Room.objects.filter(building=building))
    category = _category()
    Asset.objects.bulk_create([
        Asset(school=school, code=f"PT{i:07d}", name="计时电脑", category=category,
              accounting_class=AccountingClass.GENERAL_EQUIPMENT, original_value=Decimal("3000.00"),
              acquired_on=TODAY - datetime.timedelta(days=400), room=rooms[i % len(rooms)], status=UseStatus.IN_USE,
              quantity=1 if i % 100 else 20)
        for i in range(n)], batch_size=2000)


def test_start_and_reconciliation_of_10000_assets_are_set_based(school, keeper, director, capsys):
    building = Building.objects.create(school=school, code="PTB", name="计时楼")
    n = int(os.environ.get("HOUQIN_STOCKTAKE_BENCH_N", "10000"))  # e.g. 100000 for the figure
    _generate(school, building, n)
    stocktake = st.stocktake_plan(school=school, actor=keeper, title="计时", planned_on=TODAY,
                                  scope=Stocktake.Scope.BUILDING, building=building)
    t0 = time.perf_counter()
    st.stocktake_start(stocktake=stocktake, actor=keeper)
    started = time.perf_counter() - t0
    assert stocktake.lines.count() == n
    # Count a tenth (in bulk, as the scans would leave them), then reconcile.
    ids = list(stocktake.lines.values_list("id", flat=True)[: n // 10])
    StocktakeLine.objects.filter(id__in=ids).update(result=R.FOUND, found_quantity=1)
    t0 = time.perf_counter()
    st.stocktake_finish(stocktake=stocktake, actor=keeper)
    summary = st.report_summary(stocktake)
    reconciled = time.perf_counter() - t0
    assert summary["by_result"][R.MISSING]["count"] == n - n // 10
    with capsys.disabled():
        print(f"\nstocktake of {n:,} assets: start {started:.3f} s, finish + 盘盈盘亏 summary {reconciled:.3f} s "
              f"(×10 for 100,000: ~{started * 10:.1f} s / ~{reconciled * 10:.1f} s)")
    assert started < max(1.0, n / 50_000) and reconciled < max(1.0, n / 50_000)


# Pages ----------------------------------------------------------------------------------------------------------
def _png(text: str) -> bytes:
    import io

    import segno

    out = io.BytesIO()
    segno.make(text, micro=False).save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def test_a_teacher_gets_403_on_every_stocktake_page(counting, login, personas):
    client = login(personas["teacher"])
    pk = counting["stocktake"].pk
    for name, method in (("stocktake_count", "get"), ("stocktake_count_room", "get"), ("stocktake_scan", "post"),
                         ("stocktake_decode", "post"), ("stocktake_start", "post"), ("stocktake_finish", "post"),
                         ("stocktake_approve", "post"), ("stocktake_reject", "get"), ("stocktake_report", "get"),
                         ("stocktake_report_print", "get"), ("stocktake_report_export", "get")):
        response = getattr(client, method)(reverse(f"assets:{name}", args=[pk]))
        assert response.status_code in (403, 404), name
        assert response.status_code == 403 or name.startswith("stocktake_report"), name
    assert client.get(reverse("assets:stocktake_count_index")).status_code == 403
    assert client.get(reverse("assets:stocktake", args=[pk])).status_code == 403


def test_a_keeper_cannot_approve_and_a_counter_scans_through_json(counting, login, personas):
    stocktake, r1 = counting["stocktake"], counting["rooms"][0]
    client = login(personas["asset_keeper"])
    page = client.get(reverse("assets:stocktake_count", args=[stocktake.pk]))
    assert page.status_code == 200 and b"code-input" in page.content
    room = client.get(reverse("assets:stocktake_count_room", args=[stocktake.pk]), {"room": "ROOM:PD-101"}).json()
    assert room["room"]["code"] == "PD-101" and room["counts"]["expected"] == 3
    assert {line["code"] for line in room["lines"]} == {"PDA0001", "PDA0002", "PDD0001"}
    bad = client.get(reverse("assets:stocktake_count_room", args=[stocktake.pk]), {"room": "NOPE"})
    assert bad.status_code == 400 and "NOPE" in bad.json()["errors"]["room"][0]
    url = reverse("assets:stocktake_scan", args=[stocktake.pk])
    body = {"code": "PDA0001", "room": r1.pk, "client_id": "x-1"}
    data = client.post(url, json.dumps(body), content_type="application/json").json()
    assert data["outcome"] == "found" and data["counts"]["found"] == 1 and data["line"]["here"]
    again = client.post(url, json.dumps(body), content_type="application/json").json()
    assert again["replayed"]
    batch = client.post(url, json.dumps({"code": "PDA0003", "room": r1.pk}), content_type="application/json").json()
    assert batch["need_quantity"] and batch["book_quantity"] == 50
    switch = client.post(url, json.dumps({"code": "ROOM:PD-102", "room": r1.pk}),
                         content_type="application/json").json()
    assert switch["switch_room"] and switch["room"]["code"] == "PD-102"
    for quantity in ("1.5", "Infinity", "-Infinity", "NaN", "sNaN", "x", "1e999999", "1e999999999", 10**30):
        wrong = client.post(url, json.dumps({"code": "PDA0001", "room": r1.pk, "quantity": quantity}),
                            content_type="application/json")
        assert wrong.status_code == 400 and "quantity" in wrong.json()["errors"], quantity
    response = client.post(reverse("assets:stocktake_approve", args=[stocktake.pk]))
    assert response.status_code == 403


def test_a_photo_of_a_label_is_decoded_on_the_server(counting, login, personas):
    import io

    client = login(personas["asset_keeper"])
    url = reverse("assets:stocktake_decode", args=[counting["stocktake"].pk])
    photo = io.BytesIO(_png("PDA0002"))
    photo.name = "label.png"
    data = client.post(url, {"photo": photo}).json()
    assert data["codes"] == [{"text": "PDA0002", "format": "QRCode"}]
    junk = io.BytesIO(b"not an image")
    junk.name = "x.jpg"
    response = client.post(url, {"photo": junk})
    assert response.status_code == 400 and response.json()["errors"]["photo"]


def test_detail_actions_report_pdf_and_excel(counting, login, personas):
    keeper, director = personas["asset_keeper"], personas["logistics_director"]
    stocktake = _count_everything(counting, keeper)
    client = login(director)
    detail = client.get(reverse("assets:stocktake", args=[stocktake.pk]))
    assert detail.status_code == 200
    assert reverse("assets:stocktake_approve", args=[stocktake.pk]).encode() in detail.content
    report = client.get(reverse("assets:stocktake_report", args=[stocktake.pk]))
    assert report.status_code == 200 and b"NEW-0001" in report.content
    assert b"/assets/cards/add/?code=NEW-0001" in report.content  # register the unexpected code
    pdf = client.get(reverse("assets:stocktake_report_print", args=[stocktake.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx = client.get(reverse("assets:stocktake_report_export", args=[stocktake.pk]))
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content).startswith(b"PK")
    reject = client.post(reverse("assets:stocktake_reject", args=[stocktake.pk]), {"note": ""})
    assert reject.status_code == 400
    response = client.post(reverse("assets:stocktake_approve", args=[stocktake.pk]))
    assert response.status_code == 302
    stocktake.refresh_from_db()
    assert stocktake.status == Stocktake.Status.APPROVED and stocktake.disposal_id


def test_a_stocktake_planned_for_today_shows_on_the_dashboard_widget(school, keeper, site, login, personas):
    from django.test import RequestFactory

    from houqin.assets import selectors

    _plan(school, keeper, site, planned_on=TODAY - datetime.timedelta(days=1))
    request = RequestFactory().get("/")
    request.user = personas["logistics_director"]
    widget = selectors.value_by_category_widget(request)
    assert widget["stocktakes"] >= 1
    assert st.due_for_stocktake(school.pk).exists()
    client = login(personas["logistics_director"])
    assert client.get(widget["links"]["stocktakes"]).status_code == 200
