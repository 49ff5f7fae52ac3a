"""The suite's report: per-case rows and the value of orchestration in Markdown, the per-size
performance (the largest size solved), and the report file."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.generator import SIZES
from benchmarks.jsonout import write_json
from benchmarks.suite.compare import within_gap
from benchmarks.suite.expectations import evaluate_expectations
from benchmarks.suite.settings import GAP_TOLERANCE, RESPONSES, SOLVED_GAP, SOLVED_SECONDS
from benchmarks.suite.timing import REFERENCE_MODEL


def _num(x: Any, fmt: str) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def _pp(x: Any) -> str:
    """A fraction as signed percentage points, 0.01 pp: 0.0123 -> +1.23 pp."""
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{100 * x:+.2f} pp"


def _solved(result: Mapping[str, Any]) -> bool:
    """Whether a case's orchestrated response reached `SOLVED_GAP` within `SOLVED_SECONDS` of its
    final solve (`GapClock`; a report written before the clock existed falls back on the final
    plan's gap and whole solve time). A case that failed to run is not solved."""
    if "error" in result:
        return False
    orchestrated = result["responses"]["orchestrated"]
    if not orchestrated.get("has_solution"):
        return False
    if "seconds_to_solved_gap" in orchestrated:
        seconds = orchestrated["seconds_to_solved_gap"]
        return seconds is not None and seconds <= SOLVED_SECONDS
    gap, seconds = orchestrated.get("gap"), orchestrated.get("solve_seconds")
    return gap is not None and gap <= SOLVED_GAP + GAP_TOLERANCE and seconds is not None and seconds <= SOLVED_SECONDS


def size_order(size: str) -> tuple[int, str]:
    """Generator sizes smallest first (the order of `SIZES`), then any other name alphabetically."""
    names = list(SIZES)
    return (names.index(size), "") if size in names else (len(names), size)


def performance(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per size run, the medians over its scenarios of the orchestrated response's figures that
    every case already records: columns of the final replan model, its build time, its solve time
    and the end-to-end replan time (`ready_seconds`: signals applied, first plan from the reach,
    full model built and solved, plan extracted); and how many cases were solved (`_solved`).
    The largest size solved is the largest whose every case was; None when no size was.

    Medians leave out cases that failed to run (they have no figures) but such a case still keeps
    its size from counting as solved: a size is only solved when the whole suite at it is.
    """
    by_size: dict[str, list[Mapping[str, Any]]] = {}
    for r in results:
        by_size.setdefault(r["size"], []).append(r)

    def median(records: list[Mapping[str, Any]], name: str) -> float | None:
        values = [x[name] for x in records if x.get(name) is not None]
        return statistics.median(values) if values else None

    sizes = []
    for size in sorted(by_size, key=size_order):
        cases = by_size[size]
        orchestrated = [r["responses"]["orchestrated"] for r in cases if "error" not in r]
        with_plan = [x for x in orchestrated if x.get("has_solution")]
        sizes.append(
            {
                "size": size,
                "cases": len(cases),
                "solved": sum(_solved(r) for r in cases),
                "columns": median(orchestrated, "n_cols"),
                "build_seconds": median(orchestrated, "build_seconds"),
                "solve_seconds": median(orchestrated, "solve_seconds"),
                "solved_gap_seconds": median(orchestrated, "seconds_to_solved_gap"),
                "replan_seconds": median(orchestrated, "ready_seconds"),
                "statuses": dict(sorted(Counter(str(x.get("status")) for x in orchestrated).items())),
                "with_plan": len(with_plan),
                "gap": median(with_plan, "gap"),
                "bound": median(orchestrated, "bound"),
                "failed": len(cases) - len(orchestrated),
            }
        )
    solved = [s["size"] for s in sizes if s["solved"] == s["cases"]]
    return {
        "solved_gap": SOLVED_GAP,
        "solved_seconds": SOLVED_SECONDS,
        "sizes": sizes,
        "largest_size_solved": solved[-1] if solved else None,
    }


def performance_markdown(summary: Mapping[str, Any]) -> list[str]:
    """The per-size table of `performance` and its verdict line."""
    gap, seconds = summary["solved_gap"], summary["solved_seconds"]
    lines = [
        f"| size | scenarios | columns | median build s | median solve s | median s to {gap:.0%} gap "
        f"| median replan s | solved to {gap:.0%} gap in {seconds:g} s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summary["sizes"]:
        lines.append(
            f"| {s['size']} | {s['cases']} | {_num(s['columns'], ',.0f')} | {_num(s['build_seconds'], '.2f')} "
            f"| {_num(s['solve_seconds'], '.2f')} | {_num(s.get('solved_gap_seconds'), '.2f')} "
            f"| {_num(s['replan_seconds'], '.2f')} | {s['solved']}/{s['cases']} |"
        )
    largest = summary["largest_size_solved"] or "none"
    ran = {s["size"] for s in summary["sizes"]}
    larger = [size for size in SIZES if size != "demo" and size not in ran and _larger_than_all(size, ran)]
    lines.append("")
    if larger:
        lines.append(
            f"not run at {', '.join(larger)}: no scenario of this suite runs there, so the line below does not "
            "speak for it; `python -m benchmarks build --sizes L` measures how far the L plan gets"
        )
    lines.append(f"largest size solved to {gap:.0%} gap within {seconds:g} s: {largest}")
    lines += [how_far(s) for s in summary["sizes"] if s["solved"] < s["cases"] and _larger_than_solved(s, summary)]
    return lines


def _larger_than_solved(size: Mapping[str, Any], summary: Mapping[str, Any]) -> bool:
    largest = summary["largest_size_solved"]
    return largest is None or size_order(size["size"]) > size_order(largest)


def how_far(size: Mapping[str, Any]) -> str:
    """How far a size past the largest solved got: its orchestrated replans' statuses, how many
    had a plan and their median certified gap, the median lower bound and solve time. A report
    written before these figures existed says only what it has."""
    statuses = ", ".join(f"{n} {status}" for status, n in (size.get("statuses") or {}).items()) or "no figures"
    parts = [f"{size['size']}: {size['solved']}/{size['cases']} solved; orchestrated replans {statuses}"]
    if size.get("failed"):
        parts.append(f"{size['failed']} failed to run")
    if size.get("with_plan"):
        parts.append(f"{size['with_plan']} with a plan, median certified gap {_num(size.get('gap'), '.2%')}")
    elif "with_plan" in size:
        parts.append("none with a plan")
    parts.append(f"median solve {_num(size.get('solve_seconds'), '.1f')} s")
    if size.get("bound") is not None:
        parts.append(f"median lower bound {_num(size.get('bound'), ',.0f')}")
    return "; ".join(parts)


def _larger_than_all(size: str, sizes: set[str]) -> bool:
    return all(size_order(size) > size_order(other) for other in sizes)


RESPONSE_LEGEND = (
    "Columns: *objective* = cost - revenue of the response's plan (money, rounded); *fill* = share "
    "of demand delivered; *perfect orders* = share of orders delivered complete and on time; "
    "*cycle h* = order fulfilment cycle time in hours; *turnover* = inventory turnover; *C2C d* = "
    "cash-to-cash days; *escalations* = approvals the plan needs (+ hours until it may run); "
    "*changes* = decisions changed against the baseline / all decisions; *wall s* = seconds from "
    "the call to the plan; *solve / ref* = orchestrated wall seconds over the reference model's "
    "solve on this machine. Responses: *orchestrated* = Concerto's coordinated replan; "
    "*sequential* = functions deciding one after another; *do_nothing* = the baseline executed "
    "as far as the disruption allows."
)
VALUE_LEGEND = (
    "Columns: *saves vs X* = objective of response X - orchestrated objective (money, rounded; "
    "positive: orchestrating costs less); *fill gain vs X* = orchestrated fill rate - X's, in "
    "percentage points; *(within gap)* = a saving no larger than the MIP gap times the orchestrated "
    "objective, which the solves leave undecided; *expectations* = the scenario's written "
    "expectations, ok or what broke."
)

PERFORMANCE_LEGEND = (
    "Columns: medians over a size's scenarios of the orchestrated replan: *columns* of its final "
    "model; *build s* and *solve s* (HiGHS) of that model; *s to gap* = seconds of the final solve "
    "until the incumbent was within the solved gap; *replan s* = seconds from the signals to the "
    "final plan; *solved* = scenarios whose final solve reached the gap in time."
)


def _environment_lines(report: Mapping[str, Any]) -> list[str]:
    """Title and provenance: which suite, the commit, solver versions and the machine."""
    env: Mapping[str, Any] = report.get("environment", {})
    settings: Mapping[str, Any] = report.get("settings", {})
    suite = ", ".join(report.get("suite", [])) or "?"
    commit = env.get("commit") or "unknown"
    cpu = env.get("cpu_model") or env.get("processor") or "unknown CPU"
    return [
        f"# Concerto disruption suite: {suite}",
        "",
        f"- commit: `{commit}`",
        f"- solvers: HiGHS {env.get('highs', '?')}; Python {env.get('python', '?')}, numpy "
        f"{env.get('numpy', '?')}, Pyomo {env.get('pyomo', '?')}",
        f"- machine: {env.get('cpus', '?')} cores, {cpu}; {env.get('platform', '?')}",
        f"- settings: MIP gap {_gap_text(settings)}, {settings.get('jobs', '?')} job(s), "
        f"{settings.get('threads', '?')} HiGHS thread(s) per solve; suite wall time "
        f"{_num(report.get('wall_seconds'), ',.0f')} s",
        "",
    ]


def markdown(report: Mapping[str, Any]) -> str:
    """A title with the commit, solver versions and machine; one row per case and response:
    objective, fill, perfect orders, cycle time, turnover, cash-to-cash, escalations, plan changes,
    time (and a line naming the sequential stages that ended short of optimal); then the value of
    orchestration per case; then the per-size performance (`performance`,
    recomputed for a report written before it existed). Each table is followed by a legend of its
    columns; money is rounded to whole units, rates to 0.1% (0.01 pp for gains), seconds to 0.01."""
    head = (
        "| scenario | response | status | objective | fill | perfect orders | cycle h | turnover | C2C d "
        "| escalations | changes | wall s | solve / ref |"
    )
    lines = [*_environment_lines(report), "## Responses per scenario", "", head, "|" + "---|" * 13]
    for r in report["results"]:
        key = f"{r['scenario']}@{r['size']}"
        if "error" in r:
            lines.append(f"| {key} | - | error | {r['error']} |" + " |" * 9)
            continue
        for name in RESPONSES:
            p = r["responses"][name]
            changes = f"{p['plan_changes']}/{p['plan_decisions']}" if "plan_changes" in p else "-"
            ratio = f"{r['solve_ratio']:.2f}" if name == "orchestrated" else "-"
            escalations = ", ".join(p.get("escalations", [])) or "-"
            if name == "orchestrated" and p.get("execute_after_hours"):
                escalations += f" (+{p['execute_after_hours']:.0f} h)"
            lines.append(
                f"| {key} | {name} | {p['status']} | {_num(p.get('objective'), ',.0f')} "
                f"| {_num(p.get('fill_rate'), '.1%')} | {_num(p.get('perfect_order_rate'), '.1%')} "
                f"| {_num(p.get('cycle_time_hours'), '.0f')} | {_num(p.get('inventory_turnover'), '.1f')} "
                f"| {_num(p.get('cash_to_cash_days'), '.1f')} | {escalations} | {changes} "
                f"| {p['wall_seconds']:.2f} | {ratio} |"
            )
    lines += [*_unfinished_stages(report["results"]), "", RESPONSE_LEGEND]
    lines += [
        "",
        "## Value of orchestration",
        "",
        "| scenario | saves vs sequential | fill gain vs sequential | saves vs do nothing "
        "| fill gain vs do nothing | expectations |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        if "error" in r:
            continue
        v = r["value_of_orchestration"]
        broken = evaluate_expectations(r)
        status = "ok" if not broken else "BROKEN: " + "; ".join(broken)
        lines.append(
            f"| {r['scenario']}@{r['size']} | {_saving(r, 'sequential', v['cost_gap_to_sequential'])} "
            f"| {_pp(v['fill_rate_gap_to_sequential'])} | {_saving(r, 'do_nothing', v['cost_gap_to_do_nothing'])} "
            f"| {_pp(v['fill_rate_gap_to_do_nothing'])} | {status} |"
        )
    reference = report.get("reference_seconds")
    lines += ["", VALUE_LEGEND, "", "## Performance per size", ""]
    lines += [*performance_markdown(report.get("performance") or performance(report["results"]))]
    lines += ["", PERFORMANCE_LEGEND]
    lines += [
        "",
        f"Reference solve ({REFERENCE_MODEL.name}, HiGHS directly): {_num(reference, '.3f')} s median; "
        f"suite wall time {report['wall_seconds']:.1f} s with {report['settings']['jobs']} jobs; "
        f"MIP gap {_gap_text(report['settings'])}; HiGHS {report['environment']['highs']}.",
    ]
    return "\n".join(lines)


def _saving(result: Mapping[str, Any], other: str, saving: Any) -> str:
    """What orchestrating saves against response `other`, rounded, marked "(within gap)" when the
    two objectives are within the case's MIP gap of each other (`compare.within_gap`): the solves
    leave that much undecided, so such a difference shows neither response better."""
    text = _num(saving, ",.0f")
    responses, gap = result["responses"], result.get("mip_rel_gap")
    a, b = responses["orchestrated"].get("objective"), responses[other].get("objective")
    if gap is not None and a is not None and b is not None and within_gap(a, b, gap):
        text += " (within gap)"
    return text


def _unfinished_stages(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """A line naming every sequential stage that ended short of optimal (a limit stopped it), if
    any: a FEASIBLE stage kept a plan (at least its start, the plan of the stage before, when the
    solver took it) without proving it within the gap."""
    short = [
        f"{r['scenario']}@{r['size']}: {s['function']} {s['status']} after {s['seconds']:.1f} s"
        for r in results
        if "error" not in r
        for s in r["responses"]["sequential"].get("stages", [])
        if s["status"] != "optimal"
    ]
    if not short:
        return []
    return ["", "Sequential stages that ended short of optimal: " + "; ".join(short) + "."]


def _gap_text(settings: Mapping[str, Any]) -> str:
    """The suite's MIP gap, with the sizes solved to a wider one: "0.1% (L 1.0%)"."""
    text = _num(settings.get("mip_rel_gap"), ".1%")
    wider = settings.get("size_gaps") or {}
    if wider:
        text += " (" + ", ".join(f"{size} {_num(gap, '.1%')}" for size, gap in wider.items()) + ")"
    return text


def write_report(report: Mapping[str, Any], out: Path) -> None:
    write_json(out, report, default=lambda x: None)
