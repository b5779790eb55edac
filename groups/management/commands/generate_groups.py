from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from config.commands import OpsCommand
from groups import services
from groups.models import Group
from groups.scoping import SYSTEM


class Command(OpsCommand):
    help = "Generate buildings × units × floors × apartments under a group, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("--parent", type=int, required=True, help="Id of the group to generate under.")
        parser.add_argument("--buildings", type=int, required=True)
        parser.add_argument("--units", type=int, default=0)
        parser.add_argument("--floors", type=int, required=True)
        parser.add_argument("--apartments-per-floor", type=int, required=True)
        parser.add_argument("--building-start", type=int, default=1)
        parser.add_argument("--apartment-start", type=int, default=1)
        parser.add_argument("--dry-run", action="store_true", help="Say how many groups it would make.")

    def handle(self, *args, **options):
        parent = Group.objects.filter(pk=options["parent"]).first()
        if parent is None:
            raise CommandError(f"no group with id {options['parent']}")
        plan = services.GenerationPlan(buildings=options["buildings"], units=options["units"], floors=options["floors"],
                                       apartments_per_floor=options["apartments_per_floor"],
                                       building_start=options["building_start"], apartment_start=options["apartment_start"])
        try:
            services.validate_generation_plan(plan)
            if options["dry_run"]:
                self.stdout.write(f"would generate {plan.total} groups under {parent}")
                return
            count = services.groups_generate(parent=parent, plan=plan, actor=SYSTEM)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"generated {count} groups under {parent}")
