from config.commands import OpsCommand
from licenses import expiry


class Command(OpsCommand):
    help = ("Mark blocks past their last day as expired, shrink their pools and suspend residents' grants "
            "beyond what is left (most recent first). Safe to run any number of times.")

    def add_arguments(self, parser):
        self.add_day_argument(parser, "The day to sweep for, YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be done; change nothing.")
        parser.add_argument("--enqueue", action="store_true", help="Hand the sweep to the Celery worker instead.")
        self.add_format_argument(parser)

    def handle(self, *args, **options):
        on = self.day(options)
        if options["enqueue"]:
            from licenses.tasks import expire_licenses

            expire_licenses.delay(on.isoformat())
            self.stdout.write(f"expiry sweep for {on.isoformat()} handed to the worker")
            return
        actions = expiry.expire_licenses(on=on, dry_run=options["dry_run"])
        prefix = "would " if options["dry_run"] else ""
        self.emit([a.as_dict() for a in actions], options["format"],
                  lambda r: f"{prefix}{r['action']} block={r['block'] or '-'} group={r['group']} day={r['day']} {r['detail']}".rstrip())
        if options["format"] == "text":
            self.stderr.write(f"{len(actions)} action(s) for {on.isoformat()}")
