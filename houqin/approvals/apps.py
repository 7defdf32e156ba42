from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    """X-3: approval policies, requests and steps; knows documents only through a registry."""

    name = "houqin.approvals"
    label = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from houqin.core.entities import not_an_entity
        from houqin.core.registry import MenuItem, Widget, registry
        from houqin.org.models import Department

        from . import selectors, services

        # A "head of department" step follows the department's head (org does not import approvals).
        post_save.connect(services.department_saved, sender=Department, dispatch_uid="approvals.department_head")

        not_an_entity("approvals.approvalpolicy", "a school's approval policies: listed and edited with their steps "
                      "inline on /approvals/policies/ (approval_policy_save, audited)")
        not_an_entity("approvals.policystep", "the steps of an approval policy: edited inline on the policy's page")
        not_an_entity("approvals.approvalrequest", "written by a document's submit; read in 待我审批, my requests "
                      "and the document's approval trail ({% approval_trail obj %})")
        not_an_entity("approvals.approvalstep", "the steps of an approval request: decided on /approvals/steps/<id>/ "
                      "and through the approvals API")

        # The school's policies: managed by the system administrator and the logistics director, read
        # by the school's leaders. Deciding needs no permission: the step names the roles that decide.
        registry.grant(["sysadmin", "logistics_director"], [
            "approvals.view_approvalpolicy", "approvals.add_approvalpolicy", "approvals.change_approvalpolicy",
        ])
        registry.grant(["principal", "vice_principal"], ["approvals.view_approvalpolicy"])

        registry.menu_group("approvals", _("Approvals"), order=20)
        registry.menu_item("approvals", MenuItem(_("Waiting for me"), "approvals:waiting", order=10))
        registry.menu_item("approvals", MenuItem(_("My requests"), "approvals:my_requests", order=20))
        registry.menu_item("approvals", MenuItem(_("Approval policies"), "approvals:policy_list",
                                                 "approvals.view_approvalpolicy", order=90))
        registry.add_widget(Widget("approvals.waiting", _("Waiting for my approval"),
                                   "approvals/widget_waiting.html", selectors.waiting_widget, order=8))
