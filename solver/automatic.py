"""Always on: the signal inbox, a network's settings, the automatic replans the orchestrator starts
(answering published signals, rejections and lapsed escalations), the detection-to-response
timeline, and rolling a network forward.

The use cases here sit on `PlanService` (one ledger, one worker pool) and reach the ledger through
`PlanStore` only; `solver.orchestrator` decides when to call them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from models.errors import ValidationError, echo
from models.network import NetworkSpec, Stock
from models.protocols.spec import OnExpiry
from models.replanning.advance import advance as advance_spec
from models.signals import Signal, apply_signals, validate_signal
from solver.auth import ANY_NETWORK, Grant, GrantRole, Principal
from solver.convert import ledger
from solver.errors import NoPlan
from solver.records import (
    NetworkSettings,
    PlanRequest,
    PublishedSignal,
    ReplanRequest,
    ResponseTimeline,
    SignalChange,
    StoredPlan,
    TimelineEntry,
)
from solver.store import AuditRecord, DecisionState, InboxInput, InboxRecord, RequestKind
from solver.usecases import (
    JobResult,
    PlanRun,
    PlanService,
    actor_of,
    apply_holds,
    check_backend,
    check_network,
    escalation_key,
    plan_of,
)
from solver.workers import SolveJob

log = logging.getLogger("concerto.orchestrator")

ORCHESTRATOR = "orchestrator"
"""The principal id the orchestrator's plan versions and lapses are recorded under."""


def orchestrator_principal(tenant: str) -> Principal:
    """Who the orchestrator acts as on a network of `tenant`: a planner of it, its credential
    "automatic" in the audit trail."""
    return Principal(ORCHESTRATOR, tenant, (Grant(GrantRole.PLANNER, (ANY_NETWORK,)),), credential="automatic")


@dataclass(frozen=True)
class DueExpiry:
    """A pending escalation of a network's latest plan version whose window has passed and whose
    rules let it lapse."""

    network_id: str
    plan_version: int
    escalation: str
    index: int
    """A pending decision of it."""


class AlwaysOn:
    """The always-on use cases of one server, over its `PlanService`."""

    def __init__(self, service: PlanService, *, max_open_signals: int = 10_000) -> None:
        self.service = service
        self.store = service.store
        self.max_open_signals = max_open_signals
        self.on_signals: Callable[[str], None] | None = None
        """The orchestrator's hook: signals for a network were stored (or its settings changed)."""

    # -- the inbox ----------------------------------------------------------------------------------

    def publish(self, network_id: str, published: Sequence[PublishedSignal], principal: Principal) -> list[InboxRecord]:
        """Check published signals against the network's latest version (and, for a partner, its
        nodes and lanes), then store them in the ledger in one transaction before answering: each
        new or updated signal must be valid there; a resend is a duplicate, a changed signal under a
        known id without `update` a `ValidationError` naming it. Wakes the orchestrator."""
        if not published:
            raise ValidationError("request", network_id, "signals", "is empty; publish at least one signal")
        decoded = self.service._decoded_network(self.store.get_network(network_id))
        scope = principal.partner_scope(network_id)
        entries = []
        seen: dict[str, int] = {}
        for k, p in enumerate(published):
            where = f"signals[{k}]"
            if p.signal_id in seen:
                raise ValidationError(
                    "published signal",
                    p.signal_id,
                    where,
                    f"repeats signals[{seen[p.signal_id]}]'s source and id; send one change per id in a batch",
                )
            seen[p.signal_id] = k
            if p.signal is not None:
                validate_signal(decoded.net, p.signal)
                if scope is not None:
                    self.service._check_partner_signals(
                        ReplanRequest(network_id=network_id, signals=(p.signal,)), principal, *scope
                    )
            elif scope is not None:
                self._check_partner_cancel(network_id, p, principal, *scope)
            blob = ledger.encode_signal(p.signal)
            entries.append(
                InboxInput(
                    source=p.source,
                    source_id=p.source_id,
                    change=p.change,
                    signal=blob,
                    content=ledger.signal_content(p.change.value, blob),
                    detected_at=p.detected_at,
                )
            )
        records = self.store.publish(network_id, entries, actor=actor_of(principal), max_open=self.max_open_signals)
        self.service.wake_watchers()
        if self.on_signals is not None and any(not r.duplicate for r in records):
            self.on_signals(network_id)
        return records

    def _check_partner_cancel(
        self, network_id: str, p: PublishedSignal, principal: Principal, nodes: frozenset[str], lanes: frozenset[str]
    ) -> None:
        """A partner may cancel only a signal it could have published (the latest revision's)."""
        earlier = [r for r in self.store.inbox(network_id) if (r.source, r.source_id) == (p.source, p.source_id)]
        last = ledger.decode_signal(earlier[-1].signal) if earlier and earlier[-1].signal else None
        if last is not None:
            self.service._check_partner_signals(
                ReplanRequest(network_id=network_id, signals=(last,)), principal, nodes, lanes
            )

    # -- settings -----------------------------------------------------------------------------------

    def settings(self, network_id: str) -> tuple[NetworkSettings, datetime | None]:
        """A network's settings and when they were set (defaults and None: never set, manual)."""
        self.store.get_network(network_id)
        record = self.store.get_settings(network_id)
        if record is None:
            return NetworkSettings(), None
        return ledger.decode_settings(record.settings), record.updated_at

    def set_settings(
        self, network_id: str, settings: NetworkSettings, principal: Principal
    ) -> tuple[NetworkSettings, datetime]:
        record = self.store.put_settings(
            network_id,
            automatic=settings.automatic,
            window_seconds=settings.window_seconds,
            settings=ledger.encode_settings(settings),
            actor=actor_of(principal),
        )
        self.service.wake_watchers()
        if self.on_signals is not None and settings.automatic:
            self.on_signals(network_id)  # signals waiting while it was manual are answered now
        return settings, record.updated_at

    # -- automatic replans --------------------------------------------------------------------------

    def start_automatic(self, network_id: str, trigger: str) -> tuple[PlanRun, list[int]] | None:
        """The orchestrator's replan of a network from its latest plan version: every open inbox
        signal answered (a cancellation or update withdraws the id the baseline answers; the latest
        revision of an id counts), under the network's settings, by the orchestrator's principal.
        Returns the run and the inbox seqs it answers; None when there is nothing to do (no open
        signal for an "inbox" trigger, or no plan to replan from yet)."""
        open_rows = self.store.inbox(network_id, open_only=True)
        if trigger == "inbox" and not open_rows:
            return None
        if self.store.latest_plan_version(network_id) == 0:
            log.info("network %s has signals but no plan yet: plan it first", network_id)
            return None
        settings, _ = self.settings(network_id)
        baseline = self.store.get_plan(network_id)
        answered = set(ledger.signal_ids(baseline.signals))
        latest: dict[tuple[str, str], InboxRecord] = {}
        for row in open_rows:
            latest[(row.source, row.source_id)] = row
        new: list[Signal] = []
        withdrawn: list[str] = []
        for (source, source_id), row in latest.items():
            sid = f"{source}:{source_id}"
            if sid in answered:
                withdrawn.append(sid)
            signal = ledger.decode_signal(row.signal)
            if row.change != SignalChange.CANCEL and signal is not None:
                new.append(signal)
        request = ReplanRequest(
            network_id=network_id,
            baseline_version=baseline.version,
            signals=tuple(new),
            withdrawn=tuple(withdrawn),
            options=settings.options,
            backend=settings.backend,
            settings=settings.replan,
            first_answer=settings.first_answer,
        )
        tenant = self.store.network_tenant(network_id) or ""
        seqs = [row.seq for row in open_rows]
        run = self.service.start_replan(
            request,
            principal=orchestrator_principal(tenant),
            trigger=trigger,
            inbox=seqs,
            store_first=settings.first_answer,
        )
        return run, seqs

    def due_expiries(self, network_id: str, now: datetime) -> list[DueExpiry]:
        """The pending escalations of the network's latest plan version whose window (the rule's
        escalation delay, counted from when the version was stored) has passed, and whose rules say
        to lapse to within authority (`OnExpiry.WITHIN_AUTHORITY`)."""
        if self.store.latest_plan_version(network_id) == 0:
            return []
        # Checked every second: the pending rows first (few, small), the plan version only then.
        pending = self.store.list_decisions(network_id, 0, DecisionState.PENDING)
        if not pending:
            return []
        plan = self.store.get_plan(network_id, pending[0].plan_version)
        protocols = self.service._decoded_network(self.store.get_network(network_id, plan.network_version)).protocols
        if protocols is None:
            return []
        approvers = {r.id: r.approver for r in protocols.authority_rules}
        due: dict[str, DueExpiry] = {}
        for record in pending:
            rules = [r for r in protocols.authority_rules if escalation_key(r.id, approvers) == record.escalation]
            if not rules or not all(r.on_expiry == OnExpiry.WITHIN_AUTHORITY for r in rules):
                continue
            window = timedelta(hours=min(r.escalation_delay_hours for r in rules))
            if now >= plan.created_at + window and record.escalation not in due:
                due[record.escalation] = DueExpiry(network_id, plan.version, record.escalation, record.index)
        return list(due.values())

    def expire(self, due: DueExpiry) -> int:
        """Let an escalation lapse: its pending decisions become expired and its rules are held to
        their limits in later replans; the count of lapsed decisions (0 if a newer version or a
        decision came first)."""
        holds = self.service.escalation_holds(due.network_id, due.plan_version, due.index, expiry=True)
        lapsed = self.store.expire(
            due.network_id,
            due.plan_version,
            due.escalation,
            holds,
            detail=f"escalation {due.escalation} not decided within its window; held to the rule's limit",
        )
        if lapsed:
            self.service.wake_watchers()
        return lapsed

    # -- the timeline -------------------------------------------------------------------------------

    def timeline(self, network_id: str) -> ResponseTimeline:
        """Each published signal revision from detection to an executable response: received, the
        first coordinated plan and the final plan that answered it, its escalations decided (the
        final plan's pending decisions that the signal triggered), and executable (when the last of
        them was approved, or when the replan after a rejection or lapse was stored; the final plan's
        own time when it escalated nothing for the signal)."""
        self.store.get_network(network_id)
        stored = {p.version: p for p in self.store.list_plans(network_id)}
        decisions: dict[int, list[tuple[tuple[str, ...], DecisionState, datetime | None]]] = {}

        def escalated(version: int) -> list[tuple[tuple[str, ...], DecisionState, datetime | None]]:
            if version not in decisions:
                decisions[version] = [
                    (ledger.decode_decision(r.blob).signals, r.state, r.decided_at)
                    for r in self.store.list_decisions(network_id, version)
                    if r.escalation or r.state != DecisionState.NOT_REQUIRED
                ]
            return decisions[version]

        entries = []
        for row in self.store.inbox(network_id):
            sid = f"{row.source}:{row.source_id}"
            first_at = stored[row.first_by].created_at if row.first_by in stored else None
            final_at = stored[row.final_by].created_at if row.final_by in stored else None
            approvals_at: datetime | None = None
            executable_at: datetime | None = None
            pending = 0
            if row.final_by is not None and final_at is not None:
                mine = [(state, at) for signals, state, at in escalated(row.final_by) if sid in signals]
                pending = sum(1 for state, _ in mine if state == DecisionState.PENDING)
                if not mine:
                    approvals_at = executable_at = final_at
                elif not pending:
                    approvals_at = max((at for _, at in mine if at is not None), default=final_at)
                    if all(state == DecisionState.APPROVED for state, _ in mine):
                        executable_at = approvals_at
                    else:  # rejected or lapsed: the replan that followed made it executable
                        executable_at = next(
                            (
                                stored[v].created_at
                                for v in sorted(stored)
                                if v > row.final_by and stored[v].trigger in ("rejection", "expiry")
                            ),
                            None,
                        )
            entries.append(
                TimelineEntry(
                    source=row.source,
                    source_id=row.source_id,
                    revision=row.revision,
                    change=row.change,
                    detected_at=row.detected_at,
                    received_at=row.received_at,
                    first_plan_at=first_at,
                    first_plan_version=row.first_by,
                    final_plan_at=final_at,
                    final_plan_version=row.final_by,
                    approvals_at=approvals_at,
                    executable_at=executable_at,
                    pending_escalations=pending,
                )
            )
        return ResponseTimeline(network_id=network_id, entries=tuple(entries))

    # -- rolling forward ----------------------------------------------------------------------------

    def advance(
        self,
        network_id: str,
        periods: int,
        counted: dict[tuple[str, str], float],
        request: PlanRequest,
        principal: Principal,
        *,
        expired: Callable[[], bool] = lambda: False,
    ) -> PlanRun:
        """Roll a network forward by `periods`: the latest plan's first periods executed
        (`models.replanning.advance`), stock counted where given, planned with the signals still in
        force, moved `periods` earlier (a signal over by then is dropped), under the rules they keep
        held or carried. Everything is checked and solved first; only a plan is stored, as the next
        network version (its protocols kept) and its first plan version, so a refused or failed
        advance writes nothing."""
        latest = self.store.get_plan(network_id)
        decoded = self.service._decoded_network(self.store.get_network(network_id, latest.network_version))
        spec = advance_spec(decoded.spec, self.service._decoded_plan(latest), periods)
        if counted:
            spec = _counted(network_id, spec, counted)
        shift = periods * decoded.spec.period_hours
        signals = tuple(s for s in (_shifted(s, shift) for s in ledger.decode_signals(latest.signals)) if s is not None)
        apply_signals(check_network(spec, decoded.protocols), signals)
        protocols = decoded.protocols
        if protocols is not None:
            answered = {s.id for s in signals}
            protocols = apply_holds(protocols, self.store.holds(network_id), answered, self.store.carried(network_id))
        backend = check_backend(request.backend, request.options)
        self.service.pool.check_room()
        job = SolveJob(
            spec=spec,
            protocols=protocols,
            signals=signals,
            options=request.options,
            backend=backend,
            warm_key=network_id,
        )
        handle = self.service._submit(job, None, expired)

        def finish(result: JobResult) -> StoredPlan:
            planned = plan_of(result)
            if not planned.has_solution:
                raise NoPlan(network_id, planned.status, planned.message)
            stored = self.service.put_network(network_id, spec, decoded.protocols, principal=principal)
            return self.service._store_plan(
                network_id,
                stored.version,
                0,
                signals,
                planned,
                "",
                None,
                kind=RequestKind.PLAN,
                fingerprint="",
                actor=actor_of(principal),
                trigger="advance",
            )

        return PlanRun(handle=handle, _finish=finish)

    def watch(self, network_id: str, after_seq: int, is_active: Callable[[], bool]) -> Iterator[AuditRecord]:
        """Every write to the network after audit row `after_seq` (0: from now on), as it happens."""
        self.store.get_network(network_id)
        last = after_seq or max((a.seq for a in self.store.list_audit(network_id)), default=0)
        while is_active():
            for event in self.store.list_audit(network_id, after=last):
                yield event
                last = event.seq
            self.service.wait_for_writes()


def _shifted(signal: Signal, hours: float) -> Signal | None:
    """The signal as seen `hours` later (its times moved earlier), None when it is over by then."""
    end = signal.start_hours + signal.duration_hours
    if end <= hours:
        return None
    start = max(0.0, signal.start_hours - hours)
    duration = end - hours - start if math.isfinite(end) else signal.duration_hours
    return replace(
        signal, start_hours=start, duration_hours=duration, detected_hours=max(0.0, signal.detected_hours - hours)
    )


def now_utc() -> datetime:
    return datetime.now(UTC)


def _counted(network_id: str, spec: NetworkSpec, counted: dict[tuple[str, str], float]) -> NetworkSpec:
    """`spec` with the stock counted at each (node, item) in place of the plan's projection."""
    nodes = {n.id for n in spec.nodes}
    items = {i.id for i in spec.items}
    for node, item in counted:
        if node not in nodes or item not in items:
            bad = "node" if node not in nodes else "item"
            raise ValidationError("stock count", f"{node}/{item}", bad, f"names no {bad} of network {echo(network_id)}")
    known = {(s.node, s.item) for s in spec.stocks}
    stocks = [replace(s, on_hand=counted.get((s.node, s.item), s.on_hand)) for s in spec.stocks]
    stocks += [Stock(n, i, on_hand=q) for (n, i), q in counted.items() if (n, i) not in known]
    return replace(spec, stocks=tuple(stocks))
