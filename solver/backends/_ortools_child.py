"""The OR-Tools side of the `OrToolsBackend`: code that runs in a spawned worker process.

It imports numpy, scipy and ortools only (never highspy, whose bundled HiGHS clashes with
ortools's), receives the model as plain arrays and answers with plain values.
"""

from __future__ import annotations

import math
import pickle
import sys
import time
from typing import Any

import numpy as np

Payload = dict[str, Any]
"""The model as plain arrays: c, offset, indptr, indices, data, n_rows, n_cols, row/col bounds,
integrality, plus `solver` ("scip", "cp_sat", "highs") and `options` (a dict of SolveOptions fields)."""

_SOLVER_TYPES = {"scip": "GSCIP", "cp_sat": "CP_SAT", "highs": "HIGHS"}

# MathOpt TerminationReason -> (status when a primal solution exists, status when none exists).
# The names are SolveStatus values; the parent turns them back into the enum.
_STATUS_TABLE: dict[str, tuple[str, str]] = {
    "OPTIMAL": ("optimal", "error"),
    "INFEASIBLE": ("infeasible", "infeasible"),
    "UNBOUNDED": ("unbounded", "unbounded"),
    "INFEASIBLE_OR_UNBOUNDED": ("infeasible_or_unbounded", "infeasible_or_unbounded"),
    "FEASIBLE": ("feasible", "time_limit"),
    "NO_SOLUTION_FOUND": ("time_limit", "time_limit"),
    "IMPRECISE": ("feasible", "error"),
    "NUMERICAL_ERROR": ("error", "error"),
    "OTHER_ERROR": ("error", "error"),
}
_INTERRUPTED_LIMITS = {"INTERRUPTED"}
"""MathOpt limits that mean the caller cancelled (the status is then `interrupted`, not `time_limit`)."""


def ortools_version() -> str:
    """The installed OR-Tools version (imports ortools: call it in a worker only)."""
    import ortools

    return str(ortools.__version__)


def main() -> None:
    """Worker entry point (`python -m solver.backends._ortools_child`): read one pickled request
    from stdin, ("probe", None) or ("solve", payload), and write ("ok", value) or ("error", message)
    pickled to stdout."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # solver logs must not corrupt the pickled answer
    try:
        kind, payload = pickle.load(sys.stdin.buffer)
        if "highspy" in sys.modules:  # pragma: no cover - a guard against a future import chain
            raise RuntimeError("highspy was imported into the OR-Tools worker; the two HiGHS builds clash")
        if kind == "probe":
            from ortools.math_opt.python import mathopt  # noqa: F401

            answer: tuple[str, Any] = ("ok", ortools_version())
        else:
            answer = ("ok", solve_payload(payload))
    except Exception as exc:
        answer = ("error", f"{type(exc).__name__}: {exc}")
    pickle.dump(answer, out)
    out.flush()


def solve_payload(payload: Payload) -> dict[str, Any]:
    """Build the MathOpt model from the arrays, solve it and read the result through the table."""
    from ortools.math_opt import model_pb2
    from ortools.math_opt.python import mathopt

    began = time.perf_counter()
    n_cols, n_rows = int(payload["n_cols"]), int(payload["n_rows"])
    proto = model_pb2.ModelProto(name="concerto")
    cols = np.arange(n_cols, dtype=np.int64)
    proto.variables.ids.extend(cols.tolist())
    proto.variables.lower_bounds.extend(np.asarray(payload["col_lower"], dtype=np.float64).tolist())
    proto.variables.upper_bounds.extend(np.asarray(payload["col_upper"], dtype=np.float64).tolist())
    proto.variables.integers.extend(np.asarray(payload["integrality"], dtype=bool).tolist())
    c = np.asarray(payload["c"], dtype=np.float64)
    nonzero = np.flatnonzero(c)
    proto.objective.offset = float(payload["offset"])
    proto.objective.linear_coefficients.ids.extend(nonzero.tolist())
    proto.objective.linear_coefficients.values.extend(c[nonzero].tolist())
    proto.linear_constraints.ids.extend(range(n_rows))
    proto.linear_constraints.lower_bounds.extend(np.asarray(payload["row_lower"], dtype=np.float64).tolist())
    proto.linear_constraints.upper_bounds.extend(np.asarray(payload["row_upper"], dtype=np.float64).tolist())
    indptr = np.asarray(payload["indptr"], dtype=np.int64)
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(indptr))
    matrix = proto.linear_constraint_matrix
    matrix.row_ids.extend(rows.tolist())
    matrix.column_ids.extend(np.asarray(payload["indices"], dtype=np.int64).tolist())
    matrix.coefficients.extend(np.asarray(payload["data"], dtype=np.float64).tolist())
    model = mathopt.Model.from_model_proto(proto)

    options = payload["options"]
    params = mathopt.SolveParameters(enable_output=bool(options["verbose"]))
    if math.isfinite(options["time_limit"]):
        params.time_limit = _timedelta(options["time_limit"])
    if n_cols and np.asarray(payload["integrality"], dtype=bool).any():
        params.relative_gap_tolerance = float(options["mip_rel_gap"])
    if options["threads"]:
        params.threads = int(options["threads"])
    params.random_seed = int(options["seed"])
    solver_type = getattr(mathopt.SolverType, _SOLVER_TYPES[payload["solver"]])
    handed = time.perf_counter()
    result = mathopt.solve(model, solver_type, params=params)
    solved = time.perf_counter()

    reason = result.termination.reason.name
    limit = result.termination.limit.name if result.termination.limit is not None else ""
    has_solution = result.has_primal_feasible_solution()
    with_solution, without = _STATUS_TABLE.get(reason, ("error", "error"))
    status = with_solution if has_solution else without
    if not has_solution and limit in _INTERRUPTED_LIMITS:
        status = "interrupted"
    x = None
    objective = bound = gap = float("nan")
    if status in ("optimal", "feasible"):
        values = result.variable_values()
        x = np.array([values[model.get_variable(j)] for j in range(n_cols)], dtype=np.float64)
        objective = float(result.objective_value())
        bound = float(result.termination.objective_bounds.dual_bound)
        gap = abs(objective - bound) / max(abs(objective), 1e-10) if math.isfinite(bound) else float("inf")
    return {
        "status": status,
        "x": x,
        "objective": objective,
        "bound": bound,
        "gap": gap,
        "solve_seconds": solved - handed,
        "handoff_seconds": handed - began,
        "version": ortools_version(),
        "message": f"{reason} {limit} {result.termination.detail}".strip(),
        "nodes": float(result.solve_stats.node_count),
    }


def _timedelta(seconds: float) -> Any:
    import datetime

    return datetime.timedelta(seconds=float(seconds))


if __name__ == "__main__":
    main()
