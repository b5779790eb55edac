import logging

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation


class UserLanguageMiddleware:
    """A logged-in person sees the language chosen on their profile."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            # override() puts the previous language back afterwards, so nothing leaks past the request.
            with translation.override(user.language):
                request.LANGUAGE_CODE = user.language
                response = self.get_response(request)
            response.headers["Content-Language"] = user.language
            return response
        return self.get_response(request)


def database_unavailable(exception, *, after_view: bool = False) -> HttpResponse | None:
    """The 503 page when `exception` says the database went away (restarted, unreachable), else
    None. It says so, and that nothing was saved (every write is one transaction), unless the
    view had finished (`after_view`: a middleware failed on the way out, after the view's
    commit), where it asks the person to look before trying again. The connection is dropped if
    unusable, so the next request opens a new one."""
    if not isinstance(exception, OperationalError | InterfaceError):
        return None
    logging.getLogger(__name__).error("database unavailable: %s", exception)
    connection.close_if_unusable_or_obsolete()
    # Rendered without the request: the navigation's context processors need the database.
    response = HttpResponse(render_to_string("503.html", {"after_view": after_view}), status=503)
    response["Retry-After"] = "30"
    return response


class DatabaseUnavailableMiddleware:
    """A view that meets a database gone away answers the 503 page. The same failure in a
    middleware (the session or the user loaded before any view) reaches handler500
    (config.views.server_error), which answers the same page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_unavailable(exception)
