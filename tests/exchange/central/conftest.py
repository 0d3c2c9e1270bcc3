from __future__ import annotations

from pathlib import Path

import pytest

from egov.exchange.central.models import AccessRight, Gateway, Member, Service, Subsystem


@pytest.fixture
def registry(db, settings, tmp_path: Path) -> Path:
    """An empty central registry (whatever the demo seed holds), a fresh PKI folder and fresh
    exchange folders."""
    AccessRight.objects.all().delete()
    Service.objects.all().delete()
    Subsystem.objects.all().delete()
    Gateway.objects.all().delete()
    Member.objects.all().delete()
    settings.PKI_DIR = tmp_path / "pki"
    settings.EXCHANGE_DIR = tmp_path / "exchange"
    settings.EXCHANGE_CLIENT_TLS_DIR = tmp_path / "exchange" / "clients"
    settings.EXCHANGE_PROVIDER_KEYS_DIR = tmp_path / "exchange" / "provider-keys"
    return settings.PKI_DIR
