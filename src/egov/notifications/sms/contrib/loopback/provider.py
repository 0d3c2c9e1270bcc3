"""A loopback SMS provider for the demo and tests: each message becomes a JSON file in
``<data folder>/sms/`` instead of leaving the machine. The demo mailbox shows them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from egov.notifications.sms.base import SmsError, SmsProvider
from egov.notifications.sms.registry import providers


def outbox_dir() -> Path:
    return Path(settings.SMS_LOOPBACK_DIR)


@providers.register("loopback")
class LoopbackSmsProvider(SmsProvider):
    def send(self, *, phone: str, text: str, reference: str) -> str:
        message_id = uuid.uuid4().hex
        record = {
            "id": message_id,
            "to": phone,
            "text": text,
            "reference": reference,
            "at": timezone.now().isoformat(),
        }
        try:
            folder = outbox_dir()
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{message_id}.json").write_text(json.dumps(record, ensure_ascii=False))
        except OSError as error:
            raise SmsError(str(error)) from error
        return message_id


def loopback_messages() -> list[dict[str, str]]:
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    records = [json.loads(path.read_text()) for path in folder.glob("*.json")]
    return sorted(records, key=lambda record: record["at"], reverse=True)
