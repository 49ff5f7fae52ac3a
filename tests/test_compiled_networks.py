"""`solver.planner.CompiledNetworks`: a network compiled once per spec, and never a stale one."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from models.errors import ValidationError
from models.network import Demand, Network
from solver.planner import CompiledNetworks, compile_model
from tests.test_known_answers import truck_network


def test_an_equal_spec_gets_the_network_compiled_for_it() -> None:
    """The spec a worker unpickles is a new object equal to the last one: the same network comes
    back, and it is what compiling the spec gives."""
    cache = CompiledNetworks()
    spec = truck_network()
    first = cache.get(spec)
    again = cache.get(pickle.loads(pickle.dumps(spec)))
    assert again is first
    fresh = Network.from_spec(spec)
    assert (first.demand_qty == fresh.demand_qty).all() and first.node_ids == fresh.node_ids


def test_a_changed_spec_is_compiled_afresh_and_the_oldest_is_dropped() -> None:
    """Demand 30 instead of the truck network's: another network, with the new quantity. With
    room for two, a third spec drops the least recently used one."""
    cache = CompiledNetworks(capacity=2)
    spec = truck_network()
    demand = spec.demands[0]
    changed = dataclasses.replace(spec, demands=(dataclasses.replace(demand, quantity=(30.0,)), *spec.demands[1:]))
    a, b = cache.get(spec), cache.get(changed)
    assert a is not b and b.demand_qty[0, 0] == 30.0 and a.demand_qty[0, 0] != 30.0
    cache.get(spec)  # spec is now the most recent
    third = dataclasses.replace(spec, name="third")
    cache.get(third)
    assert len(cache) == 2
    assert cache.get(spec) is a  # kept
    assert cache.get(changed) is not b  # dropped, compiled again


def test_a_compiled_network_cannot_be_changed_in_place() -> None:
    """What makes sharing safe: every array of a compiled network is read-only."""
    net = CompiledNetworks().get(truck_network())
    with pytest.raises(ValueError, match="read-only"):
        net.demand_qty[0, 0] = 1.0


def test_an_invalid_spec_raises_every_time_and_is_not_kept() -> None:
    cache = CompiledNetworks()
    spec = truck_network()
    bad = dataclasses.replace(spec, demands=(Demand("nowhere", "A", (1.0,)),))
    for _ in range(2):
        with pytest.raises(ValidationError):
            cache.get(bad)
    assert len(cache) == 0


def test_compile_model_builds_the_same_model_from_a_kept_network() -> None:
    """The process's cache (`COMPILED_NETWORKS`) serves the second compile: the same network
    object, and the same model built from it."""
    spec = dataclasses.replace(truck_network(), name="compiled twice")
    first, again = compile_model(spec), compile_model(pickle.loads(pickle.dumps(spec)))
    assert again.net is first.net and first.lp.n_cols == again.lp.n_cols
    assert (first.lp.c == again.lp.c).all() and (first.lp.A != again.lp.A).nnz == 0
