"""The service's requests and streamed events <-> the use cases' domain objects (`solver.records`):
solve, plan and replan requests, list responses, and the events of a streamed solve.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.errors import ValidationError
from models.plan import Plan
from solver._proto.concerto.v1 import service_pb2
from solver.backends.registry import BackendInfo
from solver.convert.network import network_to_spec, spec_to_network
from solver.convert.plan import plan_from_proto, plan_to_proto
from solver.convert.protocols import protocols_to_domain, protocols_to_proto
from solver.convert.service import (
    ProgressLike,
    backend_from_proto,
    backend_info_from_proto,
    backend_to_proto,
    decision_record_from_proto,
    decision_record_to_proto,
    network_summary_from_proto,
    network_summary_to_proto,
    options_from_proto,
    options_to_proto,
    plan_summary_from_proto,
    plan_summary_to_proto,
    plan_version_from_proto,
    plan_version_to_proto,
    progress_from_proto,
    progress_to_proto,
    replan_options_from_proto,
    replan_options_to_proto,
    violation_to_domain,
    violation_to_proto,
)
from solver.convert.signals import signal_to_domain, signal_to_proto
from solver.records import (
    NetworkSummary,
    PlanRequest,
    PlanSummary,
    ReplanRequest,
    SolveEvent,
    SolveRequest,
    StoredDecision,
    StoredPlan,
)

# -- requests: each `*_from_proto(msg, default_time_limit=inf)` inverts its `*_to_proto` --------


def solve_request_from_proto(msg: service_pb2.SolveRequest, *, default_time_limit: float) -> SolveRequest:
    """An inline request: network, optional protocols, signals, options and backend name."""
    options = options_from_proto(msg.options, default_time_limit=default_time_limit)
    return SolveRequest(
        spec=network_to_spec(msg.network),
        protocols=protocols_to_domain(msg.protocols) if msg.HasField("protocols") else None,
        signals=tuple(signal_to_domain(s) for s in msg.signals),
        options=options,
        backend=backend_from_proto(msg.options),
    )


def solve_request_to_proto(request: SolveRequest) -> service_pb2.SolveRequest:
    return service_pb2.SolveRequest(
        network=spec_to_network(request.spec),
        protocols=protocols_to_proto(request.protocols) if request.protocols is not None else None,
        signals=[signal_to_proto(s) for s in request.signals],
        options=options_to_proto(request.options, backend=request.backend),
    )


def plan_request_from_proto(msg: service_pb2.PlanRequest, *, default_time_limit: float) -> PlanRequest:
    return PlanRequest(
        network_id=msg.network_id,
        network_version=int(msg.network_version),
        options=options_from_proto(msg.options, default_time_limit=default_time_limit),
        backend=backend_from_proto(msg.options),
        idempotency_key=msg.idempotency_key,
    )


def plan_request_to_proto(request: PlanRequest) -> service_pb2.PlanRequest:
    return service_pb2.PlanRequest(
        network_id=request.network_id,
        network_version=request.network_version,
        options=options_to_proto(request.options, backend=request.backend),
        idempotency_key=request.idempotency_key,
    )


def replan_request_from_proto(msg: service_pb2.ReplanRequest, *, default_time_limit: float) -> ReplanRequest:
    return ReplanRequest(
        network_id=msg.network_id,
        baseline_version=int(msg.baseline_version),
        signals=tuple(signal_to_domain(s) for s in msg.signals),
        options=options_from_proto(msg.options, default_time_limit=default_time_limit),
        backend=backend_from_proto(msg.options),
        idempotency_key=msg.idempotency_key,
        allow_stale_baseline=msg.allow_stale_baseline,
        settings=replan_options_from_proto(msg.settings),
        first_answer=not msg.settings.skip_first_answer,
        withdrawn=tuple(msg.withdrawn_signals),
    )


def replan_request_to_proto(request: ReplanRequest) -> service_pb2.ReplanRequest:
    return service_pb2.ReplanRequest(
        network_id=request.network_id,
        baseline_version=request.baseline_version,
        signals=[signal_to_proto(s) for s in request.signals],
        options=options_to_proto(request.options, backend=request.backend),
        idempotency_key=request.idempotency_key,
        allow_stale_baseline=request.allow_stale_baseline,
        settings=replan_options_to_proto(request.settings, skip_first_answer=not request.first_answer),
        withdrawn_signals=list(request.withdrawn),
    )


# -- responses ------------------------------------------------------------------------------------


def validation_to_proto(violations: Iterable[ValidationError]) -> service_pb2.ValidateNetworkResponse:
    """Valid exactly when there are no violations; `validation_from_proto` gives them back."""
    found = [violation_to_proto(v) for v in violations]
    return service_pb2.ValidateNetworkResponse(valid=not found, violations=found)


def validation_from_proto(msg: service_pb2.ValidateNetworkResponse) -> list[ValidationError]:
    return [violation_to_domain(v) for v in msg.violations]


def network_list_to_proto(summaries: Iterable[NetworkSummary]) -> service_pb2.ListNetworksResponse:
    return service_pb2.ListNetworksResponse(networks=[network_summary_to_proto(s) for s in summaries])


def network_list_from_proto(msg: service_pb2.ListNetworksResponse) -> list[NetworkSummary]:
    return [network_summary_from_proto(m) for m in msg.networks]


def plan_list_to_proto(summaries: Iterable[PlanSummary]) -> service_pb2.ListPlansResponse:
    return service_pb2.ListPlansResponse(plans=[plan_summary_to_proto(s) for s in summaries])


def plan_list_from_proto(msg: service_pb2.ListPlansResponse) -> list[PlanSummary]:
    return [plan_summary_from_proto(m) for m in msg.plans]


def decision_list_to_proto(records: Iterable[StoredDecision]) -> service_pb2.ListDecisionsResponse:
    return service_pb2.ListDecisionsResponse(decisions=[decision_record_to_proto(r) for r in records])


def decision_list_from_proto(msg: service_pb2.ListDecisionsResponse) -> list[StoredDecision]:
    return [decision_record_from_proto(m) for m in msg.decisions]


def backend_list_to_proto(backends: Iterable[BackendInfo]) -> service_pb2.ListBackendsResponse:
    return service_pb2.ListBackendsResponse(backends=[backend_to_proto(b) for b in backends])


def backend_list_from_proto(msg: service_pb2.ListBackendsResponse) -> list[BackendInfo]:
    return [backend_info_from_proto(m) for m in msg.backends]


def solve_response_to_proto(plan: Plan) -> service_pb2.SolveResponse:
    return service_pb2.SolveResponse(plan=plan_to_proto(plan))


def solve_response_from_proto(msg: service_pb2.SolveResponse) -> Plan:
    return plan_from_proto(msg.plan)


def solve_event_to_proto(
    *,
    progress: ProgressLike | None = None,
    plan: Plan | None = None,
    version: StoredPlan | None = None,
    first: Plan | None = None,
) -> service_pb2.SolveEvent:
    """The `SolveEvent` of exactly one of a progress event, SolveStream's plan, ReplanStream's
    stored version or its first coordinated plan; `solve_event_from_proto` gives it back."""
    if progress is not None:
        return service_pb2.SolveEvent(progress=progress_to_proto(progress))
    if plan is not None:
        return service_pb2.SolveEvent(plan=plan_to_proto(plan))
    if version is not None:
        return service_pb2.SolveEvent(version=plan_version_to_proto(version))
    if first is not None:
        return service_pb2.SolveEvent(first=plan_to_proto(first))
    raise ValueError("a solve event needs one of progress, plan, version or first")


def solve_event_from_proto(msg: service_pb2.SolveEvent) -> SolveEvent:
    kind = msg.WhichOneof("event")
    if kind == "progress":
        return SolveEvent(progress=progress_from_proto(msg.progress))
    if kind == "plan":
        return SolveEvent(plan=plan_from_proto(msg.plan))
    if kind == "version":
        return SolveEvent(version=plan_version_from_proto(msg.version))
    if kind == "first":
        return SolveEvent(first=plan_from_proto(msg.first))
    raise ValidationError("solve event", "", "event", "is unset; a server sends progress, plan, version or first")
