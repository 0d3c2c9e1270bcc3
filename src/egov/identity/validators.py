"""Identifiers of people and companies in the demo country.

The personal identification number has 14 characters: sex and century, birth date DDMMYY,
a region letter, a three-digit sequence, a two-letter status and a check digit. The check
digit is the sum of the first 13 characters' values (digits as themselves, letters A=10 ...
Z=35) weighted 7, 3, 1, 7, 3, 1, ... taken modulo 10.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from stdnum.by import unp as stdnum_unp
from stdnum.exceptions import ValidationError as StdnumValidationError

# People often type the number with a Cyrillic keyboard layout: map look-alike letters.
_CYRILLIC_LOOKALIKES = str.maketrans("АВСЕНКМОРТХ", "ABCEHKMOPTX")
_SHAPE = re.compile(r"^[1-6][0-9]{6}[A-Z][0-9]{3}[A-Z]{2}[0-9]$", re.ASCII)
_WEIGHTS = (7, 3, 1)
_CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


def normalise_personal_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper().translate(_CYRILLIC_LOOKALIKES)


def _character_value(character: str) -> int:
    return int(character) if character.isdigit() else ord(character) - ord("A") + 10


def personal_number_check_digit(first_thirteen: str) -> int:
    total = sum(
        _character_value(character) * _WEIGHTS[position % 3]
        for position, character in enumerate(first_thirteen)
    )
    return total % 10


def personal_number_birth_date(number: str) -> datetime.date:
    """The birth date the number encodes; raises ValueError for an impossible date."""
    day, month, year = int(number[1:3]), int(number[3:5]), int(number[5:7])
    return datetime.date(_CENTURY[number[0]] + year, month, day)


def personal_number_sex(number: str) -> str:
    return "male" if int(number[0]) % 2 == 1 else "female"


def validate_personal_number(value: str) -> str:
    """Return the normalised number or raise a ValidationError saying what is wrong."""
    number = normalise_personal_number(value)
    if len(number) != 14:
        raise ValidationError(
            _("An identification number has 14 characters, for example 3010180A001PB8."),
            code="personal_number_length",
        )
    # ASCII only: other scripts' digits would otherwise make a second spelling of one number.
    if not number.isascii() or not _SHAPE.match(number):
        raise ValidationError(
            _(
                "Enter the identification number as it is printed in your passport or ID "
                "card: a digit 1–6, six digits of the birth date, a letter, three digits, two "
                "letters and a check digit, for example 3010180A001PB8."
            ),
            code="personal_number_shape",
        )
    try:
        personal_number_birth_date(number)
    except ValueError:
        raise ValidationError(
            _("The identification number contains a birth date that does not exist."),
            code="personal_number_date",
        ) from None
    if personal_number_check_digit(number[:13]) != int(number[13]):
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
    try:
        return str(stdnum_unp.validate(value or ""))
    except StdnumValidationError:
        raise ValidationError(
            _("Enter a valid payer account number (УНП): 9 characters, for example 200988541."),
            code="unp_invalid",
        ) from None


phone_validator = RegexValidator(
    r"^\+375(25|29|33|44)[0-9]{7}$",
    _("Enter a Belarusian mobile number in the form +375291234567."),
)
