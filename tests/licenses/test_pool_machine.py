"""A stateful property test of the pool rules: random operations through the real services, over
random days, judged against a small reference model written apart from `licenses/pools.py`.

The model is deliberately naive: it reads the rows and walks the days one by one. After every
step the machine asserts that
- a refused operation changed nothing;
- every sub-group's block fits its owner's pool on every day of the horizon (rule 1);
- the residents a pool serves fit its room today (rule 2 and the sweep's fallback);
- a new grant is accepted exactly when the model says it fits (today and every later day until
  the pool's own capacity falls);
- after a sweep, no suspended grant is left that would fit again (rule 4: restore on any day
  room comes back, a scheduled block starting included);
- `check_integrity` finds nothing.

`make test` runs a modest profile; HYPOTHESIS_PROFILE=nightly runs a deeper one.
"""

import os
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from groups import services as group_services
from groups.models import Group, Membership, Role
from licenses import integrity, services
from licenses.expiry import expire_licenses
from licenses.models import BlockFeature, Device, Grant, GrantFeature, LicenseBlock, PoolSettings
from tests.factories import UserFactory

settings.register_profile("ci", max_examples=12, stateful_step_count=14, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("nightly", max_examples=300, stateful_step_count=40, deadline=None,
                          suppress_health_check=list(HealthCheck))
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

START = date(2027, 1, 10)
HORIZON = 45  # days the model looks ahead
FEATURES = ["virtual_numbers", "mobile_apps", "ukey2_keys"]
GROUPS = ["Dealer", "Site", "Building"]  # Company > Dealer > Site > Building > apartments


# --- the reference model: rows in, day by day -------------------------------------------------


class Rows:
    """The rows the rules speak of, read once; every question is answered by walking them."""

    def __init__(self):
        self.parents = dict(Group.objects.values_list("pk", "parent_id"))
        self.restricted = set(PoolSettings.objects.filter(restricted=True).values_list("group_id", flat=True))
        quantities: dict[int, dict[str, int]] = {}
        for block_id, code, quantity in BlockFeature.objects.values_list("block_id", "feature__code", "quantity"):
            quantities.setdefault(block_id, {})[code] = quantity
        self.blocks = [(b, quantities.get(b.pk, {})) for b in LicenseBlock.objects.all()]
        grant_q: dict[int, dict[str, int]] = {}
        for grant_id, code, quantity in GrantFeature.objects.values_list("grant_id", "feature__code", "quantity"):
            grant_q.setdefault(grant_id, {})[code] = quantity
        self.grants = [(g, grant_q.get(g.pk, {})) for g in Grant.objects.order_by("granted_at", "pk")]

    def serving(self, group_id: int | None) -> int | None:
        while group_id is not None:
            if group_id in self.restricted:
                return group_id
            group_id = self.parents[group_id]
        return None

    def owner(self, group_id: int) -> int | None:
        parent = self.parents[group_id]
        return self.serving(parent) if parent is not None else None

    def day(self, pool_id: int, day: date) -> tuple[dict[str, int], dict[str, int]]:
        """(capacity, carved) of a pool on one day, by the product's words."""
        capacity = {f: 0 for f in FEATURES}
        carved = {f: 0 for f in FEATURES}
        for block, q in self.blocks:
            if not (block.valid_from <= day and (block.valid_until is None or day <= block.valid_until)):
                continue
            if block.device_id is not None:
                bucket = capacity if self.serving(block.group_id) == pool_id else None
            elif block.group_id == pool_id:
                bucket = capacity if pool_id in self.restricted else None
            elif block.group_id in self.restricted and self.owner(block.group_id) == pool_id:
                bucket = carved
            else:
                bucket = None
            if bucket is not None:
                for f in FEATURES:
                    bucket[f] += q.get(f, 0)
        return capacity, carved

    def residents(self, pool_id: int) -> dict[str, int]:
        used = {f: 0 for f in FEATURES}
        for grant, q in self.grants:
            if grant.suspended_at is None and self.serving(grant.group_id) == pool_id:
                for f in FEATURES:
                    used[f] += q.get(f, 0)
        return used

    def grant_room(self, pool_id: int, today: date) -> dict[str, int]:
        """What a new grant may take: the least room from today until the pool's own capacity falls."""
        cap0, _ = self.day(pool_id, today)
        used = self.residents(pool_id)
        days = [self.day(pool_id, today + timedelta(days=n)) for n in range(HORIZON)]
        room = {}
        for f in FEATURES:
            least = None
            for capacity, carved in days:
                if capacity[f] < cap0[f]:
                    break
                free = capacity[f] - carved[f]
                least = free if least is None else min(least, free)
            room[f] = (least if least is not None else 0) - used[f]
        return room


def snapshot() -> tuple:
    return (
        tuple(LicenseBlock.objects.order_by("pk").values_list("pk", "group_id", "valid_from", "valid_until", "kind")),
        tuple(BlockFeature.objects.order_by("pk").values_list("block_id", "feature_id", "quantity")),
        tuple(PoolSettings.objects.order_by("pk").values_list("group_id", "restricted")),
        tuple(Grant.objects.order_by("pk").values_list("pk", "suspended_at")),
        tuple(GrantFeature.objects.order_by("pk").values_list("grant_id", "feature_id", "quantity")),
        tuple(Device.objects.order_by("pk").values_list("pk", "group_id")),
        tuple(Group.objects.order_by("pk").values_list("pk", "parent_id")),
    )


# --- the machine ------------------------------------------------------------------------------


class PoolMachine(RuleBasedStateMachine):
    @initialize()
    def build(self):
        # Each example starts from the same empty database: its writes are rolled back at teardown.
        self._example = transaction.atomic()
        self._example.__enter__()
        self.today = START
        self.operator = UserFactory(email="machine-operator@test.example", is_superuser=True, is_staff=True)
        with time_machine.travel(START):
            company = group_services.group_create(parent=None, name="Company", kind="company", actor=self.operator)
            LicenseBlock.objects.filter(group=company).delete()
            services.licenses_save(group=company, settings=services.SettingsInput(restricted=True),
                                   blocks=[self._input("root", None, 0, 2 * HORIZON, 16)], actor=self.operator, on=START)
            dealer = group_services.group_create(parent=company, name="Dealer", kind="custom", actor=self.operator)
            site = group_services.group_create(parent=dealer, name="Site", kind="site", actor=self.operator)
            building = group_services.group_create(parent=site, name="Building", kind="building", actor=self.operator)
            self.apartments = [
                group_services.group_create(parent=parent, name=f"Flat {n}", kind="apartment", actor=self.operator)
                for n, parent in enumerate((dealer, site, building, building))]
        self.groups = {"Company": company.pk, "Dealer": dealer.pk, "Site": site.pk, "Building": building.pk}
        self.residents = []
        for n, apartment in enumerate(self.apartments):
            for m in range(2):
                user = UserFactory(email=f"machine-resident-{n}-{m}@test.example")
                Membership.objects.create(user=user, group=apartment, role=Role.RESIDENT)
                self.residents.append((apartment.pk, user.pk))
        self.devices = 0

    def _input(self, key, block_id, start, days, quantity, kind="plus") -> services.BlockInput:
        valid_from = START + timedelta(days=start)
        return services.BlockInput(key=key, id=block_id, kind=kind, valid_from=valid_from,
                                   valid_until=valid_from + timedelta(days=days - 1) if days else None,
                                   quantities={"virtual_numbers": quantity, "mobile_apps": quantity // 2,
                                               "ukey2_keys": quantity // 3})

    def _attempt(self, call):
        """Run one service call; a refusal must leave the data exactly as it was."""
        before = snapshot()
        try:
            with time_machine.travel(self.today):
                call()
        except (ValidationError, PermissionDenied):
            assert snapshot() == before, "a refused operation changed the data"
            return False
        return True

    @rule(name=st.sampled_from(GROUPS), start=st.integers(0, 30), days=st.integers(1, 30),
          quantity=st.integers(0, 12), confirm=st.booleans(), replace=st.sampled_from([None, 0, 1, 2]))
    def set_block(self, name, start, days, quantity, confirm, replace):
        """Add a block to a group, or replace (raise, lower, lengthen, shorten) one of its blocks."""
        group = Group.objects.get(pk=self.groups[name])
        existing = list(LicenseBlock.objects.filter(group=group, device__isnull=True).order_by("pk"))
        block_id = existing[replace % len(existing)].pk if (replace is not None and existing) else None
        data = self._input("b", block_id, start, days, quantity)
        self._attempt(lambda: services.licenses_save(
            group=group, settings=services.SettingsInput(restricted=True), blocks=[data], actor=self.operator,
            on=self.today, confirm_suspend=confirm))

    @rule(name=st.sampled_from(["Company", *GROUPS]), slack=st.integers(0, 3), confirm=st.booleans())
    def lower_to_the_edge(self, name, slack, confirm):
        """Lower a group's first block to just around what its sub-groups hold at their peak:
        the boundary where a lowering breaks a later sub-group block."""
        group = Group.objects.get(pk=self.groups[name])
        first = LicenseBlock.objects.filter(group=group, device__isnull=True).order_by("pk").first()
        if first is None:
            return
        rows = Rows()
        peak = max(rows.day(group.pk, self.today + timedelta(days=n))[1]["virtual_numbers"] for n in range(HORIZON))
        data = services.block_to_input(first, key="b")
        quantity = max(peak - slack, 0)
        data.quantities = {"virtual_numbers": quantity, "mobile_apps": min(data.quantities.get("mobile_apps", 0),
                                                                            quantity),
                           "ukey2_keys": data.quantities.get("ukey2_keys", 0)}
        self._attempt(lambda: services.licenses_save(
            group=group, settings=services.settings_input(group), blocks=[data], actor=self.operator,
            on=self.today, confirm_suspend=confirm))

    @rule(name=st.sampled_from(GROUPS), confirm=st.booleans())
    def delete_block(self, name, confirm):
        group = Group.objects.get(pk=self.groups[name])
        block = LicenseBlock.objects.filter(group=group, device__isnull=True).order_by("-pk").first()
        if block is None:
            return
        self._attempt(lambda: services.licenses_save(
            group=group, settings=services.settings_input(group), blocks=[], delete_ids=[block.pk],
            actor=self.operator, on=self.today, confirm_suspend=confirm))

    @rule(name=st.sampled_from(GROUPS), restricted=st.booleans(), confirm=st.booleans())
    def toggle_restriction(self, name, restricted, confirm):
        group = Group.objects.get(pk=self.groups[name])
        current = services.settings_input(group)
        current.restricted = restricted
        self._attempt(lambda: services.licenses_save(group=group, settings=current, blocks=[], actor=self.operator,
                                                     on=self.today, confirm_suspend=confirm))

    @rule(index=st.integers(0, 7), quantity=st.integers(0, 4))
    def grant(self, index, quantity):
        apartment_id, user_id = self.residents[index]
        apartment = Group.objects.get(pk=apartment_id)
        rows = Rows()
        pool = rows.serving(apartment_id)
        asked = {"virtual_numbers": quantity, "mobile_apps": quantity // 2}
        expected = True
        if pool is not None:
            held = next((q for g, q in rows.grants if g.group_id == apartment_id and g.user_id == user_id
                         and g.suspended_at is None), {})
            room = rows.grant_room(pool, self.today)
            expected = all(asked[f] - held.get(f, 0) <= max(room[f], 0) or asked[f] <= held.get(f, 0)
                           for f in asked)
        accepted = self._attempt(lambda: services.grant_set(
            group=apartment, user=apartment.memberships.get(user_id=user_id).user, quantities=asked,
            actor=self.operator, on=self.today))
        assert accepted == expected, f"grant of {asked} in pool {pool}: accepted {accepted}, model {expected}"

    @rule(index=st.integers(0, 3), add=st.booleans())
    def device(self, index, add):
        apartment = self.apartments[index]
        if add:
            self.devices += 1
            self._attempt(lambda: services.device_register(
                group=apartment, serial_number=f"M-{self.devices}", model="AV", actor=self.operator, on=self.today))
        else:
            device = Device.objects.filter(group=apartment).first()
            if device is not None:
                self._attempt(lambda: services.device_unregister(device=device, actor=self.operator, on=self.today,
                                                                 confirm_suspend=True))

    @rule(days=st.integers(1, 12))
    def next_days(self, days):
        """Time passes; the daily sweep runs on each day (the beat never misses here)."""
        for _ in range(days):
            self.today += timedelta(days=1)
            with time_machine.travel(self.today):
                expire_licenses(on=self.today)
        rows = Rows()
        for pool in {rows.serving(a) for a, _u in self.residents} - {None}:
            room = rows.grant_room(pool, self.today)
            for grant, q in rows.grants:
                if grant.suspended_at is None or rows.serving(grant.group_id) != pool:
                    continue
                fits = all(q.get(f, 0) <= room[f] for f in FEATURES if q.get(f, 0))
                assert not fits, f"grant {grant.pk} would fit pool {pool} again on {self.today} but stays suspended"
                break  # oldest first: once the oldest does not fit, the order allows stopping

    def _pools(self, rows: Rows) -> list[tuple[str, int]]:
        """(name, id) of the machine's groups that have a pool of their own now."""
        return [(name, pk) for name, pk in self.groups.items() if pk in rows.restricted]

    def teardown(self):
        if hasattr(self, "_example"):
            transaction.set_rollback(True)
            self._example.__exit__(None, None, None)

    @precondition(lambda self: hasattr(self, "groups"))
    @invariant()
    def sub_group_blocks_fit_on_every_day(self):
        rows = Rows()
        for name, group_id in self._pools(rows):
            for n in range(HORIZON):
                day = self.today + timedelta(days=n)
                capacity, carved = rows.day(group_id, day)
                over = {f: (carved[f], capacity[f]) for f in FEATURES if carved[f] > capacity[f]}
                assert not over, f"{name}'s sub-groups hold more than it has on {day}: {over}"

    @precondition(lambda self: hasattr(self, "groups"))
    @invariant()
    def residents_fit_today(self):
        rows = Rows()
        for name, group_id in self._pools(rows):
            capacity, carved = rows.day(group_id, self.today)
            used = rows.residents(group_id)
            over = {f: used[f] for f in FEATURES if used[f] > capacity[f] - carved[f]}
            assert not over, f"{name}'s residents use more than its room on {self.today}: {over}"

    @precondition(lambda self: hasattr(self, "groups"))
    @invariant()
    def integrity_is_clean(self):
        problems = integrity.check(on=self.today)
        assert not problems, [p.as_dict() for p in problems]


@pytest.mark.django_db
def test_the_pool_rules_hold_on_every_day():
    machine = PoolMachine.TestCase
    machine.settings = settings.get_profile(PROFILE)
    machine("runTest").runTest()
