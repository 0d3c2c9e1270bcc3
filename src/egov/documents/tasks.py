"""Background work of documents, run by ``egov worker``: tasks take ids and are idempotent."""

from __future__ import annotations

from django_tasks import task

from egov.documents import services


@task()
def document_sign(document_id: int) -> str:
    """Render and sign one document; a failure queues it again with a back-off."""
    return services.document_sign(document_id=document_id)
