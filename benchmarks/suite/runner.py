"""Running a suite: its cases in spawned worker processes (or in this one), with a progress bar,
gathered into one report."""

from __future__ import annotations

import multiprocessing as mp
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from benchmarks.suite.report import performance
from benchmarks.suite.scenarios import SCENARIO_DIR, Case, load_scenarios, select_cases
from benchmarks.suite.settings import DEFAULT_GAP
from benchmarks.suite.timing import REFERENCE_MODEL
from benchmarks.suite.worker import run_case

DEFAULT_JOBS = 2
"""Worker processes of the local runner when `--jobs` is not given."""


def _safe_run(case: Case) -> dict[str, Any]:
    try:
        return run_case(case)
    except Exception as err:  # a scenario that fails to run is a gate failure, not a crash
        return {"scenario": case.scenario.name, "size": case.size, "seed": case.scenario.seed, "error": repr(err)}


def progress_bar(done: int, total: int, label: str, began: float, stream: Any = sys.stderr) -> None:
    width = 24
    filled = width * done // max(total, 1)
    elapsed = time.perf_counter() - began
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {elapsed:6.1f}s {label[:40]:<40}")
    if done == total:
        stream.write("\n")
    stream.flush()


def run_cases(
    cases: Sequence[Case], jobs: int = 2, progress: Callable[[int, int, str, float], None] | None = progress_bar
) -> list[dict[str, Any]]:
    """Run the cases, in `jobs` spawned worker processes (in this process for jobs <= 1), and
    return their results in the order of `cases`."""
    began = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    if progress:
        progress(0, len(cases), "", began)
    if jobs <= 1:
        for case in cases:
            results[case.key] = _safe_run(case)
            if progress:
                progress(len(results), len(cases), case.key, began)
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(_safe_run, case): case for case in cases}
            for future in as_completed(futures):
                case = futures[future]
                results[case.key] = future.result()
                if progress:
                    progress(len(results), len(cases), case.key, began)
    return [results[c.key] for c in cases]


def run_suite(
    selection: Sequence[str],
    *,
    jobs: int | None = None,
    threads: int = 1,
    gap: float = DEFAULT_GAP,
    directory: Path = SCENARIO_DIR,
    ray: str | None = None,
) -> dict[str, Any]:
    """Run a suite and return the whole report: environment, settings, per-case results. `ray`
    runs the cases as Ray tasks instead of worker processes (`benchmarks.suite.distributed`: "local"
    or a cluster's address); the wall time then includes starting or joining Ray. `jobs` is the
    number of worker processes (default 2) or, on Ray, the local Ray's CPUs (default: the
    machine's cores) or the most tasks in flight on a cluster (default: as many as it takes)."""
    from benchmarks.build import environment

    cases = select_cases(selection, load_scenarios(directory), threads=threads, gap=gap)
    settings: dict[str, Any] = {"jobs": jobs, "threads": threads, "mip_rel_gap": gap, "reference": REFERENCE_MODEL.name}
    wider = {c.size: c.gap for c in cases if c.gap != gap}
    if wider:
        settings["size_gaps"] = dict(sorted(wider.items()))
    began = time.perf_counter()
    if ray is None:
        settings["jobs"] = jobs = DEFAULT_JOBS if jobs is None else jobs
        results = run_cases(cases, jobs=jobs)
    else:
        from benchmarks.suite.distributed import run_cases_on_ray

        results, settings["ray"] = run_cases_on_ray(cases, ray, jobs=jobs)
        settings["jobs"] = jobs if jobs is not None else settings["ray"]["cpus"]
    wall = time.perf_counter() - began
    references = [r["reference_seconds"] for r in results if "reference_seconds" in r]
    return {
        "benchmark": "suite",
        "suite": list(selection),
        "environment": environment(),
        "settings": settings,
        "wall_seconds": wall,
        "reference_seconds": statistics.median(references) if references else None,
        "performance": performance(results),
        "results": results,
    }
