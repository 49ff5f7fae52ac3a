"""A ledger that means what it says, against real in-process servers: a reused signal id with new
content is refused, idempotency keys are scoped per RPC and network and bound to the request's
content, only the latest plan version's decisions can be decided, a replan whose baseline is
superseded while it solves is stopped, and a plan too large to answer is never stored.
(Issue 14, findings 4 and 10-13.)
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from benchmarks.generator import generate
from models.errors import ValidationError
from models.signals import Signal, SignalType
from solver import convert
from solver._proto.concerto.v1 import service_pb2
from solver.convert.ledger import request_fingerprint
from solver.records import DecisionState, PlanRequest, ReplanRequest
from solver.server import ServerConfig
from solver.store import (
    SCHEMA_VERSION,
    DecisionInput,
    IdempotencyConflict,
    RequestKind,
    SqlitePlanStore,
    SupersededPlan,
)
from solver.usecases import merge_signals
from tests.postgres import Ledger
from tests.service_harness import REPO_ROOT, RunningServer, running_server, store_snapshot
from tests.test_protocols import OUTAGE_DAY_0
from tests.test_service import EXACT, TIMEOUT, plan, put_outage, refused, replan, replan_request, versions, wait_until

SURGE_X2 = Signal("C-surge", SignalType.DEMAND_CHANGE, customer="C", magnitude=2.0)
"""Customer C's demand doubles (the short-outage network: 10 a day for 3 days)."""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Three workers, so that two replans can solve while a third one wins the race."""
    config = ServerConfig(store_path=tmp_path_factory.mktemp("ledger") / "concerto.db", workers=3, queue_size=2)
    with running_server(config) as running:
        yield running


def replan_with(network_id: str, signals: list[Signal], **fields: object) -> service_pb2.ReplanRequest:
    """A cold replan (see `tests.test_service.replan_request`) answering `signals`."""
    request = replan_request(network_id, **fields)  # type: ignore[arg-type]
    del request.signals[:]
    request.signals.extend(convert.signal_to_proto(s) for s in signals)
    return request


# -- finding 10: a reused signal id ------------------------------------------------------------------


def test_merge_signals_skips_a_resent_signal_and_refuses_a_changed_one() -> None:
    """The baseline (version 4) answers the outage and a x2 surge. Resending the surge unchanged
    adds nothing; a x3 surge under the same id is refused naming the id, the field (magnitude) and
    the version that answered it; under a new id it is a new signal."""
    earlier = (OUTAGE_DAY_0, SURGE_X2)
    assert merge_signals(earlier, [SURGE_X2], answered_by=4) == earlier
    x3 = replace(SURGE_X2, magnitude=3.0)
    with pytest.raises(ValidationError) as info:
        merge_signals(earlier, [x3], answered_by=4)
    assert (info.value.entity, info.value.ident, info.value.field) == ("signal", "C-surge", "magnitude")
    assert "3.0" in str(info.value) and "2.0" in str(info.value)
    assert "plan version 4" in str(info.value) and "new id" in str(info.value)
    renamed = replace(x3, id="C-surge-2")
    assert merge_signals(earlier, [renamed], answered_by=4) == (*earlier, renamed)


def test_merge_signals_refuses_one_id_with_two_contents_in_a_request() -> None:
    """Two new signals named "C-surge", x2 and x3: refused naming the id and the field."""
    with pytest.raises(ValidationError) as info:
        merge_signals((), [SURGE_X2, replace(SURGE_X2, magnitude=3.0)])
    assert (info.value.ident, info.value.field) == ("C-surge", "magnitude")
    assert "two signals of this request" in str(info.value)


def test_a_changed_signal_under_an_answered_id_is_invalid_argument(service: RunningServer) -> None:
    """Version 2 answers a x2 surge of C. Resending it unchanged is a retry of the same signal:
    version 3 answers it once, and, solved cold from the same network, has version 2's optimum. A
    x3 surge under the same id is INVALID_ARGUMENT naming the id, the field and version 3 (it was
    silently dropped before); under a new id it is stored."""
    put_outage(service, "surge")
    plan(service, "surge")
    second = service.stub.Replan(replan_with("surge", [SURGE_X2]), timeout=TIMEOUT)
    assert [s.id for s in second.signals] == ["C-surge"]

    third = service.stub.Replan(replan_with("surge", [SURGE_X2]), timeout=TIMEOUT)
    assert (third.version, [s.id for s in third.signals]) == (3, ["C-surge"])
    assert third.plan.objective == pytest.approx(second.plan.objective)

    before = store_snapshot(service.stub)
    x3 = replace(SURGE_X2, magnitude=3.0)
    for call in (
        lambda: service.stub.Replan(replan_with("surge", [x3]), timeout=TIMEOUT),
        lambda: list(service.stub.ReplanStream(replan_with("surge", [x3]), timeout=TIMEOUT)),
    ):
        err = refused(call)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
        assert "signal 'C-surge'" in err.details() and "magnitude" in err.details(), err.details()
        assert "plan version 3" in err.details() and "new id" in err.details()
    assert store_snapshot(service.stub) == before

    fourth = service.stub.Replan(replan_with("surge", [replace(x3, id="C-surge-x3")]), timeout=TIMEOUT)
    assert [s.id for s in fourth.signals] == ["C-surge", "C-surge-x3"]


def test_one_id_twice_in_a_request_is_invalid_argument(service: RunningServer) -> None:
    """Two signals named "C-surge" in one replan, with different or with the same content: the
    first is refused naming the differing field, the second as an id used twice; nothing is stored."""
    put_outage(service, "twice")
    plan(service, "twice")
    before = store_snapshot(service.stub)
    for signals, words in (
        ([SURGE_X2, replace(SURGE_X2, magnitude=3.0)], "magnitude"),
        ([SURGE_X2, SURGE_X2], "used twice"),
    ):
        err = refused(lambda signals=signals: service.stub.Replan(replan_with("twice", signals), timeout=TIMEOUT))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
        assert "signal 'C-surge'" in err.details() and words in err.details(), err.details()
    assert store_snapshot(service.stub) == before


# -- finding 11: idempotency keys ------------------------------------------------------------------


def test_a_key_replays_only_the_same_request_of_the_same_rpc(service: RunningServer) -> None:
    """Plan with key "k" stores version 1. A Replan with "k" is another RPC's key space: it
    replans (version 2) instead of returning the plan. Each request resent unchanged gets its
    version back; "k" with other content is ALREADY_EXISTS naming idempotency_key and the version
    that used it, and stores nothing."""
    put_outage(service, "keys")
    first = plan(service, "keys", idempotency_key="k")
    replanned = replan(service, "keys", idempotency_key="k")
    assert (first.version, replanned.version, replanned.baseline_version) == (1, 2, 1)
    assert [s.id for s in replanned.signals] == ["S1-down"]

    assert plan(service, "keys", idempotency_key="k") == first
    assert replan(service, "keys", idempotency_key="k") == replanned
    events = list(service.stub.ReplanStream(replan_request("keys", idempotency_key="k"), timeout=TIMEOUT))
    assert [e.version for e in events] == [replanned]

    before = store_snapshot(service.stub)
    other_plan = service_pb2.PlanRequest(network_id="keys", idempotency_key="k", options=EXACT)
    other_plan.options.time_limit_seconds = 7.0
    other_signals = replan_with("keys", [SURGE_X2], idempotency_key="k")
    stale_ok = replan_request("keys", idempotency_key="k", allow_stale_baseline=True)
    for call, version in (
        (lambda: service.stub.Plan(other_plan, timeout=TIMEOUT), 1),
        (lambda: service.stub.Replan(other_signals, timeout=TIMEOUT), 2),
        (lambda: list(service.stub.ReplanStream(other_signals, timeout=TIMEOUT)), 2),
        (lambda: service.stub.Replan(stale_ok, timeout=TIMEOUT), 2),
    ):
        err = refused(call)
        assert err.code() == grpc.StatusCode.ALREADY_EXISTS, err.details()
        assert "idempotency_key 'k'" in err.details() and f"plan version {version}" in err.details(), err.details()
    assert store_snapshot(service.stub) == before
    assert versions(service, "keys") == [1, 2]


def test_keys_are_scoped_per_network(service: RunningServer) -> None:
    """The same key on two networks makes a version on each."""
    put_outage(service, "keys-a")
    put_outage(service, "keys-b")
    assert plan(service, "keys-a", idempotency_key="shared").version == 1
    assert plan(service, "keys-b", idempotency_key="shared").version == 1
    assert versions(service, "keys-a") == versions(service, "keys-b") == [1]


_FINGERPRINT = """
import sys
from models.signals import Signal, SignalType
from solver.convert.ledger import request_fingerprint
from solver.options import SolveOptions
from solver.records import ReplanRequest
print(request_fingerprint(ReplanRequest(
    network_id="acme", baseline_version=3, idempotency_key=sys.argv[1], options=SolveOptions(mip_rel_gap=0.01),
    signals=(Signal("C-surge", SignalType.DEMAND_CHANGE, customer="C", magnitude=2.0),),
)))
"""


def test_the_fingerprint_is_the_same_in_every_process_and_ignores_only_the_key() -> None:
    """Two fresh interpreters with different hash seeds and keys agree with this one (the ledger
    compares fingerprints written by earlier server processes); any other field changes it."""
    from solver.options import SolveOptions

    request = ReplanRequest(
        network_id="acme", baseline_version=3, options=SolveOptions(mip_rel_gap=0.01), signals=(SURGE_X2,)
    )
    here = request_fingerprint(request)
    for seed, key in (("1", "a"), ("2", "another key")):
        out = subprocess.run(
            [sys.executable, "-c", _FINGERPRINT, key],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONHASHSEED": seed},
        )
        assert out.stdout.strip() == here
    assert len(here) == 64 and int(here, 16) >= 0  # a SHA-256 in hex
    changed = [
        replace(request, baseline_version=0),
        replace(request, signals=(replace(SURGE_X2, magnitude=3.0),)),
        replace(request, options=SolveOptions(mip_rel_gap=0.02)),
        replace(request, backend="ortools-highs"),
        replace(request, allow_stale_baseline=True),
        replace(request, first_answer=False),
        replace(request, settings=replace(request.settings, stability_weight=request.settings.stability_weight + 1)),
    ]
    assert len({here, *map(request_fingerprint, changed)}) == len(changed) + 1
    plan_request = PlanRequest(network_id="acme", network_version=3)
    assert request_fingerprint(plan_request) != request_fingerprint(replace(plan_request, network_version=2))
    assert request_fingerprint(plan_request) == request_fingerprint(replace(plan_request, idempotency_key="x"))


_SCHEMA_V2 = (
    """
    CREATE TABLE networks (
        network_id TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1), name TEXT NOT NULL,
        network BLOB NOT NULL, protocols BLOB, created_at TEXT NOT NULL, PRIMARY KEY (network_id, version)
    )
    """,
    """
    CREATE TABLE plans (
        network_id TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1),
        network_version INTEGER NOT NULL,
        baseline_version INTEGER NOT NULL CHECK (baseline_version >= 0 AND baseline_version < version),
        status TEXT NOT NULL, objective REAL, n_decisions INTEGER NOT NULL, n_needs_approval INTEGER NOT NULL,
        idempotency_key TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, signals BLOB NOT NULL,
        plan BLOB NOT NULL, extra BLOB NOT NULL DEFAULT x'',
        PRIMARY KEY (network_id, version),
        FOREIGN KEY (network_id, network_version) REFERENCES networks (network_id, version)
    )
    """,
    "CREATE UNIQUE INDEX plans_idempotency_key ON plans (network_id, idempotency_key) WHERE idempotency_key != ''",
    """
    CREATE TABLE decisions (
        network_id TEXT NOT NULL, plan_version INTEGER NOT NULL, idx INTEGER NOT NULL CHECK (idx >= 0),
        state TEXT NOT NULL CHECK (state IN ('not_required', 'pending', 'approved', 'rejected')),
        decided_by TEXT NOT NULL DEFAULT '', decided_at TEXT, note TEXT NOT NULL DEFAULT '', blob BLOB NOT NULL,
        PRIMARY KEY (network_id, plan_version, idx),
        FOREIGN KEY (network_id, plan_version) REFERENCES plans (network_id, version)
    )
    """,
    "CREATE INDEX decisions_by_state ON decisions (network_id, plan_version, state)",
)
"""The ledger's tables as schema version 2 (the release before keys were scoped) wrote them."""


def _old_ledger(path: Path) -> None:
    """A schema-2 file: network "acme", plan version 1 (key "k-plan") and replan version 2 (key
    "k-replan", one pending decision)."""
    raw = sqlite3.connect(path)
    for statement in _SCHEMA_V2:
        raw.execute(statement)
    now = "2026-01-01T00:00:00.000000+00:00"
    raw.execute("INSERT INTO networks VALUES ('acme', 1, 'Acme', x'01', NULL, ?)", (now,))
    for version, baseline, key in ((1, 0, "k-plan"), (2, 1, "k-replan")):
        raw.execute(
            "INSERT INTO plans (network_id, version, network_version, baseline_version, status, objective, "
            "n_decisions, n_needs_approval, idempotency_key, created_at, signals, plan) "
            "VALUES ('acme', ?, 1, ?, 'optimal', 1.0, 1, 1, ?, ?, x'', ?)",
            (version, baseline, key, now, b"plan-%d" % version),
        )
    raw.execute(
        "INSERT INTO decisions (network_id, plan_version, idx, state, blob) VALUES ('acme', 2, 0, 'pending', x'')"
    )
    raw.execute("PRAGMA user_version = 2")
    raw.commit()
    raw.close()


def test_a_schema_2_ledger_is_migrated_with_its_keys_scoped_by_kind(tmp_path: Path) -> None:
    """Opening a schema-2 file takes it to the current schema: version 1 (baseline 0) becomes a
    plan's key and version 2 a replan's; their keys still replay (they have no fingerprint, so any
    content does), the one-key-per-network index is gone (a replan may now use a plan's key), and
    the decisions are still there."""
    path = tmp_path / "old.db"
    _old_ledger(path)
    with SqlitePlanStore(path) as s:
        plans = {p.version: s.get_plan("acme", p.version) for p in s.list_plans("acme")}
        assert [(p.request_kind, p.request_hash) for p in plans.values()] == [("plan", ""), ("replan", "")]
        found = s.find_plan_by_key("acme", "k-plan", kind=RequestKind.PLAN, request_hash="f" * 64)
        assert found is not None and found.version == 1
        assert s.find_plan_by_key("acme", "k-plan", kind=RequestKind.REPLAN) is None
        replayed = s.find_plan_by_key("acme", "k-replan", kind=RequestKind.REPLAN, request_hash="e" * 64)
        assert replayed is not None and replayed.version == 2
        third = s.add_plan(
            "acme",
            network_version=1,
            baseline_version=2,
            signals=b"",
            plan=b"plan-3",
            status="optimal",
            objective=1.0,
            decisions=[DecisionInput(0, False, b"")],
            idempotency_key="k-plan",
            request_kind=RequestKind.REPLAN,
            request_hash="a" * 64,
        )
        assert (third.version, third.request_kind) == (3, "replan")
        assert [d.state for d in s.list_decisions("acme", 2)] == [DecisionState.PENDING]
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {row[1] for row in raw.execute("PRAGMA index_list(plans)")}
    assert "plans_request_key" in indexes and "plans_idempotency_key" not in indexes
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


def test_the_store_refuses_a_key_reused_for_other_content(ledger: Ledger) -> None:
    """In the store's own transaction: the same (network, kind, key) with another fingerprint is
    `IdempotencyConflict` naming the version, with the same one the stored version, in the other
    kind a new version (on either store)."""
    with ledger.open() as s:
        s.put_network("acme", "Acme", b"n", None)

        def add(kind: RequestKind, request_hash: str, baseline: int = 0) -> int:
            return s.add_plan(
                "acme",
                network_version=1,
                baseline_version=baseline,
                signals=b"",
                plan=b"p",
                status="optimal",
                objective=0.0,
                decisions=[],
                idempotency_key="k",
                request_kind=kind,
                request_hash=request_hash,
            ).version

        assert add(RequestKind.PLAN, "h1") == 1
        assert add(RequestKind.PLAN, "h1") == 1
        with pytest.raises(
            IdempotencyConflict, match="idempotency_key 'k' was used by the plan that stored plan version 1"
        ):
            add(RequestKind.PLAN, "h2")
        with pytest.raises(IdempotencyConflict):
            s.find_plan_by_key("acme", "k", kind=RequestKind.PLAN, request_hash="h2")
        assert add(RequestKind.REPLAN, "h2", baseline=1) == 2
        assert s.latest_plan_version("acme") == 2


# -- finding 12: decisions of a superseded version ---------------------------------------------------


def test_only_the_latest_versions_decisions_can_be_decided(service: RunningServer) -> None:
    """Versions 2 and 3 both escalate the day-2 purchase (the outage under a spend limit of 50).
    Once version 3 is stored, approving or rejecting version 2's pending decision is
    FAILED_PRECONDITION naming both versions, and it stays pending; version 3's can be approved."""
    put_outage(service, "superseded")
    plan(service, "superseded")
    second = replan(service, "superseded")
    third = replan(service, "superseded")
    assert (second.version, third.version) == (2, 3)
    [old] = service.client.decisions("superseded", 2, DecisionState.PENDING)
    for call in (
        lambda: service.client.approve("superseded", 2, old.index, "procurement director"),
        lambda: service.client.reject("superseded", 2, old.index, "coo"),
    ):
        err = refused(call)
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
        assert "plan version 2" in err.details() and "plan version 3 superseded it" in err.details()
    assert [d.index for d in service.client.decisions("superseded", 2, DecisionState.PENDING)] == [old.index]

    [new] = service.client.decisions("superseded", 3, DecisionState.PENDING)
    approved = service.client.approve("superseded", 3, new.index, "procurement director")
    assert approved.state == DecisionState.APPROVED


def test_the_store_checks_the_latest_version_inside_its_transaction(ledger: Ledger) -> None:
    """A decision of version 1 once version 2 exists: `SupersededPlan` with both versions."""
    with ledger.open() as s:
        s.put_network("acme", "Acme", b"n", None)
        for baseline in (0, 1):
            s.add_plan(
                "acme",
                network_version=1,
                baseline_version=baseline,
                signals=b"",
                plan=b"p",
                status="optimal",
                objective=0.0,
                decisions=[DecisionInput(0, True, b"d")],
            )
        with pytest.raises(SupersededPlan) as info:
            s.decide("acme", 1, 0, approve=True, decided_by="coo")
        assert (info.value.plan_version, info.value.latest) == (1, 2)
        assert s.decide("acme", 2, 0, approve=False, decided_by="coo").state == DecisionState.REJECTED


# -- finding 13: a replan whose baseline is superseded while it solves --------------------------------

SLOW = service_pb2.SolveOptions(mip_rel_gap=1e-9, time_limit_seconds=120)
"""Benchmark network "S" replanned to a 1e-9 gap: about 20 s of HiGHS."""
FAST = service_pb2.SolveOptions(mip_rel_gap=0.01)
"""...and to a 1% gap: about a second."""


def replan_s(network_id: str, options: service_pb2.SolveOptions, **fields: object) -> service_pb2.ReplanRequest:
    return service_pb2.ReplanRequest(
        network_id=network_id,
        baseline_version=1,
        options=options,
        settings=service_pb2.ReplanSettings(skip_first_answer=True),
        **fields,  # type: ignore[arg-type]
    )


def put_s(service: RunningServer, network_id: str) -> None:
    service.client.put_network(network_id, generate("S", seed=0), timeout=TIMEOUT)
    service.stub.Plan(service_pb2.PlanRequest(network_id=network_id, options=FAST), timeout=TIMEOUT)


def test_a_solving_replan_stops_when_another_version_lands(service: RunningServer) -> None:
    """Two slow replans from version 1 (one streamed, one unary) are solving when a fast one from
    version 1 stores version 2: both end FAILED_PRECONDITION naming version 2 (not CANCELLED, and
    without their 20 s solve), their two workers are stopped (the pool replaces them), and version 2
    is the only one stored. A replan from version 1 asked for afterwards is refused before it is
    queued."""
    put_s(service, "race")
    pool = service.servicer.pool
    outcomes: dict[str, grpc.RpcError | object] = {}
    solving = threading.Event()

    def streamed() -> None:
        try:
            for event in service.stub.ReplanStream(replan_s("race", SLOW), timeout=120):
                if event.progress.phase == "solving":
                    solving.set()
            outcomes["stream"] = "answered"
        except grpc.RpcError as err:
            outcomes["stream"] = err

    def unary() -> None:
        try:
            outcomes["unary"] = service.stub.Replan(replan_s("race", SLOW), timeout=120)
        except grpc.RpcError as err:
            outcomes["unary"] = err

    threads = [threading.Thread(target=streamed, daemon=True), threading.Thread(target=unary, daemon=True)]
    for thread in threads:
        thread.start()
    assert solving.wait(TIMEOUT), "the streamed replan never started solving"
    assert wait_until(lambda: pool.stats().running == 2, TIMEOUT), pool.stats()
    pids_while_solving = set(pool.stats().worker_pids)

    winner = service.stub.Replan(replan_s("race", FAST), timeout=TIMEOUT)
    assert (winner.version, winner.baseline_version) == (2, 1)
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a superseded replan kept solving"
    for name in ("stream", "unary"):
        err = outcomes[name]
        assert isinstance(err, grpc.RpcError), (name, err)
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, (name, err.details())
        assert "expected plan version 1 to be the latest, but version 2 is" in err.details()

    assert wait_until(lambda: pool.stats().running == 0, TIMEOUT), pool.stats()
    assert len(pids_while_solving - set(pool.stats().worker_pids)) == 2, "the two losers' workers were not stopped"
    assert versions(service, "race") == [1, 2]

    err = refused(lambda: service.stub.Replan(replan_s("race", FAST), timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "version 2" in err.details()
    assert pool.stats().running == 0
    assert pool.wait_ready(TIMEOUT)


def test_a_replan_that_allows_a_stale_baseline_is_not_stopped(service: RunningServer) -> None:
    """A replan from version 1 with allow_stale_baseline (stopped by its 4 s time limit, with an
    incumbent: a plan) is solving when a fast replan stores version 2; it goes on and stores
    version 3 from baseline 1."""
    put_s(service, "tolerant")
    bystander = replan_s("tolerant", service_pb2.SolveOptions(mip_rel_gap=1e-9, time_limit_seconds=4))
    bystander.allow_stale_baseline = True
    landed = threading.Event()
    outcome: dict[str, object] = {}
    solving = threading.Event()

    def run() -> None:
        try:
            for event in service.stub.ReplanStream(bystander, timeout=120):
                if event.progress.phase == "solving":
                    solving.set()
                if event.HasField("version"):
                    outcome["version"] = event.version
                    outcome["after_the_winner"] = landed.is_set()
        except grpc.RpcError as err:
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert solving.wait(TIMEOUT)
    winner = service.stub.Replan(replan_s("tolerant", FAST), timeout=TIMEOUT)
    landed.set()
    thread.join(timeout=TIMEOUT)
    assert "error" not in outcome, outcome
    assert winner.version == 2
    stored = outcome["version"]
    assert isinstance(stored, service_pb2.PlanVersion)
    assert (stored.version, stored.baseline_version) == (3, 1)
    assert outcome["after_the_winner"] is True, "the bystander finished before the winner landed"
    assert versions(service, "tolerant") == [1, 2, 3]


# -- finding 4: a response too large is never stored -------------------------------------------------


def test_a_plan_over_the_response_limit_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    """The short-outage plan's version is about 570 bytes, counted with a 1 KiB allowance for the
    message around its blobs: under a limit of 1,200 bytes Plan and Replan are INVALID_ARGUMENT
    naming "response" and the limit, and the ledger is unchanged (the client's status and the
    ledger agree); with the default limit the same requests store versions 1 and 2."""
    config = ServerConfig(store_path=tmp_path / "small.db", workers=1, queue_size=0)
    with running_server(config) as small:
        assert small.servicer.service.max_response_bytes == config.limits.response_bytes
        put_outage(small, "big-answer")
        small.servicer.service.max_response_bytes = 1200
        before = store_snapshot(small.stub)
        err = refused(lambda: plan(small, "big-answer"))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
        assert "response" in err.details() and "limit of 1,200 bytes" in err.details(), err.details()
        assert "nothing was stored" in err.details()
        assert store_snapshot(small.stub) == before

        small.servicer.service.max_response_bytes = config.limits.response_bytes
        first = plan(small, "big-answer")
        small.servicer.service.max_response_bytes = 1200
        for call in (
            lambda: replan(small, "big-answer"),
            lambda: list(small.stub.ReplanStream(replan_request("big-answer"), timeout=TIMEOUT)),
        ):
            err = refused(call)
            assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "response" in err.details(), err.details()
        assert versions(small, "big-answer") == [first.version] == [1]
        small.servicer.service.max_response_bytes = config.limits.response_bytes
        assert replan(small, "big-answer").version == 2
