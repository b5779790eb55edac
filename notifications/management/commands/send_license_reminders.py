from django.core.management.base import CommandError

from config.commands import OpsCommand
from notifications import services


class Command(OpsCommand):
    help = ("Send the license reminders due on a day: one mail per recipient per group, each (block, reminder "
            "day, recipient) exactly once. Exit status 1 if some mail could not be sent (it is sent by the next run).")

    def add_arguments(self, parser):
        self.add_day_argument(parser, "The day to send for, YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be sent; send nothing.")
        parser.add_argument("--enqueue", action="store_true", help="Hand the sweep to the Celery worker instead.")
        self.add_format_argument(parser)

    def handle(self, *args, **options):
        on = self.day(options)
        if options["enqueue"]:
            from notifications.tasks import send_license_reminders

            send_license_reminders.delay(on.isoformat())
            self.stdout.write(f"reminder sweep for {on.isoformat()} handed to the worker")
            return
        result = services.send_license_reminders(on=on, dry_run=options["dry_run"])
        self.emit([a.as_dict() for a in result.actions], options["format"],
                  lambda r: f"{r['status']} block={r['block']} group={r['group']} recipient={r['recipient'] or '-'} "
                            f"kind={r['kind']} day={r['day']}")
        if result.failures:
            raise CommandError("some reminders failed and will be retried: " + "; ".join(result.failures[:5]))
