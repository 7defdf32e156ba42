"""houqin.urls plus the floor: the cheapest views Houqin can serve behind the same stack.

- ``/bench/floor/``: a ``login_required`` view behind the full middleware stack and the session
  login, one small query (the user's school name), a tiny response;
- ``/bench/api-floor/``: a DRF ``APIView`` with the project's default authentication (token) and
  permission classes, the same small query, ``{"ok": true, ...}``.

Every figure of ``bench/run.py`` is reported as a ratio to these (performance.md "The floor").
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from houqin.org.models import School
from houqin.urls import urlpatterns as houqin_urlpatterns


def _school_name(user) -> str:
    return School.objects.filter(pk=user.school_id).values_list("short_name", flat=True).first() or ""


@login_required
def floor(request):
    return HttpResponse(f"ok {_school_name(request.user)}", content_type="text/plain; charset=utf-8")


class ApiFloor(APIView):
    """Default authentication and permission classes (REST_FRAMEWORK settings), one small query."""

    def get(self, request):
        return Response({"ok": True, "school": _school_name(request.user)})


urlpatterns = [
    path("bench/floor/", floor, name="bench_floor"),
    path("bench/api-floor/", ApiFloor.as_view(), name="bench_api_floor"),
    *houqin_urlpatterns,
]
