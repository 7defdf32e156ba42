"""WSGI entry point (gunicorn houqin.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "houqin.settings")
application = get_wsgi_application()
