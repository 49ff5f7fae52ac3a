"""The service's use cases over one plan ledger (`PlanStore`) and one solver worker pool: store and
validate networks, solve, plan and replan, read, diff and watch plan versions, decide escalated
decisions, export models.

Domain objects in, domain objects (`solver.records`) out; nothing here sees protobuf or gRPC. The
ledger's blobs go through `solver.convert.ledger` only. Errors are Concerto's own (`ValidationError`,
`NotFound`, `StaleBaseline`, `NoPlan`, ...), mapped to status codes in one place, `solver.errors`.
Signal merging, baseline staleness, idempotency and storing plans live here, not in the servicer.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from dataclasses import replace as dc_replace
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from models.errors import ValidationError, echo
from models.network import Network, NetworkSpec
from models.plan import Plan
from models.protocols import AuthorityStatus, ProtocolSet, validate_against_network, validate_protocols
from models.protocols.spec import Approver, OnReject
from models.signal_kinds import SIGNAL_KINDS
from models.signals import Signal, apply_signals
from models.solution import SolveStatus
from solver.auth import OPEN, PermissionDenied, Principal
from solver.backends.registry import BackendInfo, backend_by_name, check_options, describe_backends
from solver.convert import ledger
from solver.convert.service import option_message_field
from solver.diff import PlanDiff, diff_plans
from solver.errors import DeadlineExceeded, NoBaselinePlan, NoPlan, SolveCancelled, StaleBaseline
from solver.export import check_format
from solver.limits import RequestLimits
from solver.options import SolveOptions
from solver.planner import ReplanResult
from solver.records import (
    ExportedModel,
    PlanRequest,
    PlanSummary,
    ReplanInfo,
    ReplanRequest,
    SolveRequest,
    StoredDecision,
    StoredNetwork,
    StoredPlan,
)
from solver.store import (
    Actor,
    AuditRecord,
    CarriedInput,
    CarriedRecord,
    DecisionInput,
    DecisionRecord,
    DecisionState,
    HoldInput,
    HoldRecord,
    NetworkRecord,
    NetworkSummary,
    PlanRecord,
    PlanStore,
    RequestKind,
    joint_members,
)
from solver.workers import ExportJob, JobHandle, Progress, SolveJob, WorkerPool

T = TypeVar("T")

DECODED_VERSIONS = 32
"""Stored network and plan versions kept decoded (and validated) in memory for the next request."""
WATCH_POLL_SECONDS = 0.25
"""How often a plan watcher looks at the ledger when no plan was stored in this process."""
DEFAULT_MAX_RESPONSE_BYTES = RequestLimits().response_bytes
"""The largest plan version a Plan or Replan may answer with (and so store): the response limit."""
_VERSION_OVERHEAD_BYTES = 1024
"""What a plan version's message adds to its blobs (numbers, timestamps, field tags), generously."""

JobResult = Plan | ReplanResult
Expired = Callable[[], bool]
"""Whether the caller's deadline has passed (the servicer's view of its gRPC context)."""


def _never() -> bool:
    """A caller without a deadline."""
    return False


ProgressHandler = Callable[[Progress], None]


# -- checks ----------------------------------------------------------------------------------------


def check_network(spec: NetworkSpec, protocols: ProtocolSet | None = None) -> Network:
    """The network's arrays, its protocol set checked against it; raises `ValidationError`."""
    net = Network.from_spec(spec)
    if protocols is not None:
        validate_protocols(protocols)
        validate_against_network(protocols, net)
    return net


def check_backend(name: str, options: SolveOptions) -> str:
    """`name`, once known to be a backend that is usable here and can honour `options`; otherwise the
    registry's `ValidationError` naming the request's field ("options.backend", "options.threads")."""
    try:
        check_options(backend_by_name(name), options)
    except ValidationError as exc:
        raise ValidationError(exc.entity, exc.ident, option_message_field(exc.field), exc.message) from exc
    return name


def merge_signals(earlier: Sequence[Signal], new: Iterable[Signal], *, answered_by: int = 0) -> tuple[Signal, ...]:
    """The baseline's signals (those plan version `answered_by` answers), then the new ones.

    An id names one signal. A new signal with the id and the content of one of the baseline's is
    already answered and is skipped (a client may resend what it sent before); with other content
    (a demand surge grown from x2 to x3) it is a `ValidationError` naming the signal and the first
    field that differs: the changed signal needs a new id. Two new signals with one id and different
    content are refused the same way; identical ones are left to validation, which refuses an id
    used twice.
    """
    known = {s.id: s for s in earlier}
    first_with_id: dict[str, Signal] = {}
    kept: list[Signal] = []
    for signal in new:
        answered = known.get(signal.id)
        if answered is not None:
            field = _differing_field(answered, signal)
            if field is None:
                continue
            raise ValidationError(
                "signal",
                signal.id,
                field,
                f"is {_shown(getattr(signal, field))}, but plan version {answered_by} already answered this id "
                f"with {_shown(getattr(answered, field))}; give the changed signal a new id",
            )
        other = first_with_id.setdefault(signal.id, signal)
        field = _differing_field(other, signal)
        if field is not None:
            raise ValidationError(
                "signal",
                signal.id,
                field,
                f"is {_shown(getattr(other, field))} and {_shown(getattr(signal, field))} in two signals of this "
                "request with the same id; give each signal its own id",
            )
        kept.append(signal)
    return tuple(earlier) + tuple(kept)


def _differing_field(a: Signal, b: Signal) -> str | None:
    """The first field in which two signals differ (NaN equals NaN here), or None."""
    for f in fields(Signal):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x != y and not (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)):
            return f.name
    return None


def _shown(value: object) -> str:
    """A signal field's value for an error message, a long string cut (`models.errors.echo`)."""
    if isinstance(value, Enum):
        value = value.value
    return echo(value) if isinstance(value, str) else repr(value)


def validate(spec: NetworkSpec, protocols: ProtocolSet | None, signals: Sequence[Signal]) -> list[ValidationError]:
    """Every violation of a network, its protocol set and signals (empty when all are valid)."""
    try:
        apply_signals(check_network(spec, protocols), signals)
    except ValidationError as err:
        return err.each()
    return []


# -- running plans ---------------------------------------------------------------------------------


@dataclass(eq=False)
class PlanRun:
    """A Plan or Replan: answered from the ledger (`replayed`, a retry with a used idempotency key),
    or under way on the worker pool (`handle`), to be stored with `finish(result)` once it ends.

    A replan that must start from the latest version is stopped when another version of its
    network is stored first: `stale` then says why, and `finish_with` raises it."""

    replayed: StoredPlan | None = None
    handle: JobHandle | None = None
    _finish: Callable[[JobResult], StoredPlan] | None = None
    stale: StaleBaseline | None = None
    expect_latest: int | None = None
    """The plan version that must still be the latest when the final plan is stored (None: any);
    an automatic replan that stored its first coordinated plan expects that version."""

    def finish(self, result: JobResult) -> StoredPlan:
        """Store the job's result as a new plan version; a solve without a plan raises `NoPlan`."""
        assert self._finish is not None, "a replayed run has nothing to store"
        return self._finish(result)

    def finish_with(self, wait: Callable[[], JobResult]) -> StoredPlan:
        """`finish` the result `wait()` gives (the caller's wait on `handle`, with its deadline).
        A replan stopped because another version landed raises `StaleBaseline`, not the
        `SolveCancelled` of its stopped job."""
        try:
            result = wait()
        except SolveCancelled:
            if self.stale is not None:
                raise self.stale from None
            raise
        return self.finish(result)


def plan_of(result: JobResult) -> Plan:
    """The plan of a job's result (a replan's carries it in `.plan`)."""
    return result.plan if isinstance(result, ReplanResult) else result


@dataclass(frozen=True)
class _DecodedNetwork:
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
        self.put(key, value)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """Keep `value` as the decoded form of `key` (a version just stored, which is then never
        decoded from its bytes)."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class PlanService:
    """The use cases over one ledger and one worker pool, shared by every request of a server."""

    def __init__(
        self,
        store: PlanStore,
        pool: WorkerPool,
        *,
        decoded_versions: int = DECODED_VERSIONS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.store = store
        self.pool = pool
        self.max_response_bytes = max_response_bytes
        self._decoded = _DecodedVersions(decoded_versions)
        self._new_plan = threading.Condition()
        self._backends: list[BackendInfo] | None = None
        # Replans under way that must start from the latest version, per network, with the plan
        # version each expects to be the latest; storing a newer version stops them.
        self._in_flight: dict[str, dict[PlanRun, int]] = {}
        self._in_flight_lock = threading.Lock()
        # The orchestrator's hook (`solver.orchestrator`): a decision was decided (a rejection
        # replans an automatic network).
        self.on_decided: Callable[[StoredDecision], None] | None = None

    # -- networks ---------------------------------------------------------------------------------

    def put_network(
        self,
        network_id: str,
        spec: NetworkSpec,
        protocols: ProtocolSet | None,
        *,
        clear_protocols: bool = False,
        principal: Principal = OPEN,
    ) -> StoredNetwork:
        """Check a network and its protocol set, then store them as the network's next version for
        the principal's tenant. Without protocols the new version keeps the latest version's
        (checked against the new network: protocols that no longer fit are a `ValidationError`
        saying to send new ones), unless `clear_protocols` asks for none: a new version never drops
        them in silence."""
        if protocols is None and not clear_protocols:
            protocols = self._kept_protocols(network_id, principal)
        elif protocols is not None and clear_protocols:
            raise ValidationError(
                "request", network_id, "clear_protocols", "is set with protocols; send one or the other"
            )
        net = check_network(spec, protocols)
        record = self.store.put_network(
            network_id,
            spec.name,
            ledger.encode_network(spec),
            ledger.encode_protocols(protocols) if protocols is not None else None,
            actor=actor_of(principal),
        )
        # The stored bytes decode to this very spec (the converters round-trip), so keep it decoded.
        self._decoded.get(("network", network_id, record.version), lambda: _DecodedNetwork(spec, protocols, net))
        return self._stored_network(record)

    def _kept_protocols(self, network_id: str, principal: Principal) -> ProtocolSet | None:
        """The protocols of the network's latest version, for a new version sent without any."""
        owner = self.store.network_tenant(network_id)
        if owner is None or owner != actor_of(principal).tenant:
            return None  # a new network (another tenant's id is refused by the store)
        return self._decoded_network(self.store.get_network(network_id)).protocols

    def get_network(self, network_id: str, version: int = 0) -> StoredNetwork:
        """A stored network version (0: the latest)."""
        return self._stored_network(self.store.get_network(network_id, version))

    def list_networks(self, principal: Principal = OPEN) -> list[NetworkSummary]:
        """The networks of the principal's tenant that some grant of it covers."""
        if principal.open:
            return self.store.list_networks()
        return [n for n in self.store.list_networks(principal.tenant) if principal.grants_on(n.network_id)]

    # -- solving ----------------------------------------------------------------------------------

    def solve_job(self, request: SolveRequest) -> SolveJob:
        """The job of an inline request, its network, protocols, signals and backend checked."""
        apply_signals(check_network(request.spec, request.protocols), request.signals)
        return SolveJob(
            spec=request.spec,
            protocols=request.protocols,
            signals=request.signals,
            options=request.options,
            backend=check_backend(request.backend, request.options),
        )

    def start_solve(
        self, request: SolveRequest, on_progress: ProgressHandler | None = None, *, expired: Expired = _never
    ) -> JobHandle:
        """Queue an inline solve, refused (`QueueFull`) before any work when the pool is full."""
        self.pool.check_room()
        return self._submit(self.solve_job(request), on_progress, expired)

    def start_plan(
        self,
        request: PlanRequest,
        on_progress: ProgressHandler | None = None,
        *,
        expired: Expired = _never,
        principal: Principal = OPEN,
        signals: tuple[Signal, ...] = (),
        trigger: str = "",
    ) -> PlanRun:
        """Plan a stored network: a retry answered from the ledger (the same idempotency key and
        content; the same key with other content is `IdempotencyConflict`), or the solve under way.
        A network rolled forward (`solver.automatic`) is planned with the `signals` still in force,
        under the rules they keep held."""
        fingerprint = ledger.request_fingerprint(request) if request.idempotency_key else ""
        replayed = self._replayed(request.network_id, RequestKind.PLAN, request.idempotency_key, fingerprint)
        if replayed is not None:
            return PlanRun(replayed=replayed)
        self.pool.check_room()
        record = self.store.get_network(request.network_id, request.network_version)
        decoded = self._decoded_network(record)
        protocols = decoded.protocols
        if signals:
            apply_signals(decoded.net, signals)
            if protocols is not None:
                protocols = apply_holds(
                    protocols,
                    self.store.holds(request.network_id),
                    {s.id for s in signals},
                    self.store.carried(request.network_id),
                )
        job = SolveJob(
            spec=decoded.spec,
            protocols=protocols,
            signals=signals,
            options=request.options,
            backend=check_backend(request.backend, request.options),
            warm_key=request.network_id,
        )
        handle = self._submit(job, on_progress, expired)

        def finish(result: JobResult) -> StoredPlan:
            return self._store_plan(
                request.network_id,
                record.version,
                0,
                signals,
                plan_of(result),
                request.idempotency_key,
                None,
                kind=RequestKind.PLAN,
                fingerprint=fingerprint,
                actor=actor_of(principal),
                trigger=trigger,
            )

        return PlanRun(handle=handle, _finish=finish)

    def start_replan(
        self,
        request: ReplanRequest,
        on_progress: ProgressHandler | None = None,
        *,
        expired: Expired = _never,
        principal: Principal = OPEN,
        trigger: str = "",
        inbox: Sequence[int] = (),
        store_first: bool = False,
    ) -> PlanRun:
        """Replan against a stored baseline: a retry answered from the ledger, or the replan under
        way. The baseline must hold a plan and, unless `allow_stale_baseline`, be the latest
        version (`StaleBaseline`, before anything is queued); such a replan is also stopped as soon
        as another version of the network is stored, and then ends with `StaleBaseline`. The new
        plan answers the baseline's signals but the withdrawn ones, and the new ones
        (`merge_signals`), under the network's protocols with the rules that rejected or lapsed
        escalations hold (`apply_holds`). A partner may replan only with signals that land on its
        own nodes and lanes (`PermissionDenied`).

        The orchestrator's replans (`solver.automatic`) say what triggered them, which inbox signals
        (`inbox`, their seq) they answer, and may store the first coordinated plan as a version of
        its own (`store_first`): the final plan then expects that version to be the latest."""
        scope = principal.partner_scope(request.network_id)
        if scope is not None:
            self._check_partner_signals(request, principal, *scope)
        fingerprint = ledger.request_fingerprint(request) if request.idempotency_key else ""
        replayed = self._replayed(request.network_id, RequestKind.REPLAN, request.idempotency_key, fingerprint)
        if replayed is not None:
            return PlanRun(replayed=replayed)
        self.pool.check_room()  # refuse before the work of preparing the job
        job, baseline = self._replan_job(request)
        first_seconds: list[float] = []
        actor = actor_of(principal)
        run = PlanRun(expect_latest=None if request.allow_stale_baseline else baseline.version)

        def progress(p: Progress) -> None:
            if p.first is not None:
                first_seconds.append(p.first.ready_seconds)
                if store_first:
                    self._store_first(request, job, baseline, p.first, run, actor, trigger, inbox)
            if on_progress is not None:
                on_progress(p)

        run.handle = self._submit(job, progress, expired)

        def finish(result: JobResult) -> StoredPlan:
            return self._store_replan(
                request, job, baseline, result, first_seconds, fingerprint, actor, run, trigger=trigger, inbox=inbox
            )

        run._finish = finish
        if not request.allow_stale_baseline:
            self._track(request.network_id, baseline.version, run)
        return run

    def _store_first(
        self,
        request: ReplanRequest,
        job: SolveJob,
        baseline: PlanRecord,
        first: ReplanResult,
        run: PlanRun,
        actor: Actor,
        trigger: str,
        inbox: Sequence[int],
    ) -> None:
        """Store an automatic replan's first coordinated plan as a version, then let the run expect
        it to be the latest (and not be stopped by it). If another version landed first, the run is
        stopped: it answers a baseline that is no longer the latest."""
        if not first.plan.has_solution or run.expect_latest is None:
            return
        info = self._replan_info(job, first, [first.ready_seconds])
        try:
            stored = self._store_plan(
                request.network_id,
                baseline.network_version,
                baseline.version,
                job.signals,
                first.plan,
                "",
                run.expect_latest,
                kind=RequestKind.REPLAN,
                fingerprint="",
                extra=ledger.encode_replan_info(info),
                actor=actor,
                trigger=f"{trigger}-first" if trigger else "first",
                inbox_first=inbox,
                exempt=run,
            )
        except StaleBaseline as err:
            run.stale = err
            if run.handle is not None:
                run.handle.cancel()
            return
        with self._in_flight_lock:
            run.expect_latest = stored.version
            runs = self._in_flight.get(request.network_id, {})
            if run in runs:
                runs[run] = stored.version

    def _track(self, network_id: str, expected: int, run: PlanRun) -> None:
        """Keep `run` among the network's replans under way until its job ends, to be stopped when
        a version newer than `expected` is stored. A version stored since the staleness check (and
        before `run` was kept) is caught by the check here: the job is stopped before it solves."""
        assert run.handle is not None
        with self._in_flight_lock:
            self._in_flight.setdefault(network_id, {})[run] = expected
        run.handle.add_done_callback(lambda _: self._forget(network_id, run))
        latest = self.store.latest_plan_version(network_id)
        if latest != expected:
            run.handle.cancel()
            raise StaleBaseline(network_id, expected, latest)

    def _forget(self, network_id: str, run: PlanRun) -> None:
        with self._in_flight_lock:
            runs = self._in_flight.get(network_id, {})
            runs.pop(run, None)
            if not runs:
                self._in_flight.pop(network_id, None)

    def _stop_stale(self, network_id: str, version: int, *, exempt: PlanRun | None = None) -> None:
        """Plan version `version` of the network is stored: stop every replan under way that expects
        an older one to be the latest (it would end in `StaleBaseline` after its whole solve).
        A job that has already finished is left to its own store attempt, which the ledger refuses."""
        with self._in_flight_lock:
            stale = [
                (run, expected)
                for run, expected in self._in_flight.get(network_id, {}).items()
                if expected < version and run is not exempt and run.handle is not None and not run.handle.done()
            ]
            for run, expected in stale:
                run.stale = StaleBaseline(network_id, expected, version)
        for run, _ in stale:  # outside the lock: cancelling runs the job's done callbacks (`_forget`)
            assert run.handle is not None
            run.handle.cancel()

    def _replan_job(self, request: ReplanRequest) -> tuple[SolveJob, PlanRecord]:
        baseline = self.store.get_plan(request.network_id, request.baseline_version)
        if not SolveStatus(baseline.status).has_solution:
            raise NoBaselinePlan(request.network_id, baseline.version, baseline.status)
        latest = self.store.latest_plan_version(request.network_id)
        if not request.allow_stale_baseline and baseline.version != latest:
            raise StaleBaseline(request.network_id, baseline.version, latest)
        decoded = self._decoded_network(self.store.get_network(request.network_id, baseline.network_version))
        earlier = ledger.decode_signals(baseline.signals)
        answered = {s.id for s in earlier}
        for k, sid in enumerate(request.withdrawn):
            if sid not in answered:
                raise ValidationError(
                    "request",
                    request.network_id,
                    f"withdrawn_signals[{k}]",
                    f"is {echo(sid)}, which plan version {baseline.version} does not answer; withdraw only its signals",
                )
        kept = [s for s in earlier if s.id not in set(request.withdrawn)]
        signals = merge_signals(kept, request.signals, answered_by=baseline.version)
        apply_signals(decoded.net, signals)  # reject bad signals before queueing
        protocols = decoded.protocols
        if protocols is not None:
            protocols = apply_holds(
                protocols,
                self.store.holds(request.network_id),
                {s.id for s in signals},
                self.store.carried(request.network_id),
            )
        job = SolveJob(
            spec=decoded.spec,
            protocols=protocols,
            signals=signals,
            options=request.options,
            baseline=self._decoded_plan(baseline),
            replan=request.settings,
            first_answer=request.first_answer,
            backend=check_backend(request.backend, request.options),
            warm_key=request.network_id,
        )
        return job, baseline

    def _store_replan(
        self,
        request: ReplanRequest,
        job: SolveJob,
        baseline: PlanRecord,
        result: JobResult,
        first_seconds: list[float],
        fingerprint: str,
        actor: Actor,
        run: PlanRun,
        *,
        trigger: str = "",
        inbox: Sequence[int] = (),
    ) -> StoredPlan:
        """Store a replan's final plan with how it answered (kind, timings, fence cuts, churn)."""
        assert isinstance(result, ReplanResult), "a replan job returns a ReplanResult"
        return self._store_plan(
            request.network_id,
            baseline.network_version,
            baseline.version,
            job.signals,
            result.plan,
            request.idempotency_key,
            run.expect_latest,
            kind=RequestKind.REPLAN,
            fingerprint=fingerprint,
            extra=ledger.encode_replan_info(self._replan_info(job, result, first_seconds)),
            actor=actor,
            trigger=trigger,
            inbox_final=inbox,
        )

    @staticmethod
    def _replan_info(job: SolveJob, result: ReplanResult, first_seconds: list[float]) -> ReplanInfo:
        diff = diff_plans(job.baseline, result.plan) if job.baseline is not None else None
        return ReplanInfo(
            kind=result.kind,
            business_objective=result.business_objective,
            first_plan_seconds=first_seconds[0] if first_seconds else 0.0,
            ready_seconds=result.ready_seconds,
            execute_after_hours=result.execute_after_hours,
            mip_start_accepted=bool(result.mip_start_accepted),
            fence_cuts=tuple(result.cuts),
            changed=diff.changed if diff is not None else 0,
            total=diff.total if diff is not None else 0,
        )

    def _store_plan(
        self,
        network_id: str,
        network_version: int,
        baseline_version: int,
        signals: Sequence[Signal],
        plan: Plan,
        key: str,
        expect_latest: int | None,
        *,
        kind: RequestKind,
        fingerprint: str,
        extra: bytes = b"",
        actor: Actor,
        trigger: str = "",
        inbox_first: Sequence[int] = (),
        inbox_final: Sequence[int] = (),
        exempt: PlanRun | None = None,
    ) -> StoredPlan:
        """One new plan version, written in one transaction (`expect_latest`: the version that must
        still be the latest; `kind` and `fingerprint` scope and bind the idempotency key); only a
        plan is stored, a solve without one raises `NoPlan`. A version whose answer would exceed
        `max_response_bytes` is refused (`ValidationError` on "response") before anything is
        written, so a client is never refused an answer the ledger holds. Storing it stops the
        network's replans under way that expected an older version to be the latest (but `exempt`,
        the automatic replan storing its own first answer)."""
        if not plan.has_solution:
            raise NoPlan(network_id, plan.status, plan.message)
        blob, decision_blobs = ledger.encode_plan(plan)
        signal_blob = ledger.encode_signals(signals)
        size = len(blob) + len(signal_blob) + len(extra) + len(network_id) + len(key) + _VERSION_OVERHEAD_BYTES
        if size > self.max_response_bytes:
            raise ValidationError(
                "plan version",
                network_id,
                "response",
                f"would be about {size:,} bytes, over the server's response limit of {self.max_response_bytes:,} "
                "bytes (`concerto serve --max-response-bytes`); nothing was stored (shorten the ids and names "
                "the plan repeats, or plan fewer entities)",
            )
        protocols = self._decoded_network(self.store.get_network(network_id, network_version)).protocols
        approvers = {r.id: r.approver for r in protocols.authority_rules} if protocols is not None else {}
        decisions = [
            DecisionInput(
                index=k,
                needs_approval=d.status == AuthorityStatus.ESCALATED,
                blob=decision_blobs[k],
                escalation=escalation_key(d.rule, approvers),
                approver=approvers[d.rule].key if d.rule in approvers else "",
            )
            for k, d in enumerate(plan.decisions)
        ]
        record = self.store.add_plan(
            network_id,
            network_version=network_version,
            baseline_version=baseline_version,
            signals=signal_blob,
            plan=blob,
            status=plan.status.value,
            objective=plan.objective,
            decisions=decisions,
            idempotency_key=key,
            request_kind=kind,
            request_hash=fingerprint,
            expect_latest=expect_latest,
            extra=extra,
            actor=actor,
            trigger=trigger,
            inbox_first=inbox_first,
            inbox_final=inbox_final,
        )
        # What decoding the stored bytes would give (`plan_from_proto`: every field but the dense
        # `values`, which stay out of the ledger), kept so that answering this version decodes nothing.
        self._decoded.put(("plan", record.network_id, record.version), dc_replace(plan, values={}))
        self._stop_stale(network_id, record.version, exempt=exempt)
        with self._new_plan:
            self._new_plan.notify_all()
        return self._stored_plan(record)

    def _replayed(self, network_id: str, kind: RequestKind, key: str, fingerprint: str) -> StoredPlan | None:
        """The version a `kind` request with idempotency key `key` and this content stored before,
        if one did; the key used for other content raises `IdempotencyConflict`."""
        if not key:
            return None
        record = self.store.find_plan_by_key(network_id, key, kind=kind, request_hash=fingerprint)
        return self._stored_plan(record) if record is not None else None

    # -- the plan ledger --------------------------------------------------------------------------

    def get_plan(self, network_id: str, version: int = 0) -> StoredPlan:
        """A stored plan version (0: the latest)."""
        return self._stored_plan(self.store.get_plan(network_id, version))

    def list_plans(self, network_id: str) -> list[PlanSummary]:
        """The plan versions of a stored network, oldest first, without their tables."""
        self.store.get_network(network_id)
        return [
            PlanSummary(
                version=rec.version,
                network_version=rec.network_version,
                baseline_version=rec.baseline_version,
                status=SolveStatus(rec.status),
                objective=rec.objective,
                decisions=rec.n_decisions,
                needs_approval=rec.n_needs_approval,
                signals=ledger.signal_ids(rec.signals),
                created_at=rec.created_at,
            )
            for rec in self.store.list_plans(network_id)
        ]

    def diff_plans(self, network_id: str, from_version: int, to_version: int) -> PlanDiff:
        """What changed from one stored plan version to another."""
        before = self._decoded_plan(self.store.get_plan(network_id, from_version))
        after = self._decoded_plan(self.store.get_plan(network_id, to_version))
        return diff_plans(before, after)

    def wake_watchers(self) -> None:
        """Something was written (a decision, signals, settings): watchers look at the ledger now."""
        with self._new_plan:
            self._new_plan.notify_all()

    def wait_for_writes(self) -> None:
        """Wait until this process writes to the ledger, or `WATCH_POLL_SECONDS` (another process may)."""
        with self._new_plan:
            self._new_plan.wait(WATCH_POLL_SECONDS)

    def watch_plans(self, network_id: str, after_version: int, is_active: Callable[[], bool]) -> Iterator[StoredPlan]:
        """Plan versions stored after `after_version` (0: from now on), as they come, while
        `is_active()`; a version stored by this process wakes the watcher at once."""
        self.store.get_network(network_id)
        last = after_version or self.store.latest_plan_version(network_id)
        while is_active():
            for rec in self.store.plans_after(network_id, last):
                yield self._stored_plan(rec)
                last = rec.version
            with self._new_plan:
                self._new_plan.wait(WATCH_POLL_SECONDS)

    def list_decisions(
        self,
        network_id: str,
        plan_version: int = 0,
        state: DecisionState | None = None,
        *,
        principal: Principal = OPEN,
    ) -> list[StoredDecision]:
        """The decisions of a plan version (0: the latest) with their approval state; `state`
        keeps only those in it. A partner sees only the decisions on its own nodes and lanes."""
        version = plan_version or self.store.get_plan(network_id).version
        decisions = [_stored_decision(r) for r in self.store.list_decisions(network_id, version, state)]
        scope = principal.partner_scope(network_id)
        if scope is None:
            return decisions
        spec = self._decoded_network(
            self.store.get_network(network_id, self._network_version_of(network_id, version))
        ).spec
        touches = _partner_resources(spec, *scope)
        return [d for d in decisions if d.decision.resource in touches]

    def decide(
        self,
        network_id: str,
        plan_version: int,
        index: int,
        *,
        approve: bool,
        decided_by: str = "",
        note: str = "",
        principal: Principal = OPEN,
    ) -> StoredDecision:
        """Approve or reject a pending decision of the latest plan version, recording who, when and
        with which credential; every pending decision of its escalation moves with it, and a joint
        escalation waits for each member function's sign-off (`PlanStore.decide`).

        On an open server the decider is `decided_by`. Under authentication it is the principal
        (`decided_by` must be empty or its id), who must hold the approver grant for the decision's
        role, or for a member function of its joint decision (`PermissionDenied` naming it)."""
        if principal.open:
            if not decided_by:
                raise ValidationError("request", network_id, "decided_by", "is empty; say who decides")
            who, functions = decided_by, tuple(f.value for f in principal.approving_functions(network_id))
        else:
            if decided_by and decided_by != principal.id:
                raise ValidationError(
                    "request",
                    network_id,
                    "decided_by",
                    f"is {echo(decided_by)}, but the caller is principal {echo(principal.id)}; the decider is taken "
                    "from the credential: leave decided_by empty",
                )
            who, functions = principal.id, self._approver_functions(network_id, plan_version, index, principal)
        record = self.store.decide(
            network_id,
            plan_version,
            index,
            approve=approve,
            decided_by=who,
            note=note,
            credential=principal.credential,
            functions=functions,
            holds=() if approve else self.escalation_holds(network_id, plan_version, index, expiry=False),
            carried=self.escalation_carried(network_id, plan_version, index) if approve else (),
        )
        stored = _stored_decision(record)
        self.wake_watchers()
        if self.on_decided is not None:
            self.on_decided(stored)
        return stored

    def escalation_carried(self, network_id: str, plan_version: int, index: int) -> list[CarriedInput]:
        """What an approval of decision `index`'s escalation carries into later replans: each rule
        that shares the escalation, with the spend the plan committed under it."""
        rules = {h.rule: h.signals for h in self.escalation_holds(network_id, plan_version, index, expiry=True)}
        if not rules:
            return []
        plan = self._decoded_plan(self.store.get_plan(network_id, plan_version))
        spent = {a.rule: a.spend for a in plan.authority}
        return [CarriedInput(rule, spent.get(rule, 0.0), signals) for rule, signals in rules.items()]

    def escalation_holds(self, network_id: str, plan_version: int, index: int, *, expiry: bool) -> list[HoldInput]:
        """The rules a rejection (or a lapse, `expiry`) of decision `index`'s escalation holds in
        later replans: every rule of the network version's protocols that shares the escalation,
        held to its limit or forbidden as its `on_reject` says (a lapse holds to the limit), while
        the signals that activated it are answered."""
        found = [r for r in self.store.list_decisions(network_id, plan_version) if r.index == index]
        if not found or not found[0].escalation:
            return []
        record = found[0]
        decision = ledger.decode_decision(record.blob, index=index, network=network_id)
        version = self.store.get_plan(network_id, plan_version).network_version
        protocols = self._decoded_network(self.store.get_network(network_id, version)).protocols
        if protocols is None:
            return []
        approvers = {r.id: r.approver for r in protocols.authority_rules}
        return [
            HoldInput(rule.id, forbid=not expiry and rule.on_reject == OnReject.FORBID, signals=decision.signals)
            for rule in protocols.authority_rules
            if escalation_key(rule.id, approvers) == record.escalation
        ]

    def _approver_functions(
        self, network_id: str, plan_version: int, index: int, principal: Principal
    ) -> tuple[str, ...]:
        """The member functions `principal` signs for on this decision (a role approver: none),
        once it is known to hold the grant the decision's approver needs."""
        found = [r for r in self.store.list_decisions(network_id, plan_version) if r.index == index]
        if not found:
            return ()  # the store answers NotFound (or the superseded version) with its own message
        approver = found[0].approver or _legacy_approver_key(ledger.decode_decision(found[0].blob).approver)
        members = joint_members(approver)
        if members:
            mine = tuple(f for f in members if f in {g.value for g in principal.approving_functions(network_id)})
            if not mine:
                raise PermissionDenied(
                    f"principal {echo(principal.id)} has no approver grant for "
                    f"{' or '.join(members)} on network {echo(network_id)}; decision {index} is a joint "
                    f"{'-'.join(members)} decision, signed off by each member function"
                )
            return mine
        role = approver.removeprefix("role:")
        if not principal.may_approve_role(network_id, role):
            raise PermissionDenied(
                f"principal {echo(principal.id)} has no approver grant for role {echo(role)} on network "
                f"{echo(network_id)}; decision {index} is escalated to that role"
            )
        return ()

    def list_audit(self, network_id: str) -> list[AuditRecord]:
        """Every write to a network, in order: who, with which credential, did what, when."""
        self.store.get_network(network_id)
        return self.store.list_audit(network_id)

    def _network_version_of(self, network_id: str, plan_version: int) -> int:
        return self.store.get_plan(network_id, plan_version).network_version

    def _check_partner_signals(
        self, request: ReplanRequest, principal: Principal, nodes: frozenset[str], lanes: frozenset[str]
    ) -> None:
        """A partner's replan: every signal must land on one of its nodes or lanes."""
        if not request.signals:
            raise PermissionDenied(
                f"principal {echo(principal.id)} is a partner on network {echo(request.network_id)}: it may replan "
                "only with signals about its own nodes and lanes, and this request has none"
            )
        spec = self._decoded_network(self.store.get_network(request.network_id)).spec
        lane_ends = {lane.id: (lane.origin, lane.destination) for lane in spec.lanes}
        for signal in request.signals:
            kind = SIGNAL_KINDS[signal.type]
            where = kind.location_of(signal)
            if kind.location == "lane":
                ok = where in lanes or bool(set(lane_ends.get(where, ())) & nodes)
            else:
                ok = where in nodes
            if not ok:
                raise PermissionDenied(
                    f"principal {echo(principal.id)} is a partner on network {echo(request.network_id)} for "
                    f"nodes {sorted(nodes)} and lanes {sorted(lanes)}; signal {echo(signal.id)} lands on "
                    f"{kind.location} {echo(where)}, outside them"
                )

    # -- models and backends ----------------------------------------------------------------------

    def start_export(
        self,
        fmt: str,
        *,
        inline: SolveRequest | None = None,
        network_id: str = "",
        network_version: int = 0,
        signals: tuple[Signal, ...] = (),
        time_limit: float = math.inf,
        max_bytes: int | None = None,
        expired: Expired = _never,
    ) -> JobHandle[ExportedModel]:
        """Queue the export of the model of an inline request, or of a stored network version with
        `signals`, as MPS or LP text ("mps" or "lp"): a job on the worker pool like a solve, refused
        (`QueueFull`) before any work when the pool is full. The worker builds the model and refuses
        text longer than `max_bytes` (a `ValidationError` on "response"); the job may take the
        inline request's time limit, or `time_limit` for a stored network."""
        check_format(fmt)
        self.pool.check_room()
        if inline is not None:
            solve = self.solve_job(inline)
            spec, protocols, signals, time_limit = solve.spec, solve.protocols, solve.signals, solve.options.time_limit
        else:
            decoded = self._decoded_network(self.store.get_network(network_id, network_version))
            spec, protocols = decoded.spec, decoded.protocols
        job = ExportJob(spec, fmt, protocols, signals, max_bytes=max_bytes, time_limit=time_limit)
        return self._submit(job, None, expired)

    def _submit(
        self, job: SolveJob | ExportJob, on_progress: ProgressHandler | None, expired: Expired
    ) -> JobHandle[Any]:
        """Queue a prepared job, unless the caller's deadline passed while it was read and checked:
        a worker never starts work nobody waits for (`DeadlineExceeded`, nothing queued)."""
        if expired():
            raise DeadlineExceeded("the deadline passed while the request was checked; nothing was queued")
        return self.pool.submit(job, on_progress=on_progress)

    def list_backends(self) -> list[BackendInfo]:
        """Every backend the registry knows, with whether it can solve here."""
        if self._backends is None:  # solvers do not come and go while the server runs
            self._backends = describe_backends()
        return self._backends

    # -- decoding stored versions -----------------------------------------------------------------

    def _decoded_network(self, record: NetworkRecord) -> _DecodedNetwork:
        def decode() -> _DecodedNetwork:
            spec = ledger.decode_network(record.network)
            protocols = ledger.decode_protocols(record.protocols) if record.protocols else None
            return _DecodedNetwork(spec, protocols, Network.from_spec(spec))

        return self._decoded.get(("network", record.network_id, record.version), decode)

    def _decoded_plan(self, record: PlanRecord) -> Plan:
        return self._decoded.get(("plan", record.network_id, record.version), lambda: ledger.decode_plan(record.plan))

    def _stored_network(self, record: NetworkRecord) -> StoredNetwork:
        decoded = self._decoded_network(record)
        return StoredNetwork(
            network_id=record.network_id,
            version=record.version,
            spec=decoded.spec,
            protocols=decoded.protocols,
            created_at=record.created_at,
            created_by=record.created_by,
        )

    def _stored_plan(self, record: PlanRecord) -> StoredPlan:
        return StoredPlan(
            network_id=record.network_id,
            version=record.version,
            network_version=record.network_version,
            baseline_version=record.baseline_version,
            signals=ledger.decode_signals(record.signals),
            plan=self._decoded_plan(record),
            idempotency_key=record.idempotency_key,
            replan=ledger.decode_replan_info(record.extra),
            created_at=record.created_at,
            trigger=record.trigger,
            plan_bytes=record.plan,
        )


def actor_of(principal: Principal) -> Actor:
    """The ledger's record of who writes: the open server's writes go to the default tenant."""
    if principal.open:
        return Actor()
    return Actor(principal.id, principal.credential, principal.tenant)


def apply_holds(
    protocols: ProtocolSet,
    holds: Sequence[HoldRecord],
    answered: set[str],
    carried: Sequence[CarriedRecord] = (),
) -> ProtocolSet:
    """The protocol set a replan runs under, after the escalations decided on earlier versions, in
    the order they were decided, each while a signal that activated its rule is still answered (one
    without signals always):

    - an approval carries its spend: the rule's limit L becomes max(L, spend) (and its cap
      max(U, L)), so what was approved stays within authority instead of being escalated again;
    - a rejection or a lapse holds the rule to its limit (U = L: no escalation can lift it), or
      forbids it (L = U = 0) when its `on_reject` says so.
    """
    changes: list[tuple[datetime, str, float | bool, str]] = []
    for h in holds:
        if not h.signals or answered & set(h.signals):
            changes.append((h.at, "forbid" if h.forbid else "hold", 0.0, h.rule))
    for c in carried:
        if not c.signals or answered & set(c.signals):
            changes.append((c.at, "approved", c.spend, c.rule))
    if not changes:
        return protocols
    limits = {r.id: (r.spend_limit, r.hard_cap) for r in protocols.authority_rules}
    for _, kind, spend, rule in sorted(changes, key=lambda change: change[0]):
        if rule not in limits:
            continue
        low, cap = limits[rule]
        if kind == "approved":
            low = max(low, float(spend))
            cap = max(cap, low)
        elif kind == "hold":
            cap = low
        else:
            low = cap = 0.0
        limits[rule] = (low, cap)
    rules = tuple(
        r
        if limits[r.id] == (r.spend_limit, r.hard_cap)
        else dc_replace(r, spend_limit=limits[r.id][0], hard_cap=limits[r.id][1])
        for r in protocols.authority_rules
    )
    return dc_replace(protocols, authority_rules=rules)


def escalation_key(rule_id: str, approvers: dict[str, Approver]) -> str:
    """The escalation a decision under `rule_id` waits on, as the model shares escalation binaries
    (`models.protocols.activation`): one per joint approver, else one per rule."""
    approver = approvers.get(rule_id)
    if approver is None:
        return ""
    return approver.key if approver.joint else f"rule:{rule_id}"


def _legacy_approver_key(label: str) -> str:
    """The approver key of a decision stored before keys were kept, from its label: "joint
    procurement-production decision" -> "joint:procurement+production", a role id -> "role:<id>"."""
    if label.startswith("joint ") and label.endswith(" decision"):
        return "joint:" + "+".join(sorted(label[len("joint ") : -len(" decision")].split("-")))
    return f"role:{label}"


def _partner_resources(spec: NetworkSpec, nodes: frozenset[str], lanes: frozenset[str]) -> frozenset[str]:
    """The decision resources that concern a partner: its nodes, its suppliers' offers, and the
    lanes it runs or that start or end at its nodes."""
    offers = {o.id for o in spec.offers if o.supplier in nodes}
    own_lanes = {
        lane.id for lane in spec.lanes if lane.id in lanes or lane.origin in nodes or lane.destination in nodes
    }
    return frozenset(nodes | offers | own_lanes)


def _stored_decision(record: DecisionRecord) -> StoredDecision:
    return StoredDecision(
        network_id=record.network_id,
        plan_version=record.plan_version,
        index=record.index,
        decision=ledger.decode_decision(record.blob, index=record.index, network=record.network_id),
        state=DecisionState(record.state),
        decided_by=record.decided_by,
        decided_at=record.decided_at,
        note=record.note,
        escalation=record.escalation,
        approver=record.approver,
        decided_credential=record.decided_credential,
        signoffs=record.signoffs,
    )
