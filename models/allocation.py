"""The coordinated allocation MILP: one `define_<family>` function per constraint family, each
building its variables and rows from whole numpy arrays; `build_model` lists them in order.

Notation (all indices are integers into the `Network` arrays; t = 0..H-1 are periods):

  buy[o,t]     units bought on supply offer o in period t, available at the supplier in t
  activate[b]  1 if backup offer b is activated for the horizon            (binary)
  order[m,t]   1 if an order is placed on minimum-order offer m in t        (binary)
  make[r,t]    units made by recipe r in t
  setup[r,t]   1 if recipe r with a setup cost or setup hours runs in t     (binary)
  overtime[n,t] overtime hours used at node n in t
  ship[a,t]    units of arc a = (lane, item) departing in t, arriving in arr(a,t) = t + lead + delay
  trucks[l,t]  trucks sent on lane l in t                                   (integer)
  assign[a]    1 if single-sourced arc a is the customer's one inbound lane (binary)
  inv[p,t]     units of stock position p = (node, item) at the end of t
  short[q,t]   units by which stock position q falls short of its safety stock in t
  backlog[s,t] units of demand stream s = (customer, item) still owed at the end of t
  lost[s,t]    units of demand stream s given up in t
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.builder import Axis, BoolArray, FloatArray, IntArray, LinearProgram, ModelBuilder
from models.costs import MODEL_COMPONENTS, CostComponent
from models.network import Network
from models.protocols import AuthorityGroup, ProtocolSet, define_authority

PROCUREMENT = CostComponent.PROCUREMENT
PRODUCTION = CostComponent.PRODUCTION
LOGISTICS = CostComponent.LOGISTICS
INVENTORY = CostComponent.INVENTORY
SERVICE = CostComponent.SERVICE
REVENUE = CostComponent.REVENUE
COST_COMPONENTS = MODEL_COMPONENTS
"""The cost components of the model's families (see `models.costs`), named short for the
docstrings' readability."""


COUPLING_FAMILIES = ("capacity_hours", "lane_capacity", "storage_capacity", "working_capital", "service_target")
"""The constraint families that couple items through a shared resource: a node's production hours,
a lane's capacity, a node's storage, the working-capital cap and the fill-rate targets. Without
them what is left is flow networks over time linked only through the bills of materials (on the
generated networks components are shared across products, so that is still one block: 96,267 of
M's 96,670 columns), and its LP is 5-7x faster to solve (M: 2.6 s against 15.4 s); at the LP
optimum only about 2% of their rows bind (M: 127 of 6,958). `solver.lp_first` therefore adds them
only where the relaxation violates them."""


def _grid(n: int, horizon: int) -> IntArray:
    """Flat row indices of an (n, horizon) family."""
    return np.arange(n * horizon, dtype=np.int64).reshape(n, horizon)


def _arrival(net: Network) -> tuple[IntArray, np.ndarray]:
    """Arrival period of every (arc, departure period) and whether it falls inside the horizon."""
    arrival = net.arc_arrival()
    return arrival, arrival < net.horizon


def define_supplier_capacity(b: ModelBuilder, net: Network) -> None:
    """Purchases within each offer's capacity, backup activation and minimum orders.

        0 <= buy[o,t] <= cap[o,t]                                   every offer
        buy[b,t] - cap[b,t] * activate[b] <= 0                      backup offers  (backup_activation)
        buy[m,t] - min[m] * order[m,t] >= 0                         min-order offers (minimum_order)
        buy[m,t] - cap[m,t] * order[m,t] <= 0                       min-order offers (order_capacity)

    Cost: unit_cost[o] * buy[o,t] + activation_cost[b] * activate[b]  (procurement).
    """
    H, periods = net.horizon, Axis.periods(net.horizon)
    buy = b.add_variables(
        "buy", (net.n_offers, H), upper=net.offer_capacity, axes=(Axis.of("offer", net.offer_ids), periods)
    )
    b.add_cost(PROCUREMENT, buy, net.offer_cost[:, None])

    backup = np.flatnonzero(net.offer_backup)
    backups = Axis.of("offer", net.offer_ids, backup)
    activate = b.add_variables("activate", (len(backup),), upper=1.0, integer=True, axes=(backups,))
    b.add_cost(PROCUREMENT, activate, net.offer_activation_cost[backup])
    rows = _grid(len(backup), H)
    b.add_constraints(
        "backup_activation",
        rows.shape,
        [(rows, buy[backup], 1.0), (rows, activate[:, None], -net.offer_capacity[backup])],
        upper=0.0,
        axes=(backups, periods),
    )

    minimum = np.flatnonzero(net.offer_min_order > 0)
    axes = (Axis.of("offer", net.offer_ids, minimum), periods)
    order = b.add_variables("order", (len(minimum), H), upper=1.0, integer=True, axes=axes)
    rows = _grid(len(minimum), H)
    b.add_constraints(
        "minimum_order",
        rows.shape,
        [(rows, buy[minimum], 1.0), (rows, order, -net.offer_min_order[minimum][:, None])],
        lower=0.0,
        axes=axes,
    )
    b.add_constraints(
        "order_capacity",
        rows.shape,
        [(rows, buy[minimum], 1.0), (rows, order, -net.offer_capacity[minimum])],
        upper=0.0,
        axes=axes,
    )


def define_production(b: ModelBuilder, net: Network, *, tighten_setups: bool = True) -> None:
    """Production within capacity hours and rate, with overtime and setups.

        0 <= make[r,t] <= max_rate[r,t]
        sum_{r at n} hours[r] make[r,t] + sum_{r at n} setup_hours[r] setup[r,t] - overtime[n,t]
                                                       <= regular_hours[n,t]            (capacity_hours)
        0 <= overtime[n,t] <= overtime_hours[n,t]
        make[r,t] - M[r,t] setup[r,t] <= 0                                               (setup_link)
        M[r,t] = min(max_rate[r,t], max(0, regular_hours[n,t] + overtime_hours[n,t] - setup_hours[r]) / hours[r])

    Setup time. A recipe with a setup cost or setup hours has a binary setup[r,t] per period; each
    period it is on, the setup takes setup_hours[r] of its node's hours before the first unit is
    made. Setups and production share one hours row per node and period, so they use regular hours
    first and overtime[n,t] only for what exceeds them: overtime[n,t] >= (hours used - regular)^+,
    and since overtime costs overtime_cost[n] >= 0 an optimum takes no more. With setup[r,t] = 1 at
    most regular + overtime - setup_hours[r] hours remain for the recipe's units, which is the
    by-hours part of M[r,t] (with setup_hours = 0 it is the plain capacity bound). A recipe whose
    hours per unit are 0 is bounded by its rate alone (the network requires it to be finite).

    The tighter link (with `tighten_setups`; the lot-sizing strengthening x_t <= min(C_t, d_{t..T}) y_t):

        M[r,t] = min(M[r,t], D[i,t]),   D[i,t] = sum_{s of item i} sum_{u >= t} demand[s,u]

    for recipes r making item i whose output has no other use than on-time demand: i has demand
    streams and every one is served on time, i is no input of any bill of materials and has no
    safety-stock target, r's node has unlimited storage in every period and the network no
    working-capital cap. Validity: a unit made in t leaves only toward customers and arrives in t or
    later; an on-time stream takes exactly demand[s,u] in u, so only demand from t on can use the
    unit, and whatever r makes in t beyond D[i,t] ends in stock. Removing that surplus from
    make[r,t] and from the stock it passes through keeps every row (it frees hours, inputs, lane
    and truck capacity; no storage or capital cap rewards turning inputs into i; nothing needs a
    level of i) and costs no more (unit, holding and shipping costs are >= 0), so some optimum
    meets the bound and the optimum is unchanged. A replan (stability against a baseline, decisions
    fixed outside the reach) may rightly keep a surplus, so `build_replan_model` turns it off.

    Capacity rows exist for nodes with finite regular hours in some period whose recipes use hours
    (per unit or for setups); a period with unlimited hours keeps a row without an upper bound. The
    bill of materials enters the flow balance. Cost: unit_cost[r] make + overtime_cost[n] overtime +
    setup_cost[r] setup (production).
    """
    H, periods = net.horizon, Axis.periods(net.horizon)
    make = b.add_variables(
        "make", (net.n_recipes, H), upper=net.recipe_max_rate, axes=(Axis.of("recipe", net.recipe_ids), periods)
    )
    b.add_cost(PRODUCTION, make, net.recipe_cost[:, None])

    uses_hours = (net.recipe_hours > 0) | (net.recipe_setup_hours > 0)
    limited = np.asarray(np.isfinite(net.node_regular_hours).any(axis=1))
    nodes = np.unique(net.recipe_node[uses_hours & limited[net.recipe_node]])
    row_of_node = np.full(net.n_nodes, -1, dtype=np.int64)
    row_of_node[nodes] = np.arange(len(nodes))
    recipes = np.flatnonzero((net.recipe_hours > 0) & (row_of_node[net.recipe_node] >= 0))
    with_overtime = nodes[(net.node_overtime_hours[nodes] > 0).any(axis=1)]
    node_axes = (Axis.of("node", net.node_ids, with_overtime), periods)
    overtime = b.add_variables(
        "overtime", (len(with_overtime), H), upper=net.node_overtime_hours[with_overtime], axes=node_axes
    )
    b.add_cost(PRODUCTION, overtime, net.node_overtime_cost[with_overtime][:, None])

    setups = np.flatnonzero(net.recipe_has_setup)
    axes = (Axis.of("recipe", net.recipe_ids, setups), periods)
    setup = b.add_variables("setup", (len(setups), H), upper=1.0, integer=True, axes=axes)
    b.add_cost(PRODUCTION, setup, net.recipe_setup_cost[setups][:, None])

    timed = np.flatnonzero((net.recipe_setup_hours[setups] > 0) & (row_of_node[net.recipe_node[setups]] >= 0))
    rows = _grid(len(nodes), H)
    b.add_constraints(
        "capacity_hours",
        rows.shape,
        [
            (rows[row_of_node[net.recipe_node[recipes]]], make[recipes], net.recipe_hours[recipes][:, None]),
            (rows[row_of_node[with_overtime]], overtime, -1.0),
            (
                rows[row_of_node[net.recipe_node[setups[timed]]]],
                setup[timed],
                net.recipe_setup_hours[setups[timed]][:, None],
            ),
        ],
        upper=net.node_regular_hours[nodes],
        axes=(Axis.of("node", net.node_ids, nodes), periods),
    )

    rows = _grid(len(setups), H)
    b.add_constraints(
        "setup_link",
        rows.shape,
        [(rows, make[setups], 1.0), (rows, setup, -setup_big_m(net, setups, tighten=tighten_setups))],
        upper=0.0,
        axes=axes,
    )


def setup_big_m(net: Network, setups: IntArray, *, tighten: bool = True) -> FloatArray:
    """M[r,t] of `define_production`'s setup link for the listed recipes, shape (len(setups), H):
    the capacity bound, and with `tighten` the remaining demand where that is valid."""
    hours = net.recipe_hours[setups][:, None]
    node = net.recipe_node[setups]
    total_hours = net.node_regular_hours[node] + net.node_overtime_hours[node]
    left = np.maximum(total_hours - net.recipe_setup_hours[setups][:, None], 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        by_hours = np.where(hours > 0, left / np.where(hours > 0, hours, 1.0), np.inf)
    big_m = np.minimum(net.recipe_max_rate[setups], by_hours)
    if tighten:
        tight: BoolArray = setups_serving_demand_only(net)[setups]
        remaining = remaining_demand(net)[net.recipe_item[setups]]
        big_m = np.where(tight[:, None], np.minimum(big_m, remaining), big_m)
    return np.asarray(big_m, dtype=np.float64)


def setups_serving_demand_only(net: Network) -> BoolArray:
    """Recipes with a setup whose output has no other use than on-time demand (see
    `define_production`), shape (R,). Demand that may wait or be lost is left out: with backlog a
    unit made in t may serve any period's demand, so the bound would be the horizon's total."""
    streams = np.bincount(net.demand_item, minlength=net.n_items)
    on_time = np.bincount(net.demand_item, weights=net.demand_on_time, minlength=net.n_items)
    only_on_time = (streams > 0) & (on_time == streams)
    item_is_input = np.zeros(net.n_items, dtype=bool)
    item_is_input[net.bom_item] = True
    item_has_target = np.zeros(net.n_items, dtype=bool)
    item_has_target[net.position_item[net.position_safety_stock > 0]] = True
    unlimited_storage: BoolArray = np.asarray(np.isinf(net.node_storage).all(axis=1))
    uncapped = bool(np.isinf(net.working_capital_cap))
    return np.asarray(
        net.recipe_has_setup
        & only_on_time[net.recipe_item]
        & ~item_is_input[net.recipe_item]
        & ~item_has_target[net.recipe_item]
        & unlimited_storage[net.recipe_node]
        & uncapped
    )


def remaining_demand(net: Network) -> FloatArray:
    """D[i,t] of `define_production`: demand for item i from period t on, shape (I, H)."""
    from_t = np.cumsum(net.demand_qty[:, ::-1], axis=1)[:, ::-1]
    out = np.zeros((net.n_items, net.horizon))
    np.add.at(out, net.demand_item, from_t)
    return out


def define_lane_capacity(b: ModelBuilder, net: Network) -> None:
    """Shipments within lane capacity, in whole trucks where the lane has a truck cost.

        0 <= ship[a,t] <= cap[lane(a),t],   ship[a,t] = 0 if arr(a,t) >= H
        sum_{a on l} ship[a,t] <= cap[l,t]                   lanes carrying several items (lane_capacity)
        sum_{a on l} ship[a,t] - truck_size[l] trucks[l,t] <= 0      lanes with a truck cost (truck_load)
        trucks[l,t] integer in [0, ceil(cap[l,t] / truck_size[l])]

    Cost: unit_cost[l] ship + truck_cost[l] trucks (logistics).
    """
    H, periods = net.horizon, Axis.periods(net.horizon)
    _, arrives = _arrival(net)
    upper = np.where(arrives, net.lane_capacity[net.arc_lane], 0.0)
    ship = b.add_variables("ship", (net.n_arcs, H), upper=upper, axes=(Axis.of("arc", net.arc_ids()), periods))
    b.add_cost(LOGISTICS, ship, net.lane_cost[net.arc_lane][:, None])

    arcs_per_lane = np.bincount(net.arc_lane, minlength=net.n_lanes)
    shared = np.flatnonzero(np.isfinite(net.lane_capacity).any(axis=1) & (arcs_per_lane > 1))
    _lane_rows(b, net, ship, "lane_capacity", shared, upper=net.lane_capacity[shared])

    trucked = np.flatnonzero(net.lane_truck_cost > 0)
    size = net.lane_truck_size[trucked][:, None]
    lane_arrives = net.lane_arrival()[trucked] < H
    truck_upper = np.where(lane_arrives, np.ceil(net.lane_capacity[trucked] / size - 1e-9), 0.0)
    axes = (Axis.of("lane", net.lane_ids, trucked), periods)
    trucks = b.add_variables("trucks", (len(trucked), H), upper=truck_upper, integer=True, axes=axes)
    b.add_cost(LOGISTICS, trucks, net.lane_truck_cost[trucked][:, None])
    _lane_rows(b, net, ship, "truck_load", trucked, upper=0.0, extra=(trucks, -size))


def _lane_rows(
    b: ModelBuilder,
    net: Network,
    ship: IntArray,
    name: str,
    lanes: IntArray,
    *,
    upper: npt.ArrayLike,
    extra: tuple[IntArray, np.ndarray] | None = None,
) -> IntArray:
    """Rows (lane, t) summing the shipments of every arc on each listed lane."""
    H = net.horizon
    row_of_lane = np.full(net.n_lanes, -1, dtype=np.int64)
    row_of_lane[lanes] = np.arange(len(lanes))
    arcs = np.flatnonzero(row_of_lane[net.arc_lane] >= 0)
    rows = _grid(len(lanes), H)
    terms: list[tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]] = [
        (rows[row_of_lane[net.arc_lane[arcs]]], ship[arcs], 1.0)
    ]
    if extra is not None:
        terms.append((rows, extra[0], extra[1]))
    return b.add_constraints(
        name,
        rows.shape,
        terms,
        upper=upper,
        axes=(Axis.of("lane", net.lane_ids, lanes), Axis.periods(H)),
    )


def define_demand(b: ModelBuilder, net: Network) -> None:
    """Demand met on time, late (backlog) or never (lost), for every stream s = (customer, item).

        sum_{a into s, tau: arr(a,tau) = t} ship[a,tau] + lost[s,t] + backlog[s,t] - backlog[s,t-1] = demand[s,t]
                                                                        (demand_balance)
        backlog[s,-1] = 0,   backlog[s,H-1] = 0  (what is still owed at the end is lost)
        backlog[s,t] = lost[s,t] = 0     streams served on time (their own flag or their tier's)

    Delivered units total demand - lost, so revenue price . (demand - lost) enters as the constant
    -price . demand plus price . lost. Cost: backlog_penalty backlog + lost_sale_penalty lost
    (service); -price delivered (revenue).
    """
    H, S = net.horizon, net.n_demands
    axes = (Axis.of("demand", net.demand_ids()), Axis.periods(H))
    backlog_upper = np.full((S, H), np.inf)
    backlog_upper[:, H - 1] = 0.0
    backlog_upper[net.demand_on_time] = 0.0
    backlog = b.add_variables("backlog", (S, H), upper=backlog_upper, axes=axes)
    lost_upper = np.where(net.demand_on_time[:, None], 0.0, np.full((S, H), np.inf))
    lost = b.add_variables("lost", (S, H), upper=lost_upper, axes=axes)
    b.add_cost(SERVICE, backlog, net.demand_backlog_penalty[:, None])
    b.add_cost(SERVICE, lost, net.demand_lost_penalty[:, None])
    b.add_cost(REVENUE, lost, net.demand_price[:, None], constant=-float(net.demand_price @ net.demand_qty.sum(axis=1)))

    ship = b.columns("ship")
    arrival, arrives = _arrival(net)
    stream = net.demand_index(net.lane_destination[net.arc_lane], net.arc_item)
    into = (stream >= 0)[:, None] & arrives
    rows = _grid(S, H)
    b.add_constraints(
        "demand_balance",
        rows.shape,
        [
            (np.broadcast_to(stream[:, None], into.shape)[into] * H + arrival[into], ship[into], 1.0),
            (rows, lost, 1.0),
            (rows, backlog, 1.0),
            (rows[:, 1:], backlog[:, :-1], -1.0),
        ],
        lower=net.demand_qty,
        upper=net.demand_qty,
        axes=axes,
    )


def define_flow_balance(b: ModelBuilder, net: Network) -> None:
    """Conservation of every item at every stocking node, with lead times and in-transit receipts.

        inv[p,t] = inv[p,t-1] + receipts[p,t] + sum_{o at p} buy[o,t] + sum_{r making p} make[r,t]
                   - sum_{r at node(p)} bom[r,item(p)] make[r,t]
                   + sum_{a into p, tau: arr(a,tau) = t} ship[a,tau] - sum_{a out of p} ship[a,t]  (flow_balance)
        inv[p,-1] = on_hand[p],  inv[p,t] >= 0

    Cost: holding_cost[item(p)] inv[p,t] (inventory).
    """
    H, P = net.horizon, net.n_positions
    axes = (Axis.of("position", net.position_ids()), Axis.periods(H))
    inv = b.add_variables("inv", (P, H), axes=axes)
    b.add_cost(INVENTORY, inv, net.item_holding_cost[net.position_item][:, None])

    buy, make, ship = b.columns("buy"), b.columns("make"), b.columns("ship")
    rows = _grid(P, H)
    offer_pos = net.position_index(net.offer_node, net.offer_item)
    made_pos = net.position_index(net.recipe_node, net.recipe_item)
    input_pos = net.position_index(net.recipe_node[net.bom_recipe], net.bom_item)
    origin_pos = net.position_index(net.lane_origin[net.arc_lane], net.arc_item)
    dest_pos = net.position_index(net.lane_destination[net.arc_lane], net.arc_item)
    arrival, arrives = _arrival(net)
    into = (dest_pos >= 0)[:, None] & arrives
    rhs = net.position_receipts.copy()
    rhs[:, 0] += net.position_on_hand
    b.add_constraints(
        "flow_balance",
        rows.shape,
        [
            (rows, inv, 1.0),
            (rows[:, 1:], inv[:, :-1], -1.0),
            (rows[offer_pos], buy, -1.0),
            (rows[made_pos], make, -1.0),
            (rows[input_pos], make[net.bom_recipe], net.bom_qty[:, None]),
            (rows[origin_pos], ship, 1.0),
            (np.broadcast_to(dest_pos[:, None], into.shape)[into] * H + arrival[into], ship[into], -1.0),
        ],
        lower=rhs,
        upper=rhs,
        axes=axes,
    )


def define_storage_capacity(b: ModelBuilder, net: Network) -> None:
    """Stock held at a node within its storage capacity.

    sum_{p at n} inv[p,t] <= storage[n,t]    nodes that hold stock, with a finite capacity in some
                                             period (storage_capacity)
    """
    H = net.horizon
    holds_stock = np.bincount(net.position_node, minlength=net.n_nodes) > 0
    nodes = np.flatnonzero(np.isfinite(net.node_storage).any(axis=1) & holds_stock)
    row_of_node = np.full(net.n_nodes, -1, dtype=np.int64)
    row_of_node[nodes] = np.arange(len(nodes))
    positions = np.flatnonzero(row_of_node[net.position_node] >= 0)
    rows = _grid(len(nodes), H)
    b.add_constraints(
        "storage_capacity",
        rows.shape,
        [(rows[row_of_node[net.position_node[positions]]], b.columns("inv")[positions], 1.0)],
        upper=net.node_storage[nodes],
        axes=(Axis.of("node", net.node_ids, nodes), Axis.periods(H)),
    )


def define_safety_stock(b: ModelBuilder, net: Network) -> None:
    """Soft safety stock: falling short is allowed at a price.

        inv[q,t] + short[q,t] >= safety_stock[q],  0 <= short[q,t] <= safety_stock[q]  (safety_stock)

    Cost: safety_penalty[q] short[q,t] (inventory).
    """
    H = net.horizon
    positions = np.flatnonzero(net.position_safety_stock > 0)
    target = net.position_safety_stock[positions][:, None]
    axes = (Axis.of("position", net.position_ids(), positions), Axis.periods(H))
    short = b.add_variables("short", (len(positions), H), upper=target, axes=axes)
    b.add_cost(INVENTORY, short, net.position_safety_penalty[positions][:, None])
    rows = _grid(len(positions), H)
    b.add_constraints(
        "safety_stock",
        rows.shape,
        [(rows, b.columns("inv")[positions], 1.0), (rows, short, 1.0)],
        lower=target,
        axes=axes,
    )


def define_working_capital(b: ModelBuilder, net: Network) -> None:
    """The value of stock held across the network stays within the working-capital cap.

    sum_p unit_value[item(p)] inv[p,t] <= working_capital_cap           (working_capital)
    """
    H = net.horizon
    value = net.item_value[net.position_item][:, None]
    n = 1 if np.isfinite(net.working_capital_cap) and value.any() else 0
    rows = _grid(n, H)
    inv = b.columns("inv")
    terms: list[tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]] = (
        [(np.broadcast_to(rows[0], inv.shape), inv, value)] if n else []
    )
    b.add_constraints(
        "working_capital",
        rows.shape,
        terms,
        upper=net.working_capital_cap,
        axes=(Axis.labelled("network", ["all"][:n]), Axis.periods(H)),
    )


def define_service_targets(b: ModelBuilder, net: Network) -> None:
    """Each priority tier with demand delivers at least its fill-rate target of its total demand.

    sum_{s in tier k, t} lost[s,t] <= (1 - fill_rate[k]) sum_{s in tier k, t} demand[s,t]
                                                                        (service_target)
    """
    H = net.horizon
    targets = np.flatnonzero(np.isin(net.target_priority, net.demand_priority))
    match = net.demand_priority[:, None] == net.target_priority[targets][None, :]
    streams = np.flatnonzero(match.any(axis=1))
    stream_row = np.argmax(match[streams], axis=1) if len(streams) else np.zeros(0, dtype=np.int64)
    totals = np.bincount(stream_row, weights=net.demand_qty[streams].sum(axis=1), minlength=len(targets))
    b.add_constraints(
        "service_target",
        (len(targets),),
        [(np.broadcast_to(stream_row[:, None], (len(streams), H)), b.columns("lost")[streams], 1.0)],
        upper=(1.0 - net.target_fill_rate[targets]) * totals,
        axes=(Axis.of("priority", [str(p) for p in net.target_priority], targets),),
    )


def define_single_sourcing(b: ModelBuilder, net: Network) -> None:
    """A single-sourced demand stream receives its item over exactly one inbound lane.

    sum_{a into s} assign[a] = 1                                   (single_source)
    ship[a,t] - M[a,t] assign[a] <= 0,  M = min(ship upper bound, total demand of s)
                                                                   (single_source_link)
    """
    H = net.horizon
    stream = net.demand_index(net.lane_destination[net.arc_lane], net.arc_item)
    sourced = np.flatnonzero(net.demand_single_source)
    row_of_stream = np.full(net.n_demands + 1, -1, dtype=np.int64)  # stream -1 reads the last: -1
    row_of_stream[sourced] = np.arange(len(sourced))
    arcs = np.flatnonzero(row_of_stream[stream] >= 0)
    arc_axis = Axis.of("arc", net.arc_ids(), arcs)
    assign = b.add_variables("assign", (len(arcs),), upper=1.0, integer=True, axes=(arc_axis,))
    b.add_constraints(
        "single_source",
        (len(sourced),),
        [(row_of_stream[stream[arcs]], assign, 1.0)],
        lower=1.0,
        upper=1.0,
        axes=(Axis.of("demand", net.demand_ids(), sourced),),
    )
    ship = b.columns("ship")
    _, arrives = _arrival(net)
    total = net.demand_qty.sum(axis=1)[stream[arcs]][:, None]
    big_m = np.where(arrives[arcs], np.minimum(net.lane_capacity[net.arc_lane[arcs]], total), 0.0)
    rows = _grid(len(arcs), H)
    b.add_constraints(
        "single_source_link",
        rows.shape,
        [(rows, ship[arcs], 1.0), (rows, assign[:, None], -big_m)],
        upper=0.0,
        axes=(arc_axis, Axis.periods(H)),
    )


def define_backup_flow_links(b: ModelBuilder, net: Network, *, enabled: bool = True) -> None:
    """The strong linking of a backup offer's activation to each lane out of its site: a valid
    inequality per (arc, period), written only where it cuts the relaxation.

        ship[a,t] - U[a,t] activate[b] <= 0                           (backup_lane_link)
        U[a,t] = min(cap[lane(a),t], C[b,t], D[s,arr(a,t)])
        C[b,t] = sum_{u <= t} cap[b,u]              (what the offer can have sold by t)
        D[s,u] = sum_{v <= u} demand[s,v]           (arcs into a demand stream s only; else +inf)

    for every backup offer b that is the only source of its position p = (site, item): p has no
    other offer, no recipe making the item there, no arc into it, no stock on hand and no scheduled
    receipt; a = every arc carrying the item out of the site whose departure in t arrives in the
    horizon (its ship bound is > 0); and only where U[a,t] < C[b,t].

    Validity (every integer-feasible point meets it). With activate[b] = 1 the row reads ship[a,t]
    <= U[a,t], and each term of the min bounds ship[a,t] in the model: cap[lane(a),t] is its
    column bound; the flow balance of p with buy[b,.] its only inflow and inv[p,.] >= 0 gives
    sum_{u <= t} (outflow of p in u) <= sum_{u <= t} buy[b,u] <= C[b,t]; and into a stream s the
    demand balance summed over v <= u gives arrivals + lost + backlog[s,u] = D[s,u] with all terms
    >= 0, so what arrives by u is at most D[s,u]. With activate[b] = 0, backup_activation forces
    buy[b,.] = 0, so p never holds a unit and ship[a,t] = 0. The rows are implied by the model's
    rows and integrality, so they hold in replans, under protocols and with fixings too: the
    optimum never changes.

    Where it cuts. In the relaxation the aggregate link already gives the same form with the
    aggregate big-M: sum over v <= t of buy[b,v] <= C[b,t] activate[b] bounds ship[a,t] by
    C[b,t] activate[b] (and by the column bound cap[lane(a),t]). With U[a,t] = C[b,t] the row
    repeats that, so it is written only where U[a,t] < C[b,t]; other positions of the (arc, t) grid
    are free rows without terms (not `enabled`: the family has no rows). This is the textbook
    CFLP's x_ij <= min(u_i, d_j) y_i beside sum_j x_ij <= u_i y_i: a site opened to a fraction y
    of its capacity u can no longer send a customer its whole demand d < u, which is why its
    relaxation is the stronger one.

    Worked example (`tests/test_known_answers.py::test_backup_lane_links_raise_the_cflp_bound`):
    two sites (capacity 40, opening 120), two customers of demand 10, lanes costing 1 to the near
    customer and 4 to the far one, every customer served. Without the links the relaxation opens
    each site to y = 10/40 = 0.25 and serves each customer from its near site: 2*(30 + 10) = 80.
    With ship <= 10 y on each lane a customer's 10 units need y1 + y2 >= 1 over its two lanes; at
    y1 = a, y2 = 1 - a and x = a, 1 - a of each demand the cost is 120 + 10(a + 4(1 - a)) +
    10(4a + (1 - a)) = 170 for every a, the integer optimum (one site: 120 + 10 + 40).
    """
    H, periods = net.horizon, Axis.periods(net.horizon)
    P = net.n_positions
    offer_pos = net.position_index(net.offer_node, net.offer_item)
    made_pos = net.position_index(net.recipe_node, net.recipe_item)
    origin_pos = net.position_index(net.lane_origin[net.arc_lane], net.arc_item)
    dest_pos = net.position_index(net.lane_destination[net.arc_lane], net.arc_item)
    sole = (
        (np.bincount(offer_pos[offer_pos >= 0], minlength=P) == 1)
        & (np.bincount(made_pos[made_pos >= 0], minlength=P) == 0)
        & (np.bincount(dest_pos[dest_pos >= 0], minlength=P) == 0)
        & (net.position_on_hand == 0)
        & (net.position_receipts == 0).all(axis=1)
    )
    backup = np.flatnonzero(net.offer_backup)
    backup_pos = offer_pos[backup]
    alone = sole[backup_pos]
    k_of_pos = np.full(P + 1, -1, dtype=np.int64)  # position -1 reads the last: -1
    k_of_pos[backup_pos[alone]] = np.flatnonzero(alone)
    arcs = np.flatnonzero(k_of_pos[origin_pos] >= 0)
    k = k_of_pos[origin_pos[arcs]]

    cumulative = np.cumsum(net.offer_capacity[backup[k]], axis=1)
    arrival, arrives = _arrival(net)
    ship_upper = np.where(arrives[arcs], net.lane_capacity[net.arc_lane[arcs]], 0.0)
    stream = net.demand_index(net.lane_destination[net.arc_lane[arcs]], net.arc_item[arcs])
    reach = np.full((len(arcs), H), np.inf)
    into = np.flatnonzero((stream >= 0) & (dest_pos[arcs] < 0))
    if len(into):
        owed = np.cumsum(net.demand_qty, axis=1)
        reach[into] = owed[stream[into][:, None], np.minimum(arrival[arcs[into]], H - 1)]
    coefficient = np.minimum(np.minimum(ship_upper, cumulative), reach)
    cuts = (ship_upper > 0) & (coefficient < cumulative) & enabled
    keep = np.flatnonzero(cuts.any(axis=1))
    arcs, k, coefficient, cuts = arcs[keep], k[keep], coefficient[keep], cuts[keep]

    ship, activate = b.columns("ship"), b.columns("activate")
    rows = _grid(len(arcs), H)
    b.add_constraints(
        "backup_lane_link",
        rows.shape,
        [
            (rows[cuts], ship[arcs][cuts], 1.0),
            (rows[cuts], np.broadcast_to(activate[k][:, None], cuts.shape)[cuts], -coefficient[cuts]),
        ],
        upper=np.where(cuts, 0.0, np.inf),
        axes=(Axis.of("arc", net.arc_ids(), arcs), periods),
    )


def build_model(
    net: Network,
    protocols: ProtocolSet | None = None,
    groups: Sequence[AuthorityGroup] = (),
    *,
    link_backup_flows: bool = False,
) -> LinearProgram:
    """The whole coordinated allocation model of a network, family by family; with a protocol set,
    its active authority groups (`resolve_authority`) become constraints too (`link_backup_flows`:
    the valid inequalities of `define_backup_flow_links`)."""
    b = ModelBuilder()
    define_model(b, net, protocols, groups, link_backup_flows=link_backup_flows)
    return b.build()


def define_model(
    b: ModelBuilder,
    net: Network,
    protocols: ProtocolSet | None = None,
    groups: Sequence[AuthorityGroup] = (),
    *,
    tighten_setups: bool = True,
    link_backup_flows: bool = False,
) -> None:
    """Every family of the coordinated allocation model, in order, into `b` (`tighten_setups`: the
    demand-bounded setup link of `define_production`, off in replans; `link_backup_flows`: the
    per-lane activation links of `define_backup_flow_links`, valid everywhere but off by default:
    on the facility-location benchmark they raised the root bound to the textbook model's and made
    HiGHS slower, 8.2 s against 4.6 s median, its own cuts closing the gap more cheaply)."""
    define_supplier_capacity(b, net)
    define_production(b, net, tighten_setups=tighten_setups)
    define_lane_capacity(b, net)
    define_demand(b, net)
    define_flow_balance(b, net)
    define_storage_capacity(b, net)
    define_safety_stock(b, net)
    define_working_capital(b, net)
    define_service_targets(b, net)
    define_single_sourcing(b, net)
    define_backup_flow_links(b, net, enabled=link_backup_flows)
    if protocols is not None:
        define_authority(b, net, protocols, groups)
