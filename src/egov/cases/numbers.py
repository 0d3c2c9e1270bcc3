"""Application numbers: MVD-2026-000123, one series per agency and year."""

from __future__ import annotations

import re

from django.db import IntegrityError, connection, transaction

from egov.cases.models import NumberSequence


def number_next(*, agency_code: str, year: int) -> str:
    """The next number of the agency's year. On PostgreSQL a sequence per agency and year
    gives it without any lock held to the commit, so submissions to one agency run side by
    side (a rolled-back submission leaves a gap, as a paper journal's spoilt line would). On
    SQLite, where writes take turns anyway, a counter row is updated in one statement."""
    if connection.vendor == "postgresql":
        return f"{agency_code}-{year}-{_sequence_next(agency_code, year):06d}"
    table = NumberSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "last" = "last" + 1 '  # noqa: S608 - the model's own table
            'WHERE "agency_code" = %s AND "year" = %s RETURNING "last"',
            [agency_code, year],
        )
        row = cursor.fetchone()
    if row is None:
        try:
            with transaction.atomic():
                NumberSequence.objects.create(agency_code=agency_code, year=year, last=1)
            last = 1
        except IntegrityError:  # a concurrent submission created it first
            return number_next(agency_code=agency_code, year=year)
    else:
        last = int(row[0])
    return f"{agency_code}-{year}-{last:06d}"


def _sequence_next(agency_code: str, year: int) -> int:
    if not re.fullmatch(r"[A-Z0-9]{1,10}", agency_code):
        raise ValueError(f"not an agency code: {agency_code!r}")
    name = f"cases_number_{agency_code.lower()}_{year}"
    with connection.cursor() as cursor:
        # to_regclass gives NULL for a sequence not there yet, and nextval(NULL) is NULL:
        # one statement, and no error that would spoil the submission's transaction.
        cursor.execute("SELECT nextval(to_regclass(%s))", [name])
        value = cursor.fetchone()[0]
    if value is not None:
        return int(value)
    try:  # the year's first application for the agency
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{name}"')
    except IntegrityError:  # created at the same moment by another submission
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [name])
        return int(cursor.fetchone()[0])
