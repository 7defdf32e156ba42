"""Class contracting (AST-6) and damage compensation (AST-5) on the entity machinery, and their wiring
(``register()``, called from ``AssetsConfig.ready()``: permissions per role, row rules, menu, widget).

Roles (AST-6 brief): 后勤主任 and 资产管理员 manage everything; a 班主任 sees and signs their own class's contract,
records its monthly checks and its damage records (row rule: own class only); 会计 and 出纳 see the damage
records and record their collection; 校长, 副校长, 系统管理员 and 教育局 read.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import entities as e

from .models import ClassContract, ContractCheck, DamageRecord
from .services import contracting as services
from .views_contracting import (
    CheckAddView,
    CheckDetailView,
    CheckForm,
    ContractDetailView,
    DamageDetailView,
    DamageForm,
    contract_actions,
    damage_actions,
    switched,
    with_contract_api,
    with_damage_api,
)

MODULE = services.MODULE


@switched
@e.register
class ClassContractEntity(e.Entity):
    """班级财产承包责任书 (AST-6): written at term start for each class, signed by its class teacher."""

    model = ClassContract
    menu = e.Menu("assets", gettext_lazy("Class contracts"), order=55, module=MODULE)
    path = "contracts"
    list_columns = ("school_class", "term", "room", "class_teacher", "signed_at", "status")
    extra_columns = ("signed_by", "closed_at", "note")
    search_fields = ("school_class__name", "class_teacher__name", "room__code", "note")
    filter_fields = ("term", "status", "school_class", "class_teacher")
    form_fields = ("school_class", "term", "note")
    title_field = "school_class"
    can_import = False
    workflow = services.contract_flow
    select_related = ("school_class", "term", "room", "class_teacher")
    views = {"detail": ContractDetailView}
    detail_panels = (e.Fields("school_class", "term", "room", "class_teacher", "signed_by", "signed_at",
                              "closed_at", "note"),)

    def form_for(self, user, *, data=None, instance=None, files=None):
        form = super().form_for(user, data=data, instance=instance, files=files)
        if instance is not None:
            for name in ("school_class", "term"):
                form.fields.pop(name, None)  # a contract stays with its class and term
        return form

    def create(self, *, data, actor, school):
        return services.contract_create(school=school, actor=actor, school_class=data.get("school_class"),
                                        term=data.get("term"), note=data.get("note", ""))

    def update(self, *, obj, data, actor):
        from django.core.exceptions import ValidationError

        if obj.status != ClassContract.Status.DRAFT:
            raise ValidationError(_("Only a contract awaiting signature can be changed."))
        return super().update(obj=obj, data={"note": data.get("note", obj.note)}, actor=actor)

    def transition(self, *, obj, name, actor, note=""):
        return services.contract_transition(contract=obj, name=name, actor=actor, note=note)

    def detail_actions(self, obj, user):
        return contract_actions(obj, user)


ClassContractEntity.viewset_class = with_contract_api(ClassContractEntity.viewset_class)  # start-term, rollup


@switched
@e.register
class ContractCheckEntity(e.Entity):
    """月检查 (AST-6): per contract line what was found, short and damaged; one a month, voided if wrong.

    API: POST /api/assets/contract-checks/ {"contract", "checked_on", "note", "counts": [{"line", "quantity_found",
    "damaged", "note"}]}; a line left out of ``counts`` was found complete and undamaged.
    """

    model = ContractCheck
    menu = e.Menu("assets", gettext_lazy("Monthly contract checks"), order=56, module=MODULE)
    path = "contract-checks"
    list_columns = ("checked_on", "contract", "shortfall", "damaged", "checked_by", "note")
    search_fields = ("contract__school_class__name", "note")
    filter_fields = ("contract", "checked_on", "checked_by")
    form_fields = ("contract", "checked_on", "note", "counts")
    api_fields = ("contract", "checked_on", "month", "shortfall", "damaged", "checked_by", "note")
    form_class = CheckForm
    title_field = "checked_on"
    can_edit = False
    can_import = False
    deletion = e.VOID
    select_related = ("contract", "contract__school_class", "contract__term", "checked_by")
    views = {"add": CheckAddView, "detail": CheckDetailView}
    detail_panels = (e.Fields("contract", "checked_on", "checked_by", "shortfall", "damaged", "note"),)

    def create(self, *, data, actor, school):
        return services.check_record(contract=data["contract"], checked_on=data.get("checked_on"), actor=actor,
                                     lines=data.get("counts") or [], note=data.get("note", ""))

    def void(self, *, obj, reason, actor):
        return services.check_void(check=obj, reason=reason, actor=actor)


@e.register
class DamageRecordEntity(e.Entity):
    """损坏赔偿 (AST-5): who damaged what, the assessed amount, the decision, the collection or the fee statement."""

    model = DamageRecord
    menu = e.Menu("assets", gettext_lazy("Damage compensation"), order=57)
    path = "damages"
    list_columns = ("number", "happened_on", "what", "room", "school_class", "who", "assessed_amount",
                    "decided_amount", "status")
    extra_columns = ("decision", "collected_amount", "collected_on", "receipt_no", "description", "reported_by")
    search_fields = ("number", "what", "description", "student__name", "staff__name", "receipt_no")
    filter_fields = ("status", "responsible", "decision", "school_class", "student", "happened_on")
    form_fields = ("what", "asset", "item", "check_line", "room", "happened_on", "responsible", "student", "staff",
                   "school_class", "description", "assessed_amount")
    api_fields = (*form_fields, "number", "decision", "decided_amount", "decision_reason", "collected_amount",
                  "collected_on", "receipt_no")
    title_field = "number"
    form_class = DamageForm
    can_import = False
    deletion = e.VOID
    workflow = services.damage_flow
    select_related = ("room", "school_class", "student", "staff")
    views = {"detail": DamageDetailView}
    detail_panels = (
        e.Fields("number", "what", "asset", "item", "room", "happened_on", "check_line", "description",
                 "reported_by"),
        e.Fields("responsible", "student", "staff", "school_class", title=gettext_lazy("Damaged by")),
        e.Fields("assessed_amount", "decision", "decided_amount", "decision_reason", "decided_by", "decided_at",
                 title=gettext_lazy("Decision")),
        e.Fields("collected_amount", "collected_on", "receipt_no", "collected_by", "collection_note",
                 title=gettext_lazy("Collection")),
    )

    def header_who(self):
        return _("Damaged by")

    def value_who(self, obj, user):
        if obj.responsible == DamageRecord.Responsible.STUDENT:
            return str(obj.student or "")
        if obj.responsible == DamageRecord.Responsible.STAFF:
            return str(obj.staff or "")
        return obj.get_responsible_display()

    def value_check_line(self, obj, user):
        line = obj.check_line
        if line is None:
            return ""
        return f"{line.contract_check} · {line.line.name}"

    def link_check_line(self, obj):
        return registry_url(ContractCheck, obj.check_line.contract_check_id) if obj.check_line_id else None

    def form_for(self, user, *, data=None, instance=None, files=None):
        form = super().form_for(user, data=data, instance=instance, files=files)
        if instance is not None:
            form.fields.pop("check_line", None)  # a record keeps the check it came from
        return form

    def create(self, *, data, actor, school):
        return services.damage_create(school=school, actor=actor, data=dict(data))

    def update(self, *, obj, data, actor):
        return services.damage_update(record=obj, actor=actor, data=dict(data))

    def void(self, *, obj, reason, actor):
        return services.damage_void(record=obj, reason=reason, actor=actor)

    def transition(self, *, obj, name, actor, note=""):
        return services.damage_transition(record=obj, name=name, actor=actor, note=note)

    def detail_actions(self, obj, user):
        return damage_actions(obj, user)


DamageRecordEntity.viewset_class = with_damage_api(DamageRecordEntity.viewset_class)  # decide, collect


def registry_url(model, pk) -> str:
    return e.registry[model].detail_url_for(pk)


def register() -> None:
    """Permissions per role, row rules, menu entries, lines that are not entities, the dashboard widget."""
    from houqin.core.permissions import register_row_rule
    from houqin.core.registry import MenuItem, Widget, registry

    from . import views_contracting

    e.not_an_entity("assets.classcontractline", "the lines of a class contract: filled at term start, edited on "
                                                "the contract's lines page while a draft, shown on the contract")
    e.not_an_entity("assets.contractcheckline", "the lines of a monthly check: written with the check, shown on "
                                                "its page with a damage-record button each")

    register_row_rule(ClassContract, services.contract_row_rule)
    register_row_rule(ContractCheck, services.check_row_rule)
    register_row_rule(DamageRecord, services.damage_row_rule)

    managers = list(services.MANAGERS)
    contract_perms = [f"assets.{a}_classcontract" for a in ("view", "add", "change")] + [
        "assets.close_classcontract"]
    check_perms = [f"assets.{a}_contractcheck" for a in ("view", "add", "void")]
    damage_perms = [f"assets.{a}_damagerecord" for a in ("view", "add", "change", "void", "decide", "collect")]
    registry.grant(managers, contract_perms + check_perms + damage_perms)
    registry.grant(["class_teacher"], ["assets.view_classcontract", "assets.sign_classcontract",
                                       "assets.view_contractcheck", "assets.add_contractcheck",
                                       "assets.view_damagerecord", "assets.add_damagerecord"])
    registry.grant(["accountant", "cashier"], ["assets.view_damagerecord", "assets.collect_damagerecord"])
    registry.grant(["principal", "vice_principal", "logistics_clerk", "sysadmin", "bureau"], [
        "assets.view_classcontract", "assets.view_contractcheck", "assets.view_damagerecord"])

    registry.menu_item("assets", MenuItem(gettext_lazy("Start the term's class contracting"),
                                          "assets:contracting_start", perm="assets.add_classcontract",
                                          module=MODULE, order=54))
    registry.menu_item("assets", MenuItem(gettext_lazy("Class contracting roll-up"), "assets:contracting_rollup",
                                          perm="assets.view_classcontract", module=MODULE, order=58))
    registry.add_widget(Widget("assets.contracting", gettext_lazy("Class contracting and damage"),
                               "assets/contracting/widget.html", views_contracting.widget, order=33))
