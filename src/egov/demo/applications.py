"""Applications for the demo country, in every state, so queues and cabinets are alive.

Everything goes through the same services as a real application (submission, workflow,
notifications); only the dates are moved back afterwards so that some cases are overdue or
nearly due, as in a real agency's queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone

from egov.cases import services
from egov.cases.models import Application, ApplicationEvent
from egov.catalog.models import Service, VersionStatus
from egov.core.workdays import add_working_days
from egov.identity.models import User, UserKind
from egov.identity.validators import personal_number_check_digit

SAMPLES_FILE = Path(__file__).resolve().parent / "data" / "sample_answers.yaml"
CITIZEN_EMAIL = "citizen@demo.egov.example"

RESIDENTS = [
    ("Іваноў", "Сяргей", "Пятровіч", "M"),
    ("Кузьміч", "Вольга", "Андрэеўна", "F"),
    ("Мельнікава", "Наталля", "Уладзіміраўна", "F"),
    ("Ткачоў", "Аляксандр", "Міхайлавіч", "M"),
    ("Жукоўская", "Алеся", "Віктараўна", "F"),
    ("Пятровіч", "Дзяніс", "Сяргеевіч", "M"),
    ("Сямёнава", "Таццяна", "Іванаўна", "F"),
    ("Бондар", "Ігар", "Аляксеевіч", "M"),
    ("Лісоўская", "Кацярына", "Паўлаўна", "F"),
    ("Грыцук", "Максім", "Юр'евіч", "M"),
]

#: What happens to each application after submission; the first letters of the steps:
#: c = claim, q = request information, a = answer, p = prepare approval, r = prepare refusal,
#: y = approve, n = refuse, w = withdraw. Four-eyes services prepare before deciding.
SCENARIOS = ["", "c", "cq", "cqa", "cy", "cn", "w", "cp", "cr", ""]
#: Working days back from today at which each scenario's application was submitted.
AGE_DAYS = [1, 3, 5, 8, 12, 9, 2, 6, 4, 25]


def _resident(index: int) -> User:
    last, first, patronymic, sex = RESIDENTS[index % len(RESIDENTS)]
    email = f"resident{index:02d}@demo.egov.example"
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    born = f"{(index % 28) + 1:02d}{(index % 12) + 1:02d}{85 + index % 14:02d}"
    start = f"{'4' if sex == 'F' else '3'}{born}H{index:03d}PB"
    user = User(
        email=email,
        kind=UserKind.CITIZEN,
        last_name=last,
        first_name=first,
        patronymic=patronymic,
        personal_number=start + str(personal_number_check_digit(start)),
        email_verified=True,
        notify_by_email=False,
    )
    user.set_unusable_password()
    user.save()
    return user


def _officials(agency_code: str) -> dict[str, User | None]:
    officials = User.objects.filter(kind=UserKind.OFFICIAL, agency__code=agency_code)
    return {
        "clerk": officials.filter(official_role="clerk").first(),
        "decision_maker": officials.filter(official_role="decision_maker").first(),
    }


def _play(application: Application, steps: str, officials: dict[str, User | None]) -> None:
    clerk = officials["clerk"] or officials["decision_maker"]
    decider = officials["decision_maker"] or clerk
    four_eyes = bool(application.version.definition.get("four_eyes"))
    applicant = application.applicant
    fire = services.transition_fire
    for step in steps:
        if step == "c" and clerk is not None:
            services.case_claim(actor=clerk, application_id=application.pk)
        elif step == "q":
            fire(
                application_id=application.pk,
                transition_code="request_information",
                actor=clerk,
                comment="Дашліце, калі ласка, копію дакумента, які пацвярджае месца жыхарства.",
            )
        elif step == "a":
            services.information_answer(
                actor=applicant,
                application_id=application.pk,
                answer="Даведка аб месцы жыхарства атрымана, копію дадаю.",
                uploads=[],
            )
        elif step in "pr":
            code = "prepare_approval" if step == "p" else "prepare_refusal"
            comment = "" if step == "p" else "Не прадстаўлены дакументы, названыя ў заканадаўстве."
            if four_eyes:
                fire(
                    application_id=application.pk,
                    transition_code=code,
                    actor=clerk,
                    comment=comment,
                )
        elif step in "yn":
            if four_eyes:
                fire(
                    application_id=application.pk,
                    transition_code="prepare_approval" if step == "y" else "prepare_refusal",
                    actor=clerk,
                    comment="" if step == "y" else "Не прадстаўлены неабходныя дакументы.",
                )
            fire(
                application_id=application.pk,
                transition_code="approve" if step == "y" else "refuse",
                actor=decider if four_eyes else clerk,
                comment="Рашэнне прынята."
                if step == "y"
                else "Не прадстаўлены неабходныя дакументы.",
            )
        elif step == "w":
            services.application_withdraw(actor=applicant, application_id=application.pk)


# A one-page PDF and a 1×1 PNG: enough for the content checks and for a viewer to open.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
DEMO_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _documents(definition: dict[str, Any]) -> dict[str, list[UploadedFile]]:
    uploads: dict[str, list[UploadedFile]] = {}
    for rule in definition.get("attachments", []):
        if rule.get("min_files", 0) < 1:
            continue
        if "application/pdf" in rule["content_types"]:
            uploads[rule["code"]] = [SimpleUploadedFile(f"{rule['code']}.pdf", DEMO_PDF)]
        else:
            uploads[rule["code"]] = [SimpleUploadedFile(f"{rule['code']}.png", DEMO_PNG)]
    return uploads


def _backdate(application: Application, working_days: int) -> None:
    """Move the application back in time, as if it had been submitted then."""
    today = timezone.localdate()
    day = today
    for _ in range(working_days):
        day -= timedelta(days=1)
        while add_working_days(day, 0) != day:
            day -= timedelta(days=1)
    shift = timezone.now() - timedelta(days=(today - day).days)
    deadline = add_working_days(day, int(application.version.definition["deadline_working_days"]))
    Application.objects.filter(pk=application.pk).update(submitted_at=shift, deadline=deadline)
    ApplicationEvent.objects.filter(application=application, sequence=1).update(created_at=shift)


def demo_applications_seed(
    *, progress: Callable[[Iterable[Any]], Iterable[Any]] = iter
) -> dict[str, int]:
    """Seed once: nothing happens if the demo already has applications."""
    if Application.objects.exists():
        return {"applications": 0}
    from egov.core.worker import tasks_run_pending

    samples: dict[str, list[dict[str, Any]]] = yaml.safe_load(SAMPLES_FILE.read_text("utf-8"))
    citizen = User.objects.filter(email=CITIZEN_EMAIL).first()
    count = 0
    services_with_forms = Service.objects.filter(
        versions__status=VersionStatus.PUBLISHED, code__in=list(samples)
    ).select_related("agency")
    for service_index, service in enumerate(progress(list(services_with_forms))):
        version = service.versions.get(status=VersionStatus.PUBLISHED)
        officials = _officials(service.agency.code)
        answers = samples[service.code]
        for index, steps in enumerate(SCENARIOS):
            applicant = _resident(service_index * len(SCENARIOS) + index)
            # The demo citizen owns a few, so their cabinet shows every kind of case.
            if citizen is not None and index in (2, 4, 5) and service_index % 3 == index % 3:
                applicant = citizen
            with transaction.atomic():
                application, _created = services.application_submit(
                    applicant=applicant,
                    version=version,
                    data=answers[index % len(answers)],
                    idempotency_key=f"demo-{service.code}-{index}",
                    language="be",
                    uploads=_documents(version.definition),
                )
                services.application_advance(application_id=application.pk)
                _play(application, steps, officials)
                _backdate(application, AGE_DAYS[index])
            count += 1
    tasks_run_pending()
    return {"applications": count}
