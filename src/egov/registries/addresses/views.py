"""The address register's service (root ``/registries/addresses/v1/``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from egov.registries.addresses import selectors
from egov.registries.shared.http import (
    Caller,
    invalid_identifier,
    json_response,
    not_found,
    problem,
    registry_service,
)

MIN_QUERY = 3


@registry_service(register="addresses", personal_data=False)
def address_search(request: HttpRequest, *, caller: Caller) -> HttpResponse:
    text = request.GET.get("q", "").strip()
    if len(text) < MIN_QUERY:
        return problem(
            400, "invalid_parameter", _("Give at least three characters of the address in q.")
        )
    return json_response(selectors.addresses_search(text=text))


@registry_service(register="addresses", personal_data=False)
def address(request: HttpRequest, address_id: str, *, caller: Caller) -> HttpResponse:
    if not address_id.isascii() or not address_id.isdigit() or len(address_id) > 18:
        return invalid_identifier(_("An address identifier is a whole number."))
    body = selectors.address_get(address_id=int(address_id))
    return not_found() if body is None else json_response(body)
