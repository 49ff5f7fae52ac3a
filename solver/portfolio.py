"""Portfolio solving: race several backends on one model in parallel worker processes, keep the
first proven optimum (or the best incumbent at the time limit) and cancel the rest.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from models.builder import LinearProgram
from models.errors import ValidationError
from models.solution import Solution, SolveStatus
from solver.backends.ortools import OrToolsBackend, run_worker
from solver.backends.registry import backend_by_name, check_options
from solver.options import SolveOptions

_WORKER_MODULE = "solver.portfolio"
_WORKER_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class RaceEntry:
    """How one backend fared in a race."""

    backend: str
    seconds: float
    """Wall time from the start of the race to its answer, or to its cancellation."""
    cancelled: bool
    """Whether the race stopped it because another backend won first."""
    solution: Solution | None
    """Its answer (None when it was cancelled)."""


@dataclass(frozen=True)
class PortfolioResult:
    """The winning solution, the backend that produced it, and every entrant's time."""

    solution: Solution
    winner: str
    seconds: float
    """Wall time of the whole race, worker start-up included."""
    entries: tuple[RaceEntry, ...]


def race(lp: LinearProgram, options: SolveOptions, backends: Sequence[str]) -> PortfolioResult:
    """Solve `lp` with every backend in `backends` at once, each in its own process.

    The first answer proven OPTIMAL wins and the other workers are killed. Otherwise every
    backend runs to its own end (the time limit bounds each), and the best incumbent wins; with
    no incumbent at all, the first answer is returned with its status."""
    if len(backends) < 1 or len(set(backends)) != len(backends):
        raise ValidationError("solve options", ",".join(backends), "backends", "must name distinct backends")
    for name in backends:
        check_options(backend_by_name(name), options)
    lock = threading.Lock()
    done = threading.Event()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    answers: dict[str, tuple[Solution, float]] = {}
    began = time.perf_counter()

    def started(name: str, proc: subprocess.Popen[bytes]) -> None:
        with lock:
            procs[name] = proc
            if done.is_set():
                proc.kill()

    def run(name: str) -> None:
        solution = _solve_in_worker(name, lp, options, lambda proc: started(name, proc))
        with lock:
            if done.is_set():
                return
            answers[name] = (solution, time.perf_counter() - began)
            if solution.status == SolveStatus.OPTIMAL or len(answers) == len(backends):
                done.set()
                for other, proc in procs.items():
                    if other not in answers:
                        proc.kill()

    threads = [threading.Thread(target=run, args=(name,), daemon=True) for name in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - began
    winner = _pick_winner(answers, backends)
    entries = tuple(
        RaceEntry(name, answers[name][1], False, answers[name][0])
        if name in answers
        else RaceEntry(name, total, True, None)
        for name in backends
    )
    return PortfolioResult(answers[winner][0], winner, total, entries)


def _pick_winner(answers: dict[str, tuple[Solution, float]], backends: Sequence[str]) -> str:
    """A proven optimum first (the earliest), else the best incumbent, else the earliest answer."""
    optimal = [n for n in answers if answers[n][0].status == SolveStatus.OPTIMAL]
    if optimal:
        return min(optimal, key=lambda n: answers[n][1])
    feasible = [n for n in answers if answers[n][0].status.has_solution]
    if feasible:
        return min(feasible, key=lambda n: (answers[n][0].objective, answers[n][1]))
    return min(answers, key=lambda n: answers[n][1])


def _solve_in_worker(name: str, lp: LinearProgram, options: SolveOptions, started: object) -> Solution:
    """Solve with backend `name` in a fresh process: the OR-Tools backends always do; HiGHS runs
    this module as a worker so that it too can be cancelled by killing its process."""
    backend = backend_by_name(name)
    if isinstance(backend, OrToolsBackend):
        return backend.solve(lp, options, started=started)  # type: ignore[arg-type]
    kind, value = run_worker(
        _WORKER_MODULE,
        ("solve", (name, lp, options)),
        options.time_limit + _WORKER_GRACE_SECONDS,
        started,  # type: ignore[arg-type]
    )
    if kind != "ok":
        return Solution(status=SolveStatus.ERROR, x=None, backend=name, message=str(value))
    assert isinstance(value, Solution)
    return value


def _worker_main() -> None:
    """`python -m solver.portfolio`: solve one pickled (backend name, model, options) request."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        _, (name, lp, options) = pickle.load(sys.stdin.buffer)
        answer: tuple[str, object] = ("ok", backend_by_name(name).solve(lp, options))
    except Exception as exc:
        answer = ("error", f"{type(exc).__name__}: {exc}")
    pickle.dump(answer, out)
    out.flush()


if __name__ == "__main__":
    _worker_main()
