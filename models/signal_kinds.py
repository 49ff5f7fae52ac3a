"""The signal kinds: `SignalType`, and one `SignalKind` per type in `SIGNAL_KINDS` declaring its
fields, its own validation, its effect on the network's arrays and where it lands.

`models.signals` (validation and application), `models.replanning` (the reach's seeds),
`models.protocols.matches` (the location a predicate names) and the benchmark suite (which field a
scenario's target fills) read this registry; none of them branches on the kind. A kind states:

  location         the field naming where it lands: supplier, customer, node or lane
  magnitude        a remaining share in [0, 1], a factor >= 0, signed units, or not used
  item_required    whether `item` must be set (otherwise it only narrows the signal)
  may_shorten      whether `delay_hours` may be negative
  check            validation beyond the shared checks, after the location and item are known
  apply            its effect on `SignalledArrays`, over the share s_t of each period it covers
  seeds            the stock positions and demand streams it hits directly (the reach's start)
  opens_shortage   whether it opens a gap at the point it hits (its whole supply tree may respond)

How to add a kind (a port strike, say):
  1. a member of `SignalType` here, its docstring saying what `magnitude` means;
  2. its `SignalKind` in `SIGNAL_KINDS` (small functions for check, apply and seeds, vectorized
     over the entities at its location);
  3. `SIGNAL_TYPE_PORT_STRIKE` in proto/concerto/v1/signals.proto, the stubs regenerated
     (`python scripts/gen_proto.py`), and the pair in `_SIGNAL_TYPE_FROM_PROTO` of solver/convert/_common.py;
  4. tests: its effect (tests/test_signals.py), its rejections (tests/test_validation.py);
     tests/test_signal_kinds.py fails while the proto enum, `SignalType`, the registry and the
     conversion table disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import Enum
from typing import TYPE_CHECKING, Literal

import numpy as np

from models.errors import ValidationError
from models.network import BoolArray, FloatArray, Network

if TYPE_CHECKING:
    from models.signals import Signal


class SignalType(Enum):
    """What a detected disruption is; each kind says what `magnitude` means."""

    SUPPLIER_OUTAGE = "supplier_outage"
    """A supplier (optionally one item) delivers `magnitude` times its capacity: 0 is a full outage."""
    DEMAND_CHANGE = "demand_change"
    """A customer's (optionally one item's) demand is multiplied by `magnitude`: 1.3 is a 30% surge."""
    LANE_DISRUPTION = "lane_disruption"
    """A lane carries `magnitude` times its capacity: 0 is a closure."""
    CAPACITY_LOSS = "capacity_loss"
    """A plant or tier-1 supplier keeps `magnitude` times its regular and overtime hours."""
    INVENTORY_ADJUSTMENT = "inventory_adjustment"
    """Stock on hand at a node changes by `magnitude` units of an item (negative: quality hold or
    shrink; positive: found stock), from the signal's start."""
    LEAD_TIME_CHANGE = "lead_time_change"
    """Departures on a lane in the window take `delay_hours` longer (negative: shorter)."""
    ORDER_CHANGE = "order_change"
    """A new order (`magnitude` > 0 units) or a cancellation (< 0) by a customer for an item, due
    in the period where the signal starts."""


Location = Literal["supplier", "customer", "node", "lane"]
"""The `Signal` field that names where a kind lands (an id of that kind of entity)."""


class Magnitude(Enum):
    """What a kind's `magnitude` is, which decides the shared checks it gets."""

    SHARE = "share"
    """A remaining-capacity factor: finite, in [0, 1]."""
    FACTOR = "factor"
    """A multiplier: finite and >= 0."""
    UNITS = "units"
    """Signed units of an item; the kind's `check` says whether it must be finite."""
    UNUSED = "unused"
    """Not read; any value passes."""


@dataclass(frozen=True)
class SignalledArrays:
    """The network arrays signals change, copied for writing; `apply` functions change them in place.
    Field names are `Network`'s, so `dataclasses.replace(net, **arrays.frozen())` applies them."""

    offer_capacity: FloatArray
    demand_qty: FloatArray
    lane_capacity: FloatArray
    node_regular_hours: FloatArray
    node_overtime_hours: FloatArray
    position_receipts: FloatArray
    lane_delay: FloatArray

    @classmethod
    def copy_of(cls, net: Network) -> SignalledArrays:
        return cls(**{f.name: getattr(net, f.name).copy() for f in fields(cls)})

    def frozen(self) -> dict[str, FloatArray]:
        """The arrays by `Network` field name, made read-only."""
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        for a in arrays.values():
            a.setflags(write=False)
        return arrays


Check = Callable[[Network, "Signal"], None]
Apply = Callable[[Network, "Signal", SignalledArrays, FloatArray], None]
Seeds = Callable[[Network, "Signal"], BoolArray]


@dataclass(frozen=True)
class SignalKind:
    """One signal kind, as data and small functions (the module docstring lists the fields)."""

    type: SignalType
    location: Location
    magnitude: Magnitude
    apply: Apply
    """(net, signal, arrays, share): change `arrays` over the signal's coverage share s_t, shape (H,)."""
    seeds: Seeds
    """(net, signal): a mask over P stock positions then S demand streams, shape (P + S,)."""
    item_required: bool = False
    may_shorten: bool = False
    check: Check | None = None
    """(net, signal): raise `ValidationError` on what only this kind forbids; runs after the
    location and item are known to exist and a required item is set."""
    opens_shortage: bool = False
    description: str = ""
    """How an error names the kind: "an order change"."""

    def location_of(self, signal: Signal) -> str:
        """The id of the entity the signal lands on (the value of its location field)."""
        return str(getattr(signal, self.location))


def fail(signal: Signal, field: str, message: str) -> ValidationError:
    """The error for a signal's field."""
    return ValidationError("signal", signal.id, field, message)


# ---------------------------------------------------------------------------------------------
# Shared pieces of the kinds' effects
# ---------------------------------------------------------------------------------------------


def factor(signal: Signal, share: FloatArray) -> FloatArray:
    """The factor per period: f_t = 1 - (1 - magnitude) * s_t, so a full outage (0) over half a
    period halves it."""
    return 1.0 - (1.0 - signal.magnitude) * share


def scale(values: FloatArray, by: FloatArray) -> FloatArray:
    """values * by, with an unlimited capacity scaled by 0 becoming 0 (not NaN)."""
    with np.errstate(invalid="ignore"):
        return np.where(by == 0.0, 0.0, values * by)


def _item(net: Network, signal: Signal) -> int:
    """The index of the signal's item, -1 when it names none (every item)."""
    return net.items_by_id[signal.item] if signal.item else -1


def _delay_periods(net: Network, signal: Signal) -> int:
    """delay_hours rounded away from zero to whole periods: sign(d) * ceil(|d| / P)."""
    return math.ceil(abs(signal.delay_hours) / net.period_hours - 1e-9) * (1 if signal.delay_hours >= 0 else -1)


def _positions_at(net: Network, node: str, item: str) -> BoolArray:
    """Seeds: the stock positions at `node` (of `item` only, when set)."""
    P = net.n_positions
    item_ok = (net.position_item == net.items_by_id.get(item, -1)) if item else np.ones(P, dtype=bool)
    seeds = np.zeros(P + net.n_demands, dtype=bool)
    seeds[:P] = (net.position_node == net.nodes_by_id.get(node, -1)) & item_ok
    return seeds


def _streams_at(net: Network, customer: str, item: str) -> BoolArray:
    """Seeds: the demand streams of `customer` (of `item` only, when set)."""
    P = net.n_positions
    item_ok = (net.demand_item == net.items_by_id.get(item, -1)) if item else np.ones(net.n_demands, dtype=bool)
    seeds = np.zeros(P + net.n_demands, dtype=bool)
    seeds[P:] = (net.demand_node == net.nodes_by_id.get(customer, -1)) & item_ok
    return seeds


def _lane_ends(net: Network, signal: Signal) -> BoolArray:
    """Seeds: both ends of every arc of the signal's lane (positions, or a stream at a customer)."""
    P = net.n_positions
    seeds = np.zeros(P + net.n_demands, dtype=bool)
    arcs = np.flatnonzero(net.arc_lane == net.lanes_by_id.get(signal.lane, -1))
    origin = net.position_index(net.lane_origin[net.arc_lane[arcs]], net.arc_item[arcs])
    dest = net.position_index(net.lane_destination[net.arc_lane[arcs]], net.arc_item[arcs])
    stream = net.demand_index(net.lane_destination[net.arc_lane[arcs]], net.arc_item[arcs])
    seeds[origin[origin >= 0]] = True
    seeds[dest[dest >= 0]] = True
    seeds[P + stream[stream >= 0]] = True
    return seeds


# ---------------------------------------------------------------------------------------------
# Each kind's effect on the arrays
# ---------------------------------------------------------------------------------------------


def _apply_supplier_outage(net: Network, s: Signal, arrays: SignalledArrays, share: FloatArray) -> None:
    """offer_capacity[o,t] *= f_t for the supplier's offers (of the item, when set)."""
    item = _item(net, s)
    offers = net.offers_at(net.nodes_by_id[s.supplier])
    hit = offers[net.offer_item[offers] == item] if item >= 0 else offers
    arrays.offer_capacity[hit] = scale(arrays.offer_capacity[hit], factor(s, share))


def _apply_demand_change(net: Network, s: Signal, arrays: SignalledArrays, share: FloatArray) -> None:
    """demand_qty[d,t] *= f_t for the customer's streams (of the item, when set)."""
    item = _item(net, s)
    streams = net.demands_at(net.nodes_by_id[s.customer])
    hit = streams[net.demand_item[streams] == item] if item >= 0 else streams
    arrays.demand_qty[hit] = scale(arrays.demand_qty[hit], factor(s, share))


def _delay_lane(net: Network, s: Signal, arrays: SignalledArrays, share: FloatArray) -> None:
    """lane_delay[l,t] += sign(d) * ceil(|d| / P) where s_t > 0, never below -lead_time[l]."""
    lane = net.lanes_by_id[s.lane]
    hit = share > 0
    arrays.lane_delay[lane, hit] = np.maximum(
        arrays.lane_delay[lane, hit] + _delay_periods(net, s), -net.lane_lead_time[lane]
    )


def _apply_lane_disruption(net: Network, s: Signal, arrays: SignalledArrays, share: FloatArray) -> None:
    """lane_capacity[l,t] *= f_t, and departures in the window take `delay_hours` longer."""
    lane = net.lanes_by_id[s.lane]
    arrays.lane_capacity[lane] = scale(arrays.lane_capacity[lane], factor(s, share))
    _delay_lane(net, s, arrays, share)


def _apply_capacity_loss(net: Network, s: Signal, arrays: SignalledArrays, share: FloatArray) -> None:
    """regular[n,t] *= f_t and overtime[n,t] *= f_t at the node."""
    node = net.nodes_by_id[s.node]
    f = factor(s, share)
    arrays.node_regular_hours[node] = scale(arrays.node_regular_hours[node], f)
    arrays.node_overtime_hours[node] = scale(arrays.node_overtime_hours[node], f)


def _apply_inventory_adjustment(net: Network, s: Signal, arrays: SignalledArrays, share: FloatArray) -> None:
    """receipts[p,t0] += magnitude at the first period t0 the window covers (the last if none)."""
    node = net.nodes_by_id[s.node]
    position = net.position_of(node, _item(net, s))
    first = int(np.argmax(share > 0)) if (share > 0).any() else net.horizon - 1
    arrays.position_receipts[position, first] += s.magnitude


def _apply_order_change(net: Network, s: Signal, arrays: SignalledArrays, share: FloatArray) -> None:
    """demand_qty[d,t0] = max(demand_qty[d,t0] + magnitude, 0) in the period t0 where it starts."""
    customer = net.nodes_by_id[s.customer]
    stream = net.demand_of(customer, _item(net, s))
    due = min(int(s.start_hours // net.period_hours), net.horizon - 1)
    arrays.demand_qty[stream, due] = max(arrays.demand_qty[stream, due] + s.magnitude, 0.0)


# ---------------------------------------------------------------------------------------------
# The kinds' own validation
# ---------------------------------------------------------------------------------------------


def _check_order_change(net: Network, s: Signal) -> None:
    """The customer must have a demand stream of the item, and the units must be finite."""
    customer = net.nodes_by_id[s.customer]
    item = net.items_by_id[s.item]
    if net.demand_of(customer, item) < 0:
        raise fail(s, "item", f"{s.item!r} has no demand stream at {s.customer!r}")
    if math.isinf(s.magnitude):
        raise fail(s, "magnitude", "must be finite")


def _check_inventory_adjustment(net: Network, s: Signal) -> None:
    """The node must stock the item."""
    node = net.nodes_by_id[s.node]
    item = net.items_by_id[s.item]
    if net.position_of(node, item) < 0:
        raise fail(s, "item", f"is not stocked at {s.node!r}")


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------

_KINDS = (
    SignalKind(
        SignalType.SUPPLIER_OUTAGE,
        "supplier",
        Magnitude.SHARE,
        apply=_apply_supplier_outage,
        seeds=lambda net, s: _positions_at(net, s.supplier, s.item),
    ),
    SignalKind(
        SignalType.DEMAND_CHANGE,
        "customer",
        Magnitude.FACTOR,
        apply=_apply_demand_change,
        seeds=lambda net, s: _streams_at(net, s.customer, s.item),
        opens_shortage=True,
    ),
    SignalKind(
        SignalType.LANE_DISRUPTION,
        "lane",
        Magnitude.SHARE,
        apply=_apply_lane_disruption,
        seeds=_lane_ends,
    ),
    SignalKind(
        SignalType.CAPACITY_LOSS,
        "node",
        Magnitude.SHARE,
        apply=_apply_capacity_loss,
        seeds=lambda net, s: _positions_at(net, s.node, s.item),
    ),
    SignalKind(
        SignalType.INVENTORY_ADJUSTMENT,
        "node",
        Magnitude.UNITS,
        apply=_apply_inventory_adjustment,
        seeds=lambda net, s: _positions_at(net, s.node, s.item),
        item_required=True,
        check=_check_inventory_adjustment,
        opens_shortage=True,
        description="an inventory adjustment",
    ),
    SignalKind(
        SignalType.LEAD_TIME_CHANGE,
        "lane",
        Magnitude.UNUSED,
        apply=_delay_lane,
        seeds=_lane_ends,
        may_shorten=True,
    ),
    SignalKind(
        SignalType.ORDER_CHANGE,
        "customer",
        Magnitude.UNITS,
        apply=_apply_order_change,
        seeds=lambda net, s: _streams_at(net, s.customer, s.item),
        item_required=True,
        check=_check_order_change,
        opens_shortage=True,
        description="an order change",
    ),
)

SIGNAL_KINDS: Mapping[SignalType, SignalKind] = {k.type: k for k in _KINDS}
"""Every signal kind by its type; tests/test_signal_kinds.py checks that none is missing."""


def signal_kind(signal: Signal) -> SignalKind:
    """The registry entry of the signal's type."""
    return SIGNAL_KINDS[signal.type]
