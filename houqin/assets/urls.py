from django.urls import path

from houqin.core.views_entity import entity_urls

from . import (
    views,
    views_closing,
    views_handover,
    views_intangibles,  # intangible assets and construction in progress (AST-15)
    views_print,
    views_reports,
    views_stocktake,  # stocktake (AST-4)
)

app_name = "assets"

urlpatterns = [
    path("loans/<int:pk>/return/", views.loan_return, name="loan_return"),
    path("repairs/<int:pk>/back/", views.repair_back, name="repair_back"),
    path("disposals/<int:pk>/write-off/", views.disposal_complete, name="disposal_complete"),
    path("items/<int:pk>/issue/", views.item_issue, name="item_issue"),
    path("items/<int:pk>/return/", views.item_return, name="item_return"),
    path("handovers/<int:pk>/lines/<int:line_pk>/tick/", views_handover.handover_tick, name="handover_tick"),
    path("handovers/<int:pk>/refresh/", views_handover.handover_refresh, name="handover_refresh"),
    path("handovers/<int:pk>/confirm/", views_handover.handover_confirm, name="handover_confirm"),
    path("handovers/<int:pk>/print/", views_handover.handover_print, name="handover_print"),
    path("print/", views_print.print_center, name="print_center"),
    path("print/cards/", views_print.cards_pdf, name="print_cards"),
    path("print/labels/", views_print.labels_pdf, name="print_labels"),
    path("print/rooms/", views_print.room_lists_pdf, name="print_rooms"),
    path("print/ledger/", views_print.ledger, name="print_ledger"),
    # Reports (AST-1, AST-10, AST-12): 总账, 实训设备, 生均值, the 财政 export.
    path("reports/ledger/", views_reports.ledger, name="report_ledger"),
    path("reports/training/", views_reports.training, name="report_training"),
    path("reports/per-student/", views_reports.per_student, name="report_per_student"),
    path("reports/fiscal-export/", views_reports.fiscal_export_page, name="report_fiscal_export"),
    # Stocktake (AST-4): the phone counting page and its JSON, the actions, the 盘盈盘亏 report.
    path("stocktakes/count/", views_stocktake.count_index, name="stocktake_count_index"),
    path("stocktakes/<int:pk>/count/", views_stocktake.count_page, name="stocktake_count"),
    path("stocktakes/<int:pk>/count/room/", views_stocktake.count_room, name="stocktake_count_room"),
    path("stocktakes/<int:pk>/scan/", views_stocktake.scan, name="stocktake_scan"),
    path("stocktakes/<int:pk>/decode/", views_stocktake.decode, name="stocktake_decode"),
    path("stocktakes/<int:pk>/start/", views_stocktake.start, name="stocktake_start"),
    path("stocktakes/<int:pk>/finish/", views_stocktake.finish, name="stocktake_finish"),
    path("stocktakes/<int:pk>/approve/", views_stocktake.approve, name="stocktake_approve"),
    path("stocktakes/<int:pk>/reject/", views_stocktake.reject, name="stocktake_reject"),
    path("stocktakes/<int:pk>/report/", views_stocktake.report, name="stocktake_report"),
    path("stocktakes/<int:pk>/report/print/", views_stocktake.report_print, name="stocktake_report_print"),
    path("stocktakes/<int:pk>/report/export/", views_stocktake.report_export, name="stocktake_report_export"),
    # The monthly close (AST-7, AST-9, AST-10): the steps of a month's page, its tables, the booking page.
    path("periods/<int:pk>/depreciate/", views_closing.depreciate, name="period_depreciate"),
    path("periods/<int:pk>/voucher/", views_closing.enter_voucher, name="period_voucher"),
    path("periods/<int:pk>/balances/", views_closing.save_balances, name="period_balances"),
    path("periods/<int:pk>/balances/template/", views_closing.balances_template, name="period_balances_template"),
    path("periods/<int:pk>/balances/import/", views_closing.import_balances, name="period_balances_import"),
    path("periods/<int:pk>/explain/", views_closing.explain, name="period_explain"),
    path("periods/<int:pk>/sign/<str:side>/", views_closing.sign, name="period_sign"),
    path("periods/<int:pk>/close/", views_closing.close, name="period_close"),
    path("periods/<int:pk>/depreciation/", views_closing.depreciation_table, name="period_depreciation"),
    path("periods/<int:pk>/statement/", views_closing.statement_export, name="period_statement"),
    path("booking/", views_closing.booking, name="booking"),
    path("intangibles/<int:pk>/book/", views_intangibles.intangible_book, name="intangible_book"),
    path("intangibles/<int:pk>/dispose/", views_intangibles.intangible_dispose, name="intangible_dispose"),
    path("construction/<int:pk>/accept/", views_intangibles.project_accept, name="constructionproject_accept"),
    *__import__("houqin.assets.views_contracting", fromlist=["URLS"]).URLS,  # class contracting, damage (AST-5/6)
    *__import__("houqin.assets.views_leases", fromlist=["url_patterns"]).url_patterns(),  # idle, leases (AST-8)
    *entity_urls("assets"),
]
