"""Approval policies of a school and the approval requests of documents (X-3, architecture §4.6).

A school sets, per document type, one active ``ApprovalPolicy``: ordered steps, each decided by a
role, by one of several roles, or by the head of the document's department, and each applying only
from a minimum amount (the school's own 三重一大 thresholds; no figure lives in code). A policy
without steps is "no approval": the document is approved as soon as it is submitted.

Submitting a document creates an ``ApprovalRequest`` with the ``ApprovalStep`` rows that apply,
copied from the policy (later edits of the policy do not change requests already under way).
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from houqin.core.models import SchoolScopedModel


class StepKind(models.TextChoices):
    ROLE = "role", _("A role")
    ANY_OF = "any_of", _("Any one of several roles")
    DEPARTMENT_HEAD = "department_head", _("Head of the document's department")


class ApprovalPolicy(SchoolScopedModel):
    """审批流程: the steps a document type goes through in one school."""

    document_type = models.CharField(_("document type"), max_length=100)  # "app_label.model_name"
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")
        ordering = ("document_type", "-active", "name")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "document_type"], condition=Q(active=True),
                name="approvals_one_active_policy_per_document_type",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)


class PolicyStep(models.Model):
    """One step of a policy, applying from ``min_amount`` (always when empty)."""

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="steps",
                               verbose_name=_("approval policy"))
    order = models.PositiveSmallIntegerField(_("order"))
    label = models.CharField(_("step"), max_length=100)
    kind = models.CharField(_("decided by"), max_length=20, choices=StepKind.choices, default=StepKind.ROLE)
    role_codes = models.JSONField(_("roles"), default=list, blank=True)
    min_amount = models.DecimalField(
        _("from amount"), max_digits=14, decimal_places=2, null=True, blank=True,
        help_text=_("The step applies only when the document's amount is at least this much; "
                    "leave empty for every amount."),
    )

    class Meta:
        verbose_name = _("policy step")
        verbose_name_plural = _("policy steps")
        ordering = ("policy", "order", "id")
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="approvals_policy_step_unique_order"),
            models.CheckConstraint(condition=Q(min_amount__isnull=True) | Q(min_amount__gte=0),
                                   name="approvals_policy_step_min_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.label

    str_fields = ("label",)  # what __str__ reads (lists load only these)

    def applies_to(self, amount) -> bool:
        if self.min_amount is None:
            return True
        return amount is not None and amount >= self.min_amount


class ApprovalRequest(SchoolScopedModel):
    """审批单: one submission of one document. A rejected document submitted again gets a new one."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Sent back")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    COLORS = {"pending": "azure", "approved": "green", "rejected": "yellow", "withdrawn": "secondary"}

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("document type"))
    object_id = models.CharField(_("document id"), max_length=64)
    document = GenericForeignKey("content_type", "object_id")
    document_label = models.CharField(_("document"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("approval policy"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("requested by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], condition=Q(status="pending"),
                name="approvals_one_pending_request_per_document",
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="approvals_request_document"),
            models.Index(fields=["school", "status"], name="approvals_request_status"),
            models.Index(fields=["requested_by", "-created_at"], name="approvals_request_requester"),
        ]

    def __str__(self) -> str:
        return str(_("Approval of %(document)s") % {"document": self.document_label})

    @property
    def color(self) -> str:
        return self.COLORS.get(self.status, "secondary")


class ApprovalStep(models.Model):
    """One step of a request: waiting (not reached yet), pending (in someone's inbox), decided or skipped."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Not reached yet")
        PENDING = "pending", _("Waiting for decision")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Sent back")
        SKIPPED = "skipped", _("Not needed")

    COLORS = {"waiting": "secondary", "pending": "azure", "approved": "green", "rejected": "red",
              "skipped": "secondary"}

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="steps",
                                verbose_name=_("approval request"))
    order = models.PositiveSmallIntegerField(_("order"))
    label = models.CharField(_("step"), max_length=100)
    kind = models.CharField(_("decided by"), max_length=20, choices=StepKind.choices, default=StepKind.ROLE)
    role_codes = models.JSONField(_("roles"), default=list, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("approver"))
    # A "head of department" step follows the department's current head: whoever heads it when the step is
    # decided decides it (services.step_approver); ``assignee`` names that head, moved along when the head
    # changes (services.department_head_follow).
    department = models.ForeignKey("org.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("department"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ("request", "order", "id")
        constraints = [
            models.UniqueConstraint(fields=["request", "order"], name="approvals_step_unique_order"),
        ]
        indexes = [models.Index(fields=["status", "assignee"], name="approvals_step_status")]

    def __str__(self) -> str:
        return self.label

    str_fields = ("label",)  # what __str__ reads (lists load only these)

    @property
    def color(self) -> str:
        return self.COLORS.get(self.status, "secondary")
