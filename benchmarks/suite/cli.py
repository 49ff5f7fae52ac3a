"""The suite's command line: `python -m benchmarks run | check | update-baseline`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.suite.compare import differences
from benchmarks.suite.distributed import LOCAL, ray_module
from benchmarks.suite.gate import (
    BASELINE_PATH,
    DEFAULT_TIME_FACTOR,
    baseline_record,
    gate,
    solver_version_note,
    write_baseline,
)
from benchmarks.suite.plots import plot, pyplot
from benchmarks.suite.report import markdown, write_report
from benchmarks.suite.runner import run_suite
from benchmarks.suite.settings import DEFAULT_GAP

SUITE_COMMANDS = ("run", "check", "update-baseline")


def add_suite_commands(sub: Any) -> None:
    """Add the suite's subcommands to `python -m benchmarks`'s subparsers."""
    for name, help_text in (
        ("run", "the disruption suite: orchestrated vs sequential vs do-nothing per scenario"),
        ("check", "the regression gate: run the suite and compare with benchmarks/baseline.json"),
        ("update-baseline", "run the suite and rewrite benchmarks/baseline.json from it"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument(
            "--suite",
            nargs="+",
            default=["ci"],
            metavar="ci|full[@SIZES]|NAME[@SIZE]",
            help="ci (every scenario at S, default), full (every scenario at every size it names: S and M, "
            "and L for the supplier outage and the demand surge), full@S,M (the same at the sizes listed), "
            "or scenario names (any at L as NAME@L)",
        )
        p.add_argument(
            "--jobs",
            type=int,
            default=None,
            help="worker processes (default 2); with --ray, the local Ray's CPUs (default: the machine's cores) "
            "or, on a cluster, the most tasks in flight (default: no limit)",
        )
        p.add_argument(
            "--ray",
            nargs="?",
            const=LOCAL,
            default=None,
            metavar="ADDRESS",
            help="run the cases as Ray tasks: on a local Ray started for this run, or on the cluster at ADDRESS "
            "(auto, HOST:PORT or ray://HOST:10001); each task solves the reference model itself "
            "(needs Ray: pip install 'concerto[ray]')",
        )
        p.add_argument("--threads", type=int, default=1, help="HiGHS threads per solve (default 1)")
        p.add_argument(
            "--gap", type=float, default=DEFAULT_GAP, help="relative MIP gap (default 0.1%%; L at least 1%%)"
        )
        p.add_argument("--out", type=Path, default=Path(f"bench-results/suite-{name}.json"))
        if name != "run":
            p.add_argument(
                "--report",
                type=Path,
                default=None,
                help="use the results of a report `run` wrote instead of running the suite again",
            )
        p.add_argument("--markdown", type=Path, default=None, help="also write the Markdown table here")
        if name in ("run", "check"):
            p.add_argument(
                "--same-as",
                type=Path,
                default=None,
                metavar="REPORT",
                help="also compare with the results of REPORT (another run's, e.g. the local runner's against "
                "--ray's): the same statuses, objectives within the MIP gap and expectation verdicts, or exit 1",
            )
        if name == "run":
            p.add_argument(
                "--plot",
                type=Path,
                default=None,
                help="write PNG charts here: cost by function, solve time against model size "
                "(needs matplotlib: pip install 'concerto[plot]')",
            )
        if name in ("check", "update-baseline"):
            p.add_argument("--baseline", type=Path, default=BASELINE_PATH)
        if name == "check":
            p.add_argument(
                "--time-factor",
                type=float,
                default=DEFAULT_TIME_FACTOR,
                help=f"largest growth of a solve-time ratio over the baseline's (default {DEFAULT_TIME_FACTOR:g}x)",
            )


def run_suite_command(args: Any) -> int:
    """Run the suite, print and write the report; for check, the gate's verdict is the exit code.
    `run --plot` without matplotlib stops at once (exit 2), before any scenario runs."""
    if getattr(args, "plot", None) is not None:
        try:
            pyplot()
        except ImportError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    ran = getattr(args, "report", None) is None
    if ran and args.ray is not None:
        try:
            ray_module()
        except ImportError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    same_as = None
    if getattr(args, "same_as", None) is not None:
        same_as = _read_report(args.same_as)
        if same_as is None:
            return 2
    report: dict[str, Any] | None
    if ran:
        try:
            report = run_suite(args.suite, jobs=args.jobs, threads=args.threads, gap=args.gap, ray=args.ray)
        except ConnectionError as err:  # ray.init could not join the cluster at --ray's address
            print(f"error: cannot join the Ray cluster at {args.ray}: {err}", file=sys.stderr)
            return 2
    else:
        report = _read_report(args.report)
    if report is None:
        return 2
    table = markdown(report)
    print(table)
    if ran:
        write_report(report, args.out)
        print(f"\nresults written to {args.out}")
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table + "\n")
    agree = same_as is None or _same_as(report, same_as, args.same_as)
    if args.command == "run":
        if args.plot is not None:
            for path in plot(report, args.plot):
                print(f"chart written to {path}")
        return 1 if any("error" in r for r in report["results"]) or not agree else 0
    if args.command == "update-baseline":
        return _update_baseline(report, args.baseline)
    code = _check(report, args.baseline, args.time_factor)
    return code if code != 0 or agree else 1


def _read_report(path: Path) -> dict[str, Any] | None:
    """The report at `path`, or None (the reason printed) when it is not one `run` wrote."""
    try:
        report = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        print(f"error: cannot read the report {path}: {err}", file=sys.stderr)
        return None
    if not isinstance(report, dict) or report.get("benchmark") != "suite" or "results" not in report:
        print(f"error: {path} is not a report of `python -m benchmarks run`", file=sys.stderr)
        return None
    return report


def _same_as(report: dict[str, Any], other: dict[str, Any], path: Path) -> bool:
    """Whether the report's results agree with `other`'s (the report at `path`), printing the verdict."""
    found = differences(report["results"], other["results"], name=str(path))
    if found:
        print(f"\nresults DIFFER from {path} ({len(found)}):", file=sys.stderr)
        for difference in found:
            print(f"  {difference}", file=sys.stderr)
        return False
    print(
        f"\nsame results as {path}: {len(report['results'])} scenarios, the same statuses and expectation "
        "verdicts, objectives within the MIP gap"
    )
    return True


def _update_baseline(report: dict[str, Any], path: Path) -> int:
    """Record the report's results as the baseline, keeping the cases it did not run; refuse (exit 1)
    when a scenario failed to run."""
    errors = [f"{r['scenario']}@{r['size']}: {r['error']}" for r in report["results"] if "error" in r]
    if errors:
        print("baseline not written; these scenarios failed to run:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    previous = json.loads(path.read_text()) if path.exists() else None
    highs = report["environment"]["highs"]
    write_baseline(baseline_record(report["results"], previous, highs=highs), path)
    print(f"baseline written to {path}")
    return 0


def _check(report: dict[str, Any], path: Path, time_factor: float) -> int:
    """The regression gate against the baseline at `path`: 0 when it passes, 1 when it fails, 2
    when there is no baseline."""
    if not path.exists():
        print(f"no baseline at {path}; write one with `python -m benchmarks update-baseline`", file=sys.stderr)
        return 2
    baseline = json.loads(path.read_text())
    note = solver_version_note(report["results"], baseline, report["environment"]["highs"])
    if note is not None:
        print(f"\n{note}", file=sys.stderr)
    failures = gate(report["results"], baseline, time_factor=time_factor)
    if failures:
        print(f"\nregression gate FAILED ({len(failures)}):", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    print(f"\nregression gate passed: {len(report['results'])} scenarios against {path}")
    return 0
