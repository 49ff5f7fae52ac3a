"""The use cases behind the CLI and the service: validate a network, build its model, solve it
with a backend, and read the plan off the solution.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from models.allocation import build_model
from models.builder import LinearProgram
from models.network import Network, NetworkSpec
from models.plan import Plan, extract_plan
from models.protocols import AuthorityGroup, ProtocolSet, resolve_authority
from models.signals import Signal, apply_signals
from solver.backends.base import SolverBackend
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions


def compile_model(
    spec: NetworkSpec, protocols: ProtocolSet | None = None, signals: Sequence[Signal] = ()
) -> CompiledModel:
    """Validate the network, apply the signals, resolve the active authority and build the model."""
    start = time.perf_counter()
    net = apply_signals(Network.from_spec(spec), signals) if signals else Network.from_spec(spec)
    groups = resolve_authority(protocols, net, signals) if protocols is not None else []
    lp = build_model(net, protocols, groups)
    return CompiledModel(net, lp, protocols, tuple(groups), time.perf_counter() - start)


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """A network as the signals leave it, its active authority groups and its model."""

    net: Network
    lp: LinearProgram
    protocols: ProtocolSet | None
    groups: tuple[AuthorityGroup, ...]
    build_seconds: float


def plan_network(
    spec: NetworkSpec,
    options: SolveOptions | None = None,
    *,
    protocols: ProtocolSet | None = None,
    signals: Sequence[Signal] = (),
    backend: SolverBackend | None = None,
) -> Plan:
    """Plan a whole network in one coordinated MILP, under its decision protocols and the signals
    detected. Invalid input raises `ValidationError` before anything is solved; infeasible and
    time-limited solves come back as plans with that status."""
    model = compile_model(spec, protocols, signals)
    solution = (backend or HighsBackend()).solve(model.lp, options or SolveOptions())
    return extract_plan(
        model.net,
        model.lp,
        solution,
        build_seconds=model.build_seconds,
        protocols=protocols,
        groups=model.groups,
    )
