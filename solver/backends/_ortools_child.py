"""The OR-Tools side of the `OrToolsBackend`: code that runs in a spawned worker process.

It imports numpy, scipy and ortools only (never highspy, whose bundled HiGHS clashes with
ortools's), receives the model as plain arrays and answers with plain values.
"""

from __future__ import annotations

import math
import os
import pickle
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import numpy as np

Payload = dict[str, Any]
"""The model as plain arrays: c, offset, indptr, indices, data, n_rows, n_cols, row/col bounds,
integrality, plus `solver` ("scip", "cp_sat", "highs") and `options` (a dict of SolveOptions fields),
and optionally `start` (a MIP start), `progress` (send incumbents) and `interruptible` (listen for
("interrupt",) on stdin)."""

Send = Callable[[tuple[str, Any]], None]
"""Writes one pickled message to the parent."""

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

_START_ACCEPTED = {
    "scip": re.compile(r"\b[1-9]\d*/\d+ feasible solutions? given by solution candidate storage"),
    "cp_sat": re.compile(r"The solution hint is complete and is feasible"),
    "highs": re.compile(r"MIP start solution is feasible"),
}
"""The log line in which each solver says it accepted the solution hint as feasible (MathOpt itself
does not report it; an infeasible or rejected hint leaves no such line)."""


def ortools_version() -> str:
    """The installed OR-Tools version (imports ortools: call it in a worker only)."""
    import ortools

    return str(ortools.__version__)


def main() -> None:
    """Worker entry point (`python -m solver.backends._ortools_child`): read one pickled request
    from stdin, ("probe", None) or ("solve", payload), and write ("ok", value) or ("error", message)
    pickled to stdout, after any ("progress", fields of a MipProgress) messages.

    The answer goes to a private copy of file descriptor 1, and descriptor 1 itself is pointed at
    stderr: solver logs, written by C code straight to descriptor 1, must not corrupt the answer."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    lock = threading.Lock()

    def send(message: tuple[str, Any]) -> None:
        with lock:
            pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()

    try:
        kind, payload = pickle.load(sys.stdin.buffer)
        if "highspy" in sys.modules:  # pragma: no cover - a guard against a future import chain
            raise RuntimeError("highspy was imported into the OR-Tools worker; the two HiGHS builds clash")
        if kind == "probe":
            from ortools.math_opt.python import mathopt  # noqa: F401

            answer: tuple[str, Any] = ("ok", ortools_version())
        else:
            answer = ("ok", solve_payload(payload, send, sys.stdin.buffer))
    except Exception as exc:
        answer = ("error", f"{type(exc).__name__}: {exc}")
    send(answer)


def solve_payload(payload: Payload, send: Send | None = None, control: IO[bytes] | None = None) -> dict[str, Any]:
    """Build the MathOpt model from the arrays, solve it and read the result through the table.
    With `payload["progress"]` each new incumbent is sent through `send`; with
    `payload["interruptible"]` an ("interrupt",) message read from `control` stops the solve."""
    from ortools.math_opt import model_pb2
    from ortools.math_opt.python import mathopt
    from ortools.util.python import solve_interrupter

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
    variables = [model.get_variable(j) for j in range(n_cols)]
    hooks: dict[str, Any] = {}
    log: list[str] = []
    if payload.get("start") is not None:
        hooks["model_params"] = mathopt.ModelSolveParameters(solution_hints=[_hint(mathopt, variables, payload)])
        hooks["msg_cb"] = _keep_log(log, echo=bool(options["verbose"]))
    if payload.get("progress") and send is not None:
        hooks["callback_reg"], hooks["cb"] = _incumbent_reports(mathopt, variables, payload, send)
    interrupter = solve_interrupter.SolveInterrupter() if payload.get("interruptible") else None
    if interrupter is not None:
        hooks["interrupter"] = interrupter
    if control is not None:
        threading.Thread(target=_listen, args=(control, interrupter), daemon=True).start()
    handed = time.perf_counter()
    result = mathopt.solve(model, solver_type, params=params, **hooks)
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
        x = np.array([values[v] for v in variables], dtype=np.float64)
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
        "start_accepted": (
            any(_START_ACCEPTED[payload["solver"]].search(line) for line in log)
            if payload.get("start") is not None
            else None
        ),
    }


def _keep_log(log: list[str], *, echo: bool) -> Callable[[list[str]], None]:
    """A MathOpt message callback keeping the solver's log (read for the start's acceptance); a
    message callback replaces MathOpt's own printing, so `echo` prints it for a verbose solve."""

    def keep(lines: list[str]) -> None:
        log.extend(lines)
        if echo:
            print(*lines, sep="\n", file=sys.stderr)

    return keep


def _hint(mathopt: Any, variables: list[Any], payload: Payload) -> Any:
    """The MIP start as a MathOpt solution hint over every column. Integer columns are rounded:
    a start read off another solver can be 1e-9 away from a whole number, and a solver that checks
    integrality strictly would throw the whole start away for that."""
    start = np.asarray(payload["start"], dtype=np.float64).copy()
    integer = np.asarray(payload["integrality"], dtype=bool)
    start[integer] = np.round(start[integer])
    return mathopt.SolutionHint(variable_values=dict(zip(variables, start.tolist(), strict=True)))


def _incumbent_reports(mathopt: Any, variables: list[Any], payload: Payload, send: Send) -> tuple[Any, Any]:
    """A MIP_SOLUTION callback that sends the incumbent, bound and gap as a MipProgress's fields.

    The event carries the new solution, but its `mip_stats.primal_bound` is the incumbent before
    it (SCIP), and a solution need not improve: the incumbent is the least objective seen so far,
    computed from the solution's values on the objective's columns only (the callback asks for no
    others, which keeps the event small on large models)."""
    c = np.asarray(payload["c"], dtype=np.float64)
    offset = float(payload["offset"])
    priced = np.flatnonzero(c)
    registration = mathopt.CallbackRegistration(
        events={mathopt.Event.MIP_SOLUTION},
        mip_solution_filter=mathopt.SparseVectorFilter(
            skip_zero_values=True, filtered_items=[variables[j] for j in priced]
        ),
    )
    best = [math.inf]

    def on_event(data: Any) -> Any:
        solution = data.solution
        if solution is None:
            return mathopt.CallbackResult()
        ids = np.fromiter((v.id for v in solution), dtype=np.int64, count=len(solution))
        values = np.fromiter(solution.values(), dtype=np.float64, count=len(solution))
        objective = offset + float(c[ids] @ values)
        improved = objective < best[0]
        best[0] = min(best[0], objective)
        bound = float(data.mip_stats.dual_bound)
        bound = bound if math.isfinite(bound) else math.nan
        gap = abs(best[0] - bound) / max(abs(best[0]), 1e-10) if math.isfinite(bound) else math.nan
        fields = {
            "running_seconds": data.runtime.total_seconds(),
            "objective": best[0],
            "bound": bound,
            "gap": gap,
            "nodes": int(data.mip_stats.explored_nodes),
            "improved": improved,
        }
        send(("progress", fields))
        return mathopt.CallbackResult()

    return registration, on_event


def _listen(control: IO[bytes], interrupter: Any | None) -> None:
    """Read the parent's messages while the solve runs: ("interrupt",) trips the interrupter (when
    the solve has one), and end-of-file means the parent has gone, its job cancelled or the worker
    process that ran it killed, so this worker exits at once instead of solving for nobody. (The
    parent also closes stdin once it has the answer; exiting then loses nothing.)"""
    while True:
        try:
            message = pickle.load(control)
        except (EOFError, OSError, pickle.UnpicklingError):
            os._exit(1)
        if message and message[0] == "interrupt" and interrupter is not None:
            interrupter.interrupt()


def _timedelta(seconds: float) -> Any:
    import datetime

    return datetime.timedelta(seconds=float(seconds))


if __name__ == "__main__":
    main()
