"""The build benchmark: per network size, the vectorized builder against the Pyomo twin (build and
hand-off to HiGHS), the solve by the chosen method (`--method`: auto, milp or lp_first), end-to-end
time and peak memory, each phase timed on its own.

The solve keeps a trace of what it knew when: each lower bound and each plan with its time. From it
come the time to the first lower bound, the time to the first plan, and the certified gap at
`GAP_CHECKPOINT` seconds (what a caller with a 60 s deadline would have had).

Every measurement runs in a fresh process, so the peak memory of one does not leak into another.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing as mp
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.jsonout import write_json
from models.builder import LinearProgram
from models.network import Network
from models.signals import Signal, SignalType
from models.solution import Solution
from solver.backends.base import MipProgress, SolverBackend, WrappedBackend
from solver.options import SolveOptions

PYOMO_TIMEOUT_SECONDS = 600.0
GAP_CHECKPOINT = 60.0
"""Seconds into the solve at which the trace's certified gap is reported."""


@dataclass(frozen=True)
class BuildCase:
    """One size to measure, with the solve settings used for it."""

    size: str
    seed: int = 0
    repeat: int = 3
    time_limit: float = 60.0
    mip_rel_gap: float = 0.01
    threads: int = 2
    pyomo: bool = True
    method: str = "auto"


@dataclass
class BuildResult:
    """Medians over the repeats of one case; seconds unless named otherwise."""

    size: str
    seed: int
    input_sha256: str
    n_cols: int = 0
    n_rows: int = 0
    nnz: int = 0
    n_integer: int = 0
    read: float = 0.0
    validate: float = 0.0
    build: float = 0.0
    build_with_protocols: float = 0.0
    handoff: float = 0.0
    solve: float = 0.0
    extract: float = 0.0
    end_to_end: float = 0.0
    status: str = ""
    gap: float = float("nan")
    objective: float = float("nan")
    bound: float = float("nan")
    method: str = ""
    first_bound_seconds: float = float("nan")
    """Solve seconds to the first valid lower bound (LP-first: the relaxation without coupling rows)."""
    first_plan_seconds: float = float("nan")
    """Solve seconds to the first feasible plan."""
    gap_at_checkpoint: float = float("nan")
    """Certified gap of the best plan and bound known `GAP_CHECKPOINT` seconds into the solve (NaN:
    no plan yet)."""
    method_stats: dict[str, float] = field(default_factory=dict)
    peak_rss_mib: float = 0.0
    baseline_rss_mib: float = 0.0
    calendar_validate: float = 0.0
    """Validating the same network with calendars (`generator.with_calendars`): per-period arrays."""
    calendar_build: float = 0.0
    pyomo_build: float | None = None
    pyomo_handoff: float | None = None
    pyomo_peak_rss_mib: float | None = None
    pyomo_note: str = ""
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def speedup(self) -> float | None:
        """Pyomo's build + hand-off over the vectorized build + hand-off."""
        if self.pyomo_build is None or self.pyomo_handoff is None:
            return None
        return (self.pyomo_build + self.pyomo_handoff) / max(self.build + self.handoff, 1e-9)

    @property
    def calendar_ratio(self) -> float:
        """Validate + build with calendars over validate + build of the constants-only network."""
        return (self.calendar_validate + self.calendar_build) / max(self.validate + self.build, 1e-9)

    @property
    def protocol_ratio(self) -> float:
        """Build time with the default protocol set over the build without it."""
        return self.build_with_protocols / max(self.build, 1e-9)

    @property
    def overhead(self) -> float:
        """End-to-end time over HiGHS's own solve time."""
        return self.end_to_end / max(self.solve, 1e-9)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _vectorized_run(path: str, time_limit: float, gap: float, threads: int, method: str) -> dict[str, Any]:
    """Read, validate, build, hand off, solve and extract, timing each phase (in a child process)."""
    from models.allocation import build_model
    from models.network import Network
    from models.plan import extract_plan
    from solver.backends.highs import HighsBackend
    from solver.convert import read_network
    from solver.options import SolveOptions
    from solver.planner import solve_model

    baseline = _rss_mib()
    t0 = time.perf_counter()
    spec = read_network(path)
    t1 = time.perf_counter()
    net = Network.from_spec(spec)
    t2 = time.perf_counter()
    lp = build_model(net)
    t3 = time.perf_counter()
    protocol_build, protocol_cols = _protocol_build(net)
    calendar_validate, calendar_build = _calendar_build(spec)
    backend = _Traced(HighsBackend())
    options = SolveOptions(time_limit=time_limit, mip_rel_gap=gap, threads=threads, method=method)
    t4 = time.perf_counter()
    backend.began = t4
    solution = solve_model(lp, options, backend)
    t5 = time.perf_counter()
    plan = extract_plan(net, lp, solution, build_seconds=t3 - t2)
    t6 = time.perf_counter()
    trace = backend.trace
    bounds = [t for t, _, b in trace if math.isfinite(b)]
    plans = [t for t, o, _ in trace if math.isfinite(o)]
    return {
        "n_cols": lp.n_cols,
        "n_rows": lp.n_rows,
        "nnz": lp.nnz,
        "n_integer": lp.n_integer,
        "read": t1 - t0,
        "validate": t2 - t1,
        "build": t3 - t2,
        "handoff": solution.handoff_seconds,
        "solve": (t5 - t4) - solution.handoff_seconds,
        "extract": t6 - t5,
        "end_to_end": (t6 - t0) - (t4 - t3),  # without the protocol and calendar builds
        "status": plan.status.value,
        "gap": plan.gap,
        "objective": plan.objective,
        "bound": plan.bound,
        "method": plan.stats.method,
        "method_stats": plan.stats.method_stats,
        "first_bound_seconds": min(bounds, default=math.nan),
        "first_plan_seconds": min(plans, default=math.nan),
        "gap_at_checkpoint": gap_at(trace, GAP_CHECKPOINT),
        "trace": trace,
        "peak_rss_mib": _rss_mib(),
        "baseline_rss_mib": baseline,
        "highs_version": HighsBackend().version(),
        "build_with_protocols": protocol_build,
        "protocol_columns": protocol_cols,
        "calendar_validate": calendar_validate,
        "calendar_build": calendar_build,
    }


def gap_at(trace: list[tuple[float, float, float]], seconds: float) -> float:
    """The certified gap of the best plan and the best bound in `trace` ((seconds, objective, bound)
    entries, NaN where unknown) up to `seconds`: (objective - bound) / max(|objective|, 1); NaN
    without both."""
    known = [(o, b) for t, o, b in trace if t <= seconds]
    objective = min((o for o, _ in known if math.isfinite(o)), default=math.nan)
    bound = max((b for _, b in known if math.isfinite(b)), default=math.nan)
    if math.isnan(objective) or math.isnan(bound):
        return math.nan
    return max(objective - bound, 0.0) / max(abs(objective), 1.0)


class _Traced(WrappedBackend):
    """A backend that notes (seconds since `began`, objective, bound) of every MIP update and every
    LP-first report (NaN where one is unknown), and the final answer of every solve."""

    def __init__(self, inner: SolverBackend) -> None:
        super().__init__(inner)
        self.began = time.perf_counter()
        self.trace: list[tuple[float, float, float]] = []

    def _note(self, update: MipProgress) -> None:
        self.trace.append((time.perf_counter() - self.began, _finite(update.objective), _finite(update.bound)))

    def method_progress(self) -> Callable[[MipProgress], None] | None:
        return self._note

    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: np.ndarray | None = None,
    ) -> Solution:
        def both(update: MipProgress) -> None:
            self._note(update)
            if progress is not None:
                progress(update)

        solution = self._inner.solve(lp, options, progress=both, interrupt=interrupt, start=start)
        if solution.status.has_solution:
            self.trace.append((time.perf_counter() - self.began, solution.objective, _finite(solution.bound)))
        return solution


def _finite(x: float) -> float:
    return x if math.isfinite(x) else math.nan


def _calendar_build(spec: Any) -> tuple[float, float]:
    """Validate and build times of the network with calendars (a maintenance shutdown, seasonal
    allocations): what the per-period arrays cost over the constants-only network."""
    from benchmarks.generator import with_calendars
    from models.allocation import build_model
    from models.network import Network

    calendars = with_calendars(spec)
    t0 = time.perf_counter()
    net = Network.from_spec(calendars)
    t1 = time.perf_counter()
    build_model(net)
    return t1 - t0, time.perf_counter() - t1


def demo_signals_for(net: Network) -> list[Signal]:
    """Signals that activate the default protocol set on any generated network: a 72 h outage
    of the first tier-1 supplier with offers and a 50% surge at the first customer zone."""
    from models.network import NodeRole

    supplier = next(net.node_ids[n] for n in net.offer_node if net.node_tier[n] == 1)
    customer = net.node_ids[int(np.flatnonzero(net.node_role == NodeRole.CUSTOMER)[0])]
    return [
        Signal("bench-outage", SignalType.SUPPLIER_OUTAGE, supplier=supplier, duration_hours=72.0, magnitude=0.0),
        Signal("bench-surge", SignalType.DEMAND_CHANGE, customer=customer, duration_hours=168.0, magnitude=1.5),
    ]


def _protocol_build(net: Network) -> tuple[float, int]:
    """Build time with the default protocol set active under `demo_signals_for(net)`, including
    resolving the active rules; the network is the disrupted one, so only the protocols differ."""
    from models.allocation import build_model
    from models.protocols import resolve_authority
    from models.signals import apply_signals
    from solver.convert import read_protocols
    from solver.demo import DEMO_PROTOCOLS, data_path

    protocols = read_protocols(data_path(DEMO_PROTOCOLS))
    signals = demo_signals_for(net)
    disrupted = apply_signals(net, signals)
    start = time.perf_counter()
    groups = resolve_authority(protocols, disrupted, signals)
    lp = build_model(disrupted, protocols, groups)
    return time.perf_counter() - start, lp.n_cols


def _pyomo_run(path: str) -> dict[str, Any]:
    """Build the Pyomo twin and hand it to HiGHS through Pyomo's interface (in a child process)."""
    from pyomo.contrib.solver.solvers.highs import Highs

    from models.network import Network
    from models.pyomo_model import build_pyomo_model
    from solver.convert import read_network

    net = Network.from_spec(read_network(path))
    t0 = time.perf_counter()
    model = build_pyomo_model(net)
    t1 = time.perf_counter()
    Highs().set_instance(model)
    t2 = time.perf_counter()
    return {"pyomo_build": t1 - t0, "pyomo_handoff": t2 - t1, "pyomo_peak_rss_mib": _rss_mib()}


def _in_child(fn: Callable[..., dict[str, Any]], *args: Any, timeout: float | None = None) -> dict[str, Any] | None:
    """Run `fn(*args)` in a fresh spawned process; None if it did not finish within `timeout`."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        pending = pool.apply_async(fn, args)
        try:
            return pending.get(timeout)
        except mp.TimeoutError:
            pool.terminate()
            return None


def measure(case: BuildCase, progress: Callable[[str], None] = print) -> BuildResult:
    """Generate the case's network to a file, then time every phase `case.repeat` times."""
    from benchmarks.generator import generate
    from solver.convert import write_network

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"network-{case.size}-{case.seed}.json"
        write_network(generate(case.size, seed=case.seed), path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        result = BuildResult(size=case.size, seed=case.seed, input_sha256=digest)
        runs = []
        for k in range(case.repeat):
            progress(f"  {case.size}: vectorized run {k + 1}/{case.repeat}")
            run = _in_child(_vectorized_run, str(path), case.time_limit, case.mip_rel_gap, case.threads, case.method)
            assert run is not None
            runs.append(run)
        result.runs = runs
        timed = (
            "read",
            "validate",
            "build",
            "build_with_protocols",
            "calendar_validate",
            "calendar_build",
            "handoff",
            "solve",
            "extract",
            "end_to_end",
        )
        for key in (*timed, "peak_rss_mib"):
            setattr(result, key, statistics.median(r[key] for r in runs))
        for key in (
            "n_cols",
            "n_rows",
            "nnz",
            "n_integer",
            "status",
            "gap",
            "objective",
            "bound",
            "method",
            "method_stats",
            "baseline_rss_mib",
        ):
            setattr(result, key, runs[-1][key])
        for key in ("first_bound_seconds", "first_plan_seconds", "gap_at_checkpoint"):
            setattr(result, key, statistics.median(r[key] for r in runs))
        if case.pyomo:
            pyomo_runs = []
            for k in range(case.repeat):
                progress(f"  {case.size}: Pyomo twin run {k + 1}/{case.repeat}")
                pyomo_run = _in_child(_pyomo_run, str(path), timeout=PYOMO_TIMEOUT_SECONDS)
                if pyomo_run is None:
                    result.pyomo_note = f"skipped: over {PYOMO_TIMEOUT_SECONDS:.0f} s"
                    break
                pyomo_runs.append(pyomo_run)
            if pyomo_runs:
                result.pyomo_build = statistics.median(r["pyomo_build"] for r in pyomo_runs)
                result.pyomo_handoff = statistics.median(r["pyomo_handoff"] for r in pyomo_runs)
                result.pyomo_peak_rss_mib = statistics.median(r["pyomo_peak_rss_mib"] for r in pyomo_runs)
        else:
            result.pyomo_note = "not run (--no-pyomo)"
    return result


def report(results: list[BuildResult]) -> str:
    """A Markdown table of the results."""

    def fmt(x: float | None, digits: int = 3) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    head = (
        "| size | columns | integer | rows | nonzeros | validate s | build s | build+protocols s "
        "| calendars: validate + build s | hand-off s "
        "| Pyomo build s "
        "| Pyomo hand-off s | speed-up | method | solve s | first bound s | first plan s "
        f"| gap at {GAP_CHECKPOINT:g} s | status | gap | end-to-end s | e2e / solve | peak MiB "
        "| Pyomo peak MiB |"
    )
    lines = [head, "|" + "---|" * 24]
    for r in results:
        speedup = r.speedup
        pyomo_build = fmt(r.pyomo_build, 2) if r.pyomo_build is not None else r.pyomo_note
        lines.append(
            f"| {r.size} | {r.n_cols:,} | {r.n_integer:,} | {r.n_rows:,} | {r.nnz:,} | {fmt(r.validate)} "
            f"| {fmt(r.build)} | {fmt(r.build_with_protocols)} ({r.protocol_ratio:.2f}x) "
            f"| {fmt(r.calendar_validate)} + {fmt(r.calendar_build)} ({r.calendar_ratio:.2f}x) | {fmt(r.handoff)} "
            f"| {pyomo_build} "
            f"| {fmt(r.pyomo_handoff, 2)} | {'-' if speedup is None else f'{speedup:,.0f}x'} | {r.method} "
            f"| {fmt(r.solve, 2)} | {_maybe(r.first_bound_seconds, '.1f')} | {_maybe(r.first_plan_seconds, '.1f')} "
            f"| {_maybe(r.gap_at_checkpoint, '.2%', 'no plan')} "
            f"| {r.status} | {_maybe(r.gap, '.2%')} | {fmt(r.end_to_end, 2)} | {r.overhead:.3f} "
            f"| {r.peak_rss_mib:,.0f} "
            f"| {fmt(r.pyomo_peak_rss_mib, 0)} |"
        )
    return "\n".join(lines)


def _maybe(x: float, spec: str, missing: str = "-") -> str:
    return missing if math.isnan(x) else format(x, spec)


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what `platform` knows, else ""."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def git_commit() -> str:
    """The commit the code was run from (with "+dirty" when the work tree has changes), or ""."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return sha + ("+dirty" if dirty else "")


def environment() -> dict[str, Any]:
    """What a reader needs to repeat the run: versions, the commit and the machine."""
    import numpy
    import pyomo

    from solver.backends.highs import HIGHS_VERSION

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_model": cpu_model(),
        "commit": git_commit(),
        "cpus": mp.cpu_count(),
        "highs": HIGHS_VERSION,
        "numpy": numpy.__version__,
        "pyomo": pyomo.__version__,
    }


def run_build_benchmark(cases: list[BuildCase], out: Path | None) -> list[BuildResult]:
    results = []
    for case in cases:
        print(f"size {case.size} (seed {case.seed}, {case.repeat} runs)", flush=True)
        results.append(measure(case, progress=lambda msg: print(msg, flush=True)))
    print()
    print(report(results))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "benchmark": "build",
            "environment": environment(),
            "cases": [asdict(c) for c in cases],
            "results": [
                asdict(r)
                | {
                    "speedup": r.speedup,
                    "overhead": r.overhead,
                    "protocol_ratio": r.protocol_ratio,
                    "calendar_ratio": r.calendar_ratio,
                }
                for r in results
            ],
        }
        write_json(out, payload)
        print(f"\nresults written to {out}")
    return results
