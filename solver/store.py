"""The plan ledger: network versions, plan versions, their signals and decisions with approval state.

Stores opaque serialized blobs (the server writes protobuf bytes) next to the columns it must query;
`PlanStore` is the interface, `SqlitePlanStore` the default implementation on one SQLite file.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from models.errors import ConcertoError, ValidationError, echo

# ----------------------------------------------------------------------------------------- errors


class NotFound(ConcertoError, LookupError):
    """A network, plan version or decision the store does not hold."""

    def __init__(self, entity: str, ident: str, hint: str = "") -> None:
        self.entity = entity
        self.ident = ident
        self.hint = hint
        super().__init__(f"{entity} {ident!r} not found" + (f": {hint}" if hint else ""))


class StaleBaseline(ConcertoError):
    """A replan started from a plan version that is no longer the network's latest."""

    def __init__(self, network_id: str, expected: int, latest: int) -> None:
        self.network_id = network_id
        self.expected = expected
        self.latest = latest
        super().__init__(
            f"network {network_id!r}: the replan expected plan version {expected} to be the latest, "
            f"but version {latest} is; replan from version {latest} or allow a stale baseline"
        )


class InvalidTransition(ConcertoError):
    """An approval or rejection of a decision that is not waiting for one."""

    def __init__(self, network_id: str, plan_version: int, index: int, state: str, action: str) -> None:
        self.network_id = network_id
        self.plan_version = plan_version
        self.index = index
        self.state = state
        self.action = action
        super().__init__(
            f"decision {index} of network {network_id!r} plan version {plan_version} is {state}; "
            f"only a pending decision can be {action}"
        )


class IdempotencyConflict(ConcertoError):
    """An idempotency key already used by a request of the same kind on the same network whose
    content differs: the key names one request, so the stored version is not this request's answer."""

    def __init__(self, network_id: str, kind: str, key: str, version: int) -> None:
        self.network_id = network_id
        self.kind = kind
        self.key = key
        self.version = version
        super().__init__(
            f"network {network_id!r}: idempotency_key {echo(key)} was used by the {kind} that stored plan "
            f"version {version}, with different content (network version or baseline, signals, options or "
            f"settings); resend that request unchanged to get version {version}, or use a new idempotency_key"
        )


class SupersededPlan(ConcertoError):
    """An approval or rejection of a decision of a plan version that a newer version replaced."""

    def __init__(self, network_id: str, plan_version: int, index: int, latest: int, action: str) -> None:
        self.network_id = network_id
        self.plan_version = plan_version
        self.index = index
        self.latest = latest
        self.action = action
        super().__init__(
            f"decision {index} of network {network_id!r} plan version {plan_version} cannot be {action}: "
            f"plan version {latest} superseded it; only the decisions of the latest plan version "
            f"({latest}) can be decided"
        )


class NetworkTaken(ConcertoError):
    """A network id that another tenant already holds: ids are unique across tenants."""

    def __init__(self, network_id: str) -> None:
        self.network_id = network_id
        super().__init__(f"network id {echo(network_id)} is taken; store the network under another id")


class InboxFull(ConcertoError):
    """A network with as many signals waiting for a plan as its inbox may hold."""

    def __init__(self, network_id: str, open_now: int, limit: int) -> None:
        self.network_id = network_id
        super().__init__(
            f"network {network_id!r} has {open_now:,} signals no plan has answered yet, and its inbox holds at "
            f"most {limit:,} (`concerto serve --max-signals`); retry once its replans caught up"
        )


class AlreadySigned(ConcertoError):
    """A joint decision's sign-off for functions that have all signed already."""

    def __init__(self, network_id: str, plan_version: int, index: int, functions: Sequence[str]) -> None:
        self.network_id = network_id
        super().__init__(
            f"decision {index} of network {network_id!r} plan version {plan_version}: "
            f"{', '.join(functions)} signed off already; the other member functions must sign"
        )


class StoreUnavailable(ConcertoError):
    """A ledger on a database server that cannot be reached (down, restarting, out of connections)."""

    def __init__(self, store: str, reason: str) -> None:
        self.store = store
        super().__init__(
            f"the plan ledger {store!r} cannot be reached ({reason}); nothing was written, retry once the "
            "database server is back"
        )


# ---------------------------------------------------------------------------------------- records


class RequestKind(StrEnum):
    """Which RPC stored a plan version; idempotency keys are scoped by it (and by network)."""

    PLAN = "plan"
    REPLAN = "replan"


class DecisionState(StrEnum):
    """Where a decision of a stored plan stands; the values are the strings stored and compared."""

    NOT_REQUIRED = "not_required"
    """Within authority or ungoverned: nobody has to approve it."""
    PENDING = "pending"
    """Escalated, waiting for the approver."""
    APPROVED = "approved"
    """The approver said yes (who and when are recorded)."""
    REJECTED = "rejected"
    """The approver said no (who and when are recorded)."""
    EXPIRED = "expired"
    """Nobody decided within the escalation's window and the rule's default let it lapse."""

    @property
    def executable(self) -> bool:
        """Whether the decision may be carried out: it needed no approval, or it has one."""
        return self in (DecisionState.NOT_REQUIRED, DecisionState.APPROVED)


DEFAULT_TENANT = "default"
"""The tenant of every network an open server (no principals file) stores, and of every network
stored before tenants existed; a principal of this tenant sees them once authentication is on."""


@dataclass(frozen=True)
class Actor:
    """Who writes to the ledger: the principal's id ("" on an open server), the credential of the
    request ("token:<label>", "certificate:<name>", "open") and the tenant it writes for."""

    principal: str = ""
    credential: str = "open"
    tenant: str = DEFAULT_TENANT


OPEN_ACTOR = Actor()


@dataclass(frozen=True)
class NetworkRecord:
    """One stored version of a network and its optional protocol set."""

    network_id: str
    version: int
    name: str
    network: bytes
    protocols: bytes | None
    created_at: datetime
    tenant: str = DEFAULT_TENANT
    created_by: str = ""


@dataclass(frozen=True)
class NetworkSummary:
    """A stored network by its latest version, with how many plan versions it has."""

    network_id: str
    latest_version: int
    name: str
    plan_versions: int
    updated_at: datetime
    """When the latest network version or plan version was stored, whichever is later."""


@dataclass(frozen=True)
class PlanSummaryRecord:
    """A stored plan version without its plan blob (ListPlans); `signals` is kept for their ids."""

    network_id: str
    version: int
    network_version: int
    baseline_version: int
    signals: bytes
    status: str
    objective: float
    created_at: datetime
    idempotency_key: str
    n_decisions: int
    n_needs_approval: int
    trigger: str = ""
    """What made the version (`PlanRecord.trigger`)."""


@dataclass(frozen=True)
class PlanRecord:
    """One stored plan version with its blobs."""

    network_id: str
    version: int
    network_version: int
    baseline_version: int
    signals: bytes
    plan: bytes
    status: str
    objective: float
    created_at: datetime
    idempotency_key: str
    n_decisions: int
    n_needs_approval: int
    extra: bytes = b""
    """How the plan was made, opaque to the store (the service keeps a replan's ReplanInfo here)."""
    request_kind: str = RequestKind.PLAN
    """The RPC that stored the version ("plan" or "replan"): the scope of its idempotency key."""
    request_hash: str = ""
    """The fingerprint of the request's content (everything but the key); empty for a version
    written before fingerprints were kept, which any retry with its key replays."""
    trigger: str = ""
    """What made the version: "" (a Plan or Replan call), "inbox" (the orchestrator answering
    published signals; "inbox-first" for its first coordinated plan), "rejection", "expiry" or
    "advance"."""


@dataclass(frozen=True)
class DecisionInput:
    """A decision of a plan about to be stored: its position in the plan and whether it needs approval."""

    index: int
    needs_approval: bool
    blob: bytes
    escalation: str = ""
    """The escalation the decision waits on: "rule:<id>", or "joint:<functions>" for rules sharing a
    joint approver; one approval decides every pending decision of an escalation of a plan version."""
    approver: str = ""
    """Who decides it: "role:<role id>", or "joint:<function>+<function>" (each signs off)."""


@dataclass(frozen=True)
class DecisionRecord:
    """A decision of a stored plan with its approval record (`decided_at` is None until decided)."""

    network_id: str
    plan_version: int
    index: int
    blob: bytes
    state: DecisionState
    decided_by: str
    decided_at: datetime | None
    note: str
    escalation: str = ""
    approver: str = ""
    decided_credential: str = ""
    signoffs: tuple[SignOff, ...] = ()
    """For a joint decision: each member function's sign-off so far."""


@dataclass(frozen=True)
class SignOff:
    """One member function's approval of a joint escalation, or an approver's decision."""

    function: str
    principal: str
    credential: str
    approve: bool
    at: datetime
    note: str


class SignalChange(StrEnum):
    """What a published signal does to its source's id."""

    NEW = "new"
    """The first report of this id (a resend with the same content is accepted once)."""
    UPDATE = "update"
    """New content for an id already received (an outage now expected to last longer)."""
    CANCEL = "cancel"
    """The disruption is over or was a false alarm (a lane reopened): later plans drop it."""


@dataclass(frozen=True)
class InboxInput:
    """A signal as a source publishes it, about to be stored."""

    source: str
    source_id: str
    change: SignalChange
    signal: bytes
    """The serialized signal (empty for a cancellation)."""
    content: str
    """A fingerprint of the content: the same id with the same content is a resend."""
    detected_at: datetime | None = None


@dataclass(frozen=True)
class InboxRecord:
    """A published signal revision in the ledger, with the plan versions that answered it."""

    seq: int
    network_id: str
    source: str
    source_id: str
    revision: int
    change: SignalChange
    signal: bytes
    content: str
    detected_at: datetime | None
    received_at: datetime
    principal: str
    credential: str
    first_by: int | None
    final_by: int | None
    duplicate: bool = False
    """For a publish: this entry resent a revision already stored (nothing was written for it)."""


@dataclass(frozen=True)
class NetworkSettingsRecord:
    """How a network is replanned: by callers (manual) or by its orchestrator (automatic)."""

    network_id: str
    automatic: bool
    window_seconds: float
    settings: bytes
    """The replan settings and solve options automatic replans use (opaque to the store)."""
    updated_at: datetime


@dataclass(frozen=True)
class HoldInput:
    """A rule a rejected or lapsed escalation holds to its limit (or forbids) in later replans, while
    any of `signals` (the signals that activated it) is answered; no signals: always."""

    rule: str
    forbid: bool
    signals: tuple[str, ...]


@dataclass(frozen=True)
class CarriedInput:
    """A rule an approved escalation lifts in later replans to the spend approved, while any of
    `signals` is answered (no signals: always)."""

    rule: str
    spend: float
    signals: tuple[str, ...]


@dataclass(frozen=True)
class CarriedRecord:
    network_id: str
    plan_version: int
    rule: str
    spend: float
    signals: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class HoldRecord:
    network_id: str
    plan_version: int
    rule: str
    forbid: bool
    signals: tuple[str, ...]
    reason: str
    at: datetime


@dataclass(frozen=True)
class AuditRecord:
    """One write to a network's ledger, in order: who, with which credential, did what, when."""

    seq: int
    network_id: str
    at: datetime
    principal: str
    credential: str
    action: str
    detail: str


# -------------------------------------------------------------------------------------- interface


class PlanStore(Protocol):
    """What the service needs from a plan ledger; versions start at 1 and 0 asks for the latest."""

    def put_network(
        self, network_id: str, name: str, network: bytes, protocols: bytes | None, *, actor: Actor = OPEN_ACTOR
    ) -> NetworkRecord: ...

    def get_network(self, network_id: str, version: int = 0) -> NetworkRecord: ...

    def network_tenant(self, network_id: str) -> str | None: ...

    def list_networks(self, tenant: str | None = None) -> list[NetworkSummary]: ...

    def add_plan(
        self,
        network_id: str,
        *,
        network_version: int,
        baseline_version: int,
        signals: bytes,
        plan: bytes,
        status: str,
        objective: float,
        decisions: Sequence[DecisionInput],
        idempotency_key: str = "",
        request_kind: str = RequestKind.PLAN,
        request_hash: str = "",
        expect_latest: int | None = None,
        extra: bytes = b"",
        actor: Actor = OPEN_ACTOR,
        trigger: str = "",
        inbox_first: Sequence[int] = (),
        inbox_final: Sequence[int] = (),
    ) -> PlanRecord: ...

    def get_plan(self, network_id: str, version: int = 0) -> PlanRecord: ...

    def latest_plan_version(self, network_id: str) -> int: ...

    def list_plans(self, network_id: str) -> list[PlanSummaryRecord]: ...

    def find_plan_by_key(
        self, network_id: str, key: str, *, kind: str = RequestKind.PLAN, request_hash: str = ""
    ) -> PlanRecord | None: ...

    def plans_after(self, network_id: str, version: int) -> list[PlanRecord]: ...

    def list_decisions(
        self, network_id: str, plan_version: int = 0, state: str | None = None
    ) -> list[DecisionRecord]: ...

    def decide(
        self,
        network_id: str,
        plan_version: int,
        index: int,
        *,
        approve: bool,
        decided_by: str,
        note: str = "",
        credential: str = "open",
        functions: Sequence[str] = (),
        holds: Sequence[HoldInput] = (),
        carried: Sequence[CarriedInput] = (),
    ) -> DecisionRecord: ...

    def list_audit(self, network_id: str, after: int = 0) -> list[AuditRecord]: ...

    def publish(
        self, network_id: str, entries: Sequence[InboxInput], *, actor: Actor = OPEN_ACTOR, max_open: int = 10_000
    ) -> list[InboxRecord]: ...

    def inbox(self, network_id: str, *, open_only: bool = False) -> list[InboxRecord]: ...

    def get_settings(self, network_id: str) -> NetworkSettingsRecord | None: ...

    def put_settings(
        self, network_id: str, *, automatic: bool, window_seconds: float, settings: bytes, actor: Actor = OPEN_ACTOR
    ) -> NetworkSettingsRecord: ...

    def automatic_networks(self) -> list[str]: ...

    def holds(self, network_id: str) -> list[HoldRecord]: ...

    def carried(self, network_id: str) -> list[CarriedRecord]: ...

    def expire(
        self, network_id: str, plan_version: int, escalation: str, holds: Sequence[HoldInput], *, detail: str
    ) -> int: ...

    def acquire_lease(self, network_id: str, holder: str, ttl_seconds: float) -> bool: ...

    def release_lease(self, network_id: str, holder: str) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


# ------------------------------------------------------------------------------------------ schema

SCHEMA_VERSION = 5
"""The schema this code writes; stored in `PRAGMA user_version`."""

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    # Statements that take a file from schema version `key - 1` to `key`. A later schema adds an
    # entry here (ALTER TABLE ..., CREATE INDEX ...) and bumps SCHEMA_VERSION; opening an older file
    # applies the missing steps in one transaction.
    1: (
        """
        CREATE TABLE networks (
            network_id TEXT NOT NULL,
            version    INTEGER NOT NULL CHECK (version >= 1),
            name       TEXT NOT NULL,
            network    BLOB NOT NULL,
            protocols  BLOB,
            created_at TEXT NOT NULL,
            PRIMARY KEY (network_id, version)
        )
        """,
        """
        CREATE TABLE plans (
            network_id       TEXT NOT NULL,
            version          INTEGER NOT NULL CHECK (version >= 1),
            network_version  INTEGER NOT NULL,
            baseline_version INTEGER NOT NULL CHECK (baseline_version >= 0 AND baseline_version < version),
            status           TEXT NOT NULL,
            objective        REAL,
            n_decisions      INTEGER NOT NULL,
            n_needs_approval INTEGER NOT NULL,
            idempotency_key  TEXT NOT NULL DEFAULT '',
            created_at       TEXT NOT NULL,
            signals          BLOB NOT NULL,
            plan             BLOB NOT NULL,
            PRIMARY KEY (network_id, version),
            FOREIGN KEY (network_id, network_version) REFERENCES networks (network_id, version)
        )
        """,
        # Only requests that carry a key are deduplicated; many plans have the empty key.
        """
        CREATE UNIQUE INDEX plans_idempotency_key ON plans (network_id, idempotency_key)
        WHERE idempotency_key != ''
        """,
        """
        CREATE TABLE decisions (
            network_id   TEXT NOT NULL,
            plan_version INTEGER NOT NULL,
            idx          INTEGER NOT NULL CHECK (idx >= 0),
            state        TEXT NOT NULL
                         CHECK (state IN ('not_required', 'pending', 'approved', 'rejected')),
            decided_by   TEXT NOT NULL DEFAULT '',
            decided_at   TEXT,
            note         TEXT NOT NULL DEFAULT '',
            blob         BLOB NOT NULL,
            PRIMARY KEY (network_id, plan_version, idx),
            FOREIGN KEY (network_id, plan_version) REFERENCES plans (network_id, version)
        )
        """,
        # The escalation queue: pending decisions of one plan version.
        "CREATE INDEX decisions_by_state ON decisions (network_id, plan_version, state)",
    ),
    2: ("ALTER TABLE plans ADD COLUMN extra BLOB NOT NULL DEFAULT x''",),
    # Idempotency keys scoped by the RPC kind and bound to the request's content. A version written
    # before has no fingerprint (''): its key still replays, as it did. A plan's baseline is 0 and a
    # replan's a stored version (1 or more), so the kind of an existing row is known.
    3: (
        "ALTER TABLE plans ADD COLUMN request_kind TEXT NOT NULL DEFAULT 'plan' "
        "CHECK (request_kind IN ('plan', 'replan'))",
        "ALTER TABLE plans ADD COLUMN request_hash TEXT NOT NULL DEFAULT ''",
        "UPDATE plans SET request_kind = CASE WHEN baseline_version = 0 THEN 'plan' ELSE 'replan' END",
        "DROP INDEX plans_idempotency_key",
        """
        CREATE UNIQUE INDEX plans_request_key ON plans (network_id, request_kind, idempotency_key)
        WHERE idempotency_key != ''
        """,
    ),
    # Tenants, principals and escalations. A network belongs to the tenant of its first version
    # (earlier networks to the default tenant); every write keeps its principal, and the audit table
    # lists them in order. Decisions name the escalation they wait on and who decides it; a joint
    # escalation's member functions sign off one by one (signoffs). Earlier decisions have no
    # escalation and are decided one by one, as before.
    4: (
        f"ALTER TABLE networks ADD COLUMN tenant TEXT NOT NULL DEFAULT '{DEFAULT_TENANT}'",
        "ALTER TABLE networks ADD COLUMN created_by TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE plans ADD COLUMN created_by TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE decisions ADD COLUMN escalation TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE decisions ADD COLUMN approver TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE decisions ADD COLUMN decided_credential TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX decisions_by_escalation ON decisions (network_id, plan_version, escalation)",
        """
        CREATE TABLE signoffs (
            network_id   TEXT NOT NULL,
            plan_version INTEGER NOT NULL,
            escalation   TEXT NOT NULL,
            function     TEXT NOT NULL,
            principal    TEXT NOT NULL,
            credential   TEXT NOT NULL,
            approve      INTEGER NOT NULL CHECK (approve IN (0, 1)),
            at           TEXT NOT NULL,
            note         TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (network_id, plan_version, escalation, function),
            FOREIGN KEY (network_id, plan_version) REFERENCES plans (network_id, version)
        )
        """,
        """
        CREATE TABLE audit (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            network_id TEXT NOT NULL,
            at         TEXT NOT NULL,
            principal  TEXT NOT NULL,
            credential TEXT NOT NULL,
            action     TEXT NOT NULL,
            detail     TEXT NOT NULL
        )
        """,
        "CREATE INDEX audit_by_network ON audit (network_id, seq)",
    ),
    # Always on. The inbox keeps every published signal the moment it arrives (a revision per
    # update or cancellation of a source's id) and which plan versions answered it; a network's
    # settings say whether its orchestrator replans by itself; holds keep a rejected or lapsed
    # escalation's rule to its limit in later replans; a plan version says what triggered it; and a
    # decision can expire (the table is rebuilt for its new CHECK: nothing references it).
    5: (
        """
        CREATE TABLE inbox (
            seq         INTEGER PRIMARY KEY AUTOINCREMENT,
            network_id  TEXT NOT NULL,
            source      TEXT NOT NULL,
            source_id   TEXT NOT NULL,
            revision    INTEGER NOT NULL CHECK (revision >= 1),
            change      TEXT NOT NULL CHECK (change IN ('new', 'update', 'cancel')),
            signal      BLOB NOT NULL,
            content     TEXT NOT NULL,
            detected_at TEXT,
            received_at TEXT NOT NULL,
            principal   TEXT NOT NULL,
            credential  TEXT NOT NULL,
            first_by    INTEGER,
            final_by    INTEGER,
            UNIQUE (network_id, source, source_id, revision)
        )
        """,
        "CREATE INDEX inbox_open ON inbox (network_id, final_by)",
        """
        CREATE TABLE network_settings (
            network_id     TEXT PRIMARY KEY,
            automatic      INTEGER NOT NULL CHECK (automatic IN (0, 1)),
            window_seconds REAL NOT NULL CHECK (window_seconds >= 0),
            settings       BLOB NOT NULL,
            updated_at     TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE holds (
            network_id   TEXT NOT NULL,
            plan_version INTEGER NOT NULL,
            rule         TEXT NOT NULL,
            forbid       INTEGER NOT NULL CHECK (forbid IN (0, 1)),
            signals      TEXT NOT NULL,
            reason       TEXT NOT NULL CHECK (reason IN ('rejected', 'expired')),
            at           TEXT NOT NULL,
            PRIMARY KEY (network_id, plan_version, rule)
        )
        """,
        "ALTER TABLE plans ADD COLUMN trigger TEXT NOT NULL DEFAULT ''",
        """
        CREATE TABLE decisions_v5 (
            network_id         TEXT NOT NULL,
            plan_version       INTEGER NOT NULL,
            idx                INTEGER NOT NULL CHECK (idx >= 0),
            state              TEXT NOT NULL
                               CHECK (state IN ('not_required', 'pending', 'approved', 'rejected', 'expired')),
            decided_by         TEXT NOT NULL DEFAULT '',
            decided_at         TEXT,
            note               TEXT NOT NULL DEFAULT '',
            blob               BLOB NOT NULL,
            escalation         TEXT NOT NULL DEFAULT '',
            approver           TEXT NOT NULL DEFAULT '',
            decided_credential TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (network_id, plan_version, idx),
            FOREIGN KEY (network_id, plan_version) REFERENCES plans (network_id, version)
        )
        """,
        "INSERT INTO decisions_v5 SELECT network_id, plan_version, idx, state, decided_by, decided_at, note, blob, "
        "escalation, approver, decided_credential FROM decisions",
        "DROP TABLE decisions",
        "ALTER TABLE decisions_v5 RENAME TO decisions",
        "CREATE INDEX decisions_by_state ON decisions (network_id, plan_version, state)",
        "CREATE INDEX decisions_by_escalation ON decisions (network_id, plan_version, escalation)",
        # An approved escalation's spend, carried into later replans while its signals are answered:
        # what was approved stays within authority (the rule's limit raised to it) instead of being
        # escalated again.
        """
        CREATE TABLE carried (
            network_id   TEXT NOT NULL,
            plan_version INTEGER NOT NULL,
            rule         TEXT NOT NULL,
            spend        REAL NOT NULL,
            signals      TEXT NOT NULL,
            at           TEXT NOT NULL,
            PRIMARY KEY (network_id, plan_version, rule)
        )
        """,
        # Which server runs a network's orchestrator: one at a time, however many share the ledger.
        """
        CREATE TABLE leases (
            network_id TEXT PRIMARY KEY,
            holder     TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )
        """,
    ),
}

_NETWORK_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

_PLAN_SUMMARY_COLUMNS = (
    "network_id, version, network_version, baseline_version, signals, status, objective, created_at, "
    "idempotency_key, n_decisions, n_needs_approval, trigger"
)
"""The plan columns both stores read, shared like the `*_record` conversions below."""
_PLAN_COLUMNS = _PLAN_SUMMARY_COLUMNS + ", plan, extra, request_kind, request_hash"
_INBOX_COLUMNS = (
    "seq, network_id, source, source_id, revision, change, signal, content, detected_at, received_at, principal, "
    "credential, first_by, final_by"
)
_DECISION_COLUMNS = (
    "network_id, plan_version, idx, blob, state, decided_by, decided_at, note, escalation, approver, decided_credential"
)
_NETWORK_COLUMNS = "network_id, version, name, network, protocols, created_at, tenant, created_by"

_BUSY_TIMEOUT_SECONDS = 30.0
"""How long a write waits for another process holding the file's write lock before giving up."""


# -------------------------------------------------------------------------------- implementation


LEDGER_FILE_MODE = 0o600
"""A new ledger file is readable and writable by its owner only: it holds every network, plan and
decision. SQLite gives the -wal and -shm files it creates next to it the same mode."""


def _create_owner_only(path: str) -> None:
    """Create the ledger file empty with `LEDGER_FILE_MODE` if it does not exist yet (SQLite would
    create it with 0644 under the usual umask). An existing file keeps the mode its owner gave it;
    a path that cannot be created (a missing folder, no permission) is left for SQLite to report."""
    if path in ("", ":memory:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, LEDGER_FILE_MODE)
    except OSError:
        return
    os.close(fd)


class SqlitePlanStore:
    """`PlanStore` on one SQLite file (or `":memory:"`), safe to share between threads.

    Threads share one connection behind a lock rather than one connection each. SQLite admits one
    writer at a time anyway, and every call here is a few indexed statements (solves run outside
    the store), so the lock costs little; in exchange `":memory:"` works (a connection per thread
    would see a private, empty database each), `close()` closes everything, and no connection is
    left behind in a gRPC pool thread. Other processes on the same file are kept out by SQLite's
    own locks: every write is `BEGIN IMMEDIATE` with a busy timeout.

    `_before_commit` is a test hook called inside each write transaction just before COMMIT (the
    durability test kills the process while it sleeps there).
    """

    def __init__(self, path: str | Path, *, _before_commit: Callable[[], None] | None = None) -> None:
        self.path = str(path)
        self._before_commit = _before_commit
        self._lock = threading.Lock()
        _create_owner_only(self.path)
        # isolation_level=None: the module opens no implicit transactions; each method says BEGIN.
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            # WAL lets readers in other processes proceed during a write. synchronous=NORMAL in WAL
            # mode does not fsync at each commit, only at checkpoints: a committed transaction is in
            # the WAL file (the OS holds it), so it survives a crash or kill of this process, and the
            # file is never corrupted. Only a power loss or OS crash can drop the last commits,
            # which would need synchronous=FULL (an fsync per commit) to keep.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._conn: sqlite3.Connection | None = conn
            self._migrate()
        except BaseException:
            conn.close()
            raise

    # -- lifecycle

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _migrate(self) -> None:
        with self._transaction(write=True) as conn:
            found = conn.execute("PRAGMA user_version").fetchone()[0]
            if found > SCHEMA_VERSION:
                raise ConcertoError(
                    f"store {self.path!r} has schema version {found}, newer than this Concerto's "
                    f"{SCHEMA_VERSION}; upgrade Concerto to open it"
                )
            for target in range(found + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target]:
                    conn.execute(statement)
            if found != SCHEMA_VERSION:
                # user_version lives in the file header and is part of this transaction.
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock; IMMEDIATE takes the file's write lock up front, so two
        writers never both read `latest` and then collide."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise ConcertoError(f"store {self.path!r} is closed; open a new SqlitePlanStore")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
                if write and self._before_commit is not None:
                    self._before_commit()
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # -- networks

    def put_network(
        self, network_id: str, name: str, network: bytes, protocols: bytes | None, *, actor: Actor = OPEN_ACTOR
    ) -> NetworkRecord:
        """Store the next version of a network for `actor`'s tenant; an id another tenant holds is
        `NetworkTaken` (checked in the write transaction, so two tenants never share one)."""
        _check_network_id(network_id)
        created_at = _utc_now()
        with self._transaction(write=True) as conn:
            owner = _owner(conn, network_id)
            if owner is not None and owner != actor.tenant:
                raise NetworkTaken(network_id)
            version = _latest(conn, "networks", network_id) + 1
            conn.execute(
                f"INSERT INTO networks ({_NETWORK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (network_id, version, name, network, protocols, _to_text(created_at), actor.tenant, actor.principal),
            )
            _audit(conn, network_id, created_at, actor, "put_network", f"network version {version}")
        return NetworkRecord(
            network_id,
            version,
            name,
            bytes(network),
            _opt_bytes(protocols),
            created_at,
            actor.tenant,
            actor.principal,
        )

    def get_network(self, network_id: str, version: int = 0) -> NetworkRecord:
        _check_network_id(network_id)
        _check_version(network_id, "version", version)
        with self._transaction(write=False) as conn:
            row = conn.execute(
                f"SELECT {_NETWORK_COLUMNS} FROM networks "
                "WHERE network_id = ? AND (? = 0 OR version = ?) ORDER BY version DESC LIMIT 1",
                (network_id, version, version),
            ).fetchone()
        if row is None:
            raise _network_not_found(network_id, version)
        return NetworkRecord(
            row["network_id"],
            row["version"],
            row["name"],
            row["network"],
            _opt_bytes(row["protocols"]),
            _from_text(row["created_at"]),
            row["tenant"],
            row["created_by"],
        )

    def network_tenant(self, network_id: str) -> str | None:
        """The tenant a network belongs to, None when no such network is stored."""
        if not isinstance(network_id, str) or _NETWORK_ID.fullmatch(network_id) is None:
            return None
        with self._transaction(write=False) as conn:
            return _owner(conn, network_id)

    def list_networks(self, tenant: str | None = None) -> list[NetworkSummary]:
        """Every stored network (of `tenant`, when given) by its latest version."""
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                """
                SELECT n.network_id, n.version, n.name, n.created_at,
                       (SELECT COALESCE(MAX(p.version), 0) FROM plans p WHERE p.network_id = n.network_id)
                           AS plan_versions,
                       (SELECT MAX(p.created_at) FROM plans p WHERE p.network_id = n.network_id)
                           AS plan_created_at
                FROM networks n
                WHERE n.version = (SELECT MAX(m.version) FROM networks m WHERE m.network_id = n.network_id)
                  AND (? IS NULL OR n.tenant = ?)
                ORDER BY n.network_id
                """,
                (tenant, tenant),
            ).fetchall()
        return [
            NetworkSummary(
                row["network_id"],
                row["version"],
                row["name"],
                row["plan_versions"],
                # Timestamps are fixed-width ISO text in UTC, so the larger string is the later time.
                _from_text(max(row["created_at"], row["plan_created_at"] or "")),
            )
            for row in rows
        ]

    # -- plans

    def add_plan(
        self,
        network_id: str,
        *,
        network_version: int,
        baseline_version: int,
        signals: bytes,
        plan: bytes,
        status: str,
        objective: float,
        decisions: Sequence[DecisionInput],
        idempotency_key: str = "",
        request_kind: str = RequestKind.PLAN,
        request_hash: str = "",
        expect_latest: int | None = None,
        extra: bytes = b"",
        actor: Actor = OPEN_ACTOR,
        trigger: str = "",
        inbox_first: Sequence[int] = (),
        inbox_final: Sequence[int] = (),
    ) -> PlanRecord:
        """Store a plan as the next version, with its decisions, in one transaction.

        A version of this network stored by a `request_kind` request under `idempotency_key` is
        returned as it is when its `request_hash` is this one's (a retry), and `IdempotencyConflict`
        is raised when it differs (the key was reused for other content); otherwise, when
        `expect_latest` is given and is not the latest plan version, `StaleBaseline` is raised and
        nothing is written. Decisions that need approval start pending, the others not_required.
        The inbox signals `inbox_first` and `inbox_final` (their seq) are marked answered by this
        version, as a first coordinated plan or a final one, in the same transaction.
        """
        _check_network_id(network_id)
        kind = _check_kind(network_id, request_kind)
        if network_version < 1:
            raise ValidationError(
                "request", network_id, "network_version", f"is {network_version}; give a stored version (1 or more)"
            )
        if baseline_version < 0:
            raise ValidationError(
                "request", network_id, "baseline_version", f"is {baseline_version}; use 0 for none or a plan version"
            )
        indices = [d.index for d in decisions]
        if any(i < 0 for i in indices) or len(set(indices)) != len(indices):
            raise ValidationError(
                "request", network_id, "decisions", "need distinct indices of 0 or more (their position in the plan)"
            )
        created_at = _utc_now()
        n_needs_approval = sum(1 for d in decisions if d.needs_approval)
        with self._transaction(write=True) as conn:
            replayed = _find_by_key(conn, network_id, kind, idempotency_key, request_hash)
            if replayed is not None:
                return replayed
            latest = _latest(conn, "plans", network_id)
            if expect_latest is not None and expect_latest != latest:
                raise StaleBaseline(network_id, expect_latest, latest)
            if _latest(conn, "networks", network_id) < network_version:
                raise _network_not_found(network_id, network_version)
            if baseline_version > latest:
                raise NotFound("plan", f"{network_id} version {baseline_version}", "the baseline must be stored")
            version = latest + 1
            conn.execute(
                f"INSERT INTO plans ({_PLAN_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                (
                    network_id,
                    version,
                    network_version,
                    baseline_version,
                    signals,
                    status,
                    objective,  # SQLite stores NaN as NULL; _plan_record turns it back into NaN
                    _to_text(created_at),
                    idempotency_key,
                    len(decisions),
                    n_needs_approval,
                    trigger,
                    plan,
                    extra,
                    kind.value,
                    request_hash,
                ),
            )
            _mark_answered(conn, network_id, version, inbox_first, inbox_final)
            conn.execute(
                "UPDATE plans SET created_by = ? WHERE network_id = ? AND version = ?",
                (actor.principal, network_id, version),
            )
            conn.executemany(
                "INSERT INTO decisions (network_id, plan_version, idx, state, blob, escalation, approver) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        network_id,
                        version,
                        d.index,
                        DecisionState.PENDING if d.needs_approval else DecisionState.NOT_REQUIRED,
                        d.blob,
                        d.escalation if d.needs_approval else "",
                        d.approver if d.needs_approval else "",
                    )
                    for d in decisions
                ],
            )
            _audit(
                conn,
                network_id,
                created_at,
                actor,
                kind.value,
                f"plan version {version} (network version {network_version}, baseline {baseline_version}, "
                f"{n_needs_approval} decisions pending approval)",
            )
        return PlanRecord(
            network_id,
            version,
            network_version,
            baseline_version,
            bytes(signals),
            bytes(plan),
            status,
            float(objective),
            created_at,
            idempotency_key,
            len(decisions),
            n_needs_approval,
            bytes(extra),
            kind.value,
            request_hash,
            trigger,
        )

    def get_plan(self, network_id: str, version: int = 0) -> PlanRecord:
        _check_network_id(network_id)
        _check_version(network_id, "version", version)
        with self._transaction(write=False) as conn:
            row = conn.execute(
                f"SELECT {_PLAN_COLUMNS} FROM plans WHERE network_id = ? AND (? = 0 OR version = ?) "
                "ORDER BY version DESC LIMIT 1",
                (network_id, version, version),
            ).fetchone()
        if row is None:
            raise _plan_not_found(network_id, version)
        return _plan_record(row, _from_text)

    def latest_plan_version(self, network_id: str) -> int:
        _check_network_id(network_id)
        with self._transaction(write=False) as conn:
            return _latest(conn, "plans", network_id)

    def list_plans(self, network_id: str) -> list[PlanSummaryRecord]:
        """Plan versions oldest first, without their plan blobs."""
        _check_network_id(network_id)
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                f"SELECT {_PLAN_SUMMARY_COLUMNS} FROM plans WHERE network_id = ? ORDER BY version", (network_id,)
            ).fetchall()
        return [_plan_summary(row, _from_text) for row in rows]

    def find_plan_by_key(
        self, network_id: str, key: str, *, kind: str = RequestKind.PLAN, request_hash: str = ""
    ) -> PlanRecord | None:
        """The version a `kind` request with idempotency key `key` stored, if one did; raises
        `IdempotencyConflict` when that request's fingerprint is not `request_hash` (both known)."""
        _check_network_id(network_id)
        checked = _check_kind(network_id, kind)
        with self._transaction(write=False) as conn:
            return _find_by_key(conn, network_id, checked, key, request_hash)

    def plans_after(self, network_id: str, version: int) -> list[PlanRecord]:
        """Plan versions newer than `version`, oldest first (what a WatchPlans poll sends on)."""
        _check_network_id(network_id)
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                f"SELECT {_PLAN_COLUMNS} FROM plans WHERE network_id = ? AND version > ? ORDER BY version",
                (network_id, version),
            ).fetchall()
        return [_plan_record(row, _from_text) for row in rows]

    # -- decisions

    def list_decisions(self, network_id: str, plan_version: int = 0, state: str | None = None) -> list[DecisionRecord]:
        """Decisions of a plan version (0: the latest) by index, optionally only those in `state`."""
        _check_network_id(network_id)
        _check_version(network_id, "plan_version", plan_version)
        wanted = None if state is None else _check_state(network_id, state)
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT version FROM plans WHERE network_id = ? AND (? = 0 OR version = ?) "
                "ORDER BY version DESC LIMIT 1",
                (network_id, plan_version, plan_version),
            ).fetchone()
            if row is None:
                raise _plan_not_found(network_id, plan_version)
            rows = conn.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE network_id = ? AND plan_version = ? "
                "AND (? IS NULL OR state = ?) ORDER BY idx",
                (network_id, row["version"], wanted, wanted),
            ).fetchall()
            signoffs: dict[str, list[SignOff]] = {}
            for r in conn.execute(
                "SELECT escalation, function, principal, credential, approve, at, note FROM signoffs "
                "WHERE network_id = ? AND plan_version = ? ORDER BY at, function",
                (network_id, row["version"]),
            ):
                signoffs.setdefault(r["escalation"], []).append(_signoff(r, _from_text))
        return [
            _decision_record(r, _from_text, tuple(signoffs.get(r["escalation"], ())) if r["escalation"] else ())
            for r in rows
        ]

    def decide(
        self,
        network_id: str,
        plan_version: int,
        index: int,
        *,
        approve: bool,
        decided_by: str,
        note: str = "",
        credential: str = "open",
        functions: Sequence[str] = (),
        holds: Sequence[HoldInput] = (),
        carried: Sequence[CarriedInput] = (),
    ) -> DecisionRecord:
        """Approve or reject a pending decision of the latest plan version, recording who, when
        (UTC) and with which credential; the answer is the decision as it stands after.

        A decision waits on an escalation, and one approval decides the escalation: every pending
        decision of it in this plan version moves together. A joint escalation ("joint:a+b") takes
        a sign-off from each member function: `functions` are those `decided_by` signs for (the
        caller checked that they may); the decisions are approved when every member has signed, and
        rejected by the first rejection. A decision stored before escalations were kept has none and
        is decided alone. A rejection writes `holds` (the escalation's rules, for later replans), an
        approval `carried` (the spend approved, which later replans keep within authority).

        `plan_version` must name the version: approving "the latest" could land on a plan newer
        than the one the approver read. A decision of a version that a newer one superseded raises
        `SupersededPlan`; the check and the write are one transaction, so a version stored meanwhile
        is either seen here or stored after the decision.
        """
        _check_network_id(network_id)
        if plan_version < 1:
            raise ValidationError(
                "request", network_id, "plan_version", f"is {plan_version}; name the plan version of the decision"
            )
        if not decided_by.strip():
            raise ValidationError("request", network_id, "decided_by", "is empty; say who approves or rejects")
        action = "approved" if approve else "rejected"
        at = _utc_now()
        with self._transaction(write=True) as conn:
            row = conn.execute(
                "SELECT state, escalation, approver FROM decisions "
                "WHERE network_id = ? AND plan_version = ? AND idx = ?",
                (network_id, plan_version, index),
            ).fetchone()
            if row is None:
                raise NotFound(
                    "decision",
                    f"{network_id} plan version {plan_version} index {index}",
                    "list the decisions of that plan version to see their indices",
                )
            latest = _latest(conn, "plans", network_id)
            if plan_version != latest:
                raise SupersededPlan(network_id, plan_version, index, latest, action)
            if row["state"] != DecisionState.PENDING:
                raise InvalidTransition(network_id, plan_version, index, row["state"], action)
            escalation, approver = row["escalation"], row["approver"]
            members = joint_members(approver)
            state: DecisionState | None = DecisionState.APPROVED if approve else DecisionState.REJECTED
            if members:
                signed = {
                    r["function"]
                    for r in conn.execute(
                        "SELECT function FROM signoffs WHERE network_id = ? AND plan_version = ? AND escalation = ?",
                        (network_id, plan_version, escalation),
                    )
                }
                mine = [f for f in members if f in functions and f not in signed]
                if not mine:
                    raise AlreadySigned(network_id, plan_version, index, [f for f in members if f in functions])
                conn.executemany(
                    "INSERT INTO signoffs (network_id, plan_version, escalation, function, principal, credential, "
                    "approve, at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            network_id,
                            plan_version,
                            escalation,
                            f,
                            decided_by,
                            credential,
                            int(approve),
                            _to_text(at),
                            note,
                        )
                        for f in mine
                    ],
                )
                if approve and signed | set(mine) != set(members):
                    state = None  # waiting for the other member functions
            elif escalation:
                conn.execute(
                    "INSERT INTO signoffs (network_id, plan_version, escalation, function, principal, credential, "
                    "approve, at, note) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?)",
                    (network_id, plan_version, escalation, decided_by, credential, int(approve), _to_text(at), note),
                )
            if state is not None:
                who = decided_by if not members else _signers(conn, network_id, plan_version, escalation)
                conn.execute(
                    "UPDATE decisions SET state = ?, decided_by = ?, decided_at = ?, note = ?, decided_credential = ? "
                    "WHERE network_id = ? AND plan_version = ? AND state = 'pending' "
                    "AND (idx = ? OR (escalation != '' AND escalation = ?))",
                    (state, who, _to_text(at), note, credential, network_id, plan_version, index, escalation),
                )
                if state == DecisionState.REJECTED:
                    _add_holds(conn, network_id, plan_version, holds, "rejected", at)
                if state == DecisionState.APPROVED:
                    conn.executemany(
                        "INSERT OR REPLACE INTO carried (network_id, plan_version, rule, spend, signals, at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            (network_id, plan_version, c.rule, c.spend, json.dumps(list(c.signals)), _to_text(at))
                            for c in carried
                        ],
                    )
            verb = ("signed off " + "+".join(f for f in members if f in functions) + " of") if members else ""
            _audit(
                conn,
                network_id,
                at,
                Actor(decided_by, credential),
                "approve" if approve else "reject",
                f"{verb or action} decision {index} of plan version {plan_version}"
                + (f" (escalation {escalation}, approver {approver})" if escalation else "")
                + (f": {state.value}" if state is not None and members else ""),
            )
            updated = conn.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE network_id = ? AND plan_version = ? AND idx = ?",
                (network_id, plan_version, index),
            ).fetchone()
            return _decision_record(updated, _from_text, _signoffs(conn, network_id, plan_version, escalation))

    def list_audit(self, network_id: str, after: int = 0) -> list[AuditRecord]:
        """Every write to a network after audit row `after`, oldest first: network versions, plan
        versions, decisions, published signals, settings (what `WatchNetwork` streams)."""
        _check_network_id(network_id)
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT seq, network_id, at, principal, credential, action, detail FROM audit "
                "WHERE network_id = ? AND seq > ? ORDER BY seq",
                (network_id, after),
            ).fetchall()
        return [_audit_record(r, _from_text) for r in rows]

    # -- the inbox

    def publish(
        self, network_id: str, entries: Sequence[InboxInput], *, actor: Actor = OPEN_ACTOR, max_open: int = 10_000
    ) -> list[InboxRecord]:
        """Store published signals the moment they arrive, all or none, in one transaction: each is
        the next revision of its (source, source id). A resend (the id's latest revision has this
        content and change) is stored once and answered as a duplicate; a new report of a known id
        with other content, an update or cancellation of an unknown or cancelled id, is a
        `ValidationError` naming the entry. A network whose open (unanswered) signals would pass
        `max_open` refuses the batch (`InboxFull`)."""
        _check_network_id(network_id)
        received = _utc_now()
        out: list[InboxRecord] = []
        with self._transaction(write=True) as conn:
            if _latest(conn, "networks", network_id) == 0:
                raise _network_not_found(network_id, 0)
            open_now = conn.execute(
                "SELECT count(*) FROM inbox WHERE network_id = ? AND final_by IS NULL", (network_id,)
            ).fetchone()[0]
            added = 0
            for k, e in enumerate(entries):
                where = f"signals[{k}]"
                row = conn.execute(
                    f"SELECT {_INBOX_COLUMNS} FROM inbox WHERE network_id = ? AND source = ? AND source_id = ? "
                    "ORDER BY revision DESC LIMIT 1",
                    (network_id, e.source, e.source_id),
                ).fetchone()
                last = None if row is None else _inbox_record(row, _from_text)
                if last is not None and last.change == e.change and last.content == e.content:
                    out.append(replace(last, duplicate=True))
                    continue
                _check_change(network_id, where, e, last)
                revision = 1 if last is None else last.revision + 1
                cursor = conn.execute(
                    "INSERT INTO inbox (network_id, source, source_id, revision, change, signal, content, "
                    "detected_at, received_at, principal, credential) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        network_id,
                        e.source,
                        e.source_id,
                        revision,
                        e.change.value,
                        e.signal,
                        e.content,
                        None if e.detected_at is None else _to_text(e.detected_at),
                        _to_text(received),
                        actor.principal,
                        actor.credential,
                    ),
                )
                added += 1
                seq = int(cursor.lastrowid or 0)
                out.append(
                    InboxRecord(
                        seq,
                        network_id,
                        e.source,
                        e.source_id,
                        revision,
                        e.change,
                        e.signal,
                        e.content,
                        e.detected_at,
                        received,
                        actor.principal,
                        actor.credential,
                        None,
                        None,
                    )
                )
            if added and open_now + added > max_open:
                raise InboxFull(network_id, open_now, max_open)
            if added:
                sources = sorted({e.source for e in entries})
                _audit(
                    conn,
                    network_id,
                    received,
                    actor,
                    "publish",
                    f"{added} signals received from {', '.join(sources)}",
                )
        return out

    def inbox(self, network_id: str, *, open_only: bool = False) -> list[InboxRecord]:
        """The network's published signals, oldest first; `open_only`: those no final plan answered."""
        _check_network_id(network_id)
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                f"SELECT {_INBOX_COLUMNS} FROM inbox WHERE network_id = ? AND (? = 0 OR final_by IS NULL) ORDER BY seq",
                (network_id, int(open_only)),
            ).fetchall()
        return [_inbox_record(r, _from_text) for r in rows]

    # -- settings and holds

    def get_settings(self, network_id: str) -> NetworkSettingsRecord | None:
        _check_network_id(network_id)
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT network_id, automatic, window_seconds, settings, updated_at FROM network_settings "
                "WHERE network_id = ?",
                (network_id,),
            ).fetchone()
        return None if row is None else _settings_record(row, _from_text)

    def put_settings(
        self, network_id: str, *, automatic: bool, window_seconds: float, settings: bytes, actor: Actor = OPEN_ACTOR
    ) -> NetworkSettingsRecord:
        """Set how a stored network is replanned (manual or automatic, the coalescing window, the
        replan settings automatic replans use)."""
        _check_network_id(network_id)
        if not math.isfinite(window_seconds) or window_seconds < 0:
            raise ValidationError(
                "network settings", network_id, "window_seconds", f"is {window_seconds}; give seconds >= 0"
            )
        at = _utc_now()
        with self._transaction(write=True) as conn:
            if _latest(conn, "networks", network_id) == 0:
                raise _network_not_found(network_id, 0)
            conn.execute(
                "INSERT INTO network_settings (network_id, automatic, window_seconds, settings, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (network_id) DO UPDATE SET automatic = excluded.automatic, "
                "window_seconds = excluded.window_seconds, settings = excluded.settings, "
                "updated_at = excluded.updated_at",
                (network_id, int(automatic), window_seconds, settings, _to_text(at)),
            )
            mode = "automatic" if automatic else "manual"
            _audit(conn, network_id, at, actor, "settings", f"{mode}, coalescing window {window_seconds:g} s")
        return NetworkSettingsRecord(network_id, automatic, window_seconds, bytes(settings), at)

    def automatic_networks(self) -> list[str]:
        """The networks whose orchestrator replans by itself."""
        with self._transaction(write=False) as conn:
            rows = conn.execute("SELECT network_id FROM network_settings WHERE automatic = 1 ORDER BY network_id")
            return [str(r[0]) for r in rows]

    def holds(self, network_id: str) -> list[HoldRecord]:
        """The rules rejected or lapsed escalations hold in later replans of the network, oldest first."""
        _check_network_id(network_id)
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT network_id, plan_version, rule, forbid, signals, reason, at FROM holds "
                "WHERE network_id = ? ORDER BY at, rule",
                (network_id,),
            ).fetchall()
        return [_hold_record(r, _from_text) for r in rows]

    def carried(self, network_id: str) -> list[CarriedRecord]:
        """The spend approved escalations carry into later replans of the network, oldest first."""
        _check_network_id(network_id)
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT network_id, plan_version, rule, spend, signals, at FROM carried "
                "WHERE network_id = ? ORDER BY at, rule",
                (network_id,),
            ).fetchall()
        return [_carried_record(r, _from_text) for r in rows]

    def expire(
        self, network_id: str, plan_version: int, escalation: str, holds: Sequence[HoldInput], *, detail: str
    ) -> int:
        """Let a pending escalation of the latest plan version lapse: its pending decisions become
        expired and `holds` are written, in one transaction; returns how many decisions lapsed (0
        when the version is no longer the latest or nothing of the escalation is pending)."""
        _check_network_id(network_id)
        at = _utc_now()
        with self._transaction(write=True) as conn:
            if _latest(conn, "plans", network_id) != plan_version:
                return 0
            cursor = conn.execute(
                "UPDATE decisions SET state = 'expired', decided_by = 'expiry', decided_at = ?, note = ? "
                "WHERE network_id = ? AND plan_version = ? AND escalation = ? AND state = 'pending'",
                (_to_text(at), detail, network_id, plan_version, escalation),
            )
            lapsed = int(cursor.rowcount)
            if lapsed:
                _add_holds(conn, network_id, plan_version, holds, "expired", at)
                _audit(conn, network_id, at, Actor("", "expiry"), "expire", f"plan version {plan_version}: {detail}")
        return lapsed

    # -- leases

    def acquire_lease(self, network_id: str, holder: str, ttl_seconds: float) -> bool:
        """Take the network's orchestrator lease for `holder` (a server) until `ttl_seconds` from now,
        or renew it if `holder` has it; False while another holder's lease runs. A server that dies
        stops renewing, and another takes the lease once it expires."""
        _check_network_id(network_id)
        now = _utc_now()
        expires = now + timedelta(seconds=ttl_seconds)
        with self._transaction(write=True) as conn:
            row = conn.execute("SELECT holder, expires_at FROM leases WHERE network_id = ?", (network_id,)).fetchone()
            if row is not None and row["holder"] != holder and _from_text(row["expires_at"]) > now:
                return False
            conn.execute(
                "INSERT INTO leases (network_id, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (network_id) "
                "DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
                (network_id, holder, _to_text(expires)),
            )
        return True

    def release_lease(self, network_id: str, holder: str) -> None:
        """Give the lease up (a server shutting down), if `holder` has it."""
        _check_network_id(network_id)
        with self._transaction(write=True) as conn:
            conn.execute("DELETE FROM leases WHERE network_id = ? AND holder = ?", (network_id, holder))


# ---------------------------------------------------------------------------------------- helpers


def _check_network_id(network_id: str) -> None:
    if not isinstance(network_id, str) or _NETWORK_ID.fullmatch(network_id) is None:
        raise ValidationError(
            "request", str(network_id), "network_id", "must be 1 to 128 letters, digits, '-', '_' or '.'"
        )


def _check_version(network_id: str, field: str, version: int) -> None:
    if version < 0:
        raise ValidationError("request", network_id, field, f"is {version}; use 0 for the latest or a stored version")


def _check_kind(network_id: str, kind: str) -> RequestKind:
    try:
        return RequestKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in RequestKind)
        raise ValidationError("request", network_id, "request_kind", f"is {kind!r}; use one of {names}") from None


def _find_by_key(
    conn: sqlite3.Connection, network_id: str, kind: RequestKind, key: str, request_hash: str
) -> PlanRecord | None:
    """The version stored under (network, kind, key), checked against the request's fingerprint:
    the same content is a retry, other content `IdempotencyConflict`. An empty key finds nothing,
    and an empty fingerprint on either side (a version written before fingerprints) is no conflict."""
    if not key:
        return None
    row = conn.execute(
        f"SELECT {_PLAN_COLUMNS} FROM plans WHERE network_id = ? AND request_kind = ? AND idempotency_key = ?",
        (network_id, kind.value, key),
    ).fetchone()
    if row is None:
        return None
    record = _plan_record(row, _from_text)
    if record.request_hash and request_hash and record.request_hash != request_hash:
        raise IdempotencyConflict(network_id, kind.value, key, record.version)
    return record


def _check_state(network_id: str, state: str) -> DecisionState:
    try:
        return DecisionState(state)
    except ValueError:
        names = ", ".join(s.value for s in DecisionState)
        raise ValidationError("request", network_id, "state", f"is {state!r}; use one of {names}") from None


def _latest(conn: sqlite3.Connection, table: str, network_id: str) -> int:
    # `table` is one of our own table names, never input.
    row = conn.execute(
        f"SELECT version FROM {table} WHERE network_id = ? ORDER BY version DESC LIMIT 1", (network_id,)
    ).fetchone()
    return 0 if row is None else int(row[0])


def _network_not_found(network_id: str, version: int) -> NotFound:
    if version == 0:
        return NotFound("network", network_id, "store it first")
    return NotFound("network", f"{network_id} version {version}", "list the networks to see their latest versions")


def _plan_not_found(network_id: str, version: int) -> NotFound:
    if version == 0:
        return NotFound("plan", f"{network_id} (latest)", "the network has no plan yet; plan it first")
    return NotFound("plan", f"{network_id} version {version}", "list the plans of the network to see its versions")


class Row(Protocol):
    """A result row read by column name (`sqlite3.Row`, psycopg's dict row)."""

    def __getitem__(self, key: str, /) -> Any: ...


TimeReader = Callable[[Any], datetime]
"""How a store's time column becomes a UTC datetime (SQLite keeps fixed-width text, `_from_text`;
PostgreSQL a TIMESTAMPTZ). Every `*_record` below takes one, so both stores share the conversions."""


def _plan_summary(row: Row, when: TimeReader) -> PlanSummaryRecord:
    return PlanSummaryRecord(
        network_id=row["network_id"],
        version=row["version"],
        network_version=row["network_version"],
        baseline_version=row["baseline_version"],
        signals=bytes(row["signals"]),
        status=row["status"],
        objective=_objective(row["objective"]),
        created_at=when(row["created_at"]),
        idempotency_key=row["idempotency_key"],
        n_decisions=row["n_decisions"],
        n_needs_approval=row["n_needs_approval"],
        trigger=row["trigger"],
    )


def _plan_record(row: Row, when: TimeReader) -> PlanRecord:
    return PlanRecord(
        network_id=row["network_id"],
        version=row["version"],
        network_version=row["network_version"],
        baseline_version=row["baseline_version"],
        signals=bytes(row["signals"]),
        plan=bytes(row["plan"]),
        status=row["status"],
        objective=_objective(row["objective"]),
        created_at=when(row["created_at"]),
        idempotency_key=row["idempotency_key"],
        n_decisions=row["n_decisions"],
        n_needs_approval=row["n_needs_approval"],
        extra=bytes(row["extra"]),
        request_kind=row["request_kind"],
        request_hash=row["request_hash"],
        trigger=row["trigger"],
    )


def _objective(stored: float | None) -> float:
    # SQLite stores NaN (a plan without a solution) as NULL; PostgreSQL keeps NaN.
    return math.nan if stored is None else float(stored)


def _decision_record(row: Row, when: TimeReader, signoffs: Sequence[SignOff] = ()) -> DecisionRecord:
    return DecisionRecord(
        network_id=row["network_id"],
        plan_version=row["plan_version"],
        index=row["idx"],
        blob=bytes(row["blob"]),
        state=DecisionState(row["state"]),
        decided_by=row["decided_by"],
        decided_at=None if row["decided_at"] is None else when(row["decided_at"]),
        note=row["note"],
        escalation=row["escalation"],
        approver=row["approver"],
        decided_credential=row["decided_credential"],
        signoffs=tuple(signoffs),
    )


def _signoff(row: Row, when: TimeReader) -> SignOff:
    return SignOff(
        function=row["function"],
        principal=row["principal"],
        credential=row["credential"],
        approve=bool(row["approve"]),
        at=when(row["at"]),
        note=row["note"],
    )


def _inbox_record(row: Row, when: TimeReader) -> InboxRecord:
    return InboxRecord(
        seq=int(row["seq"]),
        network_id=row["network_id"],
        source=row["source"],
        source_id=row["source_id"],
        revision=row["revision"],
        change=SignalChange(row["change"]),
        signal=bytes(row["signal"]),
        content=row["content"],
        detected_at=None if row["detected_at"] is None else when(row["detected_at"]),
        received_at=when(row["received_at"]),
        principal=row["principal"],
        credential=row["credential"],
        first_by=row["first_by"],
        final_by=row["final_by"],
    )


def _settings_record(row: Row, when: TimeReader) -> NetworkSettingsRecord:
    return NetworkSettingsRecord(
        row["network_id"],
        bool(row["automatic"]),
        float(row["window_seconds"]),
        bytes(row["settings"]),
        when(row["updated_at"]),
    )


def _hold_record(row: Row, when: TimeReader) -> HoldRecord:
    return HoldRecord(
        row["network_id"],
        row["plan_version"],
        row["rule"],
        bool(row["forbid"]),
        tuple(json.loads(row["signals"])),
        row["reason"],
        when(row["at"]),
    )


def _carried_record(row: Row, when: TimeReader) -> CarriedRecord:
    return CarriedRecord(
        row["network_id"],
        row["plan_version"],
        row["rule"],
        float(row["spend"]),
        tuple(json.loads(row["signals"])),
        when(row["at"]),
    )


def _audit_record(row: Row, when: TimeReader) -> AuditRecord:
    return AuditRecord(
        int(row["seq"]),
        row["network_id"],
        when(row["at"]),
        row["principal"],
        row["credential"],
        row["action"],
        row["detail"],
    )


def joint_members(approver: str) -> tuple[str, ...]:
    """The member functions of a joint approver key ("joint:procurement+production"); () for a role."""
    return tuple(approver[len("joint:") :].split("+")) if approver.startswith("joint:") else ()


def _signoffs(conn: sqlite3.Connection, network_id: str, plan_version: int, escalation: str) -> tuple[SignOff, ...]:
    if not escalation:
        return ()
    rows = conn.execute(
        "SELECT escalation, function, principal, credential, approve, at, note FROM signoffs "
        "WHERE network_id = ? AND plan_version = ? AND escalation = ? ORDER BY at, function",
        (network_id, plan_version, escalation),
    ).fetchall()
    return tuple(_signoff(r, _from_text) for r in rows)


def _signers(conn: sqlite3.Connection, network_id: str, plan_version: int, escalation: str) -> str:
    """Who signed a joint escalation: "ana (procurement), bo (production)"."""
    return ", ".join(f"{s.principal} ({s.function})" for s in _signoffs(conn, network_id, plan_version, escalation))


def _check_change(network_id: str, where: str, e: InboxInput, last: InboxRecord | None) -> None:
    """Whether `e` may follow the id's latest revision `last` (a resend was answered before)."""
    ident = f"{e.source}:{e.source_id}"
    if e.change == SignalChange.NEW and last is not None and last.change != SignalChange.CANCEL:
        raise ValidationError(
            "signal",
            ident,
            f"{where}.change",
            f"is new, but revision {last.revision} of this id has other content; send the changed signal "
            "as an update, or give it a new source_id",
        )
    if e.change != SignalChange.NEW and (last is None or last.change == SignalChange.CANCEL):
        state = "was never received" if last is None else "was cancelled"
        raise ValidationError(
            "signal", ident, f"{where}.change", f"is {e.change.value}, but this id {state}; publish it as new"
        )


def _mark_answered(
    conn: sqlite3.Connection, network_id: str, version: int, first: Sequence[int], final: Sequence[int]
) -> None:
    """Inbox rows answered by plan version `version`: as a first coordinated plan, or a final one
    (which also counts as the first when none came before)."""
    for column, seqs in (("first_by", list(first) + list(final)), ("final_by", list(final))):
        if seqs:
            marks = ", ".join("?" * len(seqs))
            conn.execute(
                f"UPDATE inbox SET {column} = ? WHERE network_id = ? AND {column} IS NULL AND seq IN ({marks})",
                (version, network_id, *seqs),
            )


def _add_holds(
    conn: sqlite3.Connection, network_id: str, plan_version: int, holds: Sequence[HoldInput], reason: str, at: datetime
) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO holds (network_id, plan_version, rule, forbid, signals, reason, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (network_id, plan_version, h.rule, int(h.forbid), json.dumps(list(h.signals)), reason, _to_text(at))
            for h in holds
        ],
    )


def _owner(conn: sqlite3.Connection, network_id: str) -> str | None:
    row = conn.execute(
        "SELECT tenant FROM networks WHERE network_id = ? ORDER BY version LIMIT 1", (network_id,)
    ).fetchone()
    return None if row is None else str(row[0])


def _audit(conn: sqlite3.Connection, network_id: str, at: datetime, actor: Actor, action: str, detail: str) -> None:
    """One audit row, in the transaction of the write it records."""
    conn.execute(
        "INSERT INTO audit (network_id, at, principal, credential, action, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (network_id, _to_text(at), actor.principal, actor.credential, action, detail),
    )


def _opt_bytes(blob: bytes | None) -> bytes | None:
    return None if blob is None else bytes(blob)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _to_text(moment: datetime) -> str:
    # Fixed width (always microseconds, always +00:00) so that text order is time order.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------------------------------- opening

SQLITE_SCHEME = "sqlite://"
"""The URL prefix of a SQLite ledger: "sqlite:///var/lib/concerto/ledger.db" (an absolute path),
"sqlite://ledger.db" (relative to the working directory) or "sqlite://:memory:"."""

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
"""The URL prefixes of a PostgreSQL ledger: "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?...]"
(libpq's URL form, "postgres://" too); it needs the `concerto[postgres]` extra (psycopg)."""

_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def open_store(url: str | Path, *, field: str = "store") -> PlanStore:
    """The plan ledger a URL names: `sqlite://PATH`, or a plain file path (also SQLite), or
    ":memory:" (a ledger that lives as long as the store), or `postgresql://...` (a database several
    servers may share, `solver.store_postgres`). Another scheme raises `ValidationError` naming
    `field` (the setting the URL came from)."""
    if isinstance(url, Path):
        return SqlitePlanStore(url)
    if url.startswith(SQLITE_SCHEME):
        path = url[len(SQLITE_SCHEME) :]
        if not path:
            raise ValidationError(
                "server config", url, field, "names no file; write sqlite:///absolute/path.db or sqlite://relative.db"
            )
        return SqlitePlanStore(path)
    if url.startswith(POSTGRES_SCHEMES):
        try:
            from solver.store_postgres import PostgresPlanStore
        except ImportError as err:
            raise ValidationError(
                "server config",
                re.sub(r"://[^/@?#]*@", "://***@", url),
                field,
                f"names a PostgreSQL ledger, but its driver is not installed ({err}); "
                "install it with pip install 'concerto[postgres]'",
            ) from None
        return PostgresPlanStore(url, field=field)
    scheme = _URL_SCHEME.match(url)
    if scheme is not None:
        raise ValidationError(
            "server config",
            url,
            field,
            f"has scheme {scheme.group(1)!r}, which Concerto cannot store plans in; give {SQLITE_SCHEME}PATH "
            "or a plain file path (SQLite), or postgresql://USER@HOST:PORT/DATABASE (PostgreSQL)",
        )
    return SqlitePlanStore(url)
