"""The use cases behind the CLI and the service: validate a network, build its model, solve it
with a backend, and read the plan off the solution.

`SolveOptions.time_limit` is the budget of the whole call, not only of the solver: building the
model (and, for a replan, the signals' reach and the first answer) is paid out of it, and each
solve gets what is left (`budget_left`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from models.allocation import build_model
from models.builder import LinearProgram
from models.network import Network, NetworkSpec
from models.plan import Plan, extract_plan, without_idle_setups
from models.protocols import AuthorityGroup, ProtocolSet, resolve_authority
from models.reduction import Reduction, fixed_share, with_deviations_substituted, without_fixed_columns
from models.replanning import (
    FENCE,
    STABILITY,
    FenceCut,
    ReplanOptions,
    baseline_decisions,
    baseline_state,
    build_replan_model,
    deviation_links,
    fence_cuts,
    signal_reach,
)
from models.signals import Signal, apply_signals
from models.solution import Solution, SolveStatus
from solver.backends.base import BackendFeature, SolverBackend
from solver.backends.registry import default_backend
from solver.lp_first import WARM_STATES, chosen_method, solve_lp_first
from solver.options import AUTO, MILP, SolveOptions

REDUCE_FIXED_SHARE = 0.25
"""A MILP with at least this share of its columns fixed is solved without them
(`models.reduction`). At stability weight 0 a first answer's model at L has 42-47% of its columns
fixed (the regional surge's, the widest reach, 42%; the supplier outage's 47%), a full model 8% at
L and 4% at M (a closed lane's flows, an offer past its window). The cut costs 0.04-0.5 s at L and
saved 2.0 s of the outage's 3.9 s first answer, 1.4 s of the surge's 24.2 s. At the default
stability weight a first answer's decisions are substituted first (`SUBSTITUTE_FIXED_DECISIONS`),
which fixes the deviations of every decision outside the reach at 0: the cut then takes them out
too."""

SUBSTITUTE_FIXED_DECISIONS = 0.5
"""A MILP of a replan at a positive stability weight with at least this share of its executed
decisions fixed (a first answer: every decision outside the signals' reach keeps its baseline
value) is solved with its decisions written as their baseline plus deviations
(`models.reduction.with_deviations_substituted`), before its fixed columns go. First answers at
M and L fix 68-99% of their decisions (the regional surge's the fewest), full replans 6-15% (closed
lanes, offers past their window). Measured at the default weight under the suite's protocols (HiGHS
1.16.0, 1 thread, one process per solve, medians of 3 at M, one run at L): the regional surge's
first answer through `solve_model` took 9.32 s as built (its fixed columns cut) against 7.44 s
substituted at M, 93.9 s against 61.9 s at L; HiGHS alone, on the models as built and substituted,
took 8.27 and 5.50 s for the surge in a maintenance shutdown and 0.18 and 0.10 s for a quality
hold (M); but 59.3 s against 65.1 s for M's full replan of the regional surge (1% gap), so full
models go as built. The replan benchmark's first answers at weight 1 (`--first-only
--stability-weight 1`, 2 threads) came 1.0-2.0x sooner at M and 2.2-3.2x at L, where the
deviations outside the reach, now fixed, brought the fixed share past `REDUCE_FIXED_SHARE`."""

KEEP_STATE_CELLS = 100_000
"""A first answer keeps the baseline's stock, shortfall, backlog and lost sales of the positions
and streams outside its reach (`models.replanning.reach.define_outside_reach_fixed`) when at least
this many (entity, period) cells of that state lie outside it. Keeping them is a restriction: the
first answer can no longer take stock or service from a position or customer beyond the reach's
edge (a reached DC's other customers, say). Where the network is large that is what makes a wide
reach fast, and cheap: the suite's regional surge at L, 410,046 cells outside its reach, took
4.1 s against 18.7 s at weight 0 and 14.1 s against 57.1 s at weight 1, for a plan 0.04% and
0.02% dearer (the supplier outage, 491,010 cells: 0.85 s against 1.94 s, the same plan within
0.001%). At M, whose generated network has 48,659 such cells in all, it saved 1.4-3.5 s of
2.8-6.9 s on the surges for plans 0.18-0.20% dearer, and on a small network a first answer kept
from rationing a sibling customer came 3.8% dearer: below this count the state stays free (HiGHS
1.16.0, 1 thread, `solver.planner.replan`, the same machine; M medians of 3, L one run)."""

MIN_SOLVE_SECONDS = 0.01
"""The time limit a solve gets when its call's budget is spent (`SolveOptions` refuses 0): the
backend stops at its first check and reports TIME_LIMIT."""


class CompiledNetworks:
    """`Network.from_spec`, remembered for the last `capacity` specs. A network is immutable (its
    arrays are read-only), and a worker plans and replans the same network version again and again:
    at M compiling the spec takes about 70 ms, hashing it 2 ms and comparing it with the one kept
    5 ms. A spec that cannot be hashed, or that differs in any field, is compiled afresh. Thread-safe."""

    def __init__(self, capacity: int = 2) -> None:
        self.capacity = capacity
        self._networks: OrderedDict[NetworkSpec, Network] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, spec: NetworkSpec) -> Network:
        try:
            hash(spec)
        except TypeError:
            return Network.from_spec(spec)
        with self._lock:
            found = self._networks.get(spec)
            if found is not None:
                self._networks.move_to_end(spec)
                return found
        net = Network.from_spec(spec)  # outside the lock; validation errors propagate and nothing is kept
        with self._lock:
            self._networks[spec] = net
            while len(self._networks) > self.capacity:
                self._networks.popitem(last=False)
        return net

    def __len__(self) -> int:
        return len(self._networks)


COMPILED_NETWORKS = CompiledNetworks()
"""The process's compiled networks (a worker keeps the ones it last planned)."""


def budget_left(options: SolveOptions, began: float) -> SolveOptions:
    """`options` with the time limit cut to what is left of it since `began` (a `perf_counter`
    reading), at least `MIN_SOLVE_SECONDS`; unchanged without a limit."""
    if math.isinf(options.time_limit):
        return options
    left = options.time_limit - (time.perf_counter() - began)
    return replace(options, time_limit=max(left, MIN_SOLVE_SECONDS))


def budget_spent(options: SolveOptions, began: float) -> bool:
    """Whether the time limit of `options`, counted from `began`, has passed."""
    return time.perf_counter() - began >= options.time_limit


def solve_model(
    lp: LinearProgram,
    options: SolveOptions,
    backend: SolverBackend,
    *,
    start: np.ndarray | None = None,
    warm_key: str | None = None,
) -> Solution:
    """Solve `lp` by the method `options.method` resolves to (`solver.lp_first.chosen_method`):
    the backend's MILP (from the MIP start `start`, if given), or LP-first (with `start` as its
    incumbent), warm from the state the last LP-first solve under `warm_key` left in this process
    (and leaving its own there).

    A MILP with at least `REDUCE_FIXED_SHARE` of its columns fixed (a replan's first answer) goes to
    the backend without them, and a first answer at a positive stability weight with its decisions
    written as their baseline plus deviations before that (`SUBSTITUTE_FIXED_DECISIONS`; the fixed
    share is then that of the substituted model, whose deviations outside the reach are fixed); the
    solution comes back in `lp`'s columns (`models.reduction`)."""
    if chosen_method(lp, options, backend) == MILP:
        began = time.perf_counter()
        reductions = _reductions(lp)
        if not reductions:
            return backend.solve(lp, options, start=start)
        for reduction in reductions:
            start = reduction.restrict(start)
        cut = time.perf_counter() - began
        solution = backend.solve(reductions[-1].lp, options, start=start)
        for reduction in reversed(reductions):
            solution = reduction.expanded(solution)
        return replace(solution, handoff_seconds=solution.handoff_seconds + cut)
    state = WARM_STATES.take(warm_key)
    solution, state = solve_lp_first(
        lp, options, backend=backend, state=state, progress=backend.method_progress(), start=start
    )
    WARM_STATES.put(warm_key, state)
    return solution


def _reductions(lp: LinearProgram) -> list[Reduction]:
    """What a MILP solve takes out of `lp` before the backend sees it, in order: a first answer's
    decisions written as their baseline plus deviations (`SUBSTITUTE_FIXED_DECISIONS`), then the
    fixed columns (`REDUCE_FIXED_SHARE`)."""
    reductions: list[Reduction] = []
    links = deviation_links(lp)
    if links and fixed_share(lp, [link.decision for link in links]) >= SUBSTITUTE_FIXED_DECISIONS:
        substituted = with_deviations_substituted(lp, links)
        if substituted is not None:
            reductions.append(substituted)
            lp = substituted.lp
    if fixed_share(lp) >= REDUCE_FIXED_SHARE:
        reductions.append(without_fixed_columns(lp))
    return reductions


def compile_model(
    spec: NetworkSpec, protocols: ProtocolSet | None = None, signals: Sequence[Signal] = ()
) -> CompiledModel:
    """Validate the network, apply the signals, resolve the active authority and build the model."""
    start = time.perf_counter()
    net = COMPILED_NETWORKS.get(spec)
    net = apply_signals(net, signals) if signals else net
    groups = resolve_authority(protocols, net, signals) if protocols is not None else []
    lp = build_model(net, protocols, groups)
    return CompiledModel(net, lp, protocols, tuple(groups), time.perf_counter() - start)


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """A network as the signals leave it, its active authority groups and its model."""

    net: Network
    lp: LinearProgram
    protocols: ProtocolSet | None
    groups: tuple[AuthorityGroup, ...]
    build_seconds: float


def plan_network(
    spec: NetworkSpec,
    options: SolveOptions | None = None,
    *,
    protocols: ProtocolSet | None = None,
    signals: Sequence[Signal] = (),
    backend: SolverBackend | None = None,
    warm_key: str | None = None,
) -> Plan:
    """Plan a whole network in one coordinated MILP, under its decision protocols and the signals
    detected. Invalid input raises `ValidationError` before anything is solved; infeasible and
    time-limited solves come back as plans with that status. The time limit covers building the
    model: the solver gets what is left of it. `warm_key` names the network for LP-first's warm
    state (`solve_model`)."""
    began = time.perf_counter()
    model = compile_model(spec, protocols, signals)
    solution = solve_model(
        model.lp, budget_left(options or SolveOptions(), began), backend or default_backend(), warm_key=warm_key
    )
    return extract_plan(
        model.net,
        model.lp,
        solution,
        build_seconds=model.build_seconds,
        protocols=protocols,
        groups=model.groups,
    )


@dataclass(frozen=True, eq=False)
class ReplanResult:
    """One answer of a replan: the first coordinated plan from the signals' reach, or the final one."""

    kind: str
    """"first" (decisions outside the signals' reach kept at the baseline), then "optimal" (the full
    replan proven within the gap) or "improved" (the full replan stopped by its time limit)."""
    plan: Plan
    business_objective: float
    """The plan's cost minus revenue, without the stability and fence penalties."""
    reach_share: float
    """Share of executed decisions the first answer could change (1.0 for the full replan)."""
    ready_seconds: float
    """Wall time from the start of the replan to this answer."""
    execute_after_hours: float
    """Hours from the earliest signal's detection until every decision of the plan may be executed:
    the latest escalation's effective time (0 when nothing needs approval)."""
    mip_start_accepted: bool | None
    """Whether the solver accepted the warm start (the first answer) as feasible; None without a
    start."""
    cuts: tuple[FenceCut, ...]
    """Fenced decisions a signal forced below their baseline value, and why."""
    state_kept: bool | None = None
    """A first answer: whether the positions and streams outside its reach kept the baseline's
    stock, shortfall, backlog and lost sales (False where that left no plan and the state was
    freed); None for the full replan."""


def business_objective(plan: Plan) -> float:
    """Cost minus revenue, leaving out what only the replan charges (stability and fence)."""
    extra = sum(plan.cost_by_component.get(k, 0.0) for k in (STABILITY, FENCE))
    return plan.objective - extra


def replan(
    spec: NetworkSpec,
    baseline: Plan,
    signals: Sequence[Signal],
    options: SolveOptions | None = None,
    replan_options: ReplanOptions | None = None,
    *,
    protocols: ProtocolSet | None = None,
    first_answer: bool = True,
    backend: SolverBackend | None = None,
    warm_key: str | None = None,
) -> Iterator[ReplanResult]:
    """Answer `signals` against a baseline plan: first a fast coordinated plan in which only the
    decisions within the signals' reach may move, then the full replan warm-started from it.

    Speed comes from the model: the first answer's model has every decision outside the reach
    fixed, and on a large network (`KEEP_STATE_CELLS`) the stock, shortfall, backlog and lost sales
    of every position and stream outside it (`models.replanning.reach.define_outside_reach_fixed`),
    as `ReplanResult.state_kept` says; `solve_model` takes those columns out before the solver
    sees them (it is always solved as a MILP under method "auto"). The full replan is solved by
    the method `options.method` resolves to (`solve_model`). LP-first (M and L under "auto")
    re-solves the network's live model warm (`warm_key`) and takes the first answer as its
    incumbent, which a bound kept from a model this one restricts, or the relaxation
    stopped as soon as its bound suffices, often certifies with no further solve (`solver.lp_first`,
    "Inherited bounds" and "Early bounds"); a MILP re-solve gains nothing from a warm basis, but the
    first answer is a feasible MIP start for it. A backend that does not declare MIP_START gets no
    start: it re-solves the full model cold, to the same optimum.

    `options.time_limit` is the budget of the whole replan: every solve gets what is left of it
    after the work before it (the reach, the models, the first answer). Once it is spent no wider
    first answer is tried, and a first answer in hand is the final answer without a full solve.
    """
    began = time.perf_counter()
    options = options or SolveOptions()
    replan_options = replan_options or ReplanOptions()
    backend = backend or default_backend()
    before = COMPILED_NETWORKS.get(spec)
    after = apply_signals(before, signals)
    groups = resolve_authority(protocols, after, signals) if protocols is not None else []
    decisions = baseline_decisions(before, baseline)
    detected = min((s.detected_hours for s in signals), default=0.0)

    def answer(
        kind: str, lp: LinearProgram, solution: Solution, share: float, built: float, kept: bool | None = None
    ) -> ReplanResult:
        plan = extract_plan(after, lp, solution, build_seconds=built, protocols=protocols, groups=groups)
        accepted = solution.info.get("mip_start_accepted")
        cuts = (
            fence_cuts(before, after, lp, solution.x, decisions, replan_options, signals)
            if solution.x is not None
            else []
        )
        waits = [d.effective_hours - detected for d in plan.needs_approval]
        return ReplanResult(
            kind=kind,
            plan=plan,
            business_objective=business_objective(plan) if plan.has_solution else float("nan"),
            reach_share=share,
            ready_seconds=time.perf_counter() - began,
            execute_after_hours=max([0.0, *waits]),
            mip_start_accepted=None if accepted is None else bool(accepted),
            cuts=tuple(cuts),
            state_kept=kept,
        )

    start = None
    first: ReplanResult | None = None
    first_options = options
    if BackendFeature.MIP_GAP in backend.features:
        first_options = replace(options, mip_rel_gap=max(options.mip_rel_gap, replan_options.first_answer_gap))
    if options.method == AUTO:
        # The first answer's model has every column outside the reach fixed, which HiGHS's presolve
        # removes: the MILP of what is left takes 0.3-1 s at M, where LP-first's warm rounds would
        # run on the whole unpresolved model.
        first_options = replace(first_options, method=MILP)
    if first_answer and signals:
        # On a large network the first answer first keeps the baseline's state outside the reach as
        # well as its decisions (`KEEP_STATE_CELLS`). A reach too narrow to meet a network-wide rule
        # (a fill-rate target or an authority limit the baseline's lost sales outside it now break,
        # say) with everything else frozen, or to rebuild the stock that later baseline shipments
        # need, has no plan: free that state, then widen the reach twice (every period, more steps
        # upstream) before going to the full replan.
        recovery = replan_options.recovery_periods
        for extra_hops, periods, keep in (
            (0, recovery, True),
            (0, recovery, False),
            (2, None, False),
            (4, None, False),
        ):
            t0 = time.perf_counter()
            reach = signal_reach(
                after, signals, upstream_hops=replan_options.upstream_hops + extra_hops, recovery_periods=periods
            )
            if keep and reach.outside_cells(after) < KEEP_STATE_CELLS:
                continue
            state = baseline_state(before, baseline) if keep else None
            lp = build_replan_model(
                after, decisions, replan_options, protocols=protocols, groups=groups, reach=reach, state=state
            )
            built = time.perf_counter() - t0
            solution = solve_model(lp, budget_left(first_options, began), backend)
            if solution.status.has_solution:
                # The first answer as its plan reads (idle setups off): the full replan's start.
                start = without_idle_setups(lp, solution.x) if solution.x is not None else None
                first = answer("first", lp, solution, reach.share(), built, keep)
                yield first
                break
            if solution.status not in (SolveStatus.INFEASIBLE, SolveStatus.INFEASIBLE_OR_UNBOUNDED):
                break
            if budget_spent(options, began):
                break
    if first is not None and budget_spent(options, began):
        yield replace(first, ready_seconds=time.perf_counter() - began)
        return
    if BackendFeature.MIP_START not in backend.features:
        start = None
    t0 = time.perf_counter()
    lp = build_replan_model(after, decisions, replan_options, protocols=protocols, groups=groups)
    built = time.perf_counter() - t0
    solution = solve_model(lp, budget_left(options, began), backend, start=start, warm_key=warm_key)
    if not solution.status.has_solution and first is not None:
        # The full replan ran out of time before it held a plan (at M HiGHS's presolve and root LP
        # outlast a limit of seconds, and the start counts only once its search begins). The first
        # answer is a plan of the full model too (its model is the full one with the decisions
        # outside the reach fixed at their baseline values), so it stays the answer.
        yield replace(first, ready_seconds=time.perf_counter() - began)
        return
    kind = "optimal" if solution.status == SolveStatus.OPTIMAL else "improved"
    yield answer(kind, lp, solution, 1.0, built)
