"""Signals and their effect on a network: the hours-to-periods rule, each signal kind, and the
errors for signals that contradict the network."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.errors import ValidationError
from models.network import Demand, Item, Lane, Network, NetworkSpec, Node, NodeRole, Recipe, Stock, SupplyOffer
from models.signals import Signal, SignalType, apply_signals, coverage

SUP, PLANT, DC, CUST = NodeRole.SUPPLIER, NodeRole.PLANT, NodeRole.DC, NodeRole.CUSTOMER


@pytest.fixture
def net() -> Network:
    """Three periods of 24 h: supplier -> plant -> DC -> customer, an unlimited lane and offer."""
    return Network.from_spec(
        NetworkSpec(
            name="signals",
            horizon=3,
            period_hours=24,
            items=(Item("R"), Item("A")),
            nodes=(
                Node("S", SUP, tier=1),
                Node("P", PLANT, regular_hours=10, overtime_hours=4),
                Node("D", DC),
                Node("C", CUST),
            ),
            offers=(SupplyOffer("r", "S", "R", capacity=100), SupplyOffer("r-spot", "S", "R")),
            recipes=(Recipe("make", "P", "A", inputs=(("R", 1.0),), hours_per_unit=1),),
            lanes=(
                Lane("SP", "S", "P", ("R",)),
                Lane("PD", "P", "D", ("A",), capacity=50),
                Lane("DC", "D", "C", ("A",)),
            ),
            demands=(Demand("C", "A", (10, 10, 10)),),
            stocks=(Stock("D", "A", on_hand=8),),
        )
    )


def test_coverage_maps_hours_onto_periods(net: Network) -> None:
    """A window from hour 12 to hour 60 covers half of period 0, all of period 1 and half of 2."""
    window = Signal("w", SignalType.SUPPLIER_OUTAGE, supplier="S", start_hours=12, duration_hours=48)
    assert coverage(net, window) == pytest.approx([0.5, 1.0, 0.5])


def test_supplier_outage_scales_capacity_by_the_covered_share(net: Network) -> None:
    """A 40% remaining capacity over periods 0 (half) and 1 (all): 100 * (1 - 0.6 * 0.5) = 70,
    then 40, then untouched 100. The unlimited spot offer fully out in period 1 becomes 0, not NaN."""
    partial = Signal(
        "o", SignalType.SUPPLIER_OUTAGE, supplier="S", item="R", start_hours=12, duration_hours=36, magnitude=0.4
    )
    after = apply_signals(net, [partial])
    assert after.offer_capacity[0] == pytest.approx([70, 40, 100])
    closed = Signal("x", SignalType.SUPPLIER_OUTAGE, supplier="S", start_hours=24, duration_hours=24, magnitude=0.0)
    spot = apply_signals(net, [closed]).offer_capacity[1]
    assert spot[1] == 0.0 and math.isinf(spot[0]) and math.isinf(spot[2])
    assert not np.isnan(apply_signals(net, [closed]).offer_capacity).any()


def test_lane_closure_of_an_unlimited_lane_is_zero(net: Network) -> None:
    closure = Signal("l", SignalType.LANE_DISRUPTION, lane="SP", duration_hours=24, magnitude=0.0)
    assert apply_signals(net, [closure]).lane_capacity[0].tolist() == [0.0, math.inf, math.inf]


def test_demand_change_and_capacity_loss(net: Network) -> None:
    """A 50% surge in period 2 only: demand 10, 10, 15. A plant fire leaving 30% of the hours for
    the whole horizon: regular 3 and overtime 1.2 hours a period."""
    surge = Signal("d", SignalType.DEMAND_CHANGE, customer="C", start_hours=48, duration_hours=24, magnitude=1.5)
    fire = Signal("f", SignalType.CAPACITY_LOSS, node="P", magnitude=0.3)
    after = apply_signals(net, [surge, fire])
    assert after.demand_qty[0] == pytest.approx([10, 10, 15])
    assert after.node_regular_hours[1] == pytest.approx([3, 3, 3])
    assert after.node_overtime_hours[1] == pytest.approx([1.2, 1.2, 1.2])
    assert net.demand_qty[0] == pytest.approx([10, 10, 10]), "the original network is not changed"


def test_inventory_adjustment_from_its_start(net: Network) -> None:
    """A quality hold of 5 units at the DC from hour 30 removes them in period 1."""
    hold = Signal("q", SignalType.INVENTORY_ADJUSTMENT, node="D", item="A", start_hours=30, magnitude=-5)
    after = apply_signals(net, [hold])
    position = int(net.position_index(np.array([2]), np.array([1]))[0])
    assert after.position_receipts[position] == pytest.approx([0, -5, 0])


@pytest.mark.parametrize(
    ("signal", "field"),
    [
        (Signal("a", SignalType.SUPPLIER_OUTAGE, supplier="nobody"), "supplier"),
        (Signal("b", SignalType.SUPPLIER_OUTAGE, supplier="S", magnitude=-0.5), "magnitude"),
        (Signal("c", SignalType.SUPPLIER_OUTAGE, supplier="S", magnitude=1.5), "magnitude"),
        (Signal("d", SignalType.SUPPLIER_OUTAGE, supplier="S", start_hours=72), "start_hours"),
        (Signal("e", SignalType.DEMAND_CHANGE, customer="C", detected_hours=-1), "detected_hours"),
        (Signal("f", SignalType.DEMAND_CHANGE, customer="C", duration_hours=0), "duration_hours"),
        (Signal("g", SignalType.LANE_DISRUPTION, lane="nowhere"), "lane"),
        (Signal("h", SignalType.CAPACITY_LOSS, node="P", item="unobtainium"), "item"),
        (Signal("i", SignalType.INVENTORY_ADJUSTMENT, node="D", magnitude=-1), "item"),
        (Signal("j", SignalType.INVENTORY_ADJUSTMENT, node="C", item="A", magnitude=-1), "item"),
        (Signal("k", SignalType.DEMAND_CHANGE, customer="C", magnitude=float("nan")), "magnitude"),
    ],
)
def test_signals_that_contradict_the_network_are_rejected(net: Network, signal: Signal, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        apply_signals(net, [signal])
    assert (err.value.entity, err.value.ident, err.value.field) == ("signal", signal.id, field)


def test_duplicate_signal_ids_are_rejected(net: Network) -> None:
    twice = [Signal("s", SignalType.DEMAND_CHANGE, customer="C", magnitude=2)] * 2
    with pytest.raises(ValidationError, match="used twice"):
        apply_signals(net, twice)


def test_every_bad_signal_is_reported(net: Network) -> None:
    """Two bad signals in one batch (an unknown lane, an unknown item) and a good one: both bad
    ones are named, in order, with their fields; nothing is applied."""
    batch = [
        Signal("g", SignalType.LANE_DISRUPTION, lane="nowhere"),
        Signal("ok", SignalType.DEMAND_CHANGE, customer="C", magnitude=2),
        Signal("h", SignalType.CAPACITY_LOSS, node="P", item="unobtainium"),
    ]
    with pytest.raises(ValidationError) as err:
        apply_signals(net, batch)
    assert [(v.ident, v.field) for v in err.value.each()] == [("g", "lane"), ("h", "item")]
    assert str(err.value).startswith("2 violations: signal 'g': lane ")


def test_lane_disruption_with_a_detour_and_lead_time_change(net: Network) -> None:
    """Departures on the plant->DC lane in periods 1-2 take 30 h longer: ceil(30 / 24) = 2 extra
    periods, so they arrive in 3 and 4 (beyond the horizon); a 20 h faster lane never goes below a
    lead time of zero."""
    detour = Signal("d", SignalType.LANE_DISRUPTION, lane="PD", start_hours=24, magnitude=0.5, delay_hours=30)
    after = apply_signals(net, [detour])
    lane = net.lane_ids.index("PD")
    assert after.lane_arrival()[lane].tolist() == [0, 3, 4]
    assert after.lane_capacity[lane] == pytest.approx([50, 25, 25])
    faster = Signal("f", SignalType.LEAD_TIME_CHANGE, lane="PD", delay_hours=-20)
    assert apply_signals(net, [faster]).lane_arrival()[lane].tolist() == [0, 1, 2]


def test_order_change_adds_or_cancels_units_in_its_period(net: Network) -> None:
    """A new order of 4 units due at hour 30 (period 1) and a cancellation of 15 in period 2, which
    can take the period's demand to zero but not below."""
    new = Signal("n", SignalType.ORDER_CHANGE, customer="C", item="A", start_hours=30, magnitude=4)
    cancel = Signal("c", SignalType.ORDER_CHANGE, customer="C", item="A", start_hours=50, magnitude=-15)
    assert apply_signals(net, [new, cancel]).demand_qty[0].tolist() == [10, 14, 0]
    with pytest.raises(ValidationError) as err:
        apply_signals(net, [Signal("x", SignalType.ORDER_CHANGE, customer="C", magnitude=1)])
    assert err.value.field == "item"
