"""The use cases behind the CLI and the service: validate a network, build its model, solve it
with a backend, and read the plan off the solution.
"""

from __future__ import annotations

import time

from models.allocation import build_model
from models.builder import LinearProgram
from models.network import Network, NetworkSpec
from models.plan import Plan, extract_plan
from solver.backends.base import SolverBackend
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions


def compile_model(spec: NetworkSpec) -> tuple[Network, LinearProgram, float]:
    """Validate and compile a network and build its model; returns the build time in seconds too."""
    start = time.perf_counter()
    net = Network.from_spec(spec)
    lp = build_model(net)
    return net, lp, time.perf_counter() - start


def plan_network(
    spec: NetworkSpec, options: SolveOptions | None = None, *, backend: SolverBackend | None = None
) -> Plan:
    """Plan a whole network in one coordinated MILP. Invalid input raises `ValidationError` before
    anything is solved; infeasible and time-limited solves come back as plans with that status."""
    net, lp, build_seconds = compile_model(spec)
    solution = (backend or HighsBackend()).solve(lp, options or SolveOptions())
    return extract_plan(net, lp, solution, build_seconds=build_seconds)
