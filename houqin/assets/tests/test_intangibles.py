"""AST-15: intangible assets amortised by month (《政府会计准则第4号——无形资产》) and 在建工程 accepted into a
building card (转固), through the services, the pages and the API, for each role."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from houqin.assets import depreciation
from houqin.assets.choices import AccountingClass, Acquisition, FundingSource
from houqin.assets.models import (
    AccountingPeriod,
    AmortisationLine,
    Asset,
    AssetMovement,
    ConstructionProject,
    IntangibleAsset,
)
from houqin.assets.services import intangibles as svc
from houqin.core.models import AuditEntry, StatusChange
from houqin.core.workflow import TransitionNotAllowed

from .factories import AssetFactory, _category
from .factories_intangibles import (
    ConstructionCostFactory,
    ConstructionProjectFactory,
    IntangibleAssetFactory,
    building_card,
)

D = Decimal
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def open_books(school):
    """Each test starts with every month of the asset books open (the demo may have closed some)."""
    AccountingPeriod.objects.filter(school=school).update(status=AccountingPeriod.Status.OPEN)


@pytest.fixture
def keeper(personas):
    return personas["asset_keeper"]


def period(school, year, month):
    return AccountingPeriod.objects.get_or_create(school=school, year=year, month=month)[0]


def close(school, year, month):
    p = period(school, year, month)
    p.status = AccountingPeriod.Status.CLOSED
    p.save(update_fields=["status"])
    return p


def months(year, month, count):
    """(year, month) for ``count`` months from ``year-month``."""
    start = year * 12 + month - 1
    return [depreciation.month_of(i) for i in range(start, start + count)]


def software(school, keeper, **kwargs):
    data = {"name": "教务管理系统", "kind": IntangibleAsset.Kind.SOFTWARE, "original_value": D("36000.00"),
            "acquired_on": datetime.date(2025, 1, 10), "life_months": 60, **kwargs}
    return svc.intangible_create(school=school, actor=keeper, data=data)


def charges(obj):
    return list(obj.amortisation_lines.filter(voided_at__isnull=True).order_by("period__year", "period__month")
                .values_list("amount", flat=True))


# Amortisation --------------------------------------------------------------------------------------------------
def test_software_of_36000_over_five_years_is_600_a_month_from_the_month_it_is_ready(school, keeper):
    obj = software(school, keeper)
    from houqin.assets.services.common import asset_code_prefix

    assert obj.code.startswith(f"{asset_code_prefix(school)}W2025") and obj.in_service_on == obj.acquired_on
    assert svc.amortise_month(period(school, 2024, 12), keeper).count == 0  # before it was ready for use
    result = svc.amortise_month(period(school, 2025, 1), keeper)
    assert (result.count, result.total, result.subject) == (1, D("600.00"), "1702 无形资产累计摊销")
    assert result.by_funding_source == {FundingSource.FISCAL: D("600.00")}
    assert result.by_kind == {IntangibleAsset.Kind.SOFTWARE: D("600.00")}
    svc.amortise_month(period(school, 2025, 2), keeper)
    obj.refresh_from_db()
    assert charges(obj) == [D("600.00"), D("600.00")]
    assert obj.accumulated_amortisation == D("1200.00") and obj.net_value == D("34800.00")
    line = obj.amortisation_lines.get(period__month=2)
    assert (line.accumulated_after, line.final, line.run_by) == (D("1200.00"), False, keeper)
    audit = AuditEntry.objects.filter(object_id=str(obj.pk), content_type__model="intangibleasset",
                                      action="update")
    assert audit.count() == 2 and "accumulated_amortisation" in audit.first().changed_fields


def test_10000_over_36_months_puts_the_rounding_in_the_last_month_and_then_stops(school, keeper):
    obj = software(school, keeper, original_value=D("10000.00"), life_months=36)
    for year, month in months(2025, 1, 37):
        svc.amortise_month(period(school, year, month), keeper)
    obj.refresh_from_db()
    amounts = charges(obj)
    assert amounts == [D("277.78")] * 35 + [D("277.70")]  # month 37 charged nothing: fully amortised
    assert obj.accumulated_amortisation == D("10000.00") == sum(amounts)
    last = obj.amortisation_lines.get(period__year=2027, period__month=12)
    assert last.final and last.accumulated_after == D("10000.00")
    # The schedule on the page is the same arithmetic, all posted.
    rows = svc.schedule_rows(obj)
    assert [r.amount for r in rows] == amounts and all(r.posted for r in rows) and rows[-1].net == 0


def test_ready_mid_month_is_amortised_that_month(school, keeper):
    obj = software(school, keeper, acquired_on=datetime.date(2025, 3, 1), in_service_on=datetime.date(2025, 3, 20))
    assert svc.amortise_month(period(school, 2025, 2), keeper).total == 0
    assert svc.amortise_month(period(school, 2025, 3), keeper).total == D("600.00")  # 当月增加当月摊销
    assert svc.schedule_rows(obj)[0].month == 3


def test_not_amortised_in_the_month_of_disposal_and_a_posted_charge_of_that_month_is_voided(school, keeper):
    obj = software(school, keeper)
    for year, month in months(2025, 1, 5):
        svc.amortise_month(period(school, year, month), keeper)
    svc.intangible_dispose(intangible=obj, actor=keeper, disposed_on=datetime.date(2025, 5, 10), reason="授权到期停用")
    obj.refresh_from_db()
    assert charges(obj) == [D("600.00")] * 4  # May's charge voided (当月减少当月不摊销), kept
    assert obj.amortisation_lines.filter(voided_at__isnull=False, period__month=5).count() == 1
    assert obj.accumulated_amortisation == D("2400.00") and obj.disposed_on == datetime.date(2025, 5, 10)
    assert svc.amortise_month(period(school, 2025, 5), keeper).total == 0
    assert svc.amortise_month(period(school, 2025, 6), keeper).total == 0
    assert [f"{r.year}-{r.month}" for r in svc.schedule_rows(obj)][-1] == "2025-4"
    with pytest.raises(ValidationError):
        svc.intangible_dispose(intangible=obj, actor=keeper, disposed_on=datetime.date(2025, 6, 1), reason="再次")


def test_an_indefinite_life_is_not_amortised_and_needs_no_period(school, keeper):
    obj = software(school, keeper, kind=IntangibleAsset.Kind.LAND_USE, name="校区土地使用权", indefinite_life=True,
                   life_months=None, original_value=D("8000000.00"))
    assert svc.amortise_month(period(school, 2025, 6), keeper).count == 0
    assert not obj.amortisation_lines.exists() and svc.schedule_rows(obj) == []


def test_a_finite_life_must_be_given(school, keeper):
    with pytest.raises(ValidationError) as caught:
        software(school, keeper, life_months=None)
    assert "life_months" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        software(school, keeper, acquired_on=TODAY + datetime.timedelta(days=3))
    assert "acquired_on" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        software(school, keeper, opening_on=datetime.date(2025, 6, 30))
    assert "opening_amortisation" in caught.value.message_dict


def test_a_cut_over_asset_continues_from_its_opening_balance(school, keeper):
    # In use since 2021-01, 48 months (¥28,800) amortised in the old ledger by 2024-12-31: ¥7,200 over 12 months.
    obj = software(school, keeper, acquired_on=datetime.date(2021, 1, 5), opening_on=datetime.date(2024, 12, 31),
                   opening_amortisation=D("28800.00"))
    assert obj.accumulated_amortisation == D("28800.00")
    assert svc.amortise_month(period(school, 2024, 12), keeper).total == 0  # the old ledger's month
    for year, month in months(2025, 1, 13):
        svc.amortise_month(period(school, year, month), keeper)
    obj.refresh_from_db()
    assert charges(obj) == [D("600.00")] * 12
    assert obj.accumulated_amortisation == D("36000.00")
    assert obj.amortisation_lines.get(period__year=2025, period__month=1).accumulated_after == D("29400.00")


def test_a_closed_month_is_refused_and_a_later_month_amortised_blocks_an_earlier_one(school, keeper):
    software(school, keeper)
    close(school, 2025, 2)
    with pytest.raises(ValidationError) as caught:
        svc.amortise_month(period(school, 2025, 2), keeper)
    assert "2025-02" in str(caught.value)
    with pytest.raises(ValidationError):  # closed because a later month is closed
        svc.amortise_month(period(school, 2025, 1), keeper)
    svc.amortise_month(period(school, 2025, 4), keeper)
    with pytest.raises(ValidationError) as caught:
        svc.amortise_month(period(school, 2025, 3), keeper)
    assert "2025年04月" in str(caught.value)


def test_a_rerun_voids_the_month_and_the_cache_follows_the_active_lines(school, keeper):
    obj = software(school, keeper)
    other = software(school, keeper, name="财务软件", original_value=D("12000.00"), life_months=24,
                     funding_source=FundingSource.OWN)
    march = period(school, 2025, 3)
    for year, month in months(2025, 1, 3):
        svc.amortise_month(period(school, year, month), keeper)
    again = svc.amortise_month(march, keeper)
    assert (again.voided, again.count, again.total) == (2, 2, D("1100.00"))
    assert again.by_funding_source == {FundingSource.FISCAL: D("600.00"), FundingSource.OWN: D("500.00")}
    assert AmortisationLine.objects.filter(period=march).count() == 4
    assert AmortisationLine.objects.filter(period=march, voided_at__isnull=True).count() == 2
    obj.refresh_from_db()
    other.refresh_from_db()
    assert (obj.accumulated_amortisation, other.accumulated_amortisation) == (D("1800.00"), D("1500.00"))
    posted = svc.amortisation_for_period(march)
    assert (posted.count, posted.total) == (2, D("1100.00"))


def test_the_basis_is_fixed_once_amortised_but_descriptions_change(school, keeper):
    obj = software(school, keeper)
    svc.amortise_month(period(school, 2025, 1), keeper)
    with pytest.raises(ValidationError) as caught:
        svc.intangible_update(intangible=obj, actor=keeper, data={"original_value": D("40000.00")})
    assert "original_value" in caught.value.message_dict
    svc.intangible_update(intangible=obj, actor=keeper, data={"supplier": "新供应商", "licence_no": "K-9"})
    obj.refresh_from_db()
    assert (obj.supplier, obj.original_value) == ("新供应商", D("36000.00"))


def test_licence_expiry_is_reminded_once_30_days_ahead(school, keeper, django_capture_on_commit_callbacks):
    from houqin.notifications.models import Notification

    soon = software(school, keeper, name="杀毒软件", licence_expires_on=TODAY + datetime.timedelta(days=20),
                    acquired_on=TODAY - datetime.timedelta(days=200))
    software(school, keeper, name="远期授权", licence_expires_on=TODAY + datetime.timedelta(days=90),
             acquired_on=TODAY - datetime.timedelta(days=200))
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.licence_reminders(today=TODAY) == 1
    note = Notification.objects.get(recipient=keeper, url=f"/assets/intangibles/{soon.pk}/")
    assert "杀毒软件" in note.title and "20" in note.body
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.licence_reminders(today=TODAY + datetime.timedelta(days=1)) == 0  # once per expiry date
    svc.intangible_update(intangible=soon, actor=keeper, data={"licence_expires_on": TODAY + datetime.timedelta(days=25)})
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.licence_reminders(today=TODAY) == 1  # renewed to a new date inside the window
    from houqin.core.jobs import periodic_jobs

    assert periodic_jobs()["assets.licence_reminders"].every_minutes == 1440


# 在建工程 ----------------------------------------------------------------------------------------------------------
def _project(school, keeper, card, **kwargs):
    return svc.project_create(school=school, actor=keeper, data={
        "name": "教学楼屋面防水工程", "target_card": card, "contractor": "杭州建工", "contract_no": "HT-01",
        "budget": D("150000.00"), **kwargs})


def _cost(school, keeper, project, amount, day=None, **kwargs):
    return svc.cost_create(school=school, actor=keeper, data={
        "project": project, "spent_on": day or TODAY, "amount": amount, "description": "进度款", **kwargs})


def test_acceptance_adds_the_cost_to_the_building_through_the_journal_and_rebases_depreciation(school, keeper):
    card = building_card()
    Asset.objects.filter(pk=card.pk).update(accumulated_depreciation=D("1200000.00"))  # 120 months × ¥10,000
    card.refresh_from_db()
    project = _project(school, keeper, card)
    assert project.number.startswith(f"ZJ{TODAY.year}-") and project.status == ConstructionProject.Status.OPEN
    _cost(school, keeper, project, D("70000.00"), invoice_no="FP001")
    _cost(school, keeper, project, D("50000.00"), voucher_no="记-12")
    project.refresh_from_db()
    assert project.cost_total == D("120000.00") == svc.project_cost_total(project)

    svc.project_accept(project=project, actor=keeper, accepted_on=TODAY, acceptance_doc_no="YS-2026-01")
    project.refresh_from_db()
    card.refresh_from_db()
    assert project.status == ConstructionProject.Status.ACCEPTED and project.card == card
    assert (project.accepted_on, project.acceptance_doc_no, project.capitalised_value) == (
        TODAY, "YS-2026-01", D("120000.00"))
    assert card.original_value == D("6120000.00")
    assert (card.rebased_on, card.rebased_accumulated) == (TODAY, D("1200000.00"))
    movement = card.movements.get(kind=AssetMovement.Kind.CAPITALISE)
    assert (movement.value_change, movement.happened_on) == (D("120000.00"), TODAY)
    assert project.number in movement.document and movement.document_url == f"/assets/construction/{project.pk}/"
    # The new remaining value (¥4,920,000) over the remaining life from this month.
    used = depreciation.month_index(TODAY) - depreciation.month_index(card.in_service_on)
    basis = depreciation.basis_for(original_value=card.original_value, life_months=card.life_months,
                                   in_service_on=card.in_service_on, rebased_on=card.rebased_on,
                                   rebased_accumulated=card.rebased_accumulated)
    assert basis.value == D("4920000.00") and basis.months == 600 - used
    assert basis.start == depreciation.month_index(TODAY)
    value_audit = AuditEntry.objects.filter(content_type__model="asset", object_id=str(card.pk), action="update")
    assert any("original_value" in a.changed_fields for a in value_audit)
    assert StatusChange.objects.filter(object_id=str(project.pk), transition="accept").count() == 1
    # Accepting twice is refused; so are more costs.
    with pytest.raises(TransitionNotAllowed):
        svc.project_accept(project=project, actor=keeper, accepted_on=TODAY, acceptance_doc_no="YS-2")
    with pytest.raises(ValidationError) as caught:
        _cost(school, keeper, project, D("10.00"))
    assert "project" in caught.value.message_dict


def test_acceptance_is_refused_without_costs_document_or_in_a_closed_month(school, keeper):
    project = _project(school, keeper, building_card())
    with pytest.raises(ValidationError) as caught:
        svc.project_accept(project=project, actor=keeper, accepted_on=TODAY, acceptance_doc_no="YS-1")
    assert "尚未登记任何费用" in str(caught.value)
    day = TODAY.replace(day=1) - datetime.timedelta(days=40)
    _cost(school, keeper, project, D("5000.00"), day=day)
    with pytest.raises(ValidationError) as caught:
        svc.project_accept(project=project, actor=keeper, accepted_on=TODAY, acceptance_doc_no="")
    assert "acceptance_doc_no" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        svc.project_accept(project=project, actor=keeper, accepted_on=TODAY + datetime.timedelta(days=2),
                           acceptance_doc_no="YS-1")
    assert "accepted_on" in caught.value.message_dict
    close(school, day.year, day.month)
    with pytest.raises(ValidationError) as caught:
        svc.project_accept(project=project, actor=keeper, accepted_on=day, acceptance_doc_no="YS-1")
    assert "accepted_on" in caught.value.message_dict
    project.refresh_from_db()
    assert project.status == ConstructionProject.Status.OPEN


def test_a_cost_dated_in_a_closed_month_or_not_positive_is_refused_and_a_void_needs_a_reason(school, keeper):
    project = _project(school, keeper, building_card())
    day = TODAY.replace(day=1) - datetime.timedelta(days=40)
    close(school, day.year, day.month)
    with pytest.raises(ValidationError) as caught:
        _cost(school, keeper, project, D("100.00"), day=day)
    assert "spent_on" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _cost(school, keeper, project, D("0.00"))
    assert "amount" in caught.value.message_dict
    cost = _cost(school, keeper, project, D("800.00"))
    with pytest.raises(ValidationError):
        svc.cost_void(cost=cost, actor=keeper, reason=" ")
    svc.cost_void(cost=cost, actor=keeper, reason="重复录入")
    cost.refresh_from_db()
    project.refresh_from_db()
    assert cost.voided_at is not None and project.cost_total == 0  # kept, no longer counted


def test_only_a_building_card_can_be_the_target(school, keeper):
    computer = AssetFactory()
    with pytest.raises(ValidationError) as caught:
        _project(school, keeper, computer)
    assert "target_card" in caught.value.message_dict and computer.code in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        _project(school, keeper, None)
    assert "target_card" in caught.value.message_dict


def test_the_life_may_only_be_extended_with_a_reason(school, keeper):
    card = building_card()
    project = _project(school, keeper, card)
    _cost(school, keeper, project, D("300000.00"))
    with pytest.raises(ValidationError) as caught:
        svc.project_accept(project=project, actor=keeper, accepted_on=TODAY, acceptance_doc_no="YS", life_months=480)
    assert "life_months" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        svc.project_accept(project=project, actor=keeper, accepted_on=TODAY, acceptance_doc_no="YS", life_months=720)
    assert "life_reason" in caught.value.message_dict
    svc.project_accept(project=project, actor=keeper, accepted_on=TODAY, acceptance_doc_no="YS", life_months=720,
                       life_reason="加固改造后延长使用")
    card.refresh_from_db()
    assert (card.life_months, card.life_reason) == (720, "加固改造后延长使用")


def test_without_a_card_acceptance_creates_a_self_built_card(school, keeper):
    category = _category("A01010100")
    project = _project(school, keeper, None, name="学生食堂连廊", new_card_category=category)
    _cost(school, keeper, project, D("86000.00"))
    _cost(school, keeper, project, D("14000.00"))
    svc.project_accept(project=project, actor=keeper, accepted_on=TODAY, acceptance_doc_no="YS-9")
    project.refresh_from_db()
    card = project.card
    assert (card.name, card.original_value, card.acquisition, card.category) == (
        "学生食堂连廊", D("100000.00"), Acquisition.SELF_BUILT, category)
    assert card.accounting_class == AccountingClass.BUILDINGS and card.life_months == 600
    assert card.movements.get().value_change == D("100000.00")


# Pages, API and roles --------------------------------------------------------------------------------------------
ROLES_THAT_MANAGE = ("asset_keeper", "logistics_director")
ROLES_THAT_VIEW = ("accountant", "principal", "vice_principal")


@pytest.mark.parametrize("role", ROLES_THAT_MANAGE + ROLES_THAT_VIEW + ("teacher",))
def test_who_may_see_and_manage(client, personas, school, role):
    obj = IntangibleAssetFactory()
    project = ConstructionProjectFactory()
    client.force_login(personas[role])
    manages, views = role in ROLES_THAT_MANAGE, role in ROLES_THAT_MANAGE + ROLES_THAT_VIEW
    for path in ("/assets/intangibles/", "/assets/construction/", "/assets/construction-costs/",
                 f"/assets/intangibles/{obj.pk}/", f"/assets/construction/{project.pk}/"):
        assert client.get(path).status_code == (200 if views else 403), path
    for path in ("/assets/intangibles/add/", "/assets/construction/add/", "/assets/construction-costs/add/"):
        assert client.get(path).status_code == (200 if manages else 403), path
    accept = client.get(f"/assets/construction/{project.pk}/accept/")
    assert accept.status_code == (200 if manages else 403 if views else 404)
    book = client.get(f"/assets/intangibles/{obj.pk}/book/")
    assert book.status_code == (200 if role == "accountant" else 403 if views else 404)
    api = client.post("/api/assets/intangibles/", {"name": "x"}, content_type="application/json")
    assert api.status_code == (400 if manages else 403)


def test_the_accountant_books_an_intangible_on_its_page(client, personas, school):
    obj = IntangibleAssetFactory()
    client.force_login(personas["accountant"])
    page = client.get(f"/assets/intangibles/{obj.pk}/")
    assert "/book/" in page.content.decode() and "/dispose/" not in page.content.decode()
    bad = client.post(f"/assets/intangibles/{obj.pk}/book/", {"voucher_no": ""})
    assert bad.status_code == 400
    response = client.post(f"/assets/intangibles/{obj.pk}/book/", {"voucher_no": "记-2026-0456"})
    assert response.status_code == 302
    obj.refresh_from_db()
    assert (obj.booking, obj.voucher_no, obj.booked_on) == ("booked", "记-2026-0456", TODAY)
    client.force_login(personas["asset_keeper"])
    assert client.post(f"/assets/intangibles/{obj.pk}/book/", {"voucher_no": "X"}).status_code == 403
    api = client.post(f"/api/assets/intangibles/{obj.pk}/book/", {"voucher_no": "X"}, content_type="application/json")
    assert api.status_code == 403


def test_the_page_shows_the_schedule(client, personas, school):
    obj = IntangibleAssetFactory(original_value=D("10000.00"), life_months=36)
    client.force_login(personas["asset_keeper"])
    html = client.get(f"/assets/intangibles/{obj.pk}/").content.decode()
    assert html.count("277.78") >= 35 and "277.70" in html and "10,000.00" in html
    schedule = client.get(f"/api/assets/intangibles/{obj.pk}/schedule/").json()
    assert len(schedule) == 36 and schedule[-1]["amount"] == "277.70" and schedule[-1]["accumulated"] == "10000.00"


def test_api_refuses_an_intangible_without_life_and_creates_one_with_it(client, personas, school):
    client.force_login(personas["asset_keeper"])
    data = {"name": "OA 系统", "kind": "software", "original_value": "24000.00", "funding_source": "fiscal",
            "acquired_on": str(TODAY - datetime.timedelta(days=5))}
    bad = client.post("/api/assets/intangibles/", data, content_type="application/json")
    assert bad.status_code == 400 and "life_months" in bad.json()["errors"]
    good = client.post("/api/assets/intangibles/", {**data, "life_months": 60}, content_type="application/json")
    assert good.status_code == 201, good.json()
    created = IntangibleAsset.objects.get(pk=good.json()["id"])
    assert created.code and created.life_months == 60


def test_api_accepts_a_project(client, personas, school):
    cost = ConstructionCostFactory(amount=D("66000.00"))
    project = cost.project
    before = project.target_card.original_value
    client.force_login(personas["accountant"])
    url = f"/api/assets/construction/{project.pk}/accept/"
    assert client.post(url, {"accepted_on": str(TODAY), "acceptance_doc_no": "YS"},
                       content_type="application/json").status_code == 403
    client.force_login(personas["logistics_director"])
    missing = client.post(url, {"accepted_on": str(TODAY)}, content_type="application/json")
    assert missing.status_code == 400 and "acceptance_doc_no" in missing.json()["errors"]
    response = client.post(url, {"accepted_on": str(TODAY), "acceptance_doc_no": "YS-2026-07"},
                           content_type="application/json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"
    project.target_card.refresh_from_db()
    assert project.target_card.original_value == before + D("66000.00")
    again = client.post(url, {"accepted_on": str(TODAY), "acceptance_doc_no": "YS"}, content_type="application/json")
    assert again.status_code == 400


def test_a_cost_is_voided_on_its_page_and_never_edited(client, personas, school):
    cost = ConstructionCostFactory()
    client.force_login(personas["asset_keeper"])
    assert client.get(f"/assets/construction-costs/{cost.pk}/edit/").status_code in (403, 404)
    assert client.post(f"/assets/construction-costs/{cost.pk}/void/", {"reason": "发票作废"}).status_code == 302
    cost.refresh_from_db()
    cost.project.refresh_from_db()
    assert cost.void_reason == "发票作废" and cost.project.cost_total == 0
    client.force_login(personas["accountant"])
    assert client.post(f"/assets/construction-costs/{cost.pk}/void/", {"reason": "x"}).status_code == 403


def test_the_keeper_accepts_on_the_page_and_the_accepted_project_is_no_longer_editable(client, personas, school):
    cost = ConstructionCostFactory(amount=D("52000.00"))
    project = cost.project
    client.force_login(personas["asset_keeper"])
    page = client.get(f"/assets/construction/{project.pk}/").content.decode()
    assert f"/assets/construction/{project.pk}/accept/" in page and f"/assets/construction/{project.pk}/edit/" in page
    bad = client.post(f"/assets/construction/{project.pk}/accept/", {"accepted_on": str(TODAY)})
    assert bad.status_code == 400 and "acceptance_doc_no" in bad.context["form"].errors
    response = client.post(f"/assets/construction/{project.pk}/accept/",
                           {"accepted_on": str(TODAY), "acceptance_doc_no": "YS-88"}, follow=True)
    text = response.content.decode()
    assert "52,000.00" in text and project.target_card.code in text
    assert f"/assets/construction/{project.pk}/edit/" not in text and "/accept/" not in text
    closed = client.post(f"/assets/construction/{project.pk}/edit/", {"name": "改名"})
    assert closed.status_code == 400 and ConstructionProject.objects.get(pk=project.pk).name == project.name
