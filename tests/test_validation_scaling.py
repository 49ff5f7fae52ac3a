"""Validation stays linear (or n log n) in the size of its input and never recurses: known answers
for the rewritten checks on long inputs, the escalation-chain analysis against the plain walk it
replaces, and machine-independent scaling checks that count operations (hash and equality calls
on the input's own values), never wall-clock time."""

from __future__ import annotations

import random
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

from models.errors import ValidationError, ValidationErrors
from models.network import (
    Demand,
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
from models.protocols import (
    ActionKind,
    Approver,
    AuthorityRule,
    Function,
    ProtocolSet,
    Role,
    SignalRule,
    validate_against_network,
    validate_protocols,
)
from models.protocols.validation import MAX_CYCLE_ROLES_SHOWN
from models.signals import Signal, SignalType, apply_signals
from tests.random_networks import random_network


def small_spec() -> NetworkSpec:
    """A tier-1 supplier's steel is shipped to a DC and on to a customer who demands it."""
    return NetworkSpec(
        name="small",
        horizon=3,
        items=(Item("steel"),),
        nodes=(
            Node("sup", NodeRole.SUPPLIER, tier=1),
            Node("dc", NodeRole.DC),
            Node("cust", NodeRole.CUSTOMER),
        ),
        offers=(SupplyOffer("steel-main", "sup", "steel", unit_cost=1.0),),
        lanes=(
            Lane("sup-dc", "sup", "dc", ("steel",), lead_time=1),
            Lane("dc-cust", "dc", "cust", ("steel",)),
        ),
        demands=(Demand("cust", "steel", (5.0, 5.0, 5.0), price=10.0),),
    )


def chain(n: int, close_at: int | None = None) -> tuple[Role, ...]:
    """Roles r00000 -> r00001 -> ... -> r(n-1); the last escalates to r(close_at) when given."""
    ids = [f"r{k:05d}" for k in range(n)]
    last = ids[close_at] if close_at is not None else ""
    return tuple(Role(ident, ids[k + 1] if k + 1 < n else last) for k, ident in enumerate(ids))


def violations(check: object) -> list[ValidationError]:
    """The violations `check()` raises, in the order reported (empty when it passes)."""
    try:
        check()  # type: ignore[operator]
    except ValidationError as err:
        return err.each()
    return []


# -- escalation chains ------------------------------------------------------------------------


def walked_cycles(roles: tuple[Role, ...]) -> list[str | None]:
    """The reference: each role's chain walked step by step, as the check did before (quadratic
    per role); the path up to the first role named twice, or None."""
    first: dict[str, Role] = {}
    for r in roles:
        if r.id and r.id not in first:
            first[r.id] = r
    out: list[str | None] = []
    for role in roles:
        seen, nxt, found = [role.id], role.escalates_to, None
        while nxt:
            if nxt in seen:
                found = " -> ".join([*seen, nxt])
                break
            seen.append(nxt)
            nxt = first[nxt].escalates_to if nxt in first else ""
        out.append(found)
    return out


def reported_cycles(roles: tuple[Role, ...]) -> list[tuple[str, str]]:
    prefix = "approvers form a cycle: "
    return [
        (v.ident, v.message.removeprefix(prefix))
        for v in violations(lambda: validate_protocols(ProtocolSet("p", roles=roles)))
        if v.message.startswith(prefix)
    ]


def test_cycles_match_the_step_by_step_walk_on_random_role_sets() -> None:
    """3,000 random sets of up to 9 roles over 10 names (duplicates, empty ids, unknown and
    self-referencing escalations included): the linear analysis reports exactly the roles, and
    the paths, that walking each chain step by step finds, in file order."""
    rng = random.Random(14)
    for _ in range(3000):
        names = [rng.choice("ABCDEFGHIJ") if rng.random() < 0.95 else "" for _ in range(rng.randint(1, 9))]
        roles = tuple(Role(n, rng.choice(["", "Z", *"ABCDEFGHIJ"])) for n in names)
        expected = [(r.id, path) for r, path in zip(roles, walked_cycles(roles)) if path is not None]
        assert reported_cycles(roles) == expected, roles


def test_a_cycle_of_n_roles_names_every_role_and_abbreviates_the_path() -> None:
    """r0 -> ... -> r999 -> r0: each of the 1,000 roles is on the cycle, so each is reported, in
    file order. Its path visits 1,001 roles (the 1,000 and itself again): the message names the
    first 11, says 989 more, and ends at the role it returns to."""
    n = 1000
    found = reported_cycles(chain(n, close_at=0))
    assert [ident for ident, _ in found] == [f"r{k:05d}" for k in range(n)]
    shown = MAX_CYCLE_ROLES_SHOWN - 1
    head = " -> ".join(f"r{k:05d}" for k in range(shown))
    assert found[0][1] == f"{head} -> ... ({n + 1 - shown - 1:,} more) -> r00000"
    assert found[500][1].startswith("r00500 -> r00501 -> ")
    assert found[500][1].endswith(" more) -> r00500")
    assert found[999][1].startswith("r00999 -> r00000 -> r00001")


def test_a_tail_into_a_cycle_names_where_the_walk_closes() -> None:
    """r0 -> ... -> r9 -> r5: r5..r9 form a cycle; r0..r4 lead into it. Every role is reported;
    r0's path runs r0..r9 and back to r5 (11 roles, shown whole), r7's goes round to itself."""
    found = dict(reported_cycles(chain(10, close_at=5)))
    assert len(found) == 10
    assert found["r00000"] == " -> ".join(f"r{k:05d}" for k in range(10)) + " -> r00005"
    assert found["r00007"] == "r00007 -> r00008 -> r00009 -> r00005 -> r00006 -> r00007"


def test_a_chain_of_100000_roles_validates_without_recursion() -> None:
    """A chain of 100,000 roles ending at one who escalates to no one is valid; the same chain
    closed back to its first role is one cycle of 100,000 (every role reported, none missed)."""
    validate_protocols(ProtocolSet("p", roles=chain(100_000)))
    found = reported_cycles(chain(100_000, close_at=0))
    assert len(found) == 100_000
    assert found[-1][1].endswith(f"({100_001 - MAX_CYCLE_ROLES_SHOWN:,} more) -> r99999")


def test_a_duplicate_role_walks_from_its_own_escalation() -> None:
    """Roles A -> B -> C and a second "A" escalating to C: the duplicate is named twice over ("is
    used twice"), and C -> ... never returns, so no cycle; a second "C" escalating to A returns to C."""
    roles = (Role("A", "B"), Role("B", "C"), Role("C"), Role("A", "C"), Role("C", "A"))
    found = violations(lambda: validate_protocols(ProtocolSet("p", roles=roles)))
    assert [(v.ident, v.field, v.message) for v in found] == [
        ("A", "id", "is used twice"),
        ("C", "id", "is used twice"),
        ("C", "escalates_to", "approvers form a cycle: C -> A -> B -> C"),
    ]


class CountingStr(str):
    """A str that counts the hash and equality calls made on it (class-wide)."""

    calls = 0

    def __hash__(self) -> int:
        CountingStr.calls += 1
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        CountingStr.calls += 1
        return str.__eq__(self, other)


def counted_chain_check(n: int) -> int:
    ids = [CountingStr(f"r{k:05d}") for k in range(n)]
    roles = tuple(Role(ident, ids[k + 1] if k + 1 < n else CountingStr("")) for k, ident in enumerate(ids))
    CountingStr.calls = 0
    validate_protocols(ProtocolSet("p", roles=roles))
    return CountingStr.calls


def test_escalation_check_does_linear_work_in_the_chain_length() -> None:
    """Hash and equality calls on the role ids for chains of 2,000 and 8,000: four times the
    roles cost at most ~4.5 times the calls (the step-by-step walk cost ~64 times)."""
    small, large = counted_chain_check(2000), counted_chain_check(8000)
    assert 0 < large <= 4.5 * small


# -- service targets, duplicate ids, dangling references --------------------------------------


def test_a_repeated_priority_at_the_end_of_50000_service_targets_is_named() -> None:
    """Tiers 1..50,000 and tier 1 again: both targets of tier 1 (the first and the last) are
    reported, and no other."""
    targets = (*(ServiceTarget(p, 0.5) for p in range(1, 50_001)), ServiceTarget(1, 0.9))
    found = violations(lambda: Network.from_spec(replace(small_spec(), service_targets=targets)))
    assert [(v.entity, v.ident, v.field, v.message) for v in found] == [
        ("service target", "priority 1", "priority", "is given twice")
    ] * 2


class CountingInt(int):
    """An int that counts the hash and equality calls made on it (class-wide)."""

    calls = 0

    def __hash__(self) -> int:
        CountingInt.calls += 1
        return int.__hash__(self)

    def __eq__(self, other: object) -> bool:
        CountingInt.calls += 1
        return int.__eq__(self, other)


def counted_targets_check(n: int) -> int:
    spec = replace(small_spec(), service_targets=tuple(ServiceTarget(CountingInt(p), 0.5) for p in range(1, n + 1)))
    CountingInt.calls = 0
    Network.from_spec(spec)
    return CountingInt.calls


def test_service_target_check_does_linear_work() -> None:
    """Hash and equality calls on the priorities for 5,000 and 20,000 targets: at most ~4.5 times
    (counting each tier's targets by scanning the list cost ~16 times)."""
    small, large = counted_targets_check(5000), counted_targets_check(20_000)
    assert 0 < large <= 4.5 * small


def test_a_duplicate_item_id_at_the_end_of_50000_is_named() -> None:
    """50,000 items and the first item's id again at the end: the last one is reported."""
    items = (*(Item(f"i{k}") for k in range(50_000)), Item("i0"))
    found = violations(lambda: Network.from_spec(replace(small_spec(), items=(*small_spec().items, *items))))
    assert [(v.entity, v.ident, v.field, v.message) for v in found] == [
        ("item", "i0", "id", "is used twice; ids must be unique")
    ]


def test_a_dangling_item_at_the_end_of_a_long_rule_is_named() -> None:
    """An authority rule scoped to 'steel' 30,000 times and then to 'ghost': the last entry,
    items[30000], is named."""
    net = Network.from_spec(small_spec())
    rule = AuthorityRule(
        "buy",
        Function.PROCUREMENT,
        ActionKind.EXPEDITED_PURCHASE,
        10.0,
        20.0,
        Approver(role="boss"),
        items=("steel",) * 30_000 + ("ghost",),
    )
    protocols = ProtocolSet("p", roles=(Role("boss"),), authority_rules=(rule,))
    found = violations(lambda: validate_against_network(protocols, net))
    assert [(v.ident, v.field, v.message) for v in found] == [("buy", "items[30000]", "refers to unknown item 'ghost'")]


def test_a_dangling_rule_at_the_end_of_a_long_activation_list_is_named() -> None:
    """A signal rule activating 'buy' 30,000 times and then 'ghost': activates[30000] is named."""
    rule = AuthorityRule("buy", Function.PROCUREMENT, ActionKind.EXPEDITED_PURCHASE, 10.0, 20.0, Approver(role="boss"))
    sr = SignalRule("outage", SignalType.SUPPLIER_OUTAGE, ("buy",) * 30_000 + ("ghost",))
    protocols = ProtocolSet("p", roles=(Role("boss"),), authority_rules=(rule,), signal_rules=(sr,))
    found = violations(lambda: validate_protocols(protocols))
    assert [(v.ident, v.field, v.message) for v in found] == [
        ("outage", "activates[30000]", "refers to unknown authority rule 'ghost'")
    ]


def test_a_bill_of_materials_chain_of_20000_recipes_validates_without_recursion() -> None:
    """Item k is made from item k+1 at one plant, 20,000 levels deep: valid (no loop); closing the
    chain (the deepest made from the first) is one loop, reported on the recipe that closes it."""
    n = 20_000
    items = tuple(Item(f"i{k}") for k in range(n + 1))
    recipes = tuple(Recipe(f"make-{k}", "plant", f"i{k}", inputs=((f"i{k + 1}", 1.0),)) for k in range(n))
    spec = NetworkSpec(name="deep", horizon=2, items=items, nodes=(Node("plant", NodeRole.PLANT),), recipes=recipes)
    Network.from_spec(spec)
    closing = Recipe(f"make-{n}", "plant", f"i{n}", inputs=(("i0", 1.0),))
    found = violations(lambda: Network.from_spec(replace(spec, recipes=(*recipes, closing))))
    assert [(v.entity, v.field) for v in found] == [("recipe", "inputs")]
    assert "the bill of materials loops: " in found[0].message


# -- signals ----------------------------------------------------------------------------------


def test_a_duplicate_signal_id_at_the_end_of_50000_is_named() -> None:
    """50,000 valid supplier outages with distinct ids, then the first id again: both signals with
    that id are reported ("is used twice"), the first and the last, and nothing is applied."""
    net = Network.from_spec(small_spec())
    signals = [Signal(f"s{k}", SignalType.SUPPLIER_OUTAGE, supplier="sup", magnitude=0.5) for k in range(50_000)]
    signals.append(Signal("s0", SignalType.DEMAND_CHANGE, customer="cust", magnitude=1.2))
    with pytest.raises(ValidationErrors) as info:
        apply_signals(net, signals)
    assert [(v.ident, v.field, v.message) for v in info.value.each()] == [("s0", "id", "is used twice")] * 2


def test_a_dangling_lane_in_the_last_of_50000_signals_is_named() -> None:
    """50,000 valid lane disruptions and one on lane 'ghost': only the last is reported."""
    net = Network.from_spec(small_spec())
    signals = [Signal(f"s{k}", SignalType.LANE_DISRUPTION, lane="sup-dc", magnitude=0.5) for k in range(50_000)]
    signals.append(Signal("last", SignalType.LANE_DISRUPTION, lane="ghost", magnitude=0.5))
    found = violations(lambda: apply_signals(net, signals))
    assert [(v.ident, v.field, v.message) for v in found] == [("last", "lane", "refers to unknown lane 'ghost'")]


def test_many_signals_apply_as_their_product() -> None:
    """1,000 half-capacity outages of the supplier over the whole horizon leave 0.5^1000 of the
    offer's capacity, and 1,000 orders of 1 unit in period 0 add 1,000 units to its demand."""
    spec = replace(small_spec(), offers=(SupplyOffer("steel-main", "sup", "steel", capacity=100.0),))
    net = Network.from_spec(spec)
    outages = [Signal(f"o{k}", SignalType.SUPPLIER_OUTAGE, supplier="sup", magnitude=0.5) for k in range(1000)]
    orders = [
        Signal(f"d{k}", SignalType.ORDER_CHANGE, customer="cust", item="steel", magnitude=1.0) for k in range(1000)
    ]
    after = apply_signals(net, outages + orders)
    np.testing.assert_allclose(after.offer_capacity[0], 100.0 * 0.5**1000)
    np.testing.assert_allclose(after.demand_qty[0], [1005.0, 5.0, 5.0])


def counted_signal_check(n: int) -> int:
    net = Network.from_spec(small_spec())
    signals = [
        Signal(CountingStr(f"s{k}"), SignalType.SUPPLIER_OUTAGE, supplier=CountingStr("sup"), magnitude=0.5)
        for k in range(n)
    ]
    CountingStr.calls = 0
    apply_signals(net, signals)
    return CountingStr.calls


def test_signal_validation_does_linear_work() -> None:
    """Hash and equality calls on the signals' ids and suppliers for 5,000 and 20,000 signals: at
    most ~4.5 times (counting each id's uses by scanning the list cost ~16 times)."""
    small, large = counted_signal_check(5000), counted_signal_check(20_000)
    assert 0 < large <= 4.5 * small


# -- stock positions without an (N, I) table --------------------------------------------------


def dense_index(
    net: Network, rows_node: np.ndarray, rows_item: np.ndarray, node: np.ndarray, item: np.ndarray
) -> np.ndarray:
    """The reference: a dense (N, I) table of rows, indexed as numpy does."""
    table = np.full((net.n_nodes, net.n_items), -1, dtype=np.int64)
    table[rows_node, rows_item] = np.arange(len(rows_node))
    return table[node, item]


@pytest.mark.parametrize("seed", range(8))
def test_pair_lookups_match_a_dense_table(seed: int) -> None:
    """On random networks, `position_index` and `demand_index` (binary search over sorted keys)
    give what a dense (node, item) table gives for every pair, negative indices included, and the
    scalar `position_of` / `demand_of` agree with them."""
    net = Network.from_spec(random_network(seed))
    node, item = np.meshgrid(np.arange(-net.n_nodes, net.n_nodes), np.arange(-net.n_items, net.n_items))
    expected_pos = dense_index(net, net.position_node, net.position_item, node, item)
    expected_dem = dense_index(net, net.demand_node, net.demand_item, node, item)
    np.testing.assert_array_equal(net.position_index(node, item), expected_pos)
    np.testing.assert_array_equal(net.demand_index(node, item), expected_dem)
    for n in range(net.n_nodes):
        for i in range(net.n_items):
            assert net.position_of(n, i) == expected_pos[net.n_items + i, net.n_nodes + n]
            assert net.demand_of(n, i) == expected_dem[net.n_items + i, net.n_nodes + n]
    with pytest.raises(IndexError):
        net.position_index(np.array([net.n_nodes]), np.array([0]))


def test_stock_positions_of_a_wide_network_need_no_node_by_item_table() -> None:
    """20,000 DCs and 20,000 items, one stock record each: 20,000 positions, (DC k, item k), in
    node order. A dense (node, item) table would take 3.2 GB; compiling allocates under 64 MB."""
    n = 20_000
    spec = NetworkSpec(
        name="wide",
        horizon=2,
        items=tuple(Item(f"i{k}") for k in range(n)),
        nodes=tuple(Node(f"dc{k}", NodeRole.DC) for k in range(n)),
        stocks=tuple(Stock(f"dc{k}", f"i{n - 1 - k}", on_hand=float(k)) for k in range(n)),
    )
    tracemalloc.start()
    try:
        net = Network.from_spec(spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    np.testing.assert_array_equal(net.position_node, np.arange(n))
    np.testing.assert_array_equal(net.position_item, n - 1 - np.arange(n))
    np.testing.assert_array_equal(net.position_on_hand, np.arange(n, dtype=float))
    assert net.position_of(7, n - 8) == 7
    assert net.position_of(7, 7) == -1
