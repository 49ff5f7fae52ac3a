"""The gRPC service: a thin servicer that converts each request (`solver.convert`), calls a use case
(`solver.usecases`) and converts the answer back; `create_server` builds it with health checking
and reflection, on the plan ledger its config's `store` URL names.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from models.errors import ConcertoError, ValidationError
from solver import convert
from solver._proto.concerto.v1 import network_pb2, protocols_pb2, service_pb2, service_pb2_grpc
from solver.errors import DeadlineExceeded, SolveCancelled, grpc_errors
from solver.options import DEFAULT_TIME_LIMIT
from solver.records import QUEUED, SolveRequest, StoredPlan
from solver.store import PlanStore, open_store
from solver.usecases import JobResult, PlanRun, PlanService, plan_of, validate
from solver.workers import JobHandle, Progress, WorkerPool

log = logging.getLogger("concerto.server")

SERVICE_NAME = service_pb2.DESCRIPTOR.services_by_name["Concerto"].full_name
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024


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
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    """Larger requests are refused with INVALID_ARGUMENT (gRPC itself accepts up to twice this)."""
    grpc_threads: int = 16

    @property
    def ledger(self) -> str | Path:
        """Where the plan ledger is: `store_path` when set, else `store`."""
        return self.store if self.store_path is None else self.store_path


def _remaining(context: grpc.ServicerContext) -> float | None:
    """Seconds left before the client's deadline; None without a deadline (gRPC reports ~forever)."""
    left = context.time_remaining()
    return None if left is None or left > 1e6 else max(float(left), 0.0)


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


class ConcertoServicer(service_pb2_grpc.ConcertoServicer):
    """Request -> convert -> use case (`solver.usecases.PlanService`) -> convert -> response; every
    method runs inside `grpc_errors`, the one place errors become status codes."""

    def __init__(self, store: PlanStore, pool: WorkerPool, config: ServerConfig) -> None:
        self.store = store
        self.pool = pool
        self.config = config
        self.service = PlanService(store, pool, max_response_bytes=4 * config.max_request_bytes)
        self.health = health.HealthServicer()

    # -- networks -------------------------------------------------------------------------------

    def PutNetwork(
        self, request: service_pb2.PutNetworkRequest, context: grpc.ServicerContext
    ) -> service_pb2.NetworkVersion:
        with grpc_errors(context):
            self._check_size(request.network, request.protocols)
            spec = convert.network_to_spec(request.network)
            protocols = convert.protocols_to_domain(request.protocols) if request.HasField("protocols") else None
            stored = self.service.put_network(request.network_id, spec, protocols)
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
                self._check_size(request.network, request.protocols)
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
            return convert.network_list_to_proto(self.service.list_networks())

    # -- solving ----------------------------------------------------------------------------------

    def Solve(self, request: service_pb2.SolveRequest, context: grpc.ServicerContext) -> service_pb2.SolveResponse:
        with grpc_errors(context):
            handle = self._watched(self.service.start_solve(self._solve_request(request)), context)
            return convert.solve_response_to_proto(plan_of(self._wait(handle, _remaining(context))))

    def SolveStream(
        self, request: service_pb2.SolveRequest, context: grpc.ServicerContext
    ) -> Iterator[service_pb2.SolveEvent]:
        with grpc_errors(context):
            events: Queue[Progress] = Queue()
            handle = self._watched(self.service.start_solve(self._solve_request(request), events.put), context)
            yield from self._stream(handle, events, context)
            yield convert.solve_event_to_proto(plan=plan_of(self._wait(handle, 0.0)))

    def Plan(self, request: service_pb2.PlanRequest, context: grpc.ServicerContext) -> service_pb2.PlanVersion:
        with grpc_errors(context):
            run = self.service.start_plan(convert.plan_request_from_proto(request, default_time_limit=self._time_limit))
            return convert.plan_version_to_proto(self._finish(run, context))

    def Replan(self, request: service_pb2.ReplanRequest, context: grpc.ServicerContext) -> service_pb2.PlanVersion:
        with grpc_errors(context):
            run = self.service.start_replan(
                convert.replan_request_from_proto(request, default_time_limit=self._time_limit)
            )
            return convert.plan_version_to_proto(self._finish(run, context))

    def ReplanStream(
        self, request: service_pb2.ReplanRequest, context: grpc.ServicerContext
    ) -> Iterator[service_pb2.SolveEvent]:
        with grpc_errors(context):
            events: Queue[Progress] = Queue()
            run = self.service.start_replan(
                convert.replan_request_from_proto(request, default_time_limit=self._time_limit), events.put
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
        with grpc_errors(context):
            for stored in self.service.watch_plans(request.network_id, request.after_version, context.is_active):
                yield convert.plan_version_to_proto(stored)

    def ListDecisions(
        self, request: service_pb2.ListDecisionsRequest, context: grpc.ServicerContext
    ) -> service_pb2.ListDecisionsResponse:
        with grpc_errors(context):
            state = convert.decision_state_from_proto(request.state) if request.state else None
            records = self.service.list_decisions(request.network_id, request.plan_version, state)
            return convert.decision_list_to_proto(records)

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
            fmt = convert.model_format_from_proto(request.format)
            if request.HasField("inline"):
                model = self.service.export_model(fmt, inline=self._solve_request(request.inline))
            else:
                model = self.service.export_model(
                    fmt,
                    network_id=request.network_id,
                    network_version=request.network_version,
                    signals=tuple(convert.signal_to_domain(s) for s in request.signals),
                )
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

    def _check_size(self, network: network_pb2.Network, protocols: protocols_pb2.ProtocolSet) -> None:
        """Refuse a network and protocol set over the size limit before anything is converted."""
        size = network.ByteSize() + protocols.ByteSize()
        if size > self.config.max_request_bytes:
            raise ValidationError(
                "request",
                network.name,
                "network",
                f"is {size:,} bytes, over the server's limit of {self.config.max_request_bytes:,}",
            )

    def _solve_request(self, request: service_pb2.SolveRequest) -> SolveRequest:
        self._check_size(request.network, request.protocols)
        return convert.solve_request_from_proto(request, default_time_limit=self._time_limit)

    def _watched(self, handle: JobHandle, context: grpc.ServicerContext) -> JobHandle:
        """The handle, cancelled when the RPC ends: a cancelled or finished RPC frees its worker."""
        context.add_callback(handle.cancel)
        return handle

    def _wait(self, handle: JobHandle, timeout: float | None) -> JobResult:
        """The job's result within `timeout` seconds (None: no limit); the job stops past it."""
        try:
            return handle.result(timeout=timeout)
        except TimeoutError:
            handle.cancel()
            raise DeadlineExceeded("the deadline passed before the solve finished; the solve was stopped") from None

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
            )
            return convert.decision_record_to_proto(record)


def _event(p: Progress) -> service_pb2.SolveEvent:
    """A progress event, or a replan's first coordinated plan."""
    if p.first is not None:
        return convert.solve_event_to_proto(first=p.first.plan)
    return convert.solve_event_to_proto(progress=p)


def create_server(address: str, config: ServerConfig | None = None) -> tuple[grpc.Server, int, ConcertoServicer]:
    """A started-ready (not yet started) server bound to `address` ("127.0.0.1:0" picks a port),
    with the Concerto service, health checking and reflection; returns it with its port."""
    config = config or ServerConfig()
    store = open_store(config.ledger, field="store" if config.store_path is None else "store_path")
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
