"""The note templates of therapy sessions, as data: one registry. Each template has its key (the API's
`template`), its label, the session kinds it is written for and its fields in order. Pages draw a note's
form and its view from the entry; the input checks a note's content against it. A new template is one entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.therapy.models import TherapyKind

FIELD_MAX_CHARS = 4000


@dataclass(frozen=True)
class NoteField:
    key: str
    label: str
    hint: str = ""


@dataclass(frozen=True)
class Template:
    key: str
    label: str
    kinds: frozenset[str]
    fields: tuple[NoteField, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "preparation",
            "Preparation",
            frozenset({TherapyKind.PREPARATION}),
            (
                NoteField("intentions", "Intentions", "What the patient hopes the treatment brings"),
                NoteField("concerns", "Concerns", "Fears and questions about the experience"),
                NoteField("set_and_setting", "Set and setting", "Mindset, support, the room, music"),
            ),
        ),
        Template(
            "integration",
            "Integration",
            frozenset({TherapyKind.INTEGRATION}),
            (
                NoteField("experience", "Experience", "What the patient went through in the dose session"),
                NoteField("themes", "Themes"),
                NoteField("insights", "Insights"),
                NoteField("application", "Applying them", "How the patient is applying the insights"),
                NoteField("homework", "Homework"),
            ),
        ),
        Template(
            "kap",
            "KAP in-session",
            frozenset({TherapyKind.KAP, TherapyKind.LOW_DOSE_TALK}),
            (
                NoteField("in_session", "In session", "Process and interventions during the dose"),
                NoteField("observations", "Observations", "Presentation, affect, dissociation as seen"),
                NoteField("plan", "Plan", "Next steps and the next session"),
            ),
        ),
    )
}


def template_for_kind(kind: str) -> Template:
    """The template a session of this kind is written in (the first that names the kind)."""
    return next(t for t in TEMPLATES.values() if kind in t.kinds)
