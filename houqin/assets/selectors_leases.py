"""Read paths of idle assets, leases and rent (AST-8): the 调剂 offer, overdue rent, the 非税收入 report, widgets.

Other apps use these, never the models: purchasing calls ``idle_assets_for_category`` to offer 调剂 before a
new purchase (《行政事业性国有资产管理条例》第十一条 prefers internal reallocation), the safety app calls
``tenants_under_supervision``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from houqin.core.money import MoneySum

from .choices import UseStatus
from .models import Asset, AssetCategory, IdleRoom, Lease, RentInstallment, RentReceipt, Tenant

ZERO = Decimal("0.00")
OPEN_INSTALMENT = (RentInstallment.Status.DUE, RentInstallment.Status.PARTLY)
COLLECTING = (Lease.Status.ACTIVE, Lease.Status.ENDED, Lease.Status.TERMINATED)


def _school_id(school) -> int:
    return getattr(school, "pk", school)


def _category_ids(category) -> list[int]:
    """The category and everything under it (the GB/T 14885 tree is a few levels deep)."""
    ids = [category.pk]
    level = [category.pk]
    while level:
        level = list(AssetCategory.objects.filter(parent_id__in=level).values_list("pk", flat=True))
        ids += level
    return ids


def idle_assets_for_category(school, category) -> QuerySet:
    """Idle cards of ``category`` (and its sub-categories) a purchase of that category could use instead (调剂)."""
    return (Asset.objects.filter(school_id=_school_id(school), status=UseStatus.IDLE,
                                 category_id__in=_category_ids(category))
            .select_related("category", "room").order_by("code"))


def idle_assets(school) -> QuerySet:
    return Asset.objects.filter(school_id=_school_id(school), status=UseStatus.IDLE)


def idle_rooms(school) -> QuerySet:
    """Rooms on the idle register now (idle or let out)."""
    return (IdleRoom.objects.filter(school_id=_school_id(school),
                                    status__in=(IdleRoom.Status.IDLE, IdleRoom.Status.LEASED))
            .select_related("room", "room__building").order_by("room__code"))


def tenants_under_supervision(school) -> QuerySet:
    """Tenants flagged 纳入安全监管 with a lease in force, each with those leases (and their rooms) prefetched."""
    active = Lease.objects.filter(status=Lease.Status.ACTIVE).prefetch_related("rooms__room")
    return (Tenant.objects.filter(school_id=_school_id(school), safety_supervised=True,
                                  leases__status=Lease.Status.ACTIVE)
            .distinct().prefetch_related(Prefetch("leases", queryset=active, to_attr="active_leases"))
            .order_by("name"))


def installments_overdue(school, today: datetime.date | None = None) -> QuerySet:
    """Rent past its due date and not fully received (overdue is computed, never stored)."""
    today = today or timezone.localdate()
    return RentInstallment.objects.filter(school_id=_school_id(school), status__in=OPEN_INSTALMENT,
                                          due_on__lt=today, lease__status__in=COLLECTING)


def installment_state(installment: RentInstallment, today: datetime.date | None = None) -> str:
    """due / partly / received / cancelled, or overdue when past due and not fully received."""
    today = today or timezone.localdate()
    if installment.status in OPEN_INSTALMENT and installment.due_on < today:
        return "overdue"
    return installment.status


def overdue_summary(school, today: datetime.date | None = None) -> dict:
    row = installments_overdue(school, today).aggregate(
        n=Count("id"), amount=MoneySum(F("amount") - F("received")))
    return {"count": row["n"], "amount": row["amount"]}


def to_pay_over(school) -> Decimal:
    """Rent received and not yet paid over to the treasury (非税收入 still held)."""
    return (RentReceipt.objects.filter(school_id=_school_id(school), voided_at__isnull=True, pay_over__isnull=True)
            .aggregate(s=MoneySum("amount", default=None))["s"] or ZERO)


# The 非税收入 report: rent due, received, paid over and still to pay over -----------------------------------------
def _receipts(school):
    return RentReceipt.objects.filter(school_id=_school_id(school), voided_at__isnull=True)


def rent_report_by_lease(school, year: int) -> list[dict]:
    """Per lease, for ``year``: rent due (by due date), received (by receipt date), of that paid over, to pay over."""
    sid = _school_id(school)
    due = dict(RentInstallment.objects.filter(school_id=sid, due_on__year=year, lease__status__in=COLLECTING)
               .exclude(status=RentInstallment.Status.CANCELLED)
               .values("lease_id").annotate(s=MoneySum("amount", default=None)).values_list("lease_id", "s"))
    received = {r["lease_id"]: r for r in _receipts(school).filter(received_on__year=year).values("lease_id").annotate(
        s=MoneySum("amount", default=None), paid=MoneySum("amount", filter=Q(pay_over__isnull=False,
                                                                     pay_over__voided_at__isnull=True)))}
    ids = set(due) | set(received)
    leases = Lease.objects.filter(pk__in=ids).select_related("tenant").order_by("number")
    rows = []
    for lease in leases:
        r = received.get(lease.pk, {})
        got, paid = r.get("s") or ZERO, r.get("paid") or ZERO
        rows.append({"lease": lease, "due": due.get(lease.pk) or ZERO, "received": got, "paid_over": paid,
                     "to_pay_over": got - paid})
    return rows


def rent_report_by_month(school, year: int) -> list[dict]:
    """Per month of ``year``: rent due, received and paid over in the month, and what is still held at its end."""
    sid = _school_id(school)
    due = dict(RentInstallment.objects.filter(school_id=sid, due_on__year=year, lease__status__in=COLLECTING)
               .exclude(status=RentInstallment.Status.CANCELLED)
               .values_list("due_on__month").annotate(s=MoneySum("amount", default=None)).values_list("due_on__month", "s"))
    received = dict(_receipts(school).filter(received_on__year=year).values_list("received_on__month")
                    .annotate(s=MoneySum("amount", default=None)).values_list("received_on__month", "s"))
    paid = dict(_receipts(school).filter(pay_over__voided_at__isnull=True, pay_over__paid_on__year=year)
                .values_list("pay_over__paid_on__month").annotate(s=MoneySum("amount", default=None))
                .values_list("pay_over__paid_on__month", "s"))
    held_before = (_receipts(school).filter(received_on__lt=datetime.date(year, 1, 1)).aggregate(s=MoneySum("amount", default=None))["s"]
                   or ZERO) - (_receipts(school).filter(pay_over__voided_at__isnull=True,
                                                        pay_over__paid_on__lt=datetime.date(year, 1, 1))
                               .aggregate(s=MoneySum("amount", default=None))["s"] or ZERO)
    rows = []
    held = held_before
    for month in range(1, 13):
        got, out = received.get(month) or ZERO, paid.get(month) or ZERO
        held += got - out
        rows.append({"month": month, "due": due.get(month) or ZERO, "received": got, "paid_over": out,
                     "to_pay_over": held})
    return rows


def totals(rows: list[dict]) -> dict:
    keys = ("due", "received", "paid_over")
    out = {k: sum((r[k] for r in rows), ZERO) for k in keys}
    out["to_pay_over"] = rows[-1]["to_pay_over"] if rows and "month" in rows[0] else sum(
        (r["to_pay_over"] for r in rows), ZERO)
    return out


# Dashboard widgets (PUB-2) -------------------------------------------------------------------------------------
def rent_overdue_widget(request) -> dict | None:
    user = request.user
    if not user.school_id or not user.has_perm("assets.view_rentinstallment"):
        return None
    summary = overdue_summary(user.school_id)
    if not summary["count"] and not Lease.objects.filter(school_id=user.school_id,
                                                         status=Lease.Status.ACTIVE).exists():
        return None
    return {"count": summary["count"], "amount": f"{summary['amount']:,.2f}",
            "to_pay_over": f"{to_pay_over(user.school_id):,.2f}",
            "links": {"overdue": reverse("assets:rentinstallment_list") + "?overdue=true",
                      "report": reverse("assets:rent_report")}}


def idle_assets_widget(request) -> dict | None:
    from .selectors import WHOLE_SCHOOL

    user = request.user
    if not user.school_id or not user.has_perm("assets.view_asset") or not user.has_role(*WHOLE_SCHOOL):
        return None
    row = idle_assets(user.school_id).aggregate(n=Count("id"), value=MoneySum("original_value", default=None))
    rooms = idle_rooms(user.school_id).filter(status=IdleRoom.Status.IDLE).count()
    return {"count": row["n"], "value": f"{row['value'] or ZERO:,.2f}", "rooms": rooms,
            "links": {"assets": reverse("assets:asset_list") + f"?status={UseStatus.IDLE}",
                      "register": reverse("assets:idle_register")}}
