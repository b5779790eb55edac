from django.core.management.base import BaseCommand

from licenses.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Load the demo companies, people and licenses (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        created, logins = seed_demo()
        self.stdout.write("Demo data loaded." if created else "Demo data already present.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.email:34} {login.role}")
