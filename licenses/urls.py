from django.urls import path

from . import views

app_name = "licenses"
urlpatterns = [
    path("mine/", views.my_licenses, name="my_licenses"),
    path("groups/<int:pk>/", views.group_licenses, name="group_licenses"),
    path("groups/<int:pk>/devices/", views.devices, name="devices"),
    path("devices/<int:pk>/delete/", views.device_delete, name="device_delete"),
    path("groups/<int:pk>/residents/<int:user_pk>/", views.resident, name="resident"),
    path("groups/<int:pk>/history/", views.history, name="group_history"),
]
