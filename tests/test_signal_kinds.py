"""The signal-kind registry (`models.signal_kinds`) is complete: every kind of the API's enum and of
`SignalType` is registered, converts both ways, and declares a location a `Signal` has."""

from __future__ import annotations

import dataclasses

import pytest

from models.signal_kinds import SIGNAL_KINDS, SignalKind, SignalType
from models.signals import Signal
from solver._proto.concerto.v1 import signals_pb2
from solver.convert import signal_to_domain, signal_to_proto

PROTO_NAMES = [name for name, _ in signals_pb2.SignalType.items()]
PROTO_KINDS = [name for name in PROTO_NAMES if name != "SIGNAL_TYPE_UNSPECIFIED"]


@pytest.mark.parametrize("name", PROTO_KINDS)
def test_every_proto_kind_is_registered(name: str) -> None:
    """SIGNAL_TYPE_<KIND> in signals.proto has a `SignalType.<KIND>` with a registry entry, and a
    signal of it survives the round trip through the API message."""
    kind = SignalType[name.removeprefix("SIGNAL_TYPE_")]
    assert kind in SIGNAL_KINDS, f"{kind} has no SignalKind in models.signal_kinds.SIGNAL_KINDS"
    msg = signals_pb2.Signal(id="s", type=signals_pb2.SignalType.Value(name))  # type: ignore[arg-type]
    assert signal_to_domain(msg).type == kind
    assert signal_to_proto(signal_to_domain(msg)).type == msg.type


@pytest.mark.parametrize("kind", list(SignalType))
def test_every_signal_type_is_registered_and_in_the_api(kind: SignalType) -> None:
    assert kind in SIGNAL_KINDS, f"{kind} has no SignalKind in models.signal_kinds.SIGNAL_KINDS"
    assert f"SIGNAL_TYPE_{kind.name}" in PROTO_NAMES, f"{kind} is missing from signals.proto"


@pytest.mark.parametrize("kind", list(SIGNAL_KINDS.values()), ids=lambda k: k.type.value)
def test_each_entry_is_keyed_by_its_type_and_names_a_signal_field(kind: SignalKind) -> None:
    assert SIGNAL_KINDS[kind.type] is kind
    assert kind.location in {f.name for f in dataclasses.fields(Signal)}
    assert not kind.item_required or kind.description, "an item-required kind names itself in its error"


def test_location_is_the_kinds_field() -> None:
    signal = Signal("s", SignalType.DEMAND_CHANGE, customer="C1")
    assert SIGNAL_KINDS[signal.type].location_of(signal) == "C1"
