"""Validators of people's and companies' identifiers that say, in a person's language, what
is wrong. The arithmetic (shape, birth date, check digits) lives in ``egov.core.identifiers``,
which the registries share."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from egov.core.identifiers import (
    normalise_personal_number,
    personal_number_birth_date,
    personal_number_check_digit,
    personal_number_problem,
    personal_number_sex,
    unp_normalise,
)

__all__ = [
    "normalise_personal_number",
    "personal_number_birth_date",
    "personal_number_check_digit",
    "personal_number_sex",
    "personal_number_validator",
    "phone_validator",
    "unp_validator",
    "validate_personal_number",
    "validate_unp",
]


def validate_personal_number(value: str) -> str:
    """Return the normalised number or raise a ValidationError saying what is wrong."""
    number = normalise_personal_number(value)
    problem = personal_number_problem(number)
    if problem == "length":
        raise ValidationError(
            _("An identification number has 14 characters, for example 3010180A001PB8."),
            code="personal_number_length",
        )
    if problem == "shape":
        raise ValidationError(
            _(
                "Enter the identification number as it is printed in your passport or ID "
                "card: a digit 1–6, six digits of the birth date, a letter, three digits, two "
                "letters and a check digit, for example 3010180A001PB8."
            ),
            code="personal_number_shape",
        )
    if problem == "date":
        raise ValidationError(
            _("The identification number contains a birth date that does not exist."),
            code="personal_number_date",
        )
    if problem == "checksum":
        raise ValidationError(
            _("The identification number has a typing error: its check digit does not match."),
            code="personal_number_checksum",
        )
    return number


def personal_number_validator(value: str) -> None:
    """For model fields, which want a validator that returns nothing."""
    validate_personal_number(value)


def unp_validator(value: str) -> None:
    validate_unp(value)


def validate_unp(value: str) -> str:
    """Return the normalised УНП (payer account number) or raise a ValidationError."""
    number = unp_normalise(value)
    if number is None:
        raise ValidationError(
            _("Enter a valid payer account number (УНП): 9 characters, for example 200988541."),
            code="unp_invalid",
        )
    return number


phone_validator = RegexValidator(
    r"^\+375(25|29|33|44)[0-9]{7}$",
    _("Enter a Belarusian mobile number in the form +375291234567."),
)
