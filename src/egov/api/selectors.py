"""Reads the API needs that the catalogue's selectors do not offer yet.

They belong in ``egov.catalog.selectors`` (a service's current version); they live here only
until that module gains them, and they read nothing but published catalogue data.
"""

from __future__ import annotations

from egov.catalog.models import Service, ServiceVersion, VersionStatus


def version_published(*, service: Service) -> ServiceVersion | None:
    """The version people apply with now, or None when the service has no online form."""
    return service.versions.filter(status=VersionStatus.PUBLISHED).first()


def version_to_apply_with(*, service: Service) -> ServiceVersion | None:
    """The published version, or else the last one that was: a submission repeated after the
    version retired must still find the application it made, and a new one on it is refused
    by ``application_submit``."""
    return version_published(service=service) or (
        service.versions.exclude(status=VersionStatus.DRAFT).order_by("-number").first()
    )
