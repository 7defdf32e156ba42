from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.notification_open, name="notification"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("bell/", views.bell, name="bell"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
    path("channels/", views.channels, name="channels"),
    path("channels/test/", views.channels_test, name="channels_test"),
]
