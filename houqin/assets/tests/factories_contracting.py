"""Factories of class contracting (AST-6) and damage compensation (AST-5). ``create()`` goes through the services;
each contract is for a class of its own (one contract per class and term), in a classroom of its own."""

import datetime
import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from houqin.assets.models import ClassContract, ContractCheck, DamageRecord
from houqin.org.models import Room, School, SchoolClass, Term, User
from houqin.org.tests.factories import StudentFactory

# Nothing is imported from .factories at module level: that module merges this one's FACTORIES when it loads.
_seq = itertools.count(1)


def _school():
    return School.objects.get(code="3301001")


def _user(username="keeper"):
    return User.objects.get(username=username)


class SchoolScoped(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    school = factory.LazyFunction(_school)


def term_today() -> Term:
    """A term of the demo school that contains today (a made-up one in the summer holidays)."""
    today = timezone.localdate()
    school = _school()
    found = Term.objects.filter(school=school, start_on__lte=today, end_on__gte=today).first()
    if found is not None:
        return found
    year = 2090 + Term.objects.filter(school=school, school_year__gte=2090).count()
    return Term.objects.create(school=school, school_year=year, season=Term.Season.AUTUMN,
                               start_on=today - datetime.timedelta(days=40), mid_on=today + datetime.timedelta(days=20),
                               end_on=today + datetime.timedelta(days=80))


def class_teacher(n=0):
    """A 班主任 of the demo school who is not one of the demo logins."""
    from houqin.org.models import Staff

    return (Staff.objects.filter(school=_school(), user__groups__name="class_teacher")
            .exclude(user__username="teacher1").order_by("pk")[n])


def new_class(*, head_teacher=None, with_room=True) -> SchoolClass:
    """A class of its own with a classroom of its own (so tests never share a contract)."""
    n = next(_seq)
    school = _school()
    room = Room.objects.create(school=school, code=f"CB-{n}-{timezone.now():%H%M%S%f}", name=f"承包测试教室{n}",
                               kind=Room.Kind.CLASSROOM, capacity=50) if with_room else None
    major = f"承包{n}{timezone.now():%f}"
    return SchoolClass.objects.create(school=school, name=SchoolClass.make_name(2026, major, 1), intake_year=2026,
                                      major=major, number=1, room=room, head_teacher=head_teacher or class_teacher())


def contract_with_lines(*, school_class=None, term=None, signed=False, stools=50):
    """A contract whose room holds ``stools`` stools (a low-value item), signed by the class teacher if asked."""
    from houqin.assets.services import cards
    from houqin.assets.services import contracting as services

    school_class = school_class or new_class()
    cards.item_create(school=_school(), actor=_user(), data={
        "name": "学生凳", "unit": "张", "quantity": stools, "unit_price": Decimal("45.00"),
        "acquired_on": timezone.localdate() - datetime.timedelta(days=100), "room": school_class.room})
    contract = services.contract_create(school=_school(), school_class=school_class, term=term or term_today(),
                                        actor=_user())
    if signed:
        services.contract_sign(contract=contract, actor=school_class.head_teacher.user)
    return contract


class ClassContractFactory(SchoolScoped):
    class Meta:
        model = ClassContract

    school_class = factory.LazyFunction(new_class)
    term = factory.LazyFunction(term_today)
    note = "测试承包"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import contracting as services

        status = kwargs.pop("status", None)
        contract = services.contract_create(actor=_user(), **kwargs)
        if status:
            ClassContract.objects.filter(pk=contract.pk).update(status=status)
            contract.status = status
        return contract


class ContractCheckFactory(SchoolScoped):
    class Meta:
        model = ContractCheck

    contract = factory.LazyFunction(lambda: contract_with_lines(signed=True))
    checked_on = factory.LazyFunction(timezone.localdate)
    note = "月检查"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import contracting as services

        kwargs.pop("school")
        return services.check_record(actor=_user(), **kwargs)


class DamageRecordFactory(SchoolScoped):
    class Meta:
        model = DamageRecord

    number = ""
    what = "学生凳"
    happened_on = factory.LazyFunction(timezone.localdate)
    responsible = DamageRecord.Responsible.STUDENT
    student = factory.LazyFunction(lambda: StudentFactory())
    description = "凳腿断裂"
    assessed_amount = Decimal("45.00")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.assets.services import contracting as services

        kwargs.pop("number", None)
        school = kwargs.pop("school")
        status = kwargs.pop("status", None)
        record = services.damage_create(school=school, actor=_user(), data=kwargs)
        if status:  # the workflow matrix asks for a record in a given state
            DamageRecord.objects.filter(pk=record.pk).update(status=status)
            record.status = status
        return record


FACTORIES = {ClassContract: ClassContractFactory, ContractCheck: ContractCheckFactory,
             DamageRecord: DamageRecordFactory}
