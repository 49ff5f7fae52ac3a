"""The replan benchmark when a size has no baseline plan (as L within any time limit tried): the size
is reported with its status and lower bound, and no disruption is replanned against nothing."""

from __future__ import annotations

import math

import pytest

from benchmarks.__main__ import main
from benchmarks.replan import ReplanSettings, measure_size, report


def test_a_size_without_a_baseline_plan_is_reported_not_replanned() -> None:
    """M's MILP stopped after 0.05 s has no plan (its root LP alone takes 15-20 s): the size comes
    back with no rows and the baseline's status, and the report says "no plan"."""
    settings = ReplanSettings(time_limit=0.05, method="milp", threads=1)
    messages: list[str] = []
    result = measure_size("M", 1, settings, messages.append)
    assert result.rows == []
    assert result.baseline_status == "time_limit"
    assert math.isnan(result.baseline_objective)
    assert any("no baseline plan" in m for m in messages)
    text = report([result], settings)
    assert "| M | 96,670 | 782 | 0 |" in text and "| time_limit | no plan |" in text


def test_first_only_times_the_first_answers_alone() -> None:
    """At S with `first_only`, the supplier outage gets its first answer (from the signals' reach)
    and nothing else: no cold solve and no full replan, so their columns report "-"."""
    settings = ReplanSettings(threads=1, first_only=True, kinds=("supplier_outage",))
    result = measure_size("S", 1, settings, lambda _: None)
    [row] = result.rows
    assert row.first_status in ("optimal", "feasible") and row.first_seconds > 0
    assert 0 < row.reach_share < 1
    assert math.isnan(row.cold_seconds) and math.isnan(row.final_seconds) and row.final_method == ""
    line = next(line for line in report([result], settings).splitlines() if "| supplier_outage |" in line)
    assert "| - (-+-) | - |" in line and "| - | - | - | - |" in line


def test_no_cold_times_the_replan_against_its_own_final_answer() -> None:
    """At S with `no_cold`, the supplier outage is replanned (first and final answers) with no cold
    reference solve: the cold columns report "-", and the first answer is compared with the final
    one instead. With stability weight 0 both answers solve the disrupted network (the first with
    the columns outside the reach fixed, a restriction), so the final one, to a 1% gap, is at most
    1% worse than the first: first vs final >= -1%. The final gap is its own certified gap."""
    settings = ReplanSettings(threads=1, no_cold=True, kinds=("supplier_outage",))
    result = measure_size("S", 1, settings, lambda _: None)
    [row] = result.rows
    assert math.isnan(row.cold_seconds) and math.isnan(row.cold_objective)
    assert row.first_seconds > 0 and row.final_seconds >= row.first_seconds
    assert row.final_status != "" and not math.isnan(row.final_objective)
    assert 0.0 <= row.final_gap <= settings.mip_rel_gap + 1e-9
    assert row.first_vs_final >= -settings.mip_rel_gap - 1e-9
    line = next(line for line in report([result], settings).splitlines() if "| supplier_outage |" in line)
    assert "| - (-+-) | - |" in line
    assert f"| {row.final_gap:.2%} | - | {row.first_vs_final:+.2%} |" in line


@pytest.mark.parametrize("mode", ["first_only", "no_cold"])
def test_replans_at_a_stability_weight(mode: str) -> None:
    """`--stability-weight` replans at that weight, the first answers alone (`first_only`) or first
    and final answers (`no_cold`): the supplier outage at S cuts purchases from the supplier that is
    out (the baseline buys from it), so at weight 1 each answer pays a stability charge for them,
    and at weight 0 none does. Each run records whether its first answer kept the state outside its
    reach: not at S, far below `solver.planner.KEEP_STATE_CELLS`."""
    for weight in (0.0, 1.0):
        settings = ReplanSettings(threads=1, kinds=("supplier_outage",), stability_weight=weight, **{mode: True})
        [row] = measure_size("S", 1, settings, lambda _: None).rows
        assert row.first_status in ("optimal", "feasible") and row.runs[0]["first_state_kept"] is False
        keys = ["first_stability"] + (["final_stability"] if mode == "no_cold" else [])
        if mode == "no_cold":
            assert row.final_status != ""
        charges = [row.runs[0][key] for key in keys]
        assert all(c == 0.0 for c in charges) if weight == 0 else min(charges) > 0.0, (weight, charges)


def test_a_positive_stability_weight_needs_first_only_or_no_cold() -> None:
    """At a positive weight the full replan solves another model than the cold solve it would be
    compared with: the command refuses it without `--first-only` or `--no-cold`, and a weight that
    is negative or not a finite number always (`ReplanSettings` says why, the command exits 2)."""
    # Past the refusal the run would stop at once: no such disruption.
    quick = ["replan", "--sizes", "S", "--only", "no_such_disruption"]
    for extra in (["--stability-weight", "1"], ["--first-only", "--stability-weight", "-1"]):
        with pytest.raises(SystemExit) as stopped:
            main([*quick, *extra])
        assert stopped.value.code == 2
    for weight in ("nan", "inf"):
        with pytest.raises(SystemExit) as stopped:
            main([*quick, "--first-only", "--stability-weight", weight])
        assert stopped.value.code == 2


def test_the_settings_refuse_a_weight_the_replans_cannot_compare() -> None:
    """The rule lives in `ReplanSettings`, so a caller that builds the settings itself meets it too."""
    with pytest.raises(ValueError, match="needs --first-only or --no-cold"):
        ReplanSettings(stability_weight=1.0)
    with pytest.raises(ValueError, match="at least 0"):
        ReplanSettings(first_only=True, stability_weight=float("nan"))
