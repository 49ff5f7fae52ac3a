"""The rolling horizon: the network some periods later, with the plan's first periods executed
(stock, shipments under way, what customers are owed, the demand ahead)."""

from __future__ import annotations

from dataclasses import replace

from models.errors import ValidationError
from models.network import InTransit, NetworkSpec, Stock
from models.plan import Plan


def advance(spec: NetworkSpec, plan: Plan, periods: int) -> NetworkSpec:
    """The network `periods` periods later, the plan's first periods executed: stock at the end of
    period k-1 becomes on hand, shipments still under way become in-transit receipts (at
    customers: deliveries that serve the oldest units owed), what customers are owed joins the first
    period's demand, and demand moves forward. The horizon shrinks by `periods`; a lane slower than
    the remaining horizon is left out."""
    k = periods
    H = spec.horizon
    if not 0 < k < H:
        raise ValidationError("advance", spec.name, "periods", f"is {k}; it must lie in 1..{H - 1}")
    if not plan.has_solution:
        raise ValidationError("advance", spec.name, "plan", "has no solution to execute")
    inv = plan.inventory.rows()
    on_hand: dict[tuple[str, str], float] = {}
    for row in inv:
        if row["period"] == k - 1:
            on_hand[(row["node"], row["item"])] = float(row["quantity"])
    customers = {d.customer for d in spec.demands}
    receipts: dict[tuple[str, str, int], float] = {}
    delivered_later: dict[tuple[str, str, int], float] = {}
    for row in plan.shipments.rows():
        if row["period"] < k <= row["arrival"] < H:
            key = (row["destination"], row["item"], int(row["arrival"]) - k)
            target = delivered_later if row["destination"] in customers else receipts
            target[key] = target.get(key, 0.0) + float(row["quantity"])
    for rc in spec.in_transit:
        if rc.period >= k:
            key = (rc.node, rc.item, rc.period - k)
            receipts[key] = receipts.get(key, 0.0) + rc.quantity
    owed = {(r["customer"], r["item"]): float(r["quantity"]) for r in plan.backlog.rows() if r["period"] == k - 1}
    demands = []
    for d in spec.demands:
        q = list(d.quantity) + [0.0] * (H - len(d.quantity))
        ahead = q[k:]
        ahead[0] += owed.get((d.customer, d.item), 0.0)
        # A delivery under way serves the oldest units owed first (what is owed now, then each
        # period's demand in turn), as the demand balance does.
        under_way = sum(v for (c, i, _), v in delivered_later.items() if (c, i) == (d.customer, d.item))
        for t in range(len(ahead)):
            served = min(ahead[t], under_way)
            ahead[t] -= served
            under_way -= served
        demands.append(replace(d, quantity=tuple(ahead)))
    stocks = {(s.node, s.item): s for s in spec.stocks}
    new_stocks = [replace(s, on_hand=on_hand.get((s.node, s.item), 0.0)) for s in spec.stocks]
    new_stocks += [Stock(n, i, on_hand=q) for (n, i), q in on_hand.items() if (n, i) not in stocks and q > 0]
    return replace(
        spec,
        horizon=H - k,
        demands=tuple(demands),
        stocks=tuple(new_stocks),
        in_transit=tuple(InTransit(n, i, t, q) for (n, i, t), q in sorted(receipts.items()) if q > 0),
        # A lane slower than the remaining horizon can deliver nothing in it: it is left out.
        lanes=tuple(ln for ln in spec.lanes if ln.lead_time < H - k),
    )
