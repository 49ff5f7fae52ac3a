"""Properties of the allocation model builder that hold for every valid network hypothesis draws:
consistent shapes and blocks, a clean matrix, costs that add up, and balance rows a hand-made flow meets.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.allocation import build_model
from models.builder import LinearProgram
from models.errors import ValidationError
from models.network import (
    Demand,
    InTransit,
    Item,
    Lane,
    Network,
    NetworkSpec,
    Node,
    NodeRole,
    Recipe,
    ServiceTarget,
    Stock,
    SupplyOffer,
)
from models.solution import SolveStatus
from solver.backends.highs import HighsBackend
from solver.options import SolveOptions

PROPERTY = settings(max_examples=40, deadline=None)

costs = st.floats(0.0, 50.0)
amounts = st.floats(0.0, 100.0)
capacities = st.one_of(st.just(math.inf), st.floats(0.0, 200.0))


def _subset(draw: st.DrawFn, pool: list[str]) -> tuple[str, ...]:
    """A non-empty subset of `pool`, in drawn order."""
    return tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique=True)))


@st.composite
def networks(draw: st.DrawFn) -> NetworkSpec:
    """A small random valid network: 1-4 periods, 1-3 items, suppliers of both tiers, plants with
    recipes whose inputs are lower-numbered items (so the bill of materials is acyclic), DCs and
    customer zones, lanes with lead times inside the horizon, and every optional feature drawn on
    or off: trucks, backups, minimum orders, setups, overtime, storage and working-capital caps,
    safety stock, in-transit receipts, service targets and single sourcing.
    """
    H = draw(st.integers(1, 4))
    item_ids = [f"i{k}" for k in range(draw(st.integers(1, 3)))]
    items = tuple(Item(i, unit_value=draw(costs), holding_cost=draw(costs)) for i in item_ids)

    suppliers = [
        Node(f"S{k}", NodeRole.SUPPLIER, tier=draw(st.sampled_from((1, 2)))) for k in range(draw(st.integers(1, 2)))
    ]
    plants = [
        Node(
            f"P{k}",
            NodeRole.PLANT,
            storage_capacity=draw(capacities),
            regular_hours=draw(capacities),
            overtime_hours=draw(st.floats(0.0, 20.0)),
            overtime_cost=draw(costs),
        )
        for k in range(draw(st.integers(0, 2)))
    ]
    dcs = [Node(f"D{k}", NodeRole.DC, storage_capacity=draw(capacities)) for k in range(draw(st.integers(0, 2)))]
    customers = [Node(f"C{k}", NodeRole.CUSTOMER) for k in range(draw(st.integers(1, 2)))]
    stocking = [n.id for n in (*suppliers, *plants, *dcs)]
    all_nodes = [*stocking, *(c.id for c in customers)]

    offers: list[SupplyOffer] = []
    for s in suppliers:
        for _ in range(draw(st.integers(0, 2))):
            capacity = draw(capacities)
            finite = math.isfinite(capacity)
            min_order = draw(st.floats(0.0, capacity)) if finite and draw(st.booleans()) else 0.0
            offers.append(
                SupplyOffer(
                    f"O{len(offers)}",
                    s.id,
                    draw(st.sampled_from(item_ids)),
                    unit_cost=draw(costs),
                    capacity=capacity,
                    min_order=min_order,
                    backup=finite and draw(st.booleans()),
                    activation_cost=draw(costs),
                )
            )

    makers = [p.id for p in plants] + [s.id for s in suppliers if s.tier == 1]
    recipes: list[Recipe] = []
    for maker in makers:
        for _ in range(draw(st.integers(0, 2))):
            out = draw(st.integers(0, len(item_ids) - 1))
            inputs = draw(st.lists(st.integers(0, out - 1), max_size=2, unique=True)) if out else []
            setup_cost = draw(st.one_of(st.just(0.0), st.floats(1.0, 100.0)))
            recipes.append(
                Recipe(
                    f"R{len(recipes)}",
                    maker,
                    item_ids[out],
                    inputs=tuple((item_ids[k], draw(st.floats(0.1, 3.0))) for k in inputs),
                    hours_per_unit=draw(st.floats(0.0, 2.0)),
                    unit_cost=draw(costs),
                    setup_cost=setup_cost,
                    max_rate=draw(st.floats(0.0, 200.0)) if setup_cost > 0 else draw(capacities),
                )
            )

    demanded = {c.id: _subset(draw, item_ids) for c in customers}
    lanes: list[Lane] = []
    for _ in range(draw(st.integers(0, 5))):
        origin = draw(st.sampled_from(stocking))
        destination = draw(st.sampled_from([n for n in all_nodes if n != origin]))
        truck = draw(st.booleans())
        lanes.append(
            Lane(
                f"L{len(lanes)}",
                origin,
                destination,
                _subset(draw, list(demanded.get(destination, item_ids))),
                lead_time=draw(st.integers(0, H - 1)),
                unit_cost=draw(costs),
                capacity=draw(capacities),
                truck_size=draw(st.floats(1.0, 50.0)) if truck else 0.0,
                truck_cost=draw(st.floats(0.1, 50.0)) if truck else 0.0,
            )
        )
    inbound = {(ln.destination, i) for ln in lanes for i in ln.items}
    demands = tuple(
        Demand(
            c,
            i,
            tuple(draw(st.lists(amounts, min_size=1, max_size=H))),
            price=draw(costs),
            priority=draw(st.integers(1, 2)),
            backlog_penalty=draw(costs),
            lost_sale_penalty=draw(costs),
            single_source=(c, i) in inbound and draw(st.booleans()),
        )
        for c, wanted in demanded.items()
        for i in wanted
    )

    pairs = [(n, i) for n in stocking for i in item_ids]
    stocks = tuple(
        Stock(
            n,
            i,
            on_hand=draw(amounts),
            safety_stock=draw(st.sampled_from((0.0, 5.0, 20.0))),
            safety_penalty=draw(costs),
        )
        for n, i in draw(st.lists(st.sampled_from(pairs), max_size=3, unique=True))
    )
    in_transit = tuple(
        InTransit(n, i, draw(st.integers(0, H - 1)), draw(amounts))
        for n, i in draw(st.lists(st.sampled_from(pairs), max_size=2))
    )
    service_targets = tuple(
        ServiceTarget(p, draw(st.floats(0.0, 1.0))) for p in draw(st.lists(st.sampled_from((1, 2)), unique=True))
    )
    return NetworkSpec(
        name="drawn",
        horizon=H,
        items=items,
        nodes=(*suppliers, *plants, *dcs, *customers),
        offers=tuple(offers),
        recipes=tuple(recipes),
        lanes=tuple(lanes),
        demands=demands,
        stocks=stocks,
        in_transit=in_transit,
        service_targets=service_targets,
        working_capital_cap=draw(st.one_of(st.just(math.inf), st.floats(0.0, 10_000.0))),
    )


def _model(spec: NetworkSpec) -> LinearProgram:
    return build_model(Network.from_spec(spec))


# -- structure --------------------------------------------------------------------------------


@PROPERTY
@given(networks())
def test_array_shapes_agree(spec: NetworkSpec) -> None:
    lp = _model(spec)
    assert len(lp.c) == lp.n_cols == lp.A.shape[1]
    assert len(lp.col_lower) == len(lp.col_upper) == len(lp.integrality) == lp.n_cols
    assert len(lp.row_lower) == len(lp.row_upper) == lp.A.shape[0] == lp.n_rows
    assert lp.integrality.dtype == np.bool_


@PROPERTY
@given(networks())
def test_matrix_and_bounds_are_clean(spec: NetworkSpec) -> None:
    """No explicit zeros, no NaN, no infinite coefficient, and every bound interval is non-empty."""
    lp = _model(spec)
    assert (lp.A.data != 0).all()
    assert np.isfinite(lp.A.data).all()
    assert np.isfinite(lp.c).all() and math.isfinite(lp.offset)
    for bounds in (lp.row_lower, lp.row_upper, lp.col_lower, lp.col_upper):
        assert not np.isnan(bounds).any()
    assert (lp.row_lower <= lp.row_upper).all()
    assert (lp.col_lower <= lp.col_upper).all()
    assert (lp.col_lower > -np.inf).all() and (lp.row_lower < np.inf).all() and (lp.row_upper > -np.inf).all()


@PROPERTY
@given(networks())
def test_no_column_floats_free(spec: NetworkSpec) -> None:
    """A column in no row must be bounded above or cost nothing, or the model could be unbounded."""
    lp = _model(spec)
    in_some_row = np.bincount(lp.A.indices, minlength=lp.n_cols) > 0
    floating = ~in_some_row & ~np.isfinite(lp.col_upper) & (lp.c != 0)
    names = np.asarray(lp.column_names(), dtype=object)
    assert not floating.any(), list(names[floating])


def _tiles(blocks: list[tuple[int, int]], total: int) -> bool:
    """Whether the (start, size) blocks cover [0, total) exactly, each once, with no gap."""
    end = 0
    for start, size in sorted(blocks):
        if start != end or size < 0:
            return False
        end = start + size
    return end == total


@PROPERTY
@given(networks())
def test_blocks_tile_columns_and_rows(spec: NetworkSpec) -> None:
    lp = _model(spec)
    assert _tiles([(b.start, b.size) for b in lp.variables.values()], lp.n_cols)
    assert _tiles([(b.start, b.size) for b in lp.constraints.values()], lp.n_rows)
    for name, blk in lp.variables.items():
        assert blk.name == name
        assert len(blk.axes) == len(blk.shape) and all(len(ax.labels) == n for ax, n in zip(blk.axes, blk.shape))
    for name, con in lp.constraints.items():
        assert con.name == name
        assert len(con.axes) == len(con.shape) and all(len(ax.labels) == n for ax, n in zip(con.axes, con.shape))


@PROPERTY
@given(networks())
def test_integer_columns_belong_to_integer_blocks(spec: NetworkSpec) -> None:
    lp = _model(spec)
    marked = np.zeros(lp.n_cols, dtype=bool)
    for blk in lp.variables.values():
        marked[blk.slice] = blk.integer
    assert (lp.integrality == marked).all()
    assert lp.n_integer == int(marked.sum())


@PROPERTY
@given(networks(), st.integers(0, 2**32 - 1))
def test_cost_components_sum_to_the_objective(spec: NetworkSpec, seed: int) -> None:
    lp = _model(spec)
    x = np.random.default_rng(seed).uniform(0.0, 10.0, lp.n_cols)
    parts = lp.cost_by_component(x)
    total = float(lp.c @ x) + lp.offset
    assert math.isclose(sum(parts.values()), total, rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(lp.objective(x), total, rel_tol=1e-12, abs_tol=1e-9)
    for term in lp.cost_terms:
        assert len(term.columns) == len(term.coefficients)
        assert ((term.columns >= 0) & (term.columns < lp.n_cols)).all()


@PROPERTY
@given(networks())
def test_column_and_row_names_are_unique_and_start_with_their_block(spec: NetworkSpec) -> None:
    lp = _model(spec)
    columns, rows = lp.column_names(), lp.row_names()
    assert len(set(columns)) == len(columns) == lp.n_cols
    assert len(set(rows)) == len(rows) == lp.n_rows
    for blk in lp.variables.values():
        assert all(name.startswith(f"{blk.name}[") for name in columns[blk.slice])
    for con in lp.constraints.values():
        assert all(name.startswith(f"{con.name}[") for name in rows[con.slice])


def test_names_stay_unique_when_ids_contain_the_separator() -> None:
    """Either validation rejects an id with the separator, or the names keep the streams apart."""
    spec = NetworkSpec(
        "slash",
        1,
        items=(Item("c"), Item("b/c")),
        nodes=(Node("a/b", NodeRole.CUSTOMER), Node("a", NodeRole.CUSTOMER)),
        demands=(Demand("a/b", "c", (1.0,)), Demand("a", "b/c", (2.0,))),
    )
    try:
        lp = _model(spec)
    except ValidationError:
        return
    assert len(set(lp.column_names())) == lp.n_cols
    assert len(set(lp.row_names())) == lp.n_rows


# -- a hand-made feasible flow ------------------------------------------------------------------


@st.composite
def chains(draw: st.DrawFn) -> NetworkSpec:
    """Supplier -> DC -> customer with random lead times, horizon and demand; nothing on hand, and
    an outbound capacity (if any) no smaller than the largest demand."""
    H = draw(st.integers(1, 6))
    demand = tuple(draw(st.lists(st.floats(0.0, 100.0), min_size=1, max_size=H)))
    return NetworkSpec(
        name="chain",
        horizon=H,
        items=(Item("x", unit_value=1.0, holding_cost=0.5),),
        nodes=(
            Node("sup", NodeRole.SUPPLIER, tier=draw(st.sampled_from((1, 2)))),
            Node("dc", NodeRole.DC, storage_capacity=draw(capacities)),
            Node("cust", NodeRole.CUSTOMER),
        ),
        offers=(SupplyOffer("buy-x", "sup", "x", unit_cost=draw(costs)),),
        lanes=(
            Lane("inbound", "sup", "dc", ("x",), lead_time=draw(st.integers(0, H - 1)), unit_cost=draw(costs)),
            Lane(
                "outbound",
                "dc",
                "cust",
                ("x",),
                lead_time=draw(st.integers(0, H - 1)),
                capacity=draw(st.one_of(st.just(math.inf), st.floats(100.0, 200.0))),
            ),
        ),
        demands=(Demand("cust", "x", demand, price=draw(costs), lost_sale_penalty=draw(costs)),),
    )


def _hand_made_flow(spec: NetworkSpec, lp: LinearProgram) -> np.ndarray:
    """Buy and ship each period's demand just in time to arrive when asked, through the DC without
    holding it; what cannot arrive in time (t < both lead times) is lost. Inventory stays zero."""
    H = spec.horizon
    inbound, outbound = spec.lanes[0].lead_time, spec.lanes[1].lead_time
    demand = np.zeros(H)
    demand[: len(spec.demands[0].quantity)] = spec.demands[0].quantity
    buy, ship, lost = lp.columns("buy"), lp.columns("ship"), lp.columns("lost")
    x = np.zeros(lp.n_cols)
    for t, d in enumerate(demand):
        sent = t - outbound - inbound
        if sent >= 0:
            x[buy[0, sent]] = d
            x[ship[0, sent]] = d
            x[ship[1, t - outbound]] = d
        else:
            x[lost[0, t]] = d
    return x


@PROPERTY
@given(chains())
def test_hand_made_flow_meets_the_balance_rows(spec: NetworkSpec) -> None:
    lp = _model(spec)
    assert lp.columns("ship").shape == (2, spec.horizon)
    x = _hand_made_flow(spec, lp)
    ax = lp.A @ x
    for name in ("flow_balance", "demand_balance"):
        rows = lp.constraints[name].slice
        assert np.allclose(ax[rows], lp.row_lower[rows], rtol=0, atol=1e-9), name
        assert np.allclose(ax[rows], lp.row_upper[rows], rtol=0, atol=1e-9), name
    assert (lp.row_lower - 1e-9 <= ax).all() and (ax <= lp.row_upper + 1e-9).all()
    assert (lp.col_lower <= x).all() and (x <= lp.col_upper).all()


@PROPERTY
@given(chains())
def test_hand_made_flow_breaks_balance_when_a_shipment_is_dropped(spec: NetworkSpec) -> None:
    """The balance rows are not vacuous: withholding the first arriving delivery breaks one."""
    lp = _model(spec)
    x = _hand_made_flow(spec, lp)
    ship = lp.columns("ship")[1]
    shipped = np.flatnonzero(x[ship] > 1e-6)
    if len(shipped) == 0:
        return
    x[ship[shipped[0]]] = 0.0
    ax = lp.A @ x
    balance = [lp.constraints[name].slice for name in ("flow_balance", "demand_balance")]
    assert max(np.abs(ax - lp.row_lower)[rows].max() for rows in balance) > 1e-6


# -- solved sanity ------------------------------------------------------------------------------


def _without_demand_or_stock(spec: NetworkSpec) -> NetworkSpec:
    """Demand scaled by 0, nothing on hand or under way, no safety stock: every cost left is avoidable."""
    return replace(
        spec,
        demands=tuple(replace(d, quantity=tuple(0.0 * q for q in d.quantity)) for d in spec.demands),
        stocks=tuple(replace(s, on_hand=0.0, safety_stock=0.0) for s in spec.stocks),
        in_transit=(),
    )


@settings(max_examples=30, deadline=None)
@given(networks())
def test_no_demand_and_no_stock_costs_nothing(spec: NetworkSpec) -> None:
    lp = _model(_without_demand_or_stock(spec))
    solution = HighsBackend().solve(lp, SolveOptions(time_limit=20.0, mip_rel_gap=0.0, seed=1))
    assert solution.status == SolveStatus.OPTIMAL, solution.message
    assert solution.x is not None
    # Drawn capacities and minimum orders can be tiny (6e-8), so HiGHS may buy within its
    # feasibility tolerance: allow that tolerance times the largest unit cost.
    tol = 1e-5 * max(1.0, float(np.abs(lp.c).max(initial=0.0)))
    assert abs(solution.objective) <= tol
    assert all(abs(v) <= tol for v in lp.cost_by_component(solution.x).values())


# -- a hand-made plan for any network -----------------------------------------------------------


def _uncapped(spec: NetworkSpec) -> NetworkSpec:
    """The network without the hard limits on holding stock or losing sales: storage, working
    capital and service targets. What remains always has a plan: hold what is there, lose the rest."""
    return replace(
        spec,
        nodes=tuple(replace(n, storage_capacity=math.inf) for n in spec.nodes),
        working_capital_cap=math.inf,
        service_targets=(),
    )


def _hold_everything_lose_all_demand(net: Network, lp: LinearProgram) -> np.ndarray:
    """Buy, make and ship nothing; every position holds its stock and receipts; all demand is lost;
    safety stock falls short where it must; single-sourced streams are assigned their first lane."""
    x = np.zeros(lp.n_cols)
    inv = net.position_on_hand[:, None] + np.cumsum(net.position_receipts, axis=1)
    x[lp.columns("inv")] = inv
    x[lp.columns("lost")] = net.demand_qty
    safety = np.flatnonzero(net.position_safety_stock > 0)
    target = net.position_safety_stock[safety][:, None]
    x[lp.columns("short")] = np.clip(target - inv[safety], 0.0, target)
    stream = net.demand_index(net.lane_destination[net.arc_lane], net.arc_item)
    sourced = (stream >= 0) & net.demand_single_source[np.maximum(stream, 0)]
    assign = lp.columns("assign")
    chosen: set[int] = set()
    for k, s in enumerate(stream[sourced]):
        if s not in chosen:
            x[assign[k]] = 1.0
            chosen.add(int(s))
    return x


@PROPERTY
@given(networks())
def test_holding_everything_and_losing_all_demand_is_feasible(spec: NetworkSpec) -> None:
    net = Network.from_spec(_uncapped(spec))
    lp = build_model(net)
    x = _hold_everything_lose_all_demand(net, lp)
    ax = lp.A @ x
    tol = 1e-9 * (1.0 + np.abs(x).max(initial=0.0))
    names = np.asarray(lp.row_names(), dtype=object)
    violated = (ax < lp.row_lower - tol) | (ax > lp.row_upper + tol)
    assert not violated.any(), list(names[violated])
    assert (lp.col_lower <= x).all() and (x <= lp.col_upper).all()
    assert (x[lp.integrality] == np.round(x[lp.integrality])).all()


@settings(max_examples=30, deadline=None)
@given(networks())
def test_optimum_is_no_worse_than_the_hand_made_plan(spec: NetworkSpec) -> None:
    net = Network.from_spec(_uncapped(spec))
    lp = build_model(net)
    bound = lp.objective(_hold_everything_lose_all_demand(net, lp))
    solution = HighsBackend().solve(lp, SolveOptions(time_limit=20.0, mip_rel_gap=0.0, seed=1))
    assert solution.status == SolveStatus.OPTIMAL, solution.message
    assert solution.x is not None
    # HiGHS calls a MIP optimal once incumbent - bound <= mip_abs_gap (1e-6 by default, even with
    # mip_rel_gap 0), so its optimum may sit up to 1e-6 above the true one on top of the tolerance.
    assert solution.objective <= bound + 1e-6 + 1e-6 * (1.0 + abs(bound))
    assert math.isclose(lp.objective(solution.x), solution.objective, rel_tol=1e-6, abs_tol=1e-5)
