from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username, staff number or mobile number"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    error_messages = {
        "invalid_login": _("The username or password is not correct. Note that the password is case-sensitive."),
        "inactive": _("This account has been disabled. Please contact the system administrator."),
    }


class ChangePasswordForm(PasswordChangeForm):
    pass


class UnlockForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
