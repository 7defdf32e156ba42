"""Org API (X-8): read endpoints scoped exactly like the pages. Platform II generates the rest."""

from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from houqin.core.permissions import scope

from . import selectors
from .models import SchoolClass, Student


class StudentSerializer(serializers.ModelSerializer):
    school_class = serializers.StringRelatedField()
    id_number = serializers.SerializerMethodField()

    class Meta:
        model = Student
        fields = ["id", "student_no", "name", "gender", "school_class", "id_type", "id_number", "is_boarder", "status"]

    def get_id_number(self, obj):
        return selectors.identity_display(self.context["request"].user, obj)


class StudentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = StudentSerializer

    def get_queryset(self):
        qs = selectors.students_visible(self.request.user).order_by("student_no")
        cls = self.request.query_params.get("school_class")
        if cls and cls.isdigit():
            qs = qs.filter(school_class_id=cls)
        return qs


class SchoolClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchoolClass
        fields = ["id", "name", "intake_year", "major", "number", "status"]


class SchoolClassViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SchoolClassSerializer

    def get_queryset(self):
        return scope(SchoolClass.objects.all(), self.request.user).order_by("-intake_year", "major", "number")


@api_view(["GET"])
def me(request):
    user = request.user
    return Response({
        "username": user.username, "name": str(user), "school": user.school.code if user.school else None,
        "roles": sorted(user.role_codes),
    })
