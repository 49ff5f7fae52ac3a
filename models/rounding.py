"""Integer repair: whole values for a model's integer columns from a solution of its LP relaxation,
chosen so that fixing them leaves the continuous part a feasible LP wherever the model allows it.

Every integer column of a Concerto model switches something on for the continuous columns it
governs, through rows of one of two shapes:

    flow - capacity * y <= 0          trucks, setups, backup activations, single-source lanes,
                                      escalations (spend above the limit), early activations
    sum_k y_k = 1  (or <= 1)          single sourcing: exactly one inbound lane of a stream

Rounding each y up (ceil) keeps every row of the first shape satisfied by the LP's own flows, so
the LP with the integers fixed is feasible whenever its other rows allow the switched-on columns
their minimums (a minimum order quantity once an order is placed, a setup's hours). It is rounded
up from what those flows need, not from its own LP value when that is higher: a y the LP leaves
above its need (free to it, as in a sequential stage that does not see its cost) would otherwise
be switched on for nothing, and a switch-on also counts against rows of the other direction (an
early activation's cost against a protocol's spend limit: at M, the sales stage of the sequential
response rounded two unneeded early activations up and its fixed LP was infeasible). A choose-one
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
IntArray = npt.NDArray[np.int64]
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
    value = np.minimum(out[integer], switched_on_need(lp, x)[integer])
    whole = np.minimum(np.ceil(value - INTEGRAL_TOLERANCE), np.floor(implied_upper(lp)[integer] + INTEGRAL_TOLERANCE))
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


def _bound_terms(
    lp: LinearProgram, lower: FloatArray, upper: FloatArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray]:
    """`lp`'s entries (row, column, coefficient) with each term's least and most value over the
    box `lower`, `upper`."""
    coo = lp.A.tocoo()
    rows, j, a = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    least = np.where(a > 0, a * lower[j], a * upper[j])
    most = np.where(a > 0, a * upper[j], a * lower[j])
    return rows, j, a, least, most


def _sums(rows: IntArray, terms: FloatArray, n_rows: int) -> tuple[FloatArray, FloatArray]:
    """Per row, the sum of its finite terms and how many are infinite."""
    finite = np.isfinite(terms)
    total = np.bincount(rows, np.where(finite, terms, 0.0), n_rows).astype(np.float64)
    return total, np.bincount(rows, ~finite, n_rows).astype(np.float64)


def activity_range(lp: LinearProgram, lower: FloatArray, upper: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Each row's least and most activity over the box `lower`, `upper` (-inf, +inf where an
    unbounded column reaches)."""
    rows, _, _, least_terms, most_terms = _bound_terms(lp, lower, upper)
    least, least_infinite = _sums(rows, least_terms, lp.n_rows)
    most, most_infinite = _sums(rows, most_terms, lp.n_rows)
    return np.where(least_infinite > 0, -np.inf, least), np.where(most_infinite > 0, np.inf, most)


def implied_upper(lp: LinearProgram) -> FloatArray:
    """Per column, the largest value every row allows it with the row's other columns at their most
    accommodating bounds (one pass of bound propagation; +inf where no row limits it). No solution
    of `lp` lies above it: an early activation whose cost alone is over its protocol's spend limit
    can never be on, whatever fraction of it the LP relaxation takes."""
    rows, j, a, least_terms, most_terms = _bound_terms(lp, lp.col_lower, lp.col_upper)
    least, least_infinite = _sums(rows, least_terms, lp.n_rows)
    most, most_infinite = _sums(rows, most_terms, lp.n_rows)
    # The rest of the row: its sums without this entry's own term.
    own_least, own_most = np.isfinite(least_terms), np.isfinite(most_terms)
    least_rest = np.where(
        least_infinite[rows] - ~own_least > 0, -np.inf, least[rows] - np.where(own_least, least_terms, 0)
    )
    most_rest = np.where(most_infinite[rows] - ~own_most > 0, np.inf, most[rows] - np.where(own_most, most_terms, 0))
    row_upper, row_lower = lp.row_upper[rows], lp.row_lower[rows]
    limited_above = (a > 0) & np.isfinite(row_upper) & np.isfinite(least_rest)
    limited_below = (a < 0) & np.isfinite(row_lower) & np.isfinite(most_rest)
    with np.errstate(invalid="ignore"):
        value = np.where(limited_above, (row_upper - least_rest) / a, (row_lower - most_rest) / a)
    bound = np.full(lp.n_cols, np.inf)
    limited = limited_above | limited_below
    np.minimum.at(bound, j[limited], value[limited])
    return bound


def switched_on_need(lp: LinearProgram, x: FloatArray) -> FloatArray:
    """Per column, the least value that every row it switches on needs at `x`: over the rows where
    a larger value is what makes room (a negative coefficient in a row with an upper side, a
    positive one in a row with a lower side), the value that row needs with its other columns at
    `x`. A column with no such row, or with one that holds another integer column (its need would
    depend on how that one rounds: an escalation's on the activations a spend row counts), needs
    its own value: it is +inf there, so that the caller's minimum with `x` keeps `x`. Never below
    the column's lower bound."""
    coo = lp.A.tocoo()
    rows, j, a = coo.row, coo.col, coo.data
    activity = lp.A @ x
    rest = activity[rows] - a * x[j]
    upper, lower = lp.row_upper[rows], lp.row_lower[rows]
    from_upper = (a < 0) & np.isfinite(upper)
    from_lower = (a > 0) & np.isfinite(lower)
    makes_room = from_upper | from_lower
    integer = lp.integrality.astype(bool)
    shared = np.bincount(rows, weights=integer[j], minlength=lp.n_rows) > 1
    need = np.full(lp.n_cols, -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(from_upper, (rest - upper) / -a, (lower - rest) / a)
    np.maximum.at(need, j[makes_room], value[makes_room])
    alone = np.ones(lp.n_cols, dtype=bool)
    alone[j[makes_room & shared[rows]]] = False
    has_row = np.zeros(lp.n_cols, dtype=bool)
    has_row[j[makes_room]] = True
    return np.where(has_row & alone, np.maximum(need, lp.col_lower), np.inf)


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
