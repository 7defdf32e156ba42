from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def _sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs):
    # post_migrate fires once per app with models, after that app's permissions are created. Run
    # after the last such app (never rely on INSTALLED_APPS' last entry having models).
    from django.apps import apps

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if app_config is None or not with_models or app_config is not with_models[-1]:
        return
    from .authcache import repair_auth_triggers
    from .roles import sync_roles
    from .rowcount import repair as repair_row_counts
    from .search_index import repair_trigram_indexes

    sync_roles()
    repair_trigram_indexes(using)  # a migration that rebuilt a table dropped its search triggers
    repair_auth_triggers(using)  # … and the permission-stamp triggers (core.authcache)
    repair_row_counts(using)  # … and the row-total triggers (core.rowcount), counting such tables again


def _client(request):
    if request is None:
        return None, ""
    ip = request.META.get("REMOTE_ADDR") or None
    return ip, request.META.get("HTTP_USER_AGENT", "")[:300]


def _log(kind, request, user=None, username=""):
    from .models import LoginEvent

    ip, agent = _client(request)
    LoginEvent.objects.create(
        user=user, username=(username or getattr(user, "username", ""))[:150], kind=kind, ip_address=ip, user_agent=agent
    )


def _connect_login_log():
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    from .models import LoginEvent

    @receiver(user_logged_in, dispatch_uid="houqin_login", weak=False)
    def on_login(sender, request, user, **kwargs):
        _log(LoginEvent.Kind.LOGIN, request, user)

    @receiver(user_logged_out, dispatch_uid="houqin_logout", weak=False)
    def on_logout(sender, request, user, **kwargs):
        if user is not None:
            _log(LoginEvent.Kind.LOGOUT, request, user)

    @receiver(user_login_failed, dispatch_uid="houqin_login_failed", weak=False)
    def on_failed(sender, credentials, request=None, **kwargs):
        _log(LoginEvent.Kind.FAILED, request, None, credentials.get("username", ""))

    @receiver(user_locked_out, dispatch_uid="houqin_locked", weak=False)
    def on_locked(sender, request, username=None, ip_address=None, **kwargs):
        _log(LoginEvent.Kind.LOCKED, request, None, username or "")


_connect_login_log()
