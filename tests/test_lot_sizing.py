"""Capacitated lot sizing with setup times: tiny instances whose optimum is worked out by enumeration
in the docstring, and a textbook multi-item formulation (CLSP with setup times, Trigeiro et al.
1989) written here in highspy that Concerto must match on seeded random instances.

Each instance is one plant making every item from nothing on one shared resource, shipping over a
lead-0 lane to one customer whose demand is served on time (no backlog, no lost sale), so
Concerto's model reduces to the textbook one: holding cost on the plant's end-of-period stock,
setup cost and setup hours per period a setup is on.
"""

from __future__ import annotations

import dataclasses

import highspy
import numpy as np
import pytest

from models.allocation import define_model, setups_serving_demand_only
from models.builder import LinearProgram, ModelBuilder
from models.feasibility import check_plan
from models.network import (
    Calendar,
    CalendarException,
    Demand,
    Item,
    Lane,
    Network,
    NetworkSpec,
    Node,
    NodeRole,
    PerPeriod,
    Recipe,
)
from models.plan import Plan
from models.solution import SolveStatus
from solver.backends.highs import HighsBackend
from solver.explain import DiagnosisStatus, diagnose
from solver.options import SolveOptions
from solver.planner import plan_network

EXACT = SolveOptions(mip_rel_gap=1e-9)


@dataclasses.dataclass(frozen=True)
class LotSizing:
    """A multi-item capacitated lot-sizing instance: demand[i][t], capacity[t] in hours, and per
    item the hours per unit, setup hours, setup cost and holding cost per unit and period."""

    demand: tuple[tuple[float, ...], ...]
    capacity: PerPeriod
    hours_per_unit: tuple[float, ...]
    setup_hours: tuple[float, ...]
    setup_cost: tuple[float, ...]
    holding_cost: tuple[float, ...]
    overtime_hours: float = 0.0
    overtime_cost: float = 0.0

    @property
    def items(self) -> int:
        return len(self.demand)

    @property
    def horizon(self) -> int:
        return len(self.demand[0])

    def spec(self) -> NetworkSpec:
        ids = [f"i{k}" for k in range(self.items)]
        return NetworkSpec(
            name="lot-sizing",
            horizon=self.horizon,
            items=tuple(Item(i, holding_cost=h) for i, h in zip(ids, self.holding_cost)),
            nodes=(
                Node(
                    "P",
                    NodeRole.PLANT,
                    regular_hours=self.capacity,
                    overtime_hours=self.overtime_hours,
                    overtime_cost=self.overtime_cost,
                ),
                Node("C", NodeRole.CUSTOMER),
            ),
            recipes=tuple(
                Recipe(f"make-{i}", "P", i, hours_per_unit=a, setup_cost=sc, setup_hours=st)
                for i, a, sc, st in zip(ids, self.hours_per_unit, self.setup_cost, self.setup_hours)
            ),
            lanes=(Lane("P>C", "P", "C", tuple(ids)),),
            demands=tuple(Demand("C", i, d, on_time=True) for i, d in zip(ids, self.demand)),
        )


def solve(spec: NetworkSpec) -> Plan:
    plan = plan_network(spec, EXACT)
    assert plan.status == SolveStatus.OPTIMAL, plan.message
    violations = check_plan(spec, plan)
    assert not violations, "\n".join(map(str, violations))
    return plan


def made(plan: Plan) -> dict[int, float]:
    out: dict[int, float] = {}
    for row in plan.production.rows():
        out[int(row["period"])] = out.get(int(row["period"]), 0.0) + float(row["quantity"])
    return {t: q for t, q in sorted(out.items()) if q > 1e-6}


def single_item(capacity: PerPeriod, setup_hours: float) -> LotSizing:
    return LotSizing(
        demand=((40.0, 60.0, 50.0),),
        capacity=capacity,
        hours_per_unit=(1.0,),
        setup_hours=(setup_hours,),
        setup_cost=(100.0,),
        holding_cost=(1.0,),
    )


# ---------------------------------------------------------------------------------------------
# Known answers, by enumeration of the setup patterns
# ---------------------------------------------------------------------------------------------


def test_setup_time_takes_capacity_and_changes_the_lot_sizes() -> None:
    """Demand 40, 60, 50 on time; 100 hours a period, 1 hour a unit, setup 20 hours and 100; holding
    1 a unit and period. A setup leaves 80 units of capacity. Period 0 needs a setup (no stock).

        {0}:       150 > 80                                                    infeasible
        {0, 2}:    make0 >= 40 + 60 = 100 > 80                                 infeasible
        {0, 1}:    make0 + make1 = 150, make1 <= 80 so make0 >= 70: stock 30 after period 0, 50
                   after period 1: 2 x 100 + 80 = 280
        {0, 1, 2}: lot for lot, no stock: 3 x 100 = 300

    Optimum 280, made 70 and 80 in periods 0 and 1.
    """
    plan = solve(single_item(100.0, 20.0).spec())
    assert plan.objective == pytest.approx(280.0)
    assert made(plan) == pytest.approx({0: 70.0, 1: 80.0})


def test_without_setup_time_the_same_instance_is_cheaper() -> None:
    """The same instance with setup hours 0: a setup leaves all 100 units.

        {0, 1}: make0 >= 150 - 100 = 50: stock 10 then 50: 200 + 60 = 260
        {0, 2}: make0 >= 100: stock 60 then 0: 200 + 60 = 260
        {0, 1, 2}: 300;  {0}: 150 > 100 infeasible

    Optimum 260 (two plans tie), 20 less than with setup time.
    """
    plan = solve(single_item(100.0, 0.0).spec())
    assert plan.objective == pytest.approx(260.0)


def test_a_maintenance_shutdown_moves_production_around_it() -> None:
    """130 hours a period (110 units after a 20-hour setup), other data as above.

    Without the shutdown: {0, 1}: make0 >= 40 and make1 <= 110 so make0 = 40, stock 0 then 50:
    200 + 50 = 250; {0, 2}: make0 = 100, stock 60: 260; {0, 1, 2}: 300; {0}: infeasible. 250.

    A calendar closes the plant in period 1 (0 hours): only {0, 2} and {0} remain, {0} infeasible:
    make 100 then 50, 260.
    """
    plain = solve(single_item(130.0, 20.0).spec())
    assert plain.objective == pytest.approx(250.0)
    assert made(plain) == pytest.approx({0: 40.0, 1: 110.0})
    shutdown = Calendar(130.0, (CalendarException(1, 2, 0.0),))
    closed = solve(single_item(shutdown, 20.0).spec())
    assert closed.objective == pytest.approx(260.0)
    assert made(closed) == pytest.approx({0: 100.0, 2: 50.0})


def test_a_setup_takes_regular_hours_first_then_overtime() -> None:
    """One period, demand 90 on time, 100 regular hours, 20 overtime hours at 3 an hour, 1 hour a
    unit, setup 20 hours and 10. The setup and 90 units take 110 hours: 10 of them overtime, 30.
    Optimum 10 + 30 = 40 with 10 overtime hours; without setup hours 90 fit in regular time: 10."""
    timed = LotSizing(((90.0,),), 100.0, (1.0,), (20.0,), (10.0,), (1.0,), overtime_hours=20.0, overtime_cost=3.0)
    plan = solve(timed.spec())
    assert plan.objective == pytest.approx(40.0)
    assert plan.overtime.total("hours") == pytest.approx(10.0)
    untimed = solve(dataclasses.replace(timed, setup_hours=(0.0,)).spec())
    assert untimed.objective == pytest.approx(10.0)


def test_two_items_share_the_setup_hours() -> None:
    """Two items, two periods, demand 30 then 30 of each on time; 1 hour a unit, setups of 30 hours
    and 50 each, holding 1. With no stock both items are set up in period 0, which takes at least
    2 x 30 + 30 + 30 = 120 hours.

        capacity (100, 100): period 0 cannot take 120 hours                     infeasible
        capacity (120, 100): period 0 takes exactly its own 120 hours, so both items are set up
                             again in period 1: 120 > 100 hours                   infeasible
        capacity (120, 120): lot for lot is the only plan: 4 setups x 50 = 200, no stock
    """
    base = LotSizing(
        demand=((30.0, 30.0), (30.0, 30.0)),
        capacity=100.0,
        hours_per_unit=(1.0, 1.0),
        setup_hours=(30.0, 30.0),
        setup_cost=(50.0, 50.0),
        holding_cost=(1.0, 1.0),
    )
    assert plan_network(base.spec(), EXACT).status == SolveStatus.INFEASIBLE
    assert plan_network(dataclasses.replace(base, capacity=(120.0, 100.0)).spec(), EXACT).status == (
        SolveStatus.INFEASIBLE
    )
    plan = solve(dataclasses.replace(base, capacity=(120.0, 120.0)).spec())
    assert plan.objective == pytest.approx(200.0)


# ---------------------------------------------------------------------------------------------
# The textbook formulation, written here, against Concerto
# ---------------------------------------------------------------------------------------------


def textbook_clsp(ls: LotSizing, *, relax: bool = False) -> float:
    """CLSP with setup times in highspy, as the textbook writes it (no overtime):

    min  sum_{i,t} sc_i y[i,t] + h_i s[i,t]
    s.t. s[i,t-1] + x[i,t] - s[i,t] = d[i,t]                 s[i,-1] = 0
         sum_i a_i x[i,t] + st_i y[i,t] <= C_t
         x[i,t] <= min((C_t - st_i)^+ / a_i, sum_{u >= t} d[i,u]) y[i,t]
         x, s >= 0,  y in {0, 1}
    """
    n, H = ls.items, ls.horizon
    cap = np.array(ls.capacity if isinstance(ls.capacity, tuple) else [ls.capacity] * H, dtype=float)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-9)
    x = {(i, t): h.addVariable(lb=0.0) for i in range(n) for t in range(H)}
    s = {(i, t): h.addVariable(lb=0.0, obj=ls.holding_cost[i]) for i in range(n) for t in range(H)}
    y = {
        (i, t): (h.addVariable(lb=0.0, ub=1.0, obj=ls.setup_cost[i]) if relax else h.addBinary(obj=ls.setup_cost[i]))
        for i in range(n)
        for t in range(H)
    }
    for i in range(n):
        remaining = np.cumsum(np.array(ls.demand[i])[::-1])[::-1]
        for t in range(H):
            before = s[i, t - 1] if t > 0 else 0.0
            h.addConstr(before + x[i, t] - s[i, t] == ls.demand[i][t])
            big_m = min(max(cap[t] - ls.setup_hours[i], 0.0) / ls.hours_per_unit[i], float(remaining[t]))
            h.addConstr(x[i, t] - big_m * y[i, t] <= 0.0)
    for t in range(H):
        h.addConstr(sum(ls.hours_per_unit[i] * x[i, t] + ls.setup_hours[i] * y[i, t] for i in range(n)) <= cap[t])
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return float("nan")
    return float(h.getInfo().objective_function_value)


def random_lot_sizing(seed: int, items: int, periods: int) -> LotSizing:
    """Trigeiro-style data: demand 0-200 (about one period in five without), 1-2 hours a unit, setup
    times of 10-50 hours, setup cost 100-800, holding 1-5, and a capacity per period (varying, as a
    calendar would) that the lot-for-lot load exceeds in some periods, so production must be moved
    forward: about 85% utilization over the horizon. Period 0 always fits lot for lot; a capacity
    that cannot serve the demand on time is raised by 10% until the textbook model solves."""
    rng = np.random.default_rng(seed)
    demand = np.where(rng.random((items, periods)) < 0.8, rng.integers(0, 200, (items, periods)), 0).astype(float)
    a = np.round(rng.uniform(1.0, 2.0, items), 1)
    st = np.round(rng.uniform(10.0, 50.0, items))
    load = (a[:, None] * demand).sum(axis=0) + st.sum()
    capacity = np.ceil(load.mean() / rng.uniform(0.8, 0.9, periods))
    capacity[0] = max(capacity[0], load[0])
    instance = LotSizing(
        demand=tuple(tuple(row) for row in demand.tolist()),
        capacity=tuple(capacity.tolist()),
        hours_per_unit=tuple(a.tolist()),
        setup_hours=tuple(st.tolist()),
        setup_cost=tuple(np.round(rng.uniform(100, 800, items)).tolist()),
        holding_cost=tuple(np.round(rng.uniform(1, 5, items), 1).tolist()),
    )
    while np.isnan(textbook_clsp(instance)):
        instance = dataclasses.replace(instance, capacity=tuple(np.ceil(np.array(instance.capacity) * 1.1).tolist()))
    return instance


INSTANCES = [(1, 5, 10), (2, 6, 12), (3, 8, 15), (4, 5, 20), (5, 10, 10), (6, 10, 20)]


@pytest.mark.parametrize(("seed", "items", "periods"), INSTANCES)
def test_concerto_matches_the_textbook_lot_sizing_model(seed: int, items: int, periods: int) -> None:
    """Seeded random CLSP instances with setup times: Concerto's optimum (its plan checked
    independently) equals the textbook model's."""
    ls = random_lot_sizing(seed, items, periods)
    plan = solve(ls.spec())
    expected = textbook_clsp(ls)
    assert plan.objective == pytest.approx(expected, rel=1e-7, abs=1e-6)
    assert plan.objective > 0


def _model(spec: NetworkSpec, *, tighten: bool) -> LinearProgram:
    b = ModelBuilder()
    define_model(b, Network.from_spec(spec), tighten_setups=tighten)
    return b.build()


def _relaxed(lp: LinearProgram) -> LinearProgram:
    return dataclasses.replace(lp, integrality=np.zeros_like(lp.integrality))


@pytest.mark.parametrize(("seed", "items", "periods"), INSTANCES[:3])
def test_the_tighter_setup_link_keeps_the_optimum_and_raises_the_bound(seed: int, items: int, periods: int) -> None:
    """With and without the demand-bounded setup link the MILP optimum is the same; the LP
    relaxation with it is at least as high (and is the textbook's relaxation)."""
    ls = random_lot_sizing(seed, items, periods)
    spec = ls.spec()
    assert setups_serving_demand_only(Network.from_spec(spec)).all()
    tight, loose = _model(spec, tighten=True), _model(spec, tighten=False)
    backend = HighsBackend()
    assert backend.solve(tight, EXACT).objective == pytest.approx(backend.solve(loose, EXACT).objective, rel=1e-7)
    tight_lp, loose_lp = backend.solve(_relaxed(tight), EXACT), backend.solve(_relaxed(loose), EXACT)
    assert tight_lp.objective >= loose_lp.objective - 1e-6
    assert tight_lp.objective == pytest.approx(textbook_clsp(ls, relax=True), rel=1e-7)


def test_the_tighter_link_is_strictly_tighter_somewhere() -> None:
    """On the seeded instances the demand bound cuts the LP relaxation for at least one of them:
    the strengthening does something."""
    backend = HighsBackend()
    gains = []
    for seed, items, periods in INSTANCES[:3]:
        spec = random_lot_sizing(seed, items, periods).spec()
        tight = backend.solve(_relaxed(_model(spec, tighten=True)), EXACT).objective
        loose = backend.solve(_relaxed(_model(spec, tighten=False)), EXACT).objective
        gains.append(tight - loose)
    assert max(gains) > 1.0, gains


def test_the_tighter_link_is_left_out_where_the_output_has_another_use() -> None:
    """Demand that may wait, or an item that feeds another recipe, keeps the capacity big-M."""
    ls = random_lot_sizing(1, 5, 10)
    spec = ls.spec()
    waiting = dataclasses.replace(spec, demands=tuple(dataclasses.replace(d, on_time=False) for d in spec.demands))
    assert not setups_serving_demand_only(Network.from_spec(waiting)).any()
    feeding = dataclasses.replace(
        spec,
        recipes=(
            *spec.recipes[:-1],
            dataclasses.replace(spec.recipes[-1], inputs=((spec.recipes[0].item, 1.0),)),
        ),
    )
    serving = setups_serving_demand_only(Network.from_spec(feeding))
    assert not serving[0] and serving[1:].all()


def test_diagnosis_names_the_late_demand_and_the_hours_setups_take() -> None:
    """The infeasible two-item instance above (100 hours a period). The least demand that cannot be
    on time: set up one item in period 0 and make both its periods (30 + 60 = 90 hours), give up
    the other's 30 units of period 0 and set it up in period 1 (60 hours): 30 units late. Setting
    up both in each period serves 40 of 60 units a period (40 late), worse. What it would take with
    every demand on time: 20 more hours in each period (120 needed), where the setups use 60 of the
    plant's 100 hours."""
    spec = LotSizing(
        demand=((30.0, 30.0), (30.0, 30.0)),
        capacity=100.0,
        hours_per_unit=(1.0, 1.0),
        setup_hours=(30.0, 30.0),
        setup_cost=(50.0, 50.0),
        holding_cost=(1.0, 1.0),
    ).spec()
    found = diagnose(spec)
    assert found.status == DiagnosisStatus.INFEASIBLE
    late = [r for r in found.relaxations if r.family == "on_time_demand"]
    assert {r.resource for r in late} <= {"C/i0", "C/i1"} and late
    assert sum(r.amount for r in late) == pytest.approx(30.0)
    assert all("cannot be served on time" in r.message and r.function == "sales" for r in late)
    hours = [r for r in found.relaxations if r.family == "capacity_hours"]
    assert len(hours) == 1 and hours[0].resource == "P"
    assert hours[0].amount == pytest.approx(40.0) and hours[0].periods == (0, 1)
    assert "setups on plant P use 60 of its 100 hours in period 0" in hours[0].message
    assert "setups on plant P use 60 of its 100 hours in period 1" in found.message
