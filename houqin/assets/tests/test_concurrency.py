"""Two transfers of one card written from the same state and approved at the same moment: the card's row
lock lets one post; the other is refused with a message and posts nothing (AST-3)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection

from houqin.approvals.models import ApprovalPolicy, ApprovalRequest, ApprovalStep
from houqin.approvals.services import approval_decide, approval_policy_save
from houqin.assets.choices import AccountingClass
from houqin.assets.models import AssetMove, AssetMovement
from houqin.assets.services import cards, documents, journal


def _shared_database() -> bool:
    name = str(connection.settings_dict["NAME"])
    return not (connection.vendor == "sqlite" and (name in (":memory:", "") or "mode=memory" in name))


@pytest.mark.dbsensitive
@pytest.mark.django_db(transaction=True)
def test_two_transfers_of_one_card_approved_at_once_post_exactly_one():
    if not _shared_database():
        pytest.skip("threads need a shared database: runs on PostgreSQL (make test) and file SQLite")
    from django.contrib.auth.models import Group

    from conftest import _seed_if_empty
    from houqin.assets.tests.factories import _category
    from houqin.org.models import Room, School, User

    _seed_if_empty()
    school = School.objects.get(code="3301001")
    keeper = User.objects.get(username="keeper")
    director = User.objects.get(username="director")
    second = User.objects.create_user("director_b", password="x", school=school)
    second.groups.add(Group.objects.get(name="logistics_director"))
    ApprovalPolicy.objects.filter(school=school, document_type="assets.assetmove").update(active=False)
    approval_policy_save(school=school, actor=director, name="并发调拨", document_type="assets.assetmove", active=True,
                         steps=[{"label": "后勤主任审批", "kind": "role", "role_codes": ["logistics_director"],
                                 "min_amount": None}])
    rooms = list(Room.objects.filter(school=school).order_by("pk")[:3])
    asset = cards.asset_create(school=school, actor=keeper, data={
        "name": "多媒体一体机", "category": _category(), "accounting_class": AccountingClass.GENERAL_EQUIPMENT,
        "quantity": 1, "original_value": Decimal("12800"), "room": rooms[0],
        "acquired_on": datetime.date(2025, 9, 1)})
    moves = [documents.move_submit(move=documents.move_create(
        school=school, actor=keeper, kind=AssetMove.Kind.TRANSFER, assets=[asset], to_room=room), actor=keeper)
        for room in rooms[1:]]
    ct = ContentType.objects.get_for_model(AssetMove)
    steps = [ApprovalStep.objects.get(request=ApprovalRequest.objects.get(content_type=ct, object_id=str(m.pk)),
                                      status="pending") for m in moves]
    assert all(m.status == AssetMove.Status.SUBMITTED for m in moves)
    results, barrier = [], threading.Barrier(2)

    def decide(step, user):
        from django.db import connection as conn

        barrier.wait()
        try:
            approval_decide(step=ApprovalStep.objects.get(pk=step.pk), actor=User.objects.get(pk=user.pk),
                            approve=True)
            results.append("ok")
        except ValidationError as exc:
            results.append(" ".join(exc.messages))
        finally:
            conn.close()

    threads = [threading.Thread(target=decide, args=(s, u)) for s, u in zip(steps, (director, second), strict=True)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 2 and results.count("ok") == 1, results
    refusal = next(r for r in results if r != "ok")
    assert asset.code in refusal
    asset.refresh_from_db()
    statuses = sorted(AssetMove.objects.filter(pk__in=[m.pk for m in moves]).values_list("status", flat=True))
    assert statuses == ["done", "submitted"]
    winner = AssetMove.objects.get(pk__in=[m.pk for m in moves], status="done")
    assert asset.room_id == winner.to_room_id
    assert asset.movements.filter(kind=AssetMovement.Kind.TRANSFER).count() == 1
    assert journal.state_from_journal(asset) == journal.cached_state(asset)
    # The losing request is still open: its step can be sent back or the move cancelled by the keeper.
    loser = AssetMove.objects.get(pk__in=[m.pk for m in moves], status="submitted")
    documents.move_transition(move=loser, name="cancel", actor=keeper, note="已被另一张调拨单调走")
    loser.refresh_from_db()
    assert loser.status == AssetMove.Status.CANCELLED
    assert asset.movements.filter(kind=AssetMovement.Kind.TRANSFER).count() == 1
