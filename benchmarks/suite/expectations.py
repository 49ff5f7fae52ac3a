"""Scenario expectations: what a scenario requires of its responses, and `evaluate_expectations`,
which says which of them a result breaks.

The two that compare responses allow the difference the MIP gap leaves undecided, and no more:

  orchestrated_cost_le_sequential / _le_do_nothing   objective (cost - revenue) no larger, beyond
                                                     the relative MIP gap g (+ 1e-6)
  orchestrated_fill_ge_sequential / _ge_do_nothing   fill rate no smaller, beyond g fill-rate
                                                     points (+ 1e-6)

Why g for the fill rate: each response is proven within g * |z| of its optimum z, and |z| is at
most about the revenue, sum(price * served) <= p * D for D units demanded at prices near p, while a
unit left unserved costs at least its price (lost revenue) plus its penalty. So two plans inside the
gap can differ by up to g * |z| / p <= g * D units served, a fill rate of g. Which of two such plans
HiGHS returns is a tie-break of the search, not a property of Concerto's model; a shortfall beyond
g is (tier2_failure_through_bom@S: 0.96927 against 0.96934 with g = 0.1% is a tie-break).

Other expectations:

  backup_activated_without_escalation                a backup activated, none of it escalated
  escalates_to_contains: "text"                      an orchestrated escalation names the text
  no_escalation: true                                the orchestrated plan escalates nothing
  no_new_escalation: true                            ... to no approver the baseline plan does not
                                                     (standing escalations of the undisrupted plan
                                                     are not the response's)
  orchestrated_uses: ["rerouting", ...]              action kinds among the orchestrated decisions
  min_orchestrated_fill_rate: x                      fill rate at least x
  closed_plants_idle: true                           a node's calendar closes it in some period
                                                     (neither regular nor overtime hours) and the
                                                     orchestrated plan makes nothing there then
  max_solve_ratio: x                                 orchestrated wall time / reference solve <= x

Any expectation's value may instead be given per size, `{"S": 10, "M": 400}`: the value of the
case's size applies, and a size the mapping leaves out skips the expectation there. A larger
network is a different network, not a scaled copy: where its answer differs in kind (at M lateral
transfers absorb a surge that needs overtime at S), the scenario file says so per size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.suite.settings import DEFAULT_GAP, GAP_TOLERANCE

EXPECTATIONS = {
    "orchestrated_cost_le_sequential",
    "orchestrated_cost_le_do_nothing",
    "orchestrated_fill_ge_sequential",
    "orchestrated_fill_ge_do_nothing",
    "backup_activated_without_escalation",
    "escalates_to_contains",
    "no_escalation",
    "no_new_escalation",
    "orchestrated_uses",
    "min_orchestrated_fill_rate",
    "closed_plants_idle",
    "max_solve_ratio",
}


def worse_beyond_gap(objective: float | None, reference: float | None, gap: float) -> bool:
    """Whether `objective` exceeds `reference` by more than the relative gap (minimisation)."""
    if objective is None or reference is None:
        return True
    return objective > reference + (gap + GAP_TOLERANCE) * max(abs(reference), 1.0)


def evaluate_expectations(
    result: Mapping[str, Any], expectations: Mapping[str, Any] | None = None, *, check_time: bool = True
) -> list[str]:
    """The expectations of a result that do not hold, each as a readable sentence (empty: all hold).
    `check_time=False` skips the wall-clock ones (tests assert behaviour, never time)."""
    expectations = result.get("expectations", {}) if expectations is None else expectations
    gap = float(result.get("mip_rel_gap", DEFAULT_GAP))
    responses = result["responses"]
    orchestrated = responses["orchestrated"]
    failures: list[str] = []
    for key, value in sorted(expectations.items()):
        if isinstance(value, dict):
            if result["size"] not in value:
                continue
            want = value[result["size"]]
        else:
            want = value
        if key.startswith("orchestrated_cost_le_") and want:
            other = key.removeprefix("orchestrated_cost_le_")
            if worse_beyond_gap(orchestrated.get("objective"), responses[other].get("objective"), gap):
                failures.append(
                    f"{key}: orchestrated objective {orchestrated.get('objective')} > {other} "
                    f"{responses[other].get('objective')} beyond the {gap:.2%} gap"
                )
        elif key.startswith("orchestrated_fill_ge_") and want:
            other = key.removeprefix("orchestrated_fill_ge_")
            mine, theirs = orchestrated.get("fill_rate"), responses[other].get("fill_rate")
            if mine is None or theirs is None or mine < theirs - gap - 1e-6:
                failures.append(f"{key}: orchestrated fill rate {mine} < {other} {theirs} beyond the {gap:.2%} gap")
        elif key == "backup_activated_without_escalation" and want:
            if not orchestrated.get("backup_activations") or orchestrated.get("backup_escalated"):
                failures.append(
                    f"{key}: {orchestrated.get('backup_activations', 0)} backup activations, "
                    f"escalated: {orchestrated.get('backup_escalated')}"
                )
        elif key == "escalates_to_contains":
            escalations = orchestrated.get("escalations", [])
            if not any(str(want) in e for e in escalations):
                failures.append(f"{key}: no escalation names {want!r} (escalations: {escalations})")
        elif key == "no_escalation" and want:
            if orchestrated.get("escalations"):
                failures.append(f"{key}: the orchestrated plan escalates to {orchestrated['escalations']}")
        elif key == "no_new_escalation" and want:
            standing = set(result.get("baseline", {}).get("escalations", []))
            new = [e for e in orchestrated.get("escalations", []) if e not in standing]
            if new:
                failures.append(
                    f"{key}: the orchestrated plan escalates to {new}, which the baseline plan does not "
                    f"(it escalates to {sorted(standing)})"
                )
        elif key == "orchestrated_uses":
            missing = sorted(set(want) - set(orchestrated.get("actions", [])))
            if missing:
                failures.append(f"{key}: no {', '.join(missing)} among {orchestrated.get('actions', [])}")
        elif key == "min_orchestrated_fill_rate":
            fill = orchestrated.get("fill_rate")
            if fill is None or fill < float(want) - 1e-9:
                failures.append(f"{key}: orchestrated fill rate {fill} < {want}")
        elif key == "closed_plants_idle" and want:
            closed = orchestrated.get("closed_production") or []
            made = [
                f"{c['node']} makes {c['quantity']:g} in period {c['period']}" for c in closed if c["quantity"] > 1e-6
            ]
            if not closed:
                failures.append(f"{key}: no node's calendar closes it in any period")
            elif made:
                failures.append(f"{key}: {'; '.join(made)}, where its calendar closes it")
        elif key == "max_solve_ratio" and check_time:
            ratio = result.get("solve_ratio")
            if ratio is None or ratio > float(want):
                failures.append(f"{key}: solve-time ratio {ratio} > {want}")
    return failures
