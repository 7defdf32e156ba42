"""Stocktakes (AST-4; domain-rules.md §2.6): plan, count by scan or by hand, 盘盈盘亏 report, post results.

The life of a stocktake (``workflows.stocktake_flow``):

- ``stocktake_plan``: a plan for the whole school, a building or a department;
- ``stocktake_start`` (planned → counting): one INSERT … SELECT writes an expected line for every card and
  low-value item of the scope still on the books, with its book place and quantity;
- ``stocktake_scan``: each scan or typed code is kept as a ``StocktakeScan`` (a queued scan resent with the
  same ``client_id`` is recorded once) and the line it names is worked out again: found, found elsewhere,
  short (a batch counted by quantity per room) or, for a code that is not expected, an unexpected line;
- ``stocktake_finish`` (counting → submitted): every line still not counted becomes missing (one UPDATE);
- ``stocktake_approve`` (submitted → approved): place corrections posted to the asset journal, the missing
  cards put on a draft 盘亏 disposal, missing low-value items written off, unexpected codes listed for
  registration; ``stocktake_reject`` sends the result back and ``stocktake_recount`` counts again.

The read paths of the counting page and of the 盘盈盘亏 report are at the end (set-based: one aggregate
query for the summary, whatever the number of lines).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, DecimalField, F, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core import crud
from houqin.core.workflow import TransitionNotAllowed

from ..choices import UseStatus
from ..models import Asset, AssetDisposal, AssetMovement, LowValueItem, Stocktake, StocktakeLine
from ..models.stocktake import StocktakeScan
from ..workflows import stocktake_flow
from . import journal
from .common import document_number

R = StocktakeLine.Result
S = Stocktake.Status
MAX_QUANTITY = 100_000
CODE_MAX = StocktakeLine._meta.get_field("code").max_length


@transaction.atomic
def stocktake_plan(*, school, actor, title: str, planned_on: datetime.date, scope: str = Stocktake.Scope.ALL,
                   building=None, department=None, period: str = Stocktake.Period.TERM_END,
                   note: str = "") -> Stocktake:
    """Plan a stocktake of the whole school, a building or a department."""
    if scope == Stocktake.Scope.BUILDING and building is None:
        raise ValidationError({"building": _("Choose the building to count.")})
    if scope == Stocktake.Scope.DEPARTMENT and department is None:
        raise ValidationError({"department": _("Choose the department to count.")})
    stocktake = Stocktake(
        school=school, number=document_number(school, "stocktake", planned_on), title=title, scope=scope,
        building=building if scope == Stocktake.Scope.BUILDING else None,
        department=department if scope == Stocktake.Scope.DEPARTMENT else None, period=period,
        planned_on=planned_on, note=note, requested_by=actor if getattr(actor, "pk", None) else None)
    return crud.object_create(obj=stocktake, actor=actor)


def _apply(stocktake: Stocktake, name: str, *, actor, note: str = "", check_perm: bool = True,
           update: dict | None = None) -> Stocktake:
    """The workflow transition, its refusal turned into a ValidationError like every other refusal here."""
    try:
        return stocktake_flow.apply(stocktake, name, actor=actor, note=note, check_perm=check_perm, update=update)
    except TransitionNotAllowed as exc:
        raise ValidationError(str(exc)) from exc


# Start: the expected lines, set-based ------------------------------------------------------------------------
def _insert_expected(stocktake: Stocktake, model) -> int:
    """INSERT … SELECT the expected lines of ``model`` (cards or low-value items) of the stocktake's scope."""
    line = StocktakeLine._meta.db_table
    table = model._meta.db_table
    room_table = model._meta.get_field("room").related_model._meta.db_table
    subject = "asset_id" if model is Asset else "item_id"
    where = ["s.school_id = %s", "s.status <> %s"]
    params: list = [stocktake.pk, R.PENDING, stocktake.school_id, UseStatus.DISPOSED]
    join = ""
    if stocktake.scope == Stocktake.Scope.BUILDING:
        join = f" JOIN {room_table} r ON r.id = s.room_id"
        where.append("r.building_id = %s")
        params.append(stocktake.building_id)
    elif stocktake.scope == Stocktake.Scope.DEPARTMENT:
        where.append("s.department_id = %s")
        params.append(stocktake.department_id)
    # Table and column names come from the models, every value is a parameter.
    columns = f"stocktake_id, {subject}, code, book_room_id, book_quantity, found_quantity, result, client_id, note"
    select = f"SELECT %s, s.id, s.code, s.room_id, s.quantity, 0, %s, '', '' FROM {table} s{join}"  # noqa: S608
    sql = f"INSERT INTO {line} ({columns}) {select} WHERE {' AND '.join(where)} ORDER BY s.code"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def stocktake_start(*, stocktake: Stocktake, actor) -> Stocktake:
    """Start counting: the expected lines of every card and low-value item of the scope not disposed of."""
    with transaction.atomic():
        _apply(stocktake, "start", actor=actor, update={"started_at": timezone.now()})
        if StocktakeLine.objects.filter(stocktake=stocktake).exists():  # never twice (the flow forbids it too)
            raise ValidationError(_("This stocktake already has its lines."))
        _insert_expected(stocktake, Asset)
        _insert_expected(stocktake, LowValueItem)
    return stocktake


# Scans --------------------------------------------------------------------------------------------------------
@dataclass
class ScanResult:
    """What a scan did, for the counting page: the outcome, the line, a message to read out."""

    outcome: str  # a StocktakeLine.Result, or "quantity" when a batch card needs its count first
    message: str
    line: StocktakeLine | None = None
    recorded: bool = True
    replayed: bool = False  # a queued scan sent again: recorded the first time
    again: bool = False  # the line was already in this state (scanning twice changes nothing)
    extra: dict = field(default_factory=dict)

    @property
    def need_quantity(self) -> bool:
        return self.outcome == "quantity"


def _subject_of(line: StocktakeLine):
    return line.asset if line.asset_id else line.item


def _label(line: StocktakeLine) -> str:
    subject = _subject_of(line)
    return str(subject) if subject is not None else line.code


def _recount_line(line: StocktakeLine) -> None:
    """Work the line's result out from its scans: the latest scan for a single card, the latest per room
    for a batch (its count in that room)."""
    scans = list(StocktakeScan.objects.filter(line=line).order_by("id").values("room_id", "quantity",
                                                                               "counted_by_id", "counted_at"))
    per_room: dict[int, int] = {}
    if line.book_quantity <= 1 and line.result != R.SURPLUS:
        if scans:
            last = scans[-1]
            per_room = {last["room_id"]: 1 if last["quantity"] is None else last["quantity"]}
    else:
        for scan in scans:
            per_room[scan["room_id"]] = 1 if scan["quantity"] is None else scan["quantity"]
    per_room = {room: n for room, n in per_room.items() if n > 0}
    total = sum(per_room.values())
    line.found_quantity = total
    if not per_room:
        if line.result != R.SURPLUS:  # an unexpected line keeps the room it was seen in
            line.found_room_id = None
            line.result = R.PENDING
    else:
        # The room holding most of it (its book room on a tie) is where it is found.
        line.found_room_id = max(per_room, key=lambda room: (per_room[room], room == line.book_room_id))
        if line.result != R.SURPLUS:
            if total < line.book_quantity:
                line.result = R.SHORT
            elif line.found_room_id != line.book_room_id:
                line.result = R.MOVED
            else:
                line.result = R.FOUND
    if line.result != R.SURPLUS:
        line.note = _split_note(per_room) if len(per_room) > 1 else ""
    last = scans[-1] if scans else None
    line.counted_by_id = last["counted_by_id"] if last else None
    line.counted_at = last["counted_at"] if last else None


def _split_note(per_room: dict[int, int]) -> str:
    from houqin.org.models import Room

    codes = dict(Room.objects.filter(pk__in=per_room).values_list("pk", "code"))
    parts = [f"{codes.get(room, room)} ×{n}" for room, n in sorted(per_room.items(), key=lambda kv: -kv[1])]
    return (_("Counted in several rooms: %(rooms)s") % {"rooms": ", ".join(parts)})[:200]


def _find_subject(school_id: int, code: str):
    """The card, else the low-value item, with this code in the school (codes are unique in each register)."""
    asset = Asset.objects.filter(school_id=school_id, code=code).select_related("room").first()
    if asset is not None:
        return asset
    return LowValueItem.objects.filter(school_id=school_id, code=code).select_related("room").first()


def _message(line: StocktakeLine, room) -> str:
    what = _label(line)
    batch = line.book_quantity > 1 or (line.result == R.SURPLUS and line.found_quantity > 1)
    if line.result == R.SURPLUS:
        if line.found_quantity == 0:
            return _("%(what)s: count removed for this room.") % {"what": what}
        if line.asset_id is None and line.item_id is None:
            return _("Unknown code %(code)s: recorded as unexpected.") % {"code": line.code}
        return _("%(what)s is not on this stocktake's list (%(why)s): recorded as unexpected.") % {
            "what": what, "why": line.note}
    if line.result == R.PENDING:
        return _("%(what)s: count removed for this room.") % {"what": what}
    counted = ""
    if batch:
        counted = " " + _("%(counted)s of %(book)s counted.") % {"counted": line.found_quantity,
                                                                  "book": line.book_quantity}
    if line.result == R.SHORT:
        return _("Short: %(what)s.") % {"what": what} + counted
    if line.result == R.MOVED:
        if line.found_room_id != getattr(room, "pk", None):
            return _("%(what)s is counted in another room.") % {"what": what} + counted
        return _("Found here, on the books in %(room)s: %(what)s.") % {
            "what": what, "room": line.book_room or _("no place")} + counted
    return _("Found: %(what)s.") % {"what": what} + counted


def _replayed(scan: StocktakeScan) -> ScanResult:
    line = StocktakeLine.objects.select_related("asset", "item", "book_room").filter(pk=scan.line_id).first()
    return ScanResult(outcome=scan.outcome, line=line, replayed=True,
                      message=_("Already received: %(code)s.") % {"code": scan.code})


def stocktake_scan(*, stocktake: Stocktake, code: str, room, counted_by, quantity: int | None = None,
                   client_id: str = "") -> ScanResult:
    """Record one scan (or typed code) of ``code`` in ``room`` and work its line out again.

    A card in its book room is found, in another room found elsewhere (moved); a batch card is counted by
    the number entered for each room (short while the rooms add up to less than the book quantity; without
    a number the result asks for it and nothing is recorded); a code not on the list is recorded as an
    unexpected line with the code as scanned. Scanning twice changes nothing; a queued scan resent with the
    same ``client_id`` is recorded once. Refused (ValidationError) while the stocktake is not being counted.
    """
    code = (code or "").strip()
    client_id = (client_id or "").strip()[:40]
    if not code:
        raise ValidationError({"code": _("Scan or type an asset code.")})
    if len(code) > CODE_MAX:
        raise ValidationError({"code": _("The code is longer than %(max)s characters: is it an asset label?") % {
            "max": CODE_MAX}})
    if room is None:
        raise ValidationError({"room": _("Choose or scan the room first.")})
    if quantity is not None and not 0 <= quantity <= MAX_QUANTITY:
        raise ValidationError({"quantity": _("Enter a count from 0 to %(max)s.") % {"max": MAX_QUANTITY}})
    try:
        with transaction.atomic():
            return _scan(stocktake, code, room, counted_by, quantity, client_id)
    except IntegrityError:
        prior = StocktakeScan.objects.filter(stocktake_id=stocktake.pk, client_id=client_id).first() \
            if client_id else None
        if prior is None:
            raise
        return _replayed(prior)  # the same queued scan arrived twice at once: the other request recorded it


def _scan(stocktake, code, room, counted_by, quantity, client_id) -> ScanResult:
    locked = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
    if room.school_id != locked.school_id:
        raise ValidationError({"room": _("This room belongs to another school.")})
    if locked.status != S.COUNTING:
        raise ValidationError(_("%(stocktake)s is %(status)s: scans are taken only while it is being counted.") % {
            "stocktake": locked.number, "status": locked.get_status_display()})
    if client_id:
        prior = StocktakeScan.objects.filter(stocktake=locked, client_id=client_id).first()
        if prior is not None:
            return _replayed(prior)
    user = counted_by if getattr(counted_by, "pk", None) else None
    line = (StocktakeLine.objects.select_related("asset", "item", "book_room")
            .filter(stocktake=locked, code=code).exclude(result=R.SURPLUS).order_by("id").first())
    if line is None:
        line = (StocktakeLine.objects.select_related("asset", "item", "book_room")
                .filter(stocktake=locked, code=code, result=R.SURPLUS, found_room=room).first())
    if line is None:
        subject = _find_subject(locked.school_id, code)
        if subject is not None and subject.quantity > 1 and quantity is None:
            return ScanResult(outcome="quantity", recorded=False, extra={"book_quantity": subject.quantity,
                                                                          "name": str(subject)},
                              message=_("%(what)s is a batch of %(n)s: enter how many are in this room.") % {
                                  "what": subject, "n": subject.quantity})
        if subject is None:
            note = ""
        elif subject.status == UseStatus.DISPOSED:
            note = _("disposed of on the books")
        else:
            note = _("on the books in %(room)s") % {"room": subject.room or _("no place")}
        line = StocktakeLine.objects.create(
            stocktake=locked, code=code, result=R.SURPLUS, found_room=room, book_quantity=0,
            asset=subject if isinstance(subject, Asset) else None,
            item=subject if isinstance(subject, LowValueItem) else None,
            book_room=subject.room if subject is not None else None, note=note[:200])
    elif line.book_quantity > 1 and quantity is None:
        return ScanResult(outcome="quantity", line=line, recorded=False,
                          extra={"book_quantity": line.book_quantity, "name": _label(line)},
                          message=_("%(what)s is a batch of %(n)s: enter how many are in this room.") % {
                              "what": _label(line), "n": line.book_quantity})
    before = (line.result, line.found_room_id, line.found_quantity)
    scan = StocktakeScan.objects.create(stocktake=locked, line=line, code=code, room=room, quantity=quantity,
                                        outcome=line.result, client_id=client_id, counted_by=user)
    _recount_line(line)
    if line.result == R.SURPLUS and line.found_room_id is None:
        line.found_room = room
    line.client_id = client_id
    line.save(update_fields=["found_room", "found_quantity", "result", "counted_by", "counted_at", "client_id",
                             "note"])
    StocktakeScan.objects.filter(pk=scan.pk).update(outcome=line.result)
    again = before == (line.result, line.found_room_id, line.found_quantity)
    message = _message(line, room)
    if again:
        message = _("Already counted.") + " " + message
    return ScanResult(outcome=line.result, line=line, message=message, again=again)


# Finish, send back, count again ---------------------------------------------------------------------------------
def stocktake_finish(*, stocktake: Stocktake, actor) -> Stocktake:
    """Finish counting: every line still not counted is missing (one UPDATE, whatever the size)."""
    with transaction.atomic():
        _apply(stocktake, "finish", actor=actor, update={"finished_at": timezone.now()})
        lines = StocktakeLine.objects.filter(stocktake=stocktake, result=R.PENDING)
        # A card lent out or under repair cannot be in its room: say so on its line (approval keeps it).
        for status, note in ((UseStatus.LENT, _("lent out on the books")),
                             (UseStatus.REPAIR, _("under repair on the books"))):
            lines.filter(Q(asset__status=status) | Q(item__status=status)).update(note=note)
        lines.update(result=R.MISSING)
    return stocktake


def stocktake_reject(*, stocktake: Stocktake, actor, note: str) -> Stocktake:
    """Send the result back to the counters, with the reason."""
    if not (note or "").strip():
        raise ValidationError({"note": _("Give the reason.")})
    return _apply(stocktake, "reject", actor=actor, note=note)


def stocktake_recount(*, stocktake: Stocktake, actor, note: str = "") -> Stocktake:
    """Count again after it was sent back: the missing lines are open again; what was counted stays."""
    with transaction.atomic():
        _apply(stocktake, "recount", actor=actor, note=note, update={"finished_at": None})
        StocktakeLine.objects.filter(stocktake=stocktake, result=R.MISSING).update(result=R.PENDING, note="")
    return stocktake


def stocktake_transition(*, stocktake: Stocktake, name: str, actor, note: str = "") -> Stocktake:
    """The transitions of the detail page's buttons, each through its service."""
    actions = {
        "start": lambda: stocktake_start(stocktake=stocktake, actor=actor),
        "finish": lambda: stocktake_finish(stocktake=stocktake, actor=actor),
        "approve": lambda: stocktake_approve(stocktake=stocktake, actor=actor, note=note),
        "reject": lambda: stocktake_reject(stocktake=stocktake, actor=actor, note=note),
        "recount": lambda: stocktake_recount(stocktake=stocktake, actor=actor, note=note),
    }
    if name in actions:
        actions[name]()
        return stocktake
    return _apply(stocktake, name, actor=actor, note=note)


# Approval: post the adjustments ---------------------------------------------------------------------------------
@dataclass
class ApprovalResult:
    """What the approval posted, for the message and the tests."""

    moved: int = 0
    kept: list[str] = field(default_factory=list)  # moved lines not corrected, with the reason
    disposal: AssetDisposal | None = None
    not_disposed: list[str] = field(default_factory=list)  # missing cards not put on the disposal, with why
    items_written_off: int = 0
    short: list[str] = field(default_factory=list)
    surplus: list[str] = field(default_factory=list)


def stocktake_approve(*, stocktake: Stocktake, actor, note: str = "") -> ApprovalResult:
    """Approve the 盘盈盘亏 result and post it (assets.approve_stocktake).

    - found elsewhere: the place is corrected by a STOCKTAKE journal row, unless a document moved the card
      since the count started (then it is left and listed);
    - missing cards: one draft 报废/处置 of method 盘亏 (write-off), approved through the disposal's own
      approval; cards lent out, under repair, already being disposed of or lent by a partner are listed;
    - missing low-value items: written off from the register (STOCKTAKE row, disposed of);
    - short batches and unexpected codes: listed (split the card / register the code) — nothing is guessed.
    """
    from .documents import disposal_create

    result = ApprovalResult()
    with transaction.atomic():
        _apply(stocktake, "approve", actor=actor, note=note, update={"approved_at": timezone.now()})
        label = f"{_('Stocktake')} {stocktake.number}"
        url = f"/assets/stocktakes/{stocktake.pk}/"
        lines = StocktakeLine.objects.filter(stocktake=stocktake)
        K = AssetMovement.Kind
        for model, fk in ((Asset, "asset"), (LowValueItem, "item")):
            moved = list(lines.filter(result=R.MOVED, **{f"{fk}__isnull": False})
                         .values_list(f"{fk}_id", "book_room_id", "found_room_id"))
            locked = journal.lock(model, [m[0] for m in moved])
            by_room: dict[int, list] = {}
            for subject_id, book_room_id, found_room_id in moved:
                subject = locked[subject_id]
                if subject.room_id == found_room_id:
                    continue  # already there (a document moved it meanwhile)
                if subject.status == UseStatus.DISPOSED or subject.room_id != book_room_id:
                    result.kept.append(_("%(what)s: moved by a document since the count started") % {
                        "what": subject})
                    continue
                by_room.setdefault(found_room_id, []).append(subject)
            for room_id, subjects in by_room.items():
                journal.post_many(subjects, kind=K.STOCKTAKE, actor=actor, room=room_id, document=label,
                                  document_url=url, note=_("Place corrected by the stocktake"))
                result.moved += len(subjects)

        missing = journal.lock(Asset, lines.filter(result=R.MISSING, asset__isnull=False)
                               .values_list("asset_id", flat=True))
        to_dispose = []
        for asset in missing.values():
            if asset.status in (UseStatus.DISPOSED, UseStatus.DISPOSING, UseStatus.LENT, UseStatus.REPAIR):
                result.not_disposed.append(f"{asset} ({asset.get_status_display()})")
            elif not asset.owned:
                result.not_disposed.append(_("%(what)s (lent by a partner company: tell the partner)") % {
                    "what": asset})
            else:
                to_dispose.append(asset)
        if to_dispose:
            result.disposal = disposal_create(
                school=stocktake.school, actor=actor, assets=to_dispose, method=AssetDisposal.Method.WRITE_OFF,
                reason=_("Stocktake loss (盘亏), %(number)s") % {"number": stocktake.number},
                note=_("Written by the approval of stocktake %(number)s") % {"number": stocktake.number})
            crud.object_update(obj=stocktake, actor=actor, data={"disposal": result.disposal},
                               message=_("Loss disposal %(number)s written") % {"number": result.disposal.number})

        items = journal.lock(LowValueItem, lines.filter(result=R.MISSING, item__isnull=False)
                             .values_list("item_id", flat=True))
        lost = [i for i in items.values() if i.status not in (UseStatus.DISPOSED, UseStatus.LENT, UseStatus.REPAIR)]
        result.not_disposed += [f"{i} ({i.get_status_display()})" for i in items.values() if i not in lost
                                and i.status != UseStatus.DISPOSED]
        if lost:
            journal.post_many(lost, kind=K.STOCKTAKE, actor=actor, status=UseStatus.DISPOSED, custodian=None,
                              document=label, document_url=url, note=_("Stocktake loss (盘亏), %(number)s") % {
                                  "number": stocktake.number})
            result.items_written_off = len(lost)
        result.short = [f"{c} ({f}/{b})" for c, f, b in lines.filter(result=R.SHORT)
                        .values_list("code", "found_quantity", "book_quantity")]
        result.surplus = list(lines.filter(result=R.SURPLUS, asset__isnull=True, item__isnull=True)
                              .values_list("code", flat=True).distinct())
    return result


# Read paths: the counting page and the 盘盈盘亏 report -----------------------------------------------------------
REPORT_ORDER = (R.FOUND, R.MOVED, R.SHORT, R.MISSING, R.SURPLUS, R.PENDING)
CENT = Decimal("0.01")


def progress(stocktake: Stocktake) -> dict:
    """Expected lines, how many are counted, how many unexpected (one aggregate query)."""
    row = StocktakeLine.objects.filter(stocktake=stocktake).aggregate(
        expected=Count("id", filter=~Q(result=R.SURPLUS)),
        counted=Count("id", filter=Q(result__in=(R.FOUND, R.MOVED, R.SHORT))),
        surplus=Count("id", filter=Q(result=R.SURPLUS, found_quantity__gt=0)))
    row["percent"] = round(100 * row["counted"] / row["expected"]) if row["expected"] else 0
    return row


def report_summary(stocktake: Stocktake) -> dict:
    """盘盈盘亏 summary: per result the lines, book and counted quantities and the value difference
    (counted − book, at the card's unit value), with totals — one GROUP BY query."""
    groups = (StocktakeLine.objects.filter(stocktake=stocktake)
              .values("result", "asset__quantity")
              .annotate(n=Count("id"), book=Sum("book_quantity"), found=Sum("found_quantity"),
                        asset_diff=Sum(F("asset__original_value") * (F("found_quantity") - F("book_quantity")),
                                       output_field=DecimalField(max_digits=20, decimal_places=2)),
                        asset_book=Sum(F("asset__original_value") * F("book_quantity"),
                                       output_field=DecimalField(max_digits=20, decimal_places=2)),
                        item_diff=Sum(F("item__unit_price") * (F("found_quantity") - F("book_quantity")),
                                      output_field=DecimalField(max_digits=20, decimal_places=2)),
                        item_book=Sum(F("item__unit_price") * F("book_quantity"),
                                      output_field=DecimalField(max_digits=20, decimal_places=2))))
    labels = dict(R.choices)
    rows = {r: {"result": r, "label": str(labels[r]), "count": 0, "book_quantity": 0, "found_quantity": 0,
                "book_value": Decimal("0.00"), "difference": Decimal("0.00")} for r in REPORT_ORDER}
    for g in groups:
        row = rows[g["result"]]
        per = g["asset__quantity"] or 1
        row["count"] += g["n"]
        row["book_quantity"] += g["book"] or 0
        row["found_quantity"] += g["found"] or 0
        row["book_value"] += Decimal(g["asset_book"] or 0) / per + Decimal(g["item_book"] or 0)
        row["difference"] += Decimal(g["asset_diff"] or 0) / per + Decimal(g["item_diff"] or 0)
    for row in rows.values():
        row["book_value"] = row["book_value"].quantize(CENT)
        row["difference"] = row["difference"].quantize(CENT)
    ordered = [rows[r] for r in REPORT_ORDER if r != R.PENDING or rows[r]["count"]]
    gain = sum((r["difference"] for r in ordered if r["difference"] > 0), Decimal("0.00"))
    loss = sum((r["difference"] for r in ordered if r["difference"] < 0), Decimal("0.00"))
    return {"rows": ordered, "by_result": rows, "gain": gain, "loss": loss,
            "expected": sum(r["count"] for r in ordered if r["result"] != R.SURPLUS)}


def report_lines(stocktake: Stocktake, results=None, room=None, ids=None):
    """The lines of the report as dicts, ordered by result then code; each with its value difference."""
    qs = StocktakeLine.objects.filter(stocktake=stocktake)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if results:
        qs = qs.filter(result__in=list(results))
    if room is not None:
        qs = qs.filter(Q(book_room=room) | Q(found_room=room))
    order = Case(*[When(result=r, then=Value(i)) for i, r in enumerate(REPORT_ORDER)])
    qs = qs.annotate(result_order=order).order_by("result_order", "code", "id").values(
        "id", "code", "result", "book_quantity", "found_quantity", "note", "asset_id", "item_id",
        "asset__name", "asset__spec", "asset__unit", "asset__quantity", "asset__original_value", "asset__status",
        "item__name", "item__spec", "item__unit", "item__unit_price", "item__status",
        "book_room_id", "book_room__code", "book_room__name", "found_room_id", "found_room__code",
        "found_room__name", "counted_at")
    labels = dict(R.choices)
    for v in qs.iterator(chunk_size=2000):
        if v["asset_id"]:
            unit_value = Decimal(v["asset__original_value"]) / (v["asset__quantity"] or 1)
        elif v["item_id"]:
            unit_value = Decimal(v["item__unit_price"])
        else:
            unit_value = None
        yield {
            "id": v["id"], "code": v["code"], "result": v["result"], "result_label": str(labels[v["result"]]),
            "name": v["asset__name"] or v["item__name"] or "", "spec": v["asset__spec"] or v["item__spec"] or "",
            "unit": v["asset__unit"] or v["item__unit"] or "", "asset_id": v["asset_id"], "item_id": v["item_id"],
            "book_room": f"{v['book_room__code']} {v['book_room__name']}" if v["book_room_id"] else "",
            "book_room_id": v["book_room_id"], "found_room_id": v["found_room_id"],
            "found_room": f"{v['found_room__code']} {v['found_room__name']}" if v["found_room_id"] else "",
            "book_quantity": v["book_quantity"], "found_quantity": v["found_quantity"],
            "book_value": (unit_value * v["book_quantity"]).quantize(CENT) if unit_value is not None else None,
            "difference": (unit_value * (v["found_quantity"] - v["book_quantity"])).quantize(CENT)
            if unit_value is not None else None,
            "note": v["note"], "counted_at": v["counted_at"],
        }


def room_status(stocktake: Stocktake, room) -> dict:
    """For the counting page: the room's counts (found here / not yet / unexpected here) and its lines."""
    lines = StocktakeLine.objects.filter(stocktake=stocktake)
    booked = lines.filter(book_room=room).exclude(result=R.SURPLUS)
    counts = booked.aggregate(expected=Count("id"), found=Count("id", filter=Q(found_room=room)),
                              missing=Count("id", filter=Q(result__in=(R.PENDING, R.MISSING))),
                              elsewhere=Count("id", filter=Q(found_room__isnull=False) & ~Q(found_room=room)))
    counts["unexpected"] = (lines.filter(found_room=room, found_quantity__gt=0)
                            .filter(Q(result=R.SURPLUS) | ~Q(book_room=room) | Q(book_room__isnull=True)).count())
    return counts


def due_for_stocktake(school_id: int, today: datetime.date | None = None):
    """Stocktakes planned for today or earlier and not started (the dashboard reminder, X-5)."""
    today = today or timezone.localdate()
    return Stocktake.objects.filter(school_id=school_id, status=S.PLANNED, planned_on__lte=today)


__all__ = ["ApprovalResult", "ScanResult", "progress", "report_lines", "report_summary", "room_status",
           "stocktake_approve", "stocktake_finish", "stocktake_plan", "stocktake_recount", "stocktake_reject",
           "stocktake_scan", "stocktake_start", "stocktake_transition"]
