"""The network generator: repeatable per seed, valid for `Network.from_spec`, shaped like a supply
network (every customer demands, every stream is reachable, every BOM input exists), and feasible.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from benchmarks.generator import SERVICE_TARGETS, SIZES, GeneratorConfig, generate, main, with_calendars
from models.allocation import build_model
from models.feasibility import check_plan
from models.network import Calendar, CalendarException, Network, NetworkSpec, NodeRole
from models.solution import SolveStatus
from solver.options import SolveOptions
from solver.planner import plan_network

SMALL = [("demo", seed) for seed in range(6)] + [("S", seed) for seed in range(4)]


@pytest.fixture(scope="module", params=SMALL, ids=lambda p: f"{p[0]}-{p[1]}")
def spec(request: pytest.FixtureRequest) -> NetworkSpec:
    size, seed = request.param
    return generate(size, seed)


# -- calendars ------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "shut"), [("S", (2, 4)), ("M", (4, 6))])
def test_with_calendars_closes_the_plant_with_the_most_hours_for_maintenance(size: str, shut: tuple[int, int]) -> None:
    """Issue #19: the maintenance shutdown closes the plant with the most regular hours for two
    periods from a third of the horizon (S: 8 periods, a third is 2, periods 2-3; M: 13 periods,
    periods 4-5): neither regular nor overtime hours there, the plant's own constants elsewhere.
    Every other node keeps its hours."""
    spec = generate(size, 0)
    calendars = with_calendars(spec)
    assert with_calendars(spec) == calendars
    plants = [n for n in spec.nodes if n.role == NodeRole.PLANT]
    plant = max(plants, key=lambda n: n.regular_hours)
    closed = (CalendarException(*shut, 0.0),)
    [shut_plant] = [n for n in calendars.nodes if n.id == plant.id]
    assert isinstance(plant.regular_hours, float) and isinstance(plant.overtime_hours, float)
    assert plant.overtime_hours > 0
    assert shut_plant.regular_hours == Calendar(plant.regular_hours, closed)
    assert shut_plant.overtime_hours == Calendar(plant.overtime_hours, closed)
    assert [n for n in calendars.nodes if n.id != plant.id] == [n for n in spec.nodes if n.id != plant.id]
    net = Network.from_spec(calendars)
    p = net.node_ids.index(plant.id)
    hours = net.node_regular_hours[p] + net.node_overtime_hours[p]
    assert [t for t in range(net.horizon) if hours[t] == 0] == list(range(*shut))


# -- repeatability ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["demo", "S"])
def test_same_seed_gives_the_same_network(size: str) -> None:
    assert generate(size, 7) == generate(size, 7)


@pytest.mark.parametrize("size", ["demo", "S"])
def test_another_seed_gives_another_network(size: str) -> None:
    a, b = generate(size, 1), generate(size, 2)
    assert a != b
    assert [d.quantity for d in a.demands] != [d.quantity for d in b.demands]


def test_a_config_is_accepted_in_place_of_a_size_name() -> None:
    assert generate(SIZES["S"], 3) == generate("S", 3)


# -- validity --------------------------------------------------------------------------------


def test_every_small_network_compiles(spec: NetworkSpec) -> None:
    net = Network.from_spec(spec)
    assert net.n_demands > 0 and net.n_lanes > 0 and net.n_recipes > 0


def test_size_m_compiles_to_about_a_hundred_thousand_columns() -> None:
    lp = build_model(Network.from_spec(generate("M", 0)))
    assert 85_000 <= lp.n_cols <= 115_000
    assert 0 < lp.n_integer < 0.02 * lp.n_cols


def test_size_s_has_a_few_thousand_columns() -> None:
    for seed in range(3):
        lp = build_model(Network.from_spec(generate("S", seed)))
        assert 2_000 <= lp.n_cols <= 5_000


def test_unknown_size_and_empty_echelon_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown network size 'XL'"):
        generate("XL")
    with pytest.raises(ValueError, match="plants is 0"):
        generate(replace(SIZES["demo"], plants=0))
    with pytest.raises(ValueError, match="periods is 2"):
        generate(replace(SIZES["demo"], periods=2))


def test_a_custom_config_with_few_entities_still_compiles() -> None:
    cfg = GeneratorConfig(
        name="tiny",
        tier2_suppliers=1,
        tier1_suppliers=1,
        plants=1,
        dcs=1,
        customer_zones=1,
        finished_items=1,
        components=2,
        raw_materials=1,
        periods=3,
    )
    for seed in range(5):
        Network.from_spec(generate(cfg, seed))


def test_an_infinite_working_capital_factor_drops_the_cap() -> None:
    spec = generate(replace(SIZES["demo"], working_capital_factor=math.inf))
    assert spec.working_capital_cap == math.inf
    Network.from_spec(spec)


# -- structure -------------------------------------------------------------------------------


def test_every_customer_demands_something(spec: NetworkSpec) -> None:
    customers = {n.id for n in spec.nodes if n.role == NodeRole.CUSTOMER}
    assert customers == {d.customer for d in spec.demands}


def test_every_demand_stream_has_an_inbound_lane(spec: NetworkSpec) -> None:
    inbound = {(ln.destination, item) for ln in spec.lanes for item in ln.items}
    assert all((d.customer, d.item) in inbound for d in spec.demands)


def test_lanes_into_customers_carry_only_what_they_demand(spec: NetworkSpec) -> None:
    demanded = {(d.customer, d.item) for d in spec.demands}
    customers = {n.id for n in spec.nodes if n.role == NodeRole.CUSTOMER}
    for ln in spec.lanes:
        if ln.destination in customers:
            assert all((ln.destination, item) in demanded for item in ln.items), ln.id


def test_recipe_inputs_are_items_made_or_sold_upstream(spec: NetworkSpec) -> None:
    items = {i.id for i in spec.items}
    sources = {o.item for o in spec.offers} | {r.item for r in spec.recipes}
    for r in spec.recipes:
        assert r.inputs, r.id
        for item, qty in r.inputs:
            assert item in items and item in sources and qty > 0, (r.id, item)


def test_echelons_do_what_their_role_says(spec: NetworkSpec) -> None:
    role = {n.id: (n.role, n.tier) for n in spec.nodes}
    assert {role[o.supplier] for o in spec.offers} <= {(NodeRole.SUPPLIER, 1), (NodeRole.SUPPLIER, 2)}
    plant_recipes = [r for r in spec.recipes if role[r.node][0] == NodeRole.PLANT]
    assert plant_recipes and all(2 <= len(r.inputs) <= 3 for r in plant_recipes)
    assert any(role[r.node] == (NodeRole.SUPPLIER, 1) for r in spec.recipes)
    hours = {n.id: n for n in spec.nodes}
    assert all(hours[r.node].regular_hours < float("inf") and hours[r.node].overtime_hours > 0 for r in spec.recipes)


def test_special_offers_and_lanes_are_well_formed(spec: NetworkSpec) -> None:
    backups = [o for o in spec.offers if o.backup]
    assert backups and all(o.capacity < float("inf") and o.activation_cost > 0 for o in backups)
    assert any(o.min_order > 0 for o in spec.offers)
    assert any(o.expedited for o in spec.offers)
    road = {ln.id: ln for ln in spec.lanes}
    for ln in spec.lanes:
        if ln.expedited:
            twin = road[ln.id.removesuffix(":air")]
            assert ln.mode == "air" and ln.lead_time < twin.lead_time and ln.unit_cost > twin.unit_cost
        if ln.alternate:
            twin = road[ln.id.removesuffix(":detour")]
            assert ln.lead_time >= twin.lead_time and ln.items == twin.items
    assert any(ln.expedited for ln in spec.lanes) and any(ln.alternate for ln in spec.lanes)


def test_penalties_exceed_the_value_of_what_is_lost(spec: NetworkSpec) -> None:
    value = {i.id: i.unit_value for i in spec.items}
    for d in spec.demands:
        assert d.priority in (1, 2, 3)
        assert d.lost_sale_penalty > value[d.item] and d.backlog_penalty > 0 and d.price > value[d.item]


def test_stock_targets_and_caps_are_present(spec: NetworkSpec) -> None:
    role = {n.id: n.role for n in spec.nodes}
    assert any(s.safety_stock > 0 for s in spec.stocks)
    assert all(role[s.node] == NodeRole.DC for s in spec.stocks if s.safety_stock > 0)
    assert {role[s.node] for s in spec.stocks if s.on_hand > 0} >= {NodeRole.DC, NodeRole.PLANT}
    assert spec.in_transit and spec.working_capital_cap < float("inf")
    assert all(n.storage_capacity < float("inf") for n in spec.nodes if n.role in (NodeRole.PLANT, NodeRole.DC))
    assert {t.priority: t.fill_rate for t in spec.service_targets} == SERVICE_TARGETS


def test_demo_ids_are_readable() -> None:
    spec = generate("demo")
    ids = {n.id for n in spec.nodes}
    assert {"S2-steel", "P1", "DC-north", "C-berlin"} <= ids
    assert "city-bike" in {i.id for i in spec.items}
    assert 4 <= spec.horizon <= 6


# -- feasibility -----------------------------------------------------------------------------


def test_generated_networks_are_feasible_and_meet_their_service_targets(spec: NetworkSpec) -> None:
    plan = plan_network(spec, SolveOptions(mip_rel_gap=0.01, time_limit=60))
    assert plan.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), plan.message
    assert not check_plan(spec, plan)
    assert plan.kpis is not None
    for tier, fill in plan.kpis.fill_rate_by_priority.items():
        assert fill >= SERVICE_TARGETS[tier] - 1e-6


# -- command line ----------------------------------------------------------------------------


def test_cli_writes_protobuf_json_that_reads_back(tmp_path: pytest.TempPathFactory) -> None:
    from solver.convert import read_network

    out = tmp_path / "demo.json"  # type: ignore[operator]
    assert main(["--size", "demo", "--seed", "3", "--out", str(out)]) == 0
    assert "nodes" in json.loads(out.read_text())
    assert read_network(out) == generate("demo", 3)
