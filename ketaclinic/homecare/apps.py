from django.apps import AppConfig


class HomecareConfig(AppConfig):
    """At-home ketamine programs: the prescription, each home dose with its pre-dose blood pressure and
    monitor, the check-in after it, and the hold on the next dose a missing or failed check-in makes.
    """

    name = "ketaclinic.homecare"
    label = "homecare"
    verbose_name = "At-home programs"

    def ready(self) -> None:
        from ketaclinic.assessments.worklist import add_worklist_source
        from ketaclinic.homecare.portal_views import portal_cards
        from ketaclinic.homecare.queries import worklist_items
        from ketaclinic.homecare.views import chart_banners
        from ketaclinic.patients.views import add_chart_banners
        from ketaclinic.portal.views import add_home_cards

        # The chart, the worklist and the portal's home page sit below this app: each offers a registry.
        add_chart_banners(chart_banners)
        add_worklist_source(worklist_items)
        add_home_cards(portal_cards)
