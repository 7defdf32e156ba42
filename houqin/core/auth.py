"""Login by username, staff number or mobile number; rights from roles and from departments."""

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _


class LoginBackend(ModelBackend):
    """Authenticate by username, staff number or mobile number (issue 2 §4)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        user = find_login_user(username)
        if user is None:
            # Run the hasher once to keep timing the same for unknown users.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The session's account with its school (every page shows the school's name: one query less)."""
        user = get_user_model()._default_manager.select_related("school").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def _get_group_permissions(self, user_obj):
        # Roles the user holds directly, plus roles granted to a department the person is an
        # active member of (保卫科 owns security, 学生处 the dorms: permissions follow departments).
        return Permission.objects.filter(
            Q(group__user=user_obj)
            | Q(group__granting_departments__members__user=user_obj, group__granting_departments__members__status="active")
        ).distinct()


def find_login_user(identifier: str):
    """The one active-or-not account matching a username, staff number or mobile number."""
    User = get_user_model()
    identifier = identifier.strip()
    user = User.objects.filter(username=identifier).first()
    if user is not None:
        return user
    matches = list(User.objects.filter(staff__staff_no=identifier)[:2])
    if len(matches) == 1:
        return matches[0]
    digits = re.sub(r"[\s-]", "", identifier)
    if digits.startswith("+86"):
        digits = digits[3:]
    if re.fullmatch(r"1\d{10}", digits):
        matches = list(User.objects.filter(mobile=digits)[:2])
        if len(matches) == 1:
            return matches[0]
    return None


class LettersAndDigitsValidator:
    """Password policy: at least one letter and one digit (common rule in school IT policies)."""

    def validate(self, password, user=None):
        if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
            raise ValidationError(
                _("The password must contain both letters and digits."), code="password_letters_digits"
            )

    def get_help_text(self):
        return _("Your password must contain both letters and digits.")
