"""Any solver Pyomo's `contrib.solver` interface drives, on Concerto's canonical `LinearProgram`:
the door to solvers Concerto does not bundle (Gurobi, SCIP through PySCIPOpt, Knitro, GAMS), which
a user brings by installing them; `pyomo-highs` works with the base install.

The model is handed over as it is, one column per variable and one row per constraint, names
`x[j]` and `row[i]`: `models/pyomo_model.py` is the readable twin; this is the plain transfer. Pyomo
builds it term by term, so it is the slow path (seconds at M), never the production one. Pyomo's
solver interfaces redirect output while they solve and are not thread-safe: solves in one process
take turns on a lock (the service runs each in its own worker process anyway).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.solution import Solution, SolveStatus
from solver.backends.base import BackendFeature, MipProgress, SolverBackend
from solver.options import SolveOptions

SOLVERS = ("highs", "gurobi_direct", "gurobi_persistent", "scip_direct", "knitro_direct", "gams")
"""Solver names `pyomo-<name>` may take: those Pyomo's `contrib.solver` factory knows, whose
options (gap, time limit, threads) share one spelling."""

INSTALL_HINTS = {
    "highs": "pip install highspy",
    "gurobi_direct": "pip install gurobipy, with a Gurobi licence for models beyond its size-limited trial",
    "gurobi_persistent": "pip install gurobipy, with a Gurobi licence for models beyond its size-limited trial",
    "scip_direct": "pip install pyscipopt",
    "knitro_direct": "pip install knitro, with an Artelys Knitro licence",
    "gams": "a GAMS installation with `gams` on the PATH, and its Python API (pip install gamsapi)",
}
"""What each Pyomo solver needs beside Pyomo itself."""

_LOCK = threading.Lock()


def _factory() -> Any:
    """Pyomo's `contrib.solver` factory with its solvers registered, None without Pyomo."""
    try:
        import pyomo.environ  # noqa: F401  (loads the plugins that register the solvers)
        from pyomo.contrib.solver.common.factory import SolverFactory
    except ImportError:
        return None
    return SolverFactory


class PyomoBackend(SolverBackend):
    """One `contrib.solver` solver through Pyomo. Declares what the interface passes on uniformly:
    LP and MIP, time limit, relative gap and threads; no MIP start, progress or interrupt."""

    name = "pyomo-highs"
    features = frozenset(
        {
            BackendFeature.LP,
            BackendFeature.MIP,
            BackendFeature.TIME_LIMIT,
            BackendFeature.MIP_GAP,
            BackendFeature.THREADS,
        }
    )

    def __init__(self, solver: str = "highs") -> None:
        if solver not in SOLVERS:
            from models.errors import ValidationError

            raise ValidationError(
                "solve options", f"pyomo-{solver}", "backend", f"unknown Pyomo solver; use one of {', '.join(SOLVERS)}"
            )
        self.solver = solver
        self.name = f"pyomo-{solver}"  # type: ignore[misc]

    @classmethod
    def available(cls) -> bool:
        """Whether Pyomo is importable; `usable` says whether this instance's solver is installed."""
        return _factory() is not None

    def usable(self) -> bool:
        factory = _factory()
        if factory is None:
            return False
        try:
            return bool(factory(self.solver).available())
        except Exception:  # a solver plugin whose library is missing or broken is simply not available
            return False

    def install_hint(self) -> str:
        return INSTALL_HINTS.get(self.solver, "")

    def version(self) -> str:
        factory = _factory()
        if factory is None:
            return ""
        try:
            version = factory(self.solver).version()
        except Exception:
            return ""
        return ".".join(str(v) for v in version) if isinstance(version, tuple) else str(version or "")

    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: npt.NDArray[np.float64] | None = None,
    ) -> Solution:
        """Build `lp` in Pyomo, solve it, read the answer back; `progress`, `interrupt` and `start`
        are ignored (not declared). Infeasible, unbounded and limits come back as statuses."""
        from pyomo.contrib.solver.common.results import TerminationCondition

        from models.pyomo_model import _STATUS_TABLE

        began = time.perf_counter()
        violated = _violated_empty_row(lp)
        if violated is not None:
            return Solution(
                status=SolveStatus.INFEASIBLE,
                x=None,
                backend=self.name,
                message=f"row {violated} has no columns and bounds that exclude 0",
                solve_seconds=time.perf_counter() - began,
            )
        model, x = to_pyomo(lp)
        config: dict[str, Any] = {
            "rel_gap": float(options.mip_rel_gap),
            "load_solutions": False,
            "raise_exception_on_nonoptimal_result": False,
            "tee": bool(options.verbose),
        }
        if math.isfinite(options.time_limit):
            config["time_limit"] = float(options.time_limit)
        if options.threads:
            config["threads"] = int(options.threads)
        if self.solver == "highs":  # highspy's scheduler is the process's, shared with the highs backend
            from solver.backends.highs import use_scheduler_for

            use_scheduler_for(int(options.threads))
        handed = time.perf_counter()
        with _LOCK:
            results = _factory()(self.solver).solve(model, **config)
        solved = time.perf_counter()
        condition = results.termination_condition
        has_solution = results.incumbent_objective is not None
        with_solution, without = _STATUS_TABLE.get(condition, (SolveStatus.FEASIBLE, SolveStatus.ERROR))
        status = with_solution if has_solution else without
        message = "the solver reported an error" if condition == TerminationCondition.error else ""
        values, objective, bound, gap = None, math.nan, math.nan, math.nan
        if status.has_solution:
            primals = results.solution_loader.get_vars()
            values = np.array([primals[x[j]] for j in range(lp.n_cols)], dtype=np.float64)
            objective = float(results.incumbent_objective)
            found = results.objective_bound  # None for an LP: its optimum is its own bound
            bound = float(found) if found is not None and math.isfinite(found) else objective
            gap = abs(objective - bound) / max(abs(objective), 1e-10)
        return Solution(
            status=status,
            x=values,
            objective=objective,
            bound=bound,
            gap=gap,
            solve_seconds=solved - handed,
            handoff_seconds=handed - began,
            backend=self.name,
            backend_version=self.version(),
            message=message,
        )


def _violated_empty_row(lp: LinearProgram) -> int | None:
    """The first row without columns whose bounds exclude 0 (Pyomo cannot state it), else None."""
    empty = np.diff(lp.A.tocsr().indptr) == 0
    bad = np.flatnonzero(empty & ((lp.row_lower > 1e-9) | (lp.row_upper < -1e-9)))
    return int(bad[0]) if len(bad) else None


def to_pyomo(lp: LinearProgram) -> tuple[Any, Any]:
    """The Pyomo model of `lp`: variables x[j] with their bounds and integrality, one constraint per
    row that has columns and a finite bound, minimise offset + c.x."""
    import pyomo.environ as pyo

    m = pyo.ConcreteModel(name="concerto")
    n = lp.n_cols
    lower = [None if not math.isfinite(v) else float(v) for v in lp.col_lower]
    upper = [None if not math.isfinite(v) else float(v) for v in lp.col_upper]
    integer = lp.integrality.astype(bool)
    m.x = pyo.Var(
        range(n),
        domain=lambda _m, j: pyo.Integers if integer[j] else pyo.Reals,
        bounds=lambda _m, j: (lower[j], upper[j]),
    )
    A = lp.A.tocsr()
    indptr, indices, data = A.indptr, A.indices, A.data
    row_lower = [None if not math.isfinite(v) else float(v) for v in lp.row_lower]
    row_upper = [None if not math.isfinite(v) else float(v) for v in lp.row_upper]
    bounded = np.isfinite(lp.row_lower) | np.isfinite(lp.row_upper)
    rows = np.flatnonzero((np.diff(indptr) > 0) & bounded).tolist()

    def row(_m: Any, i: int) -> Any:
        body = pyo.quicksum(float(data[k]) * m.x[int(indices[k])] for k in range(indptr[i], indptr[i + 1]))
        if row_lower[i] is not None and row_lower[i] == row_upper[i]:
            return body == row_lower[i]
        return pyo.inequality(row_lower[i], body, row_upper[i])

    m.row = pyo.Constraint(rows, rule=row)
    nonzero = np.flatnonzero(lp.c)
    m.objective = pyo.Objective(
        expr=float(lp.offset) + pyo.quicksum(float(lp.c[j]) * m.x[int(j)] for j in nonzero),
        sense=pyo.minimize,
    )
    return m, m.x
