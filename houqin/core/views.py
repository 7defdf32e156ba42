"""Shell pages: dashboard, global search, login and account pages, login log."""

from axes.models import AccessAttempt
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import ChangePasswordForm, LoginForm, UnlockForm
from .models import LoginEvent
from .registry import registry

SEARCH_LIMIT = 8


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def password_change(request):
    from houqin.org.services import account_change_password

    form = ChangePasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        account_change_password(user=request.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password has been changed."))
        return redirect("core:dashboard")
    return render(
        request,
        "registration/password_change.html",
        {"form": form, "forced": request.user.must_change_password},
    )


@login_required
def dashboard(request):
    from houqin.org.selectors import current_term

    school = request.user.school
    today = timezone.localdate()
    term = current_term(school, today) if school else None
    facts = []
    for fact in registry.dashboard_facts:
        value = fact.count(request)
        if value is not None:
            facts.append({"label": fact.label, "value": value, "url_name": fact.url_name})
    widgets = []
    for widget in registry.widgets:
        data = widget.render(request)
        if data is not None:
            widgets.append({"key": widget.key, "label": widget.label, "template": widget.template, "data": data})
    context = {
        "today": today,
        "term": term,
        "week": term.teaching_week(today) if term else None,
        "facts": facts,
        "widgets": widgets,
        "needs_charts": any(w["data"].get("chart") for w in widgets),
    }
    return render(request, "core/dashboard.html", context)


@login_required
def search(request):
    query = request.GET.get("q", "").strip()[:50]
    groups = []
    if query:
        for provider in registry.search_providers:
            hits = provider.search(request, query, SEARCH_LIMIT)
            if hits:
                groups.append({"label": provider.label, "hits": hits})
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"q": query, "groups": [{"label": str(g["label"]), "hits": g["hits"]} for g in groups]}
        )
    template = "core/partials/search_results.html" if request.headers.get("HX-Request") else "core/search.html"
    return render(request, template, {"q": query, "groups": groups})


@login_required
@permission_required("core.view_loginevent", raise_exception=True)
def login_log(request):
    events = LoginEvent.objects.select_related("user")
    if not request.user.is_superuser and not request.user.has_role("bureau"):
        events = events.filter(user__school=request.user.school) | events.filter(
            user__isnull=True, username__in=[]
        )
    q = request.GET.get("q", "").strip()
    if q:
        events = events.filter(username__icontains=q)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/login_log.html", {"page": page, "q": q})


@login_required
@permission_required("org.manage_accounts", raise_exception=True)
def lockouts(request):
    from django.contrib.auth import get_user_model

    school_usernames = set(
        get_user_model().objects.filter(school=request.user.school).values_list("username", flat=True)
    )
    attempts = [
        a
        for a in AccessAttempt.objects.order_by("-attempt_time")
        if a.username in school_usernames or request.user.is_superuser
    ]
    return render(request, "core/lockouts.html", {"attempts": attempts, "form": UnlockForm()})


@require_POST
@login_required
@permission_required("org.manage_accounts", raise_exception=True)
def unlock(request):
    from django.contrib.auth import get_user_model

    from houqin.org.services import account_unlock

    form = UnlockForm(request.POST)
    if form.is_valid():
        username = form.cleaned_data["username"]
        user = get_user_model().objects.filter(username=username).first()
        if user is not None and user.school_id != request.user.school_id and not request.user.is_superuser:
            messages.error(request, _("This account belongs to another school."))
        else:
            account_unlock(username=username, actor=request.user, ip_address=request.META.get("REMOTE_ADDR"))
            messages.success(request, _("%(username)s can log in again.") % {"username": username})
    return redirect("core:lockouts")



@login_required
def workflow_docs(request):
    """The state diagram and transition table of every document type (architecture §4.6)."""
    from .entities import registry as entities
    from .workflow import workflows

    def who(perm):
        if not perm:
            return ""
        roles = [r for code, r in registry.roles.items() if perm in registry.role_perms.get(code, ())]
        return "、".join(str(r.label) for r in sorted(roles, key=lambda r: r.order))

    items = []
    for model, wf in sorted(workflows.items(), key=lambda kv: kv[0]._meta.label):
        entity = entities.get(model)
        items.append({
            "title": model._meta.verbose_name, "key": model._meta.label_lower, "svg": wf.diagram_svg(),
            "entity": entity,
            "rows": [{"label": t.label or t.name, "name": t.name,
                      "sources": "、".join(wf.state_label(s) for s in t.sources(wf.states)),
                      "target": wf.state_label(t.target), "perm": who(t.perm), "system": t.system,
                      "needs_note": t.needs_note} for t in wf.transitions],
        })
    return render(request, "core/workflow_docs.html", {"items": items})


def changes_widget(request):
    """Records changed per day over the last 14 days (a trend chart for the office; ECharts).

    One query: per day, a count of the school's entries between two local midnights, each read from the
    (school, -at) index. An import of 100,000 rows writes 100,000 entries; grouping by ``at__date`` (a Python
    function per entry on SQLite, over every entry of the school) took 1.4 s of the home page at 200,000."""
    import datetime

    from django.db.models import Count, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from houqin.org.models import School

    from .models import AuditEntry

    user = request.user
    if not user.has_perm("core.view_auditentry") or not user.school_id:
        return None
    today = timezone.localdate()
    start = today - datetime.timedelta(days=13)
    days = [start + datetime.timedelta(days=i) for i in range(14)]
    zone = timezone.get_current_timezone()
    bounds = [timezone.make_aware(datetime.datetime.combine(d, datetime.time.min), zone)
              for d in [*days, today + datetime.timedelta(days=1)]]

    def day(i):
        entries = (AuditEntry.objects.filter(school_id=OuterRef("pk"), at__gte=bounds[i], at__lt=bounds[i + 1])
                   .order_by().values("school_id").annotate(n=Count("id")).values("n"))
        return Coalesce(Subquery(entries), 0)

    counts = School.objects.filter(pk=user.school_id).values(**{f"d{i}": day(i) for i in range(len(days))}).first()
    rows = [(d.strftime("%m-%d"), counts[f"d{i}"] if counts else 0) for i, d in enumerate(days)]
    return {
        "id": "changes", "script_id": "changes-data", "x_label": _("Date"), "y_label": _("Changes"),
        "rows": rows,
        "chart": {
            "grid": {"left": 40, "right": 16, "top": 16, "bottom": 28},
            "xAxis": {"type": "category", "data": [r[0] for r in rows]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"type": "bar", "data": [r[1] for r in rows], "itemStyle": {"color": "#1d4ed8"}}],
        },
    }
