"""The PostgreSQL ledger and its replicas, measured (part of `python -m benchmarks service --store
postgresql://...`):

- the same replan at S on a server whose ledger is SQLite and on one whose ledger is PostgreSQL, side
  by side (1 worker each), in alternating rounds: median wall of each and the ratio;
- throughput: concurrent replans on 1 replica with 1 worker against 2 replicas with 1 worker each,
  both on the one PostgreSQL database, the clients spread over the replicas, in alternating rounds.

Every replan allows a stale baseline (each answers the same outage against the first plan), so
replicas never refuse each other's work; the ledger still allocates every version atomically.
"""

from __future__ import annotations

import contextlib
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from models.replanning import ReplanOptions
from solver.client import ConcertoClient
from solver.options import SolveOptions

STORE_TARGET = 0.10
"""PostgreSQL's replan wall may be at most this share above SQLite's at S."""
REPLICA_TARGET = 1.7
"""2 replicas x 1 worker against 1 replica x 1 worker: the least throughput ratio."""


@dataclass
class ReplicaResult:
    """Medians and totals; seconds."""

    size: str
    store_rounds: list[dict[str, Any]] = field(default_factory=list)
    throughput_rounds: list[dict[str, Any]] = field(default_factory=list)

    def median(self, rows: list[dict[str, Any]], key: str) -> float:
        values = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else float("nan")

    @property
    def sqlite_wall(self) -> float:
        return self.median(self.store_rounds, "sqlite")

    @property
    def postgres_wall(self) -> float:
        return self.median(self.store_rounds, "postgres")

    @property
    def store_ratio(self) -> float:
        return self.postgres_wall / self.sqlite_wall if self.sqlite_wall > 0 else float("nan")

    @property
    def one_replica(self) -> float:
        return self.median(self.throughput_rounds, "one")

    @property
    def two_replicas(self) -> float:
        return self.median(self.throughput_rounds, "two")

    @property
    def replica_ratio(self) -> float:
        return self.two_replicas / self.one_replica if self.one_replica > 0 else float("nan")

    def summary(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "store_rounds": self.store_rounds,
            "throughput_rounds": self.throughput_rounds,
            "sqlite_wall": self.sqlite_wall,
            "postgres_wall": self.postgres_wall,
            "store_ratio": self.store_ratio,
            "one_replica_replans_per_second": self.one_replica,
            "two_replicas_replans_per_second": self.two_replicas,
            "replica_ratio": self.replica_ratio,
        }


@contextlib.contextmanager
def _server(store: str | Path, replica: str, time_limit: float) -> Iterator[str]:
    """`concerto serve` with 1 worker on `store` in a process of its own, as a replica runs; its
    address once it serves and its worker is ready."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "solver.cli",
            "serve",
            "--address",
            "127.0.0.1:0",
            "--store",
            str(store),
            "--workers",
            "1",
            "--queue",
            "4",
            "--replica",
            replica,
            "--time-limit",
            str(time_limit),
            "--grace",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "serving on port" not in line:
            raise RuntimeError(f"replica {replica} did not start: {line.strip()!r}")
        target = f"127.0.0.1:{int(line.rsplit(' ', 1)[1])}"
        with ConcertoClient(target) as client:
            client.wait_ready(120.0)
        yield target
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _replan(client: ConcertoClient, network_id: str, outage: Any, options: SolveOptions, timeout: float) -> float:
    """One replan of the outage against plan version 1, one solve (no stability penalty, no first
    answer), retried while the queue is full; its wall."""
    while True:
        start = time.perf_counter()
        try:
            client.replan(
                network_id,
                [outage],
                baseline_version=1,
                options=options,
                allow_stale_baseline=True,
                settings=ReplanOptions(stability_weight=0.0),
                first_answer=False,
                timeout=timeout,
            )
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
            time.sleep(0.02)
            continue
        return time.perf_counter() - start


def _throughput(
    targets: Sequence[str], network_id: str, outage: Any, options: SolveOptions, clients: int, each: int, timeout: float
) -> float:
    """Replans per second of `clients` threads (spread over `targets`) doing `each` replans."""
    barrier = threading.Barrier(clients + 1)

    def loop(index: int) -> float:
        try:
            with ConcertoClient(targets[index % len(targets)]) as client:
                client.wait_ready()
                barrier.wait()
                for _ in range(each):
                    _replan(client, network_id, outage, options, timeout)
                return time.perf_counter()
        except BaseException:
            barrier.abort()
            raise

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(loop, i) for i in range(clients)]
        barrier.wait()
        start = time.perf_counter()
        finish = max(f.result() for f in futures)
    return clients * each / (finish - start)


def measure_replicas(
    postgres_url: str,
    inp: Any,
    *,
    size: str,
    rounds: int,
    options: SolveOptions,
    clients: int = 4,
    replans_per_client: int = 5,
    timeout: float = 240.0,
    progress: Callable[[str], None] = print,
) -> ReplicaResult:
    """See the module docstring; `inp` is the service benchmark's prepared input (spec, protocols,
    outage)."""
    result = ReplicaResult(size)
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        sqlite_target = stack.enter_context(_server(Path(tmp) / "bench.db", "sqlite", options.time_limit))
        pg_target = stack.enter_context(_server(postgres_url, "pg-a", options.time_limit))
        pg_second = stack.enter_context(_server(postgres_url, "pg-b", options.time_limit))
        for target, network_id in (
            (sqlite_target, "bench-sqlite"),
            (pg_target, "bench-pg-1"),
            (pg_target, "bench-pg-2"),
        ):
            with ConcertoClient(target) as client:
                client.wait_ready()
                client.put_network(network_id, inp.spec, inp.protocols, timeout=timeout)
                client.plan(network_id, options=options, timeout=timeout)
        for target, network_id in (
            (sqlite_target, "bench-sqlite"),
            (pg_target, "bench-pg-1"),
            (pg_second, "bench-pg-2"),
        ):
            with ConcertoClient(target) as client:  # a first replan on every server: its worker is warm
                _replan(client, network_id, inp.outage, options, timeout)
        with ConcertoClient(sqlite_target) as lite, ConcertoClient(pg_target) as pg:
            for k in range(rounds):
                order = [("sqlite", lite, "bench-sqlite"), ("postgres", pg, "bench-pg-1")]
                if k % 2:
                    order.reverse()
                row: dict[str, Any] = {"round": k}
                for name, client, network_id in order:
                    row[name] = _replan(client, network_id, inp.outage, options, timeout)
                result.store_rounds.append(row)
                progress(
                    f"  ledger round {k + 1}/{rounds}: sqlite {row['sqlite']:.3f} s, postgres {row['postgres']:.3f} s"
                )
        for k in range(rounds):
            row = {"round": k}
            plans = [("one", [pg_target]), ("two", [pg_target, pg_second])]
            if k % 2:
                plans.reverse()
            for name, targets in plans:
                row[name] = _throughput(
                    targets, "bench-pg-2", inp.outage, options, clients, replans_per_client, timeout
                )
            result.throughput_rounds.append(row)
            progress(f"  replicas round {k + 1}/{rounds}: 1 replica {row['one']:.2f}/s, 2 replicas {row['two']:.2f}/s")
    return result


def replicas_report(result: ReplicaResult) -> list[str]:
    ms = 1000.0
    return [
        "",
        f"PostgreSQL ledger and replicas at {result.size} (1 worker per server; medians over "
        f"{len(result.store_rounds)} alternating rounds):",
        "",
        "| measure | SQLite / 1 replica | PostgreSQL / 2 replicas | ratio | target |",
        "|---|---|---|---|---|",
        f"| replan wall, ms | {ms * result.sqlite_wall:.1f} | {ms * result.postgres_wall:.1f} | "
        f"{result.store_ratio:.3f}x | within {100 * STORE_TARGET:.0f}%: "
        f"{'met' if result.store_ratio <= 1 + STORE_TARGET else 'NOT met'} |",
        f"| replans/s on one PostgreSQL database | {result.one_replica:.2f} | {result.two_replicas:.2f} | "
        f"{result.replica_ratio:.2f}x | at least {REPLICA_TARGET}x: "
        f"{'met' if result.replica_ratio >= REPLICA_TARGET else 'NOT met'} |",
    ]
