"""The build benchmark: per network size, the vectorized builder against the Pyomo twin (build and
hand-off to HiGHS), HiGHS's solve, end-to-end time and peak memory, each phase timed on its own.

Every measurement runs in a fresh process, so the peak memory of one does not leak into another.
"""

from __future__ import annotations

import hashlib
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
from models.network import Network
from models.signals import Signal, SignalType

PYOMO_TIMEOUT_SECONDS = 600.0


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


def _vectorized_run(path: str, time_limit: float, gap: float, threads: int) -> dict[str, Any]:
    """Read, validate, build, hand off, solve and extract, timing each phase (in a child process)."""
    from models.allocation import build_model
    from models.network import Network
    from models.plan import extract_plan
    from solver.backends.highs import HighsBackend
    from solver.convert import read_network
    from solver.options import SolveOptions

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
    backend = HighsBackend()
    h = backend.load(lp, SolveOptions(time_limit=time_limit, mip_rel_gap=gap, threads=threads))
    t4 = time.perf_counter()
    h.run()
    t5 = time.perf_counter()
    solution = backend.read_solution(h, lp, handoff=t4 - t3, solve=t5 - t4)
    plan = extract_plan(net, lp, solution, build_seconds=t3 - t2)
    t6 = time.perf_counter()
    return {
        "n_cols": lp.n_cols,
        "n_rows": lp.n_rows,
        "nnz": lp.nnz,
        "n_integer": lp.n_integer,
        "read": t1 - t0,
        "validate": t2 - t1,
        "build": t3 - t2,
        "handoff": t4 - t3,
        "solve": t5 - t4,
        "extract": t6 - t5,
        "end_to_end": t6 - t0,
        "status": plan.status.value,
        "gap": plan.gap,
        "objective": plan.objective,
        "peak_rss_mib": _rss_mib(),
        "baseline_rss_mib": baseline,
        "highs_version": backend.version(),
        "build_with_protocols": protocol_build,
        "protocol_columns": protocol_cols,
        "calendar_validate": calendar_validate,
        "calendar_build": calendar_build,
    }


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
            run = _in_child(_vectorized_run, str(path), case.time_limit, case.mip_rel_gap, case.threads)
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
        for key in ("n_cols", "n_rows", "nnz", "n_integer", "status", "gap", "objective", "baseline_rss_mib"):
            setattr(result, key, runs[-1][key])
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
        "| Pyomo hand-off s | speed-up | solve s | status | gap | end-to-end s | e2e / solve | peak MiB "
        "| Pyomo peak MiB |"
    )
    lines = [head, "|" + "---|" * 20]
    for r in results:
        speedup = r.speedup
        pyomo_build = fmt(r.pyomo_build, 2) if r.pyomo_build is not None else r.pyomo_note
        lines.append(
            f"| {r.size} | {r.n_cols:,} | {r.n_integer:,} | {r.n_rows:,} | {r.nnz:,} | {fmt(r.validate)} "
            f"| {fmt(r.build)} | {fmt(r.build_with_protocols)} ({r.protocol_ratio:.2f}x) "
            f"| {fmt(r.calendar_validate)} + {fmt(r.calendar_build)} ({r.calendar_ratio:.2f}x) | {fmt(r.handoff)} "
            f"| {pyomo_build} "
            f"| {fmt(r.pyomo_handoff, 2)} | {'-' if speedup is None else f'{speedup:,.0f}x'} | {fmt(r.solve, 2)} "
            f"| {r.status} | {r.gap:.2%} | {fmt(r.end_to_end, 2)} | {r.overhead:.3f} | {r.peak_rss_mib:,.0f} "
            f"| {fmt(r.pyomo_peak_rss_mib, 0)} |"
        )
    return "\n".join(lines)


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
