from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    """WeCom / DingTalk sign-in (OAuth, matched by mobile number) and shared tablets with personal PINs."""

    name = "houqin.signin"
    label = "signin"
    verbose_name = _("Sign-in")

    def ready(self) -> None:
        from houqin.core.entities import not_an_entity
        from houqin.core.registry import MenuItem, registry

        not_an_entity("signin.signinconfig", "one row per school, edited on the sign-in settings page; the secret "
                      "is never shown back")
        not_an_entity("signin.platformaccount", "written at each WeCom/DingTalk sign-in, read by "
                      "selectors.platform_user_id for app messages")
        not_an_entity("signin.device", "shared tablets are added, paired and unpaired on the tablets page "
                      "(pairing codes and token hashes must not be generic fields)")
        not_an_entity("signin.staffpin", "PIN hashes: set by the person on the PIN page or by an administrator "
                      "on the tablet PINs page")

        # Notifications also go to each person through the school's WeCom / DingTalk app.
        from .messages import register_channels

        register_channels()

        registry.grant(["sysadmin"], ["signin.manage_signin"])
        registry.grant(["sysadmin", "logistics_director"], ["signin.manage_devices"])
        registry.menu_item("admin", MenuItem(_("WeCom / DingTalk sign-in"), "signin:config", "signin.manage_signin",
                                             order=40))
        registry.menu_item("admin", MenuItem(_("Shared tablets"), "signin:devices", "signin.manage_devices",
                                             order=50))
        registry.menu_item("admin", MenuItem(_("Tablet PINs"), "signin:pins", "signin.manage_devices", order=55))
        # Anyone with a staff record may set a PIN (tablets of kind "other" take any role), so no permission.
        registry.menu_group("account", _("My account"), order=990)
        registry.menu_item("account", MenuItem(_("My tablet PIN"), "signin:my_pin", None, order=10))
