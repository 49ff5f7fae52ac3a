"""A live model: the cached `LinearProgram` of a network and the solver instance holding it (HiGHS's
by default), updated in place when a new model differs only in bounds, right-hand sides, costs or
coefficient values, and rebuilt when the backend raises `RebuildRequired`.

When in place pays. HiGHS keeps the simplex basis of the last solve across bound, cost and
coefficient changes, so an LP re-solve starts from the old optimum and needs a fraction of the
iterations: measured with HiGHS 1.15.1 on two threads over the replan benchmark's disruptions, the
LP relaxation of M re-solved in place took 150-1,600 dual simplex iterations instead of about
65,000, 4.5-9x less time (S: 2.6-7.7x). A MILP re-solve gains nothing: HiGHS presolves the changed
model again and starts branch and bound afresh from its root LP, so a MILP re-solve in place takes
as long as a cold one (measured on M: the same 62,613 iterations, 14.1 s either way). In place then
only saves the hand-off (at M: a 1 ms diff and update instead of a 9 ms `passModel`), which is
small next to any solve. `solve_lp_relaxation` keeps the
relaxation's basis across MIP solves, so LP-based what-ifs on a MILP still re-solve warm.

Why updates are detected by diffing rebuilt arrays. A signal is applied to the network, the whole
model is rebuilt by the vectorized builder (milliseconds at S, well under a second at M) and the
new arrays are compared entry by entry with the cached ones. Translating each signal kind into the
rows and columns it touches would be a second formulation of the model, kept in step with the
first by hand; the diff needs no such knowledge. It is exact (no tolerance): the instance updated in
place holds exactly the arrays a fresh `passModel` of the new model would hand over, so the two are
the same model by construction and reach the same optimum. A change of the sparsity pattern (a
lead-time change moves arrivals to other rows; a capacity cut to zero drops a coefficient) is set
entry by entry too, a dropped entry as value 0. A change of the shape or the integrality (a
protocol rule that becomes active adds columns), or of more than `MAX_PATTERN_CHANGES` matrix
entries, is structural, and the model is rebuilt.

Why a lead-time change is not rebuilt. A rebuilt instance starts from the old basis too
(`InPlaceModel.adopt_basis`), but it is scaled and factored afresh. In the replan benchmark at L
(HiGHS 1.16, 2 threads) the final replans of a lead-time change and of a new order after it (which
moves the entries back) took 325.7 s and 173.4 s rebuilt, 288.8 s and 100.9 s in place; what
brought the lead-time change to under a minute is how its bounded run is priced
(`highs_live.BOUNDED_RUN_OPTIONS`), and the new order starts from the basis the instance kept for
the baseline's matrix (`highs_live.HighsLiveModel.update`).

Which backend. Any backend that declares IN_PLACE_UPDATE (`SolverBackend.live`); this module is the
solver-agnostic front that rebuilds on `RebuildRequired`, and the HiGHS side is
`solver/backends/highs_live.py`.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.solution import Solution
from solver.backends.base import BackendFeature, SolverBackend
from solver.backends.in_place import (
    IN_PLACE,
    MAX_PATTERN_CHANGES,
    REBUILT,
    ModelUpdate,
    RebuildRequired,
    UpdateMode,
    structural_difference,
)
from solver.backends.registry import backend_with
from solver.options import SolveOptions

__all__ = [
    "IN_PLACE",
    "MAX_PATTERN_CHANGES",
    "REBUILT",
    "LiveModel",
    "ModelUpdate",
    "RebuildRequired",
    "UpdateMode",
    "structural_difference",
]


class LiveModel:
    """A cached `LinearProgram` and a live solver instance holding it.

    `update(new_lp)` brings the instance to `new_lp`: in place when only values changed, by a
    rebuild otherwise; `solve()` runs the instance as it stands. `backend` must declare
    IN_PLACE_UPDATE (default: the registry's default backend, HiGHS). One instance runs one solve
    at a time: do not call `update` or `solve` from two threads at once.
    """

    def __init__(
        self, lp: LinearProgram, options: SolveOptions | None = None, *, backend: SolverBackend | None = None
    ) -> None:
        self.options = options or SolveOptions()
        self._backend = backend_with(BackendFeature.IN_PLACE_UPDATE, "in-place updates of a loaded model", backend)
        began = time.perf_counter()
        self._model = self._backend.live(lp, self.options)
        self.last_update = ModelUpdate(REBUILT, "initial load", seconds=time.perf_counter() - began)

    @property
    def lp(self) -> LinearProgram:
        """The model the instance holds now."""
        return self._model.lp

    @property
    def native(self) -> Any:
        """The live solver instance (for callbacks or a MIP start; not for changing the model)."""
        return self._model.native

    @property
    def highs(self) -> Any:
        """The live `highspy.Highs` instance, on the HiGHS backend: `native` by its older name."""
        return self._model.native

    def update(self, new_lp: LinearProgram) -> UpdateMode:
        """Bring the live instance to `new_lp`; returns "in_place" or "rebuilt".

        In place, only the entries that differ are handed over (`SolverBackend.live` says how).
        Should the backend raise `RebuildRequired` (a structural difference, or a change the solver
        rejects), the possibly half-updated instance is dropped and the model rebuilt; the new
        instance starts from the old one's basis where it extends the old model
        (`InPlaceModel.adopt_basis`).
        """
        began = time.perf_counter()
        try:
            update = self._model.update(new_lp)
        except RebuildRequired as rebuild:
            previous, self._model = self._model, self._backend.live(new_lp, self.options)
            adopted = self._model.adopt_basis(previous)
            del previous  # the old instance's memory goes before the next solve
            reason = f"{rebuild.reason} (its basis carried over)" if adopted else rebuild.reason
            self.last_update = ModelUpdate(REBUILT, reason, seconds=time.perf_counter() - began)
            return REBUILT
        self.last_update = dataclasses.replace(update, seconds=time.perf_counter() - began)
        return IN_PLACE

    def solve(self, *, time_limit: float | None = None, objective_bound: float | None = None) -> Solution:
        """Run the live instance (from whatever state its last solve left) and read the result;
        `time_limit` (seconds) replaces the limit of `options` for this and later runs;
        `objective_bound` stops an LP once a lower bound above it is proven (`InPlaceModel.solve`)."""
        return self._model.solve(
            handoff=self.last_update.seconds, time_limit=time_limit, objective_bound=objective_bound
        )

    def basis(self) -> Any | None:
        """The basis the last solve ended with, to hand to `restore_basis` (None where the
        backend keeps none)."""
        return self._model.basis()

    def restore_basis(self, basis: Any) -> bool:
        """Start the next solve from `basis` (from `basis()` of this instance); False when nothing
        was restored."""
        return self._model.restore_basis(basis)

    def reduced_costs(self) -> npt.NDArray[np.float64] | None:
        """After a solve of the LP: each column's reduced cost (`InPlaceModel.reduced_costs`);
        None where the backend gives none."""
        return self._model.reduced_costs()

    def infeasible_columns(self) -> npt.NDArray[np.int64] | None:
        """After a solve that found the LP infeasible: the columns whose bounds the solver's proof
        relies on (`InPlaceModel.infeasible_columns`); None without a proof."""
        return self._model.infeasible_columns()

    def solve_lp_relaxation(self) -> Solution:
        """Solve the model with every integer column relaxed to continuous, then restore the
        integrality. The relaxation starts from the basis of the previous relaxation (kept across
        updates in place and across MIP solves, which leave HiGHS without a basis), so this is the
        re-solve that in-place updates make fast."""
        return self._model.solve_lp_relaxation()
