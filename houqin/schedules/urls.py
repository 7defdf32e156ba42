from django.urls import path

from houqin.core.views_entity import entity_urls

from . import views

app_name = "schedules"

urlpatterns = [
    path("my/", views.my_tasks, name="my_tasks"),
    path("my/<int:pk>/check-off/", views.my_task_check_off, name="my_task_check_off"),
    *entity_urls("schedules"),
]
