"""Replanning: a baseline plan and new signals in, a stable replan model out: the stability
penalty, the frozen fence, the signal's reach (for a fast first answer), and the rolling horizon.

The replan model is the allocation model of the network as the signals leave it, plus:
  change_<block>[k,t] >= |x[k,t] - x0[k,t]| for the decisions people execute (buy, make, ship),
  charged w_f * stability_weight * decay^t (component "stability"): near-term changes cost more;
  x[k,t] <= x0[k,t] inside the fence t < F, every unit cut below the baseline charged
  fence_penalty (component "fence"), so a fenced decision changes only when a signal forces it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from models.allocation import LOGISTICS, PROCUREMENT, PRODUCTION, define_model
from models.builder import IntArray, LinearProgram, ModelBuilder
from models.errors import ValidationError
from models.network import BoolArray, FloatArray, InTransit, Network, NetworkSpec, Stock
from models.plan import Plan, Table
from models.protocols import AuthorityGroup, ProtocolSet
from models.signals import Signal, SignalType, coverage

STABILITY = "stability"
FENCE = "fence"
DECISION_BLOCKS: dict[str, str] = {"buy": PROCUREMENT, "make": PRODUCTION, "ship": LOGISTICS}
"""The decisions people execute, watched by the stability penalty and the fence, and their owners."""


@dataclass(frozen=True, kw_only=True)
class ReplanOptions:
    """How a replan trades cost against churn, and how fast the first answer comes."""

    stability_weight: float = 1.0
    """Cost per unit changed against the baseline in period 0 (before function weights and decay);
    0 makes the replan a cold solve of the disrupted network."""
    procurement_weight: float = 1.0
    production_weight: float = 1.0
    logistics_weight: float = 1.0
    decay: float = 0.7
    """Weight factor per period: a change t periods out costs decay^t of a change now."""
    fence_periods: int = 0
    """Decisions in the first F periods keep their baseline value unless a signal forces a cut."""
    fence_penalty: float = 1e4
    """Cost per unit a fenced decision is cut below its baseline value."""
    upstream_hops: int = 2
    """How far upstream of the disrupted flows the first answer may re-source."""
    recovery_periods: int = 2
    """Periods after the disruption has travelled through the network in which the first answer
    may still move decisions (to rebuild stock and clear backlog); later ones keep the baseline's."""
    first_answer_gap: float = 0.01
    """Relative MIP gap the first answer stops at (the request's gap where that is looser): it is a
    fast coordinated plan and the final replan's start, not the proof. A reach model with most
    decisions free can take far longer to prove a tight gap than the full model (an S regional surge
    under a 0.1% gap: 2.6 s against 0.46 s; 0.12 s to 1%)."""

    def __post_init__(self) -> None:
        for name in ("stability_weight", "procurement_weight", "production_weight", "logistics_weight"):
            value = getattr(self, name)
            if math.isnan(value) or value < 0 or math.isinf(value):
                raise ValidationError("replan options", "options", name, f"is {value}; it must be finite and >= 0")
        if not 0 < self.decay <= 1:
            raise ValidationError("replan options", "options", "decay", f"is {self.decay}; it must lie in (0, 1]")
        for name in ("fence_periods", "upstream_hops", "recovery_periods"):
            value = getattr(self, name)
            if not (isinstance(value, int | np.integer) and not isinstance(value, bool)) or value < 0:
                raise ValidationError(
                    "replan options", "options", name, f"is {value!r}; it must be a whole number >= 0"
                )
        if not 0 <= self.first_answer_gap < 1:
            raise ValidationError(
                "replan options", "options", "first_answer_gap", f"is {self.first_answer_gap}; it must lie in [0, 1)"
            )
        if not (self.fence_penalty > 0 and math.isfinite(self.fence_penalty)):
            raise ValidationError("replan options", "options", "fence_penalty", "must be a finite number > 0")

    def weight(self, function: str) -> float:
        return {PROCUREMENT: self.procurement_weight, PRODUCTION: self.production_weight}.get(
            function, self.logistics_weight
        )


# ---------------------------------------------------------------------------------------------
# The baseline's decisions
# ---------------------------------------------------------------------------------------------


def _lookup(ids: Sequence[str], wanted: npt.NDArray[np.str_]) -> IntArray:
    """Index of each wanted id in `ids`, -1 where it is not there."""
    table = {ident: k for k, ident in enumerate(ids)}
    return np.array([table.get(str(w), -1) for w in wanted], dtype=np.int64)


def _dense(table: Table, keys: IntArray, n: int, horizon: int) -> FloatArray:
    out = np.zeros((n, horizon))
    if len(table):
        period = np.asarray(table.columns["period"], dtype=np.int64)
        ok = (keys >= 0) & (period >= 0) & (period < horizon)
        np.add.at(out, (keys[ok], period[ok]), np.asarray(table.columns["quantity"], dtype=np.float64)[ok])
    return out


def baseline_decisions(net: Network, plan: Plan) -> dict[str, FloatArray]:
    """The baseline's buy (O, H), make (R, H) and ship (A, H) on `net`, read from the plan's tables
    by id, so a plan read back from the ledger works as well as a fresh one. Rows naming an entity
    the network no longer has are dropped."""
    H = net.horizon
    buy = _dense(
        plan.purchases, _lookup(net.offer_ids, plan.purchases.columns.get("offer", np.zeros(0))), net.n_offers, H
    )
    make = _dense(
        plan.production, _lookup(net.recipe_ids, plan.production.columns.get("recipe", np.zeros(0))), net.n_recipes, H
    )
    arcs = plan.shipments.columns
    arc_keys = np.char.add(
        np.char.add(np.asarray(arcs.get("lane", np.zeros(0)), dtype=str), "/"),
        np.asarray(arcs.get("item", np.zeros(0)), dtype=str),
    )
    ship = _dense(plan.shipments, _lookup(net.arc_ids(), arc_keys), net.n_arcs, H)
    return {"buy": buy, "make": make, "ship": ship}


# ---------------------------------------------------------------------------------------------
# Stability and the fence
# ---------------------------------------------------------------------------------------------


def define_stability(b: ModelBuilder, net: Network, baseline: Mapping[str, FloatArray], options: ReplanOptions) -> None:
    """Deviation from the baseline of each executed decision, weighted by function and time:

    x[k,t] - change[k,t] <= x0[k,t]                      (change_<block>_up)
    x[k,t] + change[k,t] >= x0[k,t]                      (change_<block>_down)
    cost  stability_weight * w_f * decay^t * change[k,t]   (stability)
    """
    if options.stability_weight == 0:
        return
    decay = options.decay ** np.arange(net.horizon)
    for block, function in DECISION_BLOCKS.items():
        x = b.columns(block)
        x0 = baseline[block]
        change = b.add_variables(f"change_{block}", x.shape, axes=b.variables[block].axes)
        rows = np.arange(x.size, dtype=np.int64).reshape(x.shape)
        b.add_constraints(
            f"change_{block}_up",
            x.shape,
            [(rows, x, 1.0), (rows, change, -1.0)],
            upper=x0,
            axes=b.variables[block].axes,
        )
        b.add_constraints(
            f"change_{block}_down",
            x.shape,
            [(rows, x, 1.0), (rows, change, 1.0)],
            lower=x0,
            axes=b.variables[block].axes,
        )
        b.add_cost(STABILITY, change, options.stability_weight * options.weight(function) * decay[None, :])


def define_fence(b: ModelBuilder, net: Network, baseline: Mapping[str, FloatArray], options: ReplanOptions) -> None:
    """The frozen fence: for t < F, x[k,t] <= x0[k,t] and each unit below x0 costs fence_penalty:

        cost  fence_penalty * (x0[k,t] - x[k,t])      (fence; written as a constant and -penalty * x)

    A signal that lowers a bound below x0 cuts the decision to what is possible; nothing else does,
    unless keeping it would break a hard constraint."""
    F = min(options.fence_periods, net.horizon)
    if F == 0:
        return
    for block in DECISION_BLOCKS:
        cols = b.columns(block)[:, :F]
        x0 = baseline[block][:, :F]
        b.restrict_upper(cols, x0)
        b.add_cost(FENCE, cols, -options.fence_penalty, constant=options.fence_penalty * float(x0.sum()))


# ---------------------------------------------------------------------------------------------
# The signal's reach
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """What a set of signals can affect: stock positions, demand streams, the decisions on them,
    and the periods in which those decisions may move."""

    positions: BoolArray
    demands: BoolArray
    offers: BoolArray
    recipes: BoolArray
    arcs: BoolArray
    periods: BoolArray
    """Shape (H,): from the horizon's start (a response may act before a window opens) until the
    signals' effects have travelled downstream, plus the recovery periods; every period when the
    reach is not limited in time."""

    def movable(self) -> dict[str, BoolArray]:
        """Per decision block (buy, make, ship), the (entity, period) cells the first answer may move."""
        entities = {"buy": self.offers, "make": self.recipes, "ship": self.arcs}
        return {block: mask[:, None] & self.periods[None, :] for block, mask in entities.items()}

    def share(self) -> float:
        """Share of the executed decisions (offers, recipes, arcs, each per period) inside the reach."""
        cells = self.movable().values()
        total = sum(m.size for m in cells)
        return sum(int(m.sum()) for m in cells) / total if total else 0.0


def _flow_edges(net: Network) -> tuple[IntArray, IntArray, IntArray]:
    """Directed edges over P stock positions then S demand streams, with their lead time in
    periods: lanes carry an item from one position to the next (or to a stream) in the lane's lead
    time plus its longest signalled delay; bills of materials turn an input position into the
    output position at the same node, in the same period."""
    P = net.n_positions
    origin = net.position_index(net.lane_origin[net.arc_lane], net.arc_item)
    dest_pos = net.position_index(net.lane_destination[net.arc_lane], net.arc_item)
    dest_stream = net.demand_index(net.lane_destination[net.arc_lane], net.arc_item)
    dest = np.where(dest_pos >= 0, dest_pos, P + dest_stream)
    lane_lead = net.lane_lead_time + (net.lane_delay.max(axis=1) if net.horizon else 0)
    bom_in = net.position_index(net.recipe_node[net.bom_recipe], net.bom_item)
    bom_out = net.position_index(net.recipe_node[net.bom_recipe], net.recipe_item[net.bom_recipe])
    src = np.concatenate([origin, bom_in])
    dst = np.concatenate([dest, bom_out])
    lead = np.concatenate([lane_lead[net.arc_lane], np.zeros(len(bom_in), dtype=np.int64)])
    keep = (src >= 0) & (dst >= 0)
    return src[keep], dst[keep], lead[keep].astype(np.int64)


SHORTAGE_SIGNALS = (SignalType.DEMAND_CHANGE, SignalType.ORDER_CHANGE, SignalType.INVENTORY_ADJUSTMENT)
"""Signals that open a gap at the point they hit (more demand, held or lost stock): filling it may
take any tier of that point's supply tree."""


def _seeds(net: Network, signals: Sequence[Signal]) -> BoolArray:
    """The positions and streams each signal hits directly."""
    P = net.n_positions
    seeds = np.zeros(P + net.n_demands, dtype=bool)
    node_ids = np.asarray(net.node_ids)
    item_ids = np.asarray(net.item_ids)
    for s in signals:
        item_ok_pos = (item_ids[net.position_item] == s.item) if s.item else np.ones(P, dtype=bool)
        item_ok_dem = (item_ids[net.demand_item] == s.item) if s.item else np.ones(net.n_demands, dtype=bool)
        if s.type == SignalType.SUPPLIER_OUTAGE:
            seeds[:P] |= (node_ids[net.position_node] == s.supplier) & item_ok_pos
        elif s.type in (SignalType.DEMAND_CHANGE, SignalType.ORDER_CHANGE):
            seeds[P:] |= (node_ids[net.demand_node] == s.customer) & item_ok_dem
        elif s.type in (SignalType.CAPACITY_LOSS, SignalType.INVENTORY_ADJUSTMENT):
            seeds[:P] |= (node_ids[net.position_node] == s.node) & item_ok_pos
        elif s.type in (SignalType.LANE_DISRUPTION, SignalType.LEAD_TIME_CHANGE):
            arcs = np.flatnonzero(np.asarray(net.lane_ids)[net.arc_lane] == s.lane)
            origin = net.position_index(net.lane_origin[net.arc_lane[arcs]], net.arc_item[arcs])
            dest = net.position_index(net.lane_destination[net.arc_lane[arcs]], net.arc_item[arcs])
            stream = net.demand_index(net.lane_destination[net.arc_lane[arcs]], net.arc_item[arcs])
            seeds[origin[origin >= 0]] = True
            seeds[dest[dest >= 0]] = True
            seeds[P + stream[stream >= 0]] = True
    return seeds


def window_end(net: Network, signals: Sequence[Signal]) -> int:
    """The period after the last one any signal's window covers (the horizon if none ends inside it)."""
    covered = np.zeros(net.horizon, dtype=bool)
    for s in signals:
        covered |= coverage(net, s) > 0
    hit = np.flatnonzero(covered)
    return int(hit[-1]) + 1 if hit.size else net.horizon


def signal_reach(
    net: Network, signals: Sequence[Signal], *, upstream_hops: int = 2, recovery_periods: int | None = None
) -> Reach:
    """What the signals can affect: every position and stream downstream of what they hit (the
    disruption propagates through lanes and bills of materials), plus `upstream_hops` steps
    upstream (where the response can re-source), plus the whole supply tree upstream of what a
    `SHORTAGE_SIGNALS` signal hits (filling a gap in a DC's stock or a customer's demand may take
    more of every tier feeding it, which a fixed number of steps would cut off). Decisions in
    reach: offers selling into a reached position, recipes making one, arcs leaving or entering one.

    In time, with `recovery_periods` given: the periods before

        window_end + delay + recovery_periods

    where `window_end` is the period after the last one a signal's window covers and `delay` the
    longest lead time by which the disruption reaches a downstream position or stream (summed
    along the lanes by which the closure first reaches it). Later decisions keep the baseline's
    values: by then the disruption has passed through the network and the network has had
    `recovery_periods` to rebuild stock and clear backlog. None: every period.
    """
    src, dst, lead = _flow_edges(net)
    n = net.n_positions + net.n_demands
    graph = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    reached = _seeds(net, signals)
    delay = np.where(reached, 0, -1)
    frontier = reached.copy()
    while frontier.any():  # downstream closure, one step of every edge leaving the frontier at a time
        out = frontier[src]
        np.maximum.at(delay, dst[out], delay[src[out]] + lead[out])
        step = np.zeros(n, dtype=bool)
        step[dst[out]] = True
        frontier = step & ~reached
        reached |= step
    for _ in range(upstream_hops):
        reached |= (graph @ reached.astype(np.float64)) > 0
    tree = _seeds(net, [s for s in signals if s.type in SHORTAGE_SIGNALS])
    frontier = tree.copy()
    while frontier.any():  # upstream closure, one step of every edge entering the frontier at a time
        step = (graph @ frontier.astype(np.float64)) > 0
        frontier = step & ~tree
        tree |= step
    reached |= tree
    periods = np.ones(net.horizon, dtype=bool)
    if recovery_periods is not None:
        periods = np.arange(net.horizon) < window_end(net, signals) + int(delay.max(initial=0)) + recovery_periods
    P = net.n_positions
    positions, demands = reached[:P], reached[P:]
    offers = positions[net.position_index(net.offer_node, net.offer_item)]
    recipes = positions[net.position_index(net.recipe_node, net.recipe_item)]
    origin = net.position_index(net.lane_origin[net.arc_lane], net.arc_item)
    dest_pos = net.position_index(net.lane_destination[net.arc_lane], net.arc_item)
    dest_stream = net.demand_index(net.lane_destination[net.arc_lane], net.arc_item)
    arcs = (
        ((origin >= 0) & positions[np.maximum(origin, 0)])
        | ((dest_pos >= 0) & positions[np.maximum(dest_pos, 0)])
        | ((dest_stream >= 0) & demands[np.maximum(dest_stream, 0)])
    )
    return Reach(positions, demands, offers, recipes, arcs, periods)


def define_outside_reach_fixed(b: ModelBuilder, baseline: Mapping[str, FloatArray], reach: Reach) -> None:
    """Decisions outside the reach keep their baseline values (clipped into their new bounds)."""
    for block, movable in reach.movable().items():
        b.fix(b.columns(block)[~movable], baseline[block][~movable])


# ---------------------------------------------------------------------------------------------
# The replan model
# ---------------------------------------------------------------------------------------------


def build_replan_model(
    net: Network,
    baseline: Mapping[str, FloatArray],
    options: ReplanOptions,
    *,
    protocols: ProtocolSet | None = None,
    groups: Sequence[AuthorityGroup] = (),
    reach: Reach | None = None,
) -> LinearProgram:
    """The replan model of `net` (the network as the signals leave it): the allocation model with
    its protocols, the stability penalty and the fence; with `reach`, decisions outside it are fixed
    to the baseline (the first answer's smaller model)."""
    for block, shape in (
        ("buy", net.offer_capacity.shape),
        ("make", (net.n_recipes, net.horizon)),
        ("ship", (net.n_arcs, net.horizon)),
    ):
        if baseline[block].shape != shape:
            raise ValidationError("replan", "baseline", block, f"has shape {baseline[block].shape}, not {shape}")
    b = ModelBuilder()
    define_model(b, net, protocols, groups)
    define_stability(b, net, baseline, options)
    define_fence(b, net, baseline, options)
    if reach is not None:
        define_outside_reach_fixed(b, baseline, reach)
    return b.build()


@dataclass(frozen=True)
class FenceCut:
    """A fenced decision a signal forced below its baseline value."""

    block: str
    resource: str
    period: int
    baseline: float
    replanned: float
    reason: str


def fence_cuts(
    before: Network,
    after: Network,
    lp: LinearProgram,
    x: FloatArray,
    baseline: Mapping[str, FloatArray],
    options: ReplanOptions,
    signals: Sequence[Signal],
    *,
    tol: float = 1e-6,
) -> list[FenceCut]:
    """Every fenced decision below its baseline, and why: the signals that lowered that resource's
    capacity in that period, or the knock-on effect of the signals when none did directly."""
    F = min(options.fence_periods, after.horizon)
    names = {"buy": after.offer_ids, "make": after.recipe_ids, "ship": tuple(after.arc_ids())}
    bound_before = {"buy": before.offer_capacity, "ship": before.lane_capacity[before.arc_lane]}
    bound_after = {"buy": after.offer_capacity, "ship": after.lane_capacity[after.arc_lane]}
    direct = ", ".join(s.id for s in signals)
    cuts: list[FenceCut] = []
    for block in DECISION_BLOCKS:
        values = lp.values(x, block)[:, :F]
        x0 = baseline[block][:, :F]
        for k, t in zip(*np.nonzero(values < x0 - tol * np.maximum(1.0, x0))):
            lowered = block in bound_after and bound_after[block][k, t] < bound_before[block][k, t] - tol
            reason = (
                f"capacity cut to {bound_after[block][k, t]:g} by signals {direct}"
                if lowered
                else f"knock-on effect of signals {direct}"
            )
            cuts.append(FenceCut(block, names[block][k], int(t), float(x0[k, t]), float(values[k, t]), reason))
    return cuts


# ---------------------------------------------------------------------------------------------
# The rolling horizon
# ---------------------------------------------------------------------------------------------


def advance(spec: NetworkSpec, plan: Plan, periods: int) -> NetworkSpec:
    """The network `periods` periods later, the plan's first periods executed: stock at the end of
    period k-1 becomes on hand, shipments still under way become in-transit receipts (at
    customers: deliveries that serve the oldest units owed), what customers are owed joins the first
    period's demand, and demand moves forward. The horizon shrinks by `periods`; a lane slower than
    the remaining horizon is left out."""
    k = periods
    H = spec.horizon
    if not 0 < k < H:
        raise ValidationError("advance", spec.name, "periods", f"is {k}; it must lie in 1..{H - 1}")
    if not plan.has_solution:
        raise ValidationError("advance", spec.name, "plan", "has no solution to execute")
    inv = plan.inventory.rows()
    on_hand: dict[tuple[str, str], float] = {}
    for row in inv:
        if row["period"] == k - 1:
            on_hand[(row["node"], row["item"])] = float(row["quantity"])
    customers = {d.customer for d in spec.demands}
    receipts: dict[tuple[str, str, int], float] = {}
    delivered_later: dict[tuple[str, str, int], float] = {}
    for row in plan.shipments.rows():
        if row["period"] < k <= row["arrival"] < H:
            key = (row["destination"], row["item"], int(row["arrival"]) - k)
            target = delivered_later if row["destination"] in customers else receipts
            target[key] = target.get(key, 0.0) + float(row["quantity"])
    for rc in spec.in_transit:
        if rc.period >= k:
            key = (rc.node, rc.item, rc.period - k)
            receipts[key] = receipts.get(key, 0.0) + rc.quantity
    owed = {(r["customer"], r["item"]): float(r["quantity"]) for r in plan.backlog.rows() if r["period"] == k - 1}
    demands = []
    for d in spec.demands:
        q = list(d.quantity) + [0.0] * (H - len(d.quantity))
        ahead = q[k:]
        ahead[0] += owed.get((d.customer, d.item), 0.0)
        # A delivery under way serves the oldest units owed first (what is owed now, then each
        # period's demand in turn), as the demand balance does.
        under_way = sum(v for (c, i, _), v in delivered_later.items() if (c, i) == (d.customer, d.item))
        for t in range(len(ahead)):
            served = min(ahead[t], under_way)
            ahead[t] -= served
            under_way -= served
        demands.append(replace(d, quantity=tuple(ahead)))
    stocks = {(s.node, s.item): s for s in spec.stocks}
    new_stocks = [replace(s, on_hand=on_hand.get((s.node, s.item), 0.0)) for s in spec.stocks]
    new_stocks += [Stock(n, i, on_hand=q) for (n, i), q in on_hand.items() if (n, i) not in stocks and q > 0]
    return replace(
        spec,
        horizon=H - k,
        demands=tuple(demands),
        stocks=tuple(new_stocks),
        in_transit=tuple(InTransit(n, i, t, q) for (n, i, t), q in sorted(receipts.items()) if q > 0),
        # A lane slower than the remaining horizon can deliver nothing in it: it is left out.
        lanes=tuple(ln for ln in spec.lanes if ln.lead_time < H - k),
    )
