from django.urls import path

from egov.portal import applying, cabinet, views

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
    path(
        "my-account/organisations/refresh/",
        views.representations_refresh,
        name="representations_refresh",
    ),
    path("services/<str:code>/apply/", applying.service_apply, name="service_apply"),
    path("my-account/drafts/", cabinet.draft_index, name="drafts"),
    path("my-account/drafts/<uuid:draft_id>/", applying.draft_resume, name="draft"),
    path(
        "my-account/drafts/<uuid:draft_id>/documents/",
        applying.draft_documents,
        name="draft_documents",
    ),
    path(
        "my-account/drafts/<uuid:draft_id>/documents/<uuid:attachment_id>/remove/",
        applying.draft_document_remove,
        name="draft_document_remove",
    ),
    path("my-account/drafts/<uuid:draft_id>/check/", applying.draft_check, name="draft_check"),
    path("my-account/drafts/<uuid:draft_id>/delete/", applying.draft_delete, name="draft_delete"),
    path("my-account/drafts/<uuid:draft_id>/<slug:step>/", applying.draft_step, name="draft_step"),
    path("my-account/applications/", cabinet.application_index, name="applications"),
    path("my-account/applications/<str:number>/", cabinet.application_detail, name="application"),
    path(
        "my-account/applications/<str:number>/answer/",
        cabinet.application_answer,
        name="application_answer",
    ),
    path(
        "my-account/applications/<str:number>/withdraw/",
        cabinet.application_withdraw,
        name="application_withdraw",
    ),
    path(
        "my-account/applications/<str:number>/rate/",
        cabinet.application_rate,
        name="application_rate",
    ),
    path(
        "my-account/applications/<str:number>/files/<uuid:attachment_id>/",
        cabinet.attachment_download,
        name="attachment",
    ),
    path(
        "my-account/applications/<str:number>/documents/<int:document_id>/",
        cabinet.document_download,
        name="document",
    ),
    path("my-account/inbox/", cabinet.inbox, name="inbox"),
    path("my-account/inbox/<uuid:message_id>/", cabinet.message_detail, name="message"),
    path("my-account/api-tokens/", cabinet.api_tokens, name="api_tokens"),
    path("my-account/data-access/", cabinet.data_access, name="data_access"),
    path("my-account/notifications/", cabinet.preferences, name="preferences"),
    path("accessibility/", views.static_page, {"page": "accessibility"}, name="accessibility"),
    path("privacy/", views.static_page, {"page": "privacy"}, name="privacy"),
    path("cookies/", views.static_page, {"page": "cookies"}, name="cookies"),
]
