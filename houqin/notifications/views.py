"""The inbox, the bell in the top bar, the administrator's delivery log and the school's channel settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from houqin.core.redirects import safe_next
from houqin.core.shell import bell_html

from . import selectors, services
from .forms import ChannelConfigForm, DeliveryFilterForm
from .models import Notification
from .senders import mask_address

INBOX_PAGE = 30
DELIVERIES_PAGE = 50


# Inbox -----------------------------------------------------------------------------------------------


@login_required
def inbox(request):
    page = Paginator(selectors.notification_list_for(request.user), INBOX_PAGE).get_page(request.GET.get("page"))
    unread = selectors.notification_unread_count(request.user)
    return render(request, "notifications/inbox.html", {"page": page, "unread": unread})


@login_required
def notification_open(request, pk: int):
    """Open one notification: it becomes read, then its link (or, without one, its text) is shown."""
    try:
        notification = selectors.notification_get_own(user=request.user, pk=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    services.notification_mark_read(notification=notification, actor=request.user)
    target = safe_next(request, notification.url)
    if target:
        return redirect(target)
    return render(request, "notifications/notification_detail.html", {"notification": notification})


@require_POST
@login_required
def mark_all_read(request):
    count = services.notification_mark_all_read(actor=request.user)
    if count:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications:inbox")


def bell(request):
    """The bell's count, polled by htmx every minute; 204 (nothing to swap) while the count is unchanged.

    Not behind the login redirect: after the session ended, htmx would follow it and put the login page
    into the top bar (and a refresh would lose what is being typed), so the bell just stays as it is."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    count = selectors.notification_unread_count(request.user)
    if request.GET.get("seen") == str(count):
        return HttpResponse(status=204)
    return HttpResponse(bell_html(count, polled=True))


# Administration --------------------------------------------------------------------------------------


@login_required
@permission_required("notifications.view_outboxmessage", raise_exception=True)
def deliveries(request):
    """Messages that failed or were given up on (or any status), newest first, with a retry button."""
    form = DeliveryFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    qs = selectors.outbox_list_for(request.user, status=status)
    page = Paginator(qs, DELIVERIES_PAGE).get_page(request.GET.get("page"))
    for message in page:
        message.shown_address = mask_address(message.address)
    return render(request, "notifications/deliveries.html", {
        "form": form, "page": page, "can_retry": request.user.has_perm("notifications.retry_outboxmessage"),
    })


@require_POST
@login_required
@permission_required("notifications.retry_outboxmessage", raise_exception=True)
def delivery_retry(request, pk: int):
    message = get_object_or_404(selectors.outbox_list_for(request.user, status="all"), pk=pk)
    try:
        services.outbox_message_retry(message=message, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The message will be sent again within a minute."))
    return redirect(safe_next(request, request.POST.get("next")) or reverse("notifications:deliveries"))


def _own_school(request):
    if not request.user.has_perm("notifications.change_channelconfig"):
        raise PermissionDenied
    if request.user.school is None:
        raise Http404
    return request.user.school


@login_required
def channels(request):
    """The school's channel settings (系统管理员): e-mail, the group robots, quiet hours."""
    school = _own_school(request)
    config = selectors.channel_config_get(school)
    form = ChannelConfigForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        try:
            services.channel_config_update(school=school, data=form.service_data(), actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("notifications:channels")
    return render(request, "notifications/channels.html", {"form": form, "config": config})


@require_POST
@login_required
def channels_test(request):
    """Queue an urgent test message to the administrator: it goes out on every channel switched on."""
    school = _own_school(request)
    services.notify(
        school=school, recipients=[request.user], title=_("Test message from Houqin"),
        body=_("If you can read this, the channel works."), url=reverse("notifications:inbox"), urgent=True,
        category="notifications.test",
    )
    messages.success(request, _("A test message has been queued; it is sent within a minute."))
    return redirect("notifications:channels")
