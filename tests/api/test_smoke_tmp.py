import pytest

from tests.api.conftest import ANSWERS, CRIMINAL_RECORD, bearer

pytestmark = pytest.mark.django_db


def test_smoke(anonymous, citizen, application, clerk):
    r = anonymous.get("/api/v1/catalogue/services/", HTTP_ACCEPT_LANGUAGE="en")
    print(r.status_code, r.json()["count"], r.json()["results"][0], r["Content-Language"])
    r = anonymous.get(f"/api/v1/catalogue/services/{CRIMINAL_RECORD}/", HTTP_ACCEPT_LANGUAGE="ru")
    print(r.status_code, str(r.json())[:1500])
    c = bearer(citizen)
    r = c.get("/api/v1/me/applications/")
    print(r.status_code, r.json())
    r = c.get(f"/api/v1/me/applications/{application.number}/")
    print(r.status_code, r.json())
    r = c.post(
        "/api/v1/me/applications/",
        {"service": CRIMINAL_RECORD, "answers": ANSWERS[CRIMINAL_RECORD]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    print(r.status_code, r.get("Location"), r.json()["number"])
    r = bearer(clerk).get("/api/v1/agency/cases/")
    print(r.status_code, r.json())
    r = bearer(clerk).get(f"/api/v1/agency/cases/{application.number}/")
    print(r.status_code, r.json())
    r = anonymous.get("/api/v1/nope")
    print(r.status_code, r.json())
    r = anonymous.delete("/api/v1/catalogue/services/")
    print(r.status_code, r.json())
    r = anonymous.get("/api/v1/me/applications/")
    print(r.status_code, r.json(), r["WWW-Authenticate"])
