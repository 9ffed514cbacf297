from django.apps import AppConfig


class TherapyConfig(AppConfig):
    """Ketamine-assisted psychotherapy: each patient's care team, preparation, integration, KAP and low-dose
    talk sessions, their templated notes (signed, then amended) and psychotherapy-note privacy."""

    name = "ketaclinic.therapy"
    label = "therapy"
    verbose_name = "Therapy"

    def ready(self) -> None:
        from ketaclinic.floor.views import add_board_listing
        from ketaclinic.therapy.queries import board_listing

        # The floor board (below this app) lists today's therapy sessions that use a chair or room.
        add_board_listing(board_listing)
