"""Solver progress in a terminal: one line at most every second, once a solve has run a second,
for local solves (any backend that declares PROGRESS) and for streamed server solves alike."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.solution import Solution
from solver.backends.base import MipProgress, SolverBackend, WrappedBackend
from solver.options import SolveOptions
from solver.records import SolveProgress


class TerminalProgress:
    """Prints a solver progress line at most every `every` seconds, once a solve runs past `after`."""

    def __init__(self, *, after: float = 1.0, every: float = 1.0, out: Callable[[str], None] = print) -> None:
        self.after, self.every, self.out = after, every, out
        self.last = -float("inf")

    def __call__(self, elapsed: float, objective: float, bound: float, gap: float) -> None:
        now = time.monotonic()
        if elapsed < self.after or now - self.last < self.every:
            return
        self.last = now
        self.out(f"  ... {elapsed:6.1f} s  incumbent {objective:,.2f}  bound {bound:,.2f}  gap {gap:.2%}")


def stream_progress(out: Callable[[str], None] = print) -> Callable[[SolveProgress], None]:
    """A `ReplanStream`/`SolveStream` progress handler printing the solving phase's updates."""
    show = TerminalProgress(out=out)

    def on_progress(p: SolveProgress) -> None:
        if p.phase == "solving":
            show(p.elapsed_seconds, p.objective, p.best_bound, p.gap)

    return on_progress


class ShowProgress(WrappedBackend):
    """A backend whose MIP updates go to `show` (a `TerminalProgress`), whichever backend it wraps;
    the name and capabilities are the wrapped backend's, so one without PROGRESS simply shows none."""

    def __init__(self, inner: SolverBackend, show: TerminalProgress) -> None:
        super().__init__(inner)
        self._show = show

    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: npt.NDArray[np.float64] | None = None,
    ) -> Solution:
        def report(update: MipProgress) -> None:
            self._show(update.running_seconds, update.objective, update.bound, update.gap)
            if progress is not None:
                progress(update)

        return self._inner.solve(lp, options, progress=report, interrupt=interrupt, start=start)
