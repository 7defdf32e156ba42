from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulesConfig(AppConfig):
    """X-5: recurring plans that generate tasks (daily, weekly, monthly, term-aware)."""

    name = "houqin.schedules"
    label = "schedules"
    verbose_name = _("Recurring tasks")
