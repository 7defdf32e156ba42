"""Asset cards, their categories, the low-value register and the asset journal (AST-1, AST-2, AST-11)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from houqin.core.models import BaseModel, SchoolScopedModel

from .. import rules
from ..choices import AccountingClass, Acquisition, FundingSource, UseStatus, ValuationType


class AssetSettings(SchoolScopedModel):
    """A school's own asset rules; national defaults come from ``assets.rules`` (domain-rules.md §2)."""

    code_prefix = models.CharField(_("asset code prefix"), max_length=10, blank=True,
                                   help_text=_("New cards are numbered prefix + year + sequence; empty: the school code."))
    capitalise_threshold = models.DecimalField(
        _("capitalisation threshold"), max_digits=12, decimal_places=2, default=rules.CAPITALISE_THRESHOLD,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Single items below this value go to the low-value register (¥1,000 by the 2022 rules)."))
    disposal_single_limit = models.DecimalField(
        _("disposal limit per item"), max_digits=14, decimal_places=2, default=rules.DISPOSAL_SINGLE_LIMIT,
        help_text=_("Disposals above it are reviewed by the bureau and approved by finance."))
    disposal_batch_limit = models.DecimalField(
        _("disposal limit per batch"), max_digits=14, decimal_places=2, default=rules.DISPOSAL_BATCH_LIMIT)
    contracting_enabled = models.BooleanField(
        _("class contracting"), default=True,
        help_text=_("Classes sign for their rooms' desks, stools, doors and windows each term (AST-6)."))

    class Meta:
        verbose_name = _("asset settings")
        verbose_name_plural = _("asset settings")
        constraints = [models.UniqueConstraint(fields=["school"], name="assets_settings_one_per_school")]

    def __str__(self) -> str:
        return str(_("Asset settings"))


class AssetCategory(SchoolScopedModel):
    """A GB/T 14885-2022 category (domain-rules.md §2.2), with its default life from the school table (§2.3)."""

    code = models.CharField(_("category code"), max_length=20)
    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent category"))
    accounting_class = models.CharField(_("accounting class"), max_length=10, choices=AccountingClass.choices)
    default_life_years = models.PositiveSmallIntegerField(
        _("useful life (years)"), null=True, blank=True, help_text=_("Empty: not depreciated."))
    capitalise_threshold = models.DecimalField(
        _("capitalisation threshold"), max_digits=12, decimal_places=2, null=True, blank=True,
        help_text=_("Empty: the school's threshold. Some provinces keep ¥1,500 for special equipment."))
    legacy_code = models.CharField(_("legacy code (GB/T 14885-2010)"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("asset category")
        verbose_name_plural = _("asset categories")
        ordering = ("code",)
        constraints = [models.UniqueConstraint(fields=["school", "code"], name="assets_category_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    str_fields = ("code", "name")  # what __str__ reads (lists load only these)

    @property
    def depreciable(self) -> bool:
        from ..choices import NON_DEPRECIABLE_CLASSES

        return bool(self.default_life_years) and self.accounting_class not in NON_DEPRECIABLE_CLASSES


class FundingProject(SchoolScopedModel):
    """A funded project (e.g. a 专项资金 实训基地 project) that assets are tracked against (AST-12)."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("project code"), max_length=40, blank=True)
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices,
                                      default=FundingSource.SPECIAL)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   verbose_name=_("department"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("funding project")
        verbose_name_plural = _("funding projects")
        ordering = ("-year", "name")
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="assets_project_unique_name")]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)


class Holding(SchoolScopedModel):
    """What cards and low-value items share: where they are, who keeps them, their state (from the journal)."""

    # school: no index of its own; the (school, code) unique index (and the card's (school, status) and
    # (school, category)) serve a lookup by school alone (100k cards imported: 0.08 s less with the lock held).
    school = models.ForeignKey("org.School", on_delete=models.PROTECT, db_index=False, verbose_name=_("school"))
    code = models.CharField(_("asset code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    spec = models.CharField(_("specification / model"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=10, default="台")
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    # Derived from the journal (AssetMovement) and cached here in the posting transaction.
    # room and custodian: no index of their own; each concrete model's (room, status) and (custodian, status)
    # indexes serve a lookup by either alone (one index fewer to keep per insert: cut-over imports, issue 5).
    room = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, db_index=False,
                             related_name="%(class)s_set", verbose_name=_("place"))
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="%(class)s_set", verbose_name=_("department"))
    custodian = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, db_index=False,
                                  related_name="%(class)s_set", verbose_name=_("custodian"))
    status = models.CharField(_("status"), max_length=10, choices=UseStatus.choices, default=UseStatus.IN_STORE)
    search_keys = models.CharField(_("pinyin"), max_length=200, blank=True, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        abstract = True


class Asset(Holding):
    """固定资产卡片 (AST-1; card fields from domain-rules.md §2.5). One card may be a batch (quantity > 1)."""

    class Booking(models.TextChoices):
        PENDING = "pending", _("Awaiting booking")
        BOOKED = "booked", _("Booked")

    finance_code = models.CharField(_("finance asset code"), max_length=40, blank=True)
    # category: no index of its own, the (school, category) index serves a lookup by category (a category is one
    # school's); project: a partial index, of the few cards with one (assets.0011: two index entries fewer per card
    # a cut-over import writes with the lock held, issue 5).
    category = models.ForeignKey(AssetCategory, on_delete=models.PROTECT, related_name="assets", db_index=False,
                                 verbose_name=_("category"))
    accounting_class = models.CharField(_("accounting class"), max_length=10, choices=AccountingClass.choices)
    brand = models.CharField(_("brand"), max_length=60, blank=True)
    original_value = models.DecimalField(_("original value"), max_digits=14, decimal_places=2)
    valuation_type = models.CharField(_("valuation type"), max_length=12, choices=ValuationType.choices,
                                      default=ValuationType.COST)
    funding_source = models.CharField(_("funding source"), max_length=10, choices=FundingSource.choices,
                                      default=FundingSource.FISCAL)
    project = models.ForeignKey(FundingProject, on_delete=models.PROTECT, null=True, blank=True, related_name="assets",
                                db_index=False, verbose_name=_("funding project"))
    acquisition = models.CharField(_("acquisition method"), max_length=12, choices=Acquisition.choices,
                                   default=Acquisition.PURCHASE)
    acquired_on = models.DateField(_("acquired on"))
    in_service_on = models.DateField(_("in service on"), null=True, blank=True)
    supplier = models.CharField(_("supplier"), max_length=100, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    invoice_no = models.CharField(_("invoice number"), max_length=40, blank=True)
    contract_no = models.CharField(_("contract number"), max_length=40, blank=True)
    warranty_until = models.DateField(_("warranty until"), null=True, blank=True)
    life_months = models.PositiveSmallIntegerField(_("useful life (months)"), null=True, blank=True)
    # A life longer than the category's table needs a reason; a shorter one is refused (§2.3).
    life_reason = models.CharField(_("reason for the longer life"), max_length=200, blank=True)
    # Cache of opening depreciation + the active monthly runs, written by the run in its transaction (AST-9).
    accumulated_depreciation = models.DecimalField(_("accumulated depreciation"), max_digits=14, decimal_places=2,
                                                   default=0)
    # Cache of the date of the journal's disposal row: the run skips the month of disposal (当月减少当月不提).
    disposed_on = models.DateField(_("disposed on"), null=True, blank=True)
    # A value change after service start (在建工程转固 adds the project's cost, AST-15): from the month of
    # ``rebased_on`` the remaining value is spread over the remaining life; ``rebased_accumulated`` is the
    # accumulated depreciation before that month.
    rebased_on = models.DateField(_("depreciation rebased on"), null=True, blank=True)
    rebased_accumulated = models.DecimalField(_("accumulated depreciation at the rebase"), max_digits=14,
                                              decimal_places=2, null=True, blank=True)
    # 入账 (AST-10): 待入账 until finance books it; the voucher comes back in Fixed assets II.
    booking = models.CharField(_("booking status"), max_length=8, choices=Booking.choices, default=Booking.PENDING)
    voucher_no = models.CharField(_("voucher number"), max_length=40, blank=True)
    booked_on = models.DateField(_("booked on"), null=True, blank=True)
    # Cut-over (期初): balances taken from the old ledger, never recomputed from history.
    opening_on = models.DateField(_("opening balance date"), null=True, blank=True)
    opening_depreciation = models.DecimalField(_("opening accumulated depreciation"), max_digits=14,
                                               decimal_places=2, null=True, blank=True)
    opening_net_value = models.DecimalField(_("opening net value"), max_digits=14, decimal_places=2,
                                            null=True, blank=True)
    legacy_category_code = models.CharField(_("legacy category code"), max_length=20, blank=True)
    historic = models.BooleanField(_("historic data"), default=False)
    historic_warnings = models.CharField(_("historic data warnings"), max_length=300, blank=True)
    # For buildings (domain-rules.md §2.5): the structure drives the 50/30-year life.
    area = models.DecimalField(_("area (m²)"), max_digits=10, decimal_places=2, null=True, blank=True)
    title_no = models.CharField(_("title certificate number"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("fixed asset")
        verbose_name_plural = _("fixed assets")
        ordering = ("code",)
        permissions = [
            ("print_labels", "Can print asset labels and cards"),
            ("book_asset", "Can enter the finance voucher of an asset"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="assets_asset_unique_code"),
            models.UniqueConstraint(fields=["school", "finance_code"], condition=~Q(finance_code=""),
                                    name="assets_asset_unique_finance_code"),
            models.CheckConstraint(condition=Q(original_value__gt=0), name="assets_asset_value_positive"),
        ]
        indexes = [
            models.Index(fields=["school", "status"], name="assets_asset_status"),
            models.Index(fields=["room", "status"], name="assets_asset_room"),
            models.Index(fields=["custodian", "status"], name="assets_asset_custodian"),
            # The list's commonest filter, 在用 cards of a category, ends in the list's order: the page's ids are
            # read in order from this index alone and its capped count never reads a card (100,000 cards: the
            # count 0.59 → 0.09 ms in a request; a deep page of the filter 3.3 → 0.05 ms; a category of few
            # cards no longer needs paging's sorted read to avoid walking the code index). It serves
            # (school, category) lookups too. Made with statistics (migration 0013): with statistics for the
            # other indexes only, SQLite took it for the plain list and sorted 100,000 cards (12 ms).
            models.Index(fields=["school", "category", "status", "code"], name="assets_asset_cat_status"),
            models.Index(fields=["project"], name="assets_asset_project", condition=Q(project__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    str_fields = ("code", "name")  # what __str__ reads (lists load only these)

    @property
    def net_value(self):
        return self.original_value - (self.accumulated_depreciation or 0)

    @property
    def owned(self) -> bool:
        """校企合作 equipment is tracked but not owned: it is not on the school's books (AST-12)."""
        return self.acquisition != Acquisition.PARTNER_LENT


class LowValueItem(Holding):
    """低值耐用品 (AST-11): fans, kettles, tools, mice — with custodians, issued and returned in two taps."""

    category = models.ForeignKey(AssetCategory, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="low_value_items", verbose_name=_("category"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2,
                                     validators=[MinValueValidator(Decimal("0.01"))])
    acquired_on = models.DateField(_("acquired on"))

    class Meta:
        verbose_name = _("low-value item")
        verbose_name_plural = _("low-value items")
        ordering = ("code",)
        constraints = [models.UniqueConstraint(fields=["school", "code"], name="assets_lowvalue_unique_code")]
        indexes = [models.Index(fields=["custodian", "status"], name="assets_lowvalue_custodian"),
                   models.Index(fields=["room", "status"], name="assets_lowvalue_room")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    str_fields = ("code", "name")  # what __str__ reads (lists load only these)

    @property
    def total_value(self) -> Decimal:
        return self.unit_price * self.quantity


class AssetMovement(models.Model):
    """The asset journal (AST-3 增减): append-only; a card's place, custodian and status come from it.

    Each row names one card or one low-value item and records the state before and after, so the
    current state is the ``*_after`` of the latest row and any correction is a new (reversing) row.
    """

    class Kind(models.TextChoices):
        OPENING = "opening", _("Opening balance")
        REGISTER = "register", _("Registered")
        ISSUE = "issue", _("Issued")
        RETURN = "return", _("Returned to store")
        TRANSFER = "transfer", _("Transferred")
        LEND = "lend", _("Lent")
        GIVE_BACK = "give_back", _("Given back")
        REPAIR_OUT = "repair_out", _("Sent for repair")
        REPAIR_BACK = "repair_back", _("Back from repair")
        DISPOSING = "disposing", _("Disposal submitted")
        DISPOSAL_CANCELLED = "undispose", _("Disposal withdrawn")
        DISPOSE = "dispose", _("Disposed of")
        STOCKTAKE = "stocktake", _("Stocktake adjustment")
        HANDOVER = "handover", _("Handed over")
        IDLE = "idle", _("Marked idle")
        REUSE = "reuse", _("Back in use")
        CAPITALISE = "capitalise", _("Capitalised (转固)")
        REVALUE = "revalue", _("Value corrected before booking")
        REVERSAL = "reversal", _("Reversal")

    school = models.ForeignKey("org.School", on_delete=models.PROTECT, verbose_name=_("school"))
    # asset and item: served by the (asset, -id) and (item, -id) indexes below, not one of their own each.
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True, related_name="movements",
                              db_index=False, verbose_name=_("fixed asset"))
    item = models.ForeignKey(LowValueItem, on_delete=models.PROTECT, null=True, blank=True, related_name="movements",
                             db_index=False, verbose_name=_("low-value item"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    happened_on = models.DateField(_("date"))
    quantity = models.IntegerField(_("quantity"), default=0)
    value_change = models.DecimalField(_("value change"), max_digits=14, decimal_places=2, default=0)
    # The *_before columns and reversal_of are empty on most rows (every opening, every card's first row): their
    # indexes are partial (Meta.indexes), so a row without them adds no index entry.
    room_before = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    db_index=False, verbose_name=_("place before"))
    room_after = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("place"))
    department_before = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", db_index=False, verbose_name=_("department before"))
    department_after = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("department"))
    custodian_before = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", db_index=False, verbose_name=_("custodian before"))
    custodian_after = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("custodian"))
    status_before = models.CharField(_("status before"), max_length=10, choices=UseStatus.choices, blank=True)
    status_after = models.CharField(_("status"), max_length=10, choices=UseStatus.choices)
    document = models.CharField(_("document"), max_length=60, blank=True)  # e.g. "调拨单 DB2026-0003"
    document_url = models.CharField(_("document link"), max_length=200, blank=True)
    reversal_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    db_index=False, verbose_name=_("reverses"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("asset journal entry")
        verbose_name_plural = _("asset journal")
        ordering = ("-id",)
        constraints = [
            models.CheckConstraint(
                condition=(Q(asset__isnull=False, item__isnull=True) | Q(asset__isnull=True, item__isnull=False)),
                name="assets_movement_one_subject"),
        ]
        indexes = [
            models.Index(fields=["school", "happened_on"], name="assets_movement_day"),
            # A card's or an item's journal, newest first, at a million rows (bench/assets.py).
            models.Index(fields=["asset", "-id"], name="assets_movement_asset"),
            # Partial indexes of columns empty on most rows (``item``: all but the low-value items' rows): a lookup
            # ``col = x`` (a PROTECT check too) implies ``col IS NOT NULL`` and uses them, on SQLite and PostgreSQL.
            models.Index(fields=["item", "-id"], name="assets_movement_item", condition=Q(item__isnull=False)),
            models.Index(fields=["school", "kind", "-id"], name="assets_movement_kind"),
            models.Index(fields=["room_before"], name="assets_movement_room_before",
                         condition=Q(room_before__isnull=False)),
            models.Index(fields=["department_before"], name="assets_movement_dept_before",
                         condition=Q(department_before__isnull=False)),
            models.Index(fields=["custodian_before"], name="assets_movement_keeper_before",
                         condition=Q(custodian_before__isnull=False)),
            models.Index(fields=["reversal_of"], name="assets_movement_reversal_of",
                         condition=Q(reversal_of__isnull=False)),
        ]

    def __str__(self) -> str:
        subject = self.asset or self.item
        return f"{self.happened_on} {self.get_kind_display()} {subject}"


class Counter(BaseModel):
    """Per-school sequences for asset codes and document numbers (prefix + year + sequence)."""

    school = models.ForeignKey("org.School", on_delete=models.CASCADE, verbose_name=_("school"))
    key = models.CharField(_("sequence"), max_length=20)
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [models.UniqueConstraint(fields=["school", "key", "year"], name="assets_counter_unique")]

    def __str__(self) -> str:
        return f"{self.key}{self.year}-{self.value}"
