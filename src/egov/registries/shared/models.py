"""Abstract models each registry that holds personal data makes concrete in its own tables."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataAccessBase(models.Model):
    """One successful call of a personal-data service: who read what about whom, and why.

    The person the data is about can list these through ``data-access-log`` (Law No. 99-З on
    personal data gives them the right to know who received their data)."""

    at = models.DateTimeField(_("when"), db_index=True)
    client = models.CharField(_("client subsystem"), max_length=200)
    member = models.CharField(_("member code"), max_length=64)
    service = models.CharField(_("service code"), max_length=64)
    data = models.CharField(_("data returned"), max_length=64)
    subject = models.CharField(_("identification number of the person"), max_length=14)
    user_id = models.CharField(_("user"), max_length=100, blank=True)
    #: The purposes of the access right in effect, as the provider gateway set them
    #: (``X-Egov-Purposes``): ``[{code, text: {be, ru, en}, legal_basis: {be, ru, en}}]``.
    purposes = models.JSONField(_("purposes"), default=list)
    issue = models.CharField(_("issue"), max_length=200, blank=True)
    #: ``X-Road-Id``: the client's own reference for the call, whatever the client chose.
    message_id = models.CharField(_("message id"), max_length=100, blank=True)
    #: ``X-Road-Request-Id``: the id the provider gateway generated and signed into its record
    #: of the call, so the proof a person can quote; empty from a gateway that set none.
    request_id = models.CharField(_("exchange request id"), max_length=64, blank=True)

    class Meta:
        abstract = True
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.client} {self.service} {self.subject}"

    @property
    def purpose_codes(self) -> str:
        return ", ".join(str(item.get("code", "")) for item in self.purposes)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "client": self.client,
            "member": self.member,
            "service": self.service,
            "data": self.data,
            "purposes": self.purposes,
            "issue": self.issue,
            "user_id": self.user_id,
            "message_id": self.message_id,
            "request_id": self.request_id,
        }


class EventBase(models.Model):
    """The registry's outbox: a change other systems may follow, in id order."""

    type = models.CharField(_("type"), max_length=32)
    at = models.DateTimeField(_("when"))
    subject = models.CharField(_("subject"), max_length=14, db_index=True)
    data = models.JSONField(_("data"), default=dict)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.pk} {self.type} {self.subject}"

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.pk,
            "type": self.type,
            "at": self.at.isoformat(),
            "subject": self.subject,
            "data": self.data,
        }
