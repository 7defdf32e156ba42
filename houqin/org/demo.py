"""Demo school generator: a realistic 中职学校 (issue 2 §9). ``scale`` 1.0 is the demo; tests use less.

At scale 1: 3 grades × 8 classes, ~1,200 students (30% boarders), ~120 staff across the roles,
6 buildings and ~300 rooms with custodians, the current school year's terms and holidays, and one
login per role.
"""

import datetime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from houqin.core.pinyin import search_keys

from .models import (
    Building,
    Campus,
    Department,
    Holiday,
    Room,
    School,
    SchoolClass,
    Staff,
    Student,
    Term,
    User,
)
from .validators import id_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁欣怡梓涵子轩雨萱浩然思远佳琪嘉怡一诺宇航晨曦梦瑶"
MAJORS = [("汽修", "汽车运用与维修"), ("机电", "机电技术应用"), ("计算机", "计算机应用"), ("电商", "电子商务"),
          ("会计", "会计事务"), ("数控", "数控技术应用"), ("旅游", "旅游服务与管理"), ("学前", "幼儿保育")]

# One login per role: (username, role, display name, title)
DEMO_LOGINS = [
    ("principal", "principal", "周建国", "校长"),
    ("vice", "vice_principal", "吴志强", "分管后勤副校长"),
    ("director", "logistics_director", "王海涛", "后勤主任"),
    ("clerk", "logistics_clerk", "李晓燕", "总务干事"),
    ("keeper", "asset_keeper", "赵立新", "资产管理员"),
    ("cashier", "cashier", "孙丽", "出纳"),
    ("accountant", "accountant", "钱慧敏", "会计"),
    ("grouphead", "group_head", "郑国栋", "汽修专业部主任"),
    ("teacher1", "class_teacher", "陈静", "班主任"),
    ("teacher", "teacher", "刘洋", "语文教师"),
    ("guard", "guard", "马德胜", "保安"),
    ("canteen", "canteen_manager", "黄玉兰", "食堂管理员"),
    ("dorm", "dorm_keeper", "何秀英", "宿管员"),
    ("repair", "repair_worker", "冯大力", "维修工"),
    ("cleaner", "cleaner", "邓桂芬", "保洁"),
    ("admin", "sysadmin", "系统管理员", ""),
    ("bureau", "bureau", "教育局督查员", ""),
    ("outsourced", "outsourced", "蒋卫东", "保安公司驻校队长"),
]
NO_STAFF_ROLES = {"sysadmin", "bureau"}


def school_year_of(day: datetime.date) -> int:
    """The school year runs from September to August (domain-rules §6.6)."""
    return day.year if day.month >= 8 else day.year - 1


def _name(rng) -> str:
    n = 1 if rng.random() < 0.35 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(n))


def _identity(rng, birth: datetime.date, male: bool) -> str:
    area = rng.choice(["330102", "330105", "330106", "330381", "330521", "330681"])
    seq = rng.randrange(0, 99) * 10 + (rng.choice([1, 3, 5, 7, 9]) if male else rng.choice([0, 2, 4, 6, 8]))
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def _mobile(rng) -> str:
    return rng.choice(["138", "139", "135", "186", "158", "177", "199"]) + f"{rng.randrange(10**8):08d}"


def generate(ctx: dict) -> None:
    rng, scale = ctx["rng"], ctx["scale"]
    today = timezone.localdate()
    code = ctx.get("school_code", "3301001")
    school = School.objects.create(
        name=ctx.get("school_name", "杭州市示范职业中等专业学校"), code=code, short_name="示范职专",
        address="浙江省杭州市西湖区文教路88号",
    )
    ctx["school"] = school
    password = make_password(ctx["password"])
    groups = {g.name: g for g in Group.objects.all()}

    # Departments: 行政, 专业部, 年级组, 教研组 (ORG-2)
    admin_names = ["校长室", "总务处", "保卫科", "学生处", "教务处", "财务室", "办公室"]
    depts = {n: Department(school=school, name=n, kind=Department.Kind.ADMIN) for n in admin_names}
    n_majors = max(1, min(8, round(8 * min(scale, 1.0)))) if scale < 1 else 8
    majors = MAJORS[:n_majors]
    for short, _full in majors:
        depts[f"{short}专业部"] = Department(school=school, name=f"{short}专业部", kind=Department.Kind.MAJOR)
    year0 = school_year_of(today)
    intake_years = [year0 - 2, year0 - 1, year0]
    for y in intake_years:
        depts[f"{y}级年级组"] = Department(school=school, name=f"{y}级年级组", kind=Department.Kind.GRADE)
    for n in ["语文教研组", "数学教研组", "英语教研组", "体育教研组"]:
        depts[n] = Department(school=school, name=n, kind=Department.Kind.TEACHING)
    depts["安保公司"] = Department(school=school, name="安保公司", kind=Department.Kind.OUTSOURCED)
    Department.objects.bulk_create(depts.values())

    # Staff: one login per role first, then ordinary teachers and workers.
    users, staff_rows = [], []

    def add_person(username, role, name, title, *, staff=True, outsourced=False):
        u = User(username=username, school=school, display_name=name, password=password, mobile="" if not staff
                 else _mobile(rng))
        users.append((u, role))
        if staff:
            no = f"T{len(staff_rows) + 1:04d}"
            staff_rows.append(Staff(
                school=school, user=u, staff_no=no, name=name, mobile=u.mobile, title=title,
                gender=rng.choice("MF"), is_outsourced=outsourced, company="平安保安服务公司" if outsourced else "",
                search_keys=search_keys(name), joined_on=datetime.date(rng.randrange(1995, year0), 9, 1),
            ))

    for username, role, name, title in DEMO_LOGINS:
        add_person(username, role, name, title, staff=role not in NO_STAFF_ROLES, outsourced=role == "outsourced")
    n_classes_per_grade = max(1, round(8 * scale)) if scale < 1 else round(8 * scale)
    n_teachers = max(len(intake_years) * n_classes_per_grade + 2, round(100 * scale))
    for i in range(n_teachers):
        role = "class_teacher" if i < len(intake_years) * n_classes_per_grade - 1 else "teacher"
        add_person(f"t{i + 1:04d}", role, _name(rng), "教师")
    for role, count, title in [("guard", 3, "保安"), ("cleaner", 4, "保洁"), ("repair_worker", 2, "维修工"),
                               ("dorm_keeper", 3, "宿管员"), ("canteen_manager", 1, "食堂管理员")]:
        for i in range(max(1, round(count * min(scale, 1.0) + 0.49))):
            add_person(f"{role[:4]}{i + 2}", role, _name(rng), title)
    User.objects.bulk_create([u for u, _ in users])
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=groups[r].pk) for u, r in users]
    )
    for s in staff_rows:
        s.user_id = s.user.pk
    Staff.objects.bulk_create(staff_rows)
    by_username = {s.user.username: s for s in staff_rows}
    teachers = [s for s in staff_rows if s.user.username.startswith("t0") or s.user.username == "teacher1"]

    # Department membership and heads.
    director, grouphead = by_username["director"], by_username["grouphead"]
    dorm_keepers = [s for s in staff_rows if s.user.username.startswith("dorm")]
    memberships = [(director, depts["总务处"]), (by_username["clerk"], depts["总务处"]),
                   (by_username["keeper"], depts["总务处"]), (by_username["principal"], depts["校长室"]),
                   (by_username["vice"], depts["校长室"]), (by_username["accountant"], depts["财务室"]),
                   (by_username["cashier"], depts["财务室"]), (by_username["outsourced"], depts["安保公司"])]
    memberships += [(s, depts["保卫科"]) for s in staff_rows if s.user.username.startswith("guar")]
    memberships += [(s, depts["学生处"]) for s in dorm_keepers]
    major_depts = [depts[f"{short}专业部"] for short, _ in majors]
    for i, t in enumerate(teachers):
        memberships.append((t, major_depts[i % len(major_depts)]))
    memberships.append((grouphead, major_depts[0]))
    Staff.departments.through.objects.bulk_create(
        [Staff.departments.through(staff_id=s.pk, department_id=d.pk) for s, d in memberships]
    )
    heads = {"总务处": director, "校长室": by_username["principal"], "财务室": by_username["accountant"],
             f"{majors[0][0]}专业部": grouphead, "学生处": dorm_keepers[0], "保卫科": by_username["guard"]}
    for dname, head in heads.items():
        Department.objects.filter(pk=depts[dname].pk).update(head=head)
    # 保卫科 owns security, 学生处 the dorms: rights granted to the department (issue 2 §6).
    depts["保卫科"].roles.add(groups["guard"])
    depts["学生处"].roles.add(groups["dorm_keeper"])

    # Places: 6 buildings, ~300 rooms, every room with a custodian (ORG-1, AST-2).
    campus = Campus.objects.create(school=school, name="本部", address=school.address)
    b_specs = [("A", "教学楼", 5, "classroom"), ("B", "实训楼", 4, "training"), ("C", "行政楼", 4, "office"),
               ("D", "1号宿舍楼", 6, "dorm"), ("E", "2号宿舍楼", 6, "dorm"), ("F", "食堂综合楼", 3, "canteen")]
    rooms_per_floor = max(2, round(10 * min(scale, 1.0) ** 0.5)) if scale < 1 else round(10 * scale)
    buildings, rooms = [], []
    custodians = [director, by_username["keeper"], by_username["clerk"]] + teachers
    for code, name, floors, _kind in b_specs:
        b = Building(school=school, campus=campus, code=code, name=name, floors=floors,
                     responsible=rng.choice([director, by_username["clerk"], by_username["keeper"]]))
        buildings.append(b)
    Building.objects.bulk_create(buildings)
    for b, (code, _bname, floors, kind) in zip(buildings, b_specs, strict=True):
        for floor in range(1, floors + 1):
            for n in range(1, rooms_per_floor + 1):
                room_kind = kind
                label = {"classroom": "教室", "training": "实训室", "office": "办公室", "dorm": "宿舍",
                         "canteen": "餐厅"}[kind]
                if n == rooms_per_floor:
                    room_kind, label = "toilet", "卫生间"
                elif kind == "canteen" and floor > 1:
                    room_kind, label = "function", "功能室"
                cap = {"classroom": 50, "training": 40, "dorm": 8, "canteen": 300}.get(room_kind)
                rooms.append(Room(school=school, building=b, code=f"{code}{floor}{n:02d}", name=f"{label}{floor}{n:02d}",
                                  floor=floor, kind=room_kind, capacity=cap, custodian=rng.choice(custodians)))
    extra = [("PG01", "田径运动场", "playground"), ("ST01", "总务仓库", "store"), ("GT01", "东大门门卫室", "gatehouse"),
             ("GT02", "北门门卫室", "gatehouse")]
    for code, name, kind in extra:
        rooms.append(Room(school=school, code=code, name=name, floor=1, kind=kind, custodian=director))
    Room.objects.bulk_create(rooms)
    for b in buildings[3:5]:
        b.keepers.set(dorm_keepers)

    # Classes: 3 grades × 8 classes, named by intake year and major (ORG-3).
    classrooms = [r for r in rooms if r.kind == "classroom"]
    classes = []
    head_iter = iter([by_username["teacher1"]] + [t for t in teachers if t.user.username != "teacher1"])
    for y in intake_years:
        for i in range(n_classes_per_grade):
            short, _full = majors[i % len(majors)]
            number = i // len(majors) + 1
            classes.append(SchoolClass(
                school=school, name=SchoolClass.make_name(y, short, number), intake_year=y, major=short,
                number=number, department=depts[f"{short}专业部"], head_teacher=next(head_iter),
                room=classrooms[len(classes) % len(classrooms)] if classrooms else None,
            ))
    SchoolClass.objects.bulk_create(classes)

    # Students: ~50 per class at scale 1, 30% boarders placed in dorm rooms.
    per_class = max(3, round(50 * scale)) if scale < 1 else 50
    total_students = per_class * len(classes) if scale <= 1 else max(per_class * len(classes), round(1200 * scale))
    dorm_rooms = [r for r in rooms if r.kind == "dorm"]
    students = []
    for k in range(total_students):
        cls = classes[k % len(classes)]
        male = rng.random() < 0.6
        birth = datetime.date(cls.intake_year - 15 - rng.choice([0, 0, 1]), rng.randrange(1, 13), rng.randrange(1, 29))
        boarder = rng.random() < 0.3
        name = _name(rng)
        students.append(Student(
            school=school, student_no=f"{cls.intake_year}{k + 1:05d}", name=name, gender="M" if male else "F",
            school_class=cls, id_number=_identity(rng, birth, male) if rng.random() < 0.9 else "", birth_date=birth,
            is_boarder=boarder, dorm_room=rng.choice(dorm_rooms) if boarder and dorm_rooms else None,
            guardian_name=name[0] + _name(rng)[1:], guardian_phone=_mobile(rng), search_keys=search_keys(name),
        ))
    Student.objects.bulk_create(students, batch_size=2000)

    # The current school year's terms, holidays and make-up workdays.
    Term.objects.bulk_create([
        Term(school=school, school_year=year0 - 1, season="spring", start_on=datetime.date(year0, 2, 23),
             mid_on=datetime.date(year0, 4, 20), end_on=datetime.date(year0, 7, 3)),
        Term(school=school, school_year=year0, season="autumn", start_on=datetime.date(year0, 9, 1),
             mid_on=datetime.date(year0, 11, 9), end_on=datetime.date(year0 + 1, 1, 22)),
        Term(school=school, school_year=year0, season="spring", start_on=datetime.date(year0 + 1, 2, 22),
             mid_on=datetime.date(year0 + 1, 4, 19), end_on=datetime.date(year0 + 1, 7, 2)),
    ])
    Holiday.objects.bulk_create([
        Holiday(school=school, name="中秋节", start_on=datetime.date(year0, 9, 25), end_on=datetime.date(year0, 9, 27)),
        Holiday(school=school, name="国庆节", start_on=datetime.date(year0, 10, 1), end_on=datetime.date(year0, 10, 7)),
        Holiday(school=school, name="国庆调休上班", kind="workday", start_on=datetime.date(year0, 10, 10),
                end_on=datetime.date(year0, 10, 10)),
        Holiday(school=school, name="元旦", start_on=datetime.date(year0 + 1, 1, 1), end_on=datetime.date(year0 + 1, 1, 1)),
    ])
    ctx["logins"] = [(u, role) for u, role, *_ in DEMO_LOGINS]
    ctx["counts"] = {"buildings": len(buildings), "rooms": len(rooms), "classes": len(classes),
                     "students": len(students), "staff": len(staff_rows)}
