"""The ledger's blobs: domain objects <-> the deterministic protobuf bytes `solver.store` keeps
opaque (a network, its protocol set, a plan, its signals, one decision, a replan's answer).

The use cases store and read versions through these functions only, so they never hold a message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace

from models.network import NetworkSpec
from models.plan import Plan
from models.protocols import Decision, ProtocolSet
from models.signals import Signal
from solver._proto.concerto.v1 import network_pb2, plan_pb2, protocols_pb2, service_pb2, signals_pb2
from solver.convert.inbox import settings_from_proto, settings_to_proto
from solver.convert.network import network_to_spec, spec_to_network
from solver.convert.plan import decision_from_proto, plan_from_proto, plan_to_proto
from solver.convert.protocols import protocols_to_domain, protocols_to_proto
from solver.convert.requests import plan_request_to_proto, replan_request_to_proto
from solver.convert.service import replan_info_from_proto, replan_info_to_proto
from solver.convert.signals import signal_to_domain, signal_to_proto
from solver.records import NetworkSettings, PlanRequest, ReplanInfo, ReplanRequest


def encode_network(spec: NetworkSpec) -> bytes:
    return spec_to_network(spec).SerializeToString(deterministic=True)


def decode_network(blob: bytes) -> NetworkSpec:
    return network_to_spec(network_pb2.Network.FromString(blob))


def encode_protocols(protocols: ProtocolSet) -> bytes:
    return protocols_to_proto(protocols).SerializeToString(deterministic=True)


def decode_protocols(blob: bytes) -> ProtocolSet:
    return protocols_to_domain(protocols_pb2.ProtocolSet.FromString(blob))


def encode_signals(signals: Iterable[Signal]) -> bytes:
    """A `SignalBatch` of the signals."""
    batch = signals_pb2.SignalBatch(signals=[signal_to_proto(s) for s in signals])
    return batch.SerializeToString(deterministic=True)


def decode_signals(blob: bytes) -> tuple[Signal, ...]:
    """The signals of a stored `SignalBatch`; empty bytes are no signals."""
    return tuple(signal_to_domain(s) for s in signals_pb2.SignalBatch.FromString(blob).signals) if blob else ()


def encode_signal(signal: Signal | None) -> bytes:
    """One signal's bytes (a published one, in the inbox); empty for none (a cancellation)."""
    return b"" if signal is None else signal_to_proto(signal).SerializeToString(deterministic=True)


def decode_signal(blob: bytes) -> Signal | None:
    return signal_to_domain(signals_pb2.Signal.FromString(blob)) if blob else None


def signal_content(change: str, blob: bytes) -> str:
    """The fingerprint of a published signal's content: a resend has the same one."""
    return hashlib.sha256(change.encode() + b"\0" + blob).hexdigest()


def encode_settings(settings: NetworkSettings) -> bytes:
    return settings_to_proto("", settings).SerializeToString(deterministic=True)


def decode_settings(blob: bytes) -> NetworkSettings:
    return settings_from_proto(service_pb2.NetworkSettings.FromString(blob))


def signal_ids(blob: bytes) -> tuple[str, ...]:
    """The ids of a stored `SignalBatch`'s signals, without converting them."""
    return tuple(s.id for s in signals_pb2.SignalBatch.FromString(blob).signals) if blob else ()


def encode_plan(plan: Plan) -> tuple[bytes, list[bytes]]:
    """The plan's `PlanResult` bytes and, from the same message, each decision's `Decision` bytes
    (the store keeps them one row each, for the approval queue)."""
    message = plan_to_proto(plan)
    return (
        message.SerializeToString(deterministic=True),
        [d.SerializeToString(deterministic=True) for d in message.decisions],
    )


def decode_plan(blob: bytes) -> Plan:
    return plan_from_proto(plan_pb2.PlanResult.FromString(blob))


def decode_decision(blob: bytes, *, index: int = 0, network: str = "") -> Decision:
    return decision_from_proto(plan_pb2.Decision.FromString(blob), index=index, network=network)


def encode_replan_info(info: ReplanInfo) -> bytes:
    return replan_info_to_proto(info).SerializeToString(deterministic=True)


def decode_replan_info(blob: bytes) -> ReplanInfo | None:
    """How a replan answered; None for empty bytes (a plan that is no replan)."""
    return replan_info_from_proto(service_pb2.ReplanInfo.FromString(blob)) if blob else None


def request_fingerprint(request: PlanRequest | ReplanRequest) -> str:
    """The SHA-256 (hex) of a Plan or Replan request's content: its message without the idempotency
    key, serialized deterministically, after the kind of request. The same request gives the same
    fingerprint in any process; a different network version or baseline, signal, option, setting,
    backend or first-answer choice gives another."""
    if isinstance(request, ReplanRequest):
        kind, body = b"replan", replan_request_to_proto(replace(request, idempotency_key=""))
        blob = body.SerializeToString(deterministic=True)
    else:
        kind, plan_body = b"plan", plan_request_to_proto(replace(request, idempotency_key=""))
        blob = plan_body.SerializeToString(deterministic=True)
    return hashlib.sha256(kind + b"\0" + blob).hexdigest()
