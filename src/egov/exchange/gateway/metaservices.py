"""X-Road's metaservices (PR-META, PR-MREST): ``listClients`` on the client side,
``listMethods``, ``allowedMethods`` and ``getOpenAPI`` answered by the provider's gateway from
the global configuration, as if they were services of the provider."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

import yaml
from aiohttp import web

from egov.exchange.gateway.conf import GlobalConf
from egov.exchange.gateway.errors import server_proxy_error

METASERVICES = ("listMethods", "allowedMethods", "getOpenAPI")
XROAD = "http://x-road.eu/xsd/xroad.xsd"
XROAD_IDENTIFIERS = "http://x-road.eu/xsd/identifiers"
Answer = tuple[int, list[tuple[str, str]], bytes]


def _identifier_json(
    instance: str, member_class: str, member_code: str, **extra: str
) -> dict[str, str]:
    return {
        "member_class": member_class,
        "member_code": member_code,
        "xroad_instance": instance,
        **extra,
    }


def _json_response(document: Any) -> web.Response:
    return web.Response(
        body=json.dumps(document, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


def list_clients(conf: GlobalConf, request: web.BaseRequest) -> web.Response:
    """PR-META §2: every member and subsystem of the instance (``?xRoadInstance=`` names
    it; this gateway knows only its own), as ``text/xml`` unless the client accepts
    ``application/json``."""
    instance = request.query.get("xRoadInstance") or conf.content.get("instance", "")
    clients: list[tuple[list[str], str]] = []
    for member in conf.members.values():
        clients.append((member["id"].split("/"), member.get("name", "")))
    for subsystem in conf.subsystems.values():
        name = conf.members.get(subsystem["member"], {}).get("name", "")
        clients.append((subsystem["id"].split("/"), name))
    clients = [(parts, name) for parts, name in clients if parts[0] == instance]
    if "application/json" in request.headers.get("Accept", ""):
        members = []
        for parts, name in clients:
            extra = {"object_type": "MEMBER"}
            if len(parts) == 4:
                extra = {"object_type": "SUBSYSTEM", "subsystem_code": parts[3]}
            members.append({"id": _identifier_json(*parts[:3], **extra), "name": name})
        return _json_response({"member": members})
    return web.Response(
        body=_client_list_xml(clients).encode("utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )


def _client_list_xml(clients: list[tuple[list[str], str]]) -> str:
    """X-Road's ``clientList`` (PR-META Annex A), namespaces prefixed as X-Road does."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        f'<ns2:clientList xmlns:ns1="{XROAD_IDENTIFIERS}" xmlns:ns2="{XROAD}">',
    ]
    for parts, name in clients:
        object_type = "SUBSYSTEM" if len(parts) == 4 else "MEMBER"
        tags = ("xRoadInstance", "memberClass", "memberCode", "subsystemCode")[: len(parts)]
        fields = zip(tags, parts, strict=True)
        lines += [
            "<ns2:member>",
            f'<ns2:id ns1:objectType="{object_type}">',
            *(f"<ns1:{tag}>{escape(value)}</ns1:{tag}>" for tag, value in fields),
            "</ns2:id>",
            f"<ns2:name>{escape(name)}</ns2:name>",
            "</ns2:member>",
        ]
    lines.append("</ns2:clientList>")
    return "\n".join(lines) + "\n"


def _granted_endpoints(
    conf: GlobalConf, client: str, service: str, endpoints: list[dict[str, str]]
) -> list[dict[str, str]]:
    """The endpoints open to the client (PR-MREST allowedMethods): the service's own when a
    right grants it whole, else those its rights name."""
    grants = conf.grants(client, service)
    if any(not grant.endpoints for grant in grants):
        return endpoints
    granted: list[dict[str, str]] = []
    for grant in grants:
        granted += [endpoint for endpoint in grant.endpoints if endpoint not in granted]
    return granted


def metaservice_answer(
    conf: GlobalConf, client: str, provider: str, code: str, request: web.BaseRequest
) -> Answer:
    services = [item for item in conf.services.values() if item.get("subsystem") == provider]
    if code == "getOpenAPI":
        wanted = request.query.get("serviceCode", "")
        matches = [item for item in services if item.get("service_code") == wanted]
        if not matches:
            raise server_proxy_error("UnknownService", f"no service {wanted!r} at {provider}")
        document = matches[0].get("openapi") or ""
        if "application/json" in request.headers.get("Accept", ""):
            payload = json.dumps(yaml.safe_load(document), ensure_ascii=False, default=str)
            return 200, [("Content-Type", "application/json; charset=utf-8")], payload.encode()
        return 200, [("Content-Type", "text/yaml; charset=utf-8")], document.encode("utf-8")
    if code == "allowedMethods":
        services = [item for item in services if conf.allowed(client, item["id"])]
    listed = []
    for item in services:
        endpoints = list(item.get("endpoints", []))
        if code == "allowedMethods":
            endpoints = _granted_endpoints(conf, client, item["id"], endpoints)
        instance, member_class, member_code, subsystem_code, service_code = item["id"].split("/")
        listed.append(
            _identifier_json(
                instance,
                member_class,
                member_code,
                object_type="SERVICE",
                subsystem_code=subsystem_code,
                service_code=service_code,
                service_type="OPENAPI" if item.get("openapi") else "REST",
            )
            | {"endpoint_list": endpoints}
        )
    body = json.dumps({"service": listed}, ensure_ascii=False).encode("utf-8")
    return 200, [("Content-Type", "application/json; charset=utf-8")], body
