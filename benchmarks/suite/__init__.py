"""The disruption benchmark suite: declarative scenarios (`benchmarks/scenarios/*.json`) answered
three ways (`solver.responses.respond`), their expectations, and the regression gate against
`benchmarks/baseline.json`.

One concept per module:
  scenarios      scenario files and the cases a suite runs
  targets        the target language: selectors by role and rank, and the signals they resolve to
  expectations   what a scenario requires of its responses, and which of them a result breaks
  timing         the reference solve (the suite's unit of time) and `GapClock` (time to a gap)
  worker         one case in a worker process: baseline, three responses, plain-JSON figures
  runner         a suite's cases in worker processes, gathered into one report
  distributed    the suite's cases as Ray tasks (`--ray [ADDRESS]`), each with its own reference solve
  compare        two runs of the same cases against each other (`--same-as REPORT`)
  gate           the regression gate against the recorded baseline, and that record
  report         Markdown tables, per-size performance, the report file
  plots          the optional charts
  cli            `python -m benchmarks run | check | update-baseline`
  settings       the gap, tolerance, responses and "solved" every part shares
"""

from __future__ import annotations

from benchmarks.suite.cli import SUITE_COMMANDS, add_suite_commands, run_suite_command
from benchmarks.suite.expectations import EXPECTATIONS, evaluate_expectations
from benchmarks.suite.gate import (
    BASELINE_PATH,
    DEFAULT_TIME_FACTOR,
    baseline_record,
    gate,
    solver_version_note,
    write_baseline,
)
from benchmarks.suite.plots import (
    APPROACH_HATCHES,
    APPROACH_MARKERS,
    PLOT_HINT,
    plot,
    plot_costs,
    plot_solve_times,
    plot_value,
    pyplot,
    solve_time_figure,
    value_figure,
)
from benchmarks.suite.report import markdown, performance, performance_markdown, write_report
from benchmarks.suite.runner import progress_bar, run_cases, run_suite
from benchmarks.suite.scenarios import (
    SCENARIO_DIR,
    SCENARIO_FIELDS,
    SIGNAL_FIELDS,
    SUITES,
    Case,
    Scenario,
    ScenarioError,
    load_scenario,
    load_scenarios,
    scenario_network,
    scenario_protocols,
    select_cases,
)
from benchmarks.suite.settings import (
    DEFAULT_GAP,
    GAP_TOLERANCE,
    RESPONSES,
    SIZE_GAPS,
    SOLVED_GAP,
    SOLVED_SECONDS,
    case_gap,
)
from benchmarks.suite.targets import TARGET_FIELD, rank_targets, resolve_signals, resolve_target
from benchmarks.suite.timing import (
    REFERENCE,
    REFERENCE_MODEL,
    REFERENCE_REPEATS,
    GapClock,
    reference_seconds,
    write_reference_model,
)
from benchmarks.suite.worker import run_case, sha256

__all__ = [
    "APPROACH_HATCHES",
    "APPROACH_MARKERS",
    "BASELINE_PATH",
    "DEFAULT_GAP",
    "DEFAULT_TIME_FACTOR",
    "EXPECTATIONS",
    "GAP_TOLERANCE",
    "PLOT_HINT",
    "REFERENCE",
    "REFERENCE_MODEL",
    "REFERENCE_REPEATS",
    "RESPONSES",
    "SCENARIO_DIR",
    "SCENARIO_FIELDS",
    "SIGNAL_FIELDS",
    "SIZE_GAPS",
    "SOLVED_GAP",
    "SOLVED_SECONDS",
    "SUITES",
    "SUITE_COMMANDS",
    "TARGET_FIELD",
    "Case",
    "GapClock",
    "Scenario",
    "ScenarioError",
    "add_suite_commands",
    "baseline_record",
    "case_gap",
    "evaluate_expectations",
    "gate",
    "load_scenario",
    "load_scenarios",
    "markdown",
    "performance",
    "performance_markdown",
    "plot",
    "plot_costs",
    "plot_solve_times",
    "plot_value",
    "progress_bar",
    "pyplot",
    "rank_targets",
    "reference_seconds",
    "resolve_signals",
    "resolve_target",
    "run_case",
    "run_cases",
    "run_suite",
    "run_suite_command",
    "scenario_network",
    "scenario_protocols",
    "select_cases",
    "sha256",
    "solve_time_figure",
    "solver_version_note",
    "value_figure",
    "write_baseline",
    "write_reference_model",
    "write_report",
]
