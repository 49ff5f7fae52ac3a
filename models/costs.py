"""The components the objective is split into: one enum, read by the builder's families, the
Pyomo twin, the metrics, the sequential baseline and the service's converters.
"""

from __future__ import annotations

from enum import StrEnum


class CostComponent(StrEnum):
    """A part of the objective charged to one concern. Members are strings ("procurement", ...),
    so `LinearProgram.cost_by_component` keys and the service's cost fields read as before."""

    PROCUREMENT = "procurement"
    """Purchases at unit cost and backup activations."""
    PRODUCTION = "production"
    """Recipes' unit cost, overtime hours and setups."""
    LOGISTICS = "logistics"
    """Shipments per unit and trucks per lane."""
    INVENTORY = "inventory"
    """Holding cost of stock and the penalty of a safety-stock shortfall."""
    SERVICE = "service"
    """Backlog and lost-sale penalties."""
    REVENUE = "revenue"
    """The price of delivered demand, counted negative."""
    GOVERNANCE = "governance"
    """Escalations of a protocol set (the governance cost of each approval asked for)."""
    FINANCE = "finance"
    """Working capital released beyond the cap, when a protocol governs it."""
    STABILITY = "stability"
    """A replan's changes against its baseline plan, weighted and decaying with time."""
    FENCE = "fence"
    """A replan's cuts of fenced baseline decisions."""


MODEL_COMPONENTS = (
    CostComponent.PROCUREMENT,
    CostComponent.PRODUCTION,
    CostComponent.LOGISTICS,
    CostComponent.INVENTORY,
    CostComponent.SERVICE,
    CostComponent.REVENUE,
)
"""The components of the allocation model itself (`models.allocation`)."""

PROTOCOL_COMPONENTS = (CostComponent.GOVERNANCE, CostComponent.FINANCE)
"""The components a protocol set adds (`models.protocols.define_authority`)."""

REPLAN_COMPONENTS = (CostComponent.STABILITY, CostComponent.FENCE)
"""The components a replan adds (`models.replanning`); they steer the replan and are no business cost."""

NOT_BUSINESS_COST = frozenset({CostComponent.REVENUE, *REPLAN_COMPONENTS})
"""Components left out of a plan's total cost: revenue is income, stability and fence are steering."""
