"""Read paths of the assets app: row rules, overdue loans, detail-page actions, widgets, holdings."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from houqin.core.money import MoneySum

from .choices import UseStatus
from .models import Asset, AssetDisposal, AssetLoan, AssetMove, LowValueItem, Stocktake

# Roles that see every card of the school; other staff see what they keep or borrowed (AST-2).
WHOLE_SCHOOL = ("principal", "vice_principal", "logistics_director", "logistics_clerk", "asset_keeper",
                "accountant", "cashier", "sysadmin", "bureau")


def _staff(user):
    return getattr(user, "staff_or_none", None)


def holding_row_rule(qs: QuerySet, user, action: str) -> QuerySet:
    if user.has_role(*WHOLE_SCHOOL):
        return qs
    staff = _staff(user)
    return qs.filter(custodian=staff) if staff is not None else qs.none()


def loan_row_rule(qs: QuerySet, user, action: str) -> QuerySet:
    if user.has_role(*WHOLE_SCHOOL):
        return qs
    staff = _staff(user)
    return qs.filter(borrower=staff) if staff is not None else qs.none()


def open_loan(subject) -> AssetLoan | None:
    return subject.loans.filter(status=AssetLoan.Status.OUT).select_related("borrower").first()


def loan_overdue_days(loan: AssetLoan, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    if loan.status != AssetLoan.Status.OUT or loan.due_on >= today:
        return 0
    return (today - loan.due_on).days


def loans_overdue(school_id, today: datetime.date | None = None) -> QuerySet:
    today = today or timezone.localdate()
    return AssetLoan.objects.filter(school_id=school_id, status=AssetLoan.Status.OUT, due_on__lt=today)


def holdings_of(staff) -> dict:
    """What a person holds (AST-2, AST-14): cards, low-value items and open loans."""
    return {
        "assets": list(Asset.objects.filter(custodian=staff).exclude(status=UseStatus.DISPOSED).order_by("code")),
        "items": list(LowValueItem.objects.filter(custodian=staff).exclude(status=UseStatus.DISPOSED)
                      .order_by("code")),
        "loans": list(AssetLoan.objects.filter(borrower=staff, status=AssetLoan.Status.OUT)
                      .select_related("asset", "item").order_by("due_on")),
    }


def _can(user, perm: str, obj) -> bool:
    return user.has_perm(perm) and obj.school_id == user.school_id


def asset_actions(asset: Asset, user) -> list[dict]:
    """The detail page's buttons: each opens the document form with this card filled in."""
    actions = []
    movable = asset.status in (UseStatus.IN_STORE, UseStatus.IN_USE, UseStatus.IDLE)
    if movable and _can(user, "assets.add_assetloan", asset):
        actions.append({"label": _("Lend"), "url": reverse("assets:assetloan_add") + f"?asset={asset.pk}",
                        "method": "get", "style": "primary"})
    if asset.status == UseStatus.LENT and _can(user, "assets.change_assetloan", asset):
        loan = open_loan(asset)
        if loan is not None:
            actions.append({"label": _("Given back"), "url": reverse("assets:loan_return", args=[loan.pk]),
                            "method": "post", "style": "primary"})
    if movable and _can(user, "assets.add_assetmove", asset):
        kind = AssetMove.Kind.ISSUE if asset.status == UseStatus.IN_STORE else AssetMove.Kind.TRANSFER
        actions.append({"label": _("Issue") if kind == AssetMove.Kind.ISSUE else _("Transfer"),
                        "url": reverse("assets:assetmove_add") + f"?kind={kind}&assets={asset.code}",
                        "method": "get"})
    if movable and _can(user, "assets.add_assetrepair", asset):
        actions.append({"label": _("Send for repair"), "url": reverse("assets:assetrepair_add") + f"?asset={asset.pk}",
                        "method": "get"})
    if movable and asset.owned and _can(user, "assets.add_assetdisposal", asset):  # not while lent or repaired
        actions.append({"label": _("Dispose of"), "url": reverse("assets:assetdisposal_add") + f"?assets={asset.code}",
                        "method": "get", "style": "outline-danger"})
    if _can(user, "assets.print_labels", asset):
        actions.append({"label": _("Print card / label"), "url": reverse("assets:print_center") + f"?ids={asset.pk}",
                        "method": "get"})
    return actions


def item_actions(item: LowValueItem, user) -> list[dict]:
    actions = []
    if not _can(user, "assets.change_lowvalueitem", item):
        return actions
    if item.status in (UseStatus.IN_STORE, UseStatus.IN_USE, UseStatus.IDLE):
        actions.append({"label": _("Issue to someone"), "url": reverse("assets:item_issue", args=[item.pk]),
                        "method": "get", "style": "primary"})
    if item.status == UseStatus.IN_USE and item.custodian_id:
        actions.append({"label": _("Return to store"), "url": reverse("assets:item_return", args=[item.pk]),
                        "method": "post"})
    if item.status in (UseStatus.IN_STORE, UseStatus.IN_USE, UseStatus.IDLE) and user.has_perm(
            "assets.add_assetloan"):
        actions.append({"label": _("Lend"), "url": reverse("assets:assetloan_add") + f"?item={item.pk}",
                        "method": "get"})
    return actions


def document_actions(doc, user) -> list[dict]:
    if isinstance(doc, AssetDisposal) and doc.status == AssetDisposal.Status.APPROVED and _can(
            user, "assets.change_assetdisposal", doc):
        return [{"label": _("Write off"), "url": reverse("assets:disposal_complete", args=[doc.pk]), "method": "get",
                 "style": "primary"}]
    return []


# Dashboard widgets (PUB-2) -------------------------------------------------------------------------------------
def value_by_category_widget(request) -> dict | None:
    user = request.user
    if not user.has_perm("assets.view_asset") or not user.has_role(*WHOLE_SCHOOL) or not user.school_id:
        return None
    on_books = Asset.objects.filter(school_id=user.school_id).exclude(status=UseStatus.DISPOSED)
    # One pass over the cards (100,000: ~100 ms each in SQLite) for the value by class, by source and the
    # 待入账 count: grouped by both, then added up here (Decimal, exact).
    groups = on_books.order_by().values("accounting_class", "funding_source").annotate(
        value=MoneySum("original_value", default=None), n=Count("id"),
        pending=Count("id", filter=Q(booking=Asset.Booking.PENDING)))
    classes_seen: dict = {}
    sources_seen: dict = {}
    pending = 0
    for g in groups:
        value = g["value"] or Decimal("0")
        row = classes_seen.setdefault(g["accounting_class"], {"accounting_class": g["accounting_class"],
                                                               "value": Decimal("0"), "n": 0})
        row["value"] += value
        row["n"] += g["n"]
        row = sources_seen.setdefault(g["funding_source"], {"funding_source": g["funding_source"],
                                                            "value": Decimal("0")})
        row["value"] += value
        pending += g["pending"]
    by_class = sorted(classes_seen.values(), key=lambda r: (-r["value"], str(r["accounting_class"])))
    by_source = sorted(sources_seen.values(), key=lambda r: (-r["value"], str(r["funding_source"])))
    from .choices import AccountingClass, FundingSource

    klass = dict(AccountingClass.choices)
    source = dict(FundingSource.choices)
    overdue = loans_overdue(user.school_id).count()
    disposals = AssetDisposal.objects.filter(school_id=user.school_id, status__in=(
        AssetDisposal.Status.SUBMITTED, AssetDisposal.Status.APPROVED)).count()
    due = Stocktake.objects.filter(school_id=user.school_id, status__in=(
        Stocktake.Status.PLANNED, Stocktake.Status.COUNTING)).count()
    total = sum((row["value"] or Decimal("0") for row in by_class), Decimal("0"))
    classes = [(str(klass.get(r["accounting_class"], r["accounting_class"])), r["value"] or Decimal("0"))
               for r in by_class]
    return {
        "id": "assets-value", "script_id": "assets-value-data", "total": f"{total:,.2f}",
        # Values in 万元 so the axis stays readable at phone width; the table alternative has exact yuan.
        "chart": {
            "grid": {"left": 8, "right": 24, "top": 8, "bottom": 24, "containLabel": True},
            "xAxis": {"type": "value", "splitNumber": 3},
            "yAxis": {"type": "category", "data": [c[0] for c in classes], "inverse": True,
                      "axisLabel": {"width": 96, "overflow": "break"}},
            "series": [{"type": "bar", "data": [str(round(c[1] / 10000, 2)) for c in classes],
                        "itemStyle": {"color": "#1d4ed8"}}],
        },
        "classes": [{"label": str(klass.get(r["accounting_class"], r["accounting_class"])),
                     "value": f"{r['value'] or 0:,.2f}", "count": r["n"]} for r in by_class],
        "sources": [{"label": str(source.get(r["funding_source"], r["funding_source"])),
                     "value": f"{r['value'] or 0:,.2f}"} for r in by_source],
        "pending": pending, "overdue": overdue, "disposals": disposals, "stocktakes": due,
        "links": {
            "pending": reverse("assets:asset_list") + "?booking=pending",
            "overdue": reverse("assets:assetloan_list") + "?status=out",
            "disposals": reverse("assets:assetdisposal_list") + "?status=submitted",
            "stocktakes": reverse("assets:stocktake_list") if _has_url("assets:stocktake_list") else "",
        },
    }


def _has_url(name: str) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def my_holdings_widget(request) -> dict | None:
    staff = _staff(request.user)
    if staff is None or not request.user.has_perm("assets.view_asset"):
        return None
    assets = Asset.objects.filter(custodian=staff).exclude(status=UseStatus.DISPOSED)
    items = LowValueItem.objects.filter(custodian=staff).exclude(status=UseStatus.DISPOSED)
    loans = AssetLoan.objects.filter(borrower=staff, status=AssetLoan.Status.OUT)
    counts = {"assets": assets.count(), "items": items.count(), "loans": loans.count(),
              "overdue": loans.filter(due_on__lt=timezone.localdate()).count()}
    if not any(counts.values()):
        return None
    return {**counts, "links": {"assets": reverse("assets:asset_list") + f"?custodian={staff.pk}",
                                "items": reverse("assets:lowvalueitem_list") + f"?custodian={staff.pk}",
                                "loans": reverse("assets:assetloan_list") + f"?borrower={staff.pk}&status=out"}}





def depreciation_status(asset) -> tuple[str, Decimal | None]:
    """A card's 折旧状态 and its monthly charge (AST-9; domain-rules.md §2.3), for its page."""
    from .choices import NON_DEPRECIABLE_CLASSES, Acquisition, ValuationType
    from .services.closing import card_basis

    category = asset.category
    if asset.acquisition == Acquisition.PARTNER_LENT:
        return _("Not on the books (lent by a partner company)"), None
    if (asset.valuation_type == ValuationType.NOMINAL or asset.accounting_class in NON_DEPRECIABLE_CLASSES
            or not asset.life_months or category is None or not category.default_life_years
            or not (asset.in_service_on or asset.acquired_on)):
        return _("Not depreciated"), None
    if asset.accumulated_depreciation >= asset.original_value:
        return _("Fully depreciated (kept on the books)"), None
    if asset.disposed_on:
        return _("Disposed of"), None
    if asset.booking != asset.Booking.BOOKED:
        return _("Depreciated once booked by finance"), card_basis(asset).monthly
    return _("Being depreciated"), card_basis(asset).monthly


def close_widget(request) -> dict | None:
    """对账 status of the recent months and the depreciation trend (AST-7, AST-10), for the asset side,
    finance and the school's leaders."""
    user = request.user
    if not user.school_id or not user.has_perm("assets.view_accountingperiod"):
        return None
    from .models import AccountingPeriod, DepreciationRun
    from .services import closing

    months = []
    for period in AccountingPeriod.objects.filter(school_id=user.school_id).order_by("-year", "-month")[:4]:
        if period.status == AccountingPeriod.Status.CLOSED:
            state, color = pgettext("accounting period", "Closed"), "green"
        else:
            stmt = closing.statement(period)
            if closing.signatures_current(period, stmt):
                state, color = _("Signed, not closed"), "azure"
            elif closing.active_run(period) is None:
                state, color = _("Not depreciated"), "secondary"
            elif stmt.differences:
                state, color = _("%(n)s differences") % {"n": len(stmt.differences)}, "orange"
            else:
                state, color = _("Awaiting signatures"), "yellow"
        months.append({"label": str(period), "state": state, "color": color,
                       "url": reverse("assets:accountingperiod", args=[period.pk])})
    runs = list(DepreciationRun.objects.filter(school_id=user.school_id, voided_at__isnull=True)
                .select_related("period").order_by("-period__year", "-period__month")[:12])[::-1]
    trend = [{"label": f"{r.period.year}-{r.period.month:02d}", "value": f"{r.total:,.2f}"} for r in runs]
    return {
        "months": months, "trend": trend, "script_id": "assets-depreciation-data",
        "list_url": reverse("assets:accountingperiod_list"),
        "chart": {
            "grid": {"left": 8, "right": 16, "top": 8, "bottom": 24, "containLabel": True},
            "xAxis": {"type": "category", "data": [t["label"] for t in trend]},
            "yAxis": {"type": "value", "splitNumber": 3},
            "series": [{"type": "line", "data": [str(r.total) for r in runs], "itemStyle": {"color": "#1d4ed8"}}],
        } if runs else None,
    }
