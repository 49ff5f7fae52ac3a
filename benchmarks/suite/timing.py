"""How the suite measures time: the reference solve, its unit of time, and `GapClock`, the time
each solve takes to reach `SOLVED_GAP`.

The reference solve is a fixed model file, `benchmarks/reference/plan-S-0.mps.gz` (the plan of
`generate("S", 0)` under the demo protocols, written once by `write_reference_model`), solved by
HiGHS directly with the suite's gap and threads, `REFERENCE_REPEATS` times in each worker right
before its scenario; the median is the suite's unit of time. Because neither the file nor its
solve goes through Concerto's code, a change that makes Concerto's models slower raises every
ratio, while a slower or busier machine moves the reference and the scenario alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.suite.settings import GAP_TOLERANCE, SOLVED_GAP
from models.builder import LinearProgram
from solver.backends.base import MipProgress, Solution
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions

REFERENCE = ("S", 0)
"""Size and seed of the network whose plan model is the reference solve."""
REFERENCE_MODEL = Path(__file__).parents[1] / "reference" / "plan-S-0.mps.gz"
"""The reference solve's model: fixed, never rewritten with the code (see this module's docstring)."""
REFERENCE_REPEATS = 3
"""Reference solves per scenario; the median is the time unit."""


def reference_seconds(threads: int, gap: float, repeats: int = REFERENCE_REPEATS) -> float:
    """Median seconds HiGHS takes to solve the reference model (`REFERENCE_MODEL`, read again for
    each repeat) with the suite's threads and gap and seed 0."""
    from solver.backends.highs import highspy

    options = SolveOptions(mip_rel_gap=gap, threads=threads, seed=0)
    times = []
    for _ in range(repeats):
        h = HighsBackend().read(REFERENCE_MODEL, options)
        began = time.perf_counter()
        h.run()
        times.append(time.perf_counter() - began)
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                f"{REFERENCE_MODEL}: the reference solve ended {h.modelStatusToString(h.getModelStatus())}"
            )
    return statistics.median(times)


def write_reference_model(path: Path = REFERENCE_MODEL) -> Path:
    """Write the reference model: the plan of `generate(*REFERENCE)` under the demo protocols, as
    gzipped MPS. Run it only to replace the time unit on purpose (every recorded ratio changes with
    it: `update-baseline` afterwards), never to follow a change of the code."""
    import gzip

    from benchmarks.generator import generate
    from solver.convert import read_protocols
    from solver.demo import DEMO_PROTOCOLS, data_path
    from solver.export import export_model
    from solver.planner import compile_model

    model = compile_model(generate(*REFERENCE), read_protocols(data_path(DEMO_PROTOCOLS)), ())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(export_model(model.lp, "mps").encode("ascii"), mtime=0))
    return path


class GapClock(HighsBackend):
    """HiGHS that notes, for every solve, how many seconds it took to reach `gap` (the first MIP
    update at or within it, or the whole solve when it ended within it without an update in
    between; None when it never did; for an LP-first solve, its first report within `gap`),
    labelled with the response it belongs to
    (`respond(on_response=clock.label)`). The suite solves to its own tighter gap and reads the
    time to `SOLVED_GAP` from here."""

    def __init__(self, gap: float = SOLVED_GAP) -> None:
        super().__init__()
        self.gap = gap
        self.response = ""
        self.solves: list[tuple[str, float | None]] = []

    def label(self, response: str) -> None:
        self.response = response

    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: np.ndarray | None = None,
    ) -> Solution:
        reached: list[float] = []

        def note(update: MipProgress) -> None:
            if not reached and update.gap <= self.gap + GAP_TOLERANCE:
                reached.append(update.running_seconds)
            if progress is not None:
                progress(update)

        solution = super().solve(lp, options, progress=note, interrupt=interrupt, start=start)
        if not reached and solution.status.has_solution and solution.gap <= self.gap + GAP_TOLERANCE:
            reached.append(solution.solve_seconds)
        self.solves.append((self.response, reached[0] if reached else None))
        return solution

    def method_progress(self) -> Callable[[MipProgress], None] | None:
        """A solve by a method that drives HiGHS through its live models (LP-first, at L) reports
        its plans and bounds here, each with its certified gap: the first at or within `gap` is
        its time to the gap."""
        entry = len(self.solves)
        self.solves.append((self.response, None))

        def note(update: MipProgress) -> None:
            name, seconds = self.solves[entry]
            if seconds is None and update.gap <= self.gap + GAP_TOLERANCE:
                self.solves[entry] = (name, update.running_seconds)

        return note

    def seconds_to_gap(self, response: str) -> float | None:
        """The time to the gap of the last solve of `response` (its final model)."""
        times = [seconds for name, seconds in self.solves if name == response]
        return times[-1] if times else None
