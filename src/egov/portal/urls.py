from django.urls import path

from egov.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("services/", views.service_index, name="services"),
    path("services/<str:code>/", views.service_detail, name="service"),
    path("services/<str:code>/start/", views.service_start, name="service_start"),
    path("search/", views.search, name="search"),
    path("life-events/", views.life_event_index, name="life_events"),
    path("life-events/<slug:slug>/", views.life_event_detail, name="life_event"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("agencies/", views.agency_index, name="agencies"),
    path("agencies/<str:code>/", views.agency_detail, name="agency"),
    path("my-account/", views.account, name="account"),
    path("accessibility/", views.static_page, {"page": "accessibility"}, name="accessibility"),
    path("privacy/", views.static_page, {"page": "privacy"}, name="privacy"),
    path("cookies/", views.static_page, {"page": "cookies"}, name="cookies"),
]
