"""The monthly close pages (AST-7, AST-9, AST-10): a month's page walks the five steps as schools do them.

1. 计提折旧 (asset keeper) → the 折旧计提表 (page, Excel, A4 PDF);
2. the accountant enters the 凭证号 of the depreciation booked in the finance software;
3. the finance ledger's balances (科目余额表): typed, or read from its Excel;
4. the 对账表: every difference explained;
5. both sides sign, the asset side closes the month.
Cards 待入账 get their 凭证号 and 入账日期 on the booking page. Every write is a ``services.closing`` call.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from houqin.core import excel, printing
from houqin.core.ids import as_key
from houqin.core.permissions import require_perm, scope
from houqin.core.responses import pdf_response, xlsx_response
from houqin.core.views_entity import EntityDetailView

from .choices import LEDGER_CLASSES, FundingSource
from .models import AccountingPeriod, Asset
from .services import closing

RUN_PERM = "assets.add_depreciationrun"
BOOK_PERM = "assets.book_asset"
CLOSE_PERM = "assets.close_accountingperiod"
FINANCE_PERM = "assets.sign_finance"
VIEW_PERM = "assets.view_accountingperiod"

CLASSES = dict(LEDGER_CLASSES)
SOURCES = dict(FundingSource.choices)


def _period(request, pk) -> AccountingPeriod:
    require_perm(request.user, VIEW_PERM)
    return get_object_or_404(scope(AccountingPeriod.objects.all(), request.user, "view"), pk=pk)


def _back(period: AccountingPeriod, anchor: str = ""):
    return redirect(reverse("assets:accountingperiod", args=[period.pk]) + (f"#{anchor}" if anchor else ""))


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _school_name(user) -> str:
    return user.school.name if getattr(user, "school_id", None) else ""


def money(value) -> str:
    return f"{(value or Decimal('0')):,.2f}"


# Forms --------------------------------------------------------------------------------------------------------------
class VoucherForm(forms.Form):
    voucher_no = forms.CharField(label=gettext_lazy("Voucher number"), max_length=40)
    booked_on = forms.DateField(label=gettext_lazy("Booked on"),
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class RerunForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for depreciating again"), max_length=200, required=False)


class BalanceImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("科目余额表 (Excel)"))


# The month's page ---------------------------------------------------------------------------------------------------
class PeriodDetailView(EntityDetailView):
    template_name = "assets/closing/period.html"

    def panels(self, obj):
        return []  # the five steps show everything the month holds

    def get_context(self, obj) -> dict:
        context = super().get_context(obj)
        user = self.request.user
        stmt = closing.statement(obj)
        run = closing.active_run(obj)
        voided = list(obj.runs.filter(voided_at__isnull=False).select_related("run_by")[:10])
        problems = closing.close_problems(obj, stmt)
        is_open = obj.status == AccountingPeriod.Status.OPEN
        keys = [(ln.accounting_class, ln.funding_source) for ln in stmt.lines]
        balance_rows = [{"key": f"{k[0]}|{k[1]}", "class_label": CLASSES.get(k[0], k[0]),
                         "source_label": SOURCES.get(k[1], k[1]), "line": ln}
                        for k, ln in zip(keys, stmt.lines, strict=True)]
        context.update({
            "period": obj, "stmt": stmt, "run": run, "voided_runs": voided, "problems": problems,
            "is_open": is_open, "balance_rows": balance_rows,
            "signed_current": closing.signatures_current(obj, stmt),
            "can_run": is_open and user.has_perm(RUN_PERM),
            "can_book": is_open and user.has_perm(BOOK_PERM),
            "can_explain": is_open and (user.has_perm(CLOSE_PERM) or user.has_perm(FINANCE_PERM)),
            "can_sign_keeper": is_open and user.has_perm(CLOSE_PERM),
            "can_sign_finance": is_open and user.has_perm(FINANCE_PERM),
            "can_close": is_open and user.has_perm(CLOSE_PERM),
            "voucher_form": VoucherForm(initial={"voucher_no": obj.depreciation_voucher_no,
                                                 "booked_on": obj.depreciation_booked_on or timezone.localdate()}),
            "rerun_form": RerunForm(),
            "import_form": BalanceImportForm(),
            "class_choices": LEDGER_CLASSES, "source_choices": FundingSource.choices,
            "end": closing.period_end(obj),
        })
        return context


@login_required
@require_POST
def depreciate(request, pk):
    period = _period(request, pk)
    require_perm(request.user, RUN_PERM)
    try:
        result = closing.run_depreciation(period=period, actor=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Depreciated %(cards)s cards: ¥%(total)s.") % {
            "cards": result.cards, "total": money(result.total)})
    return _back(period, "step-depreciation")


@login_required
@require_POST
def enter_voucher(request, pk):
    period = _period(request, pk)
    require_perm(request.user, BOOK_PERM)
    form = VoucherForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label if field in form.fields else ''}：{error}")
        return _back(period, "step-voucher")
    try:
        closing.book_depreciation(period=period, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("The depreciation voucher is entered."))
    return _back(period, "step-voucher")


def _amount(text: str, label: str, errors: list) -> Decimal:
    text = (text or "").replace(",", "").replace("，", "").strip()
    if not text:
        return Decimal("0")
    try:
        return Decimal(text)
    except InvalidOperation:
        errors.append(_("%(what)s: “%(text)s” is not an amount.") % {"what": label, "text": text[:20]})
        return Decimal("0")


@login_required
@require_POST
def save_balances(request, pk):
    """The finance balances typed on the month's page: one row per class and source, plus added rows."""
    period = _period(request, pk)
    require_perm(request.user, BOOK_PERM)
    errors: list[str] = []
    rows = []
    for key in request.POST.getlist("key"):
        klass, _sep, source = key.partition("|")
        label = f"{CLASSES.get(klass, klass)} / {SOURCES.get(source, source)}"
        value = _amount(request.POST.get(f"value-{key}"), label, errors)
        depreciation = _amount(request.POST.get(f"dep-{key}"), label, errors)
        rows.append({"accounting_class": klass, "funding_source": source, "original_value": value,
                     "accumulated_depreciation": depreciation})
    extra_class, extra_source = request.POST.get("new_class", ""), request.POST.get("new_source", "")
    if extra_class or extra_source:
        label = _("Added row")
        rows.append({"accounting_class": extra_class, "funding_source": extra_source,
                     "original_value": _amount(request.POST.get("new_value"), label, errors),
                     "accumulated_depreciation": _amount(request.POST.get("new_dep"), label, errors)})
    if errors:
        for error in errors:
            messages.error(request, error)
        return _back(period, "step-balances")
    try:
        count = closing.set_finance_balances(period=period, actor=request.user, rows=rows)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("%(count)s finance balances saved.") % {"count": count})
    return _back(period, "step-balances")


BALANCE_COLUMNS = [
    excel.Column("accounting_class", "会计科目", required=True, choices=tuple(str(v) for v in CLASSES.values())),
    excel.Column("funding_source", "资金来源", required=True, choices=tuple(str(v) for v in SOURCES.values())),
    excel.Column("original_value", "固定资产期末余额", kind="decimal", required=True),
    excel.Column("accumulated_depreciation", "累计折旧期末余额", kind="decimal", required=True),
]


@login_required
def balances_template(request, pk):
    period = _period(request, pk)
    notes = [_("One row per accounting class and funding source, with the closing balances of %(period)s from the "
               "finance software's trial balance.") % {"period": period}]
    return xlsx_response(lambda out: excel.write_template(out, columns=BALANCE_COLUMNS, example=None,
                                                          sheet_title=_("Finance balances"), notes=notes),
                         f"科目余额表-{period}.xlsx")


def _label_lookup(choices: dict, text) -> str | None:
    text = str(text or "").strip()
    for code, label in choices.items():
        if text in (code, str(label)):
            return code
    return None


@login_required
@require_POST
def import_balances(request, pk):
    """科目余额表 from the finance software: 会计科目 | 资金来源 | 固定资产期末余额 | 累计折旧期末余额.
    Every bad row is listed with its number; nothing is saved unless every row is good."""
    period = _period(request, pk)
    require_perm(request.user, BOOK_PERM)
    form = BalanceImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose the Excel file of the finance ledger's balances."))
        return _back(period, "step-balances")
    try:
        sheet = excel.read_sheet(form.cleaned_data["file"], expected_headers=[c.header for c in BALANCE_COLUMNS])
    except excel.ExcelReadError as exc:
        messages.error(request, str(exc))
        return _back(period, "step-balances")
    headers = [str(h or "").strip() for h in sheet.headers]
    missing = [c.header for c in BALANCE_COLUMNS if c.header not in headers]
    if missing:
        messages.error(request, _("The sheet has no column %(columns)s.") % {"columns": "、".join(missing)})
        return _back(period, "step-balances")
    index = {c.key: headers.index(c.header) for c in BALANCE_COLUMNS}
    errors, rows = [], []
    for number, values in sheet.rows:
        cells = {key: (values[i] if i < len(values) else None) for key, i in index.items()}
        if all(v in (None, "") for v in cells.values()):
            continue
        row_errors = []
        klass = _label_lookup(CLASSES, cells["accounting_class"])
        source = _label_lookup(SOURCES, cells["funding_source"])
        if klass is None:
            row_errors.append(_("unknown accounting class “%(v)s”") % {"v": str(cells["accounting_class"])[:20]})
        if source is None:
            row_errors.append(_("unknown funding source “%(v)s”") % {"v": str(cells["funding_source"])[:20]})
        amounts = {}
        for key in ("original_value", "accumulated_depreciation"):
            try:
                amounts[key] = Decimal(str(cells[key]).replace(",", "")) if cells[key] not in (None, "") else Decimal(0)
            except InvalidOperation:
                row_errors.append(_("“%(v)s” is not an amount") % {"v": str(cells[key])[:20]})
        if row_errors:
            errors.append(_("Row %(row)s: %(message)s") % {"row": number, "message": "；".join(row_errors)})
        else:
            rows.append({"accounting_class": klass, "funding_source": source, **amounts})
    if errors:
        for error in errors:
            messages.error(request, error)
        messages.error(request, _("Nothing was saved: correct the rows and upload the file again."))
        return _back(period, "step-balances")
    try:
        count = closing.set_finance_balances(period=period, actor=request.user, rows=rows)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("%(count)s finance balances read from the file.") % {"count": count})
    return _back(period, "step-balances")


@login_required
@require_POST
def explain(request, pk):
    period = _period(request, pk)
    if not (request.user.has_perm(CLOSE_PERM) or request.user.has_perm(FINANCE_PERM)):
        raise PermissionDenied
    klass, _sep, source = request.POST.get("key", "").partition("|")
    try:
        closing.explain_difference(period=period, actor=request.user, accounting_class=klass, funding_source=source,
                                   explanation=request.POST.get("explanation", ""))
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("The explanation is saved."))
    return _back(period, "step-statement")


@login_required
@require_POST
def sign(request, pk, side):
    period = _period(request, pk)
    if side not in ("keeper", "finance"):
        raise PermissionDenied
    require_perm(request.user, CLOSE_PERM if side == "keeper" else FINANCE_PERM)
    try:
        closing.sign(period=period, actor=request.user, side=side)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Signed."))
    return _back(period, "step-sign")


@login_required
@require_POST
def close(request, pk):
    period = _period(request, pk)
    require_perm(request.user, CLOSE_PERM)
    try:
        closing.close(period=period, actor=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("%(period)s is closed.") % {"period": period})
    return _back(period, "step-sign")


# The 折旧计提表 and the 对账表 as page, Excel and PDF ----------------------------------------------------------------------
def _table_rows(period):
    rows = closing.depreciation_table(period)
    total = sum((r["amount"] for r in rows), Decimal("0"))
    return rows, total


def _send_xlsx(columns, rows, title, lines, filename):
    return xlsx_response(lambda out: excel.write_xlsx(out, columns=columns, rows=rows, sheet_title=title,
                                                      title_lines=lines), filename)


def _send_pdf(request, period, *, title, columns, rows, summary, signatures):
    try:
        pdf = printing.render_table_pdf(title=title, school=_school_name(request.user), columns=columns, rows=rows,
                                        filter_summary=summary, signature_lines=signatures)
    except printing.PrintError as exc:
        messages.error(request, str(exc))
        return _back(period)
    return pdf_response(pdf, f"period-{period.year}-{period.month:02d}.pdf")


@login_required
def depreciation_table(request, pk):
    """折旧计提表 by 会计科目, department and 资金来源 (AST-7): page, ?format=xlsx, ?format=pdf."""
    period = _period(request, pk)
    rows, total = _table_rows(period)
    run = closing.active_run(period)
    title = _("Depreciation table %(period)s") % {"period": period}
    kind = request.GET.get("format")
    amortisation = closing.amortisation_table(period)
    amortisation_total = sum((r["amount"] for r in amortisation), Decimal("0"))
    if kind == "xlsx":
        columns = [excel.Column("class", _("Accounting class")), excel.Column("dept", _("Department")),
                   excel.Column("source", _("Funding source")), excel.Column("cards", _("Cards"), kind="int"),
                   excel.Column("amount", _("Depreciation"), kind="decimal")]
        data = [[r["accounting_class"], r["department"], r["funding_source"], r["cards"], r["amount"]] for r in rows]
        data.append([_("Total"), "", "", sum(r["cards"] for r in rows), total])
        data += [[_("Intangible amortisation"), "", r["funding_source"], r["assets"], r["amount"]]
                 for r in amortisation]
        lines = [title, _("Voucher: %(v)s") % {"v": period.depreciation_voucher_no or "—"}]
        return _send_xlsx(columns, data, _("Depreciation"), lines, f"折旧计提表-{period.year}-{period.month:02d}.xlsx")
    if kind == "pdf":
        columns = [printing.PrintColumn(_("Accounting class"), weight=1.6), printing.PrintColumn(_("Department"),
                   weight=1.6), printing.PrintColumn(_("Funding source")), printing.PrintColumn(_("Cards"), "right",
                   0.6), printing.PrintColumn(_("Depreciation"), "right")]
        data = [[r["accounting_class"], r["department"], r["funding_source"], str(r["cards"]), money(r["amount"])]
                for r in rows]
        data.append([_("Total"), "", "", str(sum(r["cards"] for r in rows)), money(total)])
        data += [[_("Intangible amortisation"), "", r["funding_source"], str(r["assets"]), money(r["amount"])]
                 for r in amortisation]
        summary = _("Voucher: %(v)s") % {"v": period.depreciation_voucher_no or "—"}
        return _send_pdf(request, period, title=title, columns=columns, rows=data, summary=summary,
                         signatures=[(_("Prepared by (asset keeper)"), _("Date")),
                                     (_("Booked by (accountant)"), _("Date"))])
    return render(request, "assets/closing/depreciation_table.html", {
        "title": title, "period": period, "rows": rows, "total": total, "run": run, "amortisation": amortisation,
        "amortisation_total": amortisation_total,
        "cards_total": sum(r["cards"] for r in rows)})


@login_required
def statement_export(request, pk):
    """对账表 as Excel (?format=xlsx) or A4 PDF with both signature lines."""
    period = _period(request, pk)
    stmt = closing.statement(period)
    title = _("Reconciliation %(period)s") % {"period": period}
    data = [[ln.class_label, ln.source_label, ln.houqin_value, ln.finance_value, ln.value_difference,
             ln.houqin_depreciation, ln.finance_depreciation, ln.depreciation_difference, ln.explanation]
            for ln in stmt.lines]
    headers = [_("Accounting class"), _("Funding source"), _("Houqin original value"), _("Finance original value"),
               _("Difference"), _("Houqin depreciation"), _("Finance depreciation"), _("Difference"),
               _("Explanation")]
    pending = _("Accepted, not yet booked: %(cards)s cards, ¥%(value)s") % {
        "cards": stmt.pending["cards"], "value": money(stmt.pending["value"])}
    if request.GET.get("format") == "xlsx":
        kinds = ["text", "text", "decimal", "decimal", "decimal", "decimal", "decimal", "decimal", "text"]
        columns = [excel.Column(f"c{i}", h, kind=k) for i, (h, k) in enumerate(zip(headers, kinds, strict=True))]
        return _send_xlsx(columns, data, _("Reconciliation"), [title, pending],
                          f"对账表-{period.year}-{period.month:02d}.xlsx")
    columns = [printing.PrintColumn(h, "left" if i in (0, 1, 8) else "right", 1.4 if i in (0, 8) else 1)
               for i, h in enumerate(headers)]
    rows = [[str(r[0]), str(r[1]), *(money(v) for v in r[2:8]), r[8]] for r in data]
    signed = []
    if period.keeper_signed_at:
        signed.append(_("asset side signed by %(who)s") % {"who": period.keeper_signed_by})
    if period.accountant_signed_at:
        signed.append(_("finance side signed by %(who)s") % {"who": period.accountant_signed_by})
    return _send_pdf(request, period, title=title, columns=columns, rows=rows,
                     summary="；".join([pending, *signed]),
                     signatures=[(_("Asset keeper / logistics director"), _("Date")),
                                 (_("Accountant"), _("Date"))])


# 入账: the accountant books cards 待入账 ---------------------------------------------------------------------------------
@login_required
def booking(request):
    """Cards 待入账 (accepted, not yet booked by finance): tick the cards a voucher books, enter it (AST-10)."""
    require_perm(request.user, "assets.view_asset")
    user = request.user
    cards = (closing.awaiting_booking(scope(Asset.objects.all(), user, "view"))
             .select_related("category", "department").order_by("acquired_on", "code"))
    form = VoucherForm(request.POST or None, initial={"booked_on": timezone.localdate()})
    if request.method == "POST":
        require_perm(user, BOOK_PERM)
        ids = [k for k in map(as_key, request.POST.getlist("card")) if k is not None]
        if form.is_valid():
            try:
                count = closing.book_cards(school=user.school, actor=user, cards=ids, **form.cleaned_data)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        for error in errors:
                            form.add_error(field if field in form.fields else None, error)
                else:
                    for message in exc.messages:
                        form.add_error(None, message)
            else:
                messages.success(request, _("%(count)s cards booked under voucher %(voucher)s.") % {
                    "count": count, "voucher": form.cleaned_data["voucher_no"]})
                return redirect("assets:booking")
    page = Paginator(cards, 100).get_page(request.GET.get("page"))
    total = sum((c.original_value for c in page.object_list), Decimal("0"))
    return render(request, "assets/closing/booking.html", {
        "title": _("Cards awaiting booking"), "page": page, "form": form, "page_total": total,
        "can_book": user.has_perm(BOOK_PERM), "chosen": {k for k in map(as_key, request.POST.getlist("card")) if k is not None}})


# The API: the same services as the page ---------------------------------------------------------------------------
class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class VoucherSerializer(serializers.Serializer):
    voucher_no = serializers.CharField(max_length=40)
    booked_on = serializers.DateField()


class BalanceRowSerializer(serializers.Serializer):
    accounting_class = serializers.ChoiceField(choices=LEDGER_CLASSES)
    funding_source = serializers.ChoiceField(choices=FundingSource.choices)
    original_value = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0"))
    accumulated_depreciation = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0"))


class BalancesSerializer(serializers.Serializer):
    rows = BalanceRowSerializer(many=True)


class ExplainSerializer(serializers.Serializer):
    accounting_class = serializers.ChoiceField(choices=LEDGER_CLASSES)
    funding_source = serializers.ChoiceField(choices=FundingSource.choices)
    explanation = serializers.CharField(max_length=300, allow_blank=True)


class NoInputSerializer(serializers.Serializer):
    """An action that takes no input (close the month, read the 对账表)."""


class SignSerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=[("keeper", "keeper"), ("finance", "finance")])


class BookCardsSerializer(VoucherSerializer):
    cards = serializers.ListField(child=serializers.IntegerField(), min_length=1)


def _statement_data(period) -> dict:
    stmt = closing.statement(period)
    return {
        "period": str(period), "status": period.status,
        "depreciation_voucher_no": period.depreciation_voucher_no,
        "lines": [{"accounting_class": ln.accounting_class, "funding_source": ln.funding_source,
                   "houqin_value": ln.houqin_value, "finance_value": ln.finance_value,
                   "value_difference": ln.value_difference, "houqin_depreciation": ln.houqin_depreciation,
                   "finance_depreciation": ln.finance_depreciation,
                   "depreciation_difference": ln.depreciation_difference, "explanation": ln.explanation}
                  for ln in stmt.lines],
        "pending": stmt.pending, "problems": closing.close_problems(period, stmt),
        "signed": closing.signatures_current(period, stmt),
    }


def _need(request, perm):
    if not request.user.has_perm(perm):
        from rest_framework.exceptions import PermissionDenied as ApiDenied

        raise ApiDenied()


def with_period_api(base):
    """POST /api/assets/periods/<id>/depreciate|voucher|balances|explain|sign|close/, GET …/statement/."""

    def depreciate(self, request, pk=None):
        """计提折旧 for the month (a reason when depreciating again)."""
        period = self.get_object()
        _need(request, RUN_PERM)
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = closing.run_depreciation(period=period, actor=request.user,
                                          reason=payload.validated_data.get("reason", ""))
        return Response({"cards": result.cards, "total": result.total,
                         "table": closing.depreciation_table(period)})

    def voucher(self, request, pk=None):
        """The accountant enters the depreciation voucher."""
        period = self.get_object()
        _need(request, BOOK_PERM)
        payload = VoucherSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        closing.book_depreciation(period=period, actor=request.user, **payload.validated_data)
        return Response(_statement_data(period))

    def balances(self, request, pk=None):
        """The finance ledger's balances for the month (replaces them as a whole)."""
        period = self.get_object()
        _need(request, BOOK_PERM)
        payload = BalancesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        closing.set_finance_balances(period=period, actor=request.user, rows=payload.validated_data["rows"])
        return Response(_statement_data(period))

    def explain(self, request, pk=None):
        """Explain one difference of the 对账表."""
        period = self.get_object()
        if not (request.user.has_perm(CLOSE_PERM) or request.user.has_perm(FINANCE_PERM)):
            _need(request, CLOSE_PERM)
        payload = ExplainSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        closing.explain_difference(period=period, actor=request.user, **payload.validated_data)
        return Response(_statement_data(period))

    def sign(self, request, pk=None):
        """Sign the 对账表 for the asset side (keeper) or for finance."""
        period = self.get_object()
        payload = SignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        side = payload.validated_data["side"]
        _need(request, CLOSE_PERM if side == "keeper" else FINANCE_PERM)
        closing.sign(period=period, actor=request.user, side=side)
        return Response(_statement_data(period))

    def close_month(self, request, pk=None):
        """Close the month: it refuses writes from then on."""
        period = self.get_object()
        _need(request, CLOSE_PERM)
        closing.close(period=period, actor=request.user)
        return Response(_statement_data(period))

    def statement(self, request, pk=None):
        """The month's 对账表 with what still stops the close."""
        return Response(_statement_data(self.get_object()))

    attrs = {
        "depreciate": action(detail=True, methods=["post"], serializer_class=ReasonSerializer)(depreciate),
        "voucher": action(detail=True, methods=["post"], serializer_class=VoucherSerializer)(voucher),
        "balances": action(detail=True, methods=["post"], serializer_class=BalancesSerializer)(balances),
        "explain": action(detail=True, methods=["post"], serializer_class=ExplainSerializer)(explain),
        "sign": action(detail=True, methods=["post"], serializer_class=SignSerializer)(sign),
        "close_month": action(detail=True, methods=["post"], url_path="close",
                              serializer_class=NoInputSerializer)(close_month),
        "statement": action(detail=True, methods=["get"], serializer_class=NoInputSerializer)(statement),
        "__module__": base.__module__, "__doc__": base.__doc__,
    }
    return type(base.__name__, (base,), attrs)


def with_booking_api(base):
    """POST /api/assets/cards/book/: cards 待入账 → 已入账 with the finance voucher (AST-10)."""

    @action(detail=False, methods=["post"], url_path="book", serializer_class=BookCardsSerializer)
    def book(self, request):
        """Book cards under a finance voucher (all or none)."""
        _need(request, BOOK_PERM)
        payload = BookCardsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        ids = data.pop("cards")
        allowed = set(scope(Asset.objects.filter(pk__in=ids), request.user, "view").values_list("pk", flat=True))
        if allowed != set(ids):
            raise serializers.ValidationError({"cards": [_("Some of the chosen cards do not exist.")]})
        count = closing.book_cards(school=request.user.school, actor=request.user, cards=ids, **data)
        return Response({"booked": count})

    return type(base.__name__, (base,), {"book": book, "__module__": base.__module__, "__doc__": base.__doc__})


def today() -> datetime.date:
    return timezone.localdate()
