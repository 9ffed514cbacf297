"""Shared fixtures: a small demo clinic network built through the actions, and its personas.

`world` loads the demo network (north and south, one persona per role at each) with a few patients per
location; tests log in as `<role>.<location>` exactly as a newcomer does in `make run`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpRequest
from django.template.backends import jinja2 as jinja2_backend
from django.test import Client
from django.test.signals import template_rendered
from django.utils import timezone

from ketaclinic.accounts.actions import do_create_api_token
from ketaclinic.accounts.models import ClinicNetwork, User
from ketaclinic.demo import data as demo
from ketaclinic.patients.models import Patient

ROLES = ("admin", "prescriber", "nurse", "therapist", "frontdesk")

PATIENTS_PER_LOCATION = 4


class World:
    def user(self, name: str) -> User:
        return User.objects.get(username=name)

    def network(self, name: str) -> ClinicNetwork:
        """The clinic network a persona belongs to (every persona has one)."""
        network = self.user(name).network
        assert network is not None
        return network

    def patient(self, location: str, index: int = 0) -> Patient:
        return Patient.objects.filter(location__slug=location).order_by("mrn")[index]

    def client(self, name: str | None) -> Client:
        client = Client()
        if name is not None:
            client.force_login(self.user(name))
        return client

    def token(self, name: str) -> str:
        return do_create_api_token(self.user(name), name="test client")[1]

    def api(self, name: str | None) -> Client:
        """A client that sends `Authorization: Bearer <token>` for `name` (anonymous when None)."""
        headers = {"Authorization": f"Bearer {self.token(name)}"} if name else {}
        return Client(headers=headers)


@pytest.fixture
def world(db: None) -> World:
    demo.load(timezone.localdate(), patients_per_location=PATIENTS_PER_LOCATION)
    return World()


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture(autouse=True, scope="session")
def jinja2_context_in_responses() -> Iterator[None]:
    """`response.context` for Jinja2 pages too: the test client hears of Django templates only.

    Django's test environment instruments its own template language; this sends the same signal when a
    Jinja2 page renders, with the context the page saw (the view's, the request and the navigation).
    """
    original = jinja2_backend.Template.render

    def render(
        self: jinja2_backend.Template,
        context: dict[str, Any] | None = None,
        request: HttpRequest | None = None,
    ) -> str:
        context = {} if context is None else context
        html = original(self, context, request)  # adds the request, the CSRF token and the navigation
        template_rendered.send(sender=self, template=self, context=context)
        return html

    jinja2_backend.Template.render = render  # type: ignore[method-assign]
    yield
    jinja2_backend.Template.render = original  # type: ignore[method-assign]
