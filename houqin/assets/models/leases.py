"""Idle assets and rooms, tenants, leases and their rent (AST-8; domain-rules.md §2.4).

The paper it replaces is the 闲置校产登记簿 and the 出租出借台账: which rooms and assets stand idle, which of
them are let, to whom, on whose approval and after which 公开招租, and the rent due, received and paid over.
Rent is 非税收入: it is received on behalf of the treasury and paid over (上缴), never kept as school income.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from houqin.core.models import SchoolScopedModel, VoidableMixin

# --- 统一社会信用代码, GB 32100-2015 (domain-rules.md §6.2) -----------------------------------------------------
# 31 characters: digits and capitals without I, O, S, V, Z; values 0..30 in this order.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Weights W_i = 3^(i-1) mod 31 for positions 1..17 (§6.2).
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# The regex prefilter of §6.2, verbatim.
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$", re.ASCII)


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码: C18 = 31 − (Σ Ci·Wi mod 31), 31 → 0 (GB 32100, §6.2)."""
    c = 31 - sum(USCC_CHARS.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=False)) % 31
    return USCC_CHARS[0 if c == 31 else c]


def normalize_credit_code(value: str) -> str:
    """Fold full-width characters, drop spaces, upper-case (a code is often pasted from a licence scan)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def validate_credit_code(value: str, *, allow_bad_checksum: bool = False) -> None:
    """Block a malformed 统一社会信用代码; a wrong check character only with an override (domain-rules.md §6.2:
    a few early real codes fail the checksum, so a checksum failure is overridable with a reason)."""
    code = normalize_credit_code(value)
    if len(code) != 18 or not USCC_PATTERN.fullmatch(code):
        raise ValidationError(
            _("A unified social credit code has 18 characters: digits and capital letters except I, O, S, V "
              "and Z, with digits in positions 3–8 (GB 32100)."), code="format")
    if credit_code_check_char(code[:17]) != code[17] and not allow_bad_checksum:
        raise ValidationError(
            _("The check character is wrong (GB 32100): please check the code against the business licence. "
              "If the licence really shows this code, give the reason in “reason to accept the code”."),
            code="checksum")


class IdleRoom(SchoolScopedModel):
    """闲置用房登记 (AST-8): a room standing idle, offered for 调剂 or let out; back in use when it is used again."""

    class Status(models.TextChoices):
        IDLE = "idle", _("Idle")
        LEASED = "leased", _("Leased out")
        IN_USE = "in_use", _("Back in use")

    room = models.ForeignKey("org.Room", on_delete=models.PROTECT, related_name="idle_records",
                             verbose_name=_("room"))
    since = models.DateField(_("idle since"))
    area = models.DecimalField(_("area (m²)"), max_digits=10, decimal_places=2, null=True, blank=True,
                               validators=[MinValueValidator(Decimal("0.01"))])
    reason = models.CharField(_("why idle"), max_length=200)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.IDLE)
    ended_on = models.DateField(_("back in use on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("idle room")
        verbose_name_plural = _("idle rooms")
        ordering = ("-since", "-id")
        constraints = [
            # A room is on the register once at a time: idle or let out (a later spell is a new record).
            models.UniqueConstraint(fields=["room"], condition=Q(status__in=("idle", "leased")),
                                    name="assets_idleroom_one_open",
                                    violation_error_message=_("This room is already on the idle register.")),
        ]
        indexes = [models.Index(fields=["school", "status"], name="assets_idleroom_status")]

    def __str__(self) -> str:
        return str(self.room)


class Tenant(SchoolScopedModel):
    """承租方 (AST-8): who rents school rooms or assets; tenants are under the school's safety supervision."""

    name = models.CharField(_("name"), max_length=100)
    credit_code = models.CharField(_("unified social credit code"), max_length=18)
    credit_code_override = models.CharField(
        _("reason to accept the code"), max_length=200, blank=True,
        help_text=_("Only when the code fails the check but the licence really shows it (GB 32100)."))
    contact = models.CharField(_("contact person"), max_length=40)
    phone = models.CharField(_("mobile"), max_length=20)  # normalised to 11 digits by clean() (§6.3)
    address = models.CharField(_("address"), max_length=200, blank=True)
    safety_supervised = models.BooleanField(
        _("under safety supervision"), default=True,
        help_text=_("The tenant's premises are included in the school's safety inspections (纳入安全监管)."))
    safety_note = models.CharField(_("safety supervision note"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ("name",)
        constraints = [models.UniqueConstraint(fields=["school", "credit_code"], name="assets_tenant_unique_code")]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)

    def clean(self) -> None:
        from houqin.org.validators import normalize_mobile

        errors = {}
        self.credit_code = normalize_credit_code(self.credit_code)
        try:
            validate_credit_code(self.credit_code, allow_bad_checksum=bool(self.credit_code_override.strip()))
        except ValidationError as exc:
            errors["credit_code"] = exc.messages
        try:
            self.phone = normalize_mobile(self.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
        if errors:
            raise ValidationError(errors)


class Lease(SchoolScopedModel):
    """出租合同 (AST-8): idle rooms and/or idle assets let to a tenant, on the approval of the 主管部门/财政 and after
    a 公开招租 (国务院令第738号 第三十六条; 财政部令第36号 第二十一条; domain-rules.md §2.4)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("In force")
        ENDED = "ended", _("Ended")
        TERMINATED = "terminated", _("Terminated early")
        CANCELLED = "cancelled", _("Cancelled")

    class Period(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        YEARLY = "yearly", _("Yearly")

    number = models.CharField(_("lease number"), max_length=20, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="leases", verbose_name=_("tenant"))
    rooms = models.ManyToManyField(IdleRoom, blank=True, related_name="leases", verbose_name=_("idle rooms"))
    assets = models.ManyToManyField("assets.Asset", blank=True, related_name="leases", verbose_name=_("idle assets"))
    purpose = models.CharField(_("use by the tenant"), max_length=200)
    # Approval of the lease by the 主管部门, then 财政 (财政部令第36号 第二十一条).
    approval_doc_no = models.CharField(_("approval document number"), max_length=60, blank=True)
    approval_authority = models.CharField(_("approved by"), max_length=60, blank=True,
                                          help_text=_("The education bureau or the finance bureau."))
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    # 公开招租 through a public-resources trading platform (国务院令第738号 第三十六条).
    tender_platform = models.CharField(_("public tender platform"), max_length=100, blank=True)
    tender_notice_no = models.CharField(_("public tender notice number"), max_length=60, blank=True)
    tender_on = models.DateField(_("tender result on"), null=True, blank=True)
    contract_no = models.CharField(_("contract number"), max_length=60, blank=True)
    signed_on = models.DateField(_("contract signed on"), null=True, blank=True)
    start_on = models.DateField(_("term from"))
    end_on = models.DateField(_("term to"))
    rent_amount = models.DecimalField(_("rent per period"), max_digits=12, decimal_places=2,
                                      validators=[MinValueValidator(Decimal("0.01"))])
    rent_period = models.CharField(_("rent period"), max_length=10, choices=Period.choices, default=Period.MONTHLY)
    deposit = models.DecimalField(_("deposit"), max_digits=12, decimal_places=2, default=0,
                                  validators=[MinValueValidator(Decimal("0"))])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    activated_at = models.DateTimeField(_("in force since"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("written by"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("lease")
        verbose_name_plural = _("leases")
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(fields=["school", "number"], name="assets_lease_unique_number"),
            models.CheckConstraint(condition=Q(end_on__gt=models.F("start_on")), name="assets_lease_term",
                                   violation_error_message=_("The term must end after it starts.")),
            models.CheckConstraint(condition=Q(rent_amount__gt=0), name="assets_lease_rent_positive",
                                   violation_error_message=_("Enter an amount above zero.")),
            models.CheckConstraint(condition=Q(deposit__gte=0), name="assets_lease_deposit",
                                   violation_error_message=_("The deposit cannot be negative.")),
        ]
        indexes = [models.Index(fields=["school", "status"], name="assets_lease_status")]

    def __str__(self) -> str:
        return f"{self.number} {self.tenant}" if self.tenant_id else self.number

    def clean(self) -> None:
        errors = {}
        if self.start_on and self.end_on and self.end_on <= self.start_on:
            errors["end_on"] = _("The term must end after it starts.")
        # The contract comes after the approval and the public tender, never before (§2.4).
        if self.signed_on and self.approved_on and self.signed_on < self.approved_on:
            errors["signed_on"] = _("The contract cannot be signed before the approval (%(day)s).") % {
                "day": self.approved_on}
        elif self.signed_on and self.tender_on and self.signed_on < self.tender_on:
            errors["signed_on"] = _("The contract cannot be signed before the public tender result (%(day)s).") % {
                "day": self.tender_on}
        if errors:
            raise ValidationError(errors)


class RentInstallment(SchoolScopedModel):
    """One line of a lease's rent schedule (应收租金): generated when the lease comes into force."""

    class Status(models.TextChoices):
        DUE = "due", _("Due")
        PARTLY = "partly", _("Partly received")
        RECEIVED = "received", _("Fully received")
        CANCELLED = "cancelled", _("Cancelled")

    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="installments", verbose_name=_("lease"))
    seq = models.PositiveSmallIntegerField(_("instalment"))
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount due"), max_digits=12, decimal_places=2)
    # Cache of the sum of the instalment's receipts that are not voided, written with each receipt.
    received = models.DecimalField(_("received to date"), max_digits=12, decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DUE)
    overdue_notified_on = models.DateField(_("overdue reminder sent on"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("rent instalment")
        verbose_name_plural = _("rent schedule")
        ordering = ("due_on", "lease_id", "seq")
        constraints = [
            models.UniqueConstraint(fields=["lease", "seq"], name="assets_rent_installment_unique"),
            models.CheckConstraint(condition=Q(received__lte=models.F("amount")), name="assets_rent_not_above_due",
                                   violation_error_message=_("A receipt cannot exceed the rent schedule.")),
        ]
        indexes = [models.Index(fields=["school", "status", "due_on"], name="assets_rent_due")]

    def __str__(self) -> str:
        return f"{self.lease.number} #{self.seq}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.received


class RentPayOver(SchoolScopedModel, VoidableMixin):
    """非税收入上缴 (AST-8): rent received paid over to the treasury, for one receipt or a batch of them."""

    number = models.CharField(_("pay-over number"), max_length=20, editable=False)
    paid_on = models.DateField(_("paid over on"))
    reference = models.CharField(_("payment reference"), max_length=60,
                                 help_text=_("The number of the 非税收入 payment form or the bank slip."))
    amount = models.DecimalField(_("amount paid over"), max_digits=14, decimal_places=2, default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("rent paid over")
        verbose_name_plural = _("rent paid over")
        ordering = ("-paid_on", "-id")
        permissions = [("void_rentpayover", "Can void a rent pay-over")]
        constraints = [models.UniqueConstraint(fields=["school", "number"], name="assets_payover_unique_number")]

    def __str__(self) -> str:
        return self.number

    str_fields = ("number",)  # what __str__ reads (lists load only these)


class RentReceipt(SchoolScopedModel, VoidableMixin):
    """租金收款 (AST-8): money received against one instalment, with the receipt (票据) number; voided, never deleted."""

    installment = models.ForeignKey(RentInstallment, on_delete=models.PROTECT, related_name="receipts",
                                    verbose_name=_("rent instalment"))
    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("lease"),
                              editable=False)
    amount = models.DecimalField(_("amount received"), max_digits=12, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    received_on = models.DateField(_("received on"))
    receipt_no = models.CharField(_("receipt number"), max_length=40,
                                  help_text=_("The number of the fiscal receipt (财政票据) given to the tenant."))
    pay_over = models.ForeignKey(RentPayOver, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="receipts", verbose_name=_("paid over with"), editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("rent receipt")
        verbose_name_plural = _("rent receipts")
        ordering = ("-received_on", "-id")
        permissions = [("void_rentreceipt", "Can void a rent receipt")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="assets_rent_receipt_positive",
                                   violation_error_message=_("Enter an amount above zero.")),
            # One fiscal receipt is one payment: the same number twice would count the money twice.
            models.UniqueConstraint(fields=["school", "receipt_no"], condition=Q(voided_at__isnull=True),
                                    name="assets_rent_receipt_unique_no",
                                    violation_error_message=_("This receipt number is already recorded.")),
        ]
        indexes = [models.Index(fields=["school", "received_on"], name="assets_rent_receipt_day")]

    def __str__(self) -> str:
        return f"{self.receipt_no} {self.amount}"

    str_fields = ("receipt_no", "amount")  # what __str__ reads (lists load only these)
