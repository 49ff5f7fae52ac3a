"""LP-first solving (method "lp_first"): the MILP's LP relaxation first, with the rows that couple
items added only where it violates them; then the integers repaired and the LP re-solved with them
fixed; the relaxation's optimum certifies the gap. Branch and bound runs only when the certified
gap is wider than asked.

Why. Concerto's models are LPs with few integers: at M (97k columns, 690-780 integers) HiGHS's MILP
is its root LP, one branch-and-bound node, and at L (992k columns) no HiGHS LP method finishes the
monolithic LP in 400-600 s. What makes that LP slow is its coupling: without the rows that share a
resource between items (`models.allocation.COUPLING_FAMILIES`) dual simplex runs 5-7x faster per
iteration (M's relaxation: 2.6 s against 15.4 s), and at the optimum only about 2% of those rows
bind (M: 127 of 6,958). So:

1. Relaxation. The LP relaxation with the coupling rows switched off (their bounds made infinite;
   a warm solve keeps on the rows an earlier solve of the network switched on), solved once. It is
   a relaxation of the model, so its optimum is a valid lower bound even while it breaks coupling
   rows. A plan already in hand (`start`: a replan's first answer) that this bound certifies is the
   answer, with no repair at all.
2. Repair. Integers rounded (`models.rounding.round_integers`: switch-ons up from what the flows
   need, never past what a row allows, one column per choose-one row), fixed by their bounds, and
   the LP re-solved warm. First the coupling rows the plan breaks are held by column bounds, their
   capacity shared out in proportion to use, and the still uncoupled LP re-solved, round by round
   until it breaks none (`solver.restriction`: a restriction of the model, cheap, its plan within
   about 1% of the bound on the generated networks); while that plan is not within the requested
   gap, rounds move the held rows' capacity from the columns that leave their share unused, or
   value it least at the margin (reduced costs), to those it is worth most to
   (`Restriction.reallocate`). When that plan is not within the requested gap
   (or bounds cannot hold the rows), the coupling rows the plan breaks are switched on instead and
   the LP re-solved, until it breaks none. The restricted repair runs on large models only
   (`RESTRICTED_REPAIR_COLUMNS`). Either result meets every row of the full model with every
   integer whole: a feasible plan, the upper bound.
3. Certificate. gap = (upper - lower) / max(|upper|, 1). Within the requested `mip_rel_gap` the
   plan is returned as OPTIMAL (proven within the gap, as a MILP solve would say). Otherwise the
   bound is tightened once: the integers freed, the relaxation re-solved with every coupling row it
   breaks switched on, round by round, until it breaks none (its optimum is then the full LP
   relaxation's: a relaxation that the full LP's rows all hold), and the plan repaired again from
   it. Still too wide, the monolithic MILP runs with what is left of the time limit, started from
   the best plan; its answer keeps the better of the two lower bounds. Without time for it the
   best plan is returned as FEASIBLE with its certified gap.

Inherited bounds. A bound certified for a model holds for every restriction of it: a model with the
same matrix, costs, offset and integers, whose every bound is at least as tight, has no solution
the first one lacks (`restricts`), so its optimum is no lower. A supplier outage, a lane closure
or a capacity loss only tightens bounds (a replan at stability weight 0 builds the baseline's model
with them tightened), so the baseline's bound certifies their replans' first answers with no LP
solved at all: when a kept bound (`LpFirstState.certified`) certifies `start` within the gap, it
is the answer. A demand surge, a stock write-off or a new order moves an equality's right-hand
side (one side looser), a lead-time change moves the matrix: those are solved as above.

Early bounds. With a plan in hand (`start`), the relaxation need not be solved to its optimum: it
only has to prove a bound within the gap of the plan. Its run is given that bound (the plan's
objective minus the gap) as HiGHS's `objective_bound`: dual simplex stops in its phase 2 once its
dual objective, computed with the exact costs, passes it. A dual feasible basis's dual objective is
a lower bound of the LP's optimum (weak duality), so the plan is certified without the rest of the
solve, and the bound reported is that dual objective (HiGHS also reports the basis's duals
feasible: without that the stop proves nothing and the relaxation is solved on). Warm from a
replan's last basis, which new right-hand sides leave dual feasible, the stop often comes within a
few hundred iterations, or at once. The bounded run uses unperturbed costs, so that HiGHS's check
of the exact dual objective comes as soon as it passes, no presolve, since HiGHS drops the bound
on a presolved LP (a cold run, such as a sequential stage's from the stage before's plan, would
otherwise never stop at it), and Devex pricing after moved matrix entries, so that it does not
first recompute every steepest-edge weight (`solver.backends.highs_live.BOUNDED_RUN_OPTIONS`).

Warm state. The live instance and the rows switched on are kept (`LpFirstState`) and handed to the
next solve of the same network, which updates the instance in place when the new model differs only
in values (`solver.live` says which changes do) and re-solves from the last basis: a replan then
starts from the previous optimum instead of from nothing. `WarmStates` keeps the last few by key.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from models.allocation import COUPLING_FAMILIES
from models.builder import LinearProgram
from models.rounding import INTEGRAL_TOLERANCE, integer_violation, round_integers, row_violation
from models.solution import Solution, SolveStatus
from solver.backends.base import BackendFeature, MipProgress, SolverBackend
from solver.backends.registry import default_backend
from solver.live import LiveModel
from solver.options import AUTO, LP_FIRST, MILP, SolveOptions
from solver.restriction import Restriction

BoolArray = npt.NDArray[np.bool_]

ROW_TOLERANCE = 1e-6
"""A coupling row counts as violated when its activity lies outside its bounds by more than this,
relative to 1 + |bound| (HiGHS's own primal tolerance is 1e-7 absolute)."""
MAX_ROUNDS = 50
"""Re-solves with more coupling rows switched on, in one call, before the method stops switching
rows on and falls back to branch and bound (M needs 1-4). The restricted repair's rounds (coupling
rows held by bounds) stop at the same count."""
RESTRICTED_REPAIR_COLUMNS = 500_000
"""The restricted repair runs (before the coupled one) for models with at least this many free
columns, where the coupled repair takes minutes: at L (992k) it plans in 27 s what the coupled
repair plans in 523-610 s. Below it the coupled repair alone runs: at M (97k) the restricted plan
came 2 s sooner (cold plan 4.4 s against 6.4 s) but 0.93% above the bound against 0.19%, and the
replans anchored to that baseline were 0.36-0.66% above a cold solve against 0.01-0.06% (finals
0.51-3.58 s against 0.41-1.36 s): too much plan for too little time."""
REALLOCATION_ROUNDS = 10
"""After the restricted repair holds every coupling row, up to this many rounds move the held rows'
capacity to the columns it is worth most to (`Restriction.reallocate`), each an LP re-solved warm
after bound changes, until the plan is within the requested gap. Under the suite's protocols the
proportional shares left L's cold plan 1.80% above its bound, and M's 1.17% (the coupled repair's
0.14%): the shares, not the rounding, were what cost."""
REALLOCATION_STEP = 0.05
"""The share of a below-average column's cap a round trades away, halved after each round that
gains less than `REALLOCATION_MIN_GAIN` or ends without a plan, down to an eighth. At M (under the
suite's protocols, ten rounds) 0.025 and 0.05 ended 0.33% above the bound, 0.1 0.36%, 0.2 0.42%,
0.4 0.90%: marginal values hold for small moves."""
REALLOCATION_MIN_GAIN = 1e-4
"""A round counts as a gain when it lowers the objective by at least this share of it."""
STOCK_BLOCKS = ("inv",)
"""The model's stock levels (`models.allocation`: inv[position, period]), which the restricted repair
does not cut where the plan holds them steady (`solver.restriction.Restriction`)."""
MAX_CERTIFICATES = 60
"""Infeasible restricted re-solves (each protects the columns its certificate names) in one call
before the restricted repair gives up for the coupled one (L's cold plan needs 3)."""
AUTO_FREE_COLUMNS = 20_000
"""Method "auto" solves LP-first a model with at least this many columns that are free to move
(lower < upper), and the monolithic MILP below it; a replan's first answer, whose model has every
column outside the signals' reach fixed, stays a MILP too. Measured at 1% (one run, 1 thread, medians
of 3): at S (seeds 0-3, 3.6-3.9k columns) LP-first is faster, 0.06-0.10 s against 0.09-0.14 s, but
saves hundredths of a second for plans up to 0.74% worse (seed 0: -2,984,911 against the MILP's
-3,007,276), where the MILP lands closer to the optimum than the gap asks; on generated networks
between S and M (21-23k columns) it takes 0.9-1.2 s against 1.8-2.4 s, its plans within 0.02% of
the MILP's; at M 7.6-8.5 s against 15.7-19.6 s. So the line sits where the time saved starts to be
worth having."""
AUTO_MIN_GAP = 0.005
"""... and only when the requested gap is at least this (0.5%): LP-first certified M's plans within
0.12-0.27% (cold and warm), so a tighter gap (the default 0.1%) would end in branch and bound after
LP-first's work, slower than the MILP alone."""
AUTO_ALWAYS_COLUMNS = 500_000
"""... whatever the gap, from this many free columns on: at L (992k) HiGHS's MILP does not finish
its root LP in 600 s, and LP-first plans it within 1% in about 2 minutes (92-133 s in four runs:
the relaxation 78-100 s, the restricted repair 27 s)."""


def lazy_rows(lp: LinearProgram) -> BoolArray:
    """The rows of `lp` in `COUPLING_FAMILIES` (the rows LP-first switches on only where needed)."""
    mask = np.zeros(lp.n_rows, dtype=bool)
    for name in COUPLING_FAMILIES:
        family = lp.constraints.get(name)
        if family is not None:
            mask[family.slice] = True
    return mask


def chosen_method(lp: LinearProgram, options: SolveOptions, backend: SolverBackend) -> str:
    """The method a solve of `lp` runs: `options.method`, with "auto" resolved by the model's free
    columns and the backend (LP-first needs in-place updates, `BackendFeature.IN_PLACE_UPDATE`)."""
    if options.method != AUTO:
        return options.method
    if BackendFeature.IN_PLACE_UPDATE not in backend.features or not lp.integrality.any():
        return MILP
    free = int(np.count_nonzero(lp.col_lower < lp.col_upper))
    if free >= AUTO_ALWAYS_COLUMNS or (free >= AUTO_FREE_COLUMNS and options.mip_rel_gap >= AUTO_MIN_GAP):
        return LP_FIRST
    return MILP


CERTIFIED_KEPT = 3
"""Models (with their certified lower bounds) a warm state keeps for `restricts`, most recently
used first: at L one holds about 70 MB of arrays."""


@dataclass(frozen=True, eq=False)
class Certified:
    """A model solved before and a lower bound certified for its optimum."""

    lp: LinearProgram
    lower: float


def restricts(lp: LinearProgram, reference: LinearProgram) -> bool:
    """Whether every solution of `lp` is a solution of `reference` with the same objective value.

    Sufficient conditions, checked exactly: the same shape, costs, offset and integer columns;
    every column and row bound of `lp` at least as tight (lower >=, upper <= the reference's); and
    the same matrix, except that a row the reference bounds on one side only may differ where the
    difference can only make `lp`'s row the stricter one. For a row r with only an upper bound and
    d = lp's row - the reference's row, the reference's activity is lp's minus d.x, so it is no
    larger when d.x >= 0 for every x of `lp`: d_j > 0 on columns with lower bound >= 0, d_j < 0 on
    columns with upper bound <= 0 (a lower-bounded row takes the mirror image). So a setup link
    make - M setup <= 0 whose M a capacity loss shrank still restricts the reference's. Then `lp`'s
    optimum is at least `reference`'s, and a lower bound of `reference`'s optimum is one of `lp`'s.
    """
    if lp is reference:
        return True
    if (lp.n_rows, lp.n_cols) != (reference.n_rows, reference.n_cols) or lp.offset != reference.offset:
        return False
    if not (np.array_equal(lp.c, reference.c) and np.array_equal(lp.integrality, reference.integrality)):
        return False
    tighter = (
        np.all(lp.col_lower >= reference.col_lower)
        and np.all(lp.col_upper <= reference.col_upper)
        and np.all(lp.row_lower >= reference.row_lower)
        and np.all(lp.row_upper <= reference.row_upper)
    )
    if not tighter:
        return False
    diff = (lp.A - reference.A).tocoo()
    keep = diff.data != 0.0
    rows, cols, d = diff.row[keep], diff.col[keep], diff.data[keep]
    if d.size == 0:
        return True
    lower_free = np.isinf(reference.row_lower[rows])
    upper_free = np.isinf(reference.row_upper[rows])
    nonnegative = lp.col_lower[cols] >= 0.0
    nonpositive = lp.col_upper[cols] <= 0.0
    grows = ((d > 0) & nonnegative) | ((d < 0) & nonpositive)  # d_j x_j >= 0 for every x of lp
    shrinks = ((d > 0) & nonpositive) | ((d < 0) & nonnegative)  # d_j x_j <= 0
    allowed = (lower_free & upper_free) | (lower_free & grows) | (upper_free & shrinks)
    return bool(np.all(allowed))


@dataclass(eq=False)
class LpFirstState:
    """Where the next LP-first solve of a network starts: the live instance holding the last LP
    (and its basis) and which coupling rows are switched on; and the last few models solved with
    their certified bounds (for `restricts`)."""

    live: LiveModel
    active: BoolArray
    """The coupling rows switched on (only ever more, until the model's shape changes)."""
    certified: list[Certified] = field(default_factory=list)
    """Models solved before and their certified lower bounds, most recently used first."""

    def inherited_bound(self, lp: LinearProgram) -> float:
        """The highest kept bound of a model `lp` restricts (nan if none); the model it came from
        moves to the front."""
        found = [c for c in self.certified if restricts(lp, c.lp)]
        if not found:
            return math.nan
        best = max(found, key=lambda c: c.lower)
        self.certified.remove(best)
        self.certified.insert(0, best)
        return best.lower

    def remember(self, lp: LinearProgram, lower: float) -> None:
        """Keep `lower` as the certified bound of `lp` (the oldest beyond `CERTIFIED_KEPT` go)."""
        if math.isnan(lower):
            return
        self.certified.insert(0, Certified(lp, lower))
        del self.certified[CERTIFIED_KEPT:]


class WarmStates:
    """The `LpFirstState` of the last `capacity` networks solved, by key (a network's id): an L
    instance holds about 1M columns, so few are kept. Thread-safe; a state is taken out while in use
    so that two solves never share an instance."""

    def __init__(self, capacity: int = 2) -> None:
        self.capacity = capacity
        self._states: OrderedDict[str, LpFirstState] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str | None) -> LpFirstState | None:
        if key is None:
            return None
        with self._lock:
            return self._states.pop(key, None)

    def put(self, key: str | None, state: LpFirstState | None) -> None:
        if key is None or state is None or self.capacity <= 0:
            return
        with self._lock:
            self._states[key] = state
            self._states.move_to_end(key)
            while len(self._states) > self.capacity:
                self._states.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def __len__(self) -> int:
        return len(self._states)


WARM_STATES = WarmStates()
"""The process's warm states: a worker process keeps the networks it last solved."""


@dataclass
class _Stage:
    """The running totals of one LP-first solve (its stats)."""

    began: float
    lp_solves: int = 0
    iterations: float = 0.0
    rounds: int = 0
    handoff: float = 0.0
    repair_seconds: float = 0.0
    fallback_seconds: float = 0.0
    restricted_rows: int = 0
    protected_columns: int = 0
    certificates: int = 0
    reallocations: int = 0
    notes: list[str] = field(default_factory=list)


def solve_lp_first(
    lp: LinearProgram,
    options: SolveOptions,
    *,
    backend: SolverBackend | None = None,
    state: LpFirstState | None = None,
    progress: Callable[[MipProgress], None] | None = None,
    fallback: bool = True,
    start: npt.NDArray[np.float64] | None = None,
) -> tuple[Solution, LpFirstState]:
    """Solve `lp` LP-first (the module docstring says how), warm from `state` if given; returns the
    solution and the state for the next solve of the same network.

    `options.time_limit` covers the whole call. `fallback=False` never runs branch and bound: a gap
    wider than asked then comes back as FEASIBLE (tests use it to see the repair on its own).
    `start` is a plan already in hand (a replan's first answer): if it meets every row, bound and
    integrality of `lp`, it is the incumbent from the start; when a bound `state` kept for a model
    `lp` restricts certifies it, it is the answer with no LP solved (module docstring, "Inherited
    bounds"), and when the relaxation's bound certifies it no repair runs at all.
    """
    began = time.perf_counter()
    backend = backend or default_backend()
    found = _incumbent(
        lp, start, Solution(SolveStatus.FEASIBLE, None, backend=backend.name, backend_version=backend.version())
    )
    inherited = state.inherited_bound(lp) if state is not None else math.nan
    if (
        state is not None
        and found is not None
        and not math.isnan(inherited)
        and _gap(found.objective, inherited) <= options.mip_rel_gap
    ):
        lazy = lazy_rows(lp)
        active = state.active if state.active.shape == lazy.shape else np.zeros_like(lazy)
        run = _Stage(began=began, notes=["bound inherited"])
        _report(progress, began, found.objective, inherited, improved=True)
        return _with_stats(found, SolveStatus.OPTIMAL, inherited, run, lazy, active, options), state
    solution, state = _solve(lp, options, backend, state, progress, fallback, found, inherited, began)
    if solution.status != SolveStatus.INFEASIBLE:
        state.remember(lp, solution.bound)
    return solution, state


def _solve(
    lp: LinearProgram,
    options: SolveOptions,
    backend: SolverBackend,
    state: LpFirstState | None,
    progress: Callable[[MipProgress], None] | None,
    fallback: bool,
    found: Solution | None,
    inherited: float,
    began: float,
) -> tuple[Solution, LpFirstState]:
    """`solve_lp_first` past the inherited bound: the relaxation, the repair and the certificate,
    with `found` (the start as a solution, if it is one) as the incumbent and `inherited` (nan if
    none) as a lower bound from the start."""
    run = _Stage(began=began)
    lazy = lazy_rows(lp)
    free_columns = int(np.count_nonzero(lp.col_lower < lp.col_upper))
    integer = lp.integrality.astype(bool)
    relaxed = replace(lp, integrality=np.zeros_like(lp.integrality))

    def model(active: BoolArray, fixed: npt.NDArray[np.float64] | None = None) -> LinearProgram:
        off = lazy & ~active
        cl, cu = lp.col_lower, lp.col_upper
        if fixed is not None:
            cl = np.where(integer, fixed, cl)
            cu = np.where(integer, fixed, cu)
        return replace(
            relaxed,
            row_lower=np.where(off, -np.inf, lp.row_lower),
            row_upper=np.where(off, np.inf, lp.row_upper),
            col_lower=cl,
            col_upper=cu,
        )

    def left() -> float:
        return options.time_limit - (time.perf_counter() - run.began)

    active = np.zeros(lp.n_rows, dtype=bool)
    if state is not None and state.active.shape == active.shape:
        active = state.active & lazy
    if state is None:
        state = LpFirstState(LiveModel(model(active), options, backend=backend), active)
        run.notes.append("cold")
    else:
        state.active = active  # the rows of a model of another shape start off again
        state.live.update(model(active))
        run.notes.append("warm" if state.live.last_update.mode == "in_place" else "rebuilt")
        if state.live.last_update.basis_restored:
            run.notes.append("basis restored")
    live = state.live
    run.handoff += live.last_update.seconds

    def solve_once(objective_bound: float | None = None) -> Solution:
        if left() <= 0:
            return Solution(SolveStatus.TIME_LIMIT, None, message="time limit before the LP finished")
        solution = live.solve(time_limit=left(), objective_bound=objective_bound)
        run.lp_solves += 1
        run.iterations += solution.info.get("simplex_iteration_count", 0.0)
        return solution

    def violated(x: npt.NDArray[np.float64]) -> BoolArray:
        return row_violation(lp, x, lazy & ~state.active) > ROW_TOLERANCE

    def switch_on(rows: BoolArray, fixed: npt.NDArray[np.float64] | None) -> None:
        run.rounds += 1
        state.active = state.active | rows
        live.update(model(state.active, fixed))
        run.handoff += live.last_update.seconds

    def resolve(fixed: npt.NDArray[np.float64] | None) -> Solution:
        """Re-solve until no coupling row is violated (or the LP is not optimal)."""
        while True:
            solution = solve_once()
            if solution.status != SolveStatus.OPTIMAL or solution.x is None:
                return solution
            rows = violated(solution.x)
            if not rows.any():
                return solution
            if run.rounds >= MAX_ROUNDS:
                return replace(solution, status=SolveStatus.ERROR, message="coupling rows kept being violated")
            switch_on(rows, fixed)

    def restricted_repair(fixed: npt.NDArray[np.float64]) -> Solution | None:
        """The LP with the integers fixed, re-solved with the coupling rows its plan breaks held
        by column bounds (`solver.restriction`), round by round until it breaks none: a plan of
        the full model; then the held rows' capacity moved to where it is worth most
        (`reallocate`). None when bounds cannot hold the rows, or the rounds or the time run out.
        (Holding the rows the relaxation's own optimum breaks, to fix the integers and hold the
        rows in one solve, was slower at L: no plan 31 s into the repair, against 27 s for all.)"""
        base = live.lp
        restriction = Restriction(lp, base.col_lower, base.col_upper, stock=STOCK_BLOCKS)

        def plan_of(solution: Solution) -> tuple[npt.NDArray[np.float64] | None, BoolArray]:
            """The solution's plan with the integers exactly whole, and the coupling rows it breaks."""
            if solution.status != SolveStatus.OPTIMAL or solution.x is None:
                return None, np.zeros(0, dtype=bool)
            x = solution.x.copy()
            x[integer] = fixed[integer]
            return x, violated(x)

        def held_solve() -> Solution | None:
            """Solve within the restriction's bounds, protecting the columns each infeasibility
            certificate names; None when bounds cannot hold the rows or certificates run out."""
            while True:
                if restriction.unheld().size:
                    return None
                col_lower, col_upper = restriction.bounds()
                live.update(replace(base, col_lower=col_lower, col_upper=col_upper))
                run.handoff += live.last_update.seconds
                solution = solve_once()
                if solution.status != SolveStatus.INFEASIBLE:
                    return solution
                run.certificates += 1
                named = live.infeasible_columns()
                if run.certificates > MAX_CERTIFICATES or named is None or restriction.protect(named) == 0:
                    return None

        def hold(solution: Solution | None) -> Solution | None:
            """From `solution`, the coupling rows its plan breaks held by bounds and the LP
            re-solved, round by round, until its plan breaks none: that plan, integers whole."""
            for _ in range(MAX_ROUNDS):
                if solution is None:
                    return None
                x, broken = plan_of(solution)
                if x is None:
                    return None
                if not broken.any():
                    return replace(solution, x=x, objective=float(lp.c @ x + lp.offset))
                rows = np.flatnonzero(broken & ~restriction.rows)
                if rows.size == 0:
                    return None  # a row held by bounds still reads broken: leave it to the coupled LP
                restriction.restrict(rows, x)
                solution = held_solve()
            return None

        best = hold(solve_once())
        if best is None:
            return None
        run.restricted_rows = int(restriction.rows.sum())
        run.protected_columns = int(restriction.protected.sum())
        # Capacity moved to where it is worth most, from the best plan so far, with a step halved
        # after each round that gains too little or ends without a plan.
        reduced, shares, step = live.reduced_costs(), restriction.shares(), REALLOCATION_STEP
        while (
            reduced is not None
            and best.x is not None
            and run.reallocations < REALLOCATION_ROUNDS
            and step >= REALLOCATION_STEP / 8
            and _gap(best.objective, lower) > options.mip_rel_gap
            and left() > 0
        ):
            restriction.restore(shares)
            if restriction.reallocate(best.x, reduced, step) == 0:
                break
            run.reallocations += 1
            plan = hold(held_solve())
            if plan is not None and plan.objective < best.objective:
                gain = best.objective - plan.objective
                best, reduced, shares = plan, live.reduced_costs(), restriction.shares()
                run.restricted_rows = int(restriction.rows.sum())
                run.protected_columns = int(restriction.protected.sum())
                if gain >= REALLOCATION_MIN_GAIN * max(abs(plan.objective), 1.0):
                    continue
            step /= 2.0
        return best

    def finish(solution: Solution, status: SolveStatus, lower: float) -> tuple[Solution, LpFirstState]:
        return _with_stats(solution, status, lower, run, lazy, state.active, options), state

    # 1. The relaxation, once: a valid bound even while coupling rows it violates are still off.
    # With a plan in hand it stops as soon as its bound certifies the plan ("Early bounds").
    lower = inherited
    if found is not None:
        run.notes.append("start")
        threshold = found.objective - options.mip_rel_gap * max(abs(found.objective), 1.0)
        early = solve_once(objective_bound=threshold)
        if early.info.get("objective_bound_reached") and early.bound >= threshold:
            lower = early.bound if math.isnan(lower) else max(lower, early.bound)
            run.notes.append("bound reached")
            _report(progress, run.began, found.objective, lower, improved=True)
            return finish(found, SolveStatus.OPTIMAL, lower)
        relaxation = early if early.status == SolveStatus.OPTIMAL else solve_once()
    else:
        relaxation = solve_once()
    if relaxation.status == SolveStatus.INFEASIBLE:
        # A relaxation of the model has no solution, so the model has none.
        return finish(relaxation, SolveStatus.INFEASIBLE, math.nan)
    exact = False
    if found is not None:
        found = replace(found, info=dict(relaxation.info))
    for _ in range(2):
        if relaxation.status != SolveStatus.OPTIMAL or relaxation.x is None:
            run.notes.append(f"relaxation {relaxation.status.value}")
            break
        lower = max(lower, relaxation.objective) if not math.isnan(lower) else relaxation.objective
        exact = exact or not violated(relaxation.x).any()
        _report(progress, run.began, found.objective if found is not None else math.nan, lower, improved=False)
        if found is not None and _gap(found.objective, lower) <= options.mip_rel_gap:
            return finish(found, SolveStatus.OPTIMAL, lower)
        # 2. Repair: integers rounded and fixed; the coupling rows the plan breaks held by column
        # bounds first, switched on in the LP if that plan is not within the gap.
        t0 = time.perf_counter()
        restricting = free_columns >= RESTRICTED_REPAIR_COLUMNS
        relaxation_basis = live.basis() if restricting else None
        fixed = round_integers(lp, relaxation.x)
        live.update(model(state.active, fixed))
        run.handoff += live.last_update.seconds
        held = restricted_repair(fixed) if restricting else None
        if held is not None and (found is None or held.objective < found.objective):
            found = held
            if run.restricted_rows:
                run.notes.append("restricted")
            _report(progress, run.began, found.objective, lower, improved=True)
        if found is not None and _gap(found.objective, lower) <= options.mip_rel_gap:
            if held is not None:
                # The instance goes back to the relaxation and its optimal basis, not the capped
                # LP's: the next replan's relaxation then starts next to its optimum (at L the
                # capped basis, its caps lifted, left a demand surge's run going for minutes).
                live.update(model(state.active))
                run.handoff += live.last_update.seconds
                live.restore_basis(relaxation_basis)
            run.repair_seconds += time.perf_counter() - t0
            return finish(found, SolveStatus.OPTIMAL, lower)
        live.update(model(state.active, fixed))
        run.handoff += live.last_update.seconds
        repaired = resolve(fixed)
        run.repair_seconds += time.perf_counter() - t0
        if repaired.status == SolveStatus.OPTIMAL and repaired.x is not None:
            x = repaired.x.copy()
            x[integer] = fixed[integer]  # exactly whole (the LP holds them at their fixed bounds)
            upper = float(lp.c @ x + lp.offset)
            if found is None or upper < found.objective:
                found = replace(repaired, x=x, objective=upper)
                if "restricted" in run.notes:
                    run.notes.remove("restricted")  # the coupled LP's plan replaces the restricted one
            _report(progress, run.began, found.objective, lower, improved=True)
        else:
            run.notes.append(f"repair {repaired.status.value}")
        # 3. Certificate; tighten the bound to the full LP relaxation's once if it falls short.
        if found is not None and _gap(found.objective, lower) <= options.mip_rel_gap:
            return finish(found, SolveStatus.OPTIMAL, lower)
        if exact:
            break
        live.update(model(state.active))
        run.handoff += live.last_update.seconds
        relaxation = resolve(None)
        exact = relaxation.status == SolveStatus.OPTIMAL
    return _fall_back(lp, options, backend, found, lower, run, progress, lazy, state.active, state, fallback)


def _fall_back(
    lp: LinearProgram,
    options: SolveOptions,
    backend: SolverBackend,
    found: Solution | None,
    lower: float,
    run: _Stage,
    progress: Callable[[MipProgress], None] | None,
    lazy: BoolArray,
    active: BoolArray,
    state: LpFirstState,
    fallback: bool,
) -> tuple[Solution, LpFirstState]:
    """Branch and bound on the whole model with the time left, from the repaired plan; or, without
    time (or with `fallback` off), the repaired plan as FEASIBLE with its certified gap."""
    left = options.time_limit - (time.perf_counter() - run.began)
    if not fallback or left <= 0:
        if found is None:
            status = SolveStatus.TIME_LIMIT if left <= 0 else SolveStatus.ERROR
            empty = Solution(status, None, message="LP-first found no plan; " + ", ".join(run.notes))
            return _with_stats(empty, status, lower, run, lazy, active, options), state
        return _with_stats(found, SolveStatus.FEASIBLE, lower, run, lazy, active, options), state
    t0 = time.perf_counter()
    start = found.x if found is not None and BackendFeature.MIP_START in backend.features else None
    milp = backend.solve(lp, replace(options, time_limit=left), progress=progress, start=start)
    run.fallback_seconds = time.perf_counter() - t0
    run.notes.append("branch and bound")
    best_lower = max((v for v in (lower, milp.bound) if not math.isnan(v)), default=math.nan)
    if milp.status.has_solution:
        status = milp.status
        if not math.isnan(best_lower) and _gap(milp.objective, best_lower) <= options.mip_rel_gap:
            status = SolveStatus.OPTIMAL
        return _with_stats(milp, status, best_lower, run, lazy, active, options), state
    if found is not None:
        return _with_stats(found, SolveStatus.FEASIBLE, best_lower, run, lazy, active, options), state
    return _with_stats(milp, milp.status, best_lower, run, lazy, active, options), state


def _incumbent(lp: LinearProgram, start: npt.NDArray[np.float64] | None, like: Solution) -> Solution | None:
    """`start` as a solution of `lp` (objective c.x + offset) if it is one: every row and bound met
    within `ROW_TOLERANCE` and every integer column whole; None otherwise."""
    if start is None or start.shape != (lp.n_cols,) or not np.all(np.isfinite(start)):
        return None
    scale_lo = 1.0 + np.abs(np.where(np.isfinite(lp.col_lower), lp.col_lower, 0.0))
    scale_up = 1.0 + np.abs(np.where(np.isfinite(lp.col_upper), lp.col_upper, 0.0))
    outside = (lp.col_lower - start > ROW_TOLERANCE * scale_lo) | (start - lp.col_upper > ROW_TOLERANCE * scale_up)
    if outside.any():
        return None
    if integer_violation(lp, start) > INTEGRAL_TOLERANCE or row_violation(lp, start).max(initial=0.0) > ROW_TOLERANCE:
        return None
    return replace(like, status=SolveStatus.FEASIBLE, x=start.copy(), objective=float(lp.c @ start + lp.offset))


def _gap(upper: float, lower: float) -> float:
    """(upper - lower) / max(|upper|, 1), at least 0."""
    return max(upper - lower, 0.0) / max(abs(upper), 1.0)


def _report(
    progress: Callable[[MipProgress], None] | None, began: float, upper: float, lower: float, *, improved: bool
) -> None:
    """Tell `progress` (if any) the plan's objective `upper` (NaN without a plan), the bound and
    their certified gap (NaN until both are known), as a MIP solve's progress would."""
    if progress is not None:
        gap = _gap(upper, lower) if math.isfinite(upper) and math.isfinite(lower) else math.nan
        progress(MipProgress(time.perf_counter() - began, upper, lower, gap, 0, improved))


def _with_stats(
    solution: Solution,
    status: SolveStatus,
    lower: float,
    run: _Stage,
    lazy: BoolArray,
    active: BoolArray,
    options: SolveOptions,
) -> Solution:
    """`solution` as the LP-first method reports it: the status, the certified bound and gap, the
    whole call's time, and the method's figures in `info`."""
    has = status.has_solution and solution.x is not None
    bound = lower if not math.isnan(lower) else solution.bound
    info = dict(solution.info)
    info.update(
        {
            "lp_solves": float(run.lp_solves),
            "lp_iterations": run.iterations,
            "coupling_rounds": float(run.rounds),
            "coupling_rows": float(lazy.sum()),
            "coupling_rows_on": float((active & lazy).sum()),
            "relaxation_seconds": time.perf_counter() - run.began - run.repair_seconds - run.fallback_seconds,
            "repair_seconds": run.repair_seconds,
            "branch_and_bound_seconds": run.fallback_seconds,
            "warm": 1.0 if "warm" in run.notes else 0.0,
            "bound_inherited": 1.0 if "bound inherited" in run.notes else 0.0,
            "bound_reached": 1.0 if "bound reached" in run.notes else 0.0,
            "restricted_plan": 1.0 if "restricted" in run.notes else 0.0,
            "restricted_rows": float(run.restricted_rows),
            "protected_columns": float(run.protected_columns),
            "infeasible_certificates": float(run.certificates),
            "reallocations": float(run.reallocations),
            "row_tolerance": ROW_TOLERANCE,
            "requested_gap": options.mip_rel_gap,
        }
    )
    return replace(
        solution,
        status=status,
        bound=bound,
        gap=_gap(solution.objective, bound) if has and not math.isnan(bound) else float("nan"),
        solve_seconds=time.perf_counter() - run.began - run.handoff,
        handoff_seconds=run.handoff,
        method=LP_FIRST,
        message=solution.message if not run.notes else f"{solution.message} ({', '.join(run.notes)})".strip(),
        info=info,
    )
