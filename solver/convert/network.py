"""Networks: concerto.v1.Network <-> `models.network.NetworkSpec`, entity by entity, in pairs."""

from __future__ import annotations

from models.network import (
    Demand,
    InTransit,
    Item,
    Lane,
    NetworkSpec,
    Node,
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
        storage_capacity=msg.storage_capacity if msg.HasField("storage_capacity") else UNLIMITED,
        regular_hours=msg.regular_hours if msg.HasField("regular_hours") else UNLIMITED,
        overtime_hours=msg.overtime_hours,
        overtime_cost=msg.overtime_cost,
    )


def _node_to_proto(node: Node) -> network_pb2.Node:
    return network_pb2.Node(
        id=node.id,
        role=_enum_to_proto(_ROLE_TO_PROTO, node.role, entity="node", ident=node.id, field="role", kind="NodeRole"),
        tier=node.tier,
        storage_capacity=_limit(node.storage_capacity),
        regular_hours=_limit(node.regular_hours),
        overtime_hours=node.overtime_hours,
        overtime_cost=node.overtime_cost,
    )


def _offer_to_spec(msg: network_pb2.SupplyOffer) -> SupplyOffer:
    return SupplyOffer(
        id=msg.id,
        supplier=msg.supplier,
        item=msg.item,
        unit_cost=msg.unit_cost,
        capacity=msg.capacity if msg.HasField("capacity") else UNLIMITED,
        min_order=msg.min_order,
        backup=msg.backup,
        activation_cost=msg.activation_cost,
        payment_days=msg.payment_days,
        expedited=msg.expedited,
    )


def _offer_to_proto(offer: SupplyOffer) -> network_pb2.SupplyOffer:
    return network_pb2.SupplyOffer(
        id=offer.id,
        supplier=offer.supplier,
        item=offer.item,
        unit_cost=offer.unit_cost,
        capacity=_limit(offer.capacity),
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
        max_rate=msg.max_rate if msg.HasField("max_rate") else UNLIMITED,
    )


def _recipe_to_proto(recipe: Recipe) -> network_pb2.Recipe:
    return network_pb2.Recipe(
        id=recipe.id,
        node=recipe.node,
        item=recipe.item,
        inputs=[network_pb2.RecipeInput(item=item, quantity=quantity) for item, quantity in recipe.inputs],
        hours_per_unit=recipe.hours_per_unit,
        unit_cost=recipe.unit_cost,
        setup_cost=recipe.setup_cost,
        max_rate=_limit(recipe.max_rate),
    )


def _lane_to_spec(msg: network_pb2.Lane) -> Lane:
    return Lane(
        id=msg.id,
        origin=msg.origin,
        destination=msg.destination,
        items=tuple(msg.items),
        lead_time=int(msg.lead_time),
        unit_cost=msg.unit_cost,
        capacity=msg.capacity if msg.HasField("capacity") else UNLIMITED,
        truck_size=msg.truck_size,
        truck_cost=msg.truck_cost,
        mode=msg.mode if msg.HasField("mode") else DEFAULT_MODE,
        expedited=msg.expedited,
        alternate=msg.alternate,
    )


def _lane_to_proto(lane: Lane) -> network_pb2.Lane:
    return network_pb2.Lane(
        id=lane.id,
        origin=lane.origin,
        destination=lane.destination,
        items=list(lane.items),
        lead_time=lane.lead_time,
        unit_cost=lane.unit_cost,
        capacity=_limit(lane.capacity),
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
    return ServiceTarget(priority=int(msg.priority), fill_rate=msg.fill_rate)


def _service_target_to_proto(target: ServiceTarget) -> network_pb2.ServiceTarget:
    return network_pb2.ServiceTarget(priority=target.priority, fill_rate=target.fill_rate)
