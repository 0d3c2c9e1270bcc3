"""Sending messages: written into the inbox at once, delivered by email and SMS in the
background (see ``tasks.py``), in the recipient's language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from egov.identity.models import User
from egov.notifications.models import Channel, Delivery, DeliveryStatus, Message
from egov.notifications.sms.registry import provider_current

logger = structlog.get_logger(__name__)

TEMPLATES = (
    "application_received",
    "information_requested",
    "application_approved",
    "application_refused",
    "application_withdrawn",
    "status_changed",
    "document_issued",
)
#: Minutes to wait before attempt 2, 3, ...; after the last, the delivery gives up and an
#: operator sees it in the admin.
RETRY_MINUTES = (1, 5, 15, 60, 180, 720)
MAX_ATTEMPTS = len(RETRY_MINUTES) + 1


def _localised(context: dict[str, Any], language: str) -> dict[str, Any]:
    """Values given in three languages ({"be": ..., "ru": ..., "en": ...}) become one."""
    out = {}
    for key, value in context.items():
        if isinstance(value, dict) and set(value) <= {"be", "ru", "en"} and value:
            value = value.get(language) or value.get("be") or next(iter(value.values()))
        out[key] = value
    return out


def message_send(
    *, recipient: User, template: str, context: dict[str, Any], reference: str = "", link: str = ""
) -> Message:
    """Put a message into the recipient's inbox and queue its email and SMS deliveries.

    Runs inside the caller's transaction: the message, its deliveries and their tasks are
    written together or not at all (the task queue lives in the same database)."""
    from egov.notifications.tasks import delivery_attempt

    if template not in TEMPLATES:
        raise ValueError(f"unknown message template {template!r}")
    language = recipient.language or settings.LANGUAGE_CODE
    with translation.override(language):
        values = _localised(context, language) | {"recipient": recipient}
        rendered = render_to_string(f"notifications/{template}.subject.txt", values)
        subject = " ".join(rendered.split())  # a header is one line, whatever the texts hold
        body = render_to_string(f"notifications/{template}.body.txt", values).strip()
    message = Message.objects.create(
        recipient=recipient,
        template=template,
        subject=subject[:300],
        body=body,
        reference=reference,
        link=link,
    )
    now = timezone.now()
    channels = []
    if recipient.notify_by_email and recipient.email:
        channels.append((Channel.EMAIL, recipient.email))
    if recipient.notify_by_sms and recipient.phone:
        channels.append((Channel.SMS, recipient.phone))
    for channel, address in channels:
        delivery = Delivery.objects.create(
            message=message, channel=channel, address=address, next_attempt_at=now
        )
        delivery_attempt.enqueue(str(delivery.pk))
    return message


def _send(delivery: Delivery, message: Message) -> str:
    if delivery.channel == Channel.EMAIL:
        email = EmailMessage(
            subject=message.subject,
            body=message.body
            + (f"\n\n{settings.PORTAL_BASE_URL}{message.link}" if message.link else ""),
            to=[delivery.address],
            # The same id on every attempt, so a retried email is recognised as one message.
            headers={"Message-ID": f"<{delivery.pk}@egov>"},
        )
        email.send(fail_silently=False)
        return f"<{delivery.pk}@egov>"
    text = f"{message.subject} {message.reference}".strip()
    return provider_current().send(phone=delivery.address, text=text, reference=str(delivery.pk))


#: How long one attempt may take before another may start (SMTP and SMS calls time out well
#: within it: EMAIL_TIMEOUT is 10 seconds).
LEASE = timedelta(seconds=30)


def delivery_attempt_run(*, delivery_id: str) -> str:
    """One attempt to deliver; safe to run twice, at once or one after the other.

    Under the row lock the attempt takes a lease (status "sending") and counts itself, so a
    second run skips while the first is sending, and a worker killed mid-send leaves a
    record whose lease runs out; the recovered task then tries again."""
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status in (DeliveryStatus.SENT, DeliveryStatus.GAVE_UP):
            return "skipped"
        if delivery.status == DeliveryStatus.SENDING and (
            delivery.lease_until is not None and delivery.lease_until > now
        ):
            # Someone is sending it, or died doing so: look again when the lease runs out.
            from egov.notifications.tasks import delivery_attempt

            delivery_attempt.using(run_after=delivery.lease_until).enqueue(str(delivery.pk))
            return "in progress"
        delivery.attempts += 1
        delivery.status = DeliveryStatus.SENDING
        delivery.lease_until = now + LEASE
        delivery.save(update_fields=["attempts", "status", "lease_until"])
    message = Message.objects.get(pk=delivery.message_id)
    try:
        provider_reference = _send(delivery, message)
    except Exception as error:  # any failure is recorded and retried, never lost
        return _attempt_failed(delivery_id=delivery_id, error=error)
    Delivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        lease_until=None,
        last_error="",
        provider_reference=provider_reference[:100],
    )
    return "sent"


def _attempt_failed(*, delivery_id: str, error: Exception) -> str:
    from egov.notifications.tasks import delivery_attempt

    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        delivery.last_error = f"{type(error).__name__}: {error}"[:500]
        delivery.lease_until = None
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.GAVE_UP
            logger.error("delivery %s gave up after %d attempts", delivery.pk, delivery.attempts)
        else:
            delivery.status = DeliveryStatus.FAILED
            wait = timedelta(minutes=RETRY_MINUTES[delivery.attempts - 1])
            delivery.next_attempt_at = timezone.now() + wait
            delivery_attempt.using(run_after=delivery.next_attempt_at).enqueue(str(delivery.pk))
        delivery.save(update_fields=["status", "last_error", "next_attempt_at", "lease_until"])
    return delivery.status


def deliveries_requeue_overdue(*, grace: timedelta = timedelta(minutes=10)) -> int:
    """Safety net run by the worker: a delivery due long ago with no success gets a new task
    (its own may have been pruned or lost). Sending twice is prevented by the row lock."""
    from egov.notifications.tasks import delivery_attempt

    now = timezone.now()
    count = 0
    with transaction.atomic():
        overdue = Delivery.objects.select_for_update(skip_locked=True).filter(
            Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])
            | Q(status=DeliveryStatus.SENDING, lease_until__lt=now),
            next_attempt_at__lte=now - grace,
        )[:500]
        for delivery in overdue:
            delivery.next_attempt_at = now
            delivery.save(update_fields=["next_attempt_at"])
            delivery_attempt.enqueue(str(delivery.pk))
            count += 1
    return count


def message_mark_read(*, actor: User, message: Message) -> None:
    if message.recipient_id != actor.pk:
        raise PermissionError("not the recipient")
    if message.read_at is None:
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=timezone.now())
