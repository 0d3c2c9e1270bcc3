"""X-Road identifiers use exactly the characters PR-REST §4.8 allows: letters, digits and
``'()+,-.=?``; each part is percent-encoded on its own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.exchange.identifiers import (
    ClientId,
    IdentifierError,
    client_id_parse,
    identifier_part_valid,
    service_path_parse,
)

ALLOWED = "ABCXYZabcxyz0189'()+,-.=?"


@pytest.mark.parametrize(
    "part", ["portal", "MVD", "a(b)", "o'k", "a+b", "a,b", "a=b", "what?", "v1.0", "x-y", "9"]
)
def test_allowed_characters_make_a_valid_part(part: str) -> None:
    assert identifier_part_valid(part) is True


@pytest.mark.parametrize(
    "part",
    [
        "a/b",
        "a\\b",
        "a;b",
        "a:b",
        "a%b",
        "a_b",
        "a b",
        "a\tb",
        "a\nb",
        "a\n",
        "a\x00b",
        "аб",
        "a*b",
        "a#b",
        "a&b",
        "",
        ".",
        "..",
        "a" * 65,
    ],
)
def test_other_characters_make_an_invalid_part(part: str) -> None:
    assert identifier_part_valid(part) is False


def test_client_parts_are_decoded_one_by_one_with_the_allowed_characters() -> None:
    assert client_id_parse("BY/GOV/MVD%28HQ%29/back%2Boffice") == ClientId(
        "BY", "GOV", "MVD(HQ)", "back+office"
    )
    assert client_id_parse("BY/GOV/NCES") == ClientId("BY", "GOV", "NCES", "")


@pytest.mark.parametrize(
    "text",
    [
        "BY/GOV/MVD/back_office",
        "BY/GOV/MVD/a%3Ab",
        "BY/GOV/MVD/a%2Fb",
        "BY/GOV/MVD/a%25b",
        "BY/GOV/MVD/a%0Ab",
        "BY/GOV/MVD/a%5Cb",
        "BY/GOV/MVD/a%3Bb",
        "BY/GOV",
    ],
)
def test_client_with_a_forbidden_character_is_refused(text: str) -> None:
    with pytest.raises(IdentifierError):
        client_id_parse(text)


def test_service_code_with_an_encoded_question_mark_is_a_service_code() -> None:
    service, rest = service_path_parse("/r1/BY/GOV/MVD/population/what%3F/x")

    assert (str(service), rest) == ("BY/GOV/MVD/population/what?", "/x")


def test_rest_of_the_path_keeps_an_encoded_slash_as_received() -> None:
    service, rest = service_path_parse("/r1/BY/GOV/MVD/population/echo/a%2Fb/c")

    assert (str(service), rest) == ("BY/GOV/MVD/population/echo", "/a%2Fb/c")


@pytest.mark.parametrize(
    "path",
    [
        "/r1/BY/GOV/MVD/population/echo/..",
        "/r1/BY/GOV/MVD/population/echo/%2e%2E/x",
        "/r1/BY/GOV/MVD/population/echo/a%2F..",
        "/r1/BY/GOV/MVD/population/echo/.%2Fa",
        "/r1/BY/GOV/MVD/population/echo/a%5Cb",
        "/r1/BY/GOV/MVD/population/echo/a\\b",
        "/r1/BY/GOV/MVD/population/echo/a%00",
    ],
)
def test_rest_of_the_path_cannot_climb_or_use_backslashes(path: str) -> None:
    with pytest.raises(IdentifierError):
        service_path_parse(path)


@given(st.text(alphabet=ALLOWED, min_size=1, max_size=64).filter(lambda t: t not in {".", ".."}))
def test_any_part_of_allowed_characters_round_trips_percent_encoded(part: str) -> None:
    from urllib.parse import quote

    assert client_id_parse(f"BY/GOV/{quote(part, safe='')}/sub").member_code == part
