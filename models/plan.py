"""A solved plan as labelled tables (purchases, production, shipments, stock, service) with its
cost by component, metrics and solve statistics; `extract_plan` reads it off a solution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from models.builder import LinearProgram
from models.kpi import Kpis, compute_kpis
from models.network import Network
from models.protocols import (
    AuthorityGroup,
    AuthoritySpend,
    AuthorityStatus,
    Decision,
    ProtocolSet,
    assign_columns,
    extract_decisions,
)
from models.rounding import row_violation
from models.solution import Solution, SolveStatus

ZERO = 1e-7
"""Values below this magnitude are reported as no decision."""


@dataclass(frozen=True, eq=False)
class Table:
    """Named columns of equal length: ids as strings, periods as ints, quantities as floats."""

    columns: dict[str, npt.NDArray[Any]]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row, with plain Python values (JSON-ready)."""
        names = list(self.columns)
        return [dict(zip(names, values)) for values in zip(*(self.columns[n].tolist() for n in names))]

    def total(self, column: str = "quantity") -> float:
        return float(self.columns[column].sum()) if len(self) else 0.0


@dataclass(frozen=True)
class SolveStats:
    """Sizes and timings of one solve, for benchmarks and the plan's reader."""

    n_cols: int
    n_rows: int
    nnz: int
    n_integer: int
    build_seconds: float
    handoff_seconds: float
    solve_seconds: float
    backend: str
    backend_version: str
    method: str = "milp"
    """How the model was solved: "milp" or "lp_first" (`solver.options.METHODS`)."""
    method_stats: dict[str, float] = field(default_factory=dict)
    """The method's own figures and parameters (LP-first: LP solves, coupling rows switched on,
    seconds per stage, the requested gap; see `solver.lp_first`)."""


@dataclass(frozen=True, eq=False)
class Plan:
    """What to buy, make, move, hold and ration, period by period, and what it costs."""

    network: str
    horizon: int
    period_hours: float
    status: SolveStatus
    objective: float
    bound: float
    gap: float
    cost_by_component: dict[str, float]
    purchases: Table
    activations: Table
    production: Table
    overtime: Table
    shipments: Table
    trucks: Table
    inventory: Table
    safety_shortfall: Table
    deliveries: Table
    backlog: Table
    lost_sales: Table
    kpis: Kpis | None
    stats: SolveStats
    message: str = ""
    decisions: tuple[Decision, ...] = ()
    """Every action the plan takes, with its owner and authority status."""
    authority: tuple[AuthoritySpend, ...] = ()
    """Each active rule's spend against its limit, and whether it escalated."""
    values: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict, repr=False)
    """The dense solution of each variable block, for metrics and warm starts."""

    @property
    def has_solution(self) -> bool:
        return self.status.has_solution

    @property
    def act_now(self) -> list[Decision]:
        """Decisions the owning function may execute at once."""
        return [d for d in self.decisions if d.status != AuthorityStatus.ESCALATED]

    @property
    def needs_approval(self) -> list[Decision]:
        """Decisions waiting for an approver, effective from their `effective_hours`."""
        return [d for d in self.decisions if d.status == AuthorityStatus.ESCALATED]

    @property
    def escalations(self) -> list[str]:
        """Approvers the plan escalates to, once each."""
        return list(dict.fromkeys(a.approver for a in self.authority if a.escalated))

    def summary(self) -> str:
        """A few readable lines: status, objective, cost by component, the main metrics."""
        lines = [f"plan of {self.network!r}: {self.status.value}"]
        if not self.has_solution:
            lines.append(f"  {self.message}")
            return "\n".join(lines)
        lines.append(
            f"  objective {self.objective:,.2f} (bound {self.bound:,.2f}, gap {self.gap:.2%}; {self.stats.method})"
        )
        lines.append("  cost by component: " + ", ".join(f"{k} {v:,.2f}" for k, v in self.cost_by_component.items()))
        lines.append(
            f"  decisions: {len(self.purchases)} purchases, {len(self.activations)} backup activations, "
            f"{len(self.production)} production runs, {len(self.shipments)} shipments, {len(self.trucks)} truck loads"
        )
        if self.authority:
            lines.append(
                f"  decisions: {len(self.act_now)} act now, {len(self.needs_approval)} need approval"
                + (f" (escalated to {', '.join(self.escalations)})" if self.escalations else "")
            )
            for a in self.authority:
                state = f"escalated to {a.approver}" if a.escalated else "within authority"
                lines.append(
                    f"    {a.function.value} {a.action.value} [{a.rule}]: spend {a.spend:,.2f} of limit "
                    f"{a.limit:,.2f} (cap {a.cap:,.2f}), {state}"
                )
        if self.kpis is not None:
            lines.extend("  " + line for line in self.kpis.lines())
        s = self.stats
        lines.append(
            f"  model: {s.n_cols} columns ({s.n_integer} integer), {s.n_rows} rows, {s.nnz} nonzeros; "
            f"build {s.build_seconds:.3f}s, hand-off {s.handoff_seconds:.3f}s, solve {s.solve_seconds:.3f}s "
            f"({s.backend} {s.backend_version})"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class PlanTable:
    """One table of a `Plan`: the `Plan` field that holds it and its columns, in the order
    `extract_plan` lays them out, each with its kind (ids are strings, periods ints, amounts floats)."""

    name: str
    """The `Plan` field (and the field of the same name in concerto.v1.PlanResult)."""
    columns: tuple[tuple[str, type[np.generic]], ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def of(self, plan: Plan) -> Table:
        """This table of `plan`."""
        table: Table = getattr(plan, self.name)
        return table


_ID, _PERIOD, _AMOUNT = np.str_, np.int64, np.float64
_STOCK = (("node", _ID), ("item", _ID), ("period", _PERIOD), ("quantity", _AMOUNT))
_SERVICE = (("customer", _ID), ("item", _ID), ("period", _PERIOD), ("quantity", _AMOUNT))

PLAN_TABLES: tuple[PlanTable, ...] = (
    PlanTable(
        "purchases", (("offer", _ID), ("supplier", _ID), ("item", _ID), ("period", _PERIOD), ("quantity", _AMOUNT))
    ),
    PlanTable("activations", (("offer", _ID), ("supplier", _ID), ("item", _ID), ("cost", _AMOUNT))),
    PlanTable(
        "production", (("recipe", _ID), ("node", _ID), ("item", _ID), ("period", _PERIOD), ("quantity", _AMOUNT))
    ),
    PlanTable("overtime", (("node", _ID), ("period", _PERIOD), ("hours", _AMOUNT))),
    PlanTable(
        "shipments",
        (
            ("lane", _ID),
            ("origin", _ID),
            ("destination", _ID),
            ("item", _ID),
            ("period", _PERIOD),
            ("arrival", _PERIOD),
            ("quantity", _AMOUNT),
        ),
    ),
    PlanTable("trucks", (("lane", _ID), ("period", _PERIOD), ("trucks", _AMOUNT))),
    PlanTable("inventory", _STOCK),
    PlanTable("safety_shortfall", _STOCK),
    PlanTable("deliveries", _SERVICE),
    PlanTable("backlog", _SERVICE),
    PlanTable("lost_sales", _SERVICE),
)
"""Every table of a plan, in `Plan`'s field order: what converters, printers and diffs iterate."""

PLAN_TABLE: dict[str, PlanTable] = {table.name: table for table in PLAN_TABLES}
"""The plan's tables by name."""


def _table(mask: npt.NDArray[np.bool_], **columns: npt.NDArray[Any]) -> Table:
    """Rows of `mask`'s true cells; each column is broadcast to the mask's shape first."""
    return Table({name: np.broadcast_to(col, mask.shape)[mask] for name, col in columns.items()})


def _ids(ids: tuple[str, ...] | list[str], index: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    return np.asarray(ids, dtype=str)[index] if len(ids) else np.zeros(index.shape, dtype=str)


def without_idle_setups(lp: LinearProgram, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """`x` with every setup that makes nothing switched off, when that keeps every row and bound.

    A solve stopped at a gap (a replan's first answer, say) may pay a recipe's setup in a period it
    makes nothing in. Switching it off frees its hours and its cost and loosens its setup link, so
    the plan stays feasible and only gets cheaper, and the plan's tables (which show production,
    not setups) then account for every cost it pays. A setup held on by its bounds (a replan's
    decision outside the signals' reach) or by another row stays: then `x` comes back unchanged
    (the same array)."""
    block = lp.variables.get("setup")
    if block is None or block.size == 0:
        return x
    recipes = block.entities("recipe")
    columns = lp.columns("setup")
    idle = (lp.values(x, "setup") > 0.5) & (lp.values(x, "make")[recipes] <= ZERO) & (lp.col_lower[columns] <= 0.0)
    if not idle.any():
        return x
    cleaned = x.copy()
    cleaned[columns[idle]] = 0.0
    # Only the rows holding the setups change; none may move further outside its bounds.
    return cleaned if np.all(row_violation(lp, cleaned) <= row_violation(lp, x) + 1e-9) else x


def extract_plan(
    net: Network,
    lp: LinearProgram,
    solution: Solution,
    *,
    build_seconds: float = 0.0,
    protocols: ProtocolSet | None = None,
    groups: Sequence[AuthorityGroup] = (),
) -> Plan:
    """Read the plan's tables, cost, metrics and decisions off a solution of
    `build_model(net, protocols, groups)`."""
    stats = SolveStats(
        n_cols=lp.n_cols,
        n_rows=lp.n_rows,
        nnz=lp.nnz,
        n_integer=lp.n_integer,
        build_seconds=build_seconds,
        handoff_seconds=solution.handoff_seconds,
        solve_seconds=solution.solve_seconds,
        backend=solution.backend,
        backend_version=solution.backend_version,
        method=solution.method,
        method_stats=dict(solution.info) if solution.method != "milp" else {},
    )
    # Without a solution the tables are read off zeros: empty, with their columns named.
    x = without_idle_setups(lp, solution.x) if solution.x is not None else np.zeros(lp.n_cols)
    objective, gap = solution.objective, solution.gap
    if solution.x is not None and x is not solution.x:
        objective = float(lp.c @ x + lp.offset)
        gap = max(objective - solution.bound, 0.0) / max(abs(objective), 1.0) if np.isfinite(solution.bound) else gap
    v = {name: lp.values(x, name) for name in lp.variables}
    t = np.arange(net.horizon)[None, :]
    node, item = net.node_ids, net.item_ids

    buy = v["buy"]
    purchases = _table(
        buy > ZERO,
        offer=_ids(net.offer_ids, np.arange(net.n_offers))[:, None],
        supplier=_ids(node, net.offer_node)[:, None],
        item=_ids(item, net.offer_item)[:, None],
        period=t,
        quantity=buy,
    )
    backup = lp.variables["activate"].entities()
    activations = _table(
        v["activate"] > 0.5,
        offer=_ids(net.offer_ids, backup),
        supplier=_ids(node, net.offer_node[backup]),
        item=_ids(item, net.offer_item[backup]),
        cost=net.offer_activation_cost[backup],
    )
    make = v["make"]
    production = _table(
        make > ZERO,
        recipe=_ids(net.recipe_ids, np.arange(net.n_recipes))[:, None],
        node=_ids(node, net.recipe_node)[:, None],
        item=_ids(item, net.recipe_item)[:, None],
        period=t,
        quantity=make,
    )
    ot_nodes = lp.variables["overtime"].entities()
    overtime = _table(v["overtime"] > ZERO, node=_ids(node, ot_nodes)[:, None], period=t, hours=v["overtime"])
    ship = v["ship"]
    shipments = _table(
        ship > ZERO,
        lane=_ids(net.lane_ids, net.arc_lane)[:, None],
        origin=_ids(node, net.lane_origin[net.arc_lane])[:, None],
        destination=_ids(node, net.lane_destination[net.arc_lane])[:, None],
        item=_ids(item, net.arc_item)[:, None],
        period=t,
        arrival=net.arc_arrival(),
        quantity=ship,
    )
    trucked = lp.variables["trucks"].entities()
    trucks = _table(
        v["trucks"] > 0.5, lane=_ids(net.lane_ids, trucked)[:, None], period=t, trucks=np.round(v["trucks"])
    )
    inv = v["inv"]
    inventory = _table(
        inv > ZERO,
        node=_ids(node, net.position_node)[:, None],
        item=_ids(item, net.position_item)[:, None],
        period=t,
        quantity=inv,
    )
    ss = lp.variables["short"].entities()
    safety_shortfall = _table(
        v["short"] > ZERO,
        node=_ids(node, net.position_node[ss])[:, None],
        item=_ids(item, net.position_item[ss])[:, None],
        period=t,
        quantity=v["short"],
    )
    delivered = delivered_by_stream(net, ship)
    customer = _ids(node, net.demand_node)[:, None]
    demand_item = _ids(item, net.demand_item)[:, None]
    deliveries = _table(delivered > ZERO, customer=customer, item=demand_item, period=t, quantity=delivered)
    backlog = _table(v["backlog"] > ZERO, customer=customer, item=demand_item, period=t, quantity=v["backlog"])
    lost = _table(v["lost"] > ZERO, customer=customer, item=demand_item, period=t, quantity=v["lost"])

    governed = protocols.governed() if protocols is not None else frozenset()
    assigned, _ = assign_columns(groups, lp.variables, net, governed)
    decisions, authority = extract_decisions(net, x, lp.variables, assigned, governed)
    solved = solution.x is not None
    return Plan(
        network=net.spec.name,
        horizon=net.horizon,
        period_hours=net.period_hours,
        status=solution.status,
        objective=objective,
        bound=solution.bound,
        gap=gap,
        cost_by_component=lp.cost_by_component(x) if solved else {},
        purchases=purchases,
        activations=activations,
        production=production,
        overtime=overtime,
        shipments=shipments,
        trucks=trucks,
        inventory=inventory,
        safety_shortfall=safety_shortfall,
        deliveries=deliveries,
        backlog=backlog,
        lost_sales=lost,
        kpis=compute_kpis(net, v, delivered, lp.cost_by_component(x)) if solved else None,
        stats=stats,
        message=solution.message,
        decisions=tuple(decisions) if solved else (),
        authority=tuple(authority) if solved else (),
        values=v if solved else {},
    )


def delivered_by_stream(net: Network, ship: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Units arriving at each demand stream in each period, shape (S, H)."""
    H = net.horizon
    stream = net.demand_index(net.lane_destination[net.arc_lane], net.arc_item)
    arrival = net.arc_arrival()
    into = (stream >= 0)[:, None] & (arrival < H)
    flat = np.broadcast_to(stream[:, None], into.shape)[into] * H + arrival[into]
    counts = np.bincount(flat, weights=ship[into], minlength=net.n_demands * H)
    return np.asarray(counts, dtype=np.float64).reshape(net.n_demands, H)
