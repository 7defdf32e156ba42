"""Intangible assets and construction in progress (AST-15).

- 无形资产卡片 (``IntangibleAsset``): software licences, land use rights, patents, amortised straight line
  by month (《政府会计准则第4号——无形资产》), with the monthly charges in ``AmortisationLine``.
- 在建工程 (``ConstructionProject`` with its ``ConstructionCost`` entries): e.g. a roof waterproofing; on
  acceptance (转固) the project's cost is added to the building card's original value through the asset
  journal, or becomes a new self-built card.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from houqin.core.models import SchoolScopedModel, VoidableMixin

from ..choices import FundingSource
from .cards import Asset, AssetCategory
from .ledger import AccountingPeriod


class IntangibleAsset(SchoolScopedModel):
    """无形资产卡片 (AST-15), the paper 无形资产登记簿: a software licence, a land use right, a patent.

    《政府会计准则第4号——无形资产》: amortised straight line by month, no residual value, from the month it is
    ready for use (当月增加当月摊销、当月减少当月不摊销); an intangible asset whose useful life cannot be
    estimated (使用年限不确定) is not amortised. ``accumulated_amortisation`` is a cache of the opening
    balance plus the active monthly charges, written by ``services.intangibles.amortise_month``.
    """

    class Kind(models.TextChoices):
        SOFTWARE = "software", _("Software licence")
        LAND_USE = "land_use", _("Land use right")
        PATENT = "patent", _("Patent")
        OTHER = "other", _("Other intangible asset")

    class Booking(models.TextChoices):
        PENDING = "pending", _("Awaiting booking")
        BOOKED = "booked", _("Booked")

    code = models.CharField(_("asset code"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SOFTWARE)
    original_value = models.DecimalField(_("original value"), max_digits=14, decimal_places=2,
                                         validators=[MinValueValidator(Decimal("0.01"))])
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices,
                                      default=FundingSource.FISCAL)
    acquired_on = models.DateField(_("acquired on"))
    in_service_on = models.DateField(_("ready for use on"), null=True, blank=True,
                                     help_text=_("Amortisation starts in this month. Empty: the acquisition date."))
    indefinite_life = models.BooleanField(
        _("indefinite useful life"), default=False,
        help_text=_("The useful life cannot be estimated: not amortised (Government Accounting Standard No. 4)."))
    life_months = models.PositiveSmallIntegerField(_("amortisation period (months)"), null=True, blank=True)
    supplier = models.CharField(_("supplier"), max_length=100, blank=True)
    licence_no = models.CharField(_("licence key / certificate number"), max_length=100, blank=True)
    contract_no = models.CharField(_("contract number"), max_length=40, blank=True)
    licence_expires_on = models.DateField(_("licence expires on"), null=True, blank=True,
                                          help_text=_("The asset keeper is reminded 30 days before."))
    # The expiry date the keeper was last reminded of: the daily job reminds once per expiry date.
    expiry_reminded_for = models.DateField(_("expiry reminder sent for"), null=True, blank=True, editable=False)
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("department"))
    # 入账 (AST-10): 待入账 until the accountant books it and enters the voucher number.
    booking = models.CharField(_("booking status"), max_length=8, choices=Booking.choices, default=Booking.PENDING)
    voucher_no = models.CharField(_("voucher number"), max_length=40, blank=True)
    booked_on = models.DateField(_("booked on"), null=True, blank=True)
    accumulated_amortisation = models.DecimalField(_("accumulated amortisation"), max_digits=14, decimal_places=2,
                                                   default=0, editable=False)
    # 当月减少当月不摊销: no charge in the month of disposal or after it.
    disposed_on = models.DateField(_("disposed on"), null=True, blank=True, editable=False)
    disposal_reason = models.CharField(_("disposal reason"), max_length=200, blank=True, editable=False)
    # Cut-over (期初): balances taken from the old ledger; charging resumes the month after ``opening_on``.
    opening_on = models.DateField(_("opening balance date"), null=True, blank=True)
    opening_amortisation = models.DecimalField(_("opening accumulated amortisation"), max_digits=14,
                                               decimal_places=2, null=True, blank=True,
                                               validators=[MinValueValidator(Decimal("0"))])
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("intangible asset")
        verbose_name_plural = _("intangible assets")
        ordering = ("code",)
        permissions = [
            ("book_intangibleasset", "Can enter the finance voucher of an intangible asset"),
            ("dispose_intangibleasset", "Can record the disposal of an intangible asset"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="assets_intangible_unique_code"),
            models.CheckConstraint(condition=Q(original_value__gt=0), name="assets_intangible_value_positive"),
            # 准则4号: a finite life is amortised over its months; only an indefinite life has none.
            models.CheckConstraint(condition=Q(indefinite_life=True) | Q(life_months__gt=0),
                                   name="assets_intangible_life_or_indefinite"),
        ]
        indexes = [models.Index(fields=["school", "licence_expires_on"], name="assets_intangible_expiry")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    def clean(self) -> None:
        errors = {}
        if not self.indefinite_life and not self.life_months:
            errors["life_months"] = _("Give the amortisation period in months, or tick “indefinite useful life” "
                                      "(Government Accounting Standard No. 4: only those are not amortised).")
        if self.indefinite_life and self.life_months:
            errors["life_months"] = _("An intangible asset with an indefinite useful life has no amortisation "
                                      "period: leave it empty.")
        if (self.opening_on is None) != (self.opening_amortisation is None):
            errors["opening_amortisation"] = _("Give both the opening balance date and the opening accumulated "
                                               "amortisation, or neither.")
        elif (self.opening_amortisation is not None and self.original_value is not None
              and self.opening_amortisation > self.original_value):
            errors["opening_amortisation"] = _("The opening accumulated amortisation cannot exceed the original "
                                               "value.")
        start = self.in_service_on or self.acquired_on
        if self.in_service_on and self.acquired_on and self.in_service_on < self.acquired_on:
            errors["in_service_on"] = _("It cannot be ready for use before it was acquired.")
        if self.opening_on and start and self.opening_on < start:
            errors["opening_on"] = _("The opening balance date cannot be before the asset was ready for use.")
        if self.licence_expires_on and start and self.licence_expires_on < start:
            errors["licence_expires_on"] = _("The licence cannot expire before the asset was ready for use.")
        if errors:
            raise ValidationError(errors)

    @property
    def net_value(self) -> Decimal:
        return self.original_value - (self.accumulated_amortisation or 0)


class AmortisationLine(models.Model):
    """One intangible asset's 摊销 in one month (AST-15), written by ``amortise_month``.

    Re-running an open month voids the month's active lines (kept, with the reason) and writes new ones;
    the intangible's cached accumulated amortisation follows the active lines only.
    """

    school = models.ForeignKey("org.School", on_delete=models.PROTECT, verbose_name=_("school"))
    period = models.ForeignKey(AccountingPeriod, on_delete=models.PROTECT, related_name="amortisation_lines",
                               verbose_name=_("period"))
    intangible = models.ForeignKey(IntangibleAsset, on_delete=models.PROTECT, related_name="amortisation_lines",
                                   verbose_name=_("intangible asset"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    accumulated_after = models.DecimalField(_("accumulated amortisation after"), max_digits=14, decimal_places=2)
    # Dimensions of the 折旧计提表 (as at the run).
    kind = models.CharField(_("kind"), max_length=10, choices=IntangibleAsset.Kind.choices)
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices)
    final = models.BooleanField(_("fully amortised with this charge"), default=False)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("run by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("amortisation line")
        verbose_name_plural = _("amortisation lines")
        ordering = ("period", "intangible")
        constraints = [
            models.UniqueConstraint(fields=["period", "intangible"], condition=Q(voided_at__isnull=True),
                                    name="assets_amortisation_one_active_line"),
        ]
        indexes = [models.Index(fields=["intangible", "period"], name="assets_amortline_intangible")]

    def __str__(self) -> str:
        return f"{self.period} {self.intangible_id} {self.amount}"


class ConstructionProject(SchoolScopedModel):
    """在建工程 (AST-15): a project whose costs build up until acceptance (竣工验收), then 转固.

    On acceptance the total of the active cost entries is added to the target building card's original
    value (改建、扩建 of 房屋及构筑物, a 转固 row in the asset journal, depreciation rebased), or, without a
    target card, becomes a new self-built card in ``new_card_category``.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("In progress")
        ACCEPTED = "accepted", _("Accepted and capitalised")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("project number"), max_length=20, blank=True, editable=False)
    name = models.CharField(_("project name"), max_length=100)
    target_card = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="construction_projects", verbose_name=_("building card"),
                               help_text=_("The building or structure whose value the cost is added to. Empty: "
                                           "a new card is created on acceptance."))
    new_card_category = models.ForeignKey(AssetCategory, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", verbose_name=_("category of the new card"),
                                          help_text=_("Only when there is no building card: the category of "
                                                      "the card created on acceptance."))
    contractor = models.CharField(_("contractor"), max_length=100, blank=True)
    contract_no = models.CharField(_("contract number"), max_length=40, blank=True)
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, null=True, blank=True,
                                 validators=[MinValueValidator(Decimal("0"))])
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices,
                                      default=FundingSource.FISCAL)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # Cache of the active cost entries' total, written with each entry and void (the selector recomputes it).
    cost_total = models.DecimalField(_("cost to date"), max_digits=14, decimal_places=2, default=0, editable=False)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True, editable=False)
    acceptance_doc_no = models.CharField(_("acceptance document number"), max_length=60, blank=True,
                                         editable=False)
    capitalised_value = models.DecimalField(_("capitalised value"), max_digits=14, decimal_places=2, null=True,
                                            blank=True, editable=False)
    card = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             editable=False, verbose_name=_("capitalised into"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", editable=False, verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("construction project")
        verbose_name_plural = _("construction in progress")
        ordering = ("-id",)
        permissions = [("accept_constructionproject", "Can accept a construction project and capitalise it")]
        constraints = [
            models.UniqueConstraint(fields=["school", "number"], condition=~Q(number=""),
                                    name="assets_construction_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()

    def clean(self) -> None:
        if self.target_card_id is None and self.new_card_category_id is None:
            raise ValidationError({"target_card": _(
                "Choose the building card the cost is added to, or the category of the new card to create on "
                "acceptance.")})
        if self.target_card_id is not None and self.new_card_category_id is not None:
            raise ValidationError({"new_card_category": _("A project with a building card creates no new card: "
                                                          "leave the category empty.")})


class ConstructionCost(SchoolScopedModel, VoidableMixin):
    """One cost of a 在建工程 (AST-15): a progress payment, materials, supervision — with its invoice and
    voucher. Voided with a reason, never deleted; a closed month refuses entries dated in it."""

    project = models.ForeignKey(ConstructionProject, on_delete=models.PROTECT, related_name="costs",
                                verbose_name=_("construction project"))
    spent_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    description = models.CharField(_("description"), max_length=200)
    invoice_no = models.CharField(_("invoice number"), max_length=40, blank=True)
    voucher_no = models.CharField(_("voucher number"), max_length=40, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", editable=False, verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("construction cost")
        verbose_name_plural = _("construction costs")
        ordering = ("-spent_on", "-id")
        permissions = [("void_constructioncost", "Can void a construction cost entry")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="assets_construction_cost_positive")]
        indexes = [models.Index(fields=["project", "voided_at"], name="assets_construction_cost_proj")]

    def __str__(self) -> str:
        return f"{self.spent_on} {self.description}"

    str_fields = ("spent_on", "description")  # what __str__ reads (lists load only these)
