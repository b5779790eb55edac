"""Notifications shown on other apps' pages, so those apps need not import this one."""

from django import template

from ..models import Notification

register = template.Library()


@register.simple_tag
def unread_notifications(user, limit: int = 5) -> list[Notification]:
    """The person's latest unread notifications (the dashboard's list)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Notification.objects.filter(user=user, read_at__isnull=True).select_related("group")[:limit])
