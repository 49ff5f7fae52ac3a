"""The gRPC service: a thin servicer that converts requests, calls the store and the solver worker
pool, and converts answers back; `create_server` builds it with health checking and reflection.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent import futures
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from queue import Empty, Queue
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from models.errors import ConcertoError, ValidationError
from models.network import Network, NetworkSpec
from models.plan import Plan as DomainPlan
from models.protocols import AuthorityStatus, ProtocolSet, validate_against_network, validate_protocols
from models.signals import Signal, apply_signals
from models.solution import SolveStatus
from solver import convert
from solver._proto.concerto.v1 import (
    network_pb2,
    plan_pb2,
    protocols_pb2,
    service_pb2,
    service_pb2_grpc,
    signals_pb2,
)
from solver.backends.registry import describe_backends
from solver.diff import diff_plans
from solver.errors import DeadlineExceeded, NoBaselinePlan, NoPlan, SolveCancelled, StaleBaseline, grpc_errors
from solver.export import export_model
from solver.options import DEFAULT_TIME_LIMIT
from solver.planner import ReplanResult, compile_model
from solver.store import DecisionInput, NetworkRecord, PlanRecord, PlanStore, SqlitePlanStore
from solver.workers import JobHandle, Progress, SolveJob, WorkerPool

log = logging.getLogger("concerto.server")

SERVICE_NAME = service_pb2.DESCRIPTOR.services_by_name["Concerto"].full_name
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
WATCH_POLL_SECONDS = 0.25
DECODED_VERSIONS = 32
"""Stored network and plan versions kept decoded (and validated) in memory for the next request."""

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """How a Concerto server runs."""

    store_path: str | Path = "concerto.db"
    workers: int = 2
    queue_size: int = 4
    default_time_limit: float = DEFAULT_TIME_LIMIT
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    """Larger requests are refused with INVALID_ARGUMENT (gRPC itself accepts up to twice this)."""
    grpc_threads: int = 16


def _plan_of(result: DomainPlan | ReplanResult) -> DomainPlan:
    """The plan of a plan job (a replan job's result carries it in `.plan`)."""
    return result.plan if isinstance(result, ReplanResult) else result


def _remaining(context: grpc.ServicerContext) -> float | None:
    """Seconds left before the client's deadline; None without a deadline (gRPC reports ~forever)."""
    left = context.time_remaining()
    return None if left is None or left > 1e6 else max(float(left), 0.0)


def _timestamp(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


class _UndecodableRequest:
    """Stands in for request bytes that are not the method's message: gRPC answers a request
    deserializer that raises with INTERNAL, but bad input is INVALID_ARGUMENT."""

    def __init__(self, error: ValidationError) -> None:
        self.error = error


class _RejectUndecodableRequests(grpc.ServerInterceptor):
    """Wraps every method with a single request so that bytes that do not parse reach the method as
    an `_UndecodableRequest`, which it answers with INVALID_ARGUMENT before running."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.request_streaming or handler.request_deserializer is None:
            return handler
        return _tolerant_handler(handler, handler_call_details.method)


def _tolerant_handler(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    parse = handler.request_deserializer
    descriptor = getattr(getattr(parse, "__self__", None), "DESCRIPTOR", None)
    message = descriptor.full_name if descriptor is not None else "request message"

    def deserialize(data: bytes) -> object:
        try:
            return parse(data)
        except Exception as err:
            return _UndecodableRequest(
                ValidationError(
                    "request", method, "bytes", f"are not a valid {message} ({err}); send a serialized {message}"
                )
            )

    def reject_undecodable(request: object, context: grpc.ServicerContext) -> None:
        if isinstance(request, _UndecodableRequest):
            with grpc_errors(context):
                raise request.error

    if handler.response_streaming:

        def unary_stream(request: object, context: grpc.ServicerContext) -> Iterator[object]:
            reject_undecodable(request, context)
            yield from handler.unary_stream(request, context)

        return grpc.unary_stream_rpc_method_handler(unary_stream, deserialize, handler.response_serializer)

    def unary_unary(request: object, context: grpc.ServicerContext) -> object:
        reject_undecodable(request, context)
        return handler.unary_unary(request, context)

    return grpc.unary_unary_rpc_method_handler(unary_unary, deserialize, handler.response_serializer)


@dataclass(frozen=True)
class _StoredNetwork:
    """A stored network version decoded and validated once: its spec, protocols and arrays."""

    spec: NetworkSpec
    protocols: ProtocolSet | None
    net: Network


class _DecodedVersions:
    """The last few stored versions decoded from their bytes, least recently used dropped first.

    A stored version never changes once written, so a decoded one stays true; keeping it saves a
    replan decoding and validating its network and baseline again (a few milliseconds of the
    server's CPU per call, which competes with the solver workers for the same cores).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, decode: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                found: T = self._items[key]
                return found
        value = decode()  # outside the lock: two threads may both decode, and either result is right
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


class ConcertoServicer(service_pb2_grpc.ConcertoServicer):
    """Convert, call the store or the worker pool, convert back; errors map in solver/errors.py."""

    def __init__(self, store: PlanStore, pool: WorkerPool, config: ServerConfig) -> None:
        self.store = store
        self.pool = pool
        self.config = config
        self._new_plan = threading.Condition()
        self._decoded = _DecodedVersions(DECODED_VERSIONS)
        self._backends: service_pb2.ListBackendsResponse | None = None
        self.health = health.HealthServicer()

    # -- networks -------------------------------------------------------------------------------

    def PutNetwork(
        self, request: service_pb2.PutNetworkRequest, context: grpc.ServicerContext
    ) -> service_pb2.NetworkVersion:
        with grpc_errors(context):
            spec, protocols = self._network_request(request.network, request.protocols, request.HasField("protocols"))
            record = self.store.put_network(
                request.network_id,
                spec.name,
                request.network.SerializeToString(deterministic=True),
                request.protocols.SerializeToString(deterministic=True) if protocols is not None else None,
            )
            return self._network_version(record)

    def GetNetwork(
        self, request: service_pb2.GetNetworkRequest, context: grpc.ServicerContext
    ) -> service_pb2.NetworkVersion:
        with grpc_errors(context):
            return self._network_version(self.store.get_network(request.network_id, request.version))

    def ValidateNetwork(
        self, request: service_pb2.ValidateNetworkRequest, context: grpc.ServicerContext
    ) -> service_pb2.ValidateNetworkResponse:
        with grpc_errors(context):
            try:
                spec, _ = self._network_request(request.network, request.protocols, request.HasField("protocols"))
                net = Network.from_spec(spec)
                apply_signals(net, [convert.signal_to_domain(s) for s in request.signals])
            except ValidationError as err:
                return service_pb2.ValidateNetworkResponse(
                    valid=False, violations=[convert.violation_to_proto(v) for v in err.each()]
                )
            return service_pb2.ValidateNetworkResponse(valid=True)

    def ListNetworks(
        self, request: service_pb2.ListNetworksRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListNetworksResponse:
        with grpc_errors(context):
            return service_pb2.ListNetworksResponse(
                networks=[
                    service_pb2.NetworkSummary(
                        network_id=n.network_id,
                        latest_version=n.latest_version,
                        name=n.name,
                        plan_versions=n.plan_versions,
                        updated_at=_timestamp(n.updated_at),
                    )
                    for n in self.store.list_networks()
                ]
            )

    # -- solving ----------------------------------------------------------------------------------

    def Solve(self, request: service_pb2.SolveRequest, context: grpc.ServicerContext) -> service_pb2.SolveResponse:
        with grpc_errors(context):
            self.pool.check_room()
            job = self._inline_job(request)
            return service_pb2.SolveResponse(plan=convert.plan_to_proto(self._run(job, context)))

    def SolveStream(
        self, request: service_pb2.SolveRequest, context: grpc.ServicerContext
    ) -> Iterator[service_pb2.SolveEvent]:
        with grpc_errors(context):
            job = self._inline_job(request)
            yield from self._stream(
                job, context, lambda plan: service_pb2.SolveEvent(plan=convert.plan_to_proto(_plan_of(plan)))
            )

    def Plan(self, request: service_pb2.PlanRequest, context: grpc.ServicerContext) -> service_pb2.PlanVersion:
        with grpc_errors(context):
            stored = self._idempotent(request.network_id, request.idempotency_key)
            if stored is not None:
                return stored
            self.pool.check_room()
            record = self.store.get_network(request.network_id, request.network_version)
            stored_network = self._stored_network(record)
            options = convert.options_from_proto(request.options, default_time_limit=self.config.default_time_limit)
            job = SolveJob(
                spec=stored_network.spec,
                protocols=stored_network.protocols,
                signals=(),
                options=options,
                backend=convert.backend_from_proto(request.options, options),
            )
            plan = self._run(job, context)
            return self._store_plan(request.network_id, record.version, 0, [], plan, request.idempotency_key, None)

    def Replan(self, request: service_pb2.ReplanRequest, context: grpc.ServicerContext) -> service_pb2.PlanVersion:
        with grpc_errors(context):
            stored = self._idempotent(request.network_id, request.idempotency_key)
            if stored is not None:
                return stored
            self.pool.check_room()  # refuse before the work of preparing the job
            job, baseline = self._replan_job(request)
            first_seconds: list[float] = []

            def on_progress(p: Progress) -> None:
                if p.first is not None:
                    first_seconds.append(p.first.ready_seconds)

            handle = self._submit(job, context, on_progress)
            result = self._wait(handle, _remaining(context))
            return self._store_replan(request, job, baseline, result, first_seconds)

    def ReplanStream(
        self, request: service_pb2.ReplanRequest, context: grpc.ServicerContext
    ) -> Iterator[service_pb2.SolveEvent]:
        with grpc_errors(context):
            stored = self._idempotent(request.network_id, request.idempotency_key)
            if stored is not None:
                yield service_pb2.SolveEvent(version=stored)
                return
            self.pool.check_room()  # refuse before the work of preparing the job
            job, baseline = self._replan_job(request)
            first_seconds: list[float] = []

            def finish(result: DomainPlan | ReplanResult) -> service_pb2.SolveEvent:
                return service_pb2.SolveEvent(version=self._store_replan(request, job, baseline, result, first_seconds))

            def on_first(p: Progress) -> None:
                if p.first is not None:
                    first_seconds.append(p.first.ready_seconds)

            yield from self._stream(job, context, finish, on_first)

    # -- the plan ledger ----------------------------------------------------------------------------

    def GetPlan(self, request: service_pb2.GetPlanRequest, context: grpc.ServicerContext) -> service_pb2.PlanVersion:
        with grpc_errors(context):
            return self._plan_version(self.store.get_plan(request.network_id, request.version))

    def ListPlans(
        self, request: service_pb2.ListPlansRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListPlansResponse:
        with grpc_errors(context):
            self.store.get_network(request.network_id)
            summaries = []
            for rec in self.store.list_plans(request.network_id):
                signals = signals_pb2.SignalBatch.FromString(rec.signals).signals if rec.signals else []
                summaries.append(
                    service_pb2.PlanSummary(
                        version=rec.version,
                        network_version=rec.network_version,
                        baseline_version=rec.baseline_version,
                        status=convert.solve_status_to_proto(rec.status),
                        objective=rec.objective,
                        decisions=rec.n_decisions,
                        needs_approval=rec.n_needs_approval,
                        signals=[s.id for s in signals],
                        created_at=_timestamp(rec.created_at),
                    )
                )
            return service_pb2.ListPlansResponse(plans=summaries)

    def DiffPlans(
        self, request: service_pb2.DiffPlansRequest, context: grpc.ServicerContext
    ) -> service_pb2.DiffPlansResponse:
        with grpc_errors(context):
            before = self._stored_plan(self.store.get_plan(request.network_id, request.from_version))
            after = self._stored_plan(self.store.get_plan(request.network_id, request.to_version))
            return convert.diff_to_proto(diff_plans(before, after))

    def WatchPlans(
        self, request: service_pb2.WatchPlansRequest, context: grpc.ServicerContext
    ) -> Iterator[service_pb2.PlanVersion]:
        with grpc_errors(context):
            self.store.get_network(request.network_id)
            last = request.after_version or self.store.latest_plan_version(request.network_id)
            while context.is_active():
                for rec in self.store.plans_after(request.network_id, last):
                    yield self._plan_version(rec)
                    last = rec.version
                with self._new_plan:
                    self._new_plan.wait(WATCH_POLL_SECONDS)

    def ListDecisions(
        self, request: service_pb2.ListDecisionsRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListDecisionsResponse:
        with grpc_errors(context):
            state = convert.decision_state_from_proto(request.state) if request.state else None
            version = request.plan_version or self.store.get_plan(request.network_id).version
            records = self.store.list_decisions(request.network_id, version, state)
            return service_pb2.ListDecisionsResponse(decisions=[convert.decision_record_to_proto(r) for r in records])

    def ApproveDecision(
        self, request: service_pb2.DecideRequest, context: grpc.ServicerContext
    ) -> service_pb2.DecisionRecord:
        return self._decide(request, context, approve=True)

    def RejectDecision(
        self, request: service_pb2.DecideRequest, context: grpc.ServicerContext
    ) -> service_pb2.DecisionRecord:
        return self._decide(request, context, approve=False)

    def ExportModel(
        self, request: service_pb2.ExportModelRequest, context: grpc.ServicerContext
    ) -> service_pb2.ExportModelResponse:
        with grpc_errors(context):
            fmt = {service_pb2.MODEL_FORMAT_MPS: "mps", service_pb2.MODEL_FORMAT_LP: "lp"}.get(request.format)
            if fmt is None:
                raise ValidationError(
                    "request", "export", "format", "is unspecified; use MODEL_FORMAT_MPS or MODEL_FORMAT_LP"
                )
            if request.HasField("inline"):
                job = self._inline_job(request.inline)
            else:
                stored_network = self._stored_network(
                    self.store.get_network(request.network_id, request.network_version)
                )
                job = SolveJob(
                    spec=stored_network.spec,
                    protocols=stored_network.protocols,
                    signals=tuple(convert.signal_to_domain(s) for s in request.signals),
                    options=convert.options_from_proto(service_pb2.SolveOptions(), default_time_limit=1.0),
                )
            lp = compile_model(job.spec, job.protocols, job.signals).lp
            return service_pb2.ExportModelResponse(text=export_model(lp, fmt), columns=lp.n_cols, rows=lp.n_rows)

    def ListBackends(
        self, request: service_pb2.ListBackendsRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListBackendsResponse:
        with grpc_errors(context):
            if self._backends is None:  # solvers do not come and go while the server runs
                self._backends = service_pb2.ListBackendsResponse(
                    backends=[
                        service_pb2.Backend(
                            name=b.name,
                            available=b.available,
                            version=b.version,
                            features=[f.value for f in b.features],
                            is_default=b.is_default,
                        )
                        for b in describe_backends()
                    ]
                )
            return self._backends

    # -- helpers ----------------------------------------------------------------------------------

    def _network_request(
        self, network: network_pb2.Network, protocols: protocols_pb2.ProtocolSet, has_protocols: bool
    ) -> tuple[NetworkSpec, ProtocolSet | None]:
        """Convert and validate a network and its protocol set; nothing is stored or solved on error."""
        size = network.ByteSize() + protocols.ByteSize()
        if size > self.config.max_request_bytes:
            raise ValidationError(
                "request",
                network.name,
                "network",
                f"is {size:,} bytes, over the server's limit of {self.config.max_request_bytes:,}",
            )
        spec = convert.network_to_spec(network)
        net = Network.from_spec(spec)
        domain = convert.protocols_to_domain(protocols) if has_protocols else None
        if domain is not None:
            validate_protocols(domain)
            validate_against_network(domain, net)
        return spec, domain

    def _inline_job(self, request: service_pb2.SolveRequest) -> SolveJob:
        spec, protocols = self._network_request(request.network, request.protocols, request.HasField("protocols"))
        signals = tuple(convert.signal_to_domain(s) for s in request.signals)
        apply_signals(Network.from_spec(spec), signals)  # reject bad signals before queueing
        options = convert.options_from_proto(request.options, default_time_limit=self.config.default_time_limit)
        backend = convert.backend_from_proto(request.options, options)
        return SolveJob(spec=spec, protocols=protocols, signals=signals, options=options, backend=backend)

    def _replan_job(self, request: service_pb2.ReplanRequest) -> tuple[SolveJob, PlanRecord]:
        baseline = self.store.get_plan(request.network_id, request.baseline_version)
        if not SolveStatus(baseline.status).has_solution:
            raise NoBaselinePlan(request.network_id, baseline.version, baseline.status)
        latest = self.store.latest_plan_version(request.network_id)
        if not request.allow_stale_baseline and baseline.version != latest:
            raise StaleBaseline(request.network_id, baseline.version, latest)
        stored_network = self._stored_network(self.store.get_network(request.network_id, baseline.network_version))
        earlier = [convert.signal_to_domain(s) for s in signals_pb2.SignalBatch.FromString(baseline.signals).signals]
        new = [convert.signal_to_domain(s) for s in request.signals]
        known = {s.id for s in earlier}
        signals = tuple(earlier + [s for s in new if s.id not in known])
        apply_signals(stored_network.net, signals)  # reject bad signals before queueing
        options = convert.options_from_proto(request.options, default_time_limit=self.config.default_time_limit)
        job = SolveJob(
            spec=stored_network.spec,
            protocols=stored_network.protocols,
            signals=signals,
            options=options,
            baseline=self._stored_plan(baseline),
            replan=convert.replan_options_from_proto(request.settings),
            first_answer=not request.settings.skip_first_answer,
            backend=convert.backend_from_proto(request.options, options),
        )
        return job, baseline

    def _stored_network(self, record: NetworkRecord) -> _StoredNetwork:
        def decode() -> _StoredNetwork:
            spec = convert.network_to_spec(network_pb2.Network.FromString(record.network))
            protocols = (
                convert.protocols_to_domain(protocols_pb2.ProtocolSet.FromString(record.protocols))
                if record.protocols
                else None
            )
            return _StoredNetwork(spec, protocols, Network.from_spec(spec))

        return self._decoded.get(("network", record.network_id, record.version), decode)

    def _stored_plan(self, record: PlanRecord) -> DomainPlan:
        return self._decoded.get(
            ("plan", record.network_id, record.version),
            lambda: convert.plan_from_proto(plan_pb2.PlanResult.FromString(record.plan)),
        )

    def _idempotent(self, network_id: str, key: str) -> service_pb2.PlanVersion | None:
        if not key:
            return None
        record = self.store.find_plan_by_key(network_id, key)
        return self._plan_version(record) if record is not None else None

    def _submit(
        self, job: SolveJob, context: grpc.ServicerContext, on_progress: Callable[[Progress], None] | None
    ) -> JobHandle:
        handle = self.pool.submit(job, on_progress=on_progress)
        # A cancelled or finished RPC stops its solve and frees the worker.
        context.add_callback(handle.cancel)
        return handle

    def _wait(self, handle: JobHandle, timeout: float | None) -> DomainPlan | ReplanResult:
        try:
            return handle.result(timeout=timeout)
        except TimeoutError:
            handle.cancel()
            raise DeadlineExceeded("the deadline passed before the solve finished; the solve was stopped") from None

    def _run(self, job: SolveJob, context: grpc.ServicerContext) -> DomainPlan:
        handle = self._submit(job, context, None)
        return _plan_of(self._wait(handle, _remaining(context)))

    def _stream(
        self,
        job: SolveJob,
        context: grpc.ServicerContext,
        finish: Callable[[DomainPlan | ReplanResult], service_pb2.SolveEvent],
        also: Callable[[Progress], None] | None = None,
    ) -> Iterator[service_pb2.SolveEvent]:
        events: Queue[Progress] = Queue()

        def on_progress(p: Progress) -> None:
            if also is not None:
                also(p)
            events.put(p)

        handle = self._submit(job, context, on_progress)
        yield service_pb2.SolveEvent(progress=service_pb2.SolveProgress(phase="queued", objective=float("nan")))
        deadline = _remaining(context)
        stop_at = None if deadline is None else time.monotonic() + deadline
        while not handle.done():
            if not context.is_active():
                handle.cancel()
                raise SolveCancelled("the client cancelled the stream")
            if stop_at is not None and time.monotonic() > stop_at:
                handle.cancel()
                raise DeadlineExceeded("the deadline passed before the solve finished; the solve was stopped")
            try:
                p = events.get(timeout=0.1)
            except Empty:
                continue
            yield self._event(p)
        while not events.empty():
            yield self._event(events.get())
        yield finish(self._wait(handle, 0.0))

    def _event(self, p: Progress) -> service_pb2.SolveEvent:
        """A progress event, or a replan's first coordinated plan."""
        if p.first is not None:
            return service_pb2.SolveEvent(first=convert.plan_to_proto(p.first.plan))
        return service_pb2.SolveEvent(progress=convert.progress_to_proto(p))

    def _store_replan(
        self,
        request: service_pb2.ReplanRequest,
        job: SolveJob,
        baseline: PlanRecord,
        result: DomainPlan | ReplanResult,
        first_seconds: list[float],
    ) -> service_pb2.PlanVersion:
        """Store a replan's final plan with how it answered (kind, timings, fence cuts, churn)."""
        assert isinstance(result, ReplanResult), "a replan job returns a ReplanResult"
        diff = diff_plans(job.baseline, result.plan) if job.baseline is not None else None
        info = convert.replan_info_to_proto(
            result.kind,
            result.business_objective,
            first_seconds[0] if first_seconds else 0.0,
            result.ready_seconds,
            result.execute_after_hours,
            result.mip_start_accepted,
            result.cuts,
            diff,
        )
        return self._store_plan(
            request.network_id,
            baseline.network_version,
            baseline.version,
            list(job.signals),
            result.plan,
            request.idempotency_key,
            None if request.allow_stale_baseline else baseline.version,
            extra=info.SerializeToString(deterministic=True),
        )

    def _store_plan(
        self,
        network_id: str,
        network_version: int,
        baseline_version: int,
        signals: list[Signal],
        plan: DomainPlan,
        key: str,
        expect_latest: int | None,
        *,
        extra: bytes = b"",
    ) -> service_pb2.PlanVersion:
        if not plan.has_solution:
            raise NoPlan(network_id, plan.status, plan.message)
        message = convert.plan_to_proto(plan)
        decisions = [
            DecisionInput(
                index=k,
                needs_approval=d.status == AuthorityStatus.ESCALATED,
                blob=message.decisions[k].SerializeToString(deterministic=True),
            )
            for k, d in enumerate(plan.decisions)
        ]
        record = self.store.add_plan(
            network_id,
            network_version=network_version,
            baseline_version=baseline_version,
            signals=signals_pb2.SignalBatch(signals=[convert.signal_to_proto(s) for s in signals]).SerializeToString(
                deterministic=True
            ),
            plan=message.SerializeToString(deterministic=True),
            status=plan.status.value,
            objective=plan.objective,
            decisions=decisions,
            idempotency_key=key,
            expect_latest=expect_latest,
            extra=extra,
        )
        with self._new_plan:
            self._new_plan.notify_all()
        return self._plan_version(record)

    def _network_version(self, rec: NetworkRecord) -> service_pb2.NetworkVersion:
        return service_pb2.NetworkVersion(
            network_id=rec.network_id,
            version=rec.version,
            network=network_pb2.Network.FromString(rec.network),
            protocols=protocols_pb2.ProtocolSet.FromString(rec.protocols) if rec.protocols is not None else None,
            has_protocols=rec.protocols is not None,
            created_at=_timestamp(rec.created_at),
        )

    def _plan_version(self, rec: PlanRecord) -> service_pb2.PlanVersion:
        return service_pb2.PlanVersion(
            network_id=rec.network_id,
            version=rec.version,
            network_version=rec.network_version,
            baseline_version=rec.baseline_version,
            signals=signals_pb2.SignalBatch.FromString(rec.signals).signals if rec.signals else [],
            plan=plan_pb2.PlanResult.FromString(rec.plan),
            created_at=_timestamp(rec.created_at),
            idempotency_key=rec.idempotency_key,
            replan=service_pb2.ReplanInfo.FromString(rec.extra) if rec.extra else None,
        )

    def _decide(
        self, request: service_pb2.DecideRequest, context: grpc.ServicerContext, *, approve: bool
    ) -> service_pb2.DecisionRecord:
        with grpc_errors(context):
            if not request.decided_by:
                raise ValidationError("request", request.network_id, "decided_by", "is empty; say who decides")
            record = self.store.decide(
                request.network_id,
                request.plan_version,
                request.index,
                approve=approve,
                decided_by=request.decided_by,
                note=request.note,
            )
            return convert.decision_record_to_proto(record)


def create_server(address: str, config: ServerConfig | None = None) -> tuple[grpc.Server, int, ConcertoServicer]:
    """A started-ready (not yet started) server bound to `address` ("127.0.0.1:0" picks a port),
    with the Concerto service, health checking and reflection; returns it with its port."""
    config = config or ServerConfig()
    store = SqlitePlanStore(config.store_path)
    pool = WorkerPool(config.workers, config.queue_size)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.grpc_threads),
        interceptors=[_RejectUndecodableRequests()],
        options=[
            ("grpc.max_receive_message_length", 2 * config.max_request_bytes),
            ("grpc.max_send_message_length", 4 * config.max_request_bytes),
        ],
    )
    servicer = ConcertoServicer(store, pool, config)
    service_pb2_grpc.add_ConcertoServicer_to_server(servicer, server)
    health_servicer = servicer.health
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(address)
    if port == 0:
        raise ConcertoError(f"could not bind {address!r}")
    return server, port, servicer


def shutdown(server: grpc.Server, servicer: ConcertoServicer, grace: float | None = 2.0) -> None:
    """Stop taking requests, let running ones finish for `grace` seconds, then stop the workers and
    close the store."""
    servicer.health.enter_graceful_shutdown()
    server.stop(grace).wait()
    servicer.pool.close()
    servicer.store.close()


def serve(address: str, config: ServerConfig | None = None, *, on_ready: Callable[[int], None] | None = None) -> None:
    """Run a server until SIGINT or SIGTERM."""
    import signal

    server, port, servicer = create_server(address, config)
    server.start()
    log.info("Concerto serving on port %d", port)
    if on_ready is not None:
        on_ready(port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    shutdown(server, servicer)
