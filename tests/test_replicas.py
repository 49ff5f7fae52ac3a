"""Replicas: two real `concerto serve` processes on one PostgreSQL ledger behave as one service.
Concurrent replans from one baseline store one version; a watcher on one replica sees a version
stored through the other; a network's orchestrator moves to the surviving replica when its holder
is killed mid-replan; a retried request with the same idempotency key stores one version; a replica
stopped with SIGTERM says NOT_SERVING and exits."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from models.protocols.spec import Approver
from models.replanning import ReplanOptions
from solver.client import ConcertoClient
from solver.options import SolveOptions
from solver.records import NetworkSettings, StoredPlan
from tests.service_harness import ServerProcess
from tests.test_always_on import outage
from tests.test_auth import late_backup_protocols
from tests.test_protocols import OUTAGE_DAY_0, outage_network

TIMEOUT = 90.0
EXACT = SolveOptions(mip_rel_gap=0.0, time_limit=30.0)
COLD = ReplanOptions(stability_weight=0.0)


def wait_for(condition: Callable[[], object], what: str, timeout: float = TIMEOUT) -> object:
    stop_at = time.monotonic() + timeout
    while time.monotonic() < stop_at:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def replicas(postgres_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Replicas "a" and "b", one worker each, on one fresh PostgreSQL database."""
    a = ServerProcess(postgres_url, tmp_path, replica="a", grace_seconds=5.0)
    b = ServerProcess(postgres_url, tmp_path, replica="b", grace_seconds=5.0)
    try:
        yield a, b
    finally:
        a.kill()
        b.kill()


def stored(client: ConcertoClient, network_id: str) -> ConcertoClient:
    client.wait_ready(TIMEOUT)
    client.put_network(network_id, outage_network(), late_backup_protocols(Approver(role="procurement director")))
    client.plan(network_id, options=EXACT)
    return client


def test_concurrent_replans_through_two_replicas_store_one_version(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = replicas
    with ConcertoClient(a.target) as ca, ConcertoClient(b.target) as cb:
        stored(ca, "race")
        cb.wait_ready(TIMEOUT)
        outcomes: list[object] = []

        def replan(client: ConcertoClient) -> None:
            try:
                outcomes.append(client.replan("race", [OUTAGE_DAY_0], baseline_version=1, options=EXACT, settings=COLD))
            except grpc.RpcError as err:
                outcomes.append(err.code())

        threads = [threading.Thread(target=replan, args=(c,)) for c in (ca, cb)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        versions = [o for o in outcomes if isinstance(o, StoredPlan)]
        assert len(versions) == 1 and versions[0].version == 2
        assert [o for o in outcomes if not isinstance(o, StoredPlan)] == [grpc.StatusCode.FAILED_PRECONDITION]
        assert [p.version for p in cb.list_plans("race")] == [1, 2]


def test_a_watcher_on_one_replica_sees_a_version_stored_through_the_other(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = replicas
    with ConcertoClient(a.target) as ca, ConcertoClient(b.target) as cb:
        stored(ca, "watched")
        cb.wait_ready(TIMEOUT)
        seen: list[StoredPlan] = []

        def watch() -> None:
            for version in cb.watch("watched", 1):
                seen.append(version)
                return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        time.sleep(0.5)
        made = ca.replan("watched", [OUTAGE_DAY_0], options=EXACT, settings=COLD)
        watcher.join(TIMEOUT)
        assert [v.version for v in seen] == [made.version]


def test_the_orchestrator_moves_to_the_surviving_replica(
    replicas: tuple[ServerProcess, ServerProcess], postgres_url: str
) -> None:
    """A signal published through replica "a" opens a 3 s coalescing window; within a second one
    replica takes the network's lease (both look every second). That replica is killed before the
    window closes, so before its replan; the other takes the lease once it expires (5 s) and answers
    the signal: the final plan, 410, stored by the survivor, whose lease it now is."""
    a, b = replicas
    with ConcertoClient(a.target) as ca, ConcertoClient(b.target) as cb:
        stored(ca, "failover")
        cb.wait_ready(TIMEOUT)
        settings = NetworkSettings(automatic=True, window_seconds=3.0, replan=COLD, options=EXACT, first_answer=False)
        ca.set_settings("failover", settings)
        ca.publish("failover", [outage()])
        holder = wait_for(lambda: _lease_holder(postgres_url, "failover"), "a lease on the network", timeout=30.0)
        victim, survivor, heir = (a, cb, "b") if holder == "a" else (b, ca, "a")
        victim.kill()
        assert [p.version for p in survivor.list_plans("failover")] == [1]  # the victim replanned nothing
        final = wait_for(
            lambda: (p := survivor.get_plan("failover")).trigger == "inbox" and p, "the final plan from the survivor"
        )
        assert isinstance(final, StoredPlan) and final.plan.objective == pytest.approx(410)
        assert _lease_holder(postgres_url, "failover") == heir


def test_a_retry_through_the_other_replica_stores_one_version(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = replicas
    with ConcertoClient(a.target) as ca, ConcertoClient(b.target) as cb:
        stored(ca, "retried")
        cb.wait_ready(TIMEOUT)
        first = ca.replan("retried", [OUTAGE_DAY_0], options=EXACT, settings=COLD, idempotency_key="k-1")
        a.kill()
        again = cb.replan("retried", [OUTAGE_DAY_0], options=EXACT, settings=COLD, idempotency_key="k-1")
        assert again.version == first.version == 2
        assert [p.version for p in cb.list_plans("retried")] == [1, 2]


def test_sigterm_says_not_serving_then_exits(replicas: tuple[ServerProcess, ServerProcess]) -> None:
    """A health watcher of replica "a" hears SERVING, then NOT_SERVING once SIGTERM arrives; the
    replica then exits by itself with code 0 (the harness's terminate waits for that)."""
    a, _ = replicas
    with ConcertoClient(a.target) as ca:
        ca.wait_ready(TIMEOUT)
        statuses = health_pb2_grpc.HealthStub(ca.channel).Watch(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)
        assert next(statuses).status == health_pb2.HealthCheckResponse.SERVING
        a.process.send_signal(signal.SIGTERM)
        heard = [health_pb2.HealthCheckResponse.ServingStatus.Name(m.status) for m in _until_closed(statuses)]
        assert heard[:1] == ["NOT_SERVING"]
        assert a.process.wait(timeout=TIMEOUT) == 0


def _until_closed(stream: Iterator[health_pb2.HealthCheckResponse]) -> Iterator[health_pb2.HealthCheckResponse]:
    try:
        yield from stream
    except grpc.RpcError:
        return


def _lease_holder(url: str, network_id: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT holder FROM leases WHERE network_id = %s", (network_id,)).fetchone()
    return None if row is None else str(row[0])
