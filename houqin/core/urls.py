from django.urls import path

from . import views
from .views_entity import LookupView

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("search/", views.search, name="search"),
    path("docs/workflows/", views.workflow_docs, name="workflow_docs"),
    path("lookup/<str:app_label>/<str:model_name>/", LookupView.as_view(), name="lookup"),
    path("accounts/login-log/", views.login_log, name="login_log"),
    path("accounts/lockouts/", views.lockouts, name="lockouts"),
    path("accounts/unlock/", views.unlock, name="unlock"),
]

# Background jobs: progress of a job someone waits for, and its result file.
from . import views_jobs  # noqa: E402

urlpatterns += [
    path("jobs/<uuid:job_id>/", views_jobs.job_progress, name="job_progress"),
    path("jobs/<uuid:job_id>/download/", views_jobs.job_download, name="job_download"),
]

# Attachments: the file routes come before the record route, which would also match them.
from . import views_attachments  # noqa: E402

urlpatterns += [
    path("attachments/<int:pk>/file/", views_attachments.attachment_file, name="attachment_file"),
    path("attachments/<int:pk>/thumb/", views_attachments.attachment_thumb, name="attachment_thumb"),
    path("attachments/<int:pk>/void/", views_attachments.attachment_void, name="attachment_void"),
    path("attachments/<int:ct>/<str:object_id>/", views_attachments.attachments, name="attachments"),
]
