from django.urls import URLPattern, URLResolver, path

from egov.audit import views

app_name = "audit"
urlpatterns: list[URLPattern | URLResolver] = [
    path("proofs/<int:entry_id>.json", views.proof_download, name="proof"),
]
