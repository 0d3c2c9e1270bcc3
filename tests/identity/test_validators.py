import string

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from egov.identity.validators import (
    personal_number_birth_date,
    personal_number_check_digit,
    validate_personal_number,
    validate_unp,
)

VALID = ["3010180A001PB8", "4150592M012PB5", "5230315H007PB3", "6010120C003PB5", "3270287A012PB2"]


@pytest.mark.parametrize("number", VALID)
def test_reference_numbers_are_valid(number):
    assert validate_personal_number(number) == number


def test_cyrillic_letters_and_spaces_are_normalised():
    # "А" and "РВ" typed on a Cyrillic keyboard look the same as the Latin letters.
    assert validate_personal_number(" 3010180А001РВ8 ") == "3010180A001PB8"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("3010180A001PB3", "personal_number_checksum"),
        ("3010180A001PB", "personal_number_length"),
        ("", "personal_number_length"),
        ("7010180A001PB8", "personal_number_shape"),
        ("30101801001PB8", "personal_number_shape"),
        ("3310280A001PB1", "personal_number_date"),
        ("<script>alert1", "personal_number_shape"),
        ("3٠10180A001PB8", "personal_number_shape"),  # an Arabic-Indic zero
        ("３010180A001PB8", "personal_number_shape"),  # a full-width three
    ],
)
def test_malformed_numbers_are_rejected_with_a_reason(number, code):
    with pytest.raises(ValidationError) as raised:
        validate_personal_number(number)
    assert raised.value.code == code


def test_birth_date_is_decoded_with_the_century():
    assert personal_number_birth_date("3010180A001PB8").isoformat() == "1980-01-01"
    assert personal_number_birth_date("6010120C003PB5").isoformat() == "2020-01-01"


numbers = st.builds(
    lambda sex, day, month, year, region, sequence, status: (
        f"{sex}{day:02d}{month:02d}{year:02d}{region}{sequence:03d}{status}"
    ),
    st.sampled_from("3456"),
    st.integers(1, 28),
    st.integers(1, 12),
    st.integers(0, 99),
    st.sampled_from("ABCKEHM"),
    st.integers(1, 999),
    st.sampled_from(["PB", "BA", "BI"]),
)


@given(numbers)
def test_any_number_with_its_check_digit_is_valid(first):
    number = first + str(personal_number_check_digit(first))
    assert validate_personal_number(number) == number


@given(numbers, st.integers(1, 9))
def test_a_wrong_check_digit_is_always_detected(first, shift):
    wrong = (personal_number_check_digit(first) + shift) % 10
    with pytest.raises(ValidationError):
        validate_personal_number(first + str(wrong))


@given(st.text(alphabet=string.printable + "АБВГДабвгдЁёЎў", max_size=40))
def test_arbitrary_text_never_crashes_the_validator(text):
    try:
        assert len(validate_personal_number(text)) == 14
    except ValidationError as error:
        assert error.code.startswith("personal_number_")


@pytest.mark.parametrize("unp", ["200988541", "MA1953684", "192541238", "AB1234563"])
def test_valid_unp(unp):
    assert validate_unp(unp) == unp


@pytest.mark.parametrize("unp", ["200988540", "12345", "", "ZZ1234567", "2009885410"])
def test_invalid_unp_is_rejected(unp):
    with pytest.raises(ValidationError) as raised:
        validate_unp(unp)
    assert raised.value.code == "unp_invalid"
