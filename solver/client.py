"""A typed Python client for the Concerto service: domain objects in, plans and versions out.

with ConcertoClient("127.0.0.1:50051") as client:
    client.put_network("acme", spec, protocols)
    first = client.plan("acme")
    second = client.replan("acme", [outage], baseline_version=first.version)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import grpc

from models.network import NetworkSpec
from models.plan import Plan
from models.protocols import ProtocolSet
from models.signals import Signal
from solver import convert
from solver._proto.concerto.v1 import service_pb2, service_pb2_grpc
from solver.backends.registry import DEFAULT_BACKEND
from solver.diff import PlanDiff
from solver.options import SolveOptions


@dataclass(frozen=True)
class StoredPlan:
    """A plan version as the service stored it."""

    network_id: str
    version: int
    network_version: int
    baseline_version: int
    signals: tuple[Signal, ...]
    plan: Plan
    idempotency_key: str
    replan: service_pb2.ReplanInfo | None = None
    """How a replan answered (kind, timings, fence cuts, churn); None for a plan."""


def _stored(msg: service_pb2.PlanVersion) -> StoredPlan:
    return StoredPlan(
        network_id=msg.network_id,
        version=msg.version,
        network_version=msg.network_version,
        baseline_version=msg.baseline_version,
        signals=tuple(convert.signal_to_domain(s) for s in msg.signals),
        plan=convert.plan_from_proto(msg.plan),
        idempotency_key=msg.idempotency_key,
        replan=msg.replan if msg.HasField("replan") else None,
    )


class ConcertoClient:
    """Typed helpers over the generated stub; every call takes an optional deadline in seconds."""

    def __init__(self, target: str, *, max_message_bytes: int = 64 * 1024 * 1024) -> None:
        self.channel = grpc.insecure_channel(
            target,
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ],
        )
        self.stub = service_pb2_grpc.ConcertoStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> ConcertoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_ready(self, timeout: float = 10.0) -> None:
        grpc.channel_ready_future(self.channel).result(timeout=timeout)

    # -- networks -----------------------------------------------------------------------------

    def put_network(
        self, network_id: str, spec: NetworkSpec, protocols: ProtocolSet | None = None, *, timeout: float | None = None
    ) -> int:
        """Store a network version; returns its version number."""
        request = service_pb2.PutNetworkRequest(network_id=network_id, network=convert.spec_to_network(spec))
        if protocols is not None:
            request.protocols.CopyFrom(convert.protocols_to_proto(protocols))
        return int(self.stub.PutNetwork(request, timeout=timeout).version)

    def get_network(self, network_id: str, version: int = 0, *, timeout: float | None = None) -> NetworkSpec:
        msg = self.stub.GetNetwork(
            service_pb2.GetNetworkRequest(network_id=network_id, version=version), timeout=timeout
        )
        return convert.network_to_spec(msg.network)

    def validate(
        self, spec: NetworkSpec, protocols: ProtocolSet | None = None, signals: Sequence[Signal] = ()
    ) -> list[service_pb2.FieldViolation]:
        """What is wrong with a network, its protocols and signals (empty when valid)."""
        request = service_pb2.ValidateNetworkRequest(
            network=convert.spec_to_network(spec), signals=[convert.signal_to_proto(s) for s in signals]
        )
        if protocols is not None:
            request.protocols.CopyFrom(convert.protocols_to_proto(protocols))
        return list(self.stub.ValidateNetwork(request).violations)

    def list_networks(self) -> list[service_pb2.NetworkSummary]:
        return list(self.stub.ListNetworks(service_pb2.ListNetworksRequest()).networks)

    def list_backends(self) -> list[service_pb2.Backend]:
        """Every solver backend the server knows, with whether it can solve there and what it declares."""
        return list(self.stub.ListBackends(service_pb2.ListBackendsRequest()).backends)

    # -- solving ------------------------------------------------------------------------------

    def _solve_request(
        self,
        spec: NetworkSpec,
        protocols: ProtocolSet | None,
        signals: Sequence[Signal],
        options: SolveOptions | None,
        backend: str,
    ) -> service_pb2.SolveRequest:
        request = service_pb2.SolveRequest(
            network=convert.spec_to_network(spec), signals=[convert.signal_to_proto(s) for s in signals]
        )
        if protocols is not None:
            request.protocols.CopyFrom(convert.protocols_to_proto(protocols))
        _set_options(request.options, options, backend)
        return request

    def solve(
        self,
        spec: NetworkSpec,
        protocols: ProtocolSet | None = None,
        signals: Sequence[Signal] = (),
        options: SolveOptions | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        timeout: float | None = None,
    ) -> Plan:
        """Solve an inline network with `backend` (a registry name); nothing is stored."""
        response = self.stub.Solve(self._solve_request(spec, protocols, signals, options, backend), timeout=timeout)
        return convert.plan_from_proto(response.plan)

    def solve_stream(
        self,
        spec: NetworkSpec,
        protocols: ProtocolSet | None = None,
        signals: Sequence[Signal] = (),
        options: SolveOptions | None = None,
        *,
        backend: str = DEFAULT_BACKEND,
        on_progress: Callable[[service_pb2.SolveProgress], None] | None = None,
        timeout: float | None = None,
    ) -> Plan:
        """Solve an inline network, calling `on_progress` for each progress event."""
        request = self._solve_request(spec, protocols, signals, options, backend)
        events = self.stub.SolveStream(request, timeout=timeout)
        for event in events:
            if event.HasField("progress") and on_progress is not None:
                on_progress(event.progress)
            elif event.HasField("plan"):
                return convert.plan_from_proto(event.plan)
        raise RuntimeError("the stream ended without a plan")

    def plan(
        self,
        network_id: str,
        *,
        network_version: int = 0,
        options: SolveOptions | None = None,
        backend: str = DEFAULT_BACKEND,
        idempotency_key: str = "",
        timeout: float | None = None,
    ) -> StoredPlan:
        """Plan a stored network with `backend` (a registry name); the plan is stored as a new version."""
        request = service_pb2.PlanRequest(
            network_id=network_id, network_version=network_version, idempotency_key=idempotency_key
        )
        _set_options(request.options, options, backend)
        return _stored(self.stub.Plan(request, timeout=timeout))

    def _replan_request(
        self,
        network_id: str,
        signals: Sequence[Signal],
        baseline_version: int,
        options: SolveOptions | None,
        idempotency_key: str,
        allow_stale_baseline: bool,
        settings: service_pb2.ReplanSettings | None,
        backend: str,
    ) -> service_pb2.ReplanRequest:
        request = service_pb2.ReplanRequest(
            network_id=network_id,
            baseline_version=baseline_version,
            signals=[convert.signal_to_proto(s) for s in signals],
            idempotency_key=idempotency_key,
            allow_stale_baseline=allow_stale_baseline,
        )
        _set_options(request.options, options, backend)
        if settings is not None:
            request.settings.CopyFrom(settings)
        return request

    def replan(
        self,
        network_id: str,
        signals: Sequence[Signal],
        *,
        baseline_version: int = 0,
        options: SolveOptions | None = None,
        idempotency_key: str = "",
        allow_stale_baseline: bool = False,
        settings: service_pb2.ReplanSettings | None = None,
        backend: str = DEFAULT_BACKEND,
        timeout: float | None = None,
    ) -> StoredPlan:
        """Answer new signals against a stored baseline with `backend` (a registry name); the new
        plan is stored as a new version."""
        request = self._replan_request(
            network_id, signals, baseline_version, options, idempotency_key, allow_stale_baseline, settings, backend
        )
        return _stored(self.stub.Replan(request, timeout=timeout))

    def replan_stream(
        self,
        network_id: str,
        signals: Sequence[Signal],
        *,
        baseline_version: int = 0,
        options: SolveOptions | None = None,
        idempotency_key: str = "",
        on_progress: Callable[[service_pb2.SolveProgress], None] | None = None,
        on_first: Callable[[Plan], None] | None = None,
        settings: service_pb2.ReplanSettings | None = None,
        backend: str = DEFAULT_BACKEND,
        timeout: float | None = None,
    ) -> StoredPlan:
        """Replan, calling `on_progress` for progress and `on_first` with the first coordinated plan."""
        request = self._replan_request(
            network_id, signals, baseline_version, options, idempotency_key, False, settings, backend
        )
        for event in self.stub.ReplanStream(request, timeout=timeout):
            if event.HasField("progress") and on_progress is not None:
                on_progress(event.progress)
            elif event.HasField("first") and on_first is not None:
                on_first(convert.plan_from_proto(event.first))
            elif event.HasField("version"):
                return _stored(event.version)
        raise RuntimeError("the stream ended without a plan version")

    # -- the ledger ---------------------------------------------------------------------------

    def get_plan(self, network_id: str, version: int = 0) -> StoredPlan:
        return _stored(self.stub.GetPlan(service_pb2.GetPlanRequest(network_id=network_id, version=version)))

    def list_plans(self, network_id: str) -> list[service_pb2.PlanSummary]:
        return list(self.stub.ListPlans(service_pb2.ListPlansRequest(network_id=network_id)).plans)

    def diff(self, network_id: str, from_version: int, to_version: int) -> PlanDiff:
        request = service_pb2.DiffPlansRequest(network_id=network_id, from_version=from_version, to_version=to_version)
        return convert.diff_from_proto(self.stub.DiffPlans(request))

    def watch(self, network_id: str, after_version: int = 0) -> Iterator[StoredPlan]:
        """New plan versions as they are stored; cancel by closing the client or breaking out."""
        for msg in self.stub.WatchPlans(
            service_pb2.WatchPlansRequest(network_id=network_id, after_version=after_version)
        ):
            yield _stored(msg)

    def decisions(
        self,
        network_id: str,
        plan_version: int = 0,
        state: service_pb2.DecisionState = service_pb2.DECISION_STATE_UNSPECIFIED,
    ) -> list[service_pb2.DecisionRecord]:
        request = service_pb2.ListDecisionsRequest(network_id=network_id, plan_version=plan_version, state=state)
        return list(self.stub.ListDecisions(request).decisions)

    def approve(
        self, network_id: str, plan_version: int, index: int, by: str, note: str = ""
    ) -> service_pb2.DecisionRecord:
        request = service_pb2.DecideRequest(
            network_id=network_id, plan_version=plan_version, index=index, decided_by=by, note=note
        )
        return self.stub.ApproveDecision(request)

    def reject(
        self, network_id: str, plan_version: int, index: int, by: str, note: str = ""
    ) -> service_pb2.DecisionRecord:
        request = service_pb2.DecideRequest(
            network_id=network_id, plan_version=plan_version, index=index, decided_by=by, note=note
        )
        return self.stub.RejectDecision(request)

    def export_model(
        self, spec: NetworkSpec, fmt: str = "mps", protocols: ProtocolSet | None = None, signals: Sequence[Signal] = ()
    ) -> str:
        formats = {"mps": service_pb2.MODEL_FORMAT_MPS, "lp": service_pb2.MODEL_FORMAT_LP}
        request = service_pb2.ExportModelRequest(
            inline=self._solve_request(spec, protocols, signals, None, DEFAULT_BACKEND), format=formats[fmt]
        )
        return str(self.stub.ExportModel(request).text)


def _set_options(message: service_pb2.SolveOptions, options: SolveOptions | None, backend: str) -> None:
    """Fill a request's options: absent options leave the server's defaults, and the backend rides
    along either way (checked by the server before it queues the solve)."""
    if options is not None:
        message.CopyFrom(convert.options_to_proto(options, backend=backend))
    elif backend != DEFAULT_BACKEND:
        message.backend = backend
