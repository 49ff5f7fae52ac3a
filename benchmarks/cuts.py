"""The cuts benchmark: the backup-to-lane links of `models.allocation.define_backup_flow_links` on
the capacitated facility location family, against the same model without them and a textbook CFLP
written directly in highspy.

    python -m benchmarks cuts [--instances 20x50,30x100,50x200] [--seeds 0,1,2]

For every seeded instance it measures HiGHS's MILP time (1 thread, the same gap for every model)
and the LP relaxation (the root LP bound before HiGHS's own cuts) of the three models, checks the
three optima agree within the gap, and prints medians over the instances and the ratios to the
textbook model, from one run. It asserts nothing about time.

The instances (`cflp_network`) are Cornuejols-style: sites and customers are points in the unit
square, a unit costs its distance times 10 to ship, demand is uniform in [5, 35], capacities are
uniform in [10, 160] scaled so that they total `capacity_ratio` times the demand, and opening costs
grow with capacity as in Cornuejols, Sridharan and Thizy (1991). In Concerto's schema a site is a
backup offer (capacity, activation cost = opening cost) and a fill-rate target of 1 makes every
customer served, as `tests/test_known_answers.py::facility_location` maps the problem.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

from benchmarks.jsonout import write_json
from models.allocation import build_model
from models.builder import LinearProgram
from models.network import Demand, Item, Lane, Network, NetworkSpec, Node, NodeRole, ServiceTarget, SupplyOffer
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions

FloatArray = npt.NDArray[np.float64]

DEFAULT_INSTANCES = ((20, 50), (30, 100), (50, 200))
DEFAULT_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class CflpData:
    """One capacitated facility location instance: `cost[i, j]` per unit from site i to customer j."""

    capacity: FloatArray
    fixed: FloatArray
    demand: FloatArray
    cost: FloatArray


def cflp_data(n_sites: int, n_customers: int, seed: int = 0, capacity_ratio: float = 3.0) -> CflpData:
    """A seeded Cornuejols-style instance (see the module docstring), money rounded to cents."""
    rng = np.random.default_rng(seed)
    sites, customers = rng.random((n_sites, 2)), rng.random((n_customers, 2))
    demand = np.round(rng.uniform(5, 35, n_customers))
    capacity = rng.uniform(10, 160, n_sites)
    capacity = np.round(capacity * capacity_ratio * demand.sum() / capacity.sum())
    fixed = np.round(rng.uniform(0, 90, n_sites) + rng.uniform(100, 110, n_sites) * np.sqrt(capacity), 2)
    cost = np.round(10 * np.linalg.norm(sites[:, None, :] - customers[None, :, :], axis=2), 2)
    return CflpData(capacity, fixed, demand, cost)


def cflp_network(data: CflpData, *, single_source: bool = False, name: str = "cflp") -> NetworkSpec:
    """The instance in Concerto's schema: one period, sites as backup offers, a lane per pair."""
    n_sites, n_customers = data.cost.shape
    sites = [f"F{i}" for i in range(n_sites)]
    customers = [f"C{j}" for j in range(n_customers)]
    return NetworkSpec(
        name=name,
        horizon=1,
        items=(Item("A"),),
        nodes=tuple(Node(s, NodeRole.SUPPLIER, tier=1) for s in sites)
        + tuple(Node(c, NodeRole.CUSTOMER) for c in customers),
        offers=tuple(
            SupplyOffer(
                f"open-{s}", s, "A", capacity=float(data.capacity[i]), backup=True, activation_cost=float(data.fixed[i])
            )
            for i, s in enumerate(sites)
        ),
        lanes=tuple(
            Lane(f"{s}-{c}", s, c, ("A",), unit_cost=float(data.cost[i, j]))
            for i, s in enumerate(sites)
            for j, c in enumerate(customers)
        ),
        demands=tuple(
            Demand(c, "A", (float(data.demand[j]),), single_source=single_source) for j, c in enumerate(customers)
        ),
        service_targets=(ServiceTarget(priority=1, fill_rate=1.0),),
    )


def textbook_cflp(data: CflpData, *, relax: bool = False, single_source: bool = False) -> highspy.Highs:
    """The textbook strong CFLP in highspy, x[i,j] in units:

    min sum_i f_i y_i + sum_ij c_ij x_ij
    sum_i x_ij = d_j                    every customer served
    sum_j x_ij - u_i y_i <= 0           capacity of an open site
    x_ij - d_j y_i <= 0                 the strong link (only where d_j < u_i)
    x >= 0, y in {0, 1}

    With `single_source` it is the textbook assignment model, x[i,j] the binary share of customer
    j's demand served from i (one column per pair, no shipment beside it):

    min sum_i f_i y_i + sum_ij c_ij d_j x_ij
    sum_i x_ij = 1                      every customer assigned once
    sum_j d_j x_ij - u_i y_i <= 0       capacity of an open site
    x_ij - y_i <= 0                     the strong link (only where d_j < u_i)
    x, y in {0, 1}
    """
    n_sites, n_customers = data.cost.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)  # HiGHS's scheduler keeps the thread count of its first run
    inf = highspy.kHighsInf
    n_x = n_sites * n_customers
    # a unit of x is a unit shipped, or with single sourcing the whole of d_j
    unit = np.broadcast_to(data.demand[None, :], data.cost.shape) if single_source else np.ones(data.cost.shape)
    served = np.ones(n_customers) if single_source else data.demand
    lp = highspy.HighsLp()
    lp.num_col_ = n_x + n_sites
    lp.col_cost_ = np.concatenate([(data.cost * unit).ravel(), data.fixed])
    lp.col_lower_ = np.zeros(n_x + n_sites)
    lp.col_upper_ = np.concatenate([np.ones(n_x) if single_source else np.full(n_x, inf), np.ones(n_sites)])
    x = np.arange(n_x).reshape(n_sites, n_customers)
    y = n_x + np.arange(n_sites)
    strong = np.argwhere(data.demand[None, :] < data.capacity[:, None])
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    vals: list[FloatArray] = []
    n_rows = 0
    # demand rows j
    rows.append(np.repeat(np.arange(n_customers), n_sites) + n_rows)
    cols.append(x.T.ravel())
    vals.append(np.ones(n_x))
    n_rows += n_customers
    # capacity rows i
    rows += [np.repeat(np.arange(n_sites), n_customers) + n_rows, np.arange(n_sites) + n_rows]
    cols += [x.ravel(), y]
    vals += [unit.ravel().astype(np.float64), -data.capacity]
    n_rows += n_sites
    # strong links
    k = np.arange(len(strong)) + n_rows
    rows += [k, k]
    cols += [x[strong[:, 0], strong[:, 1]], y[strong[:, 0]]]
    vals += [np.ones(len(strong)), -served[strong[:, 1]]]
    n_rows += len(strong)
    lp.num_row_ = n_rows
    lp.row_lower_ = np.concatenate([served, np.full(n_rows - n_customers, -inf)])
    lp.row_upper_ = np.concatenate([served, np.zeros(n_rows - n_customers)])
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    order = np.lexsort((r, c))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(c[order], np.arange(lp.num_col_ + 1)).astype(np.int32)
    lp.a_matrix_.index_ = r[order].astype(np.int32)
    lp.a_matrix_.value_ = v[order]
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = n_rows
    if not relax:
        x_type = highspy.HighsVarType.kInteger if single_source else highspy.HighsVarType.kContinuous
        lp.integrality_ = [x_type] * n_x + [highspy.HighsVarType.kInteger] * n_sites
    h.passModel(lp)
    return h


def _solve_textbook(data: CflpData, options: SolveOptions, single_source: bool) -> tuple[float, float, float, str]:
    """(objective, seconds, LP relaxation, status) of the textbook model; the status in Concerto's
    words (optimal, time_limit)."""
    relaxed = textbook_cflp(data, relax=True, single_source=single_source)
    relaxed.run()
    bound = float(relaxed.getInfo().objective_function_value)
    h = textbook_cflp(data, single_source=single_source)
    h.setOptionValue("mip_rel_gap", options.mip_rel_gap)
    h.setOptionValue("time_limit", options.time_limit)
    h.setOptionValue("random_seed", options.seed)
    start = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - start
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value), seconds, bound, "optimal" if optimal else "time_limit"


def _relaxed(lp: LinearProgram) -> LinearProgram:
    return dataclasses.replace(lp, integrality=np.zeros_like(lp.integrality))


def _solve_concerto(lp: LinearProgram, options: SolveOptions) -> tuple[float, float, float, str]:
    """(objective, HiGHS seconds, LP relaxation, status) of a Concerto model."""
    backend = HighsBackend()
    bound = backend.solve(_relaxed(lp), options).objective
    solution = backend.solve(lp, options)
    return solution.objective, solution.solve_seconds, bound, solution.status.value


@dataclass
class CutsResult:
    """One instance: objectives, HiGHS seconds and LP relaxations of the three models."""

    sites: int
    customers: int
    seed: int
    rows_added: int
    textbook: float
    textbook_seconds: float
    textbook_lp: float
    textbook_status: str
    with_cuts: float
    with_cuts_seconds: float
    with_cuts_lp: float
    with_cuts_status: str
    without_cuts: float
    without_cuts_seconds: float
    without_cuts_lp: float
    without_cuts_status: str


def measure(
    n_sites: int,
    n_customers: int,
    seed: int,
    options: SolveOptions,
    *,
    single_source: bool = False,
    capacity_ratio: float = 3.0,
) -> CutsResult:
    data = cflp_data(n_sites, n_customers, seed, capacity_ratio=capacity_ratio)
    net = Network.from_spec(cflp_network(data, single_source=single_source))
    cut, plain = build_model(net, link_backup_flows=True), build_model(net)
    rows_added = cut.n_rows - plain.n_rows
    textbook, textbook_seconds, textbook_lp, textbook_status = _solve_textbook(data, options, single_source)
    with_cuts, with_seconds, with_lp, with_status = _solve_concerto(cut, options)
    without, without_seconds, without_lp, without_status = _solve_concerto(plain, options)
    return CutsResult(
        n_sites,
        n_customers,
        seed,
        rows_added,
        textbook,
        textbook_seconds,
        textbook_lp,
        textbook_status,
        with_cuts,
        with_seconds,
        with_lp,
        with_status,
        without,
        without_seconds,
        without_lp,
        without_status,
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _max(values: list[float]) -> float:
    return max(values, default=math.nan)


def _proven(r: CutsResult) -> bool:
    """Every one of the three models solved to the gap (none stopped at the time limit)."""
    return r.textbook_status == r.with_cuts_status == r.without_cuts_status == "optimal"


def report(results: list[CutsResult], gap: float) -> str:
    """The per-instance table and the verdict lines. Times and their ratios are compared over the
    instances every model solved to the gap (a time-limited solve's seconds say only that it took
    longer); the time limits are counted per model."""
    lines = [
        "| instance | rows added | optimum (textbook) | with cuts | without | LP bound textbook / with / without "
        "| HiGHS s textbook / with / without |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.sites}x{r.customers} seed {r.seed} | {r.rows_added:,} | {r.textbook:,.2f} ({r.textbook_status}) "
            f"| {r.with_cuts:,.2f} ({r.with_cuts_status}) | {r.without_cuts:,.2f} ({r.without_cuts_status}) "
            f"| {r.textbook_lp:,.1f} / {r.with_cuts_lp:,.1f} / {r.without_cuts_lp:,.1f} "
            f"| {r.textbook_seconds:.2f} / {r.with_cuts_seconds:.2f} / {r.without_cuts_seconds:.2f} |"
        )
    proven = [r for r in results if _proven(r)]
    with_ratio = [r.with_cuts_seconds / r.textbook_seconds for r in proven]
    without_ratio = [r.without_cuts_seconds / r.textbook_seconds for r in proven]
    agree = all(
        abs(r.with_cuts - r.textbook) <= 2 * gap * abs(r.textbook)
        and abs(r.without_cuts - r.textbook) <= 2 * gap * abs(r.textbook)
        for r in proven
    )
    limits = {
        "textbook": sum(r.textbook_status != "optimal" for r in results),
        "with cuts": sum(r.with_cuts_status != "optimal" for r in results),
        "without": sum(r.without_cuts_status != "optimal" for r in results),
    }
    lines += [
        "",
        "stopped at the time limit: " + ", ".join(f"{name} {n}" for name, n in limits.items()),
        f"over the {len(proven)} of {len(results)} instances every model solved to the gap:",
        f"median HiGHS seconds: textbook {_median([r.textbook_seconds for r in proven]):.2f}, "
        f"with cuts {_median([r.with_cuts_seconds for r in proven]):.2f}, "
        f"without {_median([r.without_cuts_seconds for r in proven]):.2f}",
        f"median ratio to textbook: with cuts {_median(with_ratio):.2f}x (max {_max(with_ratio):.2f}x), "
        f"without {_median(without_ratio):.2f}x (max {_max(without_ratio):.2f}x)",
        "median LP bound as a share of the optimum: textbook "
        f"{_median([r.textbook_lp / r.textbook for r in proven]):.1%}, "
        f"with cuts {_median([r.with_cuts_lp / r.textbook for r in proven]):.1%}, "
        f"without {_median([r.without_cuts_lp / r.textbook for r in proven]):.1%}",
        f"optima agree within 2x the gap ({gap:.2%}): {'yes' if agree else 'NO'}",
    ]
    return "\n".join(lines)


def run_cuts_benchmark(
    instances: list[tuple[int, int]],
    seeds: list[int],
    *,
    gap: float = 1e-4,
    time_limit: float = 60.0,
    single_source: bool = False,
    capacity_ratio: float = 3.0,
    out: Path | None = None,
) -> list[CutsResult]:
    options = SolveOptions(mip_rel_gap=gap, time_limit=time_limit, threads=1)
    results = []
    for n_sites, n_customers in instances:
        for seed in seeds:
            r = measure(n_sites, n_customers, seed, options, single_source=single_source, capacity_ratio=capacity_ratio)
            print(
                f"{n_sites}x{n_customers} seed {seed}: textbook {r.textbook_seconds:.2f} s, with cuts "
                f"{r.with_cuts_seconds:.2f} s, without {r.without_cuts_seconds:.2f} s",
                flush=True,
            )
            results.append(r)
    settings = {
        "gap": gap,
        "time_limit": time_limit,
        "threads": 1,
        "instances": instances,
        "seeds": seeds,
        "single_source": single_source,
        "capacity_ratio": capacity_ratio,
    }
    _publish("cuts", report(results, gap), settings, [asdict(r) for r in results], out)
    return results


def _publish(benchmark: str, text: str, settings: dict[str, Any], results: list[Any], out: Path | None) -> None:
    """Print the report and, with `out`, write the run's JSON (environment, settings, results)."""
    print()
    print(text)
    if out is not None:
        from benchmarks.build import environment

        payload = {"benchmark": benchmark, "environment": environment(), "settings": settings, "results": results}
        write_json(out, payload)
        print(f"\nresults written to {out}")


# ---------------------------------------------------------------------------------------------
# The links on the disruption suite
# ---------------------------------------------------------------------------------------------


@dataclass
class SuiteCutsResult:
    """One suite case: the disrupted network's whole model (its protocols' authority rows
    included, as a cold orchestrated solve builds it) without and with the links."""

    case: str
    columns: int
    rows_added: int
    with_links: float
    with_links_seconds: float
    with_links_lp: float
    with_links_status: str
    without: float
    without_seconds: float
    without_lp: float
    without_status: str


def measure_case(case: Any, options: SolveOptions) -> SuiteCutsResult:
    """The case's disrupted model built twice, `link_backup_flows` off and on, each solved by
    HiGHS's MILP and its LP relaxation."""
    from benchmarks.suite.scenarios import scenario_network, scenario_protocols
    from benchmarks.suite.targets import resolve_signals
    from models.protocols import resolve_authority
    from models.signals import apply_signals

    net = Network.from_spec(scenario_network(case.scenario, case.size))
    signals = resolve_signals(case.scenario, net)
    protocols = scenario_protocols(case.scenario)
    disrupted = apply_signals(net, signals)
    groups = resolve_authority(protocols, disrupted, signals) if protocols is not None else []
    plain = build_model(disrupted, protocols, groups)
    linked = build_model(disrupted, protocols, groups, link_backup_flows=True)
    # (objective, HiGHS seconds, LP bound, status) with the links, then without: the fields' order.
    solved = (*_solve_concerto(linked, options), *_solve_concerto(plain, options))
    return SuiteCutsResult(case.key, plain.n_cols, linked.n_rows - plain.n_rows, *solved)


def suite_report(results: list[SuiteCutsResult], gap: float) -> str:
    """Per case: the link rows written, both optima, LP bounds and HiGHS seconds; then the
    verdict over the cases both models solved to the gap."""
    lines = [
        "| case | columns | link rows | optimum without | with links | LP bound without / with "
        "| HiGHS s without / with | with / without |",
        "|---|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.case} | {r.columns:,} | {r.rows_added:,} | {r.without:,.0f} ({r.without_status}) "
            f"| {r.with_links:,.0f} ({r.with_links_status}) | {r.without_lp:,.0f} / {r.with_links_lp:,.0f} "
            f"| {r.without_seconds:.2f} / {r.with_links_seconds:.2f} "
            f"| {r.with_links_seconds / r.without_seconds:.2f}x |"
        )
    proven = [r for r in results if r.with_links_status == r.without_status == "optimal"]
    ratios = [r.with_links_seconds / r.without_seconds for r in proven]
    agree = all(abs(r.with_links - r.without) <= 2 * gap * max(abs(r.without), 1.0) for r in proven)
    tighter = sum(r.with_links_lp > r.without_lp + 1e-6 * max(abs(r.without_lp), 1.0) for r in proven)
    lines += [
        "",
        f"over the {len(proven)} of {len(results)} cases both models solved to the gap:",
        f"link rows written: median {_median([float(r.rows_added) for r in results]):,.0f}, "
        f"max {_max([float(r.rows_added) for r in results]):,.0f}",
        f"HiGHS seconds with / without the links: median {_median(ratios):.2f}x, "
        f"range {min(ratios, default=math.nan):.2f}-{_max(ratios):.2f}x",
        f"LP bound tighter with the links in {tighter} of {len(proven)}",
        f"optima agree within 2x the gap ({gap:.2%}): {'yes' if agree else 'NO'}",
    ]
    return "\n".join(lines)


def run_suite_cuts(
    selection: list[str],
    *,
    gap: float,
    time_limit: float = 300.0,
    out: Path | None = None,
) -> list[SuiteCutsResult]:
    """The links measured on the suite's cases (`benchmarks.suite.scenarios.select_cases`)."""
    from benchmarks.suite.scenarios import load_scenarios, select_cases

    options = SolveOptions(mip_rel_gap=gap, time_limit=time_limit, threads=1)
    results = []
    for case in select_cases(selection, load_scenarios()):
        r = measure_case(case, options)
        print(
            f"{r.case}: {r.rows_added} link rows, without {r.without_seconds:.2f} s, with {r.with_links_seconds:.2f} s",
            flush=True,
        )
        results.append(r)
    settings = {"gap": gap, "time_limit": time_limit, "threads": 1, "selection": selection}
    _publish("cuts-suite", suite_report(results, gap), settings, [asdict(r) for r in results], out)
    return results
