"""The regression gate: a suite's results against the recorded baseline (`benchmarks/baseline.json`),
and the record the baseline keeps."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.jsonout import write_json
from benchmarks.suite.expectations import evaluate_expectations, worse_beyond_gap
from benchmarks.suite.settings import DEFAULT_GAP

BASELINE_PATH = Path(__file__).parents[1] / "baseline.json"
DEFAULT_TIME_FACTOR = 3.0
"""Largest growth of a scenario's solve-time ratio over the baseline's before the gate fails."""


def gate(
    results: Sequence[Mapping[str, Any]],
    baseline: Mapping[str, Any],
    *,
    time_factor: float = DEFAULT_TIME_FACTOR,
    check_time: bool = True,
) -> list[str]:
    """Every regression of `results` against the recorded baseline, as "<scenario@size>: why"
    (empty: the gate passes). A result fails when its orchestrated response has no plan or is
    not optimal within the gap, when its orchestrated objective is worse than the baseline's
    beyond the MIP gap, when an expectation of its scenario breaks, or when its solve-time ratio
    grew beyond `time_factor` times the baseline's. Cases missing from the baseline are only
    checked for status and expectations; cases whose network or signals hash differs from the
    baseline's fail (the inputs changed: review, then `update-baseline`). `check_time=False` skips
    every wall-clock comparison."""
    recorded = baseline.get("scenarios", {})
    failures: list[str] = []
    for result in results:
        key = f"{result['scenario']}@{result['size']}"
        if "error" in result:
            failures.append(f"{key}: failed to run: {result['error']}")
            continue
        orchestrated = result["responses"]["orchestrated"]
        if not orchestrated.get("has_solution") or orchestrated.get("status") != "optimal":
            failures.append(f"{key}: orchestrated response is {orchestrated.get('status')} (was optimal)")
        for message in evaluate_expectations(result, check_time=check_time):
            failures.append(f"{key}: expectation broken: {message}")
        before = recorded.get(key)
        if before is None:
            continue
        changed = [h for h in ("network_sha256", "signals_sha256") if result.get(h) != before.get(h)]
        if changed:
            failures.append(
                f"{key}: {' and '.join(changed)} differ from the baseline's: the inputs changed; review the "
                "generator or scenario, then run `python -m benchmarks update-baseline`"
            )
            continue
        gap = float(result.get("mip_rel_gap", DEFAULT_GAP))
        if orchestrated.get("has_solution") and worse_beyond_gap(
            orchestrated.get("objective"), before["objective"], gap
        ):
            failures.append(
                f"{key}: orchestrated objective {orchestrated.get('objective'):,.2f} worse than the baseline's "
                f"{before['objective']:,.2f} beyond the {gap:.2%} gap"
            )
        if check_time and result["solve_ratio"] > time_factor * before["solve_ratio"]:
            failures.append(
                f"{key}: solve-time ratio {result['solve_ratio']:.2f} grew beyond {time_factor:g}x the baseline's "
                f"{before['solve_ratio']:.2f}"
            )
    return failures


def baseline_record(
    results: Sequence[Mapping[str, Any]], previous: Mapping[str, Any] | None = None, *, highs: str = ""
) -> dict[str, Any]:
    """What the gate compares against: per case, the orchestrated objective, status, gap and
    solve-time ratio, with the hashes that say which inputs they belong to and the HiGHS version
    (`highs`) that solved it. The cases of `previous` (a baseline read back) that `results` did
    not run are kept as they were, so recording the CI suite keeps the M cases a full run recorded."""
    scenarios = dict(previous.get("scenarios", {})) if previous is not None else {}
    for r in results:
        if "error" in r:
            continue
        orchestrated = r["responses"]["orchestrated"]
        scenarios[f"{r['scenario']}@{r['size']}"] = {
            "network_sha256": r["network_sha256"],
            "signals_sha256": r["signals_sha256"],
            "seed": r["seed"],
            "status": orchestrated["status"],
            "objective": round(orchestrated["objective"], 2) if orchestrated["objective"] is not None else None,
            "fill_rate": round(orchestrated.get("fill_rate", math.nan), 6),
            "mip_rel_gap": r["mip_rel_gap"],
            "solve_ratio": round(r["solve_ratio"], 3),
            "highs": highs,
        }
    return {"scenarios": dict(sorted(scenarios.items()))}


def solver_version_note(results: Sequence[Mapping[str, Any]], baseline: Mapping[str, Any], highs: str) -> str | None:
    """A plain sentence when the cases being checked were recorded with another HiGHS than `highs`,
    the one that ran them (None when every recorded case names the same version): a new solver moves
    objectives inside the gap and solve-time ratios, and the gate cannot tell that from a change of
    Concerto's."""
    recorded = baseline.get("scenarios", {})
    others: dict[str, list[str]] = {}
    for r in results:
        key = f"{r['scenario']}@{r['size']}"
        if key in recorded and recorded[key].get("highs", "") != highs:
            others.setdefault(recorded[key].get("highs") or "an unrecorded version", []).append(key)
    if not others:
        return None
    told = "; ".join(f"{', '.join(sorted(keys))} with HiGHS {version}" for version, keys in sorted(others.items()))
    return (
        f"note: this run used HiGHS {highs}, but the baseline recorded {told}. Objectives may move within the "
        "gap and solve-time ratios with the solver; once the new version's results are reviewed, "
        "`python -m benchmarks update-baseline` records them."
    )


def write_baseline(record: Mapping[str, Any], path: Path = BASELINE_PATH) -> None:
    """Sorted keys, two-space indent, one trailing newline: a diff that reads well in review."""
    write_json(path, record, sort_keys=True)
