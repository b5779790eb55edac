"""check_integrity: the trees, every pool (sub-groups' blocks every day from today, residents today) and
the totals kept per pool (licenses.totals) against the rows."""

from dataclasses import dataclass
from datetime import date

from groups.integrity import all_tree_problems
from groups.models import Group

from . import pools, totals


@dataclass(frozen=True)
class Problem:
    kind: str
    detail: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "detail": self.detail}


def check(*, on: date) -> list[Problem]:
    problems = [Problem("tree", p) for p in all_tree_problems()]
    features = pools.all_features()
    for pool in Group.objects.filter(pools.restricted_q()).order_by("tree_id", "lft"):
        tl = pools.derived_timeline(pool, on)  # the rules judged on the rows, not on the stored totals
        for i, day in enumerate(tl.days):
            for fid, feature in features.items():
                cap, carved = tl.capacity[i].get(fid, 0), tl.carved[i].get(fid, 0)
                if feature.is_counted and carved > cap:
                    problems.append(Problem("pool", f"{pool.name} (group {pool.pk}) on {day}: sub-groups hold {carved} "
                                                    f"{feature.code}, capacity {cap}"))
                elif not feature.is_counted and carved and not cap:
                    problems.append(Problem("pool", f"{pool.name} (group {pool.pk}) on {day}: sub-groups use "
                                                    f"{feature.code}, which the pool does not have"))
        cap, carved = tl.at(on)
        for fid, feature in features.items():
            used = tl.residents.get(fid, 0)
            if feature.is_counted and carved.get(fid, 0) + used > cap.get(fid, 0) and used:
                problems.append(Problem("residents", f"{pool.name} (group {pool.pk}) on {on}: residents use {used} "
                                                     f"{feature.code}, sub-groups hold {carved.get(fid, 0)}, "
                                                     f"capacity {cap.get(fid, 0)}"))
    problems += [Problem("totals", p) for p in totals.drift()]
    return problems
