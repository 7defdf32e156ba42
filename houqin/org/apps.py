from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "houqin.org"
    label = "org"
    verbose_name = _("School and people")

    def ready(self) -> None:
        from houqin.core.permissions import register_row_rule
        from houqin.core.registry import DashboardFact, DemoGenerator, MenuItem, SearchProvider, registry

        from . import demo, roles, selectors
        from .models import SchoolClass, Student

        roles.register()
        register_row_rule(Student, selectors.student_row_rule)
        register_row_rule(SchoolClass, selectors.class_row_rule)

        registry.menu_group("org", _("School"), order=10)
        from . import entities  # noqa: F401 - registers the org entities and their menu entries
        registry.menu_group("admin", _("Administration"), order=900)
        registry.menu_item("admin", MenuItem(_("Modules in use"), "org:school_settings", "org.change_school", order=10))
        registry.menu_item("admin", MenuItem(_("Locked logins"), "core:lockouts", "org.manage_accounts", order=20))
        registry.menu_item("admin", MenuItem(_("Login log"), "core:login_log", "core.view_loginevent", order=30))

        for order, (label, func, url) in enumerate([
            (_("Buildings"), selectors.buildings_count, "org:building_list"),
            (_("Rooms"), selectors.rooms_count, "org:room_list"),
            (_("Classes"), selectors.classes_count, "org:schoolclass_list"),
            (_("Students"), selectors.students_count, "org:student_list"),
            (_("Staff"), selectors.staff_count, "org:staff_list"),
        ]):
            registry.add_fact(DashboardFact(label=label, count=func, url_name=url, order=order))

        registry.add_search(SearchProvider(_("People"), selectors.search_people, order=10))
        registry.add_search(SearchProvider(_("Classes"), selectors.search_classes, order=20))
        registry.add_search(SearchProvider(_("Rooms"), selectors.search_places, order=30))
        registry.add_demo(DemoGenerator("org", demo.generate, order=10))
