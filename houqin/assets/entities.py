"""Fixed assets on the entity machinery (AST-1..4, AST-11, AST-14): one declaration per record type."""

from __future__ import annotations

from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import entities as e
from houqin.core.pinyin import search_keys

from . import importing, selectors
from .choices import AccountingClass, Acquisition, FundingSource, UseStatus, ValuationType
from .forms import AssetDisposalForm, AssetLoanForm, AssetMoveForm, AssetRepairForm, LoanFilterSet
from .models import (
    Asset,
    AssetCategory,
    AssetDisposal,
    AssetLoan,
    AssetMove,
    AssetMovement,
    AssetRepair,
    AssetSettings,
    FundingProject,
    Handover,
    LowValueItem,
    Stocktake,
)
from .services import cards, documents, handover, stocktake
from .views import (
    DisposalDetailView,
    MoveDetailView,
    with_disposal_api,
    with_item_api,
    with_loan_api,
    with_repair_api,
)
from .views_handover import HandoverDetailView, with_api_actions
from .views_stocktake import StocktakeDetailView
from .views_stocktake import detail_actions as stocktake_actions
from .workflows import disposal_flow, handover_flow, move_flow, stocktake_flow

STATUS_COLORS = {"in_store": "secondary", "in_use": "green", "idle": "yellow", "lent": "azure", "repair": "orange",
                 "disposing": "purple", "disposed": "secondary"}


@e.register
class AssetCategoryEntity(e.Entity):
    """GB/T 14885-2022 分类 with the 准则3号 class and the default life (domain-rules.md §2.2, §2.3)."""

    model = AssetCategory
    menu = e.Menu("assets", gettext_lazy("Asset categories"), order=80)
    path = "categories"
    list_columns = ("code", "name", "accounting_class", "default_life_years", "capitalise_threshold", "active")
    extra_columns = ("parent", "legacy_code")
    search_fields = ("code", "name", "legacy_code")
    filter_fields = ("accounting_class", "active")
    form_fields = ("code", "name", "parent", "accounting_class", "default_life_years", "capitalise_threshold",
                   "legacy_code", "active")
    import_fields = ("code", "name", "parent", "accounting_class", "default_life_years", "capitalise_threshold",
                     "legacy_code")
    import_key = "code"
    natural_keys = {"parent": "code"}
    select_related = ("parent",)
    title_field = "code"
    lookup_public = True
    example_row = {"code": "A02010105", "name": "台式计算机", "parent": "A02000000",
                   "accounting_class": AccountingClass.GENERAL_EQUIPMENT.label, "default_life_years": 6,
                   "legacy_code": "2010104"}
    import_clean_exclude = ("school",)
    import_form_class = importing.ImportFormClass(importing.CategoryFormMixin)
    views = {"import": importing.AssetCategoryImportView}

    def import_prepare(self, obj, *, actor) -> None:
        importing.prepare_category(obj, actor=actor)

    def import_write(self, *, new, changed, actor, school, result) -> None:
        importing.write_categories(self, new=new, changed=changed, actor=actor, school=school, result=result)


@e.register
class FundingProjectEntity(e.Entity):
    """专项资金 projects that 实训 equipment is tracked against (AST-12)."""

    model = FundingProject
    menu = e.Menu("assets", gettext_lazy("Funding projects"), order=85)
    path = "projects"
    list_columns = ("name", "code", "funding_source", "year", "department")
    search_fields = ("name", "code")
    filter_fields = ("funding_source", "year", "department")
    form_fields = ("name", "code", "funding_source", "year", "department", "note")
    import_fields = ("name", "code", "funding_source", "year", "department", "note")
    import_key = "name"
    natural_keys = {"department": "name"}
    select_related = ("department",)
    title_field = "name"
    lookup_public = True
    detail_panels = (e.Fields("name", "code", "funding_source", "year", "department", "note"),
                     e.Related("assets", columns=("code", "name", "original_value", "room", "status")))


@e.register
class AssetSettingsEntity(e.Entity):
    """The school's asset rules: code prefix, capitalisation threshold, disposal limits (§2.1, §2.4)."""

    model = AssetSettings
    menu = e.Menu("assets", gettext_lazy("Asset settings"), order=95)
    path = "settings"
    list_columns = ("code_prefix", "capitalise_threshold", "disposal_single_limit", "disposal_batch_limit")
    form_fields = ("code_prefix", "capitalise_threshold", "disposal_single_limit", "disposal_batch_limit")
    can_add = False  # one row per school, made on first sight with the national defaults
    can_import = False

    def queryset(self, user, action="view"):
        if getattr(user, "school_id", None):
            AssetSettings.objects.get_or_create(school_id=user.school_id)
        return super().queryset(user, action)


@e.register
class AssetEntity(e.Entity):
    """固定资产卡片 (AST-1): the list is the 固定资产明细账; filter by category, department, place, custodian."""

    model = Asset
    menu = e.Menu("assets", gettext_lazy("Fixed assets"), order=10)
    path = "cards"
    list_columns = ("code", "name", "category", "spec", "quantity", "original_value", "room", "custodian",
                    "status")
    extra_columns = ("finance_code", "accounting_class", "unit", "department", "funding_source", "project",
                     "acquisition", "acquired_on", "in_service_on", "booking", "voucher_no", "brand", "supplier",
                     "invoice_no", "opening_depreciation", "opening_net_value", "accumulated_depreciation", "historic")
    search_fields = ("code", "finance_code", "name", "spec", "search_keys")
    search_index = "assets_asset_fts"  # migration assets.0003 (SQLite FTS5 trigram)
    import_also_writes = (AssetMovement,)  # one opening journal row per card: refresh its statistics too
    filter_fields = ("status", "category", "accounting_class", "department", "room", "custodian", "funding_source",
                     "project", "acquisition", "booking", "historic", "acquired_on")
    form_fields = ("code", "finance_code", "name", "category", "accounting_class", "brand", "spec", "unit",
                   "quantity", "original_value", "valuation_type", "funding_source", "project", "acquisition",
                   "acquired_on", "in_service_on", "life_months", "life_reason", "supplier", "manufacturer",
                   "invoice_no", "contract_no", "warranty_until", "room", "department", "custodian", "area", "title_no",
                   "note")
    import_fields = ("code", "finance_code", "name", "category", "accounting_class", "brand", "spec", "unit",
                     "quantity", "original_value", "valuation_type", "funding_source", "project", "acquisition",
                     "acquired_on", "in_service_on", "life_months", "supplier", "invoice_no", "room", "department",
                     "custodian", "opening_on", "opening_depreciation", "opening_net_value", "booking", "voucher_no",
                     "note")
    import_key = "code"
    natural_keys = {"category": "code", "project": "name", "room": "code", "department": "name",
                    "custodian": "staff_no"}
    import_clean_exclude = ("code", "school")  # a blank code is numbered by the write step
    import_form_class = importing.ImportFormClass(importing.AssetFormMixin)
    views = {"import": importing.AssetImportView}
    example_row = {"code": "ZC20150001", "finance_code": "330100000001", "name": "台式计算机",
                   "category": "A02010105", "brand": "联想", "spec": "启天M437", "unit": "台", "quantity": 1,
                   "original_value": "4850.00", "valuation_type": ValuationType.COST.label,
                   "funding_source": FundingSource.FISCAL.label, "acquisition": Acquisition.PURCHASE.label, "acquired_on": "2019-03-15", "room": "XZ-201", "custodian": "T001",
                   "opening_on": "2025-12-31", "opening_depreciation": "4850.00", "opening_net_value": "0.00",
                   "booking": Asset.Booking.BOOKED.label, "voucher_no": "期初"}
    select_related = ("category", "room", "custodian", "department", "project")
    status_colors = STATUS_COLORS
    title_field = "code"
    global_search = True
    lookup_public = False
    derived_fields = ("search_keys",)
    detail_panels = (
        e.Fields("code", "finance_code", "name", "category", "accounting_class", "brand", "spec", "unit", "quantity",
                 "historic_warnings"),
        e.Fields("original_value", "valuation_type", "funding_source", "project", "booking", "voucher_no",
                 "booked_on", "opening_on", "opening_depreciation", "opening_net_value", title=gettext_lazy("Value")),
        e.Fields("life_months", "life_reason", "depreciation_status", "monthly_depreciation",
                 "accumulated_depreciation", "net_value", title=gettext_lazy("Depreciation")),
        e.Fields("acquisition", "acquired_on", "in_service_on", "supplier", "manufacturer", "invoice_no",
                 "contract_no", "warranty_until", title=gettext_lazy("Acquisition")),
        e.Fields("status", "room", "department", "custodian", "open_loan", "area", "title_no", "note",
                 title=gettext_lazy("Use")),
        e.Related("movements", columns=("happened_on", "kind", "room_after", "custodian_after", "status_after",
                                        "document", "actor"), limit=20),
        e.Related("loans", columns=("borrower", "lent_on", "due_on", "returned_on", "status"), limit=10),
        e.Related("repairs", columns=("number", "fault", "sent_on", "back_on", "status"), limit=10),
    )

    def lookup_label(self, obj) -> str:
        return f"{obj.code} {obj.name}"

    def header_open_loan(self):
        return _("Lent to")

    def value_open_loan(self, obj, user):
        if obj.status != UseStatus.LENT:
            return ""
        loan = selectors.open_loan(obj)
        return _("%(who)s, due %(day)s") % {"who": loan.borrower, "day": loan.due_on} if loan else ""

    def header_depreciation_status(self):
        return _("Depreciation status")

    def value_depreciation_status(self, obj, user):
        return selectors.depreciation_status(obj)[0]

    def header_monthly_depreciation(self):
        return _("Monthly depreciation")

    def value_monthly_depreciation(self, obj, user):
        monthly = selectors.depreciation_status(obj)[1]
        return f"{monthly:,.2f}" if monthly else "—"

    def header_net_value(self):
        return _("Net value")

    def value_net_value(self, obj, user):
        return f"{obj.net_value:,.2f}"

    def value_historic_warnings(self, obj, user):
        return obj.historic_warnings

    def form_for(self, user, *, data=None, instance=None, files=None):
        form = super().form_for(user, data=data, instance=instance, files=files)
        if instance is not None:
            for name in (*cards.STATE_FIELDS, "code"):
                form.fields.pop(name, None)  # place, department and custodian change through documents
        elif "code" in form.fields:
            form.fields["code"].required = False  # empty: prefix + year + sequence (services.common)
            form.fields["code"].help_text = _("Empty: numbered automatically (prefix + year + sequence).")
        if "accounting_class" in form.fields and instance is None:
            form.fields["accounting_class"].required = False  # empty: the category's class (services.cards)
            form.fields["accounting_class"].help_text = _("Empty: the class of the category.")
        return form

    def create(self, *, data, actor, school):
        return cards.asset_create(school=school, actor=actor, data=data)

    def update(self, *, obj, data, actor):
        return cards.asset_update(asset=obj, actor=actor, data=data)

    def import_prepare(self, obj, *, actor) -> None:
        importing.prepare_asset(obj, actor=actor)

    def import_write(self, *, new, changed, actor, school, result) -> None:
        importing.write_holdings(self, new=new, changed=changed, actor=actor, school=school, result=result)

    def detail_actions(self, obj, user):
        return selectors.asset_actions(obj, user)


@e.register
class LowValueItemEntity(e.Entity):
    """低值耐用品 (AST-11): issued and returned in two taps, counted in stocktakes."""

    model = LowValueItem
    menu = e.Menu("assets", gettext_lazy("Low-value items"), order=20)
    path = "items"
    list_columns = ("code", "name", "spec", "quantity", "unit_price", "room", "custodian", "status")
    extra_columns = ("category", "unit", "department", "acquired_on", "note")
    search_fields = ("code", "name", "spec", "search_keys")
    filter_fields = ("status", "category", "room", "custodian", "department")
    form_fields = ("code", "name", "category", "spec", "unit", "quantity", "unit_price", "acquired_on", "room",
                   "department", "custodian", "note")
    import_fields = form_fields
    import_key = "code"
    natural_keys = {"category": "code", "room": "code", "department": "name", "custodian": "staff_no"}
    import_clean_exclude = ("code", "school")  # a blank code is numbered by the write step
    import_form_class = importing.ImportFormClass(importing.ItemFormMixin)
    views = {"import": importing.LowValueItemImportView}
    example_row = {"code": "D20240001", "name": "电风扇", "spec": "落地扇", "unit": "台", "quantity": 2,
                   "unit_price": "180.00", "acquired_on": "2024-06-01", "room": "JX-101", "custodian": "T001"}
    select_related = ("room", "custodian", "category")
    status_colors = STATUS_COLORS
    title_field = "code"
    global_search = True
    derived_fields = ("search_keys",)
    detail_panels = (
        e.Fields("code", "name", "category", "spec", "unit", "quantity", "unit_price", "acquired_on", "note"),
        e.Fields("status", "room", "department", "custodian", title=gettext_lazy("Use")),
        e.Related("movements", columns=("happened_on", "kind", "custodian_after", "status_after", "document",
                                        "actor"), limit=20),
        e.Related("loans", columns=("borrower", "lent_on", "due_on", "returned_on", "status"), limit=10),
    )

    def lookup_label(self, obj) -> str:
        return f"{obj.code} {obj.name}"

    def form_for(self, user, *, data=None, instance=None, files=None):
        form = super().form_for(user, data=data, instance=instance, files=files)
        if instance is not None:
            for name in (*cards.STATE_FIELDS, "code"):
                form.fields.pop(name, None)
        elif "code" in form.fields:
            form.fields["code"].required = False
            form.fields["code"].help_text = _("Empty: numbered automatically (prefix + year + sequence).")
        return form

    def create(self, *, data, actor, school):
        return cards.item_create(school=school, actor=actor, data=data)

    def update(self, *, obj, data, actor):
        for name in (*cards.STATE_FIELDS, "status", "code"):
            data.pop(name, None)
        if "name" in data:
            data["search_keys"] = search_keys(data["name"] or "")
        return super().update(obj=obj, data=data, actor=actor)

    def import_prepare(self, obj, *, actor) -> None:
        importing.prepare_item(obj, actor=actor)

    def import_write(self, *, new, changed, actor, school, result) -> None:
        importing.write_holdings(self, new=new, changed=changed, actor=actor, school=school, result=result)

    def detail_actions(self, obj, user):
        return selectors.item_actions(obj, user)


LowValueItemEntity.viewset_class = with_item_api(LowValueItemEntity.viewset_class)  # issue, return


@e.register
class AssetMovementEntity(e.Entity):
    """资产变动记录 (AST-3 增减): the append-only journal; never edited, corrected by reversal."""

    model = AssetMovement
    menu = e.Menu("assets", gettext_lazy("Asset journal"), order=70)
    path = "journal"
    list_columns = ("happened_on", "kind", "asset", "item", "quantity", "value_change", "room_after",
                    "custodian_after", "status_after", "document", "actor")
    extra_columns = ("room_before", "custodian_before", "status_before", "department_after", "note", "created_at")
    search_fields = ("document", "note", "asset__code", "asset__name", "item__code", "item__name")
    filter_fields = ("kind", "happened_on", "asset", "item", "room_after", "custodian_after", "actor")
    select_related = ("asset", "item", "room_after", "custodian_after", "actor")
    ordering = ("-id",)
    can_add = False
    can_edit = False
    can_import = False
    status_field = "status_after"
    status_colors = STATUS_COLORS
    list_reads = {"document": ("document_url",)}  # link_document below

    def link_document(self, obj):
        return obj.document_url or None


class DocumentEntity(e.Entity):
    """Shared by the documents that take a list of asset codes and go through approval."""

    def detail_actions(self, obj, user):
        return selectors.document_actions(obj, user)


@e.register
class AssetMoveEntity(DocumentEntity):
    """领用单 / 调拨单 / 退库单 (AST-3): approval only where the school's policy asks."""

    model = AssetMove
    menu = e.Menu("assets", gettext_lazy("Issues and transfers"), order=30)
    path = "moves"
    list_columns = ("number", "kind", "moved_on", "to_room", "to_department", "to_custodian", "total_value",
                    "requested_by", "status")
    search_fields = ("number", "note")
    filter_fields = ("kind", "status", "moved_on", "to_room", "to_department", "to_custodian")
    form_fields = ("kind", "assets", "moved_on", "to_room", "to_department", "to_custodian", "note")
    form_class = AssetMoveForm
    views = {"detail": MoveDetailView}
    can_import = False
    workflow = move_flow
    select_related = ("to_room", "to_department", "to_custodian", "requested_by")
    title_field = "number"
    detail_panels = (
        e.Fields("number", "kind", "moved_on", "to_room", "to_department", "to_custodian", "total_value",
                 "requested_by", "note", "done_at"),
        e.Related("lines", columns=("asset", "from_room", "from_department", "from_custodian"), limit=200),
    )

    def create(self, *, data, actor, school):
        return documents.move_create(school=school, actor=actor, kind=data["kind"], assets=data["assets"],
                                     moved_on=data.get("moved_on"), to_room=data.get("to_room"),
                                     to_department=data.get("to_department"),
                                     to_custodian=data.get("to_custodian"), note=data.get("note", ""))

    def update(self, *, obj, data, actor):
        if obj.status != AssetMove.Status.DRAFT:
            from django.core.exceptions import ValidationError

            raise ValidationError(_("Only a draft can be changed."))
        return super().update(obj=obj, data=data, actor=actor)

    def transition(self, *, obj, name, actor, note=""):
        return documents.move_transition(move=obj, name=name, actor=actor, note=note)


@e.register
class AssetLoanEntity(e.Entity):
    """借用登记 (AST-3, AST-11): a projector for a lesson in two taps; overdue loans flagged."""

    model = AssetLoan
    menu = e.Menu("assets", gettext_lazy("Loans"), order=40)
    path = "loans"
    list_columns = ("asset", "item", "borrower", "purpose", "lent_on", "due_on", "returned_on", "overdue", "status")
    search_fields = ("asset__code", "asset__name", "item__code", "item__name", "borrower__name", "purpose")
    filter_fields = ("status", "borrower", "lent_on", "due_on")
    form_fields = ("asset", "item", "borrower", "due_on", "purpose")
    form_class = AssetLoanForm
    filterset_class = LoanFilterSet  # the generated filters plus "overdue"
    can_edit = False
    can_import = False
    select_related = ("asset", "item", "borrower")
    status_colors = {"out": "azure", "returned": "green"}

    def header_overdue(self):
        return _("Overdue")

    def value_overdue(self, obj, user):
        days = selectors.loan_overdue_days(obj)
        return _("%(days)s days") % {"days": days} if days else ""

    def create(self, *, data, actor, school):
        return documents.loan_create(school=school, actor=actor, borrower=data["borrower"], asset=data.get("asset"),
                                     item=data.get("item"), due_on=data.get("due_on"),
                                     purpose=data.get("purpose", ""))

    def detail_actions(self, obj, user):
        if obj.status == AssetLoan.Status.OUT and user.has_perm("assets.change_assetloan"):
            return [{"label": _("Given back"), "url": reverse("assets:loan_return", args=[obj.pk]), "method": "post",
                     "style": "primary"}]
        return []


AssetLoanEntity.viewset_class = with_loan_api(AssetLoanEntity.viewset_class)  # return


@e.register
class AssetRepairEntity(e.Entity):
    """维修 out and back (AST-3); a repair order of the repairs app will call the same services."""

    model = AssetRepair
    menu = e.Menu("assets", gettext_lazy("Repairs"), order=45)
    path = "repairs"
    list_columns = ("number", "asset", "fault", "repairer", "sent_on", "back_on", "cost", "status")
    search_fields = ("number", "asset__code", "asset__name", "fault", "repairer")
    filter_fields = ("status", "sent_on")
    form_fields = ("asset", "fault", "repairer", "sent_on")
    form_class = AssetRepairForm
    can_edit = False
    can_import = False
    select_related = ("asset",)
    title_field = "number"
    status_colors = {"out": "orange", "back": "green", "scrapped": "secondary"}

    def create(self, *, data, actor, school):
        return documents.repair_send(school=school, actor=actor, asset=data["asset"], fault=data["fault"],
                                     repairer=data.get("repairer", ""), sent_on=data.get("sent_on"))

    def detail_actions(self, obj, user):
        if obj.status == AssetRepair.Status.OUT and user.has_perm("assets.change_assetrepair"):
            return [{"label": _("Back from repair"), "url": reverse("assets:repair_back", args=[obj.pk]),
                     "method": "get", "style": "primary"}]
        return []


AssetRepairEntity.viewset_class = with_repair_api(AssetRepairEntity.viewset_class)  # back


@e.register
class AssetDisposalEntity(DocumentEntity):
    """报废/处置 (AST-3; domain-rules.md §2.4): collective decision, approval, write-off, 非税收入."""

    model = AssetDisposal
    menu = e.Menu("assets", gettext_lazy("Disposals"), order=50)
    path = "disposals"
    list_columns = ("number", "method", "reason", "total_original_value", "total_net_value", "approver_level",
                    "approval_doc_no", "income", "status")
    search_fields = ("number", "reason", "decision_ref", "approval_doc_no")
    filter_fields = ("method", "status", "approver_level", "disposed_on")
    form_fields = ("method", "assets", "reason", "decision_ref", "department", "note")
    form_class = AssetDisposalForm
    views = {"detail": DisposalDetailView}
    can_import = False
    workflow = disposal_flow
    select_related = ("requested_by",)
    title_field = "number"
    detail_panels = (
        e.Fields("number", "method", "reason", "decision_ref", "department", "requested_by", "note"),
        e.Fields("approver_level", "approver_level_reason", "evidence", "total_original_value", "total_net_value",
                 "approval_doc_no", "disposed_on", "income", "income_paid_over_on",
                 title=gettext_lazy("Approval and write-off")),
        e.Related("lines", columns=("asset", "original_value", "net_value"), limit=500),
    )

    def header_approver_level_reason(self):
        return _("Why this level")

    def value_approver_level_reason(self, obj, user):
        return documents.approver_level_reason(obj)

    def header_evidence(self):
        return _("Evidence required")

    def value_evidence(self, obj, user):
        what = documents.NEEDS_EVIDENCE.get(obj.method)
        if what is None:
            return _("None besides the collective decision.")
        return _("%(what)s, attached below before submitting.") % {"what": capfirst(str(what))}

    def create(self, *, data, actor, school):
        return documents.disposal_create(school=school, actor=actor, assets=data["assets"], method=data["method"],
                                         reason=data["reason"], decision_ref=data.get("decision_ref", ""),
                                         department=data.get("department"), note=data.get("note", ""))

    def update(self, *, obj, data, actor):
        if obj.status != AssetDisposal.Status.DRAFT:
            from django.core.exceptions import ValidationError

            raise ValidationError(_("Only a draft can be changed."))
        return super().update(obj=obj, data=data, actor=actor)

    def transition(self, *, obj, name, actor, note=""):
        return documents.disposal_transition(disposal=obj, name=name, actor=actor, note=note)


AssetDisposalEntity.viewset_class = with_disposal_api(AssetDisposalEntity.viewset_class)  # write-off

@e.register
class StocktakeEntity(e.Entity):
    """盘点 (AST-4): planned per scope at term start / mid / end or yearly; counted on phones."""

    model = Stocktake
    menu = e.Menu("assets", gettext_lazy("Stocktakes"), order=60)
    path = "stocktakes"
    list_columns = ("number", "title", "scope", "building", "department", "period", "planned_on", "status")
    search_fields = ("number", "title")
    filter_fields = ("status", "period", "scope", "planned_on")
    form_fields = ("title", "scope", "building", "department", "period", "planned_on", "note")
    can_import = False
    workflow = stocktake_flow
    select_related = ("building", "department")
    title_field = "number"
    views = {"detail": StocktakeDetailView}
    detail_panels = (
        e.Fields("number", "title", "scope", "building", "department", "period", "planned_on", "requested_by",
                 "note"),
        e.Fields("started_at", "finished_at", "approved_at", "disposal", title=gettext_lazy("Counting")),
    )

    def create(self, *, data, actor, school):
        return stocktake.stocktake_plan(school=school, actor=actor, **data)

    def update(self, *, obj, data, actor):
        if obj.status != Stocktake.Status.PLANNED:
            from django.core.exceptions import ValidationError

            raise ValidationError(_("Only a planned stocktake can be changed."))
        return super().update(obj=obj, data=data, actor=actor)

    def transition(self, *, obj, name, actor, note=""):
        return stocktake.stocktake_transition(stocktake=obj, name=name, actor=actor, note=note)

    def detail_actions(self, obj, user):
        return stocktake_actions(obj, user)


e.not_an_entity("assets.stocktakescan", "every scan of a stocktake as it arrived: written by the counting page, "
                                        "summed up on its lines and report")


@e.register
class HandoverEntity(e.Entity):
    """交接单 (AST-14): what a leaving person holds, with 交接人/接收人/监交人 signatures."""

    model = Handover
    menu = e.Menu("assets", gettext_lazy("Handovers"), order=65)
    path = "handovers"
    list_columns = ("number", "from_staff", "to_staff", "supervisor", "reason", "confirmed_at", "status")
    search_fields = ("number", "from_staff__name", "to_staff__name", "reason")
    filter_fields = ("status", "from_staff", "to_staff")
    form_fields = ("from_staff", "to_staff", "supervisor", "reason")
    can_edit = False
    can_import = False
    workflow = handover_flow
    select_related = ("from_staff", "to_staff", "supervisor")
    title_field = "number"
    views = {"detail": HandoverDetailView}  # the three people, the tick list, confirm (phone first)
    detail_panels = (e.Fields("number", "status", "created_by", "created_at", title=gettext_lazy("Document")),)

    def create(self, *, data, actor, school):
        return handover.handover_create(school=school, actor=actor, **data)

    def transition(self, *, obj, name, actor, note=""):
        if name == "cancel":
            return handover.handover_cancel(obj, actor, note)
        return super().transition(obj=obj, name=name, actor=actor, note=note)

    def detail_actions(self, obj, user):
        return [{"label": _("Print handover form"), "url": reverse("assets:handover_print", args=[obj.pk]),
                 "method": "get", "style": "outline-secondary"}] if handover.can_view(obj, user) else []


HandoverEntity.viewset_class = with_api_actions(HandoverEntity.viewset_class)  # lines, tick, refresh, confirm
