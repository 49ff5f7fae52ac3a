"""Disruption signals (supplier outages, demand changes, lane and plant capacity losses, inventory
adjustments) and their effect on a compiled network's capacities, demand and stock.

Signals speak hours; the model speaks periods. Period t covers hours [t * P, (t + 1) * P) for a
period length of P hours. A signal active over [start, start + duration) covers a share
s_t = overlap / P of period t, and a factor f applies to period t as 1 - (1 - f) * s_t: a full
outage (f = 0) over half a period halves that period's capacity.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from models.errors import ViolationCollector, echo
from models.network import FloatArray, Network
from models.signal_kinds import SIGNAL_KINDS, Magnitude, SignalledArrays, SignalType, fail, signal_kind

__all__ = ["Signal", "SignalType", "apply_signals", "coverage", "validate_signal"]


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


def _lookup(ids: Mapping[str, int], value: str, signal: Signal, field: str, kind: str) -> int:
    """The index of `value` among the network's ids of `kind` (a dict lookup)."""
    if value not in ids:
        raise fail(signal, field, f"refers to unknown {kind} {echo(value)}")
    return ids[value]


def validate_signal(net: Network, signal: Signal) -> None:
    """Reject a signal that contradicts the network, naming the signal and field: the checks every
    kind shares, then those its `SignalKind` declares (magnitude, location, item, `check`)."""
    for name in ("detected_hours", "start_hours", "duration_hours", "magnitude", "delay_hours"):
        value = getattr(signal, name)
        if math.isnan(value):
            raise fail(signal, name, "is NaN")
    if not isinstance(signal.type, SignalType):
        raise fail(signal, "type", f"is {signal.type!r}; use a SignalType")
    kind = SIGNAL_KINDS[signal.type]
    for name in ("detected_hours", "start_hours"):
        if getattr(signal, name) < 0:
            raise fail(signal, name, f"is {getattr(signal, name)}; it must be >= 0 (hours from the plan's start)")
    if signal.duration_hours <= 0:
        raise fail(signal, "duration_hours", f"is {signal.duration_hours}; it must be > 0")
    if signal.start_hours >= net.horizon * net.period_hours:
        raise fail(signal, "start_hours", f"is {signal.start_hours}, after the horizon's end")
    if math.isinf(signal.delay_hours):
        raise fail(signal, "delay_hours", "must be finite")
    if signal.delay_hours < 0 and not kind.may_shorten:
        raise fail(signal, "delay_hours", f"is {signal.delay_hours}; only a lead-time change may shorten a lane")
    factor = kind.magnitude in (Magnitude.SHARE, Magnitude.FACTOR)
    if factor and (signal.magnitude < 0 or math.isinf(signal.magnitude)):
        raise fail(signal, "magnitude", f"is {signal.magnitude}; a factor must be finite and >= 0")
    if kind.magnitude == Magnitude.SHARE and signal.magnitude > 1:
        raise fail(signal, "magnitude", f"is {signal.magnitude}; a remaining-capacity factor lies in [0, 1]")
    if signal.item:
        _lookup(net.items_by_id, signal.item, signal, "item", "item")
    ids = net.lanes_by_id if kind.location == "lane" else net.nodes_by_id
    _lookup(ids, kind.location_of(signal), signal, kind.location, kind.location)
    if kind.item_required and not signal.item:
        raise fail(signal, "item", f"is required for {kind.description}")
    if kind.check is not None:
        kind.check(net, signal)


def apply_signals(net: Network, signals: Sequence[Signal]) -> Network:
    """The network as the signals leave it: capacities, demand and stock changed over their windows,
    each by its kind's `apply` (models.signal_kinds), in the order given.

    Every signal is validated first; nothing is applied when one is wrong, and every wrong one is
    reported (`ValidationErrors` when there are several). The work is linear in the signals: ids
    are counted once, and every lookup into the network is a dict or an index built once.
    """
    uses = Counter(s.id for s in signals)
    found = ViolationCollector()  # every bad signal is reported, not only the first
    for s in signals:
        with found.entity():
            if not s.id:
                raise fail(s, "id", "is empty; give every signal an id")
            if uses[s.id] > 1:
                raise fail(s, "id", "is used twice")
            validate_signal(net, s)
    found.raise_if_any()
    arrays = SignalledArrays.copy_of(net)
    for s in signals:
        signal_kind(s).apply(net, s, arrays, coverage(net, s))
    return replace(net, **arrays.frozen())  # type: ignore[arg-type]
