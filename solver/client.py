"""A typed Python client for the Concerto service: domain objects in, plans and versions out.

with ConcertoClient("127.0.0.1:50051") as client:
    client.put_network("acme", spec, protocols)
    first = client.plan("acme")
    second = client.replan("acme", [outage], baseline_version=first.version)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import grpc

from models.errors import ValidationError
from models.network import NetworkSpec
from models.plan import Plan
from models.protocols import ProtocolSet
from models.replanning import ReplanOptions
from models.signals import Signal
from solver import convert
from solver._proto.concerto.v1 import service_pb2, service_pb2_grpc
from solver.backends.registry import DEFAULT_BACKEND, BackendInfo
from solver.diff import PlanDiff
from solver.records import (
    AuditRecord,
    DecisionState,
    NetworkSummary,
    PlanSummary,
    SolveProgress,
    StoredDecision,
    StoredPlan,
)

__all__ = ["ConcertoClient", "StoredPlan"]
from solver.options import SolveOptions


def _stored(msg: service_pb2.PlanVersion) -> StoredPlan:
    return convert.plan_version_from_proto(msg)


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
    ) -> list[ValidationError]:
        """What is wrong with a network, its protocols and signals (empty when valid)."""
        request = service_pb2.ValidateNetworkRequest(
            network=convert.spec_to_network(spec), signals=[convert.signal_to_proto(s) for s in signals]
        )
        if protocols is not None:
            request.protocols.CopyFrom(convert.protocols_to_proto(protocols))
        return convert.validation_from_proto(self.stub.ValidateNetwork(request))

    def list_networks(self) -> list[NetworkSummary]:
        return convert.network_list_from_proto(self.stub.ListNetworks(service_pb2.ListNetworksRequest()))

    def list_backends(self) -> list[BackendInfo]:
        """Every solver backend the server knows, with whether it can solve there and what it declares."""
        return convert.backend_list_from_proto(self.stub.ListBackends(service_pb2.ListBackendsRequest()))

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
        on_progress: Callable[[SolveProgress], None] | None = None,
        timeout: float | None = None,
    ) -> Plan:
        """Solve an inline network, calling `on_progress` for each progress event."""
        request = self._solve_request(spec, protocols, signals, options, backend)
        for message in self.stub.SolveStream(request, timeout=timeout):
            event = convert.solve_event_from_proto(message)
            if event.progress is not None and on_progress is not None:
                on_progress(event.progress)
            elif event.plan is not None:
                return event.plan
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
        settings: ReplanOptions | service_pb2.ReplanSettings | None,
        backend: str,
        first_answer: bool = True,
    ) -> service_pb2.ReplanRequest:
        request = service_pb2.ReplanRequest(
            network_id=network_id,
            baseline_version=baseline_version,
            signals=[convert.signal_to_proto(s) for s in signals],
            idempotency_key=idempotency_key,
            allow_stale_baseline=allow_stale_baseline,
        )
        _set_options(request.options, options, backend)
        if isinstance(settings, ReplanOptions):
            request.settings.CopyFrom(convert.replan_options_to_proto(settings, skip_first_answer=not first_answer))
        elif settings is not None:
            request.settings.CopyFrom(settings)
        elif not first_answer:
            request.settings.skip_first_answer = True
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
        settings: ReplanOptions | service_pb2.ReplanSettings | None = None,
        backend: str = DEFAULT_BACKEND,
        first_answer: bool = True,
        timeout: float | None = None,
    ) -> StoredPlan:
        """Answer new signals against a stored baseline with `backend` (a registry name); the new
        plan is stored as a new version."""
        request = self._replan_request(
            network_id,
            signals,
            baseline_version,
            options,
            idempotency_key,
            allow_stale_baseline,
            settings,
            backend,
            first_answer,
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
        on_progress: Callable[[SolveProgress], None] | None = None,
        on_first: Callable[[Plan], None] | None = None,
        settings: ReplanOptions | service_pb2.ReplanSettings | None = None,
        backend: str = DEFAULT_BACKEND,
        first_answer: bool = True,
        timeout: float | None = None,
    ) -> StoredPlan:
        """Replan, calling `on_progress` for progress and `on_first` with the first coordinated plan."""
        request = self._replan_request(
            network_id, signals, baseline_version, options, idempotency_key, False, settings, backend, first_answer
        )
        for message in self.stub.ReplanStream(request, timeout=timeout):
            event = convert.solve_event_from_proto(message)
            if event.progress is not None and on_progress is not None:
                on_progress(event.progress)
            elif event.first is not None and on_first is not None:
                on_first(event.first)
            elif event.version is not None:
                return event.version
        raise RuntimeError("the stream ended without a plan version")

    # -- the ledger ---------------------------------------------------------------------------

    def get_plan(self, network_id: str, version: int = 0) -> StoredPlan:
        return _stored(self.stub.GetPlan(service_pb2.GetPlanRequest(network_id=network_id, version=version)))

    def list_plans(self, network_id: str) -> list[PlanSummary]:
        return convert.plan_list_from_proto(self.stub.ListPlans(service_pb2.ListPlansRequest(network_id=network_id)))

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
        state: DecisionState | None = None,
    ) -> list[StoredDecision]:
        """The decisions of a plan version (0: the latest) with their approval state; `state`
        keeps only those in it (None: every state)."""
        request = service_pb2.ListDecisionsRequest(
            network_id=network_id, plan_version=plan_version, state=convert.decision_state_to_proto(state)
        )
        return convert.decision_list_from_proto(self.stub.ListDecisions(request))

    def approve(self, network_id: str, plan_version: int, index: int, by: str = "", note: str = "") -> StoredDecision:
        """Approve a pending decision (and every decision of its escalation). `by` names the decider
        on a server without authentication; with it, the decider is this client's principal."""
        request = service_pb2.DecideRequest(
            network_id=network_id, plan_version=plan_version, index=index, decided_by=by, note=note
        )
        return convert.decision_record_from_proto(self.stub.ApproveDecision(request))

    def reject(self, network_id: str, plan_version: int, index: int, by: str = "", note: str = "") -> StoredDecision:
        """Reject a pending decision (and every decision of its escalation); `by` as in `approve`."""
        request = service_pb2.DecideRequest(
            network_id=network_id, plan_version=plan_version, index=index, decided_by=by, note=note
        )
        return convert.decision_record_from_proto(self.stub.RejectDecision(request))

    def audit(self, network_id: str) -> list[AuditRecord]:
        """Every write to a network, in order: who, with which credential, did what, when."""
        response = self.stub.ListAudit(service_pb2.ListAuditRequest(network_id=network_id))
        return convert.audit_list_from_proto(response)

    def export_model(
        self, spec: NetworkSpec, fmt: str = "mps", protocols: ProtocolSet | None = None, signals: Sequence[Signal] = ()
    ) -> str:
        request = service_pb2.ExportModelRequest(
            inline=self._solve_request(spec, protocols, signals, None, DEFAULT_BACKEND),
            format=convert.model_format_to_proto(fmt),
        )
        return convert.exported_model_from_proto(self.stub.ExportModel(request)).text


def _set_options(message: service_pb2.SolveOptions, options: SolveOptions | None, backend: str) -> None:
    """Fill a request's options: absent options leave the server's defaults, and the backend rides
    along either way (checked by the server before it queues the solve)."""
    if options is not None:
        message.CopyFrom(convert.options_to_proto(options, backend=backend))
    elif backend != DEFAULT_BACKEND:
        message.backend = backend
