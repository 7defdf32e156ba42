"""Test settings: the production settings with fast hashing and an in-memory database (HackSoft style)."""

import os

os.environ.setdefault("HOUQIN_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))

from houqin.settings import *  # noqa: E402,F403
from houqin.settings import DATABASES, env_str  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not env_str("HOUQIN_DB_URL"):
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# A sample voidable ledger for the entity machinery's tests (tests/sampleapp); never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.sampleapp"]  # noqa: F405
