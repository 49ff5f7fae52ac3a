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
