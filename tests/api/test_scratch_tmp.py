import pytest
from egov.cases.models import Application
from egov.identity.selectors import SESSION_LOA
from egov.identity.services import SESSION_LOGIN_AT, SESSION_SEEN_AT
from tests.api.conftest import bearer, ANSWERS, CRIMINAL_RECORD
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_unp(citizen):
    r = bearer(citizen).post(
        "/api/v1/me/applications/",
        {
            "service": CRIMINAL_RECORD,
            "answers": ANSWERS[CRIMINAL_RECORD],
            "on_behalf_unp": "999999999",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="x",
    )
    print(r.status_code, Application.objects.get(number=r.json()["number"]).on_behalf_unp)


def test_expired_session(citizen):
    c = APIClient()
    c.force_login(citizen)
    s = c.session
    s[SESSION_LOA] = "substantial"
    s[SESSION_SEEN_AT] = 0
    s[SESSION_LOGIN_AT] = 0
    s.save()
    r = c.get("/api/v1/me/applications/")
    print(r.status_code, r.get("Location"), r["Content-Type"])


def test_csrf(citizen):
    c = APIClient(enforce_csrf_checks=True)
    c.force_login(citizen)
    s = c.session
    s[SESSION_LOA] = "substantial"
    s.save()
    r = c.post("/api/v1/me/applications/", {}, format="json", HTTP_IDEMPOTENCY_KEY="x")
    print(r.status_code, r.json())
