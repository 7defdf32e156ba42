"""Lifecycle documents (AST-3): 领用/调拨/退库, 借用/归还, 维修, 报废/处置 — each posts to the journal."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core import crud
from houqin.core.attachments import content_type_for
from houqin.core.models import Attachment

from .. import rules
from ..choices import UseStatus
from ..models import (
    Asset,
    AssetDisposal,
    AssetDisposalLine,
    AssetLoan,
    AssetMove,
    AssetMoveLine,
    AssetMovement,
    AssetRepair,
    LowValueItem,
)
from ..workflows import disposal_flow, move_flow
from . import journal
from .common import document_number, settings_for

K = AssetMovement.Kind
# States from which a card can be issued, moved or lent (not lent, under repair, being disposed of or gone).
MOVABLE = {UseStatus.IN_STORE, UseStatus.IN_USE, UseStatus.IDLE}


def _refuse_unmovable(asset: Asset, action: str) -> None:
    if asset.status not in MOVABLE:
        raise ValidationError(_("%(asset)s is %(status)s: it cannot be %(action)s.") % {
            "asset": asset, "status": asset.get_status_display(), "action": action})


def _not_future(day: datetime.date | None, field: str) -> None:
    if day and day > timezone.localdate():
        raise ValidationError({field: _("The date is in the future.")})


# 领用 / 调拨 / 退库 ----------------------------------------------------------------------------------------------
@transaction.atomic
def move_create(*, school, actor, kind: str, assets, moved_on: datetime.date | None = None, to_room=None,
                to_department=None, to_custodian=None, note: str = "") -> AssetMove:
    """Write a move (draft) with each card's current place and custodian on its line."""
    assets = list({a.pk: a for a in assets}.values())  # the same code twice is one line
    if not assets:
        raise ValidationError({"assets": _("Choose at least one asset.")})
    moved_on = moved_on or timezone.localdate()
    _not_future(moved_on, "moved_on")
    if kind != AssetMove.Kind.RETURN and not (to_room or to_department or to_custodian):
        raise ValidationError({"to_custodian": _("Say where the assets go: a place, a department or a person.")})
    for asset in assets:
        if asset.school_id != school.pk:
            raise ValidationError({"assets": _("%(asset)s belongs to another school.") % {"asset": asset}})
        _refuse_unmovable(asset, _("moved"))
        if kind == AssetMove.Kind.ISSUE and asset.status != UseStatus.IN_STORE:
            raise ValidationError({"assets": _("%(asset)s is not in store: transfer it instead of issuing it.") % {
                "asset": asset}})
        if kind == AssetMove.Kind.RETURN and asset.status == UseStatus.IN_STORE:
            raise ValidationError({"assets": _("%(asset)s is already in store.") % {"asset": asset}})
        if kind == AssetMove.Kind.TRANSFER and all(
                target is None or getattr(asset, f"{name}_id") == target.pk
                for name, target in (("room", to_room), ("department", to_department),
                                     ("custodian", to_custodian))):
            raise ValidationError({"assets": _("%(asset)s is already there: the transfer would change nothing.")
                                   % {"asset": asset}})
    move = AssetMove(school=school, kind=kind, number=document_number(school, "transfer" if kind ==
                     AssetMove.Kind.TRANSFER else "move", moved_on), moved_on=moved_on, to_room=to_room,
                     to_department=to_department, to_custodian=to_custodian, note=note, requested_by=actor,
                     total_value=sum((a.original_value for a in assets), Decimal("0")))
    crud.object_create(obj=move, actor=actor)
    AssetMoveLine.objects.bulk_create([
        AssetMoveLine(move=move, asset=a, from_room_id=a.room_id, from_department_id=a.department_id,
                      from_custodian_id=a.custodian_id) for a in assets])
    return move


@transaction.atomic
def move_submit(*, move: AssetMove, actor, note: str = "") -> AssetMove:
    """Submit: the school's approval policy decides; with no policy (small internal moves) it posts at once."""
    from houqin.approvals.services import approval_request_create

    move_flow.apply(move, "submit", actor=actor, note=note)
    approval_request_create(document=move, actor=actor)
    move.refresh_from_db()
    return move


def move_approve(move: AssetMove, actor, note: str = "") -> None:
    """The final approval (approvals registry): post every line, refusing cards that changed meanwhile."""
    with transaction.atomic():
        lines = list(move.lines.all())
        locked = journal.lock(Asset, [line.asset_id for line in lines])
        for line in lines:
            asset = locked[line.asset_id]
            if (asset.room_id, asset.department_id, asset.custodian_id) != (
                    line.from_room_id, line.from_department_id, line.from_custodian_id):
                raise ValidationError(_(
                    "%(asset)s has been moved by another document since this one was written; "
                    "cancel this one and write it again.") % {"asset": asset})
            _refuse_unmovable(asset, _("moved"))
        move_flow.apply(move, "approve", actor=actor, note=note, check_perm=False,
                        update={"done_at": timezone.now()})
        label = f"{move.get_kind_display()} {move.number}"
        url = f"/assets/moves/{move.pk}/"
        for line in lines:
            asset = locked[line.asset_id]
            if move.kind == AssetMove.Kind.RETURN:
                journal.post(asset, kind=K.RETURN, actor=actor, on=move.moved_on, custodian=None, department=None,
                             room=move.to_room if move.to_room_id else journal.KEEP, status=UseStatus.IN_STORE,
                             document=label, document_url=url)
                continue
            journal.post(asset, kind=K.ISSUE if move.kind == AssetMove.Kind.ISSUE else K.TRANSFER, actor=actor,
                         on=move.moved_on, room=move.to_room if move.to_room_id else journal.KEEP,
                         department=move.to_department if move.to_department_id else journal.KEEP,
                         custodian=move.to_custodian if move.to_custodian_id else journal.KEEP,
                         status=UseStatus.IN_USE, document=label, document_url=url)


def move_transition(*, move: AssetMove, name: str, actor, note: str = "") -> AssetMove:
    from houqin.approvals.services import approval_request_withdraw

    if name == "submit":
        return move_submit(move=move, actor=actor, note=note)
    with transaction.atomic():
        was_submitted = move.status == AssetMove.Status.SUBMITTED
        move_flow.apply(move, name, actor=actor, note=note)
        if name == "cancel" and was_submitted:
            approval_request_withdraw(document=move, actor=actor, note=note)
    return move


# 借用 / 归还 ---------------------------------------------------------------------------------------------------
@transaction.atomic
def loan_create(*, school, actor, borrower, asset: Asset | None = None, item: LowValueItem | None = None,
                due_on: datetime.date | None = None, purpose: str = "", lent_on: datetime.date | None = None
                ) -> AssetLoan:
    """借出 in two taps: the thing and the borrower; due back today unless a date is given."""
    if (asset is None) == (item is None):
        raise ValidationError(_("Choose one asset or one low-value item to lend."))
    if borrower is None:
        raise ValidationError({"borrower": _("Choose who borrows it.")})
    today = timezone.localdate()
    lent_on = lent_on or today
    _not_future(lent_on, "lent_on")
    due_on = due_on or lent_on + datetime.timedelta(days=rules.LOAN_DEFAULT_DAYS)
    if due_on < lent_on:
        raise ValidationError({"due_on": _("The due date is before the loan date.")})
    model = Asset if asset is not None else LowValueItem
    subject = journal.lock(model, [(asset or item).pk])[(asset or item).pk]
    if subject.school_id != school.pk:
        raise ValidationError(_("%(asset)s belongs to another school.") % {"asset": subject})
    if subject.status == UseStatus.LENT:
        open_loan = subject.loans.filter(status=AssetLoan.Status.OUT).select_related("borrower").first()
        raise ValidationError(_("%(asset)s is already lent to %(who)s.") % {
            "asset": subject, "who": open_loan.borrower if open_loan else "?"})
    _refuse_unmovable(subject, _("lent"))
    loan = AssetLoan(school=school, borrower=borrower, purpose=purpose, lent_on=lent_on, due_on=due_on,
                     lent_by=actor if getattr(actor, "pk", None) else None,
                     **({"asset": subject} if asset is not None else {"item": subject}))
    crud.object_create(obj=loan, actor=actor)
    journal.post(subject, kind=K.LEND, actor=actor, on=lent_on, status=UseStatus.LENT,
                 document=_("Loan to %(who)s") % {"who": borrower}, document_url=f"/assets/loans/{loan.pk}/",
                 note=purpose)
    return loan


@transaction.atomic
def loan_return(*, loan: AssetLoan, actor, condition_note: str = "", returned_on: datetime.date | None = None
                ) -> AssetLoan:
    """归还: back to the state it was in before the loan (from the journal)."""
    loan = AssetLoan.objects.select_for_update().get(pk=loan.pk)
    if loan.status != AssetLoan.Status.OUT:
        raise ValidationError(_("This loan was already returned on %(day)s.") % {"day": loan.returned_on})
    returned_on = returned_on or timezone.localdate()
    _not_future(returned_on, "returned_on")
    if returned_on < loan.lent_on:
        raise ValidationError({"returned_on": _("The return date is before the loan date.")})
    model = Asset if loan.asset_id else LowValueItem
    subject = journal.lock(model, [loan.asset_id or loan.item_id])[loan.asset_id or loan.item_id]
    if subject.status != UseStatus.LENT:
        raise ValidationError(_("%(asset)s is not lent out (it is %(status)s): there is nothing to give back.") % {
            "asset": subject, "status": subject.get_status_display()})
    lend = subject.movements.filter(kind=K.LEND).order_by("-id").first()
    previous = lend.status_before if lend is not None and lend.status_before else UseStatus.IN_USE
    crud.object_update(obj=loan, actor=actor, message=_("Returned"), data={
        "status": AssetLoan.Status.RETURNED, "returned_on": returned_on, "condition_note": condition_note})
    journal.post(subject, kind=K.GIVE_BACK, actor=actor, on=returned_on, status=previous,
                 document=_("Loan to %(who)s") % {"who": loan.borrower}, document_url=f"/assets/loans/{loan.pk}/",
                 note=condition_note)
    return loan


def loans_overdue(school, today: datetime.date | None = None):
    today = today or timezone.localdate()
    return AssetLoan.objects.filter(school=school, status=AssetLoan.Status.OUT, due_on__lt=today)


# 维修 ----------------------------------------------------------------------------------------------------------
@transaction.atomic
def repair_send(*, school, actor, asset: Asset, fault: str, repairer: str = "",
                sent_on: datetime.date | None = None) -> AssetRepair:
    """Send a card out for repair (the repairs app calls this from a repair order once it exists)."""
    if not (fault or "").strip():
        raise ValidationError({"fault": _("Describe the fault.")})
    sent_on = sent_on or timezone.localdate()
    _not_future(sent_on, "sent_on")
    asset = journal.lock(Asset, [asset.pk])[asset.pk]
    if asset.school_id != school.pk:
        raise ValidationError({"asset": _("%(asset)s belongs to another school.") % {"asset": asset}})
    _refuse_unmovable(asset, _("sent for repair"))
    repair = AssetRepair(school=school, asset=asset, fault=fault, repairer=repairer, sent_on=sent_on,
                         number=document_number(school, "repair", sent_on))
    crud.object_create(obj=repair, actor=actor)
    journal.post(asset, kind=K.REPAIR_OUT, actor=actor, on=sent_on, status=UseStatus.REPAIR,
                 document=f"{_('Repair')} {repair.number}", document_url=f"/assets/repairs/{repair.pk}/", note=fault)
    return repair


@transaction.atomic
def repair_back(*, repair: AssetRepair, actor, result: str = "", cost: Decimal = Decimal("0"),
                repaired: bool = True, back_on: datetime.date | None = None) -> AssetRepair:
    """Back from repair: to its state before (repaired) or idle awaiting disposal (not repairable)."""
    repair = AssetRepair.objects.select_for_update().get(pk=repair.pk)
    if repair.status != AssetRepair.Status.OUT:
        raise ValidationError(_("This repair is already closed."))
    back_on = back_on or timezone.localdate()
    _not_future(back_on, "back_on")
    if back_on < repair.sent_on:
        raise ValidationError({"back_on": _("The asset cannot come back before it was sent.")})
    if cost is not None and cost < 0:
        raise ValidationError({"cost": _("The cost cannot be negative.")})
    asset = journal.lock(Asset, [repair.asset_id])[repair.asset_id]
    if asset.status != UseStatus.REPAIR:
        raise ValidationError(_("%(asset)s is not under repair (it is %(status)s): close the repair another way.")
                              % {"asset": asset, "status": asset.get_status_display()})
    out = asset.movements.filter(kind=K.REPAIR_OUT).order_by("-id").first()
    previous = out.status_before if out is not None and out.status_before else UseStatus.IN_USE
    crud.object_update(obj=repair, actor=actor, data={
        "status": AssetRepair.Status.BACK if repaired else AssetRepair.Status.SCRAPPED, "back_on": back_on,
        "result": result, "cost": cost or Decimal("0")})
    journal.post(asset, kind=K.REPAIR_BACK, actor=actor, on=back_on,
                 status=previous if repaired else UseStatus.IDLE,
                 document=f"{_('Repair')} {repair.number}", document_url=f"/assets/repairs/{repair.pk}/", note=result)
    return repair


# 报废 / 处置 ---------------------------------------------------------------------------------------------------
def asset_net_value(asset: Asset) -> Decimal:
    """Net value for a disposal line: original value less the accumulated depreciation (opening + runs)."""
    return asset.net_value


def approver_level(disposal_lines: list[tuple[Asset, Decimal]], school) -> str:
    """§2.4: above the single-item or batch limit, or a building/land/vehicle → bureau review + finance."""
    conf = settings_for(school)
    total = sum((value for _, value in disposal_lines), Decimal("0"))
    for asset, value in disposal_lines:
        unit = value / (asset.quantity or 1)
        if unit > conf.disposal_single_limit or asset.accounting_class in rules.ALWAYS_ESCALATE_CLASSES:
            return AssetDisposal.Level.BUREAU
    return AssetDisposal.Level.BUREAU if total > conf.disposal_batch_limit else AssetDisposal.Level.SCHOOL


def approver_level_reason(disposal: AssetDisposal) -> str:
    """Why the disposal goes to the bureau or stays with the school, for its page (§2.4, 36号令 第二十六条)."""
    conf = settings_for(disposal.school)
    lines = list(disposal.lines.select_related("asset"))
    limits = {"single": f"{conf.disposal_single_limit:,.2f}", "batch": f"{conf.disposal_batch_limit:,.2f}"}
    for line in lines:
        if line.asset.accounting_class in rules.ALWAYS_ESCALATE_CLASSES:
            return _("%(asset)s is in the class %(klass)s: the disposal of buildings is always reviewed by the "
                     "bureau and approved by finance.") % {"asset": line.asset,
                                                         "klass": line.asset.get_accounting_class_display()}
    for line in lines:
        unit = line.original_value / (line.asset.quantity or 1)
        if unit > conf.disposal_single_limit:
            return _("%(asset)s is worth ¥%(value)s a unit, above the school's limit of ¥%(single)s per item: "
                     "reviewed by the bureau, approved by finance.") % {
                "asset": line.asset, "value": f"{unit:,.2f}", **limits}
    total = sum((line.original_value for line in lines), Decimal("0"))
    if total > conf.disposal_batch_limit:
        return _("The batch is worth ¥%(total)s, above the school's limit of ¥%(batch)s per batch: reviewed by "
                 "the bureau, approved by finance.") % {"total": f"{total:,.2f}", **limits}
    return _("Every item is within ¥%(single)s and the batch (¥%(total)s) within ¥%(batch)s: the school approves "
             "and reports to the bureau for the record.") % {"total": f"{total:,.2f}", **limits}


@transaction.atomic
def disposal_create(*, school, actor, assets, method: str, reason: str, decision_ref: str = "", department=None,
                    note: str = "") -> AssetDisposal:
    assets = list({a.pk: a for a in assets}.values())
    if not assets:
        raise ValidationError({"assets": _("Choose at least one asset.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the disposal.")})
    for asset in assets:
        if asset.school_id != school.pk:
            raise ValidationError({"assets": _("%(asset)s belongs to another school.") % {"asset": asset}})
        if asset.status in (UseStatus.DISPOSED, UseStatus.DISPOSING):
            raise ValidationError({"assets": _("%(asset)s is %(status)s.") % {
                "asset": asset, "status": asset.get_status_display()}})
        if not asset.owned:
            raise ValidationError({"assets": _("%(asset)s is lent by a partner company, not owned: return it "
                                               "instead of disposing of it.") % {"asset": asset}})
    lines = [(a, a.original_value) for a in assets]
    disposal = AssetDisposal(
        school=school, number=document_number(school, "disposal"), method=method, reason=reason,
        decision_ref=decision_ref, department=department, note=note, requested_by=actor,
        approver_level=approver_level(lines, school),
        total_original_value=sum((v for _, v in lines), Decimal("0")),
        total_net_value=sum((asset_net_value(a) for a in assets), Decimal("0")))
    crud.object_create(obj=disposal, actor=actor)
    AssetDisposalLine.objects.bulk_create([
        AssetDisposalLine(disposal=disposal, asset=a, original_value=a.original_value, net_value=asset_net_value(a))
        for a in assets])
    return disposal


NEEDS_EVIDENCE = {AssetDisposal.Method.SCRAP: _("a technical appraisal report"),
                  AssetDisposal.Method.SALE: _("a valuation report")}


@transaction.atomic
def disposal_submit(*, disposal: AssetDisposal, actor, note: str = "") -> AssetDisposal:
    """Submit with the collective decision and the evidence; the cards are locked (处置中) until written off."""
    from houqin.approvals.services import approval_request_create

    if not disposal.decision_ref.strip():
        raise ValidationError({"decision_ref": _(
            "Record the collective decision (meeting minutes) before submitting (条例 第十九条).")})
    evidence = NEEDS_EVIDENCE.get(disposal.method)
    if evidence and not Attachment.objects.filter(content_type=content_type_for(disposal), object_id=str(disposal.pk),
                                                   voided_at__isnull=True).exists():
        raise ValidationError({"attachments": _("Attach %(what)s to the disposal before submitting.") % {
            "what": evidence}})
    lines = list(disposal.lines.all())
    locked = journal.lock(Asset, [line.asset_id for line in lines])
    for line in lines:
        asset = locked[line.asset_id]
        if asset.status not in MOVABLE:
            raise ValidationError(_("%(asset)s is %(status)s: it cannot be disposed of now.") % {
                "asset": asset, "status": asset.get_status_display()})
    disposal_flow.apply(disposal, "submit", actor=actor, note=note)
    label = f"{_('Disposal')} {disposal.number}"
    for line in lines:
        journal.post(locked[line.asset_id], kind=K.DISPOSING, actor=actor, status=UseStatus.DISPOSING,
                     document=label, document_url=f"/assets/disposals/{disposal.pk}/")
    approval_request_create(document=disposal, actor=actor)
    return disposal


def _unlock(disposal: AssetDisposal, actor, note: str) -> None:
    lines = list(disposal.lines.all())
    locked = journal.lock(Asset, [line.asset_id for line in lines])
    for line in lines:
        asset = locked[line.asset_id]
        if asset.status != UseStatus.DISPOSING:
            continue
        lock_row = asset.movements.filter(kind=K.DISPOSING).order_by("-id").first()
        journal.post(asset, kind=K.DISPOSAL_CANCELLED, actor=actor,
                     status=lock_row.status_before if lock_row else UseStatus.IN_USE,
                     document=f"{_('Disposal')} {disposal.number}", note=note)


def disposal_reject(disposal: AssetDisposal, actor, note: str = "") -> None:
    with transaction.atomic():
        disposal_flow.apply(disposal, "reject", actor=actor, note=note, check_perm=False)
        _unlock(disposal, actor, note)


def disposal_transition(*, disposal: AssetDisposal, name: str, actor, note: str = "") -> AssetDisposal:
    from houqin.approvals.services import approval_request_withdraw

    if name == "submit":
        return disposal_submit(disposal=disposal, actor=actor, note=note)
    with transaction.atomic():
        was_submitted = disposal.status == AssetDisposal.Status.SUBMITTED
        disposal_flow.apply(disposal, name, actor=actor, note=note)
        if name == "cancel" and was_submitted:
            approval_request_withdraw(document=disposal, actor=actor, note=note)
            _unlock(disposal, actor, note)
    return disposal


@transaction.atomic
def disposal_complete(*, disposal: AssetDisposal, actor, approval_doc_no: str, disposed_on: datetime.date | None
                      = None, income: Decimal = Decimal("0")) -> AssetDisposal:
    """Write off (核销, 条例 第三十五条) once the approval document number is in: the cards leave the books."""
    if not (approval_doc_no or "").strip():
        raise ValidationError({"approval_doc_no": _("Enter the number of the approval document first.")})
    if income is None or income < 0:
        raise ValidationError({"income": _("The disposal income cannot be negative.")})
    disposed_on = disposed_on or timezone.localdate()
    _not_future(disposed_on, "disposed_on")
    if not actor.has_perm("assets.change_assetdisposal"):
        raise ValidationError(_("You are not allowed to write off disposals."))
    disposal_flow.apply(disposal, "complete", actor=actor, check_perm=False, update={
        "approval_doc_no": approval_doc_no.strip(), "disposed_on": disposed_on, "income": income})
    lines = list(disposal.lines.all())
    locked = journal.lock(Asset, [line.asset_id for line in lines])
    label = f"{_('Disposal')} {disposal.number}"
    for line in lines:
        asset = locked[line.asset_id]
        journal.post(asset, kind=K.DISPOSE, actor=actor, on=disposed_on, status=UseStatus.DISPOSED, custodian=None,
                     value_change=-asset.original_value, document=label,
                     document_url=f"/assets/disposals/{disposal.pk}/", note=approval_doc_no)
    return disposal
