"""Bearer tokens for the REST API (``Authorization: Bearer egov_...``)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from egov.core.numbers import NumberError, parse_integer
from egov.identity.models import ApiToken, User

PREFIX = "egov_"
LAST_USED_RESOLUTION = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_issue(*, user: User, name: str, assurance: str, days: int = 90) -> str:
    """Create a token and return it in clear, once. An official's or admin's token lives no
    longer than their longest session (``EGOV_STAFF_SESSION_ABSOLUTE_MINUTES``), so their
    rights never outlast the second-factor login that made it."""
    token = PREFIX + secrets.token_urlsafe(32)
    lifetime = timedelta(days=days)
    if user.is_staff_kind:
        lifetime = min(lifetime, timedelta(minutes=settings.SESSION_ABSOLUTE_MINUTES["staff"]))
    ApiToken.objects.create(
        user=user,
        name=name[:100],
        key_hash=_hash(token),
        assurance=assurance,
        expires_at=timezone.now() + lifetime,
    )
    return token


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Give exactly one token after Bearer."))
        try:
            token = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        record = ApiToken.objects.select_related("user").filter(key_hash=_hash(token)).first()
        now = timezone.now()
        if record is None or record.expires_at <= now or not record.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token is not valid or has expired."))
        if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        return record.user, record

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


def api_tokens_of(*, actor: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=actor).order_by("-created_at"))


def api_token_revoke(*, actor: User, token_id: object) -> None:
    """Revoke one of the actor's own tokens (another person's id does nothing)."""
    try:
        pk = parse_integer(str(token_id).strip(), minimum=1, maximum=2**63 - 1)
    except NumberError:
        return
    ApiToken.objects.filter(user=actor, pk=pk).delete()
