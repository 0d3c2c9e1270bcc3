"""The central registry's fixtures, for the exchange's tests outside ``central/`` too."""

from tests.exchange.central.conftest import instance_set, registry  # noqa: F401
