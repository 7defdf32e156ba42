"""The asset journal (AST-3): a random sequence of documents keeps each card's cached state equal to the
journal's, never two open loans on a card; the journal is append-only (no service, page or API edits it)."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houqin.approvals.models import ApprovalPolicy
from houqin.assets.choices import UseStatus
from houqin.assets.models import Asset, AssetDisposal, AssetLoan, AssetMove, AssetMovement, AssetRepair
from houqin.assets.services import cards, documents, journal
from houqin.org.models import Room, Staff, User

from .factories import _category

DAY = datetime.date(2025, 9, 1)
CARDS = 3
ROOMS = 3
PEOPLE = 3

op = st.one_of(
    st.tuples(st.just("transfer"), st.integers(0, CARDS - 1), st.integers(0, ROOMS - 1), st.integers(0, PEOPLE)),
    st.tuples(st.just("return_to_store"), st.integers(0, CARDS - 1)),
    st.tuples(st.just("lend"), st.integers(0, CARDS - 1), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("give_back"), st.integers(0, CARDS - 1)),
    st.tuples(st.just("repair_out"), st.integers(0, CARDS - 1)),
    st.tuples(st.just("repair_back"), st.integers(0, CARDS - 1), st.booleans()),
    st.tuples(st.just("dispose"), st.integers(0, CARDS - 1)),
    st.tuples(st.just("withdraw_disposal"), st.integers(0, CARDS - 1)),
    st.tuples(st.just("write_off"), st.integers(0, CARDS - 1)),
)


class Rollback(Exception):
    pass


def _apply(step, *, school, actor, assets, rooms, people):
    name, i, *rest = step
    asset = Asset.objects.get(pk=assets[i].pk)
    if name == "transfer":
        room, who = rooms[rest[0]], (people[rest[1]] if rest[1] < PEOPLE else None)
        kind = AssetMove.Kind.ISSUE if asset.status == UseStatus.IN_STORE else AssetMove.Kind.TRANSFER
        move = documents.move_create(school=school, actor=actor, kind=kind, assets=[asset], to_room=room,
                                     to_custodian=who)
        documents.move_submit(move=move, actor=actor)
    elif name == "return_to_store":
        move = documents.move_create(school=school, actor=actor, kind=AssetMove.Kind.RETURN, assets=[asset])
        documents.move_submit(move=move, actor=actor)
    elif name == "lend":
        documents.loan_create(school=school, actor=actor, borrower=people[rest[0]], asset=asset)
    elif name == "give_back":
        loan = AssetLoan.objects.filter(asset=asset).order_by("-id").first()
        if loan is None:
            raise ValidationError("no loan")
        documents.loan_return(loan=loan, actor=actor)
    elif name == "repair_out":
        documents.repair_send(school=school, actor=actor, asset=asset, fault="故障")
    elif name == "repair_back":
        repair = AssetRepair.objects.filter(asset=asset).order_by("-id").first()
        if repair is None:
            raise ValidationError("no repair")
        documents.repair_back(repair=repair, actor=actor, repaired=rest[0])
    elif name == "dispose":
        disposal = documents.disposal_create(school=school, actor=actor, assets=[asset], reason="报损",
                                             method=AssetDisposal.Method.WRITE_OFF, decision_ref="纪要")
        documents.disposal_submit(disposal=disposal, actor=actor)
    else:
        disposal = (AssetDisposal.objects.filter(lines__asset=asset, status=AssetDisposal.Status.APPROVED)
                    .order_by("-id").first())
        if disposal is None:
            raise ValidationError("no disposal")
        if name == "write_off":
            documents.disposal_complete(disposal=disposal, actor=actor, approval_doc_no="教财〔2026〕1号")
        else:  # the approval was granted but the school withdraws it: refused, the card stays locked
            documents.disposal_transition(disposal=disposal, name="cancel", actor=actor, note="撤回")


def _check(assets):
    for a in assets:
        a = Asset.objects.get(pk=a.pk)
        assert journal.state_from_journal(a) == journal.cached_state(a), a
        open_loans = AssetLoan.objects.filter(asset=a, status=AssetLoan.Status.OUT).count()
        assert open_loans <= 1
        assert (a.status == UseStatus.LENT) == (open_loans == 1)
        out = AssetRepair.objects.filter(asset=a, status=AssetRepair.Status.OUT).count()
        assert out <= 1 and (a.status == UseStatus.REPAIR) == (out == 1)
        if a.status == UseStatus.DISPOSED:
            assert a.custodian_id is None
        # The journal chains: each row starts where the one before it ended.
        rows = list(a.movements.order_by("id"))
        for before, after in zip(rows, rows[1:], strict=False):
            assert (after.room_before_id, after.department_before_id, after.custodian_before_id,
                    after.status_before) == (before.room_after_id, before.department_after_id,
                                             before.custodian_after_id, before.status_after)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=st.lists(op, min_size=1, max_size=14))
def test_random_documents_keep_cached_state_equal_to_the_journal(school, steps):
    actor = User.objects.get(username="keeper")
    rooms = list(Room.objects.filter(school=school).order_by("pk")[:ROOMS])
    people = list(Staff.objects.filter(school=school, status=Staff.Status.ACTIVE).order_by("pk")[:PEOPLE])
    try:
        with transaction.atomic():
            ApprovalPolicy.objects.filter(school=school).update(active=False)
            assets = [cards.asset_create(school=school, actor=actor, data={
                "name": f"投影仪{i}", "category": _category(), "quantity": 1, "original_value": Decimal("4500"),
                "acquired_on": DAY, "room": rooms[i % ROOMS] if i else None}) for i in range(CARDS)]
            for step in steps:
                try:
                    with transaction.atomic():
                        _apply(step, school=school, actor=actor, assets=assets, rooms=rooms, people=people)
                except ValidationError:
                    pass  # a refusal changes nothing
                except Exception as exc:  # a refused transition (e.g. cancel of an approved disposal)
                    if exc.__class__.__name__ != "TransitionNotAllowed":
                        raise
                _check(assets)
            raise Rollback
    except Rollback:
        pass


ROOT = Path(__file__).resolve().parents[2]
WRITES = re.compile(r"(AssetMovement\.objects|movements)\.[^\n]*\.(update|delete|bulk_update)\(|"
                    r"movement\.(delete|save)\(\s*update_fields")


def test_no_code_path_updates_or_deletes_journal_rows():
    offenders = []
    for path in (ROOT / "houqin").rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WRITES.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_journal_has_no_edit_void_or_delete_page_or_api(client, school, personas):
    keeper = personas["asset_keeper"]
    asset = cards.asset_create(school=school, actor=keeper, data={
        "name": "打印机", "category": _category(), "quantity": 1, "original_value": Decimal("2600"), "acquired_on": DAY})
    row = asset.movements.get()
    client.force_login(keeper)
    assert client.get(f"/assets/journal/{row.pk}/").status_code == 200
    html = client.get(f"/assets/journal/{row.pk}/").content.decode()
    assert f"/assets/journal/{row.pk}/edit/" not in html and "/void/" not in html
    for url in (f"/assets/journal/{row.pk}/edit/", f"/assets/journal/{row.pk}/void/", "/assets/journal/add/"):
        assert client.get(url).status_code in (403, 404, 405)
    api = f"/api/assets/journal/{row.pk}/"
    assert client.get(api).status_code == 200
    assert client.patch(api, {"note": "改"}, content_type="application/json").status_code in (403, 405)
    assert client.put(api, {"note": "改"}, content_type="application/json").status_code in (403, 405)
    assert client.delete(api).status_code in (403, 405)
    assert client.post("/api/assets/journal/", {"kind": "idle"}, content_type="application/json"
                       ).status_code in (403, 405)
    row.refresh_from_db()
    assert row.note == "" and AssetMovement.objects.filter(pk=row.pk).exists()
