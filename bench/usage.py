"""The usage report for the big company, against the floor: the same numbers from one
hand-written SQL query over the same data, in the same run.

The pool rules (docs: product.md, "The pool rules"), as the query computes them for `on`:
  - a pool is a group whose PoolSettings.restricted is true;
  - a group is served by its nearest restricted ancestor-or-self (nested sets: A is an
    ancestor-or-self of G when A.tree_id = G.tree_id AND A.lft <= G.lft AND A.rght >= G.rght);
  - a pool's owner is its nearest restricted strict ancestor, i.e. the pool serving its parent;
  - limit = the pool's own blocks valid on `on` (device_id IS NULL) + the devices' Basic
    blocks valid on `on` in the groups it serves;
  - held = the own blocks valid on `on` of the pools it owns;
  - used = the quantities of the active (suspended_at IS NULL) grants of the residents of
    the groups it serves.
"""

from datetime import date

from django.db import connection
from django.test import Client

from groups.models import Group
from licenses.models import BlockFeature, Feature, Grant, GrantFeature, LicenseBlock, PoolSettings
from licenses.reports import usage_rows

from .measure import Report, measure, ms
from .tree import time_pages

Numbers = dict[tuple[int, str], tuple[int, int, int]]  # (pool id, feature code) -> (limit, held, used)


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def floor_sql() -> str:
    """One statement, valid on SQLite and PostgreSQL. Each group's serving pool is found by
    joining the pools to the groups of their subtrees (a range scan of the (tree_id, lft)
    index per pool) and keeping the deepest one (the largest lft); a pool's owner is the pool
    serving its parent. "COALESCE(device_id, 0) = 0" rather than "device_id IS NULL": SQLite,
    without statistics, takes the latter for a one-row look-up in device_id's unique index and
    walks every block without a device (see the sweeps' pools.timeline)."""
    g, ps, b, bf, f, gr, gf = (_t(m) for m in (Group, PoolSettings, LicenseBlock, BlockFeature, Feature, Grant,
                                                GrantFeature))
    valid = "b.valid_from <= %(on)s AND (b.valid_until IS NULL OR b.valid_until >= %(on)s)"
    return f"""
WITH pools AS (
    SELECT pg.id, pg.lft, pg.rght, pg.parent_id
    FROM {g} pg JOIN {ps} s ON s.group_id = pg.id
    WHERE s.restricted = %(true)s AND pg.tree_id = %(tree)s
),
deepest AS (
    SELECT sg.id AS group_id, MAX(p.lft) AS pool_lft
    FROM pools p JOIN {g} sg ON sg.tree_id = %(tree)s AND sg.lft >= p.lft AND sg.lft <= p.rght AND sg.rght <= p.rght
    GROUP BY sg.id
),
served AS (
    SELECT d.group_id, p.id AS pool_id FROM deepest d JOIN pools p ON p.lft = d.pool_lft
),
own AS (
    SELECT b.group_id AS pool_id, bf.feature_id, SUM(bf.quantity) AS qty
    FROM {b} b JOIN {bf} bf ON bf.block_id = b.id
    WHERE COALESCE(b.device_id, 0) = 0 AND {valid} AND b.group_id IN (SELECT id FROM pools)
    GROUP BY b.group_id, bf.feature_id
),
devices AS (
    SELECT sv.pool_id, bf.feature_id, SUM(bf.quantity) AS qty
    FROM {b} b JOIN {bf} bf ON bf.block_id = b.id JOIN served sv ON sv.group_id = b.group_id
    WHERE b.device_id IS NOT NULL AND {valid}
    GROUP BY sv.pool_id, bf.feature_id
),
held AS (
    SELECT sv.pool_id, own.feature_id, SUM(own.qty) AS qty
    FROM own JOIN pools child ON child.id = own.pool_id JOIN served sv ON sv.group_id = child.parent_id
    GROUP BY sv.pool_id, own.feature_id
),
used AS (
    SELECT sv.pool_id, gf.feature_id, SUM(gf.quantity) AS qty
    FROM {gf} gf JOIN {gr} gr ON gr.id = gf.grant_id JOIN served sv ON sv.group_id = gr.group_id
    WHERE gr.suspended_at IS NULL
    GROUP BY sv.pool_id, gf.feature_id
)
SELECT p.id, f.code,
       COALESCE(o.qty, 0) + COALESCE(d.qty, 0) AS limit_total,
       COALESCE(h.qty, 0) AS held_total,
       COALESCE(u.qty, 0) AS used_total
FROM pools p
CROSS JOIN {f} f
LEFT JOIN own o ON o.pool_id = p.id AND o.feature_id = f.id
LEFT JOIN devices d ON d.pool_id = p.id AND d.feature_id = f.id
LEFT JOIN held h ON h.pool_id = p.id AND h.feature_id = f.id
LEFT JOIN used u ON u.pool_id = p.id AND u.feature_id = f.id
WHERE f.kind = %(counted)s AND p.lft >= %(lft)s AND p.rght <= %(rght)s
ORDER BY p.lft, f.position, f.code
"""


def floor_numbers(root: Group, on: date) -> Numbers:
    params = {"true": True, "tree": root.tree_id, "lft": root.lft, "rght": root.rght, "on": on,
              "counted": Feature.Kind.COUNTED.value}
    with connection.cursor() as cursor:
        cursor.execute(floor_sql(), params)
        return {(pk, code): (int(limit), int(held), int(used)) for pk, code, limit, held, used in cursor.fetchall()}


def report_numbers(root: Group, on: date) -> Numbers:
    return {(r.group_id, r.feature): (r.limit, r.held, r.used) for r in usage_rows(root=root, on=on)}


def differences(app: Numbers, floor: Numbers, limit: int = 5) -> list[str]:
    out = []
    for key in sorted(set(app) | set(floor)):
        a, b = app.get(key), floor.get(key)
        if a != b:
            out.append(f"pool {key[0]} {key[1]}: usage_rows (limit, held, used) {a}, SQL {b}")
            if len(out) >= limit:
                break
    return out


def time_usage_report(company: Group, client: Client, *, on: date, repeat: int, budget: float | None,
                      report: Report) -> None:
    company.refresh_from_db()
    groups = company.get_descendant_count() + 1
    app = measure(lambda _i: report_numbers(company, on), repeat=repeat, budget=budget)
    floor = measure(lambda _i: floor_numbers(company, on), repeat=repeat, budget=budget)
    pools = len({pk for pk, _code in app.result}) if app.result else 0
    report.add_sample("report", "usage_rows(root=company, today)", app,
                      note=f"{len(app.result or {}):,} rows: {pools:,} pools × counted features; "
                           f"company of {groups:,} groups", show_slowest=True)
    report.add_sample("report", "floor: one hand-written SQL query", floor,
                      note="the same numbers on the same data", show_slowest=True)
    if app.result is not None and floor.result is not None:
        diffs = differences(app.result, floor.result)
        print(f"      {'match' if not diffs else 'DIFFERENT'}: usage_rows and the SQL floor "
              f"({len(app.result):,} and {len(floor.result):,} rows)", flush=True)
        for line in diffs:
            print(f"        {line}", flush=True)
        totals = {}
        for (_pk, code), (limit, held, used) in app.result.items():
            t = totals.setdefault(code, [0, 0, 0])
            t[0], t[1], t[2] = t[0] + limit, t[1] + held, t[2] + used
        for code, (limit, held, used) in totals.items():
            print(f"      {code:<16} summed over the pools: limit {limit:>13,}  held {held:>11,}  used {used:>9,}",
                  flush=True)
        verdict = "match" if not diffs else f"DIFFERENT: {len(diffs)}+ rows differ"
    else:
        verdict = "not compared: a run was interrupted"
    ratio = (f"{app.median / floor.median:,.1f}" if not (app.interrupted or floor.interrupted) and floor.median
             else "-")
    report.add("report", "usage_rows / floor", None,
               note=f"ratio {ratio} ({ms(app.median)} / {ms(floor.median)}); numbers: {verdict}")
    page, dashboard = time_pages(client, [
        ("usage report, first page", "/licenses/reports/usage/", "company administrator"),
        ("dashboard", "/licenses/dashboard/", "company administrator")],
        repeat=repeat, budget=budget, report=report, section="report")

    def csv(_index: int) -> int:
        response = client.get("/licenses/reports/usage/?format=csv")
        return sum(len(chunk) for chunk in response.streaming_content)

    download = measure(csv, repeat=repeat, budget=budget)
    report.add_sample("report", "GET /licenses/reports/usage/?format=csv (every row)", download,
                      note=f"{download.result or 0:,} bytes; company administrator")
    report.time_target("usage report: first page, company administrator", page, 0.3)
    report.ratio_target("usage report: the CSV of all rows / the hand-written SQL floor", floor, download, most=1.5)
    report.time_target("dashboard, company administrator", dashboard, 0.3)
