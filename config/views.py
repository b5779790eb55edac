"""Pages that belong to no app: home, the person's own account (login, lockout, profile,
language) and the error pages."""

import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_http_methods, require_POST

from groups.models import Role

from .forms import LoginForm, ProfileForm
from .middleware import database_unavailable


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page with the site's navigation; when even that fails, Django's plain page. Neither
    shows data or a traceback. When what failed is the database (a middleware loading the
    session while PostgreSQL restarts, say), the 503 page that says so."""
    # A URL resolved here means the view ran, and a middleware failed after it (on the way out).
    unavailable = database_unavailable(sys.exc_info()[1],
                                       after_view=getattr(request, "resolver_match", None) is not None)
    if unavailable is not None:
        return unavailable
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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_superuser and not user.memberships.exclude(role=Role.RESIDENT).exists():
        return redirect("licenses:my_licenses")
    return redirect("licenses:dashboard")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Profile saved."))
        return redirect("profile")
    return render(request, "account/profile.html", {"form": form})


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: remembered on the person's profile (and in a cookie before login)."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    response = redirect(next_url)
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            request.user.language = language
            request.user.save(update_fields=["language"])
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (django-prometheus), for scrapers on the allowed addresses only: the
    counts name views and models, which is nobody else's business. Others get a plain 404."""
    from django.http import Http404
    from django_prometheus.exports import ExportToDjangoView

    if request.META.get("REMOTE_ADDR") not in settings.METRICS_ALLOWED_IPS:
        raise Http404
    return ExportToDjangoView(request)
