"""The API's OpenAPI page inside KetaClinic's layout, with the navigation every page has.

django-ninja renders Swagger UI as a page of its own. This renderer gives the same Swagger UI the app's
layout (web/base.html): the assets are the ones ninja vendors and serves from /static/ninja/ (no CDN), the
settings travel as a JSON data block, and ninja's swagger-ui-init.js starts it, so no inline script is
needed. Swagger UI sets inline styles; the docs path's CSP allows those (web/middleware.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import Swagger

if TYPE_CHECKING:
    from ninja import NinjaAPI

TEMPLATE = "web/api_docs.html"


class AppSwagger(Swagger):
    """Swagger UI in the app's layout."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        return render(request, TEMPLATE, {"api": api, "swagger_settings": settings})
