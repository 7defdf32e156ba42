from django.apps import AppConfig


class SampleAppConfig(AppConfig):
    """A ledger used only by the tests of the entity machinery: every field kind, voidable.

    Installed by ``houqin.settings_test`` only; it exercises what the org records do not (void,
    Decimal money, dates, choices) until the first domain ledger arrives.
    """

    name = "tests.sampleapp"
    label = "sampleapp"
    verbose_name = "Sample ledger"

    def ready(self) -> None:
        from houqin.core.registry import registry

        from . import entities  # noqa: F401

        registry.grant(["logistics_director"], [
            "sampleapp.view_ledgerline", "sampleapp.add_ledgerline", "sampleapp.change_ledgerline",
            "sampleapp.void_ledgerline",
        ])
        registry.grant(["logistics_clerk"], ["sampleapp.view_ledgerline"])
        request_perms = ["sampleapp.view_samplerequest", "sampleapp.add_samplerequest", "sampleapp.change_samplerequest"]
        registry.grant(["teacher", "class_teacher", "logistics_clerk", "logistics_director"], request_perms)
        registry.grant(["logistics_director", "principal"], ["sampleapp.view_samplerequest",
                                                             "sampleapp.approve_samplerequest"])
        # Approvers see the documents they decide (the inbox links to them).
        registry.grant(["vice_principal", "group_head"], ["sampleapp.view_samplerequest"])

        from houqin.approvals.registry import register_document
        from houqin.core.registry import DemoGenerator

        from .models import SampleRequest

        register_document(SampleRequest, amount=lambda doc: doc.amount, owner=lambda doc: doc.requested_by,
                          department=_department)
        registry.add_demo(DemoGenerator("sampleapp.approval_policy", _demo_policy, order=90))


def _department(doc):
    """The requester's first department (a department-head step asks its head)."""
    staff = doc.requested_by.staff_or_none if doc.requested_by_id else None
    return staff.departments.order_by("kind", "name").first() if staff is not None else None


def _demo_policy(context) -> None:
    """The demo school's policy for the sample document: 后勤主任 always, 分管副校长 from ¥1,000, 校长 from
    ¥50,000 (the thresholds are the school's data, like any school's own 三重一大 limits)."""
    from decimal import Decimal

    from houqin.approvals.models import ApprovalPolicy, PolicyStep
    from houqin.org.models import School

    for school in School.objects.all():
        if ApprovalPolicy.objects.filter(school=school, document_type="sampleapp.samplerequest").exists():
            continue
        policy = ApprovalPolicy.objects.create(school=school, document_type="sampleapp.samplerequest",
                                               name="申请单审批")
        PolicyStep.objects.bulk_create([
            PolicyStep(policy=policy, order=1, label="后勤主任审批", kind="role", role_codes=["logistics_director"]),
            PolicyStep(policy=policy, order=2, label="分管副校长审批", kind="role", role_codes=["vice_principal"],
                       min_amount=Decimal("1000")),
            PolicyStep(policy=policy, order=3, label="校长审批", kind="role", role_codes=["principal"],
                       min_amount=Decimal("50000")),
        ])
