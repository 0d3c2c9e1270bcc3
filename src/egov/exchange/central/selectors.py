"""Reads of the central registry."""

from __future__ import annotations

from egov.exchange.central.models import ConfigurationVersion


def configuration_serial() -> int:
    """The current serial of the global configuration (0 before the first change)."""
    serial = ConfigurationVersion.objects.filter(pk=1).values_list("serial", flat=True).first()
    return int(serial or 0)
