"""Pages that belong to no app: the error pages and the login lockout."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from groups.forms import LoginForm


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page with the site's navigation; when even that fails (the database is down, say),
    Django's plain page. Neither shows data or a traceback."""
    try:
        return render(request, "500.html", status=500)
    except Exception:  # noqa: BLE001 - whatever broke the request may break this page too
        return defaults.server_error(request)


def locked_out(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """django-axes' lockout: the login page again, saying why and for how long."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = LoginForm(request, initial={"username": (credentials or {}).get("username", "")})
    message = _("Too many failed attempts for this account from this address. Try again in %(minutes)s "
                "minutes, or choose a new password with “Forgot your password?”.") % {"minutes": minutes}
    return render(request, "registration/login.html", {"form": form, "lockout_message": message}, status=429)


login = auth_views.LoginView.as_view(authentication_form=LoginForm)
