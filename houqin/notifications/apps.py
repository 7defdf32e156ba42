from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """X-4: outbox, in-app inbox, e-mail and WeCom/DingTalk robot webhooks."""

    name = "houqin.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
