"""The population register's services (root ``/registries/population/v1/``)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from egov.registries.population import selectors, services
from egov.registries.shared.http import (
    Caller,
    invalid_identifier,
    json_response,
    not_found,
    paging_parameters,
    registry_service,
)
from egov.registries.shared.views import personal_number_detail, personal_number_or_none


def _personal_read(
    request: HttpRequest, personal_number: str, caller: Caller, *, service: str, data: str
) -> HttpResponse:
    number = personal_number_or_none(personal_number)
    if number is None:
        return invalid_identifier(personal_number_detail())
    reader = {
        "person": selectors.person_get,
        "family": selectors.family_get,
        "address-history": selectors.address_history_get,
    }[service]
    with transaction.atomic():
        body = reader(personal_number=number)
        if body is None:
            return not_found()
        services.data_access_record(caller=caller, service=service, data=data, subjects=[number])
    return json_response(body)


@registry_service(register="population", personal_data=True)
def person(request: HttpRequest, personal_number: str, *, caller: Caller) -> HttpResponse:
    return _personal_read(request, personal_number, caller, service="person", data="person")


@registry_service(register="population", personal_data=True)
def family(request: HttpRequest, personal_number: str, *, caller: Caller) -> HttpResponse:
    return _personal_read(request, personal_number, caller, service="family", data="family")


@registry_service(register="population", personal_data=True)
def address_history(request: HttpRequest, personal_number: str, *, caller: Caller) -> HttpResponse:
    return _personal_read(
        request, personal_number, caller, service="address-history", data="address-history"
    )


@registry_service(register="population", personal_data=True)
def events(request: HttpRequest, *, caller: Caller) -> HttpResponse:
    paging = paging_parameters(request)
    if isinstance(paging, HttpResponse):
        return paging
    after, limit = paging
    with transaction.atomic():
        body = selectors.events_after(after=after, limit=limit)
        services.data_access_record(
            caller=caller,
            service="events",
            data="events",
            subjects=selectors.event_subjects(body["events"]),
        )
    return json_response(body)


@registry_service(register="population", personal_data=True)
def data_access_log(request: HttpRequest, personal_number: str, *, caller: Caller) -> HttpResponse:
    """Who received this person's data; reading the log is not itself recorded."""
    number = personal_number_or_none(personal_number)
    if number is None:
        return invalid_identifier(personal_number_detail())
    return json_response(selectors.accesses_for(personal_number=number))
