"""The roles of features.md (X-1), each a Django group kept in sync by ``sync_roles``.

Group names are the role codes; labels are translated. Later apps add their permission codenames
with ``registry.grant(roles, perms)`` in their ``AppConfig.ready()``.
"""

from django.utils.translation import gettext_lazy as _

from houqin.core.registry import Module, Role, registry

ROLES = [
    Role("principal", _("Principal"), order=10),
    Role("vice_principal", _("Vice principal for logistics"), order=20),
    Role("logistics_director", _("Logistics director"), order=30),
    Role("logistics_clerk", _("Logistics clerk"), order=40),
    Role("asset_keeper", _("Asset and store keeper"), order=50),
    Role("cashier", _("Cashier"), order=60),
    Role("accountant", _("Accountant"), order=70),
    Role("group_head", _("Group head"), order=80),
    Role("class_teacher", _("Class teacher"), order=90),
    Role("teacher", _("Teacher"), order=100),
    Role("guard", _("Guard"), order=110),
    Role("canteen_manager", _("Canteen manager"), order=120),
    Role("dorm_keeper", _("Dorm keeper"), order=130),
    Role("repair_worker", _("Repair worker"), order=140),
    Role("cleaner", _("Cleaner or gardener"), order=150),
    Role("sysadmin", _("System administrator"), order=160),
    Role("bureau", _("Education bureau viewer"), order=170),
    Role("outsourced", _("Outsourced staff"), order=180),
]
ALL = [r.code for r in ROLES]
LEADERS = ["principal", "vice_principal", "logistics_director"]
OFFICE = [*LEADERS, "logistics_clerk"]
# Roles that see every student of the school (identity numbers still masked unless allowed).
WHOLE_SCHOOL_STUDENTS = [*OFFICE, "accountant", "cashier", "sysadmin", "bureau"]
# Roles that may see full identity numbers without an explicit, logged "show".
IDENTITY_READERS = ["accountant"]
# Roles that may reveal a masked identity number, each reveal logged.
IDENTITY_REVEALERS = ["principal", "logistics_director"]

MODULES = [
    Module("dismissal_cards", _("Class and quiet-hall cards")),
    Module("water_saving_stars", _("Water-saving stars")),
    Module("class_contracting", _("Class contracting")),
]


def register() -> None:
    for role in ROLES:
        registry.add_role(role)
    for module in MODULES:
        registry.add_module(module)

    view_places = ["org.view_school", "org.view_campus", "org.view_building", "org.view_room"]
    registry.grant(ALL, view_places + ["org.view_term", "org.view_holiday", "org.view_department"])
    registry.grant([r for r in ALL if r not in ("outsourced", "guard", "cleaner")], ["org.view_staff"])
    registry.grant(
        [*WHOLE_SCHOOL_STUDENTS, "group_head", "class_teacher", "dorm_keeper"],
        ["org.view_student", "org.view_schoolclass"],
    )
    registry.grant(["teacher"], ["org.view_schoolclass"])
    manage_places = [
        f"org.{a}_{m}" for a in ("add", "change") for m in ("campus", "building", "room", "department")
    ]
    registry.grant([*OFFICE, "sysadmin", "asset_keeper"], manage_places)
    people = [f"org.{a}_{m}" for a in ("add", "change") for m in ("staff", "schoolclass", "student")]
    registry.grant(["logistics_director", "sysadmin"], people + ["org.change_school"])
    registry.grant(
        ["logistics_director", "sysadmin"],
        [f"org.{a}_{m}" for a in ("add", "change") for m in ("term", "holiday")] + ["org.delete_holiday"],
    )
    registry.grant(["logistics_director", "sysadmin"], ["org.turnover_schoolyear", "org.override_identity_check"])
    registry.grant(IDENTITY_REVEALERS, ["org.reveal_identity"])
    registry.grant(["sysadmin"], ["org.manage_accounts", "core.view_loginevent", "core.view_auditentry"])
    registry.grant(["logistics_director", "principal"], ["core.view_auditentry"])
    registry.grant(["class_teacher"], ["org.change_student"])
