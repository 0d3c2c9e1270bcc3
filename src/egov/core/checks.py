"""Deploy checks (``egov check --deploy``): a production process that still runs the demo's
way fails them, with errors rather than warnings, so a deployment script that runs the check
stops."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core import checks

from egov.env import ENV

#: The registries' web process answers machines only: no pages, no static files.
REGISTRIES_URLCONF = "egov.registries.urls"
#: Variables earlier releases read and this one does not: an operator who still sets one
#: believes it has an effect. What replaced each.
REMOVED_VARIABLES = {
    "EGOV_EXCHANGE_SERVICE_KEY": "removed in 0.9.0: each provider subsystem has its own key "
    "in EGOV_EXCHANGE_PROVIDER_KEYS_DIR, written by `egov exchange setup` (ADR 0008)",
}
#: Not egov's settings: the variables of deploy/bin/egov-run, which starts egov commands.
WRAPPER_VARIABLES = frozenset(
    {"EGOV_BIN", "EGOV_RUN", "EGOV_ENVIRONMENT_FILE", "EGOV_CREDENTIALS_DIR"}
)


def environment_check(environ: dict[str, str] | None = None) -> list[checks.CheckMessage]:
    """``EGOV_*`` variables this release does not read: a removed one is an error (the
    operator relies on it), another one a warning (most often a misspelt name, whose value
    is then silently not used)."""
    environ = dict(os.environ) if environ is None else environ
    messages: list[checks.CheckMessage] = []
    for name in sorted(environ):
        if not name.startswith("EGOV_") or name in ENV.declared or name in WRAPPER_VARIABLES:
            continue
        if name in REMOVED_VARIABLES:
            messages.append(
                checks.Error(
                    f"{name} is set but no longer read: {REMOVED_VARIABLES[name]}.",
                    hint=f"Remove {name} from the environment.",
                    id="egov.E006",
                )
            )
        else:
            messages.append(
                checks.Warning(
                    f"{name} is set but egov does not read it (a misspelt name?).",
                    hint="docs/configuration.md lists every variable egov reads.",
                    id="egov.W001",
                )
            )
    return messages


def static_manifest_missing() -> str | None:
    """Why the static files cannot be served, or ``None``: with a manifest storage every page
    names its files through ``staticfiles.json``, which ``collectstatic`` writes; without it
    every page is an error."""
    if settings.ROOT_URLCONF == REGISTRIES_URLCONF:
        return None
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

    storage: Any = staticfiles_storage
    if not isinstance(storage, ManifestFilesMixin):
        return None
    manifest: Any = storage.manifest_storage or storage
    if manifest.exists(storage.manifest_name):
        return None
    return (
        f"The static files have not been collected: {storage.manifest_name} is missing in "
        f"{settings.STATIC_ROOT}. Run `egov collectstatic --noinput` (with the same "
        "EGOV_STATIC_ROOT) first."
    )


@checks.register(checks.Tags.security, deploy=True)
def production_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    if settings.DEMO_MODE:
        errors.append(
            checks.Error(
                "EGOV_DEMO is on: demo accounts on the start page, a generated secret key and "
                "the demo's loopback addresses.",
                hint="Unset EGOV_DEMO in production.",
                id="egov.E001",
            )
        )
    if settings.INSECURE_HTTP:
        errors.append(
            checks.Error(
                "EGOV_INSECURE_HTTP is on: cookies are sent over plain HTTP, without an HTTPS "
                "redirect or HSTS.",
                hint="Unset EGOV_INSECURE_HTTP and serve HTTPS (deploy/nginx/).",
                id="egov.E002",
            )
        )
    if settings.DEBUG:
        errors.append(
            checks.Error(
                "DEBUG is on: error pages show settings and source code.",
                hint="Unset DEBUG in production.",
                id="egov.E003",
            )
        )
    missing = static_manifest_missing()
    if missing:
        errors.append(checks.Error(missing, id="egov.E004"))
    if settings.PROXY_COUNT and not settings.TRUSTED_PROXIES:
        errors.append(
            checks.Error(
                "EGOV_PROXY_COUNT is set but EGOV_TRUSTED_PROXIES is empty: X-Forwarded-For is "
                "removed from every request, so login throttling counts the proxy's address "
                "for every client.",
                hint="Set EGOV_TRUSTED_PROXIES to the proxies' addresses (127.0.0.1 for nginx "
                "on the same host).",
                id="egov.E005",
            )
        )
    errors.extend(environment_check())
    return errors
