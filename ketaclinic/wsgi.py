"""WSGI entry point for granian (make run) or any WSGI server in production."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
application = get_wsgi_application()
