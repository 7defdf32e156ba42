from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "houqin.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from django.apps import apps

        from . import fastload, lookups, signals  # noqa: F401  (post_migrate: sync_roles)
        from .registry import MenuItem, Widget, registry
        from .views import changes_widget

        registry.add_widget(Widget("core.changes", _("Records changed in the last 14 days"), "core/widgets/chart.html",
                                   changes_widget, order=900))
        lookups.install()  # IN (…) on integer columns leaves out values no column can hold
        # Rows load without Model.__init__ (fastload's docstring says when a model keeps Django's way).
        fastload.install(m for m in apps.get_models() if m.__module__.startswith("houqin."))
        registry.menu_group("help", _("Help"), order=1000)
        registry.menu_item("help", MenuItem(_("Workflows"), "core:workflow_docs", None, order=10))
