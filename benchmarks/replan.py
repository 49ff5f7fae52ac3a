"""The replan benchmark: per network size and disruption kind, a cold solve of the disrupted network
against `planner.replan`'s first answer (only the decisions within the signals' reach may move) and
its final answer (the full replan, warm-started from the first); at S, a stability-weight sweep.

For each size the generated network (seed `--seed`) is planned once (the baseline, gap `--gap`).
Seven disruptions are chosen from that baseline so that each hits something the plan relies on:

  supplier_outage   the tier-1 supplier with the largest purchase spend, fully out for 2 weeks
  demand_surge      +40% demand for 4 weeks at the 5 customer zones with the most demand
  lane_closure      the lane carrying the most units, closed for 2 weeks
  plant_fire        the plant using the most production hours keeps 30% of its hours for 3 weeks
  quality_hold      the most valuable stock position at a DC put on hold (all of it)
  lead_time_change  the busiest lane into a plant or DC: +1 week for departures in the first 3 weeks
  new_order         a new order of 3 periods' demand on the largest demand stream, due in period 1

Then, per disruption and repeat, measured in this process one after the other:

  cold   `compile_model` with the signals, HiGHS's solve and `extract_plan`: the time and objective
         of planning the disrupted network from nothing;
  first  `replan(..., ReplanOptions(stability_weight=0))`'s first answer: wall time from the call to
         that answer, its business objective, and the reach share (decisions it could move);
  final  the same call's final answer: wall time from the call, its business objective, and
         whether HiGHS accepted the first answer as a MIP start.

With stability weight 0 the final answer solves the model the cold solve solves, so both must agree
within the MIP gap; the first answer's objective is compared with the cold one in percent
(positive: costlier). Times are medians over the repeats; objectives are the last repeat's.

Targets at M (printed as met or not, never asserted): the first answer at least 5x sooner than the
cold solve and within 2% of its objective; the final answer at the cold objective within the gap.

`--stability-weight W` (with `--first-only` or `--no-cold`) replans at weight W (the service's
default is 1) instead of 0, recording each first answer's stability charge: what a caller who
keeps the default waits for.

The sweep (`--sweep`, size S, the supplier outage): the full replan for stability weights
0, 0.1, 0.3, 1, 3 and 10, each plan's business objective against its nervousness (the share of
decisions that differ from the baseline, `solver.diff.diff_plans`): the cost of fewer changes.
"""

from __future__ import annotations

import hashlib
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.build import environment
from benchmarks.jsonout import write_json
from models.network import Network, NetworkSpec, NodeRole
from models.plan import Plan, extract_plan
from models.replanning import STABILITY, ReplanOptions, baseline_decisions, signal_reach
from models.signals import Signal, SignalType, apply_signals
from solver.backends.highs import HighsBackend
from solver.convert import network_json
from solver.diff import diff_plans
from solver.options import AUTO, MILP, SolveOptions
from solver.planner import ReplanResult, business_objective, compile_model, plan_network, replan

WEEK = 168.0
"""Hours in a week; the generated networks have weekly periods."""
DEFAULT_REPEATS = {"S": 3, "M": 1}
"""Repeats per size when `--repeat` is not given; an M solve takes about 20 s."""
SWEEP_WEIGHTS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)
SWEEP_SIZE = "S"
SWEEP_SCENARIO = "supplier_outage"
TARGET_SIZE = "M"
TARGET_SPEEDUP = 5.0
"""Least cold / first time ratio asked for at M."""
TARGET_FIRST_GAP = 0.02
"""Largest relative excess of the first answer's objective over the cold optimum asked for at M."""


@dataclass(frozen=True, kw_only=True)
class ReplanSettings:
    """Solve settings shared by every measurement."""

    seed: int = 0
    """Seed of the generator and of HiGHS."""
    mip_rel_gap: float = 0.01
    time_limit: float = 300.0
    """HiGHS time limit per solve, seconds."""
    threads: int = 2
    sweep_gap: float = 1e-3
    """MIP gap of the sweep's replans: tighter than the comparison's, so that the objectives of
    neighbouring weights differ by more than the gap's slack."""
    upstream_hops: int = ReplanOptions().upstream_hops
    """How far upstream the first answer's reach goes (the replan option of that name)."""
    kinds: tuple[str, ...] = ()
    """Disruptions to run, by name; empty: all seven."""
    method: str = AUTO
    """How the baseline and the full replans are solved (`solver.options.METHODS`); the cold solve
    is always HiGHS's MILP on the whole model, the reference every replan is measured against."""
    first_only: bool = False
    """Time only each disruption's first answer (the signals' reach): no cold solve and no full
    replan, each of which takes about as long as the baseline (at L, minutes)."""
    stability_weight: float = 0.0
    """The replans' stability weight, with `first_only` or `no_cold` only: at a positive weight the
    full replan solves another model than the cold solve, so the two no longer compare (first vs
    final then compares business objectives, which the stability charge may trade). The service's
    default is `ReplanOptions().stability_weight`."""
    no_cold: bool = False
    """Skip the cold reference solve (the monolithic MILP, which at L does not finish its root LP
    in the time limit) and time the replan alone: its first answer is then compared with its final
    one, whose gap its own lower bound certifies."""

    def __post_init__(self) -> None:
        if not math.isfinite(self.stability_weight) or self.stability_weight < 0:
            raise ValueError(f"--stability-weight is {self.stability_weight}; it must be a number at least 0")
        if self.stability_weight > 0 and not (self.first_only or self.no_cold):
            raise ValueError(
                "a positive --stability-weight needs --first-only or --no-cold: the full replan would solve "
                "another model than the cold solve it is compared with"
            )

    def options(self, gap: float | None = None) -> SolveOptions:
        return SolveOptions(
            mip_rel_gap=self.mip_rel_gap if gap is None else gap,
            time_limit=self.time_limit,
            threads=self.threads,
            seed=self.seed,
            method=self.method,
        )


@dataclass(frozen=True)
class Scenario:
    """A disruption: the signals that describe it and, in words, what it hits."""

    name: str
    description: str
    signals: tuple[Signal, ...]


# ---------------------------------------------------------------------------------------------
# Disruptions chosen from the baseline
# ---------------------------------------------------------------------------------------------


def scenarios(net: Network, baseline: Plan) -> list[Scenario]:
    """The seven disruptions of the module docstring, aimed at what the baseline uses most."""
    x = baseline_decisions(net, baseline)
    ids, role = net.node_ids, net.node_role
    out: list[Scenario] = []

    spend = np.bincount(net.offer_node, weights=(x["buy"].sum(axis=1) * net.offer_cost), minlength=net.n_nodes)
    tier1 = (role == NodeRole.SUPPLIER) & (net.node_tier == 1)
    supplier = int(np.argmax(np.where(tier1, spend, -1.0)))
    out.append(
        Scenario(
            "supplier_outage",
            f"{ids[supplier]} (largest tier-1 spend) out for 2 weeks",
            (Signal("outage", SignalType.SUPPLIER_OUTAGE, supplier=ids[supplier], duration_hours=2 * WEEK),),
        )
    )

    demand = np.bincount(net.demand_node, weights=net.demand_qty.sum(axis=1), minlength=net.n_nodes)
    customers = np.argsort(-np.where(role == NodeRole.CUSTOMER, demand, -1.0), kind="stable")[:5]
    out.append(
        Scenario(
            "demand_surge",
            f"+40% for 4 weeks at {', '.join(ids[c] for c in customers)}",
            tuple(
                Signal(
                    f"surge-{ids[c]}",
                    SignalType.DEMAND_CHANGE,
                    customer=ids[c],
                    duration_hours=4 * WEEK,
                    magnitude=1.4,
                )
                for c in customers
            ),
        )
    )

    lane_units = np.bincount(net.arc_lane, weights=x["ship"].sum(axis=1), minlength=net.n_lanes)
    closed = int(np.argmax(lane_units))
    out.append(
        Scenario(
            "lane_closure",
            f"{net.lane_ids[closed]} (most units) closed for 2 weeks",
            (Signal("closure", SignalType.LANE_DISRUPTION, lane=net.lane_ids[closed], duration_hours=2 * WEEK),),
        )
    )

    hours = np.bincount(net.recipe_node, weights=x["make"].sum(axis=1) * net.recipe_hours, minlength=net.n_nodes) * (
        role == NodeRole.PLANT
    )
    plant = int(np.argmax(hours))
    out.append(
        Scenario(
            "plant_fire",
            f"{ids[plant]} (most production hours) at 30% capacity for 3 weeks",
            (Signal("fire", SignalType.CAPACITY_LOSS, node=ids[plant], duration_hours=3 * WEEK, magnitude=0.3),),
        )
    )

    value = net.position_on_hand * net.item_value[net.position_item]
    value = np.where(role[net.position_node] == NodeRole.DC, value, -1.0)
    held = int(np.argmax(value))
    node, item = ids[net.position_node[held]], net.item_ids[net.position_item[held]]
    on_hand = float(net.position_on_hand[held])
    out.append(
        Scenario(
            "quality_hold",
            f"all {on_hand:,.0f} units of {item} at {node} on hold",
            (Signal("hold", SignalType.INVENTORY_ADJUSTMENT, node=node, item=item, magnitude=-on_hand),),
        )
    )

    into_stock = np.isin(role[net.lane_destination], (NodeRole.PLANT, NodeRole.DC))
    room = net.lane_lead_time + 1 < net.horizon
    slowed = int(np.argmax(np.where(into_stock & room & (np.arange(net.n_lanes) != closed), lane_units, -1.0)))
    out.append(
        Scenario(
            "lead_time_change",
            f"{net.lane_ids[slowed]} +1 week for departures in weeks 1-3",
            (
                Signal(
                    "slower",
                    SignalType.LEAD_TIME_CHANGE,
                    lane=net.lane_ids[slowed],
                    duration_hours=3 * WEEK,
                    delay_hours=WEEK,
                ),
            ),
        )
    )

    stream = int(np.argmax(net.demand_qty.sum(axis=1)))
    quantity = 3.0 * float(net.demand_qty[stream].mean())
    customer, item = ids[net.demand_node[stream]], net.item_ids[net.demand_item[stream]]
    out.append(
        Scenario(
            "new_order",
            f"{quantity:,.0f} units of {item} for {customer}, due in period 1",
            (
                Signal(
                    "order",
                    SignalType.ORDER_CHANGE,
                    customer=customer,
                    item=item,
                    start_hours=net.period_hours,
                    magnitude=quantity,
                ),
            ),
        )
    )
    return out


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------


@dataclass
class ReplanRow:
    """One size and disruption: medians over the repeats (seconds), objectives of the last repeat."""

    size: str
    scenario: str
    description: str
    signals: list[dict[str, Any]]
    reach_share: float = math.nan
    cold_build: float = math.nan
    cold_solve: float = math.nan
    cold_seconds: float = math.nan
    """compile_model + solve + extract_plan."""
    cold_objective: float = math.nan
    cold_status: str = ""
    cold_gap: float = math.nan
    first_seconds: float = math.nan
    """From the replan call to the first answer."""
    first_solve: float = math.nan
    first_objective: float = math.nan
    first_status: str = ""
    final_seconds: float = math.nan
    """From the replan call to the final answer (the first answer's time included)."""
    final_solve: float = math.nan
    final_objective: float = math.nan
    final_status: str = ""
    final_gap: float = math.nan
    final_method: str = ""
    final_warm: bool = False
    """Whether the final answer re-solved LP-first from the previous solve's live model."""
    final_certificate: str = ""
    """Where LP-first certified the final answer without its full relaxation: "inherited" or
    "early" (`_certificate`)."""
    final_lp_iterations: float = math.nan
    mip_start_accepted: bool | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first_excess(self) -> float:
        """(first - cold) / |cold|: how much costlier the first answer is than the cold optimum."""
        return (self.first_objective - self.cold_objective) / abs(self.cold_objective)

    @property
    def final_excess(self) -> float:
        return (self.final_objective - self.cold_objective) / abs(self.cold_objective)

    @property
    def first_vs_final(self) -> float:
        """(first - final) / |final|: how much costlier the first answer is than the final one."""
        return (self.first_objective - self.final_objective) / abs(self.final_objective)

    @property
    def speedup(self) -> float:
        """Cold time over the time to the first answer."""
        return self.cold_seconds / self.first_seconds

    @property
    def final_speedup(self) -> float:
        """Cold time (the monolithic MILP) over the time to the final answer."""
        return self.cold_seconds / self.final_seconds


def _cold_run(spec: NetworkSpec, signals: tuple[Signal, ...], options: SolveOptions) -> dict[str, Any]:
    began = time.perf_counter()
    model = compile_model(spec, None, signals)
    solution = HighsBackend().solve(model.lp, replace(options, method=MILP))
    plan = extract_plan(model.net, model.lp, solution, build_seconds=model.build_seconds)
    return {
        "cold_build": model.build_seconds,
        "cold_solve": solution.solve_seconds,
        "cold_seconds": time.perf_counter() - began,
        "cold_objective": business_objective(plan) if plan.has_solution else math.nan,
        "cold_status": plan.status.value,
        "cold_gap": plan.gap,
    }


def _replan_run(
    spec: NetworkSpec,
    baseline: Plan,
    signals: tuple[Signal, ...],
    options: SolveOptions,
    upstream_hops: int,
    warm_key: str,
    stability_weight: float = 0.0,
) -> dict[str, Any]:
    replan_options = ReplanOptions(stability_weight=stability_weight, upstream_hops=upstream_hops)
    answers: list[ReplanResult] = list(
        replan(spec, baseline, signals, options, replan_options, backend=HighsBackend(), warm_key=warm_key)
    )
    first = next((a for a in answers if a.kind == "first"), None)
    final = answers[-1]
    run: dict[str, Any] = {
        # replan yields no first answer when the reach model has no solution; the reach is still told.
        "reach_share": signal_reach(
            apply_signals(Network.from_spec(spec), signals),
            signals,
            upstream_hops=replan_options.upstream_hops,
            recovery_periods=replan_options.recovery_periods,
        ).share(),
        "first_status": "none",
        "final_seconds": final.ready_seconds,
        "final_solve": final.plan.stats.solve_seconds,
        "final_objective": final.business_objective,
        "final_status": final.kind,
        "final_gap": final.plan.gap,
        "final_method": final.plan.stats.method,
        "final_warm": bool(final.plan.stats.method_stats.get("warm", 0.0)),
        "final_certificate": _certificate(final.plan.stats.method_stats),
        "final_lp_iterations": final.plan.stats.method_stats.get("lp_iterations", math.nan),
        "final_stability": final.plan.cost_by_component.get(STABILITY, 0.0),
        "mip_start_accepted": final.mip_start_accepted,
    }
    if first is not None:
        run |= {
            "reach_share": first.reach_share,
            "first_seconds": first.ready_seconds,
            "first_solve": first.plan.stats.solve_seconds,
            "first_objective": first.business_objective,
            "first_status": first.plan.status.value,
            "first_stability": first.plan.cost_by_component.get(STABILITY, 0.0),
            "first_state_kept": first.state_kept,
        }
    return run


def _certificate(stats: dict[str, float]) -> str:
    """How LP-first certified a final answer without solving its relaxation to the optimum:
    "inherited" (a kept bound of a model it restricts), "early" (the relaxation stopped at its
    objective bound), "" otherwise."""
    if stats.get("bound_inherited"):
        return "inherited"
    if stats.get("bound_reached"):
        return "early"
    return ""


def _first_run(
    spec: NetworkSpec,
    baseline: Plan,
    signals: tuple[Signal, ...],
    options: SolveOptions,
    upstream_hops: int,
    stability_weight: float = 0.0,
) -> dict[str, Any]:
    """The replan's first answer alone: the generator is left after its first answer, so the full
    replan never runs (`ReplanSettings.first_only`)."""
    replan_options = ReplanOptions(stability_weight=stability_weight, upstream_hops=upstream_hops)
    # The generator is left suspended after its first answer (and closed when it is collected).
    answer = next(replan(spec, baseline, signals, options, replan_options, backend=HighsBackend()))
    if answer.kind != "first":  # no reach model had a solution: this is already the full replan
        return {"reach_share": answer.reach_share, "first_status": "none"}
    return {
        "reach_share": answer.reach_share,
        "first_seconds": answer.ready_seconds,
        "first_solve": answer.plan.stats.solve_seconds,
        "first_objective": answer.business_objective,
        "first_status": answer.plan.status.value,
        "first_stability": answer.plan.cost_by_component.get(STABILITY, 0.0),
        "first_state_kept": answer.state_kept,
    }


@dataclass
class SizeResult:
    """A size's baseline and its rows."""

    size: str
    seed: int
    input_sha256: str
    n_cols: int
    n_integer: int
    baseline_seconds: float
    baseline_objective: float
    rows: list[ReplanRow]
    baseline_status: str = "optimal"
    """The baseline plan's status; without a plan no disruption is replanned (L: see README)."""
    baseline_bound: float = math.nan


_MEDIANS = (
    "cold_build",
    "cold_solve",
    "cold_seconds",
    "first_seconds",
    "first_solve",
    "final_seconds",
    "final_solve",
)


def measure_size(size: str, repeat: int, settings: ReplanSettings, progress: Callable[[str], None]) -> SizeResult:
    """Plan the size's network, then time the cold solve and the replan of each disruption."""
    from benchmarks.generator import generate

    spec = generate(size, seed=settings.seed)
    digest = hashlib.sha256((network_json(spec) + "\n").encode()).hexdigest()
    options = settings.options()
    # The baseline and every replan of the size share one warm state: each full replan re-solves
    # LP-first from the live model the solve before it left (the cold solves never touch it).
    warm_key = f"replan-{size}-{settings.seed}"
    began = time.perf_counter()
    baseline = plan_network(spec, options, warm_key=warm_key)
    baseline_seconds = time.perf_counter() - began
    progress(
        f"  {size}: baseline {baseline.status.value}, objective {baseline.objective:,.0f} in {baseline_seconds:.1f} s"
    )

    def sized(rows: list[ReplanRow]) -> SizeResult:
        return SizeResult(
            size=size,
            seed=settings.seed,
            input_sha256=digest,
            n_cols=baseline.stats.n_cols,
            n_integer=baseline.stats.n_integer,
            baseline_seconds=baseline_seconds,
            baseline_objective=baseline.objective,
            rows=rows,
            baseline_status=baseline.status.value,
            baseline_bound=baseline.bound,
        )

    if not baseline.has_solution:
        # Every disruption is chosen from the baseline's plan and replanned against it: without one
        # there is nothing to replan (at L the baseline has only a lower bound within the time limit).
        progress(f"  {size}: no baseline plan ({baseline.status.value}, lower bound {baseline.bound:,.0f}): no replans")
        return sized([])
    net = Network.from_spec(spec)
    rows = []
    chosen = scenarios(net, baseline)
    unknown = set(settings.kinds) - {s.name for s in chosen}
    if unknown:
        raise ValueError(f"unknown disruption(s) {', '.join(sorted(unknown))}; use {', '.join(s.name for s in chosen)}")
    for scenario in chosen:
        if settings.kinds and scenario.name not in settings.kinds:
            continue
        row = ReplanRow(
            size,
            scenario.name,
            scenario.description,
            [asdict(s) for s in scenario.signals],
        )
        for k in range(repeat):
            if settings.first_only:
                run = _first_run(
                    spec, baseline, scenario.signals, options, settings.upstream_hops, settings.stability_weight
                )
            elif settings.no_cold:
                run = _replan_run(
                    spec,
                    baseline,
                    scenario.signals,
                    options,
                    settings.upstream_hops,
                    warm_key,
                    settings.stability_weight,
                )
            else:
                run = _cold_run(spec, scenario.signals, options) | _replan_run(
                    spec, baseline, scenario.signals, options, settings.upstream_hops, warm_key
                )
            row.runs.append(run)
            progress(
                f"  {size} {scenario.name} {k + 1}/{repeat}: cold {_seconds(run.get('cold_seconds', math.nan))} s, "
                f"first {run.get('first_seconds', math.nan):.2f} s (reach {run.get('reach_share', math.nan):.0%}), "
                f"final {_seconds(run.get('final_seconds', math.nan))} s {run.get('final_method') or '-'}"
                f"{_how(bool(run.get('final_warm')), run.get('final_certificate', ''))}"
            )
        for key, value in row.runs[-1].items():
            setattr(row, key, value)
        for key in _MEDIANS:
            values = [r[key] for r in row.runs if key in r]
            if values:
                setattr(row, key, statistics.median(values))
        rows.append(row)
    return sized(rows)


@dataclass(frozen=True)
class SweepPoint:
    """The full replan at one stability weight."""

    stability_weight: float
    business_objective: float
    stability_cost: float
    changed: int
    total: int
    nervousness: float
    seconds: float
    status: str


def stability_sweep(settings: ReplanSettings, progress: Callable[[str], None]) -> tuple[Scenario, list[SweepPoint]]:
    """The supplier outage at S, replanned at each stability weight (gap `settings.sweep_gap`)."""
    from benchmarks.generator import generate

    spec = generate(SWEEP_SIZE, seed=settings.seed)
    options = settings.options(settings.sweep_gap)
    baseline = plan_network(spec, options)
    scenario = next(s for s in scenarios(Network.from_spec(spec), baseline) if s.name == SWEEP_SCENARIO)
    points = []
    for weight in SWEEP_WEIGHTS:
        answers = list(
            replan(
                spec, baseline, scenario.signals, options, ReplanOptions(stability_weight=weight), first_answer=False
            )
        )
        final = answers[-1]
        diff = diff_plans(baseline, final.plan)
        points.append(
            SweepPoint(
                stability_weight=weight,
                business_objective=final.business_objective,
                stability_cost=final.plan.cost_by_component.get("stability", 0.0),
                changed=diff.changed,
                total=diff.total,
                nervousness=diff.nervousness,
                seconds=final.ready_seconds,
                status=final.kind,
            )
        )
        progress(
            f"  weight {weight:g}: {diff.nervousness:.1%} changed, business objective {final.business_objective:,.0f}"
        )
    return scenario, points


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def targets(results: list[SizeResult], settings: ReplanSettings) -> list[dict[str, Any]]:
    """The issue's targets at M, row by row: met or not."""
    out = []
    for result in results:
        if result.size != TARGET_SIZE:
            continue
        for r in result.rows:
            out.append(
                {
                    "size": r.size,
                    "scenario": r.scenario,
                    "reach_share": r.reach_share,
                    "first_5x_sooner": bool(r.speedup >= TARGET_SPEEDUP),
                    "first_within_2pct": bool(r.first_excess <= TARGET_FIRST_GAP),
                    "final_within_gap": bool(r.final_excess <= settings.mip_rel_gap),
                    "first_answer": r.first_status != "none",
                }
            )
    return out


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:+.2%}"


def _how(warm: bool, certificate: str) -> str:
    """How a final answer was solved, in brackets: " (warm, bound inherited)" and the like."""
    notes = (["warm"] if warm else []) + ([f"bound {certificate}"] if certificate else [])
    return f" ({', '.join(notes)})" if notes else ""


def _share(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.2%}"


def _seconds(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.2f}"


def _ratio(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1f}x"


def _amount(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:,.0f}"


def _money(x: float, status: str) -> str:
    return "no answer" if status == "none" else f"{x:,.0f}"


def report(results: list[SizeResult], settings: ReplanSettings) -> str:
    head = (
        "| size | disruption | reach | cold s (build+solve) | cold objective | first s | first objective "
        "| first vs cold | final s | final method | final objective | final gap | final vs cold "
        "| first vs final | MIP start | speed-up cold/first | speed-up cold/final |"
    )
    lines = [head, "|" + "---|" * 17]
    for result in results:
        for r in result.rows:
            start = "-" if r.mip_start_accepted is None else ("accepted" if r.mip_start_accepted else "rejected")
            lines.append(
                f"| {r.size} | {r.scenario} | {r.reach_share:.0%} | {_seconds(r.cold_seconds)} "
                f"({_seconds(r.cold_build)}+{_seconds(r.cold_solve)}) | {_amount(r.cold_objective)} "
                f"| {_seconds(r.first_seconds)} | {_money(r.first_objective, r.first_status)} | {_pct(r.first_excess)} "
                f"| {_seconds(r.final_seconds)} | {r.final_method or '-'}{_how(r.final_warm, r.final_certificate)} "
                f"| {_amount(r.final_objective)} | {_share(r.final_gap)} | {_pct(r.final_excess)} "
                f"| {_pct(r.first_vs_final)} | {start} | {_ratio(r.speedup)} "
                f"| {_ratio(r.final_speedup)} |"
            )
    lines.append("")
    lines.append(
        "| size | columns | integer | seed | baseline s | baseline status | baseline objective | lower bound "
        "| input SHA-256 |"
    )
    lines.append("|" + "---|" * 9)
    for result in results:
        objective = "no plan" if math.isnan(result.baseline_objective) else f"{result.baseline_objective:,.0f}"
        bound = "-" if math.isnan(result.baseline_bound) else f"{result.baseline_bound:,.0f}"
        lines.append(
            f"| {result.size} | {result.n_cols:,} | {result.n_integer:,} | {result.seed} "
            f"| {result.baseline_seconds:.2f} | {result.baseline_status} | {objective} | {bound} "
            f"| {result.input_sha256[:16]} |"
        )
    met = targets(results, settings)
    if met:
        lines.append("")
        lines.append(
            f"Targets at {TARGET_SIZE} (first >= {TARGET_SPEEDUP:g}x sooner than cold and within "
            f"{TARGET_FIRST_GAP:.0%} of it; final within the {settings.mip_rel_gap:.0%} gap of cold):"
        )
        yes = {True: "met", False: "NOT met"}
        for t in met:
            lines.append(
                f"- {t['scenario']} (reach {t['reach_share']:.0%}): first 5x sooner {yes[t['first_5x_sooner']]}, "
                f"first within 2% {yes[t['first_within_2pct']]}, final within gap {yes[t['final_within_gap']]}"
                + ("" if t["first_answer"] else " (no first answer: the reach model had no solution)")
            )
    return "\n".join(lines)


def sweep_report(scenario: Scenario, points: list[SweepPoint], gap: float) -> str:
    """The sweep as a table, and the cost of fewer changes as a text chart."""
    lines = [
        f"Stability sweep at {SWEEP_SIZE}, {scenario.name} ({scenario.description}), gap {gap:g}:",
        "",
        "| stability weight | business objective | vs weight 0 | stability charge | changed / decisions "
        "| nervousness | s |",
        "|" + "---|" * 7,
    ]
    reference = points[0].business_objective
    for p in points:
        extra = (p.business_objective - reference) / abs(reference)
        lines.append(
            f"| {p.stability_weight:g} | {p.business_objective:,.0f} | {_pct(extra)} "
            f"| {p.stability_cost:,.0f} | {p.changed:,} / {p.total:,} | {p.nervousness:.1%} | {p.seconds:.2f} |"
        )
    lines.append("")
    lines.append("cost versus changes (bar: share of decisions changed; right: extra business cost vs weight 0)")
    for p in points:
        bar = "#" * round(40 * p.nervousness)
        lines.append(
            f"  w={p.stability_weight:<5g} {bar:<40} {p.nervousness:6.1%}  +{p.business_objective - reference:,.0f}"
        )
    return "\n".join(lines)


def _plot(points: list[SweepPoint], path: Path) -> bool:
    """The cost-versus-changes curve as a PNG, if matplotlib is installed (it is not a dependency)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([100 * p.nervousness for p in points], [p.business_objective for p in points], marker="o")
    for p in points:
        ax.annotate(f"w={p.stability_weight:g}", (100 * p.nervousness, p.business_objective))
    ax.set_xlabel("decisions changed against the baseline (%)")
    ax.set_ylabel("business objective (cost - revenue)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def run_replan_benchmark(
    sizes: list[str], repeats: dict[str, int], settings: ReplanSettings, out: Path | None, *, sweep: bool = False
) -> list[SizeResult]:
    env = environment() | {"load_average_before": os.getloadavg()}
    results = []
    for size in sizes:
        repeat = repeats[size]
        print(
            f"size {size} (seed {settings.seed}, {repeat} repeat(s), threads {settings.threads}, "
            f"upstream hops {settings.upstream_hops}, stability weight {settings.stability_weight:g})",
            flush=True,
        )
        results.append(measure_size(size, repeat, settings, lambda msg: print(msg, flush=True)))
    sweep_payload: dict[str, Any] | None = None
    sweep_text = ""
    if sweep:
        print(f"stability sweep at {SWEEP_SIZE}", flush=True)
        scenario, points = stability_sweep(settings, lambda msg: print(msg, flush=True))
        sweep_text = sweep_report(scenario, points, settings.sweep_gap)
        png = out.with_name(out.stem + "-sweep.png") if out is not None else None
        plotted = png is not None and _plot(points, png)
        sweep_payload = {
            "size": SWEEP_SIZE,
            "scenario": scenario.name,
            "description": scenario.description,
            "mip_rel_gap": settings.sweep_gap,
            "points": [asdict(p) for p in points],
            "plot": str(png) if plotted else None,
        }
    env["load_average_after"] = os.getloadavg()
    print()
    print(report(results, settings))
    if sweep_text:
        print()
        print(sweep_text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "benchmark": "replan",
            "environment": env,
            "settings": asdict(settings),
            "inputs": {r.size: {"seed": r.seed, "sha256": r.input_sha256} for r in results},
            "results": [
                asdict(result)
                | {
                    "rows": [
                        asdict(r)
                        | {"first_excess": r.first_excess, "final_excess": r.final_excess, "speedup": r.speedup}
                        for r in result.rows
                    ]
                }
                for result in results
            ],
            "targets": targets(results, settings),
            "sweep": sweep_payload,
        }
        write_json(out, payload)
        print(f"\nresults written to {out}")
    return results
