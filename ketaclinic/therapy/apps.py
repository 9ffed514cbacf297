from django.apps import AppConfig


class TherapyConfig(AppConfig):
    """Ketamine-assisted psychotherapy: each patient's care team, preparation, integration, KAP and low-dose
    talk sessions, their templated notes (signed, then amended) and psychotherapy-note privacy."""

    name = "ketaclinic.therapy"
    label = "therapy"
    verbose_name = "Therapy"

    def ready(self) -> None:
        from ketaclinic.assessments.worklist import add_worklist_source
        from ketaclinic.floor.views import add_board_listing
        from ketaclinic.therapy.kap import preparation_gate, worklist_items
        from ketaclinic.therapy.queries import board_listing
        from ketaclinic.treatment.actions import add_dose_gate

        # The floor board (below this app) lists today's therapy sessions that use a chair or room.
        add_board_listing(board_listing)
        # The worklist lists integration due after each dose; the first dose of a KAP plan waits for
        # preparation (therapy/kap.py).
        add_worklist_source(worklist_items)
        add_dose_gate(preparation_gate)
