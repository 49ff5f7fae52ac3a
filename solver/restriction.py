"""Restricted repair: a plan that meets the coupling rows without putting them in the LP.

LP-first's repair (`solver.lp_first`) fixes the integers and re-solves the LP with the coupling rows
it breaks switched on. At L that coupled LP is the whole cost of a cold plan: its first round took
370 s (37,187 iterations at 10 ms, against 0.75 ms with the coupling rows off). Most of the shared
resource is not contested, though: with the integers fixed and every coupling row off, the plan
breaks 515 of L's 53,277 coupling rows, and only 0.1% of the objective separates it from the bound.

So the broken rows are held by column bounds instead, and the LP stays uncoupled. A coupling row is
`sum_j a_j x_j <= b` (a production-hours, lane, storage, working-capital or fill-rate row). At the
plan x that breaks it, its capacity is shared out among its columns in proportion to what each uses:

    columns fixed (the integers)   their use is a constant, taken off the capacity
    a_j < 0 (overtime)             lower bound raised to cover the excess, as far as they reach
    a_j > 0                        upper bound lower_j + scale * (x_j - lower_j), one scale per row:
                                   the capacity left over what is kept, at most 1

Any point within those bounds meets the row: the positive terms add up to at most the capacity
left, the negative ones take at least what was counted, the fixed ones are what they are. The
bounds only ever tighten, so the re-solved LP's plan is a plan of the full model wherever it breaks
no other coupling row; rows it then breaks are restricted the same way, round by round, until it
breaks none. Each round is an uncoupled LP re-solved warm after bound changes (dual simplex, cheap
iterations).

Protected columns. A cap can be infeasible: a stock position whose stock cannot leave (its lanes
closed by single sourcing, its only outlet fixed) cannot go below what it holds. When the
restricted LP is infeasible, the solver's certificate (its dual ray) names the column bounds that
prove it; those columns are protected, with the same position's columns in every other period:
they keep the use they had when their row was restricted (no cut), and the rest of the row's
capacity is shared among the others. Stocks the plan holds at one level through every period
(`stock`) are protected from the start. A raised lower bound can be infeasible too: overtime raised
past what the plan used can break a row that is always in the LP, such as a decision protocol's
limit on overtime spend (at L under the suite's protocols the first restricted LP was infeasible at
once). So no raise goes past what every other row allows with its other columns anywhere in their
bounds (`_allowed`), and a raised column a certificate still names (a limit reached through other
columns) is protected the same way: from then on it is raised no further than its use in the plan,
which met every such row. A row whose protected
use alone exceeds its capacity cannot be held by bounds (`Restriction.unheld`); the caller then
goes back to the coupled LP.

Reallocation. Proportional shares are a guess: a column may leave part of its share unused while
another, stopped by its share, would lower the objective with more. Once the plan breaks no row,
`reallocate` moves each held row's capacity from the first kind to the second, and trades a small
step of capacity from columns worth less than the row's average at the margin (their reduced costs)
to those worth more; the LP is re-solved warm after these bound changes, and a round that gains too
little halves the step (`solver.lp_first.REALLOCATION_ROUNDS`). Under the suite's demo protocols,
whose overtime limits leave the proportional shares tighter, L's cold plan went from 1.80% above its
bound to 0.91% after one round and 0.70% after two (11-13 s a round; 0.55% after ten, 195 s in all),
M's from 1.17% to 0.45% after one and 0.33% after ten (2.2 s of rounds), against 0.14% for M's
coupled repair (the regional surge's network, one run each, the other core busy).

The result is a restriction of the model: its optimum is an upper bound, not the model's optimum.
Measured on the generated networks, seed 0 (LP-first's relaxation certifies the gap; repair time
includes the solve with the integers fixed):

    M (96,670 columns):  115 rows held over 2 rounds, 0.8 s of repair, plan 0.93-0.95% above the bound
                         (measured; LP-first runs it from 500,000 free columns only)
    L (992,062 columns): 592 rows held over 3 rounds, 3 certificates, 26.7 s of repair, 0.98%

against 0.12-0.27% (M) and 0.25% (L) for the coupled repair, which at L takes 523-610 s. Without
the steady stocks protected from the start, L's first round needed 16 certificates (27.2 s from
the integers' plan to the restricted one, against 16.6 s with them)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.rounding import activity_range

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Restriction:
    """Column bounds holding a growing set of `lp`'s `<=` rows, around the bounds `lower`, `upper`
    (the model being re-solved: integers fixed, coupling rows off).

    `restrict(rows, x)` adds rows, shared out at the plan `x`; `protect(columns)` stops cutting
    columns an infeasibility certificate named; `bounds()` gives the bounds that hold every row
    added so far. Each row keeps the plan it was restricted at, so protecting a column later
    shares that row's capacity out again from the same plan."""

    def __init__(self, lp: LinearProgram, lower: FloatArray, upper: FloatArray, *, stock: tuple[str, ...] = ()) -> None:
        self.lp = lp
        self.lower = lower
        self.upper = upper
        self.stock = tuple(name for name in stock if name in lp.variables)
        """Variable blocks of stock levels, shaped (position, period): a position whose stock
        stays at one positive level through every period of the plan a row is restricted at is
        protected from the start (the plan never moved that stock; at L such positions were
        13 stuck stocks, each otherwise one certificate)."""
        self.rows = np.zeros(lp.n_rows, dtype=bool)
        """The rows restricted so far."""
        self.protected = np.zeros(lp.n_cols, dtype=bool)
        """Columns never cut below the use they had when their rows were restricted, nor raised
        above it."""
        self._csr = lp.A.tocsr()
        self._csc = lp.A.tocsc()
        self._least, self._most = activity_range(lp, lower, upper)
        """Each row's least and most activity within `lower`, `upper` (infinite where a term is)."""
        self._row = np.zeros(0, dtype=np.int64)
        self._col = np.zeros(0, dtype=np.int64)
        self._coef = np.zeros(0)
        self._ref = np.zeros(0)
        """One entry per (restricted row, column): the coefficient and the column's value in the
        plan the row was restricted at."""

    def restrict(self, rows: IntArray, x: FloatArray) -> None:
        """Hold `rows` (new ones) by bounds, sharing their capacity out at the plan `x`."""
        rows = np.setdiff1d(np.asarray(rows, dtype=np.int64), np.flatnonzero(self.rows))
        if rows.size == 0:
            return
        sub = self._csr[rows].tocoo()
        self._row = np.concatenate([self._row, rows[sub.row]])
        self._col = np.concatenate([self._col, sub.col.astype(np.int64)])
        self._coef = np.concatenate([self._coef, sub.data])
        self._ref = np.concatenate([self._ref, x[sub.col]])
        self.rows[rows] = True
        steady = _steady_stock(self.lp, self.stock, x)
        self.protected[np.intersect1d(steady, sub.col)] = True

    def protect(self, columns: IntArray) -> int:
        """Protect those of `columns` that the restriction cuts (an upper bound below `upper`) or
        raises (a lower bound above `lower`), with the same variable's columns of the same entity in
        every other period (a stock that cannot leave in one period cannot in the next: at L one
        stuck position otherwise costs one certificate per period); returns how many of `columns`
        were newly protected (0: the certificate names no bound the restriction moved, so
        protecting cannot make the restricted LP feasible)."""
        lower, upper = self.bounds()
        columns = np.asarray(columns, dtype=np.int64)
        moved = (upper[columns] < self.upper[columns]) | (lower[columns] > self.lower[columns])
        cut = columns[moved & ~self.protected[columns]]
        self.protected[_every_period(self.lp, cut)] = True
        return int(cut.size)

    def _shares(
        self,
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray, FloatArray, BoolArray, FloatArray]:
        """Per restricted row (`rows`, and each entry's index into it): each entry's new lower
        bound (negative coefficients), the row's scale, each entry's kept and reference use,
        whether bounds can hold the row at all, and the row's capacity left over its shares."""
        rows, at = np.unique(self._row, return_inverse=True)
        n = rows.size
        j, a, ref = self._col, self._coef, self._ref
        lo, up = self.lower[j], self.upper[j]
        free = lo < up
        pos, neg = free & (a > 0), free & (a < 0)
        use = np.maximum(ref, lo)
        const = np.bincount(at[~free], weights=a[~free] * lo[~free], minlength=n)
        at_lower = np.bincount(at[neg], weights=-a[neg] * lo[neg], minlength=n)
        capacity = self.lp.row_upper[rows] - const + at_lower
        used = np.bincount(at[pos], weights=a[pos] * use[pos], minlength=n)
        # Negative terms (overtime) are raised from their lower bounds to cover the excess at the
        # plan, shared by how far each reaches (a protected one no further than its use); a column
        # another restricted row caps (a positive term there) stays where it is.
        capped = np.zeros(self.lp.n_cols, dtype=bool)
        capped[j[pos]] = True
        top = np.where(self.protected[j], np.minimum(use, up), up)
        reach = np.where(neg & ~capped[j], top - lo, 0.0)
        room = np.bincount(at[neg], weights=-a[neg] * reach[neg], minlength=n)
        need = np.maximum(used - capacity, 0.0)
        share = np.divide(need, room, out=np.zeros(n), where=room > 0).clip(0.0, 1.0)
        raised = share[at] * reach
        new_lower = np.where(neg, lo + raised * self._allowed(j, np.where(neg, raised, 0.0)), lo)
        capacity = capacity + np.bincount(at[neg], weights=-a[neg] * (new_lower[neg] - lo[neg]), minlength=n)
        # A protected column keeps its use; the others keep at least their lower bound, and the
        # capacity left after both is shared out over what they use above it.
        kept = np.where(self.protected[j], use, np.maximum(lo, 0.0))
        kept_use = np.bincount(at[pos], weights=a[pos] * kept[pos], minlength=n)
        cut_use = used - kept_use
        left = capacity - kept_use
        scale = np.divide(left, cut_use, out=np.ones(n), where=cut_use > 0).clip(0.0, 1.0)
        negative = np.bincount(at[pos], weights=lo[pos] < 0, minlength=n) > 0
        held = (left >= -1e-9 * (1.0 + np.abs(capacity))) & np.isinf(self.lp.row_lower[rows]) & ~negative
        spare = np.maximum(left - scale * cut_use, 0.0)
        return rows, at, new_lower, scale, kept, use, held, spare

    def _allowed(self, j: IntArray, raised: FloatArray) -> FloatArray:
        """Per entry, the share of its column's raise (`raised`, per entry of `j`) that every row
        not restricted allows: no row may be left unable to hold at the raised lower bounds with
        the other columns anywhere in their bounds (its least activity above its upper bound, or
        its most below its lower one). A row that the raises would break allows each of its
        raised columns the share of its room that keeps it whole (a decision protocol's limit on
        overtime spend, say); a column takes the smallest share its rows allow. Rows that chain
        through other columns are left to the certificates."""
        rise = np.zeros(self.lp.n_cols)
        np.maximum.at(rise, j, raised)
        columns = np.flatnonzero(rise > 0)
        allowed = np.ones(self.lp.n_cols)
        if columns.size == 0:
            return allowed[j]
        sub = self._csc[:, columns].tocoo()
        rows, col, a = sub.row, columns[sub.col], sub.data
        m = self.lp.n_rows
        up_by = np.bincount(rows, weights=np.where(a > 0, a * rise[col], 0.0), minlength=m)
        down_by = np.bincount(rows, weights=np.where(a < 0, -a * rise[col], 0.0), minlength=m)
        with np.errstate(invalid="ignore"):
            room_up = np.maximum(self.lp.row_upper - self._least, 0.0)
            room_down = np.maximum(self._most - self.lp.row_lower, 0.0)
        share = np.ones(m)
        np.divide(room_up, up_by, out=share, where=(up_by > 0) & np.isfinite(room_up))
        down = np.ones(m)
        np.divide(room_down, down_by, out=down, where=(down_by > 0) & np.isfinite(room_down))
        share = np.minimum(share, down).clip(0.0, 1.0)
        share[self.rows] = 1.0
        np.minimum.at(allowed, col, share[rows])
        return allowed[j]

    def reallocate(self, x: FloatArray, reduced: FloatArray, step: float, *, tol: float = 1e-7) -> float:
        """Move each held row's capacity to the columns it is worth most to, at the plan `x` of the
        restricted LP and its reduced costs `reduced`; returns the capacity moved, summed over rows
        in their units (0: nothing to move). Per row, over its entries of free, unprotected
        columns with a_j > 0 and their caps (`bounds`):

            donors     below every bound at x: the cap drops to x_j, freeing a_j (cap_j - x_j)
            binding    at the cap this row sets; worth_j = -reduced_j / a_j (what a unit of the
                       row's capacity would lower the objective by), mean = their average
                       weighted by a_j (cap_j - kept_j)
            trade      a binding entry worth less than the mean gives
                       step * (cap_j - kept_j) * (1 - worth_j / mean)
            receivers  what donors free, and the row's capacity left over its caps, goes to the
                       binding entries in proportion to worth_j; what trade frees, to those worth
                       more than the mean in proportion to worth_j - mean

        Each row's caps add up to what they did (plus its capacity left over), so its overtime
        raise and its scale stay as they are and it still holds. Donors keep what they use and
        receivers only gain, so with step 0 `x` stays within the new bounds and the re-solved
        plan is no worse; a trade can lose (the reduced costs are marginal values), which is why
        the caller keeps the best plan and halves the step. A column held at its cap by another
        row is neither donor nor binding here: the two rows would trade it back and forth."""
        if self._row.size == 0:
            return 0.0
        _, at, _, scale, kept, use, held, spare = self._shares()
        n = scale.size
        j, a = self._col, self._coef
        _, upper = self.bounds()
        pos = (self.lower[j] < self.upper[j]) & (a > 0) & ~self.protected[j] & held[at] & (scale[at] > 0)
        cap = kept + scale[at] * (use - kept)
        near = tol * (1.0 + np.abs(upper[j]))
        below = x[j] < upper[j] - near
        donor = pos & below & (cap > x[j])
        binding = pos & ~below & (cap <= upper[j] + near) & (upper[j] < self.upper[j])
        worth = np.where(binding, np.maximum(-reduced[j], 0.0) / np.where(binding, a, 1.0), 0.0)

        def per_row(values: FloatArray) -> FloatArray:
            return np.bincount(at, weights=values, minlength=n).astype(np.float64)

        size = np.where(binding, a * (cap - kept), 0.0)
        total_size = per_row(size)
        mean = np.divide(per_row(size * worth), total_size, out=np.zeros(n), where=total_size > 0)
        trade = binding & (worth < mean[at]) & (step > 0)
        cut = np.where(trade, step * (cap - kept) * (1.0 - worth / np.where(trade, mean[at], 1.0)), 0.0)
        freed = np.where(donor, cap - np.maximum(x[j], kept), 0.0)
        above = np.where(binding, np.maximum(worth - mean[at], 0.0), 0.0)
        new_cap = cap.copy()
        moved = 0.0
        for given, spare_too, weight in ((freed, True, worth), (cut, False, above)):
            pool = per_row(a * given) + (np.where(held, spare, 0.0) if spare_too else 0.0)
            total = per_row(weight)
            moving = (pool > 0) & (total > 0)
            new_cap -= np.where(moving[at], given, 0.0)
            receives = moving[at] & (weight > 0)
            new_cap += np.divide(pool[at] * weight, total[at] * a, out=np.zeros_like(cap), where=receives)
            moved += float(pool[moving].sum())
        if moved == 0.0:
            return 0.0
        self._ref = np.where(pos, kept + (new_cap - kept) / np.where(pos, scale[at], 1.0), self._ref)
        return moved

    def shares(self) -> FloatArray:
        """The plan each restricted entry's share is taken from, as it stands (for `restore`)."""
        return self._ref.copy()

    def restore(self, shares: FloatArray) -> None:
        """Go back to `shares` (from `shares()`): the rows restricted since are no longer held
        (columns protected since stay protected)."""
        n = shares.size
        self._row, self._col, self._coef, self._ref = self._row[:n], self._col[:n], self._coef[:n], shares.copy()
        self.rows[:] = False
        self.rows[self._row] = True

    def unheld(self) -> IntArray:
        """Restricted rows that bounds cannot hold: their protected columns alone use more than the
        capacity, or the row is not of the `sum a_j x_j <= b` kind over columns >= 0."""
        if self._row.size == 0:
            return np.zeros(0, dtype=np.int64)
        rows, *_, held, _ = self._shares()
        return rows[~held]

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """Column bounds within which every restricted row (that `unheld` does not list) holds."""
        lower, upper = self.lower.copy(), self.upper.copy()
        if self._row.size == 0:
            return lower, upper
        _, at, new_lower, scale, kept, use, _, _ = self._shares()
        j, a = self._col, self._coef
        free = self.lower[j] < self.upper[j]
        neg = free & (a < 0)
        np.maximum.at(lower, j[neg], new_lower[neg])
        pos = free & (a > 0)
        cap = kept + scale[at] * (use - kept)
        np.minimum.at(upper, j[pos], cap[pos])
        return lower, np.maximum(upper, lower)


def _every_period(lp: LinearProgram, columns: IntArray) -> IntArray:
    """`columns` with, for each, the columns of its variable block that differ only in the last
    axis (the period of an (entity, period) block); a one-axis block's column stands alone."""
    found = [columns]
    for block in lp.variables.values():
        if len(block.shape) < 2 or block.size == 0:
            continue
        inside = columns[(columns >= block.start) & (columns < block.start + block.size)]
        if inside.size == 0:
            continue
        width = block.shape[-1]
        first = block.start + (inside - block.start) // width * width
        found.append((np.unique(first)[:, None] + np.arange(width)).ravel())
    return np.unique(np.concatenate(found))


def _steady_stock(lp: LinearProgram, blocks: tuple[str, ...], x: FloatArray) -> IntArray:
    """The columns of the (position, period) blocks `blocks` whose position holds one positive level
    through every period at `x`."""
    found = [np.zeros(0, dtype=np.int64)]
    for name in blocks:
        block = lp.variables[name]
        if len(block.shape) != 2 or block.size == 0:
            continue
        series = x[block.slice].reshape(block.shape)
        level = series[:, :1]
        steady = np.all(np.abs(series - level) <= 1e-9 * (1.0 + np.abs(level)), axis=1) & (level[:, 0] > 0)
        width = block.shape[1]
        found.append((block.start + np.flatnonzero(steady)[:, None] * width + np.arange(width)).ravel())
    return np.concatenate(found)
