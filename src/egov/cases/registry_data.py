"""Data from the base registries for applications, always through the exchange.

Three uses, one set of sources (``population.person``, ``legal_entities.entity``, ...):

- **prefill** (the once-only principle): a form property with ``x-prefill`` is filled from the
  register when a draft starts; the person sees the value read-only with its source and the
  application keeps the register's value whatever is posted;
- **registry checks**: the workflow action ``fetch_registry_data`` records a pending
  :class:`~egov.cases.models.RegistryCheck`; the worker fetches the data after the commit
  (never inside a transaction that holds the case's row lock) and writes the result in one
  statement; an unreachable register leaves it pending and the task is queued again later;
- **who used my data**: the registers' data-access logs about the signed-in person.

Nothing here imports registry code: every call goes through ``egov.exchange.client``. A
source names its register and service code; the service's identifier comes from the settings
(``EGOV_REGISTRY_<REGISTER>_SUBSYSTEM``), and a country without the register (an empty
setting) has no prefill, checks or access log from it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from egov.audit.selectors import data_accesses_about
from egov.cases.models import Application, Draft, RegistryCheck
from egov.catalog.definitions import (
    RegistrySource,
    prefill_reference,
    registry_sources,
    workflow_actions,
)
from egov.catalog.models import Agency, Service
from egov.exchange.client import (
    ExchangeError,
    ExchangeRefused,
    ExchangeUnavailable,
    Purpose,
    exchange_call,
    registry_service,
    system_user_id,
    user_id_for,
)
from egov.exchange.client import backoffice_client as exchange_backoffice_client
from egov.identity.models import User

logger = structlog.get_logger(__name__)

# --- the sources ----------------------------------------------------------------------------
# Shapes of the registers' answers (see the exchange spec); ``None`` marks a single value.

_NAME = {"be": None, "ru": None, "lat": None}
_TEXT = {"be": None, "ru": None}
_ADDRESS = {
    "id": None,
    "postal_code": None,
    "locality": None,
    "street": None,
    "house": None,
    "flat": None,
    "text": _TEXT,
}
_SUMMARY = {
    "personal_number": None,
    "last_name": _NAME,
    "first_name": _NAME,
    "patronymic": _NAME,
    "birth_date": None,
    "status": None,
}
PERSON_SHAPE = {
    **_SUMMARY,
    "sex": None,
    "citizenship": None,
    "death_date": None,
    "address": _ADDRESS,
    "documents": [
        {"type": None, "number": None, "issued_on": None, "valid_until": None, "authority": None}
    ],
}
FAMILY_SHAPE = {
    "personal_number": None,
    "parents": [_SUMMARY],
    "children": [_SUMMARY],
    "spouse": _SUMMARY,
}
ADDRESS_HISTORY_SHAPE = {
    "personal_number": None,
    "addresses": [{"address": _ADDRESS, "from": None, "until": None, "kind": None}],
}
ENTITY_SHAPE = {
    "unp": None,
    "name": _TEXT,
    "short_name": _TEXT,
    "legal_form": None,
    "status": None,
    "registered_on": None,
    "address": _ADDRESS,
    "directors": [{"personal_number": None, "full_name": None, "since": None}],
}

PERSON = "person"
ORGANISATION = "organisation"
POPULATION_LABEL = gettext_lazy("From the population register")
ENTITIES_LABEL = gettext_lazy("From the legal entities register")

#: ``<register>.<data>``: the register (a key of ``settings.REGISTRY_PROVIDERS``) and, as the
#: source's ``service``, the service code under the register's provider subsystem.
SOURCES = (
    RegistrySource(
        "population.person", "person", PERSON, PERSON_SHAPE, POPULATION_LABEL, ("alive",)
    ),
    RegistrySource("population.family", "family", PERSON, FAMILY_SHAPE, POPULATION_LABEL),
    RegistrySource(
        "population.address_history",
        "address-history",
        PERSON,
        ADDRESS_HISTORY_SHAPE,
        POPULATION_LABEL,
    ),
    RegistrySource(
        "legal_entities.entity",
        "entity",
        ORGANISATION,
        ENTITY_SHAPE,
        ENTITIES_LABEL,
        ("company_active",),
    ),
)
for _source in SOURCES:
    registry_sources.register(_source.name)(_source)


def source_service(source: RegistrySource) -> str:
    """The service a source is read from, e.g. ``BY/GOV/MVD/population/person``; "" when the
    country has no such register (its provider subsystem setting is empty)."""
    return registry_service(source.name.partition(".")[0], source.service)


@dataclass(frozen=True)
class Fetched:
    document: Any
    message_id: str


def _fetch(
    source: RegistrySource,
    *,
    path: str,
    user_id: str,
    purpose: Purpose,
    issue: str,
    client: str | None = None,
) -> Fetched:
    """One GET through the exchange, keeping the message id (the proof in the gateways'
    logs). 4xx → ``ExchangeRefused``; anything else that is not an answer → unavailable."""
    service = source_service(source)
    if not service:
        raise ExchangeUnavailable("register_absent", source.name)
    response = exchange_call(
        service=service,
        path=path,
        client=client,
        user_id=user_id,
        purpose=purpose,
        issue=issue,
    )
    try:
        document = response.json()
    except ValueError as error:
        raise ExchangeUnavailable("invalid_response", "the answer is not JSON") from error
    if 400 <= response.status < 500:
        code = document.get("code", "refused") if isinstance(document, dict) else "refused"
        raise ExchangeRefused(str(code), status=response.status, body=document)
    if response.status >= 500 or not isinstance(document, dict):
        raise ExchangeUnavailable("provider_failed", status=response.status, body=document)
    return Fetched(document, response.message_id)


def _subject(source: RegistrySource, *, personal_number: str | None, unp: str) -> str | None:
    """Whom the source is asked about: the applicant, or the organisation they act for."""
    if source.subject == ORGANISATION:
        return unp or None
    return personal_number or None


def value_at(document: Any, path: list[str]) -> Any:
    node = document
    for segment in path:
        if isinstance(node, list):
            index = int(segment)
            node = node[index] if index < len(node) else None
        elif isinstance(node, dict):
            node = node.get(segment)
        else:
            return None
    return node


# --- prefill --------------------------------------------------------------------------------

DONE = "done"
UNAVAILABLE = "unavailable"
NOT_FOUND = "not_found"
NONE = "none"
TYPE_IN = "type_in"
WAIT = "wait"


def prefill_fields(definition: Mapping[str, Any]) -> dict[str, str]:
    """``{field: "population.person.last_name.be"}`` for every property filled from a register."""
    properties = definition["form"]["schema"]["properties"]
    return {
        name: str(prop["x-prefill"]) for name, prop in properties.items() if "x-prefill" in prop
    }


def prefill_policy(definition: Mapping[str, Any]) -> str:
    return str(definition.get("prefill_unavailable", WAIT))


def prefill_values(draft: Draft) -> dict[str, Any]:
    """The answers a register gave for the draft: they win over anything posted."""
    if draft.prefill.get("status") != DONE:
        return {}
    return dict(draft.prefill.get("values", {}))


def prefill_source_labels(sources: Mapping[str, str]) -> dict[str, str]:
    """``{field: "From the population register"}`` in the current language."""
    return {
        name: str(registry_sources[source].label)
        for name, source in sources.items()
        if source in registry_sources
    }


def draft_prefill(*, actor: User, draft_id: Any, retry_after_seconds: int = 0) -> str:
    """Fill the draft's registry answers: each source is asked once, and a draft filled once
    is not asked again. Returns ``done``, ``none`` (nothing to fill or nobody to ask about),
    ``unavailable`` or ``not_found``; the draft keeps everything it had otherwise. A failure
    less than ``retry_after_seconds`` old is returned without asking again."""
    draft = (
        Draft.objects.select_related("version__service")
        .filter(pk=draft_id, applicant=actor)
        .first()
    )
    if draft is None:
        return NONE
    fields = prefill_fields(draft.version.definition)
    if not fields:
        return NONE
    if draft.prefill.get("status") == DONE:
        return DONE
    if retry_after_seconds and draft.prefill.get("status") in (UNAVAILABLE, NOT_FOUND):
        tried = _parse_time(draft.prefill.get("at"))
        if tried and (timezone.now() - tried).total_seconds() < retry_after_seconds:
            return str(draft.prefill["status"])
    service_code = draft.version.service.code
    fetched: dict[str, Fetched] = {}
    status = DONE
    for source_name in sorted({prefill_reference(ref)[0] for ref in fields.values()}):
        source = registry_sources[source_name]
        if not source_service(source):
            continue  # the country has no such register: the person types these answers
        subject = _subject(source, personal_number=actor.personal_number, unp=draft.on_behalf_unp)
        if subject is None:
            continue
        try:
            fetched[source_name] = _fetch(
                source,
                path=subject,
                user_id=user_id_for(actor),
                purpose=Purpose.PREFILL,
                issue=service_code,
            )
        except ExchangeRefused as refused:
            status = NOT_FOUND if refused.status == 404 else UNAVAILABLE
            logger.warning(
                "prefill_refused", draft=str(draft.pk), source=source_name, code=refused.code
            )
            break
        except ExchangeError as error:
            status = UNAVAILABLE
            logger.warning(
                "prefill_unavailable", draft=str(draft.pk), source=source_name, code=error.code
            )
            break
    if status == DONE and not fetched:
        return NONE
    now = timezone.now().isoformat()
    with transaction.atomic():
        locked = Draft.objects.select_for_update().filter(pk=draft.pk).first()
        if locked is None or locked.prefill.get("status") == DONE:
            return DONE if locked is not None else NONE
        if status != DONE:
            locked.prefill = {"status": status, "at": now}
        else:
            values: dict[str, Any] = {}
            sources: dict[str, str] = {}
            for name, reference in fields.items():
                source_name, path = prefill_reference(reference)
                if source_name not in fetched:
                    continue
                value = value_at(fetched[source_name].document, path)
                if value is None or isinstance(value, (dict, list)) or value == "":
                    continue  # nothing to show: the person answers it
                values[name] = str(value)
                sources[name] = source_name
            locked.prefill = {
                "status": DONE,
                "at": now,
                "values": values,
                "sources": sources,
                "message_ids": {name: item.message_id for name, item in fetched.items()},
            }
            locked.data = {**locked.data, **values}
        locked.save(update_fields=["prefill", "data", "updated_at"])
    return status


# --- registry checks (the workflow action) --------------------------------------------------

RETRY_SECONDS = (60, 300, 900, 3600)
#: After this many attempts a check the register never answered is failed, not retried.
MAX_CHECK_ATTEMPTS = 10
#: X-Road errors that mean "not allowed" or "no such thing": retrying cannot help.
PERMANENT_ERRORS = (".UnknownMember", ".UnknownService", ".AccessDenied")


@workflow_actions.register("fetch_registry_data")
def fetch_registry_data(
    *, application: Application, action: Mapping[str, Any], actor: User | None
) -> RegistryCheck:
    """Record the check as pending with the transition; the worker does the fetching once the
    transition has committed, so a slow register never holds the case locked."""
    transition = (
        application.events.order_by("-sequence").values_list("transition", flat=True).first()
    )
    check = RegistryCheck.objects.create(
        application=application,
        transition=transition or "",
        source=str(action["source"]),
        check_kind=str(action.get("check", "")),
        requested_by=actor,
    )
    # The database queue writes the task in this transaction: it exists only if the
    # transition commits, and runs after it.
    _check_enqueue(check.pk)
    return check


def _check_enqueue(check_id: int, run_after: datetime.datetime | None = None) -> None:
    from egov.cases.tasks import registry_check_run

    if run_after is None:
        registry_check_run.enqueue(check_id)
    else:
        registry_check_run.using(run_after=run_after).enqueue(check_id)


FACT_KEYS = {
    "population.person": (
        "personal_number",
        "last_name",
        "first_name",
        "patronymic",
        "birth_date",
        "status",
        "death_date",
    ),
    "legal_entities.entity": ("unp", "name", "legal_form", "status", "registered_on", "directors"),
}


def _judge(check: str, document: Mapping[str, Any]) -> tuple[str, str]:
    if check == "alive":
        alive = document.get("status") == "alive"
        return (
            (RegistryCheck.Status.PASSED, "")
            if alive
            else (RegistryCheck.Status.FAILED, "deceased")
        )
    if check == "company_active":
        status = str(document.get("status", ""))
        if status == "active":
            return RegistryCheck.Status.PASSED, ""
        return RegistryCheck.Status.FAILED, status or "unknown"
    return RegistryCheck.Status.RECORDED, ""


def registry_check_run(*, check_id: int) -> str:
    """Fetch and judge one pending check. Idempotent: a check no longer pending is left as it
    is, and the result is written only onto a row that is still pending."""
    check = (
        RegistryCheck.objects.select_related(
            "application__agency", "application__applicant", "requested_by"
        )
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        return "gone"
    if check.status != RegistryCheck.Status.PENDING:
        return str(check.status)
    application = check.application
    source = registry_sources[check.source]
    subject = _subject(
        source,
        personal_number=application.applicant.personal_number,
        unp=application.on_behalf_unp,
    )
    result: dict[str, Any] = {}
    if not source_service(source):
        # The country has no such register: retrying cannot help, the official checks the
        # facts another way.
        result = {"status": RegistryCheck.Status.FAILED, "detail": "register_absent"}
    elif subject is None:
        result = {"status": RegistryCheck.Status.FAILED, "detail": "no_subject"}
    else:
        try:
            fetched = _fetch(
                source,
                path=subject,
                client=backoffice_client(application.agency.code),
                user_id=user_id_for(check.requested_by) if check.requested_by else system_user_id(),
                purpose=Purpose.CHECK,
                issue=application.number,
            )
        except ExchangeRefused as refused:
            detail = "not_found" if refused.status == 404 else refused.code
            result = {"status": RegistryCheck.Status.FAILED, "detail": detail[:200]}
        except ExchangeError as error:
            if _permanent(error) or check.attempts + 1 >= MAX_CHECK_ATTEMPTS:
                # Retrying cannot help (no right, unknown client or service), or the register
                # has been unreachable for too long: the clerk sees the failure and why.
                result = {"status": RegistryCheck.Status.FAILED, "detail": error.code[:200]}
            else:
                return _check_later(check, error)
        else:
            status, detail = _judge(check.check_kind, fetched.document)
            keys = FACT_KEYS.get(check.source)
            facts = {key: fetched.document.get(key) for key in keys} if keys else fetched.document
            result = {
                "status": status,
                "detail": detail,
                "facts": facts,
                "message_id": fetched.message_id,
            }
    RegistryCheck.objects.filter(pk=check.pk, status=RegistryCheck.Status.PENDING).update(
        checked_at=timezone.now(),
        attempts=F("attempts") + 1,
        next_attempt_at=None,
        **result,
    )
    return str(result["status"])


def _permanent(error: ExchangeError) -> bool:
    """An exchange refusal that the same call will meet again."""
    return error.code.startswith("Client.") or error.code.endswith(PERMANENT_ERRORS)


def _check_later(check: RegistryCheck, error: ExchangeError) -> str:
    delay = RETRY_SECONDS[min(check.attempts, len(RETRY_SECONDS) - 1)]
    run_after = timezone.now() + datetime.timedelta(seconds=delay)
    logger.warning(
        "registry_check_unavailable", check=check.pk, code=error.code, retry_seconds=delay
    )
    updated = RegistryCheck.objects.filter(pk=check.pk, status=RegistryCheck.Status.PENDING).update(
        attempts=F("attempts") + 1, next_attempt_at=run_after, detail=error.code[:200]
    )
    if updated:
        _check_enqueue(check.pk, run_after=run_after)
    return str(RegistryCheck.Status.PENDING)


def registry_checks_requeue_overdue() -> int:
    """Periodic sweep: queue again the pending checks whose retry is long overdue (a task lost
    with a dead worker). Running a check twice is harmless."""
    cutoff = timezone.now() - datetime.timedelta(minutes=10)
    overdue = RegistryCheck.objects.filter(status=RegistryCheck.Status.PENDING).filter(
        Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, requested_at__lt=cutoff)
    )
    count = 0
    for check_id in overdue.values_list("pk", flat=True)[:500]:
        _check_enqueue(check_id)
        count += 1
    return count


CHECK_TITLES = {
    "alive": gettext_lazy("The applicant is alive"),
    "company_active": gettext_lazy("The organisation is active"),
}
REGISTRY_NAMES = {
    "population": gettext_lazy("Population register"),
    "legal_entities": gettext_lazy("Legal entities register"),
}
DETAILS = {
    "deceased": gettext_lazy("The register records the person as deceased."),
    "not_found": gettext_lazy("The register has no record of the applicant."),
    "no_subject": gettext_lazy("The application gives no one to ask the register about."),
    "register_absent": gettext_lazy(
        "This register is not available in this country: check the facts another way."
    ),
    "liquidating": gettext_lazy("The organisation is being liquidated."),
    "liquidated": gettext_lazy("The organisation has been liquidated."),
}


def check_title(check: RegistryCheck) -> str:
    """What a check asks, as the official reads it, with the register asked."""
    what = CHECK_TITLES.get(check.check_kind, gettext_lazy("Data from the register"))
    register = REGISTRY_NAMES.get(check.source.partition(".")[0], check.source)
    return f"{what} ({register})"


def check_detail(check: RegistryCheck) -> str:
    return str(DETAILS.get(check.detail, check.detail))


def registry_checks_passed(application: Application) -> bool:
    """Every registry check of the application came back and none failed."""
    return not application.registry_checks.exclude(
        status__in=(RegistryCheck.Status.PASSED, RegistryCheck.Status.RECORDED)
    ).exists()


# --- who used my data -----------------------------------------------------------------------

#: The registers whose data-access logs "who used my data" reads (service
#: ``data-access-log`` of each); a register the country does not have is not asked.
ACCESS_LOGS = (
    ("population", REGISTRY_NAMES["population"]),
    ("legal_entities", REGISTRY_NAMES["legal_entities"]),
)
DATA_NAMES = {
    "person": gettext_lazy("Your personal details"),
    "family": gettext_lazy("Your family"),
    "address-history": gettext_lazy("Your address history"),
    "directorships": gettext_lazy("Organisations you direct"),
    "directors": gettext_lazy("You as director of an organisation"),
    "events": gettext_lazy("Events of your life in the register"),
    "data-access-log": gettext_lazy("The record of who used your data"),
}
#: ``client`` of a platform administrator's read on a register's admin pages (ADR 0009). Not
#: a subsystem identifier (those have four parts), so no caller of the exchange can claim it.
ADMIN_CLIENT = "admin"
PLATFORM_ADMINISTRATOR = gettext_lazy("A platform administrator")
ADMIN_PURPOSE = "administration"
ADMIN_PURPOSE_TEXT = gettext_lazy("Administration of the register by a platform administrator")


@dataclass(frozen=True)
class AccessPurpose:
    """A purpose of the access right a register recorded with an access, in one language."""

    code: str
    text: str
    legal_basis: str


@dataclass(frozen=True)
class DataAccess:
    at: datetime.datetime | None
    agency: str
    registry: str
    data: str
    purposes: tuple[AccessPurpose, ...]
    #: What the call's ``X-Road-Issue`` names, only for the platform's own calls (the portal,
    #: the back office of the agency owning the application named): the person's own
    #: application (linked), a service (a prefilled form before it is submitted), or the
    #: portal's issue as is. Another caller's issue is its own free text: never shown.
    issue: str
    application_number: str
    own_application: bool
    service_name: str
    #: ``X-Road-Request-Id``: the id the exchange gave the request and signed into its record
    #: of it, the proof the person can quote; empty for a register's older records.
    request_id: str
    client: str
    #: Read on the register's admin pages by a platform administrator, not through the
    #: exchange: no agency, application or request id to show.
    by_administrator: bool = False
    #: The audit ledger's entry recording the access: its proof can be downloaded.
    entry_id: int | None = None


def _in_language(texts: Any, language: str) -> str:
    """The text in ``language``; a register's record without it falls back to another
    official language rather than show nothing."""
    if not isinstance(texts, Mapping):
        return ""
    for candidate in (language, "be", "ru", "en"):
        value = texts.get(candidate)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _purposes(recorded: Any, language: str) -> tuple[AccessPurpose, ...]:
    if not isinstance(recorded, list):
        return ()
    purposes = []
    for item in recorded:
        if not isinstance(item, Mapping) or not str(item.get("code", "")):
            continue
        code = str(item["code"])
        purposes.append(
            AccessPurpose(
                code=code,
                text=_in_language(item.get("text"), language) or code,
                legal_basis=_in_language(item.get("legal_basis"), language),
            )
        )
    return tuple(purposes)


def data_accesses_of(*, actor: User, identity_proven: bool) -> tuple[list[DataAccess], list[str]]:
    """Every access to the signed-in person's data, newest first, from the audit ledger's
    ``data.accessed`` entries (each register records its reads there in the same transaction
    as its own log), each with the entry's id for its proof. Only ever the actor's own: the
    personal number comes from the account, never from the request, and counts only when
    ``identity_proven`` (see ``portal.cabinet.identity_proven``). Purposes and their legal
    basis are the ones the access right declares, in the language of the page. The second
    value, the registers that could not be asked, stays empty: the ledger is local."""
    registry_names = dict(ACCESS_LOGS)
    raw: list[tuple[Mapping[str, Any], str, int]] = []
    for entry in data_accesses_about(actor=actor, identity_proven=identity_proven):
        item = entry.data if isinstance(entry.data, Mapping) else {}
        register = str(item.get("register", ""))
        raw.append((item, str(registry_names.get(register, register)), int(entry.pk)))
    missing: list[str] = []
    language = (translation.get_language() or "be").split("-")[0]
    members = {str(item.get("member", "")) for item, _r, _e in raw}
    agencies = {a.code: a.name for a in Agency.objects.filter(code__in=members)}
    portal_issues = {str(item.get("issue", "")) for item, _r, _e in raw if _from_portal(item)}
    office_issues = {
        str(item.get("issue", "")) for item, _r, _e in raw if _office_member(item, agencies)
    }
    services = {s.code: str(s.name) for s in Service.objects.filter(code__in=portal_issues - {""})}
    #: number -> (member code of the owning agency, whether the actor applied)
    applications = {
        number: (agency_code, applicant_id == actor.pk)
        for number, agency_code, applicant_id in Application.objects.filter(
            number__in=(portal_issues | office_issues) - {""}
        ).values_list("number", "agency__code", "applicant_id")
    }
    out = []
    for item, registry, entry_id in raw:
        member = str(item.get("member", ""))
        data = str(item.get("data", ""))
        issue, own, service_name = _issue_shown(item, agencies, applications, services)
        by_administrator = str(item.get("client", "")) == ADMIN_CLIENT
        out.append(
            DataAccess(
                at=_parse_time(item.get("at")),
                agency=str(PLATFORM_ADMINISTRATOR)
                if by_administrator
                else agencies.get(member) or member,
                registry=registry,
                data=str(DATA_NAMES.get(data, data)),
                purposes=(AccessPurpose(ADMIN_PURPOSE, str(ADMIN_PURPOSE_TEXT), ""),)
                if by_administrator
                else _purposes(item.get("purposes"), language),
                issue=issue,
                application_number=issue if own else "",
                own_application=own,
                service_name=service_name,
                request_id=str(item.get("request_id", "")),
                client=str(item.get("client", "")),
                by_administrator=by_administrator,
                entry_id=entry_id,
            )
        )
    oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    out.sort(key=lambda access: access.at or oldest, reverse=True)
    return out, missing


def backoffice_client(agency_code: str) -> str:
    """The client subsystem the back office and workers of an agency call the exchange as
    (``<instance>/<class>/<agency>/backoffice``, in the portal's instance and class)."""
    return exchange_backoffice_client(agency_code)


def _from_portal(item: Mapping[str, Any]) -> bool:
    return str(item.get("client", "")) == settings.EXCHANGE_CLIENT


def _office_member(item: Mapping[str, Any], agencies: Mapping[str, Any]) -> str:
    """The agency whose platform back office made the call, or "" for any other caller."""
    client = str(item.get("client", ""))
    parts = client.split("/")
    member = parts[2] if len(parts) == 4 else ""
    return member if member in agencies and client == backoffice_client(member) else ""


def _issue_shown(
    item: Mapping[str, Any],
    agencies: Mapping[str, Any],
    applications: Mapping[str, tuple[str, bool]],
    services: Mapping[str, str],
) -> tuple[str, bool, str]:
    """What of an access's ``X-Road-Issue`` the person may see: ``(issue, own application,
    service name)``. Any caller can write anything into the header, so only the platform's own
    calls count: the portal's (an application, a service or its issue as is) and an agency's
    back office naming an application of that agency. Everything else shows nothing."""
    issue = str(item.get("issue", ""))
    if not issue:
        return "", False, ""
    if _from_portal(item):
        _agency, own = applications.get(issue, ("", False))
        return issue, own, "" if own else services.get(issue, "")
    member = _office_member(item, agencies)
    if member and issue in applications:
        agency_code, own = applications[issue]
        if agency_code == member:
            return issue, own, ""
    return "", False, ""


def _parse_time(value: Any) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return timezone.localtime(moment)
