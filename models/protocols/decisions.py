"""Every action of a solved plan as a `Decision` with its owner and authority status, and each
active rule's spend against its limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from models.builder import VariableBlock
from models.network import FloatArray, Network
from models.protocols.columns import GroupColumns, action_columns, block_columns
from models.protocols.spec import OWNER, ActionKind, Function

# Decisions


class AuthorityStatus(Enum):
    """Whether a decision may be executed now."""

    WITHIN_AUTHORITY = "within_authority"
    """Inside the owning function's limit: act now."""
    ESCALATED = "escalated"
    """Needs the approver's decision, effective from `effective_hours`."""
    UNGOVERNED = "ungoverned"
    """No protocol speaks of this action kind."""


@dataclass(frozen=True)
class Decision:
    """One action of a plan, with who owns it and whether it may be executed now."""

    function: Function
    action: ActionKind
    resource: str
    item: str
    period: int
    """-1 for a decision taken once for the horizon (a backup activation)."""
    quantity: float
    unit: str
    cost: float
    status: AuthorityStatus
    approver: str = ""
    effective_hours: float = 0.0
    rule: str = ""
    signals: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthoritySpend:
    """A rule's spend in the plan against its limit and cap."""

    rule: str
    function: Function
    action: ActionKind
    spend: float
    limit: float
    cap: float
    escalated: bool
    approver: str
    effective_hours: float
    signals: tuple[str, ...]


def extract_decisions(
    net: Network,
    x: FloatArray,
    blocks: Mapping[str, VariableBlock],
    assigned: Sequence[GroupColumns],
    governed: frozenset[ActionKind],
    *,
    tol: float = 1e-7,
) -> tuple[list[Decision], list[AuthoritySpend]]:
    """Every non-zero action of a solution as a `Decision`, and each active rule's spend."""
    decisions: list[Decision] = []
    spends: list[AuthoritySpend] = []
    escalate = block_columns(blocks, "escalate", 0).ravel() if "escalate" in blocks else np.zeros(0, dtype=np.int64)
    early_blk = blocks.get("early_activation")
    early_value = (
        dict(zip(early_blk.axes[0].labels, x[early_blk.slice])) if early_blk is not None and early_blk.axes else {}
    )
    for gc in assigned:
        g, cols = gc.group, gc.columns
        values = x[cols.columns]
        spend = float(values @ cols.spend)
        # A joint approval lifts every rule it covers; a rule whose spend stays within its own
        # limit needs none of it.
        approved = bool(len(escalate) and x[escalate[g.escalation]] > 0.5)
        escalated = approved and spend > g.rule.spend_limit + 1e-6 * max(1.0, g.rule.spend_limit)
        spends.append(
            AuthoritySpend(
                rule=g.rule.id,
                function=g.rule.function,
                action=g.rule.action,
                spend=spend,
                limit=g.rule.spend_limit,
                cap=g.rule.hard_cap,
                escalated=escalated,
                approver=g.rule.approver.label if escalated else "",
                effective_hours=g.effective_hours,
                signals=g.signals,
            )
        )
        for k in np.flatnonzero(np.abs(values) > tol):
            if cols.period[k] < 0:  # an activation: late unless it fitted the limit before d_g
                late = early_value.get(f"{g.rule.id}:{cols.resource[k]}", 0.0) < 0.5
            else:
                late = cols.period[k] >= g.effective_period
            needs_approval = escalated and late
            decisions.append(
                Decision(
                    function=g.rule.function,
                    action=g.rule.action,
                    resource=str(cols.resource[k]),
                    item=str(cols.item[k]),
                    period=int(cols.period[k]),
                    quantity=float(values[k]),
                    unit=str(cols.unit[k]),
                    cost=float(values[k] * cols.spend[k]),
                    status=AuthorityStatus.ESCALATED if needs_approval else AuthorityStatus.WITHIN_AUTHORITY,
                    approver=g.rule.approver.label if needs_approval else "",
                    effective_hours=g.effective_hours if needs_approval else 0.0,
                    rule=g.rule.id,
                    signals=g.signals,
                )
            )
    for action in ActionKind:
        if action in governed:
            continue
        cols = action_columns(blocks, net, action)
        values = x[cols.columns]
        for k in np.flatnonzero(np.abs(values) > tol):
            decisions.append(
                Decision(
                    function=OWNER[action],
                    action=action,
                    resource=str(cols.resource[k]),
                    item=str(cols.item[k]),
                    period=int(cols.period[k]),
                    quantity=float(values[k]),
                    unit=str(cols.unit[k]),
                    cost=float(values[k] * cols.spend[k]),
                    status=AuthorityStatus.UNGOVERNED,
                )
            )
    return decisions, spends
