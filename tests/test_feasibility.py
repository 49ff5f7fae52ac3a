"""The independent feasibility checker on random networks with protocols and signals: every
optimal plan passes it, and a plan broken on purpose does not."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from models.feasibility import check_plan
from models.plan import Table
from solver.options import SolveOptions
from solver.planner import plan_network
from tests.random_networks import random_protocol_network, random_protocols


@pytest.mark.parametrize("seed", [*range(12), 33, 39, 45, 63])
def test_every_random_protocol_plan_passes_the_checker(seed: int) -> None:
    spec = random_protocol_network(seed)
    protocols, signals = random_protocols(seed, spec)
    plan = plan_network(spec, SolveOptions(mip_rel_gap=1e-9), protocols=protocols, signals=signals)
    assert plan.has_solution
    violations = check_plan(spec, plan, protocols=protocols, signals=signals)
    assert not violations, "\n".join(map(str, violations))


def test_a_plan_with_a_shipment_removed_fails_the_checker() -> None:
    """Dropping one shipment row breaks a flow or demand balance, and the checker says so."""
    spec = random_protocol_network(1)
    protocols, signals = random_protocols(1, spec)
    plan = plan_network(spec, SolveOptions(mip_rel_gap=1e-9), protocols=protocols, signals=signals)
    rows = plan.shipments.columns
    keep = np.arange(len(plan.shipments)) != int(np.argmax(rows["quantity"]))
    broken = replace(plan, shipments=Table({name: col[keep] for name, col in rows.items()}))
    families = {v.family for v in check_plan(spec, broken, protocols=protocols, signals=signals)}
    assert families & {"flow balance", "demand balance"}
