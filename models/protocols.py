"""Decision protocols as constraints: which function may act on which signal, up to what spend,
and which decisions must be escalated, to whom, and how long that takes.

A `ProtocolSet` holds authority rules (function, action kind, spend limit, hard cap, approver,
escalation delay, governance cost) and signal rules that activate them. `resolve_authority` turns
the rules active under a set of signals into `AuthorityGroup`s; `define_authority` adds them to the
allocation model; `extract_decisions` reads every action of a solved plan as a `Decision`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from models.builder import IntArray, ModelBuilder, VariableBlock
from models.errors import ValidationError, ViolationCollector
from models.network import FloatArray, Network, NodeRole
from models.signals import Signal, SignalType

GOVERNANCE = "governance"
"""Cost component of escalations."""
FINANCE = "finance"
"""Cost component of working capital released beyond the cap."""


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


# ---------------------------------------------------------------------------------------------
# The protocol set as a person writes it
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Which rules are active, over which decisions
# ---------------------------------------------------------------------------------------------


def matches(rule: SignalRule, signal: Signal, net: Network) -> bool:
    """Whether `signal` satisfies `rule`'s type and predicate; the place a predicate names is the
    signal's location (`models.signal_kinds`), and the supplier tier is checked for kinds that land
    on a supplier."""
    from models.signal_kinds import signal_kind

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
    if p.nodes and where not in p.nodes:
        return False
    if p.items and signal.item and signal.item not in p.items:
        return False
    if p.supplier_tier and kind.location == "supplier" and where:
        tier = int(net.node_tier[net.node_ids.index(where)]) if where in net.node_ids else 0
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
    triggers: dict[str, list[Signal]] = {}
    for sr in protocols.signal_rules:
        for s in signals:
            if matches(sr, s, net):
                for rid in sr.activates:
                    triggers.setdefault(rid, []).append(s)
    groups: list[AuthorityGroup] = []
    escalation_of: dict[str, int] = {}
    for rule in protocols.authority_rules:
        hits = triggers.get(rule.id, [])
        if not rule.standing and not hits:
            continue
        detected = min((s.detected_hours for s in hits), default=0.0)
        effective = detected + rule.escalation_delay_hours
        key = rule.approver.key if rule.approver.joint else f"rule:{rule.id}"
        escalation = escalation_of.setdefault(key, len(escalation_of))
        groups.append(
            AuthorityGroup(
                rule=rule,
                signals=tuple(dict.fromkeys(s.id for s in hits)),
                effective_hours=effective,
                effective_period=math.ceil(effective / net.period_hours - 1e-9),
                escalation=escalation,
            )
        )
    # Signal-activated rules first, so they take precedence over standing ones.
    return sorted(groups, key=lambda g: (not g.signals, protocols.authority_rules.index(g.rule)))


@dataclass(frozen=True)
class ActionColumns:
    """The model columns of one action kind: spend coefficient, period (-1: not period-bound),
    the resource and item each column acts on."""

    columns: IntArray
    spend: FloatArray
    period: IntArray
    resource: npt.NDArray[np.str_]
    item: npt.NDArray[np.str_]
    unit: npt.NDArray[np.str_]
    """What each column counts: "units", "hours", "trucks", "value" or "activation"."""


def _grid_columns(cols: IntArray, spend: FloatArray, resource: list[str], item: list[str], kind: str) -> ActionColumns:
    """Flatten an (n, H) block of action columns with per-row spend, resource and item."""
    n, H = cols.shape if cols.ndim == 2 else (0, 0)
    return ActionColumns(
        columns=cols.ravel(),
        spend=np.broadcast_to(np.asarray(spend, dtype=np.float64).reshape(-1, 1), (n, H)).ravel(),
        period=np.broadcast_to(np.arange(H), (n, H)).ravel(),
        resource=np.repeat(np.asarray(resource, dtype=str), H),
        item=np.repeat(np.asarray(item, dtype=str), H),
        unit=np.full(n * H, kind),
    )


def _cat(parts: Sequence[ActionColumns]) -> ActionColumns:
    return ActionColumns(
        columns=np.concatenate([p.columns for p in parts]).astype(np.int64),
        spend=np.concatenate([p.spend for p in parts]),
        period=np.concatenate([p.period for p in parts]).astype(np.int64),
        resource=np.concatenate([p.resource for p in parts]),
        item=np.concatenate([p.item for p in parts]),
        unit=np.concatenate([p.unit for p in parts]),
    )


def _block(blocks: Mapping[str, VariableBlock], name: str, horizon: int) -> IntArray:
    """Column indices of a block shaped like it; an absent block is an empty (0, H) grid."""
    if name not in blocks:
        return np.zeros((0, horizon), dtype=np.int64)
    blk = blocks[name]
    return np.arange(blk.start, blk.start + blk.size, dtype=np.int64).reshape(blk.shape)


def action_columns(blocks: Mapping[str, VariableBlock], net: Network, action: ActionKind) -> ActionColumns:
    """Every model column an action kind acts through, found from the model's variable blocks."""
    H = net.horizon
    ids = np.asarray
    columns = {name: _block(blocks, name, H) for name in ("buy", "activate", "overtime", "ship", "trucks", "lost")}
    if action in (ActionKind.BACKUP_ACTIVATION, ActionKind.EXPEDITED_PURCHASE):
        chosen = np.flatnonzero(net.offer_backup if action == ActionKind.BACKUP_ACTIVATION else net.offer_expedited)
        offers = [net.offer_ids[k] for k in chosen]
        items = [net.item_ids[k] for k in net.offer_item[chosen]]
        buys = _grid_columns(columns["buy"][chosen], net.offer_cost[chosen], offers, items, "units")
        if action == ActionKind.EXPEDITED_PURCHASE:
            return buys
        backup = np.flatnonzero(net.offer_backup)
        activation = ActionColumns(
            columns=columns["activate"],
            spend=net.offer_activation_cost[backup],
            period=np.full(len(backup), -1, dtype=np.int64),
            resource=ids(offers, dtype=str),
            item=ids(items, dtype=str),
            unit=np.full(len(backup), "activation"),
        )
        return _cat([activation, buys])
    if action == ActionKind.OVERTIME:
        labels = [str(n) for n in blocks["overtime"].axes[0][1]]
        nodes = np.array([net.node_ids.index(n) for n in labels], dtype=np.int64)
        return _grid_columns(columns["overtime"], net.node_overtime_cost[nodes], labels, [""] * len(labels), "hours")
    if action in (ActionKind.EXPEDITED_FREIGHT, ActionKind.REROUTING, ActionKind.LATERAL_TRANSFER):
        if action == ActionKind.EXPEDITED_FREIGHT:
            lanes = net.lane_expedited
        elif action == ActionKind.REROUTING:
            lanes = net.lane_alternate
        else:
            dc = net.node_role == NodeRole.DC
            lanes = dc[net.lane_origin] & dc[net.lane_destination]
        arcs = np.flatnonzero(lanes[net.arc_lane])
        ship = _grid_columns(
            columns["ship"][arcs],
            net.lane_cost[net.arc_lane[arcs]],
            [net.lane_ids[k] for k in net.arc_lane[arcs]],
            [net.item_ids[k] for k in net.arc_item[arcs]],
            "units",
        )
        trucked = np.flatnonzero(net.lane_truck_cost > 0)
        with_trucks = trucked[lanes[trucked]]
        rows = np.searchsorted(trucked, with_trucks)
        trucks = _grid_columns(
            columns["trucks"][rows],
            net.lane_truck_cost[with_trucks],
            [net.lane_ids[k] for k in with_trucks],
            [""] * len(with_trucks),
            "trucks",
        )
        return _cat([ship, trucks])
    if action == ActionKind.RATIONING:
        streams = np.flatnonzero(net.demand_priority >= 2)
        return _grid_columns(
            columns["lost"][streams],
            net.demand_price[streams] + net.demand_lost_penalty[streams],
            [net.node_ids[k] for k in net.demand_node[streams]],
            [net.item_ids[k] for k in net.demand_item[streams]],
            "units",
        )
    if action == ActionKind.WORKING_CAPITAL_RELEASE:
        release = _block(blocks, "capital_release", H)
        n = len(release)
        return _grid_columns(release, np.full(n, net.capital_cost_rate), ["network"] * n, [""] * n, "value")
    raise ValueError(f"unknown action kind {action!r}")


def covered_entities(group: AuthorityGroup, cols: ActionColumns, net: Network) -> npt.NDArray[np.bool_]:
    """Which of an action kind's columns a group's rule covers, by resource and item scope.

    A column without an item (trucks, overtime hours, released capital) is in an item scope when
    its lane carries, or its node makes, one of the scoped items; released capital always is.
    """
    rule = group.rule
    keep = np.ones(len(cols.columns), dtype=bool)
    if rule.resources:
        keep &= np.isin(cols.resource, rule.resources)
    if rule.items:
        scoped = np.isin(np.asarray(net.item_ids, dtype=str), rule.items)
        carriers = {net.lane_ids[k] for k in net.arc_lane[scoped[net.arc_item]]}
        carriers |= {net.node_ids[k] for k in net.recipe_node[scoped[net.recipe_item]]}
        carriers.add("network")
        blank = cols.item == ""
        keep &= np.where(blank, np.isin(cols.resource, sorted(carriers)), np.isin(cols.item, rule.items))
    return keep


@dataclass(frozen=True)
class GroupColumns:
    """The columns each authority group governs, after precedence: a column belongs to the first
    active group (signal-activated before standing, then file order) whose scope covers it."""

    group: AuthorityGroup
    columns: ActionColumns


def assign_columns(
    groups: Sequence[AuthorityGroup],
    blocks: Mapping[str, VariableBlock],
    net: Network,
    governed: frozenset[ActionKind],
) -> tuple[list[GroupColumns], IntArray]:
    """Split each governed action kind's columns among the active groups; the rest are unauthorized."""
    out: list[GroupColumns] = []
    unauthorized: list[IntArray] = []
    for action in sorted(governed, key=lambda a: a.value):
        cols = action_columns(blocks, net, action)
        free = np.ones(len(cols.columns), dtype=bool)
        for group in groups:
            if group.rule.action != action:
                continue
            mine = free & covered_entities(group, cols, net)
            free &= ~mine
            out.append(GroupColumns(group, _subset(cols, mine)))
        unauthorized.append(cols.columns[free])
    none = np.zeros(0, dtype=np.int64)
    return out, (np.concatenate(unauthorized).astype(np.int64) if unauthorized else none)


def _subset(cols: ActionColumns, mask: npt.NDArray[np.bool_]) -> ActionColumns:
    return ActionColumns(
        cols.columns[mask],
        cols.spend[mask],
        cols.period[mask],
        cols.resource[mask],
        cols.item[mask],
        cols.unit[mask],
    )


# ---------------------------------------------------------------------------------------------
# The constraint families
# ---------------------------------------------------------------------------------------------


def define_capital_release(b: ModelBuilder, net: Network) -> None:
    """Working capital released beyond the cap, when a protocol governs it.

        sum_p unit_value[item(p)] inv[p,t] - release[t] <= working_capital_cap   (working_capital)
        release[t] >= 0,  cost capital_cost_rate * release[t]                        (finance)

    Adds `release` to the existing working-capital rows through the builder's term list.
    """
    H = net.horizon
    n = 1 if b.constraints["working_capital"].size > 0 else 0
    periods = [str(t) for t in range(H)]
    release = b.add_variables("capital_release", (n, H), axes=(("network", ["all"][:n]), ("t", periods)))
    if not n:
        return
    b.add_cost(FINANCE, release, net.capital_cost_rate)
    b.add_terms("working_capital", np.arange(H), release[0], -1.0)


def define_authority(
    b: ModelBuilder, net: Network, protocols: ProtocolSet, groups: Sequence[AuthorityGroup]
) -> list[GroupColumns]:
    """Authority limits, escalations and unauthorized actions, for every active group g with
    action spend k_g . x_g and escalation binary e_j(g) (shared by rules with one joint approver):

        sum_i k_gi x_gi - (U_g - L_g) e_j(g) <= L_g                             (authority_limit)
        sum_{i: 0 <= t_i < d_g} k_gi x_gi + sum_b activation_b early_gb <= L_g   groups with d_g > 0
                                                                   (authority_before_escalation)
        buy[b,t] - cap[b,t] early_gb <= 0   backup offers b of g, t < d_g     (early_activation_link)
        x_i = 0 for every column of a governed action kind no active group covers

    d_g is the first period an escalation may take effect (detection + delay). The governance cost
    of escalation j is charged once: governance_j e_j (governance). A backup activated before d_g
    must fit within the limit with the purchases made before d_g, so it gets an `early` binary.
    """
    H = net.horizon
    if ActionKind.WORKING_CAPITAL_RELEASE in protocols.governed():
        define_capital_release(b, net)
    assigned, unauthorized = assign_columns(groups, b.variables, net, protocols.governed())
    b.restrict_upper(unauthorized, 0.0)

    n_escalations = 1 + max((g.escalation for g in groups), default=-1)
    governance = np.zeros(n_escalations)
    approvers = [""] * n_escalations
    for g in groups:
        governance[g.escalation] = max(governance[g.escalation], g.rule.governance_cost)
        approvers[g.escalation] = g.rule.approver.label
    escalate = b.add_variables("escalate", (n_escalations,), upper=1.0, integer=True, axes=(("approval", approvers),))
    b.add_cost(GOVERNANCE, escalate, governance)

    limits = np.array([gc.group.rule.spend_limit for gc in assigned])
    caps = np.array([gc.group.rule.hard_cap for gc in assigned])
    rules = [gc.group.rule.id for gc in assigned]
    b.add_constraints(
        "authority_limit",
        (len(assigned),),
        [(np.full(len(gc.columns.columns), k), gc.columns.columns, gc.columns.spend) for k, gc in enumerate(assigned)]
        + [
            (np.arange(len(assigned)), escalate[[gc.group.escalation for gc in assigned]], -(caps - limits)),
        ],
        upper=limits,
        axes=(("rule", rules),),
    )

    # Groups whose escalation cannot take effect at once also limit what is spent before it does.
    delayed = [k for k, gc in enumerate(assigned) if gc.group.effective_period > 0]
    backups = np.flatnonzero(net.offer_backup)
    early_of: list[tuple[int, int]] = []  # (row among the delayed groups, backup offer index)
    before_terms: list[tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]] = []
    for row, k in enumerate(delayed):
        cols, d = assigned[k].columns, assigned[k].group.effective_period
        before = (cols.period >= 0) & (cols.period < d)
        before_terms.append((np.full(int(before.sum()), row), cols.columns[before], cols.spend[before]))
        if assigned[k].group.rule.action == ActionKind.BACKUP_ACTIVATION:
            offers = [net.offer_ids.index(r) for r in cols.resource[cols.period < 0]]
            early_of.extend((row, int(o)) for o in np.searchsorted(backups, offers))
    early_row = np.array([e[0] for e in early_of], dtype=np.int64)
    early_offer = backups[np.array([e[1] for e in early_of], dtype=np.int64)]
    early = b.add_variables(
        "early_activation",
        (len(early_of),),
        upper=1.0,
        integer=True,
        axes=(("rule_offer", [f"{rules[delayed[r]]}:{net.offer_ids[o]}" for r, o in zip(early_row, early_offer)]),),
    )
    before_terms.append((early_row, early, net.offer_activation_cost[early_offer]))
    b.add_constraints(
        "authority_before_escalation",
        (len(delayed),),
        before_terms,
        upper=limits[delayed],
        axes=(("rule", [rules[k] for k in delayed]),),
    )

    until = np.array([assigned[delayed[r]].group.effective_period for r in early_row], dtype=np.int64)
    cell_early, cell_t = np.nonzero(np.arange(H)[None, :] < until[:, None])
    b.add_constraints(
        "early_activation_link",
        (len(cell_early),),
        [
            (np.arange(len(cell_early)), b.columns("buy")[early_offer[cell_early], cell_t], 1.0),
            (np.arange(len(cell_early)), early[cell_early], -net.offer_capacity[early_offer[cell_early], cell_t]),
        ],
        upper=0.0,
        axes=(
            (
                "rule_offer_t",
                [
                    f"{rules[delayed[early_row[e]]]}:{net.offer_ids[early_offer[e]]}@{t}"
                    for e, t in zip(cell_early, cell_t)
                ],
            ),
        ),
    )
    return assigned


# ---------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------


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
    escalate = _block(blocks, "escalate", 0).ravel() if "escalate" in blocks else np.zeros(0, dtype=np.int64)
    early_blk = blocks.get("early_activation")
    early_value = (
        dict(zip(early_blk.axes[0][1], x[early_blk.slice])) if early_blk is not None and early_blk.axes else {}
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
