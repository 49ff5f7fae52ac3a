"""The HiGHS backend: the canonical arrays are handed straight to highspy, with one explicit table
from HiGHS model statuses to Concerto's `SolveStatus`; duals, ranging, IIS and model files through
HiGHS's own calls. The one module that imports highspy (with `highs_live`, which takes it from here).
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.solution import Solution, SolveStatus
from solver.backends.analysis import Conflict, LpDuals, LpRanging, Range
from solver.backends.base import BackendFeature, MipProgress, SolverBackend
from solver.options import SolveOptions

if TYPE_CHECKING:
    from solver.backends.highs_live import HighsLiveModel

try:  # pragma: no cover - exercised by every test when highspy is installed
    import highspy
except ImportError:  # pragma: no cover
    highspy = None  # type: ignore[assignment]


def _first_instance_quietly() -> str:
    """Make the process's first `Highs()` with standard output sent to /dev/null, and return HiGHS's
    version.

    HiGHS 1.16 prints a two-line copyright banner to file descriptor 1 when the first instance of a
    process is made, whatever `output_flag` says; it would land in `concerto demo`, in every
    worker's log and at the top of `concerto export --format mps > model.mps`. Later instances print
    nothing, so one quiet instance at import time keeps every output clean. Concerto's own HiGHS code
    imports highspy from here, and Pyomo's HiGHS interface is only used after this module is loaded
    (the registry imports it first; `PyomoBackend` calls `use_scheduler_for` before a HiGHS solve)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no standard output at all: nothing to protect
        return str(highspy.Highs().version())
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        version = str(highspy.Highs().version())
        ctypes.CDLL(None).fflush(None)  # anything C stdio still buffers goes to /dev/null too
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    return version


HIGHS_VERSION = _first_instance_quietly() if highspy is not None else ""
"""The installed HiGHS's version ("1.16.0"), or "" without highspy."""

_ROWWISE = 2
_MINIMIZE = 1

# HiGHS model status -> (status when a feasible solution exists, status when none exists).
_STATUS_TABLE: dict[str, tuple[SolveStatus, SolveStatus]] = {
    "kOptimal": (SolveStatus.OPTIMAL, SolveStatus.OPTIMAL),
    "kModelEmpty": (SolveStatus.OPTIMAL, SolveStatus.OPTIMAL),
    "kInfeasible": (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE),
    "kUnbounded": (SolveStatus.UNBOUNDED, SolveStatus.UNBOUNDED),
    "kUnboundedOrInfeasible": (SolveStatus.INFEASIBLE_OR_UNBOUNDED, SolveStatus.INFEASIBLE_OR_UNBOUNDED),
    "kTimeLimit": (SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT),
    "kIterationLimit": (SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT),
    "kSolutionLimit": (SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT),
    "kObjectiveBound": (SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT),
    "kObjectiveTarget": (SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT),
    "kInterrupt": (SolveStatus.FEASIBLE, SolveStatus.INTERRUPTED),
    "kHighsInterrupt": (SolveStatus.FEASIBLE, SolveStatus.INTERRUPTED),
    "kMemoryLimit": (SolveStatus.FEASIBLE, SolveStatus.ERROR),
}


def _known(value: float) -> float:
    """HiGHS reports a missing incumbent, bound or gap as an infinity; Concerto says NaN."""
    return float(value) if math.isfinite(value) else float("nan")


__all__ = ["Conflict", "HighsBackend", "MipProgress"]


class HighsBackend(SolverBackend):
    """HiGHS through highspy: the default backend, and the production path. It declares every
    feature, the capabilities beyond solving included."""

    name: ClassVar[str] = "highs"
    features: ClassVar[frozenset[BackendFeature]] = frozenset(BackendFeature)

    @classmethod
    def available(cls) -> bool:
        return highspy is not None

    def version(self) -> str:
        return HIGHS_VERSION

    def install_hint(self) -> str:
        return "pip install highspy (Concerto's lock file pins the tested version)"

    def load(self, lp: LinearProgram, options: SolveOptions) -> highspy.Highs:
        """A Highs instance holding `lp` with `options` applied, ready to `run()`."""
        h = self._with_options(options)
        A = lp.A
        status = h.passModel(
            lp.n_cols,
            lp.n_rows,
            lp.nnz,
            _ROWWISE,
            _MINIMIZE,
            float(lp.offset),
            lp.c,
            lp.col_lower,
            lp.col_upper,
            lp.row_lower,
            lp.row_upper,
            A.indptr.astype(np.int32, copy=False),
            A.indices.astype(np.int32, copy=False),
            A.data,
            lp.integrality.astype(np.int32),
        )
        if status == highspy.HighsStatus.kError:
            raise ValueError("HiGHS rejected the model (passModel returned an error)")
        return h

    def read(self, path: str | os.PathLike[str], options: SolveOptions) -> highspy.Highs:
        """A Highs instance holding the model file at `path` (MPS or LP, optionally gzipped) with
        `options` applied, ready to `run()`."""
        h = self._with_options(options)
        if h.readModel(os.fspath(path)) == highspy.HighsStatus.kError:
            raise ValueError(f"{path}: HiGHS cannot read this model file")
        return h

    @staticmethod
    def _with_options(options: SolveOptions) -> highspy.Highs:
        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(options.verbose))
        if np.isfinite(options.time_limit):
            h.setOptionValue("time_limit", float(options.time_limit))
        h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
        h.setOptionValue("random_seed", int(options.seed))
        _use_threads(h, int(options.threads))
        return h

    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: npt.NDArray[np.float64] | None = None,
    ) -> Solution:
        """Solve `lp`, from the MIP start `start` if given (a full column vector; whether HiGHS
        accepted it as feasible is reported in `Solution.info["mip_start_accepted"]`). `progress` is
        called from HiGHS's MIP callbacks on every new incumbent and at every limit check
        (unthrottled, on the solving thread; an exception it raises ends the solve by propagating
        out of this call). `interrupt` is polled at the same checks and in the LP
        iterations; once it returns True the solve stops and returns the best plan so far
        (status FEASIBLE, or INTERRUPTED without one)."""
        began = time.perf_counter()
        h = self.load(lp, options)
        if progress is not None or interrupt is not None:
            _subscribe(h, progress, interrupt)
        log: list[str] = []
        if start is not None:
            _set_start(h, start, log, verbose=options.verbose)
        loaded = time.perf_counter()
        h.run()
        solved = time.perf_counter()
        solution = self.read_solution(h, lp, handoff=loaded - began, solve=solved - loaded)
        if start is not None:
            accepted = any("MIP start solution is feasible" in line for line in log)
            solution.info["mip_start_accepted"] = float(accepted)
        return solution

    def read_solution(self, h: highspy.Highs, lp: LinearProgram, *, handoff: float, solve: float) -> Solution:
        """Map a finished Highs run onto a `Solution` through the status table."""
        model_status = h.getModelStatus()
        info = h.getInfo()
        empty = model_status == highspy.HighsModelStatus.kModelEmpty
        has_solution = info.primal_solution_status == 2 or (lp.n_cols == 0 and empty)
        with_solution, without = _STATUS_TABLE.get(model_status.name, (SolveStatus.ERROR, SolveStatus.ERROR))
        status = with_solution if has_solution else without
        x = np.asarray(h.getSolution().col_value, dtype=np.float64) if status.has_solution else None
        if x is not None and lp.n_cols == 0:
            x = np.zeros(0)
        is_mip = bool(lp.integrality.any())
        objective = float(info.objective_function_value) if status.has_solution else float("nan")
        if x is not None and lp.n_cols == 0:
            objective = float(lp.offset)
        bound = float(info.mip_dual_bound) if is_mip else objective
        gap = float(info.mip_gap) if is_mip else 0.0
        if status == SolveStatus.OPTIMAL and not is_mip:
            gap = 0.0
        return Solution(
            status=status,
            x=x,
            objective=objective,
            bound=bound,
            gap=gap if status.has_solution else float("nan"),
            solve_seconds=solve,
            handoff_seconds=handoff,
            backend=self.name,
            backend_version=self.version(),
            message=h.modelStatusToString(model_status),
            info={
                "mip_node_count": float(max(info.mip_node_count, 0)),
                "simplex_iteration_count": float(max(info.simplex_iteration_count, 0)),
            },
        )

    def _duals(self, lp: LinearProgram, options: SolveOptions, *, ranging: bool) -> LpDuals:
        """Load and run `lp` (not through `solve`: no MIP start, callbacks or timing), then read
        HiGHS's row duals and column duals (reduced costs) and, if asked, `getRanging` of the
        final basis (None when HiGHS cannot range it)."""
        h = self.load(lp, options)
        h.run()
        solution = self.read_solution(h, lp, handoff=0.0, solve=0.0)
        sol = h.getSolution()
        ranges: LpRanging | None = None
        if ranging:
            _ranging_status, found = h.getRanging()
            if found.valid:
                ranges = _ranging(found, lp.n_cols, lp.n_rows)
        return LpDuals(
            status=solution.status,
            objective=solution.objective,
            row_dual=np.asarray(sol.row_dual, dtype=np.float64),
            reduced_cost=np.asarray(sol.col_dual, dtype=np.float64),
            ranging=ranges,
        )

    def _write_model(
        self, lp: LinearProgram, path: str | os.PathLike[str], *, column_names: Sequence[str], row_names: Sequence[str]
    ) -> None:
        """HiGHS's `writeModel`, which picks the format by the file's extension."""
        h = self.load(lp, SolveOptions())
        for j, name in enumerate(column_names):
            h.passColName(j, name)
        for i, name in enumerate(row_names):
            h.passRowName(i, name)
        h.writeModel(os.fspath(path))

    def _live(self, lp: LinearProgram, options: SolveOptions) -> HighsLiveModel:
        from solver.backends.highs_live import HighsLiveModel

        return HighsLiveModel(self, lp, options)

    def _conflict(self, lp: LinearProgram, options: SolveOptions) -> Conflict | None:
        """An irreducible infeasible subsystem (IIS) of `lp`'s LP relaxation, or None when the
        relaxation is feasible (the model is then infeasible only through integrality: whole
        trucks, orders, setups, activations or single sources).

        HiGHS 1.15 computes an IIS for LPs only; `iis_strategy` FromLp | Irreducible first solves
        an elastic LP to find a set of rows that cannot hold together, then drops rows and bounds
        one by one while the rest stays infeasible. Raises RuntimeError when HiGHS cannot compute
        one (the caller reports the diagnosis without it)."""
        relaxation = replace(lp, integrality=np.zeros_like(lp.integrality))
        h = self.load(relaxation, options)
        strategy = highspy.IisStrategy
        h.setOptionValue("iis_strategy", int(strategy.kIisStrategyFromLp) | int(strategy.kIisStrategyIrreducible))
        status, iis = h.getIis()
        if status == highspy.HighsStatus.kError or not iis.valid_:
            raise RuntimeError(f"HiGHS could not compute an IIS (status {status.name}, valid {iis.valid_})")
        if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
            return None
        return Conflict(
            rows=np.asarray(iis.row_index_, dtype=np.int64),
            row_sides=tuple(_IIS_SIDE.get(int(b), "both") for b in iis.row_bound_),
            columns=np.asarray(iis.col_index_, dtype=np.int64),
            column_sides=tuple(_IIS_SIDE.get(int(b), "both") for b in iis.col_bound_),
            irreducible=int(iis.status_) == _IIS_IRREDUCIBLE,
        )


_IIS_SIDE = {2: "lower", 3: "upper", 4: "both"}
"""HiGHS's IisBoundStatus of a row or column in an IIS -> the side of its bounds that takes part
(kIisBoundStatusLower, Upper, Boxed)."""
_IIS_IRREDUCIBLE = 3
"""HighsIis.status_ once the deletion filter has proven the subsystem irreducible."""


def _ranging(found: Any, n_cols: int, n_rows: int) -> LpRanging:
    """HiGHS's `HighsRanging` as arrays (its column cost ranges come padded past the columns)."""

    def side(record: Any, n: int) -> Range:
        return Range(
            value=np.asarray(record.value_, dtype=np.float64)[:n],
            objective=np.asarray(record.objective_, dtype=np.float64)[:n],
        )

    return LpRanging(
        col_cost_up=side(found.col_cost_up, n_cols),
        col_cost_down=side(found.col_cost_dn, n_cols),
        col_bound_up=side(found.col_bound_up, n_cols),
        col_bound_down=side(found.col_bound_dn, n_cols),
        row_bound_up=side(found.row_bound_up, n_rows),
        row_bound_down=side(found.row_bound_dn, n_rows),
    )


_scheduler = threading.Lock()
_scheduler_threads: list[int] = []
"""The thread count HiGHS's process-wide scheduler was last started for (0: HiGHS's default);
empty until the first solve of the process."""


def use_scheduler_for(threads: int) -> None:
    """Make HiGHS's process-wide scheduler fit a solve with `threads` (0: HiGHS's default),
    restarting it if it was started for another count.

    HiGHS runs every instance of a process on one global scheduler, started by the first solve with
    that solve's thread count (HiGHS's default when `threads` is unset). A later solve that asks for
    another count fails ("Not Set", HiGHS 1.16), so a default-thread solve followed by `threads=1`
    would fail. The count each solve asks for, the default included, is recorded, and a change
    restarts the scheduler before the solve. Every HiGHS solve of the process comes through here:
    this backend's, and Pyomo's HiGHS interface's (`solver.backends.pyomo`)."""
    with _scheduler:
        if _scheduler_threads and _scheduler_threads[-1] != threads:
            highspy.Highs.resetGlobalScheduler(True)
        _scheduler_threads[:] = [threads]


def _use_threads(h: highspy.Highs, threads: int) -> None:
    """`use_scheduler_for(threads)`, then set the count on `h` (0 leaves HiGHS's default)."""
    use_scheduler_for(threads)
    if threads:
        h.setOptionValue("threads", threads)


def _set_start(h: highspy.Highs, start: npt.NDArray[np.float64], log: list[str], *, verbose: bool) -> None:
    """Hand HiGHS a MIP start and capture its log, which is the only place it says whether it
    accepted the start ("MIP start solution is feasible")."""
    solution = highspy.HighsSolution()
    solution.col_value = np.asarray(start, dtype=np.float64).tolist()
    solution.value_valid = True
    h.setSolution(solution)
    h.setOptionValue("output_flag", True)
    h.setOptionValue("log_to_console", bool(verbose))
    h.cbLogging.subscribe(lambda event: log.append(str(event.message)))


def _subscribe(
    h: highspy.Highs, progress: Callable[[MipProgress], None] | None, interrupt: Callable[[], bool] | None
) -> None:
    """Register the HiGHS callbacks that feed `progress` and poll `interrupt`.

    HiGHS 1.15 fires kCallbackMipImprovingSolution on each new incumbent and kCallbackMipInterrupt
    at each limit check (a few to a few dozen a second, with gaps of seconds inside long heuristics);
    kCallbackMipLogging fires only when `output_flag` is on, so it is not used.
    """

    def report(event: Any, improved: bool, sink: Callable[[MipProgress], None]) -> None:
        out = event.data_out
        sink(
            MipProgress(
                running_seconds=float(out.running_time),
                objective=_known(out.mip_primal_bound),
                bound=_known(out.mip_dual_bound),
                gap=_known(out.mip_gap),
                nodes=int(out.mip_node_count),
                improved=improved,
            )
        )

    def on_check(event: Any) -> None:
        if progress is not None:
            report(event, False, progress)
        if interrupt is not None and interrupt():
            event.interrupt()

    if progress is not None:
        sink = progress
        h.cbMipImprovingSolution.subscribe(lambda event: report(event, True, sink))
    h.cbMipInterrupt.subscribe(on_check)
    if interrupt is not None:
        # The LP callbacks fire every few iterations (thousands a second): poll, do not report.
        def on_lp_check(event: Any) -> None:
            if interrupt():
                event.interrupt()

        h.cbSimplexInterrupt.subscribe(on_lp_check)
        h.cbIpmInterrupt.subscribe(on_lp_check)
