import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ChannelConfig, OutboxMessage

_KEY = re.compile(r"[A-Za-z0-9_\-]{8,200}")


def _webhook(value: str) -> str:
    value = (value or "").strip()
    if value and not (value.lower().startswith(("http://", "https://")) or _KEY.fullmatch(value)):
        raise forms.ValidationError(
            _("Enter the webhook address (starting with https://) or only the key from it."))
    return value


class ChannelConfigForm(forms.ModelForm):
    """The school's channels. The DingTalk secret is never shown again: empty keeps the saved one."""

    clear_dingtalk_secret = forms.BooleanField(label=gettext_lazy("Remove the saved DingTalk secret"),
                                               required=False,
                                               widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    class Meta:
        model = ChannelConfig
        fields = ("email_enabled", "wecom_webhook", "dingtalk_webhook", "dingtalk_secret", "quiet_start",
                  "quiet_end", "hold_on_days_off")
        widgets = {
            "wecom_webhook": forms.TextInput(attrs={"class": "form-control", "autocomplete": "off",
                                                    "spellcheck": "false"}),
            "dingtalk_webhook": forms.TextInput(attrs={"class": "form-control", "autocomplete": "off",
                                                       "spellcheck": "false"}),
            "dingtalk_secret": forms.PasswordInput(render_value=False, attrs={"class": "form-control",
                                                                              "autocomplete": "off"}),
            "quiet_start": forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
            "email_enabled": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "hold_on_days_off": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["email_enabled", "wecom_webhook", "dingtalk_webhook", "dingtalk_secret",
                           "clear_dingtalk_secret"])
        self.saved_secret = self.instance.dingtalk_secret if self.instance else ""
        if self.saved_secret:
            self.fields["dingtalk_secret"].help_text = _("A secret is saved. Leave empty to keep it.")

    def clean_wecom_webhook(self):
        return _webhook(self.cleaned_data.get("wecom_webhook"))

    def clean_dingtalk_webhook(self):
        return _webhook(self.cleaned_data.get("dingtalk_webhook"))

    def clean(self):
        data = super().clean()
        if data.get("clear_dingtalk_secret"):
            data["dingtalk_secret"] = ""
        elif not data.get("dingtalk_secret"):
            data["dingtalk_secret"] = self.saved_secret
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class DeliveryFilterForm(forms.Form):
    STATUS_CHOICES = [("", gettext_lazy("Failed and given up")), *OutboxMessage.Status.choices,
                      ("all", gettext_lazy("All"))]

    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=STATUS_CHOICES, required=False,
                               widget=forms.Select(attrs={"class": "form-select"}))
