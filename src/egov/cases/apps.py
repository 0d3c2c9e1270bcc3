from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "egov.cases"
    label = "cases"
    verbose_name = _("Applications and cases")

    def ready(self) -> None:
        # Registers the registry data sources and the fetch_registry_data workflow action,
        # which definitions are checked against.
        from egov.cases import registry_data
        from egov.core.worker import periodic

        if "registry_checks_requeued" not in periodic:
            periodic.register("registry_checks_requeued")(
                registry_data.registry_checks_requeue_overdue
            )
