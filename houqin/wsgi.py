"""WSGI entry point (gunicorn houqin.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "houqin.settings")
application = get_wsgi_application()

# What start-up made (Django, the apps, the URL configuration: ~150,000 objects) lives as long as the worker:
# moved out of the cyclic collector's way (gc.freeze), no collection scans it again. Before, the first full
# collections of a fresh worker each scanned all of it, ~0.25 ms per request over its first few hundred
# requests (bench/assets.py's floor; python.org/3/library/gc.html#gc.freeze).
gc.collect()
gc.freeze()
