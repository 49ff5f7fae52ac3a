"""The unorchestrated baseline: business functions deciding one after another on the coordinated
model, each minimizing only its own cost with what the functions before it have fixed.

Notation: the coordinated model is  min c.x + c0  s.t.  x in X,  where X holds every constraint
family of `allocation.define_model` and, under a protocol set, the authority limits of
`protocols.define_authority`. Its objective splits by cost component (`LinearProgram.cost_terms`):
c = sum_k c_k, c0 = sum_k c0_k over procurement, production, logistics, inventory, service,
revenue, governance and finance. For a set S of components, c_S = sum_{k in S} c_k.

Stage i (a business function with cost components S_i) solves, on the same X with the same
authority limits,

    x^i = argmin { c_{S_i} . x + c0_{S_i} + [i > 1] (c_R . x + c0_R) :  x in X,
                   x_j = x^{i'}_j        for every column j an earlier stage i' fixed,
                   lost >= lost^1        (the promise of sales, stage 1) }

and fixes its own decisions for the stages after it. R is the shortfall charge (`SHORTFALL`):
after sales has promised, a function that gives up more than sales did, or delivers late, is
charged the service penalties and the lost revenue of it, so it breaks a promise only when it
cannot keep it or keeping it would cost it more than the sale is worth. Which stream a scarce
unit serves, how the network is sourced, made and moved: each function decides those alone, blind
to the costs of the others. Governance and finance are in no stage's objective: escalating is free
to the functions, within the same limits and caps.

Each x^i is feasible for stage i + 1 (it meets every bound stage i + 1 adds), so a stage fails
only when the first does (the disrupted network has no plan) or a limit stops it before it finds
one.

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

Solve = Callable[[LinearProgram], Solution]
"""Solves one stage's model (a backend's `solve` with the options bound): models stay solver-free."""


SHORTFALL = (SERVICE, REVENUE)
"""What a function after sales is charged for a promised unit it does not deliver: the service
penalties and the lost revenue (price + lost-sale penalty per unit given up, the backlog penalty
per unit-period late). `(SERVICE,)` charges the penalties alone."""


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
    col_lower: FloatArray = field(init=False)
    col_upper: FloatArray = field(init=False)
    outcomes: list[StageOutcome] = field(default_factory=list)
    solutions: list[Solution] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.col_lower = self.lp.col_lower.copy()
        self.col_upper = self.lp.col_upper.copy()

    @property
    def failed(self) -> bool:
        return any(not s.status.has_solution for s in self.outcomes)

    def _solve(self, function: str, components: Collection[str] | None) -> Solution | None:
        c, offset = (self.lp.c, self.lp.offset) if components is None else component_objective(self.lp, components)
        model = replace(self.lp, c=c, offset=offset, col_lower=self.col_lower.copy(), col_upper=self.col_upper.copy())
        solution = self.solve(model)
        self.solutions.append(solution)
        self.outcomes.append(
            StageOutcome(function, solution.status, solution.objective, solution.solve_seconds, solution.message)
        )
        return solution if solution.status.has_solution and solution.x is not None else None

    def _columns(self, blocks: tuple[str, ...]) -> np.ndarray:
        cols = [self.lp.columns(b).ravel() for b in blocks if b in self.lp.variables]
        return np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)

    def _values(self, x: FloatArray, cols: np.ndarray) -> FloatArray:
        """x on `cols`, integers rounded, clipped into the current bounds: a value the solver left
        a tolerance off its bound must not make the next stage infeasible."""
        v = np.where(self.lp.integrality[cols], np.round(x[cols]), x[cols])
        return np.clip(v, self.col_lower[cols], self.col_upper[cols])

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
        self.col_lower[fixed] = self.col_upper[fixed] = self._values(x, fixed)
        floored = self._columns(stage.floors)
        self.col_lower[floored] = self._values(x, floored)

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


def sequential_stages(lp: LinearProgram, solve: Solve, *, shortfall: tuple[str, ...] = SHORTFALL) -> SequentialResult:
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
    turns = _Turns(lp, solve, shortfall)
    turns.take(SALES_ALLOCATES)
    turns.take(PROCUREMENT_BUYS)
    turns.take(PRODUCTION_SCHEDULES)
    turns.take(LOGISTICS_SHIPS)
    result = turns.settle()
    result.solution.info["wall_seconds"] = time.perf_counter() - began
    return result
