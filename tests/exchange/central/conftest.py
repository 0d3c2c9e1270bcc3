from __future__ import annotations

from pathlib import Path

import pytest

from egov.exchange.central.models import (
    AccessRight,
    Gateway,
    Instance,
    Member,
    MemberClass,
    Service,
    Subsystem,
)

#: The instance a test registry serves, as the demo's description sets it up.
MEMBER_CLASSES = [
    ("GOV", "Government"),
    ("COM", "Commercial"),
    ("NGO", "Non-governmental organisation"),
]


def instance_set(code: str = "BY", classes: list[tuple[str, str]] = MEMBER_CLASSES) -> None:
    """The registry's instance and member classes, as `egov exchange setup` writes them."""
    Instance.objects.all().delete()
    MemberClass.objects.all().delete()
    Instance.objects.create(code=code)
    for member_class, description in classes:
        MemberClass.objects.create(code=member_class, description=description)


@pytest.fixture
def registry(db, settings, tmp_path: Path) -> Path:
    """An empty central registry (whatever the demo seed holds) of the instance BY, a fresh
    PKI folder and fresh exchange folders."""
    AccessRight.objects.all().delete()
    Service.objects.all().delete()
    Subsystem.objects.all().delete()
    Gateway.objects.all().delete()
    Member.objects.all().delete()
    instance_set()
    settings.PKI_DIR = tmp_path / "pki"
    settings.EXCHANGE_DIR = tmp_path / "exchange"
    settings.EXCHANGE_CLIENT_TLS_DIR = tmp_path / "exchange" / "clients"
    settings.EXCHANGE_PROVIDER_KEYS_DIR = tmp_path / "exchange" / "provider-keys"
    return settings.PKI_DIR
