"""Plans, solve options and plan diffs survive protobuf and its JSON unchanged; unset enums and bad
options are rejected naming the field; `diff_plans` finds exactly the decisions that changed."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest
from google.protobuf import json_format

from models.errors import ValidationError
from models.network import Demand, Item, Lane, NetworkSpec, Node, NodeRole, Stock, SupplyOffer
from models.plan import Plan, Table
from models.protocols import AuthorityStatus, Function
from models.replanning import ReplanOptions
from models.solution import SolveStatus
from solver._proto.concerto.v1 import plan_pb2, protocols_pb2, service_pb2
from solver.convert import (
    backend_from_proto,
    diff_from_proto,
    diff_to_proto,
    options_from_proto,
    options_to_proto,
    plan_from_proto,
    plan_to_proto,
    replan_options_from_proto,
    violation_to_domain,
    violation_to_proto,
)
from solver.diff import PlanChange, PlanDiff, diff_plans
from solver.options import SolveOptions
from solver.planner import plan_network
from tests.test_known_answers import backup_network, facility_location, production_network
from tests.test_protocols import (
    LONG_OUTAGE,
    OUTAGE_DAY_0,
    SURGE,
    long_outage_protocols,
    outage_network,
    plant_network,
    short_outage_protocols,
    surge_network,
    surge_protocols,
)
from tests.test_protocols import solve as solve_with_protocols

TABLES = (
    "purchases",
    "activations",
    "production",
    "overtime",
    "shipments",
    "trucks",
    "inventory",
    "safety_shortfall",
    "deliveries",
    "backlog",
    "lost_sales",
)


def solve(spec: NetworkSpec) -> Plan:
    plan = plan_network(spec, SolveOptions(mip_rel_gap=1e-9))
    assert plan.status == SolveStatus.OPTIMAL, plan.message
    return plan


def trucks_and_safety_network() -> NetworkSpec:
    """Whole trucks to a DC that should hold 8 units it cannot afford to: trucks, stock and a
    safety-stock shortfall, the tables the other networks leave empty."""
    return NetworkSpec(
        name="trucks-and-safety",
        horizon=2,
        items=(Item("A", unit_value=3, holding_cost=1),),
        nodes=(Node("S", NodeRole.SUPPLIER, tier=1), Node("D", NodeRole.DC), Node("C", NodeRole.CUSTOMER)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=1, payment_days=30),),
        lanes=(
            Lane("SD", "S", "D", ("A",), truck_size=10, truck_cost=50),
            Lane("DC", "D", "C", ("A",)),
        ),
        demands=(Demand("C", "A", (5, 5), price=20, backlog_penalty=10, lost_sale_penalty=1000, receivable_days=45),),
        stocks=(Stock("D", "A", safety_stock=8, safety_penalty=0.5),),
    )


PLANS: dict[str, Callable[[], Plan]] = {
    "backup activated": lambda: solve(backup_network(lost_sale_penalty=100)),
    "backup idle, sales lost": lambda: solve(backup_network(lost_sale_penalty=9)),
    "overtime": lambda: solve(production_network(lost_sale_penalty=20)),
    "facility location": lambda: solve(facility_location(single_source=False)),
    "trucks and safety stock": lambda: solve(trucks_and_safety_network()),
    "short outage within authority": lambda: solve_with_protocols(
        outage_network(), short_outage_protocols(limit=100), [OUTAGE_DAY_0]
    ),
    "short outage escalated": lambda: solve_with_protocols(
        outage_network(), short_outage_protocols(limit=50), [OUTAGE_DAY_0]
    ),
    "long outage, joint escalation": lambda: solve_with_protocols(
        plant_network(), long_outage_protocols(overtime_limit=9), [LONG_OUTAGE]
    ),
    "surge, lateral transfer escalated": lambda: solve_with_protocols(
        surge_network(), surge_protocols(lateral_limit=4), [SURGE]
    ),
}


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {name: make() for name, make in PLANS.items()}


def infeasible_plan() -> Plan:
    """A 100% fill-rate target the backup cannot meet within a cap equal to its limit (see
    tests/test_protocols.py::test_escalation_required_for_feasibility)."""
    plan = plan_network(
        outage_network(lost=0.0, backlog=0.0, fill=1.0),
        protocols=short_outage_protocols(limit=50, cap=50, delay=0),
        signals=[OUTAGE_DAY_0],
    )
    assert plan.status == SolveStatus.INFEASIBLE
    return plan


def via_binary(plan: Plan) -> Plan:
    return plan_from_proto(plan_pb2.PlanResult.FromString(plan_to_proto(plan).SerializeToString()))


def via_json(plan: Plan) -> Plan:
    text = json_format.MessageToJson(plan_to_proto(plan))
    return plan_from_proto(json_format.Parse(text, plan_pb2.PlanResult()))


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def assert_same_plan(got: Plan, want: Plan) -> None:
    """Every field equal (NaN equal to NaN), tables row for row with `extract_plan`'s column names
    and dtype kinds; `values` is not sent."""
    for name in ("network", "horizon", "period_hours", "status", "message", "stats"):
        assert getattr(got, name) == getattr(want, name), name
    for name in ("objective", "bound", "gap"):
        assert same_float(getattr(got, name), getattr(want, name)), name
    assert got.cost_by_component == want.cost_by_component
    assert list(got.cost_by_component) == list(want.cost_by_component)
    assert got.decisions == want.decisions
    assert got.authority == want.authority
    assert got.kpis == want.kpis
    for name in TABLES:
        g, w = getattr(got, name), getattr(want, name)
        assert g.rows() == w.rows(), name
        if w.columns:  # a plan without a solution has column-less tables
            assert list(g.columns) == list(w.columns), name
            assert [c.dtype.kind for c in g.columns.values()] == [c.dtype.kind for c in w.columns.values()], name
    assert got.values == {}


@pytest.mark.parametrize("name", list(PLANS))
@pytest.mark.parametrize("trip", [via_binary, via_json], ids=["binary", "json"])
def test_plan_round_trips(plans: dict[str, Plan], name: str, trip: Callable[[Plan], Plan]) -> None:
    plan = plans[name]
    back = trip(plan)
    assert_same_plan(back, plan)
    assert back.summary() == plan.summary()
    assert back.needs_approval == plan.needs_approval and back.escalations == plan.escalations


def test_round_trips_cover_every_table_and_authority_status(plans: dict[str, Plan]) -> None:
    """Guard for the test above: between them the plans fill every table and use every status."""
    for name in TABLES:
        assert any(len(getattr(p, name)) for p in plans.values()), name
    statuses = {d.status for p in plans.values() for d in p.decisions}
    assert statuses == {AuthorityStatus.WITHIN_AUTHORITY, AuthorityStatus.ESCALATED, AuthorityStatus.UNGOVERNED}
    assert any(a.escalated for p in plans.values() for a in p.authority)


@pytest.mark.parametrize("trip", [via_binary, via_json], ids=["binary", "json"])
def test_infeasible_plan_round_trips_with_nan_objective(trip: Callable[[Plan], Plan]) -> None:
    plan = infeasible_plan()
    back = trip(plan)
    assert_same_plan(back, plan)
    assert back.status == SolveStatus.INFEASIBLE and not back.has_solution
    assert math.isnan(back.objective) and math.isnan(back.gap)
    assert back.kpis is None and back.cost_by_component == {}
    assert all(len(getattr(back, name)) == 0 for name in TABLES)
    assert back.message == plan.message


def test_plan_json_spells_nan() -> None:
    text = json_format.MessageToJson(plan_to_proto(infeasible_plan()))
    assert '"objective": "NaN"' in text
    assert '"kpis"' not in text


def test_empty_tables_keep_their_columns(plans: dict[str, Plan]) -> None:
    """A solved plan without overtime still has an overtime table with node, period and hours."""
    back = via_binary(plans["backup activated"])
    assert len(back.overtime) == 0
    assert list(back.overtime.columns) == ["node", "period", "hours"]
    assert back.overtime.total("hours") == 0.0


@pytest.mark.parametrize(
    ("break_message", "field"),
    [
        (lambda m: m.ClearField("status"), "status"),
        (lambda m: m.decisions[0].ClearField("status"), "decisions[0].status"),
        (lambda m: m.decisions[1].ClearField("function"), "decisions[1].function"),
        (lambda m: m.decisions[0].ClearField("action"), "decisions[0].action"),
        (lambda m: m.authority[0].ClearField("function"), "authority[0].function"),
        (lambda m: m.authority[0].ClearField("action"), "authority[0].action"),
    ],
)
def test_unset_enums_are_rejected_naming_the_field(
    plans: dict[str, Plan], break_message: Callable[[plan_pb2.PlanResult], None], field: str
) -> None:
    msg = plan_to_proto(plans["short outage escalated"])
    break_message(msg)
    with pytest.raises(ValidationError, match="is unspecified") as err:
        plan_from_proto(msg)
    assert (err.value.entity, err.value.ident, err.value.field) == ("plan", "short-outage", field)


def test_unknown_enum_numbers_are_rejected(plans: dict[str, Plan]) -> None:
    """proto3 enums are open: a newer client may send a number this server does not know."""
    msg = plan_to_proto(plans["short outage escalated"])
    msg.status = 42  # type: ignore[assignment]
    with pytest.raises(ValidationError, match="is 42, not a known solve status") as err:
        plan_from_proto(msg)
    assert err.value.field == "status"
    msg = plan_to_proto(plans["short outage escalated"])
    msg.decisions[0].status = 9  # type: ignore[assignment]
    with pytest.raises(ValidationError, match="not a known authority status") as err:
        plan_from_proto(msg)
    assert err.value.field == "decisions[0].status"


def test_decision_fields_reach_the_message(plans: dict[str, Plan]) -> None:
    """Spot check of the wire form of the escalated day-2 purchase of the short outage."""
    msg = plan_to_proto(plans["short outage escalated"])
    later = [d for d in msg.decisions if d.status == plan_pb2.AUTHORITY_STATUS_ESCALATED]
    assert len(later) == 1
    d = later[0]
    assert d.function == protocols_pb2.FUNCTION_PROCUREMENT
    assert d.action == protocols_pb2.ACTION_KIND_BACKUP_ACTIVATION
    assert (d.resource, d.item, d.period, d.unit) == ("backup", "A", 2, "units")
    assert d.quantity == pytest.approx(5) and d.cost == pytest.approx(30)
    assert (d.approver, d.effective_hours, d.rule, list(d.signals)) == (
        "procurement director",
        48,
        "backup-under-48h",
        ["S1-down"],
    )
    assert msg.status == plan_pb2.SOLVE_STATUS_OPTIMAL
    assert msg.stats.backend == "highs" and msg.stats.columns > 0
    assert dict(msg.kpis.fill_rate_by_priority) == {1: pytest.approx(1.0)}


# -- solve options -----------------------------------------------------------------------------


def test_absent_options_take_the_defaults() -> None:
    options = options_from_proto(service_pb2.SolveOptions(), default_time_limit=60.0)
    assert options == SolveOptions(time_limit=60.0)
    assert options.mip_rel_gap == SolveOptions().mip_rel_gap and options.threads == 0 and options.seed == 0


def test_set_options_are_read() -> None:
    msg = service_pb2.SolveOptions(time_limit_seconds=5.0, mip_rel_gap=0.0, threads=2, seed=7)
    assert options_from_proto(msg, default_time_limit=60.0) == SolveOptions(
        time_limit=5.0, mip_rel_gap=0.0, threads=2, seed=7
    )


@pytest.mark.parametrize(
    "options",
    [
        SolveOptions(),
        SolveOptions(time_limit=2.5, mip_rel_gap=0.01, threads=4, seed=3, method="lp_first"),
        SolveOptions(method="milp"),
    ],
    ids=["defaults", "all-set", "milp"],
)
def test_options_round_trip(options: SolveOptions) -> None:
    msg = options_to_proto(options)
    assert msg.HasField("time_limit_seconds") == math.isfinite(options.time_limit)
    text = json_format.MessageToJson(msg)
    back = json_format.Parse(text, service_pb2.SolveOptions())
    assert options_from_proto(back, default_time_limit=math.inf) == options


def test_method_defaults_to_auto_and_a_bad_one_names_the_message_field() -> None:
    """The default method travels as an empty field and reads back as "auto"; an unknown one is a
    ValidationError naming options.method."""
    assert options_to_proto(SolveOptions()).method == ""
    assert options_from_proto(service_pb2.SolveOptions(), default_time_limit=60.0).method == "auto"
    with pytest.raises(ValidationError, match="method") as caught:
        options_from_proto(service_pb2.SolveOptions(method="simplex"), default_time_limit=60.0)
    assert caught.value.field == "options.method"


def test_backend_round_trips_and_defaults_to_highs() -> None:
    """The default backend travels as an empty field, which reads back as "highs"; another one
    travels by name."""
    options = SolveOptions(mip_rel_gap=0.01)
    assert options_to_proto(options).backend == ""
    assert backend_from_proto(options_to_proto(options)) == "highs"
    assert options_to_proto(options, backend="ortools-scip").backend == "ortools-scip"


def test_unknown_backend_names_the_message_field() -> None:
    """The use cases check the backend a request names (convert only reads the name)."""
    from solver.usecases import check_backend

    with pytest.raises(ValidationError, match=r"'nope': options\.backend is unknown") as err:
        check_backend(backend_from_proto(service_pb2.SolveOptions(backend="nope")), SolveOptions())
    assert err.value.field == "options.backend"


@pytest.mark.parametrize(
    ("msg", "field"),
    [
        (service_pb2.SolveOptions(time_limit_seconds=0.0), "options.time_limit_seconds"),
        (service_pb2.SolveOptions(time_limit_seconds=-1.0), "options.time_limit_seconds"),
        (service_pb2.SolveOptions(time_limit_seconds=math.nan), "options.time_limit_seconds"),
        (service_pb2.SolveOptions(mip_rel_gap=1.5), "options.mip_rel_gap"),
        (service_pb2.SolveOptions(mip_rel_gap=-0.1), "options.mip_rel_gap"),
        (service_pb2.SolveOptions(mip_rel_gap=math.nan), "options.mip_rel_gap"),
        (service_pb2.SolveOptions(threads=-1), "options.threads"),
        (service_pb2.SolveOptions(seed=-2), "options.seed"),
    ],
)
def test_invalid_options_name_the_message_field(msg: service_pb2.SolveOptions, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        options_from_proto(msg, default_time_limit=60.0)
    assert err.value.field == field
    assert err.value.entity == "solve options"
    assert field in str(err.value)


def test_violation_round_trips() -> None:
    err = ValidationError("lane", "L7", "lead_time", "is -1; use 0 or more")
    msg = violation_to_proto(err)
    assert (msg.entity, msg.id, msg.field, msg.message) == ("lane", "L7", "lead_time", "is -1; use 0 or more")
    back = violation_to_domain(msg)
    assert (back.entity, back.ident, back.field, back.message, str(back)) == (
        err.entity,
        err.ident,
        err.field,
        err.message,
        str(err),
    )


# -- plan diffs --------------------------------------------------------------------------------


def test_diff_short_outage_with_and_without_the_signal() -> None:
    """The short-outage network (S1: 10/day at 5; backup S2: 10/day at 6 after a one-off 20;
    demand 10/day for 3 days), under the playbook with a backup limit of 100.

    Without a signal no rule is active, backup activation is governed, so the backup stays off:
    S1 sells 10 a day (150), shipped on L1 each day. With S1 down on day 0 (the within-authority
    case): day 0's 10 units come from the activated backup over L2 (20 + 60), S1 sells on days 1-2:
    180. Decisions keyed by id and period:

        purchase   offer backup period 0        0 -> 10   procurement
        purchase   offer main period 0         10 -> 0    procurement
        purchase   offer main period 1, 2      10 -> 10   (unchanged)
        activation offer backup                 0 -> 1    procurement
        shipment   lane L1 item A period 0     10 -> 0    logistics
        shipment   lane L2 item A period 0      0 -> 10   logistics
        shipment   lane L1 item A period 1, 2  10 -> 10   (unchanged)

    5 of 9 decisions changed (nervousness 5/9); procurement cost +30, other components +0; every
    unit is delivered in both plans.
    """
    protocols = short_outage_protocols(limit=100)
    before = solve_with_protocols(outage_network(), protocols, [])
    after = solve_with_protocols(outage_network(), protocols, [OUTAGE_DAY_0])
    diff = diff_plans(before, after)

    procurement, logistics = Function.PROCUREMENT, Function.LOGISTICS
    assert [(c.kind, c.key, c.function) for c in diff.changes] == [
        ("purchase", "offer backup period 0", procurement),
        ("purchase", "offer main period 0", procurement),
        ("activation", "offer backup", procurement),
        ("shipment", "lane L1 item A period 0", logistics),
        ("shipment", "lane L2 item A period 0", logistics),
    ]
    assert [c.before for c in diff.changes] == pytest.approx([0, 10, 0, 10, 0])
    assert [c.after for c in diff.changes] == pytest.approx([10, 0, 1, 0, 10])
    assert (diff.changed, diff.total) == (5, 9)
    assert diff.nervousness == pytest.approx(5 / 9)
    assert (diff.objective_before, diff.objective_after) == pytest.approx((150, 180))
    assert diff.cost_change_by_component["procurement"] == pytest.approx(30)
    assert all(v == pytest.approx(0) for k, v in diff.cost_change_by_component.items() if k != "procurement")
    assert (diff.fill_rate_before, diff.fill_rate_after) == (1.0, 1.0)

    # The diff reads the same off plans that went through the wire, and survives it itself.
    assert diff_plans(via_json(before), via_binary(after)) == diff
    assert diff_from_proto(diff_to_proto(diff)) == diff
    response = json_format.Parse(json_format.MessageToJson(diff_to_proto(diff)), service_pb2.DiffPlansResponse())
    assert diff_from_proto(response) == diff
    assert response.changes[2].function == protocols_pb2.FUNCTION_PROCUREMENT


def test_diff_long_outage_production_changes() -> None:
    """The long-outage plant network under overtime limits 36 and 9 (tests/test_protocols.py).

    Limit 36: the plant makes 4 regular + 6 overtime units on each day (10 + 10), no backup.
    Limit 9: day 0 makes 4 + 3 (overtime 3 h within the limit); day 1 makes 4 + 6 after the joint
    approval, and the activated backup sells 3 on day 1. So production on day 0 drops 10 -> 7 and
    overtime on day 0 6 -> 3 h, both production's; day 1 (10 units, 6 h) is unchanged; procurement
    activates the backup and buys 3 on day 1, shipped on S2-C. (When R is bought and shipped to the
    plant, and when A leaves it, is free: neither costs anything to hold. Those rows are left out.)
    """
    before = solve_with_protocols(plant_network(), long_outage_protocols(overtime_limit=36), [LONG_OUTAGE])
    after = solve_with_protocols(plant_network(), long_outage_protocols(overtime_limit=9), [LONG_OUTAGE])
    diff = diff_plans(before, after)
    timing_free = ("offer raw", "lane S3-P", "lane P-C")
    changes = {
        (c.kind, c.key): (c.function, c.before, c.after) for c in diff.changes if not c.key.startswith(timing_free)
    }
    assert changes == {
        ("production", "recipe assemble period 0"): (Function.PRODUCTION, pytest.approx(10.0), pytest.approx(7.0)),
        ("overtime", "node P period 0"): (Function.PRODUCTION, pytest.approx(6.0), pytest.approx(3.0)),
        ("activation", "offer backup"): (Function.PROCUREMENT, 0.0, 1.0),
        ("purchase", "offer backup period 1"): (Function.PROCUREMENT, pytest.approx(0.0), pytest.approx(3.0)),
        ("shipment", "lane S2-C item A period 1"): (Function.LOGISTICS, pytest.approx(0.0), pytest.approx(3.0)),
    }
    unchanged = {"recipe assemble period 1", "node P period 1"}
    assert not unchanged & {c.key for c in diff.changes}
    assert diff.cost_change_by_component["governance"] == pytest.approx(40)
    assert diff.objective_after - diff.objective_before == pytest.approx(169 - 76)


def test_diff_lateral_transfers_belong_to_inventory() -> None:
    """The surge network (tests/test_protocols.py) under lateral limits 20 and 4.

    Limit 20: D2's 10 spare units cross to D1 at 5 a day, so C1 gets 10 made + 5 = 15 each day.
    Limit 4 (escalated, approval from day 1): 4 cross on day 0 and 6 on day 1; C1 gets 14 on day 0
    and 16 (15 + the unit owed) on day 1. The D2-D1 shipments are lateral transfers, inventory's;
    the D1-C1 shipments stay logistics'. 4 of 10 decisions changed (production, P-D1 and D2-C2
    are the same).
    """
    before = solve_with_protocols(surge_network(), surge_protocols(lateral_limit=20), [SURGE])
    after = solve_with_protocols(surge_network(), surge_protocols(lateral_limit=4), [SURGE])
    diff = diff_plans(before, after)
    assert [(c.key, c.function, c.before, c.after) for c in diff.changes] == [
        ("lane D1-C1 item A period 0", Function.LOGISTICS, pytest.approx(15.0), pytest.approx(14.0)),
        ("lane D1-C1 item A period 1", Function.LOGISTICS, pytest.approx(15.0), pytest.approx(16.0)),
        ("lane D2-D1 item A period 0", Function.INVENTORY, pytest.approx(5.0), pytest.approx(4.0)),
        ("lane D2-D1 item A period 1", Function.INVENTORY, pytest.approx(5.0), pytest.approx(6.0)),
    ]
    assert (diff.changed, diff.total) == (4, 10)
    assert diff_to_proto(diff).changes[2].function == protocols_pb2.FUNCTION_INVENTORY


def test_diff_of_a_plan_with_itself_is_empty(plans: dict[str, Plan]) -> None:
    plan = plans["long outage, joint escalation"]
    diff = diff_plans(plan, via_binary(plan))
    assert diff.changes == [] and diff.changed == 0
    expected_total = sum(len(getattr(plan, t)) for t in ("purchases", "activations", "production", "overtime"))
    expected_total += len(plan.shipments) + len(plan.trucks)
    assert diff.total == expected_total
    assert diff.nervousness == 0.0
    assert all(v == 0 for v in diff.cost_change_by_component.values())


def test_diff_against_an_infeasible_plan(plans: dict[str, Plan]) -> None:
    """Every decision of the solved plan goes to 0; costs and fill rate cannot be compared (NaN)."""
    solved = plans["short outage within authority"]
    diff = diff_plans(solved, infeasible_plan())
    assert diff.changed == diff.total == len(solved.purchases) + len(solved.activations) + len(solved.shipments)
    assert all(c.after == 0 for c in diff.changes)
    assert math.isnan(diff.objective_after) and math.isnan(diff.fill_rate_after)
    assert diff.cost_change_by_component and all(math.isnan(v) for v in diff.cost_change_by_component.values())
    back = diff_from_proto(diff_to_proto(diff))
    assert back.changes == diff.changes and math.isnan(back.fill_rate_after)


def test_diff_counts_the_trucks() -> None:
    """Two hand-made plans one truck apart on one lane, everything else equal."""
    plan = solve(trucks_and_safety_network())
    assert [(r["lane"], r["period"], r["trucks"]) for r in plan.trucks.rows()] == [("SD", 0, 1.0)]
    msg = plan_to_proto(plan)
    msg.trucks.add(lane="SD", period=1, trucks=2.0)
    diff = diff_plans(plan, plan_from_proto(msg))
    assert diff.changes == [PlanChange("trucks", "lane SD period 1", Function.LOGISTICS, 0.0, 2.0)]
    assert diff.total == len(plan.purchases) + len(plan.shipments) + 2


def test_unset_change_function_is_rejected() -> None:
    diff = PlanDiff([PlanChange("purchase", "offer o period 0", Function.PROCUREMENT, 1.0, 2.0)], 1, 2, {}, 1, 1, 1, 1)
    msg = diff_to_proto(diff)
    msg.changes[0].ClearField("function")
    with pytest.raises(ValidationError, match="unspecified") as err:
        diff_from_proto(msg)
    assert err.value.field == "changes[0].function"


def test_unknown_action_kind_in_domain_is_rejected_on_the_way_out(plans: dict[str, Plan]) -> None:
    """A decision whose action is not an `ActionKind` cannot be sent; the error names it."""
    plan = plans["short outage escalated"]
    bad = dataclasses.replace(plan.decisions[0], action="teleport")  # type: ignore[arg-type]
    broken = dataclasses.replace(plan, decisions=(plan.decisions[0], bad))
    with pytest.raises(ValidationError, match="use a ActionKind") as err:
        plan_to_proto(broken)
    assert err.value.field == "decisions[1].action"


def test_every_replan_option_travels_in_the_settings() -> None:
    """Every field of ReplanOptions has a ReplanSettings field: options away from every default
    (the fence penalty and first-answer gap included, which a client could not set before) come
    back unchanged, and skip_first_answer rides along."""
    from dataclasses import fields

    from solver.convert import replan_options_to_proto

    options = ReplanOptions(
        stability_weight=2.5,
        procurement_weight=0.5,
        production_weight=1.5,
        logistics_weight=2.0,
        decay=0.9,
        fence_periods=3,
        fence_penalty=250.0,
        upstream_hops=4,
        recovery_periods=1,
        first_answer_gap=0.05,
    )
    defaults = ReplanOptions()
    assert all(getattr(options, f.name) != getattr(defaults, f.name) for f in fields(ReplanOptions))
    message = replan_options_to_proto(options, skip_first_answer=True)
    assert message.skip_first_answer and replan_options_from_proto(message) == options
    assert replan_options_from_proto(replan_options_to_proto(defaults)) == defaults
    with pytest.raises(ValidationError) as err:
        replan_options_from_proto(service_pb2.ReplanSettings(first_answer_gap=1.5))
    assert err.value.field == "settings.first_answer_gap"


def test_replan_settings_carry_the_reach_and_default_when_absent() -> None:
    """Absent fields take ReplanOptions' defaults (weight 1, decay 0.7, 2 hops, 2 recovery
    periods); set ones are carried, 0 included; a negative hop count is refused naming the field."""
    assert replan_options_from_proto(service_pb2.ReplanSettings()) == ReplanOptions()
    options = replan_options_from_proto(
        service_pb2.ReplanSettings(stability_weight=0.0, upstream_hops=0, recovery_periods=5, fence_periods=1)
    )
    assert (options.stability_weight, options.upstream_hops, options.recovery_periods, options.fence_periods) == (
        0.0,
        0,
        5,
        1,
    )
    with pytest.raises(ValidationError) as err:
        replan_options_from_proto(service_pb2.ReplanSettings(upstream_hops=-1))
    assert err.value.field == "settings.upstream_hops"


def _reference_diff(before: Plan, after: Plan) -> tuple[list[tuple[str, str, float, float]], int]:
    """The diff's definition, key by key: each family's quantities summed per key in row order, the
    keys of both plans sorted as tuples, a key missing from a plan counting as 0 there."""
    families = {
        "purchases": ("purchase", ("offer", "period"), "quantity"),
        "activations": ("activation", ("offer",), None),
        "production": ("production", ("recipe", "period"), "quantity"),
        "overtime": ("overtime", ("node", "period"), "hours"),
        "shipments": ("shipment", ("lane", "item", "period"), "quantity"),
        "trucks": ("trucks", ("lane", "period"), "trucks"),
    }
    changes, total = [], 0
    for name, (kind, key, quantity) in families.items():
        sums: list[dict[tuple[object, ...], float]] = []
        for plan in (before, after):
            out: dict[tuple[object, ...], float] = {}
            for row in getattr(plan, name).rows():
                k = tuple(row[c] for c in key)
                out[k] = out.get(k, 0.0) + (float(row[quantity]) if quantity else 1.0)
            sums.append(out)
        keys = sorted(sums[0].keys() | sums[1].keys())
        total += len(keys)
        for k in keys:
            was, now = sums[0].get(k, 0.0), sums[1].get(k, 0.0)
            if abs(now - was) > 1e-6:
                changes.append((kind, " ".join(f"{c} {v}" for c, v in zip(key, k)), was, now))
    return changes, total


def _random_tables(plan: Plan, rng: np.random.Generator) -> Plan:
    """`plan` with random decision tables: ids from a pool that sorts differently by case, length
    and code point, periods 0-3, repeated keys, quantities that often tie."""
    ids = np.array(["A", "a", "a1", "a10", "a2", "B", "é", "z", "Z-1"])
    columns = {
        "purchases": ("offer", "supplier", "item", "period", "quantity"),
        "activations": ("offer", "supplier", "item", "cost"),
        "production": ("recipe", "node", "item", "period", "quantity"),
        "overtime": ("node", "period", "hours"),
        "shipments": ("lane", "origin", "destination", "item", "period", "arrival", "quantity"),
        "trucks": ("lane", "period", "trucks"),
    }
    tables = {}
    for name, names in columns.items():
        n = int(rng.integers(0, 25))
        tables[name] = Table(
            {
                c: (
                    rng.integers(0, 4, n).astype(np.int64)
                    if c in ("period", "arrival")
                    else rng.choice([1.0, 2.5, 1e-7, 3.0], n)
                    if c in ("quantity", "cost", "hours", "trucks")
                    else rng.choice(ids[: int(rng.integers(1, ids.size + 1))], n).astype(str)
                )
                for c in names
            }
        )
    return dataclasses.replace(plan, **tables)


@pytest.mark.parametrize("seed", range(40))
def test_diff_matches_its_definition_on_random_tables(plans: dict[str, Plan], seed: int) -> None:
    """Random decision tables (repeated keys, ids of mixed case and length, quantities that tie or
    differ by less than the tolerance, empty tables among them): the vectorized diff finds the
    same changes, in the same order, with the same sums, and the same total as the definition
    computed key by key."""
    rng = np.random.default_rng(seed)
    plan = plans["short outage within authority"]
    before, after = _random_tables(plan, rng), _random_tables(plan, rng)
    diff = diff_plans(before, after)
    changes, total = _reference_diff(before, after)
    assert [(c.kind, c.key, c.before, c.after) for c in diff.changes] == changes
    assert (diff.changed, diff.total) == (len(changes), total)
