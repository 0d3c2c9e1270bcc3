from typing import Any

from django.core.management.base import BaseCommand

from egov.env import ENV, render_markdown


class Command(BaseCommand):
    help = "Print docs/configuration.md, generated from the declared environment variables."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(render_markdown(ENV.declared), ending="")
