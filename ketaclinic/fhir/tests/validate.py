"""Structural validation of exported resources with fhir.resources' R4B models (R4B = R4 for these types)."""

from __future__ import annotations

import importlib
from typing import Any


def validate(resource: dict[str, Any]) -> None:
    """Raise pydantic's ValidationError when the resource is not valid R4(B) JSON."""
    name = resource["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{name.lower()}")
    getattr(module, name).model_validate(resource)
