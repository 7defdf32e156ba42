"""Pages and API actions of AST-15 the entity machinery cannot give: the amortisation schedule on an
intangible asset's page, 入账 (voucher) and disposal of an intangible asset, the acceptance (转固) of a
construction project. Lists, details, forms, export, history and the CRUD API come from
``assets/entities_intangibles.py``; every write here calls ``services.intangibles``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from houqin.core.entities import format_value, registry
from houqin.core.permissions import require_perm
from houqin.core.views_entity import EntityDetailView, add_service_errors
from houqin.core.workflow import TransitionNotAllowed

from .models import ConstructionProject, IntangibleAsset
from .services import intangibles as services
from .views import _answer, _api_object, _get, lines_panel

# Longer schedules (a 50-year land use right: 600 months) are shown by year.
MONTHLY_SCHEDULE_MAX = 120


def _date_widget():
    return forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


class BookForm(forms.Form):
    voucher_no = forms.CharField(label=gettext_lazy("Voucher number"), max_length=40,
                                 widget=forms.TextInput(attrs={"class": "form-control"}))
    booked_on = forms.DateField(label=gettext_lazy("Booked on"), required=False, widget=_date_widget(),
                                help_text=gettext_lazy("Empty: today."))


class DisposeForm(forms.Form):
    disposed_on = forms.DateField(label=gettext_lazy("Disposed on"), required=False, widget=_date_widget(),
                                  help_text=gettext_lazy("Empty: today. Not amortised from this month on."))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200,
                             widget=forms.TextInput(attrs={"class": "form-control"}))


class AcceptForm(forms.Form):
    accepted_on = forms.DateField(label=gettext_lazy("Accepted on"), widget=_date_widget())
    acceptance_doc_no = forms.CharField(
        label=gettext_lazy("Acceptance document number"), max_length=60,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text=gettext_lazy("The number of the acceptance report (竣工验收单)."))
    life_months = forms.IntegerField(
        label=gettext_lazy("New useful life (months)"), required=False, min_value=1,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
        help_text=gettext_lazy("Only when the renovation or extension makes the building last longer: the whole "
                               "life from the in-service date, upward only."))
    life_reason = forms.CharField(label=gettext_lazy("Reason for the longer life"), max_length=200, required=False,
                                  widget=forms.TextInput(attrs={"class": "form-control"}))


# Pages --------------------------------------------------------------------------------------------------------
class IntangibleDetailView(EntityDetailView):
    """The card's fields plus its amortisation schedule: month, charge, accumulated, net value, posted."""

    def panels(self, obj):
        return [*super().panels(obj), schedule_panel(obj)]


class ProjectDetailView(EntityDetailView):
    """An accepted or cancelled project is history: no Edit button (the service refuses the edit too)."""

    def get_context(self, obj) -> dict:
        context = super().get_context(obj)
        context["can_change"] = context["can_change"] and obj.status == ConstructionProject.Status.OPEN
        return context


def schedule_panel(obj: IntangibleAsset) -> dict:
    rows = services.schedule_rows(obj)
    posted = _("Posted")
    headers = [(_("Month"), "left"), (_("Amortisation"), "right"), (_("Accumulated amortisation"), "right"),
               (_("Net value"), "right"), (_("Posted"), "left")]
    if obj.indefinite_life:
        title = _("Amortisation schedule: indefinite useful life, not amortised")
        return lines_panel(title, headers, [])
    if len(rows) <= MONTHLY_SCHEDULE_MAX:
        table = [[(f"{r.year}-{r.month:02d}", None), (format_value(r.amount), None),
                  (format_value(r.accumulated), None), (format_value(r.net), None), (posted if r.posted else "", None)]
                 for r in rows]
        return lines_panel(_("Amortisation schedule"), headers, table)
    years: dict[int, list] = {}
    for r in rows:
        years.setdefault(r.year, []).append(r)
    headers[0] = (_("Year"), "left")
    table = [[(str(year), None), (format_value(sum(r.amount for r in group)), None),
              (format_value(group[-1].accumulated), None), (format_value(group[-1].net), None),
              (_("%(count)s months") % {"count": sum(1 for r in group if r.posted)} if any(r.posted for r in group)
               else "", None)] for year, group in years.items()]
    return lines_panel(_("Amortisation schedule by year"), headers, table)


def _action_page(request, form, obj, title, cancel_url):
    return render(request, "assets/action_form.html", {"form": form, "obj": obj, "title": title,
                                                        "cancel_url": cancel_url},
                  status=400 if form.errors else 200)


@login_required
def intangible_book(request, pk):
    """入账: the accountant enters the finance voucher number."""
    obj = _get(request, IntangibleAsset, pk, "view")
    require_perm(request.user, "assets.book_intangibleasset")
    url = registry[IntangibleAsset].detail_url(obj)
    form = BookForm(request.POST if request.method == "POST" else None,
                    initial={"voucher_no": obj.voucher_no, "booked_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.intangible_book(intangible=obj, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Booked."))
            return redirect(url)
    return _action_page(request, form, obj, _("Enter the voucher of %(what)s") % {"what": obj}, url)


@login_required
def intangible_dispose(request, pk):
    """核销 an intangible asset: not amortised from the month of disposal."""
    obj = _get(request, IntangibleAsset, pk, "change")
    require_perm(request.user, "assets.dispose_intangibleasset")
    url = registry[IntangibleAsset].detail_url(obj)
    form = DisposeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.intangible_dispose(intangible=obj, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Disposed of."))
            return redirect(url)
    return _action_page(request, form, obj, _("Dispose of %(what)s") % {"what": obj}, url)


@login_required
def project_accept(request, pk):
    """竣工验收 and 转固: the cost goes to the building card (or a new card)."""
    project = _get(request, ConstructionProject, pk, "view")
    require_perm(request.user, "assets.accept_constructionproject")
    url = registry[ConstructionProject].detail_url(project)
    form = AcceptForm(request.POST if request.method == "POST" else None,
                      initial={"accepted_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.project_accept(project=project, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except TransitionNotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            project.refresh_from_db()
            messages.success(request, _("Accepted: %(amount)s added to %(card)s.") % {
                "amount": format_value(project.capitalised_value), "card": project.card})
            return redirect(url)
    title = _("Accept and capitalise %(what)s (cost to date %(amount)s)") % {
        "what": project, "amount": format_value(services.project_cost_total(project))}
    return _action_page(request, form, project, title, url)


# API actions (the same services as the pages) -----------------------------------------------------------------
class BookSerializer(serializers.Serializer):
    voucher_no = serializers.CharField(max_length=40)
    booked_on = serializers.DateField(required=False)


class DisposeSerializer(serializers.Serializer):
    disposed_on = serializers.DateField(required=False)
    reason = serializers.CharField(max_length=200)


class AcceptSerializer(serializers.Serializer):
    accepted_on = serializers.DateField()
    acceptance_doc_no = serializers.CharField(max_length=60)
    life_months = serializers.IntegerField(required=False, min_value=1, allow_null=True)
    life_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)



def with_intangible_api(base):
    """POST /api/assets/intangibles/<id>/book/ {voucher_no, booked_on} and /dispose/ {disposed_on, reason}."""

    @action(detail=True, methods=["post"], url_path="book", serializer_class=BookSerializer)
    def book(self, request, pk=None):
        """入账: enter the finance voucher number (the accountant)."""
        obj = _api_object(self, "assets.book_intangibleasset")
        payload = BookSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.intangible_book(intangible=obj, actor=request.user, **payload.validated_data)
        return _answer(self, obj)

    @action(detail=True, methods=["post"], url_path="dispose", serializer_class=DisposeSerializer)
    def dispose(self, request, pk=None):
        """Dispose of the intangible asset: not amortised from the month of disposal."""
        obj = _api_object(self, "assets.dispose_intangibleasset")
        payload = DisposeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.intangible_dispose(intangible=obj, actor=request.user, **payload.validated_data)
        return _answer(self, obj)

    @action(detail=True, methods=["get"], url_path="schedule")
    def schedule(self, request, pk=None):
        """The amortisation schedule: month, amount, accumulated, net value, posted."""
        obj = self.get_object()
        return Response([{"month": f"{r.year}-{r.month:02d}", "amount": str(r.amount),
                          "accumulated": str(r.accumulated), "net": str(r.net), "posted": r.posted}
                         for r in services.schedule_rows(obj)])

    return type(base.__name__, (base,), {"book": book, "dispose": dispose, "schedule": schedule,
                                         "__module__": base.__module__, "__doc__": base.__doc__})


def with_project_api(base):
    """POST /api/assets/construction/<id>/accept/ {accepted_on, acceptance_doc_no, life_months?, life_reason?}."""

    @action(detail=True, methods=["post"], url_path="accept", serializer_class=AcceptSerializer)
    def accept(self, request, pk=None):
        """Accept (竣工验收) and capitalise (转固) the project."""
        project = _api_object(self, "assets.accept_constructionproject")
        payload = AcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            services.project_accept(project=project, actor=request.user, **payload.validated_data)
        except TransitionNotAllowed as exc:
            raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return _answer(self, project)

    return type(base.__name__, (base,), {"accept": accept, "__module__": base.__module__, "__doc__": base.__doc__})
