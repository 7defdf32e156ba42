from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    # The menu's entry: the shell marks an entry active when the path starts with its URL, and "/approvals/"
    # starts every page of the app.
    path("waiting/", views.inbox, name="waiting"),
    path("steps/<int:pk>/", views.step_decide, name="step_decide"),
    path("mine/", views.my_requests, name="my_requests"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/add/", views.policy_add, name="policy_add"),
    path("policies/<int:pk>/", views.policy_detail, name="policy"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
]
