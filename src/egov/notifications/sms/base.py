"""The SMS provider interface. A provider sends one text to one number and returns its own
reference for the message; it raises :class:`SmsError` when the message was not accepted."""

from __future__ import annotations

from abc import ABC, abstractmethod


class SmsError(Exception):
    """The provider did not accept the message; the delivery will be retried."""


class SmsProvider(ABC):
    @abstractmethod
    def send(self, *, phone: str, text: str, reference: str) -> str:
        """Hand the message over; return the provider's id for it."""
