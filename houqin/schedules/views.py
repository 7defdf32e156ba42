"""Pages of X-5 that are not generic: "my tasks" for phones (X-10) and checking one task off."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from houqin.core.models import Attachment
from houqin.core.redirects import safe_next
from houqin.core.views_entity import is_htmx
from houqin.core.workflow import TransitionNotAllowed

from . import selectors, services
from .forms import CheckOffForm
from .models import Task
from .workflows import STATUS_COLORS


def _photos(tasks) -> dict[int, list[Attachment]]:
    """The check-off photos of ``tasks``, in one query."""
    if not tasks:
        return {}
    ct = ContentType.objects.get_for_model(Task)
    found: dict[int, list[Attachment]] = {}
    for a in Attachment.objects.filter(content_type=ct, object_id__in=[str(t.pk) for t in tasks],
                                       voided_at__isnull=True, kind=Attachment.Kind.IMAGE).order_by("uploaded_at"):
        found.setdefault(int(a.object_id), []).append(a)
    return found


def _badge(task, now) -> tuple[str, str]:
    """The status badge; an open task past its overdue time shows as overdue before the job marks it."""
    status = task.status
    if status == Task.Status.OPEN and task.overdue_at <= now:
        status = Task.Status.OVERDUE
    return str(Task.Status(status).label), STATUS_COLORS.get(status, "secondary")


def _cards(user, tasks, *, today, now=None) -> list[dict]:
    now = now or timezone.now()
    photos = _photos(tasks)
    return [{
        "task": t,
        "photos": photos.get(t.pk, []),
        "can_check_off": (not t.is_finished and t.due_on <= today and selectors.task_can_check_off(user, t)),
        "badge": _badge(t, now),
        "late": not t.is_finished and t.overdue_at <= now,
    } for t in tasks]


def _require_view(user) -> None:
    if not user.has_perm("schedules.view_task") or not user.school_id:
        raise PermissionDenied


@login_required
def my_tasks(request):
    """My tasks today and overdue, as big cards with a check-off button each (phones first, X-10)."""
    user = request.user
    _require_view(user)
    now = timezone.now()
    today = timezone.localdate(now)
    tasks = selectors.task_list_my_page(user=user, today=today, now=now)
    cards = _cards(user, tasks, today=today, now=now)
    return render(request, "schedules/my_tasks.html", {
        "title": _("My tasks"), "today": today, "cards": cards,
        "open_count": sum(1 for c in cards if not c["task"].is_finished),
    })


@login_required
def my_task_check_off(request, pk):
    """GET: the task's card alone (from its detail page). POST: check it off with a note and a photo;
    an htmx request gets the updated card back, others are sent back to "my tasks"."""
    user = request.user
    _require_view(user)
    task = get_object_or_404(Task.objects.select_related("place", "plan", "assignee", "done_by"),
                             pk=pk, school_id=user.school_id)
    today = timezone.localdate()
    error = ""
    if request.method == "POST":
        form = CheckOffForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.task_check_off(task=task, actor=user, note=form.cleaned_data["note"],
                                        photo=form.cleaned_data["photo"])
            except TransitionNotAllowed as exc:
                error = str(exc)
            except ValidationError as exc:
                error = " ".join(exc.messages)
        else:
            error = " ".join(m for errors in form.errors.values() for m in errors)
        task.refresh_from_db()
        if not is_htmx(request):
            if error:
                messages.error(request, error)
            else:
                messages.success(request, _("Done: %(task)s.") % {"task": task.title})
            return redirect(safe_next(request, request.POST.get("next")) or "schedules:my_tasks")
    elif not selectors.task_can_check_off(user, task) and not selectors.task_row_rule(
            Task.objects.filter(pk=task.pk), user, "view").exists():
        raise PermissionDenied
    card = _cards(user, [task], today=today)[0]
    context = {"card": card, "error": error, "title": task.title, "today": today}
    if is_htmx(request):
        return render(request, "schedules/partials/task_card.html", context)
    return render(request, "schedules/task_check_off.html", context)
