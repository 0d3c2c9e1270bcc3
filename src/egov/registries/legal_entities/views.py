"""The legal entities register's services (root ``/registries/legal-entities/v1/``)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from egov.core.identifiers import unp_normalise
from egov.registries.legal_entities import selectors, services
from egov.registries.shared.http import (
    Caller,
    invalid_identifier,
    json_response,
    not_found,
    paging_parameters,
    registry_service,
)
from egov.registries.shared.views import personal_number_detail, personal_number_or_none


@registry_service(register="legal_entities", personal_data=True)
def entity(request: HttpRequest, unp: str, *, caller: Caller) -> HttpResponse:
    """A legal entity; its directors are people, so the call is recorded for each of them."""
    number = unp_normalise(unp)
    if number is None:
        return invalid_identifier(
            _("This is not a valid payer account number (УНП: 9 characters, e.g. 192541238).")
        )
    with transaction.atomic():
        body = selectors.entity_get(unp=number)
        if body is None:
            return not_found()
        services.data_access_record(
            caller=caller,
            service="entity",
            data="directors",
            subjects=[director["personal_number"] for director in body["directors"]],
        )
    return json_response(body)


@registry_service(register="legal_entities", personal_data=True)
def directed_by(request: HttpRequest, personal_number: str, *, caller: Caller) -> HttpResponse:
    number = personal_number_or_none(personal_number)
    if number is None:
        return invalid_identifier(personal_number_detail())
    with transaction.atomic():
        body = selectors.entities_directed_by(personal_number=number)
        services.data_access_record(
            caller=caller, service="directed-by", data="directorships", subjects=[number]
        )
    return json_response(body)


@registry_service(register="legal_entities", personal_data=False)
def events(request: HttpRequest, *, caller: Caller) -> HttpResponse:
    paging = paging_parameters(request)
    if isinstance(paging, HttpResponse):
        return paging
    after, limit = paging
    return json_response(selectors.events_after(after=after, limit=limit))


@registry_service(register="legal_entities", personal_data=True)
def data_access_log(request: HttpRequest, personal_number: str, *, caller: Caller) -> HttpResponse:
    """Who received this person's directorships; reading the log is not itself recorded."""
    number = personal_number_or_none(personal_number)
    if number is None:
        return invalid_identifier(personal_number_detail())
    return json_response(selectors.accesses_for(personal_number=number))
