from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp

from egov.demo.accounts import DEMO_ACCOUNTS


class Command(BaseCommand):
    help = "Print the current authenticator code of a demo account (demo accounts only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        account = next((a for a in DEMO_ACCOUNTS if a.email == options["email"]), None)
        if account is None or account.totp_secret_hex is None:
            raise CommandError("Not a demo account with an authenticator.")
        self.stdout.write(f"{totp(bytes.fromhex(account.totp_secret_hex)):06d}")
