"""The monthly close (AST-7, AST-9, AST-10): periods, depreciation runs, finance balances, the 对账表.

Houqin, the finance office's books (财务软件) and the 财政 asset system must agree every month. A period
(month) is open until the 对账表 is signed by the asset keeper and by the accountant and closed; a closed
month refuses writes (``services.periods.assert_open``) and a correction is a new document in an open
month.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from houqin.core.models import BaseModel, SchoolScopedModel

from ..choices import LEDGER_CLASSES, AccountingClass, FundingSource
from .cards import Asset


class AccountingPeriod(SchoolScopedModel):
    """One month of the asset books of a school."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("accounting period", "Open")
        CLOSED = "closed", pgettext_lazy("accounting period", "Closed")

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    # The 折旧计提表 booked by the accountant in the finance software (AST-7).
    depreciation_voucher_no = models.CharField(_("depreciation voucher number"), max_length=40, blank=True)
    depreciation_booked_on = models.DateField(_("depreciation booked on"), null=True, blank=True)
    # Both signatures on the 对账表 (AST-10): the asset side and the finance side.
    keeper_signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("signed for the assets by"))
    keeper_signed_at = models.DateTimeField(_("asset side signed at"), null=True, blank=True)
    accountant_signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                             blank=True, related_name="+", verbose_name=_("signed for finance by"))
    accountant_signed_at = models.DateTimeField(_("finance side signed at"), null=True, blank=True)
    # Fingerprint of the 对账表 figures signed (services.closing.Statement.digest); a change withdraws them.
    signed_digest = models.CharField(_("signed figures"), max_length=64, blank=True, editable=False)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("closed by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("accounting period")
        verbose_name_plural = _("accounting periods")
        ordering = ("-year", "-month")
        permissions = [
            ("close_accountingperiod", "Can sign for the assets and close a month"),
            ("sign_finance", "Can sign the reconciliation for finance"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["school", "year", "month"], name="assets_period_unique_month"),
            models.CheckConstraint(condition=models.Q(month__gte=1, month__lte=12), name="assets_period_month"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.month:02d}月"

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1


class DepreciationRun(SchoolScopedModel):
    """One computation of a month's depreciation (折旧计提). Re-running an open month voids the previous
    run (kept, with the reason) and posts a new one; the card balances follow the active run."""

    period = models.ForeignKey(AccountingPeriod, on_delete=models.PROTECT, related_name="runs",
                               verbose_name=_("period"))
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("run by"))
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0)
    cards = models.PositiveIntegerField(_("cards"), default=0)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("depreciation run")
        verbose_name_plural = _("depreciation runs")
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(fields=["period"], condition=models.Q(voided_at__isnull=True),
                                    name="assets_depreciation_one_active_run"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {_('depreciation')}"


class DepreciationLine(models.Model):
    """One card's charge in one run, with the dimensions the 折旧计提表 is grouped by (as at the run)."""

    run = models.ForeignKey(DepreciationRun, on_delete=models.PROTECT, related_name="lines",
                            verbose_name=_("depreciation run"))
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="depreciation_lines",
                              verbose_name=_("fixed asset"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    accumulated_after = models.DecimalField(_("accumulated depreciation after"), max_digits=14, decimal_places=2)
    accounting_class = models.CharField(_("accounting class"), max_length=10, choices=AccountingClass.choices)
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices)
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("department"))
    final = models.BooleanField(_("fully depreciated with this charge"), default=False)

    class Meta:
        verbose_name = _("depreciation line")
        verbose_name_plural = _("depreciation lines")
        constraints = [models.UniqueConstraint(fields=["run", "asset"], name="assets_depreciation_line_unique")]
        indexes = [models.Index(fields=["asset", "run"], name="assets_depline_asset")]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.amount}"


class FinanceBalance(BaseModel):
    """The finance ledger's balance (科目余额表) at a month end, by 会计科目 and 资金来源 (AST-10).

    Typed by the accountant or imported from the finance software's Excel; the 对账表 compares
    Houqin's balances with these.
    """

    period = models.ForeignKey(AccountingPeriod, on_delete=models.CASCADE, related_name="finance_balances",
                               verbose_name=_("period"))
    accounting_class = models.CharField(_("accounting class"), max_length=10, choices=LEDGER_CLASSES)
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices)
    original_value = models.DecimalField(_("fixed assets (original value)"), max_digits=16, decimal_places=2,
                                         default=0)
    accumulated_depreciation = models.DecimalField(_("accumulated depreciation"), max_digits=16, decimal_places=2,
                                                   default=0)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("entered by"))

    class Meta:
        verbose_name = _("finance ledger balance")
        verbose_name_plural = _("finance ledger balances")
        constraints = [models.UniqueConstraint(fields=["period", "accounting_class", "funding_source"],
                                               name="assets_finance_balance_unique")]

    def __str__(self) -> str:
        return f"{self.period} {self.get_accounting_class_display()} {self.get_funding_source_display()}"


class ReconciliationNote(BaseModel):
    """The explanation of one difference in a month's 对账表 (a month with unexplained differences does
    not close)."""

    period = models.ForeignKey(AccountingPeriod, on_delete=models.CASCADE, related_name="reconciliation_notes",
                               verbose_name=_("period"))
    accounting_class = models.CharField(_("accounting class"), max_length=10, choices=LEDGER_CLASSES)
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices)
    explanation = models.CharField(_("explanation"), max_length=300)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("written by"))

    class Meta:
        verbose_name = _("reconciliation note")
        verbose_name_plural = _("reconciliation notes")
        constraints = [models.UniqueConstraint(fields=["period", "accounting_class", "funding_source"],
                                               name="assets_reconciliation_note_unique")]

    def __str__(self) -> str:
        return self.explanation

    str_fields = ("explanation",)  # what __str__ reads (lists load only these)


class FiscalExportColumn(SchoolScopedModel):
    """One column of the 财政 asset system's import template (AST-10): provinces differ, so the school
    maps each header of its template to a card field (``services.fiscal_export.FIELDS``)."""

    position = models.PositiveSmallIntegerField(_("position"))
    header = models.CharField(_("column header"), max_length=60)
    field = models.CharField(_("card field"), max_length=40)

    class Meta:
        verbose_name = _("fiscal export column")
        verbose_name_plural = _("fiscal export columns")
        ordering = ("position",)
        constraints = [models.UniqueConstraint(fields=["school", "position"], name="assets_fiscal_column_unique")]

    def __str__(self) -> str:
        return self.header

    str_fields = ("header",)  # what __str__ reads (lists load only these)
