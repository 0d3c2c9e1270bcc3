"""Identity's background work: the emails of registration and password reset, sent by the
worker so that no request waits for (or is timed by) the mail server."""

from __future__ import annotations

from django_tasks import task

from egov.identity.services import (
    password_reset_run,
    registration_notice_run,
    verification_email_run,
)


@task()
def verification_email_send(
    user_id: int, language: str, mailbox_mark: str = "", attempt: int = 1
) -> str:
    return verification_email_run(
        user_id=user_id, language=language, mailbox_mark=mailbox_mark, attempt=attempt
    )


@task()
def registration_notice_send(owner_ids: list[int]) -> int:
    return registration_notice_run(owner_ids=owner_ids)


@task()
def password_reset_send(user_ids: list[int], language: str, attempt: int = 1) -> int:
    return password_reset_run(user_ids=user_ids, language=language, attempt=attempt)
