"""Signals: concerto.v1.Signal <-> `models.signals.Signal`, and a batch of them."""

from __future__ import annotations

from models.signals import Signal
from solver._proto.concerto.v1 import signals_pb2
from solver.convert._common import (
    _SIGNAL_TYPE_CHOICES,
    _SIGNAL_TYPE_FROM_PROTO,
    _SIGNAL_TYPE_TO_PROTO,
    UNLIMITED,
    _enum_to_domain,
    _enum_to_proto,
    _limit,
)


def signal_to_domain(msg: signals_pb2.Signal) -> Signal:
    """The signal a `Signal` message describes; raises `ValidationError` for an unset or unknown type."""
    return Signal(
        id=msg.id,
        type=_enum_to_domain(
            _SIGNAL_TYPE_FROM_PROTO,
            msg.type,
            _SIGNAL_TYPE_CHOICES,
            entity="signal",
            ident=msg.id,
            field="type",
            kind="signal type",
        ),
        detected_hours=msg.detected_hours,
        start_hours=msg.start_hours,
        duration_hours=msg.duration_hours if msg.HasField("duration_hours") else UNLIMITED,
        magnitude=msg.magnitude,
        supplier=msg.supplier,
        node=msg.node,
        item=msg.item,
        lane=msg.lane,
        customer=msg.customer,
        delay_hours=msg.delay_hours,
    )


def signal_to_proto(signal: Signal) -> signals_pb2.Signal:
    """The `Signal` message of a signal; `signal_to_domain` gives the same signal back."""
    return signals_pb2.Signal(
        id=signal.id,
        type=_enum_to_proto(
            _SIGNAL_TYPE_TO_PROTO, signal.type, entity="signal", ident=signal.id, field="type", kind="SignalType"
        ),
        detected_hours=signal.detected_hours,
        start_hours=signal.start_hours,
        duration_hours=_limit(signal.duration_hours),
        magnitude=signal.magnitude,
        supplier=signal.supplier,
        node=signal.node,
        item=signal.item,
        lane=signal.lane,
        customer=signal.customer,
        delay_hours=signal.delay_hours,
    )
