"""Pages of the idle register and of leases that are not generic (AST-8).

Lists, details, forms, export, history and the API of idle rooms, tenants, leases, the rent schedule,
receipts and pay-overs come from ``entities_leases.py``. Here: marking a card idle and back in use (page and
API), putting a lease in force with its approval and tender (page and API), the idle register and the
非税收入 report.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.decorators import action

from houqin.core.entities import registry
from houqin.core.money import MoneySum
from houqin.core.permissions import require_perm, scope
from houqin.core.responses import stamp, xlsx_response
from houqin.core.views_entity import EntityDetailView, add_service_errors

from . import selectors_leases as sel
from .choices import UseStatus
from .forms_leases import BackInUseForm, LeaseActivateForm, MarkIdleForm
from .models import Asset, IdleRoom, Lease, RentInstallment
from .services import leases as svc
from .views import DraftOnlyEditMixin, _answer, _api_object, _get

IDLE_PERM = "assets.change_asset"  # the keepers: asset_keeper and logistics_director
LEASE_PERM = "assets.change_lease"
REGISTER_SHOWN = 100


class LeaseDetailView(DraftOnlyEditMixin, EntityDetailView):
    """A lease is edited only as a draft: in force, it changes by ending it (no Edit button)."""


class IdleRoomDetailView(EntityDetailView):
    """An idle-room record is edited only while the room stands idle."""

    def get_context(self, obj) -> dict:
        context = super().get_context(obj)
        context["can_change"] = context["can_change"] and obj.status == IdleRoom.Status.IDLE
        return context


# Detail-page buttons -----------------------------------------------------------------------------------------
def asset_idle_actions(asset: Asset, user) -> list[dict]:
    """闲置 / 恢复使用 on a card's page (added to the card's own buttons by ``entities_leases.register``)."""
    if asset.school_id != user.school_id or not user.has_perm(IDLE_PERM):
        return []
    if asset.status in svc.IDLE_FROM:
        return [{"label": _("Mark idle"), "url": reverse("assets:asset_idle", args=[asset.pk]), "method": "get"}]
    if asset.status == UseStatus.IDLE:
        return [{"label": _("Back in use"), "url": reverse("assets:asset_reuse", args=[asset.pk]), "method": "get"}]
    return []


def lease_actions(lease: Lease, user) -> list[dict]:
    actions = []
    if lease.status == Lease.Status.DRAFT and user.has_perm(LEASE_PERM) and lease.school_id == user.school_id:
        actions.append({"label": _("Put in force"), "url": reverse("assets:lease_activate", args=[lease.pk]),
                        "method": "get", "style": "primary"})
    if lease.status != Lease.Status.DRAFT and user.has_perm("assets.view_rentinstallment"):
        actions.append({"label": _("Rent schedule"), "method": "get",
                        "url": reverse("assets:rentinstallment_list") + f"?lease={lease.pk}"})
    return actions


def installment_actions(installment: RentInstallment, user) -> list[dict]:
    if (installment.status in sel.OPEN_INSTALMENT and installment.lease.status in sel.COLLECTING
            and user.has_perm("assets.add_rentreceipt") and installment.school_id == user.school_id):
        return [{"label": _("Record a receipt"), "method": "get", "style": "primary",
                 "url": reverse("assets:rentreceipt_add") + f"?installment={installment.pk}"}]
    return []


# Idle and back in use -----------------------------------------------------------------------------------------
def _asset_form(request, pk, *, form_class, service, title, done):
    require_perm(request.user, IDLE_PERM)
    asset = _get(request, Asset, pk)
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            service(asset=asset, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(registry[Asset].detail_url(asset))
    return render(request, "assets/action_form.html", {
        "form": form, "obj": asset, "title": title % {"what": asset},
        "cancel_url": registry[Asset].detail_url(asset)}, status=400 if form.errors else 200)


@login_required
def asset_idle(request, pk):
    """闲置登记 of one card: the date and the reason; a journal row."""
    return _asset_form(request, pk, form_class=MarkIdleForm, service=svc.asset_mark_idle,
                       title=_("Mark idle: %(what)s"), done=_("On the idle register."))


@login_required
def asset_reuse(request, pk):
    return _asset_form(request, pk, form_class=BackInUseForm, service=svc.asset_back_in_use,
                       title=_("Back in use: %(what)s"), done=_("Back in use."))


# Putting a lease in force -------------------------------------------------------------------------------------
@login_required
def lease_activate(request, pk):
    """The approval (主管部门/财政) and the 公开招租 are entered and checked; then the lease is in force."""
    require_perm(request.user, LEASE_PERM)
    lease = _get(request, Lease, pk)
    if lease.status != Lease.Status.DRAFT:
        messages.error(request, _("Only a draft lease can be put in force."))
        return redirect(registry[Lease].detail_url(lease))
    form = LeaseActivateForm(request.POST if request.method == "POST" else None, instance=Lease.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            svc.lease_activate(lease=lease, actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The lease is in force; its rent schedule is written."))
            return redirect(registry[Lease].detail_url(lease))
    schedule = svc.rent_schedule(start_on=lease.start_on, end_on=lease.end_on, rent=lease.rent_amount,
                                 period=lease.rent_period)
    return render(request, "assets/leases/activate.html", {
        "form": form, "lease": lease, "schedule": schedule, "title": _("Put lease %(number)s in force") % {
            "number": lease.number}, "cancel_url": registry[Lease].detail_url(lease)},
        status=400 if form.errors else 200)


# The idle register -------------------------------------------------------------------------------------------
@login_required
def idle_register(request):
    """闲置校产登记: idle cards and idle rooms on one page (the card list has every idle card)."""
    user = request.user
    if not (user.has_perm("assets.view_asset") or user.has_perm("assets.view_idleroom")) or not user.school_id:
        raise PermissionDenied
    assets = scope(sel.idle_assets(user.school_id), user).select_related("category", "room").order_by("code")
    summary = assets.aggregate(n=Count("id"), value=MoneySum("original_value", default=None))
    rooms = scope(sel.idle_rooms(user.school_id), user) if user.has_perm("assets.view_idleroom") else None
    return render(request, "assets/leases/idle_register.html", {
        "title": _("Idle register"), "assets": list(assets[:REGISTER_SHOWN]), "asset_count": summary["n"],
        "asset_value": summary["value"] or sel.ZERO, "shown": REGISTER_SHOWN, "rooms": rooms,
        "all_idle_url": reverse("assets:asset_list") + f"?status={UseStatus.IDLE}",
        "can_add_room": user.has_perm("assets.add_idleroom"),
        "asset_entity": registry[Asset], "room_entity": registry[IdleRoom]})


# The 非税收入 report --------------------------------------------------------------------------------------------
def _report_year(request) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, 2000), 2100)


def _report_access(request) -> None:
    if not request.user.has_perm("assets.view_rentinstallment") or not request.user.school_id:
        raise PermissionDenied


@login_required
def rent_report(request):
    """Rent due, received, paid over and still to pay over: per lease and per month of a year."""
    _report_access(request)
    year = _report_year(request)
    school = request.user.school_id
    by_lease = sel.rent_report_by_lease(school, year)
    by_month = sel.rent_report_by_month(school, year)
    this_year = timezone.localdate().year
    return render(request, "assets/leases/rent_report.html", {
        "title": _("Rent report (non-tax revenue)"), "year": year, "by_lease": by_lease, "by_month": by_month,
        "lease_totals": sel.totals(by_lease), "month_totals": sel.totals(by_month),
        "years": list(range(this_year + 1, this_year - 6, -1)), "lease_entity": registry[Lease]})


@login_required
def rent_report_export(request):
    """The report as .xlsx: ``?by=lease`` (default) or ``?by=month``, for ``?year=``."""
    from houqin.core import excel

    _report_access(request)
    year = _report_year(request)
    school = request.user.school_id
    by_month = request.GET.get("by") == "month"
    money = [excel.Column(key=k, header=h, kind="decimal") for k, h in (
        ("due", _("Rent due")), ("received", _("Received")), ("paid_over", _("Paid over")),
        ("to_pay_over", _("Still to pay over")))]
    if by_month:
        columns = [excel.Column(key="month", header=_("Month")), *money]
        rows = [[f"{year}-{r['month']:02d}", r["due"], r["received"], r["paid_over"], r["to_pay_over"]]
                for r in sel.rent_report_by_month(school, year)]
    else:
        columns = [excel.Column(key="lease", header=_("Lease")), excel.Column(key="tenant", header=_("Tenant")),
                   *money]
        rows = [[r["lease"].number, str(r["lease"].tenant), r["due"], r["received"], r["paid_over"],
                 r["to_pay_over"]] for r in sel.rent_report_by_lease(school, year)]
    title_lines = [f"{request.user.school} {_('Rent report (non-tax revenue)')} {year}",
                   _("Per month") if by_month else _("Per lease")]
    return xlsx_response(lambda out: excel.write_xlsx(out, columns=columns, rows=rows, sheet_title=_("Rent report"),
                                                      title_lines=title_lines),
                         f"rent-{year}-{'month' if by_month else 'lease'}-{stamp()}.xlsx")


# API actions (the same services as the pages) ----------------------------------------------------------------
class IdleSerializer(serializers.Serializer):
    on = serializers.DateField(required=False)
    reason = serializers.CharField(max_length=200)


class ReuseSerializer(serializers.Serializer):
    on = serializers.DateField(required=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ActivateSerializer(serializers.Serializer):
    approval_doc_no = serializers.CharField(max_length=60, required=False, allow_blank=True)
    approval_authority = serializers.CharField(max_length=60, required=False, allow_blank=True)
    approved_on = serializers.DateField(required=False, allow_null=True)
    tender_platform = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tender_notice_no = serializers.CharField(max_length=60, required=False, allow_blank=True)
    tender_on = serializers.DateField(required=False, allow_null=True)
    contract_no = serializers.CharField(max_length=60, required=False, allow_blank=True)
    signed_on = serializers.DateField(required=False, allow_null=True)


def with_asset_idle_api(base):
    """POST /api/assets/cards/<id>/idle/ {"reason", "on"?} and /reuse/: the idle register from the API."""

    @action(detail=True, methods=["post"], url_path="idle", serializer_class=IdleSerializer)
    def mark_idle(self, request, pk=None):
        """Mark the card idle (a journal row; refused in a closed month)."""
        asset = _api_object(self, IDLE_PERM)
        payload = IdleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        svc.asset_mark_idle(asset=asset, actor=request.user, **payload.validated_data)
        return _answer(self, asset)

    @action(detail=True, methods=["post"], url_path="reuse", serializer_class=ReuseSerializer)
    def back_in_use(self, request, pk=None):
        """Take the card off the idle register."""
        asset = _api_object(self, IDLE_PERM)
        payload = ReuseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        svc.asset_back_in_use(asset=asset, actor=request.user, **payload.validated_data)
        return _answer(self, asset)

    return type(base.__name__, (base,), {"mark_idle": mark_idle, "back_in_use": back_in_use,
                                         "__module__": base.__module__, "__doc__": base.__doc__})


def with_lease_api(base):
    """POST /api/assets/leases/<id>/activate/ with the approval and tender fields: 400 names what is missing."""

    @action(detail=True, methods=["post"], url_path="activate", serializer_class=ActivateSerializer)
    def activate(self, request, pk=None):
        """Put the draft lease in force: writes the rent schedule, marks the rooms and assets let."""
        lease = _api_object(self, LEASE_PERM)
        payload = ActivateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = {k: v for k, v in payload.validated_data.items() if v is not None}
        svc.lease_activate(lease=lease, actor=request.user, data=data)
        return _answer(self, lease)

    return type(base.__name__, (base,), {"activate": activate, "__module__": base.__module__,
                                         "__doc__": base.__doc__})


def url_patterns() -> list:
    """The paths of these pages, included by ``assets/urls.py`` (names ``assets:<name>``)."""
    from django.urls import path

    return [
        path("cards/<int:pk>/idle/", asset_idle, name="asset_idle"),
        path("cards/<int:pk>/reuse/", asset_reuse, name="asset_reuse"),
        path("leases/<int:pk>/activate/", lease_activate, name="lease_activate"),
        path("idle-register/", idle_register, name="idle_register"),
        path("rent/report/", rent_report, name="rent_report"),
        path("rent/report/export/", rent_report_export, name="rent_report_export"),
    ]
