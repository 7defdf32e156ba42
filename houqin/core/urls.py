from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("search/", views.search, name="search"),
    path("accounts/login-log/", views.login_log, name="login_log"),
    path("accounts/lockouts/", views.lockouts, name="lockouts"),
    path("accounts/unlock/", views.unlock, name="unlock"),
]
