"""What a client may send to the safety work of measurement-based care, validated once for pages and API."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict

from ketaclinic.patients.inputs import Strict, Text

SAFETY_PLAN_MAX = 8000
NOTE_MAX = 2000


class SafetyPlanIn(Strict):
    """A safety plan recorded with the patient (warning signs, coping steps, people and places, the
    professionals and crisis lines to call, making the surroundings safe). Recording one closes an open
    high C-SSRS alert."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan_text": "Warning signs: not sleeping, withdrawing. Coping: walk, call sister. "
                    "Crisis: call or text 988; 911 if in immediate danger. Means: medicines locked away."
                }
            ]
        }
    )

    plan_text: Annotated[str, Text(SAFETY_PLAN_MAX, required=True)]


class AlertCloseIn(Strict):
    """Closing a worsening flag after review: what was decided. Suicide-item and high C-SSRS alerts close
    only by their own step (a C-SSRS, a safety plan), never by hand."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Reviewed with the patient; next session brought forward."}]}
    )

    note: Annotated[str, Text(NOTE_MAX, required=True)]
