from config.commands import OpsCommand
from licenses import totals


class Command(OpsCommand):
    help = ("Recompute the totals kept per pool from the blocks, devices and grants: after rows were written "
            "by other means (a bulk load, a restore from an old dump) or when check_integrity reports "
            "\"totals\" problems. Safe to run at any time; writers of licenses wait for it.")

    def handle(self, *args, **options):
        count = totals.rebuild_all_locked()
        self.stdout.write(f"OK: totals recomputed for {count} pool(s)")
