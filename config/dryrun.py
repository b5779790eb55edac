"""Run a service and undo it: how admin forms learn, at validation time, what the service refuses."""

from collections.abc import Callable
from typing import Any

from django.db import transaction


class _Undo(Exception):
    pass


def dry_run(service: Callable[..., Any], **kwargs: Any) -> None:
    """Call `service(**kwargs)` in a transaction that is always rolled back.

    A ValidationError or PermissionDenied from the service propagates to the caller.
    """
    try:
        with transaction.atomic():
            service(**kwargs)
            raise _Undo
    except _Undo:
        pass
