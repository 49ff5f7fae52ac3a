"""In-place updates of a loaded model, the interface of feature IN_PLACE_UPDATE: the value changes
between two models of one structure, the `InPlaceModel` a backend keeps loaded, `RebuildRequired`.

`solver.live.LiveModel` is the front most callers want: it rebuilds when a backend raises
`RebuildRequired`; its docstring says when in place pays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.solution import Solution

UpdateMode = Literal["in_place", "rebuilt"]

IN_PLACE: UpdateMode = "in_place"
"""Same shape, integrality and sparsity pattern: only the changed entries were handed to the solver."""
REBUILT: UpdateMode = "rebuilt"
"""A structural change: the new model was passed to a fresh solver instance."""


@dataclass(frozen=True)
class ModelUpdate:
    """What one `LiveModel.update` did."""

    mode: UpdateMode
    """"in_place" or "rebuilt" (an update that changes nothing is "in_place" with no changes)."""
    reason: str
    """Why the model was rebuilt (empty when updated in place)."""
    column_bounds: int = 0
    """Columns whose lower or upper bound changed."""
    row_bounds: int = 0
    """Rows whose lower or upper bound (right-hand side) changed."""
    costs: int = 0
    """Columns whose objective coefficient changed."""
    offset: bool = False
    """Whether the objective's constant changed."""
    coefficients: int = 0
    """Matrix entries whose value changed (the pattern being the same)."""
    seconds: float = 0.0
    """Wall time of the diff and the calls into the solver (or of the rebuild's hand-off)."""


class RebuildRequired(Exception):
    """A change an `InPlaceModel` cannot apply in place; `reason` says why. The model is then left
    half-updated and must be dropped: load the new model afresh (`SolverBackend.live`)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the model must be rebuilt: {reason}")


def structural_difference(old: LinearProgram, new: LinearProgram) -> str:
    """Why `new` cannot be reached from `old` by changing values only; empty if it can."""
    if (old.n_cols, old.n_rows) != (new.n_cols, new.n_rows):
        return f"shape {old.n_rows}x{old.n_cols} -> {new.n_rows}x{new.n_cols}"
    if not np.array_equal(old.integrality, new.integrality):
        return f"integrality of {int((old.integrality != new.integrality).sum())} columns"
    if old.nnz != new.nnz:
        return f"nonzeros {old.nnz} -> {new.nnz}"
    if not (np.array_equal(old.A.indptr, new.A.indptr) and np.array_equal(old.A.indices, new.A.indices)):
        return "sparsity pattern"
    return ""


def _changed(old: npt.NDArray[np.float64], new: npt.NDArray[np.float64]) -> npt.NDArray[np.int32]:
    """Indices where two arrays differ exactly (infinities compare equal to themselves)."""
    return np.flatnonzero(old != new).astype(np.int32)


@dataclass(frozen=True, eq=False)
class ModelChanges:
    """The entries in which two models of one structure differ, with the new values at hand.

    The diff is exact (no tolerance): a solver instance given these entries holds exactly the arrays
    a fresh load of the new model would, so the two are the same model by construction."""

    new: LinearProgram
    columns: npt.NDArray[np.int32]
    """Columns whose lower or upper bound changed."""
    rows: npt.NDArray[np.int32]
    """Rows whose lower or upper bound changed."""
    costs: npt.NDArray[np.int32]
    """Columns whose cost changed."""
    offset: bool
    entry_rows: npt.NDArray[np.int64]
    """Row, column and new value of each changed matrix entry."""
    entry_cols: npt.NDArray[np.int32]
    entry_values: npt.NDArray[np.float64]

    @classmethod
    def between(cls, old: LinearProgram, new: LinearProgram) -> ModelChanges:
        """What changed from `old` to `new`, which must have no `structural_difference`."""
        columns = np.union1d(_changed(old.col_lower, new.col_lower), _changed(old.col_upper, new.col_upper))
        rows = np.union1d(_changed(old.row_lower, new.row_lower), _changed(old.row_upper, new.row_upper))
        entries = np.flatnonzero(old.A.data != new.A.data)
        # The row of CSR entry k is the r with indptr[r] <= k < indptr[r + 1].
        entry_rows = np.searchsorted(new.A.indptr, entries, side="right") - 1
        return cls(
            new=new,
            columns=columns,
            rows=rows,
            costs=_changed(old.c, new.c),
            offset=float(old.offset) != float(new.offset),
            entry_rows=entry_rows,
            entry_cols=new.A.indices[entries],
            entry_values=new.A.data[entries],
        )

    def update(self) -> ModelUpdate:
        """The `ModelUpdate` of applying these changes in place (its `seconds` left for the caller)."""
        return ModelUpdate(
            IN_PLACE,
            "",
            column_bounds=int(self.columns.size),
            row_bounds=int(self.rows.size),
            costs=int(self.costs.size),
            offset=self.offset,
            coefficients=int(self.entry_values.size),
        )


class InPlaceModel(ABC):
    """A model loaded into a solver and kept there (feature IN_PLACE_UPDATE). One instance runs one
    solve at a time: do not call `update` or a solve from two threads at once."""

    @property
    @abstractmethod
    def lp(self) -> LinearProgram:
        """The model the solver holds now."""

    @property
    @abstractmethod
    def native(self) -> Any:
        """The solver's own model object (for callbacks or a MIP start; not for changing the model)."""

    @abstractmethod
    def update(self, new_lp: LinearProgram) -> ModelUpdate:
        """Bring the loaded model to `new_lp` in place; `RebuildRequired` if that cannot be done."""

    @abstractmethod
    def solve(
        self, *, handoff: float, time_limit: float | None = None, objective_bound: float | None = None
    ) -> Solution:
        """Run the loaded model from whatever state its last solve left and read the result;
        `handoff` is reported as the solution's hand-off seconds; `time_limit` (seconds) replaces
        the limit the model was loaded with, for this and later runs. `objective_bound` (an LP
        only; this run only): stop as soon as a lower bound above it is proven. The run then has no
        solution; its status is TIME_LIMIT, `info["objective_bound_reached"]` is 1 and `bound` is
        the proven lower bound (NaN where the solver cannot stop so)."""

    def adopt_basis(self, old: InPlaceModel) -> bool:
        """Start the next solve from the basis `old` ended with, where the solver keeps one and this
        model extends `old`'s (its columns and rows first, in order); False when nothing was
        adopted. `LiveModel` calls it after a rebuild, so that a structural change (new columns for
        the stability penalty, a lead time that moves arrivals) keeps the warm start."""
        return False

    @abstractmethod
    def solve_lp_relaxation(self) -> Solution:
        """Solve the model with every integer column relaxed to continuous, warm from the previous
        relaxation's basis where the solver keeps one, and restore the integrality."""
