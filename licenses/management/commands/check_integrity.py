from django.core.management.base import CommandError

from config.commands import OpsCommand
from licenses import integrity


class Command(OpsCommand):
    help = ("Check the tree's nested sets against the parent links, and every pool: sub-groups' blocks on every "
            "day from today, residents today. Exit status 1 with a list when anything is off.")

    def add_arguments(self, parser):
        self.add_day_argument(parser)
        self.add_format_argument(parser)

    def handle(self, *args, **options):
        on = self.day(options)
        problems = integrity.check(on=on)
        self.emit([p.as_dict() for p in problems], options["format"], lambda r: f"{r['kind']}: {r['detail']}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found")
        if options["format"] == "text":
            self.stdout.write("OK: trees and pools are consistent")
