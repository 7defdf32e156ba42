"""Stocktakes (AST-4; domain-rules.md §2.6) and staff handovers (AST-14)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from houqin.core.models import SchoolScopedModel

from .cards import Asset, LowValueItem


class Stocktake(SchoolScopedModel):
    """盘点: a plan for a scope; counters scan rooms and assets on phones; the result is a 盘盈盘亏 report."""

    class Scope(models.TextChoices):
        ALL = "all", _("Whole school")
        BUILDING = "building", _("A building")
        DEPARTMENT = "department", _("A department")

    class Period(models.TextChoices):
        TERM_START = "term_start", _("Term start")
        MID_TERM = "mid_term", _("Mid-term")
        TERM_END = "term_end", _("Term end")
        YEARLY = "yearly", _("Year end")
        AD_HOC = "ad_hoc", _("Ad hoc")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        COUNTING = "counting", _("Counting")
        SUBMITTED = "submitted", _("Awaiting approval")
        APPROVED = "approved", _("Approved and posted")
        REJECTED = "rejected", _("Sent back")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=20)
    title = models.CharField(_("title"), max_length=100)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.ALL)
    building = models.ForeignKey("org.Building", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("building"))
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("department"))
    period = models.CharField(_("period"), max_length=10, choices=Period.choices, default=Period.TERM_END)
    planned_on = models.DateField(_("planned on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("planned by"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # The draft 盘亏 disposal written on approval for the missing cards (they go through its own approval).
    disposal = models.ForeignKey("assets.AssetDisposal", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("loss disposal"))

    class Meta:
        verbose_name = _("stocktake")
        verbose_name_plural = _("stocktakes")
        ordering = ("-planned_on", "-id")
        permissions = [("count_stocktake", "Can count in a stocktake"),
                       ("approve_stocktake", "Can approve stocktake results")]
        constraints = [models.UniqueConstraint(fields=["school", "number"], name="assets_stocktake_unique_number")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    str_fields = ("number", "title")  # what __str__ reads (lists load only these)


class StocktakeLine(models.Model):
    """One expected card or item (with its book place and quantity), or one unexpected scan."""

    class Result(models.TextChoices):
        PENDING = "pending", _("Not counted")
        FOUND = "found", _("Found")
        MOVED = "moved", _("Found elsewhere")
        SHORT = "short", _("Short")
        MISSING = "missing", _("Missing")
        SURPLUS = "surplus", _("Unexpected")

    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="lines",
                                  verbose_name=_("stocktake"))
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("fixed asset"))
    item = models.ForeignKey(LowValueItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("low-value item"))
    code = models.CharField(_("code"), max_length=60)  # as booked, or as scanned for an unexpected one
    book_room = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("book place"))
    book_quantity = models.PositiveIntegerField(_("book quantity"), default=0)
    found_room = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("found in"))
    found_quantity = models.PositiveIntegerField(_("counted quantity"), default=0)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, default=Result.PENDING)
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("counted by"))
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    client_id = models.CharField(_("scan id"), max_length=40, blank=True)  # a queued scan is recorded once
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("stocktake line")
        verbose_name_plural = _("stocktake lines")
        ordering = ("id",)
        indexes = [models.Index(fields=["stocktake", "code"], name="assets_stline_code"),
                   models.Index(fields=["stocktake", "book_room"], name="assets_stline_room"),
                   models.Index(fields=["stocktake", "result"], name="assets_stline_result"),
                   models.Index(fields=["stocktake", "found_room"], name="assets_stline_found")]

    def __str__(self) -> str:
        return self.code

    str_fields = ("code",)  # what __str__ reads (lists load only these)


class StocktakeScan(models.Model):
    """Every scan or typed code as it arrived, never changed: the lines are worked out from these.

    A phone that lost the network resends its queued scans with their ``client_id``; the unique
    constraint records each one once. A batch card's count per room is its latest scan in that room.
    """

    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="scans",
                                  verbose_name=_("stocktake"))
    line = models.ForeignKey(StocktakeLine, on_delete=models.CASCADE, null=True, blank=True, related_name="scans",
                             verbose_name=_("stocktake line"))
    code = models.CharField(_("code"), max_length=60)
    room = models.ForeignKey("org.Room", on_delete=models.PROTECT, related_name="+", verbose_name=_("room"))
    quantity = models.PositiveIntegerField(_("counted quantity"), null=True, blank=True)
    outcome = models.CharField(_("result"), max_length=8, choices=StocktakeLine.Result.choices)
    client_id = models.CharField(_("scan id"), max_length=40, blank=True)
    counted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("counted by"))
    counted_at = models.DateTimeField(_("counted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stocktake scan")
        verbose_name_plural = _("stocktake scans")
        ordering = ("id",)
        constraints = [models.UniqueConstraint(fields=["stocktake", "client_id"], condition=~Q(client_id=""),
                                               name="assets_stscan_client_once")]
        indexes = [models.Index(fields=["line", "room"], name="assets_stscan_line_room")]

    def __str__(self) -> str:
        return self.code

    str_fields = ("code",)  # what __str__ reads (lists load only these)


class Handover(SchoolScopedModel):
    """交接单 (AST-14): everything a leaving person holds, signed by 交接人, 接收人 and 监交人."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=20)
    from_staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="handovers_out",
                                   verbose_name=_("handed over by"))
    to_staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="handovers_in",
                                 verbose_name=_("received by"))
    supervisor = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("supervised by"))
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("prepared by"))

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(fields=["school", "number"], name="assets_handover_unique_number"),
            models.CheckConstraint(condition=~Q(from_staff=models.F("to_staff")), name="assets_handover_two_people"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.from_staff} → {self.to_staff}"


class HandoverLine(models.Model):
    """One held card, low-value item or open loan on a handover, ticked when the receiver has it."""

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="lines", verbose_name=_("handover"))
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("fixed asset"))
    item = models.ForeignKey(LowValueItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("low-value item"))
    loan = models.ForeignKey("assets.AssetLoan", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("loan"))
    description = models.CharField(_("description"), max_length=200)
    received = models.BooleanField(_("received"), default=False)

    class Meta:
        verbose_name = _("handover line")
        verbose_name_plural = _("handover lines")
        ordering = ("id",)

    def __str__(self) -> str:
        return self.description

    str_fields = ("description",)  # what __str__ reads (lists load only these)
