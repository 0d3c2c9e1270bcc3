from django.urls import URLPattern, URLResolver, path

from egov.exchange.central import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("globalconf", views.globalconf, name="globalconf"),
]
