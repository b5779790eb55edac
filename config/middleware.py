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
