"""The asset reports on the shell (AST-1, AST-10, AST-12): the 财政 export layout as an entity, the report
menu entries and who may see them. ``register()`` is called from ``AssetsConfig.ready``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core import entities as e

from . import fiscal_export
from .models import FiscalExportColumn

# Who reads the asset reports (issue 6) and who keeps the 财政 export layout.
REPORT_ROLES = ("asset_keeper", "logistics_director", "accountant", "principal", "vice_principal", "bureau")
LAYOUT_ROLES = ("asset_keeper", "logistics_director")


class FiscalExportColumnForm(e.EntityForm):
    """The column form: the card field is chosen from ``fiscal_export.FIELDS``; any other name is refused with
    a message next to the field (the page and the API use this form)."""

    field = forms.ChoiceField(
        label=gettext_lazy("Card field"), choices=lambda: [("", "---------"), *fiscal_export.field_choices()],
        help_text=gettext_lazy("The card field written in this column of the export."),
        error_messages={"invalid_choice": gettext_lazy("“%(value)s” is not a card field the export knows: choose "
                                                       "one of the list."),
                        "required": gettext_lazy("Choose the card field.")})

    class Meta:
        model = FiscalExportColumn
        fields = ("position", "header", "field")
        help_texts = {"position": gettext_lazy("1 is the first column of the template."),
                      "header": gettext_lazy("Exactly as the province's template has it, e.g. 资产编号.")}


@e.register
class FiscalExportColumnEntity(e.Entity):
    """One column of the province's 财政 asset import template, mapped to a card field (AST-10)."""

    model = FiscalExportColumn
    menu = e.Menu("assets", gettext_lazy("Fiscal export layout"), order=93)
    path = "fiscal-columns"
    list_columns = ("position", "header", "field_label")
    extra_columns = ("field",)
    search_fields = ("header", "field")
    form_fields = ("position", "header", "field")
    ordering = ("position",)
    title_field = "header"
    deletion = e.DELETE  # a settings-like list the school edits; each removal is audited
    can_import = False  # the default layout is loaded by one action on the export page
    detail_panels = (e.Fields("position", "header", "field", "field_label"),)
    form_class = FiscalExportColumnForm

    def header_field_label(self):
        return _("Card field")

    def value_field_label(self, obj, user):
        return fiscal_export.field_label(obj.field)

    def create(self, *, data, actor, school):
        return fiscal_export.column_create(school=school, actor=actor, data=data)

    def update(self, *, obj, data, actor):
        return fiscal_export.column_update(column=obj, actor=actor, data=data)


def register() -> None:
    """Menu entries of the reports and the grants (called once from ``AssetsConfig.ready``)."""
    from houqin.core.registry import MenuItem, registry

    perm = "assets.view_fiscalexportcolumn"  # = views_reports.REPORTS_PERM
    for label, url_name, order in (
        (gettext_lazy("General ledger"), "assets:report_ledger", 60),
        (gettext_lazy("Training equipment value"), "assets:report_training", 61),
        (gettext_lazy("Equipment value per student"), "assets:report_per_student", 62),
        (gettext_lazy("Export for the fiscal asset system"), "assets:report_fiscal_export", 63),
    ):
        registry.menu_item("assets", MenuItem(label, url_name, perm=perm, order=order))
    registry.grant(REPORT_ROLES, [perm])
    registry.grant(LAYOUT_ROLES, ["assets.add_fiscalexportcolumn", "assets.change_fiscalexportcolumn",
                                  "assets.delete_fiscalexportcolumn"])
