"""What goes into the ledger: logins, data accesses through the registers, every line of an
application's history and decision, admin changes."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from egov.audit.models import Entry
from egov.cases import services
from egov.identity.models import User
from tests.factories import (
    CRIMINAL_RECORD_ANSWERS,
    PASSWORD,
    OfficialFactory,
    UserFactory,
    submitted,
)
from tests.registries.conftest import (
    CLIENT,
    gateway_headers,
    provider_keys,  # noqa: F401  (a fixture)
)

pytestmark = pytest.mark.django_db
ALENA = "4150592M012PB5"


def test_a_login_and_a_failed_login_are_recorded_without_the_password(client) -> None:
    user = UserFactory(email="alena@example.org")
    wrong = client.post("/en/account/login/", {"username": user.email, "password": "wrong 2"})
    assert wrong.status_code == 200
    failed = Entry.objects.get(kind="login.failed")
    assert (failed.actor, failed.subject, failed.data["username"]) == ("", "", user.email)
    response = client.post("/en/account/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    entry = Entry.objects.get(kind="login.succeeded")
    assert (entry.actor, entry.actor_user_id, entry.subject) == (
        f"user:{user.pk}",
        user.pk,
        user.personal_number,
    )
    recorded = b"".join(bytes(e.entry_bytes) for e in Entry.objects.all())
    assert b"wrong 2" not in recorded
    assert PASSWORD.encode() not in recorded


@pytest.mark.urls("egov.registries.urls")
@pytest.mark.usefixtures("provider_keys")
def test_a_read_through_the_population_register_is_recorded(client) -> None:
    from egov.registries.population.demo import demo_people_ensure

    demo_people_ensure()
    Entry.objects.all().delete()
    response = client.get(f"/registries/population/v1/persons/{ALENA}", **gateway_headers())
    assert response.status_code == 200
    entry = Entry.objects.get(kind="data.accessed")
    assert (entry.actor, entry.subject) == (CLIENT, ALENA)
    assert entry.data["register"] == "population"
    assert entry.data["data"] == "person"
    assert entry.data["purposes"][0]["code"] == "check"
    # The reader's identification number stays in the register's own log; the ledger (whose
    # entries the person read about gets as proofs) holds a keyed pseudonym of it.
    from egov.registries.population.models import DataAccess
    from egov.registries.shared.services import user_pseudonym

    assert DataAccess.objects.get().user_id == "BY-STAFF-17"
    assert entry.data["user_id"] == user_pseudonym("BY-STAFF-17")
    assert entry.data["user_id"].startswith("p-") and "STAFF-17" not in entry.data["user_id"]
    assert b"STAFF-17" not in bytes(entry.entry_bytes)


def test_every_transition_and_the_decision_are_recorded() -> None:
    applicant = UserFactory()
    application = submitted("MVD-NO-CRIMINAL-RECORD", applicant, CRIMINAL_RECORD_ANSWERS)
    clerk = OfficialFactory(official_role="clerk")
    services.case_claim(actor=clerk, application_id=application.pk)
    services.transition_fire(
        application_id=application.pk, transition_code="approve", actor=clerk, comment="Done."
    )
    kinds = list(
        Entry.objects.filter(kind__startswith="case.").order_by("id").values_list("kind", "actor")
    )
    assert kinds == [
        ("case.submitted", f"user:{applicant.pk}"),
        ("case.transition", ""),
        ("case.claimed", f"user:{clerk.pk}"),
        ("case.transition", f"user:{clerk.pk}"),
        ("case.decided", f"user:{clerk.pk}"),
    ]
    decided = Entry.objects.get(kind="case.decided")
    assert decided.subject == applicant.personal_number
    assert decided.data["application"] == application.number
    assert decided.data["outcome"] == "approved"
    assert decided.data["to_state"] == "approved"


def test_an_admin_change_is_recorded() -> None:
    admin = UserFactory(kind="admin", personal_number=None, is_superuser=True)
    LogEntry.objects.log_actions(
        user_id=admin.pk,
        queryset=[admin],
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Email"]}}]',
        single_object=True,
    )
    entry = Entry.objects.get(kind="admin.changed")
    assert entry.actor == f"user:{admin.pk}"
    assert entry.data["action"] == "changed"
    assert entry.data["model"] == ContentType.objects.get_for_model(User).app_label + ".user"
    assert entry.data["object_id"] == str(admin.pk)
