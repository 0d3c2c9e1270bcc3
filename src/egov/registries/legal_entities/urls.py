from django.urls import URLPattern, URLResolver, path, re_path

from egov.registries.legal_entities import views

app_name = "registry_legal_entities"

urlpatterns: list[URLPattern | URLResolver] = [
    path("entities/<str:unp>", views.entity, name="entity"),
    path("directed-by/<str:personal_number>", views.directed_by, name="directed-by"),
    re_path(r"^events/?$", views.events, name="events"),
    path("data-access-log/<str:personal_number>", views.data_access_log, name="data-access-log"),
]
