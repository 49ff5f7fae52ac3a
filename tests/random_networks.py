"""Small seeded random supply networks that exercise every constraint family of the allocation MILP,
for differential and property tests; each is feasible by construction and passes `Network.from_spec`.
Random decision protocols and signals for them, that keep them feasible.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from models.network import (
    Calendar,
    CalendarException,
    Demand,
    InTransit,
    Item,
    Lane,
    Network,
    NetworkSpec,
    Node,
    NodeRole,
    Recipe,
    ServiceTarget,
    Stock,
    SupplyOffer,
)
from models.protocols import (
    OWNER,
    ActionKind,
    Approver,
    AuthorityRule,
    Function,
    Predicate,
    ProtocolSet,
    Role,
    SignalRule,
)
from models.replanning import ReplanOptions
from models.signals import Signal, SignalType, apply_signals


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


# ---------------------------------------------------------------------------------------------
# Decision protocols and signals
# ---------------------------------------------------------------------------------------------


def random_calendar_network(seed: int) -> NetworkSpec:
    """`random_network(seed)` with its capacities in the long form and setup times: some regular
    hours, offer and lane capacities and recipe rates become calendars (a shutdown or a seasonal
    change over a run of periods) or per-period lists, some storage grows for a while, and recipes
    at nodes with limited hours take setup hours (10-40% of the node's least regular hours).

    Still feasible by construction: storage only grows and doing nothing meets every hard
    constraint, as in `random_network` (service targets rest on DC stock, not on capacities)."""
    spec = random_network(seed)
    rng = np.random.default_rng(10_000 + seed)
    H = spec.horizon

    def run() -> tuple[int, int]:
        start = int(rng.integers(0, H))
        return start, int(rng.integers(start + 1, H + 1))

    def vary(value: object, low: float, high: float) -> object:
        """A finite constant as a calendar with one exception, or as a per-period list."""
        if not isinstance(value, float) or not math.isfinite(value) or rng.random() < 0.3:
            return value
        if rng.random() < 0.5:
            start, end = run()
            return Calendar(value, (CalendarException(start, end, round(value * float(rng.uniform(low, high)), 2)),))
        return tuple(round(value * float(rng.uniform(low, high)), 2) for _ in range(H))

    least_hours: dict[str, float] = {}
    nodes = []
    for n in spec.nodes:
        if isinstance(n.regular_hours, float) and math.isfinite(n.regular_hours):
            least_hours[n.id] = n.regular_hours * 0.5
        storage = n.storage_capacity
        if isinstance(storage, float) and math.isfinite(storage) and rng.random() < 0.7:
            start, end = run()
            storage = Calendar(storage, (CalendarException(start, end, storage + float(rng.integers(5, 50))),))
        nodes.append(
            replace(
                n,
                regular_hours=vary(n.regular_hours, 0.5, 1.5),
                overtime_hours=vary(n.overtime_hours, 0.0, 1.5),
                storage_capacity=storage,
            )
        )
    recipes = [
        replace(
            r,
            max_rate=vary(r.max_rate, 0.3, 1.5),
            setup_hours=round(least_hours[r.node] * float(rng.uniform(0.1, 0.4)), 2)
            if r.node in least_hours and rng.random() < 0.7
            else 0.0,
        )
        for r in spec.recipes
    ]
    offers = [replace(o, capacity=vary(o.capacity, 0.0, 2.0)) if o.min_order == 0 else o for o in spec.offers]
    customers = {n.id for n in spec.nodes if n.role == NodeRole.CUSTOMER}
    # Lanes into customer zones carry the stock that backs service targets: they keep their capacity.
    lanes = [
        ln if ln.destination in customers else replace(ln, capacity=vary(ln.capacity, 0.0, 1.5)) for ln in spec.lanes
    ]
    return replace(
        spec,
        name=f"{spec.name}-calendar",
        nodes=tuple(nodes),
        recipes=tuple(recipes),
        offers=tuple(offers),
        lanes=tuple(lanes),
    )


def random_protocol_network(seed: int) -> NetworkSpec:
    """`random_network(seed)` with something for every action kind a protocol may govern: spot
    offers and offers bought at spot terms (expedited purchases), capacitated plant-DC lanes with a
    dearer, slower detour next to most (rerouting), lanes both ways between two DCs (lateral
    transfers), a capital cost rate and more often a working-capital cap (capital release).

    Feasible by construction, as `random_network`: every addition is an option, and a cap added here
    covers the stock already held or on its way.
    """
    spec = random_network(seed)
    rng = np.random.default_rng([seed, 1])
    H = spec.horizon

    def uniform(low: float, high: float) -> float:
        return round(float(rng.uniform(low, high)), 2)

    def chance(p: float) -> bool:
        return bool(rng.random() < p)

    offers = [replace(o, expedited=True) if not (o.backup or o.min_order) and chance(0.3) else o for o in spec.offers]
    offer_ids = {o.id for o in offers}
    for o in spec.offers:
        spot = f"{o.supplier}:{o.item}:spot"
        if o.backup or spot in offer_ids or not chance(0.35):
            continue
        offer_ids.add(spot)
        dear = chance(0.2)  # a spot offer that needs an activation too: both kinds act through it
        offers.append(
            SupplyOffer(
                spot,
                o.supplier,
                o.item,
                unit_cost=round(o.unit_cost * float(rng.uniform(1.2, 1.8)), 2),
                capacity=float(rng.integers(20, 90)),
                backup=dear,
                activation_cost=uniform(30, 150) if dear else 0.0,
                expedited=True,
            )
        )

    role = {n.id: n.role for n in spec.nodes}
    lanes: list[Lane] = []
    for ln in spec.lanes:
        if not (role[ln.origin] == NodeRole.PLANT and role[ln.destination] == NodeRole.DC and not ln.expedited):
            lanes.append(ln)
            continue
        if math.isinf(ln.capacity):
            ln = replace(ln, capacity=float(rng.integers(40, 160)))
        lanes.append(ln)
        if chance(0.7):
            trucked = chance(0.3)
            lanes.append(
                Lane(
                    f"{ln.id}:detour",
                    ln.origin,
                    ln.destination,
                    ln.items,
                    lead_time=min(ln.lead_time + 1, H - 1),
                    unit_cost=uniform(0.8, 2.5),
                    capacity=float(rng.integers(20, 100)),
                    truck_size=float(rng.integers(15, 50)) if trucked else 0.0,
                    truck_cost=uniform(30, 150) if trucked else 0.0,
                    alternate=True,
                )
            )
    dcs = [n.id for n in spec.nodes if n.role == NodeRole.DC]
    finished = tuple(i.id for i in spec.items if i.id.startswith("fin"))
    lane_ids = {ln.id for ln in lanes}
    if len(dcs) == 2:
        for ident, origin, destination in (("lateral", dcs[0], dcs[1]), ("lateral-back", dcs[1], dcs[0])):
            if ident not in lane_ids and chance(0.8):
                lanes.append(
                    Lane(
                        ident,
                        origin,
                        destination,
                        finished,
                        lead_time=int(rng.integers(0, min(1, H - 1) + 1)),
                        unit_cost=uniform(0.3, 1.5),
                        capacity=float(rng.integers(20, 80)) if chance(0.5) else math.inf,
                        expedited=chance(0.25),
                    )
                )

    cap = spec.working_capital_cap
    if math.isinf(cap) and chance(0.6):
        value = {i.id: i.unit_value for i in spec.items}
        held = sum(st.on_hand * value[st.item] for st in spec.stocks)
        held += sum(rc.quantity * value[rc.item] for rc in spec.in_transit)
        cap = held + uniform(0, 0.5) * sum(st.safety_stock * value[st.item] for st in spec.stocks)
    return replace(
        spec,
        name=f"random-protocols-{seed}",
        offers=tuple(offers),
        lanes=tuple(lanes),
        working_capital_cap=cap,
        capital_cost_rate=uniform(0.005, 0.05),
    )


ROLE_NAMES = ("buyer", "category_manager", "plant_manager", "logistics_manager", "ops_director", "cfo", "coo")


def _action_scopes(net: Network) -> dict[ActionKind, list[tuple[str, tuple[str, ...], float]]]:
    """For each action kind, the resources it acts on: (resource id, items, most it could spend),
    the most taken as what the whole horizon's capacity (or the whole demand) would cost."""
    H = net.horizon
    demand = max(float(net.demand_qty.sum()), 1.0)
    scopes: dict[ActionKind, list[tuple[str, tuple[str, ...], float]]] = {kind: [] for kind in ActionKind}
    for o in range(net.n_offers):
        units = min(float(net.offer_capacity[o].sum()), demand)
        item = (net.item_ids[net.offer_item[o]],)
        if net.offer_backup[o]:
            spend = float(net.offer_activation_cost[o] + net.offer_cost[o] * units)
            scopes[ActionKind.BACKUP_ACTIVATION].append((net.offer_ids[o], item, spend))
        if net.offer_expedited[o]:
            scopes[ActionKind.EXPEDITED_PURCHASE].append((net.offer_ids[o], item, float(net.offer_cost[o] * units)))
    hours = np.asarray(np.isfinite(net.node_regular_hours).all(axis=1) & (net.node_overtime_hours > 0).any(axis=1))
    for n in np.unique(net.recipe_node[net.recipe_hours > 0]):
        if hours[n]:
            spend = float(net.node_overtime_cost[n] * net.node_overtime_hours[n].sum())
            scopes[ActionKind.OVERTIME].append((net.node_ids[n], (), spend))
    dc = net.node_role == NodeRole.DC
    for lane in range(net.n_lanes):
        units = min(float(net.lane_capacity[lane].sum()), demand)
        spend = float(net.lane_cost[lane] * units)
        if net.lane_truck_cost[lane] > 0:
            spend += float(net.lane_truck_cost[lane] * math.ceil(units / net.lane_truck_size[lane]))
        items = tuple(net.item_ids[i] for i in net.arc_item[net.arc_lane == lane])
        for kind, acts in (
            (ActionKind.EXPEDITED_FREIGHT, net.lane_expedited[lane]),
            (ActionKind.REROUTING, net.lane_alternate[lane]),
            (ActionKind.LATERAL_TRANSFER, dc[net.lane_origin[lane]] and dc[net.lane_destination[lane]]),
        ):
            if acts:
                scopes[kind].append((net.lane_ids[lane], items, spend))
    rationed = net.demand_priority >= 2
    for c in np.unique(net.demand_node[rationed]):
        streams = np.flatnonzero(rationed & (net.demand_node == c))
        spend = float(
            ((net.demand_price + net.demand_lost_penalty)[streams] * net.demand_qty[streams].sum(axis=1)).sum()
        )
        scopes[ActionKind.RATIONING].append(
            (net.node_ids[c], tuple(net.item_ids[i] for i in net.demand_item[streams]), spend)
        )
    if math.isfinite(net.working_capital_cap) and net.item_value[net.position_item].any():
        spend = net.capital_cost_rate * net.working_capital_cap * H
        scopes[ActionKind.WORKING_CAPITAL_RELEASE].append(("", (), spend))
    return scopes


def _random_signals(rng: np.random.Generator, net: Network) -> list[Signal]:
    """One to four signals hitting the network: supplier outages, demand changes, lane
    disruptions and capacity losses, detected by the start of the last period.

    A factor of 0 goes only to finite capacities (`apply_signals` would turn inf * 0 into NaN); a
    demand surge only to streams no service target depends on, which the initial stock backs.
    """
    H, P = net.horizon, net.period_hours

    def uniform(low: float, high: float) -> float:
        return round(float(rng.uniform(low, high)), 2)

    suppliers = sorted({int(n) for n in net.offer_node})
    customers = sorted({int(n) for n in net.demand_node})
    lanes = [k for k in range(net.n_lanes) if np.isfinite(net.lane_capacity[k]).all()]
    hour_nodes = sorted({int(n) for n in net.recipe_node if np.isfinite(net.node_regular_hours[n]).all()})
    kinds = [
        kind
        for kind, where in (
            (SignalType.SUPPLIER_OUTAGE, suppliers),
            (SignalType.DEMAND_CHANGE, customers),
            (SignalType.LANE_DISRUPTION, lanes),
            (SignalType.CAPACITY_LOSS, hour_nodes),
        )
        if where
    ]
    targeted = set(net.target_priority.tolist())
    signals: list[Signal] = []
    for k in range(int(rng.integers(1, 5))):
        kind = kinds[int(rng.integers(len(kinds)))]
        start = uniform(0, (H - 1) * P)
        detected = min(max(start + uniform(-P, P / 4), 0.0), (H - 1) * P)
        duration = math.inf if rng.random() < 0.3 else uniform(P / 2, H * P)
        signal = Signal(f"sig{k}", kind, detected_hours=detected, start_hours=start, duration_hours=duration)
        if kind == SignalType.SUPPLIER_OUTAGE:
            s = suppliers[int(rng.integers(len(suppliers)))]
            offers = np.flatnonzero(net.offer_node == s)
            item = int(net.offer_item[rng.choice(offers)]) if rng.random() < 0.4 else -1
            hit = offers[(net.offer_item[offers] == item) | (item < 0)]
            finite = bool(np.isfinite(net.offer_capacity[hit]).all())
            magnitude = 0.0 if finite and rng.random() < 0.4 else uniform(0.05, 0.6)
            item_id = net.item_ids[item] if item >= 0 else ""
            signal = replace(signal, magnitude=magnitude, supplier=net.node_ids[s], item=item_id)
        elif kind == SignalType.DEMAND_CHANGE:
            c = customers[int(rng.integers(len(customers)))]
            streams = np.flatnonzero(net.demand_node == c)
            item = int(net.demand_item[rng.choice(streams)]) if rng.random() < 0.4 else -1
            hit = streams[(net.demand_item[streams] == item) | (item < 0)]
            may_surge = not targeted & set(net.demand_priority[hit].tolist())
            magnitude = uniform(1.1, 1.8) if may_surge and rng.random() < 0.7 else uniform(0.4, 0.95)
            item_id = net.item_ids[item] if item >= 0 else ""
            signal = replace(signal, magnitude=magnitude, customer=net.node_ids[c], item=item_id)
        elif kind == SignalType.LANE_DISRUPTION:
            lane = lanes[int(rng.integers(len(lanes)))]
            magnitude = 0.0 if rng.random() < 0.4 else uniform(0.05, 0.5)
            signal = replace(signal, magnitude=magnitude, lane=net.lane_ids[lane])
        else:
            node = hour_nodes[int(rng.integers(len(hour_nodes)))]
            signal = replace(signal, magnitude=uniform(0.2, 0.8), node=net.node_ids[node])
        signals.append(signal)
    return signals


def _predicate(rng: np.random.Generator, signal: Signal, net: Network, *, match: bool) -> Predicate:
    """A predicate that `signal` satisfies (or, without `match`, one it misses by its magnitude),
    with random bounds on duration and magnitude, and now and then the place, tier or item."""
    if not match:
        return Predicate(min_magnitude=signal.magnitude + 0.05)
    where = signal.supplier or signal.customer or signal.node or signal.lane
    duration = signal.duration_hours
    finite = math.isfinite(duration)
    tier = int(net.node_tier[net.node_ids.index(signal.supplier)]) if signal.supplier else 0
    return Predicate(
        min_duration_hours=round(duration * float(rng.uniform(0.2, 0.9)), 2) if finite and rng.random() < 0.4 else 0.0,
        max_duration_hours=round(duration * float(rng.uniform(1.1, 3)), 2)
        if finite and rng.random() < 0.4
        else math.inf,
        min_magnitude=round(signal.magnitude - float(rng.uniform(0.01, 0.3)), 2) if rng.random() < 0.4 else -math.inf,
        max_magnitude=round(signal.magnitude + float(rng.uniform(0.02, 0.5)), 2) if rng.random() < 0.4 else math.inf,
        supplier_tier=tier if rng.random() < 0.5 else 0,
        nodes=(where,) if rng.random() < 0.5 else (),
        items=(signal.item,) if signal.item and rng.random() < 0.3 else (),
    )


def random_protocols(seed: int, net_spec: NetworkSpec) -> tuple[ProtocolSet, list[Signal]]:
    """Random decision protocols for a network, and random signals that hit it.

    Roles escalate along chains (each to a later role: no cycle). Three to seven authority rules,
    each over an action kind the network has (now and then one it lacks) and owned by `OWNER`,
    with a spend limit well below what the kind could spend and a hard cap above it, a delay and a
    governance cost; some standing, the others activated by signal rules (one or two rules each)
    whose predicate matches a signal (now and then none); some scoped to a few resources or items;
    now and then two rules share one joint approver.

    The network stays feasible: protocols only bound actions, and doing nothing remains possible,
    but for rationing, which gives up demand. So when rationing is governed a standing unscoped rule
    covers it, every rationing cap lies above what giving up all demand spends, and no rationing
    escalation takes effect after the last period (no delay; signals are detected by then).
    """
    rng = np.random.default_rng([seed, 2])
    net = Network.from_spec(net_spec)
    P = net.period_hours

    def uniform(low: float, high: float) -> float:
        return round(float(rng.uniform(low, high)), 2)

    def chance(p: float) -> bool:
        return bool(rng.random() < p)

    signals = _random_signals(rng, net)
    scopes = _action_scopes(apply_signals(net, signals))
    rationing = sum(spend for _, _, spend in scopes[ActionKind.RATIONING])

    names = [str(n) for n in rng.choice(ROLE_NAMES, size=int(rng.integers(2, 6)), replace=False)]
    roles = [
        Role(
            name, escalates_to=names[int(rng.integers(k + 1, len(names)))] if k + 1 < len(names) and chance(0.7) else ""
        )
        for k, name in enumerate(names)
    ]

    available = [kind for kind in ActionKind if scopes[kind]]
    rules: list[AuthorityRule] = []
    for k in range(int(rng.integers(3, 8))):
        pool = available if available and chance(0.9) else list(ActionKind)
        action = pool[int(rng.integers(len(pool)))]
        covered = scopes[action]
        resources: tuple[str, ...] = ()
        items: tuple[str, ...] = ()
        if covered and action != ActionKind.WORKING_CAPITAL_RELEASE and chance(0.35):
            chosen = sorted(
                int(i) for i in rng.choice(len(covered), size=int(rng.integers(1, len(covered) + 1)), replace=False)
            )
            covered = [covered[i] for i in chosen]
            resources = tuple(res for res, _, _ in covered)
        elif covered and chance(0.15):
            carried = sorted({item for _, its, _ in covered for item in its})
            if carried:
                items = tuple(
                    str(i) for i in rng.choice(carried, size=min(len(carried), int(rng.integers(1, 3))), replace=False)
                )
        potential = sum(spend for _, _, spend in covered)
        limit = round(potential * float(rng.uniform(0.03, 0.3)), 2) if potential > 0 else uniform(10, 100)
        no_escalation = chance(0.1)  # the cap is the limit: escalating approves nothing more
        cap = limit if no_escalation else round(limit + max(potential, 50.0) * float(rng.uniform(0.3, 1.5)), 2)
        if action == ActionKind.RATIONING:
            cap = max(cap, round(rationing + 1.0, 2))
        rules.append(
            AuthorityRule(
                f"r{k}-{action.value}",
                OWNER[action],
                action,
                spend_limit=limit,
                hard_cap=cap,
                approver=Approver(role=names[int(rng.integers(len(names)))]),
                escalation_delay_hours=0.0 if action == ActionKind.RATIONING or chance(0.4) else uniform(0, 2 * P),
                governance_cost=uniform(5, 150),
                standing=chance(0.35),
                resources=resources,
                items=items,
            )
        )
    if any(r.action == ActionKind.RATIONING for r in rules):
        rules.append(
            AuthorityRule(
                "standing-rationing",
                Function.SALES,
                ActionKind.RATIONING,
                spend_limit=round(rationing * float(rng.uniform(0.05, 0.3)), 2),
                hard_cap=round(rationing + 1.0, 2),
                approver=Approver(role=names[-1]),
                governance_cost=uniform(5, 150),
                standing=True,
            )
        )
    if len(rules) >= 2 and chance(0.6):  # one joint approval covers both rules
        first, second = (int(i) for i in rng.choice(len(rules), size=2, replace=False))
        joint = {rules[first].function, rules[second].function}
        if len(joint) < 2 or chance(0.3):
            joint.add(Function.FINANCE if Function.FINANCE not in joint else Function.PRODUCTION)
        approver = Approver(joint=tuple(sorted(joint, key=lambda f: f.value)))
        rules[first] = replace(rules[first], approver=approver)
        rules[second] = replace(rules[second], approver=approver)

    waiting = [r.id for r in rules if not r.standing]
    signal_rules: list[SignalRule] = []
    while waiting:
        activates = tuple(waiting[: 2 if chance(0.3) else 1])
        waiting = waiting[len(activates) :]
        signal = signals[int(rng.integers(len(signals)))]
        signal_rules.append(
            SignalRule(
                f"on-{signal.type.value}-{len(signal_rules)}",
                signal.type,
                activates,
                _predicate(rng, signal, net, match=chance(0.8)),
            )
        )
    return ProtocolSet(f"random-{seed}", tuple(roles), tuple(rules), tuple(signal_rules)), signals


# ---------------------------------------------------------------------------------------------
# Replanning
# ---------------------------------------------------------------------------------------------


def random_replan_signals(seed: int, spec: NetworkSpec) -> list[Signal]:
    """Random signals of every kind for a replan of `spec` (a `random_network`): those of
    `random_protocols` (outages, demand changes, lane disruptions, capacity losses), lane
    disruptions now and then with a detour delay, and one or two of lead-time changes (longer or
    shorter), new and cancelled orders and inventory adjustments.

    The network stays feasible: new orders go only to streams no service target depends on, and
    inventory adjustments only cut stock no target relies on (at plants, or anywhere without a
    target) by at most what is on hand, or add found stock where neither storage nor working
    capital is capped.
    """
    rng = np.random.default_rng([seed, 3])
    net = Network.from_spec(spec)
    H, P = net.horizon, net.period_hours

    def uniform(low: float, high: float) -> float:
        return round(float(rng.uniform(low, high)), 2)

    def signal(ident: str, kind: SignalType) -> Signal:
        """A signal of `kind` with a random window, detected by the start of the last period."""
        start = uniform(0, (H - 1) * P)
        return Signal(
            ident,
            kind,
            detected_hours=min(max(start + uniform(-P, P / 4), 0.0), (H - 1) * P),
            start_hours=start,
            duration_hours=math.inf if rng.random() < 0.3 else uniform(P / 2, H * P),
        )

    signals = [
        replace(s, delay_hours=uniform(1, 2 * P)) if s.type == SignalType.LANE_DISRUPTION and rng.random() < 0.5 else s
        for s in _random_signals(rng, net)
    ]
    targeted = {t.priority for t in spec.service_targets}
    role = {n.id: n.role for n in spec.nodes}
    storage = {n.id: n.storage_capacity for n in spec.nodes}
    holds = [s for s in spec.stocks if s.on_hand > 0 and (role[s.node] == NodeRole.PLANT or not targeted)]
    found = [s for s in spec.stocks if math.isinf(storage[s.node]) and math.isinf(spec.working_capital_cap)]
    kinds = [SignalType.LEAD_TIME_CHANGE, SignalType.ORDER_CHANGE]
    if holds or found:
        kinds.append(SignalType.INVENTORY_ADJUSTMENT)
    for k in range(int(rng.integers(1, 3))):
        kind = kinds[int(rng.integers(len(kinds)))]
        extra = signal(f"extra{k}", kind)
        if kind == SignalType.LEAD_TIME_CHANGE:
            lane = spec.lanes[int(rng.integers(len(spec.lanes)))]
            extra = replace(extra, lane=lane.id, delay_hours=uniform(-P, 2 * P))
        elif kind == SignalType.ORDER_CHANGE:
            d = spec.demands[int(rng.integers(len(spec.demands)))]
            units = float(rng.integers(5, 30))
            may_add = d.priority not in targeted and rng.random() < 0.6
            extra = replace(extra, customer=d.customer, item=d.item, magnitude=units if may_add else -units)
        else:
            cut = bool(holds) and (not found or rng.random() < 0.6)
            stock = holds[int(rng.integers(len(holds)))] if cut else found[int(rng.integers(len(found)))]
            units = -round(stock.on_hand * float(rng.uniform(0.3, 1.0)), 2) if cut else float(rng.integers(5, 30))
            extra = replace(extra, node=stock.node, item=stock.item, magnitude=units)
        signals.append(extra)
    return signals


def random_replan_options(seed: int) -> ReplanOptions:
    """Random replan options: a stability weight (now and then 0), function weights, a decay, a
    fence of 0 to 2 periods with a penalty low enough to trade against the network's costs, and
    how far upstream and how long after the disruption the first answer may move decisions."""
    rng = np.random.default_rng([seed, 4])

    def uniform(low: float, high: float) -> float:
        return round(float(rng.uniform(low, high)), 2)

    return ReplanOptions(
        stability_weight=0.0 if rng.random() < 0.2 else uniform(0.05, 3),
        procurement_weight=uniform(0, 2),
        production_weight=uniform(0, 2),
        logistics_weight=uniform(0, 2),
        decay=uniform(0.3, 1),
        fence_periods=int(rng.integers(0, 3)),
        fence_penalty=uniform(5, 500),
        upstream_hops=int(rng.integers(0, 4)),
        recovery_periods=int(rng.integers(0, 3)),
    )
