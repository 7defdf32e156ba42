from django.conf import settings
from django.conf.urls.static import static
from django.contrib.auth import views as auth_views
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from houqin.core import views as core_views
from houqin.org import api as org_api

router = DefaultRouter()
router.register("org/students", org_api.StudentViewSet, basename="student")
router.register("org/classes", org_api.SchoolClassViewSet, basename="schoolclass")

urlpatterns = [
    path("login/", core_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", core_views.password_change, name="password_change"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include("houqin.org.urls")),
    path("api/me/", org_api.me, name="api_me"),
    path("api/", include((router.urls, "api"))),
    path("", include("houqin.core.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
