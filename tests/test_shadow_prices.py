"""Shadow prices checked against re-solving: the saving `explain` reports for raising a limit
matches the objective change of the network solved with the raised limit.
"""

from __future__ import annotations

import pytest

from solver.explain import explain
from solver.options import SolveOptions
from solver.planner import plan_network
from tests.test_known_answers import backup_network
from tests.test_protocols import OUTAGE_DAY_0, outage_network, short_outage_protocols

EXACT = SolveOptions(mip_rel_gap=1e-9)


def objective(limit: float, cap: float, delay: float = 0.0) -> float:
    plan = plan_network(
        outage_network(), EXACT, protocols=short_outage_protocols(limit, cap, delay), signals=[OUTAGE_DAY_0]
    )
    return plan.objective


def test_raising_a_binding_hard_cap_saves_what_resolving_says() -> None:
    """test_protocols' hard-cap case (limit 30, cap 50, approval at once): escalated, spend at the
    cap, 5 units lost (680). 6 more spend buys one more backup unit (6) instead of losing it (100):
    saving 94, i.e. 94/6 a unit of cap, valid until the 10 backup units (cap 80) are all bought."""
    e = explain(outage_network(), short_outage_protocols(30, 50, 0), [OUTAGE_DAY_0], step=6)
    value = next(a for a in e.authority if a.rule == "backup-under-48h")
    assert value.limit == "hard cap"
    assert value.saving == pytest.approx(94)
    assert value.valid_up_to == pytest.approx(80)
    assert e.objective - objective(30, 56) == pytest.approx(value.saving, rel=1e-6)


def test_shorter_escalation_window_matches_resolving() -> None:
    """test_protocols' escalation case (limit 50, 48 h delay: 310). With 24 h the escalated backup
    buys from day 1: 5 units wait one day instead of two (50 less backlog): 260."""
    e = explain(outage_network(), short_outage_protocols(50), [OUTAGE_DAY_0])
    value = next(a for a in e.authority if a.rule == "backup-under-48h")
    assert value.shorter_window_saving == pytest.approx(50)
    assert e.objective - objective(50, 1000, 24) == pytest.approx(50)


def test_the_base_milp_is_solved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """One rule with an escalation delay: `explain` solves the base MILP once and the model with the
    shorter window once (the fixed-integer LP is loaded and run directly). It used to solve the
    unchanged base MILP again for every such rule, though its objective was already known."""
    from solver.backends.highs import HighsBackend

    solves: list[int] = []
    original = HighsBackend.solve

    def counting(self: HighsBackend, *args: object, **kwargs: object) -> object:
        solves.append(1)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(HighsBackend, "solve", counting)
    e = explain(outage_network(), short_outage_protocols(50), [OUTAGE_DAY_0])
    assert len(solves) == 2
    value = next(a for a in e.authority if a.rule == "backup-under-48h")
    assert value.shorter_window_saving == pytest.approx(50)


def test_supplier_capacity_shadow_price_matches_resolving() -> None:
    """test_known_answers' backup network (demand 15, main 10 at 5, backup at 6 activated): one
    more unit of main capacity replaces a backup unit and saves 1."""
    e = explain(backup_network(lost_sale_penalty=100))
    price = next(b for b in e.binding if b.family == "supplier_capacity" and b.resource == "main")
    assert price.saving_per_unit == pytest.approx(1)
    assert e.objective == pytest.approx(100)
