"""The coordinated allocation MILP of `models.allocation` (with the decision protocols of
`models.protocols` and the replan terms of `models.replanning`), written algebraically in Pyomo: a
readable reference twin, one indexed Constraint per family, and its solve through Pyomo's HiGHS
interface.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from models.costs import MODEL_COMPONENTS, PROTOCOL_COMPONENTS, REPLAN_COMPONENTS
from models.network import Network, NodeRole
from models.protocols import ActionKind, AuthorityGroup, AuthorityRule, ProtocolSet
from models.replanning import Reach, ReplanOptions
from models.solution import SolveStatus

FloatArray = npt.NDArray[np.float64]
Bounds = tuple[float | None, float | None]

VARIABLE_BLOCKS = (
    "buy",
    "activate",
    "order",
    "make",
    "setup",
    "overtime",
    "ship",
    "trucks",
    "assign",
    "inv",
    "short",
    "backlog",
    "lost",
)
"""The twin's variables, named and shaped like the builder's blocks in `models.allocation`."""

PYOMO_NAMES = {"activate": "activated"}
"""Where the twin's Var differs in name from the builder's block: `activate` is a method of every
Pyomo block, so the backup binaries are `activated[b]` on the model."""


CONSTRAINT_FAMILIES = (
    "flow_balance",
    "demand_balance",
    "backup_activation",
    "minimum_order",
    "order_capacity",
    "capacity_hours",
    "setup_link",
    "lane_capacity",
    "truck_load",
    "storage_capacity",
    "safety_stock",
    "working_capital",
    "service_target",
    "single_source",
    "single_source_link",
    "backup_lane_link",
)
"""The twin's constraints, named like the builder's families. A row whose sum has no term at all
(a storage row of a node without stock positions, a tier without demand) is skipped here."""

COST_COMPONENTS = MODEL_COMPONENTS
"""Named Expressions on the model whose sum is the objective, as in `models.allocation`."""

PROTOCOL_VARIABLE_BLOCKS = ("escalate", "early_activation", "capital_release")
"""The variables a protocol set adds, named and shaped like the blocks of `define_authority`;
`capital_release` exists only when a rule governs working_capital_release."""

PROTOCOL_CONSTRAINT_FAMILIES = ("authority_limit", "authority_before_escalation", "early_activation_link")
"""The constraints a protocol set adds; it also adds the release to the `working_capital` rows.
Rows are indexed by rule id (and offer, period) rather than by position."""

PROTOCOL_COST_COMPONENTS = PROTOCOL_COMPONENTS
"""Cost components a protocol set adds: escalations, and working capital released beyond the cap."""

REPLAN_VARIABLE_BLOCKS = (
    "change_buy_up",
    "change_buy_down",
    "change_make_up",
    "change_make_down",
    "change_ship_up",
    "change_ship_down",
)
"""The deviation variables a replan adds (with a stability weight above 0), shaped like the
decisions they watch: the units above and below the baseline."""

REPLAN_CONSTRAINT_FAMILIES = ("change_buy", "change_make", "change_ship")
"""The rows a replan adds, named like the builder's families in `models.replanning`."""

REPLAN_COST_COMPONENTS = REPLAN_COMPONENTS
"""Cost components a replan adds: changes against the baseline, and fenced decisions cut below it."""


def _upper(value: float) -> float | None:
    """A Pyomo bound: None stands for +infinity."""
    return float(value) if math.isfinite(value) else None


def _ids(index: Iterable[Any]) -> list[int]:
    return [int(k) for k in index]


def _table(array: npt.ArrayLike, index: Iterable[int] | None = None) -> dict[Any, float]:
    """A Param initializer from a 1-d (k -> value) or 2-d ((k, t) -> value) array."""
    arr = np.asarray(array, dtype=np.float64)
    rows = range(arr.shape[0]) if index is None else index
    if arr.ndim == 1:
        return {k: float(arr[k]) for k in rows}
    return {(k, t): float(arr[k, t]) for k in rows for t in range(arr.shape[1])}


# ---------------------------------------------------------------------------------------------
# Sets
# ---------------------------------------------------------------------------------------------


def define_sets(m: pyo.ConcreteModel, net: Network) -> None:
    """The index sets: every entity of the network by its integer index, and the periods 0..H-1.

    Stock positions p = (node, item) and arcs a = (lane, item) are as compiled by `Network`; the
    relations between them (which offers sell into p, which arcs leave p, ...) are indexed Sets.
    """
    m.periods = pyo.Set(initialize=range(net.horizon), ordered=True, doc="periods t = 0..H-1")
    m.nodes = pyo.Set(initialize=range(net.n_nodes), doc="suppliers, plants, DCs and customer zones")
    m.offers = pyo.Set(initialize=range(net.n_offers), doc="supply offers o")
    m.recipes = pyo.Set(initialize=range(net.n_recipes), doc="recipes r")
    m.bom_lines = pyo.Set(initialize=range(len(net.bom_recipe)), doc="bill-of-materials lines k")
    m.lanes = pyo.Set(initialize=range(net.n_lanes), doc="lanes l")
    m.arcs = pyo.Set(initialize=range(net.n_arcs), doc="arcs a = (lane, item)")
    m.positions = pyo.Set(initialize=range(net.n_positions), doc="stock positions p = (node, item)")
    m.demands = pyo.Set(initialize=range(net.n_demands), doc="demand streams s = (customer, item)")

    position = net.position_index
    offer_pos = position(net.offer_node, net.offer_item)
    made_pos = position(net.recipe_node, net.recipe_item)
    input_pos = position(net.recipe_node[net.bom_recipe], net.bom_item)
    origin_pos = position(net.lane_origin[net.arc_lane], net.arc_item)
    dest_pos = position(net.lane_destination[net.arc_lane], net.arc_item)
    dest_stream = net.demand_index(net.lane_destination[net.arc_lane], net.arc_item)

    def members(owner: npt.ArrayLike) -> dict[int, list[int]]:
        """For each owner index (position, stream, node, lane), the entities that point at it."""
        table: dict[int, list[int]] = {}
        for k, o in enumerate(np.asarray(owner)):
            if o >= 0:
                table.setdefault(int(o), []).append(k)
        return table

    def indexed(over: pyo.Set, within: pyo.Set, owner: npt.ArrayLike, doc: str) -> pyo.Set:
        table = members(owner)
        return pyo.Set(over, within=within, initialize=lambda _m, i: table.get(i, []), doc=doc)

    m.offers_at = indexed(m.positions, m.offers, offer_pos, "offers selling into position p")
    m.recipes_making = indexed(m.positions, m.recipes, made_pos, "recipes whose output is position p")
    m.inputs_from = indexed(m.positions, m.bom_lines, input_pos, "BOM lines drawing on position p")
    m.arcs_out_of = indexed(m.positions, m.arcs, origin_pos, "arcs departing from position p")
    m.arcs_into = indexed(m.positions, m.arcs, dest_pos, "arcs arriving at position p")
    m.arcs_into_demand = indexed(m.demands, m.arcs, dest_stream, "arcs arriving at demand stream s")
    m.arcs_on = indexed(m.lanes, m.arcs, net.arc_lane, "arcs carried by lane l")
    m.positions_at = indexed(m.nodes, m.positions, net.position_node, "stock positions at node n")
    m.recipes_at = indexed(m.nodes, m.recipes, net.recipe_node, "recipes run at node n")

    arrival = net.arc_arrival()
    m.arrival = pyo.Param(
        m.arcs, m.periods, initialize=lambda _m, a, t: int(arrival[a, t]), doc="arrival period of a departure in t"
    )
    departures: dict[tuple[int, int], list[int]] = {}
    for a in range(net.n_arcs):
        for t in range(net.horizon):
            departures.setdefault((a, int(arrival[a, t])), []).append(t)
    m.departures_arriving = departures  # (arc, arrival period) -> departure periods
    m.arc_lane = pyo.Param(m.arcs, initialize=lambda _m, a: int(net.arc_lane[a]), within=m.lanes)


def _arrives(m: pyo.ConcreteModel, a: int, t: int) -> bool:
    """Whether arc a departing in t arrives inside the horizon."""
    return bool(m.arrival[a, t] < len(m.periods))


def _arrivals(m: pyo.ConcreteModel, arcs: Iterable[int], t: int) -> Any:
    """Units arriving in t over the given arcs: sum of ship[a, tau] over departures tau arriving in t."""
    return sum(m.ship[a, tau] for a in arcs for tau in m.departures_arriving.get((a, t), ()))


# ---------------------------------------------------------------------------------------------
# Families, in the order of `models.allocation.build_model`
# ---------------------------------------------------------------------------------------------


def define_supplier_capacity(m: pyo.ConcreteModel, net: Network) -> None:
    """Purchases within each offer's capacity, backup activation and minimum orders.

        0 <= buy[o,t] <= cap[o,t]                                   every offer
        buy[b,t] <= cap[b,t] * activated[b]                         backup offers   (backup_activation)
        buy[m,t] >= min[m] * order[m,t]                             min-order offers (minimum_order)
        buy[m,t] <= cap[m,t] * order[m,t]                           min-order offers (order_capacity)

    Cost: unit_cost[o] buy[o,t] + activation_cost[b] activated[b] (procurement).
    """
    m.backups = pyo.Set(within=m.offers, initialize=_ids(np.flatnonzero(net.offer_backup)), doc="backup offers b")
    m.min_orders = pyo.Set(
        within=m.offers, initialize=_ids(np.flatnonzero(net.offer_min_order > 0)), doc="minimum-order offers m"
    )
    m.offer_cost = pyo.Param(m.offers, initialize=_table(net.offer_cost))
    m.offer_capacity = pyo.Param(m.offers, m.periods, initialize=_table(net.offer_capacity), within=pyo.Any)
    m.activation_cost = pyo.Param(m.backups, initialize=_table(net.offer_activation_cost, m.backups))
    m.min_order = pyo.Param(m.min_orders, initialize=_table(net.offer_min_order, m.min_orders))

    m.buy = pyo.Var(
        m.offers,
        m.periods,
        within=pyo.NonNegativeReals,
        bounds=lambda m, o, t: (0.0, _upper(m.offer_capacity[o, t])),
        doc="units bought on offer o in t",
    )
    m.activated = pyo.Var(m.backups, within=pyo.Binary, doc="1 if backup offer b is activated")
    m.order = pyo.Var(m.min_orders, m.periods, within=pyo.Binary, doc="1 if an order is placed on offer m in t")

    @m.Constraint(m.backups, m.periods)
    def backup_activation(m: pyo.ConcreteModel, b: int, t: int) -> Any:
        return m.buy[b, t] <= m.offer_capacity[b, t] * m.activated[b]

    @m.Constraint(m.min_orders, m.periods)
    def minimum_order(m: pyo.ConcreteModel, o: int, t: int) -> Any:
        return m.buy[o, t] >= m.min_order[o] * m.order[o, t]

    @m.Constraint(m.min_orders, m.periods)
    def order_capacity(m: pyo.ConcreteModel, o: int, t: int) -> Any:
        return m.buy[o, t] <= m.offer_capacity[o, t] * m.order[o, t]


def define_production(m: pyo.ConcreteModel, net: Network, *, tighten_setups: bool = True) -> None:
    """Production within capacity hours and rate, with overtime and setups.

        0 <= make[r,t] <= max_rate[r,t]
        sum_{r at n, hours[r] > 0} hours[r] make[r,t] + sum_{r at n, setup_hours[r] > 0} setup_hours[r] setup[r,t]
            - overtime[n,t] <= regular_hours[n,t]
                       nodes n with finite regular hours in some period running a recipe that uses
                       hours per unit or for setups; periods with finite regular hours (capacity_hours)
        0 <= overtime[n,t] <= overtime_hours[n,t]     those nodes with some overtime
        make[r,t] <= M[r,t] setup[r,t]                recipes with a setup cost or setup hours (setup_link)
        M[r,t] = min(max_rate[r,t], max(0, regular_hours[n,t] + overtime_hours[n,t] - setup_hours[r]) / hours[r])

    With `tighten_setups` (not in a replan), M[r,t] is also at most the demand for r's item from t
    on, sum_{s of item i, u >= t} demand[s,u], where r's output has no other use than on-time
    demand: the item has demand streams, all on time, feeds no recipe, has no safety-stock target,
    r's node has unlimited storage and the network no working-capital cap (the validity argument is
    in `models.allocation.define_production`).

    Cost: unit_cost[r] make + overtime_cost[n] overtime + setup_cost[r] setup (production).
    """
    finite_hours = np.asarray(np.isfinite(net.node_regular_hours).any(axis=1), dtype=bool)
    uses_hours = (net.recipe_hours > 0) | (net.recipe_setup_hours > 0)
    capacity_nodes = np.unique(net.recipe_node[uses_hours & finite_hours[net.recipe_node]])
    overtime_nodes = capacity_nodes[(net.node_overtime_hours[capacity_nodes] > 0).any(axis=1)]
    m.capacity_nodes = pyo.Set(within=m.nodes, initialize=_ids(capacity_nodes), doc="nodes with a capacity in hours")
    m.overtime_nodes = pyo.Set(within=m.capacity_nodes, initialize=_ids(overtime_nodes), doc="nodes with overtime")
    m.setups = pyo.Set(
        within=m.recipes,
        initialize=_ids(np.flatnonzero((net.recipe_setup_cost > 0) | (net.recipe_setup_hours > 0))),
        doc="recipes with a setup",
    )

    m.recipe_cost = pyo.Param(m.recipes, initialize=_table(net.recipe_cost))
    m.recipe_hours = pyo.Param(m.recipes, initialize=_table(net.recipe_hours))
    m.setup_hours = pyo.Param(m.recipes, initialize=_table(net.recipe_setup_hours))
    m.max_rate = pyo.Param(m.recipes, m.periods, initialize=_table(net.recipe_max_rate), within=pyo.Any)
    m.setup_cost = pyo.Param(m.setups, initialize=_table(net.recipe_setup_cost, m.setups))
    m.regular_hours = pyo.Param(m.nodes, m.periods, initialize=_table(net.node_regular_hours), within=pyo.Any)
    m.overtime_hours = pyo.Param(m.nodes, m.periods, initialize=_table(net.node_overtime_hours))
    m.overtime_cost = pyo.Param(m.nodes, initialize=_table(net.node_overtime_cost))

    m.make = pyo.Var(
        m.recipes,
        m.periods,
        within=pyo.NonNegativeReals,
        bounds=lambda m, r, t: (0.0, _upper(m.max_rate[r, t])),
        doc="units made by recipe r in t",
    )
    m.overtime = pyo.Var(
        m.overtime_nodes,
        m.periods,
        within=pyo.NonNegativeReals,
        bounds=lambda m, n, t: (0.0, m.overtime_hours[n, t]),
        doc="overtime hours used at node n in t",
    )
    m.setup = pyo.Var(m.setups, m.periods, within=pyo.Binary, doc="1 if recipe r runs in t")

    @m.Constraint(m.capacity_nodes, m.periods)
    def capacity_hours(m: pyo.ConcreteModel, n: int, t: int) -> Any:
        if not math.isfinite(m.regular_hours[n, t]):
            return pyo.Constraint.Skip
        hours_used = sum(m.recipe_hours[r] * m.make[r, t] for r in m.recipes_at[n] if m.recipe_hours[r] > 0)
        setup_time = sum(m.setup_hours[r] * m.setup[r, t] for r in m.recipes_at[n] if m.setup_hours[r] > 0)
        overtime = m.overtime[n, t] if n in m.overtime_nodes else 0.0
        return hours_used + setup_time - overtime <= m.regular_hours[n, t]

    inputs = {int(i) for i in net.bom_item}
    targeted = {int(net.position_item[p]) for p in range(net.n_positions) if net.position_safety_stock[p] > 0}
    streams_of = {i: [s for s in range(net.n_demands) if net.demand_item[s] == i] for i in range(net.n_items)}

    def serves_on_time_demand_only(r: int) -> bool:
        item, node = int(net.recipe_item[r]), int(net.recipe_node[r])
        streams = streams_of[item]
        return (
            tighten_setups
            and bool(streams)
            and all(net.demand_on_time[s] for s in streams)
            and item not in inputs
            and item not in targeted
            and all(math.isinf(v) for v in net.node_storage[node])
            and math.isinf(net.working_capital_cap)
        )

    def setup_big_m(m: pyo.ConcreteModel, r: int, t: int) -> float:
        n = int(net.recipe_node[r])
        hours_left = max(0.0, m.regular_hours[n, t] + m.overtime_hours[n, t] - m.setup_hours[r])
        by_hours = hours_left / m.recipe_hours[r] if m.recipe_hours[r] > 0 else math.inf
        big_m = min(m.max_rate[r, t], by_hours)
        if serves_on_time_demand_only(r):
            item = int(net.recipe_item[r])
            remaining = sum(float(net.demand_qty[s, u]) for s in streams_of[item] for u in range(t, net.horizon))
            big_m = min(big_m, remaining)
        return float(big_m)

    m.setup_big_m = pyo.Param(m.setups, m.periods, initialize=setup_big_m, within=pyo.Any)

    @m.Constraint(m.setups, m.periods)
    def setup_link(m: pyo.ConcreteModel, r: int, t: int) -> Any:
        return m.make[r, t] <= m.setup_big_m[r, t] * m.setup[r, t]


def define_lane_capacity(m: pyo.ConcreteModel, net: Network) -> None:
    """Shipments within lane capacity, in whole trucks where the lane has a truck cost.

        0 <= ship[a,t] <= cap[lane(a),t],   ship[a,t] = 0 if t + lead(a) >= H
        sum_{a on l} ship[a,t] <= cap[l,t]          lanes with a finite capacity and several items (lane_capacity)
        sum_{a on l} ship[a,t] <= truck_size[l] trucks[l,t]      lanes with a truck cost (truck_load)
        trucks[l,t] integer in [0, ceil(cap[l,t] / truck_size[l])],  0 if t + lead(l) >= H

    Cost: unit_cost[lane(a)] ship + truck_cost[l] trucks (logistics).
    """
    arcs_per_lane = np.bincount(net.arc_lane, minlength=net.n_lanes)
    shared = np.flatnonzero(np.isfinite(net.lane_capacity).any(axis=1) & (arcs_per_lane > 1))
    m.shared_lanes = pyo.Set(within=m.lanes, initialize=_ids(shared), doc="capacitated lanes carrying several items")
    m.truck_lanes = pyo.Set(
        within=m.lanes, initialize=_ids(np.flatnonzero(net.lane_truck_cost > 0)), doc="lanes shipping in trucks"
    )
    m.lane_cost = pyo.Param(m.lanes, initialize=_table(net.lane_cost))
    m.lane_cap = pyo.Param(m.lanes, m.periods, initialize=_table(net.lane_capacity), within=pyo.Any)
    lane_arrival = net.lane_arrival()
    m.lane_arrival = pyo.Param(m.lanes, m.periods, initialize=lambda _m, lane, t: int(lane_arrival[lane, t]))
    m.truck_size = pyo.Param(m.truck_lanes, initialize=_table(net.lane_truck_size, m.truck_lanes))
    m.truck_cost = pyo.Param(m.truck_lanes, initialize=_table(net.lane_truck_cost, m.truck_lanes))

    def ship_bounds(m: pyo.ConcreteModel, a: int, t: int) -> Bounds:
        return (0.0, _upper(m.lane_cap[m.arc_lane[a], t]) if _arrives(m, a, t) else 0.0)

    def truck_bounds(m: pyo.ConcreteModel, lane: int, t: int) -> Bounds:
        if m.lane_arrival[lane, t] >= len(m.periods):
            return (0.0, 0.0)
        capacity = m.lane_cap[lane, t]
        return (0.0, float(math.ceil(capacity / m.truck_size[lane] - 1e-9)) if math.isfinite(capacity) else None)

    m.ship = pyo.Var(
        m.arcs, m.periods, within=pyo.NonNegativeReals, bounds=ship_bounds, doc="units of arc a departing in t"
    )
    m.trucks = pyo.Var(
        m.truck_lanes, m.periods, within=pyo.NonNegativeIntegers, bounds=truck_bounds, doc="trucks sent on lane l in t"
    )

    @m.Constraint(m.shared_lanes, m.periods)
    def lane_capacity(m: pyo.ConcreteModel, lane: int, t: int) -> Any:
        return sum(m.ship[a, t] for a in m.arcs_on[lane]) <= m.lane_cap[lane, t]

    @m.Constraint(m.truck_lanes, m.periods)
    def truck_load(m: pyo.ConcreteModel, lane: int, t: int) -> Any:
        return sum(m.ship[a, t] for a in m.arcs_on[lane]) <= m.truck_size[lane] * m.trucks[lane, t]


def define_demand(m: pyo.ConcreteModel, net: Network) -> None:
    """Demand met on time, late (backlog) or never (lost), for every stream s = (customer, item).

        sum_{a into s} ship[a, t - lead(a)] + lost[s,t] + backlog[s,t] - backlog[s,t-1] = demand[s,t]
                                                                        (demand_balance)
        backlog[s,-1] = 0,   backlog[s,H-1] = 0
        backlog[s,t] = lost[s,t] = 0     streams served on time (their own flag or their tier's)

    Cost: backlog_penalty backlog + lost_sale_penalty lost (service); -price delivered (revenue).
    """
    last = net.horizon - 1
    m.demand = pyo.Param(m.demands, m.periods, initialize=_table(net.demand_qty))
    m.price = pyo.Param(m.demands, initialize=_table(net.demand_price))
    m.backlog_penalty = pyo.Param(m.demands, initialize=_table(net.demand_backlog_penalty))
    m.lost_penalty = pyo.Param(m.demands, initialize=_table(net.demand_lost_penalty))

    m.backlog = pyo.Var(
        m.demands,
        m.periods,
        within=pyo.NonNegativeReals,
        bounds=lambda m, s, t: (0.0, 0.0 if t == last or net.demand_on_time[s] else None),
        doc="units of stream s still owed at the end of t",
    )
    m.lost = pyo.Var(
        m.demands,
        m.periods,
        within=pyo.NonNegativeReals,
        bounds=lambda m, s, t: (0.0, 0.0 if net.demand_on_time[s] else None),
        doc="units of stream s given up in t",
    )

    @m.Constraint(m.demands, m.periods)
    def demand_balance(m: pyo.ConcreteModel, s: int, t: int) -> Any:
        owed_before = m.backlog[s, t - 1] if t > 0 else 0.0
        delivered = _arrivals(m, m.arcs_into_demand[s], t)
        return delivered + m.lost[s, t] + m.backlog[s, t] - owed_before == m.demand[s, t]


def define_flow_balance(m: pyo.ConcreteModel, net: Network) -> None:
    """Conservation of every item at every stocking node, with lead times and in-transit receipts.

        inv[p,t] = inv[p,t-1] + receipts[p,t] + sum_{o at p} buy[o,t] + sum_{r making p} make[r,t]
                   - sum_{k drawing on p} bom_qty[k] make[recipe(k),t]
                   + sum_{a into p} ship[a, t - lead(a)] - sum_{a out of p} ship[a,t]   (flow_balance)
        inv[p,-1] = on_hand[p],  inv[p,t] >= 0

    Cost: holding_cost[item(p)] inv[p,t] (inventory).
    """
    m.on_hand = pyo.Param(m.positions, initialize=_table(net.position_on_hand))
    m.receipts = pyo.Param(m.positions, m.periods, initialize=_table(net.position_receipts))
    m.holding_cost = pyo.Param(m.positions, initialize=_table(net.item_holding_cost[net.position_item]))
    m.bom_recipe = pyo.Param(m.bom_lines, initialize=lambda _m, k: int(net.bom_recipe[k]), within=m.recipes)
    m.bom_qty = pyo.Param(m.bom_lines, initialize=_table(net.bom_qty))

    m.inv = pyo.Var(m.positions, m.periods, within=pyo.NonNegativeReals, doc="units at position p at the end of t")

    @m.Constraint(m.positions, m.periods)
    def flow_balance(m: pyo.ConcreteModel, p: int, t: int) -> Any:
        held_before = m.inv[p, t - 1] if t > 0 else m.on_hand[p]
        bought = sum(m.buy[o, t] for o in m.offers_at[p])
        made = sum(m.make[r, t] for r in m.recipes_making[p])
        consumed = sum(m.bom_qty[k] * m.make[m.bom_recipe[k], t] for k in m.inputs_from[p])
        arrived = _arrivals(m, m.arcs_into[p], t)
        departed = sum(m.ship[a, t] for a in m.arcs_out_of[p])
        return m.inv[p, t] == held_before + m.receipts[p, t] + bought + made - consumed + arrived - departed


def define_storage_capacity(m: pyo.ConcreteModel, net: Network) -> None:
    """Stock held at a node within its storage capacity.

        sum_{p at n} inv[p,t] <= storage[n,t]     nodes with a finite capacity in some period (storage_capacity)

    A node without stock positions gets no row here (the builder keeps an empty one); nor does a
    period whose capacity is unlimited (the builder keeps a row without an upper bound).
    """
    finite = np.isfinite(net.node_storage).any(axis=1)
    m.storage_nodes = pyo.Set(within=m.nodes, initialize=_ids(np.flatnonzero(finite)))
    m.storage = pyo.Param(m.storage_nodes, m.periods, initialize=_table(net.node_storage, m.storage_nodes))

    @m.Constraint(m.storage_nodes, m.periods)
    def storage_capacity(m: pyo.ConcreteModel, n: int, t: int) -> Any:
        if not m.positions_at[n] or not math.isfinite(m.storage[n, t]):
            return pyo.Constraint.Skip
        return sum(m.inv[p, t] for p in m.positions_at[n]) <= m.storage[n, t]


def define_safety_stock(m: pyo.ConcreteModel, net: Network) -> None:
    """Soft safety stock: falling short is allowed at a price.

        inv[q,t] + short[q,t] >= safety_stock[q],  0 <= short[q,t] <= safety_stock[q]  (safety_stock)

    Cost: safety_penalty[q] short[q,t] (inventory).
    """
    m.safety_positions = pyo.Set(
        within=m.positions, initialize=_ids(np.flatnonzero(net.position_safety_stock > 0)), doc="positions q"
    )
    m.safety_stock_target = pyo.Param(
        m.safety_positions, initialize=_table(net.position_safety_stock, m.safety_positions)
    )
    m.safety_penalty = pyo.Param(m.safety_positions, initialize=_table(net.position_safety_penalty, m.safety_positions))

    m.short = pyo.Var(
        m.safety_positions,
        m.periods,
        within=pyo.NonNegativeReals,
        bounds=lambda m, q, t: (0.0, m.safety_stock_target[q]),
        doc="units by which position q falls short of its safety stock in t",
    )

    @m.Constraint(m.safety_positions, m.periods)
    def safety_stock(m: pyo.ConcreteModel, q: int, t: int) -> Any:
        return m.inv[q, t] + m.short[q, t] >= m.safety_stock_target[q]


def define_working_capital(m: pyo.ConcreteModel, net: Network) -> None:
    """The value of stock held across the network stays within the working-capital cap.

        sum_p unit_value[item(p)] inv[p,t] <= working_capital_cap        if the cap is finite (working_capital)

    Positions of items without value drop out of the sum; with none left there is no row.
    """
    m.capped = pyo.Set(initialize=["all"] if math.isfinite(net.working_capital_cap) else [], doc="the network")
    m.unit_value = pyo.Param(m.positions, initialize=_table(net.item_value[net.position_item]))
    m.working_capital_cap = pyo.Param(initialize=float(net.working_capital_cap), within=pyo.Any)

    @m.Constraint(m.capped, m.periods)
    def working_capital(m: pyo.ConcreteModel, _network: str, t: int) -> Any:
        valued = [p for p in m.positions if m.unit_value[p] != 0]
        if not valued:
            return pyo.Constraint.Skip
        return sum(m.unit_value[p] * m.inv[p, t] for p in valued) <= m.working_capital_cap


def define_service_targets(m: pyo.ConcreteModel, net: Network) -> None:
    """Each priority tier delivers at least its fill-rate target of its total demand.

        sum_{s in tier k, t} lost[s,t] <= (1 - fill_rate[k]) sum_{s in tier k, t} demand[s,t]
                                                                            (service_target)

    A tier without demand streams gets no row here (the builder keeps an empty one).
    """
    m.targets = pyo.Set(initialize=range(len(net.target_priority)), doc="service targets k, one per tier")
    m.fill_rate = pyo.Param(m.targets, initialize=_table(net.target_fill_rate))
    m.tier_streams = pyo.Set(
        m.targets,
        within=m.demands,
        initialize=lambda _m, k: _ids(np.flatnonzero(net.demand_priority == net.target_priority[k])),
        doc="demand streams of the tier of target k",
    )

    @m.Constraint(m.targets)
    def service_target(m: pyo.ConcreteModel, k: int) -> Any:
        if not m.tier_streams[k]:
            return pyo.Constraint.Skip
        lost = sum(m.lost[s, t] for s in m.tier_streams[k] for t in m.periods)
        total = sum(m.demand[s, t] for s in m.tier_streams[k] for t in m.periods)
        return lost <= (1.0 - m.fill_rate[k]) * total


def define_single_sourcing(m: pyo.ConcreteModel, net: Network) -> None:
    """A single-sourced demand stream receives its item over exactly one inbound lane.

        sum_{a into s} assign[a] = 1                                   (single_source)
        ship[a,t] <= M[a,t] assign[a],  M = min(ship upper bound, total demand of s)
                                                                       (single_source_link)

    M is 0 for a departure that arrives after the horizon, as the ship bound already is.
    """
    sourced = _ids(np.flatnonzero(net.demand_single_source))
    m.single_sourced = pyo.Set(within=m.demands, initialize=sourced, doc="single-sourced demand streams")
    m.sourced_arcs = pyo.Set(
        within=m.arcs,
        initialize=sorted(a for s in sourced for a in m.arcs_into_demand[s]),
        doc="arcs into single-sourced streams",
    )
    m.assign = pyo.Var(m.sourced_arcs, within=pyo.Binary, doc="1 if arc a is its stream's one inbound lane")

    @m.Constraint(m.single_sourced)
    def single_source(m: pyo.ConcreteModel, s: int) -> Any:
        return sum(m.assign[a] for a in m.arcs_into_demand[s]) == 1

    stream_of = {a: s for s in sourced for a in m.arcs_into_demand[s]}

    def link_big_m(m: pyo.ConcreteModel, a: int, t: int) -> float:
        if not _arrives(m, a, t):
            return 0.0
        total_demand = sum(m.demand[stream_of[a], u] for u in m.periods)
        return float(min(m.lane_cap[m.arc_lane[a], t], total_demand))

    m.link_big_m = pyo.Param(m.sourced_arcs, m.periods, initialize=link_big_m)

    @m.Constraint(m.sourced_arcs, m.periods)
    def single_source_link(m: pyo.ConcreteModel, a: int, t: int) -> Any:
        return m.ship[a, t] <= m.link_big_m[a, t] * m.assign[a]


def define_backup_flow_links(m: pyo.ConcreteModel, net: Network, *, enabled: bool = True) -> None:
    """The activation of a backup offer linked to each lane out of its site, where that cuts.

        ship[a,t] <= U[a,t] activated[b]                               (backup_lane_link)
        U[a,t] = min(lane_cap[lane(a),t], C[b,t], D[s,arr(a,t)])
        C[b,t] = sum_{u <= t} offer_capacity[b,u];  D[s,u] = sum_{v <= u} demand[s,v]
                 (D only for an arc into a demand stream s; +inf otherwise)

    for each backup offer b that is the only source of its position p (no other offer, no recipe
    making it, no arc into it, nothing on hand or scheduled to arrive), each arc a out of p and each
    departure t arriving in the horizon, and only where U[a,t] < C[b,t] (with C[b,t], the row is
    implied by backup_activation and the flow balance). Rows are indexed by the arcs with at least
    one such period; the others are skipped. Off (`enabled` false), the family has no rows. The
    validity argument is in `models.allocation.define_backup_flow_links`.
    """

    def sole_source(b: int) -> int | None:
        """The position b alone supplies, or None."""
        p = int(net.position_index(net.offer_node[[b]], net.offer_item[[b]])[0])
        alone = (
            list(m.offers_at[p]) == [b]
            and not m.recipes_making[p]
            and not m.arcs_into[p]
            and m.on_hand[p] == 0
            and all(m.receipts[p, t] == 0 for t in m.periods)
        )
        return p if alone else None

    def coefficient(b: int, a: int, t: int) -> float:
        sold_by_t = sum(float(m.offer_capacity[b, u]) for u in m.periods if u <= t)
        bound = min(float(m.lane_cap[m.arc_lane[a], t]), sold_by_t)
        streams = [s for s in m.demands if a in m.arcs_into_demand[s]]
        if streams and not any(a in m.arcs_into[q] for q in m.positions):
            owed = sum(float(m.demand[streams[0], v]) for v in m.periods if v <= m.arrival[a, t])
            bound = min(bound, owed)
        return bound

    def cuts(b: int, a: int, t: int) -> bool:
        sold_by_t = sum(float(m.offer_capacity[b, u]) for u in m.periods if u <= t)
        return enabled and _arrives(m, a, t) and m.lane_cap[m.arc_lane[a], t] > 0 and coefficient(b, a, t) < sold_by_t

    backup_of: dict[int, int] = {}
    for b in m.backups:
        p = sole_source(b)
        if p is not None:
            for a in m.arcs_out_of[p]:
                backup_of[a] = b
    linked = sorted(a for a, b in backup_of.items() if any(cuts(b, a, t) for t in m.periods))
    m.linked_arcs = pyo.Set(within=m.arcs, initialize=linked, doc="arcs out of a backup's site whose link cuts")

    @m.Constraint(m.linked_arcs, m.periods)
    def backup_lane_link(m: pyo.ConcreteModel, a: int, t: int) -> Any:
        b = backup_of[a]
        if not cuts(b, a, t):
            return pyo.Constraint.Skip
        return m.ship[a, t] <= coefficient(b, a, t) * m.activated[b]


# ---------------------------------------------------------------------------------------------
# Decision protocols, in the order of `models.protocols.define_authority`
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionTerm:
    """One variable an action kind acts through, `var[index]`, with the spend of one unit of it, the
    period it falls in (-1: once for the horizon, a backup activation) and the resource and item a
    rule's scope is read against (item "" for what carries no item: trucks, hours, capital)."""

    var: str
    index: Any
    spend: float
    period: int
    resource: str
    item: str = ""


def action_terms(m: pyo.ConcreteModel, net: Network, action: ActionKind) -> list[ActionTerm]:
    """Every variable an action kind acts through and what one unit of it spends:

        backup_activation        activated[b] at activation_cost[b], buy[b,t] at unit_cost[b]    backup offers b
        expedited_purchase       buy[o,t] at unit_cost[o]                                   expedited offers o
        overtime                 overtime[n,t] at overtime_cost[n]
        expedited_freight        ship[a,t] at unit_cost[lane(a)], trucks[l,t] at truck_cost[l]   expedited lanes
        rerouting                the same, on alternate lanes
        lateral_transfer         the same, on lanes from a DC to a DC
        rationing                lost[s,t] at price[s] + lost_sale_penalty[s]          streams of priority >= 2
        working_capital_release  capital_release[all,t] at capital_cost_rate

    Resources are offer ids, node ids, lane ids, customer ids, and "network" for released capital.
    """
    terms: list[ActionTerm] = []
    if action in (ActionKind.BACKUP_ACTIVATION, ActionKind.EXPEDITED_PURCHASE):
        chosen = net.offer_backup if action == ActionKind.BACKUP_ACTIVATION else net.offer_expedited
        for o in _ids(np.flatnonzero(chosen)):
            offer, item = net.offer_ids[o], net.item_ids[net.offer_item[o]]
            if action == ActionKind.BACKUP_ACTIVATION:
                terms.append(ActionTerm("activated", o, float(net.offer_activation_cost[o]), -1, offer, item))
            terms.extend(ActionTerm("buy", (o, t), float(net.offer_cost[o]), t, offer, item) for t in m.periods)
    elif action == ActionKind.OVERTIME:
        for n in m.overtime_nodes:
            cost = float(net.node_overtime_cost[n])
            terms.extend(ActionTerm("overtime", (n, t), cost, t, net.node_ids[n]) for t in m.periods)
    elif action in (ActionKind.EXPEDITED_FREIGHT, ActionKind.REROUTING, ActionKind.LATERAL_TRANSFER):
        for lane in m.lanes:
            origin, destination = net.node_role[net.lane_origin[lane]], net.node_role[net.lane_destination[lane]]
            acts_through = {
                ActionKind.EXPEDITED_FREIGHT: bool(net.lane_expedited[lane]),
                ActionKind.REROUTING: bool(net.lane_alternate[lane]),
                ActionKind.LATERAL_TRANSFER: origin == NodeRole.DC and destination == NodeRole.DC,
            }[action]
            if not acts_through:
                continue
            name = net.lane_ids[lane]
            for a in m.arcs_on[lane]:
                item = net.item_ids[net.arc_item[a]]
                terms.extend(ActionTerm("ship", (a, t), float(net.lane_cost[lane]), t, name, item) for t in m.periods)
            if lane in m.truck_lanes:
                cost = float(net.lane_truck_cost[lane])
                terms.extend(ActionTerm("trucks", (lane, t), cost, t, name) for t in m.periods)
    elif action == ActionKind.RATIONING:
        for s in m.demands:
            if net.demand_priority[s] < 2:
                continue
            customer, item = net.node_ids[net.demand_node[s]], net.item_ids[net.demand_item[s]]
            spend = float(net.demand_price[s] + net.demand_lost_penalty[s])
            terms.extend(ActionTerm("lost", (s, t), spend, t, customer, item) for t in m.periods)
    elif action == ActionKind.WORKING_CAPITAL_RELEASE:
        rate = float(net.capital_cost_rate)
        terms.extend(ActionTerm("capital_release", (key, t), rate, t, "network") for key, t in m.capital_release)
    else:
        raise ValueError(f"unknown action kind {action!r}")
    return terms


def _covers(rule: AuthorityRule, term: ActionTerm, net: Network) -> bool:
    """Whether a rule's scope covers a term: its resource listed (or none listed), and its item
    listed (or none listed). A term without an item (trucks, overtime hours, released capital) is
    in an item scope when its lane carries, or its node makes, a scoped item; capital always is."""
    in_resources = not rule.resources or term.resource in rule.resources
    if not rule.items:
        return in_resources
    if term.item:
        return in_resources and term.item in rule.items
    carriers = {"network"}
    carriers |= {net.lane_ids[lane] for lane, i in zip(net.arc_lane, net.arc_item) if net.item_ids[i] in rule.items}
    carriers |= {net.node_ids[n] for n, i in zip(net.recipe_node, net.recipe_item) if net.item_ids[i] in rule.items}
    return in_resources and term.resource in carriers


def _variable(m: pyo.ConcreteModel, term: ActionTerm) -> Any:
    return m.component(term.var)[term.index]


def _spend(m: pyo.ConcreteModel, terms: Iterable[ActionTerm]) -> Any:
    """sum_i k_i x_i over the terms."""
    return sum(term.spend * _variable(m, term) for term in terms)


def define_capital_release(m: pyo.ConcreteModel, net: Network) -> None:
    """Working capital released beyond the cap, when a rule governs working_capital_release.

        sum_p unit_value[item(p)] inv[p,t] - capital_release[all,t] <= working_capital_cap
                                                                            (working_capital)
        capital_release[all,t] >= 0,   only where the working-capital rows exist

    Cost: capital_cost_rate capital_release (finance).
    """
    rows = list(m.working_capital)
    m.released = pyo.Set(initialize=sorted({key for key, _ in rows}), doc="the network, if its stock value is capped")
    m.capital_cost_rate = pyo.Param(initialize=float(net.capital_cost_rate))
    m.capital_release = pyo.Var(
        m.released, m.periods, within=pyo.NonNegativeReals, doc="stock value held beyond the cap in t"
    )
    # The working-capital rows are built before the protocols are read (as in the builder, which
    # adds its terms to them): the release joins each row as it stands.
    for key, t in rows:
        row = m.working_capital[key, t]
        row.set_value(row.body - m.capital_release[key, t] <= row.upper)


def define_escalations(m: pyo.ConcreteModel, groups: Sequence[AuthorityGroup]) -> None:
    """One binary per escalation j: rules whose approver is the same joint decision share one.

    escalate[j] in {0, 1},   cost: governance_cost[j] escalate[j] (governance),
    governance_cost[j] = max of the governance costs of the rules escalating through j
    """
    m.escalations = pyo.Set(initialize=range(1 + max((g.escalation for g in groups), default=-1)), doc="escalations j")
    cost = {j: 0.0 for j in m.escalations}
    for g in groups:
        cost[g.escalation] = max(cost[g.escalation], g.rule.governance_cost)
    m.governance_cost = pyo.Param(m.escalations, initialize=cost)
    m.escalate = pyo.Var(m.escalations, within=pyo.Binary, doc="1 if the plan escalates through j")


def define_authority(
    m: pyo.ConcreteModel, net: Network, protocols: ProtocolSet, groups: Sequence[AuthorityGroup]
) -> None:
    """Authority limits, early spend and unauthorized actions, for every active group g (one per
    active rule, indexed by rule id) with limit L_g, hard cap U_g, escalation j(g) and first period
    d_g an escalation may take effect in:

        sum_{i in g} k_i x_i - (U_g - L_g) escalate[j(g)] <= L_g                      (authority_limit)
        sum_{i in g, 0 <= t_i < d_g} k_i x_i + sum_{b in g} activation_cost[b] early_activation[g,b] <= L_g
                                                        groups with d_g > 0   (authority_before_escalation)
        buy[b,t] <= cap[b,t] early_activation[g,b]     backup offers b activated under g, t < d_g
                                                                                (early_activation_link)
        x_i <= 0       every term of a governed action kind that no active group covers

    A term (`action_terms`) belongs to the first group in the order given (signal-activated before
    standing, see `resolve_authority`) whose rule is of its kind and whose scope covers it. A backup
    activation counts before d_g only through early_activation, which purchases before d_g need.
    """
    if ActionKind.WORKING_CAPITAL_RELEASE in protocols.governed():
        define_capital_release(m, net)
    define_escalations(m, groups)

    governed_by: dict[str, list[ActionTerm]] = {g.rule.id: [] for g in groups}
    for action in sorted(protocols.governed(), key=lambda kind: kind.value):
        for term in action_terms(m, net, action):
            owner = next((g for g in groups if g.rule.action == action and _covers(g.rule, term, net)), None)
            if owner is None:
                _variable(m, term).setub(0.0)
            else:
                governed_by[owner.rule.id].append(term)

    m.authority_groups = pyo.Set(initialize=[g.rule.id for g in groups], ordered=True, doc="active rules g")
    m.spend_limit = pyo.Param(m.authority_groups, initialize={g.rule.id: g.rule.spend_limit for g in groups})
    m.hard_cap = pyo.Param(m.authority_groups, initialize={g.rule.id: g.rule.hard_cap for g in groups})
    m.escalation_of = pyo.Param(m.authority_groups, initialize={g.rule.id: g.escalation for g in groups})
    m.effective_period = pyo.Param(m.authority_groups, initialize={g.rule.id: g.effective_period for g in groups})

    @m.Constraint(m.authority_groups)
    def authority_limit(m: pyo.ConcreteModel, g: str) -> Any:
        approved_above_limit = (m.hard_cap[g] - m.spend_limit[g]) * m.escalate[m.escalation_of[g]]
        return _spend(m, governed_by[g]) - approved_above_limit <= m.spend_limit[g]

    m.delayed_groups = pyo.Set(
        within=m.authority_groups,
        initialize=[g.rule.id for g in groups if g.effective_period > 0],
        doc="groups whose escalation cannot take effect at once",
    )
    m.early_offers = pyo.Set(
        dimen=2,
        initialize=[(g, term.index) for g in m.delayed_groups for term in governed_by[g] if term.var == "activated"],
        doc="(group, backup offer) pairs whose activation may come before d_g",
    )
    m.early_activation = pyo.Var(m.early_offers, within=pyo.Binary, doc="1 if offer b is activated before d_g")

    @m.Constraint(m.delayed_groups)
    def authority_before_escalation(m: pyo.ConcreteModel, g: str) -> Any:
        before = [term for term in governed_by[g] if 0 <= term.period < m.effective_period[g]]
        early = [b for group, b in m.early_offers if group == g]
        if not before and not early:
            return pyo.Constraint.Skip
        activations = sum(m.activation_cost[b] * m.early_activation[g, b] for b in early)
        return _spend(m, before) + activations <= m.spend_limit[g]

    m.early_windows = pyo.Set(
        dimen=3,
        initialize=[(g, b, t) for g, b in m.early_offers for t in m.periods if t < m.effective_period[g]],
        doc="(group, backup offer, period before d_g)",
    )

    @m.Constraint(m.early_windows)
    def early_activation_link(m: pyo.ConcreteModel, g: str, b: int, t: int) -> Any:
        return m.buy[b, t] <= m.offer_capacity[b, t] * m.early_activation[g, b]


# ---------------------------------------------------------------------------------------------
# Replanning against a baseline, in the order of `models.replanning.build_replan_model`
# ---------------------------------------------------------------------------------------------


def _decisions(m: pyo.ConcreteModel, options: ReplanOptions) -> list[tuple[str, Any, pyo.Set, float]]:
    """The decisions people execute: (name, Var, index set, function weight)."""
    return [
        ("buy", m.buy, m.offers, options.procurement_weight),
        ("make", m.make, m.recipes, options.production_weight),
        ("ship", m.ship, m.arcs, options.logistics_weight),
    ]


def define_baseline(m: pyo.ConcreteModel, baseline: Mapping[str, FloatArray]) -> None:
    """The baseline plan's buy[o,t], make[r,t] and ship[a,t] as Params x0 (baseline_buy, ...)."""
    for name, index in (("buy", m.offers), ("make", m.recipes), ("ship", m.arcs)):
        x0 = np.asarray(baseline[name], dtype=np.float64)
        expected = (len(index), len(m.periods))
        if x0.shape != expected:
            raise ValueError(f"baseline[{name!r}] has shape {x0.shape}, not {expected}; read it off the same network")
        m.add_component(f"baseline_{name}", pyo.Param(index, m.periods, initialize=_table(x0)))


def define_stability(m: pyo.ConcreteModel, options: ReplanOptions) -> None:
    """How far each executed decision x in {buy, make, ship} moves from its baseline value x0:

        x[k,t] - change_x_up[k,t] + change_x_down[k,t] = x0[k,t]      (change_x)
        change_x_up, change_x_down >= 0,  so at the optimum their sum is |x - x0|

    Cost: stability_weight * w_x * decay^t * (change_x_up + change_x_down)[k,t] (stability), with
    w_x the procurement, production or logistics weight. A stability weight of 0 adds nothing.
    """
    if options.stability_weight == 0:
        return
    cost = []
    for name, x, index, weight in _decisions(m, options):
        up, down = _deviation(m, name, x, m.component(f"baseline_{name}"), index)
        cost.append(
            sum(
                options.stability_weight * weight * options.decay**t * (up[k, t] + down[k, t])
                for k in index
                for t in m.periods
            )
        )
    m.stability = pyo.Expression(expr=sum(cost))


def _deviation(m: pyo.ConcreteModel, name: str, x: Any, x0: Any, index: pyo.Set) -> tuple[Any, Any]:
    """x = x0 + change_<name>_up - change_<name>_down, one row (change_<name>) per decision."""
    up = pyo.Var(index, m.periods, within=pyo.NonNegativeReals, doc=f"units {name} rises above the baseline in t")
    down = pyo.Var(index, m.periods, within=pyo.NonNegativeReals, doc=f"units {name} falls below the baseline in t")
    m.add_component(f"change_{name}_up", up)
    m.add_component(f"change_{name}_down", down)

    def balance(m: pyo.ConcreteModel, k: int, t: int) -> Any:
        return x[k, t] - up[k, t] + down[k, t] == x0[k, t]

    m.add_component(f"change_{name}", pyo.Constraint(index, m.periods, rule=balance))
    return up, down


def define_fence(m: pyo.ConcreteModel, options: ReplanOptions) -> None:
    """The frozen fence, periods t < F = min(fence_periods, H): no executed decision grows.

        x[k,t] <= x0[k,t]          (a tighter upper bound; the old one stays where it is lower)

    Cost: fence_penalty * (x0[k,t] - x[k,t]) for every fenced x (fence): each unit cut below the
    baseline. Without a fence there is no fence component.
    """
    fenced = [t for t in m.periods if t < options.fence_periods]
    if not fenced:
        return
    cut = []
    for name, x, index, _ in _decisions(m, options):
        x0 = m.component(f"baseline_{name}")
        for k in index:
            for t in fenced:
                upper = x[k, t].ub
                x[k, t].setub(x0[k, t] if upper is None else min(upper, x0[k, t]))
                cut.append(options.fence_penalty * (x0[k, t] - x[k, t]))
    m.fence = pyo.Expression(expr=sum(cut))


def define_outside_reach_fixed(
    m: pyo.ConcreteModel,
    net: Network,
    options: ReplanOptions,
    reach: Reach,
    state: Mapping[str, FloatArray] | None = None,
) -> None:
    """The first answer's model: decisions outside the signals' reach (entities and periods) keep
    their baseline value, clipped into their bounds as they stand after every other family (the
    fence included):

        x[k,t] = min(max(x0[k,t], lower), upper)      (k, t) outside the reach

    With `state` (`models.replanning.baseline_state`), the same for the stock inv[p,t], shortfall
    short[q,t], backlog[s,t] and lost[s,t] of every position and stream outside the reach, in every
    period. Set as equal bounds rather than with `fix()`, so they stay columns of the model, as in
    the builder's matrix.
    """
    movable = reach.movable()
    fixed: list[tuple[Any, Any]] = []
    for name, x, index, _ in _decisions(m, options):
        x0 = m.component(f"baseline_{name}")
        fixed += [(x[k, t], x0[k, t]) for k in index for t in m.periods if not movable[name][k, t]]
    if state is not None:
        outside = reach.outside(net)
        safety = list(m.safety_positions)
        for name, var, entities in (
            ("inv", m.inv, list(m.positions)),
            ("short", m.short, safety),
            ("backlog", m.backlog, list(m.demands)),
            ("lost", m.lost, list(m.demands)),
        ):
            values = np.asarray(state[name], dtype=np.float64)
            if values.shape != (len(entities), len(m.periods)):
                raise ValueError(f"state[{name!r}] has shape {values.shape}, not {(len(entities), len(m.periods))}")
            fixed += [
                (var[k, t], values[row, t]) for row, k in enumerate(entities) if outside[name][row] for t in m.periods
            ]
    for var, x0 in fixed:
        lower = var.lb if var.lb is not None else -math.inf
        upper = var.ub if var.ub is not None else math.inf
        value = float(min(max(pyo.value(x0), lower), upper))
        var.setlb(value)
        var.setub(value)


def define_objective(m: pyo.ConcreteModel, net: Network) -> None:
    """Total cost, by component, minus revenue; revenue is price . (demand - lost), so it enters as
    the constant -price . demand plus price . lost.

        procurement = sum unit_cost[o] buy[o,t] + sum activation_cost[b] activated[b]
        production  = sum unit_cost[r] make[r,t] + overtime_cost[n] overtime[n,t] + setup_cost[r] setup[r,t]
        logistics   = sum unit_cost[lane(a)] ship[a,t] + truck_cost[l] trucks[l,t]
        inventory   = sum holding_cost[item(p)] inv[p,t] + safety_penalty[q] short[q,t]
        service     = sum backlog_penalty[s] backlog[s,t] + lost_sale_penalty[s] lost[s,t]
        revenue     = sum price[s] lost[s,t] - sum price[s] demand[s,t]

    With a protocol set (`define_authority`), also

        governance  = sum governance_cost[j] escalate[j]
        finance     = sum capital_cost_rate capital_release[all,t]     if capital_release exists

    and in a replan, `stability` and `fence` as defined by `define_stability` and `define_fence`.
    """
    T = m.periods
    m.procurement = pyo.Expression(
        expr=sum(m.offer_cost[o] * m.buy[o, t] for o in m.offers for t in T)
        + sum(m.activation_cost[b] * m.activated[b] for b in m.backups)
    )
    m.production = pyo.Expression(
        expr=sum(m.recipe_cost[r] * m.make[r, t] for r in m.recipes for t in T)
        + sum(m.overtime_cost[n] * m.overtime[n, t] for n in m.overtime_nodes for t in T)
        + sum(m.setup_cost[r] * m.setup[r, t] for r in m.setups for t in T)
    )
    m.logistics = pyo.Expression(
        expr=sum(m.lane_cost[m.arc_lane[a]] * m.ship[a, t] for a in m.arcs for t in T)
        + sum(m.truck_cost[lane] * m.trucks[lane, t] for lane in m.truck_lanes for t in T)
    )
    m.inventory = pyo.Expression(
        expr=sum(m.holding_cost[p] * m.inv[p, t] for p in m.positions for t in T)
        + sum(m.safety_penalty[q] * m.short[q, t] for q in m.safety_positions for t in T)
    )
    m.service = pyo.Expression(
        expr=sum(
            m.backlog_penalty[s] * m.backlog[s, t] + m.lost_penalty[s] * m.lost[s, t] for s in m.demands for t in T
        )
    )
    m.revenue = pyo.Expression(
        expr=sum(m.price[s] * m.lost[s, t] for s in m.demands for t in T)
        - sum(m.price[s] * m.demand[s, t] for s in m.demands for t in T)
    )
    if m.component("escalate") is not None:
        m.governance = pyo.Expression(expr=sum(m.governance_cost[j] * m.escalate[j] for j in m.escalations))
    if m.component("capital_release") is not None:
        m.finance = pyo.Expression(
            expr=sum(m.capital_cost_rate * m.capital_release[key, t] for key, t in m.capital_release)
        )
    every = (*COST_COMPONENTS, *PROTOCOL_COST_COMPONENTS, *REPLAN_COST_COMPONENTS)
    components = [c for c in every if m.component(c) is not None]
    m.total_cost = pyo.Objective(expr=sum(m.component(c) for c in components), sense=pyo.minimize)


FAMILY_DEFINITIONS: tuple[Callable[[pyo.ConcreteModel, Network], None], ...] = (
    define_sets,
    define_supplier_capacity,
    define_production,
    define_lane_capacity,
    define_demand,
    define_flow_balance,
    define_storage_capacity,
    define_safety_stock,
    define_working_capital,
    define_service_targets,
    define_single_sourcing,
    define_backup_flow_links,
)
"""The families without protocols, in order; `build_pyomo_model` adds the protocols and the objective."""


def build_pyomo_model(
    net: Network,
    protocols: ProtocolSet | None = None,
    groups: Sequence[AuthorityGroup] = (),
    *,
    baseline: Mapping[str, FloatArray] | None = None,
    replan_options: ReplanOptions | None = None,
    reach: Reach | None = None,
    state: Mapping[str, FloatArray] | None = None,
    link_backup_flows: bool = False,
) -> pyo.ConcreteModel:
    """The whole coordinated allocation model of a network, family by family, as a Pyomo model; with
    a protocol set, its active authority groups (`models.protocols.resolve_authority`) too
    (`link_backup_flows`: the backup_lane_link rows, as the builder's option of the same name).

    With a `baseline` (buy, make and ship arrays, `models.replanning.baseline_decisions`) and
    `replan_options`, the replan model of `net` as the signals leave it: the stability penalty and
    the fence; with a `reach` as well, the first answer's model, decisions outside it fixed, and with
    `state` (`models.replanning.baseline_state`) the stock, shortfall, backlog and lost sales of the
    positions and streams outside it."""
    if (baseline is None) != (replan_options is None):
        raise ValueError("build_pyomo_model: a replan needs both baseline and replan_options; pass both or neither")
    if reach is not None and baseline is None:
        raise ValueError("build_pyomo_model: reach fixes decisions to a baseline; pass baseline and replan_options")
    if state is not None and reach is None:
        raise ValueError("build_pyomo_model: state is kept outside a reach; pass the reach too")
    m = pyo.ConcreteModel(name=net.spec.name)
    for define in FAMILY_DEFINITIONS:
        if define is define_production:
            # A replan may keep production the baseline made: no demand-bounded setups (as the builder).
            define_production(m, net, tighten_setups=baseline is None)
        elif define is define_backup_flow_links:
            define_backup_flow_links(m, net, enabled=link_backup_flows)
        else:
            define(m, net)
    if protocols is not None:
        define_authority(m, net, protocols, groups)
    if baseline is not None and replan_options is not None:
        define_baseline(m, baseline)
        define_stability(m, replan_options)
        define_fence(m, replan_options)
        if reach is not None:
            define_outside_reach_fixed(m, net, replan_options, reach, state)
    define_objective(m, net)
    return m


# ---------------------------------------------------------------------------------------------
# Solving through Pyomo's HiGHS interface
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PyomoResult:
    """A solve of the Pyomo twin. `status` takes the values of `models.solution.SolveStatus`;
    `values` maps each variable block, protocol blocks included, to an array shaped and ordered like
    the builder's block (empty without a solution)."""

    status: str
    objective: float
    values: dict[str, FloatArray] = field(default_factory=dict)
    termination: str = ""
    """Pyomo's own termination condition, for messages."""


# Pyomo termination -> (status when a feasible solution exists, status when none exists).
_STATUS_TABLE: dict[TerminationCondition, tuple[SolveStatus, SolveStatus]] = {
    TerminationCondition.convergenceCriteriaSatisfied: (SolveStatus.OPTIMAL, SolveStatus.ERROR),
    TerminationCondition.provenInfeasible: (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE),
    TerminationCondition.locallyInfeasible: (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE),
    TerminationCondition.infeasibleOrUnbounded: (
        SolveStatus.INFEASIBLE_OR_UNBOUNDED,
        SolveStatus.INFEASIBLE_OR_UNBOUNDED,
    ),
    TerminationCondition.unbounded: (SolveStatus.UNBOUNDED, SolveStatus.UNBOUNDED),
    TerminationCondition.maxTimeLimit: (SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT),
    TerminationCondition.iterationLimit: (SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT),
    TerminationCondition.objectiveLimit: (SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT),
    TerminationCondition.minStepLength: (SolveStatus.FEASIBLE, SolveStatus.ERROR),
    TerminationCondition.interrupted: (SolveStatus.FEASIBLE, SolveStatus.INTERRUPTED),
    TerminationCondition.emptyModel: (SolveStatus.OPTIMAL, SolveStatus.OPTIMAL),
}


def _block_values(m: pyo.ConcreteModel, primals: Any) -> dict[str, FloatArray]:
    """Each Var as an array laid out like the builder's block: (subset position[, t])."""
    H = len(m.periods)
    out: dict[str, FloatArray] = {}
    optional = (*PROTOCOL_VARIABLE_BLOCKS, *REPLAN_VARIABLE_BLOCKS)
    present = [name for name in optional if m.component(name) is not None]
    for name in (*VARIABLE_BLOCKS, *present):
        var = getattr(m, PYOMO_NAMES.get(name, name))
        subsets = list(var.index_set().subsets())
        members = list(subsets[0])
        if len(subsets) == 1:
            out[name] = np.array([primals.get(var[k], 0.0) for k in members], dtype=np.float64)
        else:
            values = [[primals.get(var[k, t], 0.0) for t in range(H)] for k in members]
            out[name] = np.array(values, dtype=np.float64).reshape(len(members), H)
    return out


def solve_pyomo(
    net: Network,
    protocols: ProtocolSet | None = None,
    groups: Sequence[AuthorityGroup] = (),
    *,
    baseline: Mapping[str, FloatArray] | None = None,
    replan_options: ReplanOptions | None = None,
    reach: Reach | None = None,
    state: Mapping[str, FloatArray] | None = None,
    mip_rel_gap: float = 1e-9,
    time_limit: float | None = None,
) -> PyomoResult:
    """Build the Pyomo twin of `net` (under the protocols' active `groups`; as a replan of
    `baseline`, and its first answer's model with `reach` and `state`: see `build_pyomo_model`) and solve it
    with HiGHS through `pyomo.contrib.solver`.

    Infeasible, unbounded and limits come back as a status, never as an exception. Pyomo's HiGHS
    interface is not thread-safe: call this from one thread at a time.
    """
    m = build_pyomo_model(
        net, protocols, groups, baseline=baseline, replan_options=replan_options, reach=reach, state=state
    )
    solver = Highs()
    results = solver.solve(
        m,
        rel_gap=mip_rel_gap,
        time_limit=time_limit,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    condition = results.termination_condition
    has_solution = results.incumbent_objective is not None
    with_solution, without = _STATUS_TABLE.get(condition, (SolveStatus.FEASIBLE, SolveStatus.ERROR))
    status = with_solution if has_solution else without
    if not status.has_solution:
        return PyomoResult(status=status.value, objective=math.nan, termination=condition.name)
    primals = results.solution_loader.get_vars()
    return PyomoResult(
        status=status.value,
        objective=float(results.incumbent_objective),
        values=_block_values(m, primals),
        termination=condition.name,
    )
