"""The REST API, mounted at /api/v1/. Anything else under that prefix is a 404 problem."""

from django.urls import URLPattern, URLResolver, path, re_path

from egov.api import views

app_name = "api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("catalogue/services/", views.ServiceListView.as_view(), name="services"),
    path("catalogue/services/<str:code>/", views.ServiceDetailView.as_view(), name="service"),
    path("me/applications/", views.MyApplicationsView.as_view(), name="my-applications"),
    path(
        "me/applications/<str:number>/",
        views.MyApplicationView.as_view(),
        name="my-application",
    ),
    path(
        "me/applications/<str:number>/withdraw/",
        views.MyApplicationWithdrawView.as_view(),
        name="my-application-withdraw",
    ),
    path(
        "me/applications/<str:number>/answer/",
        views.MyApplicationAnswerView.as_view(),
        name="my-application-answer",
    ),
    path("agency/cases/", views.CaseListView.as_view(), name="cases"),
    path("agency/cases/<str:number>/", views.CaseView.as_view(), name="case"),
    path("agency/cases/<str:number>/claim/", views.CaseClaimView.as_view(), name="case-claim"),
    path(
        "agency/cases/<str:number>/transitions/",
        views.CaseTransitionView.as_view(),
        name="case-transitions",
    ),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not-found"),
]
