import csv

from django.core.management.base import CommandError

from groups.management.commands._base import OpsCommand, parse_day
from groups.models import Group
from licenses import reports, services


class Command(OpsCommand):
    help = "Per group and counted feature: limit, held by sub-groups, used by residents, available (pools only)."

    def add_arguments(self, parser):
        parser.add_argument("--group", type=int, help="Only this group's subtree (its id).")
        parser.add_argument("--today", help="The day, YYYY-MM-DD (default: today).")
        self.add_format_argument(parser, choices=("csv", "json"))

    def handle(self, *args, **options):
        on = parse_day(options["today"]) or services.today()
        root = None
        if options["group"] is not None:
            root = Group.objects.filter(pk=options["group"]).first()
            if root is None:
                raise CommandError(f"no group with id {options['group']}")
        rows = [r.as_dict() for r in reports.usage_rows(root=root, on=on)]
        if options["format"] == "json":
            self.emit(rows, "json", str)
        else:
            writer = csv.DictWriter(self.stdout, fieldnames=reports.USAGE_FIELDS)
            writer.writeheader()
            writer.writerows(rows)
