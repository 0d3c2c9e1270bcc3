from django.urls import URLPattern, URLResolver, path, re_path

from egov.registries.addresses import views

app_name = "registry_addresses"

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^addresses/?$", views.address_search, name="search"),
    path("addresses/<str:address_id>", views.address, name="address"),
]
