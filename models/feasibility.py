"""An independent check of a returned plan: recomputes every balance, capacity, bound and the
objective from the plan's tables and the network's specification, never from the solver's matrix.

It deliberately reads the string-keyed `NetworkSpec` (not the compiled arrays the builder uses) and
walks the records one by one, so a mistake in the vectorized builder cannot hide behind the same
mistake here. It is a checker for tests and audits, not a hot path.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy.typing as npt

from models.network import Calendar, Network, NetworkSpec, NodeRole, PerPeriod
from models.plan import Plan
from models.protocols import ActionKind, AuthorityRule, AuthorityStatus, Decision, ProtocolSet
from models.signals import Signal, apply_signals

WC_RELEASE = ActionKind.WORKING_CAPITAL_RELEASE


@dataclass(frozen=True)
class Violation:
    """One broken rule: which family, where, and by how much."""

    family: str
    where: str
    amount: float

    def __str__(self) -> str:
        return f"{self.family} at {self.where}: violated by {self.amount:.6g}"


def _sum(table_rows: list[dict[str, object]], key: tuple[str, ...], value: str = "quantity") -> dict[tuple, float]:
    out: dict[tuple, float] = defaultdict(float)
    for row in table_rows:
        out[tuple(row[k] for k in key)] += float(row[value])  # type: ignore[arg-type]
    return out


def _by_period(ids: Sequence[str], values: npt.NDArray[Any]) -> dict[tuple[str, int], float]:
    """(id, period) -> value of an (n, H) array, as plain floats."""
    return {(ident, t): float(v) for ident, row in zip(ids, values.tolist()) for t, v in enumerate(row)}


def _value_in(value: PerPeriod, t: int) -> float:
    """A capacity's value in period t, read off the spec's own form: a constant, the t-th entry of a
    per-period list, or the calendar exception covering t (else its base)."""
    if isinstance(value, Calendar):
        for ex in value.exceptions:
            if ex.start_period <= t < ex.end_period:
                return float(ex.value)
        return float(value.base)
    if isinstance(value, tuple | list):
        return float(value[t])
    return float(value)


def _per_period(ids_values: Sequence[tuple[str, PerPeriod]], H: int) -> dict[tuple[str, int], float]:
    """(id, period) -> value of a capacity for every entity and period, from the spec alone."""
    return {(ident, t): _value_in(value, t) for ident, value in ids_values for t in range(H)}


def check_plan(
    spec: NetworkSpec,
    plan: Plan,
    *,
    protocols: ProtocolSet | None = None,
    signals: Sequence[Signal] = (),
    tol: float = 1e-5,
) -> list[Violation]:
    """Every rule of the network (as the signals leave it) and of the protocols that `plan` breaks
    by more than `tol` (relative to the magnitudes involved), including a recomputed objective that
    differs from `plan.objective`."""
    out: list[Violation] = []
    H = spec.horizon
    # Signals change capacities, demand and receipts period by period: read those per period from
    # the disrupted network; everything else comes from the specification.
    # Without signals, every per-period capacity is read off the spec's own form (constant, list or
    # calendar) here, apart from the compiled arrays.
    now = apply_signals(Network.from_spec(spec), signals)
    if signals:
        offer_cap = _by_period(now.offer_ids, now.offer_capacity)
        lane_cap = _by_period(now.lane_ids, now.lane_capacity)
        regular_hours = _by_period(now.node_ids, now.node_regular_hours)
        overtime_hours = _by_period(now.node_ids, now.node_overtime_hours)
    else:
        offer_cap = _per_period([(o.id, o.capacity) for o in spec.offers], H)
        lane_cap = _per_period([(ln.id, ln.capacity) for ln in spec.lanes], H)
        regular_hours = _per_period([(n.id, n.regular_hours) for n in spec.nodes], H)
        overtime_hours = _per_period([(n.id, n.overtime_hours) for n in spec.nodes], H)
    max_rate = _per_period([(r.id, r.max_rate) for r in spec.recipes], H)
    storage = _per_period([(n.id, n.storage_capacity) for n in spec.nodes], H)
    demand_qty = _by_period(now.demand_ids(), now.demand_qty)
    receipts = _by_period(now.position_ids(), now.position_receipts)
    lane_arrival = {k: int(v) for k, v in _by_period(now.lane_ids, now.lane_arrival()).items()}

    def require(ok_amount: float, family: str, where: str, scale: float = 1.0) -> None:
        if ok_amount > tol * max(1.0, abs(scale)):
            out.append(Violation(family, where, ok_amount))

    offers = {o.id: o for o in spec.offers}
    recipes = {r.id: r for r in spec.recipes}
    lanes = {ln.id: ln for ln in spec.lanes}
    nodes = {n.id: n for n in spec.nodes}
    items = {i.id: i for i in spec.items}
    demands = {(d.customer, d.item): d for d in spec.demands}

    for name, table in (
        ("purchases", plan.purchases),
        ("production", plan.production),
        ("shipments", plan.shipments),
        ("inventory", plan.inventory),
        ("backlog", plan.backlog),
        ("lost_sales", plan.lost_sales),
    ):
        for row in table.rows():
            require(-float(row["quantity"]), f"{name} non-negative", str(row))
            require(0 if 0 <= int(row["period"]) < H else 1, f"{name} period in horizon", str(row))

    # Purchases: capacity, activation of backups, minimum orders.
    buy = _sum(plan.purchases.rows(), ("offer", "period"))
    activated = {str(r["offer"]) for r in plan.activations.rows()}
    for (offer_id, t), qty in buy.items():
        o = offers[str(offer_id)]
        cap = offer_cap[(str(offer_id), int(t))]
        require(qty - cap, "supplier capacity", f"{offer_id} t={t}", cap if math.isfinite(cap) else 1)
        if o.backup:
            require(qty if offer_id not in activated else 0.0, "backup activation", f"{offer_id} t={t}", qty)
        if o.min_order > 0:
            require(o.min_order - qty, "minimum order", f"{offer_id} t={t}", o.min_order)

    # Production: rate, hours with overtime; a recipe that makes anything in a period is set up in
    # it, so its setup hours count against the node's hours (and its setup cost is charged below).
    make = _sum(plan.production.rows(), ("recipe", "period"))
    overtime = _sum(plan.overtime.rows(), ("node", "period"), "hours")
    hours_used: dict[tuple, float] = defaultdict(float)
    for (recipe_id, t), qty in make.items():
        r = recipes[str(recipe_id)]
        rate = max_rate[(r.id, int(t))]
        require(qty - rate, "recipe rate", f"{recipe_id} t={t}", rate if math.isfinite(rate) else 1)
        hours_used[(r.node, t)] += r.hours_per_unit * qty + (r.setup_hours if qty > tol else 0.0)
    for (node_id, t), hours in overtime.items():
        most = overtime_hours[(str(node_id), int(t))]
        require(hours - most, "overtime hours", f"{node_id} t={t}", most)
    for (node_id, t), used in hours_used.items():
        regular = regular_hours[(str(node_id), int(t))]
        if math.isfinite(regular):
            available = regular + overtime.get((node_id, t), 0.0)
            require(used - available, "capacity hours", f"{node_id} t={t}", available)

    # Shipments: lead times, lane capacity, trucks.
    lane_load: dict[tuple, float] = defaultdict(float)
    arrivals: dict[tuple, float] = defaultdict(float)
    departures: dict[tuple, float] = defaultdict(float)
    for row in plan.shipments.rows():
        ln = lanes[str(row["lane"])]
        t, qty, item = int(row["period"]), float(row["quantity"]), str(row["item"])
        require(0 if item in ln.items else qty, "lane items", f"{ln.id} carries no {item}")
        arrival = lane_arrival[(ln.id, t)]
        require(0 if arrival < H else qty, "arrival within horizon", f"{ln.id} t={t}", qty)
        lane_load[(ln.id, t)] += qty
        departures[(ln.origin, item, t)] += qty
        arrivals[(ln.destination, item, arrival)] += qty
    trucks = _sum(plan.trucks.rows(), ("lane", "period"), "trucks")
    for (lane_id, t), load in lane_load.items():
        ln = lanes[str(lane_id)]
        cap = lane_cap[(str(lane_id), int(t))]
        require(load - cap, "lane capacity", f"{lane_id} t={t}", cap if math.isfinite(cap) else 1)
        if ln.truck_cost > 0:
            n_trucks = trucks.get((lane_id, t), 0.0)
            require(abs(n_trucks - round(n_trucks)), "whole trucks", f"{lane_id} t={t}")
            require(load - ln.truck_size * n_trucks, "truck load", f"{lane_id} t={t}", load)

    # Flow balance at every stocking (node, item): recompute stock period by period.
    inv = _sum(plan.inventory.rows(), ("node", "item", "period"))
    flows: dict[tuple, float] = defaultdict(float)
    for (offer_id, t), qty in buy.items():
        o = offers[str(offer_id)]
        flows[(o.supplier, o.item, t)] += qty
    for (recipe_id, t), qty in make.items():
        r = recipes[str(recipe_id)]
        flows[(r.node, r.item, t)] += qty
        for inp, per_unit in r.inputs:
            flows[(r.node, inp, t)] -= per_unit * qty
    for key, qty in arrivals.items():
        flows[key] += qty
    for key, qty in departures.items():
        flows[key] -= qty
    for (position, t), qty in receipts.items():
        node_id, item_id = position.split("/")
        flows[(node_id, item_id, t)] += qty
    opening = {(s.node, s.item): s.on_hand for s in spec.stocks}
    stocking = {n.id for n in spec.nodes if n.role != NodeRole.CUSTOMER}
    keys = {(k[0], k[1]) for k in flows} | set(opening) | {(k[0], k[1]) for k in inv}
    for node_id, item_id in sorted(keys):
        if node_id not in stocking:
            continue
        level = opening.get((node_id, item_id), 0.0)
        for t in range(H):
            level += flows.get((node_id, item_id, t), 0.0)
            reported = inv.get((node_id, item_id, t), 0.0)
            require(abs(level - reported), "flow balance", f"{node_id}/{item_id} t={t}", max(abs(level), 1.0))
            require(-level, "stock non-negative", f"{node_id}/{item_id} t={t}", 1.0)
            level = reported

    # Storage, safety stock, working capital on the reported stock.
    held: dict[tuple, float] = defaultdict(float)
    value: dict[int, float] = defaultdict(float)
    for (node_id, item_id, t), qty in inv.items():
        held[(node_id, t)] += qty
        value[int(t)] += qty * items[str(item_id)].unit_value
    for (node_id, t), qty in held.items():
        cap = storage[(str(node_id), int(t))]
        require(qty - cap, "storage capacity", f"{node_id} t={t}", cap if math.isfinite(cap) else 1)
    released = _sum(
        [{"period": d.period, "quantity": d.quantity} for d in plan.decisions if d.action == WC_RELEASE], ("period",)
    )
    for t, total in value.items():
        cap = spec.working_capital_cap + released.get((t,), 0.0)
        require(total - cap, "working capital", f"t={t}", cap if math.isfinite(cap) else 1)
    shortfall = _sum(plan.safety_shortfall.rows(), ("node", "item", "period"))
    safety_cost = 0.0
    for s in spec.stocks:
        if s.safety_stock <= 0:
            continue
        for t in range(H):
            short = max(0.0, s.safety_stock - inv.get((s.node, s.item, t), 0.0))
            reported = shortfall.get((s.node, s.item, t), 0.0)
            require(short - reported, "safety stock shortfall", f"{s.id} t={t}", s.safety_stock)
            safety_cost += s.safety_penalty * reported

    # Demand: deliveries are the arrivals at customers; backlog carries what is owed; none at the end.
    backlog = _sum(plan.backlog.rows(), ("customer", "item", "period"))
    lost = _sum(plan.lost_sales.rows(), ("customer", "item", "period"))
    for (node_id, item_id, _t), qty in arrivals.items():
        if node_id not in stocking:
            require(0 if (node_id, item_id) in demands else qty, "delivery without demand", f"{node_id}/{item_id}")
    on_time_tiers = {target.priority for target in spec.service_targets if target.on_time}
    lost_by_tier: dict[int, float] = defaultdict(float)
    demand_by_tier: dict[int, float] = defaultdict(float)
    service_cost = 0.0
    lost_price = 0.0
    for (customer, item_id), d in demands.items():
        owed = 0.0
        for t in range(H):
            q = demand_qty[(d.id, t)]
            delivered = arrivals.get((customer, item_id, t), 0.0)
            given_up = lost.get((customer, item_id, t), 0.0)
            owed = owed + q - delivered - given_up
            reported = backlog.get((customer, item_id, t), 0.0)
            require(abs(owed - reported), "demand balance", f"{d.id} t={t}", max(q, 1.0))
            if d.on_time or d.priority in on_time_tiers:
                require(reported + given_up, "demand served on time", f"{d.id} t={t}", max(q, 1.0))
            owed = reported
            service_cost += d.backlog_penalty * reported + d.lost_sale_penalty * given_up
            lost_price += d.price * given_up
            lost_by_tier[d.priority] += given_up
            demand_by_tier[d.priority] += q
        total = sum(demand_qty[(d.id, t)] for t in range(H))
        require(abs(owed), "backlog at the horizon's end", d.id, max(total, 1.0))
        if d.single_source:
            sources = {
                row["lane"]
                for row in plan.shipments.rows()
                if row["destination"] == customer and row["item"] == item_id
            }
            require(max(0, len(sources) - 1), "single source", d.id)
    for target in spec.service_targets:
        allowed = (1 - target.fill_rate) * demand_by_tier.get(target.priority, 0.0)
        require(
            lost_by_tier.get(target.priority, 0.0) - allowed, "service target", f"priority {target.priority}", allowed
        )

    # The objective, recomputed: every cost from the tables and the network's prices.
    cost = sum(offers[str(o)].unit_cost * q for (o, _), q in buy.items())
    cost += sum(offers[str(r["offer"])].activation_cost for r in plan.activations.rows())
    for o_id in {str(o) for (o, _), q in buy.items() if q > tol and offers[str(o)].backup}:
        require(0 if o_id in activated else 1, "backup activation", o_id)
    for (recipe_id, _t), qty in make.items():
        r = recipes[str(recipe_id)]
        cost += r.unit_cost * qty + (r.setup_cost if qty > tol else 0.0)
    cost += sum(nodes[str(n)].overtime_cost * h for (n, _), h in overtime.items())
    for row in plan.shipments.rows():
        cost += lanes[str(row["lane"])].unit_cost * float(row["quantity"])
    cost += sum(lanes[str(ln_id)].truck_cost * n for (ln_id, _), n in trucks.items())
    cost += sum(items[str(i)].holding_cost * q for (_, i, _), q in inv.items())
    cost += safety_cost + service_cost
    cost += spec.capital_cost_rate * sum(released.values())
    if protocols is not None:
        cost += _check_authority(spec, plan, protocols, require)
    revenue = sum(d.price * demand_qty[(d.id, t)] for d in spec.demands for t in range(H)) - lost_price
    require(
        abs(cost - revenue - plan.objective), "objective", "recomputed cost - revenue", max(abs(plan.objective), 1.0)
    )
    return out


def _check_authority(spec: NetworkSpec, plan: Plan, protocols: ProtocolSet, require: Callable[..., None]) -> float:
    """Check every active rule's spend against its limit and cap from the plan's decisions, that
    what is executed at once fits the limit, that every governed action the tables show is
    covered by a decision under a rule, and return the governance cost of the escalations."""
    rules = {r.id: r for r in protocols.authority_rules}
    by_rule: dict[str, list[Decision]] = defaultdict(list)
    for d in plan.decisions:
        by_rule[d.rule].append(d)
    escalated_keys: set[str] = set()
    for a in plan.authority:
        rule = rules[a.rule]
        decisions = by_rule.get(a.rule, [])
        total = sum(d.cost for d in decisions)
        require(abs(total - a.spend), "authority spend", a.rule, max(abs(a.spend), 1.0))
        require(total - rule.hard_cap, "hard cap", a.rule, rule.hard_cap)
        now = sum(d.cost for d in decisions if d.status == AuthorityStatus.WITHIN_AUTHORITY)
        require(now - rule.spend_limit, "spend within authority", a.rule, rule.spend_limit)
        if not a.escalated:
            require(total - rule.spend_limit, "spend limit without escalation", a.rule, rule.spend_limit)
        else:
            escalated_keys.add(_approval_key(rule))
        for d in decisions:
            if d.status == AuthorityStatus.ESCALATED:
                require(0 if a.escalated else 1, "escalated decision under a rule that did not escalate", a.rule)
    for d in plan.decisions:
        if d.rule:
            require(0 if d.rule in {a.rule for a in plan.authority} else 1, "decision under an inactive rule", d.rule)

    # What the tables show of each governed action must all be decided under some rule.
    governed = protocols.governed()
    decided: dict[ActionKind, float] = defaultdict(float)
    for d in plan.decisions:
        if d.unit in ("units", "hours", "value"):
            decided[d.action] += d.quantity
    offers = {o.id: o for o in spec.offers}
    lanes = {ln.id: ln for ln in spec.lanes}
    role = {n.id: n.role for n in spec.nodes}
    priority = {(d.customer, d.item): d.priority for d in spec.demands}
    shown: dict[ActionKind, float] = defaultdict(float)
    for row in plan.purchases.rows():
        o = offers[str(row["offer"])]
        if o.backup:
            shown[ActionKind.BACKUP_ACTIVATION] += float(row["quantity"])
        if o.expedited:
            shown[ActionKind.EXPEDITED_PURCHASE] += float(row["quantity"])
    shown[ActionKind.OVERTIME] += plan.overtime.total("hours")
    for row in plan.shipments.rows():
        ln = lanes[str(row["lane"])]
        if ln.expedited:
            shown[ActionKind.EXPEDITED_FREIGHT] += float(row["quantity"])
        if ln.alternate:
            shown[ActionKind.REROUTING] += float(row["quantity"])
        if role[ln.origin] == role[ln.destination] == NodeRole.DC:
            shown[ActionKind.LATERAL_TRANSFER] += float(row["quantity"])
    for row in plan.lost_sales.rows():
        if priority[(str(row["customer"]), str(row["item"]))] >= 2:
            shown[ActionKind.RATIONING] += float(row["quantity"])
    for action in governed - {ActionKind.WORKING_CAPITAL_RELEASE}:
        require(
            abs(shown[action] - decided[action]),
            "governed action outside any decision",
            action.value,
            max(shown[action], 1.0),
        )
    # One approval per escalation: a joint one costs the most any active rule sharing it asks.
    governance: dict[str, float] = {}
    for a in plan.authority:
        key = _approval_key(rules[a.rule])
        governance[key] = max(governance.get(key, 0.0), rules[a.rule].governance_cost)
    return sum(cost for key, cost in governance.items() if key in escalated_keys)


def _approval_key(rule: AuthorityRule) -> str:
    """Rules with one joint approver share an escalation; every other rule has its own."""
    return rule.approver.key if rule.approver.joint else f"rule:{rule.id}"
