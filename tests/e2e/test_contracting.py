"""AST-6 and AST-5 from a browser. The 后勤主任 starts the term's class contracting (a draft contract for every
class, filled from its classroom) and adds the doors; the 班主任 陈静, on her phone, signs her class's contract and
records this month's check with one broken stool, then records the damage (谁损坏谁负责) against the student; the
资产管理员 decides full compensation and the 会计 records its collection with the receipt number; the roll-up shows
the care score; switched off, the pages say so and the menu entries go. Every page visited goes through
check_page (axe, no English, no wider than the screen)."""

import re

import pytest

from .conftest import DESKTOP, PHONE, check_page, pick_lazy
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def classroom(django_db_blocker):
    """The demo school; 陈静's classroom holds 40 stools besides its desks; a term runs today."""
    from conftest import _seed_if_empty

    with django_db_blocker.unblock():
        _seed_if_empty()
        import datetime
        from decimal import Decimal

        from django.utils import timezone

        from houqin.assets.services import cards
        from houqin.assets.tests.factories_contracting import term_today
        from houqin.org.models import SchoolClass, Student, User

        keeper = User.objects.get(username="keeper")
        school_class = SchoolClass.objects.filter(head_teacher__user__username="teacher1").order_by("pk").first()
        cards.item_create(school=keeper.school, actor=keeper, data={
            "name": "学生凳", "unit": "张", "quantity": 40, "unit_price": Decimal("45.00"),
            "acquired_on": timezone.localdate() - datetime.timedelta(days=200), "room": school_class.room})
        student = Student.objects.filter(school_class=school_class).order_by("pk").first()
        return {"class": school_class, "term": term_today(), "student": student}


def test_term_start_signing_monthly_check_damage_and_collection(page_factory, classroom):
    from houqin.assets.models import ClassContract, ContractCheck, DamageRecord

    school_class, term, student = classroom["class"], classroom["term"], classroom["student"]

    # 后勤主任: start the term; the contracts are written; he adds the doors to 陈静's class.
    director = page_factory(DESKTOP)
    _login(director, "director")
    director.goto("/assets/contracts/start/")
    check_page(director, "contracting-1-start")
    director.locator("#id_term").select_option(str(term.pk))
    director.get_by_role("button", name="生成责任书").click()
    director.wait_for_url(re.compile(r"/assets/contracts/\?term=\d+"))
    director.locator(".alert-success").wait_for()
    check_page(director, "contracting-2-list")
    contract = ClassContract.objects.get(school_class=school_class, term=term)
    assert contract.status == "draft" and contract.lines.filter(name="学生凳", quantity=40).exists()

    director.goto(f"/assets/contracts/{contract.pk}/lines/")
    check_page(director, "contracting-3-lines")
    spare = contract.lines.count()  # the first empty row
    director.locator(f"#id_lines-{spare}-kind").select_option("door")
    director.locator(f"#id_lines-{spare}-name").fill("前后门")
    director.locator(f"#id_lines-{spare}-quantity").fill("2")
    director.get_by_role("button", name="保存").click()
    director.wait_for_url(re.compile(rf"/assets/contracts/{contract.pk}/$"))
    assert contract.lines.filter(name="前后门", quantity=2).exists()
    check_page(director, "contracting-4-contract-draft")

    # 班主任 on her phone: she sees her class's contract only, signs it, and records this month's check.
    phone = page_factory(PHONE)
    _login(phone, "teacher1")
    phone.goto("/assets/contracts/")
    check_page(phone, "contracting-5-my-contracts-phone")
    assert phone.locator("main table tbody tr").count() >= 1
    phone.locator(f"a[href='/assets/contracts/{contract.pk}/']").first.click()
    phone.wait_for_url(re.compile(rf"/assets/contracts/{contract.pk}/$"))
    check_page(phone, "contracting-6-contract-phone")
    phone.get_by_test_id("transition-sign").click()
    phone.locator(".alert-success").wait_for()
    contract.refresh_from_db()
    assert contract.status == "signed" and contract.signed_by.username == "teacher1"

    phone.get_by_role("link", name="登记本月检查").click()
    phone.wait_for_url(re.compile(r"/assets/contract-checks/add/\?contract=\d+"))
    check_page(phone, "contracting-7-check-form-phone")
    stool = contract.lines.get(name="学生凳")
    phone.locator(f"#damaged-{stool.pk}").fill("1")
    phone.locator(f"#note-{stool.pk}").fill("一张凳腿断裂")
    phone.get_by_role("button", name="保存检查").click()
    phone.wait_for_url(re.compile(r"/assets/contract-checks/\d+/$"))
    check = ContractCheck.objects.get(contract=contract)
    assert (check.shortfall, check.damaged) == (0, 1)
    check_page(phone, "contracting-8-check-phone")

    # 谁损坏谁负责: the damaged line offers a damage record, filled in from the check.
    line = check.lines.get(line=stool)
    phone.get_by_test_id(f"record-damage-{line.pk}").click()
    phone.wait_for_url(re.compile(r"/assets/damages/add/\?check_line=\d+"))
    assert phone.locator("#id_what").input_value() == "学生凳"
    phone.locator("#id_responsible").select_option("student")
    pick_lazy(phone, "id_student", student.name)
    phone.locator("#id_description").fill("课间打闹，凳腿断裂")
    phone.locator("#id_assessed_amount").fill("45.00")
    check_page(phone, "contracting-9-damage-form-phone")
    phone.locator("#entity-form button[type=submit]").first.click()
    phone.wait_for_url(re.compile(r"/assets/damages/\d+/$"))
    record = DamageRecord.objects.get(check_line=line)
    assert record.student == student and record.school_class == school_class and record.status == "recorded"
    check_page(phone, "contracting-10-damage-phone")

    # 资产管理员 decides: compensate in full.
    keeper = page_factory(DESKTOP)
    _login(keeper, "keeper")
    keeper.goto(f"/assets/damages/{record.pk}/")
    keeper.get_by_role("link", name="认定").click()
    keeper.wait_for_url(re.compile(r"/decide/$"))
    check_page(keeper, "contracting-11-decide")
    keeper.locator("#id_decision").select_option("full")
    keeper.get_by_role("button", name="保存").click()
    keeper.wait_for_url(re.compile(rf"/assets/damages/{record.pk}/$"))
    record.refresh_from_db()
    assert record.status == "decided" and record.decided_amount == record.assessed_amount

    # 会计 records the collection; more than decided is refused first.
    accountant = page_factory(DESKTOP)
    _login(accountant, "accountant")
    accountant.goto(f"/assets/damages/{record.pk}/")
    accountant.get_by_role("link", name="登记收取").click()
    accountant.wait_for_url(re.compile(r"/collect/$"))
    accountant.locator("#id_amount").fill("50.00")
    accountant.locator("#id_receipt_no").fill("SJ2026-0088")
    accountant.get_by_role("button", name="保存").click()
    accountant.locator(".invalid-feedback").first.wait_for()
    assert "超过了应赔金额" in accountant.inner_text("main")
    check_page(accountant, "contracting-12-collect-refused")
    accountant.locator("#id_amount").fill("45.00")
    accountant.get_by_role("button", name="保存").click()
    accountant.wait_for_url(re.compile(rf"/assets/damages/{record.pk}/$"))
    record.refresh_from_db()
    assert record.status == "collected" and record.receipt_no == "SJ2026-0088"
    check_page(accountant, "contracting-13-collected")

    # The roll-up for the teacher's review: one item damaged, one record of ¥45.
    director.goto(f"/assets/contracts/rollup/?term={term.pk}")
    row = director.locator("tbody tr", has_text=school_class.name)
    assert "45.00" in row.inner_text() and "97" in row.inner_text()  # 100 − 3 for the damaged stool
    check_page(director, "contracting-14-rollup")

    # A school that does not contract classes switches it off: the menu entries go, the pages say so.
    director.locator("summary", has_text="关闭班级承包").click()
    director.get_by_role("button", name="关闭").click()
    director.wait_for_url(re.compile(r"/assets/damages/$"))
    assert director.locator("nav a[href='/assets/contracts/']").count() == 0
    director.goto(f"/assets/contracts/{contract.pk}/")
    assert "本校未启用班级承包" in director.inner_text("main")
    check_page(director, "contracting-15-switched-off")
    director.get_by_role("button", name="启用班级承包").click()
    director.wait_for_url(re.compile(r"/assets/contracts/rollup/$"))
    assert director.locator("a[href='/assets/contracts/']").count() >= 1
