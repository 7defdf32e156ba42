"""Demo fixed assets of the demo school: the verified categories, cut-over cards (some historic),
new cards awaiting booking, low-value items, loans (one overdue) and a transfer. Runs after org."""

import datetime
from decimal import Decimal

from django.utils import timezone

from houqin.org.demo import DEMO_LOGINS
from houqin.org.models import Department, Room, Staff, User

from . import depreciation as dep
from .choices import Acquisition, FundingSource, UseStatus
from .models import Asset, AssetCategory, AssetMovement, FundingProject
from .services import cards, documents, journal
from .services.common import settings_for


def generate(ctx: dict) -> None:
    school = ctx["school"]
    rng = ctx["rng"]
    scale = ctx["scale"]
    today = timezone.localdate()
    keeper_user = User.objects.filter(school=school, username="keeper").first()
    conf = settings_for(school)
    conf.code_prefix = "ZC"  # the demo school's old labels read ZC + year + number; new cards follow suit
    conf.save(update_fields=["code_prefix", "updated_at"])
    cards.category_seed(school)
    cat = {c.code: c for c in AssetCategory.objects.filter(school=school)}
    office = Department.objects.filter(school=school, kind=Department.Kind.ADMIN).order_by("pk").first()
    teaching = list(Department.objects.filter(school=school).exclude(kind=Department.Kind.ADMIN).order_by("pk"))
    project = FundingProject.objects.create(
        school=school, name="汽修实训基地建设项目", code="ZX-2024-03", funding_source=FundingSource.SPECIAL,
        year=2024, department=teaching[0] if teaching else None)
    # Custodians and borrowers come from the school's staff beyond the demo logins, so no login
    # (the personas of the tests and of the README) starts out holding things it would have to hand over.
    logins = {row[0] for row in DEMO_LOGINS}
    staff = list(Staff.objects.filter(school=school, status=Staff.Status.ACTIVE, is_outsourced=False)
                 .exclude(user__username__in=logins).order_by("pk"))
    keeper = Staff.objects.filter(school=school, user__username="keeper").first()
    classrooms = list(Room.objects.filter(school=school, kind=Room.Kind.CLASSROOM).order_by("pk"))
    offices = list(Room.objects.filter(school=school, kind=Room.Kind.OFFICE).order_by("pk"))
    training = list(Room.objects.filter(school=school, kind=Room.Kind.TRAINING).order_by("pk"))
    cutover = datetime.date(today.year - 1, 12, 31)

    # Cut-over cards: codes from the old ledger, opening balances as booked, some break today's rules.
    rows = []
    n = 0
    for room in classrooms:
        n += 1
        rows.append({"code": f"ZC{2015 + n % 8}{n:04d}", "finance_code": f"330100{n:06d}", "name": "学生课桌椅",
                         "category": cat["A05010304"], "spec": "单人套", "unit": "套", "quantity": 50,
                         "original_value": Decimal("15000.00"), "acquired_on": datetime.date(2015 + n % 8, 8, 20),
                         "room": room, "custodian": None, "opening_depreciation": Decimal("9000.00")})
    for i, room in enumerate(offices[: max(4, int(40 * scale))]):
        n += 1
        rows.append({"code": f"ZC{2019 + i % 5}{n:04d}", "finance_code": f"330100{n:06d}", "name": "台式计算机",
                         "category": cat["A02010105"], "spec": "联想启天M437", "unit": "台", "quantity": 1,
                         "original_value": Decimal(rng.choice(["4850.00", "5200.00", "6000.00"])),
                         "acquired_on": datetime.date(2019 + i % 5, 3, 15), "room": room,
                         "custodian": staff[i % len(staff)] if staff else None,
                         "opening_depreciation": Decimal("2400.00")})
    n += 1
    rows.append({"code": f"ZC2012{n:04d}", "finance_code": "", "name": "U盘", "category": cat["A02000000"], "spec": "32G",
                     "unit": "个", "quantity": 1, "original_value": Decimal("80.00"), "acquired_on": datetime.date(2012, 5, 4),
                     "room": offices[0] if offices else None, "custodian": keeper, "opening_depreciation": Decimal("80.00")})
    made = []
    for row in rows:
        room, custodian = row.pop("room"), row.pop("custodian")
        # The old ledger depreciated on schedule: the opening balance is what straight-line gives at the
        # cut-over (a fully depreciated old desk set stays on the books at net value 0).
        life = (row["category"].default_life_years or 0) * 12
        if life:
            basis = dep.basis_for(original_value=row["original_value"], life_months=life,
                                  in_service_on=row["acquired_on"])
            row["opening_depreciation"] = dep.target_in_basis(basis, dep.month_index(cutover))
        asset = Asset(school=school, accounting_class=row["category"].accounting_class,
                      acquisition=Acquisition.PURCHASE, funding_source=FundingSource.FISCAL,
                      in_service_on=row["acquired_on"], booking=Asset.Booking.BOOKED, opening_on=cutover,
                      opening_net_value=row["original_value"] - row["opening_depreciation"],
                      voucher_no="期初", booked_on=cutover, **row)
        cards.fill_defaults(asset)
        problems = cards.card_problems(asset)
        if problems:
            asset.historic = True
            asset.historic_warnings = "；".join(str(m) for m in problems.values())[:300]
        asset.save()
        journal.post(asset, kind=AssetMovement.Kind.OPENING, actor=keeper_user, on=cutover, room=room,
                     custodian=custodian, department=office if custodian else None,
                     status=UseStatus.IN_USE if (room or custodian) else UseStatus.IN_STORE,
                     value_change=asset.original_value, document="期初建账")
        made.append(asset)

    # New cards after acceptance: 待入账 until finance books them; one bought with the special fund.
    for room in training[:2] or offices[:1]:
        made.append(cards.asset_create(school=school, actor=keeper_user, data={
            "name": "汽车发动机拆装实训台", "category": cat["A02000000"], "spec": "FDJ-2000", "unit": "台", "quantity": 1,
            "original_value": Decimal("38600.00"), "funding_source": FundingSource.SPECIAL, "project": project,
            "acquired_on": today - datetime.timedelta(days=20), "supplier": "杭州实训设备有限公司",
            "invoice_no": "33012345", "room": room, "department": teaching[0] if teaching else None, "custodian": keeper}))
    laptop = cards.asset_create(school=school, actor=keeper_user, data={
        "name": "便携式计算机", "category": cat["A02010108"], "spec": "ThinkPad E14", "unit": "台", "quantity": 1,
        "original_value": Decimal("5600.00"), "acquired_on": today - datetime.timedelta(days=10),
        "room": offices[0] if offices else None})

    # Low-value items with their custodians.
    items = []
    for i, (name, price) in enumerate([("电风扇", "189.00"), ("电水壶", "99.00"), ("无线鼠标", "59.00"),
                                       ("手电钻", "329.00"), ("便携式投影仪", "899.00")]):
        items.append(cards.item_create(school=school, actor=keeper_user, data={
            "name": name, "unit": "个", "quantity": 1 if i == 4 else 2 + i, "unit_price": Decimal(price),
            "acquired_on": today - datetime.timedelta(days=200),
            "room": offices[i % len(offices)] if offices else None,
            "custodian": staff[(i * 7) % len(staff)] if staff and i != 4 else None}))

    # Loans: the projector for a lesson (due back today) and a laptop overdue.
    # Lent to a teacher who is not one of the demo logins, so no persona starts out holding loans.
    teacher = next((s for s in staff[len(staff) // 2:] if s.title and "教师" in s.title), None) or (
        staff[len(staff) // 2] if staff else None)
    if teacher is not None:
        documents.loan_create(school=school, actor=keeper_user, borrower=teacher, item=items[4], purpose="公开课")
        documents.loan_create(school=school, actor=keeper_user, borrower=teacher, asset=laptop, purpose="外出培训",
                              lent_on=today - datetime.timedelta(days=9), due_on=today - datetime.timedelta(days=2))
    # A transfer between offices, posted at once (the school has no approval policy for moves).
    computers = [a for a in made if a.name == "台式计算机"]
    if len(computers) >= 2 and len(offices) >= 3:
        move = documents.move_create(school=school, actor=keeper_user, kind="transfer", assets=computers[:1],
                                     to_room=offices[2], to_custodian=staff[2] if len(staff) > 2 else None,
                                     note="办公室调整")
        documents.move_submit(move=move, actor=keeper_user)


def close_history(ctx: dict) -> None:
    """This year's monthly closes of the demo school (AST-7, AST-10), run after every other generator.

    January to the month before last are depreciated, booked by the accountant, reconciled with the finance
    ledger and closed; last month is depreciated and booked, and finance's balances differ by a card the
    finance office booked before the asset office did (one unexplained difference, as a month-end really
    looks). The tiny test school (scale < 1) keeps its books open, so tests choose their own months.
    """
    from .services import closing

    if ctx["scale"] < 1:
        return
    school = ctx["school"]
    keeper = User.objects.filter(school=school, username="keeper").first()
    accountant = User.objects.filter(school=school, username="accountant").first()
    if keeper is None or accountant is None:
        return
    today = timezone.localdate()
    last = today.month - 1
    if last < 1:
        return  # January: the cut-over month has nothing to close yet
    for month in range(1, last + 1):
        period = closing.period_get(school, today.year, month)
        closing.run_depreciation(period=period, actor=keeper)
        end = closing.period_end(period)
        closing.book_depreciation(period=period, actor=accountant, voucher_no=f"记-{month:02d}-087",
                                  booked_on=end)
        rows = [{"accounting_class": ln.accounting_class, "funding_source": ln.funding_source,
                 "original_value": ln.houqin_value, "accumulated_depreciation": ln.houqin_depreciation}
                for ln in closing.statement(period).lines]
        if month == last:
            # Finance booked the 实训台 of the special fund already; the asset office has not received the voucher.
            rows.append({"accounting_class": "general", "funding_source": FundingSource.SPECIAL,
                         "original_value": Decimal("38600.00"), "accumulated_depreciation": Decimal("0.00")})
            closing.set_finance_balances(period=period, actor=accountant, rows=rows)
            continue
        closing.set_finance_balances(period=period, actor=accountant, rows=rows)
        closing.sign(period=period, actor=keeper, side="keeper")
        closing.sign(period=period, actor=accountant, side="finance")
        closing.close(period=period, actor=keeper)


def more_history(ctx: dict) -> None:
    """The rest of Fixed assets II in the demo school (AST-8, AST-15; scale ≥ 1, before the monthly closes):
    an idle classroom let to a training company since March with rent received to October, paid over to
    September, November's instalment overdue; an idle computer; a software licence being amortised and
    expiring soon; a roof-waterproofing project with two cost entries awaiting acceptance. The tiny test
    school keeps none of these, so tests choose their own."""
    from .models.leases import USCC_CHARS, credit_code_check_char
    from .services import intangibles, leases

    if ctx["scale"] < 1:
        return
    school = ctx["school"]
    keeper = User.objects.filter(school=school, username="keeper").first()
    accountant = User.objects.filter(school=school, username="accountant").first()
    today = timezone.localdate()
    year = today.year
    if keeper is None or accountant is None or today.month < 4:
        return
    # 闲置校产 let out (approval and 公开招租 first: 财政部令第36号 第二十一条; 国务院令第738号 第三十六条).
    room = (Room.objects.filter(school=school, kind=Room.Kind.CLASSROOM).exclude(asset_set__isnull=False)
            .order_by("-pk").first() or Room.objects.filter(school=school).order_by("-pk").first())
    idle = leases.idle_room_create(school=school, actor=keeper, data={
        "room": room, "since": datetime.date(year - 1, 9, 1), "area": Decimal("72.00"),
        "reason": "专业调整后空置"})
    base = "91330106MA2KD0F3"
    base += USCC_CHARS[7]
    assert len(base) == 17
    from houqin.core import crud

    from .models.leases import Tenant

    tenant = crud.object_create(obj=Tenant(
        school=school, name="杭州启明职业技能培训有限公司", credit_code=base + credit_code_check_char(base),
        contact="林启明", phone="13805712233", address="杭州市西湖区学院路88号", safety_supervised=True,
        safety_note="晚间培训，纳入学校每周消防巡查"), actor=keeper)
    lease = leases.lease_create(school=school, actor=keeper, data={
        "tenant": tenant, "purpose": "职业技能培训（周末及晚间）", "start_on": datetime.date(year, 3, 1),
        "end_on": datetime.date(year + 1, 2, 28), "rent_amount": Decimal("3200.00"), "rent_period": "monthly",
        "deposit": Decimal("6400.00"), "rooms": [idle]})
    leases.lease_activate(lease=lease, actor=keeper, data={
        "approval_doc_no": f"杭教资〔{year}〕8号", "approval_authority": "杭州市教育局",
        "approved_on": datetime.date(year, 1, 20), "tender_platform": "杭州市公共资源交易中心",
        "tender_notice_no": f"HZGZ-{year}-0017", "tender_on": datetime.date(year, 2, 10),
        "contract_no": f"ZL-{year}-01", "signed_on": datetime.date(year, 2, 20)})
    receipts = []
    for installment in lease.installments.order_by("seq"):
        if installment.due_on.month >= min(today.month, 11) or installment.due_on.year > year:
            break
        receipts.append(leases.receipt_record(
            school=school, actor=accountant, installment=installment, amount=installment.amount,
            received_on=installment.due_on + datetime.timedelta(days=3), receipt_no=f"ZS{year}{installment.seq:04d}"))
    if len(receipts) > 1:
        leases.pay_over_record(school=school, actor=accountant, receipts=receipts[:-1],
                               paid_on=receipts[-2].received_on + datetime.timedelta(days=5),
                               reference=f"非税-{year}-{len(receipts) - 1:03d}")
    # An idle computer, offered for 调剂 before anything new is bought.
    spare = Asset.objects.filter(school=school, name="台式计算机", status=UseStatus.IN_USE).order_by("-pk").first()
    if spare is not None:
        leases.asset_mark_idle(asset=spare, actor=keeper, on=today, reason="机房更新后替换下来，性能尚可")
    # 无形资产: a licence amortised since February, expiring soon (the reminder job tells the keeper).
    licence = intangibles.intangible_create(school=school, actor=keeper, data={
        "name": "教务管理系统授权", "kind": "software", "original_value": Decimal("36000.00"),
        "acquired_on": datetime.date(year, 2, 10), "life_months": 60, "supplier": "正方软件",
        "licence_no": f"LIC-{year}-001", "licence_expires_on": today + datetime.timedelta(days=20)})
    intangibles.intangible_book(intangible=licence, actor=accountant, voucher_no="记-02-031",
                                booked_on=datetime.date(year, 2, 12))
    # 在建工程: the roof of a teaching building when the books hold one, else a new covered walkway
    # (a new card of its own on acceptance, 转固).
    building = Asset.objects.filter(school=school, accounting_class="buildings").order_by("pk").first()
    common = {"contractor": "杭州建工集团", "contract_no": f"HT-ZJ-{year}-01", "budget": Decimal("120000.00"),
              "started_on": today - datetime.timedelta(days=25)}
    if building is not None:
        project = intangibles.project_create(school=school, actor=keeper, data={
            "name": "教学楼屋面防水工程", "target_card": building, **common})
    else:
        project = intangibles.project_create(school=school, actor=keeper, data={
            "name": "实训楼连廊新建工程", "new_card_category": AssetCategory.objects.get(school=school, code="A01000000"),
            **common})
    for days, amount, what in ((20, "48000.00", "防水卷材及第一期施工进度款"), (3, "36000.00", "第二期施工进度款")):
        intangibles.cost_create(school=school, actor=keeper, data={
            "project": project, "spent_on": today - datetime.timedelta(days=days), "amount": Decimal(amount),
            "description": what, "invoice_no": f"FP{year}{days:06d}"})
