"""Portfolio benchmark: each backend alone and the HiGHS/SCIP race, all in worker processes, on
generated networks; medians of a few runs, written as JSON and printed as Markdown.
"""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.build import environment
from benchmarks.generator import generate
from benchmarks.jsonout import write_json
from solver.backends.registry import available_backends
from solver.options import SolveOptions
from solver.planner import compile_model
from solver.portfolio import race

RACE = ("highs", "ortools-scip")


@dataclass(frozen=True)
class PortfolioRow:
    """One size: wall seconds (worker start-up included) of each entrant and of the race."""

    size: str
    seed: int
    input_hash: str
    n_cols: int
    n_rows: int
    n_integer: int
    seconds: dict[str, float]
    """Median wall seconds per backend alone, and under "portfolio" for the race."""
    objective: dict[str, float]
    wins: dict[str, int]
    """How often each backend won the race."""


def measure(size: str, *, seed: int, repeat: int, time_limit: float, gap: float, threads: int) -> PortfolioRow:
    spec = generate(size, seed)
    lp = compile_model(spec).lp
    digest = hashlib.sha256(lp.c.tobytes() + lp.A.data.tobytes() + lp.row_upper.tobytes()).hexdigest()[:16]
    options = SolveOptions(time_limit=time_limit, mip_rel_gap=gap, threads=threads, seed=seed)
    entrants = [name for name in RACE if name in available_backends()]
    times: dict[str, list[float]] = {name: [] for name in [*entrants, "portfolio"]}
    objective: dict[str, float] = {}
    wins: dict[str, int] = {name: 0 for name in entrants}
    for _ in range(repeat):
        for name in entrants:
            alone = race(lp, options, [name])
            times[name].append(alone.seconds)
            objective[name] = alone.solution.objective
        raced = race(lp, options, entrants)
        times["portfolio"].append(raced.seconds)
        objective["portfolio"] = raced.solution.objective
        wins[raced.winner] += 1
    return PortfolioRow(
        size=size,
        seed=seed,
        input_hash=digest,
        n_cols=lp.n_cols,
        n_rows=lp.n_rows,
        n_integer=lp.n_integer,
        seconds={name: statistics.median(v) for name, v in times.items()},
        objective=objective,
        wins=wins,
    )


def report(rows: list[PortfolioRow]) -> str:
    names = list(rows[0].seconds) if rows else []
    head = "| size | cols | rows | int | " + " | ".join(f"{n} s" for n in names) + " | wins | objective |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = " | ".join(f"{r.seconds[n]:.3f}" for n in names)
        wins = ", ".join(f"{n} {k}" for n, k in r.wins.items())
        objective = r.objective.get("portfolio", float("nan"))
        lines.append(f"| {r.size} | {r.n_cols} | {r.n_rows} | {r.n_integer} | {cells} | {wins} | {objective:.6g} |")
    return "\n".join(lines)


def run_portfolio_benchmark(
    sizes: list[str], *, seed: int, repeat: int, time_limit: float, gap: float, threads: int, out: Path | None
) -> list[PortfolioRow]:
    rows = [measure(size, seed=seed, repeat=repeat, time_limit=time_limit, gap=gap, threads=threads) for size in sizes]
    table = report(rows)
    print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        document: dict[str, Any] = {
            "environment": environment(),
            "settings": {"seed": seed, "repeat": repeat, "time_limit": time_limit, "gap": gap, "threads": threads},
            "rows": [asdict(r) for r in rows],
            "markdown": table,
        }
        write_json(out, document)
    return rows
