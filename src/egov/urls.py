from django.conf.urls.i18n import i18n_patterns
from django.urls import URLPattern, URLResolver, include, path

from egov.core import views as core_views
from egov.core.admin_site import admin_site

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/v1/", include("egov.api.urls")),
    path("exchange/", include("egov.exchange.central.urls")),
    path("trust/", include("egov.trust.urls")),
]
urlpatterns += i18n_patterns(
    path("", include("egov.portal.urls")),
    path("account/", include("egov.identity.urls")),
    path("office/", include("egov.backoffice.urls")),
    path("demo/", include("egov.demo.urls")),
    path("verify/", include("egov.documents.urls")),
    path("audit/", include("egov.portal.audit_urls")),
    path("admin/", admin_site.urls),
    prefix_default_language=True,
)

handler400 = "egov.core.views.bad_request"
handler403 = "egov.core.views.permission_denied"
handler404 = "egov.core.views.page_not_found"
handler500 = "egov.core.views.server_error"
