"""The elastic version of the allocation model: every capacity, limit and target gets a priced
violation column, so a model with no plan still has a cheapest way to become feasible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from models.builder import Axes, Axis, BoolArray, ConstraintBlock, FloatArray, IntArray, LinearProgram, VariableBlock
from models.network import Network
from models.protocols import AuthorityGroup

RELAXABLE_ROWS: dict[str, str] = {
    "capacity_hours": "production",
    "lane_capacity": "logistics",
    "storage_capacity": "inventory",
    "working_capital": "finance",
    "service_target": "sales",
    "minimum_order": "procurement",
    "single_source": "logistics",
    "authority_limit": "",
    "authority_before_escalation": "",
}
"""Row families with a limit that the elastic model may break, and the function owning them ("":
the function of the authority rule named on the row). Single sourcing is logistics': it decides
which lanes deliver to a customer."""

LOWER_SIDE = frozenset({"minimum_order"})
"""Row families relaxed on their lower side (a minimum not reached); every other family is relaxed
on its upper side."""

SUPPLIER_CAPACITY = "supplier_capacity"
SHIPMENT_CAPACITY = "shipment_capacity"
TRUCK_LIMIT = "truck_limit"
RECIPE_RATE = "recipe_rate"
UNSERVED_DEMAND = "unserved_demand"
ON_TIME_DEMAND = "on_time_demand"
RELAXABLE_BOUNDS: dict[str, tuple[str, str]] = {
    SUPPLIER_CAPACITY: ("buy", "procurement"),
    SHIPMENT_CAPACITY: ("ship", "logistics"),
    TRUCK_LIMIT: ("trucks", "logistics"),
    RECIPE_RATE: ("make", "production"),
    ON_TIME_DEMAND: ("lost", "sales"),
}
"""Column upper bounds the elastic model may exceed (offer capacity, lane capacity, trucks per lane
and period, a recipe's maximum rate, the zero lost sales of on-time demand): each becomes a row
`x - v <= cap` with the bound lifted."""

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
    "minimum_order": "units",
    "single_source": "lanes",
    "authority_limit": "spend",
    "authority_before_escalation": "spend",
    SUPPLIER_CAPACITY: "units",
    SHIPMENT_CAPACITY: "units",
    TRUCK_LIMIT: "trucks",
    RECIPE_RATE: "units",
    UNSERVED_DEMAND: "units",
    ON_TIME_DEMAND: "units",
}


def _prefixed(owners: IntArray, owner_ids: Sequence[str], ids: Sequence[str], index: IntArray) -> list[str]:
    """`owner/id` labels, e.g. `S1/main` for an offer or `P/make` for a recipe."""
    return [f"{owner_ids[int(o)]}/{ids[int(k)]}" for o, k in zip(owners[index], index)]


@dataclass(frozen=True, eq=False)
class _RowFamily:
    """The relaxable rows of one family: their indices, a weight and a label per row."""

    rows: IntArray
    weight: FloatArray
    resource: list[str]
    period: list[int]


def _row_family(lp: LinearProgram, net: Network, family: str, rule_scale: dict[str, float]) -> _RowFamily:
    """The rows of `family` with a finite limit on the relaxed side, each weighted by the inverse of
    the limit it breaks (see `define_elastic`)."""
    blk = lp.constraints[family]
    limit = lp.row_lower[blk.slice] if family in LOWER_SIDE else lp.row_upper[blk.slice]
    finite = np.isfinite(limit)
    resource, period = blk.resource_period()
    scale = np.maximum(1.0, np.abs(np.where(finite, limit, 0.0)))
    if family in ("service_target", "single_source"):
        scale = np.ones(blk.size)
    elif family == "minimum_order":
        offers = blk.entities()
        scale = np.repeat(np.maximum(1.0, net.offer_min_order[offers]), net.horizon)
        labels = _prefixed(net.offer_node, net.node_ids, net.offer_ids, offers)
        resource = list(np.repeat(np.array(labels, dtype=object), net.horizon))
    elif family.startswith("authority"):
        # Relative to the rule's hard cap when the rule is known, else to the row's own limit.
        scale = np.maximum(1.0, np.array([rule_scale.get(r, s) for r, s in zip(resource, scale)]))
    keep = np.flatnonzero(finite)
    return _RowFamily(blk.start + keep, 1.0 / scale[keep], [resource[k] for k in keep], [period[k] for k in keep])


def _stated_bounds(lp: LinearProgram, net: Network, family: str) -> tuple[FloatArray, list[str], BoolArray]:
    """For a bound family: the bound the network states per (row of the block, period), the
    resource each row speaks of, and which positions may be relaxed at all.

    A bound of 0 that the network does not state (the shipment would arrive after the horizon, or a
    protocol forbids the action) is structural and never relaxed. Offers with a backup activation
    or a minimum order keep their capacity: their binary link rows (`buy <= cap * activate`,
    `buy <= cap * order`) hold the capacity as big-M, and letting a violation into those rows would
    also let it stand in for the binary (buying without activating or ordering)."""
    H = net.horizon
    if family == SUPPLIER_CAPACITY:
        offers = np.arange(net.n_offers)
        linked = net.offer_backup | (net.offer_min_order > 0)
        allowed = np.broadcast_to(~linked[:, None], (net.n_offers, H))
        return net.offer_capacity, _prefixed(net.offer_node, net.node_ids, net.offer_ids, offers), allowed
    if family == SHIPMENT_CAPACITY:
        return net.lane_capacity[net.arc_lane], [net.lane_ids[int(k)] for k in net.arc_lane], net.arc_arrival() < H
    if family == TRUCK_LIMIT:
        trucked = lp.variables["trucks"].entities()
        arrives = net.lane_arrival()[trucked] < H
        with np.errstate(invalid="ignore"):
            trucks = np.ceil(net.lane_capacity[trucked] / net.lane_truck_size[trucked][:, None] - 1e-9)
        return np.where(arrives, trucks, 0.0), [net.lane_ids[int(k)] for k in trucked], arrives
    if family == ON_TIME_DEMAND:
        stated = np.where(net.demand_on_time[:, None], 0.0, np.full((net.n_demands, H), np.inf))
        return stated, net.demand_ids(), np.broadcast_to(net.demand_on_time[:, None], stated.shape)
    if family == RECIPE_RATE:
        recipes = np.arange(net.n_recipes)
        labels = _prefixed(net.recipe_node, net.node_ids, net.recipe_ids, recipes)
        return net.recipe_max_rate, labels, np.ones((net.n_recipes, H), dtype=bool)
    raise ValueError(f"unknown bound family {family!r}; expected one of {sorted(RELAXABLE_BOUNDS)}")


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

        A_r x - v_r <= u_r                    rows r of the relaxable row families (upper side)
        A_r x + v_r >= l_r                    minimum_order rows (lower side)
        x_j - v_j <= ub_j,  x_j <= inf        buy, ship, trucks and make columns with a stated bound
        v >= 0

    What each violation means, in the unit the report gives it:

    - capacity_hours, lane_capacity, storage_capacity, working_capital, authority rows: the amount
      by which the limit is exceeded (hours, units, value, spend).
    - service_target: units of demand below the tier's fill rate.
    - minimum_order (`buy[m,t] - min[m] order[m,t] + v >= 0`): units by which an order placed falls
      short of the offer's minimum. Relaxing the minimum, not the order binary, keeps "no order"
      free and makes a violation mean "order below minimum by v units".
    - single_source (`sum_a assign[a] - v = 1`): extra inbound lanes beyond the one allowed.
    - supplier_capacity, shipment_capacity, recipe_rate: units beyond the stated capacity or rate.
    - on_time_demand (`lost[s,t] - v <= 0` for a stream served on time): units of its demand in t
      that cannot be delivered in t (late or never).
    - truck_limit: trucks beyond ceil(lane capacity / truck size). The truck count follows the lane
      capacity, so a lane short of capacity in units is usually short of trucks too, and both are
      reported.

    Production setups are not a relaxable family: a setup costs money but forbids nothing (there is
    no minimum lot size), so no plan is ever infeasible because of one.

    Big-M rows whose M is a relaxable capacity must grow with it, or the capacity's violation
    could never be used:

        make[r,t] - M setup[r,t] - v_rate[r,t] - v_hours[n(r),t] / hours[r] <= 0      (setup_link)
        ship[a,t] - D_s assign[a] <= 0,  D_s = total demand of s                 (single_source_link)

    With setup = 1 the added terms only loosen a row that the capacity rows already enforce; with
    setup = 0 they would need more violation than setting up, so the binary keeps its meaning. A
    recipe whose setup takes hours is left out of the hours term: making x units without its setup
    would cost hours[r] x of violation, less than the setup_hours[r] + hours[r] x that setting up
    takes, and the binary would lose its meaning. Its link keeps M at the stated hours, so the
    relaxation reported restores feasibility (the relaxed capacity's M is larger) but may be more
    than the least one when a single recipe's run needs more than its node's stated hours. A
    single-sourced arc never carries more than its stream's total demand, so D_s is a valid big-M
    once the lane capacity (its other part) may be exceeded.

    w_r makes a violation relative to the limit it breaks: 1 / max(1, |u_r|) for capacities,
    1 / max(1, min[m]) for a minimum order, 1 / max(1, U) for an authority rule with hard cap U,
    1 / max(1, max_t cap) for offer, lane, truck and rate bounds, and 1 per unit for a service
    target or an extra source (a promise to customers weighs more than a capacity, which can be
    bought). `unserved_weight` > 0 makes every unit of lost demand cost that much relative to its
    stream's total demand D_s (shortfall diagnosis).
    """
    rule_scale = {g.rule.id: g.rule.hard_cap for g in groups}
    function_of_rule = {g.rule.id: g.rule.function.value for g in groups}
    violations: list[Violation] = []
    rows: list[IntArray] = []
    signs: list[FloatArray] = []
    weights: list[FloatArray] = []
    for family, owner in RELAXABLE_ROWS.items():
        blk = lp.constraints.get(family)
        if family not in families or blk is None or blk.size == 0:
            continue
        fam = _row_family(lp, net, family, rule_scale)
        side = 1.0 if family in LOWER_SIDE else -1.0
        if family.startswith("authority"):
            functions = [function_of_rule.get(r, "governance") for r in fam.resource]
        else:
            functions = [owner] * len(fam.resource)
        unit = _UNITS[family]
        violations += [Violation(family, f, r, t, unit) for f, r, t in zip(functions, fam.resource, fam.period)]
        rows.append(fam.rows)
        signs.append(np.full(len(fam.rows), side))
        weights.append(fam.weight)

    out = lp
    violation_of_column = np.full(lp.n_cols, -1, dtype=np.int64)
    bound_cols: list[IntArray] = []
    bound_caps: list[FloatArray] = []
    for family, (block, function) in RELAXABLE_BOUNDS.items():
        vblk = lp.variables.get(block)
        if family not in families or vblk is None or vblk.size == 0:
            continue
        stated, labels, allowed = _stated_bounds(lp, net, family)
        cap = lp.col_upper[vblk.slice].reshape(vblk.shape)
        relax = np.isfinite(cap) & np.isfinite(stated) & (cap == stated) & allowed
        which, period = np.nonzero(relax)
        cols = vblk.start + np.flatnonzero(relax)
        peak = np.where(np.isfinite(stated), stated, 0.0).max(axis=1, initial=0.0)
        if family == ON_TIME_DEMAND:  # a promise to customers: 1 a unit, as a service target
            peak = np.zeros_like(peak)
        violation_of_column[cols] = len(violations) + np.arange(len(cols))
        unit = _UNITS[family]
        violations += [Violation(family, function, labels[k], int(t), unit) for k, t in zip(which, period)]
        bound_cols.append(cols)
        bound_caps.append(cap[relax])
        weights.append(1.0 / np.maximum(1.0, peak[which]))

    c = lp.c * (tie_break / max(1.0, float(np.abs(lp.c).max(initial=0.0))))
    if unserved_weight > 0 and "lost" in lp.variables and lp.variables["lost"].size:
        lost = lp.columns("lost")
        total = np.maximum(1.0, net.demand_qty.sum(axis=1))
        c[lost.ravel()] += np.broadcast_to((unserved_weight / total)[:, None], lost.shape).ravel()
    out = replace(out, c=c)
    if SHIPMENT_CAPACITY in families:
        out = _single_source_demand_big_m(out, net)

    n_bound = int(sum(len(b) for b in bound_cols))
    if n_bound:
        bcols = np.concatenate(bound_cols).astype(np.int64)
        out = replace(out, col_upper=out.col_upper.copy())
        out.col_upper[bcols] = np.inf
        bound_rows = sp.csr_matrix((np.ones(n_bound), (np.arange(n_bound), bcols)), shape=(n_bound, out.n_cols))
        first_bound_row = out.n_rows
        out = append_rows(
            out,
            "capacity_bound",
            bound_rows,
            upper=np.concatenate(bound_caps),
            axes=(Axis.labelled("column", [str(c) for c in bcols]),),
        )
        rows.append(first_bound_row + np.arange(n_bound))
        signs.append(np.full(n_bound, -1.0))
    n = len(violations)
    row_index = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, dtype=np.int64)
    sign = np.concatenate(signs) if signs else np.zeros(0)
    assert len(row_index) == n
    violation_of_row = np.full(out.n_rows, -1, dtype=np.int64)
    violation_of_row[row_index] = np.arange(n)
    setup_rows, setup_cols, setup_vals = _setup_coupling(lp, net, violation_of_row, violation_of_column)
    A_v = sp.csr_matrix(
        (
            np.concatenate([sign, setup_vals]),
            (np.concatenate([row_index, setup_rows]), np.concatenate([np.arange(n), setup_cols])),
        ),
        shape=(out.n_rows, n),
    )
    first = out.n_cols
    out = append_columns(
        out,
        "violation",
        A_v,
        cost=np.concatenate(weights) if weights else np.zeros(0),
        axes=(Axis.labelled("violation", [f"{v.family}:{v.resource}@{v.period}" for v in violations]),),
    )
    return ElasticProgram(out, tuple(violations), np.arange(first, first + n, dtype=np.int64))


def _setup_coupling(
    lp: LinearProgram, net: Network, violation_of_row: IntArray, violation_of_column: IntArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Entries (setup_link row, violation, coefficient) that let a recipe's setup big-M grow with
    its node's relaxed capacity hours (-1 / hours[r]) and its own relaxed rate (-1)."""
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    link = lp.constraints.get("setup_link")
    if link is None or link.size == 0:
        return empty
    H = net.horizon
    recipes = link.entities()
    link_rows = link.start + np.arange(link.size).reshape(len(recipes), H)
    out_rows, out_cols, out_vals = [], [], []

    capacity = lp.constraints.get("capacity_hours")
    hours = net.recipe_hours[recipes]
    if capacity is not None and capacity.size:
        row_of_node = capacity.position_of(net.n_nodes)
        node_row = row_of_node[net.recipe_node[recipes]]
        cap_rows = capacity.start + np.maximum(node_row, 0)[:, None] * H + np.arange(H)
        v = violation_of_row[cap_rows]
        # A recipe whose setup takes hours gets no coupling: relaxed hours would let it make units
        # without its setup for fewer hours than the setup takes (see `define_elastic`).
        untimed = net.recipe_setup_hours[recipes] == 0
        use = (node_row >= 0)[:, None] & ((hours > 0) & untimed)[:, None] & (v >= 0)
        out_rows.append(link_rows[use])
        out_cols.append(v[use])
        out_vals.append(-1.0 / np.broadcast_to(np.where(hours > 0, hours, 1.0)[:, None], use.shape)[use])

    if "make" in lp.variables:
        v = violation_of_column[lp.columns("make")[recipes]]
        use = v >= 0
        out_rows.append(link_rows[use])
        out_cols.append(v[use])
        out_vals.append(np.full(int(use.sum()), -1.0))
    if not out_rows:
        return empty
    return np.concatenate(out_rows), np.concatenate(out_cols), np.concatenate(out_vals)


def _single_source_demand_big_m(lp: LinearProgram, net: Network) -> LinearProgram:
    """`lp` with the big-M of every single_source_link row raised from min(lane capacity, D_s) to
    D_s, the stream's total demand (see `define_elastic`)."""
    link = lp.constraints.get("single_source_link")
    assign = lp.variables.get("assign")
    if link is None or assign is None or link.size == 0:
        return lp
    arcs = assign.entities()
    stream = net.demand_index(net.lane_destination[net.arc_lane[arcs]], net.arc_item[arcs])
    total = net.demand_qty.sum(axis=1)[stream]
    A = lp.A.copy()
    entries = slice(int(A.indptr[link.start]), int(A.indptr[link.start + link.size]))
    cols = A.indices[entries]
    on_assign = (cols >= assign.start) & (cols < assign.start + assign.size)
    data = A.data[entries]
    # Arcs whose shipments cannot arrive in the horizon keep M = 0 (no entry, nothing to raise).
    data[on_assign] = -total[cols[on_assign] - assign.start]
    A.data[entries] = data
    return replace(lp, A=A)


def setup_hours_used(lp: LinearProgram, net: Network, x: FloatArray) -> dict[tuple[str, int], tuple[float, float]]:
    """(node id, period) -> (hours its setups take in `x`, its regular plus overtime hours), for every
    node and period where a setup with setup hours is on: what a capacity diagnosis reports as
    "setups on plant P use 40 of its 120 hours in period 3"."""
    setup = lp.variables.get("setup")
    if setup is None or setup.size == 0:
        return {}
    recipes = setup.entities()
    hours = net.recipe_setup_hours[recipes][:, None] * np.round(lp.values(x, "setup"))
    node = net.recipe_node[recipes]
    used = np.zeros((net.n_nodes, net.horizon))
    np.add.at(used, node, hours)
    available = net.node_regular_hours + net.node_overtime_hours
    n, t = np.nonzero(used > 0)
    return {
        (net.node_ids[k], int(p)): (float(used[k, p]), float(available[k, p])) for k, p in zip(n.tolist(), t.tolist())
    }
