"""The `egov` console script: every management command, with `-` or `_` in its name.

egov demo          migrate, seed the demo country and serve it on 127.0.0.1:8000
egov serve         serve the platform with the production web server
egov seed          create or update the demo country (idempotent)
egov demo-code     print a demo account's current authenticator code
egov config-docs   print the configuration reference page (--env: an example environment file)
egov help          list every command
egov --version     print the installed version
"""

from __future__ import annotations

import os
import sys

#: Commands whose output is public and read by another user: nginx serves the collected
#: static files (from a static root outside the data folder, docs/deployment.md).
PUBLIC_OUTPUT_COMMANDS = frozenset({"collectstatic"})


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if args[1:2] == ["--version"]:
        # Before Django: the version needs no settings, so it works on a host not yet set up.
        from egov import __version__

        sys.stdout.write(f"egov {__version__}\n")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from egov.core.secrets import restrict_umask

    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    if len(args) < 2 or args[1] not in PUBLIC_OUTPUT_COMMANDS:
        # The database, uploads, message logs and keys this process or its children write
        # are for the platform's user only (folders 0700, files 0600).
        restrict_umask()
    try:
        settings.INSTALLED_APPS  # noqa: B018  (loads the settings, which check the environment)
    except ImproperlyConfigured as error:
        # What is missing, said once, without a traceback through Django's internals.
        sys.stderr.write(f"egov: {error}\n")
        sys.exit(2)
    execute_from_command_line(["egov", *args[1:]])


if __name__ == "__main__":
    main()
