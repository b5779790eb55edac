from django.urls import path

from . import report_views, views

app_name = "licenses"
urlpatterns = [
    path("mine/", views.my_licenses, name="my_licenses"),
    path("dashboard/", report_views.dashboard, name="dashboard"),
    path("reports/usage/", report_views.usage_report, name="usage_report"),
    path("reports/validity/", report_views.validity_report, name="validity_report"),
    path("groups/<int:pk>/", views.group_licenses, name="group_licenses"),
    path("groups/<int:pk>/devices/", views.devices, name="devices"),
    path("devices/<int:pk>/delete/", views.device_delete, name="device_delete"),
    path("groups/<int:pk>/residents/", views.apartment_residents, name="apartment_residents"),
    path("groups/<int:pk>/residents/<int:user_pk>/", views.resident, name="resident"),
    path("groups/<int:pk>/history/", views.history, name="group_history"),
]
