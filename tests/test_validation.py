"""Every kind of bad input `Network.from_spec` rejects, each naming the entity, id and field to fix.

Each case starts from one small valid network and changes one thing with `dataclasses.replace`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from models.errors import MAX_REPORTED_VIOLATIONS, ValidationError, ValidationErrors
from models.network import (
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

Mutation = Callable[[NetworkSpec], NetworkSpec]


def base_spec() -> NetworkSpec:
    """Steel from a tier-1 supplier becomes widgets at a plant; a DC ships them to one customer.

    Three periods, so a lead time of 2 is the longest allowed and 3 is beyond the horizon.
    """
    return NetworkSpec(
        name="base",
        horizon=3,
        items=(
            Item("steel", unit_value=2.0, holding_cost=0.1),
            Item("widget", unit_value=10.0, holding_cost=0.5),
            Item("gadget", unit_value=5.0),
        ),
        nodes=(
            Node("sup", NodeRole.SUPPLIER, tier=1),
            Node("plant", NodeRole.PLANT, storage_capacity=500.0, regular_hours=40.0),
            Node("dc", NodeRole.DC),
            Node("cust", NodeRole.CUSTOMER),
        ),
        offers=(
            SupplyOffer("steel-main", "sup", "steel", unit_cost=1.5),
            SupplyOffer("steel-backup", "sup", "steel", unit_cost=2.5, capacity=100.0, backup=True),
        ),
        recipes=(Recipe("make-widget", "plant", "widget", inputs=(("steel", 2.0),), hours_per_unit=0.25),),
        lanes=(
            Lane("sup-plant", "sup", "plant", ("steel",), lead_time=1, unit_cost=0.2),
            Lane("plant-dc", "plant", "dc", ("widget",), unit_cost=0.3, truck_size=20.0, truck_cost=15.0),
            Lane("dc-cust", "dc", "cust", ("widget",), lead_time=2, unit_cost=0.4),
        ),
        demands=(Demand("cust", "widget", (30.0, 45.0, 20.0), price=25.0, single_source=True),),
        stocks=(Stock("dc", "widget", on_hand=12.0, safety_stock=5.0, safety_penalty=1.0),),
        in_transit=(InTransit("dc", "widget", 1, 6.0),),
        service_targets=(ServiceTarget(1, 0.9),),
    )


# -- helpers that change one field of one entity ---------------------------------------------


def _at(entities: tuple[Any, ...], k: int, **changes: Any) -> tuple[Any, ...]:
    return (*entities[:k], replace(entities[k], **changes), *entities[k + 1 :])


def item(k: int, **changes: Any) -> Mutation:
    return lambda s: replace(s, items=_at(s.items, k, **changes))


def node(k: int, **changes: Any) -> Mutation:
    return lambda s: replace(s, nodes=_at(s.nodes, k, **changes))


def offer(k: int, **changes: Any) -> Mutation:
    return lambda s: replace(s, offers=_at(s.offers, k, **changes))


def recipe(k: int, **changes: Any) -> Mutation:
    return lambda s: replace(s, recipes=_at(s.recipes, k, **changes))


def lane(k: int, **changes: Any) -> Mutation:
    return lambda s: replace(s, lanes=_at(s.lanes, k, **changes))


def demand(k: int, **changes: Any) -> Mutation:
    return lambda s: replace(s, demands=_at(s.demands, k, **changes))


def stock(k: int, **changes: Any) -> Mutation:
    return lambda s: replace(s, stocks=_at(s.stocks, k, **changes))


def receipt(k: int, **changes: Any) -> Mutation:
    return lambda s: replace(s, in_transit=_at(s.in_transit, k, **changes))


def network(**changes: Any) -> Mutation:
    return lambda s: replace(s, **changes)


def appended(field: str, extra: object) -> Mutation:
    def mutate(s: NetworkSpec) -> NetworkSpec:
        changes: dict[str, Any] = {field: (*getattr(s, field), extra)}
        return replace(s, **changes)

    return mutate


def rejected(mutate: Mutation) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Network.from_spec(mutate(base_spec()))
    return caught.value


def assert_rejected(mutate: Mutation, entity: str, ident: str, field: str, fragment: str) -> None:
    err = rejected(mutate)
    assert (err.entity, err.ident, err.field) == (entity, ident, field), str(err)
    assert fragment in err.message, str(err)
    assert ident in str(err) and field in str(err)


# -- the valid base ---------------------------------------------------------------------------


def test_base_network_is_valid() -> None:
    net = Network.from_spec(base_spec())
    assert (net.n_items, net.n_nodes, net.n_offers, net.n_recipes, net.n_lanes, net.n_demands) == (3, 4, 2, 1, 3, 1)


def test_validation_error_is_a_value_error() -> None:
    assert isinstance(rejected(network(horizon=0)), ValueError)


# -- unknown ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "entity", "ident", "field", "fragment"),
    [
        pytest.param(
            offer(0, supplier="ghost"),
            "supply offer",
            "steel-main",
            "supplier",
            "unknown node 'ghost'",
            id="offer-supplier",
        ),
        pytest.param(
            offer(0, item="gold"), "supply offer", "steel-main", "item", "unknown item 'gold'", id="offer-item"
        ),
        pytest.param(lane(1, destination="ghost"), "lane", "plant-dc", "destination", "unknown node", id="lane-dest"),
        pytest.param(lane(1, origin="ghost"), "lane", "plant-dc", "origin", "unknown node", id="lane-origin"),
        pytest.param(lane(1, items=("widget", "gold")), "lane", "plant-dc", "items[1]", "unknown item", id="lane-item"),
        pytest.param(
            recipe(0, inputs=(("steel", 2.0), ("sup", 1.0))),
            "recipe",
            "make-widget",
            "inputs[1].item",
            "unknown item 'sup'",
            id="recipe-input-not-an-item",
        ),
        pytest.param(recipe(0, node="ghost"), "recipe", "make-widget", "node", "unknown node", id="recipe-node"),
        pytest.param(
            demand(0, customer="ghost"),
            "demand",
            "ghost/widget",
            "customer",
            "unknown node 'ghost'",
            id="demand-customer",
        ),
        pytest.param(demand(0, item="gold"), "demand", "cust/gold", "item", "unknown item 'gold'", id="demand-item"),
        pytest.param(stock(0, node="ghost"), "stock", "ghost/widget", "node", "unknown node 'ghost'", id="stock-node"),
        pytest.param(stock(0, item="gold"), "stock", "dc/gold", "item", "unknown item", id="stock-item"),
        pytest.param(
            receipt(0, node="ghost"), "in-transit receipt", "ghost/widget@1", "node", "unknown node", id="receipt-node"
        ),
    ],
)
def test_unknown_reference_is_rejected(mutate: Mutation, entity: str, ident: str, field: str, fragment: str) -> None:
    assert_rejected(mutate, entity, ident, field, fragment)


# -- duplicate ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "entity", "ident", "field", "fragment"),
    [
        pytest.param(appended("items", Item("steel")), "item", "steel", "id", "used twice", id="item"),
        pytest.param(appended("nodes", Node("dc", NodeRole.DC)), "node", "dc", "id", "used twice", id="node"),
        pytest.param(
            appended("offers", SupplyOffer("steel-main", "sup", "steel")),
            "supply offer",
            "steel-main",
            "id",
            "used twice",
            id="offer",
        ),
        pytest.param(
            appended("lanes", Lane("dc-cust", "plant", "cust", ("widget",))),
            "lane",
            "dc-cust",
            "id",
            "used twice",
            id="lane",
        ),
        pytest.param(
            appended("recipes", Recipe("make-widget", "plant", "widget")),
            "recipe",
            "make-widget",
            "id",
            "used twice",
            id="recipe",
        ),
        pytest.param(
            appended("demands", Demand("cust", "widget", (1.0,))),
            "demand",
            "cust/widget",
            "item",
            "second demand stream",
            id="demand-stream",
        ),
        pytest.param(
            appended("stocks", Stock("dc", "widget", on_hand=1.0)),
            "stock",
            "dc/widget",
            "item",
            "second stock record",
            id="stock",
        ),
        pytest.param(
            appended("service_targets", ServiceTarget(1, 0.5)),
            "service target",
            "priority 1",
            "priority",
            "given twice",
            id="service-target",
        ),
    ],
)
def test_duplicate_id_is_rejected(mutate: Mutation, entity: str, ident: str, field: str, fragment: str) -> None:
    assert_rejected(mutate, entity, ident, field, fragment)


def test_empty_id_is_rejected() -> None:
    assert_rejected(item(0, id=""), "item", "#0", "id", "is empty")


# -- negative and NaN numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "entity", "ident", "field"),
    [
        pytest.param(item(0, holding_cost=-0.1), "item", "steel", "holding_cost", id="item-holding-cost"),
        pytest.param(item(1, unit_value=-1.0), "item", "widget", "unit_value", id="item-value"),
        pytest.param(node(1, storage_capacity=-1.0), "node", "plant", "storage_capacity", id="node-storage"),
        pytest.param(node(1, overtime_cost=-5.0), "node", "plant", "overtime_cost", id="node-overtime-cost"),
        pytest.param(offer(0, unit_cost=-1.5), "supply offer", "steel-main", "unit_cost", id="offer-cost"),
        pytest.param(offer(1, capacity=-1.0), "supply offer", "steel-backup", "capacity", id="offer-capacity"),
        pytest.param(recipe(0, unit_cost=-1.0), "recipe", "make-widget", "unit_cost", id="recipe-cost"),
        pytest.param(recipe(0, max_rate=-1.0), "recipe", "make-widget", "max_rate", id="recipe-rate"),
        pytest.param(lane(0, unit_cost=-0.2), "lane", "sup-plant", "unit_cost", id="lane-cost"),
        pytest.param(lane(0, capacity=-10.0), "lane", "sup-plant", "capacity", id="lane-capacity"),
        pytest.param(demand(0, quantity=(30.0, -1.0)), "demand", "cust/widget", "quantity[1]", id="demand-quantity"),
        pytest.param(demand(0, price=-25.0), "demand", "cust/widget", "price", id="demand-price"),
        pytest.param(stock(0, on_hand=-12.0), "stock", "dc/widget", "on_hand", id="stock-on-hand"),
        pytest.param(receipt(0, quantity=-6.0), "in-transit receipt", "dc/widget@1", "quantity", id="receipt-qty"),
        pytest.param(network(working_capital_cap=-1.0), "network", "base", "working_capital_cap", id="working-capital"),
    ],
)
def test_negative_quantity_or_cost_is_rejected(mutate: Mutation, entity: str, ident: str, field: str) -> None:
    assert_rejected(mutate, entity, ident, field, "must be >= 0")


@pytest.mark.parametrize(
    ("mutate", "entity", "ident", "field"),
    [
        pytest.param(offer(0, unit_cost=math.nan), "supply offer", "steel-main", "unit_cost", id="offer-cost"),
        pytest.param(offer(0, capacity=math.nan), "supply offer", "steel-main", "capacity", id="offer-capacity"),
        pytest.param(
            demand(0, quantity=(30.0, math.nan, 1.0)), "demand", "cust/widget", "quantity[1]", id="demand-quantity"
        ),
        pytest.param(lane(2, capacity=math.nan), "lane", "dc-cust", "capacity", id="lane-capacity"),
        pytest.param(item(1, holding_cost=math.nan), "item", "widget", "holding_cost", id="item-holding-cost"),
        pytest.param(stock(0, safety_stock=math.nan), "stock", "dc/widget", "safety_stock", id="stock-safety"),
        pytest.param(node(1, regular_hours=math.nan), "node", "plant", "regular_hours", id="node-hours"),
    ],
)
def test_nan_is_rejected(mutate: Mutation, entity: str, ident: str, field: str) -> None:
    assert_rejected(mutate, entity, ident, field, "is NaN")


@pytest.mark.parametrize("qty", [math.nan, 0.0, -2.0, math.inf], ids=["nan", "zero", "negative", "inf"])
def test_bill_of_materials_quantity_must_be_positive_and_finite(qty: float) -> None:
    assert_rejected(
        recipe(0, inputs=(("steel", qty),)), "recipe", "make-widget", "inputs[0].quantity", "positive finite number"
    )


@pytest.mark.parametrize("value", [math.inf, -math.inf], ids=["inf", "-inf"])
def test_infinite_unit_cost_or_demand_is_rejected(value: float) -> None:
    assert_rejected(offer(0, unit_cost=value), "supply offer", "steel-main", "unit_cost", "")
    assert_rejected(demand(0, quantity=(value,)), "demand", "cust/widget", "quantity[0]", "")


# -- lanes ------------------------------------------------------------------------------------


def test_lane_from_a_node_to_itself_is_rejected() -> None:
    assert_rejected(lane(1, destination="plant"), "lane", "plant-dc", "destination", "equals the origin")


def test_lead_time_beyond_the_horizon_is_rejected() -> None:
    Network.from_spec(lane(0, lead_time=2)(base_spec()))  # H - 1 is the longest allowed
    assert_rejected(lane(0, lead_time=3), "lane", "sup-plant", "lead_time", "beyond the horizon of 3")


@pytest.mark.parametrize("lead_time", [-1, 1.5, 1.0, True], ids=["negative", "fractional", "float", "bool"])
def test_negative_or_non_integer_lead_time_is_rejected(lead_time: float) -> None:
    assert_rejected(lane(0, lead_time=lead_time), "lane", "sup-plant", "lead_time", "whole number of periods")


def test_numpy_integer_lead_time_is_accepted() -> None:
    net = Network.from_spec(lane(0, lead_time=np.int64(2))(base_spec()))
    assert net.lane_lead_time[0] == 2


def test_lane_leaving_a_customer_is_rejected() -> None:
    assert_rejected(lane(2, origin="cust", destination="dc"), "lane", "dc-cust", "origin", "customer zone")


def test_lane_carrying_an_item_the_customer_does_not_demand_is_rejected() -> None:
    assert_rejected(
        lane(2, items=("widget", "gadget")), "lane", "dc-cust", "items[1]", "'gadget' to customer 'cust', which has no"
    )


def test_lane_with_no_items_is_rejected() -> None:
    assert_rejected(lane(0, items=()), "lane", "sup-plant", "items", "is empty")


def test_lane_listing_an_item_twice_is_rejected() -> None:
    assert_rejected(lane(0, items=("steel", "steel")), "lane", "sup-plant", "items", "twice")


def test_truck_cost_without_a_truck_size_is_rejected() -> None:
    assert_rejected(lane(1, truck_size=0.0), "lane", "plant-dc", "truck_size", "must be positive")


# -- bill of materials ------------------------------------------------------------------------


TWO_CYCLE = appended("recipes", Recipe("melt", "plant", "steel", inputs=(("widget", 1.0),)))
"""widget needs steel (make-widget), steel needs widget (melt)."""
THREE_CYCLE = network(
    recipes=(
        Recipe("make-widget", "plant", "widget", inputs=(("steel", 2.0),)),
        Recipe("make-steel", "plant", "steel", inputs=(("gadget", 1.0),)),
        Recipe("make-gadget", "plant", "gadget", inputs=(("widget", 0.5),)),
    )
)
"""widget -> steel -> gadget -> widget."""
SELF_LOOP = recipe(0, inputs=(("steel", 2.0), ("widget", 0.1)))
"""widget needs widget."""
BOM_LOOPS = [
    pytest.param(TWO_CYCLE, {"make-widget", "melt"}, ("steel", "widget"), id="2-cycle"),
    pytest.param(
        THREE_CYCLE, {"make-widget", "make-steel", "make-gadget"}, ("steel", "widget", "gadget"), id="3-cycle"
    ),
    pytest.param(SELF_LOOP, {"make-widget"}, ("widget",), id="self-loop"),
]


@pytest.mark.parametrize(("mutate", "recipes", "items"), BOM_LOOPS)
def test_bill_of_materials_loop_is_rejected(mutate: Mutation, recipes: set[str], items: tuple[str, ...]) -> None:
    err = rejected(mutate)
    assert (err.entity, err.field) == ("recipe", "inputs"), str(err)
    assert "the bill of materials loops" in err.message
    for it in items:
        assert it in err.message


@pytest.mark.parametrize(("mutate", "recipes", "items"), BOM_LOOPS)
def test_bill_of_materials_loop_names_a_recipe_on_the_loop(
    mutate: Mutation, recipes: set[str], items: tuple[str, ...]
) -> None:
    assert rejected(mutate).ident in recipes


def test_acyclic_bill_of_materials_sharing_an_input_is_valid() -> None:
    diamond = network(
        recipes=(
            Recipe("make-widget", "plant", "widget", inputs=(("steel", 2.0), ("gadget", 1.0))),
            Recipe("make-gadget", "plant", "gadget", inputs=(("steel", 1.0),)),
        )
    )
    Network.from_spec(diamond(base_spec()))


# -- roles ------------------------------------------------------------------------------------


def test_demand_at_a_non_customer_node_is_rejected() -> None:
    assert_rejected(demand(0, customer="dc"), "demand", "dc/widget", "customer", "belongs to customer zones")


def test_stock_at_a_customer_is_rejected() -> None:
    assert_rejected(stock(0, node="cust"), "stock", "cust/widget", "node", "customer zone, which holds no stock")


@pytest.mark.parametrize("tier", [0, 3, -1])
def test_supplier_tier_outside_1_or_2_is_rejected(tier: int) -> None:
    assert_rejected(node(0, tier=tier), "node", "sup", "tier", "a supplier is tier 1 or 2")


@pytest.mark.parametrize(("k", "ident"), [(1, "plant"), (2, "dc"), (3, "cust")])
def test_non_supplier_with_a_tier_is_rejected(k: int, ident: str) -> None:
    assert_rejected(node(k, tier=1), "node", ident, "tier", "only suppliers have a tier")


def test_recipe_at_a_dc_is_rejected() -> None:
    assert_rejected(recipe(0, node="dc"), "recipe", "make-widget", "node", "recipes run at plants and tier-1 suppliers")


def test_recipe_at_a_tier_2_supplier_is_rejected() -> None:
    bad = network(
        nodes=(Node("sup", NodeRole.SUPPLIER, tier=2), *base_spec().nodes[1:]),
        recipes=(Recipe("make-widget", "sup", "widget", inputs=(("steel", 2.0),)),),
    )
    assert_rejected(bad, "recipe", "make-widget", "node", "tier-1 suppliers")


def test_offer_at_a_non_supplier_is_rejected() -> None:
    assert_rejected(offer(0, supplier="plant"), "supply offer", "steel-main", "supplier", "not a supplier")


# -- supply offers ----------------------------------------------------------------------------


def test_backup_offer_without_finite_capacity_is_rejected() -> None:
    assert_rejected(
        offer(1, capacity=math.inf), "supply offer", "steel-backup", "capacity", "finite for a backup offer"
    )


def test_min_order_without_finite_capacity_is_rejected() -> None:
    assert_rejected(offer(0, min_order=5.0), "supply offer", "steel-main", "capacity", "minimum order")


def test_min_order_above_capacity_is_rejected() -> None:
    assert_rejected(
        offer(1, min_order=150.0), "supply offer", "steel-backup", "min_order", "is 150.0, above the capacity 100.0"
    )


def test_setup_on_an_unbounded_recipe_is_rejected() -> None:
    unbounded = network(
        nodes=(base_spec().nodes[0], Node("plant", NodeRole.PLANT), *base_spec().nodes[2:]),
        recipes=(replace(base_spec().recipes[0], setup_cost=50.0),),
    )
    assert_rejected(unbounded, "recipe", "make-widget", "max_rate", "must be finite")


# -- demand, receipts, targets, horizon ------------------------------------------------------


def test_service_target_fill_rate_above_one_is_rejected() -> None:
    assert_rejected(
        network(service_targets=(ServiceTarget(1, 1.5),)), "service target", "priority 1", "fill_rate", "in [0, 1]"
    )


@pytest.mark.parametrize("priority", [0, -1])
def test_service_target_priority_below_one_is_rejected(priority: int) -> None:
    assert_rejected(
        network(service_targets=(ServiceTarget(priority, 0.5),)),
        "service target",
        f"priority {priority}",
        "priority",
        "tiers start at 1",
    )


def test_service_target_with_a_fractional_priority_is_rejected() -> None:
    fractional = ServiceTarget(1.5, 0.9)  # type: ignore[arg-type]
    assert_rejected(network(service_targets=(fractional,)), "service target", "priority 1.5", "priority", "")


@pytest.mark.parametrize("period", [3, -1])
def test_in_transit_receipt_outside_the_horizon_is_rejected(period: int) -> None:
    assert_rejected(
        receipt(0, period=period), "in-transit receipt", f"dc/widget@{period}", "period", "lie in the horizon 0..2"
    )


def test_in_transit_receipt_at_a_customer_is_rejected() -> None:
    assert_rejected(receipt(0, node="cust"), "in-transit receipt", "cust/widget@1", "node", "is a customer zone")


def test_demand_with_more_periods_than_the_horizon_is_rejected() -> None:
    assert_rejected(
        demand(0, quantity=(1.0, 2.0, 3.0, 4.0)),
        "demand",
        "cust/widget",
        "quantity",
        "has 4 periods, beyond the horizon",
    )


def test_demand_priority_below_one_is_rejected() -> None:
    assert_rejected(demand(0, priority=0), "demand", "cust/widget", "priority", "tiers start at 1")


@pytest.mark.parametrize("horizon", [0, -1])
def test_horizon_below_one_is_rejected(horizon: int) -> None:
    assert_rejected(network(horizon=horizon), "network", "base", "horizon", "must be >= 1")


def test_period_hours_must_be_positive() -> None:
    assert_rejected(network(period_hours=0.0), "network", "base", "period_hours", "positive number of hours")


def test_single_sourced_demand_with_no_inbound_lane_is_rejected() -> None:
    assert_rejected(
        appended("demands", Demand("cust", "gadget", (5.0,), single_source=True)),
        "demand",
        "cust/gadget",
        "single_source",
        "no lane brings the item",
    )


def test_every_bad_entity_is_reported_and_the_text_is_capped() -> None:
    """25 items with a negative unit value: each is its own violation, so all 25 are found; the
    message reads as the first (entity, id and field of item X0) and lists 20, counting the 5 more;
    `each()` gives all 25 in order. One bad entity alone raises a plain `ValidationError`."""
    spec = base_spec()
    extra = tuple(Item(f"X{k}", unit_value=-1.0) for k in range(25))
    with pytest.raises(ValidationErrors) as err:
        Network.from_spec(replace(spec, items=spec.items + extra))
    assert (err.value.entity, err.value.ident, err.value.field) == ("item", "X0", "unit_value")
    assert [v.ident for v in err.value.each()] == [f"X{k}" for k in range(25)]
    text = str(err.value)
    assert text.startswith("25 violations: item 'X0': unit_value is -1.0; it must be >= 0")
    assert text.count("item 'X") == MAX_REPORTED_VIOLATIONS == 20
    assert text.endswith("; and 5 more")
    with pytest.raises(ValidationError) as one:
        Network.from_spec(replace(spec, items=spec.items + extra[:1]))
    assert type(one.value) is ValidationError


def test_a_dangling_reference_skips_only_that_entitys_later_checks() -> None:
    """A lane to an unknown node and a negative lane capacity on another lane: both are reported,
    but the unknown node's lane reports only its reference (its other checks may depend on it)."""
    spec = base_spec()
    first, second, *rest = spec.lanes
    bad = replace(
        spec,
        lanes=(replace(first, destination="nowhere", unit_cost=-1.0), replace(second, capacity=-2.0), *rest),
    )
    with pytest.raises(ValidationErrors) as err:
        Network.from_spec(bad)
    found = [(v.entity, v.ident, v.field) for v in err.value.each()]
    assert found == [("lane", first.id, "destination"), ("lane", second.id, "capacity")]
