from __future__ import annotations

from django.db.models import QuerySet

from egov.identity.models import User
from egov.notifications.models import Message


def inbox(*, actor: User) -> QuerySet[Message]:
    return Message.objects.filter(recipient=actor).order_by("-created_at")


def inbox_unread_count(*, actor: User) -> int:
    return Message.objects.filter(recipient=actor, read_at__isnull=True).count()


def message_get(*, actor: User, message_id: str) -> Message | None:
    """The actor's own message, or None (another person's message does not exist for them)."""
    return Message.objects.filter(recipient=actor, pk=message_id).first()
