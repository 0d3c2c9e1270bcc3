from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from egov.env import ENV, render_env_example, render_markdown


class Command(BaseCommand):
    help = (
        "Print docs/configuration.md, generated from the declared environment variables; "
        "with --env, the example environment file deploy/egov.env.example."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--env",
            action="store_true",
            help="Print an example environment file (every variable, the production ones set).",
        )

    def handle(self, *args: Any, env: bool = False, **options: Any) -> None:
        render = render_env_example if env else render_markdown
        self.stdout.write(render(ENV.declared), ending="")
