"""Idle rooms, tenants, leases and rent on the entity machinery (AST-8): one declaration per record type.

``register()`` is called from ``AssetsConfig.ready()``: role permissions, menu entries of the two pages that are
not entities (the idle register, the rent report), the dashboard widgets, the daily overdue-rent reminder, and
the idle / back-in-use buttons and API actions on the asset card.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import entities as e

from . import selectors_leases as sel
from .forms_leases import InstallmentFilterSet, LeaseForm, RentPayOverForm, RentReceiptForm
from .models import IdleRoom, Lease, RentInstallment, RentPayOver, RentReceipt, Tenant
from .services import leases as svc
from .views_leases import (
    IdleRoomDetailView,
    LeaseDetailView,
    installment_actions,
    lease_actions,
    with_lease_api,
)
from .workflows_leases import idle_room_flow, lease_flow


@e.register
class IdleRoomEntity(e.Entity):
    """闲置用房登记 (AST-8): idle rooms offered for 调剂 or let out; the record stays when the room is used again."""

    model = IdleRoom
    menu = e.Menu("assets", gettext_lazy("Idle rooms"), order=52)
    path = "idle-rooms"
    list_columns = ("room", "since", "area", "reason", "status")
    extra_columns = ("ended_on", "note")
    search_fields = ("room__code", "room__name", "reason")
    filter_fields = ("status", "room", "since")
    form_fields = ("room", "since", "area", "reason", "note")
    workflow = idle_room_flow
    views = {"detail": IdleRoomDetailView}
    can_import = False
    select_related = ("room",)
    title_field = "room"
    detail_panels = (e.Fields("room", "since", "area", "reason", "status", "ended_on", "note"),
                     e.Related("leases", columns=("number", "tenant", "start_on", "end_on", "status")))

    def create(self, *, data, actor, school):
        return svc.idle_room_create(school=school, actor=actor, data=data)

    def update(self, *, obj, data, actor):
        if obj.status != IdleRoom.Status.IDLE:
            raise ValidationError(_("Only a room that stands idle can be changed here."))
        if data.get("room") is not None and data["room"].pk != obj.room_id:
            raise ValidationError({"room": _("The room of a record does not change: put the other room on the "
                                             "register instead.")})
        return super().update(obj=obj, data=data, actor=actor)

    def transition(self, *, obj, name, actor, note=""):
        return svc.idle_room_transition(idle_room=obj, name=name, actor=actor, note=note)


@e.register
class TenantEntity(e.Entity):
    """承租方 (AST-8): credit code checked (GB 32100), mobile checked; under the school's safety supervision."""

    model = Tenant
    menu = e.Menu("assets", gettext_lazy("Tenants"), order=53)
    path = "tenants"
    list_columns = ("name", "credit_code", "contact", "phone", "safety_supervised")
    extra_columns = ("address", "safety_note", "note")
    search_fields = ("name", "credit_code", "contact", "phone")
    filter_fields = ("safety_supervised",)
    form_fields = ("name", "credit_code", "credit_code_override", "contact", "phone", "address",
                   "safety_supervised", "safety_note", "note")
    can_import = False
    title_field = "name"
    lookup_public = False
    detail_panels = (e.Fields("name", "credit_code", "credit_code_override", "contact", "phone", "address", "note"),
                     e.Fields("safety_supervised", "safety_note", title=gettext_lazy("Safety supervision")),
                     e.Related("leases", columns=("number", "start_on", "end_on", "rent_amount", "status")))


@e.register
class LeaseEntity(e.Entity):
    """出租合同 (AST-8; domain-rules.md §2.4): in force only with the approval number and the public tender."""

    model = Lease
    menu = e.Menu("assets", gettext_lazy("Leases"), order=54)
    path = "leases"
    list_columns = ("number", "tenant", "start_on", "end_on", "rent_amount", "rent_period", "approval_doc_no",
                    "status")
    extra_columns = ("purpose", "deposit", "tender_notice_no", "contract_no", "signed_on", "ended_on")
    search_fields = ("number", "tenant__name", "contract_no", "approval_doc_no", "tender_notice_no")
    filter_fields = ("status", "tenant", "rent_period", "start_on")
    form_fields = ("tenant", "rooms", "assets", "purpose", "start_on", "end_on", "rent_amount", "rent_period",
                   "deposit", "approval_doc_no", "approval_authority", "approved_on", "tender_platform",
                   "tender_notice_no", "tender_on", "contract_no", "signed_on", "note")
    form_class = LeaseForm
    views = {"detail": LeaseDetailView}
    workflow = lease_flow
    can_import = False
    select_related = ("tenant",)
    title_field = "number"
    detail_panels = (
        e.Fields("number", "tenant", "rooms", "assets", "purpose", "note"),
        e.Fields("start_on", "end_on", "rent_amount", "rent_period", "deposit", "schedule_rule", "activated_at",
                 "ended_on", title=gettext_lazy("Term and rent")),
        e.Fields("approval_doc_no", "approval_authority", "approved_on", "tender_platform", "tender_notice_no",
                 "tender_on", "contract_no", "signed_on", title=gettext_lazy("Approval, public tender, contract")),
        e.Related("installments", title=gettext_lazy("Rent schedule"),
                  columns=("seq", "period_start", "period_end", "due_on", "amount", "received", "state"), limit=60),
    )

    def header_schedule_rule(self):
        return _("Rent schedule rule")

    def value_schedule_rule(self, obj, user):
        return _("Due on the first day of each period (paid in advance); a last period cut short by the term end "
                 "is pro-rated by days.")

    def create(self, *, data, actor, school):
        return svc.lease_create(school=school, actor=actor, data=data)

    def update(self, *, obj, data, actor):
        return svc.lease_update(lease=obj, actor=actor, data=data)

    def transition(self, *, obj, name, actor, note=""):
        return svc.lease_transition(lease=obj, name=name, actor=actor, note=note)

    def detail_actions(self, obj, user):
        return lease_actions(obj, user)


LeaseEntity.viewset_class = with_lease_api(LeaseEntity.viewset_class)  # activate


@e.register
class RentInstallmentEntity(e.Entity):
    """应收租金 (AST-8): the rent schedule of every lease; written when a lease comes into force, never by hand."""

    model = RentInstallment
    menu = e.Menu("assets", gettext_lazy("Rent schedule"), order=56)
    path = "rent"
    list_columns = ("lease", "tenant", "seq", "period_start", "period_end", "due_on", "amount", "received", "state")
    search_fields = ("lease__number", "lease__tenant__name")
    filter_fields = ("status", "due_on")
    filterset_class = InstallmentFilterSet  # the generated filters plus "overdue" and the lease
    select_related = ("lease", "lease__tenant")
    ordering = ("due_on", "lease_id", "seq")
    can_add = False
    can_edit = False
    can_import = False
    title_field = "seq"
    status_colors = {"due": "azure", "partly": "yellow", "received": "green", "cancelled": "secondary"}
    detail_panels = (
        e.Fields("lease", "tenant", "seq", "period_start", "period_end", "due_on", "amount", "received", "state"),
        e.Related("receipts", columns=("received_on", "receipt_no", "amount", "pay_over")),
    )

    def header_tenant(self):
        return _("Tenant")

    def value_tenant(self, obj, user):
        return str(obj.lease.tenant)

    def header_state(self):
        return _("Collection")

    def value_state(self, obj, user):
        state = sel.installment_state(obj, timezone.localdate())
        if state == "overdue":
            return _("Overdue by %(days)s days") % {"days": (timezone.localdate() - obj.due_on).days}
        return obj.get_status_display()

    def detail_actions(self, obj, user):
        return installment_actions(obj, user)


@e.register
class RentReceiptEntity(e.Entity):
    """租金收款 (AST-8): rent received, never above the schedule; 非税收入 held until paid over. Voided, never
    deleted (X-2)."""

    model = RentReceipt
    menu = e.Menu("assets", gettext_lazy("Rent receipts"), order=57)
    path = "rent-receipts"
    list_columns = ("received_on", "receipt_no", "lease", "installment", "amount", "pay_over", "recorded_by")
    extra_columns = ("note",)
    search_fields = ("receipt_no", "lease__number", "lease__tenant__name")
    filter_fields = ("received_on", "pay_over")
    form_fields = ("installment", "amount", "received_on", "receipt_no", "note")
    form_class = RentReceiptForm
    deletion = e.VOID
    can_edit = False
    can_import = False
    select_related = ("lease", "lease__tenant", "installment", "installment__lease", "pay_over", "recorded_by")
    title_field = "receipt_no"

    def create(self, *, data, actor, school):
        return svc.receipt_record(school=school, actor=actor, installment=data["installment"],
                                  amount=data["amount"], received_on=data.get("received_on"),
                                  receipt_no=data["receipt_no"], note=data.get("note", ""))

    def void(self, *, obj, reason, actor):
        return svc.receipt_void(receipt=obj, reason=reason, actor=actor)


@e.register
class RentPayOverEntity(e.Entity):
    """非税收入上缴 (AST-8): rent paid over to the treasury, one receipt or a batch. Voided, never deleted."""

    model = RentPayOver
    menu = e.Menu("assets", gettext_lazy("Rent paid over"), order=58)
    path = "rent-paid-over"
    list_columns = ("number", "paid_on", "reference", "amount", "recorded_by")
    extra_columns = ("note",)
    search_fields = ("number", "reference")
    filter_fields = ("paid_on",)
    form_fields = ("paid_on", "reference", "paid_receipts", "note")
    form_class = RentPayOverForm
    deletion = e.VOID
    can_edit = False
    can_import = False
    select_related = ("recorded_by",)
    title_field = "number"
    detail_panels = (e.Fields("number", "paid_on", "reference", "amount", "recorded_by", "note"),
                     e.Related("receipts", columns=("received_on", "receipt_no", "lease", "amount")))

    def create(self, *, data, actor, school):
        return svc.pay_over_record(school=school, actor=actor, receipts=data["paid_receipts"], paid_on=data.get("paid_on"),
                                   reference=data["reference"], note=data.get("note", ""))

    def void(self, *, obj, reason, actor):
        return svc.pay_over_void(pay_over=obj, reason=reason, actor=actor)


def register() -> None:
    """Roles, pages, widgets, the daily reminder and the card's idle actions (called from ``AssetsConfig.ready``)."""
    from houqin.core.registry import MenuItem, PeriodicJob, Widget, registry

    from .models import Asset
    from .views_leases import asset_idle_actions, with_asset_idle_api

    models = ["idleroom", "tenant", "lease", "rentinstallment", "rentreceipt", "rentpayover"]
    view_all = [f"assets.view_{m}" for m in models]
    # 资产管理员 and 后勤主任 manage the register, tenants and leases; the 会计 records receipts and pay-overs.
    registry.grant(["asset_keeper", "logistics_director"], view_all + [
        f"assets.{a}_{m}" for a in ("add", "change") for m in ("idleroom", "tenant", "lease")])
    registry.grant(["accountant"], view_all + [
        "assets.add_rentreceipt", "assets.void_rentreceipt", "assets.add_rentpayover", "assets.void_rentpayover"])
    registry.grant(["principal", "vice_principal", "cashier", "bureau", "sysadmin"], view_all)

    registry.menu_item("assets", MenuItem(gettext_lazy("Idle register"), "assets:idle_register",
                                          perm="assets.view_idleroom", order=51))
    registry.menu_item("assets", MenuItem(gettext_lazy("Rent report"), "assets:rent_report",
                                          perm="assets.view_rentinstallment", order=59))

    registry.add_widget(Widget("assets.rent_overdue", gettext_lazy("Rent"), "assets/leases/widget_rent.html",
                               sel.rent_overdue_widget, order=33))
    registry.add_widget(Widget("assets.idle", gettext_lazy("Idle assets"), "assets/leases/widget_idle.html",
                               sel.idle_assets_widget, order=34))

    # Once a day: newly overdue rent to the logistics director and the accountant.
    registry.add_periodic(PeriodicJob("assets.rent_overdue", svc.rent_overdue_job, every_minutes=24 * 60))

    # The card's page and API get 闲置 / 恢复使用 next to its own actions.
    entity = e.registry[Asset]
    if not getattr(entity, "_idle_actions", False):
        card_actions = entity.detail_actions

        def detail_actions(obj, user):
            return [*card_actions(obj, user), *asset_idle_actions(obj, user)]

        entity.detail_actions = detail_actions
        type(entity).viewset_class = with_asset_idle_api(type(entity).viewset_class)
        entity._idle_actions = True
