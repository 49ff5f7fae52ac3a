"""The fuzz suite of issue #14: mutated protobuf requests for every RPC against a real in-process
server (two spawned solver workers, a SQLite ledger in a temporary directory), judged by the oracle
of `benchmarks.fuzz`: a documented status code, a message under the cap, a healthy server after
every case, ledger rows that change only on success, and no hang.

The cases are drawn by hypothesis with `derandomize=True`, so every CI run fuzzes the same
`FUZZ_CASES` cases and a failure shrinks to a small reproducer. `tests/fuzz_regressions.py` holds
the reproducers found so far; each is replayed here too.
"""

from __future__ import annotations

import contextlib
import resource
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from benchmarks import fuzz
from benchmarks.fuzz import Case, Target
from tests.fuzz_regressions import REGRESSIONS, Regression

FUZZ_CASES = 1000
"""At least 500 per CI run; a seed case takes 20-50 ms, so 1,000 cost about half a minute."""

ADDRESS_SPACE_HEADROOM = 8 * 1024**3
"""How much more address space than it has now this process (and each solver worker it spawns)
may take while fuzzing: a request that makes an unguarded server allocate without bound fails with
MemoryError (a finding) instead of taking the shared machine's memory."""


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def _memory_guard() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = _address_space()
    if not size:
        yield
        return
    limit = size + ADDRESS_SPACE_HEADROOM
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with _memory_guard(), fuzz.in_process_target(tmp_path_factory.mktemp("fuzz")) as prepared:
        yield prepared


def test_every_seed_request_is_valid(target: Target) -> None:
    """Unmutated, every seed succeeds on a freshly prepared server and passes the oracle (WatchPlans
    streams plan versions 2 and 3 and WatchNetwork the writes after the first, then each waits until
    its short deadline): a mutant's refusal is the
    mutation's doing. Each decision case is first pointed at a pending decision of the latest plan
    version (`fuzz.refresh_decision_seeds`)."""
    for rpc, seeds in target.seeds.items():
        for number in range(len(seeds)):
            outcome = fuzz.run_case(target, Case(rpc, number))
            assert outcome.failures == {}, outcome.describe()
            if rpc in fuzz.WATCHES:
                assert (outcome.code, outcome.responses >= 2) == (grpc.StatusCode.DEADLINE_EXCEEDED.name, True)
            else:
                assert outcome.code == grpc.StatusCode.OK.name, outcome.describe()


def test_a_refused_request_leaves_the_ledger_alone_and_a_stored_one_counts(target: Target) -> None:
    """The oracle's ledger check sees writes: a Plan of the stored network adds one plan row (and
    no decision: the seed plan answers no signal), a Plan of a network that does not exist is
    NOT_FOUND and changes nothing."""
    stored = fuzz.run_case(target, Case("Plan"))
    assert (stored.code, stored.failures) == ("OK", {})
    assert stored.changed["plans"][1] == stored.changed["plans"][0] + 1
    missing = fuzz.run_case(target, Case("Plan", 0, (fuzz.Mutation(("network_id",), "set", "fuzz-missing"),)))
    assert (missing.code, missing.changed, missing.failures) == ("NOT_FOUND", {}, {})


@settings(
    max_examples=FUZZ_CASES,
    deadline=None,
    derandomize=True,
    database=None,
    report_multiple_bugs=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(data=st.data())
def test_no_request_crashes_exhausts_or_corrupts_the_server(target: Target, data: st.DataObject) -> None:
    """Each case is one mutated request; `fuzz.check` raises one `FuzzFailure` kind per broken
    promise (undocumented status, transport refusal, message over the cap, hang, unhealthy server,
    partial write), so hypothesis shrinks and reports each kind separately."""
    case = data.draw(_strategy(target), label="case")
    note(f"reproducer: {case.describe()}")
    fuzz.check(fuzz.run_case(target, case))


_strategies: dict[int, st.SearchStrategy[Case]] = {}


def _strategy(target: Target) -> st.SearchStrategy[Case]:
    key = id(target.seeds)
    if key not in _strategies:
        _strategies[key] = fuzz.case_strategy(target.seeds)
    return _strategies[key]


@pytest.mark.parametrize("regression", REGRESSIONS, ids=[r.id for r in REGRESSIONS])
def test_fuzz_regression(target: Target, regression: Regression) -> None:
    """A failure the fuzz suite found (see `tests/fuzz_regressions.py`) now passes the oracle."""
    assert regression.case.rpc == regression.rpc
    fuzz.check(fuzz.run_case(target, regression.case))
