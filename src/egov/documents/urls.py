from django.urls import URLPattern, URLResolver, path

from egov.documents import views

app_name = "documents"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.verify_index, name="verify"),
    path("upload/", views.verify_upload, name="upload"),
    path("<str:code>/", views.verify_code, name="code"),
    path("<str:code>/pdf/", views.verify_download, name="download"),
]
