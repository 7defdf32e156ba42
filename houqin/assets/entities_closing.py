"""The monthly close on the entity machinery (AST-7, AST-10): the months of the asset books.

A month's page (``views_closing.PeriodDetailView``) walks the close; the list shows each month's state.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from houqin.core import entities as e

from . import views_closing
from .models import AccountingPeriod
from .services import closing


@e.register
class AccountingPeriodEntity(e.Entity):
    """月末结账: one row per month of the asset books."""

    model = AccountingPeriod
    menu = e.Menu("assets", gettext_lazy("Monthly close"), order=70)
    path = "periods"
    list_columns = ("year", "month", "status", "depreciation_voucher_no", "keeper_signed_by", "accountant_signed_by",
                    "closed_at")
    filter_fields = ("status", "year")
    form_fields = ("year", "month")
    can_edit = False
    can_import = False
    select_related = ("keeper_signed_by", "accountant_signed_by")
    status_colors = {"open": "yellow", "closed": "green"}
    views = {"detail": views_closing.PeriodDetailView}
    detail_panels = (e.Fields("year", "month", "status", "depreciation_voucher_no", "depreciation_booked_on",
                              "keeper_signed_by", "keeper_signed_at", "accountant_signed_by", "accountant_signed_at",
                              "closed_by", "closed_at"),)

    def create(self, *, data, actor, school):
        return closing.period_get(school, data["year"], data["month"], actor=actor)


AccountingPeriodEntity.viewset_class = views_closing.with_period_api(AccountingPeriodEntity.viewset_class)


def register() -> None:
    """Called from AssetsConfig.ready(): the internal rows of the close and the booking page."""
    from django.utils.translation import gettext_lazy as _

    from houqin.core.registry import MenuItem, registry

    for label, reason in (
        ("assets.depreciationrun", "a month's depreciation computation: shown, with its voided predecessors, on the "
                                   "month's page and its 折旧计提表"),
        ("assets.depreciationline", "one card's charge in a run: summed in the 折旧计提表, listed on the card"),
        ("assets.financebalance", "the finance ledger's balances of a month: entered and shown in its 对账表"),
        ("assets.reconciliationnote", "the explanation of one difference: written and shown in the 对账表"),
    ):
        e.not_an_entity(label, reason)
    from houqin.core.registry import DemoGenerator, Widget

    from . import demo, selectors

    registry.add_demo(DemoGenerator("assets_more", demo.more_history, order=90))
    registry.add_demo(DemoGenerator("assets_close", demo.close_history, order=95))

    registry.add_widget(Widget("assets.close", _("Monthly close of the asset books"), "assets/widget_close.html",
                               selectors.close_widget, order=32))
    registry.menu_item("assets", MenuItem(_("Cards awaiting booking"), "assets:booking", perm="assets.view_asset",
                                          order=71))


def _with_booking() -> None:
    from .entities import AssetEntity

    AssetEntity.viewset_class = views_closing.with_booking_api(AssetEntity.viewset_class)


_with_booking()
