"""Class contracting (AST-6) and damage compensation (AST-5).

At term start each class signs a 班级财产承包责任书 for its classroom's desks, stools, doors, windows and
handles; the class teacher records a 月检查 each month; whatever is found missing or broken leads to a
损坏赔偿 record ("谁损坏谁负责"), decided and collected (or charged on the student's fee statement).
The module can be switched off per school (``AssetSettings.contracting_enabled``).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from houqin.core.models import SchoolScopedModel, VoidableMixin

from .cards import Asset, LowValueItem


class ItemKind(models.TextChoices):
    """What a contract line covers: the things a classroom holds (篇2-三-三-3)."""

    DESK = "desk", _("Desks")
    STOOL = "stool", _("Stools and chairs")
    DESK_SET = "desk_set", _("Desk and chair sets")
    DOOR = "door", _("Doors")
    WINDOW = "window", _("Windows")
    HANDLE = "handle", _("Door handles and locks")
    BOARD = "board", _("Blackboards and whiteboards")
    ELECTRICAL = "electrical", _("Lights, fans and electrical fittings")
    MULTIMEDIA = "multimedia", _("Multimedia equipment")
    SUPPLIES = "supplies", _("Class supplies")
    OTHER = "other", _("Other")


class Condition(models.TextChoices):
    GOOD = "good", _("Good")
    WORN = "worn", _("Worn")
    DAMAGED = "damaged", _("Damaged")


class ClassContract(SchoolScopedModel):
    """班级财产承包责任书 (AST-6): one per class per term, for the class's classroom, signed by its 班主任."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Awaiting signature")
        SIGNED = "signed", _("Signed")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    school_class = models.ForeignKey("org.SchoolClass", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("class"))
    term = models.ForeignKey("org.Term", on_delete=models.PROTECT, related_name="+", verbose_name=_("term"))
    room = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("classroom"))
    # The class teacher when the contract was written; the signer when signed (the roll-up counts for them).
    class_teacher = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("class teacher"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("signed by"))
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("class contract")
        verbose_name_plural = _("class contracts")
        ordering = ("-term__start_on", "school_class__name")
        permissions = [("sign_classcontract", "Can sign the class contract of their own class"),
                       ("close_classcontract", "Can close or cancel class contracts")]
        constraints = [models.UniqueConstraint(fields=["school_class", "term"], name="assets_contract_one_per_term")]
        indexes = [models.Index(fields=["school", "term", "status"], name="assets_contract_term")]

    def __str__(self) -> str:
        return f"{self.term} {self.school_class}"


class ClassContractLine(models.Model):
    """One line of a contract: what the class takes care of, how many, in what condition at signing."""

    contract = models.ForeignKey(ClassContract, on_delete=models.CASCADE, related_name="lines",
                                 verbose_name=_("class contract"))
    kind = models.CharField(_("item kind"), max_length=12, choices=ItemKind.choices)
    name = models.CharField(_("item"), max_length=100)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    condition = models.CharField(_("condition at signing"), max_length=8, choices=Condition.choices,
                                 default=Condition.GOOD)
    # The card or low-value item the line was filled from (doors and windows have none).
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("fixed asset"))
    item = models.ForeignKey(LowValueItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("low-value item"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("class contract line")
        verbose_name_plural = _("class contract lines")
        ordering = ("contract", "id")
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="assets_contractline_quantity")]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"


class ContractCheck(SchoolScopedModel, VoidableMixin):
    """月检查 of a signed contract (AST-6): per line what was found, short and damaged. Photos are attached."""

    contract = models.ForeignKey(ClassContract, on_delete=models.PROTECT, related_name="checks",
                                 verbose_name=_("class contract"))
    checked_on = models.DateField(_("checked on"))
    month = models.DateField(_("month"), editable=False)  # first day of the month checked: one check a month
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("checked by"))
    shortfall = models.PositiveIntegerField(_("short"), default=0)  # cached sums of the lines
    damaged = models.PositiveIntegerField(_("damaged"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("monthly contract check")
        verbose_name_plural = _("monthly contract checks")
        ordering = ("-checked_on", "-id")
        permissions = [("void_contractcheck", "Can void a monthly contract check")]
        constraints = [models.UniqueConstraint(fields=["contract", "month"], condition=Q(voided_at__isnull=True),
                                               name="assets_check_one_per_month")]
        indexes = [models.Index(fields=["school", "month"], name="assets_check_month")]

    def __str__(self) -> str:
        return f"{self.contract.school_class} {self.checked_on:%Y-%m}"


class ContractCheckLine(models.Model):
    """One contract line as found in a monthly check."""

    contract_check = models.ForeignKey(ContractCheck, on_delete=models.CASCADE, related_name="lines",
                              verbose_name=_("monthly contract check"))
    line = models.ForeignKey(ClassContractLine, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("contract line"))
    quantity_found = models.PositiveIntegerField(_("found"))
    shortfall = models.PositiveIntegerField(_("short"), default=0)
    damaged = models.PositiveIntegerField(_("damaged"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("check line")
        verbose_name_plural = _("check lines")
        ordering = ("contract_check", "line_id")
        constraints = [models.CheckConstraint(condition=Q(damaged__lte=models.F("quantity_found")),
                                              name="assets_checkline_damaged_found")]

    def __str__(self) -> str:
        return f"{self.line.name}: {self.quantity_found}"


class DamageRecord(SchoolScopedModel, VoidableMixin):
    """损坏赔偿 (AST-5): who damaged what, the assessed amount, the decision and the collection.

    Replaces the 财产损坏赔偿登记表. A student's compensation may be charged on the fee statement
    (``services.contracting.damage_charges_for_fee_statement``) instead of paid on the spot.
    """

    class Responsible(models.TextChoices):
        STUDENT = "student", _("A student")
        STAFF = "staff", _("A staff member")
        UNKNOWN = "unknown", _("Unknown")

    class Decision(models.TextChoices):
        FULL = "full", _("Compensate in full")
        REDUCED = "reduced", _("Reduced")
        WAIVED = "waived", _("Waived")

    class Status(models.TextChoices):
        RECORDED = "recorded", _("Awaiting decision")
        DECIDED = "decided", _("Awaiting collection")
        CHARGED = "charged", _("On the fee statement")
        COLLECTED = "collected", _("Collected")
        WAIVED = "waived", _("Waived")

    number = models.CharField(_("number"), max_length=20)
    what = models.CharField(_("damaged item"), max_length=100)
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True, related_name="damages",
                              verbose_name=_("fixed asset"))
    item = models.ForeignKey(LowValueItem, on_delete=models.PROTECT, null=True, blank=True, related_name="damages",
                             verbose_name=_("low-value item"))
    check_line = models.ForeignKey(ContractCheckLine, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="damages", verbose_name=_("found in check"))
    room = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("place"))
    happened_on = models.DateField(_("date"))
    responsible = models.CharField(_("damaged by"), max_length=8, choices=Responsible.choices,
                                   default=Responsible.UNKNOWN)
    student = models.ForeignKey("org.Student", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("student"))
    staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("staff member"))
    school_class = models.ForeignKey("org.SchoolClass", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("class"))
    description = models.CharField(_("what happened"), max_length=300)
    assessed_amount = models.DecimalField(_("assessed amount"), max_digits=12, decimal_places=2,
                                          validators=[MinValueValidator(Decimal("0"))])
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices, blank=True)
    decided_amount = models.DecimalField(_("amount to pay"), max_digits=12, decimal_places=2, null=True, blank=True)
    decision_reason = models.CharField(_("reason for the decision"), max_length=200, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECORDED)
    collected_amount = models.DecimalField(_("amount collected"), max_digits=12, decimal_places=2, null=True,
                                           blank=True)
    collected_on = models.DateField(_("collected on"), null=True, blank=True)
    receipt_no = models.CharField(_("receipt number"), max_length=40, blank=True)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("collected by"))
    collection_note = models.CharField(_("collection note"), max_length=200, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("damage record")
        verbose_name_plural = _("damage records")
        ordering = ("-happened_on", "-id")
        permissions = [("decide_damagerecord", "Can decide the compensation for a damage record"),
                       ("collect_damagerecord", "Can record the collection of a compensation"),
                       ("void_damagerecord", "Can void a damage record")]
        constraints = [
            models.UniqueConstraint(fields=["school", "number"], name="assets_damage_unique_number"),
            models.CheckConstraint(condition=Q(assessed_amount__gte=0), name="assets_damage_amount_not_negative"),
            models.CheckConstraint(condition=Q(decided_amount__isnull=True) | Q(decided_amount__gte=0),
                                   name="assets_damage_decided_not_negative"),
        ]
        indexes = [models.Index(fields=["school", "status"], name="assets_damage_status"),
                   models.Index(fields=["student", "status"], name="assets_damage_student")]

    def __str__(self) -> str:
        return f"{self.number} {self.what}"

    str_fields = ("number", "what")  # what __str__ reads (lists load only these)

    @property
    def amount_due(self) -> Decimal:
        """What the responsible person owes: the decided amount, or the assessed one before the decision."""
        if self.status == self.Status.WAIVED:
            return Decimal("0.00")
        return self.decided_amount if self.decided_amount is not None else self.assessed_amount
