from django.urls import URLPattern, URLResolver

app_name = "trust"
urlpatterns: list[URLPattern | URLResolver] = []
