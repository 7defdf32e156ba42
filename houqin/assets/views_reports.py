"""The asset report pages (AST-1, AST-10, AST-12): 固定资产总账, 实训设备 value, 生均教学仪器设备值 and the
财政 export — each a page with its filters, an Excel file (numbers as numbers, through ``core.excel``) and
an A4 PDF (Typst with the Noto CJK fonts, ``typst/reports_table.typ``) with the signature lines; ``format=json``
gives the same figures to programs (money as exact strings).

Permissions, checked here on the server: the reports need ``REPORTS_PERM`` (granted in
``entities_reports.register`` to the asset keeper, the logistics director, the accountant, the principal, the
vice principal and the bureau); loading the default export layout needs the right to change the layout
(asset keeper, logistics director). A school's own people see their school; the bureau (cross-school) picks
the school. The 明细账 by place and custodian is the print centre's ledger (``views_print.ledger``): linked,
not repeated.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from houqin.core import excel
from houqin.core.permissions import is_cross_school, require_perm
from houqin.core.printing import PrintError
from houqin.core.responses import pdf_response, stamp, xlsx_response
from houqin.org.models import School

from . import fiscal_export, printing, reports
from .choices import AccountingClass
from .models import FiscalExportColumn

# Who may see the reports: the permission to view the 财政 export layout is given to exactly the roles that
# read the asset reports (entities_reports.register), so one permission guards both.
REPORTS_PERM = "assets.view_fiscalexportcolumn"
LAYOUT_PERM = "assets.change_fiscalexportcolumn"
MAX_PRINT_ROWS = 2000  # grouped rows in one PDF (the full-code ledger of a large school stays far below)


def _signatures() -> list[str]:
    # The people who sign the asset books (domain-rules.md §2.5: 账账相符 between the asset office and finance).
    return [_("Asset keeper"), _("Accountant"), _("Director of logistics"), _("Date")]


# Filters --------------------------------------------------------------------------------------------------------


class SchoolMixin(forms.Form):
    """The bureau reads across schools and picks one; a school's own staff always see their own."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is not None and is_cross_school(user):
            self.fields["school"] = forms.ModelChoiceField(
                label=_("School"), queryset=School.objects.order_by("code"), required=False,
                empty_label=None, widget=forms.Select(attrs={"class": "form-select"}))
        for f in self.fields.values():
            if isinstance(f.widget, forms.Select | forms.NumberInput | forms.TextInput | forms.DateInput):
                f.widget.attrs.setdefault("class", "form-select" if isinstance(f.widget, forms.Select)
                                          else "form-control")

    def school(self):
        if "school" in self.fields:
            chosen = self.cleaned_data.get("school") if self.is_valid() else None
            return chosen or School.objects.order_by("code").first()
        return self.user.school


def _year_choices():
    this = timezone.localdate().year
    return [(y, str(y)) for y in range(this + 1, this - 15, -1)]


class LedgerFilter(SchoolMixin):
    PERIODS = (("year", gettext_lazy("Year")), ("quarter", gettext_lazy("Quarter")),
               ("month", gettext_lazy("Month")))

    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=PERIODS, initial="year", required=False)
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100, required=False)
    quarter = forms.TypedChoiceField(label=gettext_lazy("Quarter"), coerce=int, required=False,
                                     choices=lambda: [(q, _("Quarter %(n)s") % {"n": q}) for q in range(1, 5)])
    month = forms.TypedChoiceField(label=gettext_lazy("Month"), coerce=int, required=False,
                                   choices=lambda: [(m, _("Month %(n)s") % {"n": m}) for m in range(1, 13)])
    dimension = forms.ChoiceField(label=gettext_lazy("Group by"), choices=list(reports.DIMENSIONS.items()),
                                  required=False)
    booked = forms.BooleanField(label=gettext_lazy("Only cards booked by finance"), required=False)

    def range(self) -> reports.Range:
        data = self.cleaned_data if self.is_valid() else {}
        today = timezone.localdate()
        year = data.get("year") or today.year
        period = data.get("period") or "year"
        if period == "quarter":
            return reports.quarter_range(year, data.get("quarter") or (today.month - 1) // 3 + 1)
        if period == "month":
            return reports.month_range(year, data.get("month") or today.month)
        return reports.year_range(year)

    def clean(self):
        data = super().clean()
        if data.get("period") == "quarter" and not data.get("quarter"):
            self.add_error("quarter", _("Choose the quarter."))
        if data.get("period") == "month" and not data.get("month"):
            self.add_error("month", _("Choose the month."))
        return data


def _class_choices():
    return list(AccountingClass.choices)


class DayFilter(SchoolMixin):
    day = forms.DateField(label=gettext_lazy("As at"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    classes = forms.MultipleChoiceField(label=gettext_lazy("Accounting classes counted"), required=False,
                                        choices=_class_choices, widget=forms.CheckboxSelectMultiple)

    def clean_day(self):
        day = self.cleaned_data.get("day")
        if day and day > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return day

    def day_value(self) -> datetime.date:
        return (self.cleaned_data.get("day") if self.is_valid() else None) or timezone.localdate()

    def classes_value(self) -> tuple:
        chosen = self.cleaned_data.get("classes") if self.is_valid() else None
        return tuple(chosen) if chosen else tuple(c.value for c in reports.DEFAULT_EQUIPMENT_CLASSES)


class PerStudentFilter(DayFilter):
    categories = forms.CharField(
        label=gettext_lazy("Only categories starting with"), required=False, max_length=200,
        help_text=gettext_lazy("GB/T 14885 code prefixes separated by spaces or commas, e.g. A0201 A0203; "
                               "empty: every category of the classes chosen."))
    students = forms.IntegerField(
        label=gettext_lazy("Students (override)"), required=False, min_value=1, max_value=1_000_000,
        help_text=gettext_lazy("Empty: the students enrolled now. Enter the figure of the statistical report "
                               "when it differs."))

    def clean_categories(self):
        raw = self.cleaned_data.get("categories") or ""
        prefixes = [p for p in raw.replace("，", " ").replace(",", " ").split() if p]
        bad = [p for p in prefixes if not p.isalnum() or len(p) > 20]
        if bad:
            raise ValidationError(_("“%(code)s” is not a category code prefix.") % {"code": bad[0][:20]})
        return tuple(prefixes)


def _bound(form_class, request):
    """The filter form, always bound (every field is optional), with the defaults shown where the query has
    nothing, so the page, the Excel file and the PDF read the same values."""
    today = timezone.localdate()
    defaults = {"period": "year", "year": str(today.year), "dimension": reports.DEFAULT_DIMENSION}
    data = request.GET.copy()
    for name, value in defaults.items():
        if name in form_class.base_fields and not data.get(name):
            data[name] = value
    if "classes" in form_class.base_fields and not data.getlist("classes"):
        data.setlist("classes", [c.value for c in reports.DEFAULT_EQUIPMENT_CLASSES])
    return form_class(data, user=request.user)


def _require_reports(request):
    user = request.user
    require_perm(user, REPORTS_PERM)
    if not user.school_id and not is_cross_school(user):
        raise PermissionDenied(_("Asset reports are made for one school: this account belongs to none."))


def _printed() -> str:
    return printing._printed()[1]


def _render_pdf(*, title: str, school: str, subtitle_lines: list[str], sections: list[dict], summary=(),
                landscape: bool = True) -> bytes:
    rows = sum(len(s["rows"]) for s in sections)
    if rows > MAX_PRINT_ROWS:
        raise PrintError(_("Too many rows to print (at most %(max)s): narrow the filter or export to Excel.")
                         % {"max": MAX_PRINT_ROWS})
    data = {
        **printing._lang(),
        "title": title,
        "school": printing._t(school),
        "subtitle_lines": [printing._t(line) for line in subtitle_lines if line],
        "printed_at": _printed(),
        "page_label": printing._page_label(),
        "unit_note": _("Amounts in yuan (¥)."),
        "landscape": landscape,
        "summary": [[printing._t(k), printing._t(v)] for k, v in summary],
        "sections": sections,
        "signatures": _signatures(),
    }
    return printing._render("reports_table.typ", data, timezone.now())


def _section(heading: str, columns: list[tuple[str, str, float]], rows: list[tuple[list, bool]], note: str = ""):
    return {"heading": heading, "note": note,
            "columns": [{"header": str(h), "align": a, "weight": w} for h, a, w in columns],
            "rows": [{"cells": [printing._t(c) for c in cells], "bold": bold} for cells, bold in rows]}


def _money(value) -> str:
    return printing.money(value)


def _output(request) -> str:
    kind = request.GET.get("format") or "html"
    if kind not in ("html", "xlsx", "pdf", "json"):
        kind = "html"
    return kind


def _keep_query(request) -> str:
    query = request.GET.copy()
    query.pop("format", None)
    return query.urlencode()


# 固定资产总账 ---------------------------------------------------------------------------------------------------------


def ledger_title() -> str:
    return _("Fixed assets general ledger")


def _ledger_headers(ledger: reports.Ledger) -> list[str]:
    return [str(reports.DIMENSIONS[ledger.dimension]), _("Cards"), *(str(reports.LEDGER_HEADERS[f])
                                                                      for f in ledger.figures)]


def _ledger_subtitle(ledger: reports.Ledger) -> list[str]:
    lines = [_("Period: %(range)s (%(start)s – %(end)s); grouped by %(dimension)s") % {
        "range": ledger.range.label(), "start": ledger.range.start.isoformat(), "end": ledger.range.end.isoformat(),
        "dimension": reports.DIMENSIONS[ledger.dimension]}]
    if ledger.booked_only:
        lines.append(_("Only cards booked by finance by the end of the period."))
    lent = ledger.partner_lent
    if lent["cards"]:
        lines.append(_("Not on the books: %(cards)s cards lent by partner companies, ¥%(value)s.") % {
            "cards": lent["cards"], "value": _money(lent["value"])})
    return lines


@login_required
@require_GET
def ledger(request):
    """固定资产总账 (AST-1): opening, increases, decreases, depreciation and closing by the dimension chosen."""
    _require_reports(request)
    form = _bound(LedgerFilter, request)
    school = form.school()
    period = form.range()
    dimension = (form.cleaned_data.get("dimension") if form.is_valid() else None) or reports.DEFAULT_DIMENSION
    booked = bool(form.cleaned_data.get("booked")) if form.is_valid() else False
    report = reports.general_ledger(school.pk, period, dimension, booked_only=booked)
    kind = _output(request)
    title = ledger_title()
    if kind == "xlsx":
        return xlsx_response(lambda out: write_ledger_xlsx(out, report, school=str(school)),
                              f"{title}-{stamp()}.xlsx")
    if kind == "pdf":
        try:
            return pdf_response(render_ledger_pdf(report, school=str(school)), f"general-ledger-{stamp()}.pdf")
        except PrintError as exc:
            messages.error(request, str(exc))
            return redirect(f"{reverse('assets:report_ledger')}?{_keep_query(request)}")
    if kind == "json":
        if not form.is_valid():
            return JsonResponse({"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}}, status=400)
        return JsonResponse(ledger_json(report, school))
    rows = [{"label": r.label, "cards": r.cards, "values": [r.figures[f] for f in report.figures]}
            for r in report.rows]
    context = {
        "title": title, "form": form, "school": school, "report": report, "rows": rows,
        "headers": _ledger_headers(report),
        "total": [report.total.figures[f] for f in report.figures],
        "subtitle": _ledger_subtitle(report), "query": _keep_query(request),
        "detail_ledger_url": reverse("assets:print_center"),
        "can_detail_ledger": request.user.has_perm("assets.view_asset") and bool(request.user.school_id),
    }
    return render(request, "assets/reports/ledger.html", context)


def _money_json(value) -> str | None:
    """Money in JSON as an exact string ("1234.50"), never a float."""
    return None if value is None else f"{value:.2f}"


def ledger_json(report: reports.Ledger, school) -> dict:
    def row(r):
        return {"key": r.key, "label": r.label, "cards": r.cards,
                **{f: _money_json(r.figures[f]) for f in reports.LEDGER_FIGURES}}

    return {"school": school.pk, "start": report.range.start.isoformat(), "end": report.range.end.isoformat(),
            "dimension": report.dimension, "booked_only": report.booked_only,
            "rows": [row(r) for r in report.rows], "total": row(report.total),
            "partner_lent": {"cards": report.partner_lent["cards"],
                             "value": _money_json(report.partner_lent["value"])}}


def _balance_json(b: reports.Balance) -> dict:
    return {"key": b.key, "label": b.label, "cards": b.cards, "original_value": _money_json(b.original_value),
            "depreciation": _money_json(b.depreciation), "net_value": _money_json(b.net_value)}


def _ledger_table(report: reports.Ledger, fmt) -> list[tuple[list, bool]]:
    rows = [([r.label, str(r.cards), *(fmt(r.figures[f]) for f in report.figures)], False) for r in report.rows]
    rows.append(([report.total.label, str(report.total.cards),
                  *(fmt(report.total.figures[f]) for f in report.figures)], True))
    return rows


def render_ledger_pdf(report: reports.Ledger, *, school: str) -> bytes:
    """A4 landscape: title, school, range, the table with its total row, signature lines."""
    headers = _ledger_headers(report)
    columns = [(headers[0], "left", 1.8), (headers[1], "right", 0.6), *((h, "right", 1.15) for h in headers[2:])]
    return _render_pdf(title=ledger_title(), school=school, subtitle_lines=_ledger_subtitle(report),
                       sections=[_section("", columns, _ledger_table(report, _money))])


def write_ledger_xlsx(out, report: reports.Ledger, *, school: str) -> int:
    headers = _ledger_headers(report)
    columns = [excel.Column(key="label", header=headers[0], kind="text"),
               excel.Column(key="cards", header=headers[1], kind="int"),
               *(excel.Column(key=f, header=h, kind="decimal") for f, h in zip(report.figures, headers[2:],
                                                                                strict=True))]

    def rows():
        for r in report.rows:
            yield [r.label, r.cards, *(r.figures[f] for f in report.figures)]
        yield [report.total.label, report.total.cards, *(report.total.figures[f] for f in report.figures)]

    return excel.write_xlsx(out, columns=columns, rows=rows(), sheet_title=ledger_title(),
                            title_lines=[f"{school} {ledger_title()}", *_ledger_subtitle(report), _printed()])


# 实训设备 (AST-12) ---------------------------------------------------------------------------------------------------


def training_title() -> str:
    return _("Training equipment value")


def _classes_text(classes) -> str:
    labels = dict(AccountingClass.choices)
    return "、".join(str(labels.get(c, c)) for c in classes)


def _training_subtitle(report: reports.TrainingReport) -> list[str]:
    return [_("As at %(day)s; accounting classes: %(classes)s") % {"day": report.day.isoformat(),
                                                                    "classes": _classes_text(report.classes)}]


def _department_headers():
    return [_("Major department"), _("Cards"), _("Original value"), _("Accumulated depreciation"), _("Net value"),
            _("Lent by partners: cards"), _("Lent by partners: value")]


def _project_headers():
    return [_("Funding project"), _("Cards"), _("Original value"), _("Accumulated depreciation"), _("Net value")]


def _department_rows(report, fmt):
    items = [*report.by_department, {"label": _("Total"), **report.department_total}]
    out = []
    for i, r in enumerate(items):
        own, lent = r["own"], r["lent"]
        out.append(([r["label"], own.cards, fmt(own.original_value), fmt(own.depreciation), fmt(own.net_value),
                     lent.cards, fmt(lent.original_value)], i == len(items) - 1))
    return out


def _project_rows(report, fmt):
    items = [*report.by_project, report.project_total]
    return [([b.label, b.cards, fmt(b.original_value), fmt(b.depreciation), fmt(b.net_value)], i == len(items) - 1)
            for i, b in enumerate(items)]


@login_required
@require_GET
def training(request):
    """实训设备 value by 专业部 and by 专项资金 project (AST-12), with the partner-lent equipment beside it."""
    _require_reports(request)
    form = _bound(DayFilter, request)
    school = form.school()
    report = reports.training_equipment(school.pk, form.day_value(), form.classes_value())
    kind = _output(request)
    title = training_title()
    if kind == "xlsx":
        return xlsx_response(lambda out: write_training_xlsx(out, report, school=str(school)),
                              f"{title}-{stamp()}.xlsx")
    if kind == "pdf":
        try:
            return pdf_response(render_training_pdf(report, school=str(school)), f"training-equipment-{stamp()}.pdf")
        except PrintError as exc:
            messages.error(request, str(exc))
            return redirect(f"{reverse('assets:report_training')}?{_keep_query(request)}")
    if kind == "json":
        if not form.is_valid():
            return JsonResponse({"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}}, status=400)
        return JsonResponse({
            "school": school.pk, "day": report.day.isoformat(), "classes": list(report.classes),
            "by_department": [{"key": r["key"], "label": r["label"], "own": _balance_json(r["own"]),
                               "partner_lent": _balance_json(r["lent"])} for r in report.by_department],
            "department_total": {"own": _balance_json(report.department_total["own"]),
                                 "partner_lent": _balance_json(report.department_total["lent"])},
            "by_project": [_balance_json(b) for b in report.by_project],
            "project_total": _balance_json(report.project_total)})
    context = {"title": title, "form": form, "school": school, "report": report,
               "subtitle": _training_subtitle(report), "query": _keep_query(request),
               "department_headers": _department_headers(), "project_headers": _project_headers()}
    return render(request, "assets/reports/training.html", context)


def render_training_pdf(report: reports.TrainingReport, *, school: str) -> bytes:
    dept_cols = list(zip(_department_headers(), ["left"] + ["right"] * 6, [1.8, 0.6, 1.1, 1.1, 1.1, 0.9, 1.1],
                         strict=True))
    proj_cols = list(zip(_project_headers(), ["left"] + ["right"] * 4, [2.2, 0.6, 1.1, 1.1, 1.1], strict=True))

    def text(rows):
        return [([str(c) for c in cells], bold) for cells, bold in rows]

    sections = [
        _section(_("By major department"), dept_cols, text(_department_rows(report, _money)),
                 note=_("Equipment lent by partner companies (校企合作) is tracked but not owned: it is not in the "
                        "values.")),
        _section(_("By funding project"), proj_cols, text(_project_rows(report, _money))),
    ]
    return _render_pdf(title=training_title(), school=school, subtitle_lines=_training_subtitle(report),
                       sections=sections)


def write_training_xlsx(out, report: reports.TrainingReport, *, school: str) -> int:
    headers = _department_headers()
    kinds = ["text", "int", "decimal", "decimal", "decimal", "int", "decimal"]
    columns = [excel.Column(key=str(i), header=h, kind=k) for i, (h, k) in enumerate(zip(headers, kinds,
                                                                                       strict=True))]

    def rows():
        yield from (cells for cells, _bold in _department_rows(report, lambda v: v))
        yield [None] * 7
        yield [*_project_headers(), None, None]
        for cells, _bold in _project_rows(report, lambda v: v):
            yield [*cells, None, None]

    return excel.write_xlsx(out, columns=columns, rows=rows(), sheet_title=training_title(),
                            title_lines=[f"{school} {training_title()}", *_training_subtitle(report), _printed()])


# 生均教学仪器设备值 ---------------------------------------------------------------------------------------------------


def per_student_title() -> str:
    return _("Teaching equipment value per student")


def _per_student_summary(report: reports.PerStudent) -> list[tuple[str, str]]:
    students = (_("%(n)s (entered; %(counted)s enrolled in Houqin)") % {"n": report.students,
                                                                          "counted": report.students_counted}
                if report.students_entered else _("%(n)s (enrolled)") % {"n": report.students})
    result = report.per_student
    return [
        (_("Teaching and practice equipment value (numerator)"), f"¥{_money(report.equipment.original_value)}"),
        (_("Students (denominator)"), students),
        (_("Value per student"), f"¥{_money(result)}" if result is not None else _("No students: cannot divide.")),
    ]


def _per_student_subtitle(report: reports.PerStudent) -> list[str]:
    lines = [_("As at %(day)s; accounting classes: %(classes)s") % {"day": report.day.isoformat(),
                                                                     "classes": _classes_text(report.classes)}]
    if report.categories:
        lines.append(_("Only categories starting with: %(codes)s") % {"codes": " ".join(report.categories)})
    lines.append(_("Owned cards present at the date, at original value (中职学校办学能力评估: 生均教学仪器设备值 = "
                   "教学、实习仪器设备资产值 ÷ 在校生数)."))
    return lines


def _class_headers():
    return [_("Accounting class"), _("Cards"), _("Original value"), _("Accumulated depreciation"), _("Net value")]


def _class_rows(report: reports.PerStudent, fmt):
    items = [*report.by_class, report.equipment]
    return [([b.label, b.cards, fmt(b.original_value), fmt(b.depreciation), fmt(b.net_value)], i == len(items) - 1)
            for i, b in enumerate(items)]


@login_required
@require_GET
def per_student(request):
    """生均教学仪器设备值 for the 中职 quality report: numerator, denominator and result."""
    _require_reports(request)
    form = _bound(PerStudentFilter, request)
    school = form.school()
    valid = form.is_valid()
    report = reports.per_student_value(
        school.pk, form.day_value(), classes=form.classes_value(),
        categories=form.cleaned_data.get("categories", ()) if valid else (),
        students=form.cleaned_data.get("students") if valid else None)
    kind = _output(request)
    title = per_student_title()
    if kind == "xlsx":
        return xlsx_response(lambda out: write_per_student_xlsx(out, report, school=str(school)),
                              f"{title}-{stamp()}.xlsx")
    if kind == "pdf":
        try:
            return pdf_response(render_per_student_pdf(report, school=str(school)), f"per-student-{stamp()}.pdf")
        except PrintError as exc:
            messages.error(request, str(exc))
            return redirect(f"{reverse('assets:report_per_student')}?{_keep_query(request)}")
    if kind == "json":
        if not form.is_valid():
            return JsonResponse({"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}}, status=400)
        return JsonResponse({
            "school": school.pk, "day": report.day.isoformat(), "classes": list(report.classes),
            "categories": list(report.categories), "by_class": [_balance_json(b) for b in report.by_class],
            "equipment_value": _money_json(report.equipment.original_value), "students": report.students,
            "students_enrolled": report.students_counted, "students_entered": report.students_entered,
            "per_student": _money_json(report.per_student)})
    context = {"title": title, "form": form, "school": school, "report": report,
               "summary": _per_student_summary(report), "subtitle": _per_student_subtitle(report),
               "headers": _class_headers(), "rows": _class_rows(report, lambda v: v), "query": _keep_query(request)}
    return render(request, "assets/reports/per_student.html", context)


def render_per_student_pdf(report: reports.PerStudent, *, school: str) -> bytes:
    cols = list(zip(_class_headers(), ["left"] + ["right"] * 4, [2.2, 0.6, 1.2, 1.2, 1.2], strict=True))
    rows = [([str(c) for c in cells], bold) for cells, bold in _class_rows(report, _money)]
    return _render_pdf(title=per_student_title(), school=school, subtitle_lines=_per_student_subtitle(report),
                       sections=[_section(_("Equipment counted"), cols, rows)],
                       summary=_per_student_summary(report), landscape=False)


def write_per_student_xlsx(out, report: reports.PerStudent, *, school: str) -> int:
    headers = _class_headers()
    kinds = ["text", "int", "decimal", "decimal", "decimal"]
    columns = [excel.Column(key=str(i), header=h, kind=k) for i, (h, k) in enumerate(zip(headers, kinds,
                                                                                       strict=True))]

    def rows():
        yield from (cells for cells, _bold in _class_rows(report, lambda v: v))
        yield [None] * 5
        yield [_("Teaching and practice equipment value (numerator)"), None, report.equipment.original_value,
               None, None]
        yield [_("Students (denominator)"), report.students, None, None, None]
        yield [_("Value per student"), None, report.per_student if report.per_student is not None else
               _("No students: cannot divide."), None, None]

    return excel.write_xlsx(out, columns=columns, rows=rows(), sheet_title=per_student_title(),
                            title_lines=[f"{school} {per_student_title()}", *_per_student_subtitle(report),
                                         _printed()])


# 财政 export (AST-10) ------------------------------------------------------------------------------------------------


class FiscalExportForm(SchoolMixin):
    booked = forms.BooleanField(label=gettext_lazy("Only cards booked by finance"), required=False)
    month = forms.CharField(label=gettext_lazy("Only cards changed in month"), required=False, max_length=7,
                            help_text=gettext_lazy("As YYYY-MM, e.g. 2026-03; empty: every card."),
                            widget=forms.TextInput(attrs={"placeholder": "2026-03", "inputmode": "numeric"}))

    def clean_month(self):
        raw = (self.cleaned_data.get("month") or "").strip()
        if not raw:
            return None
        try:
            year, month = (int(p) for p in raw.split("-"))
            datetime.date(year, month, 1)
        except ValueError:
            raise ValidationError(_("Write the month as YYYY-MM, e.g. 2026-03.")) from None
        return (year, month)


@login_required
def fiscal_export_page(request):
    """The 财政 export: the school's column layout (edited in its list), the default layout, the download."""
    _require_reports(request)
    user = request.user
    if request.method == "POST":
        if not user.has_perm(LAYOUT_PERM) or not user.school_id:
            raise PermissionDenied
        if request.POST.get("what") != "load_default":
            return HttpResponse(status=400)
        if FiscalExportColumn.objects.filter(school_id=user.school_id).exists() and not request.POST.get("replace"):
            messages.error(request, _("The school already has a layout: tick “Replace the current columns” to load "
                                      "the default one instead."))
            return redirect("assets:report_fiscal_export")
        count = fiscal_export.load_default_layout(school=user.school, actor=user)
        messages.success(request, _("The default layout is loaded: %(n)s columns.") % {"n": count})
        return redirect("assets:report_fiscal_export")
    form = _bound(FiscalExportForm, request)
    school = form.school()
    if _output(request) == "xlsx":
        if not form.is_valid():
            messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
            return redirect(f"{reverse('assets:report_fiscal_export')}?{_keep_query(request)}")
        try:
            columns = fiscal_export.layout(school.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(f"{reverse('assets:report_fiscal_export')}?{_keep_query(request)}")
        del columns
        name = _("Fiscal asset export")
        return xlsx_response(lambda out: fiscal_export.write(
            out, school.pk, booked_only=bool(form.cleaned_data.get("booked")), month=form.cleaned_data.get("month"),
            title=name), f"{name}-{school.code}-{stamp()}.xlsx")
    columns = list(FiscalExportColumn.objects.filter(school=school).order_by("position"))
    problems = []
    try:
        if columns:
            fiscal_export.layout(school.pk)
    except ValidationError as exc:
        problems = exc.messages
    valid = form.is_valid()
    count = fiscal_export.cards(school.pk, booked_only=bool(valid and form.cleaned_data.get("booked")),
                                month=form.cleaned_data.get("month") if valid else None).count()
    context = {
        "title": _("Export for the fiscal asset system"), "form": form, "school": school,
        "columns": [{"position": c.position, "header": c.header, "field": c.field,
                     "label": fiscal_export.field_label(c.field), "known": c.field in fiscal_export.FIELDS}
                    for c in columns],
        "problems": problems, "count": count, "query": _keep_query(request),
        "can_edit": user.has_perm(LAYOUT_PERM) and bool(user.school_id) and user.school_id == school.pk,
        "columns_url": reverse("assets:fiscalexportcolumn_list"),
        "fields": [{"code": f.code, "label": f.label, "help": f.help} for f in fiscal_export.FIELDS.values()],
    }
    return render(request, "assets/reports/fiscal_export.html", context)


__all__ = ["fiscal_export_page", "ledger", "per_student", "training"]
