"""The asset journal (AST-3): every change of place, custodian or status is a movement row.

A card's ``room``, ``department``, ``custodian`` and ``status`` are a cache of its latest movement,
written in the same transaction as the movement (architecture §3: balances derived from movements).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from houqin.core.audit import audit_bulk, audit_record, serialize_for_audit
from houqin.core.models import AuditEntry

from ..choices import UseStatus
from ..models import Asset, AssetMovement, LowValueItem
from . import periods

KEEP = object()
STATE_FIELDS = ("room", "department", "custodian", "status")


def _subject_kwargs(subject) -> dict:
    return {"asset": subject} if isinstance(subject, Asset) else {"item": subject}


def build_movement(subject, *, kind: str, actor, on: datetime.date | None = None, room=KEEP, department=KEEP,
                   custodian=KEEP, status=KEEP, quantity: int | None = None, value_change=0, document: str = "",
                   document_url: str = "", note: str = "") -> AssetMovement:
    """Make (not save) a movement for ``subject`` and apply its ``after`` state to ``subject`` in memory."""
    before = {"room": subject.room_id, "department": subject.department_id, "custodian": subject.custodian_id,
              "status": subject.status}
    after = dict(before)
    for name, value in (("room", room), ("department", department), ("custodian", custodian)):
        if value is not KEEP:
            after[name] = getattr(value, "pk", value)
    if status is not KEEP:
        after["status"] = status
    movement = AssetMovement(
        school_id=subject.school_id, kind=kind, happened_on=on or timezone.localdate(),
        quantity=subject.quantity if quantity is None else quantity, value_change=value_change,
        room_before_id=before["room"], room_after_id=after["room"],
        department_before_id=before["department"], department_after_id=after["department"],
        custodian_before_id=before["custodian"], custodian_after_id=after["custodian"],
        status_before=before["status"], status_after=after["status"],
        document=document[:60], document_url=document_url[:200], note=(note or "")[:200],
        actor=actor if getattr(actor, "pk", None) else None, **_subject_kwargs(subject),
    )
    subject.room_id, subject.department_id = after["room"], after["department"]
    subject.custodian_id, subject.status = after["custodian"], after["status"]
    if isinstance(subject, Asset) and after["status"] != before["status"]:
        # The run skips a card in the month it leaves the books (当月减少当月不提, domain-rules.md §2.3).
        subject.disposed_on = movement.happened_on if after["status"] == UseStatus.DISPOSED else None
    return movement


def _update_fields(subject) -> list[str]:
    fields = [*(f"{f}_id" if f != "status" else f for f in STATE_FIELDS), "updated_at"]
    return [*fields, "disposed_on"] if isinstance(subject, Asset) else fields


@transaction.atomic
def post(subject, *, kind: str, actor, audit_message: str = "", **changes) -> AssetMovement:
    """Post one movement and update the card's cached state, audited, in one transaction.

    The caller holds a lock on ``subject`` (``lock``) when the change depends on its current state.
    """
    periods.assert_open(subject.school_id, changes.get("on") or timezone.localdate())
    before = serialize_for_audit(subject)
    movement = build_movement(subject, kind=kind, actor=actor, **changes)
    movement.save()
    subject.save(update_fields=_update_fields(subject))
    audit_record(obj=subject, action=AuditEntry.Action.UPDATE, actor=actor, before=before,
                 after=serialize_for_audit(subject),
                 message=audit_message or f"{movement.get_kind_display()} {movement.document}".strip())
    return movement


def post_many(subjects: list, *, kind: str, actor, audit_message: str = "", **changes) -> list[AssetMovement]:
    """Post the same change to many cards or items with bulk writes (stocktakes, handovers, imports)."""
    if not subjects:
        return []
    periods.assert_open(subjects[0].school_id, changes.get("on") or timezone.localdate())
    with transaction.atomic():
        befores = [serialize_for_audit(s) for s in subjects]
        movements = [build_movement(s, kind=kind, actor=actor, **changes) for s in subjects]
        AssetMovement.objects.bulk_create(movements, batch_size=1000)
        now = timezone.now()
        for s in subjects:
            s.updated_at = now
        model = type(subjects[0])
        fields = [*STATE_FIELDS, "updated_at", *(["disposed_on"] if model is Asset else [])]
        model.objects.bulk_update(subjects, fields, batch_size=1000)
        audit_bulk([(s, AuditEntry.Action.UPDATE, b, serialize_for_audit(s)) for s, b in zip(subjects, befores, strict=False)],
                   actor=actor, message=audit_message or movements[0].get_kind_display())
    return movements


def record_initial(subject, *, kind: str, actor, on: datetime.date | None = None, value_change=0,
                   document: str = "", note: str = "") -> AssetMovement:
    """The first journal row of a card or item just created with its place and custodian (audited as the
    create itself): before = nothing, after = the row as saved."""
    periods.assert_open(subject.school_id, on or timezone.localdate())
    movement = AssetMovement(
        school_id=subject.school_id, kind=kind, happened_on=on or timezone.localdate(), quantity=subject.quantity,
        value_change=value_change, room_after_id=subject.room_id, department_after_id=subject.department_id,
        custodian_after_id=subject.custodian_id, status_before="", status_after=subject.status,
        document=document[:60], note=(note or "")[:200], actor=actor if getattr(actor, "pk", None) else None,
        **_subject_kwargs(subject))
    movement.save()
    return movement


def lock(model, ids) -> dict:
    """Lock the rows (ordered by id, so two documents never deadlock) and return them by id."""
    rows = model.objects.select_for_update().filter(pk__in=list(ids)).order_by("pk")
    return {row.pk: row for row in rows}


def state_from_journal(subject) -> dict | None:
    """The state the journal says ``subject`` is in (latest movement), to check the cached fields."""
    model_filter = {"asset": subject} if isinstance(subject, Asset) else {"item": subject}
    last = AssetMovement.objects.filter(**model_filter).order_by("-id").first()
    if last is None:
        return None
    return {"room": last.room_after_id, "department": last.department_after_id,
            "custodian": last.custodian_after_id, "status": last.status_after}


def cached_state(subject) -> dict:
    return {"room": subject.room_id, "department": subject.department_id, "custodian": subject.custodian_id,
            "status": subject.status}


__all__ = ["KEEP", "LowValueItem", "build_movement", "cached_state", "lock", "post", "post_many",
           "state_from_journal"]
