"""Class contracting (AST-6) and damage compensation (AST-5) pages the entity machinery cannot give: term start,
the lines of a draft contract, the monthly check (phone first), the decision and the collection of a damage
record, the roll-up per class teacher (page, Excel, A4) and the printed 承包责任书; plus the API actions and the
module switch (switched off: the pages answer 404 with a page saying so, the API 404).
"""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from houqin.core.entities import EntityForm, format_value, registry
from houqin.core.ids import as_key
from houqin.core.money import MoneySum
from houqin.core.permissions import require_perm, scope
from houqin.core.responses import pdf_response, xlsx_response
from houqin.core.views_entity import EntityCreateView, EntityDetailView, add_service_errors

from .models import ClassContract, ContractCheck, ContractCheckLine, DamageRecord
from .models.contracting import Condition, ItemKind
from .services import contracting as services
from .views import _answer, lines_panel

TEMPLATES = "assets/contracting/"


# The switch ----------------------------------------------------------------------------------------------------
def disabled_page(request):
    """What every contracting page answers while the school has the module switched off (HTTP 404)."""
    return render(request, TEMPLATES + "disabled.html", {
        "title": _("Class contracting is not in use"),
        "can_switch": request.user.has_perm("assets.change_assetsettings") and request.user.school_id,
    }, status=404)


def _enabled(request) -> bool:
    return services.contracting_enabled(getattr(request.user, "school", None))


class SwitchMixin:
    """Contracting entity views answer the 'not in use' page while the school has the module switched off."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.school_id and not _enabled(request):
            return disabled_page(request)
        return super().dispatch(request, *args, **kwargs)


class SwitchApiMixin:
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.user.is_authenticated and request.user.school_id and not _enabled(request):
            raise exceptions.NotFound(_("Class contracting is not in use at this school."))


def switched(entity_cls):
    """Put every generated view and the viewset of a contracting entity behind the module switch."""
    entity_cls.views = {key: view if issubclass(view, SwitchMixin) else
                        type(view.__name__, (SwitchMixin, view), {"entity": view.entity})
                        for key, view in entity_cls.views.items()}
    base = entity_cls.viewset_class
    entity_cls.viewset_class = type(base.__name__, (SwitchApiMixin, base), {
        "__module__": base.__module__, "__doc__": base.__doc__})
    return entity_cls


def contracting_page(view):
    """Login, then the switch, for the function views of contracting."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not _enabled(request):
            return disabled_page(request)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@login_required
@require_POST
def switch(request):
    """Switch class contracting on or off for the school (asset settings and modules in use together)."""
    require_perm(request.user, "assets.change_assetsettings")
    if not request.user.school_id:
        raise PermissionDenied
    enabled = request.POST.get("enabled") == "1"
    services.contracting_switch(school=request.user.school, enabled=enabled, actor=request.user)
    if enabled:
        messages.success(request, _("Class contracting is switched on."))
        return redirect("assets:contracting_rollup")
    messages.success(request, _("Class contracting is switched off: its pages and menu entries are hidden."))
    return redirect("assets:damagerecord_list")


# Contracts -----------------------------------------------------------------------------------------------------
def _contract(request, pk, action="view") -> ClassContract:
    return get_object_or_404(scope(ClassContract.objects.select_related("school_class", "term", "room"),
                                   request.user, action), pk=pk)


class ContractDetailView(EntityDetailView):
    """The 承包责任书: its lines, its monthly checks; signed by the class teacher with one button."""

    def panels(self, obj):
        rows = [[(line.get_kind_display(), None), (line.name, None), (str(line.quantity), None),
                 (line.get_condition_display(), None), (line.note, None)] for line in obj.lines.all()]
        headers = [(_("Item kind"), "left"), (_("Item"), "left"), (_("Quantity"), "right"),
                   (_("Condition at signing"), "left"), (_("Note"), "left")]
        check_entity = registry[ContractCheck]
        checks = [[(format_value(c.checked_on), check_entity.detail_url(c)), (str(c.shortfall), None),
                   (str(c.damaged), None), (str(c.checked_by or ""), None)]
                  for c in obj.checks.filter(voided_at__isnull=True).select_related("checked_by")]
        check_headers = [(_("Checked on"), "left"), (_("Items short"), "right"), (_("Items damaged"), "right"),
                         (_("Check recorded by"), "left")]
        return [*super().panels(obj), lines_panel(_("What the class takes care of"), headers, rows),
                lines_panel(_("Monthly checks"), check_headers, checks)]

    def get_context(self, obj):
        context = super().get_context(obj)
        context["can_change"] = context["can_change"] and obj.status == ClassContract.Status.DRAFT
        return context


def contract_actions(contract: ClassContract, user) -> list[dict]:
    actions = []
    if contract.status == ClassContract.Status.DRAFT and services.is_manager(user) and user.has_perm(
            "assets.change_classcontract"):
        actions.append({"label": _("Edit lines"), "url": reverse("assets:contract_lines", args=[contract.pk]),
                        "method": "get", "style": "primary"})
    if (contract.status == ClassContract.Status.SIGNED and user.has_perm("assets.add_contractcheck")
            and services.may_act_for_class(user, contract.school_class)):
        actions.append({"label": _("Record this month's check"),
                        "url": reverse("assets:contractcheck_add") + f"?contract={contract.pk}", "method": "get",
                        "style": "primary"})
    actions.append({"label": _("Print contract"), "url": reverse("assets:contract_print", args=[contract.pk]),
                    "method": "get"})
    return actions


class LineForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=gettext_lazy("Item kind"), choices=[("", "—"), *ItemKind.choices],
                             required=False)
    name = forms.CharField(label=gettext_lazy("Item"), max_length=100, required=False)
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, required=False)
    condition = forms.ChoiceField(label=gettext_lazy("Condition at signing"), choices=Condition.choices,
                                  initial=Condition.GOOD)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)
    remove = forms.BooleanField(label=gettext_lazy("Remove"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("remove") or not (data.get("name") or data.get("kind") or data.get("quantity")):
            return data  # an empty spare row, or a line to drop
        if not data.get("kind"):
            self.add_error("kind", _("Choose the kind of item."))
        if not data.get("name"):
            self.add_error("name", _("Name the item."))
        if not data.get("quantity"):
            self.add_error("quantity", _("The quantity must be at least 1."))
        return data

    def row(self) -> dict | None:
        data = self.cleaned_data
        if data.get("remove") or not (data.get("name") or data.get("kind") or data.get("quantity")):
            return None
        return {key: data.get(key) for key in ("id", "kind", "name", "quantity", "condition", "note")}


LineFormSet = forms.formset_factory(LineForm, extra=3, max_num=300)


@contracting_page
def contract_lines(request, pk):
    """The lines of a draft contract: what the room holds is filled in; doors, windows and handles are added."""
    contract = _contract(request, pk, "change")
    require_perm(request.user, "assets.change_classcontract")
    if not services.is_manager(request.user) or contract.status != ClassContract.Status.DRAFT:
        raise PermissionDenied
    initial = [{"id": ln.pk, "kind": ln.kind, "name": ln.name, "quantity": ln.quantity, "condition": ln.condition,
                "note": ln.note} for ln in contract.lines.all()]
    formset = LineFormSet(request.POST or None, initial=initial, prefix="lines")
    status = 200
    if request.method == "POST":
        if formset.is_valid():
            rows = [r for r in (f.row() for f in formset.forms) if r is not None]
            try:
                services.contract_lines_save(contract=contract, rows=rows, actor=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                status = 400
            else:
                messages.success(request, _("Saved."))
                return redirect(registry[ClassContract].detail_url(contract))
        else:
            status = 400
    for form in formset.forms:
        for field in form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            if not isinstance(field.widget, forms.CheckboxInput | forms.HiddenInput):
                field.widget.attrs.setdefault("class", css)
    return render(request, TEMPLATES + "lines.html", {
        "title": _("Lines of %(contract)s") % {"contract": contract}, "obj": contract, "formset": formset,
        "cancel_url": registry[ClassContract].detail_url(contract)}, status=status)


class StartTermForm(forms.Form):
    term = forms.ModelChoiceField(label=gettext_lazy("Term"), queryset=None,
                                  help_text=gettext_lazy("A draft contract is written for every class with a "
                                                         "classroom that has none for this term yet."))

    def __init__(self, *args, school, **kwargs):
        from houqin.org.models import Term

        super().__init__(*args, **kwargs)
        self.fields["term"].queryset = Term.objects.filter(school=school).order_by("-start_on")
        self.fields["term"].widget.attrs["class"] = "form-select"
        current = services.current_term(school)
        if current is not None:
            self.fields["term"].initial = current.pk


@contracting_page
def start_term(request):
    """Term start (AST-6): draft contracts for every class, filled from their classrooms. Safe to run twice."""
    require_perm(request.user, "assets.add_classcontract")
    if not services.is_manager(request.user) or not request.user.school_id:
        raise PermissionDenied
    form = StartTermForm(request.POST or None, school=request.user.school)
    if request.method == "POST" and form.is_valid():
        term = form.cleaned_data["term"]
        try:
            result = services.contracting_start_term(school=request.user.school, term=term, actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(created)s contracts written for %(term)s; %(existing)s classes already had "
                                        "one.") % {"created": result["created"], "term": term,
                                                   "existing": result["existing"]})
            if result["without_room"]:
                messages.warning(request, _("Classes without a classroom (give them one, then start again): "
                                            "%(classes)s") % {"classes": "、".join(result["without_room"])})
            return redirect(reverse("assets:classcontract_list") + f"?term={term.pk}")
    return render(request, TEMPLATES + "form.html", {
        "title": _("Start the term's class contracting"), "form": form, "submit_label": _("Write the contracts"),
        "cancel_url": reverse("assets:classcontract_list")}, status=400 if form.errors else 200)


@contracting_page
def contract_print(request, pk):
    """The 班级财产承包责任书 as an A4 PDF, with the class teacher's and the asset keeper's signatures."""
    from houqin.core.printing import PrintColumn, PrintError, render_table_pdf

    contract = _contract(request, pk)
    columns = [PrintColumn(_("No."), "right", 0.5), PrintColumn(_("Item kind"), weight=1.4),
               PrintColumn(_("Item"), weight=2.6), PrintColumn(_("Quantity"), "right", 0.8),
               PrintColumn(_("Condition at signing"), weight=1.2), PrintColumn(_("Note"), weight=1.6)]
    rows = [[str(n), ln.get_kind_display(), ln.name, str(ln.quantity), ln.get_condition_display(), ln.note]
            for n, ln in enumerate(contract.lines.all(), 1)]
    summary = _("%(cls)s, classroom %(room)s, class teacher %(teacher)s. The class takes care of the items below "
                "for the term; whoever damages them is responsible for it (谁损坏谁负责).") % {
        "cls": contract.school_class, "room": contract.room or "—", "teacher": contract.class_teacher or "—"}
    try:
        pdf = render_table_pdf(
            title=_("Class property contract %(term)s") % {"term": contract.term}, school=str(contract.school),
            columns=columns, rows=rows, filter_summary=summary, landscape=False,
            signature_lines=[(_("Class teacher"), _("Date")), (_("Asset keeper"), _("Date"))])
    except PrintError as exc:
        messages.error(request, str(exc))
        return redirect(registry[ClassContract].detail_url(contract))
    return pdf_response(pdf, f"contract-{contract.pk}.pdf")


# Monthly checks ------------------------------------------------------------------------------------------------
class CheckForm(forms.ModelForm):
    """The check's own fields; ``counts`` carries the lines in the API (the page sends one field per line)."""

    counts = forms.JSONField(required=False, label=gettext_lazy("Counts per line"),
                             help_text=gettext_lazy('[{"line": id, "quantity_found": n, "damaged": n, "note": ""}]; '
                                                    "a line left out was found complete and undamaged."))

    class Meta:
        model = ContractCheck
        fields = ["contract", "checked_on", "note"]

    def __init__(self, *args, user=None, entity=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.entity = entity
        contracts = ClassContract.objects.filter(status=ClassContract.Status.SIGNED)
        if user is not None:
            contracts = scope(contracts, user, "view")
        self.fields["contract"].queryset = contracts.select_related("school_class", "term")
        self.fields["checked_on"].widget = forms.DateInput(attrs={"type": "date", "class": "form-control"},
                                                           format="%Y-%m-%d")
        self.fields["checked_on"].initial = timezone.localdate()
        self.fields["contract"].widget.attrs["class"] = "form-select"
        self.fields["note"].widget.attrs["class"] = "form-control"

    def clean_counts(self):
        value = self.cleaned_data.get("counts")
        if value in (None, ""):
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValidationError(_("Give a list of lines."))
        return value


class CheckAddView(SwitchMixin, EntityCreateView):
    """月检查 on a phone: each contract line with its count and the damaged number; photos after saving."""

    template_name = TEMPLATES + "check_form.html"

    def render_form(self, form, instance, status=200):
        contract = None
        pk = as_key(self.request.POST.get("contract") or self.request.GET.get("contract"))
        if pk is not None:
            contract = scope(ClassContract.objects.filter(status=ClassContract.Status.SIGNED), self.request.user,
                             "view").select_related("school_class", "term", "room").filter(pk=pk).first()
        lines = []
        if contract is not None:
            post = self.request.POST
            for ln in contract.lines.all():
                lines.append({"line": ln, "found": post.get(f"found-{ln.pk}", ln.quantity),
                              "damaged": post.get(f"damaged-{ln.pk}", 0), "note": post.get(f"note-{ln.pk}", "")})
        return render(self.request, self.template_name, {
            **self.base_context(), "form": form, "contract": contract, "lines": lines,
            "title": _("Monthly check of %(contract)s") % {"contract": contract} if contract else _("Monthly check"),
            "cancel_url": registry[ClassContract].detail_url(contract) if contract else
            reverse("assets:classcontract_list")}, status=status)

    def get(self, request, *args, **kwargs):
        form = self.entity.form_class(initial={"contract": request.GET.get("contract")}, user=request.user,
                                      entity=self.entity)
        return self.render_form(form, None)

    def post(self, request, *args, **kwargs):
        data = request.POST.copy()
        if not data.get("counts"):
            counts = []
            for key, value in request.POST.items():
                if key.startswith("found-") and as_key(key[6:]) is not None:
                    pk = key[6:]
                    counts.append({"line": as_key(pk), "quantity_found": value,
                                   "damaged": request.POST.get(f"damaged-{pk}") or 0,
                                   "note": request.POST.get(f"note-{pk}", "")})
            data["counts"] = json.dumps(counts)
        request.POST = data
        return super().post(request, *args, **kwargs)


class CheckDetailView(EntityDetailView):
    """A check's lines; those short or damaged offer a damage record (谁损坏谁负责)."""

    template_name = TEMPLATES + "check_detail.html"

    def get_context(self, obj):
        context = super().get_context(obj)
        user = self.request.user
        can_record = (not obj.voided_at and user.has_perm("assets.add_damagerecord")
                      and services.may_act_for_class(user, obj.contract.school_class))
        recorded = {}
        for record in DamageRecord.objects.filter(check_line__contract_check=obj, voided_at__isnull=True):
            recorded.setdefault(record.check_line_id, []).append(record)
        entity = registry[DamageRecord]
        context["check_lines"] = [{
            "line": ln, "problem": bool(ln.shortfall or ln.damaged),
            "records": [(r.number, entity.detail_url(r)) for r in recorded.get(ln.pk, [])],
            "add_url": reverse("assets:damagerecord_add") + f"?check_line={ln.pk}"
            if can_record and (ln.shortfall or ln.damaged) else "",
        } for ln in obj.lines.select_related("line")]
        return context


# Damage records ------------------------------------------------------------------------------------------------
class DamageDetailView(EntityDetailView):
    def get_context(self, obj):
        context = super().get_context(obj)
        context["can_change"] = context["can_change"] and obj.status == DamageRecord.Status.RECORDED
        context["can_void"] = context["can_void"] and obj.status != DamageRecord.Status.COLLECTED
        return context


DAMAGE_FORM_FIELDS = ["what", "asset", "item", "check_line", "room", "happened_on", "responsible", "student",
                      "staff", "school_class", "description", "assessed_amount"]


class DamageForm(forms.models.modelform_factory(DamageRecord, form=EntityForm, fields=DAMAGE_FORM_FIELDS)):
    """The generated form, with the check line it comes from as a hidden field: the thing, place, class and
    date are filled in from it (谁损坏谁负责), so a class teacher only says who did it and what it costs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("check_line")
        if field is None:
            return
        field.queryset = ContractCheckLine.objects.filter(
            contract_check__school_id=getattr(self.user, "school_id", None),
            contract_check__voided_at__isnull=True).select_related("line", "contract_check__contract")
        field.widget = forms.HiddenInput()
        ref = (self.data or {}).get("check_line") or (self.initial or {}).get("check_line")
        if not ref:
            del self.fields["check_line"]  # a record written on its own (a window broken in a corridor)
            return
        line = field.queryset.filter(pk=as_key(ref)).first() if as_key(ref) is not None else None
        if line is not None:  # else the field refuses the value: "select a valid choice"
            field.help_text = f"{line.contract_check} · {line.line.name}"
            contract = line.contract_check.contract
            self.fields["what"].required = False
            for name, value in (("what", line.line.name), ("room", contract.room_id),
                                ("school_class", contract.school_class_id),
                                ("happened_on", line.contract_check.checked_on),
                                ("item", line.line.item_id), ("asset", line.line.asset_id)):
                if value and not self.initial.get(name):
                    self.initial[name] = value


def damage_actions(record: DamageRecord, user) -> list[dict]:
    if record.voided_at or record.school_id != user.school_id:
        return []
    actions = []
    if record.status == DamageRecord.Status.RECORDED and user.has_perm("assets.decide_damagerecord"):
        actions.append({"label": _("Decide"), "url": reverse("assets:damage_decide", args=[record.pk]),
                        "method": "get", "style": "primary"})
    if record.status in (DamageRecord.Status.DECIDED, DamageRecord.Status.CHARGED) and user.has_perm(
            "assets.collect_damagerecord"):
        actions.append({"label": _("Record collection"), "url": reverse("assets:damage_collect", args=[record.pk]),
                        "method": "get", "style": "primary"})
    return actions


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=DamageRecord.Decision.choices)
    amount = forms.DecimalField(label=gettext_lazy("Reduced amount"), max_digits=12, decimal_places=2,
                                required=False, min_value=Decimal("0"),
                                help_text=gettext_lazy("Only for a reduced compensation."))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False,
                             help_text=gettext_lazy("Required when the compensation is reduced or waived."))


class CollectForm(forms.Form):
    amount = forms.DecimalField(label=gettext_lazy("Amount received"), max_digits=12, decimal_places=2,
                                min_value=Decimal("0.01"))
    receipt_no = forms.CharField(label=gettext_lazy("Receipt number"), max_length=40)
    collected_on = forms.DateField(label=gettext_lazy("Collected on"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False,
                           help_text=gettext_lazy("Required when less than the decided amount is received."))


def _style(form) -> None:
    for field in form.fields.values():
        if isinstance(field.widget, forms.RadioSelect | forms.CheckboxInput):
            continue
        field.widget.attrs.setdefault("class", "form-select" if isinstance(field.widget, forms.Select)
                                      else "form-control")


def _damage(request, pk) -> DamageRecord:
    return get_object_or_404(scope(DamageRecord.objects.all(), request.user, "view"), pk=pk)


@login_required
def damage_decide(request, pk):
    """认定 the compensation: in full, reduced (amount and reason) or waived (reason)."""
    record = _damage(request, pk)
    require_perm(request.user, "assets.decide_damagerecord")
    form = DecideForm(request.POST or None, initial={"decision": DamageRecord.Decision.FULL})
    _style(form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.damage_decide(record=record, decision=data["decision"], amount=data.get("amount"),
                                   reason=data.get("reason", ""), actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Decided."))
            return redirect(registry[DamageRecord].detail_url(record))
    return render(request, TEMPLATES + "form.html", {
        "title": _("Decide %(record)s") % {"record": record}, "form": form, "obj": record,
        "intro": _("Assessed amount: ¥%(amount)s") % {"amount": format_value(record.assessed_amount)},
        "cancel_url": registry[DamageRecord].detail_url(record)}, status=400 if form.errors else 200)


@login_required
def damage_collect(request, pk):
    """收取 the compensation with the receipt number (never above the decided amount)."""
    record = _damage(request, pk)
    require_perm(request.user, "assets.collect_damagerecord")
    form = CollectForm(request.POST or None, initial={"amount": record.decided_amount,
                                                      "collected_on": timezone.localdate()})
    _style(form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.damage_collect(record=record, amount=data["amount"], receipt_no=data["receipt_no"],
                                    collected_on=data.get("collected_on"), note=data.get("note", ""),
                                    actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Collection recorded."))
            return redirect(registry[DamageRecord].detail_url(record))
    return render(request, TEMPLATES + "form.html", {
        "title": _("Collect %(record)s") % {"record": record}, "form": form, "obj": record,
        "intro": _("Decided amount: ¥%(amount)s") % {"amount": format_value(record.decided_amount)},
        "cancel_url": registry[DamageRecord].detail_url(record)}, status=400 if form.errors else 200)


# Roll-up per class teacher -------------------------------------------------------------------------------------
def _rollup_term(request):
    from houqin.org.models import Term

    school = request.user.school
    pk = as_key(request.GET.get("term"))
    term = Term.objects.filter(school=school, pk=pk).first() if pk is not None else None
    return term or services.current_term(school)


def _rollup_rows(request, term):
    require_perm(request.user, "assets.view_classcontract")
    if term is None:
        return []
    return services.contracting_rollup(school=request.user.school, term=term, user=request.user)


ROLLUP_COLUMNS = [("school_class", gettext_lazy("Class"), "text"), ("teacher", gettext_lazy("Class teacher"), "text"),
                  ("room", gettext_lazy("Classroom"), "text"), ("status", gettext_lazy("Contract"), "text"),
                  ("items", gettext_lazy("Items contracted"), "int"), ("checks", gettext_lazy("Checks done"), "int"),
                  ("checks_due", gettext_lazy("Checks due"), "int"), ("shortfall", gettext_lazy("Items short"), "int"),
                  ("damaged", gettext_lazy("Items damaged"), "int"),
                  ("damage_count", gettext_lazy("Damage records"), "int"),
                  ("damage_amount", gettext_lazy("Compensation"), "decimal"),
                  ("score", gettext_lazy("Care score"), "int")]


def _cell(row, key):
    value = row[key]
    return "" if value is None else value if isinstance(value, int | Decimal) else str(value)


@contracting_page
def rollup(request):
    """Roll-up per class teacher for a term: contracts, checks, shortfalls, damage, care score (AST-6)."""
    from houqin.org.models import Term

    term = _rollup_term(request)
    rows = _rollup_rows(request, term)
    query = f"?term={term.pk}" if term else ""
    return render(request, TEMPLATES + "rollup.html", {
        "title": _("Class contracting roll-up"), "term": term, "rows": rows,
        "terms": Term.objects.filter(school=request.user.school).order_by("-start_on"),
        "columns": ROLLUP_COLUMNS, "query": query,
        "formula": _("Care score = 100 − %(short)s per item short − %(damaged)s per item damaged, summed over the "
                     "term's monthly checks, never below 0.") % {"short": services.SHORT_POINTS,
                                                                 "damaged": services.DAMAGED_POINTS},
        "can_start": services.is_manager(request.user) and request.user.has_perm("assets.add_classcontract"),
        "can_switch": request.user.has_perm("assets.change_assetsettings"),
    })


@contracting_page
def rollup_export(request):
    from houqin.core import excel

    term = _rollup_term(request)
    rows = _rollup_rows(request, term)
    columns = [excel.Column(key=k, header=str(h), kind=kind) for k, h, kind in ROLLUP_COLUMNS]
    title_lines = [f"{request.user.school} {_('Class contracting roll-up')} {term or ''}".strip(),
                   str(_("Care score = 100 − %(short)s per item short − %(damaged)s per item damaged, "
                         "summed over the term's monthly checks, never below 0.") % {
                       "short": services.SHORT_POINTS, "damaged": services.DAMAGED_POINTS})]
    return xlsx_response(lambda out: excel.write_xlsx(
        out, columns=columns, rows=([_cell(r, k) for k, _h, _kind in ROLLUP_COLUMNS] for r in rows),
        sheet_title=str(_("Class contracting roll-up")), title_lines=title_lines),
        f"{_('Class contracting roll-up')}-{term or ''}.xlsx")


@contracting_page
def rollup_print(request):
    from houqin.core.printing import PrintColumn, PrintError, render_table_pdf

    term = _rollup_term(request)
    rows = _rollup_rows(request, term)
    columns = [PrintColumn(str(h), "right" if kind in ("int", "decimal") else "left",
                           1.6 if k == "school_class" else 1.0) for k, h, kind in ROLLUP_COLUMNS]
    printed = [[format_value(_cell(r, k)) if kind == "decimal" else str(_cell(r, k)) for k, _h, kind in
                ROLLUP_COLUMNS] for r in rows]
    try:
        pdf = render_table_pdf(
            title=_("Class contracting roll-up %(term)s") % {"term": term or ""}, school=str(request.user.school),
            columns=columns, rows=printed, landscape=True,
            filter_summary=_("Care score = 100 − %(short)s per item short − %(damaged)s per item damaged, summed "
                             "over the term's monthly checks, never below 0.") % {
                "short": services.SHORT_POINTS, "damaged": services.DAMAGED_POINTS})
    except PrintError as exc:
        messages.error(request, str(exc))
        return redirect("assets:contracting_rollup")
    return pdf_response(pdf, "contracting-rollup.pdf")


# Dashboard widget (PUB-2) --------------------------------------------------------------------------------------
def widget(request) -> dict | None:
    """This month's checks not yet done (contracting on) and compensations awaiting collection."""
    user = request.user
    school = getattr(user, "school", None)
    if school is None:
        return None
    data = {"links": {}}
    if user.has_perm("assets.view_classcontract") and services.contracting_enabled(school):
        missing = services.checks_missing_this_month(school, user=user)
        data["checks_missing"] = missing.count()
        data["links"]["checks"] = reverse("assets:classcontract_list") + "?status=signed"
        if data["checks_missing"] == 1 and not services.is_manager(user):
            only = missing.first()
            data["links"]["checks"] = reverse("assets:contractcheck_add") + f"?contract={only.pk}"
    if user.has_perm("assets.view_damagerecord"):
        waiting = services.damages_awaiting_collection(school, user=user)
        row = waiting.aggregate(n=Count("id"), amount=MoneySum("decided_amount", default=None))
        data["damages"] = row["n"]
        data["damage_amount"] = format_value(row["amount"] or Decimal("0.00"))
        data["links"]["damages"] = reverse("assets:damagerecord_list") + "?status=decided"
    if not data.get("checks_missing") and not data.get("damages"):
        return None
    return data


# API actions ---------------------------------------------------------------------------------------------------
class StartTermSerializer(serializers.Serializer):
    term = serializers.IntegerField(help_text="id of the term")


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DamageRecord.Decision.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CollectSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    receipt_no = serializers.CharField(max_length=40)
    collected_on = serializers.DateField(required=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


def with_contract_api(base):
    """POST /api/assets/contracts/start-term/ {"term": id}; GET /api/assets/contracts/rollup/?term=id."""

    @action(detail=False, methods=["post"], url_path="start-term", serializer_class=StartTermSerializer)
    def start_term_api(self, request):
        """Term start: draft contracts for every class with a classroom (idempotent)."""
        from houqin.org.models import Term

        if not request.user.has_perm("assets.add_classcontract") or not services.is_manager(request.user):
            raise exceptions.PermissionDenied()
        payload = StartTermSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        term = Term.objects.filter(pk=payload.validated_data["term"], school_id=request.user.school_id).first()
        if term is None:
            raise exceptions.ValidationError({"term": [_("Choose a term of this school.")]})
        result = services.contracting_start_term(school=request.user.school, term=term, actor=request.user)
        return Response(result)

    @action(detail=False, methods=["get"], url_path="rollup")
    def rollup_api(self, request):
        """The roll-up per class teacher for ?term=id (default: the current term)."""
        term = _rollup_term(request)
        rows = _rollup_rows(request, term)
        return Response({"term": term.pk if term else None, "rows": [{
            "contract": r["contract"].pk, "school_class": str(r["school_class"]),
            "teacher": str(r["teacher"] or ""), "items": r["items"], "checks": r["checks"],
            "checks_due": r["checks_due"], "shortfall": r["shortfall"], "damaged": r["damaged"],
            "damage_count": r["damage_count"], "damage_amount": str(r["damage_amount"]), "score": r["score"],
        } for r in rows]})

    return type(base.__name__, (base,), {"start_term_api": start_term_api, "rollup_api": rollup_api,
                                         "__module__": base.__module__, "__doc__": base.__doc__})


def with_damage_api(base):
    """POST /api/assets/damages/<id>/decide/ and /collect/: the decision and the collection of a damage record."""

    @action(detail=True, methods=["post"], url_path="decide", serializer_class=DecideSerializer)
    def decide(self, request, pk=None):
        """Decide: full, reduced (amount and reason) or waived (reason)."""
        record = self.get_object()
        if not request.user.has_perm("assets.decide_damagerecord"):
            raise exceptions.PermissionDenied()
        payload = DecideSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.damage_decide(record=record, decision=data["decision"], amount=data.get("amount"),
                               reason=data.get("reason", ""), actor=request.user)
        return _answer(self, record)

    @action(detail=True, methods=["post"], url_path="collect", serializer_class=CollectSerializer)
    def collect(self, request, pk=None):
        """Record the collection (amount, receipt number, date); never above the decided amount."""
        record = self.get_object()
        if not request.user.has_perm("assets.collect_damagerecord"):
            raise exceptions.PermissionDenied()
        payload = CollectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.damage_collect(record=record, amount=data["amount"], receipt_no=data["receipt_no"],
                                collected_on=data.get("collected_on"), note=data.get("note", ""),
                                actor=request.user)
        return _answer(self, record)

    return type(base.__name__, (base,), {"decide": decide, "collect": collect, "__module__": base.__module__,
                                         "__doc__": base.__doc__})



URLS = [
    path("contracts/start/", start_term, name="contracting_start"),
    path("contracts/rollup/", rollup, name="contracting_rollup"),
    path("contracts/rollup/export/", rollup_export, name="contracting_rollup_export"),
    path("contracts/rollup/print/", rollup_print, name="contracting_rollup_print"),
    path("contracts/switch/", switch, name="contracting_switch"),
    path("contracts/<int:pk>/lines/", contract_lines, name="contract_lines"),
    path("contracts/<int:pk>/print/", contract_print, name="contract_print"),
    path("damages/<int:pk>/decide/", damage_decide, name="damage_decide"),
    path("damages/<int:pk>/collect/", damage_collect, name="damage_collect"),
]
