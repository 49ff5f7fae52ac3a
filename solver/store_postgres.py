"""The plan ledger on PostgreSQL: `PostgresPlanStore`, the `PlanStore` contract of `SqlitePlanStore`
on a database that several `concerto serve` processes may share.

`open_store` imports this module only for a `postgresql://` or `postgres://` URL, so psycopg (the
`concerto[postgres]` extra) is needed only there. The store creates and migrates its own schema:
`_MIGRATIONS` mirrors SQLite's steps (the same `SCHEMA_VERSION` means the same tables), the version
is kept in `concerto_schema`, each step is one transaction, and a session advisory lock keeps two
servers that start at once from migrating together.

Every write that reads "the latest" (a version to allocate, the stale-baseline check, an
idempotency key, an inbox revision, a network's tenant) first takes a transaction advisory lock on
its network, so writers of one network are ordered across every process on the database, as
SQLite's file lock orders them; the unique constraints are the backstop, and a write that trips
one (or a serialization failure or deadlock) is retried, so the caller sees the same domain error
SQLite would give. Reads run in one REPEATABLE READ READ ONLY transaction each (one snapshot).

Times are TIMESTAMPTZ (microseconds, read back in UTC), blobs BYTEA, flags BOOLEAN, and the
audit and inbox sequence numbers BIGSERIAL. Text is ordered by code point (COLLATE "C"), as
SQLite orders it, whatever the database's collation.
"""

from __future__ import annotations

import json
import math
import re
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from models.errors import ConcertoError, ValidationError
from solver.store import (
    _DECISION_COLUMNS,
    _INBOX_COLUMNS,
    _NETWORK_COLUMNS,
    _NETWORK_ID,
    _PLAN_COLUMNS,
    _PLAN_SUMMARY_COLUMNS,
    OPEN_ACTOR,
    POSTGRES_SCHEMES,
    SCHEMA_VERSION,
    Actor,
    AlreadySigned,
    AuditRecord,
    CarriedInput,
    CarriedRecord,
    DecisionInput,
    DecisionRecord,
    DecisionState,
    HoldInput,
    HoldRecord,
    IdempotencyConflict,
    InboxFull,
    InboxInput,
    InboxRecord,
    InvalidTransition,
    NetworkRecord,
    NetworkSettingsRecord,
    NetworkSummary,
    NetworkTaken,
    NotFound,
    PlanRecord,
    PlanSummaryRecord,
    RequestKind,
    SignOff,
    StaleBaseline,
    StoreUnavailable,
    SupersededPlan,
    _audit_record,
    _carried_record,
    _check_change,
    _check_kind,
    _check_network_id,
    _check_state,
    _check_version,
    _decision_record,
    _hold_record,
    _inbox_record,
    _network_not_found,
    _plan_not_found,
    _plan_record,
    _plan_summary,
    _settings_record,
    _signoff,
    _utc_now,
    joint_members,
)

T = TypeVar("T")
Cursor = psycopg.Cursor[DictRow]

# ------------------------------------------------------------------------------------------ schema

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    # The PostgreSQL form of each step of `solver.store._MIGRATIONS`: schema version N is the same
    # tables on both stores. A later schema adds a step to both and bumps SCHEMA_VERSION.
    1: (
        """
        CREATE TABLE networks (
            network_id TEXT NOT NULL,
            version    INTEGER NOT NULL CHECK (version >= 1),
            name       TEXT NOT NULL,
            network    BYTEA NOT NULL,
            protocols  BYTEA,
            created_at TIMESTAMPTZ NOT NULL,
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
            objective        DOUBLE PRECISION,
            n_decisions      INTEGER NOT NULL,
            n_needs_approval INTEGER NOT NULL,
            idempotency_key  TEXT NOT NULL DEFAULT '',
            created_at       TIMESTAMPTZ NOT NULL,
            signals          BYTEA NOT NULL,
            plan             BYTEA NOT NULL,
            PRIMARY KEY (network_id, version),
            FOREIGN KEY (network_id, network_version) REFERENCES networks (network_id, version)
        )
        """,
        "CREATE UNIQUE INDEX plans_idempotency_key ON plans (network_id, idempotency_key) WHERE idempotency_key <> ''",
        """
        CREATE TABLE decisions (
            network_id   TEXT NOT NULL,
            plan_version INTEGER NOT NULL,
            idx          INTEGER NOT NULL CHECK (idx >= 0),
            state        TEXT NOT NULL CONSTRAINT decisions_state
                         CHECK (state IN ('not_required', 'pending', 'approved', 'rejected')),
            decided_by   TEXT NOT NULL DEFAULT '',
            decided_at   TIMESTAMPTZ,
            note         TEXT NOT NULL DEFAULT '',
            blob         BYTEA NOT NULL,
            PRIMARY KEY (network_id, plan_version, idx),
            FOREIGN KEY (network_id, plan_version) REFERENCES plans (network_id, version)
        )
        """,
        "CREATE INDEX decisions_by_state ON decisions (network_id, plan_version, state)",
    ),
    2: ("ALTER TABLE plans ADD COLUMN extra BYTEA NOT NULL DEFAULT ''::bytea",),
    3: (
        "ALTER TABLE plans ADD COLUMN request_kind TEXT NOT NULL DEFAULT 'plan' "
        "CHECK (request_kind IN ('plan', 'replan'))",
        "ALTER TABLE plans ADD COLUMN request_hash TEXT NOT NULL DEFAULT ''",
        "UPDATE plans SET request_kind = CASE WHEN baseline_version = 0 THEN 'plan' ELSE 'replan' END",
        "DROP INDEX plans_idempotency_key",
        """
        CREATE UNIQUE INDEX plans_request_key ON plans (network_id, request_kind, idempotency_key)
        WHERE idempotency_key <> ''
        """,
    ),
    4: (
        "ALTER TABLE networks ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default'",
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
            approve      BOOLEAN NOT NULL,
            at           TIMESTAMPTZ NOT NULL,
            note         TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (network_id, plan_version, escalation, function),
            FOREIGN KEY (network_id, plan_version) REFERENCES plans (network_id, version)
        )
        """,
        """
        CREATE TABLE audit (
            seq        BIGSERIAL PRIMARY KEY,
            network_id TEXT NOT NULL,
            at         TIMESTAMPTZ NOT NULL,
            principal  TEXT NOT NULL,
            credential TEXT NOT NULL,
            action     TEXT NOT NULL,
            detail     TEXT NOT NULL
        )
        """,
        "CREATE INDEX audit_by_network ON audit (network_id, seq)",
    ),
    5: (
        """
        CREATE TABLE inbox (
            seq         BIGSERIAL PRIMARY KEY,
            network_id  TEXT NOT NULL,
            source      TEXT NOT NULL,
            source_id   TEXT NOT NULL,
            revision    INTEGER NOT NULL CHECK (revision >= 1),
            change      TEXT NOT NULL CHECK (change IN ('new', 'update', 'cancel')),
            signal      BYTEA NOT NULL,
            content     TEXT NOT NULL,
            detected_at TIMESTAMPTZ,
            received_at TIMESTAMPTZ NOT NULL,
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
            automatic      BOOLEAN NOT NULL,
            window_seconds DOUBLE PRECISION NOT NULL CHECK (window_seconds >= 0),
            settings       BYTEA NOT NULL,
            updated_at     TIMESTAMPTZ NOT NULL
        )
        """,
        """
        CREATE TABLE holds (
            network_id   TEXT NOT NULL,
            plan_version INTEGER NOT NULL,
            rule         TEXT NOT NULL,
            forbid       BOOLEAN NOT NULL,
            signals      TEXT NOT NULL,
            reason       TEXT NOT NULL CHECK (reason IN ('rejected', 'expired')),
            at           TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (network_id, plan_version, rule)
        )
        """,
        "ALTER TABLE plans ADD COLUMN trigger TEXT NOT NULL DEFAULT ''",
        # SQLite rebuilds the table for its new CHECK; PostgreSQL replaces the constraint.
        "ALTER TABLE decisions DROP CONSTRAINT decisions_state",
        "ALTER TABLE decisions ADD CONSTRAINT decisions_state "
        "CHECK (state IN ('not_required', 'pending', 'approved', 'rejected', 'expired'))",
        """
        CREATE TABLE carried (
            network_id   TEXT NOT NULL,
            plan_version INTEGER NOT NULL,
            rule         TEXT NOT NULL,
            spend        DOUBLE PRECISION NOT NULL,
            signals      TEXT NOT NULL,
            at           TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (network_id, plan_version, rule)
        )
        """,
        """
        CREATE TABLE leases (
            network_id TEXT PRIMARY KEY,
            holder     TEXT NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL
        )
        """,
    ),
}

_SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS concerto_schema (
    one     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    version INTEGER NOT NULL
)
"""

_LOCK_CLASS = 0x436F6E63
"""The first key of a network's write lock ("Conc"); the second is `_network_key` of its id."""
_MIGRATION_LOCK = (0x436F6D67, 0)
"""The two keys of the lock a server holds while it creates or migrates the schema ("Comg")."""

_WRITE_ATTEMPTS = 5
"""How often a write that lost a race (unique violation, serialization failure, deadlock) is run
again; with the network lock a race cannot happen between Concerto servers, so one retry suffices."""

CONNECT_TIMEOUT_SECONDS = 10
"""How long opening a connection waits for the server, unless the URL sets connect_timeout."""


# ------------------------------------------------------------------------------------------- URLs


def redact(url: str) -> str:
    """`url` with its password (in the user part or a `password=` parameter) replaced by ***."""
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@?#]*?:)[^/@?#]*@", r"\1***@", url)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)


def _passwords(url: str) -> list[str]:
    found = []
    try:
        parts = urlsplit(url)
        if parts.password:
            found.append(parts.password)
        found.extend(v for k, v in parse_qsl(parts.query) if k.lower() == "password" and v)
    except ValueError:
        pass
    return found


def _scrub(text: str, url: str) -> str:
    """An error text about `url` without its password, whatever the driver put in it."""
    for secret in _passwords(url):
        text = text.replace(secret, "***")
    return text.strip()


def conninfo_for(url: str, *, field: str = "store") -> str:
    """The libpq connection string of a `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?...]`
    URL (with a connect timeout and an application name unless it sets them); a URL libpq cannot
    read, or one naming no database, is a `ValidationError` naming `field` (the password redacted)."""
    shown = redact(url)
    usage = "write postgresql://USER@HOST:PORT/DATABASE (a password as USER:PASSWORD@ or in PGPASSWORD)"
    if not url.startswith(POSTGRES_SCHEMES):
        raise ValidationError("server config", shown, field, f"is not a PostgreSQL URL; {usage}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port raises ValueError on a bad one
        params = conninfo_to_dict(url)
    except (ValueError, psycopg.ProgrammingError) as err:
        raise ValidationError(
            "server config", shown, field, f"cannot be read as a PostgreSQL URL ({_scrub(str(err), url)}); {usage}"
        ) from None
    if not parts.path.strip("/") and "dbname" not in params:
        raise ValidationError("server config", shown, field, f"names no database; {usage}")
    extra: dict[str, Any] = {}
    if "connect_timeout" not in params:
        extra["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if "application_name" not in params:
        extra["application_name"] = "concerto"
    return make_conninfo(url, **extra)


# -------------------------------------------------------------------------------- implementation


class PostgresPlanStore:
    """`PlanStore` on a PostgreSQL database, safe to share between threads and between processes.

    A `ConnectionPool` of up to `max_connections` connections serves the threads of one process;
    other processes (replicas) on the same database are ordered by the per-network advisory lock
    each write takes. `field` names the setting the URL came from in errors. `_before_commit` is the
    test hook `SqlitePlanStore` has: called inside each write transaction just before COMMIT.
    """

    def __init__(
        self,
        url: str,
        *,
        field: str = "store",
        max_connections: int = 10,
        _before_commit: Callable[[], None] | None = None,
    ) -> None:
        self.url = redact(url)
        self._field = field
        self._before_commit = _before_commit
        self._conninfo = conninfo_for(url, field=field)
        self._raw_url = url
        self._lock = threading.Lock()
        self._migrate()
        pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=max(1, max_connections),
            kwargs={"autocommit": True},
            open=False,
            name="concerto-ledger",
        )
        try:
            pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS + 5)
        except PoolTimeout:
            pool.close()
            raise self._unreachable("no connection could be opened in time") from None
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = pool

    # -- lifecycle

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _unreachable(self, reason: str) -> ValidationError:
        return ValidationError(
            "server config",
            self.url,
            self._field,
            f"cannot be opened: {_scrub(reason, self._raw_url)}; start the PostgreSQL server, or correct the "
            "host, port, user, password or database in the URL",
        )

    def _migrate(self) -> None:
        """Create or migrate the schema, one transaction per step, under the migration lock."""
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.Error as err:
            raise self._unreachable(str(err)) from None
        with conn:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", _MIGRATION_LOCK)
            try:
                with conn.transaction():
                    conn.execute(_SCHEMA_TABLE)
                row = conn.execute("SELECT version FROM concerto_schema").fetchone()
                found = 0 if row is None else int(row[0])
                if found > SCHEMA_VERSION:
                    raise ConcertoError(
                        f"store {self.url!r} has schema version {found}, newer than this Concerto's "
                        f"{SCHEMA_VERSION}; upgrade Concerto to open it"
                    )
                for target in range(found + 1, SCHEMA_VERSION + 1):
                    try:
                        with conn.transaction():
                            for statement in _MIGRATIONS[target]:
                                conn.execute(statement)  # our own DDL
                            conn.execute(
                                "INSERT INTO concerto_schema (one, version) VALUES (TRUE, %s) "
                                "ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                                (target,),
                            )
                    except psycopg.Error as err:
                        raise ConcertoError(
                            f"store {self.url!r}: migrating the schema from version {target - 1} to {target} "
                            f"failed ({_scrub(str(err), self._raw_url)}); nothing of that step was written. "
                            "Give Concerto a database of its own (its tables: networks, plans, decisions, ...)"
                        ) from None
            finally:
                if not conn.closed:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", _MIGRATION_LOCK)

    def schema_version(self) -> int:
        """The schema version the database holds (`SCHEMA_VERSION` once opened)."""
        with self._transaction(write=False) as cur:
            row = cur.execute("SELECT version FROM concerto_schema").fetchone()
        return 0 if row is None else int(row["version"])

    @contextmanager
    def _transaction(self, *, write: bool, network_id: str | None = None) -> Iterator[Cursor]:
        """One transaction on a pooled connection: a write takes its network's advisory lock first
        (held to COMMIT), a read is one REPEATABLE READ READ ONLY snapshot. A server that cannot be
        reached is `StoreUnavailable`; text PostgreSQL cannot hold (a NUL) a `ValidationError`."""
        pool = self._pool
        if pool is None:
            raise ConcertoError(f"store {self.url!r} is closed; open a new PostgresPlanStore")
        try:
            with pool.connection() as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                if not write:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                elif network_id is not None:
                    cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, _network_key(network_id)))
                yield cur
                if write and self._before_commit is not None:
                    self._before_commit()
        except (pg_errors.UniqueViolation, pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
            raise  # retried by _write
        except (psycopg.OperationalError, PoolTimeout) as err:
            raise StoreUnavailable(self.url, _scrub(str(err), self._raw_url)) from None
        except psycopg.DataError as err:
            raise ValidationError(
                "request",
                network_id or "",
                "text",
                f"cannot be stored in PostgreSQL ({_scrub(str(err), self._raw_url)}); remove NUL characters",
            ) from None

    def _write(self, network_id: str, body: Callable[[Cursor], T]) -> T:
        """Run `body` in one write transaction under the network's lock; a transaction that lost a
        race the constraints caught is run again, and then sees the winner's row (a replayed key,
        a newer latest version, an existing revision) as SQLite's serialized writers would."""
        for _ in range(_WRITE_ATTEMPTS - 1):
            try:
                with self._transaction(write=True, network_id=network_id) as cur:
                    return body(cur)
            except (pg_errors.UniqueViolation, pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                continue
        try:
            with self._transaction(write=True, network_id=network_id) as cur:
                return body(cur)
        except (pg_errors.UniqueViolation, pg_errors.SerializationFailure, pg_errors.DeadlockDetected) as err:
            raise ConcertoError(
                f"network {network_id!r}: the write kept colliding with concurrent writes "
                f"({type(err).__name__}) after {_WRITE_ATTEMPTS} attempts; retry the request"
            ) from None

    # -- networks

    def put_network(
        self, network_id: str, name: str, network: bytes, protocols: bytes | None, *, actor: Actor = OPEN_ACTOR
    ) -> NetworkRecord:
        _check_network_id(network_id)
        created_at = _utc_now()

        def body(cur: Cursor) -> int:
            owner = _owner(cur, network_id)
            if owner is not None and owner != actor.tenant:
                raise NetworkTaken(network_id)
            version = _latest(cur, "networks", network_id) + 1
            cur.execute(
                f"INSERT INTO networks ({_NETWORK_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (network_id, version, name, network, protocols, created_at, actor.tenant, actor.principal),
            )
            _audit(cur, network_id, created_at, actor, "put_network", f"network version {version}")
            return version

        version = self._write(network_id, body)
        return NetworkRecord(
            network_id,
            version,
            name,
            bytes(network),
            None if protocols is None else bytes(protocols),
            created_at,
            actor.tenant,
            actor.principal,
        )

    def get_network(self, network_id: str, version: int = 0) -> NetworkRecord:
        _check_network_id(network_id)
        _check_version(network_id, "version", version)
        with self._transaction(write=False) as cur:
            row = cur.execute(
                f"SELECT {_NETWORK_COLUMNS} FROM networks "
                "WHERE network_id = %s AND (%s = 0 OR version = %s) ORDER BY version DESC LIMIT 1",
                (network_id, version, version),
            ).fetchone()
        if row is None:
            raise _network_not_found(network_id, version)
        return NetworkRecord(
            row["network_id"],
            row["version"],
            row["name"],
            bytes(row["network"]),
            None if row["protocols"] is None else bytes(row["protocols"]),
            _utc(row["created_at"]),
            row["tenant"],
            row["created_by"],
        )

    def network_tenant(self, network_id: str) -> str | None:
        if not isinstance(network_id, str) or _NETWORK_ID.fullmatch(network_id) is None:
            return None
        with self._transaction(write=False) as cur:
            return _owner(cur, network_id)

    def list_networks(self, tenant: str | None = None) -> list[NetworkSummary]:
        with self._transaction(write=False) as cur:
            rows = cur.execute(
                """
                SELECT n.network_id, n.version, n.name,
                       GREATEST(n.created_at, (SELECT MAX(p.created_at) FROM plans p
                                               WHERE p.network_id = n.network_id)) AS updated_at,
                       (SELECT COALESCE(MAX(p.version), 0) FROM plans p WHERE p.network_id = n.network_id)
                           AS plan_versions
                FROM networks n
                WHERE n.version = (SELECT MAX(m.version) FROM networks m WHERE m.network_id = n.network_id)
                """
                + ("" if tenant is None else " AND n.tenant = %s")
                + ' ORDER BY n.network_id COLLATE "C"',
                () if tenant is None else (tenant,),
            ).fetchall()
        return [
            NetworkSummary(r["network_id"], r["version"], r["name"], r["plan_versions"], _utc(r["updated_at"]))
            for r in rows
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
        """`SqlitePlanStore.add_plan`: the next version with its decisions in one transaction, a
        retry replayed, a reused key `IdempotencyConflict`, a stale baseline `StaleBaseline`."""
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

        def body(cur: Cursor) -> PlanRecord:
            replayed = _find_by_key(cur, network_id, kind, idempotency_key, request_hash)
            if replayed is not None:
                return replayed
            latest = _latest(cur, "plans", network_id)
            if expect_latest is not None and expect_latest != latest:
                raise StaleBaseline(network_id, expect_latest, latest)
            if _latest(cur, "networks", network_id) < network_version:
                raise _network_not_found(network_id, network_version)
            if baseline_version > latest:
                raise NotFound("plan", f"{network_id} version {baseline_version}", "the baseline must be stored")
            version = latest + 1
            cur.execute(
                f"INSERT INTO plans ({_PLAN_COLUMNS}, created_by) VALUES ({', '.join(['%s'] * 17)})",
                (
                    network_id,
                    version,
                    network_version,
                    baseline_version,
                    signals,
                    status,
                    float(objective),  # PostgreSQL keeps NaN as NaN
                    created_at,
                    idempotency_key,
                    len(decisions),
                    n_needs_approval,
                    trigger,
                    plan,
                    extra,
                    kind.value,
                    request_hash,
                    actor.principal,
                ),
            )
            _mark_answered(cur, network_id, version, inbox_first, inbox_final)
            if decisions:
                cur.executemany(
                    "INSERT INTO decisions (network_id, plan_version, idx, state, blob, escalation, approver) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            network_id,
                            version,
                            d.index,
                            (DecisionState.PENDING if d.needs_approval else DecisionState.NOT_REQUIRED).value,
                            d.blob,
                            d.escalation if d.needs_approval else "",
                            d.approver if d.needs_approval else "",
                        )
                        for d in decisions
                    ],
                )
            _audit(
                cur,
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

        return self._write(network_id, body)

    def get_plan(self, network_id: str, version: int = 0) -> PlanRecord:
        _check_network_id(network_id)
        _check_version(network_id, "version", version)
        with self._transaction(write=False) as cur:
            row = cur.execute(
                f"SELECT {_PLAN_COLUMNS} FROM plans WHERE network_id = %s AND (%s = 0 OR version = %s) "
                "ORDER BY version DESC LIMIT 1",
                (network_id, version, version),
            ).fetchone()
        if row is None:
            raise _plan_not_found(network_id, version)
        return _plan_record(row, _utc)

    def latest_plan_version(self, network_id: str) -> int:
        _check_network_id(network_id)
        with self._transaction(write=False) as cur:
            return _latest(cur, "plans", network_id)

    def list_plans(self, network_id: str) -> list[PlanSummaryRecord]:
        _check_network_id(network_id)
        with self._transaction(write=False) as cur:
            rows = cur.execute(
                f"SELECT {_PLAN_SUMMARY_COLUMNS} FROM plans WHERE network_id = %s ORDER BY version", (network_id,)
            ).fetchall()
        return [_plan_summary(r, _utc) for r in rows]

    def find_plan_by_key(
        self, network_id: str, key: str, *, kind: str = RequestKind.PLAN, request_hash: str = ""
    ) -> PlanRecord | None:
        _check_network_id(network_id)
        checked = _check_kind(network_id, kind)
        with self._transaction(write=False) as cur:
            return _find_by_key(cur, network_id, checked, key, request_hash)

    def plans_after(self, network_id: str, version: int) -> list[PlanRecord]:
        _check_network_id(network_id)
        with self._transaction(write=False) as cur:
            rows = cur.execute(
                f"SELECT {_PLAN_COLUMNS} FROM plans WHERE network_id = %s AND version > %s ORDER BY version",
                (network_id, version),
            ).fetchall()
        return [_plan_record(r, _utc) for r in rows]

    # -- decisions

    def list_decisions(self, network_id: str, plan_version: int = 0, state: str | None = None) -> list[DecisionRecord]:
        _check_network_id(network_id)
        _check_version(network_id, "plan_version", plan_version)
        wanted = None if state is None else _check_state(network_id, state)
        with self._transaction(write=False) as cur:
            row = cur.execute(
                "SELECT version FROM plans WHERE network_id = %s AND (%s = 0 OR version = %s) "
                "ORDER BY version DESC LIMIT 1",
                (network_id, plan_version, plan_version),
            ).fetchone()
            if row is None:
                raise _plan_not_found(network_id, plan_version)
            version = row["version"]
            rows = cur.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE network_id = %s AND plan_version = %s"
                + ("" if wanted is None else " AND state = %s")
                + " ORDER BY idx",
                (network_id, version) if wanted is None else (network_id, version, wanted.value),
            ).fetchall()
            signoffs: dict[str, list[SignOff]] = {}
            for r in cur.execute(
                "SELECT escalation, function, principal, credential, approve, at, note FROM signoffs "
                'WHERE network_id = %s AND plan_version = %s ORDER BY at, function COLLATE "C"',
                (network_id, version),
            ).fetchall():
                signoffs.setdefault(r["escalation"], []).append(_signoff(r, _utc))
        return [
            _decision_record(r, _utc, tuple(signoffs.get(r["escalation"], ())) if r["escalation"] else ()) for r in rows
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
        """`SqlitePlanStore.decide`: one approval or rejection (or sign-off) of a pending decision
        of the latest plan version, for every pending decision of its escalation."""
        _check_network_id(network_id)
        if plan_version < 1:
            raise ValidationError(
                "request", network_id, "plan_version", f"is {plan_version}; name the plan version of the decision"
            )
        if not decided_by.strip():
            raise ValidationError("request", network_id, "decided_by", "is empty; say who approves or rejects")
        action = "approved" if approve else "rejected"
        at = _utc_now()

        def body(cur: Cursor) -> DecisionRecord:
            row = cur.execute(
                "SELECT state, escalation, approver FROM decisions "
                "WHERE network_id = %s AND plan_version = %s AND idx = %s",
                (network_id, plan_version, index),
            ).fetchone()
            if row is None:
                raise NotFound(
                    "decision",
                    f"{network_id} plan version {plan_version} index {index}",
                    "list the decisions of that plan version to see their indices",
                )
            latest = _latest(cur, "plans", network_id)
            if plan_version != latest:
                raise SupersededPlan(network_id, plan_version, index, latest, action)
            if row["state"] != DecisionState.PENDING:
                raise InvalidTransition(network_id, plan_version, index, row["state"], action)
            escalation, approver = row["escalation"], row["approver"]
            members = joint_members(approver)
            state: DecisionState | None = DecisionState.APPROVED if approve else DecisionState.REJECTED
            insert_signoff = (
                "INSERT INTO signoffs (network_id, plan_version, escalation, function, principal, credential, "
                "approve, at, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            )
            if members:
                signed = {
                    r["function"]
                    for r in cur.execute(
                        "SELECT function FROM signoffs WHERE network_id = %s AND plan_version = %s AND escalation = %s",
                        (network_id, plan_version, escalation),
                    ).fetchall()
                }
                mine = [f for f in members if f in functions and f not in signed]
                if not mine:
                    raise AlreadySigned(network_id, plan_version, index, [f for f in members if f in functions])
                cur.executemany(
                    insert_signoff,
                    [
                        (network_id, plan_version, escalation, f, decided_by, credential, approve, at, note)
                        for f in mine
                    ],
                )
                if approve and signed | set(mine) != set(members):
                    state = None  # waiting for the other member functions
            elif escalation:
                cur.execute(
                    insert_signoff,
                    (network_id, plan_version, escalation, "", decided_by, credential, approve, at, note),
                )
            if state is not None:
                who = decided_by if not members else _signers(cur, network_id, plan_version, escalation)
                cur.execute(
                    "UPDATE decisions SET state = %s, decided_by = %s, decided_at = %s, note = %s, "
                    "decided_credential = %s WHERE network_id = %s AND plan_version = %s AND state = 'pending' "
                    "AND (idx = %s OR (escalation <> '' AND escalation = %s))",
                    (state.value, who, at, note, credential, network_id, plan_version, index, escalation),
                )
                if state == DecisionState.REJECTED:
                    _add_holds(cur, network_id, plan_version, holds, "rejected", at)
                if state == DecisionState.APPROVED and carried:
                    cur.executemany(
                        "INSERT INTO carried (network_id, plan_version, rule, spend, signals, at) "
                        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (network_id, plan_version, rule) DO UPDATE SET "
                        "spend = excluded.spend, signals = excluded.signals, at = excluded.at",
                        [(network_id, plan_version, c.rule, c.spend, json.dumps(list(c.signals)), at) for c in carried],
                    )
            verb = ("signed off " + "+".join(f for f in members if f in functions) + " of") if members else ""
            _audit(
                cur,
                network_id,
                at,
                Actor(decided_by, credential),
                "approve" if approve else "reject",
                f"{verb or action} decision {index} of plan version {plan_version}"
                + (f" (escalation {escalation}, approver {approver})" if escalation else "")
                + (f": {state.value}" if state is not None and members else ""),
            )
            updated = cur.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE network_id = %s AND plan_version = %s AND idx = %s",
                (network_id, plan_version, index),
            ).fetchone()
            assert updated is not None  # read in this transaction above
            return _decision_record(updated, _utc, _signoffs(cur, network_id, plan_version, escalation))

        return self._write(network_id, body)

    def list_audit(self, network_id: str, after: int = 0) -> list[AuditRecord]:
        _check_network_id(network_id)
        with self._transaction(write=False) as cur:
            rows = cur.execute(
                "SELECT seq, network_id, at, principal, credential, action, detail FROM audit "
                "WHERE network_id = %s AND seq > %s ORDER BY seq",
                (network_id, after),
            ).fetchall()
        return [_audit_record(r, _utc) for r in rows]

    # -- the inbox

    def publish(
        self, network_id: str, entries: Sequence[InboxInput], *, actor: Actor = OPEN_ACTOR, max_open: int = 10_000
    ) -> list[InboxRecord]:
        """`SqlitePlanStore.publish`: every entry the next revision of its id, all or none."""
        _check_network_id(network_id)
        received = _utc_now()

        def body(cur: Cursor) -> list[InboxRecord]:
            out: list[InboxRecord] = []
            if _latest(cur, "networks", network_id) == 0:
                raise _network_not_found(network_id, 0)
            count = cur.execute(
                "SELECT count(*) AS n FROM inbox WHERE network_id = %s AND final_by IS NULL", (network_id,)
            ).fetchone()
            open_now = 0 if count is None else int(count["n"])
            added = 0
            for k, e in enumerate(entries):
                where = f"signals[{k}]"
                row = cur.execute(
                    f"SELECT {_INBOX_COLUMNS} FROM inbox WHERE network_id = %s AND source = %s AND source_id = %s "
                    "ORDER BY revision DESC LIMIT 1",
                    (network_id, e.source, e.source_id),
                ).fetchone()
                last = None if row is None else _inbox_record(row, _utc)
                if last is not None and last.change == e.change and last.content == e.content:
                    out.append(replace(last, duplicate=True))
                    continue
                _check_change(network_id, where, e, last)
                revision = 1 if last is None else last.revision + 1
                inserted = cur.execute(
                    "INSERT INTO inbox (network_id, source, source_id, revision, change, signal, content, "
                    "detected_at, received_at, principal, credential) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING seq",
                    (
                        network_id,
                        e.source,
                        e.source_id,
                        revision,
                        e.change.value,
                        e.signal,
                        e.content,
                        e.detected_at,
                        received,
                        actor.principal,
                        actor.credential,
                    ),
                ).fetchone()
                assert inserted is not None  # RETURNING gives the row
                added += 1
                out.append(
                    InboxRecord(
                        int(inserted["seq"]),
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
                    cur, network_id, received, actor, "publish", f"{added} signals received from {', '.join(sources)}"
                )
            return out

        return self._write(network_id, body)

    def inbox(self, network_id: str, *, open_only: bool = False) -> list[InboxRecord]:
        _check_network_id(network_id)
        with self._transaction(write=False) as cur:
            rows = cur.execute(
                f"SELECT {_INBOX_COLUMNS} FROM inbox WHERE network_id = %s"
                + (" AND final_by IS NULL" if open_only else "")
                + " ORDER BY seq",
                (network_id,),
            ).fetchall()
        return [_inbox_record(r, _utc) for r in rows]

    # -- settings and holds

    def get_settings(self, network_id: str) -> NetworkSettingsRecord | None:
        _check_network_id(network_id)
        with self._transaction(write=False) as cur:
            row = cur.execute(
                "SELECT network_id, automatic, window_seconds, settings, updated_at FROM network_settings "
                "WHERE network_id = %s",
                (network_id,),
            ).fetchone()
        return None if row is None else _settings_record(row, _utc)

    def put_settings(
        self, network_id: str, *, automatic: bool, window_seconds: float, settings: bytes, actor: Actor = OPEN_ACTOR
    ) -> NetworkSettingsRecord:
        _check_network_id(network_id)
        if not math.isfinite(window_seconds) or window_seconds < 0:
            raise ValidationError(
                "network settings", network_id, "window_seconds", f"is {window_seconds}; give seconds >= 0"
            )
        at = _utc_now()

        def body(cur: Cursor) -> None:
            if _latest(cur, "networks", network_id) == 0:
                raise _network_not_found(network_id, 0)
            cur.execute(
                "INSERT INTO network_settings (network_id, automatic, window_seconds, settings, updated_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (network_id) DO UPDATE SET automatic = excluded.automatic, "
                "window_seconds = excluded.window_seconds, settings = excluded.settings, "
                "updated_at = excluded.updated_at",
                (network_id, bool(automatic), float(window_seconds), settings, at),
            )
            mode = "automatic" if automatic else "manual"
            _audit(cur, network_id, at, actor, "settings", f"{mode}, coalescing window {window_seconds:g} s")

        self._write(network_id, body)
        return NetworkSettingsRecord(network_id, automatic, window_seconds, bytes(settings), at)

    def automatic_networks(self) -> list[str]:
        with self._transaction(write=False) as cur:
            rows = cur.execute(
                'SELECT network_id FROM network_settings WHERE automatic ORDER BY network_id COLLATE "C"'
            ).fetchall()
        return [str(r["network_id"]) for r in rows]

    def holds(self, network_id: str) -> list[HoldRecord]:
        _check_network_id(network_id)
        with self._transaction(write=False) as cur:
            rows = cur.execute(
                "SELECT network_id, plan_version, rule, forbid, signals, reason, at FROM holds "
                'WHERE network_id = %s ORDER BY at, rule COLLATE "C"',
                (network_id,),
            ).fetchall()
        return [_hold_record(r, _utc) for r in rows]

    def carried(self, network_id: str) -> list[CarriedRecord]:
        _check_network_id(network_id)
        with self._transaction(write=False) as cur:
            rows = cur.execute(
                "SELECT network_id, plan_version, rule, spend, signals, at FROM carried "
                'WHERE network_id = %s ORDER BY at, rule COLLATE "C"',
                (network_id,),
            ).fetchall()
        return [_carried_record(r, _utc) for r in rows]

    def expire(
        self, network_id: str, plan_version: int, escalation: str, holds: Sequence[HoldInput], *, detail: str
    ) -> int:
        _check_network_id(network_id)
        at = _utc_now()

        def body(cur: Cursor) -> int:
            if _latest(cur, "plans", network_id) != plan_version:
                return 0
            cur.execute(
                "UPDATE decisions SET state = 'expired', decided_by = 'expiry', decided_at = %s, note = %s "
                "WHERE network_id = %s AND plan_version = %s AND escalation = %s AND state = 'pending'",
                (at, detail, network_id, plan_version, escalation),
            )
            lapsed = int(cur.rowcount)
            if lapsed:
                _add_holds(cur, network_id, plan_version, holds, "expired", at)
                _audit(cur, network_id, at, Actor("", "expiry"), "expire", f"plan version {plan_version}: {detail}")
            return lapsed

        return self._write(network_id, body)

    # -- leases

    def acquire_lease(self, network_id: str, holder: str, ttl_seconds: float) -> bool:
        """Take or renew the network's orchestrator lease for `holder`; False while another holder's
        runs. Expiry is measured on the database server's clock, the one clock every replica shares."""
        _check_network_id(network_id)

        def body(cur: Cursor) -> bool:
            row = cur.execute(
                "INSERT INTO leases (network_id, holder, expires_at) "
                "VALUES (%s, %s, clock_timestamp() + make_interval(secs => %s)) "
                "ON CONFLICT (network_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
                "WHERE leases.holder = excluded.holder OR leases.expires_at <= clock_timestamp() "
                "RETURNING holder",
                (network_id, holder, float(ttl_seconds)),
            ).fetchone()
            return row is not None

        return self._write(network_id, body)

    def release_lease(self, network_id: str, holder: str) -> None:
        _check_network_id(network_id)

        def body(cur: Cursor) -> None:
            cur.execute("DELETE FROM leases WHERE network_id = %s AND holder = %s", (network_id, holder))

        self._write(network_id, body)


# ---------------------------------------------------------------------------------------- helpers


def _network_key(network_id: str) -> int:
    """The second advisory-lock key of a network: a CRC-32 of its id as a signed 32-bit integer, the
    same in every process (a collision only makes two networks' writes wait for each other)."""
    return zlib.crc32(network_id.encode()) - 2**31


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _latest(cur: Cursor, table: str, network_id: str) -> int:
    # `table` is one of our own table names, never input.
    row = cur.execute(
        f"SELECT version FROM {table} WHERE network_id = %s ORDER BY version DESC LIMIT 1",
        (network_id,),
    ).fetchone()
    return 0 if row is None else int(row["version"])


def _owner(cur: Cursor, network_id: str) -> str | None:
    row = cur.execute(
        "SELECT tenant FROM networks WHERE network_id = %s ORDER BY version LIMIT 1", (network_id,)
    ).fetchone()
    return None if row is None else str(row["tenant"])


def _find_by_key(cur: Cursor, network_id: str, kind: RequestKind, key: str, request_hash: str) -> PlanRecord | None:
    if not key:
        return None
    row = cur.execute(
        f"SELECT {_PLAN_COLUMNS} FROM plans WHERE network_id = %s AND request_kind = %s AND idempotency_key = %s",
        (network_id, kind.value, key),
    ).fetchone()
    if row is None:
        return None
    record = _plan_record(row, _utc)
    if record.request_hash and request_hash and record.request_hash != request_hash:
        raise IdempotencyConflict(network_id, kind.value, key, record.version)
    return record


def _signoffs(cur: Cursor, network_id: str, plan_version: int, escalation: str) -> tuple[SignOff, ...]:
    if not escalation:
        return ()
    rows = cur.execute(
        "SELECT escalation, function, principal, credential, approve, at, note FROM signoffs "
        'WHERE network_id = %s AND plan_version = %s AND escalation = %s ORDER BY at, function COLLATE "C"',
        (network_id, plan_version, escalation),
    ).fetchall()
    return tuple(_signoff(r, _utc) for r in rows)


def _signers(cur: Cursor, network_id: str, plan_version: int, escalation: str) -> str:
    return ", ".join(f"{s.principal} ({s.function})" for s in _signoffs(cur, network_id, plan_version, escalation))


def _mark_answered(cur: Cursor, network_id: str, version: int, first: Sequence[int], final: Sequence[int]) -> None:
    for column, seqs in (("first_by", list(first) + list(final)), ("final_by", list(final))):
        if seqs:
            cur.execute(
                f"UPDATE inbox SET {column} = %s WHERE network_id = %s AND {column} IS NULL AND seq = ANY(%s)",
                (version, network_id, [int(s) for s in seqs]),
            )


def _add_holds(
    cur: Cursor, network_id: str, plan_version: int, holds: Sequence[HoldInput], reason: str, at: datetime
) -> None:
    if not holds:
        return
    cur.executemany(
        "INSERT INTO holds (network_id, plan_version, rule, forbid, signals, reason, at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (network_id, plan_version, rule) DO UPDATE SET "
        "forbid = excluded.forbid, signals = excluded.signals, reason = excluded.reason, at = excluded.at",
        [(network_id, plan_version, h.rule, bool(h.forbid), json.dumps(list(h.signals)), reason, at) for h in holds],
    )


def _audit(cur: Cursor, network_id: str, at: datetime, actor: Actor, action: str, detail: str) -> None:
    cur.execute(
        "INSERT INTO audit (network_id, at, principal, credential, action, detail) VALUES (%s, %s, %s, %s, %s, %s)",
        (network_id, at, actor.principal, actor.credential, action, detail),
    )
