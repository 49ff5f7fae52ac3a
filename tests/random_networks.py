"""Small seeded random supply networks that exercise every constraint family of the allocation MILP,
for differential and property tests; each is feasible by construction and passes `Network.from_spec`.
"""

from __future__ import annotations

import math

import numpy as np

from models.network import (
    Demand,
    InTransit,
    Item,
    Lane,
    NetworkSpec,
    Node,
    NodeRole,
    Recipe,
    ServiceTarget,
    Stock,
    SupplyOffer,
)


def random_network(seed: int, *, integers: bool = True) -> NetworkSpec:
    """A random network: tier-2 suppliers sell raw materials, tier-1 suppliers make or sell
    components, plants make finished goods, DCs hold them and customer zones ask for them.

    With `integers` the network has backup offers with an activation cost, minimum orders, setup
    costs, truck lanes and single-sourced demand, priced so that the integer decisions matter;
    without it every one of those is left out and the model is a pure LP.

    Feasible by construction: doing nothing (every unit lost) meets every hard constraint, since
    storage and working-capital caps cover the initial stock and the scheduled receipts, and a
    service target of fill rate f is backed by DC stock worth f of its tier's demand, one lead-0
    lane of ample capacity away from each customer.
    """
    rng = np.random.default_rng(seed)
    H = int(rng.integers(2, 5))
    max_lead = min(2, H - 1)

    def uniform(low: float, high: float) -> float:
        return round(float(rng.uniform(low, high)), 2)

    def chance(p: float) -> bool:
        return bool(rng.random() < p)

    def pick(pool: list[str], low: int, high: int) -> list[str]:
        k = int(rng.integers(low, min(high, len(pool)) + 1))
        return sorted(str(x) for x in rng.choice(pool, size=k, replace=False))

    def levels(prefix: str, value: tuple[float, float]) -> list[Item]:
        return [
            Item(f"{prefix}{k}", unit_value=uniform(*value), holding_cost=uniform(0.01, 0.3))
            for k in range(int(rng.integers(1, 4)))
        ]

    raws, components, finished = levels("raw", (1, 4)), levels("comp", (5, 12)), levels("fin", (15, 30))
    raw_ids = [i.id for i in raws]
    comp_ids = [i.id for i in components]
    fin_ids = [i.id for i in finished]
    value = {i.id: i.unit_value for i in (*raws, *components, *finished)}

    tier2 = [f"S2_{k}" for k in range(int(rng.integers(1, 3)))]
    tier1 = [f"S1_{k}" for k in range(int(rng.integers(1, 3)))]
    plants = [f"P{k}" for k in range(int(rng.integers(1, 3)))]
    dcs = [f"DC{k}" for k in range(int(rng.integers(1, 3)))]
    customers = [f"C{k}" for k in range(int(rng.integers(1, 4)))]

    offers: list[SupplyOffer] = []
    recipes: list[Recipe] = []
    lanes: list[Lane] = []

    def offer(supplier: str, item: str, cost: tuple[float, float]) -> None:
        """A regular, backup or minimum-order offer; backup and minimum orders need a finite capacity."""
        kind = rng.choice(["plain", "backup", "minimum"], p=[0.4, 0.3, 0.3]) if integers else "plain"
        capacity = float(rng.integers(30, 150))
        if kind == "plain":
            offers.append(
                SupplyOffer(
                    f"{supplier}:{item}",
                    supplier,
                    item,
                    unit_cost=uniform(*cost),
                    capacity=capacity if chance(0.7) else math.inf,
                    payment_days=uniform(0, 60),
                )
            )
        elif kind == "backup":
            offers.append(
                SupplyOffer(
                    f"{supplier}:{item}:backup",
                    supplier,
                    item,
                    unit_cost=uniform(cost[0] * 0.6, cost[1]),
                    capacity=capacity,
                    backup=True,
                    activation_cost=uniform(50, 400),
                )
            )
        else:
            offers.append(
                SupplyOffer(
                    f"{supplier}:{item}:moq",
                    supplier,
                    item,
                    unit_cost=uniform(cost[0] * 0.5, cost[0]),
                    capacity=capacity,
                    min_order=float(round(capacity * rng.uniform(0.2, 0.6))),
                )
            )

    # Tier 2 sells raw materials; every raw material has at least one seller.
    sells: dict[str, list[str]] = {s: pick(raw_ids, 1, 3) for s in tier2}
    for k, raw in enumerate(raw_ids):
        sells[tier2[k % len(tier2)]] = sorted({*sells[tier2[k % len(tier2)]], raw})
    for s, sold in sells.items():
        for raw in sold:
            offer(s, raw, (1, 4))
            if integers and chance(0.25):  # a second, backup source at the same supplier
                offers.append(
                    SupplyOffer(
                        f"{s}:{raw}:spare",
                        s,
                        raw,
                        unit_cost=uniform(0.5, 2),
                        capacity=float(rng.integers(40, 120)),
                        backup=True,
                        activation_cost=uniform(80, 300),
                    )
                )

    def hours_node(node_id: str, role: NodeRole, tier: int = 0) -> Node:
        limited = chance(0.8)
        return Node(
            node_id,
            role,
            tier=tier,
            regular_hours=float(rng.integers(30, 120)) if limited else math.inf,
            overtime_hours=float(rng.integers(5, 40)) if limited and chance(0.7) else 0.0,
            overtime_cost=uniform(2, 15),
        )

    def recipe(node: str, item: str, inputs: list[tuple[str, float]], cost: tuple[float, float]) -> None:
        setup = integers and chance(0.6)
        recipes.append(
            Recipe(
                f"{node}:{item}",
                node,
                item,
                inputs=tuple(inputs),
                hours_per_unit=uniform(0.3, 2) if chance(0.85) else 0.0,
                unit_cost=uniform(*cost),
                setup_cost=uniform(40, 300) if setup else 0.0,
                max_rate=float(rng.integers(40, 200)) if setup or chance(0.5) else math.inf,
            )
        )

    # Tier 1 makes some components from raw materials and sells others; together they cover all.
    nodes: list[Node] = [Node(s, NodeRole.SUPPLIER, tier=2) for s in tier2]
    supplies: dict[str, list[str]] = {}
    needs: dict[str, set[str]] = {s: set() for s in tier1}
    for s in tier1:
        nodes.append(hours_node(s, NodeRole.SUPPLIER, tier=1))
        supplies[s] = pick(comp_ids, 1, 3)
    for k, comp in enumerate(comp_ids):
        s = tier1[k % len(tier1)]
        supplies[s] = sorted({*supplies[s], comp})
    for s in tier1:
        for comp in supplies[s]:
            if chance(0.7):
                inputs = [(raw, float(rng.integers(1, 3))) for raw in pick(raw_ids, 1, 2)]
                needs[s].update(raw for raw, _ in inputs)
                recipe(s, comp, inputs, (1, 3))
            else:
                offer(s, comp, (6, 12))

    def connect(
        origin: str,
        destination: str,
        items: list[str],
        *,
        ident: str | None = None,
        lead: int | None = None,
        capacity: float | None = None,
        unit_cost: float | None = None,
        truck_size: float = 0.0,
        truck_cost: float = 0.0,
        mode: str = "road",
        expedited: bool = False,
    ) -> None:
        """A lane; one carrying several items gets a finite capacity now and then."""
        if capacity is None:
            capacity = float(rng.integers(20, 150)) if len(items) > 1 and chance(0.7) else math.inf
        lanes.append(
            Lane(
                ident or f"{origin}>{destination}",
                origin,
                destination,
                tuple(sorted(items)),
                lead_time=int(rng.integers(0, max_lead + 1)) if lead is None else lead,
                unit_cost=uniform(0.1, 1.5) if unit_cost is None else unit_cost,
                capacity=capacity,
                truck_size=truck_size,
                truck_cost=truck_cost,
                mode=mode,
                expedited=expedited,
            )
        )

    # Raw materials go from every tier-2 seller to every tier-1 supplier or plant that uses them.
    def supply_raws(destination: str, wanted: set[str]) -> None:
        for s, sold in sells.items():
            carried = sorted(wanted & set(sold))
            if carried:
                connect(s, destination, carried)

    for s in tier1:
        supply_raws(s, needs[s])

    # Plants make finished goods from components (and now and then a raw material).
    makes: dict[str, list[str]] = {p: pick(fin_ids, 1, 3) for p in plants}
    for k, fin in enumerate(fin_ids):
        p = plants[k % len(plants)]
        makes[p] = sorted({*makes[p], fin})
    for p in plants:
        nodes.append(hours_node(p, NodeRole.PLANT))
        plant_needs: set[str] = set()
        for fin in makes[p]:
            inputs = [(comp, float(rng.integers(1, 3))) for comp in pick(comp_ids, 1, 2)]
            if chance(0.3):
                inputs.append((str(rng.choice(raw_ids)), 1.0))
            plant_needs.update(i for i, _ in inputs)
            recipe(p, fin, inputs, (2, 6))
        for s in tier1:
            carried = sorted(plant_needs & set(supplies[s]))
            if carried:
                connect(s, p, carried)
        supply_raws(p, plant_needs & set(raw_ids))

    nodes.extend(Node(d, NodeRole.DC) for d in dcs)

    # Plants ship to every DC: by road (in trucks when `integers`), sometimes also expedited by air.
    for p in plants:
        for d in dcs:
            if integers and chance(0.6):
                connect(
                    p,
                    d,
                    makes[p],
                    lead=min(1, max_lead),
                    truck_size=float(rng.integers(15, 60)),
                    truck_cost=uniform(40, 250),
                    unit_cost=uniform(0.05, 0.5),
                )
            else:
                connect(p, d, makes[p], lead=min(1, max_lead))
            if chance(0.5):
                connect(
                    p,
                    d,
                    makes[p],
                    ident=f"{p}>{d}:air",
                    lead=0,
                    unit_cost=uniform(2, 6),
                    mode="air",
                    expedited=True,
                )
    if len(dcs) == 2 and chance(0.6):  # lateral transfers
        connect(dcs[0], dcs[1], fin_ids, ident="lateral")

    # Customers: demand per period, served over a lead-0 lane from a primary DC and maybe another.
    demands: list[Demand] = []
    targets: list[ServiceTarget] = []
    fill_rate = uniform(0.2, 0.6) if chance(0.6) else 0.0
    if fill_rate > 0:
        targets.append(ServiceTarget(priority=1, fill_rate=fill_rate))
    dc_stock = {(d, f): 0.0 for d in dcs for f in fin_ids}
    for c in customers:
        nodes.append(Node(c, NodeRole.CUSTOMER))
        wanted = pick(fin_ids, 1, 3)
        primary, *others = [str(d) for d in rng.permutation(dcs)]
        for fin in wanted:
            quantity = tuple(float(q) for q in rng.integers(0, 40, size=H))
            priority = int(rng.integers(1, 3))
            demands.append(
                Demand(
                    c,
                    fin,
                    quantity,
                    price=uniform(25, 80),
                    priority=priority,
                    backlog_penalty=uniform(0.2, 3),
                    lost_sale_penalty=uniform(0, 20),
                    single_source=integers and chance(0.5),
                    receivable_days=uniform(0, 45),
                )
            )
            if priority == 1:
                dc_stock[primary, fin] += math.ceil(fill_rate * sum(quantity))
        connect(primary, c, wanted, lead=0, capacity=math.inf)
        for d in others:
            if chance(0.6):
                connect(d, c, wanted)
        if plants and chance(0.3):
            direct = sorted(set(wanted) & set(makes[plants[0]]))
            if direct:
                connect(plants[0], c, direct, unit_cost=uniform(1, 3))

    # Stock: DCs hold finished goods with a safety stock, plants hold some components.
    stocks: list[Stock] = []
    for d in dcs:
        for fin in fin_ids:
            safety = float(rng.integers(10, 50)) if chance(0.6) else 0.0
            on_hand = dc_stock[d, fin] + float(rng.integers(0, 20))
            if on_hand or safety:
                stocks.append(Stock(d, fin, on_hand=on_hand, safety_stock=safety, safety_penalty=uniform(2, 10)))
    for p in plants:
        for comp in pick(comp_ids, 0, 2):
            stocks.append(Stock(p, comp, on_hand=float(rng.integers(0, 30))))

    # Scheduled receipts at DCs (finished goods) and plants (components), already under way.
    in_transit: list[InTransit] = []
    for _ in range(int(rng.integers(1, 4))):
        if chance(0.5):
            node, item = str(rng.choice(dcs)), str(rng.choice(fin_ids))
        else:
            node, item = str(rng.choice(plants)), str(rng.choice(comp_ids))
        in_transit.append(InTransit(node, item, int(rng.integers(0, H)), float(rng.integers(5, 30))))
    in_transit = list({r.id: r for r in in_transit}.values())

    # Storage and working capital leave room for what is already there or on its way.
    already = {n.id: 0.0 for n in nodes}
    for st in stocks:
        already[st.node] += st.on_hand
    for rc in in_transit:
        already[rc.node] += rc.quantity
    capped = {d for d in dcs if chance(0.6)} | ({plants[0]} if chance(0.4) else set())
    nodes = [
        Node(
            n.id,
            n.role,
            tier=n.tier,
            storage_capacity=already[n.id] + float(rng.integers(0, 80)) if n.id in capped else math.inf,
            regular_hours=n.regular_hours,
            overtime_hours=n.overtime_hours,
            overtime_cost=n.overtime_cost,
        )
        for n in nodes
    ]
    held_value = sum(st.on_hand * value[st.item] for st in stocks) + sum(
        rc.quantity * value[rc.item] for rc in in_transit
    )
    safety_value = sum(st.safety_stock * value[st.item] for st in stocks)
    working_capital_cap = held_value + uniform(0, 0.5) * safety_value if chance(0.6) else math.inf

    return NetworkSpec(
        name=f"random-{seed}",
        horizon=H,
        items=(*raws, *components, *finished),
        nodes=tuple(nodes),
        offers=tuple(offers),
        recipes=tuple(recipes),
        lanes=tuple(lanes),
        demands=tuple(demands),
        stocks=tuple(stocks),
        in_transit=tuple(in_transit),
        service_targets=tuple(targets),
        working_capital_cap=working_capital_cap,
    )
