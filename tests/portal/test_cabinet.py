"""The cabinet: only the person's own applications, messages and files; answering,
withdrawing, rating and choosing how to be told."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.cases import services
from egov.cases.models import Application
from egov.identity.models import ApiToken
from egov.notifications.models import Message
from tests.factories import (
    CRIMINAL_RECORD_ANSWERS,
    PDF,
    OfficialFactory,
    UserFactory,
    login,
    submitted,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def application():
    return submitted("MVD-NO-CRIMINAL-RECORD", UserFactory(language="en"), CRIMINAL_RECORD_ANSWERS)


def _asked(application):
    clerk = OfficialFactory()
    services.case_claim(actor=clerk, application_id=application.pk)
    services.transition_fire(
        application_id=application.pk,
        transition_code="request_information",
        actor=clerk,
        comment="Which employer asks for it?",
    )
    return clerk


def _urls(application):
    base = f"/en/my-account/applications/{application.number}/"
    return {
        "detail": ("get", base),
        "answer": ("post", base + "answer/"),
        "withdraw": ("post", base + "withdraw/"),
        "rate": ("post", base + "rate/"),
    }


@pytest.mark.parametrize("who", ["anonymous", "another_citizen", "official"])
def test_nobody_else_sees_or_touches_an_application(client, application, who):
    if who == "another_citizen":
        login(client, UserFactory())
    elif who == "official":
        login(client, OfficialFactory())
    state = (application.state, application.history_length)
    for method, url in _urls(application).values():
        response = getattr(client, method)(url, {"answer": "x", "score": "5"})
        if who == "anonymous":
            assert response.status_code == 302 and "/account/login/" in response["Location"]
        else:
            assert response.status_code == 404, url
    application.refresh_from_db()
    assert (application.state, application.history_length) == state
    message = Message.objects.filter(recipient=application.applicant).first()
    assert client.get(f"/en/my-account/inbox/{message.pk}/").status_code in (302, 404)
    assert Message.objects.get(pk=message.pk).read_at is None


def test_applicant_sees_status_history_and_messages(client, application):
    login(client, application.applicant)
    page = client.get(f"/en/my-account/applications/{application.number}/").content.decode()
    assert "Being reviewed" in page or "Разглядаецца" in page
    assert "Application submitted" in page
    listing = client.get("/en/my-account/applications/").content.decode()
    assert application.number in listing
    inbox = client.get("/en/my-account/inbox/").content.decode()
    assert f"Application {application.number} received" in inbox
    message = Message.objects.get(recipient=application.applicant)
    client.get(f"/en/my-account/inbox/{message.pk}/")
    message.refresh_from_db()
    assert message.read_at is not None


def test_applicant_answers_a_request_with_a_file(client, application):
    _asked(application)
    login(client, application.applicant)
    url = f"/en/my-account/applications/{application.number}/answer/"
    bad = client.post(url, {"answer": "", "files": SimpleUploadedFile("a.pdf", b"not a pdf")})
    assert bad.status_code == 400
    application.refresh_from_db()
    assert application.state == "information_requested"
    empty = client.post(url, {"answer": "  "})
    assert empty.status_code == 400
    assert "Write an answer or attach a file." in empty.content.decode()
    good = client.post(
        url, {"answer": "ААТ «Белшына»", "files": SimpleUploadedFile("ліст.pdf", PDF)}
    )
    assert good.status_code == 302
    application.refresh_from_db()
    assert application.state == "in_review"
    request = application.information_requests.get()
    assert request.answer == "ААТ «Белшына»"
    assert list(request.attachments.values_list("original_name", flat=True)) == ["ліст.pdf"]
    file_url = (
        f"/en/my-account/applications/{application.number}/files/{request.attachments.get().pk}/"
    )
    download = client.get(file_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == PDF
    login(client, UserFactory())
    assert client.get(file_url).status_code == 404


def test_withdraw_and_then_nothing_more(client, application):
    login(client, application.applicant)
    url = f"/en/my-account/applications/{application.number}/withdraw/"
    assert client.get(url).status_code == 200
    client.post(url, {"reason": "Applied by mistake"})
    application.refresh_from_db()
    assert application.outcome == "withdrawn"
    page = client.get(f"/en/my-account/applications/{application.number}/").content.decode()
    assert "Withdraw the application" not in page
    client.post(url)
    application.refresh_from_db()
    assert application.history_length == 3


def test_rating_after_the_decision(client, application):
    clerk = OfficialFactory()
    services.case_claim(actor=clerk, application_id=application.pk)
    services.transition_fire(application_id=application.pk, transition_code="approve", actor=clerk)
    login(client, application.applicant)
    url = f"/en/my-account/applications/{application.number}/rate/"
    assert client.post(url, {"score": "9"}).status_code == 400
    assert client.post(url, {"score": "abc"}).status_code == 400
    assert client.post(url, {"score": "5", "comment": "Fast"}).status_code == 302
    application.refresh_from_db()
    assert (application.rating.score, application.rating.comment) == (5, "Fast")


def test_preferences_validate_the_phone_and_switch_channels(client):
    user = UserFactory()
    login(client, user)
    url = "/en/my-account/notifications/"
    response = client.post(url, {"language": "ru", "notify_by_sms": "on", "phone": ""})
    assert response.status_code == 400
    assert "Enter a mobile number to get text messages." in response.content.decode()
    response = client.post(url, {"language": "ru", "notify_by_sms": "on", "phone": "+12025550100"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert (user.language, user.notify_by_sms, user.phone) == ("be", False, "")
    response = client.post(
        url, {"language": "ru", "notify_by_sms": "on", "phone": "+375 29 123-45-67"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.language, user.notify_by_email, user.notify_by_sms, user.phone) == (
        "ru",
        False,
        True,
        "+375291234567",
    )


def test_api_tokens_carry_the_logins_assurance_and_can_be_revoked(client):
    user = UserFactory()
    login(client, user, assurance="low")
    page = client.post("/en/my-account/api-tokens/", {"name": "My script"}).content.decode()
    token = ApiToken.objects.get(user=user)
    assert token.assurance == "low"
    assert "egov_" in page
    other = UserFactory()
    login(client, other)
    client.post("/en/my-account/api-tokens/", {"revoke": str(token.pk)})
    assert ApiToken.objects.filter(pk=token.pk).exists()
    login(client, user)
    client.post("/en/my-account/api-tokens/", {"revoke": str(token.pk)})
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert Application.objects.count() == 0


def test_a_password_only_login_must_step_up_to_open_a_substantial_application(client, application):
    login(client, application.applicant, assurance="low")
    url = f"/en/my-account/applications/{application.number}/"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/en/account/verify/?next=")
    before = (application.state, application.history_length)
    response = client.post(url + "withdraw/")
    assert response.status_code == 302 and "/account/verify/" in response["Location"]
    application.refresh_from_db()
    assert (application.state, application.history_length) == before


def test_an_officials_token_lives_no_longer_than_their_session(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    official = OfficialFactory()
    login(client, official)
    client.post("/en/my-account/api-tokens/", {"name": "Script"})
    token = ApiToken.objects.get(user=official)
    limit = timedelta(minutes=settings.SESSION_ABSOLUTE_MINUTES["staff"])
    assert token.expires_at - timezone.now() <= limit
    assert token.expires_at - timezone.now() > limit - timedelta(minutes=1)
