from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from licenses.services import reminder_due

        from .tasks import send_reminders_now

        # A save that leaves a reminder due today: send it now, not at the next morning's sweep.
        reminder_due.connect(send_reminders_now, dispatch_uid="notifications.send_reminders_now")
