"""LP-first solving (`solver.lp_first`): a known answer worked by hand, the integer repair on a
hand-made model, and differential tests against the monolithic MILP on seeded random networks
(with and without protocols, planning and replanning): same optimum within the stated gap, a lower
bound that is never above the MILP's optimum, and plans that pass the independent checker.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from benchmarks.generator import generate
from models.allocation import COUPLING_FAMILIES
from models.builder import ModelBuilder
from models.feasibility import check_plan
from models.network import Demand, Item, Lane, Network, NetworkSpec, Node, NodeRole, SupplyOffer
from models.replanning import ReplanOptions
from models.rounding import choose_one_rows, implied_upper, round_integers
from models.signals import Signal, SignalType
from models.solution import SolveStatus
from solver.backends.base import MipProgress
from solver.backends.highs import HighsBackend
from solver.lp_first import WARM_STATES, WarmStates, chosen_method, lazy_rows, restricts, solve_lp_first
from solver.options import AUTO, LP_FIRST, MILP, SolveOptions
from solver.planner import compile_model, plan_network, replan
from tests.random_networks import random_network, random_protocol_network, random_protocols, random_replan_signals
from tests.test_known_answers import truck_network
from tests.test_live_model import _slowed_lane

SUP, CUST = NodeRole.SUPPLIER, NodeRole.CUSTOMER
GAP = 1e-4


def test_known_answer_relaxation_repair_and_branch_and_bound() -> None:
    """Demand 5 in each of two periods; supply is free; the supplier -> DC lane moves whole trucks of
    10 at 50 each; holding is 1 per unit per period; a unit a period late costs 10.

    - LP relaxation: half a truck in each period carries each period's 5 units at 25 each: 50,
      the lower bound (nothing cheaper: every unit pays at least 5 of truck).
    - Repair: both halves round up to a whole truck; with trucks fixed at (1, 1) the LP ships 5 and
      5 and pays 100 (shipping all 10 at once adds 5 of holding). Certified gap (100 - 50) / 100.
    - Without branch and bound that plan is FEASIBLE with gap 50%; with it, the MILP finds one full
      truck in period 0 (50 + 5 held a period = 55), the optimum, and the bound rises to 55.
    """
    spec = truck_network()
    lp = compile_model(spec).lp
    repaired, _ = solve_lp_first(lp, SolveOptions(mip_rel_gap=GAP), fallback=False)
    assert repaired.status == SolveStatus.FEASIBLE
    assert repaired.objective == pytest.approx(100)
    assert repaired.bound == pytest.approx(50)
    assert repaired.gap == pytest.approx(0.5)
    assert repaired.method == LP_FIRST

    solved, _ = solve_lp_first(lp, SolveOptions(mip_rel_gap=GAP))
    assert solved.status == SolveStatus.OPTIMAL
    assert solved.objective == pytest.approx(55)
    assert solved.bound == pytest.approx(55, rel=GAP)
    assert solved.info["branch_and_bound_seconds"] > 0


def test_a_plan_lp_first_certifies_is_returned_without_branch_and_bound() -> None:
    """With a gap of 60% the repaired plan (100 against the bound 50, gap 50%) is already proven
    within it: OPTIMAL as a MILP solve to that gap would say, and no branch and bound ran."""
    plan = plan_network(truck_network(), SolveOptions(mip_rel_gap=0.6, method=LP_FIRST))
    assert plan.status == SolveStatus.OPTIMAL
    assert plan.objective == pytest.approx(100)
    assert plan.bound == pytest.approx(50)
    assert plan.stats.method == LP_FIRST
    assert plan.stats.method_stats["branch_and_bound_seconds"] == 0.0
    assert check_plan(truck_network(), plan) == []


def test_rounding_rounds_switches_up_and_keeps_one_per_choice() -> None:
    """Columns: y0, y1 binaries in a choose-exactly-one row (y0 + y1 = 1), z a general integer that
    switches on capacity (f - 10 z <= 0), f continuous. LP values y = (0.3, 0.7), z = 1.2, f = 12:
    y rounds to (0, 1) (the larger LP value kept), z up to 2, f is left alone."""
    b = ModelBuilder()
    y = b.add_variables("y", (2,), upper=1.0, integer=True)
    z = b.add_variables("z", (1,), upper=5.0, integer=True)
    f = b.add_variables("f", (1,))
    b.add_constraints("one", (1,), [(np.zeros(2, dtype=np.int64), y, 1.0)], lower=1.0, upper=1.0)
    b.add_constraints("switch", (1,), [([0], f, 1.0), ([0], z, -10.0)], upper=0.0)
    lp = b.build()
    assert choose_one_rows(lp).tolist() == [True, False]
    x = np.array([0.3, 0.7, 1.2, 12.0])
    assert round_integers(lp, x).tolist() == [0.0, 1.0, 2.0, 12.0]
    # A value within 1e-6 of a whole number is that number, not the next one up.
    assert round_integers(lp, np.array([0.0, 1.0, 2.0000001, 12.0])).tolist() == [0.0, 1.0, 2.0, 12.0]


def test_rounding_switches_on_only_what_the_flows_need() -> None:
    """A truck z in [0, 5] switches on a lane (f - 10 z <= 0) and a truck w does the same for a
    lane g (g - 10 w <= 0); a third row z + w <= 10 holds both. The LP leaves z at 1.2 with f = 3:
    the flow needs 3 / 10 = 0.3 of a truck, so z rounds up from 0.3 to 1, not from 1.2 to 2. w at
    0.4 with g = 0 needs none: 0 (an unneeded switch-on rounded up would only cost, or break a
    limit). A column whose switch-on row holds another integer needs its own value: with the row
    f - 10 z - 5 w <= 0 instead, z's need would depend on how w rounds, so z rounds from 1.2 to 2."""
    b = ModelBuilder()
    z = b.add_variables("z", (1,), upper=5.0, integer=True)
    w = b.add_variables("w", (1,), upper=5.0, integer=True)
    f = b.add_variables("f", (2,))
    b.add_constraints(
        "switch", (2,), [([0], f[:1], 1.0), ([0], z, -10.0), ([1], f[1:], 1.0), ([1], w, -10.0)], upper=0.0
    )
    b.add_constraints("both", (1,), [([0], z, 1.0), ([0], w, 1.0)], upper=10.0)
    lp = b.build()
    x = np.array([1.2, 0.4, 3.0, 0.0])
    assert round_integers(lp, x).tolist() == [1.0, 0.0, 3.0, 0.0]

    b = ModelBuilder()
    z = b.add_variables("z", (1,), upper=5.0, integer=True)
    w = b.add_variables("w", (1,), upper=5.0, integer=True)
    f = b.add_variables("f", (2,))
    b.add_constraints("switch", (1,), [([0], f[:1], 1.0), ([0], z, -10.0), ([0], w, -5.0)], upper=0.0)
    assert round_integers(b.build(), x)[0] == 2.0


def test_rounding_never_switches_on_what_a_limit_forbids() -> None:
    """An early activation e in [0, 1] of an offer (buy - 10 e <= 0) whose activation cost 8 counts
    against a protocol's spend limit with other spend s >= 0: 5 s + 8 e <= 6. At the least other
    spend (s = 0) e can be at most 6 / 8 = 0.75, so no plan has e = 1 (`implied_upper`). The LP
    relaxation buys 5 with e = 0.5 (5 / 10, within the limit at 8 * 0.5 = 4); rounding it up would
    make the fixed LP infeasible (as the sequential response's sales stage was at M), so it rounds
    to 0 and the buying moves."""
    b = ModelBuilder()
    e = b.add_variables("early_activation", (1,), upper=1.0, integer=True)
    buy = b.add_variables("buy", (1,))
    spend = b.add_variables("spend", (1,))
    b.add_constraints("link", (1,), [([0], buy, 1.0), ([0], e, -10.0)], upper=0.0)
    b.add_constraints("limit", (1,), [([0], spend, 5.0), ([0], e, 8.0)], upper=6.0)
    lp = b.build()
    np.testing.assert_allclose(implied_upper(lp), [0.75, 10.0, 1.2])
    assert round_integers(lp, np.array([0.5, 5.0, 0.0])).tolist() == [0.0, 5.0, 0.0]


def test_lazy_rows_are_the_coupling_families() -> None:
    lp = compile_model(generate("S", seed=3)).lp
    mask = lazy_rows(lp)
    expected = sum(lp.constraints[name].size for name in COUPLING_FAMILIES if name in lp.constraints)
    assert mask.sum() == expected > 0
    for name in COUPLING_FAMILIES:
        if name in lp.constraints:
            assert mask[lp.constraints[name].slice].all()


@pytest.mark.parametrize("seed", range(12))
def test_lp_first_agrees_with_the_milp_on_random_networks(seed: int) -> None:
    """The same optimum within the gap, a lower bound never above the MILP's optimum, and a plan the
    independent checker accepts."""
    spec = random_network(seed)
    milp = plan_network(spec, SolveOptions(mip_rel_gap=GAP, method=MILP))
    lp_first = plan_network(spec, SolveOptions(mip_rel_gap=GAP, method=LP_FIRST))
    assert lp_first.status == milp.status == SolveStatus.OPTIMAL
    scale = max(abs(milp.objective), 1.0)
    assert abs(lp_first.objective - milp.objective) <= 2 * GAP * scale
    assert lp_first.bound <= milp.objective + 1e-6 * scale
    assert check_plan(spec, lp_first) == []


@pytest.mark.parametrize("seed", range(8))
def test_lp_first_keeps_the_protocols_meaning(seed: int) -> None:
    """Under decision protocols and signals (authority limits, escalations, forbidden actions) both
    methods reach one optimum and escalate the same approvals' worth: the protocols are rows of the
    model LP-first solves, never relaxed."""
    spec = random_protocol_network(seed)
    protocols, signals = random_protocols(seed, spec)
    milp = plan_network(spec, SolveOptions(mip_rel_gap=GAP, method=MILP), protocols=protocols, signals=signals)
    lp_first = plan_network(spec, SolveOptions(mip_rel_gap=GAP, method=LP_FIRST), protocols=protocols, signals=signals)
    assert lp_first.status == milp.status
    if milp.has_solution:
        scale = max(abs(milp.objective), 1.0)
        assert abs(lp_first.objective - milp.objective) <= 2 * GAP * scale
        assert check_plan(spec, lp_first, protocols=protocols, signals=signals) == []


@pytest.mark.parametrize("seed", range(6))
def test_replans_agree_across_methods(seed: int) -> None:
    """A replan's final answer (stability penalty and fence included) is the same within the gap
    whichever method solves the full model."""
    spec = random_network(seed)
    baseline = plan_network(spec, SolveOptions(mip_rel_gap=GAP))
    signals = random_replan_signals(seed, spec)
    settings = ReplanOptions(stability_weight=0.5)
    finals = {}
    for method in (MILP, LP_FIRST):
        *_, final = replan(spec, baseline, signals, SolveOptions(mip_rel_gap=GAP, method=method), settings)
        finals[method] = final
    a, b = finals[MILP].plan, finals[LP_FIRST].plan
    assert a.status == b.status
    if a.has_solution:
        assert abs(a.objective - b.objective) <= 2 * GAP * max(abs(a.objective), 1.0)


def test_an_infeasible_network_is_infeasible_by_either_method() -> None:
    """A customer that must be served on time (no backlog, no lost sales) with no supply at all: the
    relaxation is already infeasible, so the model is."""
    spec = NetworkSpec(
        name="nothing",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", capacity=0),),
        lanes=(Lane("SC", "S", "C", ("A",)),),
        demands=(Demand("C", "A", (5,), on_time=True),),
    )
    for method in (MILP, LP_FIRST):
        plan = plan_network(spec, SolveOptions(method=method))
        assert plan.status == SolveStatus.INFEASIBLE, method


def test_warm_state_re_solves_in_place_and_reaches_the_cold_optimum() -> None:
    """An S network solved LP-first, then the network with a demand surge re-solved from the kept
    state: the update is in place (same structure), the re-solve is warm, and its optimum equals a
    cold LP-first solve of the same model within the gap."""
    spec = generate("S", seed=2)
    options = SolveOptions(mip_rel_gap=1e-3, method=LP_FIRST, threads=1)
    surge = Signal("surge", SignalType.DEMAND_CHANGE, magnitude=1.3, customer=spec.demands[0].customer)
    warm_key = "test-warm-S2"
    WARM_STATES.clear()
    first = plan_network(spec, options, warm_key=warm_key)
    assert first.stats.method_stats["warm"] == 0.0
    again = plan_network(spec, options, signals=[surge], warm_key=warm_key)
    cold = plan_network(spec, options, signals=[surge])
    assert again.stats.method_stats["warm"] == 1.0
    assert cold.stats.method_stats["warm"] == 0.0
    assert abs(again.objective - cold.objective) <= 2e-3 * abs(cold.objective)
    WARM_STATES.clear()


def test_a_replan_back_on_the_baseline_arrivals_restarts_from_their_kept_basis() -> None:
    """An S network planned LP-first, then with a lead-time change (its matrix moved), then with a
    demand surge on the baseline's arrivals, each warm from the kept state: the surge's update
    moves the matrix back and restarts from the basis kept for it ("basis restored"); its plan
    passes the independent check and agrees with a cold LP-first solve within the gap."""
    spec = generate("S", seed=2)
    net = Network.from_spec(spec)
    options = SolveOptions(mip_rel_gap=1e-3, method=LP_FIRST, threads=1)
    surge = Signal("surge", SignalType.DEMAND_CHANGE, magnitude=1.3, customer=spec.demands[0].customer)
    warm_key = "test-restored-S2"
    WARM_STATES.clear()
    plan_network(spec, options, warm_key=warm_key)
    slowed = plan_network(spec, options, signals=[_slowed_lane(net)], warm_key=warm_key)
    assert "basis restored" not in slowed.message
    again = plan_network(spec, options, signals=[surge], warm_key=warm_key)
    cold = plan_network(spec, options, signals=[surge])
    assert again.stats.method_stats["warm"] == 1.0 and "basis restored" in again.message
    assert check_plan(spec, again, signals=[surge]) == []
    assert abs(again.objective - cold.objective) <= 2e-3 * abs(cold.objective)
    WARM_STATES.clear()


def test_warm_states_keep_the_last_few() -> None:
    states = WarmStates(capacity=2)
    live = object()
    for key in ("a", "b", "c"):
        states.put(key, live)  # type: ignore[arg-type]
    assert len(states) == 2
    assert states.take("a") is None
    assert states.take("c") is live
    assert states.take("c") is None  # taken out while in use
    assert states.take(None) is None


def test_auto_picks_the_milp_for_small_models_or_tight_gaps_and_lp_first_otherwise() -> None:
    """S is a MILP at any gap; M is LP-first at 1% and a MILP at the default 0.1% (LP-first
    certifies M within 0.12-0.27%, so 0.1% would end in branch and bound anyway); an explicit
    method is kept."""
    highs = HighsBackend()
    small = compile_model(generate("S", seed=0)).lp
    medium = compile_model(generate("M", seed=0)).lp
    assert chosen_method(small, SolveOptions(mip_rel_gap=0.01), highs) == MILP
    assert chosen_method(medium, SolveOptions(mip_rel_gap=0.01), highs) == LP_FIRST
    assert chosen_method(medium, SolveOptions(), highs) == MILP
    assert chosen_method(medium, SolveOptions(mip_rel_gap=0.01, method=MILP), highs) == MILP
    assert chosen_method(small, SolveOptions(method=LP_FIRST), highs) == LP_FIRST
    assert SolveOptions().method == AUTO


def test_an_unknown_method_names_the_field() -> None:
    with pytest.raises(Exception, match="method"):
        SolveOptions(method="simplex")


def test_the_bound_is_nan_only_without_a_relaxation() -> None:
    """The known-answer network's LP-first answer always carries a finite bound."""
    sol, _ = solve_lp_first(compile_model(truck_network()).lp, SolveOptions(mip_rel_gap=0.6))
    assert math.isfinite(sol.bound)


def test_a_model_of_another_shape_rebuilds_from_the_kept_state() -> None:
    """A plan, then a replan with the stability penalty (its change columns and rows make the model
    larger) under the same warm key: the live model is rebuilt with the old basis carried over, the
    coupling rows start off again, and the replan reaches the MILP's optimum within the gap."""
    spec = generate("S", seed=4)
    options = SolveOptions(mip_rel_gap=1e-3, method=LP_FIRST, threads=1)
    key = "test-shape-S4"
    WARM_STATES.clear()
    baseline = plan_network(spec, options, warm_key=key)
    signals = [Signal("surge", SignalType.DEMAND_CHANGE, magnitude=1.5, customer=spec.demands[0].customer)]
    settings = ReplanOptions(stability_weight=0.5)
    *_, warm = replan(spec, baseline, signals, options, settings, warm_key=key)
    *_, milp = replan(spec, baseline, signals, SolveOptions(mip_rel_gap=1e-3, method=MILP, threads=1), settings)
    assert "rebuilt" in warm.plan.message
    assert warm.plan.stats.method_stats["warm"] == 0.0
    assert abs(warm.plan.objective - milp.plan.objective) <= 2e-3 * abs(milp.plan.objective)
    WARM_STATES.clear()


def test_lp_first_agrees_with_the_milp_at_m() -> None:
    """The benchmark's M network (96,670 columns, 782 integers) at a 1% gap: LP-first's plan and
    HiGHS's MILP agree within the gap, LP-first's certified bound lies below the MILP's plan, and
    the independent checker accepts LP-first's plan. (About 25 s: the MILP is most of it.)"""
    spec = generate("M", seed=0)
    gap = 0.01
    milp = plan_network(spec, SolveOptions(mip_rel_gap=gap, method=MILP, threads=1))
    lp_first = plan_network(spec, SolveOptions(mip_rel_gap=gap, method=LP_FIRST, threads=1))
    assert milp.status == lp_first.status == SolveStatus.OPTIMAL
    scale = abs(milp.objective)
    assert abs(lp_first.objective - milp.objective) <= gap * scale
    assert lp_first.bound <= milp.objective + 1e-9 * scale
    assert lp_first.gap <= gap
    assert check_plan(spec, lp_first) == []


def _closure(period: int) -> Signal:
    """The truck network's supplier -> DC lane closed for period `period` (of 168 hours)."""
    return Signal(
        f"closed-{period}", SignalType.LANE_DISRUPTION, lane="SD", start_hours=168.0 * period, duration_hours=168.0
    )


def test_known_answer_a_restriction_inherits_the_bound_and_solves_nothing() -> None:
    """The truck network (optimum 55: one truck of 10 in period 0, 5 units held a period) solved
    LP-first to an exact gap; its bound is 55. Closing the supplier -> DC lane in period 1 only
    tightens bounds (`restricts`), so every plan of the closed network is one of the open network
    and 55 bounds it too. The open network's optimal plan ships nothing in period 1, so it is a plan
    of the closed network at 55: the bound certifies it with a gap of 0, and it comes back OPTIMAL
    with no LP solved and the inherited bound. Closing the lane in period 0 instead leaves only a
    truck in period 1 (50 + 5 units a period late at 10 = 100): a plan at 100 is 45% above the
    inherited 55, so the model is solved, to its optimum 100."""
    spec = truck_network()
    options = SolveOptions(mip_rel_gap=GAP)
    open_lp = compile_model(spec).lp
    solved, state = solve_lp_first(open_lp, options)
    assert solved.objective == pytest.approx(55) and solved.bound == pytest.approx(55, rel=GAP)
    assert state.certified[0].lp is open_lp and state.certified[0].lower == solved.bound

    closed_later = compile_model(spec, signals=[_closure(1)]).lp
    assert restricts(closed_later, open_lp) and not restricts(open_lp, closed_later)
    assert solved.x is not None
    reports: list[MipProgress] = []
    kept, state = solve_lp_first(closed_later, options, state=state, start=solved.x, progress=reports.append)
    assert kept.status == SolveStatus.OPTIMAL
    assert kept.objective == pytest.approx(55) and kept.bound == solved.bound
    assert kept.info["bound_inherited"] == 1.0 and kept.info["lp_solves"] == 0.0
    assert kept.x is not None and np.array_equal(kept.x, solved.x)
    # Reported as a plan and its bound, with their certified gap (55 - bound) / 55, as a MIP would.
    [report] = reports
    assert (report.objective, report.bound, report.improved) == (kept.objective, kept.bound, True)
    assert report.gap == pytest.approx((kept.objective - kept.bound) / 55) and report.gap == pytest.approx(kept.gap)

    closed_now = compile_model(spec, signals=[_closure(0)]).lp
    assert restricts(closed_now, open_lp)
    late = HighsBackend().solve(closed_now, options)
    assert late.objective == pytest.approx(100)
    reports.clear()
    resolved, state = solve_lp_first(closed_now, options, state=state, start=late.x, progress=reports.append)
    assert resolved.status == SolveStatus.OPTIMAL and resolved.objective == pytest.approx(100)
    # Each report's gap is (plan - bound) / max(|plan|, 1), and the last one is the answer's.
    assert reports and all(
        r.gap == pytest.approx(max(r.objective - r.bound, 0) / max(abs(r.objective), 1)) for r in reports
    )
    assert reports[-1].gap == pytest.approx(resolved.gap, abs=1e-12)
    assert resolved.info["bound_inherited"] == 0.0 and resolved.info["lp_solves"] >= 1
    assert resolved.bound == pytest.approx(100, rel=GAP)
    assert state.certified[0].lp is closed_now  # the solved model's own bound, kept first


def test_restricts_needs_the_same_model_with_every_bound_as_tight() -> None:
    """`restricts` on the truck network's model against copies changed in one way each: tighter
    bounds restrict it, and so does a one-sided row made stricter; a looser bound, another cost,
    offset or integer, or a matrix entry of an equality, does not."""
    lp = compile_model(truck_network()).lp
    assert restricts(lp, lp)
    tighter = dataclasses.replace(lp, col_upper=np.minimum(lp.col_upper, 1e3), row_lower=lp.row_lower + 0.0)
    assert restricts(tighter, lp)
    looser_row = lp.row_upper.copy()
    looser_row[np.isfinite(looser_row).argmax()] += 1.0
    A = lp.A.copy()
    A.data[A.indptr[lp.constraints["flow_balance"].slice.start]] += 1.0  # an equality's entry
    integer = lp.integrality.copy()
    integer[integer.argmax()] = 0
    # truck_load: ship - 10 trucks <= 0 with trucks >= 0. A smaller truck (-5) makes the row
    # stricter (ship <= 5 trucks implies ship <= 10 trucks); a larger one (-20) does not.
    truck_rows = lp.constraints["truck_load"].slice
    trucks = lp.columns("trucks")
    for size, expect in ((5.0, True), (20.0, False)):
        loads = lp.A.tolil()
        for r, j in zip(range(truck_rows.start, truck_rows.stop), trucks.ravel()):
            assert loads[r, j] == -10.0
            loads[r, j] = -size
        assert restricts(dataclasses.replace(lp, A=loads.tocsr()), lp) is expect
    for changed in (
        dataclasses.replace(lp, row_upper=looser_row),
        dataclasses.replace(lp, c=lp.c + 1.0),
        dataclasses.replace(lp, A=A),
        dataclasses.replace(lp, offset=lp.offset + 1.0),
        dataclasses.replace(lp, integrality=integer),
    ):
        assert not restricts(changed, lp)


@pytest.mark.parametrize("seed", [0, 1])
def test_replans_that_only_take_capacity_away_keep_the_baseline_bound(seed: int) -> None:
    """At S, LP-first at a 3% gap (S's disruptions cost 1-3% of its objective; M's and L's are
    smaller), the benchmark's supplier outage, lane closure and plant fire (which only tighten
    bounds) replanned warm from the baseline: the full replan inherits the baseline's bound exactly
    when the first answer is within the gap of it, and then its answer is the first answer,
    OPTIMAL, with that bound and no LP solved. Either way the plan passes the feasibility check and
    is within the gap of the disrupted network's optimum, which a cold MILP brackets from below by
    its bound. A demand surge, a stock write-off and a new order move a balance's right-hand side
    (one side looser): they never inherit; their relaxation may stop as soon as its bound
    certifies the first answer (`bound_reached`). Every bound reported lies below the cold
    optimum."""
    from benchmarks.replan import scenarios
    from models.network import Network

    gap = 0.03
    spec = generate("S", seed=seed)
    options = SolveOptions(mip_rel_gap=gap, method=LP_FIRST, threads=1)
    key = f"test-inherit-S{seed}"
    WARM_STATES.clear()
    baseline = plan_network(spec, options, warm_key=key)
    chosen = {s.name: s for s in scenarios(Network.from_spec(spec), baseline)}
    inherited = reached = 0
    taking = ("supplier_outage", "lane_closure", "plant_fire")
    for name in (*taking, "demand_surge", "quality_hold", "new_order"):
        signals = chosen[name].signals
        answers = list(replan(spec, baseline, signals, options, ReplanOptions(stability_weight=0.0), warm_key=key))
        first, final = answers[0], answers[-1]
        assert first.kind == "first" and final.kind == "optimal"
        within = first.plan.objective - baseline.bound <= gap * abs(first.plan.objective)
        expect = name in taking and within
        assert final.plan.stats.method_stats["bound_inherited"] == float(expect), name
        if expect:
            inherited += 1
            assert final.plan.objective == first.plan.objective and final.plan.bound == baseline.bound
            assert final.plan.stats.method_stats["lp_solves"] == 0.0
        assert check_plan(spec, final.plan, signals=signals) == []
        reached += int(final.plan.stats.method_stats["bound_reached"])
        cold = plan_network(spec, SolveOptions(mip_rel_gap=1e-3, method=MILP, threads=1), signals=signals)
        assert final.plan.objective - cold.bound <= gap * abs(final.plan.objective) + (cold.objective - cold.bound)
        assert final.plan.bound <= cold.objective + 1e-9 * abs(cold.objective), name
    assert inherited >= 1 and reached >= 1
    WARM_STATES.clear()


@pytest.mark.parametrize("seed", range(3))
def test_a_plan_certified_by_an_early_bound_is_reported(seed: int) -> None:
    """S at 3%, warm: the costs raised by 0.1% (so no bound is inherited), the MILP's plan of the
    dearer model as the start. The relaxation, restarted from the last basis, stops as soon as its
    dual objective certifies the start (`bound_reached`), and the plan is reported to `progress`
    with that bound, within the gap: the suite's clock reads the time to its gap from that report."""
    lp = compile_model(generate("S", seed)).lp
    options = SolveOptions(mip_rel_gap=0.03, method=LP_FIRST, threads=1)
    _, state = solve_lp_first(lp, options)
    dearer = dataclasses.replace(lp, c=lp.c * 1.001)
    start = HighsBackend().solve(dearer, SolveOptions(mip_rel_gap=1e-4, threads=1))
    reports: list[MipProgress] = []
    solution, _ = solve_lp_first(dearer, options, state=state, start=start.x, progress=reports.append)
    assert solution.status == SolveStatus.OPTIMAL
    assert (solution.info["bound_reached"], solution.info["bound_inherited"]) == (1.0, 0.0)
    assert reports, "no report of the certified plan"
    last = reports[-1]
    assert last.objective == pytest.approx(solution.objective, rel=1e-12)
    assert last.bound == pytest.approx(solution.bound, rel=1e-12)
    assert last.gap <= 0.03


@pytest.mark.parametrize("seed", range(3))
def test_a_cold_relaxation_stops_at_the_bound_too(seed: int) -> None:
    """S at 3%, cold (no state, as a sequential stage or a worker's first solve of a network): the
    MILP's plan to 0.01% as the start. The relaxation stops as soon as its dual objective certifies
    the start (`bound_reached`) instead of running to its optimum: HiGHS ignores an objective bound
    on a presolved LP, so the bounded run goes without presolve. The bound it reports is a lower
    bound of the relaxation's optimum, and the start is the answer."""
    lp = compile_model(generate("S", seed)).lp
    options = SolveOptions(mip_rel_gap=0.03, method=LP_FIRST, threads=1)
    start = HighsBackend().solve(lp, SolveOptions(mip_rel_gap=1e-4, threads=1))
    assert start.x is not None
    solution, _ = solve_lp_first(lp, options, start=start.x)
    assert solution.status == SolveStatus.OPTIMAL
    assert (solution.info["bound_reached"], solution.info["bound_inherited"]) == (1.0, 0.0)
    assert solution.objective == pytest.approx(start.objective, rel=1e-9)
    relaxed = dataclasses.replace(lp, integrality=np.zeros_like(lp.integrality))
    optimum = HighsBackend().solve(relaxed, SolveOptions(threads=1)).objective
    assert solution.bound <= optimum + 1e-9 * abs(optimum)
    assert solution.objective - solution.bound <= 0.03 * abs(solution.objective)


@pytest.mark.parametrize("seed", range(8))
def test_a_restriction_never_has_a_lower_optimum_on_random_networks(seed: int) -> None:
    """The soundness of `restricts` on real models: for each random signal of a random network,
    alone, if the disrupted model restricts the undisrupted one then its MILP optimum and its LP
    relaxation's are at least the undisrupted ones (up to HiGHS's tolerances). The signals that
    only take something away (outages, closures, capacity losses) must be recognised as
    restrictions: each seed's network gets some of them."""
    from tests.random_networks import random_replan_signals

    spec = random_network(seed)
    exact = SolveOptions(mip_rel_gap=1e-9, threads=1, method=MILP)
    base = compile_model(spec).lp
    base_milp = HighsBackend().solve(base, exact)
    base_lp = HighsBackend().solve(dataclasses.replace(base, integrality=np.zeros_like(base.integrality)), exact)
    taking = (SignalType.SUPPLIER_OUTAGE, SignalType.CAPACITY_LOSS)
    restricted = 0
    for signal in random_replan_signals(seed, spec):
        lp = compile_model(spec, signals=[signal]).lp
        if signal.type in taking:
            assert restricts(lp, base), signal
        if not restricts(lp, base):
            continue
        restricted += 1
        milp = HighsBackend().solve(lp, exact)
        relaxed = HighsBackend().solve(dataclasses.replace(lp, integrality=np.zeros_like(lp.integrality)), exact)
        if milp.status.has_solution:
            assert milp.objective >= base_milp.objective - 1e-6 * max(1.0, abs(base_milp.objective)), signal
        assert relaxed.objective >= base_lp.objective - 1e-6 * max(1.0, abs(base_lp.objective)), signal
    assert restricted >= 1
