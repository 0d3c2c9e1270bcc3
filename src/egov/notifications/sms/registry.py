from __future__ import annotations

from django.conf import settings

from egov.core.plugins import Registry
from egov.notifications.sms.base import SmsProvider

providers: Registry[type[SmsProvider]] = Registry("SMS provider")


def provider_current() -> SmsProvider:
    return providers[settings.SMS_PROVIDER]()
