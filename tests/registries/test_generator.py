import datetime
import tracemalloc

import pytest
from django.core.management import call_command
from django.db.models import Q

from egov.core.identifiers import personal_number_is_valid, unp_normalise
from egov.registries.addresses.models import Address
from egov.registries.legal_entities.models import Director, LegalEntity
from egov.registries.population.generator import registry_generate
from egov.registries.population.models import (
    AddressRegistration,
    GeneratorRun,
    IdentityDocument,
    Marriage,
    ParentChild,
    Person,
)

TODAY = datetime.date(2026, 11, 25)
pytestmark = pytest.mark.django_db


def _generated() -> list[Person]:
    return list(Person.objects.filter(personal_number__regex=r"^.{8}[2-9]").order_by("id"))


def test_generated_families_are_consistent():
    registry_generate(persons=300, companies=30, seed=7, batch_size=40, today=TODAY)
    persons = _generated()
    assert len(persons) == 300
    numbers = [person.personal_number for person in persons]
    assert len(set(numbers)) == 300
    assert all(personal_number_is_valid(number) for number in numbers)
    by_id = {person.pk: person for person in persons}
    links = list(ParentChild.objects.filter(child__in=persons))
    assert links
    for link in links:
        parent, child = by_id[link.parent_id], by_id[link.child_id]
        assert (child.birth_date - parent.birth_date).days >= 18 * 365
        child_homes = set(
            AddressRegistration.objects.filter(person=child, kind="residence").values_list(
                "address", flat=True
            )
        )
        parent_homes = set(
            AddressRegistration.objects.filter(person=parent, kind="residence").values_list(
                "address", flat=True
            )
        )
        assert child_homes & parent_homes
        if parent.status == "alive":
            assert child.address_id == parent.address_id
        assert child.patronymic_be  # the father's name or another
    for marriage in Marriage.objects.filter(husband__in=persons):
        husband, wife = by_id[marriage.husband_id], by_id[marriage.wife_id]
        assert husband.sex == "M" and wife.sex == "F"
        assert marriage.married_on >= max(husband.birth_date, wife.birth_date)
        if husband.status == "alive" and wife.status == "alive":
            assert husband.address_id == wife.address_id
            assert marriage.ended_on is None
        else:
            assert marriage.ended_on == (husband.death_date or wife.death_date)
    for person in persons:
        assert person.birth_date <= TODAY
        assert (person.status == "deceased") == (person.death_date is not None)
        assert (person.address_id is None) == (person.status == "deceased")
        current = AddressRegistration.objects.filter(
            person=person, kind="residence", valid_until__isnull=True
        )
        assert current.count() == (1 if person.status == "alive" else 0)
        assert IdentityDocument.objects.filter(person=person).count() == 1
    entities = list(LegalEntity.objects.filter(unp__startswith="1600").order_by("id"))
    entities = list(LegalEntity.objects.exclude(unp__in=["192541238", "MA1953684"]))
    assert len(entities) == 30
    assert all(unp_normalise(entity.unp) == entity.unp for entity in entities)
    assert len({entity.unp for entity in entities}) == 30
    directors = Director.objects.filter(entity__in=entities)
    for director in directors:
        person = Person.objects.get(personal_number=director.personal_number)
        assert director.full_name == person.full_name_be
        assert director.since >= person.birth_date
    assert Director.objects.filter(entity__in=entities, until__isnull=True).count() == 30


def _snapshot() -> list[tuple]:
    persons = [
        (
            person.personal_number,
            person.last_name_be,
            person.first_name_ru,
            person.patronymic_lat,
            person.birth_date,
            person.status,
            person.address.text_be if person.address else None,
        )
        for person in Person.objects.select_related("address").order_by("id")
    ]
    entities = list(
        LegalEntity.objects.order_by("id").values_list("unp", "name_be", "status", "registered_on")
    )
    return persons + entities


def _wipe() -> None:
    for model in (ParentChild, Marriage, AddressRegistration, IdentityDocument, Director):
        model.objects.all().delete()
    LegalEntity.objects.all().delete()
    Person.objects.all().delete()
    Address.objects.all().delete()
    GeneratorRun.objects.all().delete()


def test_same_seed_gives_the_same_data_whatever_the_batch_size():
    _wipe()
    registry_generate(persons=250, companies=20, seed=3, batch_size=7, today=TODAY)
    first = _snapshot()
    _wipe()
    registry_generate(persons=250, companies=20, seed=3, batch_size=1000, today=TODAY)
    assert _snapshot() == first
    _wipe()
    registry_generate(persons=250, companies=20, seed=4, batch_size=1000, today=TODAY)
    assert _snapshot() != first


def test_a_second_run_appends_new_people():
    registry_generate(persons=100, companies=5, seed=1, today=TODAY)
    before = set(Person.objects.values_list("personal_number", flat=True))
    registry_generate(persons=100, companies=5, seed=1, today=TODAY)
    after = set(Person.objects.values_list("personal_number", flat=True))
    assert len(after) == len(before) + 100
    assert LegalEntity.objects.count() >= 10
    assert list(GeneratorRun.objects.values_list("first_person", "persons")) == [
        (0, 100),
        (100, 100),
    ]


def test_memory_stays_flat_when_the_number_of_persons_grows():
    def peak(persons: int) -> int:
        tracemalloc.start()
        registry_generate(persons=persons, companies=persons // 10, seed=5, batch_size=200)
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    # Past the first few thousand persons the bounded caches are full: four times the persons
    # must not need more memory (a set of every identifier would need about four times more).
    small = peak(3000)
    large = peak(12000)
    assert large < small * 1.3


def test_command_generates_demo_people_and_skips_when_asked(capsys):
    call_command(
        "registry", "generate", "--persons", "50", "--companies", "5", "--demo-people",
        "--no-progress", "--seed", "2",
    )  # fmt: skip
    assert Person.objects.filter(personal_number="4150592M012PB5").exists()
    count = Person.objects.count()
    call_command(
        "registry", "generate", "--persons", "50", "--if-empty", "--demo-people", "--no-progress"
    )
    assert Person.objects.count() == count
    output = capsys.readouterr().out
    assert "Generated 50 persons and 5 companies" in output
    assert "nothing generated" in output


def test_companies_without_persons_are_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("registry", "generate", "--companies", "5", "--no-progress")
    assert not LegalEntity.objects.filter(~Q(unp__in=["192541238", "MA1953684"])).exists()
