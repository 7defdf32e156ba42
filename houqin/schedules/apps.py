from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulesConfig(AppConfig):
    """X-5: recurring plans that generate tasks (daily, weekly, monthly, term-aware)."""

    name = "houqin.schedules"
    label = "schedules"
    verbose_name = _("Recurring tasks")

    def ready(self) -> None:
        from houqin.core.permissions import register_row_rule
        from houqin.core.registry import DemoGenerator, MenuItem, PeriodicJob, Widget, registry

        from . import demo, selectors, services
        from .models import NO_TASK_ROLES, Task

        registry.menu_group("tasks", _("Tasks"), order=50)
        registry.menu_item("tasks", MenuItem(_("My tasks"), "schedules:my_tasks", "schedules.view_task", order=0))
        from . import entities  # noqa: F401 - registers the plan and task entities and their menu entries

        register_row_rule(Task, selectors.task_row_rule)

        # Plans are managed by the logistics office; leaders read them. Everyone with a school role may be
        # given tasks and sees their own (the row rule); supervisors see and manage all of the school's.
        managers = ["logistics_director", "logistics_clerk", "sysadmin"]
        plan_perms = [f"schedules.{a}_plan" for a in ("view", "add", "change")]
        task_perms = [f"schedules.{a}_task" for a in ("view", "add", "change")]
        registry.grant(managers, plan_perms + task_perms)
        registry.grant(["principal", "vice_principal"], ["schedules.view_plan", "schedules.view_task"])
        registry.grant([code for code in registry.roles if code not in NO_TASK_ROLES], ["schedules.view_task"])
        registry.grant(["bureau"], ["schedules.view_plan", "schedules.view_task"])

        registry.add_periodic(PeriodicJob("schedules.tick", services.tick, every_minutes=5))
        registry.add_widget(Widget("schedules.my_tasks", _("My tasks"), "schedules/widget_my_tasks.html",
                                   selectors.my_tasks_widget, order=5))
        registry.add_demo(DemoGenerator("schedules", demo.generate, order=40))
