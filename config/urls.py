from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .health import health_view

PASSWORD_PAGE = "registration/password_page.html"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # One template serves the four steps of choosing a password (from an invitation or a reset).
    path("password/reset/", auth_views.PasswordResetView.as_view(template_name=PASSWORD_PAGE), name="password_reset"),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(template_name=PASSWORD_PAGE),
         name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/",
         auth_views.PasswordResetConfirmView.as_view(template_name=PASSWORD_PAGE), name="password_reset_confirm"),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(template_name=PASSWORD_PAGE),
         name="password_reset_complete"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.switch_language, name="switch_language"),
    path("groups/", include("groups.urls")),
    path("licenses/", include("licenses.urls")),
    path("notifications/", include("notifications.urls")),
    path("admin/", admin.site.urls),
    # Operations: health for load balancers and monitors, metrics for Prometheus (local addresses).
    path("health/", health_view(), name="health"),
    path("metrics", views.metrics, name="metrics"),
]

handler500 = "config.views.server_error"
