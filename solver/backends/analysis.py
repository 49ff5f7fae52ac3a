"""What a backend reports about a model beyond its solution: an LP's duals and ranging
(`SolverBackend.duals`) and an infeasible subsystem of its LP relaxation (`SolverBackend.conflict`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.solution import SolveStatus


@dataclass(frozen=True, eq=False)
class Range:
    """One side of a ranging interval, per row or column: the value a cost or bound may reach
    before the optimal basis changes, and the objective there (infinite when there is no limit)."""

    value: npt.NDArray[np.float64]
    objective: npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class LpRanging:
    """Cost and bound ranging of an optimal LP basis: within these the duals below hold unchanged."""

    col_cost_up: Range
    """How far each column's cost may rise."""
    col_cost_down: Range
    col_bound_up: Range
    """How far each column's active bound (its value, for a basic column) may rise."""
    col_bound_down: Range
    row_bound_up: Range
    """How far each row's active bound (right-hand side) may rise."""
    row_bound_down: Range


@dataclass(frozen=True, eq=False)
class LpDuals:
    """The duals of a solved continuous LP (minimization).

    `row_dual[i]` is the objective's change per unit the active bound of row i rises: positive on a
    binding `>=` row, negative on a binding `<=` row, zero on a slack one. `reduced_cost[j]` is
    c_j - a_j' row_dual: negative on a column at its upper bound (raising it saves), positive at
    its lower bound."""

    status: SolveStatus
    objective: float
    row_dual: npt.NDArray[np.float64]
    reduced_cost: npt.NDArray[np.float64]
    ranging: LpRanging | None = None
    """Present when asked for and the solver could range the final basis."""


@dataclass(frozen=True, eq=False)
class Conflict:
    """Rows and column bounds of an LP that cannot all hold, though any proper subset can."""

    rows: npt.NDArray[np.int64]
    row_sides: tuple[str, ...]
    """Per row: "lower", "upper" or "both" (the bound of the row that takes part)."""
    columns: npt.NDArray[np.int64]
    column_sides: tuple[str, ...]
    irreducible: bool
    """False if the solver stopped (e.g. at the time limit) before proving that no part can be dropped."""
