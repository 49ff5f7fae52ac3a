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
import scipy.sparse as sp

from models.builder import LinearProgram
from models.solution import Solution

UpdateMode = Literal["in_place", "rebuilt"]

IN_PLACE: UpdateMode = "in_place"
"""Same shape and integrality: only the changed entries (values, and matrix entries that entered or
left the pattern) were handed to the solver."""
REBUILT: UpdateMode = "rebuilt"
"""A structural change: the new model was passed to a fresh solver instance."""

MAX_PATTERN_CHANGES = 500
"""A sparsity pattern that changes in more entries than this is handed over by a rebuild: each entry
that enters or leaves HiGHS's packed matrix moves the entries stored after it (about 2.7M at
L). Measured at L, an update that moved 30 entries took 0.32 s, the diff included: 500 would take
about 5 s at that rate, well under what staying warm saved there (the replan benchmark's new order:
100.9 s in place against 173.4 s rebuilt). A judgment, not a measured optimum.
Signals move a few dozen (the replan benchmark's lead-time change: 36 at M, 30 at L)."""


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
    """Matrix entries whose value changed, entries new to the sparsity pattern and entries that
    left it included."""
    pattern: int = 0
    """Of `coefficients`, the entries that entered or left the sparsity pattern (a lead time that
    moves arrivals to other rows, a coefficient cut to zero)."""
    basis_restored: bool = False
    """Whether the next run starts from the basis kept for the new matrix, a run on it having ended
    with that basis before (`HighsLiveModel.update`), instead of the basis the last run left."""
    seconds: float = 0.0
    """Wall time of the diff and the calls into the solver (or of the rebuild's hand-off)."""


class RebuildRequired(Exception):
    """A change an `InPlaceModel` cannot apply in place; `reason` says why. The model is then left
    half-updated and must be dropped: load the new model afresh (`SolverBackend.live`)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the model must be rebuilt: {reason}")


def structural_difference(old: LinearProgram, new: LinearProgram) -> str:
    """Why `new` cannot be reached from `old` by changing entries of its arrays; empty if it can.
    A new shape or integrality is structural; so is a sparsity pattern that changes in more than
    `MAX_PATTERN_CHANGES` entries. A pattern that changes in fewer is not: its entries are set one
    by one, like values (`ModelChanges`)."""
    try:
        ModelChanges.between(old, new)
    except RebuildRequired as rebuild:
        return rebuild.reason
    return ""


def _shape_difference(old: LinearProgram, new: LinearProgram) -> str:
    if (old.n_cols, old.n_rows) != (new.n_cols, new.n_rows):
        return f"shape {old.n_rows}x{old.n_cols} -> {new.n_rows}x{new.n_cols}"
    if not np.array_equal(old.integrality, new.integrality):
        return f"integrality of {int((old.integrality != new.integrality).sum())} columns"
    return ""


def _same_pattern(old: sp.csr_matrix, new: sp.csr_matrix) -> bool:
    """Whether two CSR matrices of one shape store their entries at the same places, in order."""
    same_rows = old.nnz == new.nnz and np.array_equal(old.indptr, new.indptr)
    return same_rows and np.array_equal(old.indices, new.indices)


def same_matrix(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    """Whether two CSR matrices store the same entries in the same order (the builder's matrices
    are canonical, so equal models compare equal)."""
    if a is b:
        return True
    return a.shape == b.shape and _same_pattern(a, b) and bool(np.array_equal(a.data, b.data))


def _entry_keys(lp: LinearProgram) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Each stored matrix entry as one sorted key (row * columns + column) and its value."""
    A = lp.A
    rows = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr))
    keys = rows * np.int64(A.shape[1]) + A.indices.astype(np.int64)
    values = np.asarray(A.data, dtype=np.float64)
    if keys.size > 1 and not np.all(keys[1:] > keys[:-1]):  # not canonical CSR: sort, sum duplicates
        keys, inverse = np.unique(keys, return_inverse=True)
        values = np.asarray(np.bincount(inverse, weights=values, minlength=keys.size), dtype=np.float64)
    return keys, values


def _lookup(
    sorted_keys: npt.NDArray[np.int64], keys: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """For each of `keys`, its position in `sorted_keys` (clipped) and whether it is there."""
    if sorted_keys.size == 0:
        return np.zeros(keys.size, dtype=np.int64), np.zeros(keys.size, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return at, sorted_keys[at] == keys


def _entry_changes(
    old: LinearProgram, new: LinearProgram
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64], int]:
    """The matrix entries to set to reach `new` from `old` (same shape): row, column and value of
    every entry of `new` that `old` lacks or holds at another value, and of every entry of `old`
    that `new` lacks, at value 0 (a stored zero counts as an entry); and how many entries entered
    or left the pattern."""
    if same_matrix(old.A, new.A):  # the restricted repair's rounds share one matrix object
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0), 0
    if _same_pattern(old.A, new.A):
        entries = np.flatnonzero(old.A.data != new.A.data)
        # The row of CSR entry k is the r with indptr[r] <= k < indptr[r + 1].
        rows = np.searchsorted(new.A.indptr, entries, side="right") - 1
        return rows.astype(np.int64), new.A.indices[entries].astype(np.int32), new.A.data[entries], 0
    old_keys, old_values = _entry_keys(old)
    new_keys, new_values = _entry_keys(new)
    at, held = _lookup(old_keys, new_keys)
    entering = ~held
    changed = entering | (old_values[at] != new_values) if old_keys.size else entering
    leaving = ~_lookup(new_keys, old_keys)[1]
    keys = np.concatenate([new_keys[changed], old_keys[leaving]])
    values = np.concatenate([new_values[changed], np.zeros(int(leaving.sum()))])
    n_cols = np.int64(new.n_cols)
    return keys // n_cols, (keys % n_cols).astype(np.int32), values, int(entering.sum() + leaving.sum())


def _changed(old: npt.NDArray[np.float64], new: npt.NDArray[np.float64]) -> npt.NDArray[np.int32]:
    """Indices where two arrays differ exactly (infinities compare equal to themselves)."""
    return np.flatnonzero(old != new).astype(np.int32)


@dataclass(frozen=True, eq=False)
class ModelChanges:
    """The entries in which two models of one shape differ, with the new values at hand.

    The diff is exact (no tolerance): a solver instance given these entries holds exactly the arrays
    a fresh load of the new model would, so the two are the same model by construction. A matrix
    entry that leaves the sparsity pattern is given as value 0 (which a solver drops, as it drops
    zeros when a model is loaded)."""

    new: LinearProgram
    columns: npt.NDArray[np.int32]
    """Columns whose lower or upper bound changed."""
    rows: npt.NDArray[np.int32]
    """Rows whose lower or upper bound changed."""
    costs: npt.NDArray[np.int32]
    """Columns whose cost changed."""
    offset: bool
    entry_rows: npt.NDArray[np.int64]
    """Row, column and new value of each changed matrix entry (0 for an entry that left the pattern)."""
    entry_cols: npt.NDArray[np.int32]
    entry_values: npt.NDArray[np.float64]
    pattern: int = 0
    """Entries that entered or left the sparsity pattern."""

    @classmethod
    def between(cls, old: LinearProgram, new: LinearProgram) -> ModelChanges:
        """What changed from `old` to `new`; `RebuildRequired` if `new` differs in structure
        (`structural_difference`)."""
        reason = _shape_difference(old, new)
        if reason:
            raise RebuildRequired(reason)
        columns = np.union1d(_changed(old.col_lower, new.col_lower), _changed(old.col_upper, new.col_upper))
        rows = np.union1d(_changed(old.row_lower, new.row_lower), _changed(old.row_upper, new.row_upper))
        entry_rows, entry_cols, entry_values, pattern = _entry_changes(old, new)
        if pattern > MAX_PATTERN_CHANGES:
            raise RebuildRequired(f"sparsity pattern: {pattern} entries entered or left it, over {MAX_PATTERN_CHANGES}")
        return cls(
            new=new,
            columns=columns,
            rows=rows,
            costs=_changed(old.c, new.c),
            offset=float(old.offset) != float(new.offset),
            entry_rows=entry_rows,
            entry_cols=entry_cols,
            entry_values=entry_values,
            pattern=pattern,
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
            pattern=self.pattern,
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
        the stability penalty, an authority rule that becomes active) keeps the warm start."""
        return False

    def basis(self) -> Any | None:
        """The basis the last run ended with, in the solver's own form (None where it keeps none):
        to hand back to `restore_basis` later."""
        return None

    def restore_basis(self, basis: Any) -> bool:
        """Start the next run from `basis` (from `basis()` of this model, on a matrix of this
        shape); False when nothing was restored."""
        return False

    def reduced_costs(self) -> npt.NDArray[np.float64] | None:
        """After a run that solved the LP: each column's reduced cost c_j - a_j^T y (a column at
        its upper bound whose reduced cost is negative would lower the objective by that much a
        unit more). None where the solver gives none."""
        return None

    def infeasible_columns(self) -> npt.NDArray[np.int64] | None:
        """After a run that found the LP infeasible: the columns whose bounds the solver's proof
        of it (a dual ray y: no x within the column bounds meets the rows it weighs) relies on,
        those with a nonzero entry in A^T y. None where the solver gives no proof."""
        return None

    @abstractmethod
    def solve_lp_relaxation(self) -> Solution:
        """Solve the model with every integer column relaxed to continuous, warm from the previous
        relaxation's basis where the solver keeps one, and restore the integrality."""
