"""An independent check of a returned plan: recomputes every balance, capacity, bound and the
objective from the plan's tables and the network's specification, never from the solver's matrix.

It deliberately reads the string-keyed `NetworkSpec` (not the compiled arrays the builder uses) and
walks the records one by one, so a mistake in the vectorized builder cannot hide behind the same
mistake here. It is a checker for tests and audits, not a hot path.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from models.network import NetworkSpec, NodeRole
from models.plan import Plan


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


def check_plan(spec: NetworkSpec, plan: Plan, *, tol: float = 1e-5) -> list[Violation]:
    """Every rule of the network that `plan` breaks by more than `tol` (relative to the magnitudes
    involved), including a recomputed objective that differs from `plan.objective`."""
    out: list[Violation] = []
    H = spec.horizon

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
        require(
            qty - o.capacity, "supplier capacity", f"{offer_id} t={t}", o.capacity if math.isfinite(o.capacity) else 1
        )
        if o.backup:
            require(qty if offer_id not in activated else 0.0, "backup activation", f"{offer_id} t={t}", qty)
        if o.min_order > 0:
            require(o.min_order - qty, "minimum order", f"{offer_id} t={t}", o.min_order)

    # Production: rate, hours with overtime, setups are charged in the cost below.
    make = _sum(plan.production.rows(), ("recipe", "period"))
    overtime = _sum(plan.overtime.rows(), ("node", "period"), "hours")
    hours_used: dict[tuple, float] = defaultdict(float)
    for (recipe_id, t), qty in make.items():
        r = recipes[str(recipe_id)]
        require(qty - r.max_rate, "recipe rate", f"{recipe_id} t={t}", r.max_rate if math.isfinite(r.max_rate) else 1)
        hours_used[(r.node, t)] += r.hours_per_unit * qty
    for (node_id, t), hours in overtime.items():
        n = nodes[str(node_id)]
        require(hours - n.overtime_hours, "overtime hours", f"{node_id} t={t}", n.overtime_hours)
    for (node_id, t), used in hours_used.items():
        n = nodes[str(node_id)]
        if math.isfinite(n.regular_hours):
            available = n.regular_hours + overtime.get((node_id, t), 0.0)
            require(used - available, "capacity hours", f"{node_id} t={t}", available)

    # Shipments: lead times, lane capacity, trucks.
    lane_load: dict[tuple, float] = defaultdict(float)
    arrivals: dict[tuple, float] = defaultdict(float)
    departures: dict[tuple, float] = defaultdict(float)
    for row in plan.shipments.rows():
        ln = lanes[str(row["lane"])]
        t, qty, item = int(row["period"]), float(row["quantity"]), str(row["item"])
        require(0 if item in ln.items else qty, "lane items", f"{ln.id} carries no {item}")
        require(0 if t + ln.lead_time < H else qty, "arrival within horizon", f"{ln.id} t={t}", qty)
        lane_load[(ln.id, t)] += qty
        departures[(ln.origin, item, t)] += qty
        arrivals[(ln.destination, item, t + ln.lead_time)] += qty
    trucks = _sum(plan.trucks.rows(), ("lane", "period"), "trucks")
    for (lane_id, t), load in lane_load.items():
        ln = lanes[str(lane_id)]
        require(
            load - ln.capacity, "lane capacity", f"{lane_id} t={t}", ln.capacity if math.isfinite(ln.capacity) else 1
        )
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
    for rc in spec.in_transit:
        flows[(rc.node, rc.item, rc.period)] += rc.quantity
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
        cap = nodes[str(node_id)].storage_capacity
        require(qty - cap, "storage capacity", f"{node_id} t={t}", cap if math.isfinite(cap) else 1)
    for t, total in value.items():
        cap = spec.working_capital_cap
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
    lost_by_tier: dict[int, float] = defaultdict(float)
    demand_by_tier: dict[int, float] = defaultdict(float)
    service_cost = 0.0
    lost_price = 0.0
    for (customer, item_id), d in demands.items():
        owed = 0.0
        for t in range(H):
            q = d.quantity[t] if t < len(d.quantity) else 0.0
            delivered = arrivals.get((customer, item_id, t), 0.0)
            given_up = lost.get((customer, item_id, t), 0.0)
            owed = owed + q - delivered - given_up
            reported = backlog.get((customer, item_id, t), 0.0)
            require(abs(owed - reported), "demand balance", f"{d.id} t={t}", max(q, 1.0))
            owed = reported
            service_cost += d.backlog_penalty * reported + d.lost_sale_penalty * given_up
            lost_price += d.price * given_up
            lost_by_tier[d.priority] += given_up
            demand_by_tier[d.priority] += q
        require(abs(owed), "backlog at the horizon's end", d.id, max(sum(d.quantity), 1.0))
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
    revenue = sum(d.price * sum(d.quantity) for d in spec.demands) - lost_price
    require(
        abs(cost - revenue - plan.objective), "objective", "recomputed cost - revenue", max(abs(plan.objective), 1.0)
    )
    return out
