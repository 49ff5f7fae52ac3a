"""Known-answer tests of infeasibility and shortfall diagnosis: small networks with no plan (or
unserved demand), each with the smallest relaxation worked out in its docstring.
"""

from __future__ import annotations

import pytest

from models.network import Demand, Item, Lane, NetworkSpec, Node, NodeRole, Recipe, ServiceTarget, Stock, SupplyOffer
from models.signals import Signal, SignalType
from solver.backends.highs import HighsBackend
from solver.explain import Diagnosis, DiagnosisStatus, Relaxation, diagnose
from tests.test_known_answers import backup_network
from tests.test_protocols import OUTAGE_DAY_0, outage_network, short_outage_protocols

SUP, PLANT, DC, CUST = NodeRole.SUPPLIER, NodeRole.PLANT, NodeRole.DC, NodeRole.CUSTOMER


def only(diagnosis: Diagnosis) -> Relaxation:
    assert len(diagnosis.relaxations) == 1, diagnosis.message
    return diagnosis.relaxations[0]


def test_supplier_outage_under_full_fill_rate_names_procurement_and_the_backup_rule() -> None:
    """test_protocols' infeasible case: S1 is down on day 0, fill rate 100%, backup spend capped at
    50 (20 activation + 5 units). 5 of day 0's units have no source. Relaxations, each relative to
    its limit: 5 more units of S1 (5 / capacity 10 = 0.5), 30 more backup spend (30 / cap 50 = 0.6),
    or 5 units below the target (5, a promise weighs 1 per unit). Smallest: S1 short by 5 units
    (procurement), which the procurement rule backup-under-48h (procurement director) speaks for.
    """
    d = diagnose(outage_network(lost=0.0, backlog=0.0, fill=1.0), short_outage_protocols(50, 50, 0), [OUTAGE_DAY_0])
    assert d.status == DiagnosisStatus.INFEASIBLE
    r = only(d)
    assert (r.function, r.family, r.resource) == ("procurement", "supplier_capacity", "S1/main")
    assert r.amount == pytest.approx(5)
    assert r.approving_rule == "backup-under-48h" and r.approver == "procurement director"
    assert "supplier S1/main capacity short by 5 units" in r.message


def test_authority_hard_cap_too_low_names_the_rule_and_its_approver() -> None:
    """The same network with only authority limits and service targets relaxable: the backup must
    sell 5 more units (6 each), 30 over the hard cap of 50 (0.6), rather than miss the target by 5.
    """
    d = diagnose(
        outage_network(lost=0.0, backlog=0.0, fill=1.0),
        short_outage_protocols(50, 50, 0),
        [OUTAGE_DAY_0],
        families=frozenset({"authority_limit", "service_target"}),
    )
    r = only(d)
    assert (r.function, r.family, r.resource) == ("procurement", "authority_limit", "backup-under-48h")
    assert r.amount == pytest.approx(30)
    assert r.approver == "procurement director"
    assert r.message.startswith("authority rule backup-under-48h: 30 over its hard cap (procurement")


@pytest.mark.parametrize("setup_cost", [0.0, 5.0])
def test_plant_without_enough_hours_is_short_of_production_hours(setup_cost: float) -> None:
    """A plant with 4 regular hours a day and no overtime makes 1 unit an hour; the customer wants
    10 a day for 2 days at a fill rate of 100%. 8 can be made: the plant is 12 hours short (12/4 = 3
    against 12 for the target). Late delivery costs 10 a unit and holding 1, so the tie-break (the
    plan's own cost) makes each day's 6 missing hours on that day.

    With a setup cost the recipe's setup row caps production at M = 4 hours / 1 hour a unit; the
    answer is the same only because the elastic model lets M grow with the relaxed hours.
    """
    spec = NetworkSpec(
        name="hours",
        horizon=2,
        items=(Item("R"), Item("A", holding_cost=1)),
        nodes=(Node("S", SUP, tier=2), Node("P", PLANT, regular_hours=4), Node("C", CUST)),
        offers=(SupplyOffer("raw", "S", "R", unit_cost=1),),
        recipes=(Recipe("make", "P", "A", inputs=(("R", 1.0),), hours_per_unit=1, setup_cost=setup_cost),),
        lanes=(Lane("S-P", "S", "P", ("R",)), Lane("P-C", "P", "C", ("A",))),
        demands=(Demand("C", "A", (10, 10), backlog_penalty=10),),
        service_targets=(ServiceTarget(1, 1.0),),
    )
    r = only(diagnose(spec))
    assert (r.function, r.family, r.resource) == ("production", "capacity_hours", "P")
    assert r.amount == pytest.approx(12)
    assert r.periods == (0, 1)
    assert r.message == "plant P capacity short by 12 hours in periods 0-1 (production)"


def one_lane_network(*, capacity: float = 6, truck_size: float = 0, single_source: bool = False) -> NetworkSpec:
    """One supplier, one lane of `capacity` units a day, a customer wanting 10 at a fill rate of 100%."""
    return NetworkSpec(
        name="lane",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=1),),
        lanes=(
            Lane("L", "S", "C", ("A",), capacity=capacity, truck_size=truck_size, truck_cost=10 * (truck_size > 0)),
        ),
        demands=(Demand("C", "A", (10,), single_source=single_source),),
        service_targets=(ServiceTarget(1, 1.0),),
    )


def test_lane_too_small_is_a_logistics_shortfall() -> None:
    """The only lane carries 6 units; the customer wants 10 at a fill rate of 100%: lane L short by 4
    units in period 0 (4/6 against 4 for the target)."""
    r = only(diagnose(one_lane_network()))
    assert (r.function, r.resource, r.periods) == ("logistics", "L", (0,))
    assert r.amount == pytest.approx(4)


def test_working_capital_cap_below_the_stock_held_is_a_finance_relaxation() -> None:
    """The DC holds 20 units worth 10 each and the customer takes 5 a day, so the stock is worth
    150 after day 0 and 100 after day 1. Stock cannot leave faster than demand, so with a cap of 120
    no plan exists: working capital is 30 over its cap in period 0 (finance)."""
    spec = NetworkSpec(
        name="capital",
        horizon=2,
        items=(Item("A", unit_value=10),),
        nodes=(Node("D", DC), Node("C", CUST)),
        lanes=(Lane("D-C", "D", "C", ("A",)),),
        demands=(Demand("C", "A", (5, 5), lost_sale_penalty=100),),
        stocks=(Stock("D", "A", on_hand=20),),
        working_capital_cap=120,
    )
    r = only(diagnose(spec))
    assert (r.function, r.family, r.periods) == ("finance", "working_capital", (0,))
    assert r.amount == pytest.approx(30)


def test_demand_lost_by_choice_needs_no_relaxation() -> None:
    """test_known_answers' backup network with lost sales at 9: the plan loses 5 units because the
    backup (20 + 6 a unit) is dearer. Serving them breaks no limit, so nothing must be relaxed."""
    d = diagnose(backup_network(lost_sale_penalty=9))
    assert d.status == DiagnosisStatus.SHORT
    assert d.relaxations == () and d.unserved == pytest.approx(0)
    assert "costs more than losing it" in d.message


def test_main_supplier_too_small_for_the_demand_is_a_procurement_shortfall() -> None:
    """Demand 15, the main supplier sells 10 and there is no backup offer: 5 units are lost in any
    plan (SHORT); serving them needs the main supplier's capacity raised by 5 (procurement)."""
    spec = NetworkSpec(
        name="short",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S1", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("main", "S1", "A", unit_cost=5, capacity=10),),
        lanes=(Lane("L1", "S1", "C", ("A",)),),
        demands=(Demand("C", "A", (15,), lost_sale_penalty=100),),
    )
    d = diagnose(spec)
    assert d.status == DiagnosisStatus.SHORT
    r = only(d)
    assert (r.function, r.resource, r.amount) == ("procurement", "S1/main", pytest.approx(5))


def test_a_feasible_network_needs_nothing() -> None:
    """The backup network with lost sales at 100 activates the backup and serves everything."""
    assert diagnose(backup_network(lost_sale_penalty=100)).status == DiagnosisStatus.FEASIBLE


def test_lane_short_of_trucks_is_short_of_capacity_and_of_trucks() -> None:
    """Lane L carries 7 units a day in trucks of 4, so at most ceil(7/4) = 2 trucks (8 units); the
    customer wants 10 at a fill rate of 100%. Serving all 10 needs 3 units of capacity (3/7) and a
    third truck (1/2): 0.93 in all, against 3 for the target (or 1/7 + 2 for shipping 8 and missing
    2). Both limits must give: lane L short by 3 units and by 1 truck in period 0 (logistics).
    """
    d = diagnose(one_lane_network(capacity=7, truck_size=4))
    assert d.status == DiagnosisStatus.INFEASIBLE
    by_family = {r.family: r for r in d.relaxations}
    assert set(by_family) == {"shipment_capacity", "truck_limit"}
    units, trucks = by_family["shipment_capacity"], by_family["truck_limit"]
    assert (units.function, units.resource, units.amount, units.unit) == ("logistics", "L", pytest.approx(3), "units")
    assert (trucks.function, trucks.resource, trucks.amount, trucks.unit) == (
        "logistics",
        "L",
        pytest.approx(1),
        "trucks",
    )
    assert trucks.periods == (0,)
    assert trucks.message == "lane L truck limit short by 1 truck in period 0 (logistics)"


def test_recipe_rate_below_demand_is_a_production_shortfall_despite_its_setup() -> None:
    """Plant P makes A at most 6 a day (and pays 5 per setup); the customer wants 10 at a fill rate
    of 100%. The rate must rise by 4 (4/6) rather than the target give 4 units (4): recipe P/make
    rate short by 4 units in period 0 (production). The setup row caps production at M = 6 too:
    without its M growing with the relaxed rate the diagnosis would blame the target."""
    spec = NetworkSpec(
        name="rate",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("P", PLANT), Node("C", CUST)),
        recipes=(Recipe("make", "P", "A", max_rate=6, setup_cost=5),),
        lanes=(Lane("P-C", "P", "C", ("A",)),),
        demands=(Demand("C", "A", (10,)),),
        service_targets=(ServiceTarget(1, 1.0),),
    )
    r = only(diagnose(spec))
    assert (r.function, r.family, r.resource, r.unit) == ("production", "recipe_rate", "P/make", "units")
    assert r.amount == pytest.approx(4)
    assert r.message == "recipe P/make rate short by 4 units in period 0 (production)"


def minimum_order_network(*, supplier_storage: float = float("inf")) -> NetworkSpec:
    """Supplier S sells up to 10 a day with a minimum order of 8; the customer wants 5 at 100%."""
    return NetworkSpec(
        name="moq",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1, storage_capacity=supplier_storage), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=1, capacity=10, min_order=8),),
        lanes=(Lane("L", "S", "C", ("A",)),),
        demands=(Demand("C", "A", (5,)),),
        service_targets=(ServiceTarget(1, 1.0),),
    )


def test_minimum_order_that_cannot_be_stored_is_an_order_below_minimum() -> None:
    """A cross-dock supplier (no storage) must sell at least 8 per order, but the customer takes 5
    and cannot take more: the 3 left over have nowhere to go. Ordering 5 breaks the minimum by 3
    (3/8 = 0.375); storing 3 breaks a storage of 0 by 3 (3/1); missing the target, 5. So: supplier
    S/o order below its minimum by 3 units in period 0 (procurement). The LP relaxation is
    feasible (order = 5/8 satisfies 5 >= 8 order), so there is no IIS, and the diagnosis says so.
    """
    d = diagnose(minimum_order_network(supplier_storage=0))
    r = only(d)
    assert (r.function, r.family, r.resource, r.unit) == ("procurement", "minimum_order", "S/o", "units")
    assert r.amount == pytest.approx(3)
    assert r.message == "supplier S/o order below its minimum by 3 units in period 0 (procurement)"
    assert d.conflict == () and "LP relaxation is feasible" in d.conflict_message


def test_partial_outage_below_the_minimum_order_is_an_order_below_minimum() -> None:
    """A partial outage halves S's capacity to 5, below its minimum order of 8: 5 can be ordered
    only as an order 3 below the minimum (3/8, against 5 for the target). The offer's capacity is
    not relaxed: its order row holds it as the big-M of the order binary. Even the LP relaxation
    is infeasible here (buy <= 5 order forces order = 1 for 5 units, then buy >= 8), so the IIS
    holds both order rows."""
    half = Signal("S-half", SignalType.SUPPLIER_OUTAGE, supplier="S", magnitude=0.5)
    d = diagnose(minimum_order_network(), signals=[half])
    r = only(d)
    assert (r.function, r.family, r.resource, r.amount) == ("procurement", "minimum_order", "S/o", pytest.approx(3))
    assert {"minimum_order[offer=o,t=0]", "order_capacity[offer=o,t=0]"} <= set(d.conflict)


def test_single_sourcing_short_of_capacity_needs_a_second_lane() -> None:
    """Two DCs hold 20 each and each lane to the customer carries 6 a day; the customer wants 10 a
    day for 2 days over exactly one lane, at 100%. One lane falls 4 short each day: 8/6 = 1.33 to
    relax its capacity, against 1 for a second inbound lane (one extra over the one allowed) and 8
    for the target. So: demand C/A needs 1 more inbound lane than single sourcing allows
    (logistics), not tied to a period."""
    spec = NetworkSpec(
        name="single",
        horizon=2,
        items=(Item("A"),),
        nodes=(Node("D1", DC), Node("D2", DC), Node("C", CUST)),
        lanes=(Lane("L1", "D1", "C", ("A",), capacity=6), Lane("L2", "D2", "C", ("A",), capacity=6)),
        demands=(Demand("C", "A", (10, 10), single_source=True),),
        stocks=(Stock("D1", "A", on_hand=20), Stock("D2", "A", on_hand=20)),
        service_targets=(ServiceTarget(1, 1.0),),
    )
    r = only(diagnose(spec))
    assert (r.function, r.family, r.resource, r.unit) == ("logistics", "single_source", "C/A", "lanes")
    assert r.amount == pytest.approx(1) and r.periods == ()
    assert r.message == "demand C/A needs 1 more inbound lane than single sourcing allows (logistics)"


def test_single_sourced_demand_on_a_small_lane_is_short_of_lane_capacity() -> None:
    """test_lane_too_small with the demand single-sourced: the answer stays lane L short by 4 units
    (4/6). The single-sourcing row caps the lane at M = min(6, 10) * assign; the elastic model
    raises M to the demand (10) so that the lane's capacity can be relaxed at all."""
    r = only(diagnose(one_lane_network(single_source=True)))
    assert (r.function, r.family, r.resource, r.amount) == ("logistics", "shipment_capacity", "L", pytest.approx(4))


def test_iis_of_a_lane_too_small_names_exactly_the_conflicting_rows_and_bounds() -> None:
    """Demand of 10 must be shipped (at most 6 on the lane), owed (the last period's backlog is 0)
    or lost (lost >= 0, and the fill-rate target allows no loss): demand_balance >= 10 with
    service_target <= 0 and the bounds ship <= 6, backlog <= 0, lost >= 0 cannot hold together,
    and dropping any one of them leaves a feasible system. Flow balance is not part of it: the
    supplier can buy any amount."""
    d = diagnose(one_lane_network())
    assert d.status == DiagnosisStatus.INFEASIBLE
    assert set(d.conflict) == {"demand_balance[demand=C/A,t=0]", "service_target[priority=1]"}
    assert set(d.conflict_bounds) == {
        "ship[arc=L/A,t=0] <= 6",
        "backlog[demand=C/A,t=0] <= 0",
        "lost[demand=C/A,t=0] >= 0",
    }
    assert d.conflict_message.startswith("conflict (IIS of the LP relaxation): rows ")
    assert "demand_balance[demand=C/A,t=0] >= 10" in d.conflict_message


def test_a_failing_iis_leaves_the_diagnosis_standing(monkeypatch: pytest.MonkeyPatch) -> None:
    """If HiGHS cannot compute an IIS the diagnosis is the same, without a conflict, and says why."""

    def fail(self: HighsBackend, *args: object) -> None:
        raise RuntimeError("no IIS today")

    monkeypatch.setattr(HighsBackend, "conflict", fail)
    d = diagnose(one_lane_network())
    assert only(d).amount == pytest.approx(4)
    assert d.conflict == () and d.conflict_message == "conflict: no IIS (RuntimeError: no IIS today)"


def on_time_network(demand: tuple[float, ...]) -> NetworkSpec:
    """Plant P makes A at 1 hour a unit with 10 regular hours a period, no overtime and nothing on
    hand; customer C takes `demand` on time (no backlog, no lost sale)."""
    return NetworkSpec(
        name="on-time",
        horizon=len(demand),
        items=(Item("A", holding_cost=1),),
        nodes=(Node("P", PLANT, regular_hours=10), Node("C", CUST)),
        recipes=(Recipe("make", "P", "A", hours_per_unit=1),),
        lanes=(Lane("P-C", "P", "C", ("A",)),),
        demands=(Demand("C", "A", demand, price=10, on_time=True),),
    )


def test_on_time_demand_above_capacity_names_the_late_units_and_the_hours_that_would_serve_them() -> None:
    """Demand of 14 then 6, on time, from a plant that makes 10 a period. Period 0 is the first, and
    nothing is on hand, so nothing can be built ahead for it: at most 10 of its 14 units are made
    and delivered in period 0, and backlog is forbidden, so 4 units are short in period 0. Period
    1's spare 4 hours cannot help (a unit made in period 1 arrives late). Serving C/A on time takes
    4 units more in period 0, 4 hours at 1 hour a unit: plant P capacity short by 4 hours in period
    0, and nothing in period 1. The same holds with every demand on time, since C/A is the only
    stream."""
    d = diagnose(on_time_network((14, 6)))
    assert d.status == DiagnosisStatus.INFEASIBLE
    late, hours = d.relaxations
    assert (late.function, late.family, late.resource, late.unit) == ("sales", "on_time_demand", "C/A", "units")
    assert (late.amount, late.periods, late.amounts) == (pytest.approx(4), (0,), pytest.approx((4,)))
    [needs] = late.needs
    assert (needs.family, needs.resource, needs.periods, needs.amounts) == (
        "capacity_hours",
        "P",
        (0,),
        pytest.approx((4,)),
    )
    assert late.message == (
        "demand C/A cannot be served on time: 4 units short in period 0 (sales); "
        "to serve it on time: plant P capacity short by 4 hours in period 0 (production)"
    )
    assert (hours.family, hours.resource, hours.amount, hours.periods) == (
        "capacity_hours",
        "P",
        pytest.approx(4),
        (0,),
    )


def test_on_time_demand_short_in_two_periods_says_how_many_units_in_each() -> None:
    """Demand of 14 then 13, on time, from a plant that makes 10 a period: 20 units can be made for
    27 asked, so at least 7 are short, at least 4 of them in period 0 (nothing comes before it).
    Building a unit in period 0 for period 1 (5 short, then 2) is as few units but costs 1 to hold,
    and the tie-break (the plan's own cost) prefers 4 in period 0 and 3 in period 1. Serving them on
    time takes 7 more hours at 1 hour a unit (7/10 of a period's hours), by the same tie-break 4 in
    period 0 and 3 in period 1."""
    [late] = [r for r in diagnose(on_time_network((14, 13))).relaxations if r.family == "on_time_demand"]
    assert (late.amount, late.periods, late.amounts) == (pytest.approx(7), (0, 1), pytest.approx((4, 3)))
    assert late.message.startswith("demand C/A cannot be served on time: 7 units short (4 in period 0, 3 in period 1)")
    [needs] = late.needs
    assert (needs.resource, needs.periods, needs.amounts) == ("P", (0, 1), pytest.approx((4, 3)))
