"""Per-period capacities: the long forms (a list per period, a calendar of dated exceptions) compile
to the same (entity, H) arrays and the same model as the constants they spell out, survive protobuf
and JSON, are validated naming the entity, field and period, and signals still apply on top.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from benchmarks.generator import generate
from models.allocation import build_model
from models.builder import LinearProgram
from models.errors import ValidationError
from models.network import Calendar, CalendarException, Network, NetworkSpec, PerPeriod
from models.signals import Signal, SignalType, apply_signals
from solver._proto.concerto.v1 import network_pb2
from solver.convert import network_json, network_to_spec, parse_network_json, spec_to_network
from tests.random_networks import random_calendar_network, random_network


def _spelled_out(spec: NetworkSpec, long_form: str) -> NetworkSpec:
    """Every capacity of `spec` written in a long form with the same values: "list" (one value per
    period) or "calendar" (the constant as base, with an exception restating it in period 0)."""
    H = spec.horizon

    def spell(value: PerPeriod) -> PerPeriod:
        assert isinstance(value, float)
        if long_form == "list":
            return tuple([value] * H)
        return Calendar(value, (CalendarException(0, 1, value),))

    return dataclasses.replace(
        spec,
        nodes=tuple(
            dataclasses.replace(
                n,
                storage_capacity=spell(n.storage_capacity),
                regular_hours=spell(n.regular_hours),
                overtime_hours=spell(n.overtime_hours),
            )
            for n in spec.nodes
        ),
        offers=tuple(dataclasses.replace(o, capacity=spell(o.capacity)) for o in spec.offers),
        recipes=tuple(dataclasses.replace(r, max_rate=spell(r.max_rate)) for r in spec.recipes),
        lanes=tuple(dataclasses.replace(ln, capacity=spell(ln.capacity)) for ln in spec.lanes),
    )


def _assert_identical(a: LinearProgram, b: LinearProgram) -> None:
    """The same matrix, bounds, costs, integrality and blocks, entry for entry (no tolerance)."""
    assert a.A.shape == b.A.shape and (a.A != b.A).nnz == 0
    for name in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.offset == b.offset
    assert list(a.variables) == list(b.variables) and list(a.constraints) == list(b.constraints)
    for name, blk in a.constraints.items():
        assert (blk.start, blk.shape) == (b.constraints[name].start, b.constraints[name].shape), name


SPECS = [("random", seed) for seed in range(8)] + [("generated", 0), ("generated", 1)]


@pytest.mark.parametrize(("source", "seed"), SPECS)
@pytest.mark.parametrize("long_form", ["list", "calendar"])
def test_a_constants_only_network_builds_the_same_model_in_either_form(source: str, seed: int, long_form: str) -> None:
    """The short form (constants) and a long form restating the same values give the same arrays
    and the identical LP: the constants-only path is the long form's special case."""
    spec = random_network(seed) if source == "random" else generate("S", seed)
    short, long = Network.from_spec(spec), Network.from_spec(_spelled_out(spec, long_form))
    for name in (
        "node_storage",
        "node_regular_hours",
        "node_overtime_hours",
        "offer_capacity",
        "recipe_max_rate",
        "lane_capacity",
    ):
        assert getattr(short, name).shape == (getattr(short, name).shape[0], spec.horizon), name
        assert np.array_equal(getattr(short, name), getattr(long, name)), name
    _assert_identical(build_model(short), build_model(long))


def test_a_calendar_replaces_its_base_in_the_dated_periods_only() -> None:
    spec = random_network(3)
    H = spec.horizon
    plant = next(n for n in spec.nodes if isinstance(n.regular_hours, float) and math.isfinite(n.regular_hours))
    shutdown = Calendar(40.0, (CalendarException(1, H, 0.0),))
    listed = tuple(float(t) for t in range(H))
    changed = dataclasses.replace(
        spec,
        nodes=tuple(
            dataclasses.replace(n, regular_hours=shutdown, storage_capacity=listed) if n.id == plant.id else n
            for n in spec.nodes
        ),
    )
    net = Network.from_spec(changed)
    k = net.nodes_by_id[plant.id]
    assert net.node_regular_hours[k].tolist() == [40.0] + [0.0] * (H - 1)
    assert net.node_storage[k].tolist() == list(listed)


@pytest.mark.parametrize(
    ("value", "field", "words"),
    [
        ((1.0, 2.0), "regular_hours", "has 2 periods; a per-period list gives one value for each of the 3"),
        ((1.0, -2.0, 3.0), "regular_hours[1]", "is -2.0 in period 1; it must be a number >= 0"),
        ((1.0, math.nan, 3.0), "regular_hours[1]", "is nan in period 1"),
        (Calendar(10.0, (CalendarException(1, 4, 0.0),)), "regular_hours.exceptions[0]", "covers periods 1 to 4"),
        (Calendar(10.0, (CalendarException(2, 2, 0.0),)), "regular_hours.exceptions[0]", "start_period < end_period"),
        (
            Calendar(10.0, (CalendarException(0, 2, 0.0), CalendarException(1, 3, 5.0))),
            "regular_hours.exceptions[1]",
            "overlaps an earlier exception in period 1",
        ),
        (Calendar(10.0, (CalendarException(0, 1, -1.0),)), "regular_hours.exceptions[0].value", "is -1.0"),
        (Calendar(-1.0, ()), "regular_hours.base", "is -1.0"),
    ],
)
def test_a_bad_long_form_names_the_node_field_and_period(value: PerPeriod, field: str, words: str) -> None:
    spec = dataclasses.replace(random_network(1), horizon=3)
    plant = spec.nodes[-1]
    bad = dataclasses.replace(
        spec, nodes=tuple(dataclasses.replace(n, regular_hours=value) if n is plant else n for n in spec.nodes)
    )
    with pytest.raises(ValidationError) as caught:
        Network.from_spec(bad)
    error = next(e for e in caught.value.each() if e.field == field)
    assert (error.entity, error.ident) == ("node", plant.id)
    assert words in error.message, error.message


def test_an_offer_with_a_minimum_order_needs_a_finite_capacity_in_every_period() -> None:
    spec = random_network(1)
    offer = next(o for o in spec.offers if o.min_order > 0)
    H = spec.horizon
    holes = tuple([offer.capacity] * (H - 1) + [math.inf])
    bad = dataclasses.replace(
        spec, offers=tuple(dataclasses.replace(o, capacity=holes) if o is offer else o for o in spec.offers)
    )
    with pytest.raises(ValidationError) as caught:
        Network.from_spec(bad)
    error = next(e for e in caught.value.each() if e.ident == offer.id)
    assert error.field == "capacity" and f"period {H - 1}" in error.message


@pytest.mark.parametrize("seed", range(6))
def test_long_forms_survive_protobuf_and_json(seed: int) -> None:
    spec = random_calendar_network(seed)
    assert network_to_spec(spec_to_network(spec)) == spec
    assert parse_network_json(network_json(spec)) == spec


def test_the_proto_long_form_takes_values_or_exceptions_not_both() -> None:
    msg = spec_to_network(random_network(2))
    msg.nodes[-1].regular_hours_by_period.values.extend([1.0] * msg.horizon)
    msg.nodes[-1].regular_hours_by_period.exceptions.add(start_period=0, end_period=1, value=2.0)
    with pytest.raises(ValidationError) as caught:
        network_to_spec(msg)
    assert caught.value.field == "regular_hours_by_period" and "both" in caught.value.message
    msg = spec_to_network(random_network(2))
    node = next(n for n in msg.nodes if n.HasField("regular_hours"))
    node.regular_hours_by_period.values.extend([1.0] * msg.horizon)
    with pytest.raises(ValidationError, match="regular_hours must be left unset"):
        network_to_spec(msg)


def test_calendar_json_reads_as_a_user_writes_it() -> None:
    """The JSON a user writes: a constant and its dated exceptions, or a list per period."""
    msg = spec_to_network(random_network(2))
    text = network_json(network_to_spec(msg))
    assert "by_period" not in text
    node = next(n for n in msg.nodes if n.HasField("regular_hours"))
    node.regular_hours_by_period.exceptions.add(start_period=1, end_period=msg.horizon, value=0.0)
    spec = network_to_spec(network_pb2.Network.FromString(msg.SerializeToString()))
    written = next(n for n in spec.nodes if n.id == node.id)
    assert written.regular_hours == Calendar(node.regular_hours, (CalendarException(1, msg.horizon, 0.0),))
    assert '"regular_hours_by_period"' in network_json(spec)


def test_signals_apply_on_top_of_a_calendar() -> None:
    """A capacity loss halving a plant's hours in every period scales the calendar's values."""
    spec = random_calendar_network(0)
    net = Network.from_spec(spec)
    plant = int(np.flatnonzero(np.isfinite(net.node_regular_hours).all(axis=1) & (net.node_role == 2))[0])
    loss = Signal("loss", SignalType.CAPACITY_LOSS, node=net.node_ids[plant], magnitude=0.5)
    hit = apply_signals(net, [loss])
    assert np.allclose(hit.node_regular_hours[plant], 0.5 * net.node_regular_hours[plant])
