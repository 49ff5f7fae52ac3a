"""Known-answer and property tests of replanning (`solver.planner.replan`, `models.replanning`):
for every signal kind a baseline, the signal and the replan worked out by hand; the stability
penalty, the frozen fence, the warm start, the signals' reach and the rolling horizon.

Every answer is run through the independent feasibility checker against its business objective
(cost minus revenue), and its stability and fence charges are recomputed from the plan's tables.
Periods are days (24 h) in every hand-built network here; options are (w, d) = (stability_weight,
decay) with every function weight 1 unless said otherwise.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from models.builder import LinearProgram
from models.errors import ValidationError
from models.feasibility import check_plan
from models.network import (
    Demand,
    InTransit,
    Item,
    Lane,
    Network,
    NetworkSpec,
    Node,
    NodeRole,
    Recipe,
    Stock,
    SupplyOffer,
)
from models.plan import Plan, Table
from models.protocols import resolve_authority
from models.replanning import (
    Reach,
    ReplanOptions,
    advance,
    baseline_decisions,
    baseline_state,
    build_replan_model,
    signal_reach,
    window_end,
)
from models.signals import Signal, SignalType, apply_signals
from models.solution import SolveStatus
from solver import planner
from solver._proto.concerto.v1 import plan_pb2
from solver.backends.highs import HighsBackend
from solver.convert import plan_from_proto, plan_to_proto
from solver.options import SolveOptions
from solver.planner import ReplanResult, plan_network, replan
from tests.random_networks import (
    random_network,
    random_protocol_network,
    random_protocols,
    random_replan_options,
    random_replan_signals,
)

SUP, PLANT, DC, CUST = NodeRole.SUPPLIER, NodeRole.PLANT, NodeRole.DC, NodeRole.CUSTOMER
DAY = 24.0
GAP = 1e-9
OPTIONS = SolveOptions(mip_rel_gap=GAP)
STABLE = ReplanOptions(stability_weight=1.0, decay=0.5)
"""w = 1, d = 0.5: a unit changed costs 1 in period 0, 0.5 in period 1, 0.25 in period 2."""
COLD = ReplanOptions(stability_weight=0.0)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def solve(spec: NetworkSpec, signals: list[Signal] | None = None) -> Plan:
    """A cold plan of the network as the signals leave it, checked."""
    plan = plan_network(spec, OPTIONS, signals=signals or ())
    assert plan.status == SolveStatus.OPTIMAL, plan.message
    violations = check_plan(spec, plan, signals=signals or ())
    assert not violations, "\n".join(map(str, violations))
    return plan


def executed(plan: Plan) -> dict[tuple[str, str, int], float]:
    """The executed decisions of a plan by (block, resource, period): buy by offer, make by
    recipe, ship by lane/item."""
    out: dict[tuple[str, str, int], float] = {}
    for row in plan.purchases.rows():
        out[("buy", row["offer"], row["period"])] = row["quantity"]
    for row in plan.production.rows():
        out[("make", row["recipe"], row["period"])] = row["quantity"]
    for row in plan.shipments.rows():
        out[("ship", f"{row['lane']}/{row['item']}", row["period"])] = row["quantity"]
    return out


def replan_charges(baseline: Plan, plan: Plan, options: ReplanOptions) -> float:
    """Stability and fence charges recomputed from the two plans' tables, by hand:
    sum w * w_f * d^t * |x - x0| plus fence_penalty * (x0 - x) for t < F."""
    weight = {"buy": options.procurement_weight, "make": options.production_weight, "ship": options.logistics_weight}
    before, after = executed(baseline), executed(plan)
    total = 0.0
    for key in before.keys() | after.keys():
        block, _, t = key
        x0, x = before.get(key, 0.0), after.get(key, 0.0)
        total += options.stability_weight * weight[block] * options.decay**t * abs(x - x0)
        if t < options.fence_periods:
            total += options.fence_penalty * (x0 - x)
    return total


def answers(
    spec: NetworkSpec, baseline: Plan, signals: list[Signal], options: ReplanOptions = STABLE
) -> list[ReplanResult]:
    """Every answer of a replan, each checked: feasible against the signals, its business
    objective what the checker recomputes, its penalties what `replan_charges` recomputes; the
    last one optimal, and warm-started from the first (accepted by HiGHS) when there are integers."""
    results = list(replan(spec, baseline, signals, OPTIONS, options))
    for result in results:
        plan = result.plan
        assert plan.has_solution, plan.message
        violations = check_plan(spec, replace(plan, objective=result.business_objective), signals=signals)
        assert not violations, f"{result.kind}: " + "\n".join(map(str, violations))
        penalty = plan.objective - result.business_objective
        assert penalty == pytest.approx(replan_charges(baseline, plan, options), abs=1e-6), result.kind
    assert [r.kind for r in results] in (["first", "optimal"], ["optimal"])
    final = results[-1]
    assert final.reach_share == 1.0
    if results[0].kind == "first" and final.plan.stats.n_integer > 0:
        assert final.mip_start_accepted is True
    return results


def final(spec: NetworkSpec, baseline: Plan, signals: list[Signal], options: ReplanOptions = STABLE) -> ReplanResult:
    return answers(spec, baseline, signals, options)[-1]


def quantities(table: Table, *key: str) -> dict[tuple, float]:
    return {tuple(r[k] for k in key): r["quantity"] for r in table.rows()}


def outage(supplier: str, day: int, ident: str = "outage") -> Signal:
    """A full outage of a supplier for one day."""
    return Signal(ident, SignalType.SUPPLIER_OUTAGE, supplier=supplier, start_hours=day * DAY, duration_hours=DAY)


# ---------------------------------------------------------------------------------------------
# One known answer per signal kind
# ---------------------------------------------------------------------------------------------


def two_suppliers() -> NetworkSpec:
    """S1 sells A at 5 (10 a day); S2 at 7 (10 a day) once activated for 20. C wants 10 a day for
    three days; a unit late costs 50 a day, a lost one 100; holding costs 1 a unit-day.
    Baseline: buy 10 a day at S1 and ship it straight on: 150."""
    return NetworkSpec(
        name="two-suppliers",
        horizon=3,
        period_hours=DAY,
        items=(Item("A", holding_cost=1),),
        nodes=(Node("S1", SUP, tier=1), Node("S2", SUP, tier=1), Node("C", CUST)),
        offers=(
            SupplyOffer("main", "S1", "A", unit_cost=5, capacity=10),
            SupplyOffer("alt", "S2", "A", unit_cost=7, capacity=10, backup=True, activation_cost=20),
        ),
        lanes=(Lane("L1", "S1", "C", ("A",)), Lane("L2", "S2", "C", ("A",))),
        demands=(Demand("C", "A", (10, 10, 10), backlog_penalty=50, lost_sale_penalty=100),),
    )


def test_the_baselines_worked_out_here() -> None:
    """The baselines the known answers start from: two_suppliers 150, detour 180 (buy 5 and road
    1 a unit), plant 90 (K 1 and making 2 a unit), quality hold 100 (stock covers day 0), sea/air
    120 (buy 5 and sea 1 a unit), rolling 62 (see its test)."""
    assert solve(two_suppliers()).objective == pytest.approx(150)
    assert quantities(solve(two_suppliers()).purchases, "offer", "period") == pytest.approx(
        {("main", 0): 10, ("main", 1): 10, ("main", 2): 10}
    )
    assert solve(detour_network(backlog=2)).objective == pytest.approx(180)
    assert solve(plant_network()).objective == pytest.approx(90)
    assert solve(quality_network()).objective == pytest.approx(100)
    assert solve(sea_air_network()).objective == pytest.approx(120)
    assert solve(rolling_network()).objective == pytest.approx(62)


def test_supplier_outage_activates_the_backup() -> None:
    """S1 is out on day 1. Its 10 units come from S2 instead: activation 20 + 10 * 7 = 90 against
    the 50 saved, business 150 - 50 + 90 = 190 (losing them costs 1000, backlog 500 and still
    needs S2 on day 2). Changes on day 1 (d = 0.5): buy main 10, buy alt 10, ship L1 10, ship
    L2 10: stability 40 * 0.5 = 20. Objective 210."""
    spec = two_suppliers()
    result = final(spec, solve(spec), [outage("S1", 1)])
    assert result.business_objective == pytest.approx(190)
    assert result.plan.objective == pytest.approx(210)
    assert result.plan.cost_by_component["stability"] == pytest.approx(20)
    assert quantities(result.plan.purchases, "offer", "period") == pytest.approx(
        {("main", 0): 10, ("alt", 1): 10, ("main", 2): 10}
    )
    assert [r["offer"] for r in result.plan.activations.rows()] == ["alt"]
    assert result.cuts == ()


@pytest.mark.parametrize(
    ("weight", "bought", "business", "objective"),
    [(1.0, 5.0, 125.0, 127.5), (40.0, 10.0, 155.0, 205.0)],
    ids=["cut-the-purchase", "keep-the-purchase"],
)
def test_demand_change_trades_savings_against_stability(
    weight: float, bought: float, business: float, objective: float
) -> None:
    """C's demand halves on day 2 (10 -> 5); the 5 extra units cannot be delivered. Either cut the
    day-2 purchase to 5 (business 125; changes buy 5 + ship 5 at d^2 = 0.25: 2.5 w) or keep buying
    10 and hold 5 at S1 (business 125 + 25 + 5 = 155; changes ship 5: 1.25 w). Cutting wins while
    2.5 w - 1.25 w < 30, i.e. w < 24: at w = 1 cut (127.5), at w = 40 keep (155 + 50 = 205)."""
    spec = two_suppliers()
    drop = Signal("C-drop", SignalType.DEMAND_CHANGE, customer="C", magnitude=0.5, start_hours=2 * DAY)
    result = final(spec, solve(spec), [drop], ReplanOptions(stability_weight=weight, decay=0.5))
    assert result.business_objective == pytest.approx(business)
    assert result.plan.objective == pytest.approx(objective)
    assert quantities(result.plan.purchases, "offer", "period")[("main", 2)] == pytest.approx(bought)
    assert quantities(result.plan.shipments, "lane", "period")[("L1", 2)] == pytest.approx(5)


def detour_network(backlog: float) -> NetworkSpec:
    """S sells A at 5; the road to C (lead 0, 1 a unit, 20 a day) or air (lead 0, 4 a unit). C
    wants 10 a day for three days; a unit late costs `backlog` a day; holding costs 1.
    Baseline: buy and send 10 a day by road: 150 + 30 = 180."""
    return NetworkSpec(
        name="detour",
        horizon=3,
        period_hours=DAY,
        items=(Item("A", holding_cost=1),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=5),),
        lanes=(
            Lane("road", "S", "C", ("A",), unit_cost=1, capacity=20),
            Lane("air", "S", "C", ("A",), unit_cost=4, mode="air", expedited=True),
        ),
        demands=(Demand("C", "A", (10, 10, 10), backlog_penalty=backlog, lost_sale_penalty=100),),
    )


@pytest.mark.parametrize(
    ("backlog", "lane", "business", "objective"),
    [(2.0, "road", 200.0, 200.0), (5.0, "air", 210.0, 220.0)],
    ids=["wait-for-the-detour", "fly-around-it"],
)
def test_lane_disruption_with_a_detour_delay(backlog: float, lane: str, business: float, objective: float) -> None:
    """The road keeps half its capacity (10) on day 1, and its trucks take a detour a day longer:
    day-1 departures arrive on day 2. Keeping the plan makes C wait a day for 10 units (10 *
    backlog, no decision changes); flying them costs 30 more and changes road 10 + air 10 on day 1
    (stability 20 * 0.5 = 10). At backlog 2 waiting (180 + 20 = 200) beats flying (210 + 10 =
    220); at backlog 5 flying (220) beats waiting (180 + 50 = 230)."""
    spec = detour_network(backlog)
    detour = Signal(
        "road-detour",
        SignalType.LANE_DISRUPTION,
        lane="road",
        magnitude=0.5,
        delay_hours=DAY,
        start_hours=DAY,
        duration_hours=DAY,
    )
    result = final(spec, solve(spec), [detour])
    assert result.business_objective == pytest.approx(business)
    assert result.plan.objective == pytest.approx(objective)
    assert quantities(result.plan.shipments, "lane", "period") == pytest.approx(
        {("road", 0): 10, (lane, 1): 10, ("road", 2): 10}
    )
    late = quantities(result.plan.backlog, "customer", "period")
    assert late == ({("C", 1): pytest.approx(10)} if lane == "road" else {})


def plant_network() -> NetworkSpec:
    """P makes F from one K (bought at S for 1) in one hour at 2, 10 hours a day; a trader T sells
    F at 9. C wants 10 F a day for three days; backlog 50, lost 100, holding 1.
    Baseline: buy 10 K, make 10 F a day: 3 * 30 = 90."""
    return NetworkSpec(
        name="plant",
        horizon=3,
        period_hours=DAY,
        items=(Item("K", holding_cost=1), Item("F", holding_cost=1)),
        nodes=(Node("S", SUP, tier=2), Node("P", PLANT, regular_hours=10), Node("T", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("k", "S", "K", unit_cost=1), SupplyOffer("f-spot", "T", "F", unit_cost=9)),
        recipes=(Recipe("make-F", "P", "F", inputs=(("K", 1.0),), hours_per_unit=1, unit_cost=2),),
        lanes=(Lane("SP", "S", "P", ("K",)), Lane("PC", "P", "C", ("F",)), Lane("TC", "T", "C", ("F",))),
        demands=(Demand("C", "F", (10, 10, 10), backlog_penalty=50, lost_sale_penalty=100),),
    )


def test_capacity_loss_buys_from_the_trader() -> None:
    """P keeps half its hours on day 1: it makes 5 F. The other 5 come from T at 9 instead of 3:
    business 90 + 5 * 6 = 120 (a late unit costs 50, a lost one 100). Changes on day 1: buy k 5,
    ship SP 5, make 5, ship PC 5, buy f-spot 5, ship TC 5: stability 30 * 0.5 = 15. Objective 135.
    Buying and sending the 5 K anyway, to use them on day 2, holds them a day (5) and changes buy
    k and ship SP on day 2 instead (2.5): 137.5."""
    spec = plant_network()
    loss = Signal("P-half", SignalType.CAPACITY_LOSS, node="P", magnitude=0.5, start_hours=DAY, duration_hours=DAY)
    result = final(spec, solve(spec), [loss])
    assert result.business_objective == pytest.approx(120)
    assert result.plan.objective == pytest.approx(135)
    assert quantities(result.plan.production, "recipe", "period") == pytest.approx(
        {("make-F", 0): 10, ("make-F", 1): 5, ("make-F", 2): 10}
    )
    assert quantities(result.plan.purchases, "offer", "period") == pytest.approx(
        {("k", 0): 10, ("k", 1): 5, ("f-spot", 1): 5, ("k", 2): 10}
    )


def quality_network() -> NetworkSpec:
    """D holds 10 A; S sells A at 5, one day's lane from S to D takes no time. C wants 10 a day
    for three days; backlog 50, lost 100, holding 1.
    Baseline: the stock serves day 0; buy 10 on days 1 and 2: 100."""
    return NetworkSpec(
        name="quality",
        horizon=3,
        period_hours=DAY,
        items=(Item("A", holding_cost=1),),
        nodes=(Node("S", SUP, tier=1), Node("D", DC), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=5),),
        lanes=(Lane("SD", "S", "D", ("A",)), Lane("DC", "D", "C", ("A",))),
        demands=(Demand("C", "A", (10, 10, 10), backlog_penalty=50, lost_sale_penalty=100),),
        stocks=(Stock("D", "A", on_hand=10),),
    )


def test_inventory_adjustment_quality_hold_replaces_the_stock() -> None:
    """All 10 units at D are put on quality hold from hour 0: buy 10 more on day 0 (50) rather
    than serve C a day late (500). Business 150; changes on day 0: buy 10 and ship SD 10 at
    d^0 = 1: stability 20. Objective 170."""
    spec = quality_network()
    hold = Signal("D-hold", SignalType.INVENTORY_ADJUSTMENT, node="D", item="A", magnitude=-10)
    result = final(spec, solve(spec), [hold])
    assert result.business_objective == pytest.approx(150)
    assert result.plan.objective == pytest.approx(170)
    assert quantities(result.plan.purchases, "offer", "period") == pytest.approx(
        {("o", 0): 10, ("o", 1): 10, ("o", 2): 10}
    )
    assert quantities(result.plan.shipments, "lane", "period")[("SD", 0)] == pytest.approx(10)


def sea_air_network() -> NetworkSpec:
    """S sells A at 5; by sea to C (a day, 1 a unit) or by air (no time, 4 a unit). C wants 10 on
    days 1 and 2; backlog 5, lost 100, holding 0.1.
    Baseline: buy and ship 10 by sea on days 0 and 1: 100 + 20 = 120."""
    return NetworkSpec(
        name="sea-air",
        horizon=3,
        period_hours=DAY,
        items=(Item("A", holding_cost=0.1),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=5),),
        lanes=(
            Lane("sea", "S", "C", ("A",), lead_time=1, unit_cost=1, mode="sea"),
            Lane("air", "S", "C", ("A",), unit_cost=4, mode="air", expedited=True),
        ),
        demands=(Demand("C", "A", (0, 10, 10), backlog_penalty=5, lost_sale_penalty=100),),
    )


@pytest.mark.parametrize(
    ("options", "bought", "objective"),
    [(STABLE, {("o", 0): 10, ("o", 1): 10}, 158.5), (COLD, {("o", 0): 10, ("o", 2): 10}, 150.0)],
    ids=["stable", "cold"],
)
def test_lead_time_change_flies_the_last_load(options: ReplanOptions, bought: dict, objective: float) -> None:
    """Sea departures on day 1 take a day longer and would arrive after the horizon: day 2's 10
    units must fly on day 2 (3 a unit more; losing them costs 100 each). Stable (w = 1, d = 0.5):
    keep the day-1 purchase and hold it a day (1), changing ship sea 10 on day 1 (5) and air 10 on
    day 2 (2.5): business 151, objective 158.5; moving the purchase to day 2 saves the 1 but changes
    it twice (7.5 more). Cold: buy on day 2, business and objective 150."""
    spec = sea_air_network()
    slower = Signal(
        "sea-slow", SignalType.LEAD_TIME_CHANGE, lane="sea", delay_hours=DAY, start_hours=DAY, duration_hours=DAY
    )
    result = final(spec, solve(spec), [slower], options)
    assert result.plan.objective == pytest.approx(objective)
    assert quantities(result.plan.purchases, "offer", "period") == pytest.approx(bought)
    assert quantities(result.plan.shipments, "lane", "period") == pytest.approx({("sea", 0): 10, ("air", 2): 10})


def test_new_order_on_the_last_day() -> None:
    """C orders 5 more A for day 2: S1 is full, so activate S2 (20) and buy 5 there (35):
    business 205 (losing them costs 500; nothing can be late on the last day). Changes on day 2:
    buy alt 5, ship L2 5: stability 10 * 0.25 = 2.5. Objective 207.5."""
    spec = two_suppliers()
    order = Signal("rush", SignalType.ORDER_CHANGE, customer="C", item="A", magnitude=5, start_hours=2 * DAY)
    result = final(spec, solve(spec), [order])
    assert result.business_objective == pytest.approx(205)
    assert result.plan.objective == pytest.approx(207.5)
    assert quantities(result.plan.purchases, "offer", "period") == pytest.approx(
        {("main", 0): 10, ("main", 1): 10, ("main", 2): 10, ("alt", 2): 5}
    )


def test_cancelled_order_cuts_its_purchase() -> None:
    """C cancels day 1's 10 units: cut the day-1 purchase (business 100; changes buy 10 and ship
    10 on day 1: stability 10; objective 110). Buying anyway and using the stock on day 2 costs
    holding 10 and changes ship 10 on day 1 and buy 10 on day 2: 110 + 7.5."""
    spec = two_suppliers()
    cancel = Signal("cancel", SignalType.ORDER_CHANGE, customer="C", item="A", magnitude=-10, start_hours=DAY)
    result = final(spec, solve(spec), [cancel])
    assert result.business_objective == pytest.approx(100)
    assert result.plan.objective == pytest.approx(110)
    assert quantities(result.plan.purchases, "offer", "period") == pytest.approx({("main", 0): 10, ("main", 2): 10})


# ---------------------------------------------------------------------------------------------
# Stability weight 0 is a cold solve
# ---------------------------------------------------------------------------------------------


def _known_cases() -> list[tuple[NetworkSpec, list[Signal]]]:
    detour = Signal("d", SignalType.LANE_DISRUPTION, lane="road", magnitude=0.5, delay_hours=DAY, start_hours=DAY)
    return [
        (two_suppliers(), [outage("S1", 1)]),
        (two_suppliers(), [Signal("drop", SignalType.DEMAND_CHANGE, customer="C", magnitude=0.5)]),
        (detour_network(5), [detour]),
        (plant_network(), [Signal("loss", SignalType.CAPACITY_LOSS, node="P", magnitude=0.5)]),
        (quality_network(), [Signal("hold", SignalType.INVENTORY_ADJUSTMENT, node="D", item="A", magnitude=-10)]),
        (sea_air_network(), [Signal("slow", SignalType.LEAD_TIME_CHANGE, lane="sea", delay_hours=DAY)]),
        (two_suppliers(), [Signal("new", SignalType.ORDER_CHANGE, customer="C", item="A", magnitude=8)]),
    ]


@pytest.mark.parametrize("case", range(7))
def test_stability_weight_zero_is_a_cold_solve_of_the_known_cases(case: int) -> None:
    """With w = 0 (and no fence) the replan's business objective is that of a cold plan of the
    network as the signals leave it, and it charges nothing for changes."""
    spec, signals = _known_cases()[case]
    result = final(spec, solve(spec), signals, COLD)
    assert result.business_objective == pytest.approx(solve(spec, signals).objective, rel=1e-7, abs=1e-6)
    assert "stability" not in result.plan.cost_by_component


@pytest.mark.parametrize("seed", range(8))
def test_stability_weight_zero_is_a_cold_solve_of_random_replans(seed: int) -> None:
    """The same on random networks and signals of every kind, within the gap."""
    spec = random_network(seed)
    signals = random_replan_signals(seed, spec)
    result = final(spec, solve(spec), signals, COLD)
    cold = solve(spec, signals).objective
    assert math.isclose(result.business_objective, cold, rel_tol=1e-6, abs_tol=1e-6), (result.business_objective, cold)


# ---------------------------------------------------------------------------------------------
# Two regions: stability and reach
# ---------------------------------------------------------------------------------------------


def region(name: str) -> NetworkSpec:
    """One region: S1 sells A at 5 (30 a day) to DC D over a day's lane in trucks of 10 at 15;
    backup S2 sells at 7 (30 a day, activation 20) over a lane that takes no time; D holds 15
    and serves C1 (10 a day) and C2 (5 a day). Backlog 50, lost 100, holding 1."""
    n = f"{name}-"
    return NetworkSpec(
        name=name,
        horizon=3,
        period_hours=DAY,
        items=(Item("A", holding_cost=1),),
        nodes=(
            Node(n + "S1", SUP, tier=1),
            Node(n + "S2", SUP, tier=1),
            Node(n + "D", DC),
            Node(n + "C1", CUST),
            Node(n + "C2", CUST),
        ),
        offers=(
            SupplyOffer(n + "main", n + "S1", "A", unit_cost=5, capacity=30),
            SupplyOffer(n + "alt", n + "S2", "A", unit_cost=7, capacity=30, backup=True, activation_cost=20),
        ),
        lanes=(
            Lane(n + "S1D", n + "S1", n + "D", ("A",), lead_time=1, truck_size=10, truck_cost=15),
            Lane(n + "S2D", n + "S2", n + "D", ("A",)),
            Lane(n + "DC1", n + "D", n + "C1", ("A",)),
            Lane(n + "DC2", n + "D", n + "C2", ("A",)),
        ),
        demands=(
            Demand(n + "C1", "A", (10, 10, 10), backlog_penalty=50, lost_sale_penalty=100),
            Demand(n + "C2", "A", (5, 5, 5), backlog_penalty=50, lost_sale_penalty=100),
        ),
        stocks=(Stock(n + "D", "A", on_hand=15),),
    )


def two_regions() -> NetworkSpec:
    """Two copies of `region`, east and west, sharing nothing but the item."""
    east, west = region("east"), region("west")
    return NetworkSpec(
        name="two-regions",
        horizon=3,
        period_hours=DAY,
        items=east.items,
        nodes=east.nodes + west.nodes,
        offers=east.offers + west.offers,
        lanes=east.lanes + west.lanes,
        demands=east.demands + west.demands,
        stocks=east.stocks + west.stocks,
    )


def outside(net: Network, plan: Plan, reach_of: list[Signal], upstream_hops: int = 2) -> dict[str, np.ndarray]:
    """A plan's executed decisions outside the signals' reach (on the network as they leave it)."""
    after = apply_signals(net, reach_of)
    reach = signal_reach(after, reach_of, upstream_hops=upstream_hops, recovery_periods=STABLE.recovery_periods)
    movable = reach.movable()
    return {block: values[~movable[block]] for block, values in baseline_decisions(net, plan).items()}


def test_an_irrelevant_signal_changes_nothing_outside_its_reach() -> None:
    """With the stability penalty on, a small demand change at east-C2 on day 2 (5 -> 4, far from
    any bottleneck) leaves every decision outside its reach where the baseline had it, in the first
    answer and in the final one. Its reach is east: C2's stream, D one step upstream, S1 and S2
    two, and every lane touching those (6 of the 12 decisions); west stays as it was."""
    spec = two_regions()
    net = Network.from_spec(spec)
    baseline = solve(spec)
    small = Signal("C2-dip", SignalType.DEMAND_CHANGE, customer="east-C2", magnitude=0.8, start_hours=2 * DAY)
    results = answers(spec, baseline, [small])
    assert [r.kind for r in results] == ["first", "optimal"]
    assert results[0].reach_share == pytest.approx(0.5)
    kept = outside(net, baseline, [small])
    assert sum(v.size for v in kept.values()) > 0
    for result in results:
        moved = outside(net, result.plan, [small])
        for block in kept:
            assert moved[block] == pytest.approx(kept[block], abs=1e-7), (result.kind, block)


def test_first_answer_keeps_the_other_region_and_the_final_matches_a_cold_solve() -> None:
    """east-S1 is out on day 1. The first answer may move only what the outage reaches (east):
    every west decision is the baseline's, and so are west's stock, safety shortfall, backlog and
    lost sales in every period. With w = 0 the final answer's business objective is a cold solve's;
    with w = 1 the final answer costs no more than the first (it could keep it)."""
    spec = two_regions()
    net = Network.from_spec(spec)
    baseline = solve(spec)
    signals = [outage("east-S1", 1, "east-down")]
    west = {
        "buy": np.array([o.startswith("west-") for o in net.offer_ids]),
        "make": np.zeros(net.n_recipes, dtype=bool),
        "ship": np.array([a.startswith("west-") for a in net.arc_ids()]),
        "inv": np.array([p.startswith("west-") for p in net.position_ids()]),
        "short": np.array([p.startswith("west-") for p in net.position_ids()])[net.position_safety_stock > 0],
        "backlog": np.array([d.startswith("west-") for d in net.demand_ids()]),
        "lost": np.array([d.startswith("west-") for d in net.demand_ids()]),
    }

    def of_west(plan: Plan) -> dict[str, np.ndarray]:
        both = baseline_decisions(net, plan) | baseline_state(net, plan)
        return {block: values[west[block]] for block, values in both.items()}

    kept = of_west(baseline)
    assert kept["inv"].sum() > 0 and kept["ship"].sum() > 0
    cold = solve(spec, signals).objective
    for options in (COLD, STABLE):
        first, last = answers(spec, baseline, signals, options)
        assert first.kind == "first" and 0 < first.reach_share <= 0.5
        moved = of_west(first.plan)
        for block in kept:
            assert moved[block] == pytest.approx(kept[block], abs=1e-7), block
        if options.stability_weight == 0:
            assert last.business_objective == pytest.approx(cold, rel=1e-7)
        else:
            assert last.plan.objective <= first.plan.objective + 1e-6
            assert last.business_objective >= cold - 1e-6


def test_baseline_state_reads_the_plans_stock_shortfall_backlog_and_lost_sales() -> None:
    """The state a first answer keeps outside its reach is the plan's own: read from its tables by
    id, it equals the solved values of each block (the tables leave out values of 1e-7 and less),
    for a fresh plan and for one read back from its protobuf form as the ledger keeps it."""
    spec = random_network(0)
    plan = plan_network(spec, OPTIONS, signals=random_replan_signals(0, spec))
    net = Network.from_spec(spec)
    back = plan_from_proto(plan_pb2.PlanResult.FromString(plan_to_proto(plan).SerializeToString()))
    assert all(plan.values[block].sum() > 0 for block in ("inv", "short", "backlog", "lost"))
    for read in (baseline_state(net, plan), baseline_state(net, back)):
        assert set(read) == {"inv", "short", "backlog", "lost"}
        for block, values in read.items():
            assert values == pytest.approx(plan.values[block], abs=1e-7), block


def test_first_answers_keep_the_state_outside_their_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over 24 random replans with the state kept on any network (`KEEP_STATE_CELLS` 0), every
    first answer in its own reach leaves the stock, shortfall, backlog and lost sales of each
    position and stream outside that reach where the baseline had them. It is a choice, not a
    consequence of the fixed decisions: in seed 10 the final replan moves that state by 23.9 units
    (an arc from a reached plant into an unreached DC), and a first answer without the state kept
    moved it by 2.9."""
    monkeypatch.setattr(planner, "KEEP_STATE_CELLS", 0)
    moved = 0
    for seed in range(24):
        spec = random_network(seed)
        signals, options = random_replan_signals(seed, spec), random_replan_options(seed)
        baseline = plan_network(spec, OPTIONS)
        before = Network.from_spec(spec)
        after = apply_signals(before, signals)
        reach = signal_reach(
            after, signals, upstream_hops=options.upstream_hops, recovery_periods=options.recovery_periods
        )
        first, *_, last = replan(spec, baseline, signals, OPTIONS, options)
        assert first.kind == "first" and first.reach_share == pytest.approx(reach.share()), seed
        assert first.state_kept is True and last.state_kept is None, seed
        outside_reach = reach.outside(after)
        kept = baseline_state(before, baseline)
        for block, at in baseline_state(before, first.plan).items():
            mask = outside_reach[block]
            assert at[mask] == pytest.approx(kept[block][mask], abs=1e-7), (seed, block)
        finally_at = baseline_state(before, last.plan)
        moved += any(
            np.abs(finally_at[block] - kept[block])[mask].max(initial=0.0) > 1e-6
            for block, mask in outside_reach.items()
        )
    assert moved >= 1


def test_a_first_answer_whose_kept_state_breaks_a_new_rule_frees_that_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random protocol network 203, its state kept on any network (`KEEP_STATE_CELLS` 0): the
    demand change at C1 brings an authority rule whose limit before escalation (645) the
    baseline's lost sales at a stream outside the reach already break (the row's activity, 33 lost
    units at 68.94 each, is 2,275). With that state kept the first answer's model is infeasible,
    so the replan builds the same reach again with the state free (its decisions still fixed), and
    the first answer comes from that model; no wider reach is built."""
    monkeypatch.setattr(planner, "KEEP_STATE_CELLS", 0)
    spec = random_protocol_network(203)
    protocols, signals = random_protocols(203, spec)
    options = random_replan_options(203)
    baseline = plan_network(spec, OPTIONS, protocols=protocols)
    before = Network.from_spec(spec)
    after = apply_signals(before, signals)
    groups = resolve_authority(protocols, after, signals)
    reach = signal_reach(after, signals, upstream_hops=options.upstream_hops, recovery_periods=options.recovery_periods)
    decisions, state = baseline_decisions(before, baseline), baseline_state(before, baseline)
    kept = build_replan_model(after, decisions, options, protocols=protocols, groups=groups, reach=reach, state=state)
    assert HighsBackend().solve(kept, OPTIONS).status == SolveStatus.INFEASIBLE
    free = build_replan_model(after, decisions, options, protocols=protocols, groups=groups, reach=reach)
    assert HighsBackend().solve(free, OPTIONS).status == SolveStatus.OPTIMAL
    reaches: list[tuple[int, int | None]] = []
    built: list[tuple[Reach | None, bool]] = []

    def reaching(*args: Any, **kwargs: Any) -> Reach:
        reaches.append((kwargs["upstream_hops"], kwargs["recovery_periods"]))
        return signal_reach(*args, **kwargs)

    def building(*args: Any, **kwargs: Any) -> LinearProgram:
        built.append((kwargs.get("reach"), kwargs.get("state") is not None))
        return build_replan_model(*args, **kwargs)

    monkeypatch.setattr(planner, "signal_reach", reaching)
    monkeypatch.setattr(planner, "build_replan_model", building)
    first, *_ = replan(spec, baseline, signals, OPTIONS, options, protocols=protocols)
    assert first.kind == "first" and first.plan.has_solution and first.state_kept is False
    # The reach of the options twice (the state kept, then freed), then the full replan's model.
    assert reaches == [(options.upstream_hops, options.recovery_periods)] * 2
    assert [kept for _, kept in built] == [True, False, False]
    assert built[2][0] is None
    moved = baseline_decisions(before, first.plan)
    for block, movable in reach.movable().items():
        assert moved[block][~movable] == pytest.approx(decisions[block][~movable], abs=1e-7), block


def test_what_lies_outside_a_reach() -> None:
    """Two regions, a safety stock of 5 at each DC; east-C1's demand doubles on day 0. The
    shortage takes its supply tree into the reach: east-C1's stream and every east position
    (S1/A and S2/A, whose offers sell into them, and D/A). Outside it lie the three west
    positions (inv), west-D among the two safety-stock positions (short), and the streams east-C2,
    west-C1 and west-C2 (backlog, lost): 3 + 1 + 3 + 3 entities over 3 periods, 30 cells. east-C2
    is served by the reached east-D and lies outside all the same: a first answer that keeps the
    state there keeps C2's service."""
    spec = two_regions()
    spec = replace(spec, stocks=tuple(replace(s, safety_stock=5, safety_penalty=1) for s in spec.stocks))
    surge = Signal("C1-up", SignalType.DEMAND_CHANGE, customer="east-C1", magnitude=2.0, duration_hours=DAY)
    after = apply_signals(Network.from_spec(spec), [surge])
    reach = signal_reach(after, [surge], upstream_hops=2, recovery_periods=2)
    assert after.position_ids() == ["east-S1/A", "east-S2/A", "east-D/A", "west-S1/A", "west-S2/A", "west-D/A"]
    assert after.demand_ids() == ["east-C1/A", "east-C2/A", "west-C1/A", "west-C2/A"]
    outside = reach.outside(after)
    assert outside["inv"].tolist() == [False, False, False, True, True, True]
    assert outside["short"].tolist() == [False, True]  # the safety-stock positions east-D, west-D
    assert outside["backlog"].tolist() == outside["lost"].tolist() == [False, True, True, True]
    assert reach.outside_cells(after) == 30


def test_a_small_network_leaves_the_state_outside_the_reach_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """`region("east")` with C1's lost sale at 500 (C2's at 100): C1 wants 40 times its 10 on day
    0, and C2 lies outside the reach (`test_what_lies_outside_a_reach`). Rationing C2 to serve C1
    pays, and the network (6 state cells outside the reach) is far below `KEEP_STATE_CELLS`: the
    first answer leaves the state free, rations C2 and is already the final optimum. Kept on any
    network (`KEEP_STATE_CELLS` 0), the state pins C2's service at the baseline's and the first
    answer is dearer."""
    spec = region("east")
    c1, c2 = spec.demands
    spec = replace(spec, demands=(replace(c1, lost_sale_penalty=500), c2))
    net = Network.from_spec(spec)
    baseline = solve(spec)
    surge = Signal("C1-up", SignalType.DEMAND_CHANGE, customer="east-C1", magnitude=40.0, duration_hours=DAY)
    free_first, *_, last = answers(spec, baseline, [surge], COLD)
    assert free_first.kind == "first" and free_first.state_kept is False
    assert free_first.plan.objective == pytest.approx(last.plan.objective, rel=1e-9)
    lost_c2 = baseline_state(net, baseline)["lost"][1]
    assert baseline_state(net, free_first.plan)["lost"][1].sum() > lost_c2.sum() + 1
    monkeypatch.setattr(planner, "KEEP_STATE_CELLS", 0)
    kept_first, *_ = answers(spec, baseline, [surge], COLD)
    assert kept_first.state_kept is True
    assert baseline_state(net, kept_first.plan)["lost"][1] == pytest.approx(lost_c2, abs=1e-7)
    assert kept_first.plan.objective > free_first.plan.objective + 1


def long_region() -> NetworkSpec:
    """`region("east")` over six days: C1 wants 10 and C2 5 every day."""
    east = region("east")
    return replace(
        east,
        horizon=6,
        demands=tuple(replace(d, quantity=(d.quantity[0],) * 6) for d in east.demands),
    )


def test_reach_in_time_ends_when_the_disruption_has_passed_through_plus_recovery() -> None:
    """east-S1 is out on days 0-1: the windows end at period 2. The outage reaches D one day later
    (lane S1D takes a day) and C1 and C2 the same day (their lanes take none), so its longest delay
    downstream is 1. With 1 recovery period the reach covers periods before 2 + 1 + 1 = 4; with 0,
    before 3; without a recovery given, every period. In space it holds the whole region (S1's
    and S2's offers, all four lanes), so with 1 recovery period 6 decisions x 4 of 6 periods move:
    a share of 24 / 36."""
    net = Network.from_spec(long_region())
    out = Signal("down", SignalType.SUPPLIER_OUTAGE, supplier="east-S1", duration_hours=2 * DAY)
    after = apply_signals(net, [out])
    assert window_end(after, [out]) == 2
    assert signal_reach(after, [out], recovery_periods=1).periods.tolist() == [True] * 4 + [False] * 2
    assert signal_reach(after, [out], recovery_periods=0).periods.tolist() == [True] * 3 + [False] * 3
    assert signal_reach(after, [out]).periods.all()
    reach = signal_reach(after, [out], recovery_periods=1)
    assert reach.offers.all() and reach.arcs.all()
    assert reach.movable()["ship"].shape == (4, 6)
    assert reach.share() == pytest.approx(24 / 36)


def test_first_answer_keeps_decisions_after_the_recovery_and_the_final_matches_a_cold_solve() -> None:
    """The same two-day outage with 1 recovery period: the first answer moves nothing from period 4
    on (every decision there is the baseline's), and with w = 0 the final answer is a cold solve."""
    spec = long_region()
    net = Network.from_spec(spec)
    baseline = solve(spec)
    out = Signal("down", SignalType.SUPPLIER_OUTAGE, supplier="east-S1", duration_hours=2 * DAY)
    options = replace(COLD, recovery_periods=1)
    first, last = answers(spec, baseline, [out], options)
    assert first.kind == "first"
    before, now = baseline_decisions(net, baseline), baseline_decisions(net, first.plan)
    for block in before:
        assert now[block][:, 4:] == pytest.approx(before[block][:, 4:], abs=1e-7), block
    assert last.business_objective == pytest.approx(solve(spec, [out]).objective, rel=1e-7)


# ---------------------------------------------------------------------------------------------
# The frozen fence
# ---------------------------------------------------------------------------------------------


def fenced_changes(baseline: Plan, plan: Plan, fence: int) -> dict[tuple[str, str, int], tuple[float, float]]:
    """Executed decisions in the fence whose value differs from the baseline: key -> (x0, x)."""
    before, after = executed(baseline), executed(plan)
    keys = {k for k in before.keys() | after.keys() if k[2] < fence}
    out = {k: (before.get(k, 0.0), after.get(k, 0.0)) for k in keys}
    return {k: v for k, v in out.items() if abs(v[0] - v[1]) > 1e-7}


def test_fence_changes_only_what_the_outage_forces_and_reports_it() -> None:
    """two_suppliers with a fence of 2 days; S1 is out on day 1. Inside the fence nothing may grow,
    so S2 cannot step in on day 1: buy main and ship L1 on day 1 are forced from 10 to 0 (fence
    20 * 10^4), C waits a day for 10 units (500) and day 2 buys S2's 10 (20 + 70), since losing
    them would cost 1000. Business 50 + 50 + 90 + 500 = 690; stability 20 * 0.5 + 20 * 0.25 =
    15. Each forced cut is reported with the signal; nothing else in the fence moves."""
    spec = two_suppliers()
    baseline = solve(spec)
    options = ReplanOptions(stability_weight=1.0, decay=0.5, fence_periods=2)
    for result in answers(spec, baseline, [outage("S1", 1, "S1-down")], options):
        assert result.business_objective == pytest.approx(690)
        assert result.plan.cost_by_component["fence"] == pytest.approx(200_000)
        assert result.plan.cost_by_component["stability"] == pytest.approx(15)
        assert quantities(result.plan.backlog, "customer", "period") == pytest.approx({("C", 1): 10})
        changed = fenced_changes(baseline, result.plan, 2)
        assert changed == {("buy", "main", 1): (10.0, 0.0), ("ship", "L1/A", 1): (10.0, 0.0)}
        cuts = {(c.block, c.resource, c.period): c for c in result.cuts}
        assert set(cuts) == set(changed)
        for key, cut in cuts.items():
            assert (cut.baseline, cut.replanned) == pytest.approx(changed[key])
            assert "S1-down" in cut.reason
        assert "capacity cut to 0" in cuts[("buy", "main", 1)].reason


def test_fence_keeps_a_purchase_the_demand_no_longer_needs() -> None:
    """C's demand halves on day 0 with a fence of 1 day. Delivering 10 is impossible, so ship L1 on
    day 0 is forced from 10 to 5 (a knock-on cut, reported); the purchase is not forced and stays
    at 10 despite the 25 it wastes (a cut would cost 10^4 a unit): the 5 extra units wait at S1
    (holding 5) and day 1 buys 5 (stability 5 * 1 + 5 * 0.5 = 7.5). Business 130."""
    spec = two_suppliers()
    baseline = solve(spec)
    drop = Signal("C-drop", SignalType.DEMAND_CHANGE, customer="C", magnitude=0.5, duration_hours=DAY)
    options = ReplanOptions(stability_weight=1.0, decay=0.5, fence_periods=1)
    result = final(spec, baseline, [drop], options)
    assert result.business_objective == pytest.approx(130)
    assert result.plan.objective == pytest.approx(130 + 7.5 + 5 * 10_000)
    assert fenced_changes(baseline, result.plan, 1) == {("ship", "L1/A", 0): (10.0, 5.0)}
    assert [(c.block, c.resource, c.period) for c in result.cuts] == [("ship", "L1/A", 0)]
    assert "knock-on effect of signals C-drop" in result.cuts[0].reason
    assert quantities(result.plan.purchases, "offer", "period") == pytest.approx(
        {("main", 0): 10, ("main", 1): 5, ("main", 2): 10}
    )


# ---------------------------------------------------------------------------------------------
# The warm start
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "signals"),
    [
        (two_suppliers(), [outage("S1", 1)]),
        (two_regions(), [outage("east-S1", 1)]),
        (two_regions(), [Signal("dip", SignalType.DEMAND_CHANGE, customer="west-C1", magnitude=0.7)]),
    ],
    ids=["backup", "regions-outage", "regions-demand"],
)
def test_highs_accepts_the_first_answer_as_a_mip_start(spec: NetworkSpec, signals: list[Signal]) -> None:
    """On replans with integers (backup activation, trucks) the full replan starts from the first
    answer, and HiGHS reports the start feasible (`answers` asserts it for every scenario here)."""
    first, last = answers(spec, solve(spec), signals)
    assert first.kind == "first" and first.mip_start_accepted is None
    assert last.plan.stats.n_integer > 0
    assert last.mip_start_accepted is True


# ---------------------------------------------------------------------------------------------
# The rolling horizon
# ---------------------------------------------------------------------------------------------


def rolling_network() -> NetworkSpec:
    """S sells A at 1 (10 a day), a day from DC D (holding 0.1); D holds 5 and should keep 5
    (10 a unit-day short), and serves C (10 a day on days 0-2; a unit late costs 1 a day).

    Baseline, 4 days: the safety stock is worth more than serving sooner, so D keeps its 5 and C
    waits: deliveries 0, 10, 10, 10 (what arrives), backlog 10 at the end of days 0, 1, 2; buy 10
    on days 0, 1, 2. Cost 30 + 30 + holding 4 * 5 * 0.1 = 62."""
    return NetworkSpec(
        name="rolling",
        horizon=4,
        period_hours=DAY,
        items=(Item("A", holding_cost=0.1),),
        nodes=(Node("S", SUP, tier=1), Node("D", DC), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=1, capacity=10),),
        lanes=(Lane("SD", "S", "D", ("A",), lead_time=1), Lane("DC", "D", "C", ("A",))),
        demands=(Demand("C", "A", (10, 10, 10, 0), backlog_penalty=1, lost_sale_penalty=100),),
        stocks=(Stock("D", "A", on_hand=5, safety_stock=5, safety_penalty=10),),
    )


def shifted(plan: Plan, k: int) -> Plan:
    """The plan's executed decisions from period k on, renumbered from 0 (the baseline of the
    advanced network)."""

    def shift(table: Table) -> Table:
        period = table.columns["period"]
        keep = period >= k
        columns = {name: values[keep] for name, values in table.columns.items()}
        columns["period"] = period[keep] - k
        if "arrival" in columns:
            columns["arrival"] = columns["arrival"] - k
        return Table(columns)

    return replace(
        plan, purchases=shift(plan.purchases), production=shift(plan.production), shipments=shift(plan.shipments)
    )


def test_advance_executes_the_first_periods() -> None:
    """advance(rolling, baseline, 2): D's stock at the end of day 1 (5) becomes on hand, the 10
    units sent on day 1 become a receipt at D on the new day 0, the 10 C is owed at the end of day
    1 join its new day-0 demand (10 + 10, then 0). Horizon 2.

    The advanced network's optimum is the baseline's tail: buy 10 on the new day 0, deliver 10
    then 10, backlog 10 once, keep 5: 10 + 10 + 2 * 0.5 = 21. Replanned against the shifted
    baseline with a fence of 1 it keeps every decision: no change, no cut."""
    spec = rolling_network()
    baseline = solve(spec)
    assert quantities(baseline.backlog, "period") == pytest.approx({(0,): 10, (1,): 10, (2,): 10})
    assert quantities(baseline.purchases, "period") == pytest.approx({(0,): 10, (1,): 10, (2,): 10})
    later = advance(spec, baseline, 2)
    assert later.horizon == 2
    assert [(s.node, s.item, s.on_hand, s.safety_stock) for s in later.stocks] == [("D", "A", 5.0, 5.0)]
    assert later.in_transit == (InTransit("D", "A", 0, 10.0),)
    assert [d.quantity for d in later.demands] == [(20.0, 0.0)]
    assert [ln.lead_time for ln in later.lanes] == [1, 0]

    plan = solve(later)
    assert plan.objective == pytest.approx(21)
    assert quantities(plan.purchases, "period") == pytest.approx({(0,): 10})
    options = ReplanOptions(stability_weight=1.0, decay=0.5, fence_periods=1)
    (result,) = list(replan(later, shifted(baseline, 2), [], OPTIONS, options))
    assert result.kind == "optimal"
    assert result.plan.objective == pytest.approx(21)
    assert executed(result.plan) == pytest.approx(executed(shifted(baseline, 2)))
    assert result.cuts == ()
    assert not check_plan(later, result.plan)


@pytest.mark.parametrize("seed", range(6))
def test_advanced_random_networks_replan_against_the_shifted_baseline(seed: int) -> None:
    """On random networks, one period on: the advanced network is valid, plans, and its replan
    against the shifted baseline with a fence of one period is feasible and checks out."""
    spec = random_network(seed)
    baseline = solve(spec)
    later = advance(spec, baseline, 1)
    solve(later)
    options = ReplanOptions(stability_weight=1.0, decay=0.7, fence_periods=1)
    result = final(later, shifted(baseline, 1), [], options)
    assert result.plan.status == SolveStatus.OPTIMAL


def test_advance_counts_a_delivery_under_way_against_the_backlog_it_serves() -> None:
    """S ships C's 10 units on day 0 over a lane that takes 2 days (C waits 2 days, cost 10 + 20).
    After one day C is owed 10 and those 10 are on their way, due on the new day 1: the advanced
    network owes C nothing more (demand 0 in all) and plans no purchase."""
    spec = NetworkSpec(
        name="late",
        horizon=3,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=1),),
        lanes=(Lane("L", "S", "C", ("A",), lead_time=2),),
        demands=(Demand("C", "A", (10, 0, 0), backlog_penalty=1, lost_sale_penalty=100),),
    )
    baseline = solve(spec)
    assert baseline.objective == pytest.approx(30)
    later = advance(spec, baseline, 1)
    assert sum(later.demands[0].quantity) == pytest.approx(0)
    assert solve(later).purchases.total() == pytest.approx(0)


def test_advance_keeps_a_slow_lane_slow() -> None:
    """S sells A at 1; sea takes 2 days (1 a unit), air none (10 a unit); C wants 10 on days 2 and
    3, both sent by sea on days 0 and 1 (40). Two days on (horizon 2) a rush order of 10 for the
    new day 1 can only fly: a sea departure on the new day 0 arrives on day 2, after the horizon.
    Cost 10 + 100 = 110, nothing by sea."""
    spec = NetworkSpec(
        name="slow-lane",
        horizon=4,
        period_hours=DAY,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=1),),
        lanes=(
            Lane("sea", "S", "C", ("A",), lead_time=2, unit_cost=1, mode="sea"),
            Lane("air", "S", "C", ("A",), unit_cost=10, mode="air"),
        ),
        demands=(Demand("C", "A", (0, 0, 10, 10), lost_sale_penalty=100),),
    )
    later = advance(spec, solve(spec), 2)
    rush = Signal("rush", SignalType.ORDER_CHANGE, customer="C", item="A", magnitude=10, start_hours=DAY)
    plan = solve(later, [rush])
    assert quantities(plan.shipments, "lane") == pytest.approx({("air",): 10})
    assert plan.objective == pytest.approx(110)


def test_advance_rejects_periods_outside_the_horizon() -> None:
    spec = rolling_network()
    baseline = solve(spec)
    for k in (0, 4):
        with pytest.raises(ValidationError) as error:
            advance(spec, baseline, k)
        assert error.value.field == "periods"


# ---------------------------------------------------------------------------------------------
# Options and inputs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stability_weight", -1.0),
        ("stability_weight", math.nan),
        ("stability_weight", math.inf),
        ("procurement_weight", -0.5),
        ("production_weight", math.nan),
        ("logistics_weight", math.inf),
        ("decay", 0.0),
        ("decay", 1.5),
        ("decay", math.nan),
        ("fence_periods", -1),
        ("fence_penalty", 0.0),
        ("fence_penalty", -1.0),
        ("fence_penalty", math.nan),
        ("upstream_hops", -1),
    ],
)
def test_replan_options_errors_name_the_field(field: str, value: float) -> None:
    wrong: dict[str, Any] = {field: value}
    with pytest.raises(ValidationError) as error:
        ReplanOptions(**wrong)
    assert error.value.field == field
    assert field in str(error.value)


def test_an_infinite_fence_penalty_is_rejected() -> None:
    with pytest.raises(ValidationError) as error:
        ReplanOptions(fence_penalty=math.inf)
    assert error.value.field == "fence_penalty"


@pytest.mark.parametrize(("field", "value"), [("fence_periods", 1.5), ("upstream_hops", 0.5)])
def test_fractional_periods_and_hops_are_rejected(field: str, value: float) -> None:
    wrong: dict[str, Any] = {field: value}
    with pytest.raises(ValidationError) as error:
        ReplanOptions(**wrong)
    assert error.value.field == field


def test_a_baseline_of_another_shape_names_its_block() -> None:
    net = Network.from_spec(two_suppliers())
    decisions = baseline_decisions(net, solve(two_suppliers()))
    wrong = {**decisions, "ship": decisions["ship"][:, :2]}
    with pytest.raises(ValidationError) as error:
        build_replan_model(net, wrong, STABLE)
    assert error.value.field == "ship"


def test_a_shortage_signal_takes_its_whole_supply_tree_into_reach() -> None:
    """In `region("east")` with no upstream steps: more demand at C1 (a shortage signal) reaches
    C1's supply tree, D and both suppliers behind it, so both offers and all four lanes (S1D, S2D
    into D; DC1, DC2 out of it) may move. Closing lane DC2 is not a shortage signal: it reaches D
    (the lane's origin), C2 and, downstream of D, C1, so the lanes touching them move but neither
    supplier's offer, which only steps upstream would add."""
    net = Network.from_spec(region("east"))
    surge = Signal("more", SignalType.DEMAND_CHANGE, customer="east-C1", item="A", magnitude=1.5)
    reach = signal_reach(apply_signals(net, [surge]), [surge], upstream_hops=0)
    assert reach.offers.tolist() == [True, True]
    assert reach.arcs.all()
    closed = Signal("shut", SignalType.LANE_DISRUPTION, lane="east-DC2", magnitude=0.0)
    reach = signal_reach(apply_signals(net, [closed]), [closed], upstream_hops=0)
    assert reach.offers.tolist() == [False, False]
    assert reach.arcs.tolist() == [True, True, True, True]


def test_the_first_answer_stops_at_its_own_gap_and_the_final_one_proves_the_requested_gap() -> None:
    """The first answer solves to max(request gap, first_answer_gap) and the final replan to the
    request's: a 1e-6 request gives solves at 1% then 1e-6; a looser 5% request keeps 5% for both.
    A first_answer_gap outside [0, 1) names the option."""
    from solver.backends.highs import HighsBackend

    class Recording(HighsBackend):
        def __init__(self) -> None:
            super().__init__()
            self.gaps: list[float] = []

        def solve(self, lp: Any, options: SolveOptions, **kwargs: Any) -> Any:
            self.gaps.append(options.mip_rel_gap)
            return super().solve(lp, options, **kwargs)

    spec = long_region()
    baseline = plan_network(spec, SolveOptions())
    out = Signal("down", SignalType.SUPPLIER_OUTAGE, supplier="east-S1", duration_hours=2 * DAY)
    for requested, expected in ((1e-6, [0.01, 1e-6]), (0.05, [0.05, 0.05])):
        backend = Recording()
        answers = list(replan(spec, baseline, [out], SolveOptions(mip_rel_gap=requested), COLD, backend=backend))
        assert [a.kind for a in answers] == ["first", "optimal"]
        assert backend.gaps == expected
    with pytest.raises(ValidationError, match="first_answer_gap"):
        ReplanOptions(first_answer_gap=1.5)


def test_a_full_replan_without_a_plan_in_its_time_keeps_the_first_answer() -> None:
    """At M a replan with a limit of seconds ended with the full replan's time limit before HiGHS
    held any plan, and that answer (status time_limit, no plan) was the replan's result, although
    the first answer had a plan. The first answer's model is the full model with the decisions
    outside the reach fixed, so its plan is a plan of the full model: it stays the final answer.
    Here the full replan's solve is made to end as a time limit without a plan; the answers are
    the first plan twice, both of kind "first", feasible for the disrupted network."""
    from models.solution import Solution
    from solver.backends.highs import HighsBackend

    class FullReplanTimesOut(HighsBackend):
        def solve(self, lp: LinearProgram, options: SolveOptions, **kwargs: Any) -> Solution:
            if kwargs.get("start") is not None:  # the full replan, warm-started from the first answer
                return Solution(status=SolveStatus.TIME_LIMIT, x=None, backend=self.name, message="Time limit reached")
            return super().solve(lp, options, **kwargs)

    spec = long_region()
    baseline = plan_network(spec, SolveOptions())
    out = Signal("down", SignalType.SUPPLIER_OUTAGE, supplier="east-S1", duration_hours=2 * DAY)
    first, final = replan(spec, baseline, [out], OPTIONS, COLD, backend=FullReplanTimesOut())
    assert first.kind == final.kind == "first" and final.plan.has_solution
    assert final.plan is first.plan and final.ready_seconds >= first.ready_seconds
    assert not check_plan(spec, replace(final.plan, objective=final.business_objective), signals=[out])
