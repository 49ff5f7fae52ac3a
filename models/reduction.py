"""A model with its fixed columns taken out, in numpy, before a solver sees it.

A replan's first answer fixes every decision outside the signals' reach at its baseline value, so
at L 420k of its 992k columns are fixed (`models.replanning.reach`). HiGHS's presolve removes them
too, but it pays for it: on the regional surge at L it spends 7.1 s of a 24.3 s first answer in
presolve, against 4.0 s of 21.5 s once the fixed columns are gone (one run each, the same plan
within the 2% gap). Taking them out is one sparse column selection and one product: the fixed
columns' activity moves into the row bounds, their cost into the offset, and the rows left with
no column go, unless their fixed activity breaks them (then they stay, empty, and the solver
reports the model infeasible as it would have).

A replan at a positive stability weight writes each executed decision as its baseline plus the
units above and below it, one row and two columns a decision (`models.replanning.stability`):
x - up + down = x0. `with_deviations_substituted` puts x0 + up - down in x's place in every row and
in the objective, and drops x and the row, before a solver sees the model: the same optimum with
one column and one row fewer a decision (see its docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

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
    """`lp` is the full model without some of its columns and rows: its fixed columns (and the rows
    that only they touched, `without_fixed_columns`), or its substituted decisions and their link
    rows (`with_deviations_substituted`). Its blocks keep their names and order, laid out flat over
    what is left of them."""

    lp: LinearProgram
    columns: IntArray
    """The full model's columns that `lp` keeps, in order."""
    rows: IntArray
    """The full model's rows that `lp` keeps, in order."""
    values: FloatArray
    """The full model's columns at their fixed values (0 where `lp` keeps the column)."""
    decisions: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """The full model's columns substituted by their baseline plus deviations (none for a cut of
    fixed columns): x = baseline + up - down, each column of `up` and `down` one the full model
    keeps."""
    up: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    down: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    baseline: FloatArray = field(default_factory=lambda: np.zeros(0))

    def expand(self, x: FloatArray) -> FloatArray:
        """A solution of `lp` as one of the full model."""
        out = self.values.copy()
        out[self.columns] = x
        out[self.decisions] = self.baseline + out[self.up] - out[self.down]
        return out

    def restrict(self, x: FloatArray | None) -> FloatArray | None:
        """A point of the full model (a MIP start) as one of `lp`: a substituted decision's
        deviations are read off its value (up = max(x - x0, 0), down = max(x0 - x, 0))."""
        if x is None:
            return None
        point = np.array(x, dtype=np.float64)
        change = point[self.decisions] - self.baseline
        point[self.up] = np.maximum(change, 0.0)
        point[self.down] = np.maximum(-change, 0.0)
        return point[self.columns]

    def expanded(self, solution: Solution) -> Solution:
        """A solve of `lp` as a solve of the full model: the same objective and bound (the cost
        of what was taken out is in `lp`'s offset and costs), x with the fixed columns and the
        substituted decisions put back."""
        return replace(solution, x=None if solution.x is None else self.expand(solution.x))


def fixed_share(lp: LinearProgram, blocks: Sequence[str] = ()) -> float:
    """The share of `lp`'s columns (of the columns of `blocks`, if any are named) whose bounds fix
    them."""
    if blocks:
        cols = np.concatenate([lp.columns(name).ravel() for name in blocks])
        return float(np.count_nonzero(lp.col_lower[cols] == lp.col_upper[cols])) / max(cols.size, 1)
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


@dataclass(frozen=True)
class DeviationLink:
    """A family of rows x - up + down = x0 that writes each decision of a block as its baseline
    x0 plus the units above it less the units below it, by the names of its blocks."""

    decision: str
    up: str
    down: str
    rows: str


def with_deviations_substituted(lp: LinearProgram, links: Sequence[DeviationLink]) -> Reduction | None:
    """`lp` with x0 + up - down in place of each linked decision x, and without x and its link
    row (`Reduction`); None when no link qualifies.

    A link row x_j - u_k + d_m = x0 is substituted when it is an equality with exactly those
    three entries, x_j, u_k and d_m are continuous, u_k and d_m lie in [0, inf) with no other
    entry, and c_k + c_m >= 0 (the stability charge). Then x_j's entries in every other row go to
    u_k as they are and to d_m negated, and the row's bounds move by -a x0; c_k += c_j,
    c_m -= c_j and the offset gains c_j x0 (x_j's cost terms the same way); and

        u_k in [max(l - x0, 0), max(u - x0, 0)],   d_m in [max(x0 - u, 0), max(x0 - l, 0)]

    for x_j in [l, u]. Every point of those boxes gives an x_j = x0 + u_k - d_m within [l, u], and
    every x_j in [l, u] is one of them (u_k = max(x_j - x0, 0), d_m = max(x0 - x_j, 0)). The boxes
    leave out only points where both deviations are above 0; lowering both by the smaller of the
    two keeps x_j, so every row, and adds -(c_k + c_m) times it to the cost, which is never
    positive: the optimum is the same, and so is a lower bound of it. A decision outside a
    replan's reach, fixed at its baseline, gets both deviations fixed at 0, which
    `without_fixed_columns` then takes out.

    Why. At the default stability weight a replan's LP is the cold one plus a row and two columns
    per executed decision, free even where the decision is fixed, and HiGHS spends longer on it:
    the regional surge's first answer (`solver.planner.solve_model`, this included) took 9.32 s as
    built against 7.44 s substituted at M (medians of 3) and 93.9 s against 61.9 s at L (one run
    each), the same plan within its gap."""
    present = [
        link
        for link in links
        if {link.decision, link.up, link.down} <= lp.variables.keys() and link.rows in lp.constraints
    ]
    if not present:
        return None
    j = np.concatenate([lp.columns(link.decision).ravel() for link in present])
    k = np.concatenate([lp.columns(link.up).ravel() for link in present])
    m = np.concatenate([lp.columns(link.down).ravel() for link in present])
    r = np.concatenate([np.arange(lp.n_rows)[lp.constraints[link.rows].slice] for link in present])
    if not (j.size == k.size == m.size == r.size):
        raise ValueError("a deviation link's blocks and rows differ in size")
    if j.size == 0:
        return None
    csr = lp.A.tocsr()
    x0 = lp.row_lower[r]
    column_entries = np.bincount(csr.indices, minlength=lp.n_cols)
    ok = (lp.row_upper[r] == x0) & np.isfinite(x0) & (np.diff(csr.indptr)[r] == 3)
    ok &= (_entries(csr, r, j) == 1.0) & (_entries(csr, r, k) == -1.0) & (_entries(csr, r, m) == 1.0)
    ok &= (column_entries[k] == 1) & (column_entries[m] == 1)
    ok &= ~(lp.integrality[j] | lp.integrality[k] | lp.integrality[m])
    ok &= (lp.col_lower[k] == 0.0) & (lp.col_lower[m] == 0.0)
    ok &= np.isposinf(lp.col_upper[k]) & np.isposinf(lp.col_upper[m])
    ok &= lp.c[k] + lp.c[m] >= 0.0
    if not ok.any():
        return None
    j, k, m, r, x0 = j[ok], k[ok], m[ok], r[ok], x0[ok]

    substituted = np.zeros(lp.n_cols, dtype=bool)
    substituted[j] = True
    position = np.full(lp.n_cols, -1, dtype=np.int64)
    position[j] = np.arange(j.size)
    link_row = np.zeros(lp.n_rows, dtype=bool)
    link_row[r] = True
    keep_col, keep_row = ~substituted, ~link_row
    columns = np.flatnonzero(keep_col).astype(np.int64)
    rows = np.flatnonzero(keep_row).astype(np.int64)
    new_col = np.cumsum(keep_col) - 1
    new_row = np.cumsum(keep_row) - 1

    coo = lp.A.tocoo()
    entry = keep_row[coo.row]  # the link rows hold every entry of up and down
    row, col, val = coo.row[entry], coo.col[entry], coo.data[entry]
    moved = substituted[col]
    p = position[col[moved]]
    A = sp.csr_matrix(
        (
            np.concatenate([val[~moved], val[moved], -val[moved]]),
            (
                new_row[np.concatenate([row[~moved], row[moved], row[moved]])],
                new_col[np.concatenate([col[~moved], k[p], m[p]])],
            ),
        ),
        shape=(rows.size, columns.size),
    )
    at_baseline = np.zeros(lp.n_cols)
    at_baseline[j] = x0
    activity = lp.A @ at_baseline

    c = lp.c.copy()
    c[k] += lp.c[j]
    c[m] -= lp.c[j]
    col_lower, col_upper = lp.col_lower.copy(), lp.col_upper.copy()
    lower, upper = lp.col_lower[j], lp.col_upper[j]
    col_lower[k], col_upper[k] = np.maximum(lower - x0, 0.0), np.maximum(upper - x0, 0.0)
    col_lower[m], col_upper[m] = np.maximum(x0 - upper, 0.0), np.maximum(x0 - lower, 0.0)
    reduced = LinearProgram(
        c=c[columns],
        offset=lp.offset + float(lp.c[j] @ x0),
        A=A,
        row_lower=lp.row_lower[rows] - activity[rows],
        row_upper=lp.row_upper[rows] - activity[rows],
        col_lower=col_lower[columns],
        col_upper=col_upper[columns],
        integrality=lp.integrality[columns],
        variables=_flat_blocks(lp.variables, keep_col),
        constraints=_flat_blocks(lp.constraints, keep_row),
        cost_terms=tuple(_substituted_term(term, substituted, position, k, m, x0, new_col) for term in lp.cost_terms),
    )
    return Reduction(reduced, columns, rows, np.zeros(lp.n_cols), decisions=j, up=k, down=m, baseline=x0)


def _entries(A: sp.csr_matrix, rows: IntArray, cols: IntArray) -> FloatArray:
    """A[rows[i], cols[i]] for each i."""
    return np.asarray(A[rows, cols], dtype=np.float64).ravel()


def _substituted_term(
    term: CostTerm,
    substituted: BoolArray,
    position: IntArray,
    up: IntArray,
    down: IntArray,
    baseline: FloatArray,
    new_col: IntArray,
) -> CostTerm:
    """A cost term with x0 + up - down in place of each substituted decision x."""
    moved = substituted[term.columns]
    p = position[term.columns[moved]]
    coefficients = term.coefficients[moved]
    return CostTerm(
        term.component,
        new_col[np.concatenate([term.columns[~moved], up[p], down[p]])],
        np.concatenate([term.coefficients[~moved], coefficients, -coefficients]),
        term.constant + float(coefficients @ baseline[p]),
    )
