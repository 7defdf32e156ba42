from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    """WeCom / DingTalk sign-in (OAuth, matched by mobile number) and shared tablets with personal PINs."""

    name = "houqin.signin"
    label = "signin"
    verbose_name = _("Sign-in")
