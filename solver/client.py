"""A typed Python client for the Concerto service: domain objects in, plans and versions out.

with ConcertoClient("127.0.0.1:50051") as client:
    client.put_network("acme", spec, protocols)
    first = client.plan("acme")
    second = client.replan("acme", [outage], baseline_version=first.version)

Over TLS: `ConcertoClient("plans.example:443", tls_ca="ca.pem", token=...)`; mutual TLS adds
`tls_cert` and `tls_key` (`ClientCredentials` holds the same settings as one value).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar

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
from solver.options import SolveOptions
from solver.records import (
    AuditRecord,
    DecisionState,
    NetworkSettings,
    NetworkSummary,
    PlanSummary,
    PublishedSignal,
    ResponseTimeline,
    SolveProgress,
    StoredDecision,
    StoredPlan,
)
from solver.tls import PemKind, check_key_pair, check_trust_roots, is_loopback, read_pem

__all__ = ["ClientCredentials", "ConcertoClient", "StoredPlan"]

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
AUTHORIZATION = "authorization"
"""The metadata key a bearer token travels in (`authorization: Bearer <token>`)."""


M = TypeVar("M")


class Stream(Generic[M]):
    """A server stream's messages, converted as they come; `cancel()` ends it from anywhere (a
    Ctrl-C handler), after which iterating stops quietly."""

    def __init__(self, call: Any, decode: Callable[[Any], M]) -> None:
        self._call = call
        self._decode = decode
        self.cancelled = False

    def __iter__(self) -> Iterator[M]:
        try:
            for msg in self._call:
                yield self._decode(msg)
        except grpc.RpcError as err:
            if not (self.cancelled and err.code() == grpc.StatusCode.CANCELLED):
                raise
        finally:
            self._call.cancel()

    def cancel(self) -> None:
        self.cancelled = True
        self._call.cancel()


@dataclass(frozen=True)
class ReceivedSignal:
    """How the inbox received a published signal: its revision, and whether it was a resend."""

    source: str
    source_id: str
    revision: int
    duplicate: bool
    seq: int


def _stored(msg: service_pb2.PlanVersion) -> StoredPlan:
    return convert.plan_version_from_proto(msg)


def _keyword(setting: str) -> str:
    """A setting named as the keyword it is given by (`tls_ca`)."""
    return setting


@dataclass(frozen=True, kw_only=True)
class ClientCredentials:
    """How a client proves who it talks to and who it is: TLS when `tls_ca` or `tls_cert` is
    given, mutual TLS with `tls_cert` and `tls_key`, and a bearer token on every call."""

    tls_ca: str | os.PathLike[str] | None = None
    """PEM CA certificates the server's certificate must chain to; None with TLS wanted: the
    system's trust roots."""
    tls_cert: str | os.PathLike[str] | None = None
    """This client's PEM certificate chain, for a server that requires mutual TLS (with `tls_key`)."""
    tls_key: str | os.PathLike[str] | None = None
    """The unencrypted PEM private key of `tls_cert`."""
    token: str | None = field(default=None, repr=False)
    """Sent as metadata `authorization: Bearer <token>` on every call, unary and streaming; kept
    out of the repr, so that a log or traceback never shows it."""
    tls_server_name: str | None = None
    """The name the server's certificate must carry, when it is not the target's host (an IP
    address, a tunnel, a load balancer)."""

    @property
    def wants_tls(self) -> bool:
        return self.tls_ca is not None or self.tls_cert is not None

    def channel_credentials(
        self, target: str, *, setting: Callable[[str], str] = _keyword
    ) -> grpc.ChannelCredentials | None:
        """The TLS credentials (None: plaintext), every file read and checked; a bad setting is a
        `ValidationError` naming it as `setting` spells a field name (the keyword by default, a
        `concerto` flag on the command line). A token is refused over plaintext to a target other
        than loopback: it would cross the network in clear."""
        if self.tls_key is not None and self.tls_cert is None:
            raise ValidationError(
                "client",
                os.fspath(self.tls_key),
                setting("tls_key"),
                f"is given without {setting('tls_cert')}; give the client certificate it belongs to",
            )
        if self.tls_cert is not None and self.tls_key is None:
            raise ValidationError(
                "client",
                os.fspath(self.tls_cert),
                setting("tls_cert"),
                f"is given without {setting('tls_key')}; give the certificate's private key",
            )
        if self.token is not None and (not self.token or any(c in self.token for c in "\r\n\0")):
            raise ValidationError(
                "client", "token", setting("token"), "is empty or holds a line break; give the token on one line"
            )
        if not self.wants_tls:
            if self.tls_server_name is not None:
                raise ValidationError(
                    "client",
                    self.tls_server_name,
                    setting("tls_server_name"),
                    f"needs TLS; give {setting('tls_ca')} (or {setting('tls_cert')}) too",
                )
            if self.token is not None and not is_loopback(target):
                raise ValidationError(
                    "client",
                    target,
                    setting("token"),
                    f"would be sent in clear to a server that is not on loopback; give {setting('tls_ca')} "
                    "to speak TLS to it",
                )
            return None
        ca = cert = key = None
        if self.tls_ca is not None:
            ca = read_pem(self.tls_ca, setting=setting("tls_ca"), kind=PemKind.CERTIFICATE, entity="client")
            check_trust_roots(self.tls_ca, setting=setting("tls_ca"), entity="client")
        if self.tls_cert is not None and self.tls_key is not None:
            cert = read_pem(self.tls_cert, setting=setting("tls_cert"), kind=PemKind.CERTIFICATE, entity="client")
            key = read_pem(self.tls_key, setting=setting("tls_key"), kind=PemKind.PRIVATE_KEY, entity="client")
            check_key_pair(
                self.tls_cert, self.tls_key, settings=(setting("tls_cert"), setting("tls_key")), entity="client"
            )
        return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Sequence[tuple[str, str | bytes]] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds `authorization: Bearer <token>` to every call's metadata. An interceptor rather than
    gRPC's call credentials, which it sends over TLS only: a token must also reach a plaintext
    server on loopback."""

    def __init__(self, token: str) -> None:
        self.header = (AUTHORIZATION, f"Bearer {token}")

    def _with_token(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [*(details.metadata or ()), self.header]
        return _CallDetails(  # a ClientCallDetails by its fields, as gRPC reads them
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._with_token(client_call_details), request)

    def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._with_token(client_call_details), request)

    def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._with_token(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return continuation(self._with_token(client_call_details), request_iterator)


class ConcertoClient:
    """Typed helpers over the generated stub; every call takes an optional deadline in seconds.

    TLS when `tls_ca` or `tls_cert` is given (`tls_ca` None: the system's trust roots), mutual TLS
    with `tls_cert` and `tls_key`; `token` rides on every call as `authorization: Bearer <token>`
    (see `ClientCredentials`). A bad file or setting is a `ValidationError` naming the keyword."""

    def __init__(
        self,
        target: str,
        *,
        tls_ca: str | os.PathLike[str] | None = None,
        tls_cert: str | os.PathLike[str] | None = None,
        tls_key: str | os.PathLike[str] | None = None,
        token: str | None = None,
        tls_server_name: str | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.credentials = ClientCredentials(
            tls_ca=tls_ca, tls_cert=tls_cert, tls_key=tls_key, token=token, tls_server_name=tls_server_name
        )
        secure = self.credentials.channel_credentials(target)
        options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ]
        if tls_server_name is not None:
            options.append(("grpc.ssl_target_name_override", tls_server_name))
        channel = (
            grpc.insecure_channel(target, options=options)
            if secure is None
            else grpc.secure_channel(target, secure, options=options)
        )
        self.channel = channel if token is None else grpc.intercept_channel(channel, _BearerToken(token))
        self.stub = service_pb2_grpc.ConcertoStub(self.channel)

    @classmethod
    def connect(
        cls, target: str, credentials: ClientCredentials, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    ) -> ConcertoClient:
        """A client of `target` with `credentials`."""
        return cls(
            target,
            tls_ca=credentials.tls_ca,
            tls_cert=credentials.tls_cert,
            tls_key=credentials.tls_key,
            token=credentials.token,
            tls_server_name=credentials.tls_server_name,
            max_message_bytes=max_message_bytes,
        )

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
        call = self.stub.WatchPlans(service_pb2.WatchPlansRequest(network_id=network_id, after_version=after_version))
        try:
            for msg in call:
                yield _stored(msg)
        finally:
            call.cancel()  # a caller that stops (or Ctrl-C) ends the stream, so the channel can close

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

    # -- always on --------------------------------------------------------------------------------

    def publish(
        self, network_id: str, signals: Sequence[PublishedSignal], *, timeout: float | None = None
    ) -> list[ReceivedSignal]:
        """Publish signals to a network's inbox; each answer says its revision and whether it was a
        resend. The ledger holds them once this returns."""
        request = service_pb2.PublishSignalsRequest(
            network_id=network_id, signals=[convert.published_signal_to_proto(p) for p in signals]
        )
        return [
            ReceivedSignal(s.source, s.source_id, int(s.revision), s.duplicate, int(s.seq))
            for s in self.stub.PublishSignals(request, timeout=timeout).signals
        ]

    def settings(self, network_id: str) -> NetworkSettings:
        """How the network is replanned (manual or automatic, the window, the replan settings)."""
        msg = self.stub.GetNetworkSettings(service_pb2.GetNetworkSettingsRequest(network_id=network_id))
        return convert.settings_from_proto(msg)

    def set_settings(self, network_id: str, settings: NetworkSettings) -> NetworkSettings:
        msg = self.stub.SetNetworkSettings(convert.settings_to_request(network_id, settings))
        return convert.settings_from_proto(msg)

    def timeline(self, network_id: str) -> ResponseTimeline:
        """Each published signal from detection to an executable response."""
        msg = self.stub.GetResponseTimeline(service_pb2.GetResponseTimelineRequest(network_id=network_id))
        return convert.timeline_from_proto(msg)

    def advance(
        self,
        network_id: str,
        periods: int = 1,
        counted: dict[tuple[str, str], float] | None = None,
        *,
        options: SolveOptions | None = None,
        timeout: float | None = None,
    ) -> tuple[int, StoredPlan]:
        """Roll the network forward `periods` with the stock counted; the new network version and
        its plan."""
        request = service_pb2.AdvancePeriodRequest(
            network_id=network_id,
            periods=periods,
            counted=[service_pb2.StockCount(node=n, item=i, on_hand=q) for (n, i), q in (counted or {}).items()],
        )
        _set_options(request.options, options, DEFAULT_BACKEND)
        response = self.stub.AdvancePeriod(request, timeout=timeout)
        return int(response.network.version), _stored(response.plan)

    def watch_network(self, network_id: str, after_seq: int = 0) -> Stream[AuditRecord]:
        """Every write to the network as it happens (plan versions, decisions, signals, lapses);
        `cancel()` ends the stream (from a signal handler too)."""
        call = self.stub.WatchNetwork(service_pb2.WatchNetworkRequest(network_id=network_id, after_seq=after_seq))
        return Stream(call, convert.audit_entry_from_proto)

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
