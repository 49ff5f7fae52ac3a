"""A model with its fixed columns taken out, in numpy, before a solver sees it.

A replan's first answer fixes every decision outside the signals' reach at its baseline value, so
at L 420k of its 992k columns are fixed (`models.replanning.reach`). HiGHS's presolve removes them
too, but it pays for it: on the regional surge at L it spends 7.1 s of a 24.3 s first answer in
presolve, against 4.0 s of 21.5 s once the fixed columns are gone (one run each, the same plan
within the 2% gap). Taking them out is one sparse column selection and one product: the fixed
columns' activity moves into the row bounds, their cost into the offset, and the rows left with
no column go, unless their fixed activity breaks them (then they stay, empty, and the solver
reports the model infeasible as it would have).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np

from models.builder import (
    BoolArray,
    ConstraintBlock,
    CostTerm,
    FloatArray,
    IntArray,
    LinearProgram,
    VariableBlock,
)
from models.solution import Solution

ROW_TOLERANCE = 1e-7
"""A row left without columns is kept (empty, so that the model reads infeasible) when its fixed
activity lies outside its bounds by more than this, relative to 1 + |bound| (HiGHS's primal
feasibility tolerance)."""

_Block = TypeVar("_Block", VariableBlock, ConstraintBlock)


@dataclass(frozen=True, eq=False)
class Reduction:
    """`lp` is the full model without its fixed columns (and without the rows that only they
    touched). Its blocks keep their names and order, laid out flat over what is left of them."""

    lp: LinearProgram
    columns: IntArray
    """The full model's columns that `lp` keeps, in order."""
    rows: IntArray
    """The full model's rows that `lp` keeps, in order."""
    values: FloatArray
    """The full model's columns at their fixed values (0 where `lp` keeps the column)."""

    def expand(self, x: FloatArray) -> FloatArray:
        """A solution of `lp` as one of the full model."""
        out = self.values.copy()
        out[self.columns] = x
        return out

    def restrict(self, x: FloatArray | None) -> FloatArray | None:
        """A point of the full model (a MIP start) as one of `lp`."""
        return None if x is None else np.asarray(x, dtype=np.float64)[self.columns]

    def expanded(self, solution: Solution) -> Solution:
        """A solve of `lp` as a solve of the full model: the same objective and bound (the fixed
        columns' cost is in `lp`'s offset), x with the fixed columns put back."""
        return replace(solution, x=None if solution.x is None else self.expand(solution.x))


def fixed_share(lp: LinearProgram) -> float:
    """The share of `lp`'s columns whose bounds fix them."""
    return float(np.count_nonzero(lp.col_lower == lp.col_upper)) / max(lp.n_cols, 1)


def without_fixed_columns(lp: LinearProgram) -> Reduction:
    """`lp` without its fixed columns (`Reduction`)."""
    fixed = lp.col_lower == lp.col_upper
    columns = np.flatnonzero(~fixed).astype(np.int64)
    values = np.where(fixed, lp.col_lower, 0.0)
    activity = lp.A @ values
    kept = lp.A.tocsc()[:, columns].tocsr()
    empty = np.diff(kept.indptr) == 0
    rows = np.flatnonzero(~empty | _broken(lp, activity)).astype(np.int64)
    keep_row = np.zeros(lp.n_rows, dtype=bool)
    keep_row[rows] = True
    reduced = LinearProgram(
        c=lp.c[columns],
        offset=lp.offset + float(lp.c @ values),
        A=kept[rows],
        row_lower=lp.row_lower[rows] - activity[rows],
        row_upper=lp.row_upper[rows] - activity[rows],
        col_lower=lp.col_lower[columns],
        col_upper=lp.col_upper[columns],
        integrality=lp.integrality[columns],
        variables=_flat_blocks(lp.variables, ~fixed),
        constraints=_flat_blocks(lp.constraints, keep_row),
        cost_terms=tuple(_term(term, ~fixed, values) for term in lp.cost_terms),
    )
    return Reduction(reduced, columns, rows, values)


def _broken(lp: LinearProgram, activity: FloatArray) -> BoolArray:
    """Rows whose `activity` lies outside their bounds by more than `ROW_TOLERANCE`."""
    lower, upper = lp.row_lower, lp.row_upper
    below = lower - activity > ROW_TOLERANCE * (1.0 + np.abs(np.where(np.isfinite(lower), lower, 0.0)))
    above = activity - upper > ROW_TOLERANCE * (1.0 + np.abs(np.where(np.isfinite(upper), upper, 0.0)))
    return np.asarray(below | above, dtype=bool)


def _flat_blocks(blocks: dict[str, _Block], keep: BoolArray) -> dict[str, _Block]:
    """Each block over the positions `keep` leaves of it, flat (one axis-less dimension)."""
    before = np.concatenate([[0], np.cumsum(keep)])
    return {
        name: replace(
            block,
            start=int(before[block.start]),
            shape=(int(before[block.start + block.size] - before[block.start]),),
            axes=(),
        )
        for name, block in blocks.items()
    }


def _term(term: CostTerm, keep: BoolArray, values: FloatArray) -> CostTerm:
    """A cost term over the kept columns; the fixed columns' part joins its constant."""
    before = np.cumsum(keep) - 1
    mine = keep[term.columns]
    fixed_part = float(term.coefficients[~mine] @ values[term.columns[~mine]])
    return CostTerm(term.component, before[term.columns[mine]], term.coefficients[mine], term.constant + fixed_part)
