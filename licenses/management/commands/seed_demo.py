from django.core.management.base import BaseCommand

from licenses.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Load the demo companies, people and licenses (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="only when the database has no groups yet (make prod: never mix the demo into real data)")

    def handle(self, *args, **options):
        from groups.models import Group

        if options["if_empty"] and Group.objects.exists():
            self.stdout.write("The database already has groups: no demo data loaded.")
            return
        created, logins = seed_demo()
        self.stdout.write("Demo data loaded." if created else "Demo data already present.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.email:34} {login.role}")
