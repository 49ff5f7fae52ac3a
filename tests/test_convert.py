"""Network specs survive protobuf and JSON unchanged, and bad input names the field to fix."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from google.protobuf import json_format

from models.errors import ValidationError
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
from solver._proto.concerto.v1 import network_pb2
from solver.convert import (
    network_json,
    network_to_spec,
    parse_network_json,
    read_network,
    spec_to_network,
    write_network,
)


def two_period_spec() -> NetworkSpec:
    """A supplier feeds a plant that makes a widget from steel; a DC ships it on to one customer.

    Non-default values everywhere, a mix of finite and unlimited capacities (storage, hours, offer,
    recipe rate, lane, working capital), a backup and a spot offer, an expedited and an alternate lane.
    """
    return NetworkSpec(
        name="two-period",
        horizon=2,
        period_hours=24.0,
        items=(Item("steel", unit_value=2.0, holding_cost=0.1), Item("widget", unit_value=10.0, holding_cost=0.5)),
        nodes=(
            Node("sup", NodeRole.SUPPLIER, tier=1),
            Node(
                "plant",
                NodeRole.PLANT,
                storage_capacity=500.0,
                regular_hours=40.0,
                overtime_hours=8.0,
                overtime_cost=30.0,
            ),
            Node("dc", NodeRole.DC, storage_capacity=math.inf),
            Node("cust", NodeRole.CUSTOMER),
        ),
        offers=(
            SupplyOffer("steel-main", "sup", "steel", unit_cost=1.5, payment_days=30.0),
            SupplyOffer(
                "steel-backup",
                "sup",
                "steel",
                unit_cost=2.5,
                capacity=100.0,
                min_order=10.0,
                backup=True,
                activation_cost=500.0,
            ),
            SupplyOffer("steel-spot", "sup", "steel", unit_cost=4.0, capacity=50.0, expedited=True),
        ),
        recipes=(
            Recipe(
                "make-widget",
                "plant",
                "widget",
                inputs=(("steel", 2.0),),
                hours_per_unit=0.25,
                unit_cost=1.0,
                setup_cost=50.0,
            ),
        ),
        lanes=(
            Lane("sup-plant", "sup", "plant", ("steel",), lead_time=1, unit_cost=0.2),
            Lane(
                "plant-dc", "plant", "dc", ("widget",), unit_cost=0.3, capacity=200.0, truck_size=20.0, truck_cost=15.0
            ),
            Lane("dc-cust", "dc", "cust", ("widget",), unit_cost=0.4, mode="air", expedited=True),
            Lane("plant-cust", "plant", "cust", ("widget",), lead_time=1, unit_cost=0.9, alternate=True),
        ),
        demands=(
            Demand(
                "cust",
                "widget",
                (30.0, 45.5),
                price=25.0,
                priority=2,
                backlog_penalty=3.0,
                lost_sale_penalty=8.0,
                single_source=True,
                receivable_days=45.0,
            ),
        ),
        stocks=(
            Stock("dc", "widget", on_hand=12.0, safety_stock=5.0, safety_penalty=1.0),
            Stock("plant", "steel", on_hand=4.0),
        ),
        in_transit=(InTransit("dc", "widget", 1, 6.0),),
        service_targets=(ServiceTarget(2, 0.9),),
        working_capital_cap=math.inf,
        capital_cost_rate=0.02,
    )


def test_example_spec_is_a_valid_network() -> None:
    Network.from_spec(two_period_spec())


def test_spec_proto_json_round_trip_is_exact() -> None:
    spec = two_period_spec()
    text = json_format.MessageToJson(spec_to_network(spec))
    back = network_to_spec(json_format.Parse(text, network_pb2.Network()))
    assert back == spec
    assert back.recipes[0].inputs == (("steel", 2.0),)
    assert isinstance(back.horizon, int)
    assert isinstance(back.lanes[0].lead_time, int)
    assert isinstance(back.in_transit[0].period, int)


def test_unlimited_travels_as_an_absent_optional_field() -> None:
    spec = two_period_spec()
    msg = spec_to_network(spec)
    assert not msg.HasField("working_capital_cap")
    assert not msg.nodes[2].HasField("storage_capacity")
    assert not msg.nodes[0].HasField("regular_hours")
    assert not msg.offers[0].HasField("capacity")
    assert not msg.recipes[0].HasField("max_rate")
    assert not msg.lanes[0].HasField("capacity")
    assert msg.nodes[1].storage_capacity == 500.0
    assert msg.offers[1].capacity == 100.0
    assert msg.lanes[1].capacity == 200.0
    # A finite working-capital cap (and a capacity of zero) is present, not mistaken for "unlimited".
    capped = NetworkSpec(name="capped", horizon=1, working_capital_cap=0.0)
    assert spec_to_network(capped).HasField("working_capital_cap")
    assert network_to_spec(spec_to_network(capped)) == capped


def test_absent_fields_take_the_spec_defaults() -> None:
    msg = network_pb2.Network(
        name="bare",
        horizon=1,
        nodes=[network_pb2.Node(id="dc", role=network_pb2.NODE_ROLE_DC)],
        lanes=[network_pb2.Lane(id="l", origin="dc", destination="c", items=["x"])],
        demands=[network_pb2.Demand(customer="c", item="x", quantity=[1.0])],
    )
    spec = network_to_spec(msg)
    assert spec == NetworkSpec(
        name="bare",
        horizon=1,
        nodes=(Node("dc", NodeRole.DC),),
        lanes=(Lane("l", "dc", "c", ("x",)),),
        demands=(Demand("c", "x", (1.0,)),),
    )


def test_default_spec_round_trips() -> None:
    spec = NetworkSpec(name="empty", horizon=3)
    assert network_to_spec(spec_to_network(spec)) == spec
    assert parse_network_json(network_json(spec)) == spec


def test_json_is_snake_case_and_leaves_unlimited_out() -> None:
    data = json.loads(network_json(two_period_spec()))
    assert "in_transit" in data and "service_targets" in data
    assert "working_capital_cap" not in data
    assert data["nodes"][1]["storage_capacity"] == 500.0
    assert data["nodes"][0]["role"] == "NODE_ROLE_SUPPLIER"
    assert data["recipes"][0]["inputs"] == [{"item": "steel", "quantity": 2.0}]
    assert data["offers"][2]["expedited"] is True and "expedited" not in data["offers"][0]
    assert data["lanes"][3]["alternate"] is True and "alternate" not in data["lanes"][2]
    assert data["capital_cost_rate"] == 0.02


CAMEL = """{
  "name": "mini", "horizon": 2, "periodHours": 24,
  "items": [{"id": "w", "unitValue": 3, "holdingCost": 0.5}],
  "nodes": [
    {"id": "dc", "role": "NODE_ROLE_DC", "storageCapacity": 100},
    {"id": "c", "role": "NODE_ROLE_CUSTOMER"}
  ],
  "lanes": [{"id": "dc-c", "origin": "dc", "destination": "c", "items": ["w"], "leadTime": 1, "unitCost": 0.5}],
  "demands": [{"customer": "c", "item": "w", "quantity": [3, 4], "lostSalePenalty": 9}],
  "stocks": [{"node": "dc", "item": "w", "onHand": 10}],
  "inTransit": [{"node": "dc", "item": "w", "period": 1, "quantity": 2}],
  "serviceTargets": [{"priority": 1, "fillRate": 0.95}],
  "workingCapitalCap": 1000, "capitalCostRate": 0.01
}"""

MINI = NetworkSpec(
    name="mini",
    horizon=2,
    period_hours=24.0,
    items=(Item("w", unit_value=3.0, holding_cost=0.5),),
    nodes=(Node("dc", NodeRole.DC, storage_capacity=100.0), Node("c", NodeRole.CUSTOMER)),
    lanes=(Lane("dc-c", "dc", "c", ("w",), lead_time=1, unit_cost=0.5),),
    demands=(Demand("c", "w", (3.0, 4.0), lost_sale_penalty=9.0),),
    stocks=(Stock("dc", "w", on_hand=10.0),),
    in_transit=(InTransit("dc", "w", 1, 2.0),),
    service_targets=(ServiceTarget(1, 0.95),),
    working_capital_cap=1000.0,
    capital_cost_rate=0.01,
)


def test_reads_camel_case_json() -> None:
    assert parse_network_json(CAMEL) == MINI


def test_reads_snake_case_json() -> None:
    snake = (
        CAMEL.replace("periodHours", "period_hours")
        .replace("unitValue", "unit_value")
        .replace("holdingCost", "holding_cost")
        .replace("storageCapacity", "storage_capacity")
        .replace("leadTime", "lead_time")
        .replace("unitCost", "unit_cost")
        .replace("lostSalePenalty", "lost_sale_penalty")
        .replace("onHand", "on_hand")
        .replace("inTransit", "in_transit")
        .replace("serviceTargets", "service_targets")
        .replace("fillRate", "fill_rate")
        .replace("workingCapitalCap", "working_capital_cap")
        .replace("capitalCostRate", "capital_cost_rate")
    )
    assert parse_network_json(snake) == MINI


def test_unspecified_role_names_the_node() -> None:
    text = '{"name": "n", "horizon": 1, "nodes": [{"id": "dc-east"}]}'
    with pytest.raises(ValidationError) as err:
        parse_network_json(text)
    assert (err.value.entity, err.value.ident, err.value.field) == ("node", "dc-east", "role")
    assert err.value.message == "is unspecified; set one of supplier, plant, dc, customer"


def test_unknown_role_number_names_the_node() -> None:
    # proto3 enums are open: a newer client may send a role number this server does not know.
    with pytest.raises(ValidationError) as err:
        parse_network_json('{"name": "n", "horizon": 1, "nodes": [{"id": "x", "role": 9}]}')
    assert (err.value.entity, err.value.ident, err.value.field) == ("node", "x", "role")


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "n", "horizon": ', encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        read_network(path)
    assert (err.value.entity, err.value.ident, err.value.field) == ("network", str(path), "json")
    assert "Failed to load JSON" in err.value.message


def test_unknown_field_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "typo.json"
    path.write_text('{"name": "n", "horizon": 1, "horizn": 2}', encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        read_network(path)
    assert (err.value.entity, err.value.ident, err.value.field) == ("network", str(path), "json")
    assert "horizn" in err.value.message


def test_wrong_type_is_a_json_error() -> None:
    with pytest.raises(ValidationError) as err:
        parse_network_json('{"name": "n", "horizon": 1.5}', source="request")
    assert (err.value.entity, err.value.ident, err.value.field) == ("network", "request", "json")


def test_written_file_reads_back_equal(tmp_path: Path) -> None:
    spec = two_period_spec()
    path = tmp_path / "network.json"
    write_network(spec, path)
    assert read_network(path) == spec
    # Overwriting goes through a temporary file in the same folder and leaves nothing behind.
    write_network(MINI, path)
    assert read_network(path) == MINI
    assert [p.name for p in tmp_path.iterdir()] == ["network.json"]
