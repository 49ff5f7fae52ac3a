"""The gRPC service: a thin servicer that converts each request (`solver.convert`), calls a use case
(`solver.usecases`) and converts the answer back; `create_server` builds it with health checking
and reflection, on the plan ledger its config's `store` URL names, over TLS when its config gives a
certificate, and only where `check_exposure` allows.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from models.errors import ConcertoError, ValidationError
from solver import convert
from solver._proto.concerto.v1 import service_pb2, service_pb2_grpc
from solver.auth import OPEN, Principal, PrincipalRegistry, authenticate, authorize
from solver.automatic import AlwaysOn
from solver.errors import DeadlineExceeded, QueueFull, SolveCancelled, grpc_errors
from solver.limits import RequestLimits, check_request
from solver.options import DEFAULT_TIME_LIMIT
from solver.orchestrator import Orchestrator
from solver.records import QUEUED, SolveRequest, StoredPlan
from solver.store import PlanStore, open_store
from solver.tls import LOOPBACK, PemKind, check_key_pair, check_trust_roots, is_loopback, read_pem
from solver.usecases import PlanRun, PlanService, check_backend, plan_of, validate
from solver.workers import JobHandle, Progress, WorkerPool

log = logging.getLogger("concerto.server")

R = TypeVar("R")

SERVICE_NAME = service_pb2.DESCRIPTOR.services_by_name["Concerto"].full_name
SPARE_THREADS = 8
"""gRPC threads beyond those that solves and watch streams can hold: health checks, reads and the
refusals of a full queue are answered by these, whatever the load."""


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """How a Concerto server runs."""

    store: str | Path = "concerto.db"
    """The plan ledger's URL: "sqlite:///abs/path.db", "sqlite://relative.db", a plain file path
    (SQLite too) or ":memory:" (`solver.store.open_store`)."""
    store_path: str | Path | None = None
    """The earlier name of `store`, a SQLite file path; when set it is the ledger."""
    workers: int = 2
    queue_size: int = 4
    default_time_limit: float = DEFAULT_TIME_LIMIT
    limits: RequestLimits = field(default_factory=RequestLimits)
    """Every limit a request is held to (`solver.limits`), checked before anything else runs."""
    grpc_threads: int | None = None
    """Threads answering calls; by default one per solve that can be running or queued, one per
    watch stream, one per large request, and `SPARE_THREADS` more, so that long calls can never
    take them all."""
    tls_cert: Path | None = None
    """The server's PEM certificate chain (`--tls-cert`); with `tls_key`, the server speaks TLS only."""
    tls_key: Path | None = None
    """The PEM private key of `tls_cert` (`--tls-key`), unencrypted."""
    client_ca: Path | None = None
    """PEM CA certificates (`--client-ca`): when set, TLS is mutual, and a client must present a
    certificate one of them signed. Needs `tls_cert`."""
    principals: str | Path | None = None
    """The principals file (`solver.auth`): who may call, with which grants; None keeps the server
    open, on loopback only."""
    reflection: bool | None = None
    """Serve gRPC reflection (`--reflection`/`--no-reflection`); None: only where authentication is
    on (`principals`) or the address is loopback, so an open server never describes itself beyond
    this machine."""
    grace_seconds: float = 10.0
    """On SIGTERM (`--grace`): health says NOT_SERVING at once, the orchestrator hands its networks
    back (their replans stop, their leases are released for another replica), and calls under way
    may finish for this long before they are stopped (a client retries them elsewhere)."""
    replica: str = ""
    """This server's name among the replicas of one ledger (`--replica`), on the orchestrator leases
    it holds; empty: a random one."""
    orchestrator: bool = True
    """Run the orchestrator that replans automatic networks by themselves (`--no-orchestrator`:
    settings are kept, signals stored, and nothing replans until a server with one runs)."""
    insecure: bool = False
    """Allow an address other than loopback without TLS or without authentication (`--insecure`);
    see `check_exposure`."""

    @property
    def threads(self) -> int:
        """The gRPC threads: `grpc_threads`, or enough that long calls leave `SPARE_THREADS` free."""
        limits = self.limits
        needed = self.workers + self.queue_size + limits.watch_streams + limits.large_requests + SPARE_THREADS
        return self.grpc_threads if self.grpc_threads is not None else needed

    @property
    def ledger(self) -> str | Path:
        """Where the plan ledger is: `store_path` when set, else `store`."""
        return self.store if self.store_path is None else self.store_path


def _remaining(context: grpc.ServicerContext) -> float | None:
    """Seconds left before the client's deadline; None without a deadline (gRPC reports ~forever)."""
    left = context.time_remaining()
    return None if left is None or left > 1e6 else max(float(left), 0.0)


def _expired(context: grpc.ServicerContext) -> Callable[[], bool]:
    """Whether the client's deadline has passed, asked when a prepared job is about to be queued."""

    def expired() -> bool:
        left = _remaining(context)
        return left is not None and left <= 0.0

    return expired


class _UndecodableRequest:
    """Stands in for request bytes that are not the method's message: gRPC answers a request
    deserializer that raises with INTERNAL, but bad input is INVALID_ARGUMENT."""

    def __init__(self, error: ValidationError) -> None:
        self.error = error


class _CheckRequests(grpc.ServerInterceptor):
    """The one gate every call passes before its method runs, in this order:

    1. authentication: the caller's principal from its bearer token or client certificate
       (`solver.auth.authenticate`; `OPEN` on a server without a principals file), UNAUTHENTICATED
       without one; health checks are answered for anyone (load balancers probe without
       credentials), reflection for any principal;
    2. a slot for a large request: at most `limits.large_requests` calls with a request over
       `limits.large_request_bytes` run at once (the next is RESOURCE_EXHAUSTED), so reading large
       requests can never take every thread;
    3. the request limits (`solver.limits.check_request`) and bytes that do not parse (reaching the
       method as an `_UndecodableRequest`): INVALID_ARGUMENT;
    4. authorization (`solver.auth.authorize` against `METHOD_NEEDS`, with the tenant of the network
       the request names): PERMISSION_DENIED naming the grant, NOT_FOUND for another tenant's network.

    The method then runs with the principal on its context (`principal_of`)."""

    def __init__(
        self,
        limits: RequestLimits,
        principals: PrincipalRegistry | None = None,
        tenant_of: Callable[[str], str | None] = lambda _: None,
    ) -> None:
        self.limits = limits
        self.large = threading.BoundedSemaphore(limits.large_requests)
        self.principals = principals
        self.tenant_of = tenant_of

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        service, _, name = method.lstrip("/").partition("/")
        if service == health.SERVICE_NAME:
            return handler
        if service != SERVICE_NAME:  # reflection: any principal
            return _signed_in_handler(handler, self._authenticate) if self.principals is not None else handler
        if handler.request_streaming or handler.request_deserializer is None:
            return handler
        return _checked_handler(handler, method, name, self)

    def _authenticate(self, context: grpc.ServicerContext) -> Principal:
        if self.principals is None:
            return OPEN
        return authenticate(self.principals.current(), context.invocation_metadata(), _certificate_names(context))


def _certificate_names(context: grpc.ServicerContext) -> list[str]:
    """The verified client certificate's common name and subject alternative names (mutual TLS)."""
    auth = context.auth_context()
    names = [*auth.get("x509_common_name", ()), *auth.get("x509_subject_alternative_name", ())]
    return [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names]


class _AuthorizedContext:
    """The call's context with its principal attached; everything else is the gRPC context's."""

    def __init__(self, context: grpc.ServicerContext, principal: Principal) -> None:
        self._context = context
        self.principal = principal

    def __getattr__(self, name: str) -> object:
        return getattr(self._context, name)


def principal_of(context: grpc.ServicerContext) -> Principal:
    """The principal `_CheckRequests` authenticated for this call."""
    principal = getattr(context, "principal", None)
    if not isinstance(principal, Principal):
        raise ConcertoError("the call reached its method without authentication; serve it through create_server")
    return principal


def _signed_in_handler(
    handler: grpc.RpcMethodHandler, authenticate_call: Callable[[grpc.ServicerContext], Principal]
) -> grpc.RpcMethodHandler:
    """A stream-stream handler (reflection) that first needs a principal."""

    def stream_stream(requests: Iterator[object], context: grpc.ServicerContext) -> Iterator[object]:
        with grpc_errors(context):
            authenticate_call(context)
        yield from handler.stream_stream(requests, context)

    if handler.stream_stream is None:
        return handler
    return grpc.stream_stream_rpc_method_handler(
        stream_stream, handler.request_deserializer, handler.response_serializer
    )


def _checked_handler(
    handler: grpc.RpcMethodHandler, method: str, name: str, gate: _CheckRequests
) -> grpc.RpcMethodHandler:
    limits, large = gate.limits, gate.large
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

    @contextmanager
    def admitted(request: object, context: grpc.ServicerContext) -> Iterator[grpc.ServicerContext]:
        """The call, once its caller is known, has a slot if it is large, is within the limits and
        is allowed; its context then carries the principal."""
        with grpc_errors(context):
            principal = gate._authenticate(context)
            if isinstance(request, _UndecodableRequest):
                raise request.error
            assert isinstance(request, Message)
            is_large = request.ByteSize() > limits.large_request_bytes
            if is_large and not large.acquire(blocking=False):
                raise QueueFull(
                    f"{limits.large_requests} requests over {limits.large_request_bytes:,} bytes are being "
                    f"answered, the server's limit (`concerto serve {RequestLimits.flag('large_requests')}`); "
                    "retry later"
                )
        try:
            with grpc_errors(context):
                check_request(request, limits)
                network_id = str(getattr(request, "network_id", ""))
                owner = gate.tenant_of(network_id) if network_id and not principal.open else None
                authorize(principal, name, network_id, owner)
            yield _AuthorizedContext(context, principal)
        finally:
            if is_large:
                large.release()

    def bounded(response: object, context: grpc.ServicerContext) -> object:
        """The response, unless it is over the response limit (then INVALID_ARGUMENT: a plan that is
        stored was checked before it was, so only unstored answers, like a Solve's, reach this)."""
        size = response.ByteSize() if isinstance(response, Message) else 0
        if size > limits.response_bytes:
            with grpc_errors(context):
                raise ValidationError(
                    "response",
                    method,
                    "size",
                    f"would be {size:,} bytes, over the limit of {limits.response_bytes:,} "
                    f"(`concerto serve {RequestLimits.flag('response_bytes')}`); ask for a smaller network or horizon",
                )
        return response

    if handler.response_streaming:

        def unary_stream(request: object, context: grpc.ServicerContext) -> Iterator[object]:
            with admitted(request, context) as authorized:
                for response in handler.unary_stream(request, authorized):
                    yield bounded(response, context)

        return grpc.unary_stream_rpc_method_handler(unary_stream, deserialize, handler.response_serializer)

    def unary_unary(request: object, context: grpc.ServicerContext) -> object:
        with admitted(request, context) as authorized:
            return bounded(handler.unary_unary(request, authorized), context)

    return grpc.unary_unary_rpc_method_handler(unary_unary, deserialize, handler.response_serializer)


class StreamSlots:
    """Bounds the long-lived streams that each hold a server thread: at most `total` open at once,
    and `per_client` from one client address; the next is refused with RESOURCE_EXHAUSTED at once,
    so streams can never take the threads that answer health checks and every other call."""

    def __init__(self, total: int, per_client: int) -> None:
        self.total = total
        self.per_client = per_client
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, client: str) -> Iterator[None]:
        """One slot for the duration of a stream from `client`."""
        with self._lock:
            if sum(self._open.values()) >= self.total:
                raise QueueFull(
                    f"{self.total} watch streams are open, the server's limit "
                    f"(`concerto serve {RequestLimits.flag('watch_streams')}`); retry later"
                )
            if self._open.get(client, 0) >= self.per_client:
                raise QueueFull(
                    f"{self.per_client} watch streams are open from this client, the limit per client "
                    f"(`concerto serve {RequestLimits.flag('watch_streams_per_client')}`); close one first"
                )
            self._open[client] = self._open.get(client, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._open[client] -= 1
                if not self._open[client]:
                    del self._open[client]

    def open(self) -> int:
        """Streams open now."""
        with self._lock:
            return sum(self._open.values())


def _client_of(context: grpc.ServicerContext) -> str:
    """The client's address without its port ("ipv4:127.0.0.1:53022" -> "ipv4:127.0.0.1")."""
    peer = context.peer() or ""
    return peer.rsplit(":", 1)[0] if peer.count(":") >= 2 else peer


class ConcertoServicer(service_pb2_grpc.ConcertoServicer):
    """Request -> convert -> use case (`solver.usecases.PlanService`) -> convert -> response; every
    method runs inside `grpc_errors`, the one place errors become status codes."""

    def __init__(self, store: PlanStore, pool: WorkerPool, config: ServerConfig) -> None:
        self.store = store
        self.pool = pool
        self.config = config
        self.service = PlanService(store, pool, max_response_bytes=config.limits.response_bytes)
        self.always_on = AlwaysOn(self.service, max_open_signals=config.limits.signals)
        self.orchestrator = Orchestrator(self.always_on, holder=config.replica or None)
        self.always_on.on_signals = self.orchestrator.notify
        self.service.on_decided = self.orchestrator.on_decided
        self.health = health.HealthServicer()
        self.watch_slots = StreamSlots(config.limits.watch_streams, config.limits.watch_streams_per_client)
        self.principals: PrincipalRegistry | None = None
        """The principals file in force (None: an open server); `serve` reloads it on SIGHUP."""

    # -- networks -------------------------------------------------------------------------------

    def PutNetwork(
        self, request: service_pb2.PutNetworkRequest, context: grpc.ServicerContext
    ) -> service_pb2.NetworkVersion:
        with grpc_errors(context):
            spec = convert.network_to_spec(request.network)
            protocols = convert.protocols_to_domain(request.protocols) if request.HasField("protocols") else None
            stored = self.service.put_network(
                request.network_id,
                spec,
                protocols,
                clear_protocols=request.clear_protocols,
                principal=principal_of(context),
            )
            return convert.network_version_to_proto(stored)

    def GetNetwork(
        self, request: service_pb2.GetNetworkRequest, context: grpc.ServicerContext
    ) -> service_pb2.NetworkVersion:
        with grpc_errors(context):
            return convert.network_version_to_proto(self.service.get_network(request.network_id, request.version))

    def ValidateNetwork(
        self, request: service_pb2.ValidateNetworkRequest, context: grpc.ServicerContext
    ) -> service_pb2.ValidateNetworkResponse:
        with grpc_errors(context):
            try:
                spec = convert.network_to_spec(request.network)
                protocols = convert.protocols_to_domain(request.protocols) if request.HasField("protocols") else None
                signals = [convert.signal_to_domain(s) for s in request.signals]
            except ValidationError as err:
                return convert.validation_to_proto(err.each())
            return convert.validation_to_proto(validate(spec, protocols, signals))

    def ListNetworks(
        self, request: service_pb2.ListNetworksRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListNetworksResponse:
        with grpc_errors(context):
            return convert.network_list_to_proto(self.service.list_networks(principal_of(context)))

    # -- solving ----------------------------------------------------------------------------------

    def Solve(self, request: service_pb2.SolveRequest, context: grpc.ServicerContext) -> service_pb2.SolveResponse:
        with grpc_errors(context):
            handle = self._watched(
                self.service.start_solve(self._solve_request(request), expired=_expired(context)), context
            )
            return convert.solve_response_to_proto(plan_of(self._wait(handle, _remaining(context))))

    def SolveStream(
        self, request: service_pb2.SolveRequest, context: grpc.ServicerContext
    ) -> Iterator[service_pb2.SolveEvent]:
        with grpc_errors(context):
            events: Queue[Progress] = Queue()
            solve = self._solve_request(request)
            handle = self._watched(self.service.start_solve(solve, events.put, expired=_expired(context)), context)
            yield from self._stream(handle, events, context)
            yield convert.solve_event_to_proto(plan=plan_of(self._wait(handle, 0.0)))

    def Plan(self, request: service_pb2.PlanRequest, context: grpc.ServicerContext) -> service_pb2.PlanVersion:
        with grpc_errors(context):
            run = self.service.start_plan(
                convert.plan_request_from_proto(request, default_time_limit=self._time_limit),
                expired=_expired(context),
                principal=principal_of(context),
            )
            return convert.plan_version_to_proto(self._finish(run, context))

    def Replan(self, request: service_pb2.ReplanRequest, context: grpc.ServicerContext) -> service_pb2.PlanVersion:
        with grpc_errors(context):
            run = self.service.start_replan(
                convert.replan_request_from_proto(request, default_time_limit=self._time_limit),
                expired=_expired(context),
                principal=principal_of(context),
            )
            return convert.plan_version_to_proto(self._finish(run, context))

    def ReplanStream(
        self, request: service_pb2.ReplanRequest, context: grpc.ServicerContext
    ) -> Iterator[service_pb2.SolveEvent]:
        with grpc_errors(context):
            events: Queue[Progress] = Queue()
            run = self.service.start_replan(
                convert.replan_request_from_proto(request, default_time_limit=self._time_limit),
                events.put,
                expired=_expired(context),
                principal=principal_of(context),
            )
            if run.replayed is not None:
                yield convert.solve_event_to_proto(version=run.replayed)
                return
            assert run.handle is not None
            handle = self._watched(run.handle, context)
            yield from self._stream(handle, events, context)
            yield convert.solve_event_to_proto(version=run.finish_with(lambda: self._wait(handle, 0.0)))

    # -- the plan ledger ----------------------------------------------------------------------------

    def GetPlan(self, request: service_pb2.GetPlanRequest, context: grpc.ServicerContext) -> service_pb2.PlanVersion:
        with grpc_errors(context):
            return convert.plan_version_to_proto(self.service.get_plan(request.network_id, request.version))

    def ListPlans(
        self, request: service_pb2.ListPlansRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListPlansResponse:
        with grpc_errors(context):
            return convert.plan_list_to_proto(self.service.list_plans(request.network_id))

    def DiffPlans(
        self, request: service_pb2.DiffPlansRequest, context: grpc.ServicerContext
    ) -> service_pb2.DiffPlansResponse:
        with grpc_errors(context):
            diff = self.service.diff_plans(request.network_id, request.from_version, request.to_version)
            return convert.diff_to_proto(diff)

    def WatchPlans(
        self, request: service_pb2.WatchPlansRequest, context: grpc.ServicerContext
    ) -> Iterator[service_pb2.PlanVersion]:
        with grpc_errors(context), self.watch_slots.hold(_client_of(context)):
            for stored in self.service.watch_plans(request.network_id, request.after_version, context.is_active):
                yield convert.plan_version_to_proto(stored)

    def ListDecisions(
        self, request: service_pb2.ListDecisionsRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListDecisionsResponse:
        with grpc_errors(context):
            state = convert.decision_state_from_proto(request.state) if request.state else None
            records = self.service.list_decisions(
                request.network_id, request.plan_version, state, principal=principal_of(context)
            )
            return convert.decision_list_to_proto(records)

    def ApproveDecision(
        self, request: service_pb2.DecideRequest, context: grpc.ServicerContext
    ) -> service_pb2.DecisionRecord:
        return self._decide(request, context, approve=True)

    def RejectDecision(
        self, request: service_pb2.DecideRequest, context: grpc.ServicerContext
    ) -> service_pb2.DecisionRecord:
        return self._decide(request, context, approve=False)

    def ListAudit(
        self, request: service_pb2.ListAuditRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListAuditResponse:
        with grpc_errors(context):
            return convert.audit_list_to_proto(self.service.list_audit(request.network_id))

    # -- always on ----------------------------------------------------------------------------------

    def PublishSignals(
        self, request: service_pb2.PublishSignalsRequest, context: grpc.ServicerContext
    ) -> service_pb2.PublishSignalsResponse:
        with grpc_errors(context):
            published = [convert.published_signal_from_proto(m, f"signals[{k}]") for k, m in enumerate(request.signals)]
            records = self.always_on.publish(request.network_id, published, principal_of(context))
            return convert.received_signals_to_proto(records)

    def GetNetworkSettings(
        self, request: service_pb2.GetNetworkSettingsRequest, context: grpc.ServicerContext
    ) -> service_pb2.NetworkSettings:
        with grpc_errors(context):
            settings, updated_at = self.always_on.settings(request.network_id)
            return convert.settings_to_proto(request.network_id, settings, updated_at)

    def SetNetworkSettings(
        self, request: service_pb2.SetNetworkSettingsRequest, context: grpc.ServicerContext
    ) -> service_pb2.NetworkSettings:
        with grpc_errors(context):
            wanted = convert.settings_from_request(request, default_time_limit=self._time_limit)
            check_backend(wanted.backend, wanted.options)
            settings, updated_at = self.always_on.set_settings(request.network_id, wanted, principal_of(context))
            return convert.settings_to_proto(request.network_id, settings, updated_at)

    def GetResponseTimeline(
        self, request: service_pb2.GetResponseTimelineRequest, context: grpc.ServicerContext
    ) -> service_pb2.ResponseTimeline:
        with grpc_errors(context):
            return convert.timeline_to_proto(self.always_on.timeline(request.network_id))

    def AdvancePeriod(
        self, request: service_pb2.AdvancePeriodRequest, context: grpc.ServicerContext
    ) -> service_pb2.AdvancePeriodResponse:
        with grpc_errors(context):
            plan_request = convert.plan_request_from_proto(
                service_pb2.PlanRequest(network_id=request.network_id, options=request.options),
                default_time_limit=self._time_limit,
            )
            run = self.always_on.advance(
                request.network_id,
                request.periods or 1,
                convert.stock_counts_from_proto(request),
                plan_request,
                principal_of(context),
                expired=_expired(context),
            )
            version = self._finish(run, context)
            stored = self.service.get_network(request.network_id, version.network_version)
            return service_pb2.AdvancePeriodResponse(
                network=convert.network_version_to_proto(stored), plan=convert.plan_version_to_proto(version)
            )

    def WatchNetwork(
        self, request: service_pb2.WatchNetworkRequest, context: grpc.ServicerContext
    ) -> Iterator[service_pb2.AuditEntry]:
        with grpc_errors(context), self.watch_slots.hold(_client_of(context)):
            for event in self.always_on.watch(request.network_id, request.after_seq, context.is_active):
                yield convert.audit_entry_to_proto(event)

    def ExportModel(
        self, request: service_pb2.ExportModelRequest, context: grpc.ServicerContext
    ) -> service_pb2.ExportModelResponse:
        """The model is built and written in a worker, queued like a solve and stopped when the RPC
        ends or its deadline passes; text over the response limit is refused there."""
        with grpc_errors(context):
            fmt = convert.model_format_from_proto(request.format)
            limit = self.config.limits.response_bytes
            if request.HasField("inline"):
                handle = self.service.start_export(
                    fmt, inline=self._solve_request(request.inline), max_bytes=limit, expired=_expired(context)
                )
            else:
                handle = self.service.start_export(
                    fmt,
                    network_id=request.network_id,
                    network_version=request.network_version,
                    signals=tuple(convert.signal_to_domain(s) for s in request.signals),
                    expired=_expired(context),
                    time_limit=self._time_limit,
                    max_bytes=limit,
                )
            model = self._wait(self._watched(handle, context), _remaining(context))
            return convert.exported_model_to_proto(model)

    def ListBackends(
        self, request: service_pb2.ListBackendsRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListBackendsResponse:
        with grpc_errors(context):
            return convert.backend_list_to_proto(self.service.list_backends())

    # -- helpers ----------------------------------------------------------------------------------

    @property
    def _time_limit(self) -> float:
        return self.config.default_time_limit

    def _solve_request(self, request: service_pb2.SolveRequest) -> SolveRequest:
        return convert.solve_request_from_proto(request, default_time_limit=self._time_limit)

    def _watched(self, handle: JobHandle[R], context: grpc.ServicerContext) -> JobHandle[R]:
        """The handle, cancelled when the RPC ends: a cancelled or finished RPC frees its worker."""
        context.add_callback(handle.cancel)
        return handle

    def _wait(self, handle: JobHandle[R], timeout: float | None) -> R:
        """The job's result within `timeout` seconds (None: no limit); the job stops past it."""
        try:
            return handle.result(timeout=timeout)
        except TimeoutError:
            handle.cancel()
            raise DeadlineExceeded("the deadline passed before the job finished; the job was stopped") from None

    def _finish(self, run: PlanRun, context: grpc.ServicerContext) -> StoredPlan:
        """A Plan or Replan's stored version: the replayed one, or the new one once its job ends (a
        replan stopped because another version landed first ends `StaleBaseline`)."""
        if run.replayed is not None:
            return run.replayed
        assert run.handle is not None
        handle = self._watched(run.handle, context)
        return run.finish_with(lambda: self._wait(handle, _remaining(context)))

    def _stream(
        self, handle: JobHandle, events: Queue[Progress], context: grpc.ServicerContext
    ) -> Iterator[service_pb2.SolveEvent]:
        """ "queued", then each progress event or first plan as it comes, until the job is done."""
        yield convert.solve_event_to_proto(progress=QUEUED)
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
            yield _event(p)
        while not events.empty():
            yield _event(events.get())

    def _decide(
        self, request: service_pb2.DecideRequest, context: grpc.ServicerContext, *, approve: bool
    ) -> service_pb2.DecisionRecord:
        with grpc_errors(context):
            record = self.service.decide(
                request.network_id,
                request.plan_version,
                request.index,
                approve=approve,
                decided_by=request.decided_by,
                note=request.note,
                principal=principal_of(context),
            )
            return convert.decision_record_to_proto(record)


def _event(p: Progress) -> service_pb2.SolveEvent:
    """A progress event, or a replan's first coordinated plan."""
    if p.first is not None:
        return convert.solve_event_to_proto(first=p.first.plan)
    return convert.solve_event_to_proto(progress=p)


def create_server(address: str, config: ServerConfig | None = None) -> tuple[grpc.Server, int, ConcertoServicer]:
    """A started-ready (not yet started) server bound to `address` ("127.0.0.1:0" picks a port),
    with the Concerto service, health checking and reflection (`reflection_enabled`), over TLS when
    the config gives a certificate; returns it with its port. The exposure rule and the TLS files
    are checked first (`check_exposure`, `server_credentials`): a `ValidationError` naming the
    flag, before the store is opened or anything binds."""
    config = config or ServerConfig()
    check_exposure(address, config)
    credentials = server_credentials(config)
    principals = PrincipalRegistry(config.principals) if config.principals is not None else None
    store = open_store(config.ledger, field="store" if config.store_path is None else "store_path")
    pool = WorkerPool(config.workers, config.queue_size)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.threads),
        interceptors=[_CheckRequests(config.limits, principals, store.network_tenant)],
        options=[
            ("grpc.max_receive_message_length", 2 * config.limits.request_bytes),
            ("grpc.max_send_message_length", config.limits.response_bytes + config.limits.request_bytes),
        ],
    )
    servicer = ConcertoServicer(store, pool, config)
    servicer.principals = principals
    if config.orchestrator:
        servicer.orchestrator.start()
    service_pb2_grpc.add_ConcertoServicer_to_server(servicer, server)
    health_servicer = servicer.health
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    if reflection_enabled(address, config):
        reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(address) if credentials is None else server.add_secure_port(address, credentials)
    if port == 0:
        raise ConcertoError(f"could not bind {address!r}")
    return server, port, servicer


_TLS_FLAGS = {"tls_cert": "--tls-cert", "tls_key": "--tls-key", "client_ca": "--client-ca"}
"""The `concerto serve` flag of each TLS setting of `ServerConfig`, which errors name."""


def _tls_error(config: ServerConfig, setting: str, message: str) -> ValidationError:
    value = getattr(config, setting)
    return ValidationError("server config", str(value), _TLS_FLAGS[setting], message)


def server_credentials(config: ServerConfig) -> grpc.ServerCredentials | None:
    """The server's TLS credentials, None for plaintext; every file is read and checked here, so
    that a missing file or a key that does not match its certificate is a `ValidationError` naming
    the flag before anything binds."""
    if config.tls_cert is None:
        if config.tls_key is not None:
            raise _tls_error(config, "tls_key", "is given without --tls-cert; give the certificate chain it belongs to")
        if config.client_ca is not None:
            raise _tls_error(
                config,
                "client_ca",
                "needs TLS, and mutual TLS needs the server's own certificate: give --tls-cert and --tls-key",
            )
        return None
    if config.tls_key is None:
        raise _tls_error(config, "tls_cert", "is given without --tls-key; give the certificate's private key")
    cert = read_pem(config.tls_cert, setting="--tls-cert", kind=PemKind.CERTIFICATE, entity="server config")
    key = read_pem(config.tls_key, setting="--tls-key", kind=PemKind.PRIVATE_KEY, entity="server config")
    check_key_pair(config.tls_cert, config.tls_key, settings=("--tls-cert", "--tls-key"), entity="server config")
    client_ca = None
    if config.client_ca is not None:
        client_ca = read_pem(config.client_ca, setting="--client-ca", kind=PemKind.CERTIFICATE, entity="server config")
        check_trust_roots(config.client_ca, setting="--client-ca", entity="server config")
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def check_exposure(address: str, config: ServerConfig) -> None:
    """The exposure rule: an address other than loopback (127.0.0.0/8, ::1, localhost, or a Unix
    socket) is served only with authentication (a principals file) and TLS both, unless the config
    says `insecure`; otherwise a `ValidationError` names the flags that are missing. Without
    either, anyone who can reach the port could read and rewrite every plan, and a token or the
    plans themselves would cross the network in clear."""
    if config.insecure or is_loopback(address):
        return
    missing = [
        flags
        for flags, given in (
            ("--principals FILE", config.principals is not None),
            ("--tls-cert/--tls-key", config.tls_cert is not None),
        )
        if not given
    ]
    if missing:
        are = "is" if len(missing) == 1 else "are"
        raise ValidationError(
            "server config",
            address,
            "--address",
            f"is not loopback ({LOOPBACK}): serving it needs authentication and TLS, and {' and '.join(missing)} "
            f"{are} missing; give {'it' if len(missing) == 1 else 'them'}, or pass --insecure to serve it anyway",
        )


def reflection_enabled(address: str, config: ServerConfig) -> bool:
    """Whether the server registers gRPC reflection: `config.reflection` when set, else only
    where authentication is on or the address is loopback."""
    if config.reflection is not None:
        return config.reflection
    return config.principals is not None or is_loopback(address)


def describe_exposure(address: str, config: ServerConfig) -> str:
    """One line saying what a server on `address` is: TLS or plaintext, mutual or not,
    authenticated or open, reflection on or off."""
    if config.tls_cert is None:
        transport = "plaintext"
    elif config.client_ca is None:
        transport = "TLS"
    else:
        transport = f"mutual TLS (client certificates signed by {os.fspath(config.client_ca)})"
    if config.principals is not None:
        access = f"authenticated (principals {os.fspath(config.principals)})"
    elif is_loopback(address):
        access = "open to any local caller; loopback only"
    else:
        access = "open to any caller (--insecure)"
    reflection = "on" if reflection_enabled(address, config) else "off"
    return f"{transport}, {access}, reflection {reflection}"


def shutdown(server: grpc.Server, servicer: ConcertoServicer, grace: float | None = 2.0) -> None:
    """Stop: health checks answer NOT_SERVING, the orchestrator hands its networks back (another
    replica takes their leases at once), new calls are refused and running ones may finish for
    `grace` seconds; then the workers stop and the store closes."""
    servicer.health.enter_graceful_shutdown()
    servicer.orchestrator.stop()
    server.stop(grace).wait()
    servicer.pool.close()
    servicer.store.close()


def serve(address: str, config: ServerConfig | None = None, *, on_ready: Callable[[int], None] | None = None) -> None:
    """Run a server until SIGINT or SIGTERM."""
    import signal

    server, port, servicer = create_server(address, config)
    server.start()
    log.info("Concerto serving on port %d: %s", port, describe_exposure(address, config or ServerConfig()))
    if on_ready is not None:
        on_ready(port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if servicer.principals is not None:
        registry = servicer.principals
        signal.signal(signal.SIGHUP, lambda *_: registry.reload())
    stop.wait()
    log.info("Concerto stopping: NOT_SERVING, calls under way have %g s to finish", servicer.config.grace_seconds)
    shutdown(server, servicer, grace=servicer.config.grace_seconds)
