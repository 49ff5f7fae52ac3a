"""What solving a `LinearProgram` gives back, whatever the backend: a status with a docstring on
every member, the primal values, objective, bound, gap and timings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt


class SolveStatus(Enum):
    """How a solve ended. Infeasible, unbounded and limits are results, never exceptions."""

    OPTIMAL = "optimal"
    """A solution proven optimal within the requested relative MIP gap."""
    FEASIBLE = "feasible"
    """A feasible solution, not proven optimal (a time or node limit, or an interrupt, stopped the search)."""
    INFEASIBLE = "infeasible"
    """No plan satisfies every hard constraint; ask for a diagnosis."""
    UNBOUNDED = "unbounded"
    """The objective can fall without limit: some cost or capacity is missing from the data."""
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    """The solver proved one of the two without telling which."""
    TIME_LIMIT = "time_limit"
    """The time limit passed before any feasible solution was found."""
    INTERRUPTED = "interrupted"
    """The caller cancelled the solve before any feasible solution was found."""
    ERROR = "error"
    """The solver failed; `Solution.message` says how."""

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True, eq=False)
class Solution:
    """The result of one solve of a `LinearProgram`."""

    status: SolveStatus
    x: npt.NDArray[np.float64] | None
    objective: float = float("nan")
    bound: float = float("nan")
    gap: float = float("nan")
    solve_seconds: float = 0.0
    handoff_seconds: float = 0.0
    backend: str = ""
    backend_version: str = ""
    message: str = ""
    info: dict[str, float] = field(default_factory=dict)
    method: str = "milp"
    """How it was solved: "milp" (the backend's branch and bound) or "lp_first" (`solver.lp_first`,
    whose figures are in `info`)."""
