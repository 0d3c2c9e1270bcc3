"""The proofs of the audit ledger's entries, for the person they are about (the cabinet's
"who used my data" links to them): ``/<lang>/audit/proofs/<id>.json``."""

from django.urls import URLPattern, URLResolver, path

from egov.portal import cabinet

app_name = "audit"
urlpatterns: list[URLPattern | URLResolver] = [
    path("proofs/<int:entry_id>.json", cabinet.proof_download, name="proof"),
]
