"""What a client sends to record an assessment, validated once for pages and API alike.

The answers are taken as the clinical library scores them (`clinical.scales.score`): the item scores in item
order (`[0, 1, 3, ...]`), or an object from item number to score (`{"1": 0, "2": 1, ...}`; JSON object keys
are text, so item numbers written as digits are read as numbers). The C-SSRS screener takes an object of
`q1`..`q6` and `q6_past_3_months` to true/false. Whether the answers are complete and in range is the
library's judgement, made by the action, which names the item at fault (`answers.9`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, JsonValue, field_validator

from ketaclinic.clinical.scales import Instrument
from ketaclinic.patients.inputs import Moment, Strict, one_of

INSTRUMENTS = [i.value for i in Instrument]
CHANNELS = ["email", "sms", "none"]


class AssessmentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "instrument": "phq9",
                    "answers": [2, 2, 1, 2, 1, 1, 1, 0, 0],
                    "taken_at": "2026-03-02T09:05:00-08:00",
                }
            ]
        }
    )
    instrument: Annotated[str, one_of(INSTRUMENTS)]
    answers: JsonValue = Field(
        description="Item scores in item order, or an object from item number to score; the C-SSRS screener "
        "takes q1..q6 and q6_past_3_months as true/false"
    )
    # Now when not given; never in the future.
    taken_at: Moment | None = None

    @field_validator("instrument")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in INSTRUMENTS:
            raise ValueError(f"'{value}' is not an instrument; expected one of: {', '.join(INSTRUMENTS)}")
        return value


class AssessmentRequestIn(Strict):
    """A one-off request: the instrument, when it is due (now when not given) and how the link is sent."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"instrument": "phq9", "channel": "email"}]})
    instrument: Annotated[str, one_of(INSTRUMENTS)]
    due_at: Moment | None = None
    channel: Annotated[str, one_of(CHANNELS)] = "none"

    @field_validator("instrument")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in INSTRUMENTS:
            raise ValueError(f"'{value}' is not an instrument; expected one of: {', '.join(INSTRUMENTS)}")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"'{value}' is not a channel; expected one of: {', '.join(CHANNELS)}")
        return value
