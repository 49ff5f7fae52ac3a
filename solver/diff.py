"""What changed between two plans of one network: every purchase, backup activation, production
run, overtime, shipment and truck load whose quantity differs, the function that owns it, and the
plan's nervousness (changed / total decisions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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
        old = _quantities(table.of(before), family)
        new = _quantities(table.of(after), family)
        keys = sorted(old.keys() | new.keys())
        total += len(keys)
        for key in keys:
            was, now = old.get(key, 0.0), new.get(key, 0.0)
            if abs(now - was) > TOLERANCE:
                owner = _LATERAL_OWNER if family.lateral and key[0] in lateral else family.function
                changes.append(PlanChange(family.kind, _label(family.key, key), owner, was, now))
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


def _quantities(table: Table, family: _Family) -> dict[tuple[Any, ...], float]:
    """Each key's total quantity (rows sharing a key add up)."""
    if not len(table):
        return {}
    keys = list(zip(*(table.columns[c].tolist() for c in family.key)))
    amounts = table.columns[family.quantity].tolist() if family.quantity is not None else [1.0] * len(keys)
    out: dict[tuple[Any, ...], float] = {}
    for key, amount in zip(keys, amounts):
        out[key] = out.get(key, 0.0) + float(amount)
    return out


def _label(columns: tuple[str, ...], key: tuple[Any, ...]) -> str:
    return " ".join(f"{column} {value}" for column, value in zip(columns, key))


def _cost_change(before: Plan, after: Plan) -> dict[str, float]:
    """after - before per component, in the order the plans list them; a component one plan lacks
    cost it nothing. A plan without a solution has no costs to compare: every change is NaN."""
    components = list(dict.fromkeys([*before.cost_by_component, *after.cost_by_component]))
    if not (before.has_solution and after.has_solution):
        return dict.fromkeys(components, math.nan)
    return {k: after.cost_by_component.get(k, 0.0) - before.cost_by_component.get(k, 0.0) for k in components}
