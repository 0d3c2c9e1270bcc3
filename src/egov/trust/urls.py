from django.urls import URLPattern, URLResolver, path

from egov.trust import tsa_views

app_name = "trust"
urlpatterns: list[URLPattern | URLResolver] = []
urlpatterns.append(path("tsa", tsa_views.timestamp, name="tsa"))  # RFC 3161
