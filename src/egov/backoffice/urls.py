from django.urls import path

from egov.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/<str:number>/", views.case, name="case"),
    path("cases/<str:number>/claim/", views.case_claim, name="case_claim"),
    path("cases/<str:number>/assign/", views.case_assign, name="case_assign"),
    path("cases/<str:number>/actions/", views.case_action, name="case_action"),
    path("cases/<str:number>/notes/", views.case_note, name="case_note"),
    path(
        "cases/<str:number>/files/<uuid:attachment_id>/",
        views.case_file,
        name="case_file",
    ),
    path(
        "cases/<str:number>/documents/<int:document_id>/",
        views.case_document,
        name="case_document",
    ),
]
