"""Parsing what officials send from the back office. Forms only read and type the input; every
business rule (who may claim, assign, fire a transition) is judged by ``egov.cases.services``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from egov.cases.selectors import QueueFilter
from egov.catalog.models import Service

MAX_TEXT = 5000


class QueueFilterForm(forms.Form):
    """The queue's filters, sent with GET so that a filtered queue can be bookmarked."""

    service = forms.ChoiceField(label=_("Service"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    due = forms.ChoiceField(
        label=_("Deadline"),
        required=False,
        choices=[("", _("Any")), ("overdue", _("Overdue")), ("soon", _("Due soon"))],
    )
    assigned = forms.ChoiceField(
        label=_("Assigned to"),
        required=False,
        choices=[("", _("Anyone")), ("me", _("Me")), ("unassigned", _("No one yet"))],
    )
    closed = forms.BooleanField(label=_("Show closed cases instead of open ones"), required=False)

    def __init__(
        self,
        data: Any,
        *,
        services: Iterable[Service],
        states: Iterable[tuple[str, str]],
    ) -> None:
        super().__init__(data)
        service_field = self.fields["service"]
        state_field = self.fields["state"]
        assert isinstance(service_field, forms.ChoiceField)
        assert isinstance(state_field, forms.ChoiceField)
        service_field.choices = [("", _("All services"))] + [
            (service.code, service.name) for service in services
        ]
        state_field.choices = [("", _("Any state")), *states]
        for name in ("service", "state", "due", "assigned"):
            self.fields[name].error_messages["invalid_choice"] = _("Select one of the options.")

    def queue_filter(self) -> QueueFilter:
        """The filters that were valid; an invalid one is left out (and reported)."""
        if not self.is_bound:
            return QueueFilter()
        self.is_valid()
        values = getattr(self, "cleaned_data", {})
        return QueueFilter(
            service=values.get("service") or "",
            state=values.get("state") or "",
            due=values.get("due") or "",
            assigned=values.get("assigned") or "",
            closed=bool(values.get("closed")),
        )


class AssignForm(forms.Form):
    assignee = forms.IntegerField(
        min_value=1,
        error_messages={
            "required": _("Choose an official of your agency."),
            "invalid": _("Choose an official of your agency."),
            "min_value": _("Choose an official of your agency."),
        },
    )


class ActionForm(forms.Form):
    """Which transition and the comment. An unknown transition is left for ``transition_fire``
    to refuse with its own message."""

    transition = forms.CharField(required=False)
    comment = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        # the same words (and msgid) as the services' own length messages
        error_messages={"max_length": _("Enter 5000 characters or fewer.")},
    )
