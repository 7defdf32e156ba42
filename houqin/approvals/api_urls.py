"""API routes of approvals. Served under ``/api/approvals/`` (mounted in houqin/urls.py); the project may also mount
them at ``/api/approvals/`` with ``path("api/approvals/", include((api_urlpatterns, "approvals_api")))``."""

from django.urls import path

from . import apis

api_urlpatterns = [
    path("inbox/", apis.ApprovalInboxApi.as_view(), name="api_inbox"),
    path("steps/<int:pk>/approve/", apis.ApprovalStepApproveApi.as_view(), name="api_step_approve"),
    path("steps/<int:pk>/reject/", apis.ApprovalStepRejectApi.as_view(), name="api_step_reject"),
]
