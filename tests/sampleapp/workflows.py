from houqin.core.workflow import T, Workflow

from .models import SampleRequest

S = SampleRequest.Status


def _has_amount(obj, actor):
    return None if obj.amount > 0 else "金额为零的申请不能完成。"


request_flow = Workflow(
    model=SampleRequest,
    transitions=[
        T("submit", S.DRAFT, S.SUBMITTED, "提交", perm="sampleapp.add_samplerequest"),
        T("approve", S.SUBMITTED, S.APPROVED, "批准", perm="sampleapp.approve_samplerequest", system=True),
        T("reject", S.SUBMITTED, S.REJECTED, "退回", perm="sampleapp.approve_samplerequest", system=True,
          needs_note=True),
        T("revise", S.REJECTED, S.DRAFT, "修改后重新提交", perm="sampleapp.add_samplerequest"),
        T("complete", S.APPROVED, S.DONE, "完成", perm="sampleapp.change_samplerequest", guard=_has_amount),
        T("cancel", (S.DRAFT, S.SUBMITTED, S.REJECTED), S.CANCELLED, "取消", perm="sampleapp.add_samplerequest",
          needs_note=True, style="outline-danger"),
    ],
    colors={"draft": "secondary", "submitted": "azure", "approved": "green", "rejected": "yellow",
            "done": "green", "cancelled": "secondary"},
)
