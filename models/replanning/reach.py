"""The signals' reach: the stock positions, demand streams and decisions a set of signals can
affect, and the periods in which the first answer may move them; outside it, the baseline holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from models.builder import IntArray, ModelBuilder
from models.network import BoolArray, FloatArray, Network
from models.signal_kinds import SIGNAL_KINDS, signal_kind
from models.signals import Signal, coverage


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

    def outside(self, net: Network) -> dict[str, BoolArray]:
        """Per state block (`models.replanning.baseline_state`), the entities outside the reach:
        positions for inv and short (short over the positions with a safety stock), demand streams
        for backlog and lost. A first answer that keeps their state pins the decisions in the reach
        that touch them too (a reached DC's shipments to a customer outside it, say), unless the
        entity's other flows make room: the reach's edge then runs as the baseline planned it."""
        safety = np.flatnonzero(net.position_safety_stock > 0)
        return {
            "inv": ~self.positions,
            "short": ~self.positions[safety],
            "backlog": ~self.demands,
            "lost": ~self.demands,
        }

    def outside_cells(self, net: Network) -> int:
        """How many (entity, period) cells of state `outside` names: what a first answer that keeps
        the state outside the reach fixes beyond its decisions."""
        return sum(int(mask.sum()) for mask in self.outside(net).values()) * net.horizon

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


SHORTAGE_SIGNALS = tuple(kind.type for kind in SIGNAL_KINDS.values() if kind.opens_shortage)
"""Signals that open a gap at the point they hit (more demand, held or lost stock): filling it may
take any tier of that point's supply tree (`SignalKind.opens_shortage`)."""


def _seeds(net: Network, signals: Sequence[Signal]) -> BoolArray:
    """The positions and streams each signal hits directly (its kind's `seeds`), shape (P + S,)."""
    seeds = np.zeros(net.n_positions + net.n_demands, dtype=bool)
    for s in signals:
        seeds |= signal_kind(s).seeds(net, s)
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
    for _ in range(upstream_hops):  # stops at the fixed point: a hop that adds nothing adds nothing again
        wider = reached | ((graph @ reached.astype(np.float64)) > 0)
        if np.array_equal(wider, reached):
            break
        reached = wider
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


def define_outside_reach_fixed(
    b: ModelBuilder,
    net: Network,
    baseline: Mapping[str, FloatArray],
    reach: Reach,
    state: Mapping[str, FloatArray] | None = None,
) -> None:
    """Decisions outside the reach keep their baseline values (clipped into their new bounds).

    With `state` (`models.replanning.baseline_state`), the positions and streams outside the reach
    keep the baseline's stock, safety shortfall, backlog and lost sales in every period too: the
    network beyond the reach runs as the baseline planned it. A decision in the reach that touches
    such a position (an arc from a reached supplier into it, say) can then move only where the
    position's other flows make room. Without it those state columns stay free in every period and
    tie the whole horizon's balances into the first answer's LP. On the suite's regional surge at L
    (HiGHS 1.16.0, 1 thread) presolve left 142,675 columns with them free and 67,301 with them
    kept, and the first answer through `solver.planner.replan` took 4.1 s against 18.7 s at weight
    0 and 14.1 s against 57.1 s at weight 1, a plan 0.04% and 0.02% dearer (at M 1.4 s against
    2.8 s, 0.18% dearer, so `solver.planner.replan` keeps the state only on networks as large as
    L: `KEEP_STATE_CELLS`). The values come from a solved plan, so the balances they close hold
    within HiGHS's tolerance (at worst 7e-11 on those networks). Where a row they fill breaks a
    rule the baseline did not face (an authority limit a signal brings, say), the model has no
    plan, and `solver.planner.replan` frees the state before it widens the reach.
    """
    for block, movable in reach.movable().items():
        b.fix(b.columns(block)[~movable], baseline[block][~movable])
    if state is not None:
        for block, outside in reach.outside(net).items():
            b.fix(b.columns(block)[outside], state[block][outside])
