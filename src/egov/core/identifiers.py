"""Identifiers of people and companies in the demo country: the arithmetic, with no opinion on
how an error is shown. Identity turns a wrong number into a translated form error; the
registries answer another system with a stable code. Both use the same rules from here.

The personal identification number has 14 characters: sex and century, birth date DDMMYY,
a region letter, a three-digit sequence, a two-letter status and a check digit. The check
digit is the sum of the first 13 characters' values (digits as themselves, letters A=10 ...
Z=35) weighted 7, 3, 1, 7, 3, 1, ... taken modulo 10.

The payer account number (УНП) has 9 characters; its checksum is python-stdnum's
``stdnum.by.unp``.
"""

from __future__ import annotations

import datetime
import re

from stdnum.by import unp as stdnum_unp
from stdnum.exceptions import ValidationError as StdnumValidationError

# People often type the number with a Cyrillic keyboard layout: map look-alike letters.
_CYRILLIC_LOOKALIKES = str.maketrans("АВСЕНКМОРТХ", "ABCEHKMOPTX")
PERSONAL_NUMBER_SHAPE = re.compile(r"^[1-6][0-9]{6}[A-Z][0-9]{3}[A-Z]{2}[0-9]$", re.ASCII)
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


def personal_number_build(
    *, sex: str, birth_date: datetime.date, region: str, sequence: int, status: str = "PB"
) -> str:
    """The number of a person: ``sex`` is "M" or "F", ``region`` one letter, ``sequence`` 0-999."""
    century = (birth_date.year // 100 - 18) * 2 + (1 if sex == "M" else 2)
    first = (
        f"{century}{birth_date.day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"
        f"{region}{sequence:03d}{status}"
    )
    return first + str(personal_number_check_digit(first))


def personal_number_problem(number: str) -> str | None:
    """Why a normalised number is not valid ("length", "shape", "date", "checksum"), or None."""
    if len(number) != 14:
        return "length"
    # ASCII only: other scripts' digits would otherwise make a second spelling of one number.
    if not number.isascii() or not PERSONAL_NUMBER_SHAPE.match(number):
        return "shape"
    try:
        personal_number_birth_date(number)
    except ValueError:
        return "date"
    if personal_number_check_digit(number[:13]) != int(number[13]):
        return "checksum"
    return None


def personal_number_is_valid(number: str) -> bool:
    return personal_number_problem(number) is None


def unp_normalise(value: str) -> str | None:
    """The УНП in its normal form, or None when it is not valid."""
    try:
        return str(stdnum_unp.validate(value or ""))
    except StdnumValidationError:
        return None


def unp_check_digit(first_eight: str) -> int | None:
    """The УНП check digit for eight characters, or None when no digit makes them valid."""
    try:
        return int(stdnum_unp.calc_check_digit(first_eight))
    except StdnumValidationError:
        return None
