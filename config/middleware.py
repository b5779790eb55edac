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


class DatabaseUnavailableMiddleware:
    """The database went away (restarted, unreachable): a 503 page that says so and that
    nothing was saved (every write is one transaction), instead of a bare 500. The connection
    is dropped, so the next request opens a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        import logging

        from django.db import InterfaceError, OperationalError, connection
        from django.http import HttpResponse
        from django.template.loader import render_to_string

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logging.getLogger(__name__).error("database unavailable: %s", exception)
        connection.close_if_unusable_or_obsolete()
        # Rendered without the request: the navigation's context processors need the database.
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
