"""Class contracting (AST-6) and damage compensation (AST-5): term start, signing, monthly checks, damage records,
decision and collection, the roll-up per class teacher, the module switch, the API and the roles."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from houqin.assets.models import ClassContract, ContractCheck, DamageRecord
from houqin.assets.models.contracting import ItemKind
from houqin.assets.services import cards
from houqin.assets.services import contracting as services
from houqin.core.models import AuditEntry, StatusChange
from houqin.core.workflow import TransitionNotAllowed
from houqin.org.models import SchoolClass, Term
from houqin.org.tests.factories import StudentFactory, TermFactory

from .factories import AssetFactory, _category
from .factories_contracting import contract_with_lines, new_class, term_today

TODAY = timezone.localdate()
D = DamageRecord.Status


@pytest.fixture
def keeper(personas):
    return personas["asset_keeper"]


@pytest.fixture
def director(personas):
    return personas["logistics_director"]


def _teacher_of(contract):
    return contract.school_class.head_teacher.user


def _signed(**kwargs):
    return contract_with_lines(signed=True, **kwargs)


def _stool_line(contract):
    return contract.lines.get(kind=ItemKind.STOOL)


def _check(contract, actor, found=None, damaged=0, on=None):
    line = _stool_line(contract)
    return services.check_record(contract=contract, checked_on=on or TODAY, actor=actor, lines=[
        {"line": line.pk, "quantity_found": line.quantity if found is None else found, "damaged": damaged}])


def _student(school_class):
    return StudentFactory(school_class=school_class)


# Term start -----------------------------------------------------------------------------------------------------
def test_start_term_fills_each_class_from_its_room_carries_doors_forward_and_is_idempotent(school, keeper):
    earlier, later = TermFactory(), TermFactory()
    cls = new_class()
    desks = AssetFactory(name="学生课桌椅", category=_category("A05010304"), quantity=45, room=cls.room,
                         original_value=Decimal("13500.00"))
    cards.item_create(school=school, actor=keeper, data={
        "name": "学生凳", "unit": "张", "quantity": 45, "unit_price": Decimal("40.00"),
        "acquired_on": TODAY - datetime.timedelta(days=9), "room": cls.room})
    roomless = new_class(with_room=False)

    first = services.contracting_start_term(school=school, term=earlier, actor=keeper)
    active = SchoolClass.objects.filter(school=school, status=SchoolClass.Status.ACTIVE)
    with_room = active.exclude(room=None).count()
    assert first["created"] == with_room and first["existing"] == 0
    assert roomless.name in first["without_room"]
    contract = ClassContract.objects.get(school_class=cls, term=earlier)
    assert contract.status == ClassContract.Status.DRAFT and contract.room == cls.room
    assert contract.class_teacher == cls.head_teacher
    lines = {ln.kind: ln for ln in contract.lines.all()}
    assert lines[ItemKind.DESK_SET].asset == desks and lines[ItemKind.DESK_SET].quantity == 45
    assert lines[ItemKind.STOOL].item.name == "学生凳" and lines[ItemKind.STOOL].quantity == 45

    # The keeper adds the doors and windows by hand.
    rows = [{"id": ln.pk, "kind": ln.kind, "name": ln.name, "quantity": ln.quantity, "condition": ln.condition,
             "note": ln.note} for ln in contract.lines.all()]
    rows += [{"kind": ItemKind.DOOR, "name": "前后门", "quantity": 2, "condition": "good"},
             {"kind": ItemKind.WINDOW, "name": "铝合金窗", "quantity": 6, "condition": "worn"}]
    services.contract_lines_save(contract=contract, rows=rows, actor=keeper)
    assert contract.lines.count() == 4
    assert AuditEntry.objects.filter(object_id=str(contract.pk), content_type__model="classcontract",
                                     action="update").exists()

    # Running it again writes nothing new.
    again = services.contracting_start_term(school=school, term=earlier, actor=keeper)
    assert again["created"] == 0 and again["existing"] == with_room
    assert ClassContract.objects.filter(term=earlier).count() == with_room

    # Next term: what the room holds, and the doors and windows of the room's previous contract.
    services.contracting_start_term(school=school, term=later, actor=keeper)
    nxt = ClassContract.objects.get(school_class=cls, term=later)
    names = sorted(nxt.lines.values_list("name", flat=True))
    assert names == sorted(["学生课桌椅", "学生凳", "前后门", "铝合金窗"])
    assert nxt.lines.get(name="铝合金窗").condition == "worn"


def test_a_second_contract_for_the_same_class_and_term_is_refused(school, keeper):
    contract = contract_with_lines()
    with pytest.raises(ValidationError) as caught:
        services.contract_create(school=school, school_class=contract.school_class, term=contract.term,
                                 actor=keeper)
    assert "school_class" in caught.value.message_dict


def test_lines_are_changed_only_on_a_draft_and_only_by_the_logistics_office(school, keeper):
    contract = contract_with_lines()
    row = [{"kind": ItemKind.DOOR, "name": "门", "quantity": 2}]
    with pytest.raises(ValidationError):
        services.contract_lines_save(contract=contract, rows=row, actor=_teacher_of(contract))
    with pytest.raises(ValidationError) as caught:
        services.contract_lines_save(contract=contract, rows=[{"kind": ItemKind.DOOR, "name": "门", "quantity": 0}],
                                     actor=keeper)
    assert "lines-0-quantity" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.contract_lines_save(contract=contract, rows=[{"kind": "roof", "name": "屋顶", "quantity": 1}],
                                     actor=keeper)
    services.contract_sign(contract=contract, actor=_teacher_of(contract))
    with pytest.raises(ValidationError):
        services.contract_lines_save(contract=contract, rows=row, actor=keeper)


# Signing --------------------------------------------------------------------------------------------------------
def test_only_the_class_teacher_of_that_class_signs(school, keeper, personas):
    contract = contract_with_lines()
    other_teacher = personas["class_teacher"]  # 陈静 leads another class
    assert contract.school_class.head_teacher.user != other_teacher
    with pytest.raises(TransitionNotAllowed, match="Only the class teacher|只有"):
        services.contract_sign(contract=contract, actor=other_teacher)
    with pytest.raises(TransitionNotAllowed):  # the keeper manages contracts but does not sign for a class
        services.contract_sign(contract=contract, actor=keeper)
    contract.refresh_from_db()
    assert contract.status == ClassContract.Status.DRAFT

    teacher = _teacher_of(contract)
    services.contract_sign(contract=contract, actor=teacher, note="已清点")
    contract.refresh_from_db()
    assert contract.status == ClassContract.Status.SIGNED and contract.signed_by == teacher
    assert contract.signed_at is not None and contract.class_teacher == teacher.staff
    assert StatusChange.objects.filter(object_id=str(contract.pk), transition="sign").count() == 1
    with pytest.raises(TransitionNotAllowed):
        services.contract_sign(contract=contract, actor=teacher)  # signed once

    services.contract_transition(contract=contract, name="close", actor=keeper)
    contract.refresh_from_db()
    assert contract.status == ClassContract.Status.CLOSED and contract.closed_at is not None


def test_a_contract_without_lines_cannot_be_signed(school, keeper):
    cls = new_class()
    contract = services.contract_create(school=school, school_class=cls, term=term_today(), actor=keeper)
    assert not contract.lines.exists()  # an empty classroom
    with pytest.raises(TransitionNotAllowed, match="no lines|没有"):
        services.contract_sign(contract=contract, actor=cls.head_teacher.user)


# Monthly checks -------------------------------------------------------------------------------------------------
def test_a_check_with_a_shortfall_and_damage_leads_to_a_damage_record(school, keeper):
    contract = _signed(stools=50)
    teacher = _teacher_of(contract)
    check = _check(contract, teacher, found=48, damaged=1)
    line = check.lines.get(line__kind=ItemKind.STOOL)
    assert (line.quantity_found, line.shortfall, line.damaged) == (48, 2, 1)
    assert (check.shortfall, check.damaged, check.month) == (2, 1, TODAY.replace(day=1))
    assert services.problem_lines(check) == [line]

    record = services.damage_create(school=school, actor=teacher, data={
        "check_line": line, "description": "凳腿断裂，两张不见", "assessed_amount": Decimal("90.00"),
        "responsible": DamageRecord.Responsible.UNKNOWN})
    assert record.what == "学生凳" and record.item == line.line.item and record.room == contract.room
    assert record.school_class == contract.school_class and record.happened_on == check.checked_on
    assert record.number.startswith(f"PC{TODAY.year}-") and record.status == D.RECORDED

    # One check a month: the second is refused until the first is voided; a check with records stays.
    with pytest.raises(ValidationError) as caught:
        _check(contract, teacher)
    assert "checked_on" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.check_void(check=check, reason="数错了", actor=keeper)
    services.damage_void(record=record, reason="重复登记", actor=keeper)
    services.check_void(check=check, reason="数错了", actor=keeper)
    again = _check(contract, teacher, found=50)
    assert again.shortfall == 0


def test_check_input_is_refused_with_the_reason(school, keeper, personas):
    contract = _signed()
    teacher = _teacher_of(contract)
    with pytest.raises(ValidationError, match="damaged|损坏"):
        _check(contract, teacher, found=3, damaged=4)
    # A count no column holds (PostgreSQL's integer, SQLite's 64 bits) is a field error, not a server error.
    for found, damaged in ((10**20, 0), (2**31, 0), (5, 10**20)):
        with pytest.raises(ValidationError) as caught:
            _check(contract, teacher, found=found, damaged=damaged)
        assert "lines" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _check(contract, teacher, on=TODAY + datetime.timedelta(days=1))
    assert "checked_on" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.check_record(contract=contract, checked_on=TODAY, actor=teacher, lines=[{"line": 999999}])
    assert "lines" in caught.value.message_dict
    with pytest.raises(ValidationError):  # 陈静 is not the class teacher of this class
        _check(contract, personas["class_teacher"])
    draft = contract_with_lines()
    with pytest.raises(ValidationError) as caught:
        _check(draft, keeper)
    assert "contract" in caught.value.message_dict
    assert not ContractCheck.objects.filter(contract=contract).exists()


# Damage records, decision, collection ---------------------------------------------------------------------------
def _record(school, actor, **extra):
    data = {"what": "窗玻璃", "description": "打球打碎", "assessed_amount": Decimal("120.00"),
            "happened_on": TODAY, "responsible": DamageRecord.Responsible.UNKNOWN, **extra}
    return services.damage_create(school=school, actor=actor, data=data)


def test_damage_record_input_is_checked(school, keeper):
    with pytest.raises(ValidationError) as caught:
        _record(school, keeper, assessed_amount=Decimal("-1"))
    assert "assessed_amount" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _record(school, keeper, responsible=DamageRecord.Responsible.STUDENT)
    assert "student" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _record(school, keeper, responsible=DamageRecord.Responsible.STAFF)
    assert "staff" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _record(school, keeper, description=" ")
    assert "description" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _record(school, keeper, happened_on=TODAY + datetime.timedelta(days=2))
    assert "happened_on" in caught.value.message_dict
    cls = new_class()
    student = _student(cls)
    record = _record(school, keeper, responsible=DamageRecord.Responsible.STUDENT, student=student,
                     staff=cls.head_teacher)
    assert record.school_class == cls and record.staff is None  # the class follows the student


def test_reduced_or_waived_without_a_reason_is_refused(school, keeper):
    student = _student(new_class())
    record = _record(school, keeper, responsible=DamageRecord.Responsible.STUDENT, student=student)
    with pytest.raises(ValidationError) as caught:
        services.damage_decide(record=record, decision="reduced", amount=Decimal("60"), actor=keeper)
    assert "reason" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.damage_decide(record=record, decision="waived", actor=keeper)
    assert "reason" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.damage_decide(record=record, decision="reduced", amount=Decimal("120.00"), reason="家庭困难",
                               actor=keeper)
    assert "amount" in caught.value.message_dict
    record.refresh_from_db()
    assert record.status == D.RECORDED and record.decision == ""
    services.damage_decide(record=record, decision="reduced", amount=Decimal("60"), reason="家庭困难", actor=keeper)
    record.refresh_from_db()
    assert (record.status, record.decided_amount, record.decision_reason) == (D.DECIDED, Decimal("60.00"), "家庭困难")
    assert record.decided_by == keeper

    unknown = _record(school, keeper)
    with pytest.raises(ValidationError, match="waived|免"):
        services.damage_decide(record=unknown, decision="full", actor=keeper)
    services.damage_decide(record=unknown, decision="waived", reason="无法查明", actor=keeper)
    unknown.refresh_from_db()
    assert unknown.status == D.WAIVED and unknown.decided_amount == 0 and unknown.amount_due == 0


def test_collection_above_the_decided_amount_is_refused(school, keeper, personas):
    accountant = personas["accountant"]
    student = _student(new_class())
    record = _record(school, keeper, responsible=DamageRecord.Responsible.STUDENT, student=student)
    with pytest.raises(ValidationError):  # not decided yet
        services.damage_collect(record=record, amount=Decimal("10"), receipt_no="SJ001", actor=accountant)
    services.damage_decide(record=record, decision="full", actor=keeper)
    with pytest.raises(ValidationError) as caught:
        services.damage_collect(record=record, amount=Decimal("120.01"), receipt_no="SJ001", actor=accountant)
    assert "amount" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.damage_collect(record=record, amount=Decimal("100"), receipt_no="SJ001", actor=accountant)
    assert "note" in caught.value.message_dict  # less than decided: say why
    with pytest.raises(ValidationError) as caught:
        services.damage_collect(record=record, amount=Decimal("120"), receipt_no=" ", actor=accountant)
    assert "receipt_no" in caught.value.message_dict
    services.damage_collect(record=record, amount=Decimal("120"), receipt_no="SJ001", actor=accountant)
    record.refresh_from_db()
    assert (record.status, record.collected_amount, record.receipt_no, record.collected_by) == (
        D.COLLECTED, Decimal("120.00"), "SJ001", accountant)
    with pytest.raises(ValidationError):
        services.damage_void(record=record, reason="错了", actor=keeper)
    assert DamageRecord.objects.filter(pk=record.pk).exists()


def test_a_students_compensation_goes_on_the_fee_statement(school, keeper, personas):
    accountant = personas["accountant"]
    student = _student(new_class())
    record = _record(school, keeper, responsible=DamageRecord.Responsible.STUDENT, student=student)
    services.damage_decide(record=record, decision="full", actor=keeper)
    assert not services.damage_charges_for_fee_statement(school, student).exists()
    services.damage_transition(record=record, name="charge", actor=accountant)
    record.refresh_from_db()
    assert record.status == D.CHARGED
    assert list(services.damage_charges_for_fee_statement(school, student)) == [record]
    # The fees app collects it with the statement's receipt.
    services.damage_collect(record=record, amount=record.decided_amount, receipt_no="FY-2026-88", actor=accountant)
    assert not services.damage_charges_for_fee_statement(school, student).exists()

    staff_record = _record(school, keeper, responsible=DamageRecord.Responsible.STAFF,
                           staff=new_class().head_teacher)
    services.damage_decide(record=staff_record, decision="full", actor=keeper)
    with pytest.raises(TransitionNotAllowed):
        services.damage_transition(record=staff_record, name="charge", actor=accountant)


def test_void_needs_a_reason_and_keeps_the_record(school, keeper):
    record = _record(school, keeper)
    with pytest.raises(ValidationError):
        services.damage_void(record=record, reason=" ", actor=keeper)
    services.damage_void(record=record, reason="登记错误", actor=keeper)
    record.refresh_from_db()
    assert record.voided_at is not None and record.void_reason == "登记错误"
    with pytest.raises(ValidationError):
        services.damage_decide(record=record, decision="waived", reason="x", actor=keeper)


# Roll-up --------------------------------------------------------------------------------------------------------
def test_rollup_matches_a_hand_computed_case(school, keeper):
    # A term of its own that began 70 days ago: two monthly checks in two different months, whatever today is.
    term = Term.objects.create(school=school, school_year=2300 + Term.objects.filter(school_year__gte=2300).count(),
                               season=Term.Season.AUTUMN, start_on=TODAY - datetime.timedelta(days=70),
                               mid_on=TODAY - datetime.timedelta(days=10), end_on=TODAY + datetime.timedelta(days=30))
    day1, day2 = term.start_on, TODAY
    contract = _signed(term=term, stools=40)
    teacher = _teacher_of(contract)
    services.check_record(contract=contract, checked_on=day1, actor=teacher, lines=[
        {"line": _stool_line(contract).pk, "quantity_found": 39, "damaged": 2}])          # short 1, damaged 2
    services.check_record(contract=contract, checked_on=day2, actor=teacher, lines=[
        {"line": _stool_line(contract).pk, "quantity_found": 39, "damaged": 0}])          # short 1, damaged 0
    student = _student(contract.school_class)
    full = _record(school, keeper, responsible="student", student=student, assessed_amount=Decimal("80.00"),
                   happened_on=day2)
    services.damage_decide(record=full, decision="reduced", amount=Decimal("50.00"), reason="初犯", actor=keeper)
    _record(school, keeper, responsible="student", student=student, assessed_amount=Decimal("30.00"),
            happened_on=day2)                                                               # undecided: 30
    waived = _record(school, keeper, school_class=contract.school_class, happened_on=day2)
    services.damage_decide(record=waived, decision="waived", reason="查不清", actor=keeper)  # counts 0
    voided = _record(school, keeper, school_class=contract.school_class, happened_on=day2)
    services.damage_void(record=voided, reason="重复", actor=keeper)                          # not counted

    row = next(r for r in services.contracting_rollup(school=school, term=term, today=TODAY)
               if r["contract"] == contract)
    assert row["teacher"] == contract.school_class.head_teacher
    assert row["items"] == 40
    assert row["checks"] == 2
    assert row["checks_due"] == (TODAY.year - term.start_on.year) * 12 + TODAY.month - term.start_on.month + 1
    assert (row["shortfall"], row["damaged"]) == (2, 2)
    assert row["damage_count"] == 3
    assert row["damage_amount"] == Decimal("80.00")  # 50 + 30 + 0
    assert row["score"] == 100 - 2 * 2 - 3 * 2 == 90
    assert services.care_score(40, 10) == 0  # never below 0


# The switch -----------------------------------------------------------------------------------------------------
def test_switched_off_hides_the_menu_refuses_pages_api_and_writes(client, school, director, keeper):
    contract = _signed()
    client.force_login(director)
    assert client.get(reverse("assets:classcontract_list")).status_code == 200
    response = client.post(reverse("assets:contracting_switch"), {"enabled": "0"})
    assert response.status_code == 302
    school.refresh_from_db()
    assert not services.contracting_enabled(school) and "class_contracting" in school.disabled_modules
    settings = services.settings_for(school)
    assert settings.contracting_enabled is False

    for url in (reverse("assets:classcontract_list"), reverse("assets:classcontract", args=[contract.pk]),
                reverse("assets:contractcheck_list"), reverse("assets:contractcheck_add"),
                reverse("assets:contracting_rollup"), reverse("assets:contracting_start"),
                reverse("assets:contract_lines", args=[contract.pk])):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "本校未启用班级承包" in page.content.decode() or "not in use" in page.content.decode()
    assert client.get("/api/assets/contracts/").status_code == 404
    assert client.post("/api/assets/contract-checks/", {}, content_type="application/json").status_code == 404
    menu = client.get(reverse("assets:damagerecord_list"))
    assert menu.status_code == 200  # damage compensation stays
    html = menu.content.decode()
    assert reverse("assets:classcontract_list") not in html and reverse("assets:contracting_rollup") not in html
    with pytest.raises(ValidationError):
        services.contracting_start_term(school=school, term=term_today(), actor=keeper)
    with pytest.raises(ValidationError):
        _check(contract, _teacher_of(contract))

    client.post(reverse("assets:contracting_switch"), {"enabled": "1"})
    school.refresh_from_db()
    assert services.contracting_enabled(school)
    assert reverse("assets:classcontract_list") in client.get(reverse("assets:damagerecord_list")).content.decode()


def test_the_asset_setting_alone_switches_it_off_too(client, school, director):
    conf = services.settings_for(school)
    conf.contracting_enabled = False
    conf.save()
    try:
        client.force_login(director)
        assert client.get(reverse("assets:classcontract_list")).status_code == 404
    finally:
        conf.contracting_enabled = True
        conf.save()


# Pages ----------------------------------------------------------------------------------------------------------
def test_start_term_page_lines_page_and_check_page(client, school, director, keeper):
    term = TermFactory()
    cls = new_class()
    cards.item_create(school=school, actor=keeper, data={
        "name": "学生凳", "unit": "张", "quantity": 30, "unit_price": Decimal("40.00"),
        "acquired_on": TODAY - datetime.timedelta(days=9), "room": cls.room})
    client.force_login(director)
    assert client.get(reverse("assets:contracting_start")).status_code == 200
    bad = client.post(reverse("assets:contracting_start"), {"term": ""})
    assert bad.status_code == 400
    assert client.post(reverse("assets:contracting_start"), {"term": term.pk}).status_code == 302
    contract = ClassContract.objects.get(school_class=cls, term=term)

    url = reverse("assets:contract_lines", args=[contract.pk])
    assert client.get(url).status_code == 200
    stool = contract.lines.get()
    data = {"lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "1", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "300",
            "lines-0-id": stool.pk, "lines-0-kind": "stool", "lines-0-name": "学生凳", "lines-0-quantity": "30",
            "lines-0-condition": "good",
            "lines-1-kind": "door", "lines-1-name": "", "lines-1-quantity": "2", "lines-1-condition": "good"}
    page = client.post(url, data)
    assert page.status_code == 400 and "请" in page.content.decode()  # the door row needs a name
    data["lines-1-name"] = "前后门"
    assert client.post(url, data).status_code == 302
    assert sorted(contract.lines.values_list("name", flat=True)) == ["前后门", "学生凳"]

    detail = client.get(reverse("assets:classcontract", args=[contract.pk]))
    assert detail.status_code == 200 and "前后门" in detail.content.decode()
    teacher = _teacher_of(contract)
    client.force_login(teacher)
    assert 'data-testid="transition-sign"' in client.get(
        reverse("assets:classcontract", args=[contract.pk])).content.decode()
    assert client.post(reverse("assets:classcontract_sign", args=[contract.pk])).status_code == 302
    contract.refresh_from_db()
    assert contract.status == ClassContract.Status.SIGNED


def test_check_page_records_counts_per_line_and_offers_damage_records(client, school):
    contract = _signed()
    teacher = _teacher_of(contract)
    line = _stool_line(contract)
    client.force_login(teacher)
    form = client.get(reverse("assets:contractcheck_add") + f"?contract={contract.pk}")
    assert form.status_code == 200 and f'name="found-{line.pk}"' in form.content.decode()
    bad = client.post(reverse("assets:contractcheck_add"), {
        "contract": contract.pk, "checked_on": TODAY.isoformat(), f"found-{line.pk}": "3",
        f"damaged-{line.pk}": "5"})
    assert bad.status_code == 400
    response = client.post(reverse("assets:contractcheck_add"), {
        "contract": contract.pk, "checked_on": TODAY.isoformat(), f"found-{line.pk}": line.quantity,
        f"damaged-{line.pk}": "1", f"note-{line.pk}": "一张凳腿断"})
    assert response.status_code == 302
    check = ContractCheck.objects.get(contract=contract)
    assert check.damaged == 1 and check.lines.get().note == "一张凳腿断"
    page = client.get(reverse("assets:contractcheck", args=[check.pk])).content.decode()
    add = reverse("assets:damagerecord_add") + f"?check_line={check.lines.get().pk}"
    assert add.replace("?", "?") in page.replace("&amp;", "&")
    form = client.get(add)
    assert form.status_code == 200
    created = client.post(reverse("assets:damagerecord_add"), {
        "check_line": check.lines.get().pk, "what": "", "happened_on": TODAY.isoformat(), "responsible": "unknown",
        "description": "凳腿断裂", "assessed_amount": "45.00"})
    assert created.status_code == 302
    record = DamageRecord.objects.get(check_line__contract_check=check)
    assert record.what == "学生凳" and record.school_class == contract.school_class


def test_decide_and_collect_pages(client, school, keeper, personas):
    student = _student(new_class())
    record = _record(school, keeper, responsible="student", student=student)
    client.force_login(keeper)
    detail = client.get(reverse("assets:damagerecord", args=[record.pk])).content.decode()
    assert reverse("assets:damage_decide", args=[record.pk]) in detail
    page = client.post(reverse("assets:damage_decide", args=[record.pk]), {"decision": "reduced", "amount": "50"})
    assert page.status_code == 400 and "原因" in page.content.decode()
    assert client.post(reverse("assets:damage_decide", args=[record.pk]), {"decision": "full"}).status_code == 302
    client.force_login(personas["accountant"])
    page = client.post(reverse("assets:damage_collect", args=[record.pk]), {"amount": "200", "receipt_no": "R1"})
    assert page.status_code == 400 and "120" in page.content.decode()
    assert client.post(reverse("assets:damage_collect", args=[record.pk]),
                       {"amount": "120", "receipt_no": "R1"}).status_code == 302
    record.refresh_from_db()
    assert record.status == D.COLLECTED


def test_rollup_page_excel_and_print(client, school, director):
    import io

    from python_calamine import CalamineWorkbook

    contract = _signed()
    client.force_login(director)
    page = client.get(reverse("assets:contracting_rollup") + f"?term={contract.term.pk}")
    assert page.status_code == 200 and contract.school_class.name in page.content.decode()
    export = client.get(reverse("assets:contracting_rollup_export") + f"?term={contract.term.pk}")
    assert export.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(export.streaming_content)))
    values = [v for row in book.get_sheet_by_index(0).to_python() for v in row]
    assert contract.school_class.name in values and "爱护得分" in values
    pdf = client.get(reverse("assets:contracting_rollup_print") + f"?term={contract.term.pk}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    printed = client.get(reverse("assets:contract_print", args=[contract.pk]))
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")


# API ------------------------------------------------------------------------------------------------------------
def test_api_creates_damage_records_and_answers_400_with_field_errors(client, school, keeper):
    client.force_login(keeper)
    ok = client.post("/api/assets/damages/", {"what": "黑板", "happened_on": TODAY.isoformat(),
                                              "responsible": "unknown", "description": "划伤",
                                              "assessed_amount": "200.00"}, content_type="application/json")
    assert ok.status_code == 201, ok.json()
    pk = ok.json()["id"]
    assert ok.json()["number"].startswith("PC")
    for bad, field in (({"what": "黑板", "happened_on": TODAY.isoformat(), "responsible": "unknown",
                         "description": "划伤", "assessed_amount": "-5"}, "assessed_amount"),
                       ({"what": "黑板", "happened_on": TODAY.isoformat(), "responsible": "student",
                         "description": "划伤", "assessed_amount": "5"}, "student"),
                       ({"what": "黑板", "happened_on": TODAY.isoformat(), "responsible": "unknown",
                         "assessed_amount": "5"}, "description")):
        response = client.post("/api/assets/damages/", bad, content_type="application/json")
        assert response.status_code == 400 and field in response.json()["errors"], (field, response.json())
    decide = client.post(f"/api/assets/damages/{pk}/decide/", {"decision": "waived"}, content_type="application/json")
    assert decide.status_code == 400 and "reason" in decide.json()["errors"]
    decide = client.post(f"/api/assets/damages/{pk}/decide/", {"decision": "waived", "reason": "无法查明"},
                         content_type="application/json")
    assert decide.status_code == 200 and decide.json()["status"] == "waived"


def test_api_check_with_counts_and_its_400s(client, school):
    contract = _signed()
    teacher = _teacher_of(contract)
    line = _stool_line(contract)
    client.force_login(teacher)
    bad = client.post("/api/assets/contract-checks/", {"contract": contract.pk, "checked_on": TODAY.isoformat(),
                                                       "counts": [{"line": 0}]}, content_type="application/json")
    assert bad.status_code == 400 and "lines" in bad.json()["errors"]
    bad = client.post("/api/assets/contract-checks/", {"checked_on": TODAY.isoformat()},
                      content_type="application/json")
    assert bad.status_code == 400 and "contract" in bad.json()["errors"]
    ok = client.post("/api/assets/contract-checks/", {
        "contract": contract.pk, "checked_on": TODAY.isoformat(),
        "counts": [{"line": line.pk, "quantity_found": line.quantity - 1, "damaged": 0}]},
        content_type="application/json")
    assert ok.status_code == 201, ok.json()
    assert ok.json()["shortfall"] == 1


def test_api_start_term_and_rollup(client, school, director, personas):
    term = TermFactory()
    client.force_login(director)
    first = client.post("/api/assets/contracts/start-term/", {"term": term.pk}, content_type="application/json")
    assert first.status_code == 200 and first.json()["created"] >= 1
    again = client.post("/api/assets/contracts/start-term/", {"term": term.pk}, content_type="application/json")
    assert again.json()["created"] == 0
    assert client.post("/api/assets/contracts/start-term/", {"term": 0},
                       content_type="application/json").status_code == 400
    rollup = client.get(f"/api/assets/contracts/rollup/?term={term.pk}")
    assert rollup.status_code == 200 and len(rollup.json()["rows"]) == first.json()["created"]
    client.force_login(personas["class_teacher"])
    assert client.post("/api/assets/contracts/start-term/", {"term": term.pk},
                       content_type="application/json").status_code == 403


# Roles ----------------------------------------------------------------------------------------------------------
def test_a_class_teacher_sees_and_checks_only_her_own_class(client, school, personas):
    chen = personas["class_teacher"]
    own_class = SchoolClass.objects.filter(head_teacher=chen.staff).first()
    own = contract_with_lines(school_class=own_class, term=TermFactory())
    other = contract_with_lines()
    client.force_login(chen)
    listing = client.get("/api/assets/contracts/").json()
    ids = {r["id"] for r in listing["results"]}
    assert own.pk in ids and other.pk not in ids
    assert client.get(reverse("assets:classcontract", args=[other.pk])).status_code == 404
    assert client.post(reverse("assets:classcontract_sign", args=[other.pk])).status_code == 404
    assert client.get(reverse("assets:contract_lines", args=[own.pk])).status_code in (403, 404)
    assert client.get(reverse("assets:contracting_start")).status_code == 403
    services.contract_sign(contract=other, actor=_teacher_of(other))
    refused = client.post("/api/assets/contract-checks/", {"contract": other.pk, "checked_on": TODAY.isoformat()},
                          content_type="application/json")
    assert refused.status_code == 400 and not ContractCheck.objects.filter(contract=other).exists()
    other_record = _record(school, personas["asset_keeper"], school_class=other.school_class)
    assert client.get(reverse("assets:damagerecord", args=[other_record.pk])).status_code == 404
    assert client.get(reverse("assets:damage_decide", args=[other_record.pk])).status_code in (403, 404)
    with pytest.raises(ValidationError):
        _record(school, chen, school_class=other.school_class)


def test_accountant_sees_damage_records_and_records_collection_only(client, school, personas):
    accountant, keeper = personas["accountant"], personas["asset_keeper"]
    record = _record(school, keeper, responsible="student", student=_student(new_class()))
    services.damage_decide(record=record, decision="full", actor=keeper)
    client.force_login(accountant)
    assert client.get(reverse("assets:damagerecord_list")).status_code == 200
    assert client.get(reverse("assets:classcontract_list")).status_code == 403
    assert client.get(reverse("assets:damagerecord_add")).status_code == 403
    assert client.post(f"/api/assets/damages/{record.pk}/decide/", {"decision": "full"},
                       content_type="application/json").status_code == 403
    ok = client.post(f"/api/assets/damages/{record.pk}/collect/", {"amount": "120.00", "receipt_no": "SJ-7"},
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "collected"


@pytest.mark.parametrize("role, contracts, checks, damages, decide, collect", [
    ("logistics_director", True, True, True, True, True),
    ("asset_keeper", True, True, True, True, True),
    ("class_teacher", True, True, True, False, False),
    ("accountant", False, False, True, False, True),
    ("cashier", False, False, True, False, True),
    ("principal", True, True, True, False, False),
    ("teacher", False, False, False, False, False),
    ("guard", False, False, False, False, False),
])
def test_permissions_per_role(personas, role, contracts, checks, damages, decide, collect):
    user = personas[role]
    assert user.has_perm("assets.view_classcontract") is contracts
    assert user.has_perm("assets.view_contractcheck") is checks
    assert user.has_perm("assets.view_damagerecord") is damages
    assert user.has_perm("assets.decide_damagerecord") is decide
    assert user.has_perm("assets.collect_damagerecord") is collect
    assert user.has_perm("assets.sign_classcontract") is (role == "class_teacher")


# Dashboard ------------------------------------------------------------------------------------------------------
def test_widget_shows_checks_not_done_and_compensation_awaiting_collection(school, personas):
    from houqin.assets.views_contracting import widget

    contract = _signed()
    keeper = personas["asset_keeper"]
    record = _record(school, keeper, responsible="student", student=_student(new_class()))
    services.damage_decide(record=record, decision="full", actor=keeper)
    request = RequestFactory().get("/")
    request.user = personas["logistics_director"]
    data = widget(request)
    missing = services.checks_missing_this_month(school)
    assert contract in missing and data["checks_missing"] == missing.count()
    assert data["damages"] >= 1
    _check(contract, _teacher_of(contract))
    assert contract not in services.checks_missing_this_month(school)
    request.user = personas["accountant"]
    data = widget(request)
    assert "checks_missing" not in data and data["damages"] >= 1
    request.user = personas["guard"]
    assert widget(request) is None


def test_dashboard_shows_the_widget(client, school, personas):
    _signed()  # a signed contract of the current term, not yet checked this month
    client.force_login(personas["logistics_director"])
    page = client.get("/").content.decode()
    assert 'data-widget="assets.contracting"' in page and "本月未检查" in page
    services.contracting_switch(school=school, enabled=False, actor=personas["logistics_director"])
    page = client.get("/").content.decode()
    assert "本月未检查" not in page  # switched off: no reminder of checks


def test_every_write_is_audited(school, keeper):
    contract = _signed()
    check = _check(contract, _teacher_of(contract), damaged=1)
    record = _record(school, keeper)
    for obj, model in ((contract, "classcontract"), (check, "contractcheck"), (record, "damagerecord")):
        assert AuditEntry.objects.filter(content_type__model=model, object_id=str(obj.pk), action="create").exists()


def test_a_check_line_key_that_is_no_whole_number_is_a_field_error_not_a_server_error(client, school, keeper):
    """"²" and "①" pass ``str.isdigit()`` but not ``int()`` (the API fuzz test found it on PostgreSQL)."""
    client.force_login(keeper)
    for ref in ("²", "①", "99999999999999999999", "-3", "0"):
        response = client.post("/api/assets/damages/", {
            "what": "黑板", "happened_on": TODAY.isoformat(), "responsible": "unknown", "description": "划伤",
            "assessed_amount": "5", "check_line": ref}, content_type="application/json")
        assert response.status_code == 400 and "check_line" in response.json()["errors"], (ref, response.json())
