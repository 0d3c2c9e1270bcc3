"""The central registry's records by their X-Road identifiers (``KZ/GOV/MEMBER[/SUBSYSTEM]``,
``.../SERVICE``) and gateway codes, as the ``egov exchange`` subcommands name them: a name
that is malformed, of another instance or class, or not registered is an error that says
which command adds it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from egov.exchange.central.errors import ExchangeSetupInvalid
from egov.exchange.central.models import (
    Gateway,
    Member,
    Service,
    Subsystem,
    member_class_codes,
    registry_instance,
)
from egov.exchange.identifiers import IdentifierError, client_id_parse


def instance_required() -> str:
    """The registry's instance; joining the exchange needs one (``egov exchange setup``)."""
    instance = registry_instance()
    if not instance:
        raise ExchangeSetupInvalid(
            _(
                "The central registry has no instance yet: set up the exchange with "
                "`egov exchange setup --file` first."
            )
        )
    return instance


def identifier_form(suffix: str = "") -> str:
    """An example of an identifier's form in this registry's terms: ``KZ/GOV/MEMBER`` and
    ``suffix`` (the instance and its first member class; generic before the set-up)."""
    classes = member_class_codes()
    prefix = [registry_instance() or "INSTANCE", classes[0] if classes else "CLASS", "MEMBER"]
    return "/".join(prefix) + suffix


def client_parse(identifier: str) -> tuple[str, str, str]:
    try:
        parsed = client_id_parse(identifier)
    except IdentifierError as error:
        raise ExchangeSetupInvalid(
            _("%(identifier)s is not a client identifier (%(form)s): %(error)s")
            % {"identifier": identifier, "form": identifier_form("[/SUBSYSTEM]"), "error": error}
        ) from None
    instance = instance_required()
    if parsed.instance != instance:
        raise ExchangeSetupInvalid(
            _(
                "%(identifier)s names the instance %(given)s; this central registry serves "
                "%(instance)s."
            )
            % {"identifier": identifier, "given": parsed.instance, "instance": instance}
        )
    classes = member_class_codes()
    if parsed.member_class not in classes:
        raise ExchangeSetupInvalid(
            _("%(identifier)s is not a client identifier (%(form)s): %(error)s")
            % {
                "identifier": identifier,
                "form": identifier_form("[/SUBSYSTEM]"),
                "error": f"'{parsed.member_class}' is not a member class ({', '.join(classes)})",
            }
        )
    return parsed.member_class, parsed.member_code, parsed.subsystem_code


def member_get(identifier: str) -> Member:
    member_class, member_code, subsystem_code = client_parse(identifier)
    member = Member.objects.filter(member_class=member_class, member_code=member_code).first()
    if subsystem_code or member is None:
        raise ExchangeSetupInvalid(
            _("%(identifier)s is not a registered member: add it with `egov exchange member add`.")
            % {"identifier": identifier}
        )
    return member


def client_get(identifier: str) -> Subsystem | Member:
    """The subsystem (``BY/GOV/MEMBER/SUBSYSTEM``) or member (``BY/GOV/MEMBER``) so named."""
    member_class, member_code, subsystem_code = client_parse(identifier)
    if not subsystem_code:
        return member_get(identifier)
    subsystem = (
        Subsystem.objects.select_related("member")
        .filter(
            member__member_class=member_class,
            member__member_code=member_code,
            code=subsystem_code,
        )
        .first()
    )
    if subsystem is None:
        raise ExchangeSetupInvalid(
            _(
                "%(identifier)s is not a registered subsystem: add it with "
                "`egov exchange subsystem add`."
            )
            % {"identifier": identifier}
        )
    return subsystem


def service_get(identifier: str) -> Service:
    provider, _separator, service_code = identifier.rpartition("/")
    subsystem = client_get(provider) if provider.count("/") == 3 else None
    service = (
        Service.objects.filter(subsystem=subsystem, service_code=service_code).first()
        if isinstance(subsystem, Subsystem)
        else None
    )
    if service is None:
        raise ExchangeSetupInvalid(
            _(
                "%(identifier)s is not a registered service: add it with "
                "`egov exchange service add`."
            )
            % {"identifier": identifier}
        )
    return service


def gateway_get(code: str) -> Gateway:
    gateway = Gateway.objects.select_related("owner").filter(code=code).first()
    if gateway is None:
        raise ExchangeSetupInvalid(
            _("There is no gateway %(code)s: add it with `egov exchange gateway add`.")
            % {"code": code}
        )
    return gateway


def endpoint_parse(text: str) -> dict[str, str]:
    """``"GET /persons/*"`` → ``{"method": "GET", "path": "/persons/*"}``."""
    parts = text.split()
    if len(parts) != 2:
        raise ExchangeSetupInvalid(
            _('Give an endpoint as a method and a path, e.g. "GET /persons/*", not %(text)s.')
            % {"text": repr(text)}
        )
    return {"method": parts[0].upper() if parts[0] != "*" else "*", "path": parts[1]}
