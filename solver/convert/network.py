"""Networks: concerto.v1.Network <-> `models.network.NetworkSpec`, entity by entity, in pairs."""

from __future__ import annotations

from models.errors import ValidationError
from models.network import (
    Calendar,
    CalendarException,
    Demand,
    InTransit,
    Item,
    Lane,
    NetworkSpec,
    Node,
    PerPeriod,
    Recipe,
    ServiceTarget,
    Stock,
    SupplyOffer,
)
from solver._proto.concerto.v1 import network_pb2
from solver.convert._common import (
    _ROLE_CHOICES,
    _ROLE_FROM_PROTO,
    _ROLE_TO_PROTO,
    DEFAULT_MODE,
    DEFAULT_PERIOD_HOURS,
    DEFAULT_PRIORITY,
    UNLIMITED,
    _enum_to_domain,
    _enum_to_proto,
    _limit,
)


def network_to_spec(msg: network_pb2.Network) -> NetworkSpec:
    """The spec a `Network` message describes; raises `ValidationError` for an unset or unknown node role."""
    return NetworkSpec(
        name=msg.name,
        horizon=int(msg.horizon),
        period_hours=msg.period_hours if msg.HasField("period_hours") else DEFAULT_PERIOD_HOURS,
        items=tuple(_item_to_spec(m) for m in msg.items),
        nodes=tuple(_node_to_spec(m) for m in msg.nodes),
        offers=tuple(_offer_to_spec(m) for m in msg.offers),
        recipes=tuple(_recipe_to_spec(m) for m in msg.recipes),
        lanes=tuple(_lane_to_spec(m) for m in msg.lanes),
        demands=tuple(_demand_to_spec(m) for m in msg.demands),
        stocks=tuple(_stock_to_spec(m) for m in msg.stocks),
        in_transit=tuple(_in_transit_to_spec(m) for m in msg.in_transit),
        service_targets=tuple(_service_target_to_spec(m) for m in msg.service_targets),
        working_capital_cap=msg.working_capital_cap if msg.HasField("working_capital_cap") else UNLIMITED,
        capital_cost_rate=msg.capital_cost_rate,
    )


def spec_to_network(spec: NetworkSpec) -> network_pb2.Network:
    """The `Network` message of a spec; `network_to_spec` gives the same spec back."""
    return network_pb2.Network(
        name=spec.name,
        horizon=spec.horizon,
        period_hours=spec.period_hours,
        items=[_item_to_proto(x) for x in spec.items],
        nodes=[_node_to_proto(x) for x in spec.nodes],
        offers=[_offer_to_proto(x) for x in spec.offers],
        recipes=[_recipe_to_proto(x) for x in spec.recipes],
        lanes=[_lane_to_proto(x) for x in spec.lanes],
        demands=[_demand_to_proto(x) for x in spec.demands],
        stocks=[_stock_to_proto(x) for x in spec.stocks],
        in_transit=[_in_transit_to_proto(x) for x in spec.in_transit],
        service_targets=[_service_target_to_proto(x) for x in spec.service_targets],
        working_capital_cap=_limit(spec.working_capital_cap),
        capital_cost_rate=spec.capital_cost_rate,
    )


def _per_period_to_spec(
    base: float, has_base: bool, long: network_pb2.PerPeriod, *, entity: str, ident: str, field: str
) -> PerPeriod:
    """A capacity from its constant field and its `*_by_period` field: the constant, the per-period
    values, or a calendar of exceptions over the constant. Values with a constant set, or values
    and exceptions together, raise `ValidationError` naming the field."""
    by_period = f"{field}_by_period"
    if long.values and long.exceptions:
        raise ValidationError(entity, ident, by_period, "sets both values and exceptions; give one of them")
    if long.values:
        if has_base:
            raise ValidationError(
                entity, ident, by_period, f"gives values for every period, so {field} must be left unset"
            )
        return tuple(long.values)
    if long.exceptions:
        exceptions = tuple(CalendarException(int(e.start_period), int(e.end_period), e.value) for e in long.exceptions)
        return Calendar(base=base, exceptions=exceptions)
    return base


def _per_period_to_proto(value: PerPeriod) -> tuple[float | None, network_pb2.PerPeriod | None]:
    """The constant field (None: unset) and the `*_by_period` field (None: unset) of a capacity."""
    if isinstance(value, Calendar):
        exceptions = [
            network_pb2.CalendarException(start_period=e.start_period, end_period=e.end_period, value=e.value)
            for e in value.exceptions
        ]
        return _limit(value.base), network_pb2.PerPeriod(exceptions=exceptions) if exceptions else None
    if isinstance(value, tuple | list):
        return None, network_pb2.PerPeriod(values=list(value))
    return _limit(value), None


def _item_to_spec(msg: network_pb2.Item) -> Item:
    return Item(id=msg.id, unit_value=msg.unit_value, holding_cost=msg.holding_cost)


def _item_to_proto(item: Item) -> network_pb2.Item:
    return network_pb2.Item(id=item.id, unit_value=item.unit_value, holding_cost=item.holding_cost)


def _node_to_spec(msg: network_pb2.Node) -> Node:
    return Node(
        id=msg.id,
        role=_enum_to_domain(
            _ROLE_FROM_PROTO, msg.role, _ROLE_CHOICES, entity="node", ident=msg.id, field="role", kind="role"
        ),
        tier=int(msg.tier),
        storage_capacity=_per_period_to_spec(
            msg.storage_capacity if msg.HasField("storage_capacity") else UNLIMITED,
            msg.HasField("storage_capacity"),
            msg.storage_capacity_by_period,
            entity="node",
            ident=msg.id,
            field="storage_capacity",
        ),
        regular_hours=_per_period_to_spec(
            msg.regular_hours if msg.HasField("regular_hours") else UNLIMITED,
            msg.HasField("regular_hours"),
            msg.regular_hours_by_period,
            entity="node",
            ident=msg.id,
            field="regular_hours",
        ),
        overtime_hours=_per_period_to_spec(
            msg.overtime_hours,
            msg.overtime_hours != 0,
            msg.overtime_hours_by_period,
            entity="node",
            ident=msg.id,
            field="overtime_hours",
        ),
        overtime_cost=msg.overtime_cost,
    )


def _node_to_proto(node: Node) -> network_pb2.Node:
    storage, storage_by_period = _per_period_to_proto(node.storage_capacity)
    regular, regular_by_period = _per_period_to_proto(node.regular_hours)
    overtime, overtime_by_period = _per_period_to_proto(node.overtime_hours)
    return network_pb2.Node(
        id=node.id,
        role=_enum_to_proto(_ROLE_TO_PROTO, node.role, entity="node", ident=node.id, field="role", kind="NodeRole"),
        tier=node.tier,
        storage_capacity=storage,
        regular_hours=regular,
        overtime_hours=overtime or 0.0,
        overtime_cost=node.overtime_cost,
        storage_capacity_by_period=storage_by_period,
        regular_hours_by_period=regular_by_period,
        overtime_hours_by_period=overtime_by_period,
    )


def _offer_to_spec(msg: network_pb2.SupplyOffer) -> SupplyOffer:
    return SupplyOffer(
        id=msg.id,
        supplier=msg.supplier,
        item=msg.item,
        unit_cost=msg.unit_cost,
        capacity=_per_period_to_spec(
            msg.capacity if msg.HasField("capacity") else UNLIMITED,
            msg.HasField("capacity"),
            msg.capacity_by_period,
            entity="supply offer",
            ident=msg.id,
            field="capacity",
        ),
        min_order=msg.min_order,
        backup=msg.backup,
        activation_cost=msg.activation_cost,
        payment_days=msg.payment_days,
        expedited=msg.expedited,
    )


def _offer_to_proto(offer: SupplyOffer) -> network_pb2.SupplyOffer:
    capacity, by_period = _per_period_to_proto(offer.capacity)
    return network_pb2.SupplyOffer(
        id=offer.id,
        supplier=offer.supplier,
        item=offer.item,
        unit_cost=offer.unit_cost,
        capacity=capacity,
        capacity_by_period=by_period,
        min_order=offer.min_order,
        backup=offer.backup,
        activation_cost=offer.activation_cost,
        payment_days=offer.payment_days,
        expedited=offer.expedited,
    )


def _recipe_to_spec(msg: network_pb2.Recipe) -> Recipe:
    return Recipe(
        id=msg.id,
        node=msg.node,
        item=msg.item,
        inputs=tuple((m.item, m.quantity) for m in msg.inputs),
        hours_per_unit=msg.hours_per_unit,
        unit_cost=msg.unit_cost,
        setup_cost=msg.setup_cost,
        max_rate=_per_period_to_spec(
            msg.max_rate if msg.HasField("max_rate") else UNLIMITED,
            msg.HasField("max_rate"),
            msg.max_rate_by_period,
            entity="recipe",
            ident=msg.id,
            field="max_rate",
        ),
        setup_hours=msg.setup_hours,
    )


def _recipe_to_proto(recipe: Recipe) -> network_pb2.Recipe:
    max_rate, by_period = _per_period_to_proto(recipe.max_rate)
    return network_pb2.Recipe(
        id=recipe.id,
        node=recipe.node,
        item=recipe.item,
        inputs=[network_pb2.RecipeInput(item=item, quantity=quantity) for item, quantity in recipe.inputs],
        hours_per_unit=recipe.hours_per_unit,
        unit_cost=recipe.unit_cost,
        setup_cost=recipe.setup_cost,
        max_rate=max_rate,
        setup_hours=recipe.setup_hours,
        max_rate_by_period=by_period,
    )


def _lane_to_spec(msg: network_pb2.Lane) -> Lane:
    return Lane(
        id=msg.id,
        origin=msg.origin,
        destination=msg.destination,
        items=tuple(msg.items),
        lead_time=int(msg.lead_time),
        unit_cost=msg.unit_cost,
        capacity=_per_period_to_spec(
            msg.capacity if msg.HasField("capacity") else UNLIMITED,
            msg.HasField("capacity"),
            msg.capacity_by_period,
            entity="lane",
            ident=msg.id,
            field="capacity",
        ),
        truck_size=msg.truck_size,
        truck_cost=msg.truck_cost,
        mode=msg.mode if msg.HasField("mode") else DEFAULT_MODE,
        expedited=msg.expedited,
        alternate=msg.alternate,
    )


def _lane_to_proto(lane: Lane) -> network_pb2.Lane:
    capacity, by_period = _per_period_to_proto(lane.capacity)
    return network_pb2.Lane(
        id=lane.id,
        origin=lane.origin,
        destination=lane.destination,
        items=list(lane.items),
        lead_time=lane.lead_time,
        unit_cost=lane.unit_cost,
        capacity=capacity,
        capacity_by_period=by_period,
        truck_size=lane.truck_size,
        truck_cost=lane.truck_cost,
        mode=lane.mode,
        expedited=lane.expedited,
        alternate=lane.alternate,
    )


def _demand_to_spec(msg: network_pb2.Demand) -> Demand:
    return Demand(
        customer=msg.customer,
        item=msg.item,
        quantity=tuple(msg.quantity),
        price=msg.price,
        priority=int(msg.priority) if msg.HasField("priority") else DEFAULT_PRIORITY,
        backlog_penalty=msg.backlog_penalty,
        lost_sale_penalty=msg.lost_sale_penalty,
        single_source=msg.single_source,
        receivable_days=msg.receivable_days,
        on_time=msg.on_time,
    )


def _demand_to_proto(demand: Demand) -> network_pb2.Demand:
    return network_pb2.Demand(
        customer=demand.customer,
        item=demand.item,
        quantity=list(demand.quantity),
        price=demand.price,
        priority=demand.priority,
        backlog_penalty=demand.backlog_penalty,
        lost_sale_penalty=demand.lost_sale_penalty,
        single_source=demand.single_source,
        receivable_days=demand.receivable_days,
        on_time=demand.on_time,
    )


def _stock_to_spec(msg: network_pb2.Stock) -> Stock:
    return Stock(
        node=msg.node,
        item=msg.item,
        on_hand=msg.on_hand,
        safety_stock=msg.safety_stock,
        safety_penalty=msg.safety_penalty,
    )


def _stock_to_proto(stock: Stock) -> network_pb2.Stock:
    return network_pb2.Stock(
        node=stock.node,
        item=stock.item,
        on_hand=stock.on_hand,
        safety_stock=stock.safety_stock,
        safety_penalty=stock.safety_penalty,
    )


def _in_transit_to_spec(msg: network_pb2.InTransit) -> InTransit:
    return InTransit(node=msg.node, item=msg.item, period=int(msg.period), quantity=msg.quantity)


def _in_transit_to_proto(receipt: InTransit) -> network_pb2.InTransit:
    return network_pb2.InTransit(node=receipt.node, item=receipt.item, period=receipt.period, quantity=receipt.quantity)


def _service_target_to_spec(msg: network_pb2.ServiceTarget) -> ServiceTarget:
    return ServiceTarget(priority=int(msg.priority), fill_rate=msg.fill_rate, on_time=msg.on_time)


def _service_target_to_proto(target: ServiceTarget) -> network_pb2.ServiceTarget:
    return network_pb2.ServiceTarget(priority=target.priority, fill_rate=target.fill_rate, on_time=target.on_time)
