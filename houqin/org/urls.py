from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("buildings/", views.building_list, name="building_list"),
    path("buildings/<int:pk>/", views.building_detail, name="building_detail"),
    path("rooms/", views.room_list, name="room_list"),
    path("rooms/<int:pk>/", views.room_detail, name="room_detail"),
    path("departments/", views.department_list, name="department_list"),
    path("departments/<int:pk>/", views.department_detail, name="department_detail"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/add/", views.staff_add, name="staff_add"),
    path("staff/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/disable/", views.staff_disable, name="staff_disable"),
    path("staff/<int:pk>/reset-password/", views.staff_reset_password, name="staff_reset_password"),
    path("classes/", views.class_list, name="class_list"),
    path("classes/intake/", views.class_intake, name="class_intake"),
    path("classes/<int:pk>/", views.class_detail, name="class_detail"),
    path("classes/<int:pk>/graduate/", views.class_graduate, name="class_graduate"),
    path("students/", views.student_list, name="student_list"),
    path("students/add/", views.student_add, name="student_add"),
    path("students/<int:pk>/", views.student_detail, name="student_detail"),
    path("students/<int:pk>/edit/", views.student_edit, name="student_edit"),
    path("students/<int:pk>/status/", views.student_status, name="student_status"),
    path("terms/", views.term_list, name="term_list"),
    path("terms/add/", views.term_add, name="term_add"),
    path("holidays/add/", views.holiday_add, name="holiday_add"),
    path("school/", views.school_settings, name="school_settings"),
]
