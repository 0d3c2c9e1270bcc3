"""Synthetic but consistent registers for demos and load tests (``egov registry generate``).

Households are generated one after another: parents, children and spouses share an address,
children are born at least eighteen years after their parents, marriages end when a spouse
dies. Companies are interleaved with the households and headed by adults generated shortly
before (a bounded ring of recent adults), so the generator never keeps all rows in memory.

Identifiers are derived from a row's index, which makes them unique without a set of every
value: person ``i`` gets the region letter and sequence ``i mod 5600`` (sequences 200-999;
the demo people use 000-199) and a birth date congruent to ``i div 5600`` modulo
``JITTER_DAYS``, after a bijective mixing of ``i``: two people with the same letter and
sequence therefore always have different birth dates. The household picks a target birth
date and the date is moved back by less than ``JITTER_DAYS`` to the nearest congruent day.
The УНП of company ``j`` is built from ``j div 9`` and the ``j mod 9``-th of the (at least
nine) eighth digits that make a valid check digit. Every run continues after the indexes
earlier runs reserved (``GeneratorRun``).
"""

from __future__ import annotations

import datetime
import functools
import json
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import F, Max, Sum

from egov.core.identifiers import personal_number_build, unp_check_digit
from egov.registries.addresses.models import Address
from egov.registries.addresses.places import LOCALITIES, STREETS, Locality, address_texts
from egov.registries.legal_entities.models import LegalEntity
from egov.registries.legal_entities.names import company_names, sole_trader_names
from egov.registries.population.models import GeneratorRun, Person
from egov.registries.population.names import FEMALE_NAMES, MALE_NAMES, SURNAMES, transliterate

REGION_LETTERS = "ABCEHKM"
FIRST_SEQUENCE = 200
SLOTS = len(REGION_LETTERS) * (1000 - FIRST_SEQUENCE)
# Five years of birth dates per letter and sequence: room for 10.2 million people, more than
# the population of Belarus (9.2 million).
JITTER_DAYS = 1827
CAPACITY = SLOTS * JITTER_DAYS
_MIXER = 1_000_003  # a prime that does not divide CAPACITY
COMPANY_CAPACITY = 9 * 7 * 400_000
HOUSES_PER_STREET = 150
YEAR = 365
RECENT_DAYS = 365

_LOCALITY_WEIGHTS = [locality.weight for locality in LOCALITIES]
_PASSPORT_SERIES = {"A": "AB", "B": "BM", "C": "HB", "K": "KH", "E": "KB", "H": "MC", "M": "MP"}
_CERTIFICATE_SERIES = {"A": "БР", "B": "ВЦ", "C": "ГМ", "K": "ГР", "E": "МГ", "H": "МВ", "M": "МН"}
_ID_CARDS_SINCE = datetime.date(2021, 9, 1)


class CapacityError(Exception):
    """More rows than the identifier scheme can number uniquely."""


def personal_number_for(
    index: int, *, sex: str, target: datetime.date
) -> tuple[str, datetime.date]:
    """The identification number and birth date of person ``index`` born on or before
    ``target`` (by less than ``JITTER_DAYS``)."""
    if index >= CAPACITY:
        raise CapacityError(f"at most {CAPACITY} generated persons")
    # A bijection of [0, CAPACITY) first, so that neighbours differ in letter, sequence and day.
    mixed = (index * _MIXER + 7_777) % CAPACITY
    slot, block = mixed % SLOTS, mixed // SLOTS
    ordinal = target.toordinal()
    birth_date = datetime.date.fromordinal(ordinal - (ordinal - block) % JITTER_DAYS)
    number = personal_number_build(
        sex=sex,
        birth_date=birth_date,
        region=REGION_LETTERS[slot % len(REGION_LETTERS)],
        sequence=FIRST_SEQUENCE + slot // len(REGION_LETTERS),
    )
    return number, birth_date


def unp_for(index: int) -> str:
    """The УНП of company ``index``; distinct indexes give distinct numbers."""
    if index >= COMPANY_CAPACITY:
        raise CapacityError(f"at most {COMPANY_CAPACITY} generated companies")
    group, choice = divmod(index, 9)
    prefix = f"{1 + group % 7}{600000 + group // 7:06d}"
    valid = [digit for digit in range(10) if unp_check_digit(f"{prefix}{digit}") is not None]
    eighth = valid[choice]
    return f"{prefix}{eighth}{unp_check_digit(f'{prefix}{eighth}')}"


def _document_digits(index: int) -> str:
    return f"{(index * 7919 + 1_234_567) % 10_000_000:07d}"


@functools.lru_cache(maxsize=4096)
def _lat(text: str) -> str:
    return transliterate(text)


def _years(date: datetime.date, years: float) -> datetime.date:
    return date + datetime.timedelta(days=round(years * 365.25))


def _noon(date: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(date, datetime.time(12), tzinfo=datetime.UTC)


@dataclass
class _Member:
    index: int
    personal_number: str
    birth_date: datetime.date
    sex: str
    names: tuple[str, str, str, str, str, str]  # last be/ru, first be/ru, patronymic be/ru
    death_date: datetime.date | None = None
    parents: list[_Member] = field(default_factory=list)


class _Table:
    """Rows for one table, written in one go: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, table: str, columns: tuple[str, ...]) -> None:
        self.table = table
        self.columns = columns
        self.rows: list[tuple[Any, ...]] = []

    def flush(self, cursor: Any) -> int:
        count = len(self.rows)
        if not count:
            return 0
        names = ", ".join(self.columns)
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {self.table} ({names}) FROM STDIN") as copy:
                for row in self.rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(self.columns))
            cursor.executemany(
                f"INSERT INTO {self.table} ({names}) VALUES ({placeholders})",  # noqa: S608
                self.rows,
            )
        self.rows.clear()
        return count


def _tables() -> dict[str, _Table]:
    person = (
        "id personal_number last_name_be last_name_ru last_name_lat first_name_be first_name_ru "
        "first_name_lat patronymic_be patronymic_ru patronymic_lat birth_date sex citizenship "
        "status death_date address_id"
    )
    spec = {
        "address": (
            "registry_addresses_address",
            "id region district locality street house flat postal_code text_be text_ru",
        ),
        "person": ("registry_population_person", person),
        "registration": (
            "registry_population_addressregistration",
            "person_id address_id kind valid_from valid_until",
        ),
        "parent": ("registry_population_parentchild", "parent_id child_id"),
        "marriage": ("registry_population_marriage", "husband_id wife_id married_on ended_on"),
        "document": (
            "registry_population_identitydocument",
            "person_id type number issued_on valid_until authority",
        ),
        "population_event": ("registry_population_event", "type at subject data"),
        "entity": (
            "registry_legal_entities_legalentity",
            "id unp name_be name_ru short_name_be short_name_ru legal_form status address_id "
            "registered_on",
        ),
        "director": (
            "registry_legal_entities_director",
            "entity_id personal_number full_name since until",
        ),
        "entity_event": ("registry_legal_entities_event", "type at subject data"),
    }
    return {key: _Table(table, tuple(columns.split())) for key, (table, columns) in spec.items()}


@dataclass
class GeneratorResult:
    persons: int = 0
    companies: int = 0
    rows: int = 0
    skipped: bool = False


class RegistryGenerator:
    """Generates ``persons`` people and ``companies`` companies; see the module docstring."""

    def __init__(
        self,
        *,
        persons: int,
        companies: int,
        seed: int = 0,
        batch_size: int = 5000,
        today: datetime.date | None = None,
        progress: Callable[[int], None] = lambda count: None,
    ) -> None:
        if companies and not persons:
            raise ValueError("companies need persons to head them")
        self.persons_total = persons
        self.companies_total = companies
        self.seed = seed
        self.batch_size = max(1, batch_size)
        self.today = today or datetime.date.today()
        self.progress = progress
        self.tables = _tables()
        self.result = GeneratorResult()
        self.recent_adults: deque[tuple[str, str, str, int, datetime.date]] = deque(maxlen=500)
        self.persons_done = 0
        self.companies_done = 0
        self.households = 0

    # -- bookkeeping -------------------------------------------------------------------------

    def _reserve(self) -> None:
        """Record the run first, so a failed run's indexes are never used again."""
        with transaction.atomic():
            totals = GeneratorRun.objects.select_for_update().aggregate(
                person=Max(F("first_person") + F("persons")),
                address=Max(F("first_address") + F("addresses")),
                company=Max(F("first_company") + F("companies")),
            )
            self.first_person = int(totals["person"] or 0)
            self.first_address = int(totals["address"] or 0)
            self.first_company = int(totals["company"] or 0)
            if self.first_person + self.persons_total > CAPACITY:
                raise CapacityError(f"at most {CAPACITY} generated persons in all runs")
            self.run = GeneratorRun.objects.create(
                seed=self.seed,
                first_person=self.first_person,
                persons=self.persons_total,
                first_address=self.first_address,
                addresses=self.persons_total + self.companies_total,
                first_company=self.first_company,
                companies=self.companies_total,
            )
        self.person_id_base = (Person.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        self.address_id_base = (Address.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        self.entity_id_base = (LegalEntity.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        self.rng = random.Random(f"egov-registry:{self.seed}:{self.first_person}")  # noqa: S311

    def run_all(self) -> GeneratorResult:
        self._reserve()
        pending = 0
        while self.persons_done < self.persons_total:
            before = self.persons_done
            self._household()
            self._companies_due()
            pending += self.persons_done - before
            if pending >= self.batch_size:
                self._flush()
                self.progress(pending)
                pending = 0
        self._companies_due(final=True)
        self._flush()
        self.progress(pending)
        self._reset_sequences()
        return self.result

    def _flush(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for table in self.tables.values():
                self.result.rows += table.flush(cursor)

    def _reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), [Address, Person, LegalEntity])
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    # -- addresses ---------------------------------------------------------------------------

    def _address(self, local_index: int, locality: Locality) -> int:
        """Write the address with this run-local index; returns its id."""
        index = self.first_address + local_index
        street_number, rest = index % len(STREETS), index // len(STREETS)
        street = STREETS[street_number]
        house, flat = str(rest % HOUSES_PER_STREET + 1), str(rest // HOUSES_PER_STREET + 1)
        postal_code = locality.postal_code
        if locality.weight >= 30:
            postal_code = postal_code[:4] + f"{(index * 37) % 90 + 1:02d}"
        text_be, text_ru = address_texts(locality, street, house, flat)
        text_be = text_be.replace(locality.postal_code, postal_code, 1)
        text_ru = text_ru.replace(locality.postal_code, postal_code, 1)
        address_id = self.address_id_base + local_index
        self.tables["address"].rows.append(
            (
                address_id,
                locality.region_be,
                locality.district_be,
                locality.name_ru,
                street[1],
                house,
                flat,
                postal_code,
                text_be,
                text_ru,
            )
        )
        return address_id

    def _earlier_address(self) -> int | None:
        """An address of an earlier household of this run (a previous home, a hostel)."""
        if self.households == 0:
            return None
        return self.address_id_base + self.rng.randrange(self.households)

    # -- people ------------------------------------------------------------------------------

    def _target(self, age: float) -> datetime.date:
        return self.today - datetime.timedelta(days=round(age * 365.25) + self.rng.randrange(YEAR))

    def _person(
        self,
        sex: str,
        target: datetime.date,
        surname: tuple[str, str, str, str],
        father_name: tuple[str, str, str, str, str, str] | None,
    ) -> _Member:
        index = self.first_person + self.persons_done
        self.persons_done += 1
        number, birth_date = personal_number_for(index, sex=sex, target=target)
        father_name = father_name or self.rng.choice(MALE_NAMES)
        if sex == "M":
            first = self.rng.choice(MALE_NAMES)[:2]
            names = (surname[0], surname[2], first[0], first[1], father_name[2], father_name[4])
        else:
            female = self.rng.choice(FEMALE_NAMES)
            names = (surname[1], surname[3], female[0], female[1], father_name[3], father_name[5])
        return _Member(index, number, birth_date, sex, names)

    def _household(self) -> None:
        rng = self.rng
        remaining = self.persons_total - self.persons_done
        roll = rng.random()
        children = 0
        if roll < 0.55:
            adults, children, ages = 2, rng.choice((0, 1, 1, 2, 2, 2, 3)), (25.0, 58.0)
        elif roll < 0.65:
            adults, children, ages = 1, rng.choice((1, 1, 2)), (24.0, 48.0)
        elif roll < 0.9:
            adults, ages = 1, (22.0, 88.0)
        else:
            adults, ages = 2, (68.0, 90.0)
        adults = min(adults, remaining)
        children = min(children, remaining - adults)
        if children == 0 and roll < 0.55:
            ages = (22.0, 85.0)
        locality = rng.choices(LOCALITIES, weights=_LOCALITY_WEIGHTS)[0]
        address_id = self._address(self.households, locality)
        previous_id = self._earlier_address()
        self.households += 1

        surname = rng.choice(SURNAMES)
        members: list[_Member] = []
        first_target = self._target(rng.uniform(*ages))
        first_sex = "M" if adults == 2 else rng.choice("MF")
        if roll >= 0.55 and roll < 0.65:
            first_sex = "F"
        members.append(self._person(first_sex, first_target, surname, None))
        if adults == 2:
            wife_target = min(
                first_target + datetime.timedelta(days=rng.randint(-3 * YEAR, 5 * YEAR)),
                _years(self.today, -22),
            )
            members.append(self._person("F", wife_target, surname, None))
        parents = list(members)
        youngest = max(parent.birth_date for parent in parents)
        earliest = _years(youngest, 18) + datetime.timedelta(days=JITTER_DAYS)
        father = parents[0] if parents[0].sex == "M" else None
        father_name = self._first_name_entry(father) if father else None
        for _ in range(children):
            if earliest > self.today:
                break
            span = min((self.today - earliest).days, 25 * YEAR)
            target = earliest + datetime.timedelta(days=rng.randint(0, span))
            child = self._person(rng.choice("MF"), target, surname, father_name)
            child.parents = parents
            members.append(child)
        self._deaths(members, elderly=roll >= 0.9 or ages[1] > 80)
        self._write_household(members, adults, locality, address_id, previous_id)

    def _first_name_entry(self, person: _Member) -> tuple[str, str, str, str, str, str]:
        for entry in MALE_NAMES:
            if entry[0] == person.names[2]:
                return entry
        return MALE_NAMES[0]

    def _deaths(self, members: list[_Member], *, elderly: bool) -> None:
        if not elderly:
            return
        for member in members[:2]:
            age = (self.today - member.birth_date).days / 365.25
            if age > 70 and self.rng.random() < 0.3:
                start = max(_years(member.birth_date, 65), _years(self.today, -15))
                days = max(0, (self.today - start).days)
                member.death_date = start + datetime.timedelta(days=self.rng.randint(0, days))
                break

    def _write_household(
        self,
        members: list[_Member],
        adults: int,
        locality: Locality,
        address_id: int,
        previous_id: int | None,
    ) -> None:
        rng = self.rng
        tables = self.tables
        youngest_adult = max(member.birth_date for member in members[:adults])
        start = _years(youngest_adult, 18)
        moved_in = start + datetime.timedelta(
            days=rng.randint(0, max(0, (self.today - start).days))
        )
        first_child = min((m.birth_date for m in members[adults:]), default=None)
        if first_child and first_child < moved_in and previous_id is None:
            moved_in = first_child
        recent = self.today - datetime.timedelta(days=RECENT_DAYS)
        for member in members:
            person_id = self.person_id_base + member.index - self.first_person
            alive = member.death_date is None
            tables["person"].rows.append(
                (
                    person_id,
                    member.personal_number,
                    member.names[0],
                    member.names[1],
                    _lat(member.names[0]),
                    member.names[2],
                    member.names[3],
                    _lat(member.names[2]),
                    member.names[4],
                    member.names[5],
                    _lat(member.names[4]),
                    member.birth_date,
                    member.sex,
                    "BY",
                    "alive" if alive else "deceased",
                    member.death_date,
                    address_id if alive else None,
                )
            )
            since = max(member.birth_date, moved_in)
            if previous_id is not None and since > member.birth_date:
                # Registered at the family's previous home from birth until the move.
                tables["registration"].rows.append(
                    (
                        person_id,
                        previous_id,
                        "residence",
                        member.birth_date,
                        since - datetime.timedelta(1),
                    )
                )
            tables["registration"].rows.append(
                (person_id, address_id, "residence", since, member.death_date)
            )
            if since >= recent and not member.parents:
                self._event(
                    "population_event",
                    "address_change",
                    member.personal_number,
                    since,
                    {"address_id": address_id, "from": since.isoformat(), "kind": "residence"},
                )
            age = (self.today - member.birth_date).days / 365.25
            if member.parents and 17 <= age < 23 and rng.random() < 0.3:
                hostel = self._earlier_address()
                if hostel is not None:
                    year = self.today.year - (1 if self.today.month < 9 else 0)
                    tables["registration"].rows.append(
                        (
                            person_id,
                            hostel,
                            "stay",
                            datetime.date(year, 9, 1),
                            datetime.date(year + 1, 6, 30),
                        )
                    )
            self._documents(person_id, member, locality, age)
            for parent in member.parents:
                tables["parent"].rows.append(
                    (self.person_id_base + parent.index - self.first_person, person_id)
                )
            if member.birth_date >= recent:
                data: dict[str, Any] = {
                    "birth_date": member.birth_date.isoformat(),
                    "sex": member.sex,
                }
                for parent in member.parents:
                    data["father" if parent.sex == "M" else "mother"] = parent.personal_number
                self._event(
                    "population_event", "birth", member.personal_number, member.birth_date, data
                )
            if member.death_date and member.death_date >= recent:
                self._event(
                    "population_event",
                    "death",
                    member.personal_number,
                    member.death_date,
                    {"death_date": member.death_date.isoformat()},
                )
            if alive and not member.parents and age >= 20:
                full_be = " ".join(member.names[0::2])
                full_ru = " ".join(member.names[1::2])
                self.recent_adults.append(
                    (member.personal_number, full_be, full_ru, address_id, member.birth_date)
                )
        if adults == 2:
            self._marriage(members[0], members[1], first_child, recent)

    def _marriage(
        self,
        husband: _Member,
        wife: _Member,
        first_child: datetime.date | None,
        recent: datetime.date,
    ) -> None:
        earliest = _years(max(husband.birth_date, wife.birth_date), 18)
        latest = first_child or self.today
        span = max(0, (latest - earliest).days)
        married_on = earliest + datetime.timedelta(days=self.rng.randint(0, span))
        ended_on = husband.death_date or wife.death_date
        self.tables["marriage"].rows.append(
            (
                self.person_id_base + husband.index - self.first_person,
                self.person_id_base + wife.index - self.first_person,
                married_on,
                ended_on,
            )
        )
        if married_on >= recent:
            self._event(
                "population_event",
                "marriage",
                husband.personal_number,
                married_on,
                {"spouse": wife.personal_number, "married_on": married_on.isoformat()},
            )

    def _documents(self, person_id: int, member: _Member, locality: Locality, age: float) -> None:
        region = member.personal_number[7]
        digits = _document_digits(member.index)
        rows = self.tables["document"].rows
        if age < 14:
            rows.append(
                (
                    person_id,
                    "birth_certificate",
                    f"I-{_CERTIFICATE_SERIES[region]} {digits}",
                    member.birth_date + datetime.timedelta(days=10),
                    None,
                    f"Аддзел загса, {locality.name_be}",
                )
            )
            return
        last_day = member.death_date or self.today
        earliest = max(_years(member.birth_date, 14), _years(last_day, -9))
        issued_on = earliest + datetime.timedelta(
            days=self.rng.randint(0, max(0, (last_day - earliest).days))
        )
        id_card = issued_on >= _ID_CARDS_SINCE and self.rng.random() < 0.4
        rows.append(
            (
                person_id,
                "id_card" if id_card else "passport",
                f"{_PASSPORT_SERIES[region]}{digits}",
                issued_on,
                _years(issued_on, 10),
                f"Падраздзяленне па грамадзянстве і міграцыі, {locality.name_be}",
            )
        )

    def _event(
        self, table: str, kind: str, subject: str, date: datetime.date, data: dict[str, Any]
    ) -> None:
        at = connection.ops.adapt_datetimefield_value(_noon(date))
        self.tables[table].rows.append((kind, at, subject, json.dumps(data, ensure_ascii=False)))

    # -- companies ---------------------------------------------------------------------------

    def _companies_due(self, *, final: bool = False) -> None:
        if not self.recent_adults:
            return
        due = (
            self.companies_total
            if final
            else self.companies_total * self.persons_done // max(1, self.persons_total)
        )
        while self.companies_done < due:
            self._company()

    def _company(self) -> None:
        rng = self.rng
        local = self.companies_done
        self.companies_done += 1
        index = self.first_company + local
        unp = unp_for(index)
        director = rng.choice(self.recent_adults)
        number, full_be, full_ru, home_id, birth_date = director
        form = rng.choices(("llc", "sole_trader", "unitary", "jsc"), weights=(55, 25, 15, 5))[0]
        if form == "sole_trader":
            names = sole_trader_names(full_be, full_ru)
            address_id = home_id
        else:
            names = company_names(form, rng)
            locality = rng.choices(LOCALITIES, weights=_LOCALITY_WEIGHTS)[0]
            address_id = self._address(self.persons_total + local, locality)
        earliest = max(datetime.date(1992, 1, 1), _years(birth_date, 20))
        registered_on = earliest + datetime.timedelta(
            days=rng.randint(0, max(0, (self.today - earliest).days))
        )
        status = rng.choices(("active", "liquidating", "liquidated"), weights=(88, 4, 8))[0]
        entity_id = self.entity_id_base + local
        self.tables["entity"].rows.append(
            (entity_id, unp, *names, form, status, address_id, registered_on)
        )
        since = registered_on
        if form != "sole_trader" and rng.random() < 0.2 and len(self.recent_adults) > 1:
            earlier = rng.choice(self.recent_adults)
            if earlier[0] != number:
                span = max(1, (self.today - registered_on).days)
                since = registered_on + datetime.timedelta(days=rng.randint(1, span))
                self.tables["director"].rows.append(
                    (
                        entity_id,
                        earlier[0],
                        earlier[1],
                        registered_on,
                        since - datetime.timedelta(1),
                    )
                )
        self.tables["director"].rows.append((entity_id, number, full_be, since, None))
        if registered_on >= self.today - datetime.timedelta(days=RECENT_DAYS):
            self._event(
                "entity_event",
                "company_registered",
                unp,
                registered_on,
                {
                    "name": {"be": names[0], "ru": names[1]},
                    "legal_form": form,
                    "registered_on": registered_on.isoformat(),
                },
            )


def generated_persons() -> int:
    return int(GeneratorRun.objects.aggregate(total=Sum("persons"))["total"] or 0)


def registry_generate(
    *,
    persons: int,
    companies: int,
    seed: int = 0,
    batch_size: int = 5000,
    today: datetime.date | None = None,
    progress: Callable[[int], None] = lambda count: None,
) -> GeneratorResult:
    generator = RegistryGenerator(
        persons=persons,
        companies=companies,
        seed=seed,
        batch_size=batch_size,
        today=today,
        progress=progress,
    )
    result = generator.run_all()
    result.persons = generator.persons_done
    result.companies = generator.companies_done
    return result
