"""Checks of a protocol set on its own and against a network, every wrong rule reported with its
entity and field."""

from __future__ import annotations

import math
from enum import Enum

from models.errors import ValidationError, ViolationCollector
from models.network import Network
from models.protocols.spec import OWNER, ActionKind, Function, ProtocolSet
from models.signals import SignalType


def _fail(entity: str, ident: str, field: str, message: str) -> ValidationError:
    return ValidationError(entity, ident, field, message)


def validate_protocols(protocols: ProtocolSet) -> None:
    """Reject a protocol set that cannot be applied, naming the rule and field: every role and rule
    is checked on its own, and every violation found is raised together (`ValidationErrors`)."""
    found = ViolationCollector()
    roles = {}
    for role in protocols.roles:
        with found.entity():
            if not role.id:
                raise _fail("role", "", "id", "is empty")
            if role.id in roles:
                raise _fail("role", role.id, "id", "is used twice")
            roles[role.id] = role
    for role in protocols.roles:
        with found.entity():
            if role.escalates_to and role.escalates_to not in roles:
                raise _fail("role", role.id, "escalates_to", f"refers to unknown role {role.escalates_to!r}")
    for role in protocols.roles:
        with found.entity():
            seen = [role.id]
            nxt = role.escalates_to
            while nxt:
                if nxt in seen:
                    raise _fail("role", role.id, "escalates_to", "approvers form a cycle: " + " -> ".join([*seen, nxt]))
                seen.append(nxt)
                nxt = roles[nxt].escalates_to if nxt in roles else ""  # an unknown role is reported above

    rule_ids: set[str] = set()
    for rule in protocols.authority_rules:
        with found.entity():
            ident = rule.id
            if not ident:
                raise _fail("authority rule", "", "id", "is empty")
            if ident in rule_ids:
                raise _fail("authority rule", ident, "id", "is used twice")
            rule_ids.add(ident)
            if not isinstance(rule.function, Function):
                raise _fail("authority rule", ident, "function", f"is {rule.function!r}; use one of {_names(Function)}")
            if not isinstance(rule.action, ActionKind):
                raise _fail("authority rule", ident, "action", f"is {rule.action!r}; use one of {_names(ActionKind)}")
            if OWNER[rule.action] != rule.function:
                raise _fail(
                    "authority rule",
                    ident,
                    "function",
                    f"is {rule.function.value}, but {rule.action.value} belongs to {OWNER[rule.action].value}",
                )
            for name in ("spend_limit", "hard_cap", "escalation_delay_hours", "governance_cost"):
                value = getattr(rule, name)
                if math.isnan(value) or value < 0:
                    raise _fail("authority rule", ident, name, f"is {value}; it must be >= 0")
                if math.isinf(value):
                    raise _fail("authority rule", ident, name, "must be finite")
            if rule.hard_cap < rule.spend_limit:
                raise _fail(
                    "authority rule",
                    ident,
                    "hard_cap",
                    f"is {rule.hard_cap}, below the spend limit {rule.spend_limit}",
                )
            if rule.approver.joint and rule.approver.role:
                raise _fail("authority rule", ident, "approver", "names both a role and a joint decision; choose one")
            if rule.approver.joint:
                if len(set(rule.approver.joint)) < 2:
                    raise _fail("authority rule", ident, "approver.joint", "needs at least two different functions")
                if not all(isinstance(f, Function) for f in rule.approver.joint):
                    raise _fail(
                        "authority rule", ident, "approver.joint", f"lists an unknown function; use {_names(Function)}"
                    )
            elif rule.approver.role not in roles:
                raise _fail("authority rule", ident, "approver.role", f"refers to unknown role {rule.approver.role!r}")

    signal_rule_ids: set[str] = set()
    for sr in protocols.signal_rules:
        with found.entity():
            if not sr.id:
                raise _fail("signal rule", "", "id", "is empty")
            if sr.id in signal_rule_ids:
                raise _fail("signal rule", sr.id, "id", "is used twice")
            signal_rule_ids.add(sr.id)
            if not isinstance(sr.signal_type, SignalType):
                raise _fail(
                    "signal rule", sr.id, "signal_type", f"is {sr.signal_type!r}; use one of {_names(SignalType)}"
                )
            if not sr.activates:
                raise _fail("signal rule", sr.id, "activates", "is empty; name the authority rules it activates")
            for k, rid in enumerate(sr.activates):
                if rid not in rule_ids:
                    raise _fail("signal rule", sr.id, f"activates[{k}]", f"refers to unknown authority rule {rid!r}")
            p = sr.predicate
            for name in ("min_duration_hours", "max_duration_hours", "min_magnitude", "max_magnitude"):
                if math.isnan(getattr(p, name)):
                    raise _fail("signal rule", sr.id, f"predicate.{name}", "is NaN")
            if p.min_duration_hours < 0:
                raise _fail("signal rule", sr.id, "predicate.min_duration_hours", "must be >= 0")
            if p.max_duration_hours <= p.min_duration_hours or p.max_magnitude <= p.min_magnitude:
                raise _fail("signal rule", sr.id, "predicate", "has an empty range (max must exceed min)")
            if p.supplier_tier not in (0, 1, 2):
                raise _fail("signal rule", sr.id, "predicate.supplier_tier", f"is {p.supplier_tier}; use 0, 1 or 2")
    found.raise_if_any()


def _names(enum: type[Enum]) -> str:
    return ", ".join(m.value for m in enum)


def validate_against_network(protocols: ProtocolSet, net: Network) -> None:
    """Reject rules naming resources or items the network does not have (every such rule)."""
    known = set(net.offer_ids) | set(net.node_ids) | set(net.lane_ids)
    found = ViolationCollector()
    for rule in protocols.authority_rules:
        with found.entity():
            for k, res in enumerate(rule.resources):
                if res not in known:
                    raise _fail("authority rule", rule.id, f"resources[{k}]", f"refers to unknown resource {res!r}")
            for k, item in enumerate(rule.items):
                if item not in net.item_ids:
                    raise _fail("authority rule", rule.id, f"items[{k}]", f"refers to unknown item {item!r}")
    found.raise_if_any()
