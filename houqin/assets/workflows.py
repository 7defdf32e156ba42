"""State machines of the asset documents (AST-3, AST-4, AST-14). Posting happens in the services."""

from django.utils.translation import gettext_lazy as _

from houqin.core.workflow import T, Workflow

from .models import AssetDisposal, AssetMove, Handover, Stocktake

M = AssetMove.Status
move_flow = Workflow(
    model=AssetMove,
    transitions=[
        T("submit", (M.DRAFT,), M.SUBMITTED, _("Submit"), perm="assets.add_assetmove"),
        T("approve", (M.SUBMITTED,), M.DONE, _("Approve"), perm="assets.approve_assetmove", system=True),
        T("reject", (M.SUBMITTED,), M.REJECTED, _("Send back"), perm="assets.approve_assetmove", system=True,
          needs_note=True),
        T("revise", (M.REJECTED,), M.DRAFT, _("Revise"), perm="assets.add_assetmove"),
        T("cancel", (M.DRAFT, M.SUBMITTED, M.REJECTED), M.CANCELLED, _("Cancel"), perm="assets.add_assetmove",
          needs_note=True, style="outline-danger"),
    ],
    colors={"draft": "secondary", "submitted": "azure", "done": "green", "rejected": "yellow",
            "cancelled": "secondary"},
)

D = AssetDisposal.Status
disposal_flow = Workflow(
    model=AssetDisposal,
    transitions=[
        T("submit", (D.DRAFT,), D.SUBMITTED, _("Submit"), perm="assets.add_assetdisposal"),
        T("approve", (D.SUBMITTED,), D.APPROVED, _("Approve"), perm="assets.approve_assetdisposal", system=True),
        T("reject", (D.SUBMITTED,), D.REJECTED, _("Send back"), perm="assets.approve_assetdisposal", system=True,
          needs_note=True),
        T("complete", (D.APPROVED,), D.DONE, _("Write off"), perm="assets.change_assetdisposal", system=True),
        T("revise", (D.REJECTED,), D.DRAFT, _("Revise"), perm="assets.add_assetdisposal"),
        T("cancel", (D.DRAFT, D.SUBMITTED, D.REJECTED), D.CANCELLED, _("Cancel"), perm="assets.add_assetdisposal",
          needs_note=True, style="outline-danger"),
    ],
    colors={"draft": "secondary", "submitted": "azure", "approved": "teal", "done": "green", "rejected": "yellow",
            "cancelled": "secondary"},
)

S = Stocktake.Status
stocktake_flow = Workflow(
    model=Stocktake,
    transitions=[
        T("start", (S.PLANNED,), S.COUNTING, _("Start counting"), perm="assets.count_stocktake", system=True),
        T("finish", (S.COUNTING,), S.SUBMITTED, _("Finish counting"), perm="assets.count_stocktake", system=True),
        T("approve", (S.SUBMITTED,), S.APPROVED, _("Approve"), perm="assets.approve_stocktake", system=True),
        T("reject", (S.SUBMITTED,), S.REJECTED, _("Send back"), perm="assets.approve_stocktake", system=True,
          needs_note=True),
        T("recount", (S.REJECTED,), S.COUNTING, _("Count again"), perm="assets.count_stocktake"),
        T("cancel", (S.PLANNED, S.COUNTING, S.REJECTED), S.CANCELLED, _("Cancel"), perm="assets.change_stocktake",
          needs_note=True, style="outline-danger"),
    ],
    colors={"planned": "secondary", "counting": "azure", "submitted": "purple", "approved": "green",
            "rejected": "yellow", "cancelled": "secondary"},
)

H = Handover.Status
handover_flow = Workflow(
    model=Handover,
    transitions=[
        T("confirm", (H.DRAFT,), H.CONFIRMED, _("Confirm handover"), perm="assets.change_handover", system=True),
        T("cancel", (H.DRAFT,), H.CANCELLED, _("Cancel"), perm="assets.change_handover", needs_note=True,
          style="outline-danger"),
    ],
    colors={"draft": "secondary", "confirmed": "green", "cancelled": "secondary"},
)
