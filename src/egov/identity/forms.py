"""Forms of the identity pages: they parse and validate input; services do the work."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from egov.identity.validators import validate_personal_number


class LoginForm(forms.Form):
    username = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
        },
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password")},
    )


class CodeForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        help_text=_("The 6-digit code, for example 123456."),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter the 6-digit code from your authenticator app")},
    )


class RegistrationForm(forms.Form):
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, error_messages={"required": _("Enter your last name")}
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        error_messages={"required": _("Enter your first name")},
    )
    patronymic = forms.CharField(
        label=_("Patronymic (if you have one)"), max_length=100, required=False
    )
    personal_number = forms.CharField(
        label=_("Identification number"),
        help_text=_(
            "14 characters, printed in your passport or ID card, for example 3010180A001PB8."
        ),
        max_length=40,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={"required": _("Enter your identification number")},
    )
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("We will send a link to confirm it."),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
        },
    )
    password = forms.CharField(
        label=_("Create a password"),
        help_text=_("At least 10 characters. Avoid common words and only digits."),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Create a password")},
    )
    password_repeat = forms.CharField(
        label=_("Repeat the password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Repeat the password")},
    )

    def clean_personal_number(self) -> str:
        return validate_personal_number(self.cleaned_data["personal_number"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password and data.get("password_repeat") and password != data["password_repeat"]:
            self.add_error("password_repeat", _("The passwords do not match"))
        if password:
            # The similarity check compares the password with what the person typed.
            candidate = SimpleNamespace(
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password, cast(Any, candidate))
            except ValidationError as error:
                self.add_error("password", error)
        return data


class EidAnswerForm(forms.Form):
    """What the page posts after egov signer answered (filled in by static/egov/eid-login.js)."""

    challenge = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    certificate = forms.CharField(required=False, max_length=20_000, widget=forms.HiddenInput)
    chain = forms.CharField(required=False, max_length=60_000, widget=forms.HiddenInput)
    signature = forms.CharField(required=False, max_length=2_000, widget=forms.HiddenInput)
