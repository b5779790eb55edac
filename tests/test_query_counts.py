"""Main pages' query counts do not grow with rows: pinned at a small and a large size."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups import services as group_services
from groups.models import Group, Membership, Role, User
from licenses import totals
from licenses.models import BlockFeature, Feature, Grant, GrantFeature, LicenseBlock, PoolSettings
from tests.factories import UserFactory


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def company_of(size: str, operator) -> tuple[Group, Group, User]:
    company = group_services.group_create(parent=None, name=f"Co {size}", kind="company", actor=operator)
    site = group_services.group_create(parent=company, name=f"Site {size}", kind="site", actor=operator)
    plan = (group_services.GenerationPlan(1, 0, 1, 6) if size == "small"
            else group_services.GenerationPlan(20, 5, 10, 9))  # 20 * (1 + 5 * (1 + 10 * 10)) = 10,120 groups
    group_services.groups_generate(parent=site, plan=plan, actor=operator)
    admin = UserFactory(email=f"admin-{size}@test.example")
    Membership.objects.create(user=admin, group=company, role=Role.COMPANY_ADMIN)
    site.refresh_from_db()
    return company, site, admin


def test_tree_and_group_pages_do_not_grow_with_the_tree(client, operator):
    counts = {}
    for size in ("small", "big"):
        company, site, admin = company_of(size, operator)
        client.force_login(admin)
        building = site.get_children().first()
        counts[size] = [count(client, url) for url in (
            "/groups/", f"/groups/{site.pk}/", f"/groups/{building.pk}/", f"/groups/{site.pk}/children/",
            "/groups/?q=Building", f"/licenses/groups/{building.pk}/")]
    assert Group.objects.filter(tree_id=company.tree_id).count() > 10_000
    assert counts["small"] == counts["big"], counts


def _pool_with(size: int, operator) -> tuple[Group, User]:
    today = timezone.localdate()
    company = group_services.group_create(parent=None, name=f"Pool co {size}", kind="company", actor=operator)
    dealer = group_services.group_create(parent=company, name=f"Dealer {size}", kind="custom", actor=operator)
    group_services.groups_generate(parent=dealer, plan=group_services.GenerationPlan(1, 0, 1, size), actor=operator)
    PoolSettings.objects.create(group=dealer, restricted=True)
    features = {f.code: f for f in Feature.objects.all()}
    block = LicenseBlock.objects.create(group=dealer, kind="plus", valid_from=today,
                                        valid_until=today + timedelta(days=300))
    BlockFeature.objects.create(block=block, feature=features["virtual_numbers"], quantity=10 * size)
    dealer.refresh_from_db()  # generation moved its nested-set columns
    apartments = list(dealer.get_descendants().filter(kind="apartment"))
    assert len(apartments) == size
    # Every apartment its own restricted pool with a block; and a resident with a grant.
    PoolSettings.objects.bulk_create([PoolSettings(group=a, restricted=True) for a in apartments])
    blocks = LicenseBlock.objects.bulk_create([
        LicenseBlock(group=a, kind="plus", valid_from=today, valid_until=today + timedelta(days=100 + i % 50))
        for i, a in enumerate(apartments)])
    BlockFeature.objects.bulk_create([BlockFeature(block=b, feature=features["virtual_numbers"], quantity=5)
                                      for b in blocks])
    users = User.objects.bulk_create([User(email=f"r{size}-{i}@test.example") for i in range(size)])
    Membership.objects.bulk_create([Membership(user=u, group=a, role=Role.RESIDENT) for u, a in zip(users, apartments, strict=True)])
    grants = Grant.objects.bulk_create([Grant(group=a, user=u, granted_at=timezone.now()) for u, a in zip(users, apartments, strict=True)])
    GrantFeature.objects.bulk_create([GrantFeature(grant=g, feature=features["virtual_numbers"], quantity=1) for g in grants])
    own = LicenseBlock.objects.bulk_create([LicenseBlock(group=dealer, kind="plus", valid_from=today + timedelta(days=i % 150),
                                                         valid_until=today + timedelta(days=200)) for i in range(size)])
    BlockFeature.objects.bulk_create([BlockFeature(block=b, feature=features["ukey2_keys"], quantity=1) for b in own])
    totals.rebuild_all()  # the rows above bypassed the services, which keep the pools' totals
    admin = UserFactory(email=f"pool-admin-{size}@test.example")
    Membership.objects.create(user=admin, group=company, role=Role.COMPANY_ADMIN)
    return dealer, admin


@pytest.mark.parametrize(("url", "most"), [("/licenses/groups/{pk}/", 19), ("/licenses/groups/{pk}/devices/", 9),
                                           ("/licenses/reports/usage/", 40), ("/licenses/dashboard/", 40)])
def test_licenses_page_does_not_grow_with_blocks_children_or_residents(client, operator, url, most):
    counts = []
    for size in (10, 1000):
        dealer, admin = _pool_with(size, operator)
        client.force_login(admin)
        counts.append(count(client, url.format(pk=dealer.pk)))
    assert counts[0] == counts[1], counts
    assert counts[0] <= most, counts  # an upper bound, not only "small equals large"
