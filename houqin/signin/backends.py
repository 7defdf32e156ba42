"""Session backends of platform sign-ins and tablet PIN sign-ins.

Neither authenticates anything itself: the views check the platform's answer or the PIN and then call
``login(request, user, backend=...)``. The backend recorded in the session decides how the account is
loaded on later requests:

- no forced password change (``must_change_password`` is cleared on the loaded object only, never
  saved): a person who signs in through WeCom / DingTalk or with a PIN does not use the password, and the
  temporary password an administrator handed out stays unusable until it is changed at a password login;
- a tablet session drops the superuser flag and the administration permissions (``DEVICE_DENIED_PERMS``),
  whatever the person's roles; the middleware also refuses the account pages.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend

DEVICE_DENIED_PERMS = frozenset({
    "org.manage_accounts", "org.change_school", "core.view_loginevent", "signin.manage_signin",
    "signin.manage_devices",
})


class PlatformBackend(BaseBackend):
    """Sessions opened by a WeCom / DingTalk sign-in."""

    def authenticate(self, request, houqin_signin=None):  # only login(..., backend=...) opens these sessions
        return None

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("school").filter(pk=user_id, is_active=True).first()
        if user is not None:
            user.must_change_password = False  # this session only; see the module docstring
        return user


class DeviceBackend(PlatformBackend):
    """Sessions opened with a personal PIN on a paired shared tablet."""

    def get_user(self, user_id):
        from houqin.core.auth import LoginBackend

        user = super().get_user(user_id)
        if user is not None:
            user.is_superuser = False
            user.is_staff = False
            # ModelBackend keeps the permissions on the object (``_perm_cache``); every check of this
            # request reads the reduced set.
            perms = LoginBackend().get_all_permissions(user)
            user._perm_cache = {p for p in perms if p not in DEVICE_DENIED_PERMS}
        return user
