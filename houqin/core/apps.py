from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "houqin.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (post_migrate: sync_roles)
