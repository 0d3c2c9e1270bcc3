"""``egov signer``: the local program the portal's page asks for an e-ID login or signature.

It listens on 127.0.0.1 only. The API (ADR 0010) answers the portal's origins only (CORS):

- ``GET /v1/status`` → ``{"version", "ready"}``;
- ``POST /v1/requests`` ``{"kind", "origin", "challenge"|"digest", "description"}`` →
  ``{"id", "consent_url", "expires_in"}``: the declared origin must be the page's own;
- ``GET /v1/requests/<id>`` → ``{"status": "pending"|"refused"|"done"|"expired", ...}``.

The person answers on the signer's own consent page (``/consent/<id>``, the signer's origin,
not the portal's: the portal's page can neither read nor fill it in), where they see who asks
and for what, choose an e-ID, type its password or PIN and allow or refuse. A request lives
two minutes, is answered once, and its result is handed out once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import html
import ipaddress
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import structlog
from aiohttp import web

import egov
from egov.trust.signer.eids import Eid, EidError, Result, WrongSecret
from egov.trust.signer.i18n import LANGUAGES, Translator, language_choose

logger = structlog.get_logger(__name__)

AUTHENTICATE = "authenticate"
SIGN = "sign"
#: A request not answered by then is expired (ADR 0010: two minutes).
REQUEST_SECONDS = 120
#: Wrong passwords or PINs one request allows before it is refused.
MAX_ATTEMPTS = 3
#: Requests waiting at once: a page cannot fill the signer's memory.
MAX_PENDING = 16
#: Finished requests are forgotten after this long.
KEEP_SECONDS = 600
MAX_BODY = 16 * 1024
DEFAULT_PORT = 8300

STATUS_PENDING = "pending"
STATUS_REFUSED = "refused"
STATUS_DONE = "done"
STATUS_EXPIRED = "expired"


class SignerStartError(Exception):
    """The signer cannot start as asked (an address that is not loopback, a port in use)."""


def origin_normalise(value: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower-case, default ports dropped; None
    for anything else."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


@dataclass
class SignerRequest:
    id: str
    kind: str
    origin: str
    payload: bytes
    description: str
    language: str | None
    created: float
    form_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    status: str = STATUS_PENDING
    attempts: int = 0
    busy: bool = False
    result: dict[str, str] | None = None
    delivered: bool = False
    finished: float | None = None

    def expired(self, now: float) -> bool:
        return self.status == STATUS_PENDING and now - self.created > REQUEST_SECONDS


def _b64decode(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) > 4096:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _problem(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": code, "message": message}, status=status, headers=headers or {}
    )


def _digest_display(digest: bytes) -> str:
    text = digest.hex().upper()
    return " ".join(text[index : index + 4] for index in range(0, len(text), 4))


CONSENT_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;margin:0;color:#0b0c0c;
background:#f3f2f1;line-height:1.4}
main{max-width:36rem;margin:1.5rem auto;background:#fff;padding:1.5rem;
border-top:.5rem solid #1d70b8}
h1{font-size:1.6rem;margin:0 0 1rem}
dl{margin:0 0 1rem}dt{font-weight:700}dd{margin:0 0 .75rem;word-break:break-word}
.digest{font-family:ui-monospace,monospace;font-size:.95rem}
fieldset{border:0;padding:0;margin:0 0 1rem}legend{font-weight:700;margin-bottom:.5rem}
.choice{display:block;margin:.4rem 0}label{font-weight:700}
input[type=password]{display:block;font-size:1.1rem;padding:.4rem;margin:.4rem 0 1rem;
border:2px solid #0b0c0c;width:16rem;max-width:100%}
input:focus,button:focus,a:focus{outline:3px solid #fd0;outline-offset:0}
button{font-size:1.1rem;padding:.5rem 1rem;margin:0 .5rem .5rem 0;border:0;cursor:pointer}
.allow{background:#00703c;color:#fff}.refuse{background:#f3f2f1;color:#0b0c0c;
box-shadow:0 2px 0 #929191}
.error{border:4px solid #d4351c;padding:.75rem;margin:0 0 1rem}
.error p{margin:0;color:#0b0c0c;font-weight:700}
nav ul{list-style:none;padding:0;display:flex;gap:1rem;margin:1.5rem 0 0}
a{color:#1d70b8}
"""

# Closes the consent window once the answer is given (the portal's page polls for it).
CONSENT_JS = """
"use strict";
if (document.body.dataset.finished === "true") {
  window.setTimeout(function () { window.close(); }, 1500);
}
"""

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: browsers then send "Origin: null" with the consent form's own POST,
    # which the origin check must refuse. same-origin still tells other sites nothing.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class Signer:
    """The signer's state: the e-IDs it offers, the origins it answers, the requests."""

    def __init__(
        self,
        *,
        eids: Sequence[Eid],
        allowed_origins: Sequence[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.eids = list(eids)
        self.allowed_origins = {
            normalised for origin in allowed_origins if (normalised := origin_normalise(origin))
        }
        self.clock = clock
        self.requests: dict[str, SignerRequest] = {}
        #: Set once the listener is bound: the signer's own origins (127.0.0.1 and localhost).
        self.port = 0

    # --- helpers ---------------------------------------------------------------------------
    @property
    def own_origins(self) -> set[str]:
        return {f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"}

    def _eid(self, eid_id: str) -> Eid | None:
        return next((eid for eid in self.eids if eid.id == eid_id), None)

    def _sweep(self) -> None:
        now = self.clock()
        for request in list(self.requests.values()):
            if request.expired(now):
                request.status = STATUS_EXPIRED
                request.finished = now
            if request.finished is not None and now - request.finished > KEEP_SECONDS:
                del self.requests[request.id]

    def _cors_origin(self, request: web.Request) -> str | None:
        origin = origin_normalise(request.headers.get("Origin", ""))
        return origin if origin in self.allowed_origins else None

    @staticmethod
    def _cors_headers(origin: str) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": origin,
            "Vary": "Origin",
            "Cache-Control": "no-store",
        }

    # --- middleware ------------------------------------------------------------------------
    @web.middleware
    async def guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # Only the signer's own names: a page on another name that resolves to 127.0.0.1
        # (DNS rebinding) reaches nothing.
        if request.host not in {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}:
            return _problem(421, "wrong_host", "This is egov signer; use 127.0.0.1.")
        self._sweep()
        return await handler(request)

    # --- API -------------------------------------------------------------------------------
    async def preflight(self, request: web.Request) -> web.Response:
        origin = self._cors_origin(request)
        if origin is None:
            return _problem(403, "origin_not_allowed", "This site may not use the signer.")
        headers = self._cors_headers(origin) | {
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        if request.headers.get("Access-Control-Request-Private-Network") == "true":
            # A public portal calling the person's own computer (Private Network Access).
            headers["Access-Control-Allow-Private-Network"] = "true"
        return web.Response(status=204, headers=headers)

    async def status(self, request: web.Request) -> web.Response:
        origin = self._cors_origin(request)
        if origin is None:
            return _problem(403, "origin_not_allowed", "This site may not use the signer.")
        return web.json_response(
            {"version": egov.__version__, "ready": bool(self.eids)},
            headers=self._cors_headers(origin),
        )

    async def request_create(self, request: web.Request) -> web.Response:
        origin = self._cors_origin(request)
        if origin is None:
            return _problem(403, "origin_not_allowed", "This site may not use the signer.")
        headers = self._cors_headers(origin)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _problem(413, "too_large", "The request is too large.", headers)
        try:
            body = json.loads(await request.content.read(MAX_BODY + 1) or b"null")
        except (ValueError, UnicodeDecodeError):
            return _problem(400, "invalid_json", "The request is not JSON.", headers)
        if not isinstance(body, dict):
            return _problem(400, "invalid_json", "The request must be a JSON object.", headers)
        declared = origin_normalise(str(body.get("origin", "")))
        if declared != origin:
            logger.warning("signer_origin_mismatch")
            return _problem(
                403,
                "origin_mismatch",
                "The origin in the request is not the page's own origin.",
                headers,
            )
        kind = body.get("kind")
        if kind == AUTHENTICATE:
            payload = _b64decode(body.get("challenge"))
            if payload is None or not 16 <= len(payload) <= 1024:
                return _problem(
                    400,
                    "invalid_challenge",
                    "The challenge must be 16 to 1024 bytes in base64.",
                    headers,
                )
        elif kind == SIGN:
            payload = _b64decode(body.get("digest"))
            if payload is None or len(payload) != 32:
                return _problem(
                    400, "invalid_digest", "The digest must be a SHA-256 digest in base64.", headers
                )
        else:
            return _problem(400, "invalid_kind", "The kind must be authenticate or sign.", headers)
        description = body.get("description", "")
        if not isinstance(description, str) or len(description) > 500:
            return _problem(
                400,
                "invalid_description",
                "The description must be text of at most 500 characters.",
                headers,
            )
        language = body.get("language")
        if sum(item.status == STATUS_PENDING for item in self.requests.values()) >= MAX_PENDING:
            return _problem(429, "too_many_requests", "Too many requests are waiting.", headers)
        signer_request = SignerRequest(
            id=secrets.token_urlsafe(24),
            kind=kind,
            origin=origin,
            payload=payload,
            description=description.strip(),
            language=language if language in LANGUAGES else None,
            created=self.clock(),
        )
        self.requests[signer_request.id] = signer_request
        logger.info("signer_request_created", kind=kind)
        consent_url = f"http://127.0.0.1:{self.port}/consent/{signer_request.id}"
        if signer_request.language:
            consent_url += f"?lang={signer_request.language}"
        return web.json_response(
            {"id": signer_request.id, "consent_url": consent_url, "expires_in": REQUEST_SECONDS},
            status=201,
            headers=headers,
        )

    async def request_get(self, request: web.Request) -> web.Response:
        origin = self._cors_origin(request)
        if origin is None:
            return _problem(403, "origin_not_allowed", "This site may not use the signer.")
        headers = self._cors_headers(origin)
        signer_request = self.requests.get(request.match_info["id"])
        if signer_request is None or signer_request.origin != origin:
            return _problem(404, "unknown_request", "There is no such request.", headers)
        if signer_request.status != STATUS_DONE:
            return web.json_response({"status": signer_request.status}, headers=headers)
        if signer_request.delivered or signer_request.result is None:
            return _problem(410, "already_delivered", "The answer was already given.", headers)
        answer = {"status": STATUS_DONE, **signer_request.result}
        signer_request.delivered = True
        signer_request.result = None
        return web.json_response(answer, headers=headers)

    # --- consent page ----------------------------------------------------------------------
    def _page(
        self,
        _: Translator,
        *,
        title: str,
        body: str,
        finished: bool = False,
        status: int = 200,
        language_links: str = "",
    ) -> web.Response:
        document = (
            f'<!DOCTYPE html><html lang="{_.language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)} – egov signer</title>"
            '<link rel="stylesheet" href="/static/consent.css"></head>'
            f'<body data-finished="{"true" if finished else "false"}"><main>'
            f"<h1>{html.escape(title)}</h1>{body}{language_links}</main>"
            '<script src="/static/consent.js"></script></body></html>'
        )
        return web.Response(
            text=document,
            content_type="text/html",
            charset="utf-8",
            status=status,
            headers=PAGE_HEADERS,
        )

    def _finished_page(self, _: Translator, signer_request: SignerRequest | None) -> web.Response:
        if signer_request is None:
            return self._page(
                _,
                title=_("This request is not known"),
                body="<p>" + html.escape(_("Start again from the portal's page.")) + "</p>",
                status=404,
            )
        back = (
            "<p>"
            + html.escape(
                _("You can close this window and go back to %(origin)s.")
                % {"origin": signer_request.origin}
            )
            + "</p>"
        )
        if signer_request.status == STATUS_DONE:
            title = (
                _("You are logged in with your e-ID")
                if signer_request.kind == AUTHENTICATE
                else _("Signed with your e-ID")
            )
            return self._page(_, title=title, body=back, finished=True)
        if signer_request.status == STATUS_EXPIRED:
            return self._page(
                _,
                title=_("This request has expired"),
                body="<p>"
                + html.escape(_("Nothing was signed. Start again from the portal's page."))
                + "</p>",
                finished=True,
            )
        reason = (
            _(
                "Too many wrong passwords or PINs: nothing was signed. "
                "Start again from the portal's page."
            )
            if signer_request.attempts >= MAX_ATTEMPTS
            else _("You refused: nothing was signed.")
        )
        return self._page(
            _, title=_("Refused"), body="<p>" + html.escape(reason) + "</p>" + back, finished=True
        )

    def _consent_form(
        self,
        _: Translator,
        signer_request: SignerRequest,
        *,
        error: str = "",
        status: int = 200,
        chosen: str = "",
    ) -> web.Response:
        asking = (
            _("%(origin)s asks you to log in with your e-ID.")
            if signer_request.kind == AUTHENTICATE
            else _("%(origin)s asks you to sign with your e-ID.")
        ) % {"origin": signer_request.origin}
        title = (
            _("Log in with your e-ID")
            if signer_request.kind == AUTHENTICATE
            else _("Sign with your e-ID")
        )
        parts = []
        if error:
            parts.append(
                '<div class="error" role="alert" id="error"><p>' + html.escape(error) + "</p></div>"
            )
        parts.append("<p>" + html.escape(asking) + "</p><dl>")
        parts.append(
            f"<dt>{html.escape(_('Site'))}</dt><dd>{html.escape(signer_request.origin)}</dd>"
        )
        if signer_request.description:
            parts.append(
                f"<dt>{html.escape(_('What for'))}</dt>"
                f"<dd>{html.escape(signer_request.description)}</dd>"
            )
        if signer_request.kind == SIGN:
            parts.append(
                f"<dt>{html.escape(_('Fingerprint of what you sign (SHA-256)'))}</dt>"
                f'<dd class="digest">{_digest_display(signer_request.payload)}</dd>'
            )
        parts.append("</dl>")
        query = f"?lang={_.language}"
        parts.append(
            f'<form method="post" action="/consent/{html.escape(signer_request.id)}{query}">'
            f'<input type="hidden" name="token" value="{html.escape(signer_request.form_token)}">'
        )
        if self.eids:
            parts.append(f"<fieldset><legend>{html.escape(_('Choose your e-ID'))}</legend>")
            if not any(eid.id == chosen for eid in self.eids):
                chosen = self.eids[0].id
            for index, eid in enumerate(self.eids):
                checked = " checked" if eid.id == chosen else ""
                label = _("%(holder)s, identification number %(number)s, valid until %(date)s") % {
                    "holder": eid.holder,
                    "number": eid.personal_number or "—",
                    "date": eid.not_after.strftime("%d.%m.%Y"),
                }
                parts.append(
                    f'<div class="choice"><input type="radio" name="eid" id="eid-{index}" '
                    f'value="{html.escape(eid.id)}"{checked}> '
                    f'<label for="eid-{index}">{html.escape(label)}</label></div>'
                )
            parts.append("</fieldset>")
            described = 'aria-describedby="error" ' if error else ""
            parts.append(
                f'<label for="secret">{html.escape(_("Password or PIN of the e-ID"))}</label>'
                '<input type="password" id="secret" name="secret" autocomplete="off" '
                f"{described}autofocus>"
            )
            parts.append(
                f'<button class="allow" type="submit" name="action" value="allow">'
                f"{html.escape(_('Allow'))}</button>"
            )
        else:
            parts.append(
                "<p>"
                + html.escape(
                    _(
                        "The signer has no e-ID. Start it with your e-ID file: "
                        "egov signer --pkcs12 FILE."
                    )
                )
                + "</p>"
            )
        parts.append(
            f'<button class="refuse" type="submit" name="action" value="refuse">'
            f"{html.escape(_('Refuse'))}</button></form>"
        )
        links = [
            f'<li><a href="/consent/{html.escape(signer_request.id)}?lang={code}" lang="{code}" '
            f'hreflang="{code}">{name}</a></li>'
            for code, name in (("be", "Беларуская"), ("ru", "Русский"), ("en", "English"))
            if code != _.language
        ]
        language_links = (
            f'<nav aria-label="{html.escape(_("Language"))}"><ul>{"".join(links)}</ul></nav>'
        )
        return self._page(
            _, title=title, body="".join(parts), status=status, language_links=language_links
        )

    def _translator(self, request: web.Request, signer_request: SignerRequest | None) -> Translator:
        requested = request.query.get("lang") or (
            signer_request.language if signer_request else None
        )
        return Translator(
            language_choose(
                requested=requested, accept_language=request.headers.get("Accept-Language")
            )
        )

    async def consent_page(self, request: web.Request) -> web.Response:
        signer_request = self.requests.get(request.match_info["id"])
        _ = self._translator(request, signer_request)
        if signer_request is None or signer_request.status != STATUS_PENDING:
            return self._finished_page(_, signer_request)
        return self._consent_form(_, signer_request)

    async def consent_answer(self, request: web.Request) -> web.Response:
        signer_request = self.requests.get(request.match_info["id"])
        _ = self._translator(request, signer_request)
        origin = request.headers.get("Origin")
        if (origin is not None and origin_normalise(origin) not in self.own_origins) or (
            request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none")
        ):
            # Only the signer's own page answers: another page cannot post the person's consent.
            logger.warning("signer_consent_foreign_origin")
            return self._page(
                _,
                title=_("Refused"),
                body="<p>" + html.escape(_("Only the signer's own page can answer.")) + "</p>",
                status=403,
            )
        if signer_request is None or signer_request.status != STATUS_PENDING or signer_request.busy:
            return self._finished_page(_, signer_request)
        form = await request.post()
        token = str(form.get("token", ""))
        if not hmac.compare_digest(token.encode(), signer_request.form_token.encode()):
            return self._consent_form(
                _, signer_request, error=_("The page was out of date. Try again."), status=400
            )
        if form.get("action") != "allow":
            self._finish(signer_request, STATUS_REFUSED)
            logger.info("signer_request_refused", kind=signer_request.kind)
            return self._finished_page(_, signer_request)
        eid = self._eid(str(form.get("eid", "")))
        if eid is None:
            return self._consent_form(_, signer_request, error=_("Choose your e-ID."), status=400)
        secret = str(form.get("secret", ""))
        if not secret:
            return self._consent_form(
                _, signer_request, error=_("Enter the password or PIN of the e-ID."), status=400
            )
        signer_request.busy = True
        try:
            result = await self._operate(eid, signer_request, secret)
        except WrongSecret:
            signer_request.attempts += 1
            logger.info("signer_wrong_secret", attempts=signer_request.attempts)
            if signer_request.attempts >= MAX_ATTEMPTS:
                self._finish(signer_request, STATUS_REFUSED)
                return self._finished_page(_, signer_request)
            left = MAX_ATTEMPTS - signer_request.attempts
            return self._consent_form(
                _,
                signer_request,
                error=_("The password or PIN is not right. Attempts left: %(left)s.")
                % {"left": left},
                status=400,
                chosen=eid.id,
            )
        except EidError:
            logger.warning("signer_eid_unusable", exc_info=True)
            return self._consent_form(
                _,
                signer_request,
                error=_("This e-ID cannot be used: its file or token could not be read."),
                status=400,
            )
        finally:
            signer_request.busy = False
        if signer_request.expired(self.clock()):
            self._finish(signer_request, STATUS_EXPIRED)
            return self._finished_page(_, signer_request)
        signer_request.result = {
            "certificate": result.certificate_pem,
            "chain": result.chain_pem,
        }
        if signer_request.kind == AUTHENTICATE:
            signer_request.result["signature"] = base64.b64encode(result.signature).decode()
        else:
            signer_request.result["cms"] = base64.b64encode(result.cms).decode()
        self._finish(signer_request, STATUS_DONE)
        logger.info("signer_request_done", kind=signer_request.kind)
        return self._finished_page(_, signer_request)

    async def _operate(self, eid: Eid, signer_request: SignerRequest, secret: str) -> Result:
        if signer_request.kind == AUTHENTICATE:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                None,
                lambda: eid.authenticate(
                    secret=secret, origin=signer_request.origin, challenge=signer_request.payload
                ),
            )
        return await eid.sign(secret=secret, digest=signer_request.payload)

    def _finish(self, signer_request: SignerRequest, status: str) -> None:
        signer_request.status = status
        signer_request.finished = self.clock()

    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "consent.css":
            return web.Response(text=CONSENT_CSS, content_type="text/css", headers=PAGE_HEADERS)
        if name == "consent.js":
            return web.Response(
                text=CONSENT_JS, content_type="text/javascript", headers=PAGE_HEADERS
            )
        raise web.HTTPNotFound()

    # --- application -----------------------------------------------------------------------
    def app(self) -> web.Application:
        application = web.Application(middlewares=[self.guard], client_max_size=MAX_BODY)
        application.router.add_get("/v1/status", self.status)
        application.router.add_post("/v1/requests", self.request_create)
        application.router.add_get("/v1/requests/{id}", self.request_get)
        for path in ("/v1/status", "/v1/requests", "/v1/requests/{id}"):
            application.router.add_route("OPTIONS", path, self.preflight)
        application.router.add_get("/consent/{id}", self.consent_page)
        application.router.add_post("/consent/{id}", self.consent_answer)
        application.router.add_get("/static/{name}", self.asset)
        return application


def host_check(host: str) -> str:
    """The address to listen on: 127.0.0.1 (or ::1) only, never another interface."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise SignerStartError(f"egov signer listens on 127.0.0.1 only, not on {host!r}") from None
    if not address.is_loopback:
        raise SignerStartError(f"egov signer listens on 127.0.0.1 only, not on {host}")
    return str(address)


async def signer_start(
    signer: Signer, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT
) -> web.AppRunner:
    """Bind and serve; the caller keeps the runner and calls ``cleanup()`` to stop."""
    host = host_check(host)
    runner = web.AppRunner(signer.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        raise SignerStartError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    signer.port = sockets[0].getsockname()[1] if sockets else port
    return runner


async def signer_serve(
    signer: Signer, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT
) -> None:
    """Serve until cancelled (Ctrl+C)."""
    runner = await signer_start(signer, host=host, port=port)
    logger.info("signer_started", port=signer.port, eids=len(signer.eids))
    try:
        while True:
            await asyncio.sleep(3600)
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
