"""AST-1 建卡 and AST-11: the capitalisation threshold, batches, dates, lives, codes, card edit, booking."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from houqin.assets.choices import AccountingClass, UseStatus
from houqin.assets.models import Asset, AssetMovement, Counter
from houqin.assets.services import cards, journal
from houqin.assets.services.common import settings_for

from .factories import AssetCategoryFactory, _category, _room, _staff

TODAY = timezone.localdate()
LAST_MONTH = TODAY - datetime.timedelta(days=30)


def _data(**extra):
    data = {"name": "台式计算机", "category": _category("A02010105"), "unit": "台", "quantity": 1,
            "original_value": Decimal("5200.00"), "acquired_on": LAST_MONTH}
    data.update(extra)
    return data


def _create(keeper, school, **extra):
    return cards.asset_create(school=school, actor=keeper, data=_data(**extra))


def test_a_single_item_below_the_threshold_goes_to_the_low_value_register(school, personas):
    with pytest.raises(ValidationError) as caught:
        _create(personas["asset_keeper"], school, original_value=Decimal("999.99"))
    message = caught.value.message_dict["original_value"][0]
    assert "1,000.00" in message and "999.99" in message
    assert "low-value register" in message or "低值" in message
    # At the threshold it is a fixed asset.
    assert _create(personas["asset_keeper"], school, original_value=Decimal("1000.00")).pk


def test_a_batch_of_similar_items_below_the_threshold_is_one_card(school, personas):
    chairs = _create(personas["asset_keeper"], school, name="学生椅", category=_category("A05010304"), unit="把",
                     quantity=40, original_value=Decimal("12000.00"))
    assert chairs.quantity == 40 and chairs.original_value == Decimal("12000.00")
    assert chairs.accounting_class == AccountingClass.FURNITURE


def test_a_category_override_keeps_1500_for_special_equipment(school, personas):
    special = AssetCategoryFactory(code="A03299999", name="专用实训设备", accounting_class=AccountingClass.SPECIAL_EQUIPMENT,
                                   default_life_years=10, capitalise_threshold=Decimal("1500.00"))
    assert cards.threshold_for(special, school) == Decimal("1500.00")
    assert cards.threshold_for(_category(), school) == Decimal("1000.00")
    with pytest.raises(ValidationError) as caught:
        _create(personas["asset_keeper"], school, category=special, original_value=Decimal("1200.00"))
    assert "1,500.00" in caught.value.message_dict["original_value"][0]
    assert _create(personas["asset_keeper"], school, category=special, original_value=Decimal("1500.00")).pk
    # The school's own threshold moves the default.
    conf = settings_for(school)
    conf.capitalise_threshold = Decimal("800.00")
    conf.save()
    assert _create(personas["asset_keeper"], school, original_value=Decimal("900.00")).pk


def test_future_dates_are_refused(school, personas):
    tomorrow = TODAY + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        _create(personas["asset_keeper"], school, acquired_on=tomorrow)
    assert "acquired_on" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _create(personas["asset_keeper"], school, in_service_on=tomorrow)
    assert "in_service_on" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _create(personas["asset_keeper"], school, in_service_on=LAST_MONTH - datetime.timedelta(days=1))
    assert "in_service_on" in caught.value.message_dict


def test_a_life_shorter_than_the_category_table_is_refused_a_longer_one_needs_a_reason(school, personas):
    with pytest.raises(ValidationError) as caught:
        _create(personas["asset_keeper"], school, life_months=60)
    assert "72" in caught.value.message_dict["life_months"][0]
    with pytest.raises(ValidationError) as caught:
        _create(personas["asset_keeper"], school, life_months=96)
    assert "72" in caught.value.message_dict["life_reason"][0]
    assert _create(personas["asset_keeper"], school, life_months=96,
                   life_reason="实训室恒温恒湿，厂家保用8年").life_months == 96
    assert _create(personas["asset_keeper"], school).life_months == 72  # the category's default


def test_new_codes_are_prefix_year_sequence_and_skip_codes_of_imported_cards(school, personas):
    conf = settings_for(school)
    conf.code_prefix = "ZC"
    conf.save()
    year = LAST_MONTH.year
    counter = Counter.objects.filter(school=school, key="asset", year=year).first()
    last = counter.value if counter else 0
    # An imported card already carries the next number (the old ledger numbered the same way).
    Asset.objects.create(school=school, code=f"ZC{year}{last + 1:05d}", name="旧账投影仪", category=_category(),
                         accounting_class=AccountingClass.GENERAL_EQUIPMENT, original_value=Decimal("3000"),
                         quantity=1, historic=True, acquired_on=datetime.date(2015, 3, 1))
    first = _create(personas["asset_keeper"], school)
    second = _create(personas["asset_keeper"], school)
    assert first.code == f"ZC{year}{last + 2:05d}"
    assert second.code == f"ZC{year}{last + 3:05d}"
    # A typed code is kept as it is.
    assert _create(personas["asset_keeper"], school, code="OLD-0001").code == "OLD-0001"


def test_a_new_card_awaits_booking_and_its_first_journal_row_says_where_it_is(school, personas):
    room, keeper_staff = _room(1), _staff(2)
    asset = _create(personas["asset_keeper"], school, room=room, custodian=keeper_staff)
    assert asset.booking == Asset.Booking.PENDING
    assert asset.status == UseStatus.IN_USE and asset.room == room and asset.custodian == keeper_staff
    first = asset.movements.get()
    assert first.kind == AssetMovement.Kind.REGISTER and first.value_change == Decimal("5200.00")
    assert journal.state_from_journal(asset) == journal.cached_state(asset)
    in_store = _create(personas["asset_keeper"], school)
    assert in_store.status == UseStatus.IN_STORE


def test_card_edit_cannot_change_place_custodian_or_status(school, personas):
    keeper = personas["asset_keeper"]
    asset = _create(keeper, school, room=_room(1))
    cards.asset_update(asset=asset, actor=keeper, data={"name": "台式计算机（教务处）", "room": _room(3),
                                                        "custodian": _staff(4), "status": UseStatus.DISPOSED,
                                                        "code": "X1"})
    asset.refresh_from_db()
    assert asset.name == "台式计算机（教务处）"
    assert (asset.room, asset.custodian, asset.status) == (_room(1), None, UseStatus.IN_USE)
    assert asset.code != "X1"
    assert asset.movements.count() == 1
    with pytest.raises(ValidationError) as caught:
        cards.asset_update(asset=asset, actor=keeper, data={"life_months": 12})
    assert "life_months" in caught.value.message_dict


def test_the_edit_page_and_the_api_offer_no_place_custodian_or_status(client, school, personas):
    keeper = personas["asset_keeper"]
    asset = _create(keeper, school, room=_room(1))
    client.force_login(keeper)
    html = client.get(f"/assets/cards/{asset.pk}/edit/").content.decode()
    assert 'name="name"' in html
    for name in ("room", "custodian", "department", "status", "code"):
        assert f'name="{name}"' not in html
    response = client.patch(f"/api/assets/cards/{asset.pk}/", {"room": _room(3).pk, "status": "disposed"},
                            content_type="application/json")
    assert response.status_code in (200, 400)
    asset.refresh_from_db()
    assert asset.room == _room(1) and asset.status == UseStatus.IN_USE


def test_the_add_page_refuses_a_cheap_single_item_next_to_the_field(client, school, personas):
    client.force_login(personas["asset_keeper"])
    response = client.post("/assets/cards/add/", {
        "name": "U盘", "category": _category().pk, "accounting_class": AccountingClass.GENERAL_EQUIPMENT,
        "unit": "个", "quantity": 1, "original_value": "80", "valuation_type": "cost", "funding_source": "fiscal",
        "acquisition": "purchase", "acquired_on": LAST_MONTH.isoformat()})
    assert response.status_code == 400
    form = response.context["form"]
    assert "original_value" in form.errors
    assert not Asset.objects.filter(school=school, name="U盘", original_value=Decimal("80")).exclude(
        historic=True).exists()
