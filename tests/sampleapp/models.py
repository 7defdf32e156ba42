from django.db import models
from django.db.models import Q

from houqin.core.models import SchoolScopedModel, VoidableMixin


class LedgerLine(SchoolScopedModel, VoidableMixin):
    class Kind(models.TextChoices):
        IN = "in", "入库"
        OUT = "out", "出库"

    code = models.CharField("编号", max_length=20)
    description = models.CharField("摘要", max_length=100)
    kind = models.CharField("类型", max_length=3, choices=Kind.choices, default=Kind.IN)
    amount = models.DecimalField("金额", max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField("数量", default=1)
    happened_on = models.DateField("日期")
    room = models.ForeignKey("org.Room", on_delete=models.PROTECT, null=True, blank=True, verbose_name="地点")
    paid = models.BooleanField("已付款", default=False)

    class Meta:
        verbose_name = "台账行"
        verbose_name_plural = "台账行"
        ordering = ("code",)
        permissions = [("void_ledgerline", "Can void ledger line")]
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="sampleapp_line_unique_code"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sampleapp_line_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class SampleRequest(SchoolScopedModel):
    """A sample document with a workflow and an approval policy, for the platform's tests."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "审批中"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已退回"
        DONE = "done", "已完成"
        CANCELLED = "cancelled", "已取消"

    title = models.CharField("事由", max_length=100)
    amount = models.DecimalField("金额", max_digits=12, decimal_places=2, default=0)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    requested_by = models.ForeignKey(
        "org.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="申请人"
    )

    class Meta:
        verbose_name = "申请单"
        verbose_name_plural = "申请单"
        ordering = ("-id",)
        permissions = [("approve_samplerequest", "Can approve sample requests")]

    def __str__(self) -> str:
        return self.title
