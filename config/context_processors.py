"""What every page's navigation needs: which menus can hold anything for this person."""

from groups.models import Role


def navigation(request) -> dict:
    """Staff (administrators, concierges, the server administrator) get the groups, dashboard and
    reports; residents get "My licenses". Nobody is offered a menu that can only be empty.
    One query per page, made only when the navigation is drawn."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    class Menus:
        def __init__(self):
            self._roles = None

        def _load(self) -> set[str]:
            if self._roles is None:
                self._roles = set(user.memberships.values_list("role", flat=True).distinct())
            return self._roles

        @property
        def staff(self) -> bool:
            return user.is_superuser or bool(self._load() - {Role.RESIDENT})

        @property
        def resident(self) -> bool:
            return Role.RESIDENT in self._load()

    return {"menus": Menus()}
