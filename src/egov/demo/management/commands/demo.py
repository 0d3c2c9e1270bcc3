from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Migrate, collect static files, seed the demo country and serve it."

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
            call_command("serve", bind=options["bind"])
