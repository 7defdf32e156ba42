"""Lifecycle documents (AST-3): issue/transfer/return, loans, repairs and disposals. Each posts to the journal."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from houqin.core.models import SchoolScopedModel

from .cards import Asset, LowValueItem


class Document(SchoolScopedModel):
    number = models.CharField(_("number"), max_length=20)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("requested by"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.number}"


class AssetMove(Document):
    """领用单 / 调拨单 / 退库单: moves cards to a place, department and custodian (AST-3)."""

    class Kind(models.TextChoices):
        ISSUE = "issue", _("Issue")
        TRANSFER = "transfer", _("Transfer")
        RETURN = "return", _("Return to store")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Awaiting approval")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Sent back")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TRANSFER)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    to_room = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("to place"))
    to_department = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("to department"))
    to_custodian = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("to custodian"))
    moved_on = models.DateField(_("date"))
    total_value = models.DecimalField(_("total value"), max_digits=14, decimal_places=2, default=0)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("asset move")
        verbose_name_plural = _("asset moves")
        ordering = ("-id",)
        permissions = [("approve_assetmove", "Can approve asset moves")]
        constraints = [models.UniqueConstraint(fields=["school", "number"], name="assets_move_unique_number")]


class AssetMoveLine(models.Model):
    """One card on a move, with where it was when the move was written (a changed card refuses the move)."""

    move = models.ForeignKey(AssetMove, on_delete=models.CASCADE, related_name="lines", verbose_name=_("asset move"))
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+", verbose_name=_("fixed asset"))
    from_room = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("from place"))
    from_department = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("from department"))
    from_custodian = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("from custodian"))

    class Meta:
        verbose_name = _("asset move line")
        verbose_name_plural = _("asset move lines")
        constraints = [models.UniqueConstraint(fields=["move", "asset"], name="assets_moveline_unique")]

    def __str__(self) -> str:
        return str(self.asset)


class AssetLoan(SchoolScopedModel):
    """借用 (AST-3, AST-11): a card or a low-value item lent to a person until a due date; 归还 closes it."""

    class Status(models.TextChoices):
        OUT = "out", _("Lent")
        RETURNED = "returned", _("Returned")

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True, related_name="loans",
                              verbose_name=_("fixed asset"))
    item = models.ForeignKey(LowValueItem, on_delete=models.PROTECT, null=True, blank=True, related_name="loans",
                             verbose_name=_("low-value item"))
    borrower = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="asset_loans",
                                 verbose_name=_("borrower"))
    purpose = models.CharField(_("purpose"), max_length=100, blank=True)
    lent_on = models.DateField(_("lent on"))
    due_on = models.DateField(_("due on"))
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OUT)
    condition_note = models.CharField(_("condition on return"), max_length=200, blank=True)
    lent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("lent by"))

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ("-lent_on", "-id")
        constraints = [
            models.CheckConstraint(
                condition=(Q(asset__isnull=False, item__isnull=True) | Q(asset__isnull=True, item__isnull=False)),
                name="assets_loan_one_subject"),
            models.CheckConstraint(condition=Q(due_on__gte=models.F("lent_on")), name="assets_loan_due_after_lent"),
        ]
        indexes = [models.Index(fields=["school", "status", "due_on"], name="assets_loan_open")]

    def __str__(self) -> str:
        return f"{self.asset or self.item} → {self.borrower}"


class AssetRepair(SchoolScopedModel):
    """维修: a card sent out for repair and back (a repair order sets it once the repairs app exists)."""

    class Status(models.TextChoices):
        OUT = "out", _("Under repair")
        BACK = "back", _("Back")
        SCRAPPED = "scrapped", _("Not repairable")

    number = models.CharField(_("number"), max_length=20)
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="repairs", verbose_name=_("fixed asset"))
    fault = models.CharField(_("fault"), max_length=200)
    repairer = models.CharField(_("repaired by"), max_length=100, blank=True)
    sent_on = models.DateField(_("sent on"))
    back_on = models.DateField(_("back on"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, default=0,
                               validators=[MinValueValidator(Decimal("0"))])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OUT)
    result = models.CharField(_("result"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("asset repair")
        verbose_name_plural = _("asset repairs")
        ordering = ("-sent_on", "-id")
        constraints = [models.UniqueConstraint(fields=["school", "number"], name="assets_repair_unique_number")]

    def __str__(self) -> str:
        return f"{self.number} {self.asset}"


class AssetDisposal(Document):
    """报废/处置 (AST-3; domain-rules.md §2.4): collective decision, approval, method, 非税收入 income."""

    class Method(models.TextChoices):
        SCRAP = "scrap", _("Scrap")
        WRITE_OFF = "write_off", _("Write off loss")
        SALE = "sale", _("Sale")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        DONATION = "donation", _("Donation")
        EXCHANGE = "exchange", _("Exchange")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        DONE = "done", _("Written off")
        REJECTED = "rejected", _("Sent back")
        CANCELLED = "cancelled", _("Cancelled")

    class Level(models.TextChoices):
        SCHOOL = "school", _("School, reported to the bureau")
        BUREAU = "bureau", _("Bureau review and finance approval")

    method = models.CharField(_("method"), max_length=12, choices=Method.choices, default=Method.SCRAP)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    reason = models.CharField(_("reason"), max_length=300)
    decision_ref = models.CharField(_("collective decision"), max_length=100, blank=True,
                                    help_text=_("Minutes of the meeting that decided it (三重一大)."))
    approver_level = models.CharField(_("approval level"), max_length=8, choices=Level.choices, default=Level.SCHOOL)
    approval_doc_no = models.CharField(_("approval document number"), max_length=60, blank=True)
    total_original_value = models.DecimalField(_("total original value"), max_digits=14, decimal_places=2, default=0)
    total_net_value = models.DecimalField(_("total net value"), max_digits=14, decimal_places=2, default=0)
    income = models.DecimalField(_("disposal income"), max_digits=12, decimal_places=2, default=0,
                                 validators=[MinValueValidator(Decimal("0"))],
                                 help_text=_("Non-tax revenue to be paid over to the treasury, not school income."))
    income_paid_over_on = models.DateField(_("income paid over on"), null=True, blank=True)
    disposed_on = models.DateField(_("disposed on"), null=True, blank=True)
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("department"))

    class Meta:
        verbose_name = _("asset disposal")
        verbose_name_plural = _("asset disposals")
        ordering = ("-id",)
        permissions = [("approve_assetdisposal", "Can approve asset disposals")]
        constraints = [models.UniqueConstraint(fields=["school", "number"], name="assets_disposal_unique_number")]


class AssetDisposalLine(models.Model):
    disposal = models.ForeignKey(AssetDisposal, on_delete=models.CASCADE, related_name="lines",
                                 verbose_name=_("asset disposal"))
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+", verbose_name=_("fixed asset"))
    original_value = models.DecimalField(_("original value"), max_digits=14, decimal_places=2)
    net_value = models.DecimalField(_("net value"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("disposal line")
        verbose_name_plural = _("disposal lines")
        constraints = [models.UniqueConstraint(fields=["disposal", "asset"], name="assets_disposalline_unique")]

    def __str__(self) -> str:
        return str(self.asset)
