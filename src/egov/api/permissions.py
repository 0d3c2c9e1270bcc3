"""Who may call which part of the API, and how strongly their login proved who they are.

A person's own applications are for citizens and business representatives; an agency's cases
are for its officials. Refusals are 403 problems with a stable code; a case or application
that belongs to someone else is answered with 404 by the selectors, so its existence does not
leak.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions

from egov.identity import selectors as identity
from egov.identity.models import ApiToken, LevelOfAssurance, User, UserKind

APPLICANT_KINDS = (UserKind.CITIZEN, UserKind.BUSINESS)


class AssuranceTooLow(exceptions.PermissionDenied):
    default_code = "assurance_too_low"


class IsApplicant(permissions.IsAuthenticated):
    """Citizens and business representatives: the people who apply."""

    message = _("Only citizens and business representatives have applications here.")
    code = "applicants_only"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return bool(getattr(request.user, "kind", None) in APPLICANT_KINDS)


class IsOfficial(permissions.IsAuthenticated):
    """Officials of an agency, logged in with at least a substantial level of assurance, as
    the back office requires."""

    message = _("Only officials of an agency work on cases.")
    code = "officials_only"

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        user = request.user
        if getattr(user, "kind", None) != UserKind.OFFICIAL or user.agency_id is None:
            return False
        assurance_require(request, LevelOfAssurance.SUBSTANTIAL)
        return True


def request_assurance(request: Any) -> str | None:
    """The level of assurance behind the request: the token's for a Bearer token, the
    session's for a browser session."""
    if isinstance(request.auth, ApiToken):
        return str(request.auth.assurance)
    return identity.session_assurance(request=request._request)


def assurance_require(request: Any, required: str) -> None:
    """Raise a 403 problem with the code ``assurance_too_low`` unless the login was strong
    enough."""
    if LevelOfAssurance.rank(request_assurance(request)) >= LevelOfAssurance.rank(required):
        return
    label = LevelOfAssurance(required).label if required in LevelOfAssurance.values else required
    raise AssuranceTooLow(
        _(
            "This needs the level of assurance “%(level)s” and your login or token has a lower "
            "one. Log in at that level and use a token issued in that session."
        )
        % {"level": label}
    )


def acting_user(request: Any) -> User:
    """The authenticated person; the permission classes have already made sure there is one."""
    user = request.user
    assert isinstance(user, User)
    return user
