"""Two runs of the same cases against each other (`--same-as REPORT`): the suite on Ray against the
local runner, say. They agree when every case ran in both on the same inputs, every response has
the same status, its objective (and the baseline plan's) is within the MIP gap of the other run's,
and the same expectations hold. Wall-clock figures and the expectations on them are not compared:
they are measurements, not verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.suite.expectations import evaluate_expectations
from benchmarks.suite.settings import DEFAULT_GAP, GAP_TOLERANCE, RESPONSES


def within_gap(a: float | None, b: float | None, gap: float) -> bool:
    """Whether two objectives, each proven within the relative gap of the optimum, may be the same
    optimum's: both missing, or no further apart than the gap of the larger."""
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= (gap + GAP_TOLERANCE) * max(abs(a), abs(b), 1.0)


def differences(
    results: Sequence[Mapping[str, Any]], others: Sequence[Mapping[str, Any]], name: str = "the other run"
) -> list[str]:
    """Every way `results` disagree with `others` (`name` says whose they are), as "<scenario@size>:
    what" (empty: they agree). A case of `results` that `others` did not run is a difference; cases
    only `others` ran are not compared."""
    theirs = {f"{r['scenario']}@{r['size']}": r for r in others}
    found: list[str] = []
    for mine in results:
        key = f"{mine['scenario']}@{mine['size']}"
        other = theirs.get(key)
        if other is None:
            found.append(f"{key}: not in {name}")
            continue
        if "error" in mine or "error" in other:
            found.append(f"{key}: failed to run (here: {mine.get('error')}; {name}: {other.get('error')})")
            continue
        changed = [h for h in ("network_sha256", "signals_sha256") if mine.get(h) != other.get(h)]
        if changed:
            found.append(f"{key}: {' and '.join(changed)} differ from {name}'s: not the same inputs")
            continue
        gap = max(float(mine.get("mip_rel_gap", DEFAULT_GAP)), float(other.get("mip_rel_gap", DEFAULT_GAP)))
        pairs = [("baseline", mine["baseline"], other["baseline"])]
        pairs += [(r, mine["responses"][r], other["responses"][r]) for r in RESPONSES]
        for what, a, b in pairs:
            if a.get("status") != b.get("status"):
                found.append(f"{key}: {what} is {a.get('status')}, {b.get('status')} in {name}")
            elif not within_gap(a.get("objective"), b.get("objective"), gap):
                found.append(
                    f"{key}: {what} objective {a.get('objective')} against {b.get('objective')} in {name}, "
                    f"beyond the {gap:.2%} gap"
                )
        broken = evaluate_expectations(mine, check_time=False)
        broken_there = evaluate_expectations(other, check_time=False)
        verdict = sorted(m.split(":", 1)[0] for m in broken)
        verdict_there = sorted(m.split(":", 1)[0] for m in broken_there)
        if verdict != verdict_there:
            found.append(f"{key}: expectations broken here {verdict or 'none'}, in {name} {verdict_there or 'none'}")
    return found
