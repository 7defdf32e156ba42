from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from houqin.core.registry import registry

from .models import Device, Provider, SigninConfig
from .services import validate_pin

PIN_ATTRS = {"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off", "maxlength": "6",
             "class": "form-control"}


class SigninConfigForm(forms.ModelForm):
    secret = forms.CharField(
        label=capfirst(_("app secret")), required=False, max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "class": "form-control"}),
    )

    class Meta:
        model = SigninConfig
        fields = ("provider", "corp_id", "app_key", "agent_id", "secret", "wecom_scope", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hint = self.instance.secret_hint if self.instance.pk else ""
        self.fields["secret"].help_text = (
            _("Saved: %(hint)s. Leave empty to keep it.") % {"hint": hint} if hint
            else _("The app's Secret (WeCom) or AppSecret (DingTalk).")
        )
        for name, field in self.fields.items():
            if name != "enabled" and not isinstance(field.widget, forms.PasswordInput):
                field.widget.attrs.setdefault("class", "form-select" if name in ("provider", "wecom_scope")
                                              else "form-control")

    def clean(self):
        data = super().clean()
        if not data.get("enabled"):
            return data
        required = ["corp_id", "agent_id"] if data.get("provider") == Provider.WECOM else ["app_key"]
        for name in required:
            if not (data.get(name) or "").strip():
                self.add_error(name, _("Needed to switch the sign-in on."))
        if not data.get("secret") and not self.instance.secret:
            self.add_error("secret", _("Needed to switch the sign-in on."))
        return data


def role_choices():
    return [(code, role.label) for code, role in sorted(registry.roles.items(), key=lambda kv: kv[1].order)
            if code not in ("sysadmin", "bureau")]


class DeviceForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=capfirst(_("roles allowed")), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=Device._meta.get_field("roles").help_text,
    )

    class Meta:
        model = Device
        fields = ("name", "kind", "roles", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices()
        self.fields["name"].widget.attrs.setdefault("class", "form-control")
        self.fields["kind"].widget.attrs.setdefault("class", "form-select")

    def clean(self):
        data = super().clean()
        if data.get("kind") == Device.Kind.OTHER and not data.get("roles"):
            self.add_error("roles", _("Choose who may sign in on this tablet."))
        return data


class PairForm(forms.Form):
    code = forms.CharField(
        label=_("Pairing code"), max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "class": "form-control",
                                      "spellcheck": "false"}),
    )


class PinSetForm(forms.Form):
    pin1 = forms.CharField(label=_("New PIN"), widget=forms.PasswordInput(attrs=PIN_ATTRS),
                           help_text=_("4 to 6 digits; not one digit repeated and not a run such as 1234."))
    pin2 = forms.CharField(label=_("New PIN again"), widget=forms.PasswordInput(attrs=PIN_ATTRS))

    def clean_pin1(self):
        pin = self.cleaned_data["pin1"].strip()
        validate_pin(pin)
        return pin

    def clean(self):
        data = super().clean()
        if data.get("pin1") and data.get("pin2", "").strip() != data["pin1"]:
            raise ValidationError(_("The two PINs differ."), code="pin_mismatch")
        return data


class PinLoginForm(forms.Form):
    pin = forms.CharField(label=_("PIN"), max_length=6, widget=forms.PasswordInput(attrs={
        **PIN_ATTRS, "class": "form-control pin-input", "autofocus": True}))
