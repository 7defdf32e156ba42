"""factory-boy factories for AST-15 (intangible assets, construction projects and their costs). ``build()``
gives valid unsaved rows; ``create()`` goes through ``services.intangibles`` like the pages do."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from houqin.assets.choices import AccountingClass
from houqin.assets.models import ConstructionCost, ConstructionProject, IntangibleAsset

# ``factories`` merges FACTORIES from this module at its end: import it lazily, so that either module may be
# imported first.


def _base():
    from . import factories

    return factories


class SchoolScoped(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    school = factory.LazyFunction(lambda: _base()._school())


def _user():
    return _base()._user()


def building_card(**kwargs):
    """A building card (办公用房, 50 years) put into service ten years ago."""
    base = _base()
    _category, _room = base._category, base._room
    start = timezone.localdate().replace(day=1) - datetime.timedelta(days=3650)
    data = {"name": "教学楼", "category": _category("A01010100"), "accounting_class": AccountingClass.BUILDINGS,
            "original_value": Decimal("6000000.00"), "acquired_on": start, "unit": "栋", "room": _room(0),
            **kwargs}
    return base.AssetFactory(**data)


class IntangibleAssetFactory(SchoolScoped):
    class Meta:
        model = IntangibleAsset

    code = factory.Sequence(lambda n: f"WXTEST{n:05d}")
    name = factory.Sequence(lambda n: f"教务管理系统授权{n}")
    kind = IntangibleAsset.Kind.SOFTWARE
    original_value = Decimal("36000.00")
    acquired_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=20))
    life_months = 60
    supplier = "正方软件"
    licence_no = "LIC-2026-001"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import intangibles

        school = kwargs.pop("school")
        return intangibles.intangible_create(school=school, actor=_user(), data=kwargs)


class ConstructionProjectFactory(SchoolScoped):
    class Meta:
        model = ConstructionProject

    name = factory.Sequence(lambda n: f"教学楼屋面防水工程{n}")
    target_card = factory.LazyFunction(building_card)
    contractor = "杭州建工集团"
    contract_no = factory.Sequence(lambda n: f"HT-ZJ-{n:03d}")
    budget = Decimal("120000.00")
    started_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=10))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import intangibles

        school = kwargs.pop("school")
        status = kwargs.pop("status", None)
        return _base()._with_state(intangibles.project_create(school=school, actor=_user(), data=kwargs), status)


class ConstructionCostFactory(SchoolScoped):
    class Meta:
        model = ConstructionCost

    project = factory.LazyFunction(lambda: ConstructionProjectFactory())
    spent_on = factory.LazyFunction(timezone.localdate)
    amount = Decimal("48000.00")
    description = "防水卷材及施工进度款"
    invoice_no = factory.Sequence(lambda n: f"FP{n:08d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import intangibles

        school = kwargs.pop("school")
        return intangibles.cost_create(school=school, actor=_user(), data=kwargs)


FACTORIES = {IntangibleAsset: IntangibleAssetFactory, ConstructionProject: ConstructionProjectFactory,
             ConstructionCost: ConstructionCostFactory}
