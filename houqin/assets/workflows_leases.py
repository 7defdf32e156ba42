"""State machines of the idle-room register and of leases (AST-8). The side effects are in services/leases.py."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from houqin.core.workflow import T, Workflow

from .models import IdleRoom, Lease

R = IdleRoom.Status
idle_room_flow = Workflow(
    model=IdleRoom,
    transitions=[
        T("reuse", (R.IDLE,), R.IN_USE, gettext_lazy("Back in use"), perm="assets.change_idleroom",
          confirm=gettext_lazy("The room leaves the idle register.")),
        # Fired by a lease coming into force and by its end; never a button.
        T("lease", (R.IDLE,), R.LEASED, gettext_lazy("Lease out"), perm="assets.change_lease", system=True),
        T("release", (R.LEASED,), R.IDLE, gettext_lazy("Lease over"), perm="assets.change_lease", system=True),
    ],
    colors={"idle": "yellow", "leased": "azure", "in_use": "green"},
)


def term_over(lease, actor):
    """A lease ends at its term; before that it can only be terminated early (with the reason)."""
    if lease.end_on and timezone.localdate() < lease.end_on:
        return _("The term runs until %(day)s: terminate the lease early instead, with the reason.") % {
            "day": lease.end_on}
    return None


def activation_problems(lease) -> dict[str, str]:
    """What a lease still lacks before it may come into force, by field (empty: nothing).

    A lease of state assets needs the approval of the 主管部门, then the 同级财政部门 (财政部令第36号 第二十一条),
    and goes out by 公开招租 (国务院令第738号 第三十六条; domain-rules.md §2.4) — both before any contract.
    """
    problems = {}
    if not (lease.approval_doc_no or "").strip():
        problems["approval_doc_no"] = _(
            "Enter the approval document number of the education bureau or the finance bureau: a lease of "
            "state assets needs their approval before any contract (财政部令第36号 第二十一条).")
    tender = {"tender_platform": _("the platform"), "tender_notice_no": _("the notice number"),
              "tender_on": _("the date of the result")}
    for name, what in tender.items():
        if not getattr(lease, name) or not str(getattr(lease, name)).strip():
            problems[name] = _(
                "Enter %(what)s of the public tender (公开招租): rooms and assets are let through a public "
                "tender before any contract (国务院令第738号 第三十六条).") % {"what": what}
    return problems


def approvals_missing(lease, actor):
    problems = activation_problems(lease)
    return " ".join(problems.values()) if problems else None


L = Lease.Status
lease_flow = Workflow(
    model=Lease,
    transitions=[
        # Activation takes the approval and tender fields on its own form (views_leases.lease_activate).
        T("activate", (L.DRAFT,), L.ACTIVE, gettext_lazy("Put in force"), perm="assets.change_lease", system=True,
          guard=approvals_missing),
        T("end", (L.ACTIVE,), L.ENDED, gettext_lazy("End at term"), perm="assets.change_lease", guard=term_over,
          confirm=gettext_lazy("The rooms go back on the idle register.")),
        T("terminate", (L.ACTIVE,), L.TERMINATED, gettext_lazy("Terminate early"), perm="assets.change_lease",
          needs_note=True, style="outline-danger"),
        T("cancel", (L.DRAFT,), L.CANCELLED, gettext_lazy("Cancel"), perm="assets.change_lease", needs_note=True,
          style="outline-danger"),
    ],
    colors={"draft": "secondary", "active": "green", "ended": "secondary", "terminated": "orange",
            "cancelled": "secondary"},
)
