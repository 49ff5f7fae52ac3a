"""One case, in a worker: generate the network (with calendars when the scenario asks), plan the
baseline, answer the signals three ways (`solver.responses.respond`), and record every figure as
plain JSON."""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

import numpy as np

from benchmarks.suite.scenarios import Case, scenario_network, scenario_protocols
from benchmarks.suite.settings import RESPONSES
from benchmarks.suite.targets import resolve_signals
from benchmarks.suite.timing import GapClock, reference_seconds
from models.network import Network, NetworkSpec
from models.protocols import ActionKind, AuthorityStatus
from models.signals import Signal
from solver.options import SolveOptions


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _clean(x: float) -> float | None:
    """JSON has no NaN or infinity: None stands for both."""
    return None if x is None or not math.isfinite(x) else float(x)


def _response_record(plan: Any, baseline: Any, wall: float) -> dict[str, Any]:
    from solver.diff import diff_plans

    record: dict[str, Any] = {
        "status": plan.status.value,
        "has_solution": plan.has_solution,
        "objective": _clean(plan.objective) if plan.has_solution else None,
        "gap": _clean(plan.gap) if plan.has_solution else None,
        "bound": _clean(plan.bound),
        "method": plan.stats.method,
        "wall_seconds": wall,
        "build_seconds": plan.stats.build_seconds,
        "solve_seconds": plan.stats.solve_seconds,
        "n_cols": plan.stats.n_cols,
        "n_rows": plan.stats.n_rows,
        "n_integer": plan.stats.n_integer,
        "escalations": plan.escalations,
        "actions": sorted({d.action.value for d in plan.decisions}),
        "backup_activations": len(plan.activations),
        "backup_escalated": any(
            d.action == ActionKind.BACKUP_ACTIVATION and d.status == AuthorityStatus.ESCALATED for d in plan.decisions
        ),
    }
    kpis = plan.kpis
    if kpis is not None:
        record |= {
            "total_cost": kpis.total_cost,
            "revenue": kpis.revenue,
            "cost_by_component": {k: v for k, v in sorted(plan.cost_by_component.items())},
            "fill_rate": kpis.fill_rate,
            "perfect_order_rate": kpis.perfect_order_rate,
            "cycle_time_hours": kpis.order_fulfilment_cycle_time_hours,
            "inventory_turnover": kpis.inventory_turnover,
            "cash_to_cash_days": kpis.cash_to_cash_days,
        }
    if plan.has_solution and baseline.has_solution:
        diff = diff_plans(baseline, plan)
        record |= {"plan_changes": diff.changed, "plan_decisions": diff.total}
    return record


def closed_production(net: Network, plan: Any) -> list[dict[str, Any]]:
    """What `plan` makes at each node in the periods its calendar closes it (neither regular nor
    overtime hours there, some in another period), one row per such node and period with the
    quantity made (0.0 when the plan respects the closure). Empty when no node closes."""
    hours = net.node_regular_hours + net.node_overtime_hours
    closed = (hours <= 0) & (hours > 0).any(axis=1, keepdims=True)
    made = np.zeros(hours.shape)
    rows = plan.production.columns if plan.has_solution else {}
    if len(rows.get("node", ())):
        index = {node: i for i, node in enumerate(net.node_ids)}
        nodes = np.fromiter((index[n] for n in rows["node"]), dtype=np.int64, count=len(rows["node"]))
        np.add.at(made, (nodes, rows["period"].astype(np.int64)), rows["quantity"])
    node, period = np.nonzero(closed)
    return [
        {"node": net.node_ids[n], "period": int(t), "quantity": float(q)}
        for n, t, q in zip(node.tolist(), period.tolist(), made[node, period].tolist(), strict=True)
    ]


def _signal_summary(s: Signal) -> dict[str, str]:
    """A resolved signal as the report names it: id, type and the fields it sets."""
    return {
        k: v
        for k, v in (
            ("id", s.id),
            ("type", s.type.value),
            ("supplier", s.supplier),
            ("customer", s.customer),
            ("lane", s.lane),
            ("node", s.node),
            ("item", s.item),
        )
        if v
    }


def run_case(case: Case) -> dict[str, Any]:
    """Generate the network, plan the baseline, answer the signals three ways; every figure of
    the result is plain JSON. Runs in a worker process (or in-process for tests)."""
    from solver.convert import network_json, signals_json
    from solver.lp_first import WARM_STATES
    from solver.planner import plan_network
    from solver.responses import respond, value_of_orchestration

    scenario = case.scenario
    reference = reference_seconds(case.threads, case.gap)
    began = time.perf_counter()
    spec: NetworkSpec = scenario_network(scenario, case.size)
    generated = time.perf_counter() - began
    net = Network.from_spec(spec)
    signals = resolve_signals(scenario, net)
    protocols = scenario_protocols(scenario)
    options = SolveOptions(mip_rel_gap=case.gap, threads=case.threads, seed=scenario.seed, time_limit=case.time_limit)

    # The baseline and the three responses share the network's warm LP-first state, as a worker
    # of the service keeps it for a network's replans (it matters at L, solved LP-first).
    began = time.perf_counter()
    baseline = plan_network(spec, options, protocols=protocols, warm_key=case.key)
    baseline_wall = time.perf_counter() - began
    clock = GapClock()
    try:
        responses = respond(
            spec, baseline, signals, protocols, options, backend=clock, on_response=clock.label, warm_key=case.key
        )
    finally:
        WARM_STATES.take(case.key)  # an L state holds about a gigabyte: not kept past its case
    value = value_of_orchestration(responses)
    plans = {
        "orchestrated": responses.orchestrated,
        "sequential": responses.sequential,
        "do_nothing": responses.do_nothing,
    }
    records = {name: _response_record(plans[name], baseline, responses.timings[name]) for name in RESPONSES}
    records["sequential"]["stages"] = [
        {"function": o.function, "status": o.status.value, "seconds": o.solve_seconds, "objective": _clean(o.objective)}
        for o in responses.stages
    ]
    orchestrated = records["orchestrated"]
    orchestrated["ready_seconds"] = responses.replan.ready_seconds
    orchestrated["execute_after_hours"] = responses.replan.execute_after_hours
    orchestrated["kind"] = responses.replan.kind
    orchestrated["seconds_to_solved_gap"] = clock.seconds_to_gap("orchestrated")
    first = responses.first
    orchestrated["first_ready_seconds"] = first.ready_seconds if first is not None else None
    orchestrated["first_objective"] = _clean(first.business_objective) if first is not None else None
    orchestrated["first_n_cols"] = first.plan.stats.n_cols if first is not None else None
    orchestrated["first_solve_seconds"] = first.plan.stats.solve_seconds if first is not None else None
    orchestrated["closed_production"] = closed_production(net, responses.orchestrated)
    return {
        "scenario": scenario.name,
        "size": case.size,
        "seed": scenario.seed,
        "description": scenario.description,
        "network_sha256": sha256(network_json(spec)),
        "signals_sha256": sha256(signals_json(signals)),
        "signals": [_signal_summary(s) for s in signals],
        "mip_rel_gap": case.gap,
        "threads": case.threads,
        "generate_seconds": generated,
        "reference_seconds": reference,
        "baseline": {
            "status": baseline.status.value,
            "objective": _clean(baseline.objective),
            "wall_seconds": baseline_wall,
            "fill_rate": baseline.kpis.fill_rate if baseline.kpis is not None else None,
            "escalations": baseline.escalations,
        },
        "responses": records,
        "value_of_orchestration": {k: _clean(v) for k, v in sorted(value.items())},
        "solve_ratio": orchestrated["wall_seconds"] / max(reference, 1e-9),
        "expectations": scenario.expectations,
    }
