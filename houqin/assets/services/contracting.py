"""Class contracting (AST-6) and damage compensation (AST-5): the write paths, their workflows and read paths.

- The school switches contracting on or off (``contracting_switch``); switched off, its pages answer 404
  with a page saying so and every contracting write is refused. Damage records (AST-5) stay: a window
  broken in a corridor is compensated whether or not classes sign contracts.
- ``contracting_start_term`` writes a draft 承包责任书 for every active class with a classroom, filled from
  what the room holds and from the room's previous contract (doors and windows); running it twice writes
  nothing new.
- The class teacher (班主任) of the class signs it and records its monthly checks; a check with items
  short or damaged offers damage records linked to its line ("谁损坏谁负责", 篇2-三-三-3).
- A damage record is decided (in full / reduced / waived — a reason for the last two), then collected
  (receipt number, never above the decided amount) or put on the student's fee statement.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import crud
from houqin.core.audit import audit_record, serialize_for_audit
from houqin.core.ids import as_key
from houqin.core.models import AuditEntry
from houqin.core.workflow import T, TransitionNotAllowed, Workflow

from ..choices import UseStatus
from ..models import (
    Asset,
    ClassContract,
    ClassContractLine,
    ContractCheck,
    ContractCheckLine,
    DamageRecord,
    LowValueItem,
)
from ..models.contracting import Condition, ItemKind
from .common import next_value, settings_for

MODULE = "class_contracting"  # org.roles.MODULES: the school's own "modules in use" switch
# Who manages contracts and damage records for the whole school (AST-6 brief: 后勤主任, 资产管理员).
MANAGERS = ("logistics_director", "asset_keeper")
# Roles that see every contract, check and damage record of the school.
WHOLE_SCHOOL = ("principal", "vice_principal", "logistics_director", "logistics_clerk", "asset_keeper",
                "accountant", "cashier", "sysadmin", "bureau")

# Care score for the teacher performance review (AST-6 "desk/chair care counts in teacher performance
# review"). A school practice, not a regulation: 100 points, minus SHORT_POINTS for each item found short
# and DAMAGED_POINTS for each item found damaged, summed over the term's monthly checks (an item still
# missing next month counts again: it was not made good), never below 0.
CARE_FULL = 100
SHORT_POINTS = 2
DAMAGED_POINTS = 3

C = ClassContract.Status
D = DamageRecord.Status


# The switch ----------------------------------------------------------------------------------------------------
def contracting_enabled(school) -> bool:
    """On unless the school switched it off, in its asset settings or among its modules in use."""
    if school is None:
        return False
    return school.module_enabled(MODULE) and settings_for(school).contracting_enabled


def assert_enabled(school) -> None:
    if not contracting_enabled(school):
        raise ValidationError(_("Class contracting is not in use at this school."))


@transaction.atomic
def contracting_switch(*, school, enabled: bool, actor) -> None:
    """Switch the module on or off: the asset setting and the school's module list (the menu) together."""
    from houqin.org.services import school_set_modules

    conf = settings_for(school)
    if conf.contracting_enabled != enabled:
        crud.object_update(obj=conf, data={"contracting_enabled": enabled}, actor=actor)
    disabled = set(school.disabled_modules or [])
    wanted = disabled - {MODULE} if enabled else disabled | {MODULE}
    if wanted != disabled:
        school_set_modules(school=school, disabled=sorted(wanted), actor=actor)


# Who may act for a class ---------------------------------------------------------------------------------------
def is_manager(user) -> bool:
    return bool(getattr(user, "is_superuser", False) or (hasattr(user, "has_role") and user.has_role(*MANAGERS)))


def is_class_teacher_of(user, school_class) -> bool:
    staff = getattr(user, "staff_or_none", None)
    return staff is not None and school_class is not None and school_class.head_teacher_id == staff.pk


def may_act_for_class(user, school_class) -> bool:
    """Managers act for every class; a class teacher only for the class they lead (row rule of AST-6)."""
    return is_manager(user) or is_class_teacher_of(user, school_class)


def _own_classes_filter(user, path: str) -> Q | None:
    """Rows of the user's own classes (None: the user leads no class)."""
    staff = getattr(user, "staff_or_none", None)
    if staff is None:
        return None
    return Q(**{f"{path}__head_teacher": staff})


def contract_row_rule(qs: QuerySet, user, action: str) -> QuerySet:
    if user.has_role(*WHOLE_SCHOOL):
        return qs
    cond = _own_classes_filter(user, "school_class")
    return qs.filter(cond) if cond is not None else qs.none()


def check_row_rule(qs: QuerySet, user, action: str) -> QuerySet:
    if user.has_role(*WHOLE_SCHOOL):
        return qs
    cond = _own_classes_filter(user, "contract__school_class")
    return qs.filter(cond) if cond is not None else qs.none()


def damage_row_rule(qs: QuerySet, user, action: str) -> QuerySet:
    if user.has_role(*WHOLE_SCHOOL):
        return qs
    cond = _own_classes_filter(user, "school_class")
    return qs.filter(cond) if cond is not None else qs.none()


# Workflows -----------------------------------------------------------------------------------------------------
def _sign_guard(contract: ClassContract, actor) -> str | None:
    if not contracting_enabled(contract.school):
        return _("Class contracting is not in use at this school.")
    if not is_class_teacher_of(actor, contract.school_class):
        return _("Only the class teacher of %(cls)s signs its contract.") % {"cls": contract.school_class}
    if not contract.lines.exists():
        return _("The contract has no lines yet: nothing to sign for.")
    return None


contract_flow = Workflow(
    model=ClassContract,
    transitions=[
        T("sign", (C.DRAFT,), C.SIGNED, gettext_lazy("Sign the contract"), perm="assets.sign_classcontract",
          guard=_sign_guard, style="primary"),
        T("close", (C.SIGNED,), C.CLOSED, gettext_lazy("Close at term end"), perm="assets.close_classcontract",
          confirm=gettext_lazy("Close this contract? No more monthly checks can be recorded on it.")),
        T("cancel", (C.DRAFT,), C.CANCELLED, gettext_lazy("Cancel"), perm="assets.close_classcontract",
          needs_note=True, style="outline-danger"),
    ],
    colors={"draft": "yellow", "signed": "green", "closed": "secondary", "cancelled": "secondary"},
)


def _charge_guard(record: DamageRecord, actor) -> str | None:
    if record.voided_at:
        return _("This record is voided.")
    if record.responsible != DamageRecord.Responsible.STUDENT or not record.student_id:
        return _("Only a student's compensation can be charged on the fee statement.")
    return None


damage_flow = Workflow(
    model=DamageRecord,
    transitions=[
        T("decide", (D.RECORDED,), D.DECIDED, gettext_lazy("Decide"), perm="assets.decide_damagerecord",
          system=True),
        T("waive", (D.RECORDED,), D.WAIVED, gettext_lazy("Waive"), perm="assets.decide_damagerecord", system=True),
        T("charge", (D.DECIDED,), D.CHARGED, gettext_lazy("Charge on the fee statement"),
          perm="assets.collect_damagerecord", guard=_charge_guard,
          confirm=gettext_lazy("Put the amount on the student's fee statement instead of collecting it now?")),
        T("collect", (D.DECIDED, D.CHARGED), D.COLLECTED, gettext_lazy("Record collection"),
          perm="assets.collect_damagerecord", system=True),
    ],
    colors={"recorded": "yellow", "decided": "orange", "charged": "azure", "collected": "green",
            "waived": "secondary"},
)


# Contracts -----------------------------------------------------------------------------------------------------
# Keywords of item names → kind (the demo's 学生课桌椅, a 学生凳, 前门, 铝合金窗 …). First match wins.
KIND_KEYWORDS = [
    (("桌椅", "课桌凳"), ItemKind.DESK_SET),
    (("桌",), ItemKind.DESK),
    (("凳", "椅"), ItemKind.STOOL),
    (("门锁", "把手", "锁"), ItemKind.HANDLE),
    (("门",), ItemKind.DOOR),
    (("窗",), ItemKind.WINDOW),
    (("黑板", "白板"), ItemKind.BOARD),
    (("灯", "风扇", "空调", "插座", "开关"), ItemKind.ELECTRICAL),
    (("投影", "电脑", "计算机", "一体机", "电视", "音箱", "多媒体"), ItemKind.MULTIMEDIA),
]


def kind_for(name: str, *, low_value: bool) -> str:
    for words, kind in KIND_KEYWORDS:
        if any(w in name for w in words):
            return kind
    return ItemKind.SUPPLIES if low_value else ItemKind.OTHER


def _condition_of(status: str) -> str:
    return Condition.DAMAGED if status == UseStatus.REPAIR else Condition.GOOD


def lines_from_room(room, *, previous: ClassContract | None = None) -> list[ClassContractLine]:
    """What the room holds (cards and low-value items, one line each) and, from its previous contract,
    the lines no card stands for (doors, windows, handles written in by hand)."""
    if room is None:
        return []
    lines = []
    on_books = Q(room=room) & ~Q(status__in=(UseStatus.DISPOSED, UseStatus.DISPOSING, UseStatus.LENT))
    for asset in Asset.objects.filter(on_books).order_by("code"):
        lines.append(ClassContractLine(kind=kind_for(asset.name, low_value=False), name=asset.name[:100],
                                       quantity=asset.quantity, condition=_condition_of(asset.status), asset=asset,
                                       note=asset.code))
    for item in LowValueItem.objects.filter(on_books).order_by("code"):
        lines.append(ClassContractLine(kind=kind_for(item.name, low_value=True), name=item.name[:100],
                                       quantity=item.quantity, condition=_condition_of(item.status), item=item,
                                       note=item.code))
    if previous is not None:
        for old in previous.lines.filter(asset__isnull=True, item__isnull=True).order_by("id"):
            lines.append(ClassContractLine(kind=old.kind, name=old.name, quantity=old.quantity,
                                           condition=old.condition, note=old.note))
    return lines


def _previous_contract(school_class, room, term) -> ClassContract | None:
    if room is None:
        return None
    return (ClassContract.objects.filter(room=room, term__start_on__lt=term.start_on)
            .exclude(status=C.CANCELLED).order_by("-term__start_on", "-id").first())


def _audit_lines(contract: ClassContract, actor, message: str) -> None:
    """One update entry on the contract; its lines (not a field) are written out in the message."""
    snapshot = serialize_for_audit(contract)
    lines = "；".join(f"{ln.name} × {ln.quantity}（{ln.get_condition_display()}）" for ln in contract.lines.all())
    audit_record(obj=contract, action=AuditEntry.Action.UPDATE, actor=actor, before=snapshot, after=snapshot,
                 message=f"{message}：{lines}")


@transaction.atomic
def contract_create(*, school, school_class, term, actor, note: str = "") -> ClassContract:
    """A draft contract for one class and term, filled from its classroom (AST-6)."""
    assert_enabled(school)
    if school_class is None or school_class.school_id != school.pk:
        raise ValidationError({"school_class": _("Choose a class of this school.")})
    if term is None or term.school_id != school.pk:
        raise ValidationError({"term": _("Choose a term of this school.")})
    if school_class.status != school_class.Status.ACTIVE:
        raise ValidationError({"school_class": _("%(cls)s has graduated.") % {"cls": school_class}})
    if ClassContract.objects.filter(school_class=school_class, term=term).exists():
        raise ValidationError({"school_class": _("%(cls)s already has a contract for %(term)s.") % {
            "cls": school_class, "term": term}})
    contract = ClassContract(school=school, school_class=school_class, term=term, room=school_class.room,
                             class_teacher=school_class.head_teacher, note=note)
    crud.object_create(obj=contract, actor=actor)
    lines = lines_from_room(school_class.room, previous=_previous_contract(school_class, school_class.room, term))
    for line in lines:
        line.contract = contract
    ClassContractLine.objects.bulk_create(lines)
    return contract


@transaction.atomic
def contracting_start_term(*, school, term, actor) -> dict:
    """Term start: a draft contract for every active class with a classroom that has none for ``term`` yet.

    Idempotent: a class that already has one (in any state, cancelled included) is left alone.
    """
    from houqin.org.models import SchoolClass

    assert_enabled(school)
    if term is None or term.school_id != school.pk:
        raise ValidationError({"term": _("Choose a term of this school.")})
    classes = list(SchoolClass.objects.filter(school=school, status=SchoolClass.Status.ACTIVE)
                   .select_related("room", "head_teacher").order_by("name"))
    having = set(ClassContract.objects.filter(school=school, term=term).values_list("school_class_id", flat=True))
    result = {"created": 0, "existing": 0, "without_room": []}
    for school_class in classes:
        if school_class.pk in having:
            result["existing"] += 1
        elif school_class.room_id is None:
            result["without_room"].append(school_class.name)
        else:
            contract_create(school=school, school_class=school_class, term=term, actor=actor)
            result["created"] += 1
    return result


# The most of one thing a class contract counts (desks, window panes). Far below what the count columns hold
# (PostgreSQL's integer stops at 2,147,483,647): a larger number is a typing slip, refused next to the field.
MAX_COUNT = 99_999


def _positive_int(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number.")}) from None
    if number < 0:
        raise ValidationError({field: _("The number cannot be negative.")})
    if number > MAX_COUNT:
        raise ValidationError({field: _("The number is too large (at most %(max)s).") % {"max": MAX_COUNT}})
    return number


@transaction.atomic
def contract_lines_save(*, contract: ClassContract, rows: list[dict], actor) -> ClassContract:
    """Replace the lines of a draft contract (the 资产管理员 adds doors and windows, corrects counts).

    ``rows``: {"kind", "name", "quantity", "condition", "note", optional "id" of the line it replaces}.
    """
    contract = ClassContract.objects.select_for_update().get(pk=contract.pk)
    assert_enabled(contract.school)
    if contract.status != C.DRAFT:
        raise ValidationError(_("Only the lines of a contract awaiting signature can be changed."))
    if not is_manager(actor):
        raise ValidationError(_("Only the logistics office changes the lines of a contract."))
    kinds = dict(ItemKind.choices)
    conditions = dict(Condition.choices)
    existing = {ln.pk: ln for ln in contract.lines.all()}
    keep, new = [], []
    for n, row in enumerate(rows):
        name = (row.get("name") or "").strip()
        if not name:
            raise ValidationError({f"lines-{n}-name": _("Name the item.")})
        if row.get("kind") not in kinds:
            raise ValidationError({f"lines-{n}-kind": _("Choose the kind of item.")})
        quantity = _positive_int(row.get("quantity"), f"lines-{n}-quantity")
        if quantity < 1:
            raise ValidationError({f"lines-{n}-quantity": _("The quantity must be at least 1.")})
        condition = row.get("condition") or Condition.GOOD
        if condition not in conditions:
            raise ValidationError({f"lines-{n}-condition": _("Choose the condition.")})
        line = existing.get(as_key(row.get("id")))
        if line is None:
            line = ClassContractLine(contract=contract)
            new.append(line)
        else:
            keep.append(line)
        line.kind, line.name, line.quantity, line.condition = row["kind"], name[:100], quantity, condition
        line.note = (row.get("note") or "").strip()[:200]
    removed = [pk for pk in existing if pk not in {ln.pk for ln in keep}]
    ClassContractLine.objects.filter(pk__in=removed).delete()  # a draft's lines: never checked, never signed
    if keep:
        ClassContractLine.objects.bulk_update(keep, ["kind", "name", "quantity", "condition", "note"])
    ClassContractLine.objects.bulk_create(new)
    _audit_lines(contract, actor, _("Contract lines changed"))
    return contract


def contract_sign(*, contract: ClassContract, actor, note: str = "") -> ClassContract:
    """The class teacher signs: the class takes the listed things into its care for the term."""
    staff = getattr(actor, "staff_or_none", None)
    return contract_flow.apply(contract, "sign", actor=actor, note=note,
                               update={"signed_by": actor, "signed_at": timezone.now(), "class_teacher": staff})


def contract_transition(*, contract: ClassContract, name: str, actor, note: str = "") -> ClassContract:
    if name == "sign":
        return contract_sign(contract=contract, actor=actor, note=note)
    if name == "close":
        return contract_flow.apply(contract, "close", actor=actor, note=note, update={"closed_at": timezone.now()})
    return contract_flow.apply(contract, name, actor=actor, note=note)


# Monthly checks ------------------------------------------------------------------------------------------------
def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


@transaction.atomic
def check_record(*, contract: ClassContract, checked_on: datetime.date | None, actor, lines=None,
                 note: str = "") -> ContractCheck:
    """Record this month's check of a signed contract.

    ``lines``: [{"line": contract line or its id, "quantity_found", "damaged", "note"}]; a contract line
    left out was found complete and undamaged. Short = contracted − found (never below 0).
    """
    contract = ClassContract.objects.select_for_update().select_related("school", "school_class", "term").get(
        pk=contract.pk)
    assert_enabled(contract.school)
    if not may_act_for_class(actor, contract.school_class):
        raise ValidationError(_("Only the class teacher of %(cls)s or the logistics office records its checks.")
                              % {"cls": contract.school_class})
    if contract.status != C.SIGNED:
        raise ValidationError({"contract": _("Only a signed contract is checked (this one is %(state)s).") % {
            "state": contract.get_status_display()}})
    checked_on = checked_on or timezone.localdate()
    if checked_on > timezone.localdate():
        raise ValidationError({"checked_on": _("The date is in the future.")})
    term = contract.term
    if not (term.start_on <= checked_on <= term.end_on):
        raise ValidationError({"checked_on": _("The check must fall within the term (%(start)s – %(end)s).") % {
            "start": term.start_on, "end": term.end_on}})
    month = month_of(checked_on)
    if ContractCheck.objects.filter(contract=contract, month=month, voided_at__isnull=True).exists():
        raise ValidationError({"checked_on": _("%(cls)s already has a check for %(month)s; void it to record it "
                                               "again.") % {"cls": contract.school_class,
                                                            "month": f"{month:%Y-%m}"}})
    contract_lines = {ln.pk: ln for ln in contract.lines.all()}
    given: dict[int, dict] = {}
    for n, row in enumerate(lines or []):
        ref = row.get("line")
        pk = getattr(ref, "pk", ref)
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            pk = None
        if pk not in contract_lines:
            raise ValidationError({"lines": _("Line %(n)s is not a line of this contract.") % {"n": n + 1}})
        given[pk] = row
    made = []
    for pk, line in contract_lines.items():
        row = given.get(pk, {})
        label = line.name
        found = _positive_int(row.get("quantity_found", line.quantity), "lines")
        damaged = _positive_int(row.get("damaged", 0) or 0, "lines")
        if damaged > found:
            raise ValidationError({"lines": _("%(item)s: more damaged (%(damaged)s) than found (%(found)s).") % {
                "item": label, "damaged": damaged, "found": found}})
        made.append(ContractCheckLine(line=line, quantity_found=found, shortfall=max(line.quantity - found, 0),
                                      damaged=damaged, note=(row.get("note") or "").strip()[:200]))
    check = ContractCheck(school=contract.school, contract=contract, checked_on=checked_on, month=month,
                          checked_by=actor, note=note, shortfall=sum(m.shortfall for m in made),
                          damaged=sum(m.damaged for m in made))
    crud.object_create(obj=check, actor=actor)
    for m in made:
        m.contract_check = check
    ContractCheckLine.objects.bulk_create(made)
    return check


@transaction.atomic
def check_void(*, check: ContractCheck, reason: str, actor) -> ContractCheck:
    """Void a wrong check (then record it again); refused while a live damage record stands on it."""
    if DamageRecord.objects.filter(check_line__contract_check=check, voided_at__isnull=True).exists():
        raise ValidationError(_("Damage records were written from this check: void them first."))
    return crud.object_void(obj=check, reason=reason, actor=actor)


def problem_lines(check: ContractCheck) -> list[ContractCheckLine]:
    """The lines found short or damaged: each offers a damage record (谁损坏谁负责)."""
    return [ln for ln in check.lines.select_related("line", "line__asset", "line__item")
            if ln.shortfall or ln.damaged]


# Damage records (AST-5) ----------------------------------------------------------------------------------------
def _damage_number(school, day: datetime.date) -> str:
    return f"PC{day.year}-{next_value(school, 'damage', day.year):04d}"


def _clean_responsible(data: dict, school) -> None:
    kind = data.get("responsible") or DamageRecord.Responsible.UNKNOWN
    data["responsible"] = kind
    student, staff = data.get("student"), data.get("staff")
    if kind == DamageRecord.Responsible.STUDENT:
        if student is None:
            raise ValidationError({"student": _("Choose the student who damaged it.")})
        if student.school_id != school.pk:
            raise ValidationError({"student": _("Choose a student of this school.")})
        data["staff"] = None
        if data.get("school_class") is None:
            data["school_class"] = student.school_class
    elif kind == DamageRecord.Responsible.STAFF:
        if staff is None:
            raise ValidationError({"staff": _("Choose the staff member who damaged it.")})
        if staff.school_id != school.pk:
            raise ValidationError({"staff": _("Choose a staff member of this school.")})
        data["student"] = None
    else:
        data["student"] = data["staff"] = None


def _clean_amount(value, field: str) -> Decimal:
    if value in (None, ""):
        raise ValidationError({field: _("Enter the amount.")})
    amount = Decimal(str(value))
    if amount < 0:
        raise ValidationError({field: _("The amount cannot be negative.")})
    return amount.quantize(Decimal("0.01"))


DAMAGE_FIELDS = ("what", "asset", "item", "check_line", "room", "happened_on", "responsible", "student", "staff",
                 "school_class", "description", "assessed_amount")


@transaction.atomic
def damage_create(*, school, actor, data: dict) -> DamageRecord:
    """Record who damaged what (AST-5); from a check line, the thing, place, class and date are filled in."""
    data = {k: v for k, v in data.items() if k in DAMAGE_FIELDS}
    line = data.get("check_line")
    if line is not None:
        check = line.contract_check
        if check.school_id != school.pk or check.voided_at:
            raise ValidationError({"check_line": _("Choose a line of a valid check of this school.")})
        if not (line.shortfall or line.damaged):
            raise ValidationError({"check_line": _("Nothing was found short or damaged on this line.")})
        contract = check.contract
        if not may_act_for_class(actor, contract.school_class):
            raise ValidationError(_("Only the class teacher of %(cls)s or the logistics office records its damage.")
                                  % {"cls": contract.school_class})
        data.setdefault("what", line.line.name)
        data["what"] = data.get("what") or line.line.name
        data["asset"] = data.get("asset") or line.line.asset
        data["item"] = data.get("item") or line.line.item
        data["room"] = data.get("room") or contract.room
        data["school_class"] = data.get("school_class") or contract.school_class
        data["happened_on"] = data.get("happened_on") or check.checked_on
    else:
        cls = data.get("school_class") or getattr(data.get("student"), "school_class", None)
        if not is_manager(actor) and not (cls is not None and is_class_teacher_of(actor, cls)):
            raise ValidationError({"school_class": _("A class teacher records damage for their own class only.")})
    if not data.get("what"):
        subject = data.get("asset") or data.get("item")
        if subject is None:
            raise ValidationError({"what": _("Say what was damaged.")})
        data["what"] = subject.name[:100]
    for name in ("asset", "item", "room", "school_class"):
        value = data.get(name)
        if value is not None and value.school_id != school.pk:
            raise ValidationError({name: _("Choose one of this school.")})
    if data.get("room") is None:
        subject = data.get("asset") or data.get("item")
        data["room"] = subject.room if subject is not None else None
    day = data.get("happened_on") or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"happened_on": _("The date is in the future.")})
    data["happened_on"] = day
    if not (data.get("description") or "").strip():
        raise ValidationError({"description": _("Describe what happened.")})
    data["assessed_amount"] = _clean_amount(data.get("assessed_amount"), "assessed_amount")
    _clean_responsible(data, school)
    record = DamageRecord(school=school, number=_damage_number(school, day), reported_by=actor, **data)
    return crud.object_create(obj=record, actor=actor)


@transaction.atomic
def damage_update(*, record: DamageRecord, actor, data: dict) -> DamageRecord:
    """Correct a record before its decision; afterwards it is voided and written again."""
    record = DamageRecord.objects.select_for_update().get(pk=record.pk)
    if record.voided_at or record.status != D.RECORDED:
        raise ValidationError(_("Only a record awaiting decision can be changed."))
    data = {k: v for k, v in data.items() if k in DAMAGE_FIELDS and k != "check_line"}
    merged = {name: getattr(record, name) for name in DAMAGE_FIELDS if name != "check_line"}
    merged.update(data)
    merged["assessed_amount"] = _clean_amount(merged.get("assessed_amount"), "assessed_amount")
    if merged["happened_on"] and merged["happened_on"] > timezone.localdate():
        raise ValidationError({"happened_on": _("The date is in the future.")})
    _clean_responsible(merged, record.school)
    crud.object_update(obj=record, data=merged, actor=actor)
    return record


def _live(record: DamageRecord) -> DamageRecord:
    record = DamageRecord.objects.select_for_update().get(pk=record.pk)
    if record.voided_at:
        raise ValidationError(_("This record is voided."))
    return record


@transaction.atomic
def damage_decide(*, record: DamageRecord, decision: str, actor, amount=None, reason: str = "") -> DamageRecord:
    """认定: compensate in full, a reduced amount or waive; reduced and waived need the reason."""
    record = _live(record)
    reason = (reason or "").strip()
    if decision == DamageRecord.Decision.FULL:
        decided = record.assessed_amount
    elif decision == DamageRecord.Decision.REDUCED:
        if not reason:
            raise ValidationError({"reason": _("Give the reason for reducing the amount.")})
        decided = _clean_amount(amount, "amount")
        if decided >= record.assessed_amount:
            raise ValidationError({"amount": _("A reduced amount is below the assessed ¥%(assessed)s.") % {
                "assessed": record.assessed_amount}})
    elif decision == DamageRecord.Decision.WAIVED:
        if not reason:
            raise ValidationError({"reason": _("Give the reason for waiving the compensation.")})
        decided = Decimal("0.00")
    else:
        raise ValidationError({"decision": _("Choose the decision.")})
    if decision != DamageRecord.Decision.WAIVED and record.responsible == DamageRecord.Responsible.UNKNOWN:
        raise ValidationError({"decision": _("Nobody is known to have done it: the compensation can only be "
                                             "waived.")})
    update = {"decision": decision, "decided_amount": decided, "decision_reason": reason[:200], "decided_by": actor,
              "decided_at": timezone.now()}
    name = "waive" if decision == DamageRecord.Decision.WAIVED else "decide"
    try:
        return damage_flow.apply(record, name, actor=actor, note=reason, update=update)
    except TransitionNotAllowed as exc:
        raise ValidationError(str(exc)) from None


@transaction.atomic
def damage_collect(*, record: DamageRecord, amount, receipt_no: str, actor, collected_on=None,
                   note: str = "") -> DamageRecord:
    """收取: the amount (never above the decided amount) with the receipt number; less than decided needs a note."""
    record = _live(record)
    value = _clean_amount(amount, "amount")
    if value <= 0:
        raise ValidationError({"amount": _("Enter the amount received.")})
    if record.decided_amount is None:
        raise ValidationError(_("Decide the compensation before collecting it."))
    if value > record.decided_amount:
        raise ValidationError({"amount": _("¥%(amount)s is more than the decided ¥%(decided)s.") % {
            "amount": value, "decided": record.decided_amount}})
    note = (note or "").strip()
    if value < record.decided_amount and not note:
        raise ValidationError({"note": _("Less than the decided amount: say why.")})
    receipt_no = (receipt_no or "").strip()
    if not receipt_no:
        raise ValidationError({"receipt_no": _("Enter the receipt number.")})
    day = collected_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"collected_on": _("The date is in the future.")})
    update = {"collected_amount": value, "collected_on": day, "receipt_no": receipt_no[:40], "collected_by": actor,
              "collection_note": note[:200]}
    try:
        return damage_flow.apply(record, "collect", actor=actor, note=note or receipt_no, update=update)
    except TransitionNotAllowed as exc:
        raise ValidationError(str(exc)) from None


def damage_charge(*, record: DamageRecord, actor, note: str = "") -> DamageRecord:
    """Put a student's compensation on their fee statement (the fees app collects it later)."""
    return damage_flow.apply(record, "charge", actor=actor, note=note)


def damage_transition(*, record: DamageRecord, name: str, actor, note: str = "") -> DamageRecord:
    if name == "charge":
        return damage_charge(record=record, actor=actor, note=note)
    return damage_flow.apply(record, name, actor=actor, note=note)


@transaction.atomic
def damage_void(*, record: DamageRecord, reason: str, actor) -> DamageRecord:
    """Void a wrong record (never deleted); money already received is refunded through finance first."""
    if DamageRecord.objects.filter(pk=record.pk, status=D.COLLECTED).exists():
        raise ValidationError(_("The compensation has been collected: it cannot be voided."))
    return crud.object_void(obj=record, reason=reason, actor=actor)


# Read paths ----------------------------------------------------------------------------------------------------
def damage_charges_for_fee_statement(school, student) -> QuerySet:
    """For the fees app (FEE): a student's compensations to charge on their fee statement, oldest first.

    Each row's ``decided_amount`` is the amount to charge; the fees app calls ``damage_collect`` with its
    receipt number once the statement is paid.
    """
    return DamageRecord.objects.filter(school=school, student=student, status=D.CHARGED,
                                       voided_at__isnull=True).order_by("happened_on", "id")


def current_term(school, today: datetime.date | None = None):
    from houqin.org.models import Term

    today = today or timezone.localdate()
    terms = Term.objects.filter(school=school)
    return (terms.filter(start_on__lte=today, end_on__gte=today).first()
            or terms.filter(start_on__lte=today).order_by("-start_on").first()
            or terms.order_by("start_on").first())


def months_due(term, today: datetime.date | None = None) -> int:
    """Monthly checks due so far in the term: one per calendar month from its start to today (or its end)."""
    today = today or timezone.localdate()
    last = min(today, term.end_on)
    if last < term.start_on:
        return 0
    return (last.year - term.start_on.year) * 12 + last.month - term.start_on.month + 1


def care_score(shortfall: int, damaged: int) -> int:
    """The care score of a class for the term (see CARE_FULL above): 100 − 2/short − 3/damaged, floor 0."""
    return max(0, CARE_FULL - SHORT_POINTS * shortfall - DAMAGED_POINTS * damaged)


def contracting_rollup(*, school, term, today: datetime.date | None = None, user=None) -> list[dict]:
    """Per class of the term (AST-6 roll-up per class teacher): the teacher, items contracted, checks done of
    those due, items short and damaged over the checks, damage records and their amount, the care score.

    Damage records count for the class when they happened within the term and are not voided; the amount
    is what is owed (decided, else assessed; 0 when waived). Set-based: a handful of queries per term.
    """
    contracts = ClassContract.objects.filter(school=school, term=term).exclude(status=C.CANCELLED)
    if user is not None:
        from houqin.core.permissions import scope

        contracts = scope(contracts, user, "view")
    contracts = list(contracts.select_related("school_class", "school_class__head_teacher", "class_teacher",
                                              "room").order_by("school_class__name"))
    ids = [c.pk for c in contracts]
    items = dict(ClassContractLine.objects.filter(contract_id__in=ids).values("contract_id")
                 .annotate(n=Sum("quantity")).values_list("contract_id", "n"))
    checks = {row["contract_id"]: row for row in ContractCheck.objects.filter(
        contract_id__in=ids, voided_at__isnull=True).values("contract_id").annotate(
        n=Count("id"), short=Sum("shortfall"), damaged=Sum("damaged"))}
    damages: dict[int, dict] = defaultdict(lambda: {"n": 0, "amount": Decimal("0.00")})
    for record in DamageRecord.objects.filter(
            school=school, voided_at__isnull=True, school_class_id__in=[c.school_class_id for c in contracts],
            happened_on__gte=term.start_on, happened_on__lte=term.end_on).only(
            "school_class_id", "status", "decided_amount", "assessed_amount"):
        row = damages[record.school_class_id]
        row["n"] += 1
        row["amount"] += record.amount_due
    due = months_due(term, today)
    rows = []
    for c in contracts:
        done = checks.get(c.pk, {})
        short, damaged = done.get("short") or 0, done.get("damaged") or 0
        teacher = c.class_teacher or c.school_class.head_teacher
        rows.append({
            "contract": c, "school_class": c.school_class, "teacher": teacher, "room": c.room,
            "status": c.get_status_display(), "items": items.get(c.pk) or 0, "checks": done.get("n") or 0,
            "checks_due": due if c.status != C.DRAFT else 0, "shortfall": short, "damaged": damaged,
            "damage_count": damages[c.school_class_id]["n"], "damage_amount": damages[c.school_class_id]["amount"],
            "score": care_score(short, damaged),
        })
    return rows


def checks_missing_this_month(school, today: datetime.date | None = None, user=None) -> QuerySet:
    """Signed contracts of the current term without a check this month (the dashboard's reminder)."""
    today = today or timezone.localdate()
    term = current_term(school, today)
    if term is None or not (term.start_on <= today <= term.end_on):
        return ClassContract.objects.none()
    done = ContractCheck.objects.filter(school=school, month=month_of(today), voided_at__isnull=True)
    qs = ClassContract.objects.filter(school=school, term=term, status=C.SIGNED).exclude(
        pk__in=done.values("contract_id"))
    if user is not None:
        from houqin.core.permissions import scope

        qs = scope(qs, user, "view")
    return qs


def damages_awaiting_collection(school, user=None) -> QuerySet:
    qs = DamageRecord.objects.filter(school=school, status__in=(D.DECIDED, D.CHARGED), voided_at__isnull=True)
    if user is not None:
        from houqin.core.permissions import scope

        qs = scope(qs, user, "view")
    return qs
