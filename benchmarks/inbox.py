"""Detection to response through the inbox: the time from `PublishSignals` returning to the first
and the final automatic plan version reaching a `WatchPlans` subscriber, against the replan's own
time in its worker (part of `python -m benchmarks service`).

One server (the service benchmark's workers), the network planned and set automatic with a
coalescing window of 0 (the window is a deliberate wait, not overhead). Each round publishes the
supplier outage of `demo_signals_for` under a new source id and cancels the previous round's, so
every round answers one outage from the previous round's plan. A `WatchPlans` subscriber on the
same machine notes when each version arrives. Overhead = arrival - the worker's own seconds to that
answer (`ReplanInfo.first_plan_seconds` for the first coordinated plan, `ready_seconds` for the
final one): the orchestrator's reaction, queueing, storing and streaming, not the solve.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from queue import Empty, Queue
from typing import Any

from models.replanning import ReplanOptions
from models.signals import Signal
from solver.client import ConcertoClient
from solver.options import SolveOptions
from solver.records import NetworkSettings, PublishedSignal, SignalChange, StoredPlan

DEFAULT_INBOX_ROUNDS = {"S": 10, "M": 2}
"""Rounds per size when `--inbox-rounds` is not given."""
INBOX_TARGETS = {"S": ("ms", 50.0), "M": ("share", 0.05)}
"""The issue's targets: under 50 ms of overhead at S, under 5% of the replan's time at M."""
INBOX_REPLAN = {
    "S": ReplanOptions(),
    "M": ReplanOptions(stability_weight=0.0),
}
"""The automatic replans' settings: the defaults at S; at M no stability penalty, whose full replan
took about two minutes on one thread (the service benchmark's `DEFAULT_SETTINGS_SIZES`)."""


@dataclass
class InboxResult:
    """Publish to first and final automatic version at a watcher, per round; seconds."""

    size: str
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def _median(self, key: str) -> float:
        values = [r[key] for r in self.rounds if r.get(key) is not None]
        return statistics.median(values) if values else float("nan")

    @property
    def first_latency(self) -> float:
        return self._median("first_latency")

    @property
    def final_latency(self) -> float:
        return self._median("final_latency")

    @property
    def first_overhead(self) -> float:
        return self._median("first_overhead")

    @property
    def final_overhead(self) -> float:
        return self._median("final_overhead")

    @property
    def final_worker(self) -> float:
        return self._median("final_worker")

    @property
    def overhead_share(self) -> float:
        """Final overhead over the replan's own time (medians)."""
        return self.final_overhead / self.final_worker if self.final_worker > 0 else float("nan")

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> InboxResult:
        return cls(summary["size"], list(summary["rounds"]))

    def summary(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "rounds": self.rounds,
            "first_latency": self.first_latency,
            "final_latency": self.final_latency,
            "first_overhead": self.first_overhead,
            "final_overhead": self.final_overhead,
            "final_worker": self.final_worker,
            "overhead_share": self.overhead_share,
        }


def measure_inbox(
    client: ConcertoClient,
    target: str,
    network_id: str,
    outage_signal: Signal,
    size: str,
    rounds: int,
    options: SolveOptions,
    *,
    timeout: float,
    progress: Callable[[str], None] = print,
) -> InboxResult:
    """`rounds` publish-to-watcher measurements on a network already stored and planned."""
    client.set_settings(
        network_id,
        NetworkSettings(
            automatic=True, window_seconds=0.0, replan=INBOX_REPLAN.get(size, ReplanOptions()), options=options
        ),
    )
    arrivals: Queue[tuple[float, StoredPlan]] = Queue()
    start_version = client.get_plan(network_id).version
    watcher_client = ConcertoClient(target)
    stop = threading.Event()

    def watch() -> None:
        try:
            for version in watcher_client.watch(network_id, start_version):
                arrivals.put((time.perf_counter(), version))
                if stop.is_set():
                    return
        except Exception:  # the stream ends when the client closes
            return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    result = InboxResult(size)
    previous: str | None = None
    try:
        for k in range(rounds):
            source_id = f"bench-{k}"
            batch = [
                PublishedSignal(
                    source="bench", source_id=source_id, signal=replace(outage_signal, id=f"bench:{source_id}")
                )
            ]
            if previous is not None:
                batch.append(PublishedSignal(source="bench", source_id=previous, change=SignalChange.CANCEL))
            client.publish(network_id, batch, timeout=timeout)
            published = time.perf_counter()
            first: tuple[float, StoredPlan] | None = None
            final: tuple[float, StoredPlan] | None = None
            deadline = published + timeout
            while final is None and time.perf_counter() < deadline:
                try:
                    at, version = arrivals.get(timeout=0.5)
                except Empty:
                    continue
                if version.trigger == "inbox-first":
                    first = (at, version)
                elif version.trigger == "inbox":
                    final = (at, version)
            if final is None:
                raise TimeoutError(f"round {k}: no automatic plan version within {timeout:g} s")
            row: dict[str, Any] = {"round": k, "final_version": final[1].version}
            info = final[1].replan
            row["final_latency"] = final[0] - published
            row["final_worker"] = info.ready_seconds if info is not None else None
            row["final_overhead"] = None if info is None else row["final_latency"] - info.ready_seconds
            if first is not None:
                first_info = first[1].replan
                row["first_latency"] = first[0] - published
                row["first_worker"] = first_info.ready_seconds if first_info is not None else None
                row["first_overhead"] = None if first_info is None else row["first_latency"] - first_info.ready_seconds
            result.rounds.append(row)
            first_ms = 1000 * row.get("first_latency", float("nan"))
            progress(
                f"  inbox round {k + 1}/{rounds}: first version after {first_ms:.1f} ms, final after "
                f"{1000 * row['final_latency']:.1f} ms (worker {1000 * (row['final_worker'] or 0):.1f} ms)"
            )
            previous = source_id
    finally:
        stop.set()
        watcher_client.close()
        thread.join(timeout=5)
    return result


def inbox_report(results: list[InboxResult]) -> list[str]:
    """The Markdown lines of the inbox measurement, with each size's target."""
    if not results:
        return []
    lines = [
        "",
        "Detection to response through the inbox: PublishSignals returning -> the automatic plan version at a "
        "WatchPlans subscriber (coalescing window 0); overhead = that time - the worker's own time to the answer; "
        "medians in ms",
        "",
        "| size | rounds | first version | first overhead | final version | worker | final overhead | share |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.size} | {len(r.rounds)} | {1000 * r.first_latency:.1f} | {1000 * r.first_overhead:.1f} | "
            f"{1000 * r.final_latency:.1f} | {1000 * r.final_worker:.1f} | {1000 * r.final_overhead:.1f} | "
            f"{100 * r.overhead_share:.2f}% |"
        )
    lines.append("")
    for r in results:
        kind, bound = INBOX_TARGETS.get(r.size, ("ms", 50.0))
        if kind == "ms":
            met = r.final_overhead * 1000 < bound and r.first_overhead * 1000 < bound
            lines.append(
                f"- {r.size}: inbox overhead under {bound:g} ms: first {1000 * r.first_overhead:.1f} ms, final "
                f"{1000 * r.final_overhead:.1f} ms, {'met' if met else 'NOT met'}"
            )
        else:
            met = r.overhead_share < bound
            lines.append(
                f"- {r.size}: inbox overhead under {100 * bound:g}% of the replan: {100 * r.overhead_share:.2f}% "
                f"({1000 * r.final_overhead:.1f} ms of {r.final_worker:.2f} s), {'met' if met else 'NOT met'}"
            )
    return lines
