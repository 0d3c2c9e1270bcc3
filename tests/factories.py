from __future__ import annotations

import factory
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.catalog.models import Agency
from egov.identity.models import User
from egov.identity.validators import personal_number_check_digit

PASSWORD = "correct-Horse-42"


def personal_number(sequence: int) -> str:
    first = f"4010190H{sequence % 1000:03d}PB"
    return first + str(personal_number_check_digit(first))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    kind = "citizen"
    first_name = "Ганна"
    last_name = "Мароз"
    personal_number = factory.Sequence(personal_number)
    # As an account the operator made (or whose e-ID was used once): the number is theirs.
    personal_number_proven_at = factory.LazyFunction(timezone.now)
    email_verified = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


class OfficialFactory(UserFactory):
    kind = "official"
    personal_number = None
    agency = factory.LazyFunction(lambda: Agency.objects.get(code="MVD"))
    official_role = "clerk"


def totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def login(client, user: User, assurance: str = "substantial") -> None:  # type: ignore[no-untyped-def]
    """Log in as after password and, by default, a second factor."""
    from egov.identity.selectors import SESSION_LOA

    client.force_login(user)
    session = client.session
    session[SESSION_LOA] = assurance
    session.save()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

#: Valid answers for the demo's criminal-record certificate (no required documents).
CRIMINAL_RECORD_ANSWERS: dict = {
    "personal_number": "4150592M012PB5",
    "birth_date": "1992-05-15",
    "birth_place": "Мінск",
    "name_changed": False,
    "purpose": "employment",
    "delivery": "e_account",
    "email": "citizen@demo.egov.example",
}


def published(code: str):  # type: ignore[no-untyped-def]
    from egov.catalog.models import Service

    return Service.objects.get(code=code).versions.get(status="published")


#: Valid answers for the demo's complaint about an agency's decision (four-eyes service).
COMPLAINT_ANSWERS: dict = {
    "decision_kind": "refusal_to_accept",
    "decision_body": "Адміністрацыя Цэнтральнага раёна",
    "procedure_name": "Пастаноўка на ўлік тых, хто мае патрэбу ў паляпшэнні жыллёвых умоў",
    "decision_date": "2026-10-01",
    "grounds": "Заяву не прынялі, хоць былі пададзены ўсе дакументы са спіса.",
    "requests": ["reconsider_application"],
    "reply_language": "be",
    "email": "citizen@demo.egov.example",
}


def submitted(code: str, applicant: User, answers: dict, key: str = "k", advance: bool = True):  # type: ignore[no-untyped-def]
    """An application submitted through the service, with its automatic steps run."""
    from egov.cases.services import application_submit
    from egov.core.worker import tasks_run_pending

    application, _created = application_submit(
        applicant=applicant,
        version=published(code),
        data=answers,
        idempotency_key=key,
        language="en",
    )
    if advance:
        tasks_run_pending()
        application.refresh_from_db()
    return application
