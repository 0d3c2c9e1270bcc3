"""The registries' demo data file repeats what the demo accounts and sample answers say about
people and companies; these checks keep the two in agreement."""

import pytest
import yaml

from egov.core.identifiers import personal_number_birth_date, personal_number_is_valid
from egov.demo.accounts import DEMO_ACCOUNTS
from egov.demo.applications import SAMPLES_FILE
from egov.registries.legal_entities.models import Director, LegalEntity
from egov.registries.population.demo import demo_people_data, demo_people_ensure
from egov.registries.population.models import Person

pytestmark = pytest.mark.django_db


def _names(person: Person) -> set[str]:
    return {
        f"{person.last_name_be} {person.first_name_be} {person.patronymic_be}".strip(),
        f"{person.last_name_ru} {person.first_name_ru} {person.patronymic_ru}".strip(),
    }


def test_demo_people_are_valid_and_consistent():
    data = demo_people_data()
    numbers = [entry["personal_number"] for entry in data["persons"]]
    assert len(numbers) == len(set(numbers))
    for entry in data["persons"]:
        number = entry["personal_number"]
        assert personal_number_is_valid(number), number
        assert personal_number_birth_date(number) == entry["birth_date"], number
        assert (number[0] in "135") == (entry["sex"] == "M"), number
        assert int(number[8:11]) < 200, "sequences 200-999 belong to generated people"


def test_demo_accounts_have_their_records():
    demo_people_ensure()
    for account in DEMO_ACCOUNTS:
        if not account.personal_number:
            continue
        person = Person.objects.get(personal_number=account.personal_number)
        assert (person.last_name_be, person.first_name_be, person.patronymic_be) == (
            account.last_name,
            account.first_name,
            account.patronymic,
        )
        for unp, name in account.representations:
            entity = LegalEntity.objects.get(unp=unp)
            assert entity.short_name_be == name
            assert Director.objects.filter(
                entity=entity, personal_number=account.personal_number, until__isnull=True
            ).exists()


def test_people_of_the_sample_answers_have_their_records():
    demo_people_ensure()
    samples = yaml.safe_load(SAMPLES_FILE.read_text(encoding="utf-8"))
    checked = 0
    for answers in samples.values():
        for answer in answers:
            for prefix in ("", "child_", "other_parent_"):
                number = answer.get(f"{prefix}personal_number")
                if not number:
                    continue
                person = Person.objects.select_related("address").get(personal_number=number)
                checked += 1
                if f"{prefix}full_name" in answer:
                    assert answer[f"{prefix}full_name"] in _names(person)
                if prefix == "child_":
                    assert answer["child_last_name"] in (person.last_name_be, person.last_name_ru)
                    assert answer["child_first_name"] in (
                        person.first_name_be,
                        person.first_name_ru,
                    )
                    assert answer["child_birth_date"] == person.birth_date.isoformat()
                if prefix == "" and "birth_date" in answer:
                    assert answer["birth_date"] == person.birth_date.isoformat()
                if "residence_address" in answer:
                    assert person.address is not None
                    assert answer["residence_address"] in (
                        person.address.text_be.split(", ", 1)[1],
                        person.address.text_ru.split(", ", 1)[1],
                    )
    assert checked == 15
