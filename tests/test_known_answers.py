"""Known-answer tests: small networks whose optimum is worked out by hand in each docstring.

Every solved plan is also run through the independent feasibility checker.
"""

from __future__ import annotations

import pytest

from models.feasibility import check_plan
from models.network import (
    Demand,
    InTransit,
    Item,
    Lane,
    NetworkSpec,
    Node,
    NodeRole,
    Recipe,
    ServiceTarget,
    Stock,
    SupplyOffer,
)
from models.plan import Plan
from models.solution import SolveStatus
from solver.options import SolveOptions
from solver.planner import plan_network

SUP, PLANT, DC, CUST = NodeRole.SUPPLIER, NodeRole.PLANT, NodeRole.DC, NodeRole.CUSTOMER


def solve(spec: NetworkSpec) -> Plan:
    plan = plan_network(spec, SolveOptions(mip_rel_gap=1e-9))
    assert plan.status == SolveStatus.OPTIMAL, plan.message
    violations = check_plan(spec, plan)
    assert not violations, "\n".join(map(str, violations))
    return plan


def quantities(table: object, *key: str) -> dict[tuple, float]:
    return {tuple(r[k] for k in key): r["quantity"] for r in table.rows()}  # type: ignore[attr-defined]


def backup_network(lost_sale_penalty: float) -> NetworkSpec:
    return NetworkSpec(
        name="backup",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S1", SUP, tier=1), Node("S2", SUP, tier=1), Node("C", CUST)),
        offers=(
            SupplyOffer("main", "S1", "A", unit_cost=5, capacity=10),
            SupplyOffer("backup", "S2", "A", unit_cost=6, capacity=10, backup=True, activation_cost=20),
        ),
        lanes=(Lane("L1", "S1", "C", ("A",)), Lane("L2", "S2", "C", ("A",))),
        demands=(Demand("C", "A", (15,), lost_sale_penalty=lost_sale_penalty),),
    )


def test_backup_supplier_worth_activating() -> None:
    """Demand 15, main supplier caps at 10 units at 5; backup sells at 6 after a one-off 20.

    The 5 units the main supplier cannot give cost 5*6 + 20 = 50 from the backup against 5*100 = 500
    lost. Optimum: 10*5 + 5*6 + 20 = 100, backup activated.
    """
    plan = solve(backup_network(lost_sale_penalty=100))
    assert plan.objective == pytest.approx(100)
    assert [r["offer"] for r in plan.activations.rows()] == ["backup"]
    assert quantities(plan.purchases, "offer") == pytest.approx({("main",): 10, ("backup",): 5})
    assert plan.lost_sales.total() == 0


def test_backup_supplier_not_worth_activating() -> None:
    """Same network, but a lost sale costs only 9. Buying k <= 5 units from the backup costs
    20 + 6k + 9(5 - k) = 65 - 3k >= 50 > 45 = losing all 5. Optimum: 10*5 + 5*9 = 95, no activation.
    """
    plan = solve(backup_network(lost_sale_penalty=9))
    assert plan.objective == pytest.approx(95)
    assert len(plan.activations) == 0
    assert quantities(plan.lost_sales, "customer") == pytest.approx({("C",): 5})


def test_lead_time_forces_backlog() -> None:
    """Demand of 10 in period 0; the only lane has a lead time of 1, so nothing can arrive before
    period 1. Waiting one period costs 2 per unit (20), buying costs 1 per unit (10); losing the
    sale would cost 50 per unit. Optimum: 20 + 10 = 30, backlog 10 at the end of period 0.
    """
    spec = NetworkSpec(
        name="lead-time",
        horizon=3,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=1),),
        lanes=(Lane("L", "S", "C", ("A",), lead_time=1),),
        demands=(Demand("C", "A", (10, 0, 0), backlog_penalty=2, lost_sale_penalty=50),),
    )
    plan = solve(spec)
    assert plan.objective == pytest.approx(30)
    assert quantities(plan.backlog, "customer", "period") == pytest.approx({("C", 0): 10})
    assert quantities(plan.deliveries, "customer", "period") == pytest.approx({("C", 1): 10})


def truck_network() -> NetworkSpec:
    """Two periods of demand 5; a supplier -> DC lane of whole trucks of 10 at 50; holding 1 per unit
    and period; a unit a period late costs 10."""
    return NetworkSpec(
        name="trucks",
        horizon=2,
        items=(Item("A", holding_cost=1),),
        nodes=(Node("S", SUP, tier=1), Node("D", DC), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A"),),
        lanes=(
            Lane("SD", "S", "D", ("A",), truck_size=10, truck_cost=50),
            Lane("DC", "D", "C", ("A",)),
        ),
        demands=(Demand("C", "A", (5, 5), backlog_penalty=10, lost_sale_penalty=1000),),
    )


def test_full_truck_cheaper_than_split() -> None:
    """Demand 5 in each of two periods; supply is free, the supplier -> DC lane moves whole trucks
    of 10 at 50 each, holding costs 1 per unit per period, a unit served a period late costs 10.
    One full truck in period 0 costs 50 plus holding 5 units at the DC for one period (5) = 55;
    one truck in period 1 costs 50 plus 5 late units (50) = 100; two trucks cost 100. Optimum 55.
    """
    plan = solve(truck_network())
    assert plan.objective == pytest.approx(55)
    assert [(r["lane"], r["period"], r["trucks"]) for r in plan.trucks.rows()] == [("SD", 0, 1.0)]
    assert quantities(plan.inventory, "node", "period") == pytest.approx({("D", 0): 5})


def production_network(lost_sale_penalty: float) -> NetworkSpec:
    return NetworkSpec(
        name="production",
        horizon=1,
        items=(Item("K"), Item("F")),
        nodes=(
            Node("S", SUP, tier=1),
            Node("P", PLANT, regular_hours=10, overtime_hours=5, overtime_cost=4),
            Node("C", CUST),
        ),
        offers=(SupplyOffer("k", "S", "K", unit_cost=1),),
        recipes=(Recipe("make-F", "P", "F", inputs=(("K", 2.0),), hours_per_unit=1, unit_cost=2),),
        lanes=(Lane("SP", "S", "P", ("K",)), Lane("PC", "P", "C", ("F",))),
        demands=(Demand("C", "F", (14,), lost_sale_penalty=lost_sale_penalty),),
    )


def test_overtime_pays_when_lost_sales_cost_more() -> None:
    """One F needs 2 K at 1 each and 1 hour at 2: 4 per unit within the 10 regular hours. The next
    4 units need overtime at 4 per hour: 8 per unit, below the lost-sale penalty of 20.
    Optimum: 10*4 + 4*8 = 72; make 14, buy 28 K, 4 overtime hours.
    """
    plan = solve(production_network(lost_sale_penalty=20))
    assert plan.objective == pytest.approx(72)
    assert plan.production.total() == pytest.approx(14)
    assert plan.purchases.total() == pytest.approx(28)
    assert plan.overtime.total("hours") == pytest.approx(4)


def test_overtime_idle_when_lost_sales_are_cheaper() -> None:
    """As above with a lost-sale penalty of 7 < 8 per overtime unit: make the 10 units regular time
    allows (40) and lose 4 (28). Optimum 68, no overtime.
    """
    plan = solve(production_network(lost_sale_penalty=7))
    assert plan.objective == pytest.approx(68)
    assert len(plan.overtime) == 0
    assert plan.lost_sales.total() == pytest.approx(4)


@pytest.mark.parametrize(("penalty", "expected", "bought"), [(2.0, 8.0, 8.0), (1.5, 7.5, 0.0)])
def test_minimum_order(penalty: float, expected: float, bought: float) -> None:
    """Demand 5; the only offer sells at 1 per unit but at least 8 per order. Ordering 8 costs 8
    (3 units are left over); losing all 5 costs 5 * penalty: 10 at penalty 2 (so order: 8), 7.5 at
    penalty 1.5 (so lose: 7.5).
    """
    spec = NetworkSpec(
        name="min-order",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=1, capacity=20, min_order=8),),
        lanes=(Lane("L", "S", "C", ("A",)),),
        demands=(Demand("C", "A", (5,), lost_sale_penalty=penalty),),
    )
    plan = solve(spec)
    assert plan.objective == pytest.approx(expected)
    assert plan.purchases.total() == pytest.approx(bought)


def test_expedite_beats_waiting() -> None:
    """Demand 10 in period 0. The sea lane (lead 2, 1 per unit) delivers in period 2 after two
    periods of backlog at 3 per unit-period: 10 + 60 = 70. The air lane (lead 0, 5 per unit) delivers
    at once: 50. Optimum 50, all by air.
    """
    spec = NetworkSpec(
        name="expedite",
        horizon=3,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A"),),
        lanes=(
            Lane("sea", "S", "C", ("A",), lead_time=2, unit_cost=1, mode="sea"),
            Lane("air", "S", "C", ("A",), lead_time=0, unit_cost=5, mode="air", expedited=True),
        ),
        demands=(Demand("C", "A", (10, 0, 0), backlog_penalty=3, lost_sale_penalty=100),),
    )
    plan = solve(spec)
    assert plan.objective == pytest.approx(50)
    assert quantities(plan.shipments, "lane") == pytest.approx({("air",): 10})


def test_in_transit_receipt_is_worth_waiting_for() -> None:
    """10 units are already under way to the DC, arriving in period 1; demand is 5 in each of two
    periods. Buying 5 more costs 50 each; waiting one period for the receipt costs 1 per unit.
    Optimum: backlog 5 units in period 0 (cost 5) and deliver all 10 in period 1.
    """
    spec = NetworkSpec(
        name="in-transit",
        horizon=2,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("D", DC), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=50),),
        lanes=(Lane("SD", "S", "D", ("A",)), Lane("DC", "D", "C", ("A",))),
        demands=(Demand("C", "A", (5, 5), backlog_penalty=1, lost_sale_penalty=100),),
        in_transit=(InTransit("D", "A", 1, 10),),
    )
    plan = solve(spec)
    assert plan.objective == pytest.approx(5)
    assert quantities(plan.deliveries, "period") == pytest.approx({(1,): 10})
    assert plan.purchases.total() == 0


def test_safety_stock_is_soft() -> None:
    """A DC should hold 5 units in both periods; falling short costs 3 per unit-period (30 in all).
    Buying 5 units at 2 (10) and holding them for two periods at 0.5 (5) costs 15 < 30. Optimum 15.
    With a penalty of 1 (10 in all < 15) the DC holds nothing: see the second half.
    """

    def spec(penalty: float) -> NetworkSpec:
        return NetworkSpec(
            name="safety",
            horizon=2,
            items=(Item("A", holding_cost=0.5),),
            nodes=(Node("S", SUP, tier=1), Node("D", DC)),
            offers=(SupplyOffer("o", "S", "A", unit_cost=2),),
            lanes=(Lane("SD", "S", "D", ("A",)),),
            stocks=(Stock("D", "A", safety_stock=5, safety_penalty=penalty),),
        )

    assert solve(spec(3)).objective == pytest.approx(15)
    low = solve(spec(1))
    assert low.objective == pytest.approx(10)
    assert low.safety_shortfall.total() == pytest.approx(10)


def facility_location(single_source: bool) -> NetworkSpec:
    sites = {"F1": (15, 100, (1, 2, 6)), "F2": (15, 100, (6, 2, 1)), "F3": (30, 180, (3, 3, 3))}
    customers = ("C1", "C2", "C3")
    return NetworkSpec(
        name="cflp-single-source" if single_source else "cflp",
        horizon=1,
        items=(Item("A"),),
        nodes=tuple(Node(s, SUP, tier=1) for s in sites) + tuple(Node(c, CUST) for c in customers),
        offers=tuple(
            SupplyOffer(f"open-{s}", s, "A", capacity=cap, backup=True, activation_cost=fixed)
            for s, (cap, fixed, _) in sites.items()
        ),
        lanes=tuple(
            Lane(f"{s}-{c}", s, c, ("A",), unit_cost=cost[k])
            for s, (_, _, cost) in sites.items()
            for k, c in enumerate(customers)
        ),
        demands=tuple(Demand(c, "A", (10,), single_source=single_source) for c in customers),
        service_targets=(ServiceTarget(priority=1, fill_rate=1.0),),
    )


def test_capacitated_facility_location() -> None:
    """The classic CFLP in Concerto's schema: candidate sites are backup offers (capacity, opening
    cost = activation cost) serving customers directly in one period; a fill-rate target of 1 makes
    serving everyone hard. Sites (capacity, fixed cost, unit cost to C1, C2, C3):
    F1 (15, 100, 1 2 6), F2 (15, 100, 6 2 1), F3 (30, 180, 3 3 3); each customer wants 10.

    - F3 alone: 180 + 30*3 = 270 (F1 or F2 alone lack capacity);
    - F1 + F2 (capacity 30, exactly enough): 200 + C1 from F1 (10) + C3 from F2 (10) + C2 split
      5/5 at 2 (20) = 240;
    - F1 + F3: 280 + C1 from F1 (10) + C2 5 from F1 (10) + 5 from F3 (15) + C3 from F3 (30) = 345,
      F2 + F3 alike, all three dearer still.
    Optimum 240: open F1 and F2, C2 split between them.
    """
    plan = solve(facility_location(single_source=False))
    assert plan.objective == pytest.approx(240)
    assert sorted(r["offer"] for r in plan.activations.rows()) == ["open-F1", "open-F2"]
    assert quantities(plan.shipments, "lane") == pytest.approx(
        {("F1-C1",): 10, ("F1-C2",): 5, ("F2-C2",): 5, ("F2-C3",): 10}
    )


def test_single_source_facility_location() -> None:
    """The same CFLP where every customer takes its 10 units from exactly one site. F1 and F2 can
    each serve only one customer (15 < 20), so F1 + F2 leaves one customer unserved; F1 + F3 costs
    280 + C1 from F1 (10) + C2, C3 from F3 (60) = 350; F3 alone 270. Optimum 270: F3 serves all.
    """
    plan = solve(facility_location(single_source=True))
    assert plan.objective == pytest.approx(270)
    assert [r["offer"] for r in plan.activations.rows()] == ["open-F3"]
    served_by = {r["destination"]: r["lane"] for r in plan.shipments.rows()}
    assert served_by == {"C1": "F3-C1", "C2": "F3-C2", "C3": "F3-C3"}


def test_revenue_and_cost_by_component() -> None:
    """Demand 4 at price 10; buying costs 3, shipping 1 per unit, holding is free. Serving all:
    procurement 12, logistics 4, revenue 40; objective 12 + 4 - 40 = -24.
    """
    spec = NetworkSpec(
        name="revenue",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=3),),
        lanes=(Lane("L", "S", "C", ("A",), unit_cost=1),),
        demands=(Demand("C", "A", (4,), price=10),),
    )
    plan = solve(spec)
    assert plan.objective == pytest.approx(-24)
    parts = plan.cost_by_component
    assert parts["procurement"] == pytest.approx(12)
    assert parts["logistics"] == pytest.approx(4)
    assert parts["revenue"] == pytest.approx(-40)
    assert plan.kpis is not None
    assert plan.kpis.revenue == pytest.approx(40)
    assert plan.kpis.total_cost == pytest.approx(16)
    assert plan.kpis.fill_rate == pytest.approx(1.0)


def test_infeasible_is_a_result_not_an_exception() -> None:
    """A fill-rate target of 1 with no supply at all cannot hold: the plan says infeasible."""
    spec = NetworkSpec(
        name="infeasible",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", capacity=0),),
        lanes=(Lane("L", "S", "C", ("A",)),),
        demands=(Demand("C", "A", (4,)),),
        service_targets=(ServiceTarget(1, 1.0),),
    )
    plan = plan_network(spec)
    assert plan.status == SolveStatus.INFEASIBLE
    assert not plan.has_solution
    assert "infeasible" in plan.summary()


def two_site_cflp() -> NetworkSpec:
    """Two sites (capacity 40, opening cost 120), two customers wanting 10 each; a lane costs 1 to
    the near customer and 4 to the far one; every customer must be served."""
    cost = {("F1", "C1"): 1, ("F1", "C2"): 4, ("F2", "C1"): 4, ("F2", "C2"): 1}
    return NetworkSpec(
        name="cflp-two-sites",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("F1", SUP, tier=1), Node("F2", SUP, tier=1), Node("C1", CUST), Node("C2", CUST)),
        offers=tuple(
            SupplyOffer(f"open-{s}", s, "A", capacity=40, backup=True, activation_cost=120) for s in ("F1", "F2")
        ),
        lanes=tuple(Lane(f"{s}-{c}", s, c, ("A",), unit_cost=u) for (s, c), u in cost.items()),
        demands=(Demand("C1", "A", (10,)), Demand("C2", "A", (10,))),
        service_targets=(ServiceTarget(priority=1, fill_rate=1.0),),
    )


def _optimum_and_relaxation(spec: NetworkSpec, *, links: bool) -> tuple[float, float]:
    import dataclasses

    import numpy as np

    from models.allocation import build_model
    from models.network import Network
    from solver.backends.highs import HighsBackend

    lp = build_model(Network.from_spec(spec), link_backup_flows=links)
    exact = SolveOptions(mip_rel_gap=1e-9)
    optimum = HighsBackend().solve(lp, exact)
    relaxed = HighsBackend().solve(dataclasses.replace(lp, integrality=np.zeros_like(lp.integrality)), exact)
    assert optimum.status == SolveStatus.OPTIMAL and relaxed.status == SolveStatus.OPTIMAL
    return optimum.objective, relaxed.objective


def test_backup_lane_links_raise_the_cflp_bound() -> None:
    """The worked example of `models.allocation.define_backup_flow_links`. Integer optimum: one
    site, 120 + 10*1 + 10*4 = 170 (two sites: 240 + 20 = 260). Without the links the relaxation
    pays 120/40 = 3 per unit of opening and serves each customer from its near site: 2*10*(3 + 1)
    = 80. With ship <= 10 y on every lane the relaxation cannot do better than 170 (any split
    y1 = a, y2 = 1 - a costs 170). The optimum is the same either way; the bound rises 80 -> 170.
    """
    with_links, without = (
        _optimum_and_relaxation(two_site_cflp(), links=True),
        _optimum_and_relaxation(two_site_cflp(), links=False),
    )
    assert with_links[0] == pytest.approx(170) and without[0] == pytest.approx(170)
    assert without[1] == pytest.approx(80)
    assert with_links[1] == pytest.approx(170)


@pytest.mark.parametrize("single_source", [False, True])
def test_facility_location_optimum_is_the_same_with_and_without_the_links(single_source: bool) -> None:
    """The two CFLPs above (240 split, 270 single-sourced) reach the same optimum with and without
    the backup-to-lane links, and the links never lower the relaxation. Split: F1 and F2 at
    capacity 15 and F3 at 30 against demands of 10 give links ship <= 10 y on every lane (10 < 15
    and 10 < 30)."""
    expected = 270 if single_source else 240
    with_links = _optimum_and_relaxation(facility_location(single_source), links=True)
    without = _optimum_and_relaxation(facility_location(single_source), links=False)
    assert with_links[0] == pytest.approx(expected) and without[0] == pytest.approx(expected)
    assert with_links[1] >= without[1] - 1e-9
