import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Migrate, collect static files, seed the demo country and serve it with a worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="prepare only")

    def handle(self, *args: Any, **options: Any) -> None:
        built = settings.PACKAGE_DIR / "static" / "egov" / "dist" / "app.css"
        if not built.exists():
            raise CommandError("The front end is not built: run `npm ci && npm run build` first.")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("seed", verbosity=options["verbosity"])
        if not options["no_serve"]:
            # The background worker (notifications, automatic workflow steps) runs beside the
            # web server and stops with it.
            worker = subprocess.Popen([sys.executable, "-m", "egov.cli", "worker"])
            try:
                call_command("serve", bind=options["bind"])
            finally:
                worker.terminate()
                worker.wait(timeout=15)
