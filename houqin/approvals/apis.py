"""Approvals API (X-8), HackSoft style: one class per operation, input serializers, the same services.

    GET  inbox/                    the steps waiting for the signed-in user
    POST steps/<id>/approve/       {"comment": ""}
    POST steps/<id>/reject/        {"comment": "why"} (required)

Errors use the platform's shape (``houqin.core.api.exception_handler``): a person who may not decide
the step gets 403, a step already decided or a missing comment 400.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .models import ApprovalStep

TAGS = ["Approvals"]


class ApprovalStepOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    label = serializers.CharField()
    status = serializers.CharField()
    request_id = serializers.IntegerField()
    request_status = serializers.CharField(source="request.status")
    document_type = serializers.SerializerMethodField()
    document_id = serializers.CharField(source="request.object_id")
    document_label = serializers.CharField(source="request.document_label")
    document_url = serializers.SerializerMethodField()
    amount = serializers.DecimalField(source="request.amount", max_digits=14, decimal_places=2, allow_null=True)
    requested_by = serializers.SerializerMethodField()
    submitted_at = serializers.DateTimeField(source="request.created_at")

    def get_document_type(self, step) -> str:
        ct = step.request.content_type
        return f"{ct.app_label}.{ct.model}"

    def get_document_url(self, step) -> str:
        return selectors.document_url(step.request)

    def get_requested_by(self, step) -> str:
        return str(step.request.requested_by or "")


class ApprovalStepApproveInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ApprovalStepRejectInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=500)


def _step_for(request, pk: int) -> ApprovalStep:
    qs = ApprovalStep.objects.select_related("request", "request__content_type", "request__requested_by")
    return get_object_or_404(qs.filter(request__school_id=request.user.school_id), pk=pk)


def _decide(step, user, *, approve: bool, comment: str) -> None:
    try:
        services.approval_decide(step=step, actor=user, approve=approve, comment=comment)
    except services.NotAnApprover as exc:
        raise exceptions.PermissionDenied(str(exc)) from exc  # 403 that says who may decide


class ApprovalInboxApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=TAGS, operation_id="approvals_inbox", responses=inline_serializer("ApprovalInbox", {
        "count": serializers.IntegerField(), "results": ApprovalStepOutputSerializer(many=True)}))
    def get(self, request):
        """The approval steps waiting for the signed-in user, oldest first."""
        steps = selectors.approvals_waiting_for(request.user)
        return Response({"count": steps.count(), "results": ApprovalStepOutputSerializer(steps[:200], many=True).data})


class ApprovalStepApproveApi(APIView):
    permission_classes = [IsAuthenticated]

    InputSerializer = ApprovalStepApproveInputSerializer

    @extend_schema(tags=TAGS, request=InputSerializer, responses=ApprovalStepOutputSerializer,
                   operation_id="approvals_step_approve")
    def post(self, request, pk: int):
        """Approve a step: the next step is asked, or the document is approved after the last one."""
        step = _step_for(request, pk)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _decide(step, request.user, approve=True, comment=payload.validated_data["comment"])
        return Response(ApprovalStepOutputSerializer(_step_for(request, pk)).data)


class ApprovalStepRejectApi(APIView):
    permission_classes = [IsAuthenticated]

    InputSerializer = ApprovalStepRejectInputSerializer

    @extend_schema(tags=TAGS, request=InputSerializer, responses=ApprovalStepOutputSerializer,
                   operation_id="approvals_step_reject")
    def post(self, request, pk: int):
        """Send a document back to its requester with a comment (required)."""
        step = _step_for(request, pk)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _decide(step, request.user, approve=False, comment=payload.validated_data["comment"])
        return Response(ApprovalStepOutputSerializer(_step_for(request, pk)).data)
