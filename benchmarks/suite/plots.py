"""The suite's charts (matplotlib, the optional `plot` extra): what orchestration saves against the
sequential response and doing nothing per scenario (and the fill-rate gain), solve time against
model size with each point labelled and the first answer apart from the final one, and cost by
function per response and scenario."""

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


VALUE_SERIES = (
    ("sequential", "cost_gap_to_sequential", "fill_rate_gap_to_sequential", "tab:blue"),
    ("do nothing", "cost_gap_to_do_nothing", "fill_rate_gap_to_do_nothing", "tab:orange"),
)
"""The value chart's series: against which response, its cost gap and fill-rate gap fields of
`value_of_orchestration`, and its colour."""


def _short(value: float) -> str:
    """A money figure rounded for a label: 20.4k, 1.23M, 950."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if size >= 1e3:
        return f"{value / 1e3:,.1f}k"
    return f"{value:,.0f}"


def value_figure(results: Sequence[Mapping[str, Any]]) -> Any:
    """The value of orchestration as a figure with two panels sharing one row per scenario: left,
    what orchestrating saves (alternative's objective - orchestrated's, in money) against the
    sequential response and against doing nothing; right, the fill-rate gain in percentage points
    against each. Bars carry their rounded value; a missing figure (a response without a plan) is
    drawn as no bar and labelled "n/a"."""
    plt = pyplot()
    cases = sorted(results, key=lambda r: (size_order(r["size"]), r["scenario"]))
    labels = [f"{r['scenario']}@{r['size']}" for r in cases]
    fig, (money, fill) = plt.subplots(
        1, 2, figsize=(12.0, max(3.5, 1.2 + 0.55 * len(cases))), sharey=True, squeeze=True
    )
    height = 0.8 / len(VALUE_SERIES)
    rows = list(range(len(cases)))
    for j, (name, cost_key, fill_key, colour) in enumerate(VALUE_SERIES):
        offset = [k - 0.4 + height * (j + 0.5) for k in rows]
        for ax, key, fmt in ((money, cost_key, _short), (fill, fill_key, lambda v: f"{100 * v:+.2f} pp")):
            raw = [r["value_of_orchestration"].get(key) for r in cases]
            values = [0.0 if v is None else float(v) * (100.0 if ax is fill else 1.0) for v in raw]
            bars = ax.barh(offset, values, height=height * 0.95, color=colour, label=f"vs {name}")
            texts = ["n/a" if v is None else fmt(float(v)) for v in raw]
            ax.bar_label(bars, texts, padding=3, fontsize=7)
    money.set_yticks(rows, labels, fontsize=8)
    money.invert_yaxis()
    money.set_xlabel("cost saved by orchestrating (objective of the alternative - orchestrated)")
    money.set_title("What orchestration saves")
    fill.set_xlabel("fill-rate gain of orchestrating (percentage points)")
    fill.set_title("Fill-rate gain")
    from matplotlib.ticker import FuncFormatter

    money.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _short(v)))
    for ax in (money, fill):
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.grid(True, axis="x", alpha=0.3)
        ax.margins(x=0.25)
    handles, names = money.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8, title="orchestrated against")
    fig.suptitle("Value of orchestration per scenario (positive: orchestrating is better)")
    fig.tight_layout(rect=(0.0, 0.08, 1.0, 1.0))
    return fig


def plot_value(results: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """`value_figure` as a PNG."""
    plt = pyplot()
    fig = value_figure(results)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


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


def solve_time_figure(results: Sequence[Mapping[str, Any]]) -> Any:
    """Solve time against model size, log-log: one point per case and response, its model's columns
    against its HiGHS solve seconds (the sequential response's is the sum of its stage solves),
    each orchestrated point labelled with its scenario; the orchestrated replan's first answer (the
    signals' reach, a smaller model) is a series of its own, joined to its final answer by a line."""
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, ax = plt.subplots(figsize=(9, 6))
    for index, name in enumerate(RESPONSES):
        timed = [p for p in (r["responses"][name] for r in results) if p.get("n_cols") and p.get("solve_seconds")]
        planned = [p for p in timed if p.get("has_solution", True)]
        label = {
            "sequential": "sequential (its stages' solves)",
            "orchestrated": "orchestrated, final answer",
        }.get(name, name.replace("_", " "))
        if planned:
            ax.scatter(
                [p["n_cols"] for p in planned],
                [p["solve_seconds"] for p in planned],
                marker=APPROACH_MARKERS[name],
                color=f"C{index}",
                alpha=0.7,
                label=label,
            )
        unplanned = [p for p in timed if not p.get("has_solution", True)]
        if unplanned:  # stopped without a plan (the time limit at L): hollow
            statuses = ", ".join(sorted({str(p.get("status")) for p in unplanned}))
            ax.scatter(
                [p["n_cols"] for p in unplanned],
                [p["solve_seconds"] for p in unplanned],
                marker=APPROACH_MARKERS[name],
                facecolors="none",
                edgecolors=f"C{index}",
                label=f"{label}: no plan ({statuses})",
            )
    firsts = []
    for r in results:
        p = r["responses"]["orchestrated"]
        if p.get("first_n_cols") and p.get("first_solve_seconds"):
            firsts.append((p["first_n_cols"], p["first_solve_seconds"]))
            if p.get("n_cols") and p.get("solve_seconds"):
                ax.plot(
                    [p["first_n_cols"], p["n_cols"]],
                    [p["first_solve_seconds"], p["solve_seconds"]],
                    color="grey",
                    linewidth=0.6,
                    alpha=0.6,
                )
    if firsts:
        columns, seconds = zip(*firsts, strict=True)
        ax.scatter(columns, seconds, marker="x", color="tab:red", label="orchestrated, first answer (reach)")
    for r in results:
        p = r["responses"]["orchestrated"]
        if p.get("n_cols") and p.get("solve_seconds"):
            ax.annotate(
                f"{r['scenario']}@{r['size']}",
                (p["n_cols"], p["solve_seconds"]),
                textcoords="offset points",
                xytext=(4, 3),
                fontsize=6,
                alpha=0.8,
            )
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
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_solve_times(results: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """`solve_time_figure` as a PNG."""
    plt = pyplot()
    fig = solve_time_figure(results)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot(report: Mapping[str, Any], directory: Path) -> list[Path]:
    """The suite's PNG charts in `directory`, over the cases that ran: the value of orchestration
    (`plot_value`, the headline), solve time against model size (`plot_solve_times`) and cost by
    function (`plot_costs`, where the savings are too small to see against the totals)."""
    directory.mkdir(parents=True, exist_ok=True)
    results = [r for r in report["results"] if "error" not in r]
    return [
        plot_value(results, directory / "value_of_orchestration.png"),
        plot_costs(results, directory / "cost_by_function.png"),
        plot_solve_times(results, directory / "solve_time_vs_size.png"),
    ]
