"""WSGI entry point (gunicorn houqin.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "houqin.settings")
application = get_wsgi_application()

# A worker freezes what start-up made and collects cyclic garbage between requests, not during them
# (houqin.core.collector).
from houqin.core import collector  # noqa: E402 - after Django is set up

collector.install()
