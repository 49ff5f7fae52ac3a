"""The target language of scenario signals: selectors that choose an entity by role and rank,
resolved against the generated network (never against a solved plan, so resolution does not move
with the solver), and the scenario's signals built from them.

  tier1:K / tier2:K        the K-th supplier of that tier among those with a regular (not backup,
                           not expedited) offer, ranked by that offer capacity over the horizon
  tier1:backed:K (tier2)   ... only suppliers with a regular offer for an item a backup offer at
                           another supplier also sells (an outage a backup can bridge)
  tier1:sole:K (tier2)     ... only suppliers that are the only regular source of some item
                           (a failure no second source absorbs: it propagates through the BOMs)
  plant:K                  plants ranked by regular production hours over the horizon
  dc:K                     DCs ranked by stock on hand
  customer:K               customer zones ranked by demand over the horizon
  region:K                 every customer zone a lane from dc:K serves (one signal per zone)
  detoured:K               regular lanes that have an alternate (detour) lane between the same two
                           nodes, ranked by capacity over the horizon
  id:X                     the entity X itself

Every ranking is descending, ties broken by id ascending; K counts from 0. An inventory
adjustment's `item` may be `stock:K` (the K-th largest stock on hand at the resolved node) and
its quantity `hold_share` (a quality hold of that share of the stock on hand) instead of
`magnitude`. Signal ids are `<scenario>-<k>` (`-<zone>` appended for a region).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from benchmarks.suite.scenarios import Scenario, ScenarioError
from models.network import Network, NodeRole
from models.signal_kinds import SIGNAL_KINDS
from models.signals import Signal, SignalType


def _ranked(ids: tuple[str, ...], candidates: Iterable[int], score: np.ndarray) -> list[int]:
    """Candidates by score descending, ties by id ascending."""
    return sorted(candidates, key=lambda n: (-float(score[n]), ids[n]))


def _finite(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, 0.0)


def rank_targets(net: Network, kind: str, qualifier: str = "") -> list[str]:
    """Every entity of a selector's kind (and qualifier), best first (the module docstring's rules)."""
    role, ids = net.node_role, net.node_ids
    if kind in ("tier1", "tier2"):
        tier = int(kind[-1])
        regular = ~net.offer_backup & ~net.offer_expedited
        capacity = np.bincount(
            net.offer_node[regular],
            weights=_finite(net.offer_capacity[regular]).sum(axis=1),
            minlength=net.n_nodes,
        )
        candidates = {int(n) for n in net.offer_node[regular] if net.node_tier[n] == tier}
        if qualifier == "backed":
            candidates = {
                n
                for n in candidates
                for o in np.flatnonzero(regular & (net.offer_node == n))
                if (net.offer_backup & (net.offer_item == net.offer_item[o]) & (net.offer_node != n)).any()
            }
        elif qualifier == "sole":
            candidates = {
                n
                for n in candidates
                for o in np.flatnonzero(regular & (net.offer_node == n))
                if not (regular & (net.offer_item == net.offer_item[o]) & (net.offer_node != n)).any()
            }
        elif qualifier:
            raise ScenarioError(f"target {kind}:{qualifier}: unknown qualifier {qualifier!r}; use 'backed' or 'sole'")
        return [ids[n] for n in _ranked(ids, candidates, capacity)]
    if kind == "plant":
        hours = _finite(net.node_regular_hours).sum(axis=1)
        return [ids[n] for n in _ranked(ids, np.flatnonzero(role == NodeRole.PLANT), hours)]
    if kind == "dc":
        stock = np.bincount(net.position_node, weights=net.position_on_hand, minlength=net.n_nodes)
        return [ids[n] for n in _ranked(ids, np.flatnonzero(role == NodeRole.DC), stock)]
    if kind == "customer":
        demand = np.bincount(net.demand_node, weights=net.demand_qty.sum(axis=1), minlength=net.n_nodes)
        return [ids[n] for n in _ranked(ids, np.flatnonzero(role == NodeRole.CUSTOMER), demand)]
    if kind == "detoured":
        pairs = {
            (int(net.lane_origin[lane]), int(net.lane_destination[lane])) for lane in np.flatnonzero(net.lane_alternate)
        }
        detoured = [
            lane
            for lane in range(net.n_lanes)
            if not net.lane_alternate[lane]
            and not net.lane_expedited[lane]
            and (int(net.lane_origin[lane]), int(net.lane_destination[lane])) in pairs
        ]
        capacity = _finite(net.lane_capacity).sum(axis=1)
        return [net.lane_ids[lane] for lane in _ranked(net.lane_ids, detoured, capacity)]
    raise ScenarioError(
        f"target kind {kind!r} is unknown; use tier1, tier2, plant, dc, customer, region, detoured or id"
    )


def resolve_target(net: Network, selector: str) -> list[str]:
    """The entity ids a selector names (several only for a region)."""
    kind, _, rest = selector.partition(":")
    if kind == "id":
        return [rest]
    *head, rank_text = selector.split(":")
    try:
        rank = int(rank_text)
    except ValueError as err:
        raise ScenarioError(f"target {selector!r}: the last part must be a rank (0, 1, ...)") from err
    if kind == "region":
        dc = resolve_target(net, f"dc:{rank}")[0]
        node = net.node_ids.index(dc)
        served = {
            int(net.lane_destination[lane])
            for lane in np.flatnonzero(net.lane_origin == node)
            if net.node_role[net.lane_destination[lane]] == NodeRole.CUSTOMER
        }
        return sorted(net.node_ids[n] for n in served)
    if len(head) > 2:
        raise ScenarioError(f"target {selector!r}: use KIND:RANK or KIND:QUALIFIER:RANK")
    ranked = rank_targets(net, kind, head[1] if len(head) == 2 else "")
    if rank >= len(ranked):
        raise ScenarioError(f"target {selector!r}: only {len(ranked)} candidates on network {net.spec.name!r}")
    return [ranked[rank]]


TARGET_FIELD = {kind: entry.location for kind, entry in SIGNAL_KINDS.items()}
"""The `Signal` field a resolved target fills, per signal kind (its registry location)."""


def resolve_signals(scenario: Scenario, net: Network) -> list[Signal]:
    """The scenario's signals against one generated network (module docstring)."""
    signals: list[Signal] = []
    for k, raw in enumerate(scenario.signals):
        kind = SignalType(raw["type"])
        targets = resolve_target(net, str(raw["target"]))
        for target in targets:
            item = str(raw.get("item", ""))
            magnitude = float(raw.get("magnitude", 0.0))
            if item.startswith("stock:"):
                node = net.node_ids.index(target)
                positions = np.flatnonzero(net.position_node == node)
                order = sorted(
                    positions, key=lambda p: (-float(net.position_on_hand[p]), net.item_ids[net.position_item[p]])
                )
                position = order[int(item.split(":")[1])]
                item = net.item_ids[net.position_item[position]]
                if "hold_share" in raw:
                    magnitude = -float(raw["hold_share"]) * float(net.position_on_hand[position])
            suffix = f"-{target}" if len(targets) > 1 else ""
            fields: dict[str, Any] = {
                "detected_hours": float(raw.get("detected_hours", 0.0)),
                "start_hours": float(raw.get("start_hours", 0.0)),
                "duration_hours": float(raw.get("duration_hours", math.inf)),
                "magnitude": magnitude,
                "delay_hours": float(raw.get("delay_hours", 0.0)),
                "item": item,
                TARGET_FIELD[kind]: target,
            }
            signals.append(Signal(f"{scenario.name}-{k}{suffix}", kind, **fields))
    return signals
