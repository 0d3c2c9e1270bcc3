from django.urls import URLPattern, URLResolver, path, re_path

from egov.registries.population import views

app_name = "registry_population"

urlpatterns: list[URLPattern | URLResolver] = [
    path("persons/<str:personal_number>", views.person, name="person"),
    path("family/<str:personal_number>", views.family, name="family"),
    path("address-history/<str:personal_number>", views.address_history, name="address-history"),
    re_path(r"^events/?$", views.events, name="events"),
    path("data-access-log/<str:personal_number>", views.data_access_log, name="data-access-log"),
]
