"""The OR-Tools backend: MathOpt with SCIP, CP-SAT or MathOpt's HiGHS, run in a spawned worker
process because ortools and highspy each bundle a HiGHS library and cannot share one process.
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np
import numpy.typing as npt

import solver
from models.builder import LinearProgram
from models.errors import ValidationError
from models.solution import Solution, SolveStatus
from solver.backends.base import BEYOND_SOLVING, BackendFeature, MipProgress, SolverBackend
from solver.options import SolveOptions

_ALL = frozenset(BackendFeature) - BEYOND_SOLVING
"""Every feature of solving; Concerto takes none of the capabilities beyond it (duals, IIS, ...) from MathOpt."""

SOLVER_FEATURES: dict[str, frozenset[BackendFeature]] = {
    "scip": _ALL,
    # CP-SAT has no continuous variables: MathOpt would silently round them, so LP is not declared
    # and models with continuous columns or fractional data are refused.
    "cp_sat": _ALL - {BackendFeature.LP},
    # MathOpt's HiGHS (ortools 9.15) refuses `threads` ("must be set using globals"), never calls
    # back (no MIP_SOLUTION events) and ignores a SolveInterrupter; it does take a MIP start.
    "highs": _ALL - {BackendFeature.THREADS, BackendFeature.PROGRESS, BackendFeature.INTERRUPT},
}
"""What each MathOpt solver can do, as data; `OrToolsBackend.features` is the entry of its solver."""

_CHILD_MODULE = "solver.backends._ortools_child"
"""The worker module; it imports numpy, scipy and ortools only, never highspy."""

_WORKER_GRACE_SECONDS = 30.0
"""Time the worker may take beyond the solve's own time limit (spawn, import, build, answer)."""
_INTERRUPT_POLL_SECONDS = 0.05
"""How often the parent asks `interrupt()` while the worker solves."""
_SOURCE_ROOT = str(Path(solver.__file__).resolve().parents[1])
"""The directory holding the running `solver` package: the worker must import the same code."""

_available: dict[str, tuple[bool, str]] = {}
"""The cached answer of the child-process import probe: ("ortools", (ok, version or error))."""


class OrToolsBackend(SolverBackend):
    """OR-Tools MathOpt (`solver` "scip", "cp_sat" or "highs"), solved in a spawned worker process."""

    name: ClassVar[str] = "ortools"
    features: ClassVar[frozenset[BackendFeature]] = _ALL

    def __init__(self, solver: str = "scip") -> None:
        if solver not in SOLVER_FEATURES:
            raise ValidationError(
                "solve options", "ortools", "solver", f"is {solver!r}; use one of {', '.join(SOLVER_FEATURES)}"
            )
        self.solver = solver
        # Instance attributes shadow the class defaults: each solver declares its own capabilities.
        self.name = f"ortools-{solver.replace('_', '')}"  # type: ignore[misc]
        self.features = SOLVER_FEATURES[solver]  # type: ignore[misc]

    @classmethod
    def available(cls) -> bool:
        """Whether ortools imports in a fresh worker process (asked once, then cached)."""
        return _probe()[0]

    def install_hint(self) -> str:
        return "pip install ortools (Concerto's lock file pins the tested version)"

    @classmethod
    def unavailable_reason(cls) -> str:
        ok, detail = _probe()
        return "" if ok else detail

    def version(self) -> str:
        ok, detail = _probe()
        return detail if ok else ""

    def check(self, lp: LinearProgram, options: SolveOptions) -> None:
        """Raise a `ValidationError` naming the option or model property this solver cannot honour."""
        if lp.n_integer < lp.n_cols and BackendFeature.LP not in self.features:
            raise ValidationError(
                "solve options",
                self.name,
                "backend",
                f"cannot solve this model: CP-SAT needs integer variables only, and "
                f"{lp.n_cols - lp.n_integer} of {lp.n_cols} columns are continuous; use ortools-scip or highs",
            )
        if self.solver == "cp_sat":
            _require_integral(self.name, lp)

    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: npt.NDArray[np.float64] | None = None,
        started: Callable[[subprocess.Popen[bytes]], None] | None = None,
    ) -> Solution:
        """Solve `lp` in a fresh worker process; infeasible, unbounded and limits come back as results.

        Where the solver declares the feature, `start` goes to MathOpt as a solution hint (whether
        the solver accepted it is read from its log into `Solution.info["mip_start_accepted"]`),
        each new incumbent of a MIP_SOLUTION callback comes back through the worker's pipe to
        `progress` (on this thread; an exception it raises kills the worker and propagates), and
        `interrupt` is polled here every `_INTERRUPT_POLL_SECONDS`: once it returns True the worker
        trips MathOpt's SolveInterrupter and answers with the best plan so far (status FEASIBLE, or
        INTERRUPTED without one). `started` receives the worker process as soon as it runs (the
        portfolio uses it to cancel)."""
        self.check(lp, options)
        if not self.available():
            raise ValidationError(
                "solve options", self.name, "backend", f"is unavailable: {self.unavailable_reason()}; install ortools"
            )
        began = time.perf_counter()
        payload = self.payload(lp, options)
        if start is not None and BackendFeature.MIP_START in self.features:
            payload["start"] = np.asarray(start, dtype=np.float64)
        payload["progress"] = progress is not None and BackendFeature.PROGRESS in self.features
        payload["interruptible"] = interrupt is not None and BackendFeature.INTERRUPT in self.features

        def on_message(message: Any) -> None:
            if progress is not None:
                progress(MipProgress(**message))

        kind, value = run_worker(
            _CHILD_MODULE,
            ("solve", payload),
            options.time_limit + _WORKER_GRACE_SECONDS,
            started,
            on_message=on_message if payload["progress"] else None,
            interrupt=interrupt if payload["interruptible"] else None,
        )
        if kind != "ok":
            return Solution(
                status=SolveStatus.ERROR,
                x=None,
                backend=self.name,
                message=str(value),
                solve_seconds=time.perf_counter() - began,
            )
        return self.read_answer(value, total=time.perf_counter() - began)

    def payload(self, lp: LinearProgram, options: SolveOptions) -> dict[str, Any]:
        """The model and options as plain arrays and values, for the worker."""
        A = lp.A.tocsr()
        if not A.has_sorted_indices:
            A = A.sorted_indices()
        return {
            "solver": self.solver,
            "options": asdict(options),
            "c": np.asarray(lp.c, dtype=np.float64),
            "offset": float(lp.offset),
            "n_rows": lp.n_rows,
            "n_cols": lp.n_cols,
            "indptr": np.asarray(A.indptr, dtype=np.int64),
            "indices": np.asarray(A.indices, dtype=np.int64),
            "data": np.asarray(A.data, dtype=np.float64),
            "row_lower": np.asarray(lp.row_lower, dtype=np.float64),
            "row_upper": np.asarray(lp.row_upper, dtype=np.float64),
            "col_lower": np.asarray(lp.col_lower, dtype=np.float64),
            "col_upper": np.asarray(lp.col_upper, dtype=np.float64),
            "integrality": np.asarray(lp.integrality, dtype=bool),
        }

    def read_answer(self, answer: dict[str, Any], *, total: float) -> Solution:
        """Turn the worker's plain answer into a `Solution`; worker start-up counts as hand-off."""
        solve_seconds = float(answer["solve_seconds"])
        info = {"mip_node_count": float(answer["nodes"])}
        if answer.get("start_accepted") is not None:
            info["mip_start_accepted"] = float(answer["start_accepted"])
        return Solution(
            status=SolveStatus(answer["status"]),
            x=answer["x"],
            objective=float(answer["objective"]),
            bound=float(answer["bound"]),
            gap=float(answer["gap"]),
            solve_seconds=solve_seconds,
            handoff_seconds=max(total - solve_seconds, 0.0),
            backend=self.name,
            backend_version=str(answer["version"]),
            message=str(answer["message"]),
            info=info,
        )


def _require_integral(name: str, lp: LinearProgram) -> None:
    """CP-SAT works on integers: coefficients, right-hand sides and bounds must be whole numbers."""
    arrays = {
        "objective coefficients": lp.c,
        "constraint coefficients": lp.A.data,
        "row bounds": np.concatenate([lp.row_lower, lp.row_upper]),
        "column bounds": np.concatenate([lp.col_lower, lp.col_upper]),
    }
    for what, values in arrays.items():
        finite = values[np.isfinite(values)]
        if finite.size and not np.array_equal(finite, np.round(finite)):
            raise ValidationError(
                "solve options",
                name,
                "backend",
                f"cannot solve this model: CP-SAT needs integer {what} and this model has fractional ones; "
                "scale the data to integers or use ortools-scip or highs",
            )


def run_worker(
    module: str,
    request: tuple[str, Any],
    timeout: float,
    started: Callable[[subprocess.Popen[bytes]], None] | None = None,
    *,
    on_message: Callable[[Any], None] | None = None,
    interrupt: Callable[[], bool] | None = None,
) -> tuple[str, Any]:
    """Run `python -m module` in a fresh interpreter, send it `request` pickled on stdin, and return
    its pickled ("ok", value) or ("error", message). Before that answer the worker may send
    ("progress", value) messages, each handed to `on_message`; once `interrupt()` returns True the
    worker is sent ("interrupt",) on its stdin. A worker that dies, is killed or overruns `timeout`
    gives an error, so a crash in the child never hangs the parent.

    Stdin stays open until the answer arrives: a worker that reads end-of-file there knows its
    parent has gone (killed with a cancelled job, say) and stops instead of solving for nobody.

    A fresh interpreter rather than multiprocessing's spawn: spawn re-runs the parent's main script
    in the child, and any main script that imports the planner would drag highspy into the OR-Tools
    worker and break ortools's own HiGHS (undefined symbol at import)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_SOURCE_ROOT, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        [sys.executable, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    if started is not None:
        started(proc)
    stdin = proc.stdin
    err_tail: collections.deque[bytes] = collections.deque(maxlen=20)
    finished = threading.Event()
    overran = threading.Event()
    helpers = [threading.Thread(target=_keep_tail, args=(proc.stderr, err_tail), daemon=True)]
    if math.isfinite(timeout):
        helpers.append(threading.Thread(target=_kill_after, args=(proc, timeout, finished, overran), daemon=True))
    if interrupt is not None:
        helpers.append(threading.Thread(target=_send_interrupt, args=(stdin, interrupt, finished), daemon=True))
    try:
        stdin.write(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
        stdin.flush()
    except (BrokenPipeError, OSError) as exc:  # the worker was killed while reading its request
        proc.kill()
        proc.wait()
        return "error", f"the worker process ended early ({exc})"
    for helper in helpers:
        helper.start()
    answer: tuple[str, Any] | None = None
    try:
        while answer is None:
            try:
                kind, value = pickle.load(proc.stdout)
            except (EOFError, pickle.UnpicklingError, OSError, ValueError):
                break
            if kind == "progress":
                if on_message is not None:
                    on_message(value)
            else:
                answer = (str(kind), value)
    except BaseException:
        proc.kill()  # `on_message` raised: the solve is abandoned
        raise
    finally:
        finished.set()
        with contextlib.suppress(OSError, ValueError):  # the worker answered or died
            stdin.close()
        proc.wait()
        for helper in helpers:
            helper.join()
    if answer is not None:  # the worker may exit with 1 on the stdin we close once it answered
        return answer
    if overran.is_set():
        return "error", f"the worker process did not answer within {timeout:g} s"
    tail = b"".join(err_tail).decode(errors="replace").strip().splitlines()[-1:] or [""]
    return "error", f"the worker process exited with code {proc.returncode} before answering {tail[0]}".strip()


def _keep_tail(stream: IO[bytes], tail: collections.deque[bytes]) -> None:
    """Read the worker's stderr to its end (so its log never fills the pipe), keeping the last lines."""
    for line in stream:
        tail.append(line)


def _kill_after(
    proc: subprocess.Popen[bytes], timeout: float, finished: threading.Event, overran: threading.Event
) -> None:
    if not finished.wait(timeout):
        overran.set()
        proc.kill()


def _send_interrupt(stdin: IO[bytes], interrupt: Callable[[], bool], finished: threading.Event) -> None:
    """Poll `interrupt` until it says stop (then tell the worker once) or the worker has answered."""
    while not finished.wait(_INTERRUPT_POLL_SECONDS):
        if interrupt():
            with contextlib.suppress(OSError, ValueError):  # the worker answered or died
                stdin.write(pickle.dumps(("interrupt",), protocol=pickle.HIGHEST_PROTOCOL))
                stdin.flush()
            return


def _probe() -> tuple[bool, str]:
    """Import ortools in a spawned worker once per process; the parent never imports it."""
    if "ortools" not in _available:
        kind, detail = run_worker(_CHILD_MODULE, ("probe", None), 60.0)
        _available["ortools"] = (kind == "ok", str(detail))
    return _available["ortools"]
