"""Seeded generator of multi-tier supply networks, from a tiny readable demo to about a million LP columns.

`generate(size, seed)` returns a `NetworkSpec`; `python -m benchmarks.generator` writes one as protobuf JSON.

Five echelons: tier-2 suppliers sell raw materials; tier-1 suppliers turn raw materials into components
(and sell some components outright); plants turn components into finished goods; DCs hold finished goods;
customer zones demand them. Capacities, stocks and penalties derive from the expected demand pushed up
the bills of materials, so that plans meet their service targets while overtime, second sources, safety
stock and the working-capital cap all matter. Figures measured with HiGHS 1.15 on two cores are in the
docstring of `SIZES`.
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
    Calendar,
    CalendarException,
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
BoolArray = npt.NDArray[np.bool_]

SERVICE_TARGETS = {1: 0.95, 2: 0.90, 3: 0.80}
"""Least fill rate per priority tier."""
PRIORITY_SHARES = (0.25, 0.45, 0.30)
"""Share of demand streams in priority tiers 1, 2 and 3."""
PRIMARY_SHARE = 0.7
"""Nominal share of the primary source when an item has two (the second source takes the rest)."""


@dataclass(frozen=True)
class GeneratorConfig:
    """The shape of a generated network: entity counts, horizon, and the knobs that add integers.

    Counts are exact; share knobs are probabilities drawn per entity, so realised numbers vary a little
    with the seed. Integer columns come only from trucks, setups, minimum orders, backup activations and
    single sourcing, so those knobs set how hard the MILP is.
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
    """Share of regular lanes that ship in whole trucks (an integer per lane and period)."""
    setup_recipe_share: float = 0.1
    """Share of recipes with a setup cost (a binary per recipe and period)."""
    backup_offers: int = 2
    """Backup offers (finite capacity, one activation binary each) for raw materials and bought components."""
    min_order_offers: int = 2
    """Raw-material offers with a minimum order (a binary per offer and period), on second sources first."""
    spot_offers: int = 2
    """Expedited (spot) purchase offers at the primary supplier: a premium price, finite capacity."""
    single_source_share: float = 0.1
    """Share of demand streams with two inbound lanes that must use exactly one (a binary per lane)."""
    expedite_lanes: int = 2
    """Air lanes beside tier-1 -> plant and plant -> DC lanes: one period faster, at 3-5x the unit cost."""
    detour_lanes: int = 2
    """Alternate road lanes beside tier-1 -> plant and plant -> DC lanes, for re-routing: one period
    slower (within the horizon), at 1.3-1.8x the unit cost, half the capacity."""
    lateral_lanes: int = 1
    """DC -> DC lanes for lateral transfers."""
    in_transit_receipts: int = 3
    """Scheduled receipts at DCs and plants in the first two periods."""
    seasonality: float = 0.2
    """Amplitude of the seasonal swing in demand (0.2 = +-20%)."""
    season_periods: int = 13
    """Length of one seasonal cycle in periods."""
    demand_noise: float = 0.15
    """Standard deviation of the multiplicative (log-normal, mean one) noise on demand."""
    capacity_slack: float = 1.0
    """Multiplies every supply, lane and recipe capacity. Tight production hours slow the root LP most:
    on M, regular hours at 0.95-1.1x the nominal load took 25 s of dual simplex, at 1.3x 7 s."""
    working_capital_factor: float = 0.9
    """Working-capital cap as a multiple of the value of the safety stocks, raised where needed to an
    estimate of the stock the first period cannot shed. Feasibility is checked for the named sizes
    (demo seeds 0-100, S 0-40, M 0-3); for a custom config, solve it once or pass `math.inf` (no cap)."""
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
        truck_lane_share=0.2,
        setup_recipe_share=0.25,
        backup_offers=1,
        min_order_offers=1,
        spot_offers=1,
        single_source_share=0.2,
        expedite_lanes=1,
        detour_lanes=1,
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
        backup_offers=2,
        min_order_offers=2,
        spot_offers=2,
        expedite_lanes=2,
        detour_lanes=2,
        lateral_lanes=2,
        in_transit_receipts=4,
        working_capital_factor=0.8,
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
        spot_offers=8,
        single_source_share=0.02,
        expedite_lanes=8,
        detour_lanes=8,
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
        spot_offers=30,
        single_source_share=0.02,
        expedite_lanes=30,
        detour_lanes=30,
        lateral_lanes=20,
        in_transit_receipts=200,
        capacity_slack=1.1,
    ),
}
"""The named sizes, as measured with HiGHS 1.15 on two threads (mip_rel_gap 1%, seeds 0-4):
"demo": a dozen nodes with readable ids, 700-1,000 columns. "S": 3.4-3.9k columns, 60-120 integers,
solved in about 0.2 s. "M": 95-99k columns, 690-780 integers, solved in 17-23 s, almost all of it the
root LP (dual simplex). "L": about 1.0M columns and 5k integers; generating, compiling and building it
take about a second in all. The base plans meet all demand; the working-capital cap binds in about
half the S seeds and in 5-6 of M's 13 periods."""


# ---------------------------------------------------------------------------------------------
# Layout and names
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Global index ranges: nodes upstream to downstream, items raw -> component -> finished."""

    t2: int
    t1: int
    plant: int
    dc: int
    cust: int
    n_nodes: int
    comp: int
    fin: int
    n_items: int

    @classmethod
    def of(cls, cfg: GeneratorConfig) -> _Layout:
        t2, t1, plant, dc, cust, n_nodes = np.cumsum(
            [0, cfg.tier2_suppliers, cfg.tier1_suppliers, cfg.plants, cfg.dcs, cfg.customer_zones]
        ).tolist()
        comp = cfg.raw_materials
        fin = comp + cfg.components
        return cls(t2, t1, plant, dc, cust, n_nodes, comp, fin, fin + cfg.finished_items)


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


def _item_ids(cfg: GeneratorConfig) -> list[str]:
    def kind(prefix: str, n: int, names: Sequence[str]) -> list[str]:
        readable = cfg.readable_ids and n <= len(names)
        return list(names[:n]) if readable else _ids(prefix, n)

    return (
        kind("RM-", cfg.raw_materials, _RAW_NAMES)
        + kind("CP-", cfg.components, _COMPONENT_NAMES)
        + kind("FG-", cfg.finished_items, _FINISHED_NAMES)
    )


def _node_ids(cfg: GeneratorConfig, item_ids: list[str]) -> list[str]:
    """Supplier k of a tier is the primary source of item k of its kind (round-robin), so readable
    supplier ids name that item: "S2-steel" sells steel, "S1-frame" supplies frames."""
    raw = item_ids[: cfg.raw_materials]
    comp = item_ids[cfg.raw_materials : cfg.raw_materials + cfg.components]
    readable_t2 = cfg.readable_ids and cfg.tier2_suppliers <= cfg.raw_materials <= len(_RAW_NAMES)
    readable_t1 = cfg.readable_ids and cfg.tier1_suppliers <= cfg.components <= len(_COMPONENT_NAMES)
    return (
        _ids("S2-", cfg.tier2_suppliers, raw, readable_t2)
        + _ids("S1-", cfg.tier1_suppliers, comp, readable_t1)
        + _ids("P", cfg.plants)
        + _ids("DC-", cfg.dcs, _DC_NAMES, cfg.readable_ids)
        + _ids("C-", cfg.customer_zones, _CITY_NAMES, cfg.readable_ids)
    )


# ---------------------------------------------------------------------------------------------
# Random building blocks
# ---------------------------------------------------------------------------------------------


def _uniform(rng: np.random.Generator, low: float, high: float, size: int) -> FloatArray:
    return rng.uniform(low, high, size=size)


def _money(x: npt.ArrayLike) -> list[float]:
    return np.round(np.asarray(x, dtype=np.float64), 2).tolist()


def _pick(rng: np.random.Generator, pool: IntArray, n: int) -> IntArray:
    """Up to `n` distinct members of `pool`, sorted."""
    return np.sort(rng.permutation(pool)[: min(n, len(pool))]).astype(np.int64)


def _assign(rng: np.random.Generator, n_out: int, n_in: int, low: int, high: int) -> tuple[IntArray, IntArray]:
    """Pairs (out, in) giving each of `n_out` entities between `low` and `high` distinct inputs out of
    `n_in`, every input used at least once when there are enough slots; sorted by (out, in)."""
    high = min(high, n_in)
    low = min(low, high)
    count = rng.integers(low, high + 1, size=n_out)
    total = int(count.sum())
    pool = np.concatenate([np.zeros(0, np.int64)] + [rng.permutation(n_in) for _ in range(-(-total // n_in))])[:total]
    key = np.unique(np.repeat(np.arange(n_out), count) * n_in + pool)
    return key // n_in, key % n_in


def _sources(rng: np.random.Generator, n_items: int, first: int, n_sources: int, dual_share: float) -> IntArray:
    """(n_items, 2) global node index of each item's primary source (round-robin, so every source
    gets work) and second source (-1 where none)."""
    primary = np.arange(n_items) % n_sources
    offset = rng.integers(1, max(n_sources, 2), size=n_items)
    dual = (rng.random(n_items) < dual_share) & (n_sources > 1)
    secondary = np.where(dual, first + (primary + offset) % n_sources, -1)
    return np.stack([first + primary, secondary], axis=1).astype(np.int64)


def _split(source: IntArray) -> FloatArray:
    """Nominal share of each source slot: PRIMARY_SHARE and the rest when there are two, else all."""
    dual = source[:, 1] >= 0
    return np.stack([np.where(dual, PRIMARY_SHARE, 1.0), np.where(dual, 1.0 - PRIMARY_SHARE, 0.0)], axis=1)


# ---------------------------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Products:
    """Bills of materials, how each item is sourced, and what it is worth."""

    bought: BoolArray  # (I,) components sold through offers rather than made
    bom: FloatArray  # (I, I) units of input (column) per unit of output (row)
    source: IntArray  # (I, 2) primary and second source node, -1 where none
    share: FloatArray  # (I, 2) nominal share of each source
    value: FloatArray  # (I,)
    process: FloatArray  # (I,) conversion cost per unit of made items


def _products(rng: np.random.Generator, cfg: GeneratorConfig, lay: _Layout) -> _Products:
    """Finished goods take 2-3 components (1-2 units each); made components take 1-3 raw materials.

    Raw materials cost 2-30 (log-uniform); a made item is worth its inputs plus its conversion cost.
    """
    n_raw, n_comp, n_fin = cfg.raw_materials, cfg.components, cfg.finished_items
    bought = np.zeros(lay.n_items, dtype=bool)
    bought[lay.comp : lay.fin] = rng.random(n_comp) < cfg.bought_component_share
    made = np.flatnonzero(~bought[lay.comp : lay.fin])
    bom = np.zeros((lay.n_items, lay.n_items))
    f, c = _assign(rng, n_fin, n_comp, 2, 3)
    bom[lay.fin + f, lay.comp + c] = rng.integers(1, 3, size=len(f))
    k, r = _assign(rng, len(made), n_raw, 1, 3)
    bom[lay.comp + made[k], r] = np.round(_uniform(rng, 0.5, 3.0, len(k)), 1)

    source = np.concatenate(
        [
            _sources(rng, n_raw, lay.t2, cfg.tier2_suppliers, cfg.dual_source_share),
            _sources(rng, n_comp, lay.t1, cfg.tier1_suppliers, cfg.dual_source_share),
            _sources(rng, n_fin, lay.plant, cfg.plants, cfg.dual_plant_share),
        ]
    )
    process = np.concatenate([np.zeros(n_raw), _uniform(rng, 2.0, 10.0, n_comp), _uniform(rng, 10.0, 40.0, n_fin)])
    value = np.exp(_uniform(rng, math.log(2.0), math.log(30.0), lay.n_items))
    value[lay.comp : lay.fin] = np.where(
        bought[lay.comp : lay.fin],
        _uniform(rng, 15.0, 80.0, n_comp),
        bom[lay.comp : lay.fin] @ value + process[lay.comp : lay.fin],
    )
    value[lay.fin :] = bom[lay.fin :] @ value + process[lay.fin :]
    return _Products(bought, bom, source, _split(source), value, process)


@dataclass(frozen=True)
class _Demand:
    """Demand streams (customer node, finished item) and the DCs that serve each customer."""

    node: IntArray  # (S,)
    item: IntArray  # (S,)
    mean: FloatArray  # (S,)
    quantity: FloatArray  # (S, H)
    dc: IntArray  # (N,) primary DC of each customer node, -1 for other nodes
    dc2: IntArray  # (N,) second DC of each customer node, -1 where none


def _demand(rng: np.random.Generator, cfg: GeneratorConfig, lay: _Layout) -> _Demand:
    """Each customer demands about `items_per_customer` finished items, every item demanded somewhere.

    Rates are log-normal (median 30 units a period); each item swings seasonally with its own phase,
    and every (stream, period) carries mean-one log-normal noise.
    """
    C, H = cfg.customer_zones, cfg.periods
    c, f = _assign(rng, C, cfg.finished_items, 1, max(1, round(2 * cfg.items_per_customer) - 1))
    mean = np.maximum(np.round(rng.lognormal(math.log(30.0), 0.7, size=len(c))), 2.0)
    phase = rng.uniform(0, cfg.season_periods, size=cfg.finished_items)[f]
    t = np.arange(H)[None, :]
    season = 1.0 + cfg.seasonality * np.sin(2 * np.pi * (t + phase[:, None]) / cfg.season_periods)
    noise = rng.lognormal(-0.5 * cfg.demand_noise**2, cfg.demand_noise, size=(len(c), H))
    served_by = _sources(rng, C, lay.dc, cfg.dcs, cfg.dual_dc_share)
    dc = np.full(lay.n_nodes, -1, dtype=np.int64)
    dc2 = np.full(lay.n_nodes, -1, dtype=np.int64)
    dc[lay.cust :], dc2[lay.cust :] = served_by[:, 0], served_by[:, 1]
    return _Demand(lay.cust + c, lay.fin + f, mean, np.round(mean[:, None] * season * noise), dc, dc2)


def _requirements(lay: _Layout, prod: _Products, dem: _Demand, *, whole: bool = False) -> tuple[FloatArray, FloatArray]:
    """Nominal flows per period: `need[n, i]` units of item i node n takes in, `output[n, i]` units it
    makes or sells, pushing mean demand up through the DC split, the sources' shares and the BOMs.

    With `whole`, every source and DC takes the whole flow, as if it were the only one: what a lane
    must be able to carry when the other source fails or a single-sourced stream picks it.
    """
    need = np.zeros((lay.n_nodes, lay.n_items))
    output = np.zeros((lay.n_nodes, lay.n_items))
    need[dem.node, dem.item] = dem.mean
    dc_share = _split(np.stack([dem.dc, dem.dc2], axis=1)[dem.node])
    share = prod.share
    if whole:
        dc_share = np.ones_like(dc_share)
        share = np.ones_like(share)
    two = dem.dc2[dem.node] >= 0
    np.add.at(need, (dem.dc[dem.node], dem.item), dem.mean * dc_share[:, 0])
    np.add.at(need, (dem.dc2[dem.node][two], dem.item[two]), dem.mean[two] * dc_share[two, 1])
    echelons = (
        (slice(lay.fin, lay.n_items), slice(lay.dc, lay.cust)),
        (slice(lay.comp, lay.fin), slice(lay.plant, lay.dc)),
        (slice(0, lay.comp), slice(lay.t1, lay.plant)),
    )
    # Finished goods, then components, then raw materials: each echelon's total sets the next one's need.
    for items, consumers in echelons:
        ids = np.arange(lay.n_items)[items]
        total = need[consumers, items].sum(axis=0)
        for slot in (0, 1):
            ok = prod.source[ids, slot] >= 0
            output[prod.source[ids[ok], slot], ids[ok]] = total[ok] * share[ids[ok], slot]
        need += output[:, items] @ prod.bom[items]
    return need, output


def _backups(
    rng: np.random.Generator, cfg: GeneratorConfig, lay: _Layout, prod: _Products, output: FloatArray
) -> IntArray:
    """(I,) node of the backup offer of each item, -1 where none: a third supplier of the same tier
    (where the tier has one) for some raw materials and bought components."""
    sold = np.flatnonzero(((np.arange(lay.n_items) < lay.comp) | prod.bought) & (output.sum(axis=0) > 0))
    items = _pick(rng, sold, cfg.backup_offers)
    first = np.where(items < lay.comp, lay.t2, lay.t1)
    size = np.where(items < lay.comp, cfg.tier2_suppliers, cfg.tier1_suppliers)
    primary, second = prod.source[items, 0] - first, prod.source[items, 1] - first
    supplier = (primary + rng.integers(1, np.maximum(size, 2))) % size
    for _ in range(2):  # step past the primary and the second source where the tier has a third supplier
        taken = ((supplier == primary) | (supplier == second)) & (size > 2)
        supplier = np.where(taken, (supplier + 1) % size, supplier)
    backup = np.full(lay.n_items, -1, dtype=np.int64)
    backup[items] = first + supplier
    return backup


_STAGE_RAW, _STAGE_COMPONENT, _STAGE_FINISHED, _STAGE_CUSTOMER, _STAGE_LATERAL = range(5)
_FREIGHT_RATE = np.array([0.04, 0.03, 0.02, 0.03, 0.04])
"""Freight per unit as a share of the mean value of the items a lane carries, by stage."""


@dataclass(frozen=True)
class _Links:
    """What lanes must carry: (origin, destination, item) with the nominal share of the destination's
    need it takes, sorted by (origin, destination, item) so that each lane is one run."""

    origin: IntArray
    destination: IntArray
    item: IntArray
    share: FloatArray


def _links(
    rng: np.random.Generator,
    cfg: GeneratorConfig,
    lay: _Layout,
    prod: _Products,
    dem: _Demand,
    need: FloatArray,
    backup: IntArray,
) -> _Links:
    """Each demand stream from its DCs; each stocking node's need from every source of the item,
    the backup supplier included; lateral transfers between some DC pairs for the items both stock."""
    two = dem.dc2[dem.node] >= 0
    dc_share = _split(np.stack([dem.dc, dem.dc2], axis=1)[dem.node])
    origin = [dem.dc[dem.node], dem.dc2[dem.node][two]]
    dest = [dem.node, dem.node[two]]
    item = [dem.item, dem.item[two]]
    share = [dc_share[:, 0], dc_share[two, 1]]

    n, i = (a.astype(np.int64) for a in np.nonzero(need[: lay.cust] > 0))
    providers = np.concatenate([prod.source, backup[:, None]], axis=1)
    shares = np.concatenate([prod.share, np.zeros((lay.n_items, 1))], axis=1)
    for slot in range(3):
        ok = providers[i, slot] >= 0
        origin.append(providers[i[ok], slot])
        dest.append(n[ok])
        item.append(i[ok])
        share.append(shares[i[ok], slot])

    pairs = np.array([(a, b) for a in range(cfg.dcs) for b in range(cfg.dcs) if a != b], dtype=np.int64)
    stocked = need[lay.dc : lay.cust] > 0
    for a, b in pairs[_pick(rng, np.arange(len(pairs)), cfg.lateral_lanes)].tolist():
        both = np.flatnonzero(stocked[a] & stocked[b])
        origin.append(np.full(len(both), lay.dc + a))
        dest.append(np.full(len(both), lay.dc + b))
        item.append(both)
        share.append(np.zeros(len(both)))

    o, d, it = (np.concatenate(x).astype(np.int64) for x in (origin, dest, item))
    # A backup seller may coincide with a regular one on a small tier: merge such links, adding shares.
    _, first, inverse = np.unique((o * lay.n_nodes + d) * lay.n_items + it, return_index=True, return_inverse=True)
    return _Links(o[first], d[first], it[first], np.bincount(inverse, weights=np.concatenate(share)).astype(np.float64))


def _lanes(
    rng: np.random.Generator,
    cfg: GeneratorConfig,
    lay: _Layout,
    links: _Links,
    need: FloatArray,
    whole_need: FloatArray,
    value: FloatArray,
    node_ids: list[str],
    item_ids: list[str],
) -> list[Lane]:
    """One road lane per (origin, destination) pair of links, plus air (expedite) and detour lanes.

    Lead times: tier-2 -> tier-1 1-2 periods, DC -> customer 0 (70%) or 1, every other stage 1.
    Capacity is 1.3-2x the destination's whole need of the lane's items (see `_requirements`);
    trucked lanes pay a fifth of the unit cost plus trucks sized for 1.5-4 trucks a period of the
    nominal flow.
    """
    H = cfg.periods
    starts = np.flatnonzero(np.r_[True, np.diff(links.origin * lay.n_nodes + links.destination) != 0])
    bounds = np.r_[starts, len(links.origin)]
    n = len(starts)
    lane = np.repeat(np.arange(n), np.diff(bounds))
    origin, dest = links.origin[starts], links.destination[starts]
    stage = np.select(
        [dest >= lay.cust, origin >= lay.dc, origin >= lay.plant, origin >= lay.t1],
        [_STAGE_CUSTOMER, _STAGE_LATERAL, _STAGE_FINISHED, _STAGE_COMPONENT],
        _STAGE_RAW,
    )
    lane_need = np.bincount(lane, weights=whole_need[links.destination, links.item], minlength=n)
    lane_flow = np.bincount(lane, weights=need[links.destination, links.item] * links.share, minlength=n)
    mean_value = np.bincount(lane, weights=value[links.item], minlength=n) / np.diff(bounds)

    lead = np.select(
        [stage == _STAGE_RAW, stage == _STAGE_CUSTOMER],
        [rng.integers(1, 3, size=n), (rng.random(n) < 0.3).astype(np.int64)],
        1,
    )
    lead = np.minimum(lead, H - 1)
    base_cost = _FREIGHT_RATE[stage] * mean_value * _uniform(rng, 0.8, 1.25, n)
    capacity = np.ceil(np.maximum(lane_need, 1.0) * _uniform(rng, 1.3, 2.0, n) * cfg.capacity_slack)
    trucked = rng.random(n) < cfg.truck_lane_share
    truck_size = np.where(trucked, np.maximum(10.0, np.round(lane_flow / _uniform(rng, 1.5, 4.0, n), -1)), 0.0)
    truck_cost = np.where(trucked, truck_size * base_cost * _uniform(rng, 0.6, 0.8, n), 0.0)
    unit_cost = np.where(trucked, 0.2 * base_cost, base_cost)

    link_items = [item_ids[i] for i in links.item.tolist()]
    ids = [f"{node_ids[o]}>{node_ids[d]}" for o, d in zip(origin.tolist(), dest.tolist(), strict=True)]
    items = [tuple(link_items[a:b]) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
    columns = (lead.tolist(), _money(unit_cost), capacity.tolist(), truck_size.tolist(), _money(truck_cost))
    lanes = [
        Lane(
            id=ids[k],
            origin=node_ids[o],
            destination=node_ids[d],
            items=items[k],
            lead_time=lt,
            unit_cost=uc,
            capacity=cap,
            truck_size=ts,
            truck_cost=tc,
        )
        for k, (o, d, lt, uc, cap, ts, tc) in enumerate(zip(origin.tolist(), dest.tolist(), *columns, strict=True))
    ]

    inbound = (stage == _STAGE_COMPONENT) | (stage == _STAGE_FINISHED)
    fast = _pick(rng, np.flatnonzero(inbound & (lead >= 1)), cfg.expedite_lanes)
    premium = _uniform(rng, 3.0, 5.0, len(fast))
    detour = _pick(rng, np.flatnonzero(inbound), cfg.detour_lanes)
    markup = _uniform(rng, 1.3, 1.8, len(detour))
    lanes += [
        replace(
            lanes[k],
            id=f"{ids[k]}:air",
            lead_time=lanes[k].lead_time - 1,
            unit_cost=round(float(base_cost[k] * p), 2),
            capacity=float(math.ceil(capacity[k] * 0.3)),
            truck_size=0.0,
            truck_cost=0.0,
            mode="air",
            expedited=True,
        )
        for k, p in zip(fast.tolist(), premium.tolist(), strict=True)
    ]
    lanes += [
        replace(
            lanes[k],
            id=f"{ids[k]}:detour",
            lead_time=min(lanes[k].lead_time + 1, H - 1),
            unit_cost=round(float(base_cost[k] * m), 2),
            capacity=float(math.ceil(capacity[k] * 0.5)),
            truck_size=0.0,
            truck_cost=0.0,
            alternate=True,
        )
        for k, m in zip(detour.tolist(), markup.tolist(), strict=True)
    ]
    return lanes


def _offers(
    rng: np.random.Generator,
    cfg: GeneratorConfig,
    lay: _Layout,
    prod: _Products,
    output: FloatArray,
    backup: IntArray,
    node_ids: list[str],
    item_ids: list[str],
) -> list[SupplyOffer]:
    """Offers for raw materials (tier 2) and bought components (tier 1) from each source.

    Capacity is 1.2-1.5x the source's nominal share, so the primary alone falls short of peaks. A
    second source costs 5-20% more, unless it is a bulk offer with a minimum order (25-50% of its
    capacity), 3-10% cheaper. (A minimum order on a sole or primary source makes the order binary
    decide whole product lines, which starves the MIP heuristics: measured 10-30x slower on S.)
    Backup offers cost 20-50% more, hold 30-60% of the need and cost 2-4 periods of that spend to
    activate; spot offers at the primary supplier cost 30-60% more and hold 20-40% of the need.
    """
    total = output.sum(axis=0)
    sold = ((np.arange(lay.n_items) < lay.comp) | prod.bought) & (total > 0)
    node, item, slot = [], [], []
    for k in (0, 1):
        ids = np.flatnonzero(sold & (prod.source[:, k] >= 0))
        node.append(prod.source[ids, k])
        item.append(ids)
        slot.append(np.full(len(ids), k))
    o_node, o_item, o_slot = (np.concatenate(x).astype(np.int64) for x in (node, item, slot))
    order = np.lexsort((o_item, o_node))
    o_node, o_item, o_slot = o_node[order], o_item[order], o_slot[order]
    n = len(o_node)
    second = o_slot == 1
    cost = prod.value[o_item] * np.where(second, _uniform(rng, 1.05, 1.2, n), 1.0)
    capacity = np.ceil(output[o_node, o_item] * _uniform(rng, 1.2, 1.5, n) * cfg.capacity_slack)
    raw = o_item < lay.comp
    bulk = _pick(rng, np.flatnonzero(raw & second), cfg.min_order_offers)
    with_min = np.r_[bulk, _pick(rng, np.flatnonzero(raw & ~second), cfg.min_order_offers - len(bulk))]
    min_order = np.zeros(n)
    min_order[with_min] = np.round(capacity[with_min] * _uniform(rng, 0.25, 0.5, len(with_min)))
    cost[bulk] = prod.value[o_item[bulk]] * _uniform(rng, 0.9, 0.97, len(bulk))
    payment = rng.choice(np.array([30.0, 45.0, 60.0, 90.0]), size=n)
    offers = [
        SupplyOffer(
            id=f"{node_ids[s]}:{item_ids[i]}",
            supplier=node_ids[s],
            item=item_ids[i],
            unit_cost=c,
            capacity=cap,
            min_order=m,
            payment_days=pd,
        )
        for s, i, c, cap, m, pd in zip(
            o_node.tolist(),
            o_item.tolist(),
            _money(cost),
            capacity.tolist(),
            min_order.tolist(),
            payment.tolist(),
            strict=True,
        )
    ]

    b_item = np.flatnonzero(backup >= 0)
    b_cost = prod.value[b_item] * _uniform(rng, 1.2, 1.5, len(b_item))
    b_cap = np.ceil(total[b_item] * _uniform(rng, 0.3, 0.6, len(b_item)))
    activation = total[b_item] * b_cost * _uniform(rng, 2.0, 4.0, len(b_item))
    b_payment = rng.choice(np.array([30.0, 45.0, 60.0]), size=len(b_item))
    offers += [
        SupplyOffer(
            f"{node_ids[s]}:{item_ids[i]}:backup",
            node_ids[s],
            item_ids[i],
            c,
            cap,
            backup=True,
            activation_cost=a,
            payment_days=pd,
        )
        for s, i, c, cap, a, pd in zip(
            backup[b_item].tolist(),
            b_item.tolist(),
            _money(b_cost),
            b_cap.tolist(),
            _money(activation),
            b_payment.tolist(),
            strict=True,
        )
    ]

    s_item = _pick(rng, np.flatnonzero(sold), cfg.spot_offers)
    s_node = prod.source[s_item, 0]
    s_cost = prod.value[s_item] * _uniform(rng, 1.3, 1.6, len(s_item))
    s_cap = np.ceil(total[s_item] * _uniform(rng, 0.2, 0.4, len(s_item)))
    offers += [
        SupplyOffer(
            id=f"{node_ids[s]}:{item_ids[i]}:spot",
            supplier=node_ids[s],
            item=item_ids[i],
            unit_cost=c,
            capacity=cap,
            expedited=True,
        )
        for s, i, c, cap in zip(s_node.tolist(), s_item.tolist(), _money(s_cost), s_cap.tolist(), strict=True)
    ]
    return offers


@dataclass(frozen=True)
class _Production:
    recipes: list[Recipe]
    regular: FloatArray  # (N,) regular hours per period, inf at nodes without recipes
    overtime: FloatArray  # (N,)
    overtime_cost: FloatArray  # (N,)
    full_use: FloatArray  # (N, I) inputs consumed in a period at full hours, shared evenly by recipes


def _recipes(
    rng: np.random.Generator,
    cfg: GeneratorConfig,
    lay: _Layout,
    prod: _Products,
    output: FloatArray,
    node_ids: list[str],
    item_ids: list[str],
) -> _Production:
    """Recipes for made components (tier 1) and finished goods (plants) at each source, and the
    production hours of each node.

    A finished good takes 0.1-0.5 hours a unit, a component 0.02-0.2. Setup recipes cost 0.5-2% of
    a period's output value per period run and may make up to 1.5-2.5x their nominal output.
    Regular hours cover 1.05-1.2x the nominal load, overtime another 25-35% at 40-80 an hour.
    """
    made = (np.arange(lay.n_items) >= lay.comp) & ~prod.bought & (output.sum(axis=0) > 0)
    node, item = [], []
    for k in (0, 1):
        ids = np.flatnonzero(made & (prod.source[:, k] >= 0))
        node.append(prod.source[ids, k])
        item.append(ids)
    r_node, r_item = (np.concatenate(x).astype(np.int64) for x in (node, item))
    order = np.lexsort((r_item, r_node))
    r_node, r_item = r_node[order], r_item[order]
    R = len(r_node)
    nominal = output[r_node, r_item]
    finished = r_item >= lay.fin
    hours = np.round(np.where(finished, _uniform(rng, 0.1, 0.5, R), _uniform(rng, 0.02, 0.2, R)), 3)
    cost = prod.process[r_item] * _uniform(rng, 0.95, 1.1, R)
    with_setup = rng.random(R) < cfg.setup_recipe_share
    setup = np.where(with_setup, nominal * prod.value[r_item] * _uniform(rng, 0.005, 0.02, R), 0.0)
    max_rate = np.where(with_setup, np.ceil(nominal * _uniform(rng, 1.5, 2.5, R) * cfg.capacity_slack), INF)
    inputs: dict[int, tuple[tuple[str, float], ...]] = {}
    for i in np.unique(r_item).tolist():
        cols = np.flatnonzero(prod.bom[i])
        inputs[i] = tuple(zip((item_ids[c] for c in cols.tolist()), prod.bom[i, cols].tolist(), strict=True))
    recipes = [
        Recipe(
            id=f"{node_ids[n]}:{item_ids[i]}",
            node=node_ids[n],
            item=item_ids[i],
            inputs=inputs[i],
            hours_per_unit=h,
            unit_cost=c,
            setup_cost=s,
            max_rate=m,
        )
        for n, i, h, c, s, m in zip(
            r_node.tolist(),
            r_item.tolist(),
            hours.tolist(),
            _money(cost),
            _money(setup),
            max_rate.tolist(),
            strict=True,
        )
    ]
    load = np.bincount(r_node, weights=nominal * hours, minlength=lay.n_nodes)
    regular = np.where(load > 0, np.ceil(load * _uniform(rng, 1.05, 1.2, lay.n_nodes) * cfg.capacity_slack), INF)
    overtime = np.where(load > 0, np.ceil(regular * _uniform(rng, 0.25, 0.35, lay.n_nodes)), 0.0)
    overtime_cost = np.where(load > 0, np.round(_uniform(rng, 40.0, 80.0, lay.n_nodes)), 0.0)
    # What each node's recipes could consume in one period with all hours shared evenly among them.
    per_recipe = (regular + overtime)[r_node] / np.bincount(r_node, minlength=lay.n_nodes)[r_node]
    full_rate = np.minimum(per_recipe / np.maximum(hours, 1e-3), max_rate)
    full_use = np.zeros((lay.n_nodes, lay.n_items))
    np.add.at(full_use, r_node, prod.bom[r_item] * full_rate[:, None])
    return _Production(recipes, regular, overtime, overtime_cost, full_use)


@dataclass(frozen=True)
class _Inventory:
    stocks: list[Stock]
    receipts: list[InTransit]
    storage: FloatArray  # (N,)
    working_capital_cap: float


def _inventory(
    rng: np.random.Generator,
    cfg: GeneratorConfig,
    lay: _Layout,
    dem: _Demand,
    need: FloatArray,
    output: FloatArray,
    full_use: FloatArray,
    value: FloatArray,
    node_ids: list[str],
    item_ids: list[str],
) -> _Inventory:
    """Initial stock enough to bridge the first periods' lead times, safety stocks at DCs, a few
    scheduled receipts, storage at plants and DCs, and the working-capital cap.

    DCs hold 1-2 periods of their customers' demand (5% of positions start empty) against a safety
    stock of 0.5-1.2 periods that costs 2-5% of the item's value per unit short per period; plants
    hold 0.3-0.8 periods of output and 1-1.5 of components; tier-1 suppliers 1-1.5 periods of raw
    materials. Storage is 1.1-1.4x what a node starts with (or its safety stock, if more).
    """
    blocks = (
        (slice(lay.dc, lay.cust), slice(lay.fin, lay.n_items), need, (1.0, 1.6)),
        (slice(lay.plant, lay.dc), slice(lay.fin, lay.n_items), output, (0.1, 0.4)),
        (slice(lay.plant, lay.dc), slice(lay.comp, lay.fin), need, (1.0, 1.5)),
        (slice(lay.t1, lay.plant), slice(0, lay.comp), need, (1.0, 1.5)),
    )
    node, item, on_hand = [], [], []
    for nodes, items, rate, (low, high) in blocks:
        n, i = np.nonzero(rate[nodes, items] > 0)
        node.append(nodes.start + n)
        item.append(items.start + i)
        on_hand.append(np.round(rate[nodes.start + n, items.start + i] * _uniform(rng, low, high, len(n))))
    s_node, s_item, held = (np.concatenate(x) for x in (node, item, on_hand))
    s_node, s_item = s_node.astype(np.int64), s_item.astype(np.int64)
    at_dc = (s_node >= lay.dc) & (s_node < lay.cust)
    rate = need[s_node, s_item]
    held = np.where(at_dc & (rng.random(len(held)) < 0.05), 0.0, held)
    safety = np.where(at_dc, np.round(rate * _uniform(rng, 0.5, 1.2, len(held))), 0.0)
    penalty = np.where(safety > 0, value[s_item] * _uniform(rng, 0.02, 0.05, len(held)), 0.0)
    stocks = [
        Stock(node=node_ids[n], item=item_ids[i], on_hand=oh, safety_stock=ss, safety_penalty=sp)
        for n, i, oh, ss, sp in zip(
            s_node.tolist(), s_item.tolist(), held.tolist(), safety.tolist(), _money(penalty), strict=True
        )
    ]

    receiving = _pick(rng, np.flatnonzero((s_node >= lay.plant) & (rate > 0)), cfg.in_transit_receipts)
    period = rng.integers(0, min(2, cfg.periods), size=len(receiving))
    quantity = np.round(rate[receiving] * _uniform(rng, 0.5, 1.0, len(receiving)))
    receipts = [
        InTransit(node=node_ids[n], item=item_ids[i], period=p, quantity=q)
        for n, i, p, q in zip(
            s_node[receiving].tolist(), s_item[receiving].tolist(), period.tolist(), quantity.tolist(), strict=True
        )
    ]

    start = np.bincount(s_node, weights=np.maximum(held, safety), minlength=lay.n_nodes)
    start += np.bincount(s_node[receiving], weights=quantity, minlength=lay.n_nodes)
    limited = (np.arange(lay.n_nodes) >= lay.plant) & (np.arange(lay.n_nodes) < lay.cust)
    storage = np.where(limited, np.ceil(start * _uniform(rng, 1.1, 1.4, lay.n_nodes)), INF)

    # A floor for the cap: stock that cannot leave in the first period, an estimate of what any plan
    # must hold. Inputs beyond what full hours consume, DC stock beyond the first period's demand,
    # finished goods at plants (shipping them only moves them to a DC), and later receipts. The least
    # feasible cap, by LP, measured at most 0.87x this floor on 61 demo seeds and 0.4x on S and M; it
    # is an estimate, not a bound: on random configs with 3-8 periods it fell short for about 1 in 12.
    first = np.zeros(len(held))
    first[receiving[period == 0]] = quantity[period == 0]
    deliverable = np.zeros((lay.n_nodes, lay.n_items))
    for dc in (dem.dc, dem.dc2):
        two = dc[dem.node] >= 0
        np.add.at(deliverable, (dc[dem.node][two], dem.item[two]), dem.quantity[two, 0])
    stuck = np.where(
        at_dc,
        held + first - deliverable[s_node, s_item],
        np.where(s_item >= lay.fin, held + first, held + first - full_use[s_node, s_item]),
    )
    stuck_value = float(
        np.maximum(stuck, 0.0) @ value[s_item] + quantity[period > 0] @ value[s_item[receiving[period > 0]]]
    )
    # Mid-horizon, the unconstrained plan holds 0.9-1.1x the value of the safety stocks (S and M), so a
    # cap a little below it binds mildly.
    safety_value = float(safety @ value[s_item])
    cap = (
        INF
        if math.isinf(cfg.working_capital_factor)
        else round(max(cfg.working_capital_factor * safety_value, stuck_value), 2)
    )
    return _Inventory(stocks, receipts, storage, cap)


def _streams(
    rng: np.random.Generator,
    cfg: GeneratorConfig,
    dem: _Demand,
    value: FloatArray,
    node_ids: list[str],
    item_ids: list[str],
) -> list[Demand]:
    """Prices 1.5-2.2x the item's value; penalties against a cost to serve of 1.25x the value.

    A lost sale costs 1.2-1.5x the cost to serve (times 1.3, 1.15, 1.0 for tiers 1, 2, 3) on top of
    the lost price; a period of backlog 12%, 8% or 5% of the cost to serve. Single sourcing is drawn
    among streams that two DCs serve.
    """
    S = len(dem.node)
    base = value[dem.item]
    priority = rng.choice(np.array([1, 2, 3]), size=S, p=PRIORITY_SHARES)
    price = base * _uniform(rng, 1.5, 2.2, S)
    cost_to_serve = 1.25 * base
    lost = cost_to_serve * _uniform(rng, 1.2, 1.5, S) * np.array([0.0, 1.3, 1.15, 1.0])[priority]
    backlog = cost_to_serve * np.array([0.0, 0.12, 0.08, 0.05])[priority]
    single = (rng.random(S) < cfg.single_source_share) & (dem.dc2[dem.node] >= 0)
    receivable = rng.choice(np.array([30.0, 45.0, 60.0]), size=S)
    return [
        Demand(
            customer=node_ids[c],
            item=item_ids[i],
            quantity=tuple(q),
            price=p,
            priority=pr,
            backlog_penalty=b,
            lost_sale_penalty=lo,
            single_source=ss,
            receivable_days=rd,
        )
        for c, i, q, p, pr, b, lo, ss, rd in zip(
            dem.node.tolist(),
            dem.item.tolist(),
            dem.quantity.tolist(),
            _money(price),
            priority.tolist(),
            _money(backlog),
            _money(lost),
            single.tolist(),
            receivable.tolist(),
            strict=True,
        )
    ]


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


def generate(size: str | GeneratorConfig, seed: int = 0) -> NetworkSpec:
    """A supply network of the given size (a name in `SIZES` or a config), identical for the same seed.

    Every random number comes from `numpy.random.default_rng(seed)`, drawn in a fixed order.
    """
    cfg = _config(size)
    rng = np.random.default_rng(seed)
    lay = _Layout.of(cfg)
    item_ids = _item_ids(cfg)
    node_ids = _node_ids(cfg, item_ids)

    prod = _products(rng, cfg, lay)
    dem = _demand(rng, cfg, lay)
    need, output = _requirements(lay, prod, dem)
    backup = _backups(rng, cfg, lay, prod, output)
    links = _links(rng, cfg, lay, prod, dem, need, backup)
    whole_need, _ = _requirements(lay, prod, dem, whole=True)
    lanes = _lanes(rng, cfg, lay, links, need, whole_need, prod.value, node_ids, item_ids)
    offers = _offers(rng, cfg, lay, prod, output, backup, node_ids, item_ids)
    production = _recipes(rng, cfg, lay, prod, output, node_ids, item_ids)
    inventory = _inventory(rng, cfg, lay, dem, need, output, production.full_use, prod.value, node_ids, item_ids)
    demands = _streams(rng, cfg, dem, prod.value, node_ids, item_ids)

    counts = [cfg.tier2_suppliers, cfg.tier1_suppliers, cfg.plants, cfg.dcs, cfg.customer_zones]
    roles = np.repeat([NodeRole.SUPPLIER, NodeRole.SUPPLIER, NodeRole.PLANT, NodeRole.DC, NodeRole.CUSTOMER], counts)
    tiers = np.repeat([2, 1, 0, 0, 0], counts)
    nodes = [
        Node(
            id=node_ids[n],
            role=NodeRole(role),
            tier=tier,
            storage_capacity=storage,
            regular_hours=regular,
            overtime_hours=overtime,
            overtime_cost=cost,
        )
        for n, (role, tier, storage, regular, overtime, cost) in enumerate(
            zip(
                roles.tolist(),
                tiers.tolist(),
                inventory.storage.tolist(),
                production.regular.tolist(),
                production.overtime.tolist(),
                production.overtime_cost.tolist(),
                strict=True,
            )
        )
    ]
    holding = prod.value * 0.004 * cfg.period_hours / 168.0  # about 20% a year
    items = [
        Item(id=i, unit_value=v, holding_cost=h)
        for i, v, h in zip(item_ids, _money(prod.value), np.round(holding, 4).tolist(), strict=True)
    ]
    return NetworkSpec(
        name=f"{cfg.name}-seed{seed}",
        horizon=cfg.periods,
        period_hours=cfg.period_hours,
        items=tuple(items),
        nodes=tuple(nodes),
        offers=tuple(offers),
        recipes=tuple(production.recipes),
        lanes=tuple(lanes),
        demands=tuple(demands),
        stocks=tuple(inventory.stocks),
        in_transit=tuple(inventory.receipts),
        service_targets=tuple(ServiceTarget(priority=k, fill_rate=v) for k, v in SERVICE_TARGETS.items()),
        working_capital_cap=inventory.working_capital_cap,
    )


_COUNTS = (
    "tier2_suppliers",
    "tier1_suppliers",
    "plants",
    "dcs",
    "customer_zones",
    "finished_items",
    "components",
    "raw_materials",
)


def _config(size: str | GeneratorConfig) -> GeneratorConfig:
    if isinstance(size, GeneratorConfig):
        cfg = size
    elif size in SIZES:
        cfg = SIZES[size]
    else:
        raise ValueError(f"unknown network size {size!r}; use one of {', '.join(SIZES)} or a GeneratorConfig")
    for name in _COUNTS:
        if getattr(cfg, name) < 1:
            raise ValueError(f"GeneratorConfig {cfg.name!r}: {name} is {getattr(cfg, name)}; every echelon needs one")
    if cfg.periods < 3:
        raise ValueError(f"GeneratorConfig {cfg.name!r}: periods is {cfg.periods}; lead times reach 2, give 3 or more")
    return cfg


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

    from solver.convert import write_network  # imported here: generating needs no protobuf

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


def with_calendars(spec: NetworkSpec) -> NetworkSpec:
    """`spec` planned against calendars: the plant with the most regular hours shut for maintenance
    (neither regular nor overtime hours: the plant is closed) for two periods from a third of the
    horizon, and a seasonal allocation on every finite regular offer (60% of its capacity over the
    first third of the horizon, 140% over the middle third). Deterministic: the same spec gives the
    same calendars."""
    H = spec.horizon
    third = max(H // 3, 1)
    hours = [
        (n.regular_hours, n.id)
        for n in spec.nodes
        if n.role == NodeRole.PLANT and isinstance(n.regular_hours, float) and math.isfinite(n.regular_hours)
    ]
    plant = max(hours)[1] if hours else ""
    shut = (min(third, H - 1), min(third + 2, H))

    def maintenance(node: Node) -> Node:
        if node.id != plant:
            return node
        assert isinstance(node.regular_hours, float) and isinstance(node.overtime_hours, float)
        closed = (CalendarException(*shut, 0.0),)
        return replace(
            node,
            regular_hours=Calendar(node.regular_hours, closed),
            overtime_hours=Calendar(node.overtime_hours, closed),
        )

    def season(offer: SupplyOffer) -> SupplyOffer:
        cap = offer.capacity
        if offer.backup or offer.expedited or not isinstance(cap, float) or not math.isfinite(cap):
            return offer
        low = CalendarException(0, third, round(0.6 * cap, 2))
        high = CalendarException(third, min(2 * third, H), round(1.4 * cap, 2))
        exceptions = (low, high) if 2 * third <= H and third < min(2 * third, H) else (low,)
        return replace(offer, capacity=Calendar(cap, exceptions))

    return replace(
        spec,
        name=f"{spec.name}-calendars",
        nodes=tuple(maintenance(n) for n in spec.nodes),
        offers=tuple(season(o) for o in spec.offers),
    )
