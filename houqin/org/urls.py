from django.urls import path

from houqin.core.views_entity import entity_urls

from . import views

app_name = "org"

urlpatterns = [
    path("staff/<int:pk>/disable/", views.staff_disable, name="staff_disable"),
    path("staff/<int:pk>/reset-password/", views.staff_reset_password, name="staff_reset_password"),
    path("classes/intake/", views.class_intake, name="class_intake"),
    path("classes/<int:pk>/graduate/", views.class_graduate, name="class_graduate"),
    path("students/<int:pk>/status/", views.student_status, name="student_status"),
    path("school/", views.school_settings, name="school_settings"),
    *entity_urls("org"),
]
