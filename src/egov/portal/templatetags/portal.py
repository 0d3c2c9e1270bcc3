"""Template helpers of the portal."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django import template

from egov.catalog.services import CATALOGUE_PAGES
from egov.core import pagecache

register = template.Library()


@register.simple_tag
def service_list_key(services: Iterable[Any]) -> str:
    """A cache key for a rendered list of services: which services, in which order, at which
    catalogue version. The rendered list is the same for every visitor, logged in or not."""
    ids = ",".join(str(service.pk) for service in services)
    digest = hashlib.sha256(ids.encode()).hexdigest()[:32]
    return f"{pagecache.version(CATALOGUE_PAGES)}:{digest}"
