"""AST-15 from a browser. The 资产管理员 registers a software licence and reads its amortisation schedule on
its page; then opens a roof-waterproofing project (在建工程) for the teaching building, records two costs,
accepts it (转固), and sees the building card's original value rise with a 转固 row in its journal. axe and
the English-leak check on every page visited."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from .conftest import DESKTOP, PHONE, check_page
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def building(django_db_blocker):
    """The demo school with its months open and a teaching building card of ¥6,000,000 of our own."""
    from conftest import _seed_if_empty

    with django_db_blocker.unblock():
        _seed_if_empty()
        from houqin.assets.models import AccountingPeriod
        from houqin.assets.tests.factories_intangibles import building_card

        AccountingPeriod.objects.update(status=AccountingPeriod.Status.OPEN)
        return building_card(name="实训楼A栋")


def _pick_building(page, name: str) -> None:
    """``pick_lazy`` typing two characters: in the test database the cards' trigram index (three characters
    and more) does not find cards made by factories, the plain two-character search does."""
    box = page.locator("#id_target_card")
    with page.expect_response(lambda r: "/lookup/" in r.url and "__search=&" not in r.url):
        box.fill(name[:2])
    page.locator("#id_target_card_results [data-lazy-option]", has_text=name).first.click()
    page.wait_for_function(
        "id => document.getElementById(id).closest('[data-lazy-select]').querySelector('[data-lazy-value]').value"
        " && !document.getElementById(id + '_results').children.length", arg="id_target_card")


def _submit(page):
    page.locator("#entity-form button[type=submit]").first.click()


def test_keeper_registers_a_licence_and_capitalises_a_roof_waterproofing(page_factory, building):
    from houqin.assets.models import Asset, ConstructionCost, ConstructionProject, IntangibleAsset

    today = timezone.localdate()
    start = today.replace(day=1)
    page = page_factory(DESKTOP)
    _login(page, "keeper")

    # A software licence: ¥36,000 over 60 months → ¥600.00 a month from the month it is ready for use.
    page.goto("/assets/intangibles/add/")
    check_page(page, "intangibles-1-licence-form")
    page.locator("#id_name").fill("教务管理系统授权")
    page.locator("#id_kind").select_option("software")
    page.locator("#id_original_value").fill("36000.00")
    page.locator("#id_acquired_on").fill(start.isoformat())
    page.locator("#id_life_months").fill("60")
    page.locator("#id_supplier").fill("正方软件")
    page.locator("#id_licence_expires_on").fill((today + datetime.timedelta(days=1000)).isoformat())
    _submit(page)
    page.wait_for_url(re.compile(r"/assets/intangibles/\d+/$"))
    licence = IntangibleAsset.objects.get(name="教务管理系统授权")
    assert licence.life_months == 60 and licence.code
    schedule = page.get_by_role("region", name="摊销计划")
    text = schedule.inner_text()
    assert f"{start.year}-{start.month:02d}" in text and "600.00" in text and "36,000.00" in text
    assert schedule.locator("tbody tr").count() == 60
    check_page(page, "intangibles-2-licence-schedule")

    # A roof waterproofing for the building, two costs, acceptance.
    page.goto("/assets/construction/add/")
    page.locator("#id_name").fill("实训楼屋面防水工程")
    _pick_building(page, building.name)
    page.locator("#id_contractor").fill("杭州建工集团")
    page.locator("#id_budget").fill("130000")
    check_page(page, "intangibles-3-project-form")
    _submit(page)
    page.wait_for_url(re.compile(r"/assets/construction/\d+/$"))
    project = ConstructionProject.objects.get(name="实训楼屋面防水工程")
    check_page(page, "intangibles-4-project-open")
    for amount, what in (("80000.00", "防水卷材及施工"), ("40000.00", "保温层修复")):
        page.get_by_role("link", name="登记费用").click()
        page.wait_for_url(re.compile(r"/assets/construction-costs/add/\?project=\d+"))
        page.locator("#id_spent_on").fill(today.isoformat())
        page.locator("#id_amount").fill(amount)
        page.locator("#id_description").fill(what)
        page.locator("#id_invoice_no").fill(f"FP{amount[:2]}")
        _submit(page)
        page.wait_for_url(re.compile(r"/assets/construction-costs/\d+/$"))
        page.goto(f"/assets/construction/{project.pk}/")
    assert ConstructionCost.objects.filter(project=project).count() == 2
    assert "120,000.00" in page.locator("main").inner_text()
    check_page(page, "intangibles-5-project-costs")

    page.get_by_role("link", name="验收转固").click()
    page.wait_for_url(re.compile(r"/assets/construction/\d+/accept/$"))
    page.locator("#id_acceptance_doc_no").fill("YS-2026-015")
    check_page(page, "intangibles-6-accept-form")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/assets/construction/\d+/$"))
    page.locator(".alert-success").wait_for()
    project.refresh_from_db()
    assert project.status == "accepted" and project.capitalised_value == Decimal("120000.00")
    check_page(page, "intangibles-7-project-accepted")

    card = Asset.objects.get(pk=building.pk)
    assert card.original_value == Decimal("6120000.00") and card.rebased_on == project.accepted_on
    page.goto(f"/assets/cards/{card.pk}/")
    main = page.locator("main").inner_text()
    assert "6,120,000.00" in main and "转固" in main
    check_page(page, "intangibles-8-building-card")


def test_licence_and_project_pages_at_phone_width(page_factory, building):
    from houqin.assets.tests.factories_intangibles import ConstructionCostFactory, IntangibleAssetFactory

    licence = IntangibleAssetFactory(name="杀毒软件授权")
    cost = ConstructionCostFactory()
    page = page_factory(PHONE)
    _login(page, "keeper")
    for path, name in ((f"/assets/intangibles/{licence.pk}/", "intangibles-9-licence-phone"),
                       ("/assets/intangibles/", "intangibles-10-list-phone"),
                       (f"/assets/construction/{cost.project_id}/", "intangibles-11-project-phone")):
        page.goto(path)
        check_page(page, name)
