"""Numbers from outside (form fields, JSON bodies, query parameters), read in bounded time.

``int(Decimal("1e1000000"))`` builds a million-digit integer (half a minute), and Python's
int-from-str limit turns a long literal into a ``ValueError`` wherever it is met. Every number
a person or another system sends is therefore read here: its text is checked first (length,
shape, exponent) without converting anything, and only text that passed is handed to
``Decimal``, ``int`` or ``float``. The work is the same whatever a client sends.

The bound is on the number written out in full: at most ``MAX_DIGITS`` digits before the
decimal point and as many after it. No form asks for more, and an id or a count fits.
"""

from __future__ import annotations

import re
from decimal import Decimal

#: Digits of the number written out in full, before the point and (separately) after it.
MAX_DIGITS = 20
#: The longest text looked at: digits, a sign, a point and an exponent.
MAX_LENGTH = 2 * MAX_DIGITS + 8
#: Digits of the exponent (after leading zeros): more cannot be within ``MAX_DIGITS``.
_EXPONENT_DIGITS = len(str(2 * MAX_DIGITS))

_NUMBER = re.compile(
    r"(?P<sign>[+-]?)(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?(?:[eE](?P<exponent>[+-]?[0-9]+))?"
)


class NumberError(ValueError):
    """The text cannot be taken as the number asked for."""


class NotANumber(NumberError):
    """Not a decimal number at all (letters, ``NaN``, ``Infinity``, nothing)."""


class NumberOutOfBounds(NumberError):
    """A number, but with more digits than ``MAX_DIGITS`` before or after the point."""


class NotWhole(NumberError):
    """A number with a fraction where a whole number is asked for."""


def _checked_text(text: str) -> str:
    """The text, if it is a bounded decimal number; decided on the text alone, so that
    nothing is converted before the bounds hold."""
    if len(text) > MAX_LENGTH:
        if _NUMBER.fullmatch(text[: MAX_LENGTH + 1]) is None:
            raise NotANumber(text[:16])
        raise NumberOutOfBounds(text[:16])
    match = _NUMBER.fullmatch(text)
    if match is None or not (match["whole"] or match["fraction"]):
        raise NotANumber(text[:16])
    exponent = (match["exponent"] or "").lstrip("+-").lstrip("0")
    if len(exponent) > _EXPONENT_DIGITS:
        raise NumberOutOfBounds(text[:16])
    return text


def parse_decimal(text: str) -> Decimal:
    """A finite ``Decimal`` with at most ``MAX_DIGITS`` digits before and after the point.

    Raises ``NotANumber`` or ``NumberOutOfBounds`` (both ``ValueError``)."""
    number = Decimal(_checked_text(text))
    # Cheap now: the text is short and its exponent below 10 ** _EXPONENT_DIGITS.
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite: the pattern has no NaN or Infinity
    if number and number.adjusted() >= MAX_DIGITS:
        raise NumberOutOfBounds(text[:16])
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if number and exponent + trailing_zeros < -MAX_DIGITS:
        raise NumberOutOfBounds(text[:16])
    return number


def parse_integer(text: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number (``2``, ``2.0`` and ``2e1`` are whole) within the bounds given.

    Raises ``NotANumber``, ``NumberOutOfBounds`` (also when outside ``minimum``/``maximum``)
    or ``NotWhole``."""
    number = parse_decimal(text)
    if number != number.to_integral_value():
        raise NotWhole(text[:16])
    value = int(number)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise NumberOutOfBounds(text[:16])
    return value


def parse_float(text: str) -> float:
    """A float read from bounded text (never infinite, never NaN)."""
    return float(parse_decimal(text))


def json_integer(text: str) -> int:
    """``parse_int`` for ``json.loads``: JSON integers are bounded like any number."""
    return parse_integer(text)


def json_float(text: str) -> float:
    """``parse_float`` for ``json.loads``: a JSON number with a point or an exponent."""
    return parse_float(text)
