"""What only the PostgreSQL ledger has: its schema created and migrated by the store (from an empty
database, from the previous schema version, by two servers starting at once), its URL and
connection errors (naming the setting, never the password), and the unique constraints as the
backstop of the per-network lock. The ledger contract itself runs on both stores in test_store.py."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import psycopg
import pytest

from models.errors import ConcertoError, ValidationError
from solver import store_postgres
from solver.store import SCHEMA_VERSION, DecisionInput, DecisionState, InboxInput, SignalChange, open_store
from solver.store_postgres import PostgresPlanStore, redact

_SCHEMA_V4 = (
    """
    CREATE TABLE networks (
        network_id TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1), name TEXT NOT NULL,
        network BYTEA NOT NULL, protocols BYTEA, created_at TIMESTAMPTZ NOT NULL,
        tenant TEXT NOT NULL DEFAULT 'default', created_by TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (network_id, version)
    )
    """,
    """
    CREATE TABLE plans (
        network_id TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1), network_version INTEGER NOT NULL,
        baseline_version INTEGER NOT NULL CHECK (baseline_version >= 0 AND baseline_version < version),
        status TEXT NOT NULL, objective DOUBLE PRECISION, n_decisions INTEGER NOT NULL,
        n_needs_approval INTEGER NOT NULL, idempotency_key TEXT NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL, signals BYTEA NOT NULL, plan BYTEA NOT NULL,
        extra BYTEA NOT NULL DEFAULT ''::bytea,
        request_kind TEXT NOT NULL DEFAULT 'plan' CHECK (request_kind IN ('plan', 'replan')),
        request_hash TEXT NOT NULL DEFAULT '', created_by TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (network_id, version),
        FOREIGN KEY (network_id, network_version) REFERENCES networks (network_id, version)
    )
    """,
    "CREATE UNIQUE INDEX plans_request_key ON plans (network_id, request_kind, idempotency_key) "
    "WHERE idempotency_key <> ''",
    """
    CREATE TABLE decisions (
        network_id TEXT NOT NULL, plan_version INTEGER NOT NULL, idx INTEGER NOT NULL CHECK (idx >= 0),
        state TEXT NOT NULL CONSTRAINT decisions_state
            CHECK (state IN ('not_required', 'pending', 'approved', 'rejected')),
        decided_by TEXT NOT NULL DEFAULT '', decided_at TIMESTAMPTZ, note TEXT NOT NULL DEFAULT '',
        blob BYTEA NOT NULL, escalation TEXT NOT NULL DEFAULT '', approver TEXT NOT NULL DEFAULT '',
        decided_credential TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (network_id, plan_version, idx),
        FOREIGN KEY (network_id, plan_version) REFERENCES plans (network_id, version)
    )
    """,
    "CREATE INDEX decisions_by_state ON decisions (network_id, plan_version, state)",
    "CREATE INDEX decisions_by_escalation ON decisions (network_id, plan_version, escalation)",
    """
    CREATE TABLE signoffs (
        network_id TEXT NOT NULL, plan_version INTEGER NOT NULL, escalation TEXT NOT NULL, function TEXT NOT NULL,
        principal TEXT NOT NULL, credential TEXT NOT NULL, approve BOOLEAN NOT NULL, at TIMESTAMPTZ NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (network_id, plan_version, escalation, function),
        FOREIGN KEY (network_id, plan_version) REFERENCES plans (network_id, version)
    )
    """,
    """
    CREATE TABLE audit (
        seq BIGSERIAL PRIMARY KEY, network_id TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, principal TEXT NOT NULL,
        credential TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL
    )
    """,
    "CREATE INDEX audit_by_network ON audit (network_id, seq)",
    "CREATE TABLE concerto_schema (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), version INTEGER NOT NULL)",
    "INSERT INTO concerto_schema VALUES (TRUE, 4)",
)
"""The PostgreSQL ledger as schema version 4 wrote it (before the inbox, settings, holds and leases)."""


def _old_ledger(url: str) -> None:
    """A schema-4 database: network "acme" (tenant "globex"), plan version 1 (key "k", one pending
    decision of escalation "rule:r"), and its audit row."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with psycopg.connect(url) as conn:
        for statement in _SCHEMA_V4:
            conn.execute(statement)  # type: ignore[arg-type]
        conn.execute("INSERT INTO networks VALUES ('acme', 1, 'Acme', '\\x01', NULL, %s, 'globex', 'ana')", (at,))
        conn.execute(
            "INSERT INTO plans (network_id, version, network_version, baseline_version, status, objective, "
            "n_decisions, n_needs_approval, idempotency_key, created_at, signals, plan, request_hash) "
            "VALUES ('acme', 1, 1, 0, 'optimal', 'NaN', 1, 1, 'k', %s, '', 'plan-1', 'h')",
            (at,),
        )
        conn.execute(
            "INSERT INTO decisions (network_id, plan_version, idx, state, blob, escalation, approver) "
            "VALUES ('acme', 1, 0, 'pending', '', 'rule:r', 'role:director')"
        )
        conn.execute(
            "INSERT INTO audit (network_id, at, principal, credential, action, detail) "
            "VALUES ('acme', %s, 'ana', 'token:a', 'plan', 'plan version 1')",
            (at,),
        )


def _schema_version(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT version FROM concerto_schema").fetchone()
        return 0 if row is None else int(row[0])


def test_an_empty_database_gets_the_current_schema_and_reopens(postgres_url: str) -> None:
    with PostgresPlanStore(postgres_url) as s:
        assert s.schema_version() == SCHEMA_VERSION
        s.put_network("acme", "Acme", b"n", None)
    with PostgresPlanStore(postgres_url) as s:
        assert s.get_network("acme").network == b"n"
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE concerto_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(ConcertoError, match="newer"):
        PostgresPlanStore(postgres_url)


def test_a_schema_4_database_is_migrated_with_everything_kept(postgres_url: str) -> None:
    """The previous version's database opens at the current schema: its network keeps its tenant,
    its plan its NaN objective and key, its pending decision can now lapse (the state schema 5
    added), its audit continues, and the inbox, settings, holds and leases work."""
    _old_ledger(postgres_url)
    with PostgresPlanStore(postgres_url) as s:
        assert s.network_tenant("acme") == "globex"
        plan = s.get_plan("acme")
        assert plan.objective != plan.objective and (plan.idempotency_key, plan.trigger) == ("k", "")
        found = s.find_plan_by_key("acme", "k", request_hash="h")
        assert found is not None and found.version == 1 and found.plan == b"plan-1"
        assert s.expire("acme", 1, "rule:r", [], detail="lapsed") == 1
        assert [d.state for d in s.list_decisions("acme", 1)] == [DecisionState.EXPIRED]
        [signal] = s.publish("acme", [InboxInput("portal", "INC-1", SignalChange.NEW, b"s", "c")])
        second = s.add_plan(
            "acme",
            network_version=1,
            baseline_version=1,
            signals=b"",
            plan=b"plan-2",
            status="optimal",
            objective=2.0,
            decisions=[DecisionInput(0, False, b"")],
            inbox_final=[signal.seq],
        )
        assert second.version == 2 and s.inbox("acme", open_only=True) == []
        assert s.acquire_lease("acme", "server-a", 5)
        assert [a.action for a in s.list_audit("acme")] == ["plan", "expire", "publish", "plan"]
    assert _schema_version(postgres_url) == SCHEMA_VERSION


def test_two_servers_starting_at_once_migrate_once(postgres_url: str) -> None:
    barrier = threading.Barrier(4)
    opened: list[PostgresPlanStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            opened.append(PostgresPlanStore(postgres_url, max_connections=2))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == [] and len(opened) == 4
        assert _schema_version(postgres_url) == SCHEMA_VERSION
        opened[0].put_network("acme", "Acme", b"", None)
        assert opened[3].get_network("acme").version == 1
    finally:
        for s in opened:
            s.close()


def test_a_database_holding_other_tables_is_refused_naming_the_step(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE plans (id INTEGER)")
    with pytest.raises(ConcertoError, match="from version 0 to 1 failed") as info:
        PostgresPlanStore(postgres_url)
    assert "database of its own" in str(info.value)
    assert _schema_version(postgres_url) == 0
    with psycopg.connect(postgres_url) as conn:  # the step's other tables were rolled back with it
        assert conn.execute("SELECT to_regclass('networks')").fetchone() == (None,)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://ana:s3cret-pw@127.0.0.1:notaport/db", "cannot be read"),
        ("postgresql://ana:s3cret-pw@127.0.0.1:5432", "names no database"),
        ("postgresql://ana:s3cret-pw@127.0.0.1:5432/db?nonsense=1", "cannot be read"),
    ],
)
def test_a_bad_url_names_the_setting_and_hides_the_password(url: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        open_store(url, field="store")
    assert info.value.field == "store" and reason in str(info.value), str(info.value)
    assert "s3cret-pw" not in str(info.value) and "***" in str(info.value)


def test_an_unreachable_server_names_the_setting_and_hides_the_password(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A closed port (the test cluster's, plus one... or any free one) and a wrong database."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    caplog.set_level(logging.DEBUG)
    for url in (
        f"postgres://ana:s3cret-pw@127.0.0.1:{port}/ledger",
        postgres_url.rsplit("/", 1)[0].replace("postgres@", "postgres:s3cret-pw@") + "/no_such_db",
    ):
        with pytest.raises(ValidationError) as info:
            open_store(url, field="store")
        message = str(info.value)
        assert info.value.field == "store" and "cannot be opened" in message, message
        assert "start the PostgreSQL server" in message and "s3cret-pw" not in message
    assert "s3cret-pw" not in caplog.text


def test_redact_hides_passwords_in_either_place() -> None:
    assert redact("postgresql://ana:pw@h:5/db") == "postgresql://ana:***@h:5/db"
    assert redact("postgresql://ana@h/db?password=pw&sslmode=require") == (
        "postgresql://ana@h/db?password=***&sslmode=require"
    )
    assert redact("postgresql://h/db") == "postgresql://h/db"


def test_open_store_opens_postgres_urls(postgres_url: str) -> None:
    with open_store(postgres_url.replace("postgresql://", "postgres://", 1)) as s:
        assert isinstance(s, PostgresPlanStore) and s.list_networks() == []


def test_a_write_that_trips_a_unique_constraint_is_run_again(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that read a stale "latest" (as one that skipped the lock would) collides with the
    stored version on the primary key: the write runs again and stores the next version; one that
    keeps colliding is a ConcertoError naming the network, never a psycopg error."""
    with PostgresPlanStore(postgres_url) as s:
        s.put_network("acme", "Acme", b"", None)
        fields = {
            "network_version": 1,
            "signals": b"",
            "plan": b"",
            "status": "optimal",
            "objective": 0.0,
            "decisions": [],
        }
        s.add_plan("acme", baseline_version=0, **fields)  # type: ignore[arg-type]
        real = store_postgres._latest
        stale = {"left": 1}

        def latest(cur: store_postgres.Cursor, table: str, network_id: str) -> int:
            found = real(cur, table, network_id)
            if table == "plans" and stale["left"] > 0:
                stale["left"] -= 1
                return found - 1
            return found

        monkeypatch.setattr(store_postgres, "_latest", latest)
        assert s.add_plan("acme", baseline_version=0, **fields).version == 2  # type: ignore[arg-type]
        stale["left"] = 100
        with pytest.raises(ConcertoError, match="'acme': the write kept colliding") as info:
            s.add_plan("acme", baseline_version=0, **fields)  # type: ignore[arg-type]
        assert not isinstance(info.value, psycopg.Error)
        monkeypatch.setattr(store_postgres, "_latest", real)
        assert [p.version for p in s.list_plans("acme")] == [1, 2]


def test_a_closed_store_says_so(postgres_url: str) -> None:
    s = PostgresPlanStore(postgres_url)
    s.close()
    s.close()
    with pytest.raises(ConcertoError, match="closed"):
        s.list_networks()


# ------------------------------------------------------------------------------- a real server


def test_a_server_on_postgres_stores_plans_replans_and_approves(postgres_url: str) -> None:
    """`concerto serve --store postgresql://...` end to end: a network stored, planned (version 1),
    replanned under a spend limit (version 2, one escalated purchase), a retry of the replan with its
    key answered from the ledger, a replan from the superseded baseline refused, the escalation
    approved, and all of it in the database, audited."""
    import grpc

    from solver.records import DecisionState as State
    from solver.server import ServerConfig
    from tests.service_harness import running_server
    from tests.test_service import TIMEOUT, plan, put_outage, replan, replan_request

    with running_server(ServerConfig(store=postgres_url, workers=1, queue_size=2)) as service:
        put_outage(service, "pg")
        assert plan(service, "pg").version == 1
        second = replan(service, "pg", 1, idempotency_key="replan-1")
        assert second.version == 2
        assert replan(service, "pg", 1, idempotency_key="replan-1") == second
        with pytest.raises(grpc.RpcError) as info:
            service.stub.Replan(replan_request("pg", 1), timeout=TIMEOUT)
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION, info.value.details()
        [pending] = service.client.decisions("pg", 2, State.PENDING)
        approved = service.client.approve("pg", 2, pending.index, "procurement director")
        assert approved.state == State.APPROVED
        assert [p.version for p in service.client.list_plans("pg")] == [1, 2]
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM plans WHERE network_id = 'pg'").fetchone() == (2,)
        actions = [r[0] for r in conn.execute("SELECT action FROM audit WHERE network_id = 'pg' ORDER BY seq")]
        assert actions == ["put_network", "plan", "replan", "approve"]


_CHILD = """
import sys, time
from solver.store import DecisionInput
from solver.store_postgres import PostgresPlanStore

store = PostgresPlanStore(sys.argv[1])
store.put_network("acme", "Acme", b"network", None)
store.add_plan("acme", network_version=1, baseline_version=0, signals=b"", plan=b"plan-1", status="optimal",
               objective=1.0, decisions=[DecisionInput(0, True, b"d")], idempotency_key="key-1")

def stall():
    print("inside", flush=True)
    time.sleep(60)

store._before_commit = stall
store.add_plan("acme", network_version=1, baseline_version=1, signals=b"", plan=b"x" * 1_000_000, status="optimal",
               objective=2.0, decisions=[DecisionInput(k, True, b"d") for k in range(500)], idempotency_key="key-2")
print("committed", flush=True)
"""


def test_a_killed_writer_leaves_only_committed_versions(postgres_url: str) -> None:
    """A process killed inside a write transaction (holding the network's lock): the server rolls
    it back and releases the lock, and the next writer stores the version it would have."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, postgres_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "inside\n", child.stderr.read() if child.stderr else line
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    with PostgresPlanStore(postgres_url) as s:
        assert [p.version for p in s.list_plans("acme")] == [1]
        assert s.find_plan_by_key("acme", "key-2") is None
        third = s.add_plan(
            "acme",
            network_version=1,
            baseline_version=1,
            signals=b"",
            plan=b"plan-2",
            status="optimal",
            objective=2.0,
            decisions=[DecisionInput(0, True, b"d")],
            idempotency_key="key-2",
        )
        assert third.version == 2 and [d.index for d in s.list_decisions("acme", 2)] == [0]
        assert [a.action for a in s.list_audit("acme")] == ["put_network", "plan", "plan"]
