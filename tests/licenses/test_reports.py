import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.models import Group, Role
from licenses import services
from licenses.demo import seed_demo
from licenses.reports import PoolMap, usage_rows
from licenses.selectors import pool_status


@pytest.fixture
def demo(db):
    seed_demo()
    return services.today()


def test_usage_rows_agree_with_each_pools_own_status(demo):
    rows = {(r.group_id, r.feature): r for r in usage_rows(root=None, on=demo)}
    pools = Group.objects.filter(license_settings__restricted=True)
    assert pools.count() >= 7
    for pool in pools:
        for row in pool_status(group=pool, on=demo).counted:
            mine = rows[(pool.pk, row.feature.code)]
            assert (mine.limit, mine.held, mine.used) == (row.limit, row.held, row.used), (pool.name, row.feature.code)


def test_pool_map_handles_siblings_and_several_trees():
    # tree 1: A[1,10] ⊃ B[2,5]; C[6,9]; tree 2: D[1,4]
    pool_map = PoolMap([(1, 1, 10, "A"), (1, 2, 5, "B"), (1, 6, 9, "C"), (2, 1, 4, "D")])
    items = [(1, 3, 4, "in B"), (1, 7, 8, "in C"), (2, 2, 3, "in D"), (1, 6, 9, "C itself"), (2, 1, 4, "D itself")]
    assert pool_map.assign(items) == {"in B": "B", "in C": "C", "in D": "D", "C itself": "C", "D itself": "D"}
    assert pool_map.assign(items, strict=True)["C itself"] == "A"
    assert pool_map.assign(items, strict=True)["D itself"] is None


def login(client, email):
    from groups.models import User

    client.force_login(User.objects.get(email=email))


def test_dealer_sees_only_their_rows_in_report_chart_and_csv(demo, client):
    login(client, "dealer@kyivhomes.example")
    for url in ("/licenses/reports/usage/", "/licenses/reports/validity/", "/licenses/dashboard/"):
        page = client.get(url).content.decode()
        assert "Kyiv Homes" in page, url
        for other in ("Odesa Living", "Lviv Build", "Dnipro Systems", "Northwind Intercom"):
            assert other not in page, (url, other)
    for url in ("/licenses/reports/usage/?format=csv", "/licenses/reports/validity/?format=csv"):
        body = b"".join(client.get(url).streaming_content).decode()
        assert "Lviv Build" not in body and "Odesa Living" not in body and "Northwind" not in body


def test_csv_holds_exactly_what_is_filtered(demo, client):
    login(client, "distributor@northwind.example")
    kyiv = Group.objects.get(name="Kyiv Homes")
    query = f"subtree=Kyiv+Homes+%23{kyiv.pk}&feature=virtual_numbers"
    page = client.get(f"/licenses/reports/usage/?{query}").content.decode()
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get(f"/licenses/reports/usage/?{query}&format=csv")
                                                    .streaming_content).decode())))
    assert {r["group"] for r in rows} == {"Kyiv Homes", "Building 1"}
    assert {r["feature"] for r in rows} == {"virtual_numbers"}
    for r in rows:
        assert f"<td>{r['limit']}</td><td>{r['held']}</td><td>{r['used']}</td><td>{r['available']}</td>" in page


def test_a_subtree_outside_scope_is_refused_at_the_field(demo, client):
    login(client, "dealer@kyivhomes.example")
    lviv = Group.objects.get(name="Lviv Build")
    page = client.get(f"/licenses/reports/usage/?subtree=Lviv+%23{lviv.pk}").content.decode()
    assert "not in your scope" in page and "Lviv Build" not in page.replace("Lviv #", "")
    page = client.get("/licenses/reports/usage/?subtree=nonsense&day=31-12-2027").content.decode()
    assert "Pick a group from the list." in page and "Enter a valid date." in page


def test_validity_filters(demo, client):
    login(client, "operator@example.com")
    page = client.get("/licenses/reports/validity/?state=ending").content.decode()
    assert "Building 1" in page and "Northwind Intercom" in page  # the week's block and the Trials
    page = client.get("/licenses/reports/validity/?state=expired").content.decode()
    assert "1 block" in page
    page = client.get("/licenses/reports/validity/?date_op=lt").content.decode()
    assert "Enter the day to compare with." in page


def _counts(client, urls):
    out = []
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200, url
        out.append(len(ctx.captured_queries))
    return out


def test_report_and_dashboard_queries_do_not_grow_with_groups(db, operator, client):
    from groups import services as group_services
    from tests.factories import UserFactory
    from tests.licenses.helpers import block, give

    urls = ["/licenses/dashboard/", "/licenses/reports/usage/", "/licenses/reports/usage/?format=csv",
            "/licenses/reports/validity/", "/licenses/reports/validity/?format=csv&state=active"]
    counts = []
    for size in (10, 1000):
        company = group_services.group_create(parent=None, name=f"R{size}", kind="company", actor=operator)
        site = group_services.group_create(parent=company, name=f"S{size}", kind="site", actor=operator)
        group_services.groups_generate(parent=site, plan=group_services.GenerationPlan(1, 0, 1, size - 3),
                                       actor=operator)
        for apartment in list(site.get_descendants().filter(kind="apartment"))[:5]:
            give(apartment, block(0, 0, days=30), actor=operator)
        admin = UserFactory(email=f"r{size}@test.example")
        admin.memberships.create(group=company, role=Role.COMPANY_ADMIN)
        client.force_login(admin)
        counts.append(_counts(client, urls))
    assert counts[0] == counts[1], counts
