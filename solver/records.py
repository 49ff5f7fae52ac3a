"""What the service's use cases take and answer with, as domain objects: solve, plan and replan
requests; stored network and plan versions, their summaries, how a replan answered, a decision with
its approval record, solve progress and streamed events.

`solver.convert` pairs each with its concerto.v1 message; nothing here knows protobuf.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.network import NetworkSpec
from models.plan import Plan
from models.protocols import Decision, ProtocolSet
from models.replanning import FenceCut, ReplanOptions
from models.signals import Signal
from models.solution import SolveStatus
from solver.backends.registry import DEFAULT_BACKEND
from solver.options import SolveOptions
from solver.store import AuditRecord, DecisionState, NetworkSummary, SignalChange, SignOff

__all__ = [
    "AuditRecord",
    "DecisionState",
    "ExportedModel",
    "NetworkSettings",
    "NetworkSummary",
    "PlanRequest",
    "PlanSummary",
    "PublishedSignal",
    "ReplanInfo",
    "ReplanRequest",
    "ResponseTimeline",
    "SignOff",
    "SignalChange",
    "SolveEvent",
    "SolveProgress",
    "SolveRequest",
    "StoredDecision",
    "StoredNetwork",
    "StoredPlan",
    "TimelineEntry",
]


# -- requests --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SolveRequest:
    """An inline network to solve; nothing is stored."""

    spec: NetworkSpec
    protocols: ProtocolSet | None = None
    signals: tuple[Signal, ...] = ()
    options: SolveOptions = field(default_factory=SolveOptions)
    backend: str = DEFAULT_BACKEND


@dataclass(frozen=True, kw_only=True)
class PlanRequest:
    """Plan a stored network version (0: the latest) and store the plan as a new version."""

    network_id: str
    network_version: int = 0
    options: SolveOptions = field(default_factory=SolveOptions)
    backend: str = DEFAULT_BACKEND
    idempotency_key: str = ""
    """A retry with the same key gets the version the first request stored."""


@dataclass(frozen=True, kw_only=True)
class ReplanRequest:
    """Signals against a stored baseline version (0: the latest) in, a new plan version out."""

    network_id: str
    baseline_version: int = 0
    signals: tuple[Signal, ...] = ()
    """Signals detected since the baseline; the new plan answers these and the baseline's own."""
    options: SolveOptions = field(default_factory=SolveOptions)
    backend: str = DEFAULT_BACKEND
    idempotency_key: str = ""
    allow_stale_baseline: bool = False
    """Replan even if a newer plan version than the baseline exists."""
    settings: ReplanOptions = field(default_factory=ReplanOptions)
    first_answer: bool = True
    """Answer first from the signals' reach, then solve the full replan."""
    withdrawn: tuple[str, ...] = ()
    """Ids of the baseline's signals the new plan no longer answers (a cancelled disruption, or one
    whose update comes among `signals` under the same id)."""


@dataclass(frozen=True, kw_only=True)
class PublishedSignal:
    """A signal as the system that detected it publishes it: its source, the source's own id, and
    whether it is new, an update or a cancellation of that id."""

    source: str
    source_id: str
    change: SignalChange = SignalChange.NEW
    signal: Signal | None = None
    """The signal (its id is "<source>:<source_id>"); None for a cancellation."""
    detected_at: datetime | None = None
    """When the source detected it (wall clock)."""

    @property
    def signal_id(self) -> str:
        return f"{self.source}:{self.source_id}"


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """How a network is replanned: `automatic` lets its orchestrator answer published signals,
    rejections and lapsed escalations by itself, coalescing what arrives within `window_seconds`."""

    automatic: bool = False
    window_seconds: float = 1.0
    replan: ReplanOptions = field(default_factory=ReplanOptions)
    options: SolveOptions = field(default_factory=SolveOptions)
    backend: str = DEFAULT_BACKEND
    first_answer: bool = True
    """Store the first coordinated plan (from the signals' reach) as a plan version of its own,
    before the final one."""


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    """One published signal revision from detection to an executable response (None: not yet)."""

    source: str
    source_id: str
    revision: int
    change: SignalChange
    detected_at: datetime | None
    received_at: datetime
    first_plan_at: datetime | None
    first_plan_version: int | None
    final_plan_at: datetime | None
    final_plan_version: int | None
    approvals_at: datetime | None
    """When the last escalation the final plan raised for this signal was decided (None while one
    waits); the final plan's time when it raised none."""
    executable_at: datetime | None
    """When every decision of the final plan this signal triggered could be carried out."""
    pending_escalations: int = 0

    @property
    def response_seconds(self) -> float | None:
        """Detection (or receipt, when the source gave no time) to an executable response."""
        start = self.detected_at or self.received_at
        return None if self.executable_at is None else (self.executable_at - start).total_seconds()


@dataclass(frozen=True, kw_only=True)
class ResponseTimeline:
    """Every published signal of a network on its way to a response, with the median and worst
    detection-to-response time over those with an executable response."""

    network_id: str
    entries: tuple[TimelineEntry, ...]

    @property
    def answered(self) -> list[float]:
        return sorted(x for e in self.entries if (x := e.response_seconds) is not None)

    @property
    def median_seconds(self) -> float:
        done = self.answered
        if not done:
            return float("nan")
        mid = len(done) // 2
        return done[mid] if len(done) % 2 else (done[mid - 1] + done[mid]) / 2

    @property
    def worst_seconds(self) -> float:
        done = self.answered
        return done[-1] if done else float("nan")


@dataclass(frozen=True, kw_only=True)
class StoredNetwork:
    """One stored version of a network with its optional protocol set."""

    network_id: str
    version: int
    """1 for the first version, then one more per PutNetwork."""
    spec: NetworkSpec
    protocols: ProtocolSet | None
    created_at: datetime
    created_by: str = ""
    """The principal that stored it ("" on a server without authentication)."""


@dataclass(frozen=True, kw_only=True)
class ReplanInfo:
    """How a replan answered: which answer it is, how fast, how stable."""

    kind: str
    """"first", "optimal" or "improved"."""
    business_objective: float
    """Cost minus revenue without the stability and fence penalties."""
    first_plan_seconds: float
    """Seconds from the start of the replan until the first coordinated plan (0 without one)."""
    ready_seconds: float
    """Seconds from the start of the replan until this plan."""
    execute_after_hours: float
    """Hours from the earliest signal's detection until every decision may be executed."""
    mip_start_accepted: bool
    """Whether the solver accepted the first plan as a feasible MIP start."""
    fence_cuts: tuple[FenceCut, ...] = ()
    changed: int = 0
    """Decisions changed against the baseline..."""
    total: int = 0
    """...of all in either plan (nervousness = changed / total)."""


@dataclass(frozen=True)
class StoredPlan:
    """A plan version as the service stored it."""

    network_id: str
    version: int
    network_version: int
    baseline_version: int
    signals: tuple[Signal, ...]
    """Every signal the plan answers (the baseline's and the new ones)."""
    plan: Plan
    idempotency_key: str
    replan: ReplanInfo | None = None
    """How a replan answered (kind, timings, fence cuts, churn); None for a plan."""
    created_at: datetime | None = None
    """When the version was stored (None only for a version not read from a ledger)."""
    trigger: str = ""
    """What made it: "" (a Plan or Replan call), "inbox" or "inbox-first" (the orchestrator
    answering published signals, its first coordinated plan), "rejection", "expiry", "advance"."""
    plan_bytes: bytes = field(default=b"", compare=False, repr=False)
    """The plan's `PlanResult` bytes as the ledger holds them (empty for a version not read from a
    ledger): an answer parses them (4 ms at M) instead of converting `plan` again (65 ms)."""


@dataclass(frozen=True, kw_only=True)
class PlanSummary:
    """A stored plan version without its tables (ListPlans)."""

    version: int
    network_version: int
    baseline_version: int
    status: SolveStatus
    objective: float
    decisions: int
    needs_approval: int
    signals: tuple[str, ...]
    """The ids of the signals the plan answers."""
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class StoredDecision:
    """A decision of a stored plan with its approval record (`decided_at` is None until decided)."""

    network_id: str
    plan_version: int
    index: int
    """Position of the decision in the plan's decisions."""
    decision: Decision
    state: DecisionState
    decided_by: str
    decided_at: datetime | None
    note: str
    escalation: str = ""
    """The escalation it waits on ("rule:<id>" or "joint:<functions>"); one approval decides all of it."""
    approver: str = ""
    """Who decides it: "role:<role>" or "joint:<function>+<function>"."""
    decided_credential: str = ""
    signoffs: tuple[SignOff, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SolveProgress:
    """One progress event of a streamed solve, as a client receives it; NaN means not known (yet)."""

    elapsed_seconds: float
    objective: float
    best_bound: float
    gap: float
    phase: str
    """"queued", "building", "solving" or "extracting"."""


QUEUED = SolveProgress(elapsed_seconds=0.0, objective=float("nan"), best_bound=0.0, gap=0.0, phase="queued")
"""The first event of every streamed solve: the job waits for a worker."""


@dataclass(frozen=True, kw_only=True)
class ExportedModel:
    """A request's model as MPS or LP text, with its size."""

    text: str
    columns: int
    rows: int


@dataclass(frozen=True, kw_only=True)
class SolveEvent:
    """One event of a streamed solve or replan: exactly one field is set."""

    progress: SolveProgress | None = None
    plan: Plan | None = None
    """The result of SolveStream."""
    version: StoredPlan | None = None
    """The result of ReplanStream."""
    first: Plan | None = None
    """ReplanStream's first coordinated plan, from the signals' reach (not stored)."""
