from django.urls import path

from egov.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
]
