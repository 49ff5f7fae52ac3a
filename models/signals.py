"""Disruption signals (supplier outages, demand changes, lane and plant capacity losses, inventory
adjustments) and their effect on a compiled network's capacities, demand and stock.

Signals speak hours; the model speaks periods. Period t covers hours [t * P, (t + 1) * P) for a
period length of P hours. A signal active over [start, start + duration) covers a share
s_t = overlap / P of period t, and a factor f applies to period t as 1 - (1 - f) * s_t: a full
outage (f = 0) over half a period halves that period's capacity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from models.errors import ValidationError, ViolationCollector
from models.network import FloatArray, Network


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


@dataclass(frozen=True)
class Signal:
    """One detected disruption: where, when (hours from the plan's start) and how large."""

    id: str
    type: SignalType
    detected_hours: float = 0.0
    start_hours: float = 0.0
    duration_hours: float = math.inf
    magnitude: float = 0.0
    supplier: str = ""
    node: str = ""
    item: str = ""
    lane: str = ""
    customer: str = ""
    delay_hours: float = 0.0
    """Extra transit hours for departures in the window (lane disruption, lead-time change)."""


def coverage(net: Network, signal: Signal) -> FloatArray:
    """Share of each period that the signal's window covers, shape (H,)."""
    P = net.period_hours
    begin = np.arange(net.horizon) * P
    end = begin + P
    stop = signal.start_hours + signal.duration_hours
    overlap = np.clip(np.minimum(end, stop) - np.maximum(begin, signal.start_hours), 0.0, P)
    return np.asarray(overlap / P, dtype=np.float64)


def _fail(signal: Signal, field: str, message: str) -> ValidationError:
    return ValidationError("signal", signal.id, field, message)


def _lookup(ids: tuple[str, ...], value: str, signal: Signal, field: str, kind: str) -> int:
    if value not in ids:
        raise _fail(signal, field, f"refers to unknown {kind} {value!r}")
    return ids.index(value)


def validate_signal(net: Network, signal: Signal) -> None:
    """Reject a signal that contradicts the network, naming the signal and field."""
    for name in ("detected_hours", "start_hours", "duration_hours", "magnitude", "delay_hours"):
        value = getattr(signal, name)
        if math.isnan(value):
            raise _fail(signal, name, "is NaN")
    if not isinstance(signal.type, SignalType):
        raise _fail(signal, "type", f"is {signal.type!r}; use a SignalType")
    for name in ("detected_hours", "start_hours"):
        if getattr(signal, name) < 0:
            raise _fail(signal, name, f"is {getattr(signal, name)}; it must be >= 0 (hours from the plan's start)")
    if signal.duration_hours <= 0:
        raise _fail(signal, "duration_hours", f"is {signal.duration_hours}; it must be > 0")
    if signal.start_hours >= net.horizon * net.period_hours:
        raise _fail(signal, "start_hours", f"is {signal.start_hours}, after the horizon's end")
    signed = (SignalType.INVENTORY_ADJUSTMENT, SignalType.ORDER_CHANGE, SignalType.LEAD_TIME_CHANGE)
    if math.isinf(signal.delay_hours):
        raise _fail(signal, "delay_hours", "must be finite")
    if signal.delay_hours < 0 and signal.type != SignalType.LEAD_TIME_CHANGE:
        raise _fail(signal, "delay_hours", f"is {signal.delay_hours}; only a lead-time change may shorten a lane")
    if signal.type not in signed and (signal.magnitude < 0 or math.isinf(signal.magnitude)):
        raise _fail(signal, "magnitude", f"is {signal.magnitude}; a factor must be finite and >= 0")
    capacity_kinds = (SignalType.SUPPLIER_OUTAGE, SignalType.LANE_DISRUPTION, SignalType.CAPACITY_LOSS)
    if signal.type in capacity_kinds and signal.magnitude > 1:
        raise _fail(signal, "magnitude", f"is {signal.magnitude}; a remaining-capacity factor lies in [0, 1]")
    if signal.item:
        _lookup(net.item_ids, signal.item, signal, "item", "item")
    if signal.type == SignalType.SUPPLIER_OUTAGE:
        _lookup(net.node_ids, signal.supplier, signal, "supplier", "supplier")
    elif signal.type == SignalType.DEMAND_CHANGE:
        _lookup(net.node_ids, signal.customer, signal, "customer", "customer")
    elif signal.type in (SignalType.LANE_DISRUPTION, SignalType.LEAD_TIME_CHANGE):
        _lookup(net.lane_ids, signal.lane, signal, "lane", "lane")
    elif signal.type == SignalType.ORDER_CHANGE:
        customer = _lookup(net.node_ids, signal.customer, signal, "customer", "customer")
        if not signal.item:
            raise _fail(signal, "item", "is required for an order change")
        item = net.item_ids.index(signal.item)
        if net.demand_index(np.array([customer]), np.array([item]))[0] < 0:
            raise _fail(signal, "item", f"{signal.item!r} has no demand stream at {signal.customer!r}")
        if math.isinf(signal.magnitude):
            raise _fail(signal, "magnitude", "must be finite")
    elif signal.type in (SignalType.CAPACITY_LOSS, SignalType.INVENTORY_ADJUSTMENT):
        _lookup(net.node_ids, signal.node, signal, "node", "node")
        if signal.type == SignalType.INVENTORY_ADJUSTMENT:
            if not signal.item:
                raise _fail(signal, "item", "is required for an inventory adjustment")
            node = net.node_ids.index(signal.node)
            item = net.item_ids.index(signal.item)
            if net.position_index(np.array([node]), np.array([item]))[0] < 0:
                raise _fail(signal, "item", f"is not stocked at {signal.node!r}")


def apply_signals(net: Network, signals: Sequence[Signal]) -> Network:
    """The network as the signals leave it: capacities, demand and stock changed over their windows.

    Every signal is validated first; nothing is applied when one is wrong, and every wrong one is
    reported (`ValidationErrors` when there are several).
    """
    ids = [s.id for s in signals]
    found = ViolationCollector()  # every bad signal is reported, not only the first
    for s in signals:
        with found.entity():
            if not s.id:
                raise _fail(s, "id", "is empty; give every signal an id")
            if ids.count(s.id) > 1:
                raise _fail(s, "id", "is used twice")
            validate_signal(net, s)
    found.raise_if_any()
    offer_capacity = net.offer_capacity.copy()
    demand_qty = net.demand_qty.copy()
    lane_capacity = net.lane_capacity.copy()
    regular = net.node_regular_hours.copy()
    overtime = net.node_overtime_hours.copy()
    receipts = net.position_receipts.copy()
    delay = net.lane_delay.copy()

    def scale(values: FloatArray, factor: FloatArray) -> FloatArray:
        """values * factor, with an unlimited capacity scaled by 0 becoming 0 (not NaN)."""
        with np.errstate(invalid="ignore"):
            return np.where(factor == 0.0, 0.0, values * factor)

    for s in signals:
        share = coverage(net, s)
        factor = 1.0 - (1.0 - s.magnitude) * share
        item = net.item_ids.index(s.item) if s.item else -1
        if s.type == SignalType.SUPPLIER_OUTAGE:
            hit = (net.offer_node == net.node_ids.index(s.supplier)) & ((net.offer_item == item) | (item < 0))
            offer_capacity[hit] = scale(offer_capacity[hit], factor)
        elif s.type == SignalType.DEMAND_CHANGE:
            hit = (net.demand_node == net.node_ids.index(s.customer)) & ((net.demand_item == item) | (item < 0))
            demand_qty[hit] = scale(demand_qty[hit], factor)
        elif s.type in (SignalType.LANE_DISRUPTION, SignalType.LEAD_TIME_CHANGE):
            lane = net.lane_ids.index(s.lane)
            if s.type == SignalType.LANE_DISRUPTION:
                lane_capacity[lane] = scale(lane_capacity[lane], factor)
            extra = math.ceil(abs(s.delay_hours) / net.period_hours - 1e-9) * (1 if s.delay_hours >= 0 else -1)
            hit = share > 0
            delay[lane, hit] = np.maximum(delay[lane, hit] + extra, -net.lane_lead_time[lane])
        elif s.type == SignalType.ORDER_CHANGE:
            customer = net.node_ids.index(s.customer)
            stream = net.demand_index(np.array([customer]), np.array([item]))[0]
            due = min(int(s.start_hours // net.period_hours), net.horizon - 1)
            demand_qty[stream, due] = max(demand_qty[stream, due] + s.magnitude, 0.0)
        elif s.type == SignalType.CAPACITY_LOSS:
            node = net.node_ids.index(s.node)
            regular[node] = scale(regular[node], factor)
            overtime[node] = scale(overtime[node], factor)
        elif s.type == SignalType.INVENTORY_ADJUSTMENT:
            node = net.node_ids.index(s.node)
            position = net.position_index(np.array([node]), np.array([item]))[0]
            first = int(np.argmax(share > 0)) if (share > 0).any() else net.horizon - 1
            receipts[position, first] += s.magnitude
    arrays = {
        "offer_capacity": offer_capacity,
        "demand_qty": demand_qty,
        "lane_capacity": lane_capacity,
        "node_regular_hours": regular,
        "node_overtime_hours": overtime,
        "position_receipts": receipts,
        "lane_delay": delay,
    }
    for a in arrays.values():
        a.setflags(write=False)
    return replace(net, **arrays)  # type: ignore[arg-type]
