"""The disruption suite on Ray (issue #17, part 3): two small scenario cases as Ray tasks on a local
Ray give the same objectives (within the MIP gap) and verdicts as the local runner, in the same
result records, and each task solved the reference model itself. The comparison of two runs
(`--same-as`) catches what it should; `--ray` without Ray stops with the extra to install. No
wall-clock assertion."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import main
from benchmarks.suite import (
    RESPONSES,
    Case,
    evaluate_expectations,
    gate,
    load_scenarios,
    run_cases,
)
from benchmarks.suite.compare import differences
from benchmarks.suite.distributed import RAY_HINT, run_cases_on_ray

HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(
    not HAVE_RAY, reason="Ray is not installed: pip install 'concerto[ray]' (requirements-test.lock pins it)"
)
CASES = ("supplier_outage_short", "tier2_failure_through_bom")


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    scenarios = {s.name: s for s in load_scenarios()}
    return [Case(scenarios[name], "S") for name in CASES]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False)  # a new one, whatever RAY_ADDRESS says
    try:
        yield ray
    finally:
        ray.shutdown()


@needs_ray
def test_ray_tasks_give_the_local_runners_objectives_and_verdicts(cases: list[Case], local_ray: Any) -> None:
    on_ray, settings = run_cases_on_ray(cases, progress=None)
    assert local_ray.is_initialized(), "a Ray the caller started is left running"
    assert settings["cpus"] == 2
    local = run_cases(cases, jobs=1, progress=None)
    assert [(r["scenario"], r["size"]) for r in on_ray] == [(c.scenario.name, c.size) for c in cases]
    assert differences(on_ray, local, name="the local runner") == []
    for mine, theirs in zip(on_ray, local, strict=True):
        assert "error" not in mine, mine.get("error")
        assert set(mine) == set(theirs), "the same result record as the local runner's"
        for response in RESPONSES:
            assert set(mine["responses"][response]) == set(theirs["responses"][response])
            assert mine["responses"][response]["status"] == theirs["responses"][response]["status"]
        gap = mine["mip_rel_gap"]
        a, b = mine["responses"]["orchestrated"]["objective"], theirs["responses"]["orchestrated"]["objective"]
        assert abs(a - b) <= (gap + 1e-6) * max(abs(a), abs(b))
        assert evaluate_expectations(mine, check_time=False) == evaluate_expectations(theirs, check_time=False) == []
        assert mine["reference_seconds"] > 0, "each task solved the reference model itself"
        assert mine["solve_ratio"] == pytest.approx(
            mine["responses"]["orchestrated"]["wall_seconds"] / mine["reference_seconds"]
        )
    assert gate(on_ray, {"scenarios": {}}, check_time=False) == []


@needs_ray
def test_a_task_process_never_imports_ortools(local_ray: Any) -> None:
    """highspy and ortools each bundle a HiGHS library: the task's code, like the local runner's
    workers, imports highspy and leaves ortools to `OrToolsBackend`'s own child processes."""

    def imported() -> list[str]:
        for module in ("benchmarks.suite.distributed", "benchmarks.suite.worker", "solver.planner", "solver.responses"):
            importlib.import_module(module)
        return sorted({m.split(".")[0] for m in sys.modules} & {"highspy", "ortools"})

    assert local_ray.get(local_ray.remote(imported).remote()) == ["highspy"]


@needs_ray
def test_a_task_on_a_node_with_another_highs_is_an_error_result(cases: list[Case], local_ray: Any) -> None:
    from benchmarks.suite.distributed import ray_task

    [result] = local_ray.get([local_ray.remote(ray_task).remote(cases[0], "0.0.0")])
    assert "HiGHS" in result["error"] and "0.0.0" in result["error"]
    assert gate([result], {"scenarios": {}}, check_time=False) == [f"{CASES[0]}@S: failed to run: {result['error']}"]


def _result(objective: float = -1_000_000.0, fill: float = 1.0) -> dict[str, Any]:
    response = {"status": "optimal", "has_solution": True, "objective": objective, "fill_rate": fill}
    return {
        "scenario": "x",
        "size": "S",
        "mip_rel_gap": 0.001,
        "network_sha256": "n",
        "signals_sha256": "s",
        "baseline": {"status": "optimal", "objective": objective},
        "responses": {r: dict(response) for r in RESPONSES},
        "expectations": {"orchestrated_fill_ge_sequential": True},
    }


def test_two_runs_agree_within_the_gap_and_differ_beyond_it() -> None:
    base = _result()
    near = _result(objective=-1_000_000.0 + 900)  # 0.09% apart: inside the 0.1% gap
    assert differences([near], [base]) == []
    far = _result(objective=-1_000_000.0 + 2_000)
    assert any("objective" in d and "beyond the 0.10% gap" in d for d in differences([far], [base]))
    unsolved = copy.deepcopy(base)
    unsolved["responses"]["sequential"] |= {"status": "infeasible", "objective": None}
    assert differences([unsolved], [base], name="R") == ["x@S: sequential is infeasible, optimal in R"]
    broken = copy.deepcopy(base)
    broken["responses"]["orchestrated"]["fill_rate"] = 0.9
    [verdict] = differences([broken], [base])
    assert "orchestrated_fill_ge_sequential" in verdict
    other_inputs = base | {"signals_sha256": "t"}
    assert differences([other_inputs], [base]) == [
        "x@S: signals_sha256 differ from the other run's: not the same inputs"
    ]
    assert differences([base], []) == ["x@S: not in the other run"]
    assert differences([base], [base | {"scenario": "y"}]) == ["x@S: not in the other run"]
    failed = {"scenario": "x", "size": "S", "seed": 0, "error": "boom"}
    assert differences([failed], [base]) == ["x@S: failed to run (here: boom; the other run: None)"]


def test_ray_without_ray_installed_stops_before_running(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    code = main(["run", "--suite", CASES[0], "--ray", "--out", str(tmp_path / "r.json")])
    assert code == 2
    assert RAY_HINT in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_check_same_as_a_report_that_differs_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`run --same-as B` and `check --report A --same-as B`: the same results agree; when B's differ
    beyond the gap the gate on A still passes, but the command exits 1 naming the difference."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["run", "--suite", CASES[0], "--jobs", "1", "--out", str(a)]) == 0
    report = json.loads(a.read_text())
    assert main(["run", "--suite", CASES[0], "--jobs", "1", "--out", str(b), "--same-as", str(a)]) == 0
    assert "same results as" in capsys.readouterr().out
    [result] = report["results"]
    objective = result["responses"]["do_nothing"]["objective"]
    result["responses"]["do_nothing"]["objective"] = objective / 2
    b.write_text(json.dumps(report))
    check = ["check", "--report", str(a), "--time-factor", "1e9"]
    assert main(check) == 0
    capsys.readouterr()
    assert main([*check, "--same-as", str(b)]) == 1
    err = capsys.readouterr().err
    assert "results DIFFER" in err and f"do_nothing objective {objective} against {objective / 2}" in err
