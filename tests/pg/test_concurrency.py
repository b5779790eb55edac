"""Real concurrency on PostgreSQL: threads with their own connections, real advisory locks."""

import random
import re
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from groups import services as group_services
from groups.integrity import tree_problems
from groups.models import Group, Role
from licenses import pools, services
from licenses.models import LicenseBlock
from tests.factories import MembershipFactory, UserFactory
from tests.licenses.helpers import block, drop_trials, give

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(target, count: int) -> list:
    errors: list = []
    barrier = threading.Barrier(count)

    def wrapped(index):
        try:
            barrier.wait()
            target(index)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def test_runs_on_postgresql():
    assert connection.vendor == "postgresql"


def test_concurrent_inserts_and_moves_keep_the_nested_sets_exact(operator):
    company = group_services.group_create(parent=None, name="Busy", kind="company", actor=operator)
    sites = [group_services.group_create(parent=company, name=f"Site {i}", kind="site", actor=operator) for i in range(4)]
    site_ids = [s.pk for s in sites]

    def work(index):
        rng = random.Random(index)
        for n in range(15):
            if index % 3 == 0 and n % 3 == 0:
                candidates = list(Group.objects.filter(tree_id=company.tree_id, kind="building"))
                if candidates:
                    group = rng.choice(candidates)
                    target = Group.objects.get(pk=rng.choice(site_ids))
                    try:
                        group_services.group_move(group=group, new_parent=target, actor=operator)
                    except ValidationError:
                        pass
                continue
            parent = Group.objects.get(pk=rng.choice(site_ids))
            group_services.group_create(parent=parent, name=f"B{index}-{n}", kind="building", actor=operator)

    errors = run_threads(work, 8)
    assert errors == []
    assert tree_problems(company.tree_id) == []
    assert Group.objects.filter(tree_id=company.tree_id, kind="building").count() == 8 * 15 - 3 * 5


def test_twenty_allocators_never_exceed_the_pool_on_any_day(operator):
    company = group_services.group_create(parent=None, name="Pool Co", kind="company", actor=operator)
    drop_trials(company)
    today = services.today()
    give(company, block(300, 300, 300, start=today, days=200, switches=["guest_access"]), actor=operator, on=today)
    dealers = [group_services.group_create(parent=company, name=f"Dealer {i}", kind="custom", actor=operator)
               for i in range(10)]
    site = group_services.group_create(parent=company, name="Shared site", kind="site", actor=operator)
    apartments = [group_services.group_create(parent=site, name=f"Apt {i}", kind="apartment", actor=operator)
                  for i in range(20)]
    residents = []
    for apartment in apartments:
        user = UserFactory()
        MembershipFactory(user=user, group=apartment, role=Role.RESIDENT)
        residents.append((apartment.pk, user.pk))
    refusals: list[str] = []

    def work(index):
        rng = random.Random(1000 + index)
        for _ in range(4):
            amount = rng.randint(5, 60)
            try:
                if index % 2:
                    dealer = Group.objects.get(pk=dealers[rng.randrange(len(dealers))].pk)
                    existing = list(LicenseBlock.objects.filter(group=dealer))
                    start = today + timedelta(days=rng.randint(0, 50))
                    give(dealer, *[services.block_to_input(b) for b in existing],
                         block(amount, amount, amount, start=start, days=rng.randint(10, 150), key=f"t{index}"),
                         actor=operator, on=today)
                else:
                    apartment_id, user_id = residents[index // 2 + rng.randrange(2) * 10]
                    apartment = Group.objects.get(pk=apartment_id)
                    user = apartment.memberships.get(user_id=user_id).user
                    services.grant_set(group=apartment, user=user, actor=operator, on=today,
                                       quantities={"virtual_numbers": amount, "mobile_apps": amount})
            except ValidationError as exc:
                refusals.append(" ".join(exc.messages))

    errors = run_threads(work, 20)
    assert errors == []
    assert refusals, "the amounts are chosen so that some requests must be refused"
    assert all(re.search(r"free on .*: lower it by|pool has .* short|ends on", r) for r in refusals), refusals
    company.refresh_from_db()
    timeline = pools.timeline(company, today)
    features = pools.all_features()
    checked = 0
    for i, day in enumerate(timeline.days):
        for fid, feature in features.items():
            capacity = timeline.capacity[i].get(fid, 0)
            if feature.is_counted and capacity:  # after the pool's end residents wait for the expiry sweep
                demand = timeline.carved[i].get(fid, 0) + timeline.residents.get(fid, 0)
                assert demand <= capacity, (feature.code, day, demand, capacity)
                checked += 1
    assert checked >= 3
