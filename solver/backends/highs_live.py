"""The HiGHS side of in-place updates: a live `highspy.Highs` instance changed entry by entry and
re-solved warm, keeping the LP relaxation's basis across MIP solves (`solver.live` says why).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from models.builder import LinearProgram
from models.solution import Solution
from solver.backends.highs import highspy
from solver.backends.in_place import InPlaceModel, ModelChanges, ModelUpdate, RebuildRequired, same_matrix
from solver.options import SolveOptions

if TYPE_CHECKING:
    from solver.backends.highs import HighsBackend

REJECTED = "HiGHS rejected an in-place change"
"""The `RebuildRequired` reason when HiGHS refuses one of the changes."""

DEVEX = 1
"""HiGHS's `simplex_dual_edge_weight_strategy` for Devex pricing."""

BOUNDED_RUN_OPTIONS: dict[str, float | int | str] = {
    "dual_simplex_cost_perturbation_multiplier": 0.0,
    "presolve": "off",
}
"""Options of a run that stops at an objective bound. HiGHS perturbs the costs and stops only once
the dual objective with the exact costs passes the bound, which it computes only when the perturbed
one has. At L the perturbed objective ran far ahead of the exact one: in the replan benchmark a
lead-time change's relaxation stopped only after 16,150 iterations, near its optimum (a certified
gap of 0.11% where 1% was asked); from the baseline's saved state, unperturbed, it stopped after
1,589 (2 threads).

And no presolve: HiGHS drops the bound when it solves a presolved LP (its objective is not the
model's), so a cold run, which presolves, never stopped at it; a warm run starts from its basis
and skips presolve anyway. The L supplier outage's sequential production stage, started from
procurement's plan, ran past its 300 s limit (500,000 iterations) with presolve and stopped at the
bound after 22.9 s (410,256 iterations) without; procurement's stage took 34.9 s against 74.1 s, the
same plans (one run each, 1 thread)."""
AFTER_MATRIX_CHANGE_OPTIONS = {"simplex_dual_edge_weight_strategy": DEVEX}
"""... and, after an update that changed matrix entries, Devex pricing instead of steepest edge.
HiGHS drops its steepest-edge weights when an entry changes and computes them all afresh first
(its log: "Basis is not logical, so compute steepest edge weights"), which on L's coupled LP costs
minutes: from the baseline's saved state the lead-time change's unperturbed bounded run took
205.0 s for 1,589 iterations with steepest edge and 49.2 s for 4,305 with Devex, and the new order
after it 23.1 s for 1,574 with Devex (187.6 s to the optimum with steepest edge, perturbed and
unbounded). Bound-only updates keep the weights, and keep steepest edge."""


RAY_TOLERANCE = 1e-9
"""An entry of A^T y counts as nonzero above this, relative to the largest (`infeasible_columns`)."""

BASES_KEPT = 2
"""Matrices whose last basis an instance keeps, most recent first (`HighsLiveModel.update` says
why). At L one costs about 6 MB of statuses and keeps its matrix (about 33 MB) alive."""


class HighsLiveModel(InPlaceModel):
    """A `LinearProgram` loaded into a HiGHS instance that is kept, changed in place and re-run."""

    def __init__(self, backend: HighsBackend, lp: LinearProgram, options: SolveOptions) -> None:
        self._backend = backend
        self._lp = lp
        self._h = backend.load(lp, options)
        self._relaxation_basis: highspy.HighsBasis | None = None
        self._matrix_changed = False
        """Whether an update changed matrix entries since the last run."""
        self._bases: list[tuple[sp.csr_matrix, highspy.HighsBasis]] = []
        """The last basis a run ended with on each of the last `BASES_KEPT` matrices, most recent
        first."""

    @property
    def lp(self) -> LinearProgram:
        return self._lp

    @property
    def native(self) -> highspy.Highs:
        """The live HiGHS instance."""
        return self._h

    def update(self, new_lp: LinearProgram) -> ModelUpdate:
        """Hand HiGHS only the entries that differ: changed column bounds, row bounds and costs in one
        call each, the offset, and one `changeCoeff` per changed matrix entry (HiGHS has no batched
        coefficient change; signals change few), value 0 for an entry that leaves the pattern,
        which HiGHS then drops. The basis stays; HiGHS refactorizes it on the next run.
        `RebuildRequired` for a structural difference, or when HiGHS rejects a change (the
        instance is then half-updated and must be dropped).

        A basis kept for the matrix. When the update moves the matrix to one a run was on before
        (a new order replanned after a lead-time change returns to the baseline's arrivals), the
        next run starts from the basis the last run on that matrix ended with, not from the
        current one: that basis factors the matrix as it is and was dual feasible for it, where
        the current one, with its entries moved back, is rank-deficient and far from dual
        feasible. In the replan benchmark at L the new order's bounded run took 8,691 iterations
        (a 92.0 s replan) from the lead-time change's basis, and 0 (a 5.3 s replan) from the basis
        the quality hold's run left on the baseline's matrix. `ModelUpdate.basis_restored` says
        when this happened."""
        changes = ModelChanges.between(self._lp, new_lp)
        h, new = self._h, new_lp
        statuses = []
        cols, rows, costs = changes.columns, changes.rows, changes.costs
        if cols.size:
            statuses.append(h.changeColsBounds(cols.size, cols, new.col_lower[cols], new.col_upper[cols]))
        if rows.size:
            # highspy 1.15's stubs leave out changeRowsBounds; the binding has it.
            statuses.append(h.changeRowsBounds(rows.size, rows, new.row_lower[rows], new.row_upper[rows]))  # type: ignore[attr-defined]
        if costs.size:
            statuses.append(h.changeColsCost(costs.size, costs, new.c[costs]))
        if changes.offset:
            statuses.append(h.changeObjectiveOffset(float(new.offset)))
        for r, j, value in zip(changes.entry_rows.tolist(), changes.entry_cols.tolist(), changes.entry_values.tolist()):
            statuses.append(h.changeCoeff(r, j, value))
        moved = bool(changes.entry_values.size)
        self._matrix_changed = self._matrix_changed or moved
        if any(status == highspy.HighsStatus.kError for status in statuses):
            raise RebuildRequired(REJECTED)
        self._lp = new_lp
        kept = self._kept_basis(new_lp.A) if moved else None
        restored = kept is not None and h.setBasis(kept) == highspy.HighsStatus.kOk
        return dataclasses.replace(changes.update(), basis_restored=restored)

    def _kept_basis(self, matrix: sp.csr_matrix) -> highspy.HighsBasis | None:
        """The basis kept for `matrix`, if a run on it is among the last `BASES_KEPT` matrices."""
        return next((basis for kept, basis in self._bases if same_matrix(kept, matrix)), None)

    def _keep_basis(self) -> None:
        """Keep the basis the last run ended with, for the matrix it ran on. A run that left no
        basis (a MIP, a stop before the simplex started) keeps the one kept before."""
        basis = self._h.getBasis()
        if not basis.valid:
            return
        matrix = self._lp.A
        others = [(kept, b) for kept, b in self._bases if not same_matrix(kept, matrix)]
        self._bases = [(matrix, basis), *others][:BASES_KEPT]

    def solve(
        self, *, handoff: float, time_limit: float | None = None, objective_bound: float | None = None
    ) -> Solution:
        if time_limit is not None:
            # HiGHS measures its time limit on the instance's clock, which runs on across runs.
            limit = self._h.getRunTime() + time_limit if np.isfinite(time_limit) else np.inf
            self._h.setOptionValue("time_limit", float(limit))
        if objective_bound is not None and not (np.isfinite(objective_bound) and not self._lp.integrality.any()):
            objective_bound = None  # only an LP stops at a bound, and only at a finite one
        bounded = objective_bound is not None
        run_options: dict[str, float | int | str] = {}
        if objective_bound is not None:
            # Dual simplex stops in its phase 2 once its dual objective passes the bound (HiGHS
            # checks the objective with the exact costs, as its branch and bound does to prune).
            run_options = {"objective_bound": float(objective_bound), **BOUNDED_RUN_OPTIONS}
            if self._matrix_changed:
                run_options |= AFTER_MATRIX_CHANGE_OPTIONS
        before = {name: self._h.getOptionValue(name)[1] for name in run_options}
        for name, value in run_options.items():
            self._h.setOptionValue(name, value)
        began = time.perf_counter()
        try:
            self._h.run()
        finally:
            for name, previous in before.items():
                self._h.setOptionValue(name, previous)
            self._matrix_changed = False
            self._keep_basis()
        solution = self._backend.read_solution(self._h, self._lp, handoff=handoff, solve=time.perf_counter() - began)
        if bounded and self._h.getModelStatus() == highspy.HighsModelStatus.kObjectiveBound:
            solution = _bound_reached(self._h, solution)
        return solution

    def adopt_basis(self, old: InPlaceModel) -> bool:
        """`old`'s last basis, extended: its columns and rows keep their statuses, a new column is
        nonbasic at a finite bound (at zero when free), a new row basic (its slack takes the new
        rows' place in the basis, as HiGHS itself does when rows are added). The statuses then
        still count one basic per row; HiGHS repairs a basis that turns out singular."""
        if not isinstance(old, HighsLiveModel):
            return False
        basis = old._h.getBasis()
        n_old, m_old = old.lp.n_cols, old.lp.n_rows
        n, m = self._lp.n_cols, self._lp.n_rows
        if not basis.valid or n < n_old or m < m_old:
            return False
        status = highspy.HighsBasisStatus
        lower, upper = self._lp.col_lower[n_old:], self._lp.col_upper[n_old:]
        new_cols = [
            status.kLower if np.isfinite(lo) else status.kUpper if np.isfinite(up) else status.kZero
            for lo, up in zip(lower.tolist(), upper.tolist())
        ]
        extended = highspy.HighsBasis()
        extended.col_status = list(basis.col_status)[:n_old] + new_cols
        extended.row_status = list(basis.row_status)[:m_old] + [status.kBasic] * (m - m_old)
        extended.valid = True
        return bool(self._h.setBasis(extended) == highspy.HighsStatus.kOk)

    def basis(self) -> highspy.HighsBasis | None:
        basis = self._h.getBasis()
        return basis if basis.valid else None

    def restore_basis(self, basis: Any) -> bool:
        return isinstance(basis, highspy.HighsBasis) and self._h.setBasis(basis) == highspy.HighsStatus.kOk

    def reduced_costs(self) -> npt.NDArray[np.float64] | None:
        solution = self._h.getSolution()
        if not solution.dual_valid:
            return None
        return np.asarray(solution.col_dual, dtype=np.float64)

    def infeasible_columns(self) -> npt.NDArray[np.int64] | None:
        # highspy 1.16's stubs leave out getDualRay; the binding has it.
        status, has_ray, ray = self._h.getDualRay()  # type: ignore[attr-defined]
        if status != highspy.HighsStatus.kOk or not has_ray:
            return None
        weights = np.abs(self._lp.A.T @ np.asarray(ray, dtype=np.float64))
        return np.flatnonzero(weights > RAY_TOLERANCE * max(float(weights.max(initial=0.0)), 1.0)).astype(np.int64)

    def solve_lp_relaxation(self) -> Solution:
        """The relaxation starts from the basis of the previous relaxation (kept across updates in
        place and across MIP solves, which leave HiGHS without a basis), so this is the re-solve
        that in-place updates make fast."""
        h = self._h
        integer = np.flatnonzero(self._lp.integrality).astype(np.int32)
        relaxed = dataclasses.replace(self._lp, integrality=np.zeros_like(self._lp.integrality))
        if integer.size:
            h.changeColsIntegrality(integer.size, integer, np.zeros(integer.size, dtype=np.uint8))
        try:
            if self._relaxation_basis is not None and not h.getBasis().valid:
                h.setBasis(self._relaxation_basis)
            began = time.perf_counter()
            h.run()
            solution = self._backend.read_solution(h, relaxed, handoff=0.0, solve=time.perf_counter() - began)
            basis = h.getBasis()
            self._relaxation_basis = basis if basis.valid else None
            return solution
        finally:
            if integer.size:
                h.changeColsIntegrality(integer.size, integer, np.ones(integer.size, dtype=np.uint8))


def _bound_reached(h: highspy.Highs, solution: Solution) -> Solution:
    """A run stopped at its objective bound: its objective is the dual objective of the basis it
    stopped at, a lower bound of the LP's optimum when that basis is dual feasible, which HiGHS
    reports with the exact costs (dual solution status feasible, no dual infeasibilities). Without
    that the run proves nothing, and the bound stays NaN."""
    info = h.getInfo()
    feasible = info.dual_solution_status == 2 and info.num_dual_infeasibilities == 0
    bound = float(info.objective_function_value) if feasible else float("nan")
    return dataclasses.replace(
        solution,
        bound=bound,
        info={**solution.info, "objective_bound_reached": 1.0 if feasible else 0.0},
    )
