"""What every ops command shares: --today parsing and text/json output."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


def parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date as YYYY-MM-DD, not {value!r}") from None


class OpsCommand(BaseCommand):
    def add_day_argument(self, parser, help_text: str = "The day, YYYY-MM-DD") -> None:
        parser.add_argument("--today", help=f"{help_text} (default: today in the server's time zone).")

    @staticmethod
    def day(options) -> date:
        """--today, or today in the server's zone (license days are local days)."""
        return parse_day(options["today"]) or timezone.localdate()

    def add_format_argument(self, parser, choices=("text", "json")) -> None:
        parser.add_argument("--format", choices=choices, default=choices[0], help="Output format.")

    def emit(self, rows: list[dict], fmt: str, text) -> None:
        if fmt == "json":
            self.stdout.write(json.dumps(rows, indent=1, default=str))
        else:
            for row in rows:
                self.stdout.write(text(row))
