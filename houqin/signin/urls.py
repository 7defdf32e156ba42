from django.urls import path

from . import views

app_name = "signin"

urlpatterns = [
    # WeCom / DingTalk sign-in
    path("start/", views.start, name="start"),
    path("callback/", views.callback, name="callback"),
    path("settings/", views.config, name="config"),
    # shared tablets
    path("pair/", views.pair, name="pair"),
    path("tablet/", views.tablet, name="tablet"),
    path("tablet/switch/", views.tablet_switch, name="tablet_switch"),
    path("tablet/<int:staff_id>/", views.tablet_pin, name="tablet_pin"),
    path("devices/", views.devices, name="devices"),
    path("devices/<int:pk>/", views.device, name="device"),
    path("devices/<int:pk>/pairing-code/", views.device_pairing_code, name="device_pairing_code"),
    path("devices/<int:pk>/unpair/", views.device_unpair, name="device_unpair"),
    # PINs
    path("pin/", views.my_pin, name="my_pin"),
    path("pins/", views.pins, name="pins"),
    path("pins/<int:staff_id>/", views.pin_reset, name="pin_reset"),
]
