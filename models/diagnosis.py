"""The elastic version of the allocation model: every capacity, limit and target gets a priced
violation column, so a model with no plan still has a cheapest way to become feasible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from models.builder import Axes, ConstraintBlock, FloatArray, IntArray, LinearProgram, VariableBlock
from models.network import Network
from models.protocols import AuthorityGroup

RELAXABLE_ROWS: dict[str, str] = {
    "capacity_hours": "production",
    "lane_capacity": "logistics",
    "storage_capacity": "inventory",
    "working_capital": "finance",
    "service_target": "sales",
    "authority_limit": "",
    "authority_before_escalation": "",
}
"""Row families with an upper limit that the elastic model may exceed, and the function owning
them ("": the function of the authority rule named on the row)."""

SUPPLIER_CAPACITY = "supplier_capacity"
SHIPMENT_CAPACITY = "shipment_capacity"
UNSERVED_DEMAND = "unserved_demand"
RELAXABLE_BOUNDS: dict[str, tuple[str, str]] = {
    SUPPLIER_CAPACITY: ("buy", "procurement"),
    SHIPMENT_CAPACITY: ("ship", "logistics"),
}
"""Column upper bounds (offer capacity, lane capacity) the elastic model may exceed: each becomes
a row `x - v <= cap` with the bound lifted."""

ALL_FAMILIES = frozenset(RELAXABLE_ROWS) | frozenset(RELAXABLE_BOUNDS)


def append_columns(
    lp: LinearProgram,
    name: str,
    A_new: sp.spmatrix,
    *,
    cost: npt.ArrayLike = 0.0,
    lower: npt.ArrayLike = 0.0,
    upper: npt.ArrayLike = np.inf,
    axes: Axes = (),
) -> LinearProgram:
    """`lp` with the columns of `A_new` (n_rows x k) appended as one continuous block `name`."""
    k = int(A_new.shape[1])
    blk = VariableBlock(name, lp.n_cols, (k,), False, axes)
    A = sp.csr_matrix(sp.hstack([lp.A, sp.csr_matrix(A_new)], format="csr"))
    return replace(
        lp,
        c=np.concatenate([lp.c, np.broadcast_to(np.asarray(cost, dtype=np.float64), (k,))]),
        A=A,
        col_lower=np.concatenate([lp.col_lower, np.broadcast_to(np.asarray(lower, dtype=np.float64), (k,))]),
        col_upper=np.concatenate([lp.col_upper, np.broadcast_to(np.asarray(upper, dtype=np.float64), (k,))]),
        integrality=np.concatenate([lp.integrality, np.zeros(k, dtype=bool)]),
        variables={**lp.variables, name: blk},
    )


def append_rows(
    lp: LinearProgram,
    name: str,
    A_new: sp.spmatrix,
    *,
    lower: npt.ArrayLike = -np.inf,
    upper: npt.ArrayLike = np.inf,
    axes: Axes = (),
) -> LinearProgram:
    """`lp` with the rows of `A_new` (k x n_cols) appended as one family `name`."""
    k = int(A_new.shape[0])
    blk = ConstraintBlock(name, lp.n_rows, (k,), axes)
    A = sp.csr_matrix(sp.vstack([lp.A, sp.csr_matrix(A_new)], format="csr"))
    return replace(
        lp,
        A=A,
        row_lower=np.concatenate([lp.row_lower, np.broadcast_to(np.asarray(lower, dtype=np.float64), (k,))]),
        row_upper=np.concatenate([lp.row_upper, np.broadcast_to(np.asarray(upper, dtype=np.float64), (k,))]),
        constraints={**lp.constraints, name: blk},
    )


@dataclass(frozen=True, eq=False)
class Violation:
    """One priced violation column: which row family (or bounded block) it relaxes, the resource
    and period it speaks of, and the unit it counts."""

    family: str
    function: str
    resource: str
    period: int
    """-1 for rows not tied to a period (service targets, authority rules)."""
    unit: str


@dataclass(frozen=True, eq=False)
class ElasticProgram:
    """The elastic model and, per violation column (block `violation`), what it relaxes."""

    lp: LinearProgram
    violations: tuple[Violation, ...]
    columns: IntArray


_UNITS = {
    "capacity_hours": "hours",
    "lane_capacity": "units",
    "storage_capacity": "units",
    "working_capital": "value",
    "service_target": "units",
    "authority_limit": "spend",
    "authority_before_escalation": "spend",
    SUPPLIER_CAPACITY: "units",
    SHIPMENT_CAPACITY: "units",
    UNSERVED_DEMAND: "units",
}


def position_labels(blk: ConstraintBlock | VariableBlock) -> tuple[list[str], list[int]]:
    """Resource label (first axis) and period (axis `t`, else -1) of every flat position."""
    if blk.size == 0:
        return [], []
    idx = np.unravel_index(np.arange(blk.size), blk.shape)
    first = [str(v) for v in blk.axes[0][1]] if blk.axes else [""]
    resource = [first[i] for i in idx[0]] if blk.axes else [""] * blk.size
    names = [ax for ax, _ in blk.axes]
    period = [int(v) for v in idx[names.index("t")]] if "t" in names else [-1] * blk.size
    return resource, period


def define_elastic(
    lp: LinearProgram,
    net: Network,
    groups: Sequence[AuthorityGroup] = (),
    *,
    families: frozenset[str] = ALL_FAMILIES,
    unserved_weight: float = 0.0,
    tie_break: float = 1e-5,
) -> ElasticProgram:
    """The elastic model: minimize  sum_r w_r v_r + unserved_weight * sum_s lost[s,t] / D_s
    + tie_break * c.x / max|c|  subject to the rows of `lp` with

        A_r x - v_r <= u_r                    rows r of the relaxable row families
        x_j - v_j <= ub_j,  x_j <= inf        buy and ship columns with a finite capacity bound
        v >= 0

    w_r makes a violation relative to the limit it exceeds: 1 / max(1, |u_r|) for capacities,
    1 / max(1, U) for an authority rule with hard cap U, 1 / max(1, max_t cap) for offer and lane
    capacities, and 1 per unit for a service target (a promise to customers weighs more than a
    capacity, which can be bought). `unserved_weight` > 0 makes every unit of lost demand cost that
    much relative to its stream's total demand D_s (shortfall diagnosis).
    """
    rule_of = {g.rule.id: g.rule for g in groups}
    violations: list[Violation] = []
    weights: list[FloatArray] = []
    rows: list[IntArray] = []
    for family, owner in RELAXABLE_ROWS.items():
        blk = lp.constraints.get(family)
        if family not in families or blk is None or blk.size == 0:
            continue
        upper = lp.row_upper[blk.slice]
        finite = np.isfinite(upper)
        resource, period = position_labels(blk)
        scale = np.maximum(1.0, np.abs(np.where(finite, upper, 0.0)))
        if family == "service_target":
            scale = np.ones(blk.size)
        for k in np.flatnonzero(finite):
            function = owner
            res = resource[k]
            if family.startswith("authority"):
                rule = rule_of.get(res)
                function = rule.function.value if rule is not None else "governance"
                if rule is not None:
                    scale[k] = max(1.0, rule.hard_cap)
            violations.append(Violation(family, function, res, period[k], _UNITS[family]))
        rows.append(blk.start + np.flatnonzero(finite))
        weights.append(1.0 / scale[finite])
    n_row_violations = len(violations)
    row_index = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, dtype=np.int64)
    weight = np.concatenate(weights) if weights else np.zeros(0)

    bound_cols: list[IntArray] = []
    bound_caps: list[FloatArray] = []
    for family, (block, function) in RELAXABLE_BOUNDS.items():
        vblk = lp.variables.get(block)
        if family not in families or vblk is None or vblk.size == 0:
            continue
        cols = np.arange(vblk.start, vblk.start + vblk.size)
        cap = lp.col_upper[cols]
        # An upper bound of 0 is either a disruption or structural (arrives after the horizon, or
        # a protocol forbids the action); only capacities the network states are relaxed.
        stated = net.offer_capacity if block == "buy" else net.lane_capacity[net.arc_lane]
        relax = np.isfinite(cap) & np.isfinite(stated.ravel()) & (cap == stated.ravel())
        if block == "ship":
            relax &= (net.arc_arrival() < net.horizon).ravel()
        resource, period = position_labels(vblk)
        peak = np.broadcast_to(stated.max(axis=1, keepdims=True), stated.shape).ravel()
        for k in np.flatnonzero(relax):
            res = resource[k]
            if block == "ship":
                res = net.lane_ids[int(net.arc_lane[k // net.horizon])]
            else:
                res = f"{net.node_ids[int(net.offer_node[k // net.horizon])]}/{res}"
            violations.append(Violation(family, function, res, period[k], "units"))
        bound_cols.append(cols[relax])
        bound_caps.append(cap[relax])
        weight = np.concatenate([weight, 1.0 / np.maximum(1.0, peak[relax])])

    c = lp.c * (tie_break / max(1.0, float(np.abs(lp.c).max(initial=0.0))))
    if unserved_weight > 0 and "lost" in lp.variables and lp.variables["lost"].size:
        lost = lp.columns("lost")
        total = np.maximum(1.0, net.demand_qty.sum(axis=1))
        c[lost.ravel()] += np.broadcast_to((unserved_weight / total)[:, None], lost.shape).ravel()
    out = replace(lp, c=c)

    n_bound = int(sum(len(b) for b in bound_cols))
    caps = np.concatenate(bound_caps) if bound_caps else np.zeros(0)
    if n_bound:
        bcols = np.concatenate(bound_cols).astype(np.int64)
        out = replace(out, col_upper=out.col_upper.copy())
        out.col_upper[bcols] = np.inf
        bound_rows = sp.csr_matrix((np.ones(n_bound), (np.arange(n_bound), bcols)), shape=(n_bound, out.n_cols))
        first_bound_row = out.n_rows
        out = append_rows(out, "capacity_bound", bound_rows, upper=caps, axes=(("column", [str(c) for c in bcols]),))
        row_index = np.concatenate([row_index, first_bound_row + np.arange(n_bound)])
    n = len(violations)
    assert n == n_row_violations + n_bound
    A_v = sp.csr_matrix((-np.ones(n), (row_index, np.arange(n))), shape=(out.n_rows, n))
    first = out.n_cols
    out = append_columns(
        out,
        "violation",
        A_v,
        cost=weight,
        axes=(("violation", [f"{v.family}:{v.resource}@{v.period}" for v in violations]),),
    )
    return ElasticProgram(out, tuple(violations), np.arange(first, first + n, dtype=np.int64))
