import csv

from django.core.management.base import CommandError

from config.commands import OpsCommand
from groups.models import Group
from licenses import reports


class Command(OpsCommand):
    help = "Per group and counted feature: limit, held by sub-groups, used by residents, available (pools only)."

    def add_arguments(self, parser):
        parser.add_argument("--group", type=int, help="Only this group's subtree (its id).")
        self.add_day_argument(parser)
        self.add_format_argument(parser, choices=("csv", "json"))

    def handle(self, *args, **options):
        on = self.day(options)
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
