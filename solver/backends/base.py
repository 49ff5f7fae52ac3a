"""The one interface every solver backend implements, with its capabilities declared as data."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.solution import Solution
from solver.options import SolveOptions


class BackendFeature(enum.Enum):
    """What a backend can do; the planner checks these before it hands a model over."""

    LP = "lp"
    """Continuous linear programs."""
    MIP = "mip"
    """Integer and binary variables."""
    TIME_LIMIT = "time_limit"
    MIP_GAP = "mip_gap"
    THREADS = "threads"
    SEED = "seed"
    MIP_START = "mip_start"
    """Takes a MIP start (`solve(start=)`) and says in `Solution.info["mip_start_accepted"]` whether
    the solver accepted it as feasible; a backend without it ignores the start."""
    PROGRESS = "progress"
    """Reports the incumbent, bound and gap while it solves (`solve(progress=)`)."""
    INTERRUPT = "interrupt"
    """Polls `solve(interrupt=)` while it solves and stops with the best plan so far once it is True."""


@dataclass(frozen=True)
class MipProgress:
    """The state of a running MIP solve, as a backend's callback reports it. NaN means not known yet."""

    running_seconds: float
    """Seconds since the solver started this solve."""
    objective: float
    """Objective of the best plan found so far (the incumbent)."""
    bound: float
    """Best proven lower bound on the objective (minimization)."""
    gap: float
    """Relative gap between `objective` and `bound`."""
    nodes: int
    """Branch-and-bound nodes explored so far."""
    improved: bool
    """Whether this update is a new incumbent (otherwise a periodic check)."""


class SolverBackend(ABC):
    """Solves a canonical `LinearProgram`; infeasible, unbounded and limits come back as results."""

    name: ClassVar[str]
    features: ClassVar[frozenset[BackendFeature]]

    @classmethod
    @abstractmethod
    def available(cls) -> bool:
        """Whether the backend's solver can be used in this process."""

    def usable(self) -> bool:
        """Whether this backend can solve here: its class is `available` (a backend whose instances
        wrap different solvers also checks its own)."""
        return type(self).available()

    @abstractmethod
    def version(self) -> str:
        """The underlying solver's version string."""

    def install_hint(self) -> str:
        """What to install to make this backend usable, for the error an unavailable one raises."""
        return ""

    @abstractmethod
    def solve(
        self,
        lp: LinearProgram,
        options: SolveOptions,
        *,
        progress: Callable[[MipProgress], None] | None = None,
        interrupt: Callable[[], bool] | None = None,
        start: npt.NDArray[np.float64] | None = None,
    ) -> Solution:
        """Solve `lp` (minimization) and return the solution with its status. `progress`,
        `interrupt` and the MIP start `start` (a full column vector) are hints: a backend uses each
        only if it declares the matching feature (PROGRESS, INTERRUPT, MIP_START) and ignores it
        otherwise, so a caller gets the same optimum either way."""


class WrappedBackend(SolverBackend):
    """A backend that passes its solves on to `inner` (to watch or report them), with the inner
    backend's name, capabilities, version and availability; a subclass overrides `solve`."""

    def __init__(self, inner: SolverBackend) -> None:
        self._inner = inner
        self.name = inner.name  # type: ignore[misc]
        self.features = inner.features  # type: ignore[misc]

    @classmethod
    def available(cls) -> bool:
        return True

    def usable(self) -> bool:
        return self._inner.usable()

    def version(self) -> str:
        return self._inner.version()
