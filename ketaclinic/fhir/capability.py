"""The CapabilityStatement of /fhir/R4/metadata: what this server reads, searches, exports and imports."""

from __future__ import annotations

from typing import Any

from ketaclinic.fhir import codes
from ketaclinic.fhir.resources import TYPES

_SEARCH = [
    {"name": "_id", "type": "token"},
    {"name": "patient", "type": "reference"},
    {"name": "_count", "type": "number"},
]
_OBSERVATION = [{"name": "code", "type": "token"}]
_PROFILE_OF = {
    "Patient": codes.PROFILE["Patient"],
    "Condition": codes.PROFILE["Condition"],
    "MedicationRequest": codes.PROFILE["MedicationRequest"],
    "AllergyIntolerance": codes.PROFILE["AllergyIntolerance"],
    "Encounter": codes.PROFILE["Encounter"],
    "QuestionnaireResponse": codes.PROFILE["QuestionnaireResponse"],
    "Provenance": codes.PROFILE["Provenance"],
}
_OBSERVATION_PROFILES = [
    codes.PROFILE[k]
    for k in (
        "screening",
        "vital-signs",
        "blood-pressure",
        "heart-rate",
        "pulse-oximetry",
        "body-weight",
        "body-height",
    )
]


def _resource(name: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": name,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": _SEARCH + (_OBSERVATION if name == "Observation" else []),
    }
    if name in _PROFILE_OF:
        out["supportedProfile"] = [_PROFILE_OF[name]]
    if name == "Observation":
        out["supportedProfile"] = _OBSERVATION_PROFILES
    if name == "Patient":
        out["interaction"].append({"code": "create"})
        out["conditionalCreate"] = True
        out["operation"] = [
            {
                "name": "export",
                "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
            }
        ]
    return out


def statement(base: str) -> dict[str, Any]:
    resources = [_resource(name) for name in TYPES]
    resources.append(
        {
            "type": "Group",
            "interaction": [],
            "operation": [
                {
                    "name": "export",
                    "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
                }
            ],
        }
    )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-28",
        "publisher": "KetaClinic",
        "kind": "instance",
        "software": {"name": "KetaClinic"},
        "implementation": {"description": "KetaClinic FHIR R4 server", "url": base},
        "fhirVersion": codes.FHIR_VERSION,
        "format": ["application/fhir+json"],
        "instantiates": ["http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Bearer tokens of the KetaClinic API (Authorization: Bearer <token>); "
                    "the same roles and locations as /api/v1."
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
