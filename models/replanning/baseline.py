"""The baseline plan's executed decisions (buy, make, ship) as dense arrays on a network, the
starting point the stability penalty, the fence and the reach measure a replan against; and its
state (stock, safety shortfall, backlog, lost sales), which a first answer may keep outside its
reach."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.allocation import LOGISTICS, PROCUREMENT, PRODUCTION
from models.builder import IntArray
from models.network import FloatArray, Network
from models.plan import Plan, Table

DECISION_BLOCKS: dict[str, str] = {"buy": PROCUREMENT, "make": PRODUCTION, "ship": LOGISTICS}
"""The decisions people execute, watched by the stability penalty and the fence, and their owners."""


def _lookup(ids: Sequence[str], wanted: npt.NDArray[np.str_]) -> IntArray:
    """Index of each wanted id in `ids` (unique), -1 where it is not there."""
    known = np.asarray(ids, dtype=str)
    wanted = np.asarray(wanted, dtype=str)
    if not len(known) or not len(wanted):
        return np.full(len(wanted), -1, dtype=np.int64)
    order = np.argsort(known)
    at = np.minimum(np.searchsorted(known[order], wanted), len(known) - 1)
    return np.where(known[order][at] == wanted, order[at], -1).astype(np.int64)


def _dense(table: Table, keys: IntArray, n: int, horizon: int) -> FloatArray:
    out = np.zeros((n, horizon))
    if len(table):
        period = np.asarray(table.columns["period"], dtype=np.int64)
        ok = (keys >= 0) & (period >= 0) & (period < horizon)
        np.add.at(out, (keys[ok], period[ok]), np.asarray(table.columns["quantity"], dtype=np.float64)[ok])
    return out


def _pair_keys(table: Table, where: str) -> npt.NDArray[np.str_]:
    """Each row's "<where>/item" id: lane/item for an arc (`Network.arc_ids`), node/item for a
    position or demand stream (`Network.position_ids`, `Network.demand_ids`)."""
    return np.char.add(
        np.char.add(np.asarray(table.columns.get(where, np.zeros(0)), dtype=str), "/"),
        np.asarray(table.columns.get("item", np.zeros(0)), dtype=str),
    )


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
    ship = _dense(plan.shipments, _lookup(net.arc_ids(), _pair_keys(plan.shipments, "lane")), net.n_arcs, H)
    return {"buy": buy, "make": make, "ship": ship}


def baseline_state(net: Network, plan: Plan) -> dict[str, FloatArray]:
    """The baseline's state, what its decisions leave behind in each period, on `net`: stock inv
    (P, H); safety shortfall short (S, H) over the positions with a safety stock; backlog and lost
    (D, H) over the demand streams. Read from the plan's tables by id like `baseline_decisions`. A
    first answer on a large network keeps these values outside its reach
    (`models.replanning.reach.define_outside_reach_fixed`)."""
    H = net.horizon
    positions = net.position_ids()
    safety = [positions[k] for k in np.flatnonzero(net.position_safety_stock > 0)]
    streams = net.demand_ids()
    return {
        "inv": _dense(plan.inventory, _lookup(positions, _pair_keys(plan.inventory, "node")), len(positions), H),
        "short": _dense(
            plan.safety_shortfall, _lookup(safety, _pair_keys(plan.safety_shortfall, "node")), len(safety), H
        ),
        "backlog": _dense(plan.backlog, _lookup(streams, _pair_keys(plan.backlog, "customer")), len(streams), H),
        "lost": _dense(plan.lost_sales, _lookup(streams, _pair_keys(plan.lost_sales, "customer")), len(streams), H),
    }
