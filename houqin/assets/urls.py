from django.urls import path

from houqin.core.views_entity import entity_urls

from . import views

app_name = "assets"

urlpatterns = [
    path("loans/<int:pk>/return/", views.loan_return, name="loan_return"),
    path("repairs/<int:pk>/back/", views.repair_back, name="repair_back"),
    path("disposals/<int:pk>/write-off/", views.disposal_complete, name="disposal_complete"),
    path("items/<int:pk>/issue/", views.item_issue, name="item_issue"),
    path("items/<int:pk>/return/", views.item_return, name="item_return"),
    *entity_urls("assets"),
]
