"""The progress page of a background job and the download of its result (X-7 large exports)."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import render

from .jobs import job_progress_get, job_progress_is_stale, job_progress_visible, recover_stale_jobs
from .views_entity import is_htmx


def _progress_or_404(request, job_id):
    progress = job_progress_get(str(job_id))
    if progress is None:
        raise Http404
    if not job_progress_visible(progress, request.user):
        raise PermissionDenied
    if job_progress_is_stale(progress):
        # Its worker was killed and none has started since to say so: say it here.
        recover_stale_jobs()
        progress.refresh_from_db()
    return progress


@login_required
def job_progress(request, job_id):
    """The page polls itself through htmx each second until the job is done or failed."""
    progress = _progress_or_404(request, job_id)
    context = {"progress": progress}
    if is_htmx(request):
        return render(request, "core/partials/job_progress.html", context)
    return render(request, "core/job_progress.html", context)


@login_required
def job_download(request, job_id):
    progress = _progress_or_404(request, job_id)
    if progress.status != progress.Status.DONE or not progress.result_file:
        raise Http404
    path = Path(progress.result_file).resolve()
    if path.parent != Path(settings.HOUQIN_EXPORT_DIR).resolve() or not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=progress.result_name or path.name)
