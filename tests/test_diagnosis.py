"""Known-answer tests of infeasibility and shortfall diagnosis: small networks with no plan (or
unserved demand), each with the smallest relaxation worked out in its docstring.
"""

from __future__ import annotations

import pytest

from models.network import Demand, Item, Lane, NetworkSpec, Node, NodeRole, Recipe, ServiceTarget, Stock, SupplyOffer
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


def test_plant_without_enough_hours_is_short_of_production_hours() -> None:
    """A plant with 4 regular hours a day and no overtime makes 1 unit an hour; the customer wants
    10 a day for 2 days at a fill rate of 100%. 8 can be made: the plant is 12 hours short (12/4 = 3
    against 12 for the target). Late delivery costs 10 a unit and holding 1, so the tie-break (the
    plan's own cost) makes each day's 6 missing hours on that day.
    """
    spec = NetworkSpec(
        name="hours",
        horizon=2,
        items=(Item("R"), Item("A", holding_cost=1)),
        nodes=(Node("S", SUP, tier=2), Node("P", PLANT, regular_hours=4), Node("C", CUST)),
        offers=(SupplyOffer("raw", "S", "R", unit_cost=1),),
        recipes=(Recipe("make", "P", "A", inputs=(("R", 1.0),), hours_per_unit=1),),
        lanes=(Lane("S-P", "S", "P", ("R",)), Lane("P-C", "P", "C", ("A",))),
        demands=(Demand("C", "A", (10, 10), backlog_penalty=10),),
        service_targets=(ServiceTarget(1, 1.0),),
    )
    r = only(diagnose(spec))
    assert (r.function, r.family, r.resource) == ("production", "capacity_hours", "P")
    assert r.amount == pytest.approx(12)
    assert r.periods == (0, 1)
    assert r.message == "plant P capacity short by 12 hours in periods 0-1 (production)"


def test_lane_too_small_is_a_logistics_shortfall() -> None:
    """The only lane carries 6 units; the customer wants 10 at a fill rate of 100%: lane L short by 4
    units in period 0 (4/6 against 4 for the target)."""
    spec = NetworkSpec(
        name="lane",
        horizon=1,
        items=(Item("A"),),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("o", "S", "A", unit_cost=1),),
        lanes=(Lane("L", "S", "C", ("A",), capacity=6),),
        demands=(Demand("C", "A", (10,)),),
        service_targets=(ServiceTarget(1, 1.0),),
    )
    r = only(diagnose(spec))
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
