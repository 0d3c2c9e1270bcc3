from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "egov.documents"
    label = "documents"
    verbose_name = "Signed documents"

    def ready(self) -> None:
        # Registers the issue_document workflow action.
        from egov.documents import services  # noqa: F401
