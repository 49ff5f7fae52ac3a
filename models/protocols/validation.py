"""Checks of a protocol set on its own and against a network, every wrong rule reported with its
entity and field."""

from __future__ import annotations

import math
from enum import Enum

from models.errors import ValidationError, ViolationCollector, echo
from models.network import Network
from models.protocols.spec import OWNER, ActionKind, Function, ProtocolSet, Role
from models.signals import SignalType


def _fail(entity: str, ident: str, field: str, message: str) -> ValidationError:
    return ValidationError(entity, ident, field, message)


MAX_CYCLE_ROLES_SHOWN = 12
"""How many roles an "approvers form a cycle" message names; a longer path shows its first
`MAX_CYCLE_ROLES_SHOWN - 1` roles, how many it leaves out, and the role it returns to."""


class _EscalationGraph:
    """The escalation chains of a protocol set, analysed once in O(n) so that each role's walk is
    answered without walking it.

    Every role escalates to at most one role, so the chains form a functional graph: a walk from
    any role either ends (at a role that escalates to no one, or to an unknown role) or runs into a
    cycle. One iterative pass over the roles finds, for each, the distance `dist` to where its walk
    ends or enters a cycle and that `entry` role (-1 when the walk ends); each cycle is kept in order
    with every member's position on it. The roles off the cycles form trees hanging from their
    successors; a DFS numbering of those trees (`tin`, `tout`) tells whether one role lies on
    another's walk. No step recurses, so a chain of any length is checked.
    """

    def __init__(self, roles: dict[str, Role]) -> None:
        self.names = list(roles)
        self.at = {name: k for k, name in enumerate(self.names)}
        m = len(self.names)
        self.succ = [self.at.get(r.escalates_to, -1) if r.escalates_to else -1 for r in roles.values()]
        self.entry = [-1] * m
        self.dist = [0] * m
        self.cycle = [-1] * m
        self.pos = [0] * m
        self.cycles: list[list[int]] = []
        state = [0] * m  # 0: not seen, 1: on the current walk, 2: done
        for start in range(m):
            if state[start]:
                continue
            walk: list[int] = []
            where: dict[int, int] = {}
            v = start
            while v >= 0 and state[v] == 0:
                state[v] = 1
                where[v] = len(walk)
                walk.append(v)
                v = self.succ[v]
            if v >= 0 and state[v] == 1:  # the walk closed a new cycle at v
                k = where[v]
                cid = len(self.cycles)
                self.cycles.append(walk[k:])
                for p, u in enumerate(walk[k:]):
                    self.cycle[u], self.pos[u], self.entry[u], self.dist[u], state[u] = cid, p, u, 0, 2
                del walk[k:]
                entry, dist = v, 0
            elif v >= 0:  # the walk joined one already analysed
                entry, dist = self.entry[v], self.dist[v]
            else:  # the walk ended
                entry, dist = -1, -1
            for u in reversed(walk):
                dist += 1
                self.entry[u], self.dist[u], state[u] = entry, dist, 2
        children: list[list[int]] = [[] for _ in range(m)]
        for u in range(m):
            if self.cycle[u] < 0 and self.succ[u] >= 0:
                children[self.succ[u]].append(u)
        self.tin = [0] * m
        self.tout = [0] * m
        clock = 0
        for root in range(m):
            if self.cycle[root] < 0 and self.succ[root] >= 0:
                continue
            self.tin[root] = clock
            clock += 1
            stack = [(root, iter(children[root]))]
            while stack:
                node, rest = stack[-1]
                child = next(rest, None)
                if child is None:
                    self.tout[node] = clock
                    stack.pop()
                else:
                    self.tin[child] = clock
                    clock += 1
                    stack.append((child, iter(children[child])))

    def _steps(self, frm: int, to: int) -> int | None:
        """Escalations from role `frm` until role `to` is reached, or None if its walk never does."""
        if self.cycle[to] >= 0:
            e = self.entry[frm]
            if e < 0 or self.cycle[e] != self.cycle[to]:
                return None
            return self.dist[frm] + (self.pos[to] - self.pos[e]) % len(self.cycles[self.cycle[to]])
        if self.tin[to] <= self.tin[frm] and self.tout[frm] <= self.tout[to]:  # `to` is on frm's tail
            return self.dist[frm] - self.dist[to]
        return None

    def cycle_from(self, role: Role) -> str | None:
        """The path `role.id -> role.escalates_to -> ...` up to the first role named twice, as an
        "approvers form a cycle" message reads it; None when the walk ends without repeating.

        The walk starts at this role object (a duplicate id walks from its own `escalates_to`),
        then follows the first role of each id, which is what the rest of the checks read."""
        first = role.escalates_to
        if not first:
            return None
        if first == role.id:
            return f"{role.id} -> {role.id}"
        j = self.at.get(first)
        if j is None:
            return None
        i = self.at.get(role.id)
        steps = self._steps(j, i) if i is not None else None
        if steps is not None:  # the walk comes back to the role itself
            length, closing = steps + 2, role.id
        elif self.entry[j] >= 0:  # the walk runs into a cycle the role is not on
            e = self.entry[j]
            length, closing = self.dist[j] + len(self.cycles[self.cycle[e]]) + 2, self.names[e]
        else:
            return None
        shown = length if length <= MAX_CYCLE_ROLES_SHOWN else MAX_CYCLE_ROLES_SHOWN - 1
        path = [role.id]
        v = j
        while len(path) < min(shown, length - 1):
            path.append(self.names[v])
            v = self.succ[v]
        if length > MAX_CYCLE_ROLES_SHOWN:
            path.append(f"... ({length - shown - 1:,} more)")
        path.append(closing)
        return " -> ".join(path)


def validate_protocols(protocols: ProtocolSet) -> None:
    """Reject a protocol set that cannot be applied, naming the rule and field: every role and rule
    is checked on its own, and every violation found is raised together (`ValidationErrors`). The
    work is linear in the protocol set: ids are looked up in dicts and sets, and the escalation
    chains are analysed once (`_EscalationGraph`) rather than walked from every role."""
    found = ViolationCollector()
    roles: dict[str, Role] = {}
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
                raise _fail("role", role.id, "escalates_to", f"refers to unknown role {echo(role.escalates_to)}")
    chains = _EscalationGraph(roles)
    for role in protocols.roles:
        with found.entity():
            cycle = chains.cycle_from(role)
            if cycle is not None:
                raise _fail("role", role.id, "escalates_to", "approvers form a cycle: " + cycle)

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
                raise _fail(
                    "authority rule", ident, "approver.role", f"refers to unknown role {echo(rule.approver.role)}"
                )

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
                    raise _fail(
                        "signal rule", sr.id, f"activates[{k}]", f"refers to unknown authority rule {echo(rid)}"
                    )
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
    items = set(net.item_ids)
    found = ViolationCollector()
    for rule in protocols.authority_rules:
        with found.entity():
            for k, res in enumerate(rule.resources):
                if res not in known:
                    raise _fail("authority rule", rule.id, f"resources[{k}]", f"refers to unknown resource {echo(res)}")
            for k, item in enumerate(rule.items):
                if item not in items:
                    raise _fail("authority rule", rule.id, f"items[{k}]", f"refers to unknown item {echo(item)}")
    found.raise_if_any()
