"""Numbers from outside are bounded on their text before anything converts them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.core import numbers
from egov.core.numbers import (
    MAX_DIGITS,
    NotANumber,
    NotWhole,
    NumberError,
    NumberOutOfBounds,
    parse_decimal,
    parse_float,
    parse_integer,
)

HOSTILE = ["1e300000", "1e1000000", "9" * 5000, "-1e999", "1" + "0" * 100_000, "0." + "0" * 5000]


class Conversions:
    """Stand-ins for Decimal, int and float in the parser's module: they record each call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, Any]] = []
        for name, real in (("Decimal", Decimal), ("int", int), ("float", float)):
            monkeypatch.setattr(numbers, name, self._spy(name, real), raising=False)

    def _spy(self, name: str, real: Any) -> Any:
        def call(*args: Any) -> Any:
            self.calls.append((name, args))
            return real(*args)

        return call


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("parse", [parse_decimal, parse_integer, parse_float])
def test_oversized_numbers_are_refused_before_any_conversion(
    monkeypatch: pytest.MonkeyPatch, parse: Any, text: str
) -> None:
    conversions = Conversions(monkeypatch)

    with pytest.raises(NumberOutOfBounds):
        parse(text)

    assert conversions.calls == []


@pytest.mark.parametrize(
    "text", ["NaN", "nan", "Infinity", "-Infinity", "inf", "", ".", "-", "1_000", "1e", "٣", "0x10"]
)
def test_text_that_is_not_a_decimal_number_is_refused_before_any_conversion(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    conversions = Conversions(monkeypatch)

    with pytest.raises(NotANumber):
        parse_decimal(text)

    assert conversions.calls == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", 2),
        ("-3", -3),
        ("2.0", 2),
        ("2e1", 20),
        ("9" * MAX_DIGITS, int("9" * MAX_DIGITS)),
        ("0" * 30 + "7", 7),
    ],
)
def test_whole_numbers_within_the_bounds_are_read(text: str, value: int) -> None:
    assert parse_integer(text) == value


@pytest.mark.parametrize(
    "text", ["1" + "0" * MAX_DIGITS, "1e20", "1e99", "0." + "0" * MAX_DIGITS + "1", "1e-21"]
)
def test_numbers_with_more_than_the_digits_allowed_are_out_of_bounds(text: str) -> None:
    with pytest.raises(NumberOutOfBounds):
        parse_decimal(text)


def test_a_fraction_is_not_a_whole_number() -> None:
    with pytest.raises(NotWhole):
        parse_integer("2.5")


def test_limits_given_by_the_caller_are_out_of_bounds() -> None:
    with pytest.raises(NumberOutOfBounds):
        parse_integer("501", minimum=1, maximum=500)
    with pytest.raises(NumberOutOfBounds):
        parse_integer("0", minimum=1, maximum=500)
    assert parse_integer("500", minimum=1, maximum=500) == 500


def test_fractions_are_read_exactly() -> None:
    assert parse_decimal("120.50") == Decimal("120.50")
    assert parse_float("0.30000000000000004") == 0.30000000000000004
    assert parse_decimal("0." + "0" * (MAX_DIGITS - 1) + "1") == Decimal("1e-20")


@given(st.integers(min_value=-(10**MAX_DIGITS) + 1, max_value=10**MAX_DIGITS - 1))
def test_every_integer_within_the_bounds_reads_back(value: int) -> None:
    assert parse_integer(str(value)) == value


@given(st.text(max_size=60))
def test_any_text_is_a_bounded_number_or_a_number_error(text: str) -> None:
    try:
        number = parse_decimal(text)
    except NumberError:
        return
    assert number.is_finite()
    assert not number or number.adjusted() < MAX_DIGITS


@pytest.mark.parametrize(
    "query",
    [
        {"after": "9" * 25},
        {"after": "1e300000"},
        {"after": "9" * 5000},
        {"limit": "1e1000000"},
        {"limit": "-1e999"},
        {"after": "NaN"},
        {"after": "１２"},
    ],
)
def test_event_feed_paging_refuses_numbers_out_of_bounds(query: dict[str, str]) -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from egov.registries.shared.http import paging_parameters

    response = paging_parameters(RequestFactory().get("/events", query))

    assert isinstance(response, HttpResponse)
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "invalid_parameter"


def test_event_feed_paging_reads_numbers_within_the_bounds() -> None:
    from django.test import RequestFactory

    from egov.registries.shared.http import paging_parameters

    request = RequestFactory().get("/events", {"after": "12", "limit": "10000"})

    assert paging_parameters(request) == (12, 500)
