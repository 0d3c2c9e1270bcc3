from django.urls import URLPattern, URLResolver, path

from egov.trust import tsa_views, views

app_name = "trust"
urlpatterns: list[URLPattern | URLResolver] = [
    path("ca/<str:name>.pem", views.ca_certificate, name="ca"),
    path("crl/<str:ca>.crl", views.crl, name="crl"),
    path("ocsp", views.ocsp_post, name="ocsp"),
    path("ocsp/<path:encoded>", views.ocsp_get, name="ocsp-get"),  # RFC 6960 A.1
]
urlpatterns.append(path("tsa", tsa_views.timestamp, name="tsa"))  # RFC 3161
