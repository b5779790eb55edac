from django.conf import settings

from config.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    assert settings.CELERY_BEAT_SCHEDULE
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


def test_tasks_are_json_only_late_acked_and_time_limited():
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert not app.conf.task_always_eager


def test_a_reminder_made_due_by_a_save_goes_the_same_day_even_without_its_own_enqueue():
    """Besides 08:00, the reminder sweep runs every hour at :30 from 09:30 to 20:30: a save whose
    enqueue failed (broker down) is caught up within the hour, not the next morning."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    sweeps = [e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()
              if e["task"] == "notifications.tasks.send_license_reminders"]
    kyiv = ZoneInfo(settings.TIME_ZONE)
    for hour in range(8, 20):  # 08:40 … 19:40; a save after 20:30 waits for the next 08:00
        saved = datetime(2027, 3, 10, hour, 40, tzinfo=kyiv)
        # The first run due after the save, by the schedule: less than an hour away.
        with time_machine.travel(saved, tick=False):
            wait = min(s.remaining_estimate(saved) for s in sweeps)
        assert wait.total_seconds() <= 3600, (hour, wait)
