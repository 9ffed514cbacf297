"""Shared fixtures: a small demo clinic network built through the actions, and its personas.

`world` loads the demo network (north and south, one persona per role at each) with a few patients per
location; tests log in as `<role>.<location>` exactly as a newcomer does in `make run`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.accounts.actions import do_create_api_token
from ketaclinic.accounts.models import User
from ketaclinic.demo import data as demo
from ketaclinic.patients.models import Patient

ROLES = ("admin", "prescriber", "nurse", "therapist", "frontdesk")


@pytest.fixture(autouse=True, scope="session")
def _jinja2_templates_report_their_context() -> Any:
    """Let the test client see a Jinja2 page's template and context (response.context), as it sees a
    Django template's: Django instruments only its own template language in tests."""
    from django.template.backends.jinja2 import Template
    from django.test.signals import template_rendered

    render = Template.render

    def instrumented(self: Template, context: Any = None, request: Any = None) -> Any:
        template_rendered.send(sender=self, template=self, context=dict(context or {}))
        return render(self, context, request)

    Template.render = instrumented  # type: ignore[method-assign]
    yield
    Template.render = render  # type: ignore[method-assign]
PATIENTS_PER_LOCATION = 4


class World:
    def user(self, name: str) -> User:
        return User.objects.get(username=name)

    def patient(self, location: str, index: int = 0) -> Patient:
        return Patient.objects.filter(location__slug=location).order_by("mrn")[index]

    def client(self, name: str | None) -> Client:
        client = Client()
        if name is not None:
            client.force_login(self.user(name))
        return client

    def token(self, name: str) -> str:
        return do_create_api_token(self.user(name))[1]

    def api(self, name: str | None) -> Client:
        """A client that sends `Authorization: Bearer <token>` for `name` (anonymous when None)."""
        headers = {"Authorization": f"Bearer {self.token(name)}"} if name else {}
        return Client(headers=headers)


@pytest.fixture
def world(db: Any) -> World:
    demo.load(timezone.localdate(), patients_per_location=PATIENTS_PER_LOCATION)
    return World()


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()
