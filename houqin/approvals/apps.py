from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    """X-3: approval policies, requests and steps; knows documents only through a registry."""

    name = "houqin.approvals"
    label = "approvals"
    verbose_name = _("Approvals")
