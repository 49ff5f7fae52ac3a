"""The unorchestrated baseline: business functions deciding one after another on the coordinated
model, each minimizing only its own cost with what the functions before it have fixed.

Notation: the coordinated model is  min c.x + c0  s.t.  x in X,  where X holds every constraint
family of `allocation.define_model` and, under a protocol set, the authority limits of
`protocols.define_authority`. Its objective splits by cost component (`LinearProgram.cost_terms`):
c = sum_k c_k, c0 = sum_k c0_k over procurement, production, logistics, inventory, service,
revenue, governance and finance. For a set S of components, c_S = sum_{k in S} c_k.

Stage i (a business function with cost components S_i) solves, on the same X with the same
authority limits,

    x^i = argmin { c_{S_i} . x + c0_{S_i} + [i > 1] (c_R . x + c0_R) + tau (c - c_{T_i}) . x :  x in X,
                   x_j = x^{i'}_j        for every column j an earlier stage i' fixed,
                   lost >= lost^1        (the promise of sales, stage 1) }

(T_i = S_i, plus R after stage 1: the costs the function sees) and fixes its own decisions for
the stages after it. tau (`TIE_BREAK`) breaks ties: among the plans that cost the function the
same, it takes the one that costs the rest of the company least, so the value of orchestration
measured against it comes from what the functions' objectives disagree on, not from which of
its many equal optima a solver happens to return. R is the shortfall charge (`SHORTFALL`):
after sales has promised, a function that gives up more than sales did, or delivers late, is
charged the service penalties and the lost revenue of it, so it breaks a promise only when it
cannot keep it or keeping it would cost it more than the sale is worth. Which stream a scarce
unit serves, how the network is sourced, made and moved: each function decides those alone, blind
to the costs of the others. Governance and finance are in no stage's objective: escalating is free
to the functions, within the same limits and caps.

Each x^i is feasible for stage i + 1 (it meets every bound stage i + 1 adds), so a stage fails
only when the first does (the disrupted network has no plan) or a limit stops it before it finds
one; and each later stage starts from x^i, so a limit that stops it keeps x^i as its plan (when
the solver accepts the start, which meets the rows to its tolerance).

After the last stage the plan is settled: every decision fixed, the full objective c.x + c0 is
minimized over what is left, which is bookkeeping (stock, backlog, safety shortfalls, escalation
flags, released capital): an escalation is charged its governance cost only if some spend exceeds
its limit. The settled plan is a feasible point of the coordinated model, so its objective is
never below the coordinated optimum; the difference is the value of orchestration.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

import numpy as np

from models.allocation import INVENTORY, LOGISTICS, PROCUREMENT, PRODUCTION, REVENUE, SERVICE
from models.builder import FloatArray, LinearProgram
from models.solution import Solution, SolveStatus

Solve = Callable[[LinearProgram, "FloatArray | None"], Solution]
"""Solves one stage's model (a backend's `solve` with the options bound: models stay solver-free)
from a start: the stage before's plan, None for the first stage."""


SHORTFALL = (SERVICE, REVENUE)
"""What a function after sales is charged for a promised unit it does not deliver: the service
penalties and the lost revenue (price + lost-sale penalty per unit given up, the backlog penalty
per unit-period late). `(SERVICE,)` charges the penalties alone."""


FIX_TOLERANCE = 1e-5
"""A stage binds the later ones to its decisions exactly; when that leaves a later stage without a
plan, which only the solver's tolerance can do (each stage's plan is a plan of the next one's
model), the stage is solved again with every continuous decision bound to within this, relative
to 1 + |value| (integers stay whole). A MILP's plan meets its rows to 1e-6, and the noise runs
along chains of rows: at M (the short supplier outage, seed 0) a backup offer's activation,
rounded to 0, left 1e-6 of purchases upstream of a shipment of 2.4e-6, and the settlement had no
plan held to the exact values, or to within 1e-6 (1.4e-6 short)."""

TIE_BREAK = 1e-3
"""tau: the weight of the rest of the company's costs in a stage's objective, a tie-break. A
function's own objective leaves most decisions free (freight costs procurement nothing), so it has
many optima, and without tau the solver's arbitrary pick among them was what the value of
orchestration measured. Suite scenarios, seed 0, one run each (HiGHS 1.16.0): at S the nine
sequential plans came out 8-28k cheaper with tau (the CI suite's orchestration values went from
20.7-57.0k to 12.7-29.8k), the same within 0.5k at 1e-4 and 1e-3; at M the short supplier
outage's came out -76,987,290 at 1e-3 and 1e-4 and -76,987,343 at 1e-5, against -75,647,282
without (the orchestrated plan: -76,994,913), so these are ties, not trades. It also conditions
the stages' LPs: the L surge's sales relaxation took 48.7 s with tau against 290.4 s without,
M's procurement relaxation 2.3 s against 9.9 s."""


@dataclass(frozen=True)
class Stage:
    """One function's turn: the cost components it minimizes (plus the shortfall charge, after
    sales), the decisions it then fixes for the stages after it, and the decisions whose value
    becomes a lower bound for them."""

    function: str
    costs: tuple[str, ...]
    fixes: tuple[str, ...] = ()
    floors: tuple[str, ...] = ()
    charged_for_shortfall: bool = True


SALES_ALLOCATES = Stage("sales", (SERVICE, REVENUE), floors=("lost",), charged_for_shortfall=False)
"""Stage 1. Sales promises what it can sell: min  backlog and lost-sale penalties - revenue  over X,
every other cost invisible to it. What it gives up in each stream and period becomes a floor,
lost[s,t] >= lost^1[s,t]: what it promised to serve is the most the others may serve; they may
still give up more, at the shortfall charge, when they cannot (or will not) deliver."""

PROCUREMENT_BUYS = Stage("procurement", (PROCUREMENT,), fixes=("buy", "activate", "order"))
"""Stage 2. Procurement buys: min  purchase and activation cost + shortfall charge; production and
freight are free to it. Fixes buy[o,t], activate[b] and order[m,t]."""

PRODUCTION_SCHEDULES = Stage("production", (PRODUCTION,), fixes=("make", "setup", "overtime"))
"""Stage 3. Production schedules what was bought: min  making, setup and overtime cost + shortfall
charge. Fixes make[r,t], setup[r,t] and overtime[n,t]."""

LOGISTICS_SHIPS = Stage("logistics", (LOGISTICS, INVENTORY), fixes=("ship", "trucks", "assign"))
"""Stage 4. Logistics ships and holds what was made and bought: min  freight, truck, holding and
safety-stock cost + shortfall charge. Fixes ship[a,t], trucks[l,t] and assign[a]."""


def component_objective(lp: LinearProgram, components: Collection[str]) -> tuple[FloatArray, float]:
    """The objective restricted to some cost components: c_S and c0_S summed over the model's cost
    terms whose component is in S. With every component it is (lp.c, lp.offset)."""
    c = np.zeros(lp.n_cols)
    offset = 0.0
    for term in lp.cost_terms:
        if term.component in components:
            c += np.bincount(term.columns, weights=term.coefficients, minlength=lp.n_cols)
            offset += term.constant
    return c, offset


@dataclass(frozen=True)
class StageOutcome:
    """How one stage (or the settlement) ended."""

    function: str
    """"sales", "procurement", "production", "logistics", or "settlement"."""
    status: SolveStatus
    objective: float
    """The stage's own objective c_S . x + c0_S at its solution (NaN without one)."""
    solve_seconds: float
    message: str = ""


@dataclass(frozen=True, eq=False)
class SequentialResult:
    """The settled plan of the function-by-function response, and how each stage ended.

    `solution` is a solution of the coordinated model `lp` (its objective the full c.x + c0), ready
    for `extract_plan`. Its status is OPTIMAL when every stage was solved to optimality, FEASIBLE
    when a limit stopped some stage after it found a plan, and the failing stage's status (with no
    x) when a stage found none.
    """

    solution: Solution
    stages: tuple[StageOutcome, ...]

    @property
    def failed_stage(self) -> str | None:
        """The function whose stage found no plan, if any."""
        return next((s.function for s in self.stages if not s.status.has_solution), None)


@dataclass
class _Turns:
    """The model as the stages so far leave it: bounds tightened by each stage's decisions."""

    lp: LinearProgram
    solve: Solve
    shortfall: tuple[str, ...]
    tie_break: float = 0.0
    col_lower: FloatArray = field(init=False)
    col_upper: FloatArray = field(init=False)
    band_lower: FloatArray = field(init=False)
    band_upper: FloatArray = field(init=False)
    outcomes: list[StageOutcome] = field(default_factory=list)
    solutions: list[Solution] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.col_lower = self.lp.col_lower.copy()
        self.col_upper = self.lp.col_upper.copy()
        self.band_lower = self.lp.col_lower.copy()
        self.band_upper = self.lp.col_upper.copy()

    @property
    def failed(self) -> bool:
        return any(not s.status.has_solution for s in self.outcomes)

    def _solve(self, function: str, components: Collection[str] | None) -> Solution | None:
        if components is None:
            own, offset = self.lp.c, self.lp.offset
            c = own
        else:
            own, offset = component_objective(self.lp, components)
            c = own + self.tie_break * (self.lp.c - own)
        model = replace(self.lp, c=c, offset=offset, col_lower=self.col_lower.copy(), col_upper=self.col_upper.copy())
        solution = self.solve(model, self._start(model))
        seconds = solution.solve_seconds
        if solution.status == SolveStatus.INFEASIBLE and self.solutions:
            # Only the solver's tolerance can leave a later stage without a plan (FIX_TOLERANCE).
            self.solutions.append(solution)
            model = replace(model, col_lower=self.band_lower.copy(), col_upper=self.band_upper.copy())
            solution = self.solve(model, self._start(model))
            seconds += solution.solve_seconds
            solution = replace(solution, message=f"decisions bound within {FIX_TOLERANCE:g}; {solution.message}")
        self.solutions.append(solution)
        objective = float(own @ solution.x) + offset if solution.x is not None else float("nan")
        self.outcomes.append(StageOutcome(function, solution.status, objective, seconds, solution.message))
        return solution if solution.status.has_solution and solution.x is not None else None

    def _start(self, model: LinearProgram) -> FloatArray | None:
        """The plan of the last stage that had one, integers whole, clipped into `model`'s bounds:
        a plan of that model up to the solver's tolerance, so a stage that a limit stops before it
        finds a better one still has a plan."""
        x = next((s.x for s in reversed(self.solutions) if s.x is not None), None)
        if x is None:
            return None
        return np.clip(np.where(self.lp.integrality, np.round(x), x), model.col_lower, model.col_upper)

    def _columns(self, blocks: tuple[str, ...]) -> np.ndarray:
        cols = [self.lp.columns(b).ravel() for b in blocks if b in self.lp.variables]
        return np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)

    def _values(self, x: FloatArray, cols: np.ndarray) -> FloatArray:
        """x on `cols`, integers rounded, clipped into the current bounds: a value the solver left
        a tolerance off its bound must not make the next stage infeasible."""
        v = np.where(self.lp.integrality[cols], np.round(x[cols]), x[cols])
        return np.clip(v, self.col_lower[cols], self.col_upper[cols])

    def _band(self, x: FloatArray, cols: np.ndarray) -> FloatArray:
        """How far a later stage may move a continuous decision it inherits (`FIX_TOLERANCE`);
        integers stay whole."""
        return np.where(self.lp.integrality[cols], 0.0, FIX_TOLERANCE * (1.0 + np.abs(x[cols])))

    def take(self, stage: Stage) -> None:
        """The function decides; its fixes and floors bind every later stage."""
        if self.failed:
            return
        objective = stage.costs + (self.shortfall if stage.charged_for_shortfall else ())
        solution = self._solve(stage.function, objective)
        if solution is None or solution.x is None:
            return
        x = solution.x
        fixed = self._columns(stage.fixes)
        values, band = self._values(x, fixed), self._band(x, fixed)
        self.col_lower[fixed] = self.col_upper[fixed] = values
        self.band_lower[fixed] = np.maximum(self.lp.col_lower[fixed], values - band)
        self.band_upper[fixed] = np.minimum(self.lp.col_upper[fixed], values + band)
        floored = self._columns(stage.floors)
        values = self._values(x, floored)
        self.col_lower[floored] = values
        self.band_lower[floored] = np.maximum(self.lp.col_lower[floored], values - self._band(x, floored))

    def settle(self) -> SequentialResult:
        """Price the decisions of every stage with the full objective (see the module docstring)."""
        if not self.failed:
            self._solve("settlement", None)
        seconds = sum(s.solve_seconds for s in self.solutions)
        handoff = sum(s.handoff_seconds for s in self.solutions)
        last = self.solutions[-1]
        info = {f"{o.function}_seconds": o.solve_seconds for o in self.outcomes}
        stages = tuple(self.outcomes)
        if self.failed:
            failed = next(o for o in stages if not o.status.has_solution)
            solution = replace(
                last,
                x=None,
                objective=float("nan"),
                bound=float("nan"),
                gap=float("nan"),
                solve_seconds=seconds,
                handoff_seconds=handoff,
                message=f"the {failed.function} stage found no plan: {failed.message}",
                info=info,
            )
            return SequentialResult(solution, stages)
        assert last.x is not None
        optimal = all(o.status == SolveStatus.OPTIMAL for o in stages)
        solution = replace(
            last,
            status=SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE,
            objective=self.lp.objective(last.x),
            solve_seconds=seconds,
            handoff_seconds=handoff,
            message="function by function: " + ", ".join(f"{o.function} {o.status.value}" for o in stages),
            info=info,
        )
        return SequentialResult(solution, stages)


def sequential_stages(
    lp: LinearProgram, solve: Solve, *, shortfall: tuple[str, ...] = SHORTFALL, tie_break: float = TIE_BREAK
) -> SequentialResult:
    """The unorchestrated response on the coordinated model `lp` of the disrupted network (signals
    applied, the same protocols): sales, procurement, production and logistics decide in turn,
    each minimizing its own cost with what the previous ones fixed; then the plan is settled with
    the full objective. The maths is in the module docstring and each stage's; `shortfall` names
    the cost components a function after sales is charged for a promise it breaks.

    The settled plan is feasible for `lp`, so its objective is never below `lp`'s optimum (within
    the MIP gap of that optimum's solve). A stage that finds no plan ends the sequence: its status
    comes back, never an exception.
    """
    began = time.perf_counter()
    turns = _Turns(lp, solve, shortfall, tie_break=tie_break)
    turns.take(SALES_ALLOCATES)
    turns.take(PROCUREMENT_BUYS)
    turns.take(PRODUCTION_SCHEDULES)
    turns.take(LOGISTICS_SHIPS)
    result = turns.settle()
    result.solution.info["wall_seconds"] = time.perf_counter() - began
    return result
