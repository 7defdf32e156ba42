"""Attachment pages (X-6): the panel of a record, upload, remove, and the files behind the record's permission.

Every view answers htmx with the panel partial and a plain browser (no JavaScript) with a redirect
back to the page it came from, or with the panel on a page of its own.
"""

import re
import unicodedata

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import engines
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import attachments as services
from .models import Attachment
from .redirects import safe_next
from .views_entity import is_htmx

PARTIAL = "core/partials/attachments.html"
# The panel on a page of its own, for browsers without JavaScript. Its texts come from the view
# (gettext) so that they are extracted into the catalogue.
PAGE = """{% extends "base.html" %}
{% block title %}{{ page_title }}{% endblock %}
{% block content %}
<h1 class="page-title">{{ page_title }}: {{ obj }}</h1>
{% include "core/partials/attachments.html" %}
{% if next_url %}<p class="mt-3"><a class="btn btn-outline-secondary" href="{{ next_url }}">{{ back_label }}</a></p>{% endif %}
{% endblock %}"""


def _safe_next(request) -> str:
    """Where a plain form goes back to: ``next``, else the referring page, if it is on this site."""
    return safe_next(request, request.POST.get("next"), request.GET.get("next"),
                     request.headers.get("HX-Current-URL"), request.META.get("HTTP_REFERER"))


def _panel(request, parent, *, errors=None, note_value="", status=200):
    context = {
        "obj": parent,
        "errors": errors or {},
        "note_value": note_value,
        "next_url": _safe_next(request),
    }
    if is_htmx(request):
        return render(request, PARTIAL, context, status=status)
    context.update(page_title=_("Attachments"), back_label=_("Back"))
    html = engines["django"].from_string(PAGE).render(context, request)
    return HttpResponse(html, status=status)


def _back_or_panel(request, parent, message: str):
    if not is_htmx(request):
        url = _safe_next(request)
        if url:
            messages.success(request, message)
            return redirect(url)
    return _panel(request, parent)


@login_required
@require_http_methods(["GET", "POST"])
def attachments(request, ct, object_id):
    """GET: the panel of a record. POST: upload one photo or PDF (or a camera photo) to it."""
    if request.method == "GET":
        return _panel(request, services.parent_for(request.user, ct, object_id, "view"))
    parent = services.parent_for(request.user, ct, object_id, "change")
    note = request.POST.get("note", "")[:200]
    uploads = [f for f in (request.FILES.get("file"), request.FILES.get("photo")) if f]
    error = None
    if not uploads:
        error = [_("Choose a photo or PDF file to upload.")]
    else:
        try:
            for upload in uploads:
                services.attachment_add(obj=parent, upload=upload, actor=request.user, note=note)
        except ValidationError as exc:
            error = exc.messages
    if error:
        status = 200 if is_htmx(request) else 400
        return _panel(request, parent, errors={"file": error}, note_value=note, status=status)
    return _back_or_panel(request, parent, _("The attachment has been added."))


@login_required
@require_POST
def attachment_void(request, pk):
    attachment = get_object_or_404(Attachment, pk=pk, voided_at__isnull=True)
    parent = services.parent_for(request.user, attachment.content_type_id, attachment.object_id, "change")
    services.attachment_void(attachment=attachment, actor=request.user)
    return _back_or_panel(request, parent, _("The attachment has been removed."))


def download_name(attachment: Attachment, *, thumb: bool = False) -> str:
    """The original name, made safe for a header, with the extension of what is really served."""
    name = unicodedata.normalize("NFC", attachment.original_name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'["\\/;:*?<>|]+', "_", name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = (stem or "attachment")[:150]
    if thumb:
        return f"{stem}-thumbnail.jpg"
    return f"{stem}.{'jpg' if attachment.kind == Attachment.Kind.IMAGE else 'pdf'}"


def _serve(request, pk, *, thumb: bool):
    attachment = get_object_or_404(Attachment, pk=pk, voided_at__isnull=True)
    if not services.can_view_parent(request.user, attachment):
        raise Http404
    field = attachment.thumbnail if thumb else attachment.file
    if not field:
        raise Http404
    try:
        handle = field.storage.open(field.name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    # The type comes from what the upload was checked to be, never from a name.
    content_type = "image/jpeg" if thumb or attachment.kind == Attachment.Kind.IMAGE else "application/pdf"
    response = FileResponse(
        handle, content_type=content_type, as_attachment=False, filename=download_name(attachment, thumb=thumb)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def attachment_file(request, pk):
    return _serve(request, pk, thumb=False)


@login_required
@require_GET
def attachment_thumb(request, pk):
    return _serve(request, pk, thumb=True)
