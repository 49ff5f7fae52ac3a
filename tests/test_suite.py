"""The disruption suite's scenarios, expectation evaluator and regression gate: scenario files
resolve against their networks, each expectation kind fails when it should, a broken model fails
the gate. No wall-clock assertion: every gate call here skips the time comparisons.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

import models.allocation
from benchmarks.generator import generate
from benchmarks.suite import (
    BASELINE_PATH,
    Case,
    ScenarioError,
    evaluate_expectations,
    gate,
    load_scenarios,
    resolve_signals,
    resolve_target,
    run_cases,
)
from models.network import Network
from models.signals import apply_signals


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Any]:
    return {s.name: s for s in load_scenarios()}


def test_scenarios_load_and_resolve(scenarios: dict[str, Any]) -> None:
    assert len(scenarios) >= 8
    for scenario in scenarios.values():
        assert "S" in scenario.sizes
        net = Network.from_spec(generate("S", scenario.seed))
        signals = resolve_signals(scenario, net)
        assert len(signals) >= len(scenario.signals)
        apply_signals(net, signals)  # validates every resolved target


def test_resolution_is_deterministic_and_ranked() -> None:
    net = Network.from_spec(generate("S", 0))
    assert resolve_target(net, "tier1:backed:0") == resolve_target(net, "tier1:backed:0")
    plants = [resolve_target(net, f"plant:{k}")[0] for k in range(3)]
    hours = [
        float(np.nansum(np.where(np.isinf(net.node_regular_hours), 0, net.node_regular_hours)[net.node_ids.index(p)]))
        for p in plants
    ]
    assert hours == sorted(hours, reverse=True)
    assert resolve_target(net, "id:P1") == ["P1"]
    with pytest.raises(ScenarioError, match="candidates"):
        resolve_target(net, "plant:99")
    with pytest.raises(ScenarioError, match="unknown"):
        resolve_target(net, "warehouse:0")


def _result(**orchestrated: Any) -> dict[str, Any]:
    """A hand-made result that meets every expectation of `EXPECTED`."""
    responses: dict[str, dict[str, Any]] = {
        "orchestrated": {
            "status": "optimal",
            "has_solution": True,
            "objective": -100.0,
            "fill_rate": 1.0,
            "escalations": ["joint procurement-production decision"],
            "actions": ["backup_activation", "rerouting"],
            "backup_activations": 1,
            "backup_escalated": False,
        },
        "sequential": {"objective": -90.0, "fill_rate": 0.99},
        "do_nothing": {"objective": -50.0, "fill_rate": 0.9},
    }
    responses["orchestrated"] |= orchestrated
    return {"scenario": "x", "size": "S", "mip_rel_gap": 0.01, "solve_ratio": 2.0, "responses": responses}


EXPECTED = {
    "orchestrated_cost_le_sequential": True,
    "orchestrated_cost_le_do_nothing": True,
    "orchestrated_fill_ge_sequential": True,
    "orchestrated_fill_ge_do_nothing": True,
    "backup_activated_without_escalation": True,
    "escalates_to_contains": "joint procurement-production decision",
    "orchestrated_uses": ["rerouting"],
    "min_orchestrated_fill_rate": 0.99,
    "max_solve_ratio": 5.0,
}


def test_evaluator_passes_a_good_result() -> None:
    assert evaluate_expectations(_result(), EXPECTED) == []


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        ({"objective": -80.0}, "orchestrated_cost_le_sequential"),
        ({"objective": -40.0}, "orchestrated_cost_le_do_nothing"),
        ({"fill_rate": 0.95}, "orchestrated_fill_ge_sequential"),
        ({"fill_rate": 0.85}, "orchestrated_fill_ge_do_nothing"),
        ({"backup_activations": 0}, "backup_activated_without_escalation"),
        ({"backup_escalated": True}, "backup_activated_without_escalation"),
        ({"escalations": ["coo"]}, "escalates_to_contains"),
        ({"actions": ["overtime"]}, "orchestrated_uses"),
        ({"fill_rate": 0.5}, "min_orchestrated_fill_rate"),
    ],
)
def test_evaluator_catches_each_broken_kind(change: dict[str, Any], broken: str) -> None:
    failures = evaluate_expectations(_result(**change), EXPECTED)
    assert any(f.startswith(broken) for f in failures), failures


def test_evaluator_gap_and_time() -> None:
    within_gap = _result(objective=-90.0 + 0.5)  # 0.56% above the sequential: inside the 1% gap
    assert evaluate_expectations(within_gap, {"orchestrated_cost_le_sequential": True}) == []
    slow = _result() | {"solve_ratio": 9.0}
    assert evaluate_expectations(slow, {"max_solve_ratio": 5.0})[0].startswith("max_solve_ratio")
    assert evaluate_expectations(slow, {"max_solve_ratio": 5.0}, check_time=False) == []
    assert evaluate_expectations(_result(escalations=[]), {"no_escalation": True}) == []
    assert evaluate_expectations(_result(), {"no_escalation": True})[0].startswith("no_escalation")


def test_gate_on_hand_made_results() -> None:
    result = _result() | {"network_sha256": "n", "signals_sha256": "s", "expectations": {}}
    baseline = {
        "scenarios": {"x@S": {"objective": -100.0, "solve_ratio": 1.0, "network_sha256": "n", "signals_sha256": "s"}}
    }
    assert gate([result], baseline) == []
    worse = copy.deepcopy(result)
    worse["responses"]["orchestrated"]["objective"] = -95.0
    assert "worse than the baseline" in gate([worse], baseline)[0]
    infeasible = copy.deepcopy(result)
    infeasible["responses"]["orchestrated"] |= {"status": "infeasible", "has_solution": False}
    assert "infeasible" in gate([infeasible], baseline)[0]
    slow = result | {"solve_ratio": 3.5}
    assert "grew beyond 3x" in gate([slow], baseline)[0]
    assert gate([slow], baseline, check_time=False) == []
    moved = result | {"network_sha256": "other"}
    assert "inputs changed" in gate([moved], baseline)[0]


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    return dict(json.loads(BASELINE_PATH.read_text()))


def test_orchestrated_costs_no_more_than_sequential_and_gate_passes(
    scenarios: dict[str, Any], recorded: dict[str, Any]
) -> None:
    [result] = run_cases([Case(scenarios["lane_closure_detour"], "S")], jobs=1, progress=None)
    responses = result["responses"]
    assert responses["orchestrated"]["objective"] <= responses["sequential"]["objective"] + 0.01 * abs(
        responses["sequential"]["objective"]
    )
    assert gate([result], recorded, check_time=False) == []


def test_gate_fails_when_backups_are_broken(
    scenarios: dict[str, Any], recorded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model whose backup offers have no capacity can never activate one: the two-week outage,
    which relies on its backup, must fail the gate."""
    original = models.allocation.define_supplier_capacity

    def without_backups(b: Any, net: Network) -> None:
        capacity = np.where(net.offer_backup[:, None], 0.0, net.offer_capacity)
        original(b, replace(net, offer_capacity=capacity))

    monkeypatch.setattr(models.allocation, "define_supplier_capacity", without_backups)
    [result] = run_cases([Case(scenarios["supplier_outage_two_weeks"], "S")], jobs=1, progress=None)
    failures = gate([result], recorded, check_time=False)
    assert any("supplier_outage_two_weeks@S" in f and "backup_activation" in f for f in failures), failures
