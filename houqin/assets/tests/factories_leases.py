"""factory-boy factories of the idle register, tenants, leases and rent (AST-8). ``create()`` goes through the
services (journal, workflow, schedule); ``build()`` gives valid unsaved rows for the generated forms."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from houqin.assets.models import IdleRoom, Lease, RentInstallment, RentPayOver, RentReceipt, Tenant
from houqin.assets.models.leases import USCC_CHARS, credit_code_check_char

from . import factories as base
from .factories import SchoolScoped, _school, _user, _with_state


def credit_code(n: int) -> str:
    """A valid 统一社会信用代码 (GB 32100) for test tenant ``n``."""
    base = f"91330100MA{n % 10**7:07d}"
    assert all(c in USCC_CHARS for c in base)
    return base + credit_code_check_char(base)


def _new_room():
    from houqin.org.tests.factories import RoomFactory

    return RoomFactory(school=_school())


class IdleRoomFactory(SchoolScoped):
    class Meta:
        model = IdleRoom

    room = factory.LazyFunction(_new_room)
    since = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    area = Decimal("64.50")
    reason = "专业调整后空置"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import leases

        school = kwargs.pop("school")
        status = kwargs.pop("status", None)
        return _with_state(leases.idle_room_create(school=school, actor=_user(), data=kwargs), status)


class TenantFactory(SchoolScoped):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"测试文化传媒有限公司{n}")
    credit_code = factory.Sequence(lambda n: credit_code(n + 1000))
    contact = "林小东"
    phone = "13805710001"
    address = "杭州市西湖区文三路1号"
    safety_supervised = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.core import crud

        return crud.object_create(obj=model_class(**kwargs), actor=_user())


def lease_dates():
    start = timezone.localdate() - datetime.timedelta(days=45)
    return start, start.replace(year=start.year + 1) - datetime.timedelta(days=1)


class LeaseFactory(SchoolScoped):
    """A draft lease of one idle room, with its approval and public tender filled in."""

    class Meta:
        model = Lease

    tenant = factory.LazyFunction(lambda: TenantFactory())
    purpose = "课外培训"
    start_on = factory.LazyFunction(lambda: lease_dates()[0])
    end_on = factory.LazyFunction(lambda: lease_dates()[1])
    rent_amount = Decimal("3000.00")
    rent_period = Lease.Period.MONTHLY
    deposit = Decimal("6000.00")
    approval_doc_no = "杭教资〔2026〕12号"
    approval_authority = "杭州市教育局"
    tender_platform = "杭州市公共资源交易中心"
    tender_notice_no = factory.Sequence(lambda n: f"HZGZ-2026-{n:04d}")
    tender_on = factory.LazyFunction(lambda: lease_dates()[0] - datetime.timedelta(days=10))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import leases

        school = kwargs.pop("school")
        status = kwargs.pop("status", None)
        rooms = kwargs.pop("rooms", None) or [IdleRoomFactory()]
        lease = leases.lease_create(school=school, actor=_user(), data={**kwargs, "rooms": rooms})
        return _with_state(lease, status)


def active_lease(**kwargs) -> Lease:
    """A lease in force (rent schedule written, room leased), made by the services."""
    from houqin.assets.services import leases

    lease = LeaseFactory(**kwargs)
    return leases.lease_activate(lease=lease, actor=_user())


class RentInstallmentFactory(factory.django.DjangoModelFactory):
    """Instalments are only written by activation: creating one activates a new lease and gives its first."""

    class Meta:
        model = RentInstallment

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        status = kwargs.pop("status", None)
        return _with_state(active_lease().installments.order_by("seq").first(), status)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        today = timezone.localdate()
        return RentInstallment(school=_school(), seq=1, period_start=today, period_end=today, due_on=today,
                               amount=Decimal("3000.00"))


def _open_installment():
    return active_lease().installments.order_by("seq").first()


class RentReceiptFactory(SchoolScoped):
    class Meta:
        model = RentReceipt

    installment = factory.LazyFunction(_open_installment)
    amount = Decimal("1000.00")
    received_on = factory.LazyFunction(timezone.localdate)
    receipt_no = factory.Sequence(lambda n: f"33010126{n:08d}")
    note = "转账"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import leases

        school = kwargs.pop("school")
        return leases.receipt_record(school=school, actor=_user("accountant"), **kwargs)


class RentPayOverFactory(SchoolScoped):
    class Meta:
        model = RentPayOver

    paid_on = factory.LazyFunction(timezone.localdate)
    reference = factory.Sequence(lambda n: f"FS2026{n:06d}")
    note = "非税收入一般缴款书"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import leases

        school = kwargs.pop("school")
        receipts = kwargs.pop("receipts", None) or [RentReceiptFactory()]
        return leases.pay_over_record(school=school, actor=_user("accountant"), receipts=receipts, **kwargs)


FACTORIES = {
    IdleRoom: IdleRoomFactory, Tenant: TenantFactory, Lease: LeaseFactory, RentInstallment: RentInstallmentFactory,
    RentReceipt: RentReceiptFactory, RentPayOver: RentPayOverFactory,
}

# Form fields that are not plain model fields, for the entity matrix: a lease's room, a pay-over's receipts.
FORM_EXTRA = {Lease: {"rooms": lambda: IdleRoomFactory().pk},
              RentPayOver: {"paid_receipts": lambda: RentReceiptFactory().pk}}

# Merged into the app's factories module (imported either way round, the merge happens once this module is done).
base.FACTORIES.update(FACTORIES)
base.FORM_EXTRA.update(FORM_EXTRA)
