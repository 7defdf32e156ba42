from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    """AST: fixed-asset cards, the asset journal, lifecycle documents, low-value items, stocktakes, handovers."""

    name = "houqin.assets"
    label = "assets"
    verbose_name = _("Fixed assets")

    def ready(self) -> None:
        from houqin.approvals.registry import register_document
        from houqin.core import entities as e
        from houqin.core.entities import not_an_entity
        from houqin.core.permissions import register_row_rule
        from houqin.core.registry import DemoGenerator, Widget, registry

        registry.menu_group("assets", _("Fixed assets"), order=30)
        from . import (
            demo,
            entities,  # noqa: F401 - registers the asset entities and their menu entries
            entities_closing,
            selectors,
        )

        entities_closing.register()  # the monthly close (AST-7, AST-10)
        from .entities_intangibles import register as register_intangibles  # AST-15
        register_intangibles()
        __import__("houqin.assets.entities_reports", fromlist=["register"]).register()  # reports (AST-1/10/12)
        __import__("houqin.assets.entities_contracting", fromlist=["register"]).register()  # AST-5, AST-6
        __import__("houqin.assets.entities_leases", fromlist=["register"]).register()  # idle, leases (AST-8)
        from .models import Asset, AssetDisposal, AssetLoan, AssetMove, LowValueItem
        from .services import documents

        for label, reason in (
            ("assets.assetmoveline", "the lines of an issue/transfer: written with the move, shown on its page"),
            ("assets.assetdisposalline", "the lines of a disposal: written with it, shown on its page"),
            ("assets.counter", "number sequences for asset codes and document numbers: internal"),
            ("assets.stocktakeline", "the lines of a stocktake: written by its start and by scans, shown on "
                                     "its counting page and its 盘盈盘亏 report"),
            ("assets.handoverline", "the lines of a handover: written with it, ticked on its page"),
        ):
            not_an_entity(label, reason)

        register_row_rule(Asset, selectors.holding_row_rule)
        register_row_rule(LowValueItem, selectors.holding_row_rule)
        register_row_rule(AssetLoan, selectors.loan_row_rule)

        # Approval only where the school's policy asks: with no policy a move posts at once.
        register_document(AssetMove, approve=documents.move_approve, amount=lambda d: d.total_value,
                          owner=lambda d: d.requested_by, department=lambda d: d.to_department)
        register_document(AssetDisposal, amount=lambda d: d.total_original_value, owner=lambda d: d.requested_by,
                          department=lambda d: d.department, reject=documents.disposal_reject)

        models = ["asset", "lowvalueitem", "assetcategory", "fundingproject", "assetmovement", "assetmove",
                  "assetloan", "assetrepair", "assetdisposal", "assetsettings", "stocktake", "handover",
                  "accountingperiod", "depreciationrun"]
        view_all = [f"assets.view_{m}" for m in models]
        manage = [f"assets.{a}_{m}" for a in ("add", "change") for m in models if m != "assetmovement"]
        keepers = ["asset_keeper", "logistics_director"]
        registry.grant(keepers, view_all + manage + [
            "assets.print_labels", "assets.count_stocktake"])
        registry.grant(["logistics_director", "principal", "vice_principal"], [
            "assets.approve_assetmove", "assets.approve_assetdisposal", "assets.approve_stocktake"])
        registry.grant(["principal", "vice_principal", "accountant", "cashier", "bureau", "sysadmin"], view_all)
        registry.grant(["logistics_clerk"], view_all + [
            "assets.add_assetloan", "assets.change_assetloan", "assets.add_assetmove", "assets.add_assetrepair",
            "assets.change_assetrepair", "assets.count_stocktake", "assets.print_labels"])
        # The monthly close (AST-7, AST-10): the asset side runs depreciation and signs; finance enters its
        # vouchers and balances and signs its side; the asset side closes the month.
        registry.grant(keepers, ["assets.close_accountingperiod", "assets.add_depreciationrun"])
        registry.grant(["accountant"], ["assets.book_asset", "assets.sign_finance", "assets.view_accountingperiod",
                                        "assets.view_depreciationrun"])
        registry.grant(["sysadmin"], ["assets.change_assetsettings", "assets.change_assetcategory",
                                      "assets.add_assetcategory"])
        # Everyone who may hold things sees what they keep and what they borrowed (the row rules).
        holders = [c for c in registry.roles if c not in ("outsourced", "bureau")]
        registry.grant(holders, ["assets.view_asset", "assets.view_lowvalueitem", "assets.view_assetloan"])
        registry.grant(["group_head"], ["assets.count_stocktake"])

        registry.add_widget(Widget("assets.overview", _("Fixed assets"), "assets/widget_overview.html",
                                   selectors.value_by_category_widget, order=30))
        registry.add_widget(Widget("assets.my_holdings", _("What I hold"), "assets/widget_my_holdings.html",
                                   selectors.my_holdings_widget, order=31))

        registry.add_demo(DemoGenerator("assets", demo.generate, order=50))

        # PUB-3, AST-1, AST-2: cards, labels, door lists and the ledger are printed from one page.
        from houqin.core.registry import MenuItem

        registry.menu_item("assets", MenuItem(_("Print cards, labels and lists"), "assets:print_center",
                                              perm="assets.view_asset", order=15))

        # AST-14: a leaving person's account is not disabled while they still hold anything.
        from .services.handover import leave_blocker

        if leave_blocker not in registry.leave_blockers:
            registry.leave_blockers.append(leave_blocker)

        # AST-2: each room's page shows its assets, each person's page what they hold.
        from houqin.org.models import Room, Staff

        for model, accessor_assets, accessor_items in ((Room, "asset_set", "lowvalueitem_set"),
                                                       (Staff, "asset_set", "lowvalueitem_set")):
            entity = e.registry[model]
            declared = entity.detail_panels or (e.Fields(*dict.fromkeys(entity.list_columns + entity.form_fields)),)
            entity.detail_panels = (*declared,
                                    e.Related(accessor_assets, title=_("Fixed assets"),
                                              columns=("code", "name", "quantity", "original_value", "custodian",
                                                       "status"), limit=50),
                                    e.Related(accessor_items, title=_("Low-value items"),
                                              columns=("code", "name", "quantity", "custodian", "status"),
                                              limit=50))
