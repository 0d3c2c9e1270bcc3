from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "egov.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Providers register themselves on import.
        from egov.core.worker import periodic
        from egov.notifications.services import deliveries_requeue_overdue
        from egov.notifications.sms.contrib.loopback import provider  # noqa: F401

        periodic.register("deliveries_requeued")(deliveries_requeue_overdue)
