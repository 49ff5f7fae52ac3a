"""Differential tests: the array-built MILP (`models.allocation`) and its algebraic Pyomo twin
(`models.pyomo_model`) are the same model, row for row, and reach the same optimum with HiGHS.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from typing import Any

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn.standard_repn import generate_standard_repn

from models.allocation import build_model
from models.builder import LinearProgram
from models.feasibility import check_plan
from models.network import (
    Demand,
    Item,
    Lane,
    Network,
    NetworkSpec,
    Node,
    NodeRole,
    ServiceTarget,
    Stock,
    SupplyOffer,
)
from models.pyomo_model import (
    CONSTRAINT_FAMILIES,
    PYOMO_NAMES,
    VARIABLE_BLOCKS,
    PyomoResult,
    build_pyomo_model,
    solve_pyomo,
)
from models.solution import Solution, SolveStatus
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions
from solver.planner import plan_network
from tests.random_networks import random_calendar_network, random_network

SEEDS = range(24)
LP_SEEDS = range(100, 104)
CASES = [(seed, True) for seed in SEEDS] + [(seed, False) for seed in LP_SEEDS]
GAP = 1e-9


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


@cache
def _network(seed: int, integers: bool = True) -> Network:
    return Network.from_spec(random_network(seed, integers=integers))


@cache
def _lp(seed: int, integers: bool = True) -> LinearProgram:
    return build_model(_network(seed, integers))


@cache
def _calendar_network(seed: int) -> Network:
    return Network.from_spec(random_calendar_network(seed))


CALENDAR_SEEDS = range(12)


@cache
def _builder_solution(seed: int, integers: bool = True) -> Solution:
    return HighsBackend().solve(_lp(seed, integers), SolveOptions(mip_rel_gap=GAP))


@cache
def _twin_solution(seed: int, integers: bool = True) -> PyomoResult:
    return solve_pyomo(_network(seed, integers), mip_rel_gap=GAP)


# ---------------------------------------------------------------------------------------------
# Same optimum
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_twin_reaches_the_builders_optimum(seed: int) -> None:
    builder, twin = _builder_solution(seed), _twin_solution(seed)
    assert builder.status == SolveStatus.OPTIMAL, builder.message
    assert twin.status == SolveStatus.OPTIMAL.value, twin.termination
    assert _close(builder.objective, twin.objective), (builder.objective, twin.objective)


@pytest.mark.parametrize("seed", LP_SEEDS)
def test_twin_agrees_on_networks_without_integers(seed: int) -> None:
    lp = _lp(seed, False)
    assert lp.n_integer == 0
    builder, twin = _builder_solution(seed, False), _twin_solution(seed, False)
    assert builder.status == SolveStatus.OPTIMAL
    assert twin.status == SolveStatus.OPTIMAL.value
    assert _close(builder.objective, twin.objective)


@pytest.mark.parametrize(("seed", "integers"), CASES)
def test_twin_plan_is_feasible_and_priced_the_same_in_the_builders_model(seed: int, integers: bool) -> None:
    """The twin's values, laid into the builder's columns block by block, satisfy every row and
    bound of the builder's LP and cost what the twin says they cost."""
    lp, twin = _lp(seed, integers), _twin_solution(seed, integers)
    x = np.zeros(lp.n_cols)
    for name, blk in lp.variables.items():
        assert twin.values[name].shape == blk.shape, name
        x[blk.slice] = twin.values[name].ravel()
    tol = 1e-6 * (1.0 + np.abs(x).max())
    activity = lp.A @ x
    assert (activity >= lp.row_lower - tol).all() and (activity <= lp.row_upper + tol).all()
    assert (x >= lp.col_lower - tol).all() and (x <= lp.col_upper + tol).all()
    integral = x[lp.integrality]
    assert np.allclose(integral, np.round(integral), atol=1e-5)
    assert _close(lp.objective(x), twin.objective)


# ---------------------------------------------------------------------------------------------
# Same model, row for row
# ---------------------------------------------------------------------------------------------


def _position_map(index_set: Any) -> tuple[dict[Any, int], int]:
    """Flat position of each member of a 1-d or (subset x periods) Pyomo index set, C order."""
    subsets = list(index_set.subsets())
    if len(subsets) == 1:
        return {k: n for n, k in enumerate(index_set)}, 1
    first, periods = subsets
    return {k: n for n, k in enumerate(first)}, len(periods)


def _flat(position: dict[Any, int], width: int, index: Any) -> int:
    if width == 1 and not isinstance(index, tuple):
        return position[index]
    k, t = index
    return position[k] * width + int(t)


def _twin_columns(m: pyo.ConcreteModel, lp: LinearProgram) -> dict[int, int]:
    """id(VarData) of the twin -> the builder's column of the same variable."""
    columns: dict[int, int] = {}
    for name in VARIABLE_BLOCKS:
        var = getattr(m, PYOMO_NAMES.get(name, name))
        position, width = _position_map(var.index_set())
        start = lp.variables[name].start
        for index, data in var.items():
            columns[id(data)] = start + _flat(position, width, index)
    return columns


def _linear(expr: Any, columns: dict[int, int], n_cols: int) -> tuple[np.ndarray, float]:
    repn = generate_standard_repn(expr, compute_values=True)
    assert repn.is_linear()
    row = np.zeros(n_cols)
    for coef, var in zip(repn.linear_coefs, repn.linear_vars):
        row[columns[id(var)]] += float(coef)
    return row, float(repn.constant)


def _bound(value: Any, default: float) -> float:
    return default if value is None else float(pyo.value(value))


@pytest.mark.parametrize(("seed", "integers"), CASES[:12] + CASES[-2:])
def test_twin_has_the_builders_columns_rows_and_costs(seed: int, integers: bool) -> None:
    """Every twin variable has the builder's bounds and integrality; every twin constraint is a
    builder row (up to sign), and the builder rows the twin skips are empty; same objective."""
    _assert_same_model(_network(seed, integers), _lp(seed, integers))


@pytest.mark.parametrize("seed", CALENDAR_SEEDS)
def test_twin_writes_the_builders_rows_with_calendars_and_setup_times(seed: int) -> None:
    """Per-period hours, rates, offer, lane and storage capacities and setup hours: the same
    columns, rows and costs in both formulations."""
    net = _calendar_network(seed)
    _assert_same_model(net, build_model(net))


def test_calendar_networks_vary_every_capacity_and_take_setup_hours() -> None:
    """Across the calendar seeds every capacity differs between periods somewhere, and setups
    take hours that the capacity rows charge: the tests above compare what they claim to."""

    def varies(array: np.ndarray) -> bool:
        finite = np.where(np.isfinite(array), array, -1.0)
        return bool((finite != finite[:, :1]).any())

    nets = [_calendar_network(seed) for seed in CALENDAR_SEEDS]
    for name in ("node_regular_hours", "node_overtime_hours", "node_storage", "offer_capacity", "recipe_max_rate"):
        assert any(varies(getattr(net, name)) for net in nets), name
    assert any(varies(net.lane_capacity) for net in nets)
    charged = 0
    for net in nets:
        lp = build_model(net)
        blk, setup = lp.constraints["capacity_hours"], lp.variables["setup"]
        block = lp.A[blk.start : blk.start + blk.size][:, setup.start : setup.start + setup.size]
        charged += block.nnz
    assert charged > 0


@pytest.mark.parametrize("seed", CALENDAR_SEEDS)
def test_twin_agrees_with_calendars_and_setup_times(seed: int) -> None:
    """Same optimum on the calendar networks, and the builder's plan passes the independent
    checker, which recomputes setup hours and per-period capacities from the spec."""
    net = _calendar_network(seed)
    builder = HighsBackend().solve(build_model(net), SolveOptions(mip_rel_gap=GAP))
    twin = solve_pyomo(net, mip_rel_gap=GAP)
    assert builder.status == SolveStatus.OPTIMAL, builder.message
    assert twin.status == SolveStatus.OPTIMAL.value, twin.termination
    assert _close(builder.objective, twin.objective), (builder.objective, twin.objective)
    plan = plan_network(net.spec, SolveOptions(mip_rel_gap=GAP))
    assert not check_plan(net.spec, plan), check_plan(net.spec, plan)


def test_twin_writes_the_backup_flow_links_the_builder_writes() -> None:
    """With the backup-to-lane links on (off by default), both formulations hold the same rows, on
    the random networks where the links cut."""
    written = 0
    for seed in SEEDS:
        net = _network(seed, True)
        lp = build_model(net, link_backup_flows=True)
        written += lp.constraints["backup_lane_link"].size if "backup_lane_link" in lp.constraints else 0
        _assert_same_model(net, lp, link_backup_flows=True)
    assert written > 0


def _assert_same_model(net: Network, lp: LinearProgram, *, link_backup_flows: bool = False) -> None:
    m = build_pyomo_model(net, link_backup_flows=link_backup_flows)
    columns = _twin_columns(m, lp)
    assert len(columns) == lp.n_cols
    for name in VARIABLE_BLOCKS:
        var = getattr(m, PYOMO_NAMES.get(name, name))
        assert len(var) == lp.variables[name].size, name
        for data in var.values():
            j = columns[id(data)]
            assert _bound(data.lb, -np.inf) == lp.col_lower[j], data.name
            assert _bound(data.ub, np.inf) == pytest.approx(lp.col_upper[j], rel=1e-12), data.name
            assert data.is_integer() == bool(lp.integrality[j]), data.name

    A = lp.A.toarray()
    for name in CONSTRAINT_FAMILIES:
        blk = lp.constraints[name]
        con = getattr(m, name)
        assert isinstance(con, pyo.Constraint), name
        position, width = _position_map(con.index_set())
        covered = np.zeros(blk.size, dtype=bool)
        for index, data in con.items():
            r = _flat(position, width, index)
            covered[r] = True
            coefs, constant = _linear(data.body, columns, lp.n_cols)
            lower = _bound(data.lower, -np.inf) - constant
            upper = _bound(data.upper, np.inf) - constant
            row = A[blk.start + r]
            sign = 1.0 if np.abs(coefs - row).max() <= 1e-9 * (1 + np.abs(row).max()) else -1.0
            if sign < 0:
                coefs, lower, upper = -coefs, -upper, -lower
            assert np.allclose(coefs, row, rtol=1e-12, atol=1e-9), f"{data.name}: coefficients differ"
            assert lower == pytest.approx(lp.row_lower[blk.start + r], rel=1e-12), f"{data.name}: lower"
            assert upper == pytest.approx(lp.row_upper[blk.start + r], rel=1e-12), f"{data.name}: upper"
        skipped = np.flatnonzero(~covered) + blk.start
        # The twin skips rows without terms, and rows without bounds (a period of unlimited capacity).
        free = np.isinf(lp.row_lower[skipped]) & np.isinf(lp.row_upper[skipped])
        assert not A[skipped[~free]].any(), f"{name}: the twin skips a row that has terms"
        assert (lp.row_lower[skipped] <= 0).all() and (lp.row_upper[skipped] >= 0).all()

    costs, offset = _linear(m.total_cost.expr, columns, lp.n_cols)
    assert np.allclose(costs, lp.c, rtol=1e-12, atol=1e-12)
    assert offset == pytest.approx(lp.offset, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# What the random networks hold
# ---------------------------------------------------------------------------------------------


def test_random_networks_have_integers_that_matter() -> None:
    """Most networks carry integer variables, and on most the LP relaxation is strictly better:
    the differential tests compare real MILPs, not LPs in disguise."""
    with_integers = sum(_lp(seed).n_integer > 0 for seed in SEEDS)
    assert with_integers >= 0.8 * len(SEEDS)
    gaps = 0
    for seed in SEEDS:
        lp = _lp(seed)
        relaxed = dataclasses.replace(lp, integrality=np.zeros_like(lp.integrality))
        relaxation = HighsBackend().solve(relaxed, SolveOptions())
        gaps += relaxation.objective < _builder_solution(seed).objective - 1e-6 * abs(relaxation.objective)
    assert gaps >= 0.6 * len(SEEDS)


def test_random_networks_exercise_every_family() -> None:
    """Across the seeds every variable block and every constraint family has rows (the backup-to-
    lane links, off by default, with them on: the test above compares those)."""
    for name in VARIABLE_BLOCKS:
        assert any(_lp(seed).variables[name].size for seed in SEEDS), name
    for name in CONSTRAINT_FAMILIES:
        if name == "backup_lane_link":
            continue
        assert any(_lp(seed).constraints[name].size for seed in SEEDS), name


def test_random_networks_are_repeatable() -> None:
    assert random_network(7) == random_network(7)
    assert random_network(7) != random_network(8)


# ---------------------------------------------------------------------------------------------
# Infeasible
# ---------------------------------------------------------------------------------------------


def _unreachable_target() -> Network:
    """A supplier sells at most 5 units a period; the customer asks 10 a period and the tier's
    target is a fill rate of 1.0. At most 5 x 3 = 15 of the 30 units can arrive: infeasible."""
    return Network.from_spec(
        NetworkSpec(
            name="unreachable-target",
            horizon=3,
            items=(Item("fin", unit_value=10.0),),
            nodes=(
                Node("S", NodeRole.SUPPLIER, tier=1),
                Node("DC", NodeRole.DC),
                Node("C", NodeRole.CUSTOMER),
            ),
            offers=(SupplyOffer("S:fin", "S", "fin", unit_cost=1.0, capacity=5.0),),
            lanes=(Lane("S>DC", "S", "DC", ("fin",)), Lane("DC>C", "DC", "C", ("fin",))),
            demands=(Demand("C", "fin", (10.0, 10.0, 10.0), price=20.0, lost_sale_penalty=5.0),),
            stocks=(Stock("DC", "fin", on_hand=0.0),),
            service_targets=(ServiceTarget(priority=1, fill_rate=1.0),),
        )
    )


def test_an_unreachable_service_target_is_infeasible_for_both() -> None:
    net = _unreachable_target()
    builder = HighsBackend().solve(build_model(net), SolveOptions(mip_rel_gap=GAP))
    twin = solve_pyomo(net, mip_rel_gap=GAP)
    assert builder.status == SolveStatus.INFEASIBLE, builder.message
    assert twin.status == SolveStatus.INFEASIBLE.value, twin.termination
    assert math.isnan(twin.objective) and twin.values == {}


def test_the_same_network_with_a_reachable_target_is_optimal_for_both() -> None:
    """Half the demand (15 of 30 units) is within reach, so a fill rate of 0.5 is feasible."""
    spec = _unreachable_target().spec
    net = Network.from_spec(dataclasses.replace(spec, service_targets=(ServiceTarget(priority=1, fill_rate=0.5),)))
    builder = HighsBackend().solve(build_model(net), SolveOptions(mip_rel_gap=GAP))
    twin = solve_pyomo(net, mip_rel_gap=GAP)
    assert builder.status == SolveStatus.OPTIMAL and twin.status == SolveStatus.OPTIMAL.value
    # 15 units delivered at price 20, bought at 1; 15 lost at penalty 5: -300 + 15 + 75.
    assert builder.objective == pytest.approx(-210.0) and twin.objective == pytest.approx(-210.0)
