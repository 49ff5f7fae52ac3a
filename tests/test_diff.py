"""`solver.diff.diff_plans` against the plain reading it replaced: every decision table as a dict
from key tuple to summed quantity, the keys of both plans sorted, a change wherever the two sums
differ by more than the tolerance. Seeded random networks, each planned before and after random
replan signals (different plans of one network), and each plan against itself."""

from __future__ import annotations

import pytest

from models.plan import Plan
from solver.diff import _FAMILIES, TOLERANCE, diff_plans
from solver.options import SolveOptions
from solver.planner import plan_network
from tests.random_networks import random_network, random_replan_signals


def reference_changes(before: Plan, after: Plan) -> tuple[list[tuple[str, tuple[object, ...], float, float]], int]:
    changes, total = [], 0
    for table, family in _FAMILIES:
        sums = []
        for plan in (before, after):
            t = table.of(plan)
            out: dict[tuple[object, ...], float] = {}
            if len(t):
                keys = list(zip(*(t.columns[c].tolist() for c in family.key), strict=True))
                amounts = t.columns[family.quantity].tolist() if family.quantity else [1.0] * len(keys)
                for key, amount in zip(keys, amounts, strict=True):
                    out[key] = out.get(key, 0.0) + float(amount)
            sums.append(out)
        old, new = sums
        keys = sorted(old.keys() | new.keys())
        total += len(keys)
        for key in keys:
            was, now = old.get(key, 0.0), new.get(key, 0.0)
            if abs(now - was) > TOLERANCE:
                changes.append((family.kind, key, was, now))
    return changes, total


@pytest.mark.parametrize("seed", range(10))
def test_diff_matches_the_dict_reading_on_random_replans(seed: int) -> None:
    spec = random_network(seed)
    options = SolveOptions(mip_rel_gap=1e-6, threads=1)
    before = plan_network(spec, options)
    after = plan_network(spec, options, signals=random_replan_signals(seed, spec))
    assert before.has_solution
    for a, b in ((before, after), (after, before), (before, before)):
        diff = diff_plans(a, b)
        want, total = reference_changes(a, b)
        assert (diff.changed, diff.total) == (len(want), total)
        got = [(c.kind, c.key, c.before, c.after) for c in diff.changes]
        labels = [
            (kind, " ".join(f"{col} {v}" for col, v in zip(dict(_FAMILIES_BY_KIND)[kind], key, strict=True)), w, n)
            for kind, key, w, n in want
        ]
        assert [(k, key) for k, key, _, _ in got] == [(k, key) for k, key, _, _ in labels]
        assert [x for _, _, w, n in got for x in (w, n)] == pytest.approx(
            [x for _, _, w, n in labels for x in (w, n)], abs=1e-9
        )
    assert diff_plans(before, before).changed == 0
    assert diff_plans(before, after).changed > 0  # the signals changed the plan (3-42 decisions on these seeds)


_FAMILIES_BY_KIND = [(family.kind, family.key) for _, family in _FAMILIES]
