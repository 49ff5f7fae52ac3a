"""Differential tests under decision protocols: the array-built MILP with its authority groups
(`models.protocols.define_authority`) and the Pyomo twin's own formulation of them
(`models.pyomo_model.define_authority`) are the same model, row for row, and reach the same optimum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import pyomo.environ as pyo
import pytest

from models.allocation import build_model
from models.builder import LinearProgram
from models.network import Network, NetworkSpec
from models.protocols import ProtocolSet
from models.pyomo_model import (
    CONSTRAINT_FAMILIES,
    PROTOCOL_CONSTRAINT_FAMILIES,
    PROTOCOL_VARIABLE_BLOCKS,
    PYOMO_NAMES,
    VARIABLE_BLOCKS,
    PyomoResult,
    build_pyomo_model,
    solve_pyomo,
)
from models.signals import Signal, SignalType
from models.solution import Solution, SolveStatus
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions
from solver.planner import CompiledModel, compile_model
from tests.random_networks import random_protocol_network, random_protocols
from tests.test_protocols import (
    LONG_OUTAGE,
    OUTAGE_DAY_0,
    SURGE,
    long_outage_protocols,
    outage_network,
    plant_network,
    short_outage_protocols,
    surge_network,
    surge_protocols,
)
from tests.test_pyomo_twin import _bound, _flat, _linear, _position_map, _twin_columns

SEEDS = range(24)
GAP = 1e-9


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


@cache
def _compiled(seed: int) -> CompiledModel:
    """The protocol network of a seed as its signals leave it, its active groups and its model."""
    spec = random_protocol_network(seed)
    protocols, signals = random_protocols(seed, spec)
    return compile_model(spec, protocols, signals)


@cache
def _builder_solution(seed: int) -> Solution:
    return HighsBackend().solve(_compiled(seed).lp, SolveOptions(mip_rel_gap=GAP))


@cache
def _twin_solution(seed: int) -> PyomoResult:
    model = _compiled(seed)
    return solve_pyomo(model.net, model.protocols, model.groups, mip_rel_gap=GAP)


@cache
def _unprotected(seed: int) -> LinearProgram:
    """The same network's model without protocols."""
    return build_model(_compiled(seed).net)


# ---------------------------------------------------------------------------------------------
# Same optimum
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_twin_reaches_the_builders_optimum_under_protocols(seed: int) -> None:
    builder, twin = _builder_solution(seed), _twin_solution(seed)
    assert builder.status == SolveStatus.OPTIMAL, builder.message
    assert twin.status == SolveStatus.OPTIMAL.value, twin.termination
    assert _close(builder.objective, twin.objective), (builder.objective, twin.objective)


@pytest.mark.parametrize("seed", SEEDS)
def test_twin_plan_is_feasible_and_priced_the_same_in_the_builders_model(seed: int) -> None:
    """The twin's values, protocol blocks included, laid into the builder's columns block by block,
    satisfy every row and bound of the builder's LP and cost what the twin says they cost."""
    lp, twin = _compiled(seed).lp, _twin_solution(seed)
    assert set(twin.values) == set(lp.variables)
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


def _playbook_cases() -> list[Any]:  # pytest.param objects
    """The playbook protocols of `tests.test_protocols` with the optima worked out there (None:
    infeasible)."""
    long_outage = Signal("S1-down", SignalType.SUPPLIER_OUTAGE, supplier="S1", duration_hours=48.0, magnitude=0.0)
    small_surge = Signal("C1-up", SignalType.DEMAND_CHANGE, customer="C1", duration_hours=48, magnitude=1.1)
    strict = outage_network(lost=0.0, backlog=0.0, fill=1.0)
    cases = [
        ("backup-within", outage_network(), short_outage_protocols(limit=100), [OUTAGE_DAY_0], 180.0),
        ("backup-escalates", outage_network(), short_outage_protocols(limit=50), [OUTAGE_DAY_0], 310.0),
        ("rule-inactive", outage_network(), short_outage_protocols(limit=100), [long_outage], 2050.0),
        ("cap-is-limit", strict, short_outage_protocols(limit=50, cap=50, delay=0), [OUTAGE_DAY_0], None),
        ("escalate-to-be-feasible", strict, short_outage_protocols(limit=50, delay=0), [OUTAGE_DAY_0], 210.0),
        (
            "hard-cap-shortfall",
            outage_network(),
            short_outage_protocols(limit=30, cap=50, delay=0),
            [OUTAGE_DAY_0],
            680.0,
        ),
        ("overtime-within", plant_network(), long_outage_protocols(overtime_limit=36), [LONG_OUTAGE], 76.0),
        ("joint-escalation", plant_network(), long_outage_protocols(overtime_limit=9), [LONG_OUTAGE], 169.0),
        ("lateral-within", surge_network(), surge_protocols(lateral_limit=20), [SURGE], 50.0),
        ("lateral-escalates", surge_network(), surge_protocols(lateral_limit=4), [SURGE], 70.0),
        ("surge-below-threshold", surge_network(), surge_protocols(lateral_limit=20), [small_surge], 240.0),
    ]
    return [pytest.param(*case[1:], id=case[0]) for case in cases]


@pytest.mark.parametrize(("spec", "protocols", "signals", "optimum"), _playbook_cases())
def test_twin_reaches_the_playbooks_known_optima(
    spec: NetworkSpec, protocols: ProtocolSet, signals: list[Signal], optimum: float | None
) -> None:
    """On the hand-worked playbook cases both models reach the worked-out optimum, or both find
    the case infeasible."""
    model = compile_model(spec, protocols, signals)
    builder = HighsBackend().solve(model.lp, SolveOptions(mip_rel_gap=GAP))
    twin = solve_pyomo(model.net, model.protocols, model.groups, mip_rel_gap=GAP)
    if optimum is None:
        assert builder.status == SolveStatus.INFEASIBLE, builder.message
        assert twin.status == SolveStatus.INFEASIBLE.value, twin.termination
        return
    assert builder.status == SolveStatus.OPTIMAL and twin.status == SolveStatus.OPTIMAL.value
    assert builder.objective == pytest.approx(optimum) and twin.objective == pytest.approx(optimum)


# ---------------------------------------------------------------------------------------------
# Same model, row for row
# ---------------------------------------------------------------------------------------------


def _labels(lp: LinearProgram, name: str) -> dict[str, int]:
    """Flat position of each label of a one-axis builder block (variables or constraints)."""
    blk = lp.variables[name] if name in lp.variables else lp.constraints[name]
    labels = [str(label) for label in blk.axes[0].labels] if blk.axes else []
    assert len(set(labels)) == len(labels), f"{name}: labels repeat"
    return {label: k for k, label in enumerate(labels)}


def _twin_label(net: Network, name: str, index: Any) -> str:
    """The builder's label of a twin index: rules by id, backup offers by id, periods after '@'."""
    if name in ("authority_limit", "authority_before_escalation"):
        return str(index)
    if name == "early_activation":
        rule, offer = index
        return f"{rule}:{net.offer_ids[offer]}"
    rule, offer, t = index
    return f"{rule}:{net.offer_ids[offer]}@{t}"


def _protocol_columns(m: pyo.ConcreteModel, net: Network, lp: LinearProgram) -> dict[int, int]:
    """id(VarData) of the twin's protocol variables -> the builder's column: escalations and
    capital release by position, early activations by (rule, offer) label."""
    columns: dict[int, int] = {}
    for name in PROTOCOL_VARIABLE_BLOCKS:
        var = m.component(name)
        assert (var is None) == (name not in lp.variables), name
        if var is None:
            continue
        start = lp.variables[name].start
        if name == "early_activation":
            labels = _labels(lp, name)
            for index, data in var.items():
                columns[id(data)] = start + labels[_twin_label(net, name, index)]
        else:
            position, width = _position_map(var.index_set())
            for index, data in var.items():
                columns[id(data)] = start + _flat(position, width, index)
    return columns


def _assert_same_row(data: Any, row: np.ndarray, lower: float, upper: float, columns: dict[int, int]) -> None:
    """A twin constraint equals a builder row, up to sign."""
    coefs, constant = _linear(data.body, columns, len(row))
    twin_lower = _bound(data.lower, -np.inf) - constant
    twin_upper = _bound(data.upper, np.inf) - constant
    sign = 1.0 if np.abs(coefs - row).max() <= 1e-9 * (1 + np.abs(row).max()) else -1.0
    if sign < 0:
        coefs, twin_lower, twin_upper = -coefs, -twin_upper, -twin_lower
    assert np.allclose(coefs, row, rtol=1e-12, atol=1e-9), f"{data.name}: coefficients differ"
    assert twin_lower == pytest.approx(lower, rel=1e-12), f"{data.name}: lower"
    assert twin_upper == pytest.approx(upper, rel=1e-12), f"{data.name}: upper"


@pytest.mark.parametrize("seed", SEEDS)
def test_twin_has_the_builders_columns_rows_and_costs_under_protocols(seed: int) -> None:
    """Every twin variable, protocol ones included, has the builder's bounds (actions no active
    rule covers bounded to 0) and integrality; every twin constraint is a builder row (up to sign),
    the working-capital rows with their release and the protocol families by rule label; the
    builder rows the twin skips are empty; same objective, governance and finance included."""
    model = _compiled(seed)
    net, lp = model.net, model.lp
    m = build_pyomo_model(net, model.protocols, model.groups)
    columns = _twin_columns(m, lp) | _protocol_columns(m, net, lp)
    assert len(columns) == lp.n_cols
    present = [name for name in PROTOCOL_VARIABLE_BLOCKS if name in lp.variables]
    for name in (*VARIABLE_BLOCKS, *present):
        var = getattr(m, PYOMO_NAMES.get(name, name))
        assert len(var) == lp.variables[name].size, name
        for data in var.values():
            j = columns[id(data)]
            assert _bound(data.lb, -np.inf) == lp.col_lower[j], data.name
            assert _bound(data.ub, np.inf) == pytest.approx(lp.col_upper[j], rel=1e-12), data.name
            assert data.is_integer() == bool(lp.integrality[j]), data.name

    assert_same_rows_and_objective(m, lp, net, (*CONSTRAINT_FAMILIES, *PROTOCOL_CONSTRAINT_FAMILIES), columns)


def assert_same_rows_and_objective(
    m: pyo.ConcreteModel, lp: LinearProgram, net: Network, families: Sequence[str], columns: dict[Any, int]
) -> None:
    """Every twin constraint of `families` equals its builder row (protocol rows matched by label,
    the others by position); rows the twin leaves out are empty; the objectives are identical."""
    A = lp.A.toarray()
    for name in families:
        blk = lp.constraints[name]
        con = getattr(m, name)
        assert isinstance(con, pyo.Constraint), name
        if name in PROTOCOL_CONSTRAINT_FAMILIES:
            labels = _labels(lp, name)
            rows = {index: labels[_twin_label(net, name, index)] for index in con}
        else:
            position, width = _position_map(con.index_set())
            rows = {index: _flat(position, width, index) for index in con}
        covered = np.zeros(blk.size, dtype=bool)
        for index, data in con.items():
            r = blk.start + rows[index]
            covered[rows[index]] = True
            _assert_same_row(data, A[r], lp.row_lower[r], lp.row_upper[r], columns)
        skipped = np.flatnonzero(~covered) + blk.start
        assert not A[skipped].any(), f"{name}: the twin skips a row that has terms"
        assert (lp.row_lower[skipped] <= 0).all() and (lp.row_upper[skipped] >= 0).all()

    costs, offset = _linear(m.total_cost.expr, columns, lp.n_cols)
    assert np.allclose(costs, lp.c, rtol=1e-12, atol=1e-12)
    assert offset == pytest.approx(lp.offset, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# What the random protocols do
# ---------------------------------------------------------------------------------------------


def _escalations(seed: int) -> tuple[int, int]:
    """Escalations in the optimum of the builder's model and of the twin."""
    x = _builder_solution(seed).x
    assert x is not None
    builder = _compiled(seed).lp.values(x, "escalate")
    twin = _twin_solution(seed).values["escalate"]
    return int((builder > 0.5).sum()), int((twin > 0.5).sum())


def _forbidden(seed: int) -> int:
    """Columns the protocols bound to 0 that are free without them (those come first)."""
    lp, free = _compiled(seed).lp, _unprotected(seed).col_upper
    return int(((lp.col_upper[: len(free)] == 0) & (free > 0)).sum())


def test_random_protocols_escalate_forbid_and_share() -> None:
    """Across the seeds the protocols matter: most seeds have active groups; on several the
    optimum escalates (in both models); on several a governed action no active rule covers is
    bounded to 0; some escalations are shared by a joint approval; some groups are delayed and
    some backup activations may come early; some seeds govern working-capital release."""
    models = {seed: _compiled(seed) for seed in SEEDS}
    assert sum(len(model.groups) > 0 for model in models.values()) >= 0.8 * len(SEEDS)
    escalations = {seed: _escalations(seed) for seed in SEEDS}
    assert sum(builder > 0 for builder, _ in escalations.values()) >= 5, escalations
    assert sum(twin > 0 for _, twin in escalations.values()) >= 5, escalations
    assert sum(_forbidden(seed) > 0 for seed in SEEDS) >= 5

    def shares_an_escalation(model: CompiledModel) -> bool:
        return len({g.escalation for g in model.groups}) < len(model.groups)

    assert sum(shares_an_escalation(model) for model in models.values()) >= 3
    assert sum(model.lp.constraints["authority_before_escalation"].size > 0 for model in models.values()) >= 5
    assert sum(model.lp.variables["early_activation"].size > 0 for model in models.values()) >= 3
    assert sum("capital_release" in model.lp.variables for model in models.values()) >= 3


def test_random_protocols_are_repeatable() -> None:
    spec = random_protocol_network(5)
    assert spec == random_protocol_network(5)
    assert random_protocols(5, spec) == random_protocols(5, spec)
    assert random_protocols(5, spec) != random_protocols(6, spec)
