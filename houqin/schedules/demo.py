"""Demo plans of the demo school (X-5): the checks a 中职 logistics office really schedules, and the
first week of their tasks. Runs after the org generator, which made the school, its staff and rooms."""

import datetime

from django.utils import timezone

from houqin.org.models import Room, Staff

from .models import Plan
from .services import tasks_generate

GATEHOUSE_CODE = "GT01"  # 东大门门卫室 (org demo)
REPAIR_LOGIN = "repair"  # 冯大力, 维修工 (org demo)


def generate(ctx: dict) -> None:
    school = ctx["school"]
    today = timezone.localdate()
    gatehouse = Room.objects.filter(school=school, code=GATEHOUSE_CODE).first()
    repair = Staff.objects.filter(school=school, user__username=REPAIR_LOGIN).first()
    store = Room.objects.filter(school=school, kind=Room.Kind.STORE).first()
    common = {"school": school, "start_on": today - datetime.timedelta(days=7)}
    plans = [
        Plan(**common, title="门卫每日巡查", kind=Plan.Kind.SCHOOL_DAYS, assignee_role="guard", place=gatehouse,
             due_time=datetime.time(7, 30), grace_minutes=30, escalate_after_minutes=60,
             escalate_to_role="logistics_director",
             description="检查大门、周界报警探头、监控画面和消防通道；登记异常情况。"),
        Plan(**common, title="每周一卫生检查", kind=Plan.Kind.WEEKLY, weekdays=[1], skip_holidays=True,
             assignee_role="cleaner", due_time=datetime.time(8, 0), grace_minutes=120,
             description="教学楼走廊、卫生间、楼梯间保洁情况检查，拍照留存。"),
        Plan(**common, title="每月1日消防器材检查", kind=Plan.Kind.MONTHLY, day_of_month=1,
             assignee=repair, assignee_role="" if repair else "repair_worker", place=store,
             due_time=datetime.time(9, 0), grace_minutes=8 * 60, escalate_after_minutes=24 * 60,
             escalate_to_role="logistics_director",
             description="逐一检查灭火器压力、有效期，消火栓水带和应急照明，填写检查卡。"),
        Plan(**common, title="宿舍安全检查（学期初、期中、期末）", kind=Plan.Kind.TERM_POINTS,
             term_points=["start", "mid", "end"], term_offset_days=0, assignee_role="dorm_keeper",
             due_time=datetime.time(19, 30), grace_minutes=180,
             description="1号、2号宿舍楼：违规电器、消防通道、门窗和床铺安全检查。"),
    ]
    for plan in plans:
        plan.full_clean()
    Plan.objects.bulk_create(plans)
    # The plans start a week ago, but a first run never back-fills: the demo has this week's tasks.
    ctx.setdefault("counts", {})["tasks"] = tasks_generate(school=school, today=today)
