"""Which rules are active: signal rules matched against the signals, and the authority groups they
activate with their escalation timing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from models.network import Network
from models.protocols.spec import AuthorityRule, ProtocolSet, SignalRule
from models.protocols.validation import validate_against_network, validate_protocols
from models.signal_kinds import signal_kind
from models.signals import Signal

# Which rules are active, over which decisions


def matches(rule: SignalRule, signal: Signal, net: Network) -> bool:
    """Whether `signal` satisfies `rule`'s type and predicate; the place a predicate names is the
    signal's location (`models.signal_kinds`), and the supplier tier is checked for kinds that land
    on a supplier."""
    return _matches(rule, signal, net, frozenset(rule.predicate.nodes), frozenset(rule.predicate.items))


def _matches(rule: SignalRule, signal: Signal, net: Network, nodes: frozenset[str], items: frozenset[str]) -> bool:
    """`matches`, with the predicate's node and item lists given as sets (built once per rule)."""
    p = rule.predicate
    if signal.type != rule.signal_type:
        return False
    longest = p.max_duration_hours
    if not (p.min_duration_hours <= signal.duration_hours and (signal.duration_hours < longest or math.isinf(longest))):
        return False
    if not (p.min_magnitude <= signal.magnitude < p.max_magnitude):
        return False
    kind = signal_kind(signal)
    where = kind.location_of(signal)
    if nodes and where not in nodes:
        return False
    if items and signal.item and signal.item not in items:
        return False
    if p.supplier_tier and kind.location == "supplier" and where:
        node = net.nodes_by_id.get(where)
        tier = int(net.node_tier[node]) if node is not None else 0
        if tier != p.supplier_tier:
            return False
    return True


@dataclass(frozen=True)
class AuthorityGroup:
    """An active rule over the decisions it covers: spend_g = k_g . x_g <= L + (U - L) e_j."""

    rule: AuthorityRule
    signals: tuple[str, ...]
    """Ids of the signals that activated the rule (empty for a standing rule)."""
    effective_hours: float
    """When an escalation takes effect: the earliest triggering detection plus the delay."""
    effective_period: int
    """First period an escalated spend may fall in: ceil(effective_hours / period_hours)."""
    escalation: int
    """Index of the escalation binary; rules sharing a joint approver share it."""


def resolve_authority(protocols: ProtocolSet, net: Network, signals: Sequence[Signal]) -> list[AuthorityGroup]:
    """The authority groups active under `signals`: standing rules and rules a matching signal rule
    activates. A rule some signal activates (standing or not) takes precedence over a rule no signal
    activated, and its escalation takes effect `escalation_delay_hours` after the earliest
    triggering signal's detection; a rule no signal activated counts from the plan's start. Within
    each class, file order decides (see `assign_columns`)."""
    validate_protocols(protocols)
    validate_against_network(protocols, net)
    by_type: dict[object, list[Signal]] = {}
    for s in signals:
        by_type.setdefault(s.type, []).append(s)
    triggers: dict[str, list[Signal]] = {}
    for sr in protocols.signal_rules:
        nodes, items = frozenset(sr.predicate.nodes), frozenset(sr.predicate.items)
        for s in by_type.get(sr.signal_type, ()):
            if _matches(sr, s, net, nodes, items):
                for rid in sr.activates:
                    triggers.setdefault(rid, []).append(s)
    groups: list[tuple[int, AuthorityGroup]] = []
    escalation_of: dict[str, int] = {}
    for order, rule in enumerate(protocols.authority_rules):
        hits = triggers.get(rule.id, [])
        if not rule.standing and not hits:
            continue
        detected = min((s.detected_hours for s in hits), default=0.0)
        effective = detected + rule.escalation_delay_hours
        key = rule.approver.key if rule.approver.joint else f"rule:{rule.id}"
        escalation = escalation_of.setdefault(key, len(escalation_of))
        group = AuthorityGroup(
            rule=rule,
            signals=tuple(dict.fromkeys(s.id for s in hits)),
            effective_hours=effective,
            effective_period=math.ceil(effective / net.period_hours - 1e-9),
            escalation=escalation,
        )
        groups.append((order, group))
    # Signal-activated rules first, so they take precedence over standing ones; then file order.
    return [g for _, g in sorted(groups, key=lambda og: (not og[1].signals, og[0]))]
