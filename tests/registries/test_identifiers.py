import datetime

import pytest

from egov.core.identifiers import personal_number_is_valid, unp_normalise
from egov.registries.population.generator import (
    FIRST_SEQUENCE,
    JITTER_DAYS,
    personal_number_for,
    unp_for,
)


def test_personal_numbers_of_neighbouring_indexes_are_valid_and_distinct_on_one_target_day():
    target = datetime.date(1990, 6, 1)
    numbers = set()
    for index in range(60_000):
        number, birth_date = personal_number_for(index, sex="M", target=target)
        assert 0 <= (target - birth_date).days < JITTER_DAYS
        assert int(number[8:11]) >= FIRST_SEQUENCE
        numbers.add(number)
    assert len(numbers) == 60_000
    assert all(personal_number_is_valid(number) for number in numbers)


def test_personal_number_encodes_sex_century_and_birth_date():
    number, birth_date = personal_number_for(5, sex="F", target=datetime.date(2021, 3, 4))
    assert number[0] == "6"
    assert number[1:7] == birth_date.strftime("%d%m%y")


def test_unp_from_index_is_valid_and_distinct():
    numbers = [unp_for(index) for index in range(20_000)]
    assert len(set(numbers)) == 20_000
    assert all(unp_normalise(number) == number for number in numbers)


def test_demo_unps_are_valid():
    assert unp_normalise("192541238") == "192541238"
    assert unp_normalise("MA1953684") == "MA1953684"
    assert unp_normalise("192541239") is None


def test_the_scheme_numbers_the_whole_population_of_belarus():
    """9.2 million people, each with a distinct number even on the same target day: the last
    indexes of the range are as valid as the first."""
    from egov.registries.population.generator import CAPACITY, CapacityError

    target = datetime.date(1980, 1, 1)
    assert CAPACITY >= 9_200_000
    last = [
        personal_number_for(index, sex="M", target=target)[0]
        for index in range(9_200_000 - 20_000, 9_200_000)
    ]
    assert len(set(last)) == 20_000
    assert all(personal_number_is_valid(number) for number in last)
    with pytest.raises(CapacityError):
        personal_number_for(CAPACITY, sex="M", target=target)
