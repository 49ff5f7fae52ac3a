"""The supply network: a readable specification and its compiled, integer-indexed array form.

`NetworkSpec` is what a user, a test or a file describes (string ids, scalars); `Network.from_spec`
resolves ids, validates every field and produces the frozen numpy arrays the model builders read.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from models.errors import ValidationError, ViolationCollector, echo

INF = math.inf

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class NodeRole(IntEnum):
    """What a node does in the network."""

    SUPPLIER = 1
    """Sells items through supply offers; tier 1 suppliers may also run recipes."""
    PLANT = 2
    """Turns inputs into outputs with recipes and holds stock."""
    DC = 3
    """A distribution centre: holds stock and ships it on."""
    CUSTOMER = 4
    """A customer zone: where demand is; holds no stock."""


# ---------------------------------------------------------------------------------------------
# The specification: what a person writes.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarException:
    """A value that replaces a calendar's base value in periods start_period .. end_period - 1."""

    start_period: int
    end_period: int
    """The period after the last one the exception covers (> start_period, <= the horizon)."""
    value: float


@dataclass(frozen=True)
class Calendar:
    """A capacity that holds `base` in every period except where a dated exception replaces it (a
    maintenance shutdown, a seasonal allocation). Exceptions may not overlap."""

    base: float
    exceptions: tuple[CalendarException, ...] = ()


PerPeriod = float | tuple[float, ...] | Calendar
"""A capacity per period: a constant (the short form), one value for each period of the horizon
(a tuple of length H), or a `Calendar` of dated exceptions over a base value."""


@dataclass(frozen=True)
class Item:
    """A finished good, component or raw material."""

    id: str
    unit_value: float = 0.0
    """Value of one unit held in stock, for the working-capital cap and turnover."""
    holding_cost: float = 0.0
    """Cost of holding one unit for one period at any stocking node."""


@dataclass(frozen=True)
class Node:
    """A supplier, plant, distribution centre or customer zone."""

    id: str
    role: NodeRole
    tier: int = 0
    """Supplier tier (1 or 2) for suppliers; 0 for every other role."""
    storage_capacity: PerPeriod = INF
    """Units of all items together that the node may hold at the end of a period."""
    regular_hours: PerPeriod = INF
    """Production hours available per period at regular time."""
    overtime_hours: PerPeriod = 0.0
    """Extra production hours per period available at `overtime_cost` per hour."""
    overtime_cost: float = 0.0


@dataclass(frozen=True)
class SupplyOffer:
    """A supplier's offer to sell an item: it becomes available at the supplier's node."""

    id: str
    supplier: str
    item: str
    unit_cost: float = 0.0
    capacity: PerPeriod = INF
    """Units per period."""
    min_order: float = 0.0
    """If positive, an order placed in a period is at least this large (a binary per period)."""
    backup: bool = False
    """A backup offer can only be used once activated (one binary for the horizon)."""
    activation_cost: float = 0.0
    payment_days: float = 0.0
    """Days between receipt and payment, for the cash-to-cash cycle."""
    expedited: bool = False
    """A spot or expedited purchase: a decision protocols may govern."""


@dataclass(frozen=True)
class Recipe:
    """Making one unit of `item` at `node` from its bill of materials."""

    id: str
    node: str
    item: str
    inputs: tuple[tuple[str, float], ...] = ()
    """(input item id, units of input per unit of output)."""
    hours_per_unit: float = 0.0
    unit_cost: float = 0.0
    setup_cost: float = 0.0
    """If positive, each period the recipe runs costs this much (a binary per period)."""
    max_rate: PerPeriod = INF
    """Units of output per period, whatever the hours allow."""
    setup_hours: float = 0.0
    """Hours of the node's capacity a period's setup takes before the first unit is made (regular
    hours first, then overtime); if positive, the recipe has a setup binary per period."""


@dataclass(frozen=True)
class Lane:
    """A transport link carrying the listed items from one node to another."""

    id: str
    origin: str
    destination: str
    items: tuple[str, ...]
    lead_time: int = 0
    """Periods between departure and arrival."""
    unit_cost: float = 0.0
    capacity: PerPeriod = INF
    """Units of all items together departing per period."""
    truck_size: float = 0.0
    truck_cost: float = 0.0
    """If positive, shipments go in whole trucks of `truck_size` units (an integer per period)."""
    mode: str = "road"
    expedited: bool = False
    """An expedite mode: shorter lead time at a premium."""
    alternate: bool = False
    """A detour used to re-route around a disruption: a decision protocols may govern."""


@dataclass(frozen=True)
class Demand:
    """What a customer zone asks of one item, period by period."""

    customer: str
    item: str
    quantity: tuple[float, ...]
    """Units per period; shorter than the horizon means zero for the remaining periods."""
    price: float = 0.0
    priority: int = 1
    """Priority tier: 1 is served first."""
    backlog_penalty: float = 0.0
    """Cost per unit per period a unit waits beyond the period it was asked for."""
    lost_sale_penalty: float = 0.0
    """Cost per unit never delivered within the horizon (on top of the lost price)."""
    single_source: bool = False
    """If set, the customer receives this item over exactly one inbound lane."""
    receivable_days: float = 0.0
    """Days between delivery and payment, for the cash-to-cash cycle."""
    on_time: bool = False
    """If set, every unit is delivered in the period it is asked for: no backlog and no lost sale
    (a hard constraint; a network that cannot do it has no plan, and the diagnosis says why)."""

    @property
    def id(self) -> str:
        return f"{self.customer}/{self.item}"


@dataclass(frozen=True)
class Stock:
    """Inventory of one item at one node: what is on hand now and the soft safety-stock target."""

    node: str
    item: str
    on_hand: float = 0.0
    safety_stock: float = 0.0
    safety_penalty: float = 0.0
    """Cost per unit per period that inventory falls short of `safety_stock`."""

    @property
    def id(self) -> str:
        return f"{self.node}/{self.item}"


@dataclass(frozen=True)
class InTransit:
    """A scheduled receipt: units already under way that arrive at `node` in `period`."""

    node: str
    item: str
    period: int
    quantity: float

    @property
    def id(self) -> str:
        return f"{self.node}/{self.item}@{self.period}"


@dataclass(frozen=True)
class ServiceTarget:
    """The least share of a priority tier's total demand that must be delivered in the horizon."""

    priority: int
    fill_rate: float
    on_time: bool = False
    """If set, every demand stream of the tier is served on time, as `Demand.on_time`."""


@dataclass(frozen=True)
class NetworkSpec:
    """A whole supply network as a person describes it."""

    name: str
    horizon: int
    period_hours: float = 168.0
    items: tuple[Item, ...] = ()
    nodes: tuple[Node, ...] = ()
    offers: tuple[SupplyOffer, ...] = ()
    recipes: tuple[Recipe, ...] = ()
    lanes: tuple[Lane, ...] = ()
    demands: tuple[Demand, ...] = ()
    stocks: tuple[Stock, ...] = ()
    in_transit: tuple[InTransit, ...] = ()
    service_targets: tuple[ServiceTarget, ...] = ()
    working_capital_cap: float = INF
    """Most value of inventory held across the network at the end of any period."""
    capital_cost_rate: float = 0.0
    """Cost per unit of value per period of capital released beyond the cap (when a protocol
    authorizes a working-capital release)."""


# ---------------------------------------------------------------------------------------------
# The compiled form: what the models read.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Network:
    """A validated network as integer-indexed arrays (I items, N nodes, O offers, R recipes,
    B bill-of-materials lines, L lanes, A lane-item arcs, S demand streams, P stock positions,
    H periods). Build it with `Network.from_spec`; every array is read-only."""

    spec: NetworkSpec
    horizon: int
    period_hours: float

    item_ids: tuple[str, ...]
    item_value: FloatArray
    item_holding_cost: FloatArray

    node_ids: tuple[str, ...]
    node_role: IntArray
    node_tier: IntArray
    node_storage: FloatArray  # (N, H)
    node_regular_hours: FloatArray  # (N, H)
    node_overtime_hours: FloatArray  # (N, H)
    node_overtime_cost: FloatArray

    offer_ids: tuple[str, ...]
    offer_node: IntArray
    offer_item: IntArray
    offer_cost: FloatArray
    offer_capacity: FloatArray  # (O, H)
    offer_min_order: FloatArray
    offer_backup: BoolArray
    offer_activation_cost: FloatArray
    offer_payment_days: FloatArray
    offer_expedited: BoolArray

    recipe_ids: tuple[str, ...]
    recipe_node: IntArray
    recipe_item: IntArray
    recipe_hours: FloatArray
    recipe_cost: FloatArray
    recipe_setup_cost: FloatArray
    recipe_max_rate: FloatArray  # (R, H)
    recipe_setup_hours: FloatArray
    bom_recipe: IntArray
    bom_item: IntArray
    bom_qty: FloatArray

    lane_ids: tuple[str, ...]
    lane_origin: IntArray
    lane_destination: IntArray
    lane_lead_time: IntArray
    lane_delay: IntArray  # (L, H) extra periods for a departure in t (lead-time signals)
    lane_cost: FloatArray
    lane_capacity: FloatArray  # (L, H)
    lane_truck_size: FloatArray
    lane_truck_cost: FloatArray
    lane_mode: tuple[str, ...]
    lane_expedited: BoolArray
    lane_alternate: BoolArray
    arc_lane: IntArray
    arc_item: IntArray

    demand_node: IntArray
    demand_item: IntArray
    demand_qty: FloatArray  # (S, H)
    demand_price: FloatArray
    demand_priority: IntArray
    demand_backlog_penalty: FloatArray
    demand_lost_penalty: FloatArray
    demand_single_source: BoolArray
    demand_receivable_days: FloatArray
    demand_on_time: BoolArray
    """Streams that must be served on time (their own flag or their tier's): no backlog, no lost sale."""

    position_node: IntArray
    """Stock positions: the (node, item) pairs of non-customer nodes that can hold the item."""
    position_item: IntArray
    position_on_hand: FloatArray
    position_safety_stock: FloatArray
    position_safety_penalty: FloatArray
    position_receipts: FloatArray  # (P, H) scheduled receipts

    target_priority: IntArray
    target_fill_rate: FloatArray
    working_capital_cap: float
    capital_cost_rate: float

    # -- sizes ----------------------------------------------------------------------------------

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_offers(self) -> int:
        return len(self.offer_ids)

    @property
    def n_recipes(self) -> int:
        return len(self.recipe_ids)

    @property
    def n_lanes(self) -> int:
        return len(self.lane_ids)

    @property
    def n_arcs(self) -> int:
        return len(self.arc_lane)

    @property
    def n_demands(self) -> int:
        return len(self.demand_node)

    @property
    def n_positions(self) -> int:
        return len(self.position_node)

    # -- derived index maps -----------------------------------------------------------------------

    def position_index(self, node: IntArray, item: IntArray) -> IntArray:
        """Stock position of each (node, item) pair, -1 where the pair holds no stock. Node and item
        indices follow numpy's rules (a negative one counts from the end, one out of range raises
        IndexError); the lookup is a binary search, O(log P) a pair, with no (N, I) table."""
        return self._position_pairs.find(node, item)

    def demand_index(self, node: IntArray, item: IntArray) -> IntArray:
        """Demand stream of each (customer, item) pair, -1 where there is none (as `position_index`)."""
        return self._demand_pairs.find(node, item)

    def position_of(self, node: int, item: int) -> int:
        """The stock position of one (node, item) pair, -1 if it holds no stock (a dict lookup)."""
        return self._position_rows.get((node, item), -1)

    def demand_of(self, node: int, item: int) -> int:
        """The demand stream of one (customer, item) pair, -1 if there is none (a dict lookup)."""
        return self._demand_rows.get((node, item), -1)

    @cached_property
    def _position_rows(self) -> dict[tuple[int, int], int]:
        return {pair: k for k, pair in enumerate(zip(self.position_node.tolist(), self.position_item.tolist()))}

    @cached_property
    def _demand_rows(self) -> dict[tuple[int, int], int]:
        rows: dict[tuple[int, int], int] = {}
        for k, pair in enumerate(zip(self.demand_node.tolist(), self.demand_item.tolist())):
            rows.setdefault(pair, k)
        return rows

    @cached_property
    def _position_pairs(self) -> _PairIndex:
        return _PairIndex.of(self.position_node, self.position_item, self.n_nodes, self.n_items)

    @cached_property
    def _demand_pairs(self) -> _PairIndex:
        return _PairIndex.of(self.demand_node, self.demand_item, self.n_nodes, self.n_items)

    @cached_property
    def items_by_id(self) -> Mapping[str, int]:
        """Item id -> index, for O(1) lookups (built once per network)."""
        return {ident: k for k, ident in enumerate(self.item_ids)}

    @cached_property
    def nodes_by_id(self) -> Mapping[str, int]:
        """Node id -> index, for O(1) lookups (built once per network)."""
        return {ident: k for k, ident in enumerate(self.node_ids)}

    @cached_property
    def lanes_by_id(self) -> Mapping[str, int]:
        """Lane id -> index, for O(1) lookups (built once per network)."""
        return {ident: k for k, ident in enumerate(self.lane_ids)}

    def offers_at(self, node: int) -> IntArray:
        """The offers of node `node`, ascending (a slice of a grouping built once per network)."""
        return self._offers_by_node.members(node)

    def demands_at(self, node: int) -> IntArray:
        """The demand streams of node `node`, ascending (as `offers_at`)."""
        return self._demands_by_node.members(node)

    @cached_property
    def _offers_by_node(self) -> _Groups:
        return _Groups.of(self.offer_node, self.n_nodes)

    @cached_property
    def _demands_by_node(self) -> _Groups:
        return _Groups.of(self.demand_node, self.n_nodes)

    @property
    def recipe_has_setup(self) -> BoolArray:
        """Recipes with a setup binary per period: a setup cost or setup hours."""
        return np.asarray((self.recipe_setup_cost > 0) | (self.recipe_setup_hours > 0))

    def lane_arrival(self) -> IntArray:
        """Arrival period of a departure on each lane in each period, shape (L, H): t + lead + delay."""
        return np.arange(self.horizon)[None, :] + self.lane_lead_time[:, None] + self.lane_delay

    def arc_arrival(self) -> IntArray:
        """Arrival period of a departure on each lane-item arc in each period, shape (A, H)."""
        return self.lane_arrival()[self.arc_lane]

    def demand_ids(self) -> list[str]:
        return [f"{self.node_ids[n]}/{self.item_ids[i]}" for n, i in zip(self.demand_node, self.demand_item)]

    def position_ids(self) -> list[str]:
        return [f"{self.node_ids[n]}/{self.item_ids[i]}" for n, i in zip(self.position_node, self.position_item)]

    def arc_ids(self) -> list[str]:
        return [f"{self.lane_ids[lane]}/{self.item_ids[i]}" for lane, i in zip(self.arc_lane, self.arc_item)]

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: NetworkSpec) -> Network:
        """Resolve ids, validate every field, and compile the spec into arrays.

        Raises `ValidationError` naming the entity, its id and the field; `ValidationErrors` (a
        `ValidationError` that reads as the first) when several entities are wrong.
        """
        return _compile(spec)


@dataclass(frozen=True)
class _PairIndex:
    """(node, item) pairs -> their row, by binary search over the sorted keys node * I + item: O(n
    log n) to build and O(log n) a lookup, where a dense (N, I) table would take O(N I) memory."""

    keys: IntArray
    """Sorted keys node * I + item."""
    rows: IntArray
    """The row of each sorted key."""
    n_nodes: int
    n_items: int

    @classmethod
    def of(cls, node: IntArray, item: IntArray, n_nodes: int, n_items: int) -> _PairIndex:
        keys = np.asarray(node, dtype=np.int64) * n_items + np.asarray(item, dtype=np.int64)
        rows = np.argsort(keys, kind="stable")
        return cls(keys[rows], rows.astype(np.int64), n_nodes, n_items)

    def find(self, node: npt.ArrayLike, item: npt.ArrayLike) -> IntArray:
        """The row of each (node, item) pair, -1 where there is none; shaped like the broadcast pair."""
        n, i = np.broadcast_arrays(np.asarray(node, dtype=np.int64), np.asarray(item, dtype=np.int64))
        n = _wrapped(n, self.n_nodes, "node")
        i = _wrapped(i, self.n_items, "item")
        if len(self.keys) == 0:
            return np.full(n.shape, -1, dtype=np.int64)
        keys = n * self.n_items + i
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.rows[at], -1).astype(np.int64)


def _wrapped(index: IntArray, size: int, what: str) -> IntArray:
    """`index` with numpy's rules for an axis of `size`: a negative index counts from the end."""
    if index.size and (index.min() < -size or index.max() >= size):
        raise IndexError(f"{what} index out of range for {size} {what}s")
    return np.where(index < 0, index + size, index)


@dataclass(frozen=True)
class _Groups:
    """The rows of each group (a node's offers, say) as slices of one stable sort: O(n log n) once,
    then each group's rows without a scan of every row."""

    order: IntArray
    starts: IntArray
    """Group g's rows are order[starts[g]:starts[g + 1]], ascending."""

    @classmethod
    def of(cls, group: IntArray, n_groups: int) -> _Groups:
        order = np.argsort(group, kind="stable").astype(np.int64)
        starts = np.searchsorted(np.asarray(group)[order], np.arange(n_groups + 1)).astype(np.int64)
        return cls(order, starts)

    def members(self, g: int) -> IntArray:
        return self.order[self.starts[g] : self.starts[g + 1]]


# ---------------------------------------------------------------------------------------------
# Validation and compilation
# ---------------------------------------------------------------------------------------------


def _index(entity: str, ids: Iterable[str], found: ViolationCollector) -> dict[str, int]:
    """Ids -> positions; an empty, repeated or '/'-joined id is recorded in `found` and left out."""
    table: dict[str, int] = {}
    for k, ident in enumerate(ids):
        with found.entity():
            _require(bool(ident), entity, f"#{k}", "id", "is empty; give every entity an id")
            _require(ident not in table, entity, ident, "id", "is used twice; ids must be unique")
            _require("/" not in ident, entity, ident, "id", "contains '/', which Concerto uses to join ids; rename it")
            table[ident] = k
    return table


def _resolve(table: dict[str, int], kind: str, entity: str, ident: str, fld: str, ref: str) -> int:
    if ref not in table:
        raise ValidationError(entity, ident, fld, f"refers to unknown {kind} {echo(ref)}")
    return table[ref]


def _whole(value: object) -> bool:
    """A whole number (Python or numpy integer), not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _require(ok: bool, entity: str, ident: str, fld: str, message: str) -> None:
    if not ok:
        raise ValidationError(entity, ident, fld, message)


def _nonneg(entity: str, ident: str, values: dict[str, float], finite: Sequence[str] = ()) -> None:
    """Every listed quantity or cost is a number >= 0; those in `finite` must also be finite."""
    for fld, value in values.items():
        _require(not math.isnan(value), entity, ident, fld, "is NaN")
        _require(value >= 0, entity, ident, fld, f"is {value}; it must be >= 0")
        if fld in finite:
            _require(math.isfinite(value), entity, ident, fld, "must be finite")


def _periodic(value: PerPeriod, H: int, entity: str, ident: str, fld: str, *, finite: bool = False) -> FloatArray:
    """The (H,) values of a capacity written as a constant, a per-period tuple or a `Calendar`,
    each >= 0 (and finite with `finite`); a violation names the field and the period."""
    if isinstance(value, Calendar):
        _nonneg(entity, ident, {f"{fld}.base": value.base}, (f"{fld}.base",) if finite else ())
        out = np.full(H, float(value.base))
        taken: list[tuple[int, int]] = []  # (start, end) of the exceptions so far: few, plain Python
        for k, ex in enumerate(value.exceptions):
            at = f"{fld}.exceptions[{k}]"
            start, end = ex.start_period, ex.end_period
            _require(
                _whole(start) and _whole(end) and 0 <= start < end <= H,
                entity,
                ident,
                at,
                f"covers periods {start} to {end} (end excluded); they must satisfy 0 <= start_period < "
                f"end_period <= the horizon of {H}",
            )
            _nonneg(entity, ident, {f"{at}.value": ex.value}, (f"{at}.value",) if finite else ())
            for a, b in taken:
                _require(
                    end <= a or b <= start,
                    entity,
                    ident,
                    at,
                    f"overlaps an earlier exception in period {max(a, start)}",
                )
            taken.append((start, end))
            out[start:end] = float(ex.value)
        return out
    if isinstance(value, tuple | list):
        _require(
            len(value) == H,
            entity,
            ident,
            fld,
            f"has {len(value)} periods; a per-period list gives one value for each of the {H} periods",
        )
        try:
            out = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValidationError(entity, ident, fld, "must list numbers") from None
        bad = np.isnan(out) | (out < 0) | (np.isinf(out) if finite else False)
        if bad.any():
            t = int(np.flatnonzero(bad)[0])
            must = "a finite number >= 0" if finite else "a number >= 0"
            _require(False, entity, ident, f"{fld}[{t}]", f"is {value[t]} in period {t}; it must be {must}")
        return out
    _nonneg(entity, ident, {fld: value}, (fld,) if finite else ())
    return np.full(H, float(value))


def _bom_cycle(recipes: Sequence[Recipe]) -> list[str] | None:
    """Items on a cycle of the bill-of-materials graph (output -> input), or None if acyclic."""
    edges: dict[str, set[str]] = {}
    for r in recipes:
        edges.setdefault(r.item, set()).update(i for i, _ in r.inputs)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in edges:
        if state.get(root):
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(edges.get(root, ())))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            if children:
                child = children.pop()
                if state.get(child) == 1:
                    return [*path[path.index(child) :], child]
                if not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, sorted(edges.get(child, ()))))
            else:
                state[node] = 2
                path.pop()
                stack.pop()
    return None


def _frozen(a: object, dtype: type = np.float64) -> npt.NDArray[Any]:
    arr: npt.NDArray[Any] = np.array(a, dtype=dtype)
    arr.setflags(write=False)
    return arr


def _compile(spec: NetworkSpec) -> Network:
    """Check every field of `spec` and compile it into arrays. Each entity is checked on its own, so
    one bad entity does not hide the next: every violation found is raised together (`ValidationErrors`)."""
    found = ViolationCollector()
    H = spec.horizon
    with found.entity():
        _require(_whole(H) and H >= 1, "network", spec.name, "horizon", f"is {H}; it must be >= 1")
    with found.entity():
        _require(
            math.isfinite(spec.period_hours) and spec.period_hours > 0,
            "network",
            spec.name,
            "period_hours",
            f"is {spec.period_hours}; it must be a positive number of hours",
        )
    with found.entity():
        _require(
            not math.isnan(spec.working_capital_cap) and spec.working_capital_cap >= 0,
            "network",
            spec.name,
            "working_capital_cap",
            f"is {spec.working_capital_cap}; it must be >= 0",
        )

    with found.entity():
        _require(
            math.isfinite(spec.capital_cost_rate) and spec.capital_cost_rate >= 0,
            "network",
            spec.name,
            "capital_cost_rate",
            f"is {spec.capital_cost_rate}; it must be a finite number >= 0",
        )
    if not (_whole(H) and H >= 1):
        found.raise_if_any()  # every later check measures periods against the horizon

    items = _index("item", (i.id for i in spec.items), found)
    for it in spec.items:
        with found.entity():
            _nonneg(
                "item",
                it.id,
                {"unit_value": it.unit_value, "holding_cost": it.holding_cost},
                ("unit_value", "holding_cost"),
            )

    nodes = _index("node", (n.id for n in spec.nodes), found)
    # Each capacity resolved to its (H,) values while it is checked; compiled from these below.
    storage: dict[str, FloatArray] = {}
    regular: dict[str, FloatArray] = {}
    overtime: dict[str, FloatArray] = {}
    offer_cap: dict[str, FloatArray] = {}
    rate: dict[str, FloatArray] = {}
    lane_cap: dict[str, FloatArray] = {}
    for nd in spec.nodes:
        with found.entity():
            _require(isinstance(nd.role, NodeRole), "node", nd.id, "role", f"is {nd.role!r}; use a NodeRole")
            if nd.role == NodeRole.SUPPLIER:
                _require(
                    _whole(nd.tier) and nd.tier in (1, 2),
                    "node",
                    nd.id,
                    "tier",
                    f"is {nd.tier}; a supplier is tier 1 or 2",
                )
            else:
                _require(
                    _whole(nd.tier) and nd.tier == 0, "node", nd.id, "tier", f"is {nd.tier}; only suppliers have a tier"
                )
            _nonneg("node", nd.id, {"overtime_cost": nd.overtime_cost}, ("overtime_cost",))
            storage[nd.id] = _periodic(nd.storage_capacity, H, "node", nd.id, "storage_capacity")
            regular[nd.id] = _periodic(nd.regular_hours, H, "node", nd.id, "regular_hours")
            overtime[nd.id] = _periodic(nd.overtime_hours, H, "node", nd.id, "overtime_hours", finite=True)
    role = {nd.id: nd.role for nd in spec.nodes}
    node_of = {nd.id: nd for nd in spec.nodes}

    _index("supply offer", (o.id for o in spec.offers), found)
    for o in spec.offers:
        with found.entity():
            _resolve(nodes, "node", "supply offer", o.id, "supplier", o.supplier)
            _resolve(items, "item", "supply offer", o.id, "item", o.item)
            _require(
                role[o.supplier] == NodeRole.SUPPLIER,
                "supply offer",
                o.id,
                "supplier",
                f"names {o.supplier!r}, which is a {role[o.supplier].name.lower()}, not a supplier",
            )
            _nonneg(
                "supply offer",
                o.id,
                {
                    "unit_cost": o.unit_cost,
                    "min_order": o.min_order,
                    "activation_cost": o.activation_cost,
                    "payment_days": o.payment_days,
                },
                ("unit_cost", "min_order", "activation_cost", "payment_days"),
            )
            cap = _periodic(o.capacity, H, "supply offer", o.id, "capacity")
            if o.backup or o.min_order > 0:
                what = "a backup offer" if o.backup else "an offer with a minimum order"
                unbounded = np.flatnonzero(np.isinf(cap))
                where = f" (it is not in period {unbounded[0]})" if len(unbounded) and H > 1 else ""
                _require(len(unbounded) == 0, "supply offer", o.id, "capacity", f"must be finite for {what}{where}")
            most = float(cap.max())
            _require(
                o.min_order <= most,
                "supply offer",
                o.id,
                "min_order",
                f"is {o.min_order}, above the capacity {o.capacity if isinstance(o.capacity, float | int) else most}"
                + ("" if isinstance(o.capacity, float | int) else " of every period"),
            )
            offer_cap[o.id] = cap

    _index("recipe", (r.id for r in spec.recipes), found)
    for r in spec.recipes:
        with found.entity():
            _resolve(nodes, "node", "recipe", r.id, "node", r.node)
            _resolve(items, "item", "recipe", r.id, "item", r.item)
            _require(
                role[r.node] == NodeRole.PLANT or (role[r.node] == NodeRole.SUPPLIER and node_of[r.node].tier == 1),
                "recipe",
                r.id,
                "node",
                f"names {r.node!r}; recipes run at plants and tier-1 suppliers",
            )
            _nonneg(
                "recipe",
                r.id,
                {
                    "hours_per_unit": r.hours_per_unit,
                    "unit_cost": r.unit_cost,
                    "setup_cost": r.setup_cost,
                    "setup_hours": r.setup_hours,
                },
                ("hours_per_unit", "unit_cost", "setup_cost", "setup_hours"),
            )
            rate[r.id] = _periodic(r.max_rate, H, "recipe", r.id, "max_rate")
            seen: set[str] = set()
            for k, (inp, qty) in enumerate(r.inputs):
                _resolve(items, "item", "recipe", r.id, f"inputs[{k}].item", inp)
                _require(inp not in seen, "recipe", r.id, f"inputs[{k}].item", f"lists {inp!r} twice")
                seen.add(inp)
                _require(
                    not math.isnan(qty) and math.isfinite(qty) and qty > 0,
                    "recipe",
                    r.id,
                    f"inputs[{k}].quantity",
                    f"is {qty}; it must be a positive finite number",
                )
            if (r.setup_cost > 0 or r.setup_hours > 0) and r.node in regular:
                by_hours = np.isfinite(regular[r.node]) if r.hours_per_unit > 0 else np.zeros(H, dtype=bool)
                unbounded = np.flatnonzero(~(np.isfinite(rate[r.id]) | by_hours))
                _require(
                    len(unbounded) == 0,
                    "recipe",
                    r.id,
                    "max_rate",
                    "must be finite (or the hours bounded) for a recipe with a setup"
                    + (f" (neither is in period {unbounded[0]})" if H > 1 and len(unbounded) else ""),
                )
    cycle = _bom_cycle(spec.recipes)
    if cycle is not None:
        on_loop = next(r for r in spec.recipes if r.item == cycle[0] and any(i == cycle[1] for i, _ in r.inputs))
        found.add(ValidationError("recipe", on_loop.id, "inputs", "the bill of materials loops: " + " -> ".join(cycle)))

    _index("lane", (ln.id for ln in spec.lanes), found)
    for ln in spec.lanes:
        with found.entity():
            _resolve(nodes, "node", "lane", ln.id, "origin", ln.origin)
            _resolve(nodes, "node", "lane", ln.id, "destination", ln.destination)
            _require(
                ln.origin != ln.destination, "lane", ln.id, "destination", "equals the origin; a lane joins two nodes"
            )
            _require(
                role[ln.origin] != NodeRole.CUSTOMER,
                "lane",
                ln.id,
                "origin",
                "is a customer zone, which holds no stock",
            )
            _require(len(ln.items) > 0, "lane", ln.id, "items", "is empty; list the items the lane carries")
            for k, it_id in enumerate(ln.items):
                _resolve(items, "item", "lane", ln.id, f"items[{k}]", it_id)
            _require(len(set(ln.items)) == len(ln.items), "lane", ln.id, "items", "lists an item twice")
            _require(
                _whole(ln.lead_time) and ln.lead_time >= 0,
                "lane",
                ln.id,
                "lead_time",
                f"is {ln.lead_time}; it must be a whole number of periods >= 0",
            )
            _require(
                ln.lead_time < H,
                "lane",
                ln.id,
                "lead_time",
                f"is {ln.lead_time} periods, beyond the horizon of {H}",
            )
            _nonneg(
                "lane",
                ln.id,
                {"unit_cost": ln.unit_cost, "truck_size": ln.truck_size, "truck_cost": ln.truck_cost},
                ("unit_cost", "truck_size", "truck_cost"),
            )
            lane_cap[ln.id] = _periodic(ln.capacity, H, "lane", ln.id, "capacity")
            if ln.truck_cost > 0:
                _require(ln.truck_size > 0, "lane", ln.id, "truck_size", "must be positive when a truck cost is set")

    demand_keys: set[tuple[str, str]] = set()
    for d in spec.demands:
        with found.entity():
            _require((d.customer, d.item) not in demand_keys, "demand", d.id, "item", "has a second demand stream")
            demand_keys.add((d.customer, d.item))
    for d in spec.demands:
        with found.entity():
            _resolve(nodes, "node", "demand", d.id, "customer", d.customer)
            _resolve(items, "item", "demand", d.id, "item", d.item)
            _require(
                role[d.customer] == NodeRole.CUSTOMER,
                "demand",
                d.id,
                "customer",
                f"names {d.customer!r}, a {role[d.customer].name.lower()}; demand belongs to customer zones",
            )
            _require(
                len(d.quantity) <= H,
                "demand",
                d.id,
                "quantity",
                f"has {len(d.quantity)} periods, beyond the horizon of {H}",
            )
            for t, q in enumerate(d.quantity):
                _nonneg("demand", d.id, {f"quantity[{t}]": q}, (f"quantity[{t}]",))
            _nonneg(
                "demand",
                d.id,
                {
                    "price": d.price,
                    "backlog_penalty": d.backlog_penalty,
                    "lost_sale_penalty": d.lost_sale_penalty,
                    "receivable_days": d.receivable_days,
                },
                ("price", "backlog_penalty", "lost_sale_penalty", "receivable_days"),
            )
            _require(
                _whole(d.priority) and d.priority >= 1, "demand", d.id, "priority", f"is {d.priority}; tiers start at 1"
            )
    for ln in spec.lanes:
        with found.entity():
            if role.get(ln.destination) == NodeRole.CUSTOMER:
                for k, it_id in enumerate(ln.items):
                    _require(
                        (ln.destination, it_id) in demand_keys,
                        "lane",
                        ln.id,
                        f"items[{k}]",
                        f"carries {it_id!r} to customer {ln.destination!r}, which has no demand for it",
                    )
    inbound = {(ln.destination, i) for ln in spec.lanes for i in ln.items}
    for d in spec.demands:
        with found.entity():
            if d.single_source:
                _require(
                    (d.customer, d.item) in inbound,
                    "demand",
                    d.id,
                    "single_source",
                    "is set but no lane brings the item to the customer",
                )

    stock_keys: set[tuple[str, str]] = set()
    for s in spec.stocks:
        with found.entity():
            _require((s.node, s.item) not in stock_keys, "stock", s.id, "item", "has a second stock record")
            stock_keys.add((s.node, s.item))
    for s in spec.stocks:
        with found.entity():
            _resolve(nodes, "node", "stock", s.id, "node", s.node)
            _resolve(items, "item", "stock", s.id, "item", s.item)
            _require(
                role[s.node] != NodeRole.CUSTOMER, "stock", s.id, "node", "is a customer zone, which holds no stock"
            )
            _nonneg(
                "stock",
                s.id,
                {"on_hand": s.on_hand, "safety_stock": s.safety_stock, "safety_penalty": s.safety_penalty},
                ("on_hand", "safety_stock", "safety_penalty"),
            )
    for rc in spec.in_transit:
        with found.entity():
            ident = rc.id
            _resolve(nodes, "node", "in-transit receipt", ident, "node", rc.node)
            _resolve(items, "item", "in-transit receipt", ident, "item", rc.item)
            _require(
                _whole(rc.period) and 0 <= rc.period < H,
                "in-transit receipt",
                ident,
                "period",
                f"is {rc.period}; it must lie in the horizon 0..{H - 1}",
            )
            _nonneg("in-transit receipt", ident, {"quantity": rc.quantity}, ("quantity",))
            _require(
                role[rc.node] != NodeRole.CUSTOMER,
                "in-transit receipt",
                ident,
                "node",
                "is a customer zone; receipts arrive at stocking nodes (a delivery already counts as served)",
            )
    tiers = Counter(t.priority for t in spec.service_targets if _whole(t.priority))
    for target in spec.service_targets:
        with found.entity():
            ident = f"priority {target.priority}"
            _require(
                _whole(target.priority) and target.priority >= 1,
                "service target",
                ident,
                "priority",
                "must be >= 1; tiers start at 1",
            )
            _require(tiers[target.priority] == 1, "service target", ident, "priority", "is given twice")
            _require(
                not math.isnan(target.fill_rate) and 0 <= target.fill_rate <= 1,
                "service target",
                ident,
                "fill_rate",
                f"is {target.fill_rate}; it must lie in [0, 1]",
            )

    found.raise_if_any()
    capacities = _Capacities(storage, regular, overtime, offer_cap, rate, lane_cap)
    return _arrays(spec, items, nodes, capacities)


@dataclass(frozen=True)
class _Capacities:
    """Every capacity's (H,) values by entity id, as validated: the rows of the (entity, H) arrays."""

    storage: dict[str, FloatArray]
    regular_hours: dict[str, FloatArray]
    overtime_hours: dict[str, FloatArray]
    offer_capacity: dict[str, FloatArray]
    max_rate: dict[str, FloatArray]
    lane_capacity: dict[str, FloatArray]


def _arrays(spec: NetworkSpec, items: dict[str, int], nodes: dict[str, int], capacities: _Capacities) -> Network:
    H = spec.horizon
    n_items = len(items)

    def col(values: Iterable[object], dtype: type = np.float64) -> npt.NDArray[Any]:
        return _frozen(list(values), dtype)

    def per_period(rows: Mapping[str, FloatArray], ids: Iterable[str]) -> FloatArray:
        """The (entity, H) array of one capacity, entities in spec order."""
        arr = np.array([rows[ident] for ident in ids], dtype=np.float64).reshape(-1, H)
        arr.setflags(write=False)
        return arr

    offer_node = col((nodes[o.supplier] for o in spec.offers), np.int64)
    offer_item = col((items[o.item] for o in spec.offers), np.int64)
    recipe_node = col((nodes[r.node] for r in spec.recipes), np.int64)
    recipe_item = col((items[r.item] for r in spec.recipes), np.int64)
    bom = [(k, items[i], q) for k, r in enumerate(spec.recipes) for i, q in r.inputs]
    lane_origin = col((nodes[ln.origin] for ln in spec.lanes), np.int64)
    lane_destination = col((nodes[ln.destination] for ln in spec.lanes), np.int64)
    arcs = [(k, items[i]) for k, ln in enumerate(spec.lanes) for i in ln.items]
    arc_lane = col((a for a, _ in arcs), np.int64)
    arc_item = col((i for _, i in arcs), np.int64)
    node_role = col((int(n.role) for n in spec.nodes), np.int64)

    on_time_tiers = {t.priority for t in spec.service_targets if t.on_time}
    demand_qty = np.zeros((len(spec.demands), H))
    for k, d in enumerate(spec.demands):
        demand_qty[k, : len(d.quantity)] = d.quantity
    demand_qty.setflags(write=False)
    demand_node = col((nodes[d.customer] for d in spec.demands), np.int64)
    demand_item = col((items[d.item] for d in spec.demands), np.int64)

    # Stock positions: every (non-customer node, item) pair where the item can be or arrive, in
    # (node, item) order; found from the pairs' keys node * I + item, never an (N, I) table.
    stocking = node_role != NodeRole.CUSTOMER
    bom_recipe = col((b[0] for b in bom), np.int64)
    bom_item = col((b[1] for b in bom), np.int64)
    stock_node = col((nodes[s.node] for s in spec.stocks), np.int64)
    stock_item = col((items[s.item] for s in spec.stocks), np.int64)
    rc_node = col((nodes[r.node] for r in spec.in_transit), np.int64)
    rc_item = col((items[r.item] for r in spec.in_transit), np.int64)
    rc_period = col((r.period for r in spec.in_transit), np.int64)
    rc_qty = col(r.quantity for r in spec.in_transit)
    pair_nodes = np.concatenate(
        [
            offer_node,
            recipe_node,
            recipe_node[bom_recipe],
            lane_origin[arc_lane],
            lane_destination[arc_lane],
            stock_node,
            rc_node,
        ]
    )
    pair_items = np.concatenate([offer_item, recipe_item, bom_item, arc_item, arc_item, stock_item, rc_item])
    width = max(n_items, 1)
    keys = np.unique((pair_nodes * width + pair_items)[stocking[pair_nodes]])
    position_node, position_item = keys // width, keys % width

    def pos_of(node: IntArray, item: IntArray) -> IntArray:
        return np.searchsorted(keys, node * width + item).astype(np.int64)

    P = len(position_node)

    def at_positions(values: Iterable[float]) -> FloatArray:
        out = np.zeros(P)
        np.add.at(out, pos_of(stock_node, stock_item), col(values))
        out.setflags(write=False)
        return out

    position_receipts = np.zeros((P, H))
    np.add.at(position_receipts, (pos_of(rc_node, rc_item), rc_period), rc_qty)
    position_receipts.setflags(write=False)

    return Network(
        spec=spec,
        horizon=H,
        period_hours=float(spec.period_hours),
        item_ids=tuple(items),
        item_value=col(i.unit_value for i in spec.items),
        item_holding_cost=col(i.holding_cost for i in spec.items),
        node_ids=tuple(nodes),
        node_role=node_role,
        node_tier=col((n.tier for n in spec.nodes), np.int64),
        node_storage=per_period(capacities.storage, nodes),
        node_regular_hours=per_period(capacities.regular_hours, nodes),
        node_overtime_hours=per_period(capacities.overtime_hours, nodes),
        node_overtime_cost=col(n.overtime_cost for n in spec.nodes),
        offer_ids=tuple(o.id for o in spec.offers),
        offer_node=offer_node,
        offer_item=offer_item,
        offer_cost=col(o.unit_cost for o in spec.offers),
        offer_capacity=per_period(capacities.offer_capacity, (o.id for o in spec.offers)),
        offer_min_order=col(o.min_order for o in spec.offers),
        offer_backup=col((o.backup for o in spec.offers), np.bool_),
        offer_activation_cost=col(o.activation_cost for o in spec.offers),
        offer_payment_days=col(o.payment_days for o in spec.offers),
        offer_expedited=col((o.expedited for o in spec.offers), np.bool_),
        recipe_ids=tuple(r.id for r in spec.recipes),
        recipe_node=recipe_node,
        recipe_item=recipe_item,
        recipe_hours=col(r.hours_per_unit for r in spec.recipes),
        recipe_cost=col(r.unit_cost for r in spec.recipes),
        recipe_setup_cost=col(r.setup_cost for r in spec.recipes),
        recipe_max_rate=per_period(capacities.max_rate, (r.id for r in spec.recipes)),
        recipe_setup_hours=col(r.setup_hours for r in spec.recipes),
        bom_recipe=bom_recipe,
        bom_item=bom_item,
        bom_qty=col(b[2] for b in bom),
        lane_ids=tuple(ln.id for ln in spec.lanes),
        lane_origin=lane_origin,
        lane_destination=lane_destination,
        lane_lead_time=col((ln.lead_time for ln in spec.lanes), np.int64),
        lane_delay=_frozen(np.zeros((len(spec.lanes), H), dtype=np.int64), np.int64),
        lane_cost=col(ln.unit_cost for ln in spec.lanes),
        lane_capacity=per_period(capacities.lane_capacity, (ln.id for ln in spec.lanes)),
        lane_truck_size=col(ln.truck_size for ln in spec.lanes),
        lane_truck_cost=col(ln.truck_cost for ln in spec.lanes),
        lane_mode=tuple(ln.mode for ln in spec.lanes),
        lane_expedited=col((ln.expedited for ln in spec.lanes), np.bool_),
        lane_alternate=col((ln.alternate for ln in spec.lanes), np.bool_),
        arc_lane=arc_lane,
        arc_item=arc_item,
        demand_node=demand_node,
        demand_item=demand_item,
        demand_qty=demand_qty,
        demand_price=col(d.price for d in spec.demands),
        demand_priority=col((d.priority for d in spec.demands), np.int64),
        demand_backlog_penalty=col(d.backlog_penalty for d in spec.demands),
        demand_lost_penalty=col(d.lost_sale_penalty for d in spec.demands),
        demand_single_source=col((d.single_source for d in spec.demands), np.bool_),
        demand_receivable_days=col(d.receivable_days for d in spec.demands),
        demand_on_time=col((d.on_time or d.priority in on_time_tiers for d in spec.demands), np.bool_),
        position_node=_frozen(position_node, np.int64),
        position_item=_frozen(position_item, np.int64),
        position_on_hand=at_positions(s.on_hand for s in spec.stocks),
        position_safety_stock=at_positions(s.safety_stock for s in spec.stocks),
        position_safety_penalty=at_positions(s.safety_penalty for s in spec.stocks),
        position_receipts=position_receipts,
        target_priority=col((t.priority for t in spec.service_targets), np.int64),
        target_fill_rate=col(t.fill_rate for t in spec.service_targets),
        working_capital_cap=float(spec.working_capital_cap),
        capital_cost_rate=float(spec.capital_cost_rate),
    )
