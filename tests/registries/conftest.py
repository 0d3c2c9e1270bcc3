"""Fixtures of the registries' tests: the gateway's headers and the demo people."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

CLIENT = "BY/GOV/MVD/backoffice"


def gateway_headers(**extra: str) -> dict[str, str]:
    """What the provider gateway adds to a call of a personal-data service."""
    headers = {
        "HTTP_X_EGOV_GATEWAY_KEY": settings.EXCHANGE_SERVICE_KEY,
        "HTTP_X_ROAD_CLIENT": CLIENT,
        "HTTP_X_ROAD_SERVICE": "BY/GOV/MVD/population/person",
        "HTTP_X_ROAD_ID": "6f1c2a34-0d7e-4c55-9d43-1b2a3c4d5e6f",
        "HTTP_X_ROAD_USERID": "BY-STAFF-17",
        "HTTP_X_ROAD_ISSUE": "MVD-2026-000123",
        "HTTP_X_EGOV_PURPOSE": "check:MVD-2026-000123",
    }
    headers.update(extra)
    return headers


@pytest.fixture
def headers() -> dict[str, str]:
    return gateway_headers()


@pytest.fixture
def demo_people(db: Any) -> None:
    from egov.registries.population.demo import demo_people_ensure

    demo_people_ensure()
