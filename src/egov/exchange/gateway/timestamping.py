"""The message log's seals timestamped by the platform's RFC 3161 TSA, over HTTP.

Every ``timestamp_interval`` seconds one query covers the seals written since the last token
(X-Road's batch timestamping); the token is checked (our imprint and nonce, the TSA's
signature, its certificate chaining to the platform's CA) before it is written to the log.
While the TSA does not answer the gateway keeps forwarding for ``timestamp_grace`` seconds
from the oldest seal without a token; past that it refuses (fail closed: messages it could
not prove the time of) and reports not ready, until a token comes again — no restart.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any

import structlog
from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector
from cryptography import x509

from egov.exchange.gateway.conf import GatewaySettings
from egov.exchange.gateway.errors import XRoadError
from egov.exchange.gateway.messagelog import MessageLog
from egov.trust.tsa import (
    QUERY_CONTENT_TYPE,
    REPLY_CONTENT_TYPE,
    TimestampError,
    nonce_new,
    reply_token,
    timestamp_query,
    token_check,
)

logger = structlog.get_logger(__name__)

#: A reply is a few kilobytes (the token and two certificates).
MAX_REPLY_BYTES = 64 * 1024


class Timestamping:
    def __init__(self, settings: GatewaySettings, log: MessageLog) -> None:
        self.settings = settings
        self.log = log
        self.session: ClientSession | None = None
        self.last_error = ""
        self.clock: Callable[[], float] = time.monotonic
        self._authorities: list[x509.Certificate] = []
        for path in settings.ca_certificates:
            self._authorities += x509.load_pem_x509_certificates(path.read_bytes())

    async def open(self, context: ssl.SSLContext) -> ClientSession:
        self.session = ClientSession(connector=TCPConnector(ssl=context, limit=2))
        return self.session

    @property
    def enabled(self) -> bool:
        return bool(self.settings.tsa_url)

    def waiting_seconds(self) -> float:
        """How long the oldest seal without a token has waited (0 when none waits)."""
        oldest = self.log.oldest_untimestamped
        return 0.0 if oldest is None else max(0.0, self.clock() - oldest)

    def failed(self) -> bool:
        """Past the grace period: the gateway refuses to forward."""
        return self.enabled and self.waiting_seconds() > self.settings.timestamp_grace

    def reason(self) -> str:
        waited = int(self.waiting_seconds())
        cause = f": {self.last_error}" if self.last_error else ""
        return (
            f"the message log's seals have had no timestamp for {waited} s, longer than the "
            f"{int(self.settings.timestamp_grace)} s allowed (the TSA at "
            f"{self.settings.tsa_url} did not give one{cause})"
        )

    def check(self, error: Callable[[str, str], XRoadError]) -> None:
        """Raise ``error("TimestampingFailed", ...)`` when past the grace period."""
        if self.failed():
            raise error(
                "TimestampingFailed", f"{self.settings.code} cannot forward: {self.reason()}"
            )

    def status(self) -> dict[str, Any]:
        """The readiness check's view."""
        if not self.enabled:
            return {"enabled": False, "ok": True, "reason": None}
        failed = self.failed()
        return {
            "enabled": True,
            "ok": not failed,
            "tsa_url": self.settings.tsa_url,
            "last_token_at": self.log.last_timestamp_at,
            "seals_without_token": self.log.untimestamped_seals,
            "oldest_waiting_seconds": int(self.waiting_seconds()),
            "grace_seconds": int(self.settings.timestamp_grace),
            "reason": self.reason() if failed else (self.last_error or None),
        }

    async def run(self, timeout: float | None = None) -> None:
        """One query for the seals waiting, if any; a failure is remembered, never raised."""
        batch = self.log.timestamp_batch()
        if batch is None or self.session is None:
            return
        nonce = nonce_new()
        digest = batch.imprint
        limit = timeout or min(10.0, max(2.0, self.settings.timestamp_interval))
        try:
            async with self.session.post(
                self.settings.tsa_url,
                data=timestamp_query(digest, nonce=nonce),
                headers={"Content-Type": QUERY_CONTENT_TYPE, "Accept": REPLY_CONTENT_TYPE},
                timeout=ClientTimeout(total=limit),
                allow_redirects=False,
            ) as answer:
                if answer.status != 200:
                    raise TimestampError(f"the TSA answered HTTP {answer.status}")
                body = await answer.content.read(MAX_REPLY_BYTES + 1)
                if len(body) > MAX_REPLY_BYTES:
                    raise TimestampError("the TSA's answer is too large")
            token = reply_token(body, digest=digest, nonce=nonce)
            checked = token_check(token, authorities=self._authorities)
        except TimeoutError:
            self._failed(f"the TSA did not answer within {limit:g} s")
            return
        except (ClientError, OSError, TimestampError) as error:
            self._failed(str(error) or type(error).__name__)
            return
        self.log.timestamp(batch, token, checked.gen_time)
        if self.last_error:
            logger.info("timestamping_recovered", gateway=self.settings.code)
        self.last_error = ""

    def _failed(self, reason: str) -> None:
        self.last_error = reason
        logger.warning(
            "timestamp_not_obtained",
            gateway=self.settings.code,
            tsa_url=self.settings.tsa_url,
            reason=reason,
            seals_waiting=self.log.untimestamped_seals,
            waiting_seconds=int(self.waiting_seconds()),
        )
