"""Reads about the signed-in person and their session."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
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


def representations_valid(*, actor: User) -> QuerySet[Representation]:
    """The person's own rights to act that hold today: ``valid_until`` is the day a right
    ended (a director no longer listed by the register ends on the day it is noticed)."""
    today = timezone.localdate()
    return actor.representations.filter(valid_from__lte=today).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=today)
    )


def representation_list(*, actor: User) -> list[Representation]:
    """The legal entities the person may act for today; only their own."""
    return list(representations_valid(actor=actor).order_by("organisation_name"))


def representation_holds(*, actor: User, unp: str) -> bool:
    return bool(unp) and representations_valid(actor=actor).filter(unp=unp).exists()


def has_second_factor(*, actor: User) -> bool:
    return TOTPDevice.objects.filter(user=actor, confirmed=True).exists()
