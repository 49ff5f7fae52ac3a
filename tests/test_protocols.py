"""Known-answer tests of decision protocols inside the MILP: the three protocols of the
orchestration playbook, each with one case that stays within authority and one where escalating
pays despite the delay and the governance cost; infeasible-without-escalation, the hard cap, and a
joint approval. Periods are days (24 h) in every network here.
"""

from __future__ import annotations

import pytest

from models.feasibility import check_plan
from models.network import Demand, Item, Lane, NetworkSpec, Node, NodeRole, Recipe, ServiceTarget, Stock, SupplyOffer
from models.plan import Plan
from models.protocols import (
    ActionKind,
    Approver,
    AuthorityRule,
    AuthorityStatus,
    Function,
    Predicate,
    ProtocolSet,
    Role,
    SignalRule,
)
from models.signals import Signal, SignalType
from models.solution import SolveStatus
from solver.options import SolveOptions
from solver.planner import plan_network

SUP, PLANT, DC, CUST = NodeRole.SUPPLIER, NodeRole.PLANT, NodeRole.DC, NodeRole.CUSTOMER
DAY = 24.0


def solve(spec: NetworkSpec, protocols: ProtocolSet, signals: list[Signal]) -> Plan:
    plan = plan_network(spec, SolveOptions(mip_rel_gap=1e-9), protocols=protocols, signals=signals)
    assert plan.status == SolveStatus.OPTIMAL, plan.message
    violations = check_plan(spec, plan, protocols=protocols, signals=signals)
    assert not violations, "\n".join(map(str, violations))
    return plan


def spend(plan: Plan, rule: str) -> float:
    return next(a.spend for a in plan.authority if a.rule == rule)


def escalated(plan: Plan, rule: str) -> bool:
    return next(a.escalated for a in plan.authority if a.rule == rule)


# -- Protocol 1: a supplier outage under 48 h; procurement activates a backup within authority ----


def outage_network(*, lost: float = 100.0, backlog: float = 10.0, fill: float | None = None) -> NetworkSpec:
    return NetworkSpec(
        name="short-outage",
        horizon=3,
        period_hours=DAY,
        items=(Item("A"),),
        nodes=(Node("S1", SUP, tier=1), Node("S2", SUP, tier=1), Node("C", CUST)),
        offers=(
            SupplyOffer("main", "S1", "A", unit_cost=5, capacity=10),
            SupplyOffer("backup", "S2", "A", unit_cost=6, capacity=10, backup=True, activation_cost=20),
        ),
        lanes=(Lane("L1", "S1", "C", ("A",)), Lane("L2", "S2", "C", ("A",))),
        demands=(Demand("C", "A", (10, 10, 10), backlog_penalty=backlog, lost_sale_penalty=lost),),
        service_targets=(ServiceTarget(1, fill),) if fill is not None else (),
    )


def short_outage_protocols(limit: float, cap: float = 1000.0, delay: float = 48.0) -> ProtocolSet:
    return ProtocolSet(
        name="playbook",
        roles=(Role("procurement director", escalates_to="coo"), Role("coo")),
        authority_rules=(
            AuthorityRule(
                "backup-under-48h",
                Function.PROCUREMENT,
                ActionKind.BACKUP_ACTIVATION,
                spend_limit=limit,
                hard_cap=cap,
                approver=Approver(role="procurement director"),
                escalation_delay_hours=delay,
                governance_cost=30,
            ),
        ),
        signal_rules=(
            SignalRule(
                "outage-under-48h",
                SignalType.SUPPLIER_OUTAGE,
                ("backup-under-48h",),
                Predicate(max_duration_hours=48),
            ),
        ),
    )


OUTAGE_DAY_0 = Signal("S1-down", SignalType.SUPPLIER_OUTAGE, supplier="S1", duration_hours=24, magnitude=0.0)


def test_short_outage_backup_within_authority() -> None:
    """S1 (10/day at 5) is down on day 0; demand is 10 a day for 3 days. Catching up later is
    impossible (S1 is full on days 1-2), so day 0's 10 units come from the backup: 20 + 10*6 = 80,
    within procurement's limit of 100. Losing them would cost 1000. Optimum: S1 100 + backup 80 = 180,
    no escalation, every decision act-now.
    """
    plan = solve(outage_network(), short_outage_protocols(limit=100), [OUTAGE_DAY_0])
    assert plan.objective == pytest.approx(180)
    assert spend(plan, "backup-under-48h") == pytest.approx(80)
    assert not escalated(plan, "backup-under-48h")
    assert plan.needs_approval == [] and len(plan.act_now) == 2
    assert all(d.status == AuthorityStatus.WITHIN_AUTHORITY for d in plan.decisions)
    assert all(d.signals == ("S1-down",) for d in plan.decisions)


def test_short_outage_escalation_pays() -> None:
    """Limit 50, approval by the procurement director after 48 h (from day 2), governance 30.

    Within authority: 20 + 6k <= 50 gives 5 backup units; the other 5 are lost (500), or backlogged
    and still lost: S1 100 + backup 50 + 500 = 650.
    Escalating: before day 2 spend stays <= 50 (activation + 5 units on day 0), 5 units wait two days
    (5 * 2 * 10 = 100) and the backup delivers 5 more on day 2 (30): S1 100 + backup 80 + backlog 100
    + governance 30 = 310. Activating only after the approval would backlog all 10 for two days (200):
    410. Optimum 310: escalated; day-0 activation and purchase act now, day-2 purchase needs approval.
    """
    plan = solve(outage_network(), short_outage_protocols(limit=50), [OUTAGE_DAY_0])
    assert plan.objective == pytest.approx(310)
    assert escalated(plan, "backup-under-48h")
    assert plan.escalations == ["procurement director"]
    assert plan.cost_by_component["governance"] == pytest.approx(30)
    now = {(d.period, d.unit): d.quantity for d in plan.act_now}
    later = {(d.period, d.unit): d.quantity for d in plan.needs_approval}
    assert now == pytest.approx({(-1, "activation"): 1.0, (0, "units"): 5.0})
    assert later == pytest.approx({(2, "units"): 5.0})
    assert all(d.approver == "procurement director" and d.effective_hours == 48 for d in plan.needs_approval)


def test_rule_for_short_outages_ignores_a_long_one() -> None:
    """A 48 h outage does not match the under-48 h rule; backup activation is governed, so with no
    active rule the backup stays off. S1 is out on days 0-1 and sells 10 on day 2 (50); the other 20
    units are lost (2000). Optimum 2050, no authority in play, no activation.
    """
    long_outage = Signal("S1-down", SignalType.SUPPLIER_OUTAGE, supplier="S1", duration_hours=48.0, magnitude=0.0)
    plan = solve(outage_network(), short_outage_protocols(limit=100), [long_outage])
    assert plan.authority == ()
    assert plan.objective == pytest.approx(2050)
    assert plan.activations.rows() == []


def test_escalation_required_for_feasibility() -> None:
    """A fill-rate target of 100% with free lost sales: the plan must deliver everything. Within a
    limit of 50 (approval at once) the backup gives at most 5 units while S1 is full on days 1-2, so
    without escalation no plan exists (shown with the cap equal to the limit); with a cap of 1000
    the plan escalates: S1 100 + backup 80 + backlog 0 + governance 30 = 210.
    """
    spec = outage_network(lost=0.0, backlog=0.0, fill=1.0)
    stuck = plan_network(spec, protocols=short_outage_protocols(limit=50, cap=50, delay=0), signals=[OUTAGE_DAY_0])
    assert stuck.status == SolveStatus.INFEASIBLE
    plan = solve(spec, short_outage_protocols(limit=50, delay=0), [OUTAGE_DAY_0])
    assert escalated(plan, "backup-under-48h")
    assert plan.objective == pytest.approx(210)
    assert plan.lost_sales.total() == 0


def test_hard_cap_leaves_a_reported_shortfall() -> None:
    """Limit 30, hard cap 50, approval at once. Even escalated, the backup gives (50 - 20) / 6 = 5
    units; the other 5 of day 0 are lost. Escalating: 100 + 50 + 500 + 30 = 680; staying within 30:
    1.67 units, 8.33 lost: 100 + 30 + 833.3 = 963.3. Optimum 680 with 5 units lost, spend at the cap.
    """
    plan = solve(outage_network(), short_outage_protocols(limit=30, cap=50, delay=0), [OUTAGE_DAY_0])
    assert plan.objective == pytest.approx(680)
    assert escalated(plan, "backup-under-48h")
    assert spend(plan, "backup-under-48h") == pytest.approx(50)
    assert plan.lost_sales.total() == pytest.approx(5)


# -- Protocol 2: an outage of 48 h or more; a joint procurement-production decision ---------------


def plant_network() -> NetworkSpec:
    return NetworkSpec(
        name="long-outage",
        horizon=2,
        period_hours=DAY,
        items=(Item("R"), Item("A")),
        nodes=(
            Node("S1", SUP, tier=1),
            Node("S2", SUP, tier=1),
            Node("S3", SUP, tier=2),
            Node("P", PLANT, regular_hours=4, overtime_hours=6, overtime_cost=3),
            Node("C", CUST),
        ),
        offers=(
            SupplyOffer("main", "S1", "A", unit_cost=5, capacity=10),
            SupplyOffer("backup", "S2", "A", unit_cost=6, capacity=10, backup=True, activation_cost=20),
            SupplyOffer("raw", "S3", "R", unit_cost=1),
        ),
        recipes=(Recipe("assemble", "P", "A", inputs=(("R", 1.0),), hours_per_unit=1, unit_cost=1),),
        lanes=(
            Lane("S1-C", "S1", "C", ("A",)),
            Lane("S2-C", "S2", "C", ("A",)),
            Lane("S3-P", "S3", "P", ("R",)),
            Lane("P-C", "P", "C", ("A",)),
        ),
        demands=(Demand("C", "A", (10, 10), backlog_penalty=10, lost_sale_penalty=100),),
    )


def long_outage_protocols(overtime_limit: float) -> ProtocolSet:
    joint = Approver(joint=(Function.PROCUREMENT, Function.PRODUCTION))
    return ProtocolSet(
        name="playbook",
        authority_rules=(
            AuthorityRule(
                "backup-48h-plus",
                Function.PROCUREMENT,
                ActionKind.BACKUP_ACTIVATION,
                spend_limit=0,
                hard_cap=1000,
                approver=joint,
                escalation_delay_hours=24,
                governance_cost=40,
            ),
            AuthorityRule(
                "overtime-48h-plus",
                Function.PRODUCTION,
                ActionKind.OVERTIME,
                spend_limit=overtime_limit,
                hard_cap=1000,
                approver=joint,
                escalation_delay_hours=24,
                governance_cost=40,
            ),
        ),
        signal_rules=(
            SignalRule(
                "outage-48h-plus",
                SignalType.SUPPLIER_OUTAGE,
                ("backup-48h-plus", "overtime-48h-plus"),
                Predicate(min_duration_hours=48),
            ),
        ),
    )


LONG_OUTAGE = Signal("S1-fire", SignalType.SUPPLIER_OUTAGE, supplier="S1", duration_hours=48, magnitude=0.0)


def test_long_outage_overtime_within_authority() -> None:
    """S1 is down for both days; demand 10 a day. The plant makes A from R (1 + 1 per unit) in 4
    regular hours a day (8 units: 16) and up to 6 overtime hours a day at 3 (5 per unit). Overtime
    limit 36 = 12 hours covers the other 12 units (60). The backup (limit 0) is not needed.
    Optimum 16 + 60 = 76, within authority.
    """
    plan = solve(plant_network(), long_outage_protocols(overtime_limit=36), [LONG_OUTAGE])
    assert plan.objective == pytest.approx(76)
    assert spend(plan, "overtime-48h-plus") == pytest.approx(36)
    assert plan.escalations == []
    assert plan.overtime.total("hours") == pytest.approx(12)


def test_long_outage_joint_escalation_pays_and_one_approval_covers_both() -> None:
    """Overtime limit 9 (3 hours), backup limit 0, one joint procurement-production approval after
    24 h (from day 1) with governance cost 40, charged once.

    Within authority: 8 regular + 3 overtime units; 9 of 20 lost: 16 + 15 + 900 = 931.
    Escalating: day 0 makes 4 + 3 (ot 3 h within the limit), 3 units wait a day (30); day 1 makes
    4 + 6 (ot 6 h: 30) and the backup, activated after the approval, sells 3 (20 + 18 = 38):
    8 + 15 + 8 + 30 + 38 + 30 + 40 = 169. Optimum 169; both rules escalate on one approval.
    """
    plan = solve(plant_network(), long_outage_protocols(overtime_limit=9), [LONG_OUTAGE])
    assert plan.objective == pytest.approx(169)
    assert escalated(plan, "backup-48h-plus") and escalated(plan, "overtime-48h-plus")
    assert plan.escalations == ["joint procurement-production decision"]
    assert plan.cost_by_component["governance"] == pytest.approx(40)
    assert plan.values["escalate"].sum() == pytest.approx(1.0)
    ot_now = sum(d.quantity for d in plan.act_now if d.action == ActionKind.OVERTIME)
    ot_later = sum(d.quantity for d in plan.needs_approval if d.action == ActionKind.OVERTIME)
    assert (ot_now, ot_later) == pytest.approx((3.0, 6.0))
    assert {d.action for d in plan.needs_approval} == {ActionKind.OVERTIME, ActionKind.BACKUP_ACTIVATION}
    assert all(d.effective_hours == 24 for d in plan.needs_approval)


# -- Protocol 3: a demand surge above a threshold; overtime and lateral transfers ------------------


def surge_network() -> NetworkSpec:
    return NetworkSpec(
        name="surge",
        horizon=2,
        period_hours=DAY,
        items=(Item("A"),),
        nodes=(
            Node("P", PLANT, regular_hours=10, overtime_hours=10, overtime_cost=4),
            Node("D1", DC),
            Node("D2", DC),
            Node("C1", CUST),
            Node("C2", CUST),
        ),
        recipes=(Recipe("make", "P", "A", hours_per_unit=1, unit_cost=2),),
        lanes=(
            Lane("P-D1", "P", "D1", ("A",)),
            Lane("D1-C1", "D1", "C1", ("A",)),
            Lane("D2-C2", "D2", "C2", ("A",)),
            Lane("D2-D1", "D2", "D1", ("A",), unit_cost=1),
        ),
        demands=(
            Demand("C1", "A", (10, 10), backlog_penalty=10, lost_sale_penalty=100),
            Demand("C2", "A", (5, 5), backlog_penalty=10, lost_sale_penalty=100),
        ),
        stocks=(Stock("D2", "A", on_hand=20),),
    )


def surge_protocols(lateral_limit: float) -> ProtocolSet:
    return ProtocolSet(
        name="playbook",
        roles=(Role("plant manager"), Role("inventory manager")),
        authority_rules=(
            AuthorityRule(
                "surge-overtime",
                Function.PRODUCTION,
                ActionKind.OVERTIME,
                spend_limit=0,
                hard_cap=100,
                approver=Approver(role="plant manager"),
                escalation_delay_hours=24,
                governance_cost=10,
            ),
            AuthorityRule(
                "surge-lateral",
                Function.INVENTORY,
                ActionKind.LATERAL_TRANSFER,
                spend_limit=lateral_limit,
                hard_cap=100,
                approver=Approver(role="inventory manager"),
                escalation_delay_hours=24,
                governance_cost=10,
            ),
        ),
        signal_rules=(
            SignalRule(
                "surge-over-20pct",
                SignalType.DEMAND_CHANGE,
                ("surge-overtime", "surge-lateral"),
                Predicate(min_magnitude=1.2),
            ),
        ),
    )


SURGE = Signal("C1-surge", SignalType.DEMAND_CHANGE, customer="C1", duration_hours=48, magnitude=1.5)


def test_surge_lateral_transfer_within_authority() -> None:
    """C1's demand rises by half to 15 a day. The plant makes 10 a day at 2 (40); D2 holds 20 and
    needs 10 for C2, so 10 spare units can cross to D1 at 1 each (10), within the lateral limit of
    20; overtime would cost 6 a unit. Optimum 40 + 10 = 50, within authority, no overtime.
    """
    plan = solve(surge_network(), surge_protocols(lateral_limit=20), [SURGE])
    assert plan.objective == pytest.approx(50)
    assert spend(plan, "surge-lateral") == pytest.approx(10)
    assert plan.escalations == [] and len(plan.overtime) == 0


def test_surge_escalating_the_lateral_transfer_pays() -> None:
    """Lateral limit 4, approval after 24 h (day 1), governance 10; overtime needs approval too.

    Within authority: 4 units cross, 6 are lost: 40 + 4 + 600 = 644.
    Escalating the transfer: 4 cross on day 0, 1 unit waits a day (10), 6 cross on day 1:
    40 + 10 + 10 + 10 = 70. Overtime could only start on day 1 and costs 6 a unit: not used.
    Optimum 70, escalated to the inventory manager only.
    """
    plan = solve(surge_network(), surge_protocols(lateral_limit=4), [SURGE])
    assert plan.objective == pytest.approx(70)
    assert plan.escalations == ["inventory manager"]
    assert not escalated(plan, "surge-overtime")
    lateral = {(d.period, d.status): d.quantity for d in plan.decisions if d.action == ActionKind.LATERAL_TRANSFER}
    assert lateral == pytest.approx({(0, AuthorityStatus.WITHIN_AUTHORITY): 4.0, (1, AuthorityStatus.ESCALATED): 6.0})


def test_small_surge_below_threshold_leaves_protocol_inactive() -> None:
    """A 10% rise (below the 20% threshold) activates nothing: overtime and lateral transfers are
    governed, so both stay off. C1 asks 11 a day, the plant makes 10: 1 lost a day (or backlogged
    and lost). Optimum 40 + 200 = 240.
    """
    small = Signal("C1-up", SignalType.DEMAND_CHANGE, customer="C1", duration_hours=48, magnitude=1.1)
    plan = solve(surge_network(), surge_protocols(lateral_limit=20), [small])
    assert plan.authority == ()
    assert plan.objective == pytest.approx(240)


def test_item_scope_covers_trucks_only_on_lanes_carrying_the_item() -> None:
    """Two trucked air lanes, one per item; an expedite rule scoped to item A covers the A lane's
    shipments and trucks, and nothing of the B lane (which a standing unscoped rule then takes)."""
    from models.allocation import build_model
    from models.network import Network
    from models.protocols import assign_columns, resolve_authority

    spec = NetworkSpec(
        name="scopes",
        horizon=1,
        items=(Item("A"), Item("B")),
        nodes=(Node("S", SUP, tier=1), Node("C", CUST)),
        offers=(SupplyOffer("a", "S", "A"), SupplyOffer("b", "S", "B")),
        lanes=(
            Lane("air-A", "S", "C", ("A",), truck_size=5, truck_cost=10, expedited=True),
            Lane("air-B", "S", "C", ("B",), truck_size=5, truck_cost=10, expedited=True),
        ),
        demands=(Demand("C", "A", (5,)), Demand("C", "B", (5,))),
    )

    def freight(rule_id: str, items: tuple[str, ...]) -> AuthorityRule:
        return AuthorityRule(
            rule_id,
            Function.LOGISTICS,
            ActionKind.EXPEDITED_FREIGHT,
            spend_limit=10,
            hard_cap=100,
            approver=Approver("boss"),
            standing=True,
            items=items,
        )

    protocols = ProtocolSet(
        name="scopes", roles=(Role("boss"),), authority_rules=(freight("A-only", ("A",)), freight("any", ()))
    )
    net = Network.from_spec(spec)
    groups = resolve_authority(protocols, net, [])
    lp = build_model(net, protocols, groups)
    assigned, unauthorized = assign_columns(groups, lp.variables, net, protocols.governed())
    resources = {gc.group.rule.id: sorted(set(gc.columns.resource.tolist())) for gc in assigned}
    assert resources == {"A-only": ["air-A"], "any": ["air-B"]}
    assert len(unauthorized) == 0
