"""What changed between two plans of one network: every purchase, backup activation, production
run, overtime, shipment and truck load whose quantity differs, the function that owns it, and the
plan's nervousness (changed / total decisions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.plan import PLAN_TABLES, Plan, PlanTable, Table
from models.protocols import OWNER, ActionKind, Function

TOLERANCE = 1e-6
"""Quantities closer than this are the same decision; solvers leave noise well below it."""


@dataclass(frozen=True)
class PlanChange:
    """One quantity that differs between two plans; absent from a plan means 0 there."""

    kind: str
    """One of "purchase", "activation", "production", "overtime", "shipment" or "trucks"."""
    key: str
    """Readable key naming the decision, e.g. "lane L7 item A period 3"."""
    function: Function
    """The function that owns the decision (inventory for a shipment or truck between two DCs)."""
    before: float
    after: float


@dataclass(frozen=True)
class PlanDiff:
    """What changed from one plan to the next, and how much of the plan that is."""

    changes: list[PlanChange]
    objective_before: float
    objective_after: float
    cost_change_by_component: dict[str, float]
    """after - before, per cost component; NaN for every component when either plan has no solution."""
    changed: int
    """Decisions whose quantity differs by more than `TOLERANCE`."""
    total: int
    """Decisions (distinct keys) in either plan."""
    fill_rate_before: float
    """NaN for a plan without a solution (it has no metrics)."""
    fill_rate_after: float

    @property
    def nervousness(self) -> float:
        """Share of the decisions that changed: changed / total (0 when neither plan decides anything)."""
        return self.changed / self.total if self.total else 0.0


@dataclass(frozen=True)
class _Family:
    """A plan table read as decisions: the columns that identify one, and the one holding its quantity."""

    kind: str
    function: Function
    key: tuple[str, ...]
    quantity: str | None
    """None: each row is one decision of quantity 1 (a backup activation)."""
    lateral: bool = False
    """Keyed by lane first: on a lane between two DCs the decision is a lateral transfer."""


_DECISION_TABLES = {
    "purchases": _Family("purchase", Function.PROCUREMENT, ("offer", "period"), "quantity"),
    "activations": _Family("activation", Function.PROCUREMENT, ("offer",), None),
    "production": _Family("production", Function.PRODUCTION, ("recipe", "period"), "quantity"),
    "overtime": _Family("overtime", Function.PRODUCTION, ("node", "period"), "hours"),
    "shipments": _Family("shipment", Function.LOGISTICS, ("lane", "item", "period"), "quantity", lateral=True),
    "trucks": _Family("trucks", Function.LOGISTICS, ("lane", "period"), "trucks", lateral=True),
}
"""The plan tables that hold decisions (`PLAN_TABLES` names) and how each is read; stock and service
tables follow from the decisions and are not diffed."""

_FAMILIES: tuple[tuple[PlanTable, _Family], ...] = tuple(
    (table, _DECISION_TABLES[table.name]) for table in PLAN_TABLES if table.name in _DECISION_TABLES
)
"""The decision tables in the registry's order, each with its reading."""


def diff_plans(before: Plan, after: Plan) -> PlanDiff:
    """Compare two plans of the same network decision by decision.

    Each family's rows are keyed by their ids and period (offer and period for a purchase; lane,
    item and period for a shipment; ...). `total` counts the keys found in either plan, `changed`
    those whose quantities differ by more than `TOLERANCE`, a key missing from one plan counting
    as 0 there. Changes come family by family (purchases, activations, production, overtime,
    shipments, trucks), sorted by key within a family.

    Shipments and trucks belong to logistics, but on a lane between two DCs to inventory (a lateral
    transfer). The tables do not say which lanes join two DCs; the plans' decisions do, since every
    non-zero lateral transfer is one (within authority, escalated or ungoverned).
    """
    lateral = _lateral_lanes(before, after)
    changes: list[PlanChange] = []
    total = 0
    for table, family in _FAMILIES:
        keys, was, now, distinct = _family_changes(table.of(before), table.of(after), family)
        total += distinct
        for key, old, new in zip(keys, was, now, strict=True):
            owner = _LATERAL_OWNER if family.lateral and key[0] in lateral else family.function
            changes.append(PlanChange(family.kind, _label(family.key, key), owner, old, new))
    return PlanDiff(
        changes=changes,
        objective_before=before.objective,
        objective_after=after.objective,
        cost_change_by_component=_cost_change(before, after),
        changed=len(changes),
        total=total,
        fill_rate_before=before.kpis.fill_rate if before.kpis is not None else math.nan,
        fill_rate_after=after.kpis.fill_rate if after.kpis is not None else math.nan,
    )


_LATERAL_OWNER = OWNER[ActionKind.LATERAL_TRANSFER]


def _lateral_lanes(*plans: Plan) -> set[str]:
    """Lanes some plan moves stock on between two DCs."""
    return {d.resource for plan in plans for d in plan.decisions if d.action == ActionKind.LATERAL_TRANSFER}


def _family_changes(
    before: Table, after: Table, family: _Family
) -> tuple[list[tuple[Any, ...]], list[float], list[float], int]:
    """The keys whose total quantity differs by more than `TOLERANCE` between the two tables, in key
    order, with their totals before and after (a key missing from a table has 0 there), and how
    many distinct keys the two hold between them.

    Vectorized: the two tables' rows are sorted by key together (a stable lexicographic sort, the
    order Python gives the key tuples: ids by code point, periods by value), equal keys grouped,
    and each side's quantities summed per group in row order, the order a running sum per key
    adds them in."""
    sides = [(table, is_after) for table, is_after in ((before, False), (after, True)) if len(table)]
    if not sides:
        return [], [], [], 0
    columns = [np.concatenate([table.columns[name] for table, _ in sides]) for name in family.key]
    amounts = np.concatenate(
        [
            np.asarray(table.columns[family.quantity], dtype=np.float64)
            if family.quantity is not None
            else np.ones(len(table))
            for table, _ in sides
        ]
    )
    on_after = np.concatenate([np.full(len(table), is_after) for table, is_after in sides])
    order = np.lexsort(columns[::-1])  # the first key column is the primary one
    columns = [column[order] for column in columns]
    amounts, on_after = amounts[order], on_after[order]
    starts = np.zeros(order.size, dtype=bool)
    starts[0] = True
    for column in columns:
        starts[1:] |= column[1:] != column[:-1]
    group = np.cumsum(starts) - 1
    distinct = int(starts.sum())
    was = _sums(group[~on_after], amounts[~on_after], distinct)
    now = _sums(group[on_after], amounts[on_after], distinct)
    changed = np.flatnonzero(np.abs(now - was) > TOLERANCE)
    first = np.flatnonzero(starts)[changed]
    keys = list(zip(*(column[first].tolist() for column in columns), strict=True))
    return keys, was[changed].tolist(), now[changed].tolist(), distinct


def _sums(group: npt.NDArray[np.int64], amounts: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    return np.bincount(group, weights=amounts, minlength=n).astype(np.float64)


def _label(columns: tuple[str, ...], key: tuple[Any, ...]) -> str:
    return " ".join(f"{column} {value}" for column, value in zip(columns, key))


def _cost_change(before: Plan, after: Plan) -> dict[str, float]:
    """after - before per component, in the order the plans list them; a component one plan lacks
    cost it nothing. A plan without a solution has no costs to compare: every change is NaN."""
    components = list(dict.fromkeys([*before.cost_by_component, *after.cost_by_component]))
    if not (before.has_solution and after.has_solution):
        return dict.fromkeys(components, math.nan)
    return {k: after.cost_by_component.get(k, 0.0) - before.cost_by_component.get(k, 0.0) for k in components}
