"""Seeding the demo country: the catalogue from YAML and one account per role."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.catalog.models import Agency
from egov.catalog.services import catalogue_load, definitions_load
from egov.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAccount
from egov.identity.models import Representation, User
from egov.trust.setup import Agency as TrustAgency
from egov.trust.setup import platform_pki_init, trust_setup

CATALOGUE_FILE = Path(__file__).resolve().parent.parent / "catalog" / "data" / "demo_catalogue.yaml"
DEFINITIONS_DIR = CATALOGUE_FILE.parent / "definitions"


def demo_catalogue() -> dict[str, Any]:
    with CATALOGUE_FILE.open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


def _account_ensure(account: DemoAccount) -> bool:
    """Create the account if it is missing; an existing one keeps its password and data."""
    user = User.objects.filter(email=account.email).first()
    created = user is None
    if user is None:
        agency = Agency.objects.get(code=account.agency_code) if account.agency_code else None
        user = User.objects.create_user(
            account.email,
            DEMO_PASSWORD,
            kind=account.kind,
            first_name=account.first_name,
            last_name=account.last_name,
            patronymic=account.patronymic,
            personal_number=account.personal_number,
            agency=agency,
            official_role=account.official_role,
            email_verified=True,
            is_superuser=account.kind == "admin",
        )
    if account.personal_number and user.personal_number_proven_at is None:
        # The operator made the account for this person: their number is theirs.
        User.objects.filter(pk=user.pk).update(personal_number_proven_at=timezone.now())
    if (
        account.totp_secret_hex
        and not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    ):
        TOTPDevice.objects.create(
            user=user, name="Demo authenticator", key=account.totp_secret_hex, confirmed=True
        )
    for unp, name in account.representations:
        Representation.objects.get_or_create(
            user=user,
            unp=unp,
            defaults={"organisation_name": name, "basis": Representation.Basis.DIRECTOR},
        )
    return created


def demo_seed(*, progress: Callable[[Iterable[Any]], Iterable[Any]] = iter) -> dict[str, int]:
    with transaction.atomic():
        counts = catalogue_load(data=demo_catalogue(), progress=progress)
        counts["accounts_created"] = sum(_account_ensure(account) for account in DEMO_ACCOUNTS)
        counts["definitions_published"] = definitions_load(directory=DEFINITIONS_DIR)["published"]
    # The platform PKI and the certificates it signs with (both idempotent).
    platform_pki_init(actor="demo seed")
    counts["certificates_issued"] = len(
        trust_setup(
            agencies=[
                TrustAgency(code=a.code, name=a.name, short_name=a.short_name)
                for a in Agency.objects.all()
            ],
            actor="demo seed",
        )
    )
    return counts
