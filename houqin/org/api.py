"""Org API endpoints that are not generated (X-8). The record endpoints come from ``org/entities.py``."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

MeSerializer = inline_serializer("Me", {
    "username": serializers.CharField(), "name": serializers.CharField(),
    "school": serializers.CharField(allow_null=True), "roles": serializers.ListField(child=serializers.CharField()),
})


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The signed-in user: name, school and role codes."""
    user = request.user
    return Response({
        "username": user.username, "name": str(user), "school": user.school.code if user.school else None,
        "roles": sorted(user.role_codes),
    })
