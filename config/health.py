"""Health endpoints (django-health-check): the database, the Redis broker, Celery workers
answering a ping, and the beat's freshness read from the database (licenses.SweepRun)."""

import dataclasses
import datetime

from django.conf import settings
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class BeatFreshness(HealthCheck):
    """Every entry of the beat's schedule finished a run within its period (plus a grace for
    the run itself and its retries). Read from the database, so any web process can tell."""

    grace: datetime.timedelta = dataclasses.field(
        default_factory=lambda: datetime.timedelta(minutes=settings.HEALTH_BEAT_GRACE_MINUTES), repr=False)

    def run(self):
        from licenses.models import SweepRun

        runs = {r.name: r for r in SweepRun.objects.all()}
        stale = []
        for entry in settings.CELERY_BEAT_SCHEDULE.values():
            run = runs.get(entry["task"])
            if run is None or run.finished_at is None:
                stale.append(f"{entry['task']} never finished")
                continue
            overdue = -entry["schedule"].remaining_estimate(run.finished_at)  # > 0: a run was due that long ago
            if overdue > self.grace:
                stale.append(f"{entry['task']} last finished {run.finished_at:%Y-%m-%d %H:%M} UTC")
        if stale:
            raise ServiceUnavailable("; ".join(stale))


def _checks() -> list:
    checks: list = [Database, BeatFreshness]
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("redis://", "rediss://")):
        from health_check.contrib.celery import Ping
        from health_check.contrib.redis import Redis
        from redis.asyncio import Redis as RedisClient

        checks += [(Redis, {"client_factory": lambda: RedisClient.from_url(broker, socket_connect_timeout=2)}),
                   (Ping, {"timeout": datetime.timedelta(seconds=2)})]
    return checks


class HealthView(HealthCheckView):
    """503 when a check fails (a load balancer's "take me out"), not the package's 500: a 500
    means a bug, and nothing here is one."""

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
            response["Retry-After"] = "30"
        return response


def health_view():
    return HealthView.as_view(checks=_checks())
