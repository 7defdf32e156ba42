"""WeCom / DingTalk sign-in settings, platform accounts, shared tablets and personal PINs (Platform III §6)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from houqin.core.models import BaseModel, SchoolScopedModel


class Provider(models.TextChoices):
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")


class SigninConfig(BaseModel):
    """One school's WeCom or DingTalk app: users sign in through it and are matched by mobile number.

    The secret is stored as entered (the platform needs it in clear) and never shown again in full.
    """

    class WeComScope(models.TextChoices):
        PRIVATE = "snsapi_privateinfo", _("Mobile number from the sign-in ticket (apps created since June 2022)")
        BASE = "snsapi_base", _("Silent: mobile number from the member record (older apps)")

    school = models.OneToOneField(
        "org.School", on_delete=models.CASCADE, related_name="signin_config", verbose_name=_("school")
    )
    provider = models.CharField(_("platform"), max_length=10, choices=Provider.choices, default=Provider.WECOM)
    corp_id = models.CharField(
        _("corp ID"), max_length=64, blank=True,
        help_text=_("WeCom: the CorpID (我的企业 → 企业信息). DingTalk: the corpId; optional, when given only "
                    "members of that organisation can sign in."),
    )
    app_key = models.CharField(
        _("app key"), max_length=64, blank=True, help_text=_("DingTalk only: the app's AppKey (Client ID)."),
    )
    agent_id = models.CharField(
        _("agent ID"), max_length=32, blank=True,
        help_text=_("The app's AgentId; notifications are sent through the same app."),
    )
    secret = models.CharField(_("app secret"), max_length=200, blank=True)
    wecom_scope = models.CharField(
        _("WeCom mobile number source"), max_length=20, choices=WeComScope.choices, default=WeComScope.PRIVATE,
    )
    enabled = models.BooleanField(_("sign-in enabled"), default=False)

    class Meta:
        verbose_name = _("platform sign-in settings")
        verbose_name_plural = _("platform sign-in settings")
        permissions = [("manage_signin", "Can configure WeCom / DingTalk sign-in")]

    def __str__(self) -> str:
        return f"{self.school} {self.get_provider_display()}"

    @property
    def client_id(self) -> str:
        """The id the OAuth flow is started with: the CorpID on WeCom, the AppKey on DingTalk."""
        return self.app_key if self.provider == Provider.DINGTALK else self.corp_id

    @property
    def secret_hint(self) -> str:
        """The last characters of the secret, to recognise it without showing it."""
        if not self.secret:
            return ""
        return "••••" + self.secret[-4:] if len(self.secret) > 8 else "••••"


class PlatformAccount(BaseModel):
    """The WeCom userid or DingTalk unionId of an account, kept at each sign-in for app messages."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="platform_accounts",
        verbose_name=_("account"),
    )
    school = models.ForeignKey("org.School", on_delete=models.CASCADE, related_name="+", verbose_name=_("school"))
    provider = models.CharField(_("platform"), max_length=10, choices=Provider.choices)
    platform_user_id = models.CharField(_("platform user ID"), max_length=128)
    last_login_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("platform account")
        verbose_name_plural = _("platform accounts")
        constraints = [
            models.UniqueConstraint(fields=["user", "provider"], name="signin_platformaccount_one_per_user"),
            models.UniqueConstraint(
                fields=["school", "provider", "platform_user_id"], name="signin_platformaccount_unique_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_provider_display()} {self.platform_user_id}"


# Who may sign in on a tablet of each kind when the device names no roles of its own (role codes).
DEFAULT_DEVICE_ROLES = {"gate": ("guard",), "canteen": ("canteen_manager",), "other": ()}


class Device(SchoolScopedModel):
    """A shared gate or canteen tablet: paired once with a one-time code, then each person uses a PIN."""

    class Kind(models.TextChoices):
        GATE = "gate", _("Gate")
        CANTEEN = "canteen", _("Canteen")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.GATE)
    roles = models.JSONField(
        _("roles allowed"), default=list, blank=True,
        help_text=_("Leave empty for the default: guards on a gate tablet, canteen staff on a canteen tablet."),
    )
    active = models.BooleanField(_("active"), default=True)
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    paired_at = models.DateTimeField(_("paired at"), null=True, blank=True, editable=False)
    pairing_code_hash = models.CharField(max_length=64, blank=True, editable=False)
    pairing_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("shared tablet")
        verbose_name_plural = _("shared tablets")
        ordering = ("name",)
        permissions = [("manage_devices", "Can add shared tablets and set tablet PINs")]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="signin_device_unique_name")]

    def __str__(self) -> str:
        return self.name

    str_fields = ("name",)  # what __str__ reads (lists load only these)

    @property
    def allowed_roles(self) -> tuple[str, ...]:
        return tuple(self.roles or DEFAULT_DEVICE_ROLES.get(self.kind, ()))

    @property
    def is_paired(self) -> bool:
        return bool(self.token_hash)


class StaffPin(models.Model):
    """A person's tablet PIN (4–6 digits, hashed like a password); 5 wrong tries lock it for 15 minutes."""

    staff = models.OneToOneField(
        "org.Staff", on_delete=models.CASCADE, related_name="tablet_pin", verbose_name=_("staff member")
    )
    pin_hash = models.CharField(max_length=128)
    failed_attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    set_at = models.DateTimeField(_("set at"), null=True, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("set by"),
    )

    class Meta:
        verbose_name = _("tablet PIN")
        verbose_name_plural = _("tablet PINs")

    def __str__(self) -> str:
        return str(self.staff)
