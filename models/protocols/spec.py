"""The protocol set as a person writes it: business functions, the action kinds they own, roles
and approvers, authority rules, and the signal rules that activate them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from models.signals import SignalType


class Function(Enum):
    """A business function that owns decisions."""

    PROCUREMENT = "procurement"
    PRODUCTION = "production"
    LOGISTICS = "logistics"
    INVENTORY = "inventory"
    SALES = "sales"
    FINANCE = "finance"


class ActionKind(Enum):
    """A kind of decision a protocol can govern; each is owned by one function (see `OWNER`)."""

    BACKUP_ACTIVATION = "backup_activation"
    """Activating a backup supply offer and buying on it (activation cost + purchases)."""
    EXPEDITED_PURCHASE = "expedited_purchase"
    """Buying on a spot or expedited supply offer."""
    OVERTIME = "overtime"
    """Overtime hours at a plant or tier-1 supplier."""
    EXPEDITED_FREIGHT = "expedited_freight"
    """Shipping on an expedited lane."""
    REROUTING = "rerouting"
    """Shipping on an alternate lane, a detour around a disruption."""
    LATERAL_TRANSFER = "lateral_transfer"
    """Moving stock between distribution centres."""
    RATIONING = "rationing"
    """Giving up demand of priority tier 2 or lower (spend: its price and lost-sale penalty)."""
    WORKING_CAPITAL_RELEASE = "working_capital_release"
    """Holding stock value beyond the working-capital cap (spend: capital cost rate x value)."""


OWNER: dict[ActionKind, Function] = {
    ActionKind.BACKUP_ACTIVATION: Function.PROCUREMENT,
    ActionKind.EXPEDITED_PURCHASE: Function.PROCUREMENT,
    ActionKind.OVERTIME: Function.PRODUCTION,
    ActionKind.EXPEDITED_FREIGHT: Function.LOGISTICS,
    ActionKind.REROUTING: Function.LOGISTICS,
    ActionKind.LATERAL_TRANSFER: Function.INVENTORY,
    ActionKind.RATIONING: Function.SALES,
    ActionKind.WORKING_CAPITAL_RELEASE: Function.FINANCE,
}


# The protocol set as a person writes it


@dataclass(frozen=True)
class Role:
    """Someone who approves escalations; an unanswered escalation goes on to `escalates_to`."""

    id: str
    escalates_to: str = ""


@dataclass(frozen=True)
class Approver:
    """Who approves spend above a rule's limit: a role, or a joint decision of several functions.

    Rules whose approver is the same joint decision share one escalation: one approval covers all.
    """

    role: str = ""
    joint: tuple[Function, ...] = ()

    @property
    def key(self) -> str:
        if self.joint:
            return "joint:" + "+".join(sorted(f.value for f in self.joint))
        return f"role:{self.role}"

    @property
    def label(self) -> str:
        if self.joint:
            return "joint " + "-".join(f.value for f in self.joint) + " decision"
        return self.role


class OnReject(Enum):
    """What a rejected escalation leaves to the replan that follows it."""

    HOLD_TO_LIMIT = "hold_to_limit"
    """The action stays within the rule's spend limit (the function's own authority)."""
    FORBID = "forbid"
    """The action is not taken under this rule at all."""


class OnExpiry(Enum):
    """What an escalation nobody decided within its window (`escalation_delay_hours`) does."""

    KEEP_WAITING = "keep_waiting"
    """It stays pending until someone decides."""
    WITHIN_AUTHORITY = "within_authority"
    """It lapses: the network is replanned with the rule held to its spend limit."""


@dataclass(frozen=True)
class AuthorityRule:
    """What one function may commit to one action kind at once, and what happens above that."""

    id: str
    function: Function
    action: ActionKind
    spend_limit: float
    """L: spend the function may commit without approval."""
    hard_cap: float
    """U >= L: the most an approved escalation may commit."""
    approver: Approver
    escalation_delay_hours: float = 0.0
    """Hours from the triggering signal's detection (or the plan's start) until an approval is in."""
    governance_cost: float = 0.0
    """Cost of one escalation (meetings, approvals), charged when the plan escalates."""
    standing: bool = False
    """Active without any signal; otherwise only when a signal rule activates it."""
    resources: tuple[str, ...] = ()
    """Offer, node, lane or customer ids the rule covers; empty covers every resource of the kind."""
    items: tuple[str, ...] = ()
    """Items the rule covers; empty covers all."""
    on_reject: OnReject = OnReject.HOLD_TO_LIMIT
    """What the replan after a rejection does with this rule's action."""
    on_expiry: OnExpiry = OnExpiry.KEEP_WAITING
    """What an escalation under this rule does when nobody decides it within its window."""


@dataclass(frozen=True)
class Predicate:
    """When a signal matches a signal rule; every set condition must hold."""

    min_duration_hours: float = 0.0
    max_duration_hours: float = math.inf
    """Exclusive: a rule for outages under 48 h has max_duration_hours = 48."""
    min_magnitude: float = -math.inf
    max_magnitude: float = math.inf
    """Exclusive."""
    supplier_tier: int = 0
    """For supplier outages: only suppliers of this tier (0: any)."""
    nodes: tuple[str, ...] = ()
    """Supplier, customer or node ids (empty: any)."""
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignalRule:
    """Signals of one type that match the predicate activate the listed authority rules."""

    id: str
    signal_type: SignalType
    activates: tuple[str, ...]
    predicate: Predicate = Predicate()


@dataclass(frozen=True)
class ProtocolSet:
    """A company's decision protocols."""

    name: str
    roles: tuple[Role, ...] = ()
    authority_rules: tuple[AuthorityRule, ...] = ()
    signal_rules: tuple[SignalRule, ...] = ()

    def governed(self) -> frozenset[ActionKind]:
        """Action kinds some rule speaks of: without an active rule they are not allowed."""
        return frozenset(r.action for r in self.authority_rules)
