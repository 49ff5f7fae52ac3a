"""The three responses the disruption benchmark compares on one scenario: Concerto's orchestrated
replan, the function-by-function sequential response, and doing nothing (the baseline executed).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from models.network import Network, NetworkSpec
from models.plan import Plan, extract_plan
from models.protocols import ProtocolSet, resolve_authority
from models.replanning import (
    FENCE,
    STABILITY,
    FenceCut,
    ReplanOptions,
    baseline_decisions,
    build_replan_model,
    fence_cuts,
)
from models.sequential import (
    SHORTFALL,
    TIE_BREAK,
    SequentialResult,
    StageOutcome,
    component_objective,
    sequential_stages,
)
from models.signals import Signal, apply_signals
from models.solution import Solution
from solver.backends.base import SolverBackend
from solver.backends.registry import default_backend
from solver.options import SolveOptions
from solver.planner import ReplanResult, business_objective, compile_model, replan, solve_model

REPLAN_CHARGES = (STABILITY, FENCE)
"""Cost components only a replan model charges; a response's plan is reported without them."""


def business_plan(plan: Plan) -> Plan:
    """The plan with its objective the business objective (cost - revenue, governance and finance
    included) and its cost by component without the stability and fence charges, so plans of
    different responses compare and `check_plan` recomputes their objective. The bound moves by
    the same charges; the gap stays that of the response's own model."""
    if not plan.has_solution:
        return plan
    business = business_objective(plan)
    charges = plan.objective - business
    costs = {k: v for k, v in plan.cost_by_component.items() if k not in REPLAN_CHARGES}
    kpis = replace(plan.kpis, cost_by_component=dict(costs)) if plan.kpis is not None else None
    return replace(plan, objective=business, bound=plan.bound - charges, cost_by_component=costs, kpis=kpis)


def sequential_plan(
    spec: NetworkSpec,
    options: SolveOptions | None = None,
    *,
    protocols: ProtocolSet | None = None,
    signals: Sequence[Signal] = (),
    backend: SolverBackend | None = None,
    shortfall: tuple[str, ...] = SHORTFALL,
    tie_break: float = TIE_BREAK,
) -> tuple[Plan, SequentialResult]:
    """The function-by-function response (`models.sequential.sequential_stages`) on the network as
    the signals leave it, under the same protocols: the settled plan, with its full cost by
    component and metrics, and how each stage ended. `options` apply to every stage's solve, each
    by the method they resolve to (`solve_model`: LP-first at L), each from the plan of the stage
    before as its start (a plan it keeps if a limit stops it) but with a cold LP: a stage re-solved
    in place from the one before (new costs, the earlier stages' decisions fixed) took longer than
    from nothing (at M, LP-first at 2%: 147 s for the five solves against 51 s cold);
    `shortfall` is what a function after sales is charged for a promise it breaks, `tie_break` the
    weight of the other functions' costs in each stage's objective (`models.sequential.TIE_BREAK`)."""
    model = compile_model(spec, protocols, signals)
    backend = backend or default_backend()
    options = options or SolveOptions()
    result = sequential_stages(
        model.lp,
        lambda lp, start: solve_model(lp, options, backend, start=start),
        shortfall=shortfall,
        tie_break=tie_break,
    )
    plan = extract_plan(
        model.net,
        model.lp,
        result.solution,
        build_seconds=model.build_seconds,
        protocols=protocols,
        groups=model.groups,
    )
    return plan, result


def do_nothing_plan(
    spec: NetworkSpec,
    baseline: Plan,
    options: SolveOptions | None = None,
    *,
    protocols: ProtocolSet | None = None,
    signals: Sequence[Signal] = (),
    backend: SolverBackend | None = None,
    warm_key: str | None = None,
) -> tuple[Plan, tuple[FenceCut, ...]]:
    """The baseline executed as far as the disrupted network allows: the replan model with a fence
    over the whole horizon and no stability weight,

        x[k,t] <= x0[k,t] for every buy, make and ship decision, every unit cut charged P,

    so nothing grows, nothing moves elsewhere, and a decision is cut only where a signal forces
    it (P, the larger of 10^4 and 100 times the model's largest cost coefficient, dwarfs what a
    cut could save). Stock, backlog and lost sales follow; the fill-rate targets and the
    working-capital cap are reported on, not enforced. The plan is reported with its
    business objective (`business_plan`), with the forced cuts and their reasons.

    A baseline without a plan (one that hit its time limit, say) leaves nothing to execute: doing
    nothing then has no plan either, and comes back with the baseline's status and a message that
    says why, not as an empty plan that would read as an optimum. The model is solved by the
    method `options` resolve to (`solve_model`), warm from the state kept under `warm_key`."""
    options = options or SolveOptions()
    backend = backend or default_backend()
    began = time.perf_counter()
    before = Network.from_spec(spec)
    # Fill-rate targets and the working-capital cap are what a plan aims for; a fixed plan executed
    # through a disruption simply misses them, so they are reported on, not enforced.
    after = replace(
        apply_signals(before, signals),
        target_fill_rate=np.zeros(len(before.target_priority)),
        working_capital_cap=float("inf"),
    )
    groups = resolve_authority(protocols, after, signals) if protocols is not None else []
    decisions = baseline_decisions(before, baseline)
    replan_options = ReplanOptions(stability_weight=0.0, fence_periods=after.horizon)
    lp = build_replan_model(after, decisions, replan_options, protocols=protocols, groups=groups)
    business, _ = component_objective(lp, {t.component for t in lp.cost_terms} - {FENCE})
    largest = float(np.abs(business).max()) if lp.n_cols else 0.0
    if 100 * largest > replan_options.fence_penalty:
        replan_options = replace(replan_options, fence_penalty=100 * largest)
        lp = build_replan_model(after, decisions, replan_options, protocols=protocols, groups=groups)
    built = time.perf_counter() - began
    if baseline.has_solution:
        solution = solve_model(lp, options, backend, warm_key=warm_key)
    else:
        reason = f"the baseline has no plan to execute ({baseline.status.value})"
        solution = Solution(baseline.status, None, backend=backend.name, message=reason)
    plan = extract_plan(after, lp, solution, build_seconds=built, protocols=protocols, groups=groups)
    cuts = (
        fence_cuts(before, after, lp, solution.x, decisions, replan_options, signals) if solution.x is not None else []
    )
    return business_plan(plan), tuple(cuts)


@dataclass(frozen=True, eq=False)
class Responses:
    """Three responses to one scenario, each a plan of the disrupted network with its business
    objective (cost - revenue), cost by component and metrics."""

    orchestrated: Plan
    """Concerto's replan with stability weight 0 (the coordinated optimum), final answer."""
    sequential: Plan
    """Functions deciding one after another (`models.sequential`)."""
    do_nothing: Plan
    """The baseline executed as far as the disrupted network allows."""
    timings: dict[str, float]
    """Wall seconds of each response, from its call to its plan."""
    replan: ReplanResult
    """The orchestrated final answer as the planner gave it."""
    stages: tuple[StageOutcome, ...]
    """How each stage of the sequential response ended."""
    cuts: tuple[FenceCut, ...]
    """The baseline decisions the signals forced down when doing nothing."""
    first: ReplanResult | None = None
    """The orchestrated replan's first answer (from the signals' reach), when it gave one before
    the final answer."""


def respond(
    spec: NetworkSpec,
    baseline: Plan,
    signals: Sequence[Signal],
    protocols: ProtocolSet | None = None,
    options: SolveOptions | None = None,
    *,
    backend: SolverBackend | None = None,
    on_response: Callable[[str], None] | None = None,
    warm_key: str | None = None,
) -> Responses:
    """Answer one scenario (a network, its baseline plan, the signals) three ways under the same
    protocols and solve options. Invalid input raises `ValidationError`; a response without a plan
    comes back with its status. `on_response` is called with each response's name as it starts
    ("orchestrated", "sequential", "do_nothing"), so a backend that watches its solves can tell
    them apart. Every response's solves run by the method `options` resolve to, and `warm_key`
    names the network's warm LP-first state (`solver.planner.solve_model`): the baseline's, when
    it was planned under the same key, so that the orchestrated replan starts from it as a worker
    of the service would; doing nothing starts from the state the replan leaves, and the
    sequential stages start cold (`sequential_plan`)."""
    options = options or SolveOptions()
    backend = backend or default_backend()
    timings: dict[str, float] = {}
    starting = on_response or (lambda name: None)

    starting("orchestrated")
    began = time.perf_counter()
    cold = ReplanOptions(stability_weight=0.0)
    answers = list(
        replan(spec, baseline, signals, options, cold, protocols=protocols, backend=backend, warm_key=warm_key)
    )
    orchestrated = answers[-1]
    timings["orchestrated"] = time.perf_counter() - began

    starting("sequential")
    began = time.perf_counter()
    sequential, result = sequential_plan(spec, options, protocols=protocols, signals=signals, backend=backend)
    timings["sequential"] = time.perf_counter() - began

    starting("do_nothing")
    began = time.perf_counter()
    do_nothing, cuts = do_nothing_plan(
        spec, baseline, options, protocols=protocols, signals=signals, backend=backend, warm_key=warm_key
    )
    timings["do_nothing"] = time.perf_counter() - began

    return Responses(
        orchestrated=business_plan(orchestrated.plan),
        sequential=sequential,
        do_nothing=do_nothing,
        timings=timings,
        replan=orchestrated,
        stages=result.stages,
        cuts=cuts,
        first=answers[0] if len(answers) > 1 else None,
    )


def value_of_orchestration(responses: Responses) -> dict[str, float]:
    """What orchestrating saves against each alternative: the objective (cost - revenue) of each
    response, the cost gap (alternative - orchestrated, >= 0 within the MIP gap) and the fill-rate
    gap (orchestrated - alternative, in fractions of demand) to the sequential response and to
    doing nothing. NaN where a response has no plan."""
    plans = {
        "orchestrated": responses.orchestrated,
        "sequential": responses.sequential,
        "do_nothing": responses.do_nothing,
    }
    objective = {k: p.objective if p.has_solution else math.nan for k, p in plans.items()}
    fill = {k: p.kpis.fill_rate if p.kpis is not None else math.nan for k, p in plans.items()}
    out: dict[str, float] = {}
    for name in plans:
        out[f"{name}_objective"] = objective[name]
        out[f"{name}_fill_rate"] = fill[name]
    for other in ("sequential", "do_nothing"):
        out[f"cost_gap_to_{other}"] = objective[other] - objective["orchestrated"]
        out[f"fill_rate_gap_to_{other}"] = fill["orchestrated"] - fill[other]
    return out
