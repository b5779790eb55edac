"""The expiry and reminder sweeps over many license blocks (1,000,000 by default).

One company of its own: a restricted root pool (as every company has, see issue_trial),
a site and a few thousand buildings, each a restricted pool with reminders on and its own
administrator, holding the blocks (inserted in bulk; BlockFeature rows are not needed by
either sweep). Blocks are numbered in id order and laid out group by group, so "every k-th
block is due" spreads the due ones over every group. A due block ended yesterday, so it is
due for both sweeps: not yet marked expired, and its "expired" notice is due today
(next_reminder_on = today, as licenses.services.next_reminder_for keeps it).

Three steps, both sweeps in each, reset in between (not timed):
  1% of N blocks due; 10% of N due; then N/10 blocks with the same number due as the first.
Each sweep runs twice from the same state: timed, with a cheap statement counter
(CaptureQueriesContext keeps at most 9,000 queries: connection.queries_log is a deque of
that length) and the resident set sampled by a thread; then under tracemalloc for its peak
(tracemalloc makes the reminder sweep ~2.7x slower, so the time is the first run's). A run
that passes the budget is stopped at its next statement (its open transaction rolls back);
the report then says how many due blocks it finished and what all of them would take at
that rate. The tracemalloc run gets half the budget: over budget, its peak is the peak over
the part it finished (the report says how many due blocks that was).
"""

import os
import resource
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from groups import services as group_services
from groups.models import Group, Membership, Role, User
from groups.services import GenerationPlan
from licenses import pools, services, totals
from licenses.expiry import expire_licenses
from licenses.models import (
    BlockFeature,
    BlockKind,
    Device,
    Feature,
    Grant,
    GrantFeature,
    LicenseBlock,
    PoolSettings,
    Recurrence,
)
from licenses.services import BlockInput, SettingsInput
from notifications.models import Notification, ReminderLedger
from notifications.services import recipients_for, send_license_reminders

from .measure import Report, measure, ms

BATCH = 10_000
REMINDER_DAYS = 14
GENERATE_AT_ONCE = 20_000  # buildings per groups_generate call (3 groups each)


class OverBudget(BaseException):
    """Raised at the first statement after the budget: a BaseException, so that the sweeps'
    `except Exception` (a failed mail is retried later) lets it through."""


@dataclass
class SweepData:
    company: Group
    today: date
    group_ids: list[int]  # the buildings holding the blocks, in tree order
    first_pk: int
    last_pk: int

    @property
    def blocks(self) -> int:
        return LicenseBlock.objects.filter(pk__range=(self.first_pk, self.last_pk)).count()


@dataclass
class Outcome:
    seconds: float
    queries: int
    due: int
    done: int  # due blocks the run finished (all of them unless over budget)
    over_budget: bool
    detail: str = ""
    rss_growth: int | None = None  # the timed run's resident set, sampled: its highest minus its start, bytes
    peak: int | None = None  # tracemalloc peak of the traced run, bytes
    traced_done: int = 0  # due blocks the traced run finished (fewer than due if over budget)
    rss_before: int = 0  # ru_maxrss before / after the traced run, KiB
    rss_after: int = 0

    @property
    def estimate(self) -> float | None:
        """Seconds for all the due blocks: measured, or at the rate of the part done."""
        if not self.over_budget:
            return self.seconds
        return self.seconds * self.due / self.done if self.done else None


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


@contextmanager
def guarded(budget: float | None) -> Iterator[dict]:
    """Count statements cheaply; past `budget` seconds, raise OverBudget once, at the next one
    (the rollbacks that follow must run)."""
    state = {"n": 0, "tripped": False}
    deadline = time.perf_counter() + budget if budget else None

    def wrapper(execute, sql, params, many, context):
        if deadline is not None and not state["tripped"] and time.perf_counter() > deadline:
            state["tripped"] = True
            raise OverBudget
        state["n"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield state


class RssSampler:
    """The process's resident set every `interval` seconds, read from /proc (Linux) by a thread:
    its rise over a call, without tracemalloc's cost (it makes the reminder sweep ~2.7x slower)."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.start = self.highest = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @staticmethod
    def _rss() -> int | None:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return None

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            rss = self._rss()
            if rss is not None and self.highest is not None:
                self.highest = max(self.highest, rss)

    def __enter__(self) -> "RssSampler":
        if self.start is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        rss = self._rss()
        if rss is not None and self.highest is not None:
            self.highest = max(self.highest, rss)

    @property
    def growth(self) -> int | None:
        return None if self.start is None or self.highest is None else self.highest - self.start


def _insert_blocks(rows: list[tuple]) -> None:
    columns = ", ".join(_column(LicenseBlock, f) for f in ("group", "kind", "valid_from", "valid_until", "note",
                                                            "created_at", "next_reminder_on"))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {_table(LicenseBlock)} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                           rows)


def build(operator: User, *, blocks: int, groups: int, residents: int, tag: str, report: Report) -> SweepData:
    """The company through the services; settings, administrators, residents and blocks in bulk.

    residents: residents in each pool's apartment, each with a grant of one virtual number
    served by a device's Basic block in the pool (no end): the expiry sweep must find, from the
    pools' totals, that they still fit when the pool's blocks expire.
    """
    today = services.today()
    start = time.perf_counter()
    admin = User.objects.create_user(email=f"sweeps-admin-{tag}@bench.example", password=None,
                                     name="Sweeps Administrator", is_staff=True)
    company = group_services.group_create(parent=None, name=f"Sweeps Company {tag}", kind=Group.Kind.COMPANY,
                                          actor=operator)
    group_services.membership_add(group=company, user=admin, role=Role.COMPANY_ADMIN, actor=operator)
    # The company's root pool, without end, with reminders on (as issue_trial sets up a company).
    services.licenses_save(
        group=company, actor=operator,
        settings=SettingsInput(restricted=True, reminder_enabled=True, reminder_days=REMINDER_DAYS),
        blocks=[BlockInput(key="root", id=None, kind=BlockKind.PLUS, valid_from=today, valid_until=None,
                           quantities={"virtual_numbers": 1000, "mobile_apps": 1000})])
    site = group_services.group_create(parent=company, name="Sweeps Site", kind=Group.Kind.SITE, number="1",
                                       actor=admin)
    made = 0
    while made < groups:
        count = min(GENERATE_AT_ONCE, groups - made)
        site.refresh_from_db()
        group_services.groups_generate(parent=site, plan=GenerationPlan(
            buildings=count, units=0, floors=1, apartments_per_floor=1, building_start=made + 1), actor=admin)
        made += count
    company.refresh_from_db()
    group_ids = list(Group.objects.filter(tree_id=company.tree_id, kind=Group.Kind.BUILDING)
                     .order_by("lft").values_list("pk", flat=True))
    tree_seconds = time.perf_counter() - start

    start = time.perf_counter()
    with transaction.atomic():
        PoolSettings.objects.bulk_create(
            [PoolSettings(group_id=pk, restricted=True, reminder_enabled=True, reminder_days=REMINDER_DAYS,
                          recurrence=Recurrence.ONCE, notify_expired=True) for pk in group_ids], batch_size=BATCH)
        for chunk in range(0, len(group_ids), BATCH):
            ids = group_ids[chunk:chunk + BATCH]
            users = User.objects.bulk_create(
                [User(email=f"sweeps-{tag}-{n}@bench.example", name=f"Building administrator {n}",
                      password="!bench") for n in range(chunk, chunk + len(ids))])
            Membership.objects.bulk_create([Membership(user_id=u.pk, group_id=pk, role=Role.SITE_ADMIN)
                                            for u, pk in zip(users, ids, strict=True)])
        if residents:
            vn = Feature.objects.get(code="virtual_numbers").pk
            apartments = list(Group.objects.filter(tree_id=company.tree_id, kind=Group.Kind.APARTMENT)
                              .order_by("lft").values_list("pk", flat=True))
            homes = [pk for pk in apartments for _r in range(residents)]
            granted = timezone.now() - timedelta(days=100)
            for chunk in range(0, len(homes), BATCH):
                part = homes[chunk:chunk + BATCH]
                users = User.objects.bulk_create(
                    [User(email=f"sweeps-resident-{tag}-{n}@bench.example", password="!bench")
                     for n in range(chunk, chunk + len(part))])
                Membership.objects.bulk_create([Membership(user_id=u.pk, group_id=pk, role=Role.RESIDENT)
                                                for u, pk in zip(users, part, strict=True)])
                grants = Grant.objects.bulk_create([Grant(group_id=pk, user_id=u.pk, granted_at=granted)
                                                    for u, pk in zip(users, part, strict=True)])
                GrantFeature.objects.bulk_create([GrantFeature(grant_id=g.pk, feature_id=vn, quantity=1)
                                                  for g in grants])
            # Each pool serves its residents from a device's Basic block (no end), so they fit
            # and use something real; the totals the services would have kept are added.
            devices = Device.objects.bulk_create([Device(group_id=pk, serial_number=f"SWEEP-{tag}-{pk}",
                                                         model="AV-03") for pk in group_ids], batch_size=BATCH)
            device_blocks = LicenseBlock.objects.bulk_create(
                [LicenseBlock(group_id=d.group_id, kind=BlockKind.BASIC, valid_from=today - timedelta(days=500),
                              valid_until=None, device_id=d.pk, note="Sweeps device") for d in devices],
                batch_size=BATCH)
            BlockFeature.objects.bulk_create([BlockFeature(block_id=b.pk, feature_id=vn, quantity=residents)
                                              for b in device_blocks], batch_size=BATCH)
            changes = totals.Changes()
            for b in device_blocks:
                changes.spans([(b.valid_from, None, {vn: residents})], pool_id=b.group_id,
                              column=totals.CAPACITY, sign=+1)
                changes.devices[b.group_id] += 1
                changes.residents[(b.group_id, vn)] += residents  # one apartment a pool, `residents` in it
            changes.apply()
    # Block i (0 <= i < blocks) is in group i * groups // blocks and, not due, ends on one of
    # 700 days from today + 20 on; its next reminder is 14 days before (next_reminder_for).
    # Plain INSERTs of the columns that matter, 10,000 a transaction: bulk_create builds
    # a model instance per row and is several times slower, and the setup is not measured.
    ops = connection.ops
    valid_from = ops.adapt_datefield_value(today - timedelta(days=400))
    created = ops.adapt_datetimefield_value(timezone.now())
    ends = [(ops.adapt_datefield_value(today + timedelta(days=20 + d)),
             ops.adapt_datefield_value(today + timedelta(days=20 + d - REMINDER_DAYS))) for d in range(700)]
    before = LicenseBlock.objects.aggregate(top=Max("pk"))["top"] or 0
    began = time.perf_counter()
    for chunk in range(0, blocks, BATCH):
        rows = [(group_ids[i * len(group_ids) // blocks], BlockKind.PLUS.value, valid_from, ends[i % 700][0], "", created,
                 ends[i % 700][1]) for i in range(chunk, min(chunk + BATCH, blocks))]
        with transaction.atomic():
            _insert_blocks(rows)
        if chunk and chunk % 200_000 == 0:
            print(f"    {chunk:>9,} blocks ({chunk / (time.perf_counter() - began):,.0f} a second)", flush=True)
    made_blocks = LicenseBlock.objects.filter(pk__gt=before).aggregate(first=Min("pk"), last=Max("pk"), n=Count("pk"))
    first_pk, last_pk = made_blocks["first"], made_blocks["last"]
    if made_blocks["n"] != blocks or last_pk - first_pk + 1 != blocks:
        raise SystemExit(f"the blocks' ids are not contiguous ({first_pk}..{last_pk} for {blocks:,} blocks)")
    analyzed = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        analyzed = "; ANALYZE run"
    report.add("setup", f"sweeps: company of {len(group_ids):,} pools", tree_seconds,
               note=f"{Group.objects.filter(tree_id=company.tree_id).count():,} groups, through the services")
    report.add("setup", f"sweeps: {blocks:,} blocks in bulk", time.perf_counter() - start,
               note=f"{blocks // len(group_ids):,} a group; each group restricted with reminders on, "
                    f"one administrator and {residents} resident(s) with a grant{analyzed}")
    return SweepData(company=company, today=today, group_ids=group_ids, first_pk=first_pk, last_pk=last_pk)


def make_due(data: SweepData, every: int) -> None:
    """Every `every`-th block (by id) ended yesterday and has its reminder due today."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(LicenseBlock)} SET valid_until = %s, next_reminder_on = %s "
            f"WHERE id BETWEEN %s AND %s AND (id - %s) %% %s = 0",
            [data.today - timedelta(days=1), data.today, data.first_pk, data.last_pk, data.first_pk, every])


def due_counts(data: SweepData) -> tuple[int, int]:
    """(due for the expiry sweep, due for the reminder sweep), over the whole table."""
    expiry = LicenseBlock.objects.filter(valid_until__lt=data.today, expired_at__isnull=True).count()
    reminders = LicenseBlock.objects.filter(next_reminder_on__lte=data.today,
                                            group__license_settings__restricted=True).count()
    return expiry, reminders


def reset(data: SweepData) -> None:
    """Undo what the sweeps did to the company's blocks (the history rows they wrote stay)."""
    yesterday = data.today - timedelta(days=1)
    with transaction.atomic():
        LicenseBlock.objects.filter(pk__range=(data.first_pk, data.last_pk), expired_at__isnull=False).update(
            expired_at=None)
        LicenseBlock.objects.filter(pk__range=(data.first_pk, data.last_pk), valid_until=yesterday).update(
            next_reminder_on=data.today, last_notified_at=None)
        ReminderLedger.objects.filter(block__gte=data.first_pk, block__lte=data.last_pk).delete()
        Notification.objects.filter(group__tree_id=data.company.tree_id).delete()
        Grant.objects.filter(group__tree_id=data.company.tree_id, suspended_at__isnull=False).update(suspended_at=None)
    mail.outbox = []


def shrink(data: SweepData) -> None:
    """Keep 10 blocks of each 100 (the first of them is the one due with 1% due): a tenth."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table(LicenseBlock)} WHERE id BETWEEN %s AND %s AND (id - %s) %% 100 >= 10",
                       [data.first_pk, data.last_pk, data.first_pk])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {_table(LicenseBlock)}")


@dataclass(frozen=True)
class Sweep:
    name: str
    call: Callable[[], object]
    done: Callable[[SweepData], int]  # due blocks finished, read from the database after a run
    detail: Callable[[SweepData, object], str]


def _expired(data: SweepData) -> int:
    return LicenseBlock.objects.filter(pk__range=(data.first_pk, data.last_pk), expired_at__isnull=False).count()


def _reminded(data: SweepData) -> int:
    return ReminderLedger.objects.filter(block__gte=data.first_pk, block__lte=data.last_pk,
                                         sent_at__isnull=False).count()


def _sweeps(data: SweepData) -> list[Sweep]:
    def expiry_detail(_data: SweepData, result: object) -> str:
        return f"{len(result):,} actions" if isinstance(result, list) else ""

    def reminder_detail(_data: SweepData, result: object) -> str:
        sent = sum(1 for a in result.actions if a.status == "sent") if result is not None else 0
        return f"{sent:,} reminders in {len(getattr(mail, 'outbox', [])):,} mails" if result is not None else ""

    return [
        Sweep("expire_licenses", lambda: expire_licenses(on=data.today), _expired, expiry_detail),
        Sweep("send_license_reminders", lambda: send_license_reminders(on=data.today), _reminded, reminder_detail),
    ]


def _timed(data: SweepData, sweep: Sweep, due: int, budget: float | None) -> Outcome:
    result, over = None, False
    with guarded(budget) as state, RssSampler() as rss:
        start = time.perf_counter()
        try:
            result = sweep.call()
        except OverBudget:
            over = True
        seconds = time.perf_counter() - start
    done = sweep.done(data)
    return Outcome(seconds=seconds, queries=state["n"], due=due, done=done, over_budget=over,
                   detail=sweep.detail(data, result) if not over else "", rss_growth=rss.growth)


def _traced(data: SweepData, sweep: Sweep, outcome: Outcome, budget: float | None) -> None:
    outcome.rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        with guarded(budget):
            try:
                sweep.call()
            except OverBudget:
                pass
        outcome.peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    outcome.rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome.traced_done = sweep.done(data)


def _note(outcome: Outcome, blocks: int, budget: float | None) -> str:
    parts = [f"{outcome.due:,} due of {blocks:,} blocks"]
    if outcome.over_budget:
        rate = f"~{ms(outcome.estimate)} for all at that rate" if outcome.estimate else "none finished"
        parts.append(f"OVER the {ms(budget)} budget: {outcome.done:,} of the {outcome.due:,} due finished, {rate}; "
                     f"queries until then")
    else:
        parts.append(f"{outcome.done:,} done" + (f", {outcome.detail}" if outcome.detail else ""))
    if outcome.done:
        parts.append(f"{outcome.seconds / outcome.done * 1000:,.2f} ms and "
                     f"{outcome.queries / outcome.done:,.1f} queries a due block")
    memory = []
    if outcome.rss_growth is not None:
        memory.append(f"resident set +{_mib(max(outcome.rss_growth, 0))} during the timed run (sampled)")
    if outcome.peak is not None:
        part = "" if outcome.traced_done >= outcome.due else \
            f" over the {outcome.traced_done:,} due it finished within the budget"
        grew = outcome.rss_after - outcome.rss_before
        memory.append(f"tracemalloc peak {_mib(outcome.peak)}{part}; ru_maxrss {outcome.rss_after / 1024:,.0f} MiB"
                      + (f" (+{grew / 1024:,.0f} MiB in the call)" if grew > 0 else " (not raised by the call)"))
    if memory:
        parts.append("memory: " + ", ".join(memory))
    return "; ".join(parts)


def _per_group(data: SweepData, label: str, *, repeat: int, budget: float | None, report: Report) -> None:
    """What each group with a due block costs, whatever the number due: the pool's timeline
    (suspend_to_fit reads it), the pool owner and the recipients, for the first and the last
    group in tree order (the nested-set look-ups upwards scan the groups to its left)."""
    first, last = Group.objects.get(pk=data.group_ids[0]), Group.objects.get(pk=data.group_ids[-1])
    for name, call, group in (
            ("pools.timeline(pool, today)", lambda _i: pools.timeline(last, data.today), last),
            ("pools.pool_owner(first pool)", lambda _i: pools.pool_owner(first), first),
            ("pools.pool_owner(last pool)", lambda _i: pools.pool_owner(last), last),
            ("recipients_for(first group)", lambda _i: recipients_for(first), first),
            ("recipients_for(last group)", lambda _i: recipients_for(last), last)):
        sample = measure(call, repeat=repeat, budget=budget)
        left = Group.objects.filter(tree_id=group.tree_id, lft__lt=group.lft).count()
        report.add_sample("sweeps", f"  per group: {name}, {label}", sample, show_slowest=sample.median > 0.02,
                          note=f"{left:,} groups to its left in the tree")


def _step(data: SweepData, label: str, report: Report, *, budget: float | None, memory: bool) -> dict[str, Outcome]:
    """Both sweeps from the current state: timed; reset; under tracemalloc; reset."""
    blocks = data.blocks
    expiry_due, reminder_due = due_counts(data)
    print(f"  -- {label}: {blocks:,} blocks in the sweeps' company; due: {expiry_due:,} for expiry, "
          f"{reminder_due:,} for a reminder", flush=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outcomes = {}
    for sweep, due in zip(_sweeps(data), (expiry_due, reminder_due), strict=True):
        outcome = _timed(data, sweep, due, budget)
        reset(data)
        if memory:
            _traced(data, sweep, outcome, budget / 2 if budget else None)
            reset(data)
        report.add("sweeps", f"{sweep.name}: {label}", outcome.seconds, outcome.queries,
                   _note(outcome, blocks, budget), lower_bound=outcome.over_budget)
        outcomes[sweep.name] = outcome
    return outcomes


def _ratio(a: Outcome, b: Outcome) -> str:
    if a.estimate is None or b.estimate is None or not a.estimate:
        return "-"
    guess = " (estimated: over budget)" if a.over_budget or b.over_budget else ""
    return f"{b.estimate / a.estimate:.2f}{guess}"


def time_sweeps(operator: User, *, blocks: int, groups: int, residents: int, tag: str, budget: float | None,
                repeat: int, report: Report, memory: bool = True) -> None:
    began = time.perf_counter()
    print(f"  building {blocks:,} blocks over {groups:,} groups (not a measurement)", flush=True)
    data = build(operator, blocks=blocks, groups=groups, residents=residents, tag=tag, report=report)
    print(f"  built in {ms(time.perf_counter() - began)}", flush=True)
    elsewhere = due_counts(data)
    if any(elsewhere):
        print(f"  note: {elsewhere[0]:,} / {elsewhere[1]:,} blocks outside the sweeps' company are due too",
              flush=True)

    make_due(data, 100)
    one = _step(data, "1% due", report, budget=budget, memory=memory)
    _per_group(data, f"{blocks:,} blocks", repeat=repeat, budget=budget, report=report)
    make_due(data, 10)
    ten = _step(data, "10% due", report, budget=budget, memory=memory)
    shrink(data)  # what is left has the same due blocks as the 1% step (and no others)
    small = _step(data, "1/10 of the blocks, same due", report, budget=budget, memory=memory)
    _per_group(data, f"{blocks // 10:,} blocks", repeat=repeat, budget=budget, report=report)

    for name in one:
        report.add("sweeps", f"{name}: ratios", None,
                   note=f"time(10% due) / time(1% due) = {_ratio(one[name], ten[name])} (10 if the time follows "
                        f"the number due); time(1/10 of the blocks, same due) / time(1% due) = "
                        f"{_ratio(one[name], small[name])} (1 if the number of blocks does not matter)")
    expiry, reminders = one["expire_licenses"], one["send_license_reminders"]
    report.target(f"expire_licenses: {expiry.due:,} due among {blocks:,} blocks, {residents} resident(s) a pool",
                  ms(expiry.estimate), "< 10.0 s", None if expiry.estimate is None else expiry.estimate < 10)
    name = "expire_licenses"
    report.ratio_target(f"{name}: time(10% due) / time(1% due)", one[name].estimate, ten[name].estimate, near=10)
    report.ratio_target(f"{name}: time(1/10 of the blocks, same due) / time(1% due)", one[name].estimate,
                        small[name].estimate, near=1)
    name = "send_license_reminders"
    report.ratio_target(f"{name}: time(10% due) / time(1% due)", one[name].estimate, ten[name].estimate,
                        info="no bar: a mail lists all of a group's due blocks, so time follows the mails")
    report.ratio_target(f"{name}: time(1/10 of the blocks, same due) / time(1% due)", one[name].estimate,
                        small[name].estimate, near=1)
    per_block = reminders.estimate / reminders.due if reminders.estimate and reminders.due else None
    report.target("send_license_reminders at 1% due, per due block", ms(per_block), "<= 2.0 ms",
                  None if per_block is None else per_block <= 0.002)
    report.add("sweeps", "whole sweeps section", time.perf_counter() - began,
               note="build, three steps of both sweeps (timed and tracemalloc runs), resets")
