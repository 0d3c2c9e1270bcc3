"""Reads about the signed-in person and their session."""

from __future__ import annotations

from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.identity.models import LevelOfAssurance, Representation, User

SESSION_LOA = "egov_loa"


def session_assurance(*, request: HttpRequest) -> str | None:
    if not request.user.is_authenticated:
        return None
    return request.session.get(SESSION_LOA, LevelOfAssurance.LOW)


def session_meets(*, request: HttpRequest, required: str) -> bool:
    return LevelOfAssurance.rank(session_assurance(request=request)) >= LevelOfAssurance.rank(
        required
    )


def representation_list(*, actor: User) -> list[Representation]:
    """The legal entities the person may act for; only their own."""
    return list(actor.representations.order_by("organisation_name"))


def has_second_factor(*, actor: User) -> bool:
    return TOTPDevice.objects.filter(user=actor, confirmed=True).exists()
