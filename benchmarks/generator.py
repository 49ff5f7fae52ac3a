"""Seeded generator of multi-tier supply networks, from a tiny readable demo to about a million LP columns.

`generate(size, seed)` returns a `NetworkSpec`; `python -m benchmarks.generator` writes one as protobuf JSON.

The network has five echelons: tier-2 suppliers sell raw materials; tier-1 suppliers turn raw materials
into components (and sell some components outright); plants turn components into finished goods; DCs
hold finished goods; customer zones demand them. Capacities, stocks and penalties are derived from the
expected demand flowing up the bills of materials, so every generated network is feasible with its
service targets while overtime, second sources, safety stock and the working-capital cap all matter.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from models.network import (
    INF,
    Demand,
    InTransit,
    Item,
    Lane,
    NetworkSpec,
    Node,
    NodeRole,
    Recipe,
    ServiceTarget,
    Stock,
    SupplyOffer,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SERVICE_TARGETS = {1: 0.95, 2: 0.90, 3: 0.80}
"""Least fill rate per priority tier."""
PRIORITY_SHARES = (0.25, 0.45, 0.30)
"""Share of demand streams in priority tiers 1, 2 and 3."""
PRIMARY_SHARE = 0.7
"""Nominal share of the primary source when an item has two (the second source takes the rest)."""


@dataclass(frozen=True)
class GeneratorConfig:
    """The shape of a generated network: entity counts, horizon, and the knobs that add integers.

    Counts are exact; the share knobs are probabilities drawn per entity, so the realised numbers
    vary a little with the seed.
    """

    name: str
    tier2_suppliers: int
    tier1_suppliers: int
    plants: int
    dcs: int
    customer_zones: int
    finished_items: int
    components: int
    raw_materials: int
    periods: int
    period_hours: float = 168.0
    items_per_customer: float = 3.0
    """Mean number of finished items a customer zone demands (one demand stream each)."""
    dual_source_share: float = 0.5
    """Share of raw materials and components that a second supplier also sells or makes."""
    dual_plant_share: float = 0.4
    """Share of finished items that a second plant also makes."""
    dual_dc_share: float = 0.3
    """Share of customer zones that a second DC also serves."""
    bought_component_share: float = 0.25
    """Share of components that tier-1 suppliers sell through plain offers instead of making them."""
    truck_lane_share: float = 0.1
    """Share of road lanes that ship in whole trucks (an integer per lane and period)."""
    setup_recipe_share: float = 0.1
    """Share of recipes with a setup cost (a binary per recipe and period)."""
    backup_offers: int = 2
    """Backup offers (finite capacity, one activation binary each) for raw materials and bought components."""
    min_order_offers: int = 2
    """Raw-material offers with a minimum order (a binary per offer and period)."""
    single_source_share: float = 0.1
    """Share of demand streams that must be served over exactly one inbound lane (a binary per lane)."""
    expedite_lanes: int = 2
    """Air lanes added next to tier-1 -> plant and plant -> DC lanes: one period faster, at 3-5x the cost."""
    lateral_lanes: int = 1
    """DC -> DC lanes for lateral transfers."""
    in_transit_receipts: int = 3
    """Scheduled receipts at DCs and plants in the first two periods."""
    seasonality: float = 0.2
    """Amplitude of the seasonal swing in demand (0.2 = +-20%)."""
    season_periods: int = 13
    """Length of one seasonal cycle in periods."""
    demand_noise: float = 0.15
    """Standard deviation of the multiplicative (log-normal) noise on demand."""
    capacity_slack: float = 1.0
    """Multiplies every supply capacity and regular production hours."""
    working_capital_factor: float = 1.0
    """Working-capital cap as a multiple of the value of the safety stocks (at least 0.2x the value of the
    initial stock and scheduled receipts)."""
    readable_ids: bool = False
    """Name entities like "S2-steel", "DC-north", "C-berlin" where the name lists are long enough."""


SIZES: dict[str, GeneratorConfig] = {
    "demo": GeneratorConfig(
        name="demo",
        tier2_suppliers=3,
        tier1_suppliers=2,
        plants=2,
        dcs=2,
        customer_zones=4,
        finished_items=3,
        components=4,
        raw_materials=5,
        periods=6,
        items_per_customer=2.0,
        bought_component_share=0.25,
        truck_lane_share=0.2,
        setup_recipe_share=0.25,
        backup_offers=1,
        min_order_offers=1,
        single_source_share=0.2,
        expedite_lanes=1,
        lateral_lanes=1,
        in_transit_receipts=2,
        readable_ids=True,
    ),
    "S": GeneratorConfig(
        name="S",
        tier2_suppliers=5,
        tier1_suppliers=5,
        plants=3,
        dcs=3,
        customer_zones=12,
        finished_items=8,
        components=14,
        raw_materials=10,
        periods=8,
        items_per_customer=3.0,
        truck_lane_share=0.1,
        setup_recipe_share=0.1,
        backup_offers=2,
        min_order_offers=2,
        single_source_share=0.1,
        expedite_lanes=2,
        lateral_lanes=2,
        in_transit_receipts=4,
    ),
    "M": GeneratorConfig(
        name="M",
        tier2_suppliers=20,
        tier1_suppliers=25,
        plants=6,
        dcs=8,
        customer_zones=170,
        finished_items=90,
        components=130,
        raw_materials=55,
        periods=13,
        items_per_customer=5.0,
        truck_lane_share=0.05,
        setup_recipe_share=0.05,
        backup_offers=5,
        min_order_offers=5,
        single_source_share=0.02,
        expedite_lanes=8,
        lateral_lanes=6,
        in_transit_receipts=30,
        capacity_slack=1.1,
    ),
    "L": GeneratorConfig(
        name="L",
        tier2_suppliers=50,
        tier1_suppliers=75,
        plants=15,
        dcs=20,
        customer_zones=750,
        finished_items=300,
        components=450,
        raw_materials=150,
        periods=26,
        items_per_customer=6.0,
        truck_lane_share=0.05,
        setup_recipe_share=0.05,
        backup_offers=20,
        min_order_offers=20,
        single_source_share=0.02,
        expedite_lanes=30,
        lateral_lanes=20,
        in_transit_receipts=200,
        capacity_slack=1.1,
    ),
}
"""The named sizes: "demo" to read, "S" for tests (solves in a second or two), "M" (about 100k
columns, solves to a 1% gap well within a minute), "L" (about 1M columns, for build times)."""


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

_RAW_NAMES = ("steel", "aluminium", "rubber", "copper", "lithium", "resin", "glass", "nickel", "leather", "paint")
_COMPONENT_NAMES = ("frame", "wheel", "motor", "battery", "brake", "saddle", "gear", "light", "fork", "chain")
_FINISHED_NAMES = ("city-bike", "e-bike", "cargo-bike", "kids-bike", "road-bike", "scooter", "trike", "tandem")
_DC_NAMES = ("north", "south", "east", "west", "central")
_CITY_NAMES = (
    "berlin",
    "hamburg",
    "munich",
    "vienna",
    "zurich",
    "paris",
    "lyon",
    "milan",
    "prague",
    "warsaw",
    "madrid",
    "lisbon",
)


def _ids(prefix: str, n: int, names: Sequence[str] = (), readable: bool = False) -> list[str]:
    """`prefix + name` when readable names suffice, else `prefix` + a zero-padded number."""
    if readable and n <= len(names):
        return [prefix + name for name in names[:n]]
    width = len(str(n))
    return [f"{prefix}{k + 1:0{width}d}" for k in range(n)]


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------


def _assign(rng: np.random.Generator, n_out: int, n_in: int, low: int, high: int) -> tuple[IntArray, IntArray]:
    """Pairs (out, in) giving each of `n_out` entities between `low` and `high` distinct inputs out of
    `n_in`, every input used at least once when there are enough slots. Sorted by (out, in)."""
    high = min(high, n_in)
    low = min(low, high)
    count = rng.integers(low, high + 1, size=n_out)
    total = int(count.sum())
    rounds = -(-total // n_in)
    pool = np.concatenate([rng.permutation(n_in) for _ in range(rounds)])[:total]
    out = np.repeat(np.arange(n_out), count)
    key = np.unique(out * n_in + pool)
    return key // n_in, key % n_in


def _sources(rng: np.random.Generator, n_items: int, n_sources: int, dual_share: float) -> tuple[IntArray, IntArray]:
    """Primary source of each item (round-robin, so every source gets work) and a second source or -1."""
    primary = np.arange(n_items) % n_sources
    offset = rng.integers(1, max(n_sources, 2), size=n_items)
    dual = (rng.random(n_items) < dual_share) & (n_sources > 1)
    secondary = np.where(dual, (primary + offset) % max(n_sources, 1), -1)
    return primary, secondary


def _uniform(rng: np.random.Generator, low: float, high: float, size: int | tuple[int, ...]) -> FloatArray:
    return rng.uniform(low, high, size=size)


def _money(x: FloatArray) -> list[float]:
    return np.round(x, 2).tolist()


def _units(x: FloatArray) -> list[float]:
    return np.round(x).tolist()


@dataclass(frozen=True)
class _Links:
    """Sourcing links (origin node, destination node, item), the nominal share of the destination's
    need each carries, and the stage they belong to (which sets lead time and freight rate)."""

    origin: IntArray
    destination: IntArray
    item: IntArray
    share: FloatArray
    stage: IntArray


_STAGE_RAW, _STAGE_COMPONENT, _STAGE_FINISHED, _STAGE_CUSTOMER, _STAGE_LATERAL = range(5)
_FREIGHT_RATE = np.array([0.04, 0.03, 0.02, 0.03, 0.04])
"""Freight per unit as a share of the mean value of the items a lane carries, by stage."""


def _links(
    dest_item: tuple[IntArray, IntArray],
    providers: Sequence[tuple[IntArray, FloatArray]],
    stage: int,
) -> _Links:
    """One link from every provider of each (destination, item) pair.

    `providers` lists, per source slot, the provider node of every item (-1 where none) and the share it takes.
    """
    dest, item = dest_item
    parts = []
    for node_of_item, share_of_item in providers:
        src = node_of_item[item]
        ok = src >= 0
        parts.append((src[ok], dest[ok], item[ok], share_of_item[item][ok]))
    origin, destination, items, share = (np.concatenate(p) for p in zip(*parts, strict=True))
    return _Links(
        origin.astype(np.int64),
        destination.astype(np.int64),
        items.astype(np.int64),
        share.astype(np.float64),
        np.full(len(origin), stage, dtype=np.int64),
    )


def _concat(links: Sequence[_Links]) -> _Links:
    return _Links(*(np.concatenate([getattr(lk, f) for lk in links]) for f in _Links.__dataclass_fields__))


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


def generate(size: str | GeneratorConfig, seed: int = 0) -> NetworkSpec:
    """A supply network of the given size (a name in `SIZES` or a config), identical for the same seed.

    Every random number comes from `numpy.random.default_rng(seed)`, drawn in a fixed order.
    """
    cfg = _config(size)
    rng = np.random.default_rng(seed)
    H = cfg.periods
    T2, T1, P, D, C = cfg.tier2_suppliers, cfg.tier1_suppliers, cfg.plants, cfg.dcs, cfg.customer_zones
    n_raw, n_comp, n_fin = cfg.raw_materials, cfg.components, cfg.finished_items

    # Global indices: nodes upstream to downstream, items raw -> component -> finished.
    t2_at, t1_at, plant_at, dc_at, cust_at = np.cumsum([0, T2, T1, P, D])
    n_nodes = int(cust_at) + C
    comp_at, fin_at = n_raw, n_raw + n_comp
    n_items = fin_at + n_fin

    # -- items and bills of materials ---------------------------------------------------------
    raw_ids = _ids("RM-", n_raw, _RAW_NAMES, cfg.readable_ids)
    comp_ids = _ids("CP-", n_comp, _COMPONENT_NAMES, cfg.readable_ids)
    fin_ids = _ids("FG-", n_fin, _FINISHED_NAMES, cfg.readable_ids)
    if cfg.readable_ids:
        raw_ids = [s.removeprefix("RM-") for s in raw_ids]
        comp_ids = [s.removeprefix("CP-") for s in comp_ids]
        fin_ids = [s.removeprefix("FG-") for s in fin_ids]
    item_ids = raw_ids + comp_ids + fin_ids

    bought = rng.random(n_comp) < cfg.bought_component_share
    made = np.flatnonzero(~bought)
    fin_bom_f, fin_bom_c = _assign(rng, n_fin, n_comp, 2, 3)
    fin_bom_q = rng.integers(1, 3, size=len(fin_bom_f)).astype(np.float64)
    made_k, comp_bom_r = _assign(rng, len(made), n_raw, 1, 3)
    comp_bom_c = made[made_k]
    comp_bom_q = np.round(_uniform(rng, 0.5, 3.0, len(comp_bom_c)), 1)
    fin_bom = np.zeros((n_fin, n_comp))
    fin_bom[fin_bom_f, fin_bom_c] = fin_bom_q
    comp_bom = np.zeros((n_comp, n_raw))
    comp_bom[comp_bom_c, comp_bom_r] = comp_bom_q

    raw_cost = np.exp(_uniform(rng, math.log(2.0), math.log(30.0), n_raw))
    comp_process = _uniform(rng, 2.0, 10.0, n_comp)
    comp_bought_cost = _uniform(rng, 15.0, 80.0, n_comp)
    comp_value = np.where(bought, comp_bought_cost, comp_bom @ raw_cost + comp_process)
    fin_process = _uniform(rng, 10.0, 40.0, n_fin)
    fin_value = fin_bom @ comp_value + fin_process
    value = np.concatenate([raw_cost, comp_value, fin_value])
    holding = value * 0.004 * cfg.period_hours / 168.0  # about 20% a year

    # -- sourcing -----------------------------------------------------------------------------
    raw_src = _sources(rng, n_raw, T2, cfg.dual_source_share)
    comp_src = _sources(rng, n_comp, T1, cfg.dual_source_share)
    fin_src = _sources(rng, n_fin, P, cfg.dual_plant_share)
    cust_item_c, cust_item_f = _assign(rng, C, n_fin, 1, max(1, round(2 * cfg.items_per_customer) - 1))
    dc_primary, dc_secondary = _sources(rng, C, D, cfg.dual_dc_share)

    def shares(src: tuple[IntArray, IntArray]) -> tuple[FloatArray, FloatArray]:
        dual = src[1] >= 0
        return np.where(dual, PRIMARY_SHARE, 1.0), np.where(dual, 1.0 - PRIMARY_SHARE, 0.0)

    raw_share, comp_share, fin_share, dc_share = (
        shares(raw_src),
        shares(comp_src),
        shares(fin_src),
        shares((dc_primary, dc_secondary)),
    )

    # -- demand -------------------------------------------------------------------------------
    S = len(cust_item_c)
    mean = np.maximum(np.round(rng.lognormal(math.log(30.0), 0.7, size=S)), 2.0)
    phase = rng.uniform(0, cfg.season_periods, size=n_fin)
    t = np.arange(H)
    season = 1.0 + cfg.seasonality * np.sin(2 * np.pi * (t[None, :] + phase[cust_item_f][:, None]) / cfg.season_periods)
    noise = rng.lognormal(-0.5 * cfg.demand_noise**2, cfg.demand_noise, size=(S, H))
    quantity = np.round(mean[:, None] * season * noise)
    priority = rng.choice(np.array([1, 2, 3]), size=S, p=PRIORITY_SHARES)
    price = fin_value[cust_item_f] * _uniform(rng, 1.5, 2.2, S)
    cost_to_serve = fin_value[cust_item_f] * 1.25  # material, conversion, freight and holding
    tier_factor = np.array([0.0, 1.3, 1.15, 1.0])[priority]
    lost_penalty = cost_to_serve * _uniform(rng, 1.2, 1.5, S) * tier_factor
    backlog_penalty = cost_to_serve * np.array([0.0, 0.12, 0.08, 0.05])[priority]
    single_source = (rng.random(S) < cfg.single_source_share) & (dc_secondary[cust_item_c] >= 0)
    receivable_days = rng.choice(np.array([30.0, 45.0, 60.0]), size=S)

    # -- nominal requirements, propagated up the network (need[node, item] per period) ---------
    need = np.zeros((n_nodes, n_items))
    cust_node = cust_at + cust_item_c
    fin_item = fin_at + cust_item_f
    need[cust_node, fin_item] = mean
    np.add.at(need, (dc_at + dc_primary[cust_item_c], fin_item), mean * dc_share[0][cust_item_c])
    second = dc_secondary[cust_item_c] >= 0
    np.add.at(
        need,
        (dc_at + dc_secondary[cust_item_c][second], fin_item[second]),
        mean[second] * dc_share[1][cust_item_c][second],
    )
    fin_total = need[dc_at:cust_at, fin_at:].sum(axis=0)
    produce = np.zeros((n_nodes, n_items))  # nominal output of recipes and offers per period
    for src, sh in zip(fin_src, fin_share, strict=True):
        ok = src >= 0
        produce[plant_at + src[ok], fin_at + np.flatnonzero(ok)] = fin_total[ok] * sh[ok]
    need[plant_at:dc_at, comp_at:fin_at] = produce[plant_at:dc_at, fin_at:] @ fin_bom
    comp_total = need[plant_at:dc_at, comp_at:fin_at].sum(axis=0)
    for src, sh in zip(comp_src, comp_share, strict=True):
        ok = src >= 0
        produce[t1_at + src[ok], comp_at + np.flatnonzero(ok)] = comp_total[ok] * sh[ok]
    need[t1_at:plant_at, :n_raw] = (produce[t1_at:plant_at, comp_at:fin_at] * ~bought) @ comp_bom
    raw_total = need[t1_at:plant_at, :n_raw].sum(axis=0)
    for src, sh in zip(raw_src, raw_share, strict=True):
        ok = src >= 0
        produce[t2_at + src[ok], np.flatnonzero(ok)] = raw_total[ok] * sh[ok]

    # -- backup offers: a third supplier of a raw material or bought component -----------------
    backup_pool = np.concatenate([np.flatnonzero(raw_total > 0), comp_at + np.flatnonzero(bought & (comp_total > 0))])
    n_backup = min(cfg.backup_offers, len(backup_pool))
    backup_item = np.sort(rng.choice(backup_pool, size=n_backup, replace=False))
    is_raw = backup_item < comp_at
    local = np.where(is_raw, backup_item, backup_item - comp_at)
    tier_size = np.where(is_raw, T2, T1)
    primary_of = np.where(is_raw, raw_src[0][np.minimum(local, n_raw - 1)], comp_src[0][np.minimum(local, n_comp - 1)])
    secondary_of = np.where(
        is_raw, raw_src[1][np.minimum(local, n_raw - 1)], comp_src[1][np.minimum(local, n_comp - 1)]
    )
    backup_supplier = (primary_of + rng.integers(1, np.maximum(tier_size, 2))) % tier_size
    for _ in range(2):  # step past the primary and second source where the tier has a third supplier
        taken = ((backup_supplier == primary_of) | (backup_supplier == secondary_of)) & (tier_size > 2)
        backup_supplier = np.where(taken, (backup_supplier + 1) % tier_size, backup_supplier)
    backup_node = np.where(is_raw, t2_at, t1_at) + backup_supplier
    backup_of = np.full(n_items, -1, dtype=np.int64)
    backup_of[backup_item] = backup_node

    # -- sourcing links and lanes ---------------------------------------------------------------
    def by_item(src: tuple[IntArray, IntArray], at: int, first: int, sh: tuple[FloatArray, FloatArray]) -> list:
        """Provider per global item for both source slots (-1 outside [first, first + len))."""
        out = []
        for s, w in zip(src, sh, strict=True):
            node = np.full(n_items, -1, dtype=np.int64)
            share = np.zeros(n_items)
            node[first : first + len(s)] = np.where(s >= 0, at + s, -1)
            share[first : first + len(s)] = w
            out.append((node, share))
        return out

    no_share = np.zeros(n_items)
    dc_of_stream = dc_at + np.where(second, dc_secondary[cust_item_c], 0)
    customer_links = _Links(
        np.r_[dc_at + dc_primary[cust_item_c], dc_of_stream[second]],
        np.r_[cust_node, cust_node[second]],
        np.r_[fin_item, fin_item[second]],
        np.r_[dc_share[0][cust_item_c], dc_share[1][cust_item_c][second]],
        np.full(S + int(second.sum()), _STAGE_CUSTOMER, dtype=np.int64),
    )
    dc_pairs = np.nonzero(need[dc_at:cust_at] > 0)
    finished_links = _links(
        (dc_at + dc_pairs[0], dc_pairs[1]), by_item(fin_src, plant_at, fin_at, fin_share), _STAGE_FINISHED
    )
    plant_pairs = np.nonzero(need[plant_at:dc_at] > 0)
    component_links = _links(
        (plant_at + plant_pairs[0], plant_pairs[1]),
        [*by_item(comp_src, t1_at, comp_at, comp_share), (backup_of, no_share)],
        _STAGE_COMPONENT,
    )
    t1_pairs = np.nonzero(need[t1_at:plant_at] > 0)
    raw_links = _links(
        (t1_at + t1_pairs[0], t1_pairs[1]),
        [*by_item(raw_src, t2_at, 0, raw_share), (backup_of, no_share)],
        _STAGE_RAW,
    )
    lateral_links = _lateral(rng, need, dc_at, D, cfg.lateral_lanes)
    links = _concat([raw_links, component_links, finished_links, customer_links, lateral_links])

    # Group links into lanes by (origin, destination); lanes keep the order upstream -> downstream.
    # A backup seller may coincide with a regular one on a small tier: merge such links, adding shares.
    link_key = (links.origin * n_nodes + links.destination) * n_items + links.item
    link_key, first, inverse = np.unique(link_key, return_index=True, return_inverse=True)
    links = _Links(
        links.origin[first],
        links.destination[first],
        links.item[first],
        np.bincount(inverse, weights=links.share, minlength=len(first)),
        links.stage[first],
    )
    lane_key = links.origin * n_nodes + links.destination
    starts = np.flatnonzero(np.r_[True, np.diff(lane_key) != 0])
    n_lanes = len(starts)
    lane_of_link = np.repeat(np.arange(n_lanes), np.diff(np.r_[starts, len(lane_key)]))
    lane_origin, lane_dest, lane_stage = links.origin[starts], links.destination[starts], links.stage[starts]
    full_need = need[links.destination, links.item]
    lane_need = np.bincount(lane_of_link, weights=full_need, minlength=n_lanes)
    lane_flow = np.bincount(lane_of_link, weights=full_need * links.share, minlength=n_lanes)
    lane_value = np.bincount(lane_of_link, weights=value[links.item], minlength=n_lanes) / np.bincount(lane_of_link)

    lead = np.select(
        [lane_stage == _STAGE_RAW, lane_stage == _STAGE_CUSTOMER],
        [rng.integers(1, 3, size=n_lanes), (rng.random(n_lanes) < 0.3).astype(np.int64)],
        1,
    )
    lead = np.minimum(lead, H - 1)
    unit_cost = _FREIGHT_RATE[lane_stage] * lane_value * _uniform(rng, 0.8, 1.25, n_lanes)
    capacity = np.ceil(np.maximum(lane_need, 1.0) * _uniform(rng, 1.3, 2.0, n_lanes) * cfg.capacity_slack)
    trucked = rng.random(n_lanes) < cfg.truck_lane_share
    truck_size = np.where(trucked, np.maximum(10.0, np.round(lane_flow / _uniform(rng, 1.5, 4.0, n_lanes), -1)), 0.0)
    truck_cost = np.where(trucked, truck_size * unit_cost * _uniform(rng, 0.6, 0.8, n_lanes), 0.0)
    unit_cost = np.where(trucked, 0.2 * unit_cost, unit_cost)

    node_ids = (
        _tier2_ids(cfg, raw_ids)
        + _tier1_ids(cfg, comp_ids)
        + _ids("P", P)
        + _ids("DC-", D, _DC_NAMES, cfg.readable_ids)
        + _ids("C-", C, _CITY_NAMES, cfg.readable_ids)
    )
    link_items = [item_ids[i] for i in links.item.tolist()]
    bounds = np.r_[starts, len(lane_key)].tolist()
    lane_ids = [f"{node_ids[o]}>{node_ids[d]}" for o, d in zip(lane_origin.tolist(), lane_dest.tolist(), strict=True)]
    lanes = [
        Lane(
            id=lane_ids[k],
            origin=node_ids[o],
            destination=node_ids[d],
            items=tuple(link_items[bounds[k] : bounds[k + 1]]),
            lead_time=lt,
            unit_cost=uc,
            capacity=cap,
            truck_size=ts,
            truck_cost=tc,
        )
        for k, (o, d, lt, uc, cap, ts, tc) in enumerate(
            zip(
                lane_origin.tolist(),
                lane_dest.tolist(),
                lead.tolist(),
                _money(unit_cost),
                capacity.tolist(),
                truck_size.tolist(),
                _money(truck_cost),
                strict=True,
            )
        )
    ]
    expedite_from = np.flatnonzero(((lane_stage == _STAGE_COMPONENT) | (lane_stage == _STAGE_FINISHED)) & (lead >= 1))
    n_expedite = min(cfg.expedite_lanes, len(expedite_from))
    expedited = np.sort(rng.choice(expedite_from, size=n_expedite, replace=False))
    premium = _uniform(rng, 3.0, 5.0, n_expedite)
    lanes += [
        replace(
            lanes[k],
            id=lanes[k].id + ":air",
            lead_time=lanes[k].lead_time - 1,
            unit_cost=round(float(unit_cost[k] / (0.2 if trucked[k] else 1.0) * p), 2),
            capacity=float(math.ceil(capacity[k] * 0.3)),
            truck_size=0.0,
            truck_cost=0.0,
            mode="air",
            expedited=True,
        )
        for k, p in zip(expedited.tolist(), premium.tolist(), strict=True)
    ]

    # -- supply offers --------------------------------------------------------------------------
    offer_node, offer_item = np.nonzero(produce[:plant_at] > 0)
    offer_node, offer_item = offer_node.astype(np.int64), offer_item.astype(np.int64)
    sold = (offer_item < comp_at) | bought[np.clip(offer_item - comp_at, 0, n_comp - 1)]
    offer_node, offer_item = offer_node[sold], offer_item[sold]
    nominal = produce[offer_node, offer_item]
    total = np.where(offer_item < comp_at, raw_total[np.minimum(offer_item, n_raw - 1)], 0.0)
    total = np.where(offer_item >= comp_at, comp_total[np.clip(offer_item - comp_at, 0, n_comp - 1)], total)
    is_second = nominal < 0.5 * total  # the second source takes 1 - PRIMARY_SHARE < 0.5
    offer_cost = value[offer_item] * np.where(is_second, _uniform(rng, 1.05, 1.2, len(offer_item)), 1.0)
    offer_cap = np.ceil(nominal * _uniform(rng, 1.2, 1.5, len(offer_item)) * cfg.capacity_slack)
    # Minimum orders sit on second sources of raw materials: a bulk supplier, cheaper per unit but
    # lumpy. (On a sole or primary source the order binary decides whole product lines, which
    # leaves the MIP heuristics little room; measured 10-30x slower on size S.)
    second_raw = np.flatnonzero((offer_item < comp_at) & is_second)
    primary_raw = np.flatnonzero((offer_item < comp_at) & ~is_second)
    n_min = min(cfg.min_order_offers, len(second_raw) + len(primary_raw))
    from_second = rng.permutation(second_raw)[:n_min]
    with_min = np.sort(np.r_[from_second, rng.permutation(primary_raw)[: n_min - len(from_second)]]).astype(np.int64)
    min_order = np.zeros(len(offer_item))
    min_order[with_min] = np.round(offer_cap[with_min] * _uniform(rng, 0.25, 0.5, len(with_min)))
    offer_cost[from_second] = value[offer_item[from_second]] * _uniform(rng, 0.9, 0.97, len(from_second))
    payment = rng.choice(np.array([30.0, 45.0, 60.0, 90.0]), size=len(offer_item) + n_backup)
    offers = [
        SupplyOffer(
            id=f"{node_ids[n]}:{item_ids[i]}",
            supplier=node_ids[n],
            item=item_ids[i],
            unit_cost=uc,
            capacity=cap,
            min_order=mo,
            payment_days=pd,
        )
        for n, i, uc, cap, mo, pd in zip(
            offer_node.tolist(),
            offer_item.tolist(),
            _money(offer_cost),
            offer_cap.tolist(),
            min_order.tolist(),
            payment[: len(offer_item)].tolist(),
            strict=True,
        )
    ]
    backup_total = np.where(is_raw, raw_total[np.minimum(local, n_raw - 1)], comp_total[np.minimum(local, n_comp - 1)])
    backup_cost = value[backup_item] * _uniform(rng, 1.2, 1.5, n_backup)
    backup_cap = np.ceil(backup_total * _uniform(rng, 0.3, 0.6, n_backup))
    activation = backup_total * backup_cost * _uniform(rng, 2.0, 4.0, n_backup)
    offers += [
        SupplyOffer(
            id=f"{node_ids[n]}:{item_ids[i]}:backup",
            supplier=node_ids[n],
            item=item_ids[i],
            unit_cost=uc,
            capacity=cap,
            backup=True,
            activation_cost=ac,
            payment_days=pd,
        )
        for n, i, uc, cap, ac, pd in zip(
            backup_node.tolist(),
            backup_item.tolist(),
            _money(backup_cost),
            backup_cap.tolist(),
            _money(activation),
            payment[len(offer_item) :].tolist(),
            strict=True,
        )
    ]

    # -- recipes and production hours ---------------------------------------------------------
    rec_node, rec_item = np.nonzero(produce[t1_at:dc_at] > 0)
    rec_node = rec_node.astype(np.int64) + t1_at
    rec_item = rec_item.astype(np.int64)
    keep = (rec_item >= fin_at) | ((rec_item >= comp_at) & ~bought[np.clip(rec_item - comp_at, 0, n_comp - 1)])
    keep &= (rec_node >= plant_at) == (rec_item >= fin_at)
    rec_node, rec_item = rec_node[keep], rec_item[keep]
    R = len(rec_node)
    rec_nominal = produce[rec_node, rec_item]
    is_fin = rec_item >= fin_at
    rec_hours = np.round(np.where(is_fin, _uniform(rng, 0.1, 0.5, R), _uniform(rng, 0.02, 0.2, R)), 3)
    process = np.where(
        is_fin,
        fin_process[np.clip(rec_item - fin_at, 0, n_fin - 1)],
        comp_process[np.clip(rec_item - comp_at, 0, n_comp - 1)],
    )
    rec_cost = process * _uniform(rng, 0.95, 1.1, R)
    with_setup = rng.random(R) < cfg.setup_recipe_share
    setup_cost = np.where(with_setup, rec_nominal * value[rec_item] * _uniform(rng, 0.005, 0.02, R), 0.0)
    max_rate = np.where(with_setup, np.ceil(rec_nominal * _uniform(rng, 1.5, 2.5, R)), INF)
    node_hours = np.bincount(rec_node, weights=rec_nominal * rec_hours, minlength=n_nodes)
    regular = np.ceil(node_hours * _uniform(rng, 1.05, 1.2, n_nodes) * cfg.capacity_slack)
    overtime = np.ceil(regular * _uniform(rng, 0.25, 0.35, n_nodes))
    overtime_cost = np.round(_uniform(rng, 40.0, 80.0, n_nodes))
    bom_of: dict[int, tuple[tuple[str, float], ...]] = {}
    for f in range(n_fin):
        cols = np.flatnonzero(fin_bom[f])
        bom_of[fin_at + f] = tuple(zip((comp_ids[c] for c in cols), fin_bom[f, cols].tolist(), strict=True))
    for c in made.tolist():
        cols = np.flatnonzero(comp_bom[c])
        bom_of[comp_at + c] = tuple(zip((raw_ids[r] for r in cols), comp_bom[c, cols].tolist(), strict=True))
    recipes = [
        Recipe(
            id=f"{node_ids[n]}:{item_ids[i]}",
            node=node_ids[n],
            item=item_ids[i],
            inputs=bom_of[i],
            hours_per_unit=h,
            unit_cost=uc,
            setup_cost=sc,
            max_rate=mr,
        )
        for n, i, h, uc, sc, mr in zip(
            rec_node.tolist(),
            rec_item.tolist(),
            rec_hours.tolist(),
            _money(rec_cost),
            _money(setup_cost),
            max_rate.tolist(),
            strict=True,
        )
    ]

    # -- stock, scheduled receipts, storage and working capital ------------------------------
    stock_node, stock_item, on_hand, safety = _stocks(
        rng, need, produce, dc_at, cust_at, plant_at, t1_at, comp_at, fin_at
    )
    safety_penalty = np.where(safety > 0, value[stock_item] * _uniform(rng, 0.02, 0.05, len(stock_node)), 0.0)
    stocks = [
        Stock(node=node_ids[n], item=item_ids[i], on_hand=oh, safety_stock=ss, safety_penalty=sp)
        for n, i, oh, ss, sp in zip(
            stock_node.tolist(),
            stock_item.tolist(),
            on_hand.tolist(),
            safety.tolist(),
            _money(safety_penalty),
            strict=True,
        )
    ]
    receivable = np.flatnonzero((stock_node >= plant_at) & (need[stock_node, stock_item] > 0))
    n_receipts = min(cfg.in_transit_receipts, len(receivable))
    receipt = np.sort(rng.choice(receivable, size=n_receipts, replace=False))
    receipt_period = rng.integers(0, min(2, H), size=n_receipts)
    receipt_qty = np.round(need[stock_node[receipt], stock_item[receipt]] * _uniform(rng, 0.5, 1.0, n_receipts))
    in_transit = [
        InTransit(node=node_ids[n], item=item_ids[i], period=p, quantity=q)
        for n, i, p, q in zip(
            stock_node[receipt].tolist(),
            stock_item[receipt].tolist(),
            receipt_period.tolist(),
            receipt_qty.tolist(),
            strict=True,
        )
    ]
    held = np.bincount(stock_node, weights=np.maximum(on_hand, safety), minlength=n_nodes)
    held += np.bincount(stock_node[receipt], weights=receipt_qty, minlength=n_nodes)
    storage = np.where(
        (np.arange(n_nodes) >= plant_at) & (np.arange(n_nodes) < cust_at),
        np.ceil(held * _uniform(rng, 1.1, 1.4, n_nodes)),
        INF,
    )
    # The unconstrained plan holds about 1.0-1.4x the value of the safety stocks (measured on demo, S
    # and M), so a cap at that value binds mildly; the floor keeps it above what the first periods
    # cannot help holding (the least feasible cap measured 0.04-0.16x the initial stock value).
    stock_value = float(on_hand @ value[stock_item] + receipt_qty @ value[stock_item[receipt]])
    safety_value = float(safety @ value[stock_item])
    working_capital_cap = round(max(cfg.working_capital_factor * safety_value, 0.2 * stock_value), 2)

    roles = np.repeat(
        [NodeRole.SUPPLIER, NodeRole.SUPPLIER, NodeRole.PLANT, NodeRole.DC, NodeRole.CUSTOMER], [T2, T1, P, D, C]
    )
    tiers = np.repeat([2, 1, 0, 0, 0], [T2, T1, P, D, C])
    has_hours = node_hours > 0
    nodes = [
        Node(
            id=node_ids[n],
            role=NodeRole(roles[n]),
            tier=int(tiers[n]),
            storage_capacity=float(storage[n]),
            regular_hours=float(regular[n]) if has_hours[n] else INF,
            overtime_hours=float(overtime[n]) if has_hours[n] else 0.0,
            overtime_cost=float(overtime_cost[n]) if has_hours[n] else 0.0,
        )
        for n in range(n_nodes)
    ]
    items = [
        Item(id=i, unit_value=v, holding_cost=h)
        for i, v, h in zip(item_ids, _money(value), np.round(holding, 4).tolist(), strict=True)
    ]
    fin_names = [item_ids[i] for i in fin_item.tolist()]
    demands = [
        Demand(
            customer=node_ids[c],
            item=fin_names[s],
            quantity=tuple(q),
            price=p,
            priority=pr,
            backlog_penalty=bp,
            lost_sale_penalty=lp,
            single_source=ss,
            receivable_days=rd,
        )
        for s, (c, q, p, pr, bp, lp, ss, rd) in enumerate(
            zip(
                cust_node.tolist(),
                quantity.tolist(),
                _money(price),
                priority.tolist(),
                _money(backlog_penalty),
                _money(lost_penalty),
                single_source.tolist(),
                receivable_days.tolist(),
                strict=True,
            )
        )
    ]
    return NetworkSpec(
        name=f"{cfg.name}-seed{seed}",
        horizon=H,
        period_hours=cfg.period_hours,
        items=tuple(items),
        nodes=tuple(nodes),
        offers=tuple(offers),
        recipes=tuple(recipes),
        lanes=tuple(lanes),
        demands=tuple(demands),
        stocks=tuple(stocks),
        in_transit=tuple(in_transit),
        service_targets=tuple(ServiceTarget(priority=k, fill_rate=v) for k, v in SERVICE_TARGETS.items()),
        working_capital_cap=working_capital_cap,
    )


def _config(size: str | GeneratorConfig) -> GeneratorConfig:
    if isinstance(size, GeneratorConfig):
        cfg = size
    elif size in SIZES:
        cfg = SIZES[size]
    else:
        raise ValueError(f"unknown network size {size!r}; use one of {', '.join(SIZES)} or a GeneratorConfig")
    counts = {
        "tier2_suppliers": cfg.tier2_suppliers,
        "tier1_suppliers": cfg.tier1_suppliers,
        "plants": cfg.plants,
        "dcs": cfg.dcs,
        "customer_zones": cfg.customer_zones,
        "finished_items": cfg.finished_items,
        "components": cfg.components,
        "raw_materials": cfg.raw_materials,
    }
    for name, n in counts.items():
        if n < 1:
            raise ValueError(f"GeneratorConfig {cfg.name!r}: {name} is {n}; every echelon needs at least 1")
    if cfg.periods < 3:
        raise ValueError(
            f"GeneratorConfig {cfg.name!r}: periods is {cfg.periods}; give at least 3 (lead times reach 2)"
        )
    return cfg


def _tier2_ids(cfg: GeneratorConfig, raw_ids: list[str]) -> list[str]:
    """Tier-2 supplier k sells raw material k first (round-robin), so it is named after it when readable."""
    readable = cfg.readable_ids and cfg.tier2_suppliers <= cfg.raw_materials <= len(_RAW_NAMES)
    return _ids("S2-", cfg.tier2_suppliers, raw_ids, readable)


def _tier1_ids(cfg: GeneratorConfig, comp_ids: list[str]) -> list[str]:
    """Tier-1 supplier k supplies component k first (round-robin), so it is named after it when readable."""
    readable = cfg.readable_ids and cfg.tier1_suppliers <= cfg.components <= len(_COMPONENT_NAMES)
    return _ids("S1-", cfg.tier1_suppliers, comp_ids, readable)


def _lateral(rng: np.random.Generator, need: FloatArray, dc_at: int, n_dcs: int, n_lanes: int) -> _Links:
    """DC -> DC links for lateral transfers, carrying the finished items both DCs stock."""
    pairs = np.array([(a, b) for a in range(n_dcs) for b in range(n_dcs) if a != b], dtype=np.int64).reshape(-1, 2)
    chosen = pairs[np.sort(rng.choice(len(pairs), size=min(n_lanes, len(pairs)), replace=False))]
    stocked = need[dc_at : dc_at + n_dcs] > 0
    parts = [(a, b, np.flatnonzero(stocked[a] & stocked[b])) for a, b in chosen.tolist()]
    origin = np.concatenate([np.full(len(i), dc_at + a) for a, _, i in parts] + [np.zeros(0)]).astype(np.int64)
    dest = np.concatenate([np.full(len(i), dc_at + b) for _, b, i in parts] + [np.zeros(0)]).astype(np.int64)
    items = np.concatenate([i for _, _, i in parts] + [np.zeros(0)]).astype(np.int64)
    return _Links(origin, dest, items, np.zeros(len(items)), np.full(len(items), _STAGE_LATERAL, dtype=np.int64))


def _stocks(
    rng: np.random.Generator,
    need: FloatArray,
    produce: FloatArray,
    dc_at: int,
    cust_at: int,
    plant_at: int,
    t1_at: int,
    comp_at: int,
    fin_at: int,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Initial stock (node, item, on hand, safety stock), enough to bridge the lead times of the first periods.

    DCs hold 1-2 periods of their customers' demand (5% of positions start empty) with a safety
    stock of 0.5-1.2 periods; plants hold 0.3-0.8 periods of output and 1.5-2.5 periods of
    components; tier-1 suppliers hold 1-2 periods of raw materials.
    """
    blocks = [
        (dc_at, need[dc_at:cust_at, fin_at:], fin_at, (1.0, 2.0)),
        (plant_at, produce[plant_at:dc_at, fin_at:], fin_at, (0.3, 0.8)),
        (plant_at, need[plant_at:dc_at, comp_at:fin_at], comp_at, (1.0, 1.5)),
        (t1_at, need[t1_at:plant_at, :comp_at], 0, (1.0, 1.5)),
    ]
    nodes, items, on_hand, safety = [], [], [], []
    for k, (node_at, rate, item_at, (low, high)) in enumerate(blocks):
        n, i = np.nonzero(rate > 0)
        r = rate[n, i]
        oh = np.round(r * _uniform(rng, low, high, len(r)))
        ss = np.zeros(len(r))
        if k == 0:
            oh = np.where(rng.random(len(r)) < 0.05, 0.0, oh)
            ss = np.round(r * _uniform(rng, 0.5, 1.2, len(r)))
        nodes.append(node_at + n)
        items.append(item_at + i)
        on_hand.append(oh)
        safety.append(ss)
    return (
        np.concatenate(nodes).astype(np.int64),
        np.concatenate(items).astype(np.int64),
        np.concatenate(on_hand),
        np.concatenate(safety),
    )


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generator", description="Write a generated supply network as protobuf JSON."
    )
    parser.add_argument("--size", default="S", choices=sorted(SIZES), help="named size (default S)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="path of the JSON file to write")
    args = parser.parse_args(argv)

    from solver.convert import write_network  # benchmarks may import solver; lazily, to keep import light

    start = time.perf_counter()
    spec = generate(args.size, args.seed)
    elapsed = time.perf_counter() - start
    write_network(spec, args.out)
    print(
        f"{spec.name}: {len(spec.nodes)} nodes, {len(spec.items)} items, {len(spec.offers)} offers, "
        f"{len(spec.recipes)} recipes, {len(spec.lanes)} lanes, {sum(len(ln.items) for ln in spec.lanes)} arcs, "
        f"{len(spec.demands)} demand streams, {spec.horizon} periods; generated in {elapsed:.2f} s -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
