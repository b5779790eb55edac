"""The stored totals never drift: thousands of random writes through the services (blocks,
grants, devices, moves, restriction switches, expiry on later days), refused or accepted as the
rules decide, then check_integrity finds nothing. A fixed seed: a failure replays exactly."""

import random
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from groups import services as group_services
from groups.models import Group, Membership, Role
from licenses import integrity, selectors, services, totals
from licenses.expiry import expire_licenses
from licenses.models import Device
from tests.factories import UserFactory
from tests.licenses.helpers import TODAY, block, company_pool, give

WRITES = 2000


@pytest.mark.parametrize("seed", [7])
def test_thousands_of_random_writes_leave_no_drift(tree, operator, seed):
    rng = random.Random(seed)
    company_pool(tree, actor=operator, vn=400, apps=300, days=2000)
    company = tree["Company A"]
    inner = [g for g in Group.objects.filter(tree_id=company.tree_id).exclude(pk=company.pk)
             if g.kind != Group.Kind.APARTMENT]
    apartments = list(Group.objects.filter(tree_id=company.tree_id, kind=Group.Kind.APARTMENT))
    residents = []
    for n, apartment in enumerate(apartments):
        for m in range(2):
            user = UserFactory(email=f"drift-{n}-{m}@test.example")
            Membership.objects.create(user=user, group=apartment, role=Role.RESIDENT)
            residents.append((apartment.pk, user))
    today = TODAY
    done = {"accepted": 0, "refused": 0}

    def set_block(group):
        own = selectors.group_blocks(group)
        start = today + timedelta(days=rng.randint(-5, 40))
        days = rng.choice([None, 1, 10, 60, 200])
        replace = rng.choice(own) if own and rng.random() < 0.5 else None
        give(group, block(rng.randint(0, 30), rng.randint(0, 20), rng.randint(0, 5), start=start, days=days,
                          switches=rng.choice([(), ("remote_door_opening",)]), id=replace.pk if replace else None),
             actor=operator, on=today, confirm=rng.random() < 0.7)

    def delete_block(group):
        own = selectors.group_blocks(group)
        if own:
            give(group, actor=operator, on=today, confirm=True, delete_ids=[rng.choice(own).pk],
                 restricted=services.settings_input(group).restricted)

    def toggle(group):
        current = services.settings_input(group)
        current.restricted = not current.restricted
        services.licenses_save(group=group, settings=current, blocks=[], actor=operator, on=today,
                               confirm_suspend=rng.random() < 0.7)

    def grant(_group):
        apartment_id, user = rng.choice(residents)
        services.grant_set(group=Group.objects.get(pk=apartment_id), user=user, actor=operator, on=today,
                           quantities={"virtual_numbers": rng.randint(0, 3), "mobile_apps": rng.randint(0, 2),
                                       "remote_door_opening": rng.randint(0, 1)})

    def device(group):
        devices = list(Device.objects.filter(group__tree_id=company.tree_id))
        if devices and rng.random() < 0.4:
            services.device_unregister(device=rng.choice(devices), actor=operator, on=today, confirm_suspend=True)
        else:
            services.device_register(group=group, serial_number=f"D-{rng.random()}", model="AV", actor=operator,
                                     on=today)

    def move(group):
        if group.kind in (Group.Kind.BUILDING, Group.Kind.APARTMENT, Group.Kind.FLOOR):
            target = rng.choice([g for g in inner if g.kind in (Group.Kind.SITE, Group.Kind.DEALER)])
            target.refresh_from_db()
            group_services.group_move(group=group, new_parent=target, actor=operator,
                                      confirm_suspend=rng.random() < 0.7)

    writes = [(set_block, 30), (delete_block, 6), (toggle, 8), (grant, 30), (device, 8), (move, 6)]
    for step in range(WRITES):
        write = rng.choices([w for w, _n in writes], weights=[n for _w, n in writes])[0]
        group = Group.objects.get(pk=rng.choice(inner + apartments).pk)
        try:
            with time_machine.travel(today):
                write(group)
            done["accepted"] += 1
        except (ValidationError, PermissionDenied):
            done["refused"] += 1
        if step % 100 == 99:  # time passes: the nightly sweep runs on each day
            for _ in range(rng.randint(1, 20)):
                today += timedelta(days=1)
                with time_machine.travel(today):
                    expire_licenses(on=today)
    assert done["accepted"] > WRITES // 3, done  # the writes mostly happened, not only refusals
    assert totals.drift() == []
    assert integrity.check(on=today) == []
