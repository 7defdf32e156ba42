"""Helpers of the approvals tests: a policy of the test's own (thresholds are data, never code), submit."""

from decimal import Decimal

import pytest

from houqin.approvals.models import ApprovalPolicy
from houqin.approvals.services import approval_policy_save
from houqin.core.entities import registry
from tests.sampleapp.models import SampleRequest

KEY = "sampleapp.samplerequest"

# The school's own thresholds for this test: < ¥1000 后勤主任 only; ≥ ¥1000 + 分管副校长; ≥ ¥50000 + 校长.
THREE_LEVELS = [
    {"label": "后勤主任审批", "kind": "role", "role_codes": ["logistics_director"], "min_amount": None},
    {"label": "分管副校长审批", "kind": "role", "role_codes": ["vice_principal"], "min_amount": Decimal("1000")},
    {"label": "校长审批", "kind": "role", "role_codes": ["principal"], "min_amount": Decimal("50000")},
]


@pytest.fixture
def make_policy(school, personas):
    """Put a policy of the test's own in use for the sample document (the demo's is taken out of use)."""

    def make(steps, *, name="测试审批流程"):
        ApprovalPolicy.objects.filter(school=school, document_type=KEY).update(active=False)
        return approval_policy_save(school=school, actor=personas["sysadmin"], name=name, document_type=KEY,
                                    active=True, steps=[dict(s) for s in steps])

    return make


@pytest.fixture
def new_request(school, personas):
    def make(amount="800", *, title="采购粉笔", by=None):
        return SampleRequest.objects.create(school=school, title=title, amount=Decimal(amount),
                                            requested_by=by or personas["teacher"])

    return make


def submit(doc, actor):
    """Submit through the document's entity hook: the page and the API do the same."""
    registry[SampleRequest].transition(obj=doc, name="submit", actor=actor)
    doc.refresh_from_db()
    return doc
