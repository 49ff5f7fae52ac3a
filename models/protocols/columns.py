"""The model columns each action kind acts through, read off the builder's blocks (their entity
index, never a recomputed selection), and how they are split among the active groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.builder import IntArray, VariableBlock
from models.network import FloatArray, Network, NodeRole
from models.protocols.activation import AuthorityGroup
from models.protocols.spec import ActionKind


@dataclass(frozen=True)
class ActionColumns:
    """The model columns of one action kind: spend coefficient, period (-1: not period-bound),
    the resource and item each column acts on."""

    columns: IntArray
    spend: FloatArray
    period: IntArray
    resource: npt.NDArray[np.str_]
    item: npt.NDArray[np.str_]
    unit: npt.NDArray[np.str_]
    """What each column counts: "units", "hours", "trucks", "value" or "activation"."""
    entity: IntArray
    """The index of each column's resource in the network's arrays of its kind (offer, node, lane;
    the customer node for rationing), so that `resource[k] == <kind>_ids[entity[k]]`."""


def _grid_columns(
    cols: IntArray, spend: FloatArray, entity: IntArray, resource: list[str], item: list[str], kind: str
) -> ActionColumns:
    """Flatten an (n, H) block of action columns with per-row spend, resource and item."""
    n, H = cols.shape if cols.ndim == 2 else (0, 0)
    return ActionColumns(
        columns=cols.ravel(),
        spend=np.broadcast_to(np.asarray(spend, dtype=np.float64).reshape(-1, 1), (n, H)).ravel(),
        period=np.broadcast_to(np.arange(H), (n, H)).ravel(),
        resource=np.repeat(np.asarray(resource, dtype=str), H),
        item=np.repeat(np.asarray(item, dtype=str), H),
        unit=np.full(n * H, kind),
        entity=np.repeat(np.asarray(entity, dtype=np.int64), H),
    )


def _cat(parts: Sequence[ActionColumns]) -> ActionColumns:
    return ActionColumns(
        columns=np.concatenate([p.columns for p in parts]).astype(np.int64),
        spend=np.concatenate([p.spend for p in parts]),
        period=np.concatenate([p.period for p in parts]).astype(np.int64),
        resource=np.concatenate([p.resource for p in parts]),
        item=np.concatenate([p.item for p in parts]),
        unit=np.concatenate([p.unit for p in parts]),
        entity=np.concatenate([p.entity for p in parts]).astype(np.int64),
    )


def block_columns(blocks: Mapping[str, VariableBlock], name: str, horizon: int) -> IntArray:
    """Column indices of a block shaped like it; an absent block is an empty (0, H) grid."""
    if name not in blocks:
        return np.zeros((0, horizon), dtype=np.int64)
    blk = blocks[name]
    return np.arange(blk.start, blk.start + blk.size, dtype=np.int64).reshape(blk.shape)


def _entities(blocks: Mapping[str, VariableBlock], name: str) -> IntArray:
    """The entities (offers, nodes, lanes...) a block's first axis covers; none for an absent block."""
    return blocks[name].entities() if name in blocks else np.zeros(0, dtype=np.int64)


def action_columns(blocks: Mapping[str, VariableBlock], net: Network, action: ActionKind) -> ActionColumns:
    """Every model column an action kind acts through, found from the model's variable blocks."""
    H = net.horizon
    ids = np.asarray
    columns = {
        name: block_columns(blocks, name, H) for name in ("buy", "activate", "overtime", "ship", "trucks", "lost")
    }
    if action in (ActionKind.BACKUP_ACTIVATION, ActionKind.EXPEDITED_PURCHASE):
        chosen = np.flatnonzero(net.offer_backup if action == ActionKind.BACKUP_ACTIVATION else net.offer_expedited)
        offers = [net.offer_ids[k] for k in chosen]
        items = [net.item_ids[k] for k in net.offer_item[chosen]]
        buys = _grid_columns(columns["buy"][chosen], net.offer_cost[chosen], chosen, offers, items, "units")
        if action == ActionKind.EXPEDITED_PURCHASE:
            return buys
        backup = _entities(blocks, "activate")
        activation = ActionColumns(
            columns=columns["activate"],
            spend=net.offer_activation_cost[backup],
            period=np.full(len(backup), -1, dtype=np.int64),
            resource=ids([net.offer_ids[k] for k in backup], dtype=str),
            item=ids([net.item_ids[k] for k in net.offer_item[backup]], dtype=str),
            unit=np.full(len(backup), "activation"),
            entity=backup,
        )
        return _cat([activation, buys])
    if action == ActionKind.OVERTIME:
        nodes = _entities(blocks, "overtime")
        labels = [net.node_ids[k] for k in nodes]
        cost = net.node_overtime_cost[nodes]
        return _grid_columns(columns["overtime"], cost, nodes, labels, [""] * len(labels), "hours")
    if action in (ActionKind.EXPEDITED_FREIGHT, ActionKind.REROUTING, ActionKind.LATERAL_TRANSFER):
        if action == ActionKind.EXPEDITED_FREIGHT:
            lanes = net.lane_expedited
        elif action == ActionKind.REROUTING:
            lanes = net.lane_alternate
        else:
            dc = net.node_role == NodeRole.DC
            lanes = dc[net.lane_origin] & dc[net.lane_destination]
        arcs = np.flatnonzero(lanes[net.arc_lane])
        ship = _grid_columns(
            columns["ship"][arcs],
            net.lane_cost[net.arc_lane[arcs]],
            net.arc_lane[arcs],
            [net.lane_ids[k] for k in net.arc_lane[arcs]],
            [net.item_ids[k] for k in net.arc_item[arcs]],
            "units",
        )
        trucked = _entities(blocks, "trucks")
        rows = np.flatnonzero(lanes[trucked])
        with_trucks = trucked[rows]
        trucks = _grid_columns(
            columns["trucks"][rows],
            net.lane_truck_cost[with_trucks],
            with_trucks,
            [net.lane_ids[k] for k in with_trucks],
            [""] * len(with_trucks),
            "trucks",
        )
        return _cat([ship, trucks])
    if action == ActionKind.RATIONING:
        streams = np.flatnonzero(net.demand_priority >= 2)
        return _grid_columns(
            columns["lost"][streams],
            net.demand_price[streams] + net.demand_lost_penalty[streams],
            net.demand_node[streams],
            [net.node_ids[k] for k in net.demand_node[streams]],
            [net.item_ids[k] for k in net.demand_item[streams]],
            "units",
        )
    if action == ActionKind.WORKING_CAPITAL_RELEASE:
        release = block_columns(blocks, "capital_release", H)
        n = len(release)
        rate = np.full(n, net.capital_cost_rate)
        return _grid_columns(release, rate, np.zeros(n, dtype=np.int64), ["network"] * n, [""] * n, "value")
    raise ValueError(f"unknown action kind {action!r}")


def covered_entities(group: AuthorityGroup, cols: ActionColumns, net: Network) -> npt.NDArray[np.bool_]:
    """Which of an action kind's columns a group's rule covers, by resource and item scope.

    A column without an item (trucks, overtime hours, released capital) is in an item scope when
    its lane carries, or its node makes, one of the scoped items; released capital always is.
    """
    rule = group.rule
    keep = np.ones(len(cols.columns), dtype=bool)
    if rule.resources:
        keep &= np.isin(cols.resource, rule.resources)
    if rule.items:
        scoped = np.isin(np.asarray(net.item_ids, dtype=str), rule.items)
        carriers = {net.lane_ids[k] for k in net.arc_lane[scoped[net.arc_item]]}
        carriers |= {net.node_ids[k] for k in net.recipe_node[scoped[net.recipe_item]]}
        carriers.add("network")
        blank = cols.item == ""
        keep &= np.where(blank, np.isin(cols.resource, sorted(carriers)), np.isin(cols.item, rule.items))
    return keep


@dataclass(frozen=True)
class GroupColumns:
    """The columns each authority group governs, after precedence: a column belongs to the first
    active group (signal-activated before standing, then file order) whose scope covers it."""

    group: AuthorityGroup
    columns: ActionColumns


def assign_columns(
    groups: Sequence[AuthorityGroup],
    blocks: Mapping[str, VariableBlock],
    net: Network,
    governed: frozenset[ActionKind],
) -> tuple[list[GroupColumns], IntArray]:
    """Split each governed action kind's columns among the active groups; the rest are unauthorized."""
    out: list[GroupColumns] = []
    unauthorized: list[IntArray] = []
    for action in sorted(governed, key=lambda a: a.value):
        cols = action_columns(blocks, net, action)
        free = np.ones(len(cols.columns), dtype=bool)
        for group in groups:
            if group.rule.action != action:
                continue
            mine = free & covered_entities(group, cols, net)
            free &= ~mine
            out.append(GroupColumns(group, _subset(cols, mine)))
        unauthorized.append(cols.columns[free])
    none = np.zeros(0, dtype=np.int64)
    return out, (np.concatenate(unauthorized).astype(np.int64) if unauthorized else none)


def _subset(cols: ActionColumns, mask: npt.NDArray[np.bool_]) -> ActionColumns:
    return ActionColumns(
        cols.columns[mask],
        cols.spend[mask],
        cols.period[mask],
        cols.resource[mask],
        cols.item[mask],
        cols.unit[mask],
        cols.entity[mask],
    )
