"""The one interface every solver backend implements, with its capabilities declared as data."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from typing import ClassVar

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


class SolverBackend(ABC):
    """Solves a canonical `LinearProgram`; infeasible, unbounded and limits come back as results."""

    name: ClassVar[str]
    features: ClassVar[frozenset[BackendFeature]]

    @classmethod
    @abstractmethod
    def available(cls) -> bool:
        """Whether the backend's solver can be used in this process."""

    @abstractmethod
    def version(self) -> str:
        """The underlying solver's version string."""

    @abstractmethod
    def solve(self, lp: LinearProgram, options: SolveOptions) -> Solution:
        """Solve `lp` (minimization) and return the solution with its status."""
