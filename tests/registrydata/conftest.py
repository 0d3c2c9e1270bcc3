"""No test here reaches a real gateway: the exchange is down unless a test asks for the stub."""

from __future__ import annotations

import pytest

from tests.registrydata.stub import exchange, exchange_down  # noqa: F401


@pytest.fixture(autouse=True)
def _no_real_gateway(exchange_down: str) -> None:  # noqa: F811
    return None
