"""Houqin settings: one module, driven by HOUQIN_* environment variables (healthchecks style).

School mode (the default) needs no configuration at all: SQLite under ``var/``, a secret key
generated once into an owner-only file, media on the local disk. District mode sets
``HOUQIN_MODE=district`` and ``HOUQIN_DB_URL=postgres://…``.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


VAR_DIR = Path(env_str("HOUQIN_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Return HOUQIN_SECRET_KEY, else a key generated once into an owner-only file in var/."""
    key = env_str("HOUQIN_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


# SQLite's page cache per connection (one per worker). 8 MB holds what list pages read again and
# again; a larger one mostly keeps an export's or a big search's pages and grows every worker's RSS
# (bench/: with 20 MB, workers were 103/100 MB after an export and 111/108 after writes; with 8,
# 90/89 and 99/96).
SQLITE_CACHE_MB = max(1, env_int("HOUQIN_SQLITE_CACHE_MB", 8))


def database_from_url(url: str) -> dict:
    """Translate HOUQIN_DB_URL (sqlite:///path or postgres://user:pw@host:port/name) to Django."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        name = path[1:] if path.startswith("//") else path  # sqlite:////abs and sqlite:///rel
        if name in ("", "/:memory:", ":memory:"):
            name = ":memory:"
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {
                # SQLite is a real production database here (architecture.md §3): WAL lets
                # readers proceed beside one writer, IMMEDIATE takes the write lock at BEGIN so
                # two writers queue on the busy timeout instead of failing with "database is
                # locked" when one upgrades a read transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                # The page cache is per connection, i.e. per worker, and counts in its RSS once
                # filled (an export or a search reads enough to fill it): HOUQIN_SQLITE_CACHE_MB.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
                    f"PRAGMA foreign_keys=ON; PRAGMA cache_size=-{1024 * SQLITE_CACHE_MB}; PRAGMA temp_store=MEMORY;"
                ),
            },
            # Keep the connection (and its page cache) across requests instead of reopening the file
            # and re-running the PRAGMAs each time: the bench floor went from ~8 to ~4 ms (bench/).
            "CONN_MAX_AGE": None if name == ":memory:" else 600,
            "CONN_HEALTH_CHECKS": True,
        }
    if parsed.scheme in ("postgres", "postgresql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(f"HOUQIN_DB_URL: unsupported scheme {parsed.scheme!r}")


SECRET_KEY = _secret_key()
DEBUG = env_bool("HOUQIN_DEBUG", False)
HOUQIN_MODE = env_choice("HOUQIN_MODE", "school", ("school", "district"))
HOUQIN_BIND = env_str("HOUQIN_BIND", "127.0.0.1:8000")
HOUQIN_HTTPS = env_bool("HOUQIN_HTTPS", False)

_default_hosts = "127.0.0.1,localhost,[::1]"
if HOUQIN_BIND.startswith(("0.0.0.0", "[::]")):  # noqa: S104 (an explicit operator choice)
    # Serving the school LAN: the server is reached by whatever address the school gives it.
    _default_hosts = "*"
ALLOWED_HOSTS = [h.strip() for h in env_str("HOUQIN_ALLOWED_HOSTS", _default_hosts).split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env_str("HOUQIN_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "houqin.core",
    "houqin.org",
    "houqin.notifications",
    "houqin.approvals",
    "houqin.schedules",
    "houqin.signin",
    "houqin.assets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "houqin.core.middleware.RequestIdMiddleware",
    "houqin.core.middleware.PasswordChangeRequiredMiddleware",
    # Login page → PIN pad on a paired tablet, → WeCom/DingTalk inside their apps; idle tablet sessions end.
    "houqin.signin.middleware.SigninMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the Chinese lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "houqin.urls"
WSGI_APPLICATION = "houqin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "houqin.core.templating.DjangoTemplates",  # frees each page's context at once (templating.py)
        "NAME": "django",  # the alias Django's own backend has
        "DIRS": [BASE_DIR / "houqin" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "houqin.core.context_processors.shell",
            ],
            "builtins": ["houqin.core.templatetags.houqin_tags"],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("HOUQIN_DB_URL", f"sqlite:///{VAR_DIR / 'houqin.sqlite3'}"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # psycopg is installed for district mode, and DRF's compat module imports
    # django.contrib.postgres.fields whenever it can, which loads psycopg into every worker: ~10 MB
    # each (bench/) on a school server that never talks to PostgreSQL. Mark it absent; DRF then
    # leaves out its PostgreSQL fields. A process that has already imported psycopg keeps it.
    import sys

    sys.modules.setdefault("psycopg", None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    # Axes first so that a locked-out username/address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "houqin.core.auth.LoginBackend",
    # Sessions opened by a WeCom/DingTalk sign-in or a tablet PIN (they check no password themselves).
    "houqin.signin.backends.PlatformBackend",
    "houqin.signin.backends.DeviceBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "houqin.core.auth.LettersAndDigitsValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 12 idle hours or when the browser closes on a shared office PC.
SESSION_COOKIE_AGE = env_int("HOUQIN_SESSION_HOURS", 12) * 3600
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

# django-axes: 5 failures per username and address, then a 15-minute cool-off (issue 2 §7).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The login log is kept at least six months (网络安全法 第二十一条); see core.LoginEvent.
LOGIN_LOG_RETENTION_DAYS = env_int("HOUQIN_LOGIN_LOG_DAYS", 190)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "houqin" / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
BACKUP_DIR = VAR_DIR / "backups"
BACKUP_KEEP = env_int("HOUQIN_BACKUP_KEEP", 14)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an API client without credentials gets 401 with a WWW-Authenticate header.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # One error shape for ValidationError, PermissionDenied and TransitionNotAllowed (§4.9).
    "EXCEPTION_HANDLER": "houqin.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Houqin API",
    "DESCRIPTION": "Campus logistics (后勤) REST API. Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's local copy: school intranets are often offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several documents have a "status" with their own states: name each choice set once.
    "ENUM_NAME_OVERRIDES": {
        "AssetUseStatusEnum": "houqin.assets.choices.UseStatus",
        "AssetMoveStatusEnum": "houqin.assets.models.documents.AssetMove.Status",
        "AssetLoanStatusEnum": "houqin.assets.models.documents.AssetLoan.Status",
        "AssetRepairStatusEnum": "houqin.assets.models.documents.AssetRepair.Status",
        "AssetDisposalStatusEnum": "houqin.assets.models.documents.AssetDisposal.Status",
        "StocktakeStatusEnum": "houqin.assets.models.stocktake.Stocktake.Status",
        "HandoverStatusEnum": "houqin.assets.models.stocktake.Handover.Status",
        "AccountingClassEnum": "houqin.assets.choices.AccountingClass",
        "LedgerClassEnum": "houqin.assets.choices.LEDGER_CLASSES",
    },
}
# Attachments: photos and PDFs up to this size; larger uploads are refused with a message.
HOUQIN_ATTACHMENT_MAX_BYTES = env_int("HOUQIN_ATTACHMENT_MAX_MB", 10) * 1024 * 1024
# Lists: rows exported inline; a larger export runs on the job worker (core.export_list) with progress.
HOUQIN_IMPORT_INLINE_MAX = env_int("HOUQIN_IMPORT_INLINE_MAX", 10000)  # larger imports are written on the worker
HOUQIN_EXPORT_INLINE_MAX = env_int("HOUQIN_EXPORT_INLINE_MAX", 10000)
# List printouts (PDF) of more rows are typeset on the job worker (core.print_list), with this timeout.
HOUQIN_PRINT_INLINE_MAX = env_int("HOUQIN_PRINT_INLINE_MAX", 2000)
HOUQIN_PRINT_JOB_TIMEOUT = env_int("HOUQIN_PRINT_JOB_TIMEOUT", 600)  # seconds

# Background jobs (architecture §4.6 "Processes"), one interface: houqin.core.jobs. HOUQIN_JOBS says
# where they run: "db" (school mode) in the database queue of django-tasks-db, run by
# `manage.py run_worker`; "celery" (district mode) on Celery over Redis (`celery -A houqin worker`,
# periodic jobs from `celery -A houqin beat`); "immediate" inline in enqueue() (tests, scripts).
HOUQIN_JOBS = env_choice("HOUQIN_JOBS", "celery" if HOUQIN_MODE == "district" else "db", ("db", "celery", "immediate"))
TASKS = {
    # The job id enqueue() chose becomes the DBTaskResult's id (houqin.core.jobs.next_job_id).
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                "OPTIONS": {"id_function": "houqin.core.jobs.next_job_id"}},
    "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
}
HOUQIN_JOBS_KEEP_DAYS = env_int("HOUQIN_JOBS_KEEP_DAYS", 7)  # finished jobs, progress rows and export files
# A running tracked job writes a heartbeat this often; one silent for HOUQIN_JOB_STALE_MINUTES belongs to a
# worker that was killed: it is marked failed when a worker starts and by the periodic core.recover_jobs.
HOUQIN_JOB_HEARTBEAT_SECONDS = env_int("HOUQIN_JOB_HEARTBEAT_SECONDS", 60)
HOUQIN_JOB_STALE_MINUTES = env_int("HOUQIN_JOB_STALE_MINUTES", 10)
HOUQIN_EXPORT_DIR = VAR_DIR / "exports"  # large exports written by the worker, <job id>.xlsx
HOUQIN_WEB_WORKERS = env_int("HOUQIN_WEB_WORKERS", 2)  # gunicorn workers started by `manage.py serve`
# Each web worker is replaced after this many requests (and up to a tenth more, so that they do not all
# restart at once): an inline import, export or PDF leaves Python holding memory it will not give back,
# and a fresh worker starts at ~70 MB (bench/). 0: never.
HOUQIN_WEB_MAX_REQUESTS = max(0, env_int("HOUQIN_WEB_MAX_REQUESTS", 1000))
HOUQIN_REDIS_URL = env_str("HOUQIN_REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = HOUQIN_REDIS_URL
CELERY_RESULT_BACKEND = HOUQIN_REDIS_URL
CELERY_RESULT_EXPIRES = HOUQIN_JOBS_KEEP_DAYS * 86400
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Notifications. E-mail goes through the school's or district's SMTP server (each school switches
# e-mail on in its channel settings); WeCom/DingTalk group robots through the webhooks schools enter.
EMAIL_HOST = env_str("HOUQIN_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("HOUQIN_SMTP_PORT", 25)
EMAIL_HOST_USER = env_str("HOUQIN_SMTP_USER")
EMAIL_HOST_PASSWORD = env_str("HOUQIN_SMTP_PASSWORD")
EMAIL_USE_SSL = env_bool("HOUQIN_SMTP_SSL", False)  # implicit TLS, usually port 465
EMAIL_USE_TLS = env_bool("HOUQIN_SMTP_STARTTLS", False)  # STARTTLS, usually port 587
EMAIL_TIMEOUT = env_int("HOUQIN_SMTP_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("HOUQIN_MAIL_FROM", "houqin@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address staff open Houqin at (https://houqin.example.edu.cn): links in e-mails and robot messages.
HOUQIN_SITE_URL = env_str("HOUQIN_SITE_URL")
# A robot entered as a bare key or access token is sent to these addresses (an intranet relay can stand in).
HOUQIN_WECOM_WEBHOOK_BASE = env_str("HOUQIN_WECOM_WEBHOOK_BASE", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send")
HOUQIN_DINGTALK_WEBHOOK_BASE = env_str("HOUQIN_DINGTALK_WEBHOOK_BASE", "https://oapi.dingtalk.com/robot/send")
HOUQIN_NOTIFY_TIMEOUT = env_int("HOUQIN_NOTIFY_TIMEOUT", 5)  # seconds per webhook request
HOUQIN_NOTIFY_MAX_ATTEMPTS = env_int("HOUQIN_NOTIFY_MAX_ATTEMPTS", 6)  # then the message is given up ("dead")
HOUQIN_NOTIFY_BATCH = env_int("HOUQIN_NOTIFY_BATCH", 500)  # messages per delivery run (once a minute)
HOUQIN_NOTIFY_KEEP_DAYS = env_int("HOUQIN_NOTIFY_KEEP_DAYS", 180)  # sent messages and read notifications

# WeCom (企业微信) / DingTalk (钉钉) sign-in (Platform III §6): the platforms' endpoint base URLs (tests point
# them at a local fake). Each school enters its corp ID, app and secret on the sign-in settings page.
HOUQIN_WECOM_OAUTH_URL = env_str("HOUQIN_WECOM_OAUTH_URL", "https://open.weixin.qq.com")
HOUQIN_WECOM_SSO_URL = env_str("HOUQIN_WECOM_SSO_URL", "https://login.work.weixin.qq.com")
HOUQIN_WECOM_API_URL = env_str("HOUQIN_WECOM_API_URL", "https://qyapi.weixin.qq.com")
HOUQIN_DINGTALK_OAUTH_URL = env_str("HOUQIN_DINGTALK_OAUTH_URL", "https://login.dingtalk.com")
HOUQIN_DINGTALK_API_URL = env_str("HOUQIN_DINGTALK_API_URL", "https://api.dingtalk.com")
# DingTalk's older server API (app token, unionId → userid, work notices to a person).
HOUQIN_DINGTALK_OAPI_URL = env_str("HOUQIN_DINGTALK_OAPI_URL", "https://oapi.dingtalk.com")
# Shared gate/canteen tablets: a person's PIN session ends after this many minutes without use.
HOUQIN_DEVICE_IDLE_MINUTES = env_int("HOUQIN_DEVICE_IDLE_MINUTES", 3)

# Security headers. With HOUQIN_HTTPS=1 and debug off, `check --deploy` is clean.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HOUQIN_HTTPS:
    SECURE_SSL_REDIRECT = env_bool("HOUQIN_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HOUQIN_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = False
    SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload is a domain owner's decision
else:
    # A plain-HTTP school intranet: there is no certificate to redirect to, and secure-only
    # cookies would make login impossible. Only the HTTPS checks are silenced; all others stay.
    SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008", "security.W012", "security.W016"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("HOUQIN_LOG_LEVEL", "WARNING")},
}

# Verbose names of the school's modules that can be switched off (issue 2 §5).
HOUQIN_APP_NAME = _("Houqin campus logistics")
