"""AST-15 on the entity machinery: intangible assets, construction projects (在建工程) and their costs.

``register()`` is called once from ``AssetsConfig.ready()``: it declares the three entities, says why
``AmortisationLine`` is not one, grants the roles and schedules the daily licence reminder.

Roles (server-side, by permission): the asset keeper and the logistics director manage all three; the
accountant views them and books intangible assets (enters the voucher number); the principal and the
vice principal view them.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import entities as e

from .models import ConstructionCost, ConstructionProject, IntangibleAsset

_registered = False


class IntangibleAssetEntity(e.Entity):
    """无形资产 (AST-15): software licences, land use rights, patents, with the amortisation schedule."""

    model = IntangibleAsset
    menu = e.Menu("assets", gettext_lazy("Intangible assets"), order=12)
    path = "intangibles"
    list_columns = ("code", "name", "kind", "original_value", "accumulated_amortisation", "in_service_on",
                    "life_months", "licence_expires_on", "booking")
    extra_columns = ("funding_source", "acquired_on", "supplier", "licence_no", "contract_no", "department",
                     "voucher_no", "booked_on", "disposed_on", "opening_on", "opening_amortisation")
    search_fields = ("code", "name", "supplier", "licence_no", "contract_no")
    filter_fields = ("kind", "funding_source", "booking", "department", "licence_expires_on")
    form_fields = ("code", "name", "kind", "original_value", "funding_source", "acquired_on", "in_service_on",
                   "indefinite_life", "life_months", "supplier", "licence_no", "contract_no", "licence_expires_on",
                   "department", "opening_on", "opening_amortisation", "note")
    can_import = False  # a handful per school, entered on the form (opening balances included)
    select_related = ("department",)
    title_field = "code"
    status_field = "booking"
    status_colors = {"pending": "yellow", "booked": "green"}
    global_search = True
    detail_panels = (
        e.Fields("code", "name", "kind", "supplier", "licence_no", "contract_no", "licence_expires_on",
                 "department", "note"),
        e.Fields("original_value", "funding_source", "accumulated_amortisation", "net_value", "acquired_on",
                 "in_service_on", "indefinite_life", "life_months", "opening_on", "opening_amortisation",
                 title=gettext_lazy("Value and amortisation")),
        e.Fields("booking", "voucher_no", "booked_on", "disposed_on", "disposal_reason",
                 title=gettext_lazy("Booking and disposal")),
    )

    def header_net_value(self):
        return _("Net value")

    def value_net_value(self, obj, user):
        return obj.net_value

    def lookup_label(self, obj) -> str:
        return f"{obj.code} {obj.name}"

    def form_for(self, user, *, data=None, instance=None, files=None):
        form = super().form_for(user, data=data, instance=instance, files=files)
        if instance is not None:
            form.fields.pop("code", None)
        elif "code" in form.fields:
            form.fields["code"].required = False
            form.fields["code"].help_text = _("Empty: numbered automatically (prefix + W + year + sequence).")
        return form

    def create(self, *, data, actor, school):
        from .services import intangibles

        return intangibles.intangible_create(school=school, actor=actor, data=data)

    def update(self, *, obj, data, actor):
        from .services import intangibles

        return intangibles.intangible_update(intangible=obj, actor=actor, data=data)

    def detail_actions(self, obj, user):
        actions = []
        if obj.disposed_on is None and user.has_perm("assets.book_intangibleasset") and obj.booking == "pending":
            actions.append({"label": _("Enter voucher"), "url": reverse("assets:intangible_book", args=[obj.pk]),
                            "method": "get", "style": "primary"})
        if obj.disposed_on is None and user.has_perm("assets.dispose_intangibleasset"):
            actions.append({"label": _("Dispose of"), "url": reverse("assets:intangible_dispose", args=[obj.pk]),
                            "method": "get", "style": "outline-danger"})
        return actions


class ConstructionProjectEntity(e.Entity):
    """在建工程 (AST-15): a project's costs build up; on acceptance (转固) they go to the building card."""

    model = ConstructionProject
    menu = e.Menu("assets", gettext_lazy("Construction in progress"), order=13)
    path = "construction"
    list_columns = ("number", "name", "target_card", "contractor", "budget", "cost_total", "accepted_on",
                    "status")
    extra_columns = ("new_card_category", "contract_no", "funding_source", "started_on", "acceptance_doc_no",
                     "capitalised_value", "card")
    search_fields = ("number", "name", "contractor", "contract_no", "target_card__code", "target_card__name")
    filter_fields = ("status", "funding_source", "started_on")
    form_fields = ("name", "target_card", "new_card_category", "contractor", "contract_no", "budget",
                   "funding_source", "started_on", "note")
    can_import = False
    select_related = ("target_card", "new_card_category", "card")
    title_field = "number"
    detail_panels = (
        e.Fields("number", "name", "target_card", "new_card_category", "contractor", "contract_no", "budget",
                 "funding_source", "started_on", "requested_by", "note"),
        e.Fields("cost_total", "accepted_on", "acceptance_doc_no", "capitalised_value", "card",
                 title=gettext_lazy("Cost and acceptance")),
        e.Related("costs", title=gettext_lazy("Cost entries"),
                  columns=("spent_on", "description", "amount", "invoice_no", "voucher_no", "recorded_by"),
                  limit=200),
    )

    def create(self, *, data, actor, school):
        from .services import intangibles

        return intangibles.project_create(school=school, actor=actor, data=data)

    def update(self, *, obj, data, actor):
        from .services import intangibles

        return intangibles.project_update(project=obj, actor=actor, data=data)

    def transition(self, *, obj, name, actor, note=""):
        from .services import intangibles

        if name == "cancel":
            return intangibles.project_cancel(project=obj, actor=actor, note=note)
        return super().transition(obj=obj, name=name, actor=actor, note=note)

    def detail_actions(self, obj, user):
        if obj.status != ConstructionProject.Status.OPEN:
            return []
        actions = []
        if user.has_perm("assets.add_constructioncost"):
            actions.append({"label": _("Add cost"), "url": reverse("assets:constructioncost_add") +
                            f"?project={obj.pk}", "method": "get", "style": "outline-primary"})
        if user.has_perm("assets.accept_constructionproject"):
            actions.append({"label": _("Accept and capitalise"),
                            "url": reverse("assets:constructionproject_accept", args=[obj.pk]), "method": "get",
                            "style": "primary"})
        return actions


class ConstructionCostEntity(e.Entity):
    """在建工程 cost entries (AST-15): voided with a reason, never edited or deleted."""

    model = ConstructionCost
    menu = e.Menu("assets", gettext_lazy("Construction costs"), order=14)
    path = "construction-costs"
    list_columns = ("spent_on", "project", "description", "amount", "invoice_no", "voucher_no", "recorded_by")
    search_fields = ("description", "invoice_no", "voucher_no", "project__number", "project__name")
    filter_fields = ("project", "spent_on")
    form_fields = ("project", "spent_on", "amount", "description", "invoice_no", "voucher_no")
    deletion = e.VOID
    can_edit = False  # a wrong entry is voided and entered again
    can_import = False
    select_related = ("project", "recorded_by")
    title_field = "description"

    def create(self, *, data, actor, school):
        from .services import intangibles

        return intangibles.cost_create(school=school, actor=actor, data=data)

    def void(self, *, obj, reason, actor):
        from .services import intangibles

        return intangibles.cost_void(cost=obj, actor=actor, reason=reason)


def register() -> None:
    """Declare the AST-15 entities, roles and the daily licence reminder (from ``AssetsConfig.ready``)."""
    global _registered
    if _registered:
        return
    _registered = True
    from houqin.core.registry import PeriodicJob, registry

    from .services import intangibles
    from .views_intangibles import (
        IntangibleDetailView,
        ProjectDetailView,
        with_intangible_api,
        with_project_api,
    )

    IntangibleAssetEntity.views = {"detail": IntangibleDetailView}
    ConstructionProjectEntity.views = {"detail": ProjectDetailView}
    ConstructionProjectEntity.workflow = intangibles.project_flow
    e.register(IntangibleAssetEntity)
    e.register(ConstructionProjectEntity)
    e.register(ConstructionCostEntity)
    IntangibleAssetEntity.viewset_class = with_intangible_api(IntangibleAssetEntity.viewset_class)  # book, dispose
    ConstructionProjectEntity.viewset_class = with_project_api(ConstructionProjectEntity.viewset_class)  # accept

    e.not_an_entity("assets.amortisationline", "one intangible asset's monthly amortisation: written by the "
                                               "monthly run, shown on the asset's page and in the 折旧计提表")

    models = ("intangibleasset", "constructionproject", "constructioncost")
    view = [f"assets.view_{m}" for m in models]
    registry.grant(["asset_keeper", "logistics_director"], view + [
        f"assets.{a}_{m}" for a in ("add", "change") for m in models] + [
        "assets.void_constructioncost", "assets.accept_constructionproject", "assets.dispose_intangibleasset"])
    registry.grant(["principal", "vice_principal", "accountant", "cashier", "bureau", "sysadmin"], view)
    registry.grant(["accountant"], ["assets.book_intangibleasset"])
    registry.add_periodic(PeriodicJob("assets.licence_reminders", intangibles.licence_reminders_job,
                                      every_minutes=1440))
