"""factory-boy factories for every org entity (architecture §4.12). ``build()`` gives valid unsaved rows."""

import datetime
import itertools

import factory

from houqin.org.models import Building, Campus, Department, Holiday, Room, SchoolClass, Staff, Student, Term

_seq = itertools.count(1)


class SchoolScoped(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    school = factory.LazyFunction(lambda: __import__("houqin.org.models", fromlist=["School"]).School.objects.get(
        code="3301001"))


class CampusFactory(SchoolScoped):
    class Meta:
        model = Campus

    name = factory.Sequence(lambda n: f"测试校区{n}")
    address = "测试路1号"


class BuildingFactory(SchoolScoped):
    class Meta:
        model = Building

    code = factory.Sequence(lambda n: f"TB{n}")
    name = factory.Sequence(lambda n: f"测试楼{n}")
    floors = 4


class RoomFactory(SchoolScoped):
    class Meta:
        model = Room

    building = factory.LazyAttribute(lambda o: Building.objects.filter(school=o.school).order_by("pk").first())
    code = factory.Sequence(lambda n: f"TR-{n}")
    name = factory.Sequence(lambda n: f"测试室{n}")
    floor = 2
    kind = Room.Kind.OFFICE
    capacity = 20


class DepartmentFactory(SchoolScoped):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"测试科{n}")
    kind = Department.Kind.ADMIN


class StaffFactory(SchoolScoped):
    """Unsaved staff for forms; saving goes through ``services.staff_create`` (it makes the account)."""

    class Meta:
        model = Staff

    staff_no = factory.Sequence(lambda n: f"TS{n:04d}")
    name = factory.Sequence(lambda n: "测试员" + "甲乙丙丁戊己庚辛壬癸"[n % 10])
    gender = Staff.Gender.MALE
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    title = "干事"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from houqin.org import services

        staff, _password = services.staff_create(actor=None, **kwargs)
        return staff


class SchoolClassFactory(SchoolScoped):
    class Meta:
        model = SchoolClass

    intake_year = 2026
    major = factory.Sequence(lambda n: f"测试{n}")
    number = 1
    name = factory.LazyAttribute(lambda o: SchoolClass.make_name(o.intake_year, o.major, o.number))


class StudentFactory(SchoolScoped):
    class Meta:
        model = Student

    student_no = factory.Sequence(lambda n: f"T2026{n:05d}")
    name = factory.Sequence(lambda n: "测试生" + "甲乙丙丁戊己庚辛壬癸"[n % 10])
    gender = "F"
    school_class = factory.LazyAttribute(
        lambda o: SchoolClass.objects.filter(school=o.school, status="active").order_by("pk").first())


class TermFactory(SchoolScoped):
    class Meta:
        model = Term

    school_year = factory.Sequence(lambda n: 2040 + n)
    season = Term.Season.AUTUMN
    start_on = factory.LazyAttribute(lambda o: datetime.date(o.school_year, 9, 1))
    mid_on = factory.LazyAttribute(lambda o: datetime.date(o.school_year, 11, 10))
    end_on = factory.LazyAttribute(lambda o: datetime.date(o.school_year + 1, 1, 20))


class HolidayFactory(SchoolScoped):
    class Meta:
        model = Holiday

    name = factory.Sequence(lambda n: f"测试假期{n}")
    kind = Holiday.Kind.HOLIDAY
    start_on = datetime.date(2026, 10, 1)
    end_on = datetime.date(2026, 10, 7)


FACTORIES = {
    Campus: CampusFactory, Building: BuildingFactory, Room: RoomFactory, Department: DepartmentFactory,
    Staff: StaffFactory, SchoolClass: SchoolClassFactory, Student: StudentFactory, Term: TermFactory,
    Holiday: HolidayFactory,
}
