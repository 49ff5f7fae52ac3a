"""The suite on Ray (`python -m benchmarks run --ray [ADDRESS]`): each case is one Ray task that
runs `run_case` exactly as a local worker process does, on a local Ray (started here with as many
CPUs as `--jobs`, or the machine's cores) or on an existing cluster by address.

What stays per task: the reference solve. `run_case` solves the reference model itself, right
before its scenario, in the task's own process on the node that runs it, so every solve-time ratio
is measured against the machine it ran on and the gate stays valid on heterogeneous nodes. A task
also refuses to run (an error result, a gate failure) on a node whose HiGHS differs from this
process's, since the baseline records one version.

The task process is a Ray worker: a fresh interpreter that imports what `run_case` imports
(highspy, never ortools, which `OrToolsBackend` keeps in its own child processes), as the local
runner's spawned workers do. Results are the same plain-JSON records the local runner returns, so
the report, the gate and the baseline read them unchanged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.suite.runner import _safe_run, progress_bar
from benchmarks.suite.scenarios import Case

LOCAL = "local"
"""`--ray` without an address: start a local Ray for this run and stop it afterwards (Ray's own
`ray.init(address="local")`)."""
RAY_HINT = "the suite on Ray needs Ray: pip install 'concerto[ray]'"


def ray_module() -> Any:
    """The `ray` package, or ImportError naming the extra that installs it."""
    try:
        import ray
    except ImportError as err:
        raise ImportError(RAY_HINT) from err
    return ray


def _error(case: Case, message: str) -> dict[str, Any]:
    return {"scenario": case.scenario.name, "size": case.size, "seed": case.scenario.seed, "error": message}


def ray_task(case: Case, highs: str) -> dict[str, Any]:
    """One case in a Ray task: its reference solve and its scenario, here on this node, on the same
    HiGHS as the process that submitted it (`highs`)."""
    import platform

    from solver.backends.highs import HIGHS_VERSION

    if highs != HIGHS_VERSION:
        return _error(case, f"node {platform.node()} has HiGHS {HIGHS_VERSION}, the suite runs on {highs}")
    return _safe_run(case)


def run_cases_on_ray(
    cases: Sequence[Case],
    address: str = LOCAL,
    *,
    jobs: int | None = None,
    progress: Callable[[int, int, str, float], None] | None = progress_bar,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the cases as Ray tasks and return their results in the order of `cases`, with what the
    report's settings say about the Ray run (address, CPUs, seconds to connect).

    `address` LOCAL starts a local Ray with `jobs` CPUs (default: the machine's cores) and stops it
    when done; any other address connects to that cluster (`ray.init(address=...)`: "auto", or
    "HOST:PORT", or "ray://HOST:10001") and, when `jobs` is given, keeps at most that many tasks in
    flight. An already initialised Ray (a test's, a notebook's) is used as it is and left running.
    Each task asks for as many CPUs as its case's HiGHS threads."""
    ray = ray_module()
    from solver.backends.highs import HIGHS_VERSION

    began = time.perf_counter()
    started_here = not ray.is_initialized()
    if started_here:
        if address == LOCAL:
            # address "local": a new Ray even when RAY_ADDRESS or a `ray start` on this machine names another
            ray.init(address=LOCAL, num_cpus=jobs or os.cpu_count() or 1, include_dashboard=False)
        else:
            ray.init(address=address)
    try:
        connected = time.perf_counter() - began
        cpus = int(ray.cluster_resources().get("CPU", 0))
        in_flight_cap = len(cases) if (address == LOCAL or not jobs) else max(jobs, 1)
        task = ray.remote(ray_task)
        results: dict[str, dict[str, Any]] = {}
        waiting = list(cases)
        running: dict[Any, Case] = {}
        if progress:
            progress(0, len(cases), "", began)
        while waiting or running:
            while waiting and len(running) < in_flight_cap:
                case = waiting.pop(0)
                threads = min(case.threads, cpus) if address == LOCAL and cpus else case.threads
                running[task.options(num_cpus=threads).remote(case, HIGHS_VERSION)] = case
            [ref], _ = ray.wait(list(running), num_returns=1)
            case = running.pop(ref)
            try:
                results[case.key] = ray.get(ref)
            except Exception as err:  # a task whose worker or node died: a gate failure, not a crash
                results[case.key] = _error(case, f"Ray task failed: {err!r}")
            if progress:
                progress(len(results), len(cases), case.key, began)
    finally:
        if started_here:
            ray.shutdown()
    settings = {"address": address, "cpus": cpus, "connect_seconds": round(connected, 3)}
    return [results[c.key] for c in cases], settings
