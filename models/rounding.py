"""Integer repair: whole values for a model's integer columns from a solution of its LP relaxation,
chosen so that fixing them leaves the continuous part a feasible LP wherever the model allows it.

Every integer column of a Concerto model switches something on for the continuous columns it
governs, through rows of one of two shapes:

    flow - capacity * y <= 0          trucks, setups, backup activations, single-source lanes,
                                      escalations (spend above the limit), early activations
    sum_k y_k = 1  (or <= 1)          single sourcing: exactly one inbound lane of a stream

Rounding each y up (ceil) keeps every row of the first shape satisfied by the LP's own flows, so
the LP with the integers fixed is feasible whenever its other rows allow the switched-on columns
their minimums (a minimum order quantity once an order is placed, a setup's hours). A choose-one
row is repaired by keeping its column of largest LP value and switching the others off; their flows
move in the fixed LP. Rounding never looks at costs: it is a repair, and the fixed LP then
re-optimizes every continuous decision around it. The method that uses it (`solver.lp_first`)
certifies the result against the LP relaxation's bound and falls back to branch and bound when the
certified gap is too wide.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from models.builder import LinearProgram

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

INTEGRAL_TOLERANCE = 1e-6
"""An LP value within this of a whole number counts as that number (so 2.0000001 trucks is 2)."""


def choose_one_rows(lp: LinearProgram) -> BoolArray:
    """Rows whose every entry is 1 on a binary integer column (bounds [0, 1]) and whose upper side
    is 1: a choice of at most one (or, with lower side 1, exactly one) of their columns."""
    A = lp.A.tocsr()
    binary = lp.integrality.astype(bool) & (lp.col_lower == 0.0) & (lp.col_upper == 1.0)
    per_row = np.diff(A.indptr)
    on_binary_one = binary[A.indices] & (A.data == 1.0)
    rows_of_entries = np.repeat(np.arange(lp.n_rows), per_row)
    all_binary_one = np.bincount(rows_of_entries, weights=on_binary_one, minlength=lp.n_rows) == per_row
    return all_binary_one & (per_row > 0) & (lp.row_upper == 1.0)


def round_integers(lp: LinearProgram, x: FloatArray) -> FloatArray:
    """`x` with every integer column given a whole value (continuous columns unchanged): up for the
    switch-on rows, and the largest LP value kept in each choose-one row (see the module docstring).

    The result lies within each integer column's bounds. Concerto's choose-one rows share no
    column; were two to share one, a column kept by one row could break the other, and the fixed LP
    would report it infeasible (the caller then falls back to branch and bound).
    """
    out = np.array(x, dtype=np.float64, copy=True)
    integer = lp.integrality.astype(bool)
    whole = np.ceil(out[integer] - INTEGRAL_TOLERANCE)
    out[integer] = np.clip(whole, lp.col_lower[integer], lp.col_upper[integer])

    rows = np.flatnonzero(choose_one_rows(lp))
    if rows.size:
        sub = lp.A.tocsr()[rows]
        values = sp.csr_matrix((x[sub.indices] + 1.0, sub.indices, sub.indptr), shape=sub.shape)
        # +1 so that a column at LP value 0 still counts as present; argmax then picks the largest.
        best = np.asarray(values.argmax(axis=1)).ravel()
        members = np.unique(sub.indices)
        # A row with lower side 1 keeps one column; a row with lower side <= 0 keeps its largest
        # only if the LP used it at all.
        kept = best[(lp.row_lower[rows] >= 1.0) | (x[best] > INTEGRAL_TOLERANCE)]
        out[members] = 0.0
        out[kept] = 1.0
    return out


def integer_violation(lp: LinearProgram, x: FloatArray) -> float:
    """The largest distance of an integer column of `x` from a whole number."""
    integer = lp.integrality.astype(bool)
    if not integer.any():
        return 0.0
    v = x[integer]
    return float(np.max(np.abs(v - np.round(v))))


def row_violation(lp: LinearProgram, x: FloatArray, rows: BoolArray | None = None) -> FloatArray:
    """How far each row's activity `A x` lies outside its bounds, relative to 1 + |bound| (0 where it
    holds); `rows` restricts the check (others report 0)."""
    activity = lp.A @ x
    over = activity - lp.row_upper
    under = lp.row_lower - activity
    scale_up = 1.0 + np.abs(np.where(np.isfinite(lp.row_upper), lp.row_upper, 0.0))
    scale_lo = 1.0 + np.abs(np.where(np.isfinite(lp.row_lower), lp.row_lower, 0.0))
    violation = np.maximum(np.maximum(over / scale_up, under / scale_lo), 0.0)
    violation = np.where(np.isnan(violation), 0.0, violation)
    if rows is not None:
        violation = np.where(rows, violation, 0.0)
    return violation
