"""factory-boy factories for every asset entity. ``build()`` gives valid unsaved rows; ``create()`` goes
through the services, so the journal and the cached state stay consistent."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from houqin.assets.choices import AccountingClass
from houqin.assets.models import (
    Asset,
    AssetCategory,
    AssetDisposal,
    AssetLoan,
    AssetMove,
    AssetMovement,
    AssetRepair,
    AssetSettings,
    FundingProject,
    Handover,
    LowValueItem,
    Stocktake,
)
from houqin.org.models import Room, School, Staff, User


def _school():
    return School.objects.get(code="3301001")


def _user(username="keeper"):
    return User.objects.get(username=username)


def _category(code="A02010105"):
    from houqin.assets.services.cards import category_seed

    school = _school()
    found = AssetCategory.objects.filter(school=school, code=code).first()
    if found is None:
        category_seed(school)
        found = AssetCategory.objects.get(school=school, code=code)
    return found


def _staff(n=0):
    return Staff.objects.filter(school=_school(), status=Staff.Status.ACTIVE, is_outsourced=False).order_by("pk")[n]


def _room(n=0):
    return Room.objects.filter(school=_school()).order_by("pk")[n]


class SchoolScoped(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    school = factory.LazyFunction(_school)


class AssetCategoryFactory(SchoolScoped):
    class Meta:
        model = AssetCategory

    code = factory.Sequence(lambda n: f"A0599{n:04d}")
    name = factory.Sequence(lambda n: f"测试分类{n}")
    accounting_class = AccountingClass.FURNITURE
    default_life_years = 15


class FundingProjectFactory(SchoolScoped):
    class Meta:
        model = FundingProject

    name = factory.Sequence(lambda n: f"测试专项{n}")
    code = factory.Sequence(lambda n: f"ZX-{n}")
    year = 2026


class AssetSettingsFactory(SchoolScoped):
    class Meta:
        model = AssetSettings
        django_get_or_create = ("school",)

    code_prefix = "ZC"


class AssetFactory(SchoolScoped):
    class Meta:
        model = Asset

    code = factory.Sequence(lambda n: f"TEST{n:06d}")
    name = factory.Sequence(lambda n: f"测试电脑{n}")
    category = factory.LazyFunction(_category)
    accounting_class = AccountingClass.GENERAL_EQUIPMENT
    spec = "T-100"
    unit = "台"
    quantity = 1
    original_value = Decimal("5200.00")
    acquired_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    room = factory.LazyFunction(lambda: _room(1))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import cards

        school = kwargs.pop("school")
        return cards.asset_create(school=school, actor=_user(), data=kwargs)


class LowValueItemFactory(SchoolScoped):
    class Meta:
        model = LowValueItem

    code = factory.Sequence(lambda n: f"DTEST{n:05d}")
    name = factory.Sequence(lambda n: f"测试风扇{n}")
    unit = "个"
    quantity = 2
    unit_price = Decimal("150.00")
    acquired_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import cards

        school = kwargs.pop("school")
        return cards.item_create(school=school, actor=_user(), data=kwargs)


class AssetMovementFactory(factory.django.DjangoModelFactory):
    """A journal row is only ever posted by a service: creating one posts an 'idle' movement on a new card."""

    class Meta:
        model = AssetMovement

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import journal

        asset = AssetFactory()
        return journal.post(asset, kind=AssetMovement.Kind.IDLE, actor=_user(), status="idle")

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        return AssetMovement(school=_school(), kind=AssetMovement.Kind.IDLE, happened_on=timezone.localdate(),
                             status_after="idle")


def _with_state(obj, status):
    """The workflow matrix asks for a document in a given state: set it the way a fixture would."""
    if status:
        type(obj).objects.filter(pk=obj.pk).update(status=status)
        obj.status = status
    return obj


def _new_asset_code(**kwargs) -> str:
    return AssetFactory(**kwargs).code


class AssetMoveFactory(SchoolScoped):
    class Meta:
        model = AssetMove

    kind = AssetMove.Kind.TRANSFER
    moved_on = factory.LazyFunction(timezone.localdate)
    to_room = factory.LazyFunction(lambda: _room(2))
    note = "测试调拨"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import documents

        school = kwargs.pop("school")
        status = kwargs.pop("status", None)
        return _with_state(documents.move_create(school=school, actor=_user(), assets=[AssetFactory()], **kwargs), status)


class AssetLoanFactory(SchoolScoped):
    class Meta:
        model = AssetLoan

    asset = factory.LazyFunction(lambda: AssetFactory())
    borrower = factory.LazyFunction(lambda: _staff(3))
    lent_on = factory.LazyFunction(timezone.localdate)
    due_on = factory.LazyFunction(timezone.localdate)
    purpose = "上课用"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import documents

        kwargs.pop("lent_on", None)
        school = kwargs.pop("school")
        return documents.loan_create(school=school, actor=_user(), **kwargs)


class AssetRepairFactory(SchoolScoped):
    class Meta:
        model = AssetRepair

    asset = factory.LazyFunction(lambda: AssetFactory())
    fault = "无法开机"
    repairer = "联想售后"
    sent_on = factory.LazyFunction(timezone.localdate)
    number = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import documents

        kwargs.pop("number", None)
        school = kwargs.pop("school")
        return documents.repair_send(school=school, actor=_user(), **kwargs)


class AssetDisposalFactory(SchoolScoped):
    class Meta:
        model = AssetDisposal

    method = AssetDisposal.Method.WRITE_OFF
    reason = "使用年限已满，无法修复"
    decision_ref = "2026年第5次校长办公会纪要"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import documents

        school = kwargs.pop("school")
        status = kwargs.pop("status", None)
        return _with_state(documents.disposal_create(school=school, actor=_user(), assets=[AssetFactory()], **kwargs), status)


class StocktakeFactory(SchoolScoped):
    class Meta:
        model = Stocktake

    title = factory.Sequence(lambda n: f"测试盘点{n}")
    scope = Stocktake.Scope.ALL
    period = Stocktake.Period.TERM_END
    planned_on = factory.LazyFunction(timezone.localdate)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import stocktake

        school = kwargs.pop("school")
        status = kwargs.pop("status", None)
        return _with_state(stocktake.stocktake_plan(school=school, actor=_user(), **kwargs), status)


class HandoverFactory(SchoolScoped):
    """A handover of a person who holds one card (made for the purpose)."""

    class Meta:
        model = Handover

    from_staff = factory.LazyFunction(lambda: AssetFactory(custodian=_staff(5)).custodian)
    to_staff = factory.LazyFunction(lambda: _staff(6))
    supervisor = factory.LazyFunction(lambda: _staff(0))
    reason = "调离"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import handover

        school = kwargs.pop("school")
        status = kwargs.pop("status", None)
        return _with_state(handover.handover_create(school=school, actor=_user(), **kwargs), status)


FACTORIES = {
    AssetCategory: AssetCategoryFactory, FundingProject: FundingProjectFactory, AssetSettings: AssetSettingsFactory,
    Asset: AssetFactory, LowValueItem: LowValueItemFactory, AssetMovement: AssetMovementFactory,
    AssetMove: AssetMoveFactory, AssetLoan: AssetLoanFactory, AssetRepair: AssetRepairFactory,
    AssetDisposal: AssetDisposalFactory, Stocktake: StocktakeFactory, Handover: HandoverFactory,
}

# Form fields that are not model fields, for the entity matrix: the asset codes of a document.
FORM_EXTRA = {AssetMove: {"assets": _new_asset_code}, AssetDisposal: {"assets": _new_asset_code}}
FACTORIES.update(__import__("houqin.assets.tests.factories_contracting", fromlist=["FACTORIES"]).FACTORIES)  # AST-5/6
FACTORIES.update(__import__("houqin.assets.tests.factories_closing", fromlist=["FACTORIES"]).FACTORIES)  # AST-7
FACTORIES.update(__import__("houqin.assets.tests.factories_intangibles", fromlist=["FACTORIES"]).FACTORIES)  # AST-15
FACTORIES.update(__import__("houqin.assets.tests.factories_reports", fromlist=["FACTORIES"]).FACTORIES)  # AST-10
__import__("houqin.assets.tests.factories_leases")  # AST-8: merges its FACTORIES and FORM_EXTRA into these
