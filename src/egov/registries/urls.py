"""The base registries' services: the root URLs of the registries' own web process.

Served apart from the portal (``EGOV_ROOT_URLCONF=egov.registries.urls``, port 8001 in the
demo) and reachable only through the exchange: every view checks its own provider's key,
except the health checks (``/healthz``, ``/readyz``), which say only whether the process, its
database and its migrations are in order.
Machines call it, so every error — an unknown path, a trailing slash, a failure — is
problem+json as the services' OpenAPI documents say, never an HTML page.
"""

from django.urls import URLPattern, URLResolver, include, path

from egov.registries import health

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("registries/population/v1/", include("egov.registries.population.urls")),
    path("registries/legal-entities/v1/", include("egov.registries.legal_entities.urls")),
    path("registries/addresses/v1/", include("egov.registries.addresses.urls")),
]

handler400 = "egov.registries.shared.http.bad_request"
handler404 = "egov.registries.shared.http.unknown_path"
handler500 = "egov.registries.shared.http.server_error"
