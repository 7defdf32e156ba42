"""Staff handover (AST-14): a 交接单 of everything a person holds; confirming it moves custody.

- ``handover_create`` lists every card, low-value item and open loan the leaving person holds.
- ``handover_tick`` is the receiver (接收人) checking one line on a phone.
- ``handover_refresh`` brings a draft up to date with what the person holds now.
- ``handover_confirm`` refuses, naming them, unticked lines, loans still out and things taken into
  custody after the list was written; otherwise it moves custody of every card and item to the
  receiver (one HANDOVER journal row each) and confirms the handover, in one transaction.
- ``leave_blocker`` (registered in ``registry.leave_blockers``) keeps the account of a person who
  still holds anything from being disabled.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core import crud
from houqin.core.audit import audit_record
from houqin.core.models import AuditEntry

from .. import selectors
from ..choices import UseStatus
from ..models import Asset, AssetLoan, AssetMovement, Handover, HandoverLine, LowValueItem
from ..workflows import handover_flow
from . import journal
from .common import document_number

MAX_NAMED = 10  # a refusal names at most this many things, then says how many more


def _describe_asset(a) -> str:
    return f"{a.code} {a.name} ×{a.quantity}{a.unit}"


def _describe_loan(loan) -> str:
    return _("Borrowed: %(what)s, due %(day)s") % {"what": loan.asset or loan.item, "day": loan.due_on}


def _new_lines(handover: Handover, held: dict, *, skip_assets=(), skip_items=(), skip_loans=()) -> list:
    lines = [HandoverLine(handover=handover, asset=a, description=_describe_asset(a))
             for a in held["assets"] if a.pk not in skip_assets]
    lines += [HandoverLine(handover=handover, item=i, description=_describe_asset(i))
              for i in held["items"] if i.pk not in skip_items]
    lines += [HandoverLine(handover=handover, loan=loan, description=_describe_loan(loan))
              for loan in held["loans"] if loan.pk not in skip_loans]
    return lines


def _names(things) -> str:
    things = [str(t) for t in things]
    text = "、".join(things[:MAX_NAMED])
    if len(things) > MAX_NAMED:
        text += _(" and %(n)s more") % {"n": len(things) - MAX_NAMED}
    return text


@transaction.atomic
def handover_create(*, school, actor, from_staff, to_staff, supervisor, reason: str = "") -> Handover:
    """List every card, low-value item and open loan ``from_staff`` holds, for ``to_staff`` to receive."""
    if from_staff == to_staff:
        raise ValidationError({"to_staff": _("The receiver must be someone else.")})
    if supervisor in (from_staff, to_staff):
        raise ValidationError({"supervisor": _("The supervisor must be a third person.")})
    for name, person in (("from_staff", from_staff), ("to_staff", to_staff), ("supervisor", supervisor)):
        if person.school_id != school.pk:
            raise ValidationError({name: _("%(who)s belongs to another school.") % {"who": person}})
    if to_staff.status != to_staff.Status.ACTIVE:
        raise ValidationError({"to_staff": _("%(who)s has left and cannot receive anything.") % {"who": to_staff}})
    held = selectors.holdings_of(from_staff)
    if not any(held.values()):
        raise ValidationError({"from_staff": _("%(who)s holds nothing to hand over.") % {"who": from_staff}})
    handover = Handover(school=school, number=document_number(school, "handover"), from_staff=from_staff,
                        to_staff=to_staff, supervisor=supervisor, reason=reason,
                        created_by=actor if getattr(actor, "pk", None) else None)
    crud.object_create(obj=handover, actor=actor)
    HandoverLine.objects.bulk_create(_new_lines(handover, held))
    _notify(handover, [to_staff.user, supervisor.user],
            _("Handover %(number)s: %(from)s hands over to %(to)s") % {
                "number": handover.number, "from": from_staff, "to": to_staff},
            _("The receiver checks each thing on the handover page (a phone will do); then the supervisor or "
              "the asset staff confirm it."))
    return handover


def _notify(handover: Handover, users, title: str, body: str = "") -> None:
    """Tell the people on the handover (X-4), after the transaction commits."""
    from houqin.notifications.services import notify

    recipients = [u for u in users if u is not None and getattr(u, "pk", None) and u.is_active]
    if recipients:
        notify(school=handover.school, recipients=recipients, title=title, body=body,
               url=f"/assets/handovers/{handover.pk}/", category="assets.handover")


# who may do what ------------------------------------------------------------------------------------------
def _staff_of(user):
    return getattr(user, "staff", None) if getattr(user, "pk", None) else None


def _is(user, staff) -> bool:
    me = _staff_of(user)
    return me is not None and staff is not None and me.pk == staff.pk


def _same_school(handover: Handover, user) -> bool:
    return getattr(user, "school_id", None) == handover.school_id


def is_party(handover: Handover, user) -> bool:
    """交接人, 接收人 or 监交人 of this handover."""
    me = _staff_of(user)
    return me is not None and me.pk in (handover.from_staff_id, handover.to_staff_id, handover.supervisor_id)


def can_view(handover: Handover, user) -> bool:
    """The asset staff of the school, and the three people named on it."""
    if not _same_school(handover, user) and not getattr(user, "is_superuser", False):
        return False
    return user.has_perm("assets.view_handover") or is_party(handover, user)


def can_tick(handover: Handover, user) -> bool:
    """The receiver checks the lines; the asset staff may check them with the receiver beside them."""
    return handover.status == Handover.Status.DRAFT and _same_school(handover, user) and (
        user.has_perm("assets.change_handover") or _is(user, handover.to_staff))


def can_confirm(handover: Handover, user) -> bool:
    """Confirmed by the asset staff (assets.change_handover) or by the supervisor (监交人) themself."""
    return handover.status == Handover.Status.DRAFT and _same_school(handover, user) and (
        user.has_perm("assets.change_handover") or _is(user, handover.supervisor))


def can_refresh(handover: Handover, user) -> bool:
    return can_confirm(handover, user) or can_tick(handover, user)


def _draft(handover_pk) -> Handover:
    handover = Handover.objects.select_for_update(of=("self",)).select_related(
        "from_staff", "to_staff", "supervisor").get(pk=handover_pk)
    if handover.status != Handover.Status.DRAFT:
        raise ValidationError(_("Handover %(number)s is %(state)s: it can no longer be changed.") % {
            "number": handover.number, "state": handover.get_status_display()})
    return handover


# the receiver's ticks -------------------------------------------------------------------------------------
@transaction.atomic
def handover_tick(line: HandoverLine, received: bool, actor) -> HandoverLine:
    """The receiver (or the asset staff with them) marks one card or item as checked, or unmarks it."""
    handover = _draft(line.handover_id)
    if not can_tick(handover, actor):
        raise PermissionDenied(_("Only the receiver or the asset staff may check the lines."))
    line = HandoverLine.objects.select_for_update().get(pk=line.pk, handover=handover)
    if line.loan_id:
        raise ValidationError(_("%(line)s is a loan: a loan is returned, not handed over.") % {
            "line": line.description})
    received = bool(received)
    if line.received != received:
        line.received = received
        line.save(update_fields=["received"])
        # keyed by the line itself, so the history reads "<line>: not checked → checked"
        states = {True: _("Checked"), False: _("Not checked")}
        audit_record(obj=handover, action=AuditEntry.Action.UPDATE, actor=actor,
                     before={line.description: states[not received]}, after={line.description: states[received]},
                     message=(_("Checked: %(line)s") if received else _("Unchecked: %(line)s")) % {
                         "line": line.description})
    return line


# keeping the list up to date --------------------------------------------------------------------------------
def _differences(handover: Handover, lines: list[HandoverLine]) -> dict:
    """What the person holds now that is not on the list, and lines of things they no longer hold."""
    held = selectors.holdings_of(handover.from_staff)
    on_list = {("asset", ln.asset_id) for ln in lines if ln.asset_id} | {
        ("item", ln.item_id) for ln in lines if ln.item_id} | {("loan", ln.loan_id) for ln in lines if ln.loan_id}
    held_keys = {("asset", a.pk) for a in held["assets"]} | {("item", i.pk) for i in held["items"]}
    new = [a for a in held["assets"] if ("asset", a.pk) not in on_list]
    new += [i for i in held["items"] if ("item", i.pk) not in on_list]
    new_loans = [loan for loan in held["loans"] if ("loan", loan.pk) not in on_list]
    gone = [ln for ln in lines if (ln.asset_id and ("asset", ln.asset_id) not in held_keys)
            or (ln.item_id and ("item", ln.item_id) not in held_keys)]
    return {"held": held, "new": new, "new_loans": new_loans, "gone": gone}


@transaction.atomic
def handover_refresh(handover: Handover, actor) -> dict:
    """Add what the person took into custody (or borrowed) since the list was written; drop the lines of
    cards and items they no longer hold. Returns {"added": [...], "removed": [...]} descriptions."""
    handover = _draft(handover.pk)
    if not can_refresh(handover, actor):
        raise PermissionDenied(_("You are not allowed to change this handover."))
    lines = list(handover.lines.all())
    diff = _differences(handover, lines)
    on_list_assets = {ln.asset_id for ln in lines if ln.asset_id and ln not in diff["gone"]}
    on_list_items = {ln.item_id for ln in lines if ln.item_id and ln not in diff["gone"]}
    on_list_loans = {ln.loan_id for ln in lines if ln.loan_id}
    added = _new_lines(handover, diff["held"], skip_assets=on_list_assets, skip_items=on_list_items,
                       skip_loans=on_list_loans)
    removed = [ln.description for ln in diff["gone"]]
    if diff["gone"]:
        HandoverLine.objects.filter(pk__in=[ln.pk for ln in diff["gone"]]).delete()
    HandoverLine.objects.bulk_create(added)
    result = {"added": [ln.description for ln in added], "removed": removed}
    if added or removed:
        gone = _("Not on the list")
        audit_record(obj=handover, action=AuditEntry.Action.UPDATE, actor=actor,
                     before={**dict.fromkeys(result["added"], gone), **{d: _("On the list") for d in removed}},
                     after={**{d: _("On the list") for d in result["added"]}, **dict.fromkeys(removed, gone)},
                     message=(_("List refreshed: %(added)s added, %(removed)s removed") % {
                         "added": len(added), "removed": len(removed)})[:500])
    return result


# confirming --------------------------------------------------------------------------------------------------
def confirm_problems(handover: Handover, lines: list[HandoverLine] | None = None) -> list[str]:
    """Why ``handover`` cannot be confirmed now (each message names the things), or [] when it can."""
    lines = list(handover.lines.select_related("loan__asset", "loan__item")) if lines is None else lines
    problems = []
    unticked = [ln.description for ln in lines if not ln.loan_id and not ln.received]
    if unticked:
        problems.append(_("Not yet checked by the receiver: %(items)s.") % {"items": _names(unticked)})
    out = [ln.loan for ln in lines if ln.loan_id and ln.loan.status == AssetLoan.Status.OUT]
    diff = _differences(handover, lines)
    out = [str(loan.asset or loan.item) for loan in out + diff["new_loans"]]
    if out:
        problems.append(_("Still borrowed, to be given back first (a loan is returned, not handed over): "
                          "%(items)s.") % {"items": _names(out)})
    if diff["new"]:
        problems.append(_("%(who)s took these into custody after the list was written: %(items)s. "
                          "Refresh the list.") % {"who": handover.from_staff,
                                                  "items": _names(_describe_asset(s) for s in diff["new"])})
    if diff["gone"]:
        problems.append(_("No longer held by %(who)s: %(items)s. Refresh the list.") % {
            "who": handover.from_staff, "items": _names(ln.description for ln in diff["gone"])})
    return problems


def handover_confirm(handover: Handover, actor, *, department=journal.KEEP, note: str = "") -> Handover:
    """Move custody of every card and item on the list to the receiver and confirm the handover.

    ``department`` (a Department) moves them to that department as well; by default it is unchanged.
    Two confirms at once: the handover row is locked, the second finds it confirmed and is refused.
    """
    with transaction.atomic():
        handover = Handover.objects.select_for_update(of=("self",)).select_related(
            "from_staff", "to_staff", "supervisor").get(pk=handover.pk)
        if not (_same_school(handover, actor) and (actor.has_perm("assets.change_handover")
                                                  or _is(actor, handover.supervisor))):
            raise PermissionDenied(_("Only the asset staff or the supervisor may confirm the handover."))
        if handover.status != Handover.Status.DRAFT:
            raise ValidationError(_("Handover %(number)s is %(state)s: it can no longer be confirmed.") % {
                "number": handover.number, "state": handover.get_status_display()})
        lines = list(handover.lines.select_related("loan__asset", "loan__item"))
        locked_assets = journal.lock(Asset, [ln.asset_id for ln in lines if ln.asset_id])
        locked_items = journal.lock(LowValueItem, [ln.item_id for ln in lines if ln.item_id])
        problems = confirm_problems(handover, lines)
        if problems:
            raise ValidationError(problems)
        if handover.to_staff.status != handover.to_staff.Status.ACTIVE:
            raise ValidationError({"to_staff": _("%(who)s has left and cannot receive anything.") % {
                "who": handover.to_staff}})
        if department is not journal.KEEP and department is not None and department.school_id != handover.school_id:
            raise ValidationError({"department": _("%(what)s belongs to another school.") % {"what": department}})
        changes = {"custodian": handover.to_staff,
                   "department": journal.KEEP if department is None else department}
        label = _("Handover %(number)s") % {"number": handover.number}
        url = f"/assets/handovers/{handover.pk}/"
        message = _("Handed over by %(from)s to %(to)s") % {"from": handover.from_staff, "to": handover.to_staff}
        for subjects in (list(locked_assets.values()), list(locked_items.values())):
            journal.post_many(subjects, kind=AssetMovement.Kind.HANDOVER, actor=actor, document=label,
                              document_url=url, note=message, audit_message=f"{label}: {message}", **changes)
        handover_flow.apply(handover, "confirm", actor=actor, note=note, check_perm=False,
                            update={"confirmed_at": timezone.now()})
        _notify(handover, [handover.from_staff.user, handover.to_staff.user],
                _("Handover %(number)s confirmed: %(to)s now keeps what %(from)s held") % {
                    "number": handover.number, "to": handover.to_staff, "from": handover.from_staff})
    return handover


def handover_cancel(handover: Handover, actor, note: str) -> Handover:
    """Cancel a draft (with the reason), through the workflow: nothing moves."""
    return handover_flow.apply(handover, "cancel", actor=actor, note=note)


# the leave blocker ---------------------------------------------------------------------------------------------
def holdings_counts(staff) -> dict:
    return {
        "assets": Asset.objects.filter(custodian=staff).exclude(status=UseStatus.DISPOSED).count(),
        "items": LowValueItem.objects.filter(custodian=staff).exclude(status=UseStatus.DISPOSED).count(),
        "loans": AssetLoan.objects.filter(borrower=staff, status=AssetLoan.Status.OUT).count(),
    }


def leave_blocker(staff) -> list[str]:
    """registry.leave_blockers: what ``staff`` still holds, as one message; [] when nothing."""
    counts = holdings_counts(staff)
    if not any(counts.values()):
        return []
    return [_("Holds %(assets)s fixed assets, %(items)s low-value items and %(loans)s unreturned loans: "
              "hand them over first") % counts]
