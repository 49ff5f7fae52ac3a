"""Writes the bundled demo protocol set and signals (solver/data/demo_protocols.json and
demo_signals.json): the three protocols of the orchestration playbook. Run from the repository root.
"""

from __future__ import annotations

from models.protocols import (
    ActionKind,
    Approver,
    AuthorityRule,
    Function,
    Predicate,
    ProtocolSet,
    Role,
    SignalRule,
)
from models.signals import Signal, SignalType
from solver.convert import write_protocols, write_signals

joint = Approver(joint=(Function.PROCUREMENT, Function.PRODUCTION))
ps = ProtocolSet(
    name="orchestration-playbook",
    roles=(
        Role("procurement-director", escalates_to="coo"),
        Role("plant-manager", escalates_to="coo"),
        Role("inventory-manager", escalates_to="coo"),
        Role("logistics-director", escalates_to="coo"),
        Role("coo"),
    ),
    authority_rules=(
        AuthorityRule(
            "backup-under-48h",
            Function.PROCUREMENT,
            ActionKind.BACKUP_ACTIVATION,
            spend_limit=15000,
            hard_cap=60000,
            approver=Approver(role="procurement-director"),
            escalation_delay_hours=24,
            governance_cost=500,
        ),
        AuthorityRule(
            "backup-48h-plus",
            Function.PROCUREMENT,
            ActionKind.BACKUP_ACTIVATION,
            spend_limit=5000,
            hard_cap=150000,
            approver=joint,
            escalation_delay_hours=72,
            governance_cost=2500,
        ),
        AuthorityRule(
            "overtime-48h-plus",
            Function.PRODUCTION,
            ActionKind.OVERTIME,
            spend_limit=3000,
            hard_cap=40000,
            approver=joint,
            escalation_delay_hours=72,
            governance_cost=2500,
        ),
        AuthorityRule(
            "overtime-standing",
            Function.PRODUCTION,
            ActionKind.OVERTIME,
            spend_limit=2000,
            hard_cap=2000,
            approver=Approver(role="plant-manager"),
            standing=True,
        ),
        AuthorityRule(
            "surge-overtime",
            Function.PRODUCTION,
            ActionKind.OVERTIME,
            spend_limit=6000,
            hard_cap=30000,
            approver=Approver(role="plant-manager"),
            escalation_delay_hours=24,
            governance_cost=800,
        ),
        AuthorityRule(
            "surge-lateral",
            Function.INVENTORY,
            ActionKind.LATERAL_TRANSFER,
            spend_limit=4000,
            hard_cap=20000,
            approver=Approver(role="inventory-manager"),
            escalation_delay_hours=12,
            governance_cost=400,
        ),
        AuthorityRule(
            "expedite-standing",
            Function.LOGISTICS,
            ActionKind.EXPEDITED_FREIGHT,
            spend_limit=5000,
            hard_cap=25000,
            approver=Approver(role="logistics-director"),
            standing=True,
            escalation_delay_hours=24,
            governance_cost=600,
        ),
    ),
    signal_rules=(
        SignalRule(
            "supplier-outage-under-48h",
            SignalType.SUPPLIER_OUTAGE,
            ("backup-under-48h",),
            Predicate(max_duration_hours=48),
        ),
        SignalRule(
            "supplier-outage-48h-plus",
            SignalType.SUPPLIER_OUTAGE,
            ("backup-48h-plus", "overtime-48h-plus"),
            Predicate(min_duration_hours=48),
        ),
        SignalRule(
            "demand-surge-over-20pct",
            SignalType.DEMAND_CHANGE,
            ("surge-overtime", "surge-lateral"),
            Predicate(min_magnitude=1.2),
        ),
    ),
)
write_protocols(ps, "solver/data/demo_protocols.json")
# The demo's disruption: the copper line at the steel mill burns down for two weeks; the backup
# copper offer needs a joint procurement-production decision.
write_signals(
    [
        Signal(
            "copper-line-fire",
            SignalType.SUPPLIER_OUTAGE,
            supplier="S2-steel",
            item="copper",
            detected_hours=0,
            start_hours=0,
            duration_hours=336,
            magnitude=0.0,
        )
    ],
    "solver/data/demo_signals.json",
)
