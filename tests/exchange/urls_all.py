"""The portal's and the registries' pages in one URL set: one live server can then play both
the central registry (portal side) and the registries' web process in a test."""

from egov.registries.urls import urlpatterns as registries
from egov.urls import urlpatterns as portal

urlpatterns = [*portal, *registries]
handler400 = "egov.core.views.bad_request"
handler403 = "egov.core.views.permission_denied"
handler404 = "egov.core.views.page_not_found"
handler500 = "egov.core.views.server_error"
