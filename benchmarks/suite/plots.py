"""The suite's charts (matplotlib, the optional `plot` extra): cost by function per response and
scenario, and solve time against model size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.suite.report import size_order
from benchmarks.suite.settings import RESPONSES
from models.allocation import COST_COMPONENTS, REVENUE
from models.protocols import FINANCE, GOVERNANCE

PLOT_HINT = "--plot needs matplotlib: pip install 'concerto[plot]'"

APPROACH_HATCHES = {"orchestrated": "", "sequential": "///", "do_nothing": "..."}
"""How each response's bars are drawn in the cost chart (colour is the cost component)."""
APPROACH_MARKERS = {"orchestrated": "o", "sequential": "s", "do_nothing": "^"}


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend (charts go to files; CI machines and
    worker processes have no display). Raises ImportError saying how to install the `plot` extra
    when matplotlib is missing, so `run --plot` can refuse before spending minutes on scenarios."""
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError(PLOT_HINT) from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _components(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """Cost components of the results, in the objective's order; revenue left out (it is negative
    and would hide the costs it offsets)."""
    present = {c for r in results for p in r["responses"].values() for c in p.get("cost_by_component", {})}
    known = [c for c in (*COST_COMPONENTS, GOVERNANCE, FINANCE) if c in present and c != REVENUE]
    return known + sorted(present - set(known) - {REVENUE})


def plot_costs(results: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Cost by function per response and scenario: one panel per size (each on its own scale: an M
    network's costs are some 25 times an S one's), in it per case a group of three stacked bars
    (orchestrated, sequential, do nothing), one colour per cost component, one hatch per response."""
    plt = pyplot()
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    components = _components(results)
    colours = {c: plt.colormaps["tab10"](k % 10) for k, c in enumerate(components)}
    group = len(RESPONSES) + 1  # one bar's width of space between cases
    sizes = sorted({r["size"] for r in results}, key=size_order)
    by_size = {size: [r for r in results if r["size"] == size] for size in sizes}
    widest = max(len(cases) for cases in by_size.values())
    fig, axes = plt.subplots(len(sizes), 1, figsize=(max(8.0, 0.45 * group * widest), 5.0 * len(sizes)), squeeze=False)
    for ax, size in zip(axes[:, 0], sizes, strict=True):
        cases = by_size[size]
        tallest = 0.0
        for k, r in enumerate(cases):
            for j, name in enumerate(RESPONSES):
                costs = r["responses"][name].get("cost_by_component", {})
                bottom = 0.0
                for component in components:
                    value = float(costs.get(component, 0.0))
                    ax.bar(
                        k * group + j,
                        value,
                        bottom=bottom,
                        width=0.9,
                        color=colours[component],
                        hatch=APPROACH_HATCHES[name],
                        edgecolor="white",
                        linewidth=0.5,
                    )
                    bottom += value
                tallest = max(tallest, bottom)
        ax.set_ylim(0.0, 1.05 * tallest or 1.0)  # stacked bars leave no headroom by themselves
        ax.set_xlim(-1.0, widest * group - 1.0)
        ax.set_xticks(
            [k * group + (len(RESPONSES) - 1) / 2 for k in range(len(cases))],
            [f"{r['scenario']}@{r['size']}" for r in cases],
            rotation=30,
            ha="right",
            fontsize=8,
        )
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y / 1e6:,.6g}M"))
        ax.set_ylabel("cost (revenue left out)")
        ax.set_title(f"Cost by function per response and scenario, size {size}")
    by_component = [Patch(facecolor=colours[c], label=c) for c in components]
    by_response = [
        Patch(facecolor="white", hatch=APPROACH_HATCHES[n], edgecolor="dimgrey", label=n.replace("_", " "))
        for n in RESPONSES
    ]
    first = axes[0, 0]
    legend = first.legend(handles=by_component, title="function", fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
    first.add_artist(legend)
    first.legend(handles=by_response, title="response", fontsize=8, loc="lower left", bbox_to_anchor=(1, 0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_solve_times(results: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Solve time against model size, log-log: one point per case and response, its model's columns
    against its HiGHS solve seconds (the sequential response's is the sum of its stage solves)."""
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, ax = plt.subplots(figsize=(7, 5))
    for name in RESPONSES:
        points = [
            (p["n_cols"], p["solve_seconds"])
            for p in (r["responses"][name] for r in results)
            if p.get("n_cols") and p.get("solve_seconds")
        ]
        if points:
            columns, seconds = zip(*points, strict=True)
            label = "sequential (its stages' solves)" if name == "sequential" else name.replace("_", " ")
            ax.scatter(columns, seconds, marker=APPROACH_MARKERS[name], alpha=0.7, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    # Plain numbers (0.4, 3,000) rather than 4 x 10^-1; an axis spanning less than a decade has
    # at most one major tick, so its minor ticks are labelled too.
    plain = FuncFormatter(lambda v, _: f"{v:,.10g}")
    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(plain if high < 10 * low else NullFormatter())
    ax.set_xlabel("model columns")
    ax.set_ylabel("HiGHS solve seconds")
    sizes = ", ".join(sorted({r["size"] for r in results}, key=size_order))
    cases = f"{len(results)} case{'s' if len(results) != 1 else ''}"
    ax.set_title(f"Solve time against model size ({cases}; sizes {sizes})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot(report: Mapping[str, Any], directory: Path) -> list[Path]:
    """The suite's PNG charts in `directory`: cost by function (`plot_costs`) and solve time
    against model size (`plot_solve_times`), over the cases that ran."""
    directory.mkdir(parents=True, exist_ok=True)
    results = [r for r in report["results"] if "error" not in r]
    return [
        plot_costs(results, directory / "cost_by_function.png"),
        plot_solve_times(results, directory / "solve_time_vs_size.png"),
    ]
