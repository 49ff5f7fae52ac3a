"""The plan ledger: versions, idempotency, stale baselines, the decision approval states, concurrent
writers, and durability when the writing process is killed in the middle of a transaction.
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models.errors import ConcertoError, ValidationError
from solver.store import (
    SCHEMA_VERSION,
    Actor,
    AlreadySigned,
    DecisionInput,
    DecisionState,
    HoldInput,
    InboxFull,
    InboxInput,
    InvalidTransition,
    NotFound,
    PlanRecord,
    PlanStore,
    RequestKind,
    SignalChange,
    SqlitePlanStore,
    StaleBaseline,
)
from tests.postgres import Ledger

NET = "acme-eu.v1_test"


@pytest.fixture
def store(ledger: Ledger) -> PlanStore:
    """A store with network NET, once on SQLite and once on PostgreSQL (tests/postgres.py)."""
    s = ledger.open()
    s.put_network(NET, "Acme Europe", b"network-v1", b"protocols-v1")
    return s


def add(store: PlanStore, **overrides: object) -> PlanRecord:
    """A plan of NET with three decisions, the middle one escalated; keywords override."""
    fields: dict[str, object] = {
        "network_version": 1,
        "baseline_version": 0,
        "signals": b"signals",
        "plan": b"plan",
        "status": "optimal",
        "objective": 123.5,
        "decisions": [
            DecisionInput(0, False, b"buy"),
            DecisionInput(1, True, b"expedite"),
            DecisionInput(2, False, b"ship"),
        ],
    }
    fields.update(overrides)
    return store.add_plan(NET, **fields)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------- networks


def test_network_versions_increment_and_zero_is_latest(store: PlanStore) -> None:
    second = store.put_network(NET, "Acme Europe (2)", b"network-v2", None)
    assert second.version == 2
    assert second.created_at.tzinfo == UTC
    assert store.get_network(NET).network == b"network-v2"
    assert store.get_network(NET).protocols is None
    first = store.get_network(NET, 1)
    assert (first.version, first.name, first.network, first.protocols) == (
        1,
        "Acme Europe",
        b"network-v1",
        b"protocols-v1",
    )
    assert store.put_network("other", "Other", b"x", None).version == 1


def test_missing_network_raises_not_found(store: PlanStore) -> None:
    with pytest.raises(NotFound, match="'nowhere' not found"):
        store.get_network("nowhere")
    with pytest.raises(NotFound, match="version 7"):
        store.get_network(NET, 7)
    assert isinstance(NotFound("network", "x"), ConcertoError)


def test_list_networks_summarizes_latest_versions_and_plans(store: PlanStore) -> None:
    store.put_network(NET, "Acme Europe (2)", b"network-v2", None)
    store.put_network("beta", "Beta", b"b", None)
    plan = add(store)
    add(store, baseline_version=1)
    summaries = {s.network_id: s for s in store.list_networks()}
    assert [s.network_id for s in store.list_networks()] == sorted(summaries)
    acme, beta = summaries[NET], summaries["beta"]
    assert (acme.latest_version, acme.name, acme.plan_versions) == (2, "Acme Europe (2)", 2)
    assert (beta.latest_version, beta.plan_versions) == (1, 0)
    assert acme.updated_at >= plan.created_at


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "x" * 129, "line\n", "é"])
def test_network_id_is_validated(store: PlanStore, bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        store.put_network(bad, "n", b"", None)
    assert info.value.field == "network_id"
    with pytest.raises(ValidationError):
        store.get_plan(bad)


def test_longest_network_id_is_accepted(store: PlanStore) -> None:
    assert store.put_network("A-z_0." + "x" * 122, "n", b"", None).version == 1


# -------------------------------------------------------------------------------------------- plans


def test_plan_versions_increment_and_round_trip(store: PlanStore) -> None:
    assert store.latest_plan_version(NET) == 0
    first = add(store, idempotency_key="k1")
    second = add(store, baseline_version=1, plan=b"plan-2", objective=99.0)
    assert (first.version, second.version) == (1, 2)
    assert store.latest_plan_version(NET) == 2
    assert store.get_plan(NET) == second
    assert store.get_plan(NET, 1) == first
    assert (first.n_decisions, first.n_needs_approval, first.idempotency_key) == (3, 1, "k1")
    assert first.created_at.tzinfo == UTC
    summaries = store.list_plans(NET)
    assert [s.version for s in summaries] == [1, 2]
    assert not hasattr(summaries[0], "plan")
    assert (summaries[1].baseline_version, summaries[1].objective, summaries[1].signals) == (1, 99.0, b"signals")
    assert [p.version for p in store.plans_after(NET, 0)] == [1, 2]
    assert [p.plan for p in store.plans_after(NET, 1)] == [b"plan-2"]
    assert store.plans_after(NET, 2) == []


def test_objective_nan_survives_storage(store: PlanStore) -> None:
    """SQLite stores NaN as NULL; an infeasible plan has no objective and must read back as NaN."""
    add(store, status="infeasible", objective=math.nan)
    assert math.isnan(store.get_plan(NET).objective)
    assert math.isnan(store.list_plans(NET)[0].objective)


def test_missing_plans_raise_not_found(store: PlanStore) -> None:
    with pytest.raises(NotFound, match="no plan yet"):
        store.get_plan(NET)
    add(store)
    with pytest.raises(NotFound, match="version 5"):
        store.get_plan(NET, 5)
    with pytest.raises(NotFound):
        store.list_decisions(NET, 5)
    with pytest.raises(NotFound, match="network"):
        add(store, network_version=2)
    with pytest.raises(NotFound, match="baseline"):
        add(store, baseline_version=4)
    with pytest.raises(NotFound):
        store.add_plan(
            "unknown",
            network_version=1,
            baseline_version=0,
            signals=b"",
            plan=b"",
            status="optimal",
            objective=0.0,
            decisions=[],
        )
    assert store.latest_plan_version(NET) == 1


def test_idempotency_key_returns_the_stored_version(store: PlanStore) -> None:
    """A retry (same key, same request fingerprint) gets the stored version, whatever its solve
    would have answered; another fingerprint is refused (tests/test_ledger_semantics.py)."""
    first = add(store, idempotency_key="req-1", request_hash="h1")
    retry = add(store, idempotency_key="req-1", request_hash="h1", plan=b"a different answer", objective=1.0)
    assert retry == first
    assert (first.request_kind, first.request_hash) == ("plan", "h1")
    assert store.latest_plan_version(NET) == 1
    assert store.find_plan_by_key(NET, "req-1", request_hash="h1") == first
    assert store.find_plan_by_key(NET, "req-1", kind=RequestKind.REPLAN) is None
    assert store.find_plan_by_key(NET, "req-2") is None
    assert store.find_plan_by_key(NET, "") is None
    # Empty keys are not deduplicated; keys are per network.
    assert add(store).version == 2
    assert add(store).version == 3
    store.put_network("other", "Other", b"x", None)
    other = store.add_plan(
        "other",
        network_version=1,
        baseline_version=0,
        signals=b"",
        plan=b"",
        status="optimal",
        objective=0.0,
        decisions=[],
        idempotency_key="req-1",
    )
    assert other.version == 1


def test_stale_baseline_raises_and_writes_nothing(store: PlanStore) -> None:
    assert add(store, expect_latest=0).version == 1
    add(store, baseline_version=1, idempotency_key="second")
    with pytest.raises(StaleBaseline, match="version 2") as info:
        add(store, baseline_version=1, expect_latest=1)
    assert (info.value.expected, info.value.latest) == (1, 2)
    assert store.latest_plan_version(NET) == 2
    # A retry of the request that made version 2 is answered from the ledger, not refused as stale.
    assert add(store, baseline_version=1, idempotency_key="second", expect_latest=1).version == 2
    assert add(store, baseline_version=2, expect_latest=2).version == 3


def test_bad_decision_indices_write_nothing(store: PlanStore) -> None:
    with pytest.raises(ValidationError, match="distinct"):
        add(store, decisions=[DecisionInput(0, False, b""), DecisionInput(0, True, b"")])
    assert store.latest_plan_version(NET) == 0


def test_failure_inside_the_transaction_rolls_back_everything(ledger: Ledger) -> None:
    def fail() -> None:
        raise RuntimeError("crash before commit")

    s = ledger.open()
    s.put_network(NET, "n", b"", None)
    add(s)
    s._before_commit = fail  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        add(s, idempotency_key="retry-me")
    s._before_commit = None  # type: ignore[attr-defined]
    assert s.latest_plan_version(NET) == 1
    assert [a.action for a in s.list_audit(NET)] == ["put_network", "plan"]
    again = add(s, idempotency_key="retry-me")
    assert again.version == 2
    assert len(s.list_decisions(NET, 2)) == 3


# ---------------------------------------------------------------------------------------- decisions


def test_decisions_start_pending_only_when_escalated(store: PlanStore) -> None:
    add(store)
    decisions = store.list_decisions(NET)
    assert [(d.index, d.state, d.blob) for d in decisions] == [
        (0, "not_required", b"buy"),
        (1, "pending", b"expedite"),
        (2, "not_required", b"ship"),
    ]
    assert all(d.decided_at is None and d.decided_by == "" for d in decisions)
    assert [d.index for d in store.list_decisions(NET, 1, "pending")] == [1]
    assert [d.index for d in store.list_decisions(NET, 0, DecisionState.NOT_REQUIRED)] == [0, 2]
    with pytest.raises(ValidationError, match="state"):
        store.list_decisions(NET, 1, "maybe")


def test_approve_pending_once(store: PlanStore) -> None:
    add(store)
    approved = store.decide(NET, 1, 1, approve=True, decided_by="cfo@acme", note="within budget")
    assert approved.state == DecisionState.APPROVED == "approved"
    assert (approved.decided_by, approved.note, approved.blob) == ("cfo@acme", "within budget", b"expedite")
    assert approved.decided_at is not None and approved.decided_at.tzinfo == UTC
    assert store.list_decisions(NET, 1, "approved") == [approved]
    assert store.list_decisions(NET, 1, "pending") == []
    with pytest.raises(InvalidTransition, match="is approved; only a pending decision can be approved"):
        store.decide(NET, 1, 1, approve=True, decided_by="cfo@acme")
    with pytest.raises(InvalidTransition, match="is approved"):
        store.decide(NET, 1, 1, approve=False, decided_by="coo@acme")


def test_reject_pending_and_not_required(store: PlanStore) -> None:
    add(store)
    with pytest.raises(InvalidTransition, match="is not_required; only a pending decision can be rejected"):
        store.decide(NET, 1, 0, approve=False, decided_by="coo@acme")
    rejected = store.decide(NET, 1, 1, approve=False, decided_by="coo@acme")
    assert rejected.state == "rejected"
    assert store.list_decisions(NET, 1, "not_required")[0].decided_by == ""


def test_decide_needs_a_real_decision_and_a_name(store: PlanStore) -> None:
    add(store)
    with pytest.raises(NotFound, match="index 9"):
        store.decide(NET, 1, 9, approve=True, decided_by="cfo")
    with pytest.raises(NotFound):
        store.decide(NET, 3, 1, approve=True, decided_by="cfo")
    with pytest.raises(ValidationError, match="plan_version"):
        store.decide(NET, 0, 1, approve=True, decided_by="cfo")
    with pytest.raises(ValidationError, match="decided_by"):
        store.decide(NET, 1, 1, approve=True, decided_by=" ")
    assert store.list_decisions(NET, 1, "pending")[0].index == 1


# -------------------------------------------------------------------------------- schema, lifecycle


def test_schema_version_wal_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with SqlitePlanStore(path) as s:
        s.put_network(NET, "n", b"net", None)
        add(s)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(ConcertoError, match="newer"):
        SqlitePlanStore(path)
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    raw.commit()
    raw.close()
    with SqlitePlanStore(str(path)) as s:
        assert s.get_plan(NET).plan == b"plan"


def test_closed_store_says_so() -> None:
    s = SqlitePlanStore(":memory:")
    s.close()
    s.close()
    with pytest.raises(ConcertoError, match="closed"):
        s.list_networks()


# -------------------------------------------------------------------------------------- concurrency


def _add_from_threads(stores: list[PlanStore], keys: list[str]) -> list[int]:
    barrier = threading.Barrier(len(keys))
    versions: list[int] = []
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            versions.append(add(stores[k % len(stores)], idempotency_key=keys[k], plan=b"p%d" % k).version)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(keys))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return versions


def test_concurrent_writers_on_one_store_get_consecutive_versions(ledger: Ledger) -> None:
    s = ledger.open()
    s.put_network(NET, "n", b"", None)
    versions = _add_from_threads([s], [f"key-{k}" for k in range(8)])
    assert sorted(versions) == list(range(1, 9))
    assert [p.version for p in s.list_plans(NET)] == list(range(1, 9))
    assert sum(len(s.list_decisions(NET, v)) for v in versions) == 24


def test_concurrent_writers_on_separate_connections_get_consecutive_versions(ledger: Ledger) -> None:
    """Eight stores on one ledger stand for eight processes (replicas): SQLite's file lock, or
    PostgreSQL's per-network advisory lock, orders them."""
    stores = [ledger.open() for _ in range(8)]
    stores[0].put_network(NET, "n", b"", None)
    versions = _add_from_threads(stores, [f"key-{k}" for k in range(8)])
    assert sorted(versions) == list(range(1, 9))


def test_concurrent_retries_of_one_request_store_one_version(ledger: Ledger) -> None:
    s = ledger.open()
    s.put_network(NET, "n", b"", None)
    versions = _add_from_threads([s], ["same-request"] * 8)
    assert versions == [1] * 8
    assert s.latest_plan_version(NET) == 1


def test_concurrent_retries_through_separate_stores_store_one_version(ledger: Ledger) -> None:
    """One request retried through eight stores (replicas) at once: one version, every retry answered with it."""
    stores = [ledger.open() for _ in range(8)]
    stores[0].put_network(NET, "n", b"", None)
    versions = _add_from_threads(stores, ["same-request"] * 8)
    assert versions == [1] * 8
    assert stores[1].latest_plan_version(NET) == 1


def test_concurrent_replans_from_one_baseline_store_exactly_one(ledger: Ledger) -> None:
    """Eight stores replan from version 1 at once, each expecting it to be the latest: exactly one
    stores version 2, the other seven are `StaleBaseline` naming version 2, and nothing else is written."""
    stores = [ledger.open() for _ in range(8)]
    stores[0].put_network(NET, "n", b"", None)
    add(stores[0])
    barrier = threading.Barrier(len(stores))
    outcomes: list[object] = []

    def work(k: int) -> None:
        barrier.wait()
        try:
            outcomes.append(add(stores[k], baseline_version=1, expect_latest=1, plan=b"p%d" % k).version)
        except StaleBaseline as err:
            outcomes.append(err.latest)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [2] * 8  # one new version 2, seven refusals naming it
    assert [p.version for p in stores[3].list_plans(NET)] == [1, 2]
    assert [a.action for a in stores[5].list_audit(NET)] == ["put_network", "plan", "plan"]


# --------------------------------------------------------------------------------------- durability

_CHILD = """
import sys, time
from solver.store import DecisionInput, SqlitePlanStore

store = SqlitePlanStore(sys.argv[1])
store.put_network("acme", "Acme", b"network", None)
for v in (1, 2):
    store.add_plan("acme", network_version=1, baseline_version=v - 1, signals=b"", plan=b"plan-%d" % v,
                   status="optimal", objective=float(v), decisions=[DecisionInput(0, True, b"d")],
                   idempotency_key="key-%d" % v)

def stall():
    print("inside", flush=True)
    time.sleep(60)

store._before_commit = stall
# Big enough to overflow SQLite's page cache, so uncommitted pages reach the WAL file before the kill.
store.add_plan("acme", network_version=1, baseline_version=2, signals=b"", plan=b"x" * 8_000_000,
               status="optimal", objective=3.0, decisions=[DecisionInput(k, True, b"d") for k in range(500)],
               idempotency_key="key-3")
print("committed", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_writer_leaves_only_committed_versions(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "inside\n", child.stderr.read() if child.stderr else line
        # The third version is written but not committed, and most of its pages are already in the
        # WAL (versions 1-2 take a few kB): recovery must ignore frames that no commit frame seals.
        assert os.path.getsize(f"{path}-wal") > 1_000_000
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL

    with SqlitePlanStore(path) as s:
        assert [p.version for p in s.list_plans("acme")] == [1, 2]
        assert s.find_plan_by_key("acme", "key-3") is None
        assert s.get_plan("acme").plan == b"plan-2"
        third = s.add_plan(
            "acme",
            network_version=1,
            baseline_version=2,
            signals=b"",
            plan=b"plan-3",
            status="optimal",
            objective=3.0,
            decisions=[DecisionInput(0, True, b"d")],
            idempotency_key="key-3",
        )
        assert third.version == 3
        assert [d.index for d in s.list_decisions("acme", 3)] == [0]


# -------------------------------------------------------------- round trips and the always-on tables


def test_every_record_reads_back_exactly_as_written(store: PlanStore) -> None:
    """Empty and absent blobs, NaN and infinite objectives, microsecond UTC times, decisions with
    escalations, sign-offs, the audit trail, inbox revisions, settings and holds: what a write
    returns is what every read gives back, on either store."""
    empty = store.put_network("empty", "", b"", b"")
    assert store.get_network("empty") == empty and empty.protocols == b""
    assert store.get_network(NET).protocols == b"protocols-v1"
    nan = add(store, objective=math.nan, signals=b"", plan=b"", extra=b"", decisions=[])
    inf = add(store, baseline_version=1, objective=math.inf, extra=b"\x00\xff" * 3, trigger="inbox", request_hash="h")
    stored = store.get_plan(NET, 1)
    assert math.isnan(stored.objective) and (stored.signals, stored.plan, stored.extra) == (b"", b"", b"")
    assert store.get_plan(NET, 2) == inf and store.plans_after(NET, 1) == [inf]
    assert nan.created_at <= inf.created_at and inf.created_at.tzinfo == UTC
    listed = store.list_plans(NET)
    assert math.isnan(listed[0].objective) and listed[1].objective == math.inf
    assert [n.network_id for n in store.list_networks()] == sorted([NET, "empty"])
    assert {n.network_id: n.updated_at for n in store.list_networks()} == {
        NET: inf.created_at,
        "empty": empty.created_at,
    }
    # A joint escalation decided by two sign-offs; its record lists both, in order.
    store.add_plan(
        NET,
        network_version=1,
        baseline_version=2,
        signals=b"",
        plan=b"p",
        status="optimal",
        objective=1.0,
        decisions=[DecisionInput(0, True, b"d", "joint:a+b", "joint:a+b"), DecisionInput(1, False, b"")],
    )
    half = store.decide(NET, 3, 0, approve=True, decided_by="ana", functions=["a"], credential="token:ana")
    assert half.state == DecisionState.PENDING and [s.function for s in half.signoffs] == ["a"]
    with pytest.raises(AlreadySigned):
        store.decide(NET, 3, 0, approve=True, decided_by="ana", functions=["a"])
    done = store.decide(NET, 3, 0, approve=True, decided_by="bo", functions=["b"], note="ok")
    assert (done.state, done.decided_by, done.note) == (DecisionState.APPROVED, "ana (a), bo (b)", "ok")
    assert [(s.function, s.principal, s.approve) for s in done.signoffs] == [("a", "ana", True), ("b", "bo", True)]
    assert store.list_decisions(NET, 3)[0] == done
    audit = store.list_audit(NET)
    assert [a.action for a in audit] == ["put_network", "plan", "plan", "plan", "approve", "approve"]
    assert [a.seq for a in audit] == sorted(a.seq for a in audit)
    assert store.list_audit(NET, after=audit[-2].seq) == audit[-1:]
    assert audit[-1].at == done.decided_at and audit[-1].principal == "bo"


def test_the_inbox_keeps_revisions_answers_and_refuses_what_cannot_follow(store: PlanStore) -> None:
    detected = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    actor = Actor("portal", "token:portal")
    first = store.publish(NET, [InboxInput("portal", "INC-1", SignalChange.NEW, b"s1", "c1", detected)], actor=actor)
    [one] = first
    assert (one.revision, one.duplicate, one.detected_at, one.first_by, one.final_by) == (
        1,
        False,
        detected,
        None,
        None,
    )
    [again] = store.publish(NET, [InboxInput("portal", "INC-1", SignalChange.NEW, b"s1", "c1", detected)])
    assert again.duplicate and replace(again, duplicate=False) == one
    with pytest.raises(ValidationError, match="update"):
        store.publish(NET, [InboxInput("portal", "INC-1", SignalChange.NEW, b"s2", "c2")])
    with pytest.raises(ValidationError, match="never received"):
        store.publish(NET, [InboxInput("portal", "INC-9", SignalChange.CANCEL, b"", "x")])
    updated, other = store.publish(
        NET,
        [
            InboxInput("portal", "INC-1", SignalChange.UPDATE, b"s2", "c2"),
            InboxInput("sensor", "T-1", SignalChange.NEW, b"", "t"),
        ],
    )
    assert (updated.revision, updated.detected_at, other.revision, other.signal) == (2, None, 1, b"")
    assert one.seq < updated.seq < other.seq
    # A batch that would overflow the inbox writes nothing.
    with pytest.raises(InboxFull):
        store.publish(NET, [InboxInput("portal", "INC-2", SignalChange.NEW, b"", "n")], max_open=3)
    assert [r.seq for r in store.inbox(NET)] == [one.seq, updated.seq, other.seq]
    assert store.inbox(NET) == [one, updated, other]
    plan = add(store, inbox_first=[one.seq, updated.seq], inbox_final=[other.seq])
    rows = {r.seq: r for r in store.inbox(NET)}
    assert (rows[updated.seq].first_by, rows[updated.seq].final_by) == (plan.version, None)
    assert (rows[other.seq].first_by, rows[other.seq].final_by) == (plan.version, plan.version)
    assert [r.seq for r in store.inbox(NET, open_only=True)] == [one.seq, updated.seq]
    with pytest.raises(NotFound):
        store.publish("nowhere", [InboxInput("portal", "X", SignalChange.NEW, b"", "x")])
    assert [a.action for a in store.list_audit(NET)] == ["put_network", "publish", "publish", "plan"]


def test_settings_holds_and_expiry(store: PlanStore) -> None:
    assert store.get_settings(NET) is None and store.automatic_networks() == []
    put = store.put_settings(NET, automatic=True, window_seconds=0.25, settings=b"")
    assert store.get_settings(NET) == put and put.settings == b""
    store.put_network("Zeta", "Z", b"", None)
    store.put_network("alpha", "A", b"", None)
    for network_id in ("Zeta", "alpha"):
        store.put_settings(network_id, automatic=True, window_seconds=0, settings=b"s")
    assert store.automatic_networks() == sorted([NET, "Zeta", "alpha"])  # code-point order, as SQLite's
    store.put_settings(NET, automatic=False, window_seconds=1.5, settings=b"x")
    assert store.get_settings(NET) is not None and not store.get_settings(NET).automatic  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="window_seconds"):
        store.put_settings(NET, automatic=True, window_seconds=-1, settings=b"")
    with pytest.raises(NotFound):
        store.put_settings("nowhere", automatic=True, window_seconds=0, settings=b"")

    decisions = [DecisionInput(0, True, b"a", "rule:r", "role:x"), DecisionInput(1, True, b"b", "rule:q", "role:x")]
    add(store, decisions=decisions)
    rejected = store.decide(
        NET,
        1,
        0,
        approve=False,
        decided_by="coo",
        holds=[HoldInput("r", False, ("s1", "s2")), HoldInput("B", True, ())],
    )
    assert rejected.state == DecisionState.REJECTED
    assert store.expire(NET, 1, "rule:q", [HoldInput("q", True, ())], detail="nobody decided") == 1
    assert store.expire(NET, 1, "rule:q", [], detail="again") == 0
    lapsed = store.list_decisions(NET, 1)[1]
    assert (lapsed.state, lapsed.decided_by, lapsed.note) == (DecisionState.EXPIRED, "expiry", "nobody decided")
    holds = store.holds(NET)
    assert [(h.rule, h.forbid, h.signals, h.reason) for h in holds] == [
        ("B", True, (), "rejected"),
        ("r", False, ("s1", "s2"), "rejected"),
        ("q", True, (), "expired"),
    ]
    assert holds[0].at == rejected.decided_at
    add(store, baseline_version=1, decisions=decisions)
    assert store.expire(NET, 1, "rule:r", [], detail="superseded") == 0  # not the latest version any more


def test_a_lease_has_one_holder_until_it_lapses_or_is_released(store: PlanStore) -> None:
    assert store.acquire_lease(NET, "server-a", 60)
    assert store.acquire_lease(NET, "server-a", 60)  # renewed
    assert not store.acquire_lease(NET, "server-b", 60)
    store.release_lease(NET, "server-b")  # not the holder: nothing happens
    assert not store.acquire_lease(NET, "server-b", 60)
    store.release_lease(NET, "server-a")
    assert store.acquire_lease(NET, "server-b", 60)
    assert store.acquire_lease("other", "server-a", -1)  # a lease that has already lapsed...
    assert store.acquire_lease("other", "server-b", 60)  # ...is taken over
