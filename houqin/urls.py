from django.apps import apps
from django.conf import settings
from django.conf.urls.static import static
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from houqin.approvals.api_urls import api_urlpatterns as approvals_api
from houqin.core import views as core_views
from houqin.core.api import entity_router
from houqin.core.views_entity import entity_urls
from houqin.org import api as org_api

urlpatterns = [
    path("login/", core_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", core_views.password_change, name="password_change"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include("houqin.org.urls")),
    path("notifications/", include("houqin.notifications.urls")),
    path("approvals/", include("houqin.approvals.urls")),
    path("schedules/", include("houqin.schedules.urls")),
    path("signin/", include("houqin.signin.urls")),
    path("assets/", include("houqin.assets.urls")),
    path("api/me/", org_api.me, name="api_me"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/approvals/", include((approvals_api, "approvals_api"))),
    path("api/", include((entity_router().urls, "api"))),
    path("", include("houqin.core.urls")),
]
if apps.is_installed("tests.sampleapp"):  # the entity machinery's test ledger (settings_test only)
    urlpatterns.insert(0, path("sample/", include((entity_urls("sampleapp"), "sampleapp"))))
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
