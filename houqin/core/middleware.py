import uuid

from django.shortcuts import redirect
from django.urls import reverse

from .audit import reset_request_id, set_request_id


class RequestIdMiddleware:
    """One request id per HTTP request; audit entries of one submission share it (NetBox style)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = str(uuid.uuid4())
        token = set_request_id(request.id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request.id
        return response


class PasswordChangeRequiredMiddleware:
    """Accounts created or reset by an administrator must change the password before anything else."""

    ALLOWED = ("password_change", "logout", "set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(("/static/", "/api/"))
        ):
            allowed = {reverse(name) for name in self.ALLOWED}
            if request.path not in allowed:
                return redirect("password_change")
        return self.get_response(request)
