from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """X-4: outbox, in-app inbox, e-mail and WeCom/DingTalk robot webhooks."""

    name = "houqin.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from houqin.core.entities import not_an_entity
        from houqin.core.registry import DashboardFact, MenuItem, PeriodicJob, Widget, registry

        from . import selectors, services

        not_an_entity("notifications.notification", "a person's inbox: written by notify() on commit, read and "
                      "marked read on the inbox page and the bell; nobody edits another person's messages")
        not_an_entity("notifications.outboxmessage", "the delivery queue: written by notify(), drained by "
                      "deliver_due(); failures are listed and retried on the message deliveries page")
        not_an_entity("notifications.channelconfig", "one row per school, edited on the message channels page; "
                      "the DingTalk secret is never shown or exported")
        registry.add_periodic(PeriodicJob("notifications.deliver", services.deliver_due_job, every_minutes=1))
        registry.add_periodic(PeriodicJob("notifications.prune", services.outbox_prune_job, every_minutes=1440))

        registry.grant(["sysadmin", "logistics_director"],
                       ["notifications.view_outboxmessage", "notifications.retry_outboxmessage"])
        registry.grant(["sysadmin"], ["notifications.view_channelconfig", "notifications.change_channelconfig"])

        registry.menu_group("admin", _("Administration"), order=900)
        registry.menu_item("admin", MenuItem(_("Message channels"), "notifications:channels",
                                             "notifications.change_channelconfig", order=40))
        registry.menu_item("admin", MenuItem(_("Message deliveries"), "notifications:deliveries",
                                             "notifications.view_outboxmessage", order=45))
        registry.add_widget(Widget("notifications.unread", _("Unread notices"), "notifications/widget_unread.html",
                                   selectors.unread_widget, order=10))
        registry.add_fact(DashboardFact(_("Undelivered messages"), selectors.outbox_dead_count,
                                        "notifications:deliveries", order=900))
