"""Always on, end to end over real servers: the signal inbox, the orchestrator's automatic replans
(coalesced bursts, a restart after SIGKILL), approvals and rejections that close the loop, lapsed
escalations, the response timeline, rolling forward, and the inbox's replan against an explicit one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from models.protocols import ProtocolSet
from models.protocols.spec import Approver, OnExpiry, OnReject
from models.replanning import ReplanOptions
from models.signals import Signal, SignalType
from solver._proto.concerto.v1 import service_pb2
from solver.client import ConcertoClient
from solver.limits import RequestLimits
from solver.options import SolveOptions
from solver.records import DecisionState, NetworkSettings, PublishedSignal, SignalChange, StoredPlan
from solver.server import ServerConfig
from solver.store import SqlitePlanStore
from tests.service_harness import RunningServer, ServerProcess, running_server
from tests.test_auth import late_backup_protocols
from tests.test_protocols import outage_network

TIMEOUT = 60.0
EXACT = SolveOptions(mip_rel_gap=0.0, time_limit=30.0)
COLD = ReplanOptions(stability_weight=0.0)
"""Cold replans: each automatic plan is the optimum of the disrupted network, a known answer."""

OUTAGE = Signal("", SignalType.SUPPLIER_OUTAGE, supplier="S1", duration_hours=24, magnitude=0.0)
"""S1 down on day 0 (the short outage of tests/test_protocols.py)."""


def outage(source_id: str = "o-1", **fields: object) -> PublishedSignal:
    return PublishedSignal(
        source="supplier-portal",
        source_id=source_id,
        signal=replace(OUTAGE, id=f"supplier-portal:{source_id}", **fields),  # type: ignore[arg-type]
        detected_at=datetime.now(UTC),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    config = ServerConfig(store=tmp_path_factory.mktemp("always-on") / "ledger.db", workers=2, queue_size=4)
    with running_server(config) as running:
        yield running


def automatic_network(
    client: ConcertoClient,
    network_id: str,
    protocols: ProtocolSet | None = None,
    *,
    window: float = 0.2,
    first_answer: bool = False,
) -> StoredPlan:
    """The short-outage network planned (objective 150: 30 units from S1 at 5), then automatic."""
    client.put_network(
        network_id, outage_network(), protocols or late_backup_protocols(Approver(role="procurement director"))
    )
    planned = client.plan(network_id, options=EXACT)
    client.set_settings(
        network_id,
        NetworkSettings(automatic=True, window_seconds=window, replan=COLD, options=EXACT, first_answer=first_answer),
    )
    return planned


def wait_for(condition: Callable[[], object], what: str, timeout: float = TIMEOUT) -> object:
    """`condition()` once it is truthy (polled); the test fails naming `what` after `timeout`."""
    stop_at = time.monotonic() + timeout
    while time.monotonic() < stop_at:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def refused(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


# ------------------------------------------------------------------------------------ the inbox


def test_the_inbox_stores_each_revision_once_and_refuses_a_changed_resend(server: RunningServer) -> None:
    client = server.client
    client.put_network("inbox", outage_network(), late_backup_protocols(Approver(role="procurement director")))
    [first] = client.publish("inbox", [outage()])
    assert (first.revision, first.duplicate) == (1, False)
    [again] = client.publish("inbox", [outage()])
    assert (again.revision, again.duplicate, again.seq) == (1, True, first.seq)
    err = refused(lambda: client.publish("inbox", [outage(duration_hours=48)]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "as an update" in err.details()
    [updated] = client.publish("inbox", [replace(outage(duration_hours=48), change=SignalChange.UPDATE)])
    assert updated.revision == 2
    cancel = PublishedSignal(source="supplier-portal", source_id="o-1", change=SignalChange.CANCEL)
    assert client.publish("inbox", [cancel])[0].revision == 3
    unknown = outage("o-2", supplier="S9")
    err = refused(lambda: client.publish("inbox", [outage("o-3"), unknown]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "S9" in err.details()
    stored = server.servicer.store.inbox("inbox")
    assert [(r.source_id, r.revision, r.change) for r in stored] == [
        ("o-1", 1, SignalChange.NEW),
        ("o-1", 2, SignalChange.UPDATE),
        ("o-1", 3, SignalChange.CANCEL),
    ]  # the refused batch wrote nothing, not even its valid first signal
    assert all(r.final_by is None for r in stored)  # a manual network: no replan answered them


# -------------------------------------------------------------------------- automatic replans


def test_an_automatic_network_answers_a_published_signal_by_itself(server: RunningServer) -> None:
    """The outage under a limit of 10 (`late_backup_protocols`): the optimum 410 escalates the
    backup's activation and day-2 purchase to the director. A first coordinated plan is stored, then
    the final one; both say what triggered them, and the inbox row names both versions."""
    client = server.client
    planned = automatic_network(client, "auto", first_answer=True)
    watched: list[StoredPlan] = []

    def watch() -> None:
        for version in client.watch("auto", planned.version):
            watched.append(version)
            if version.trigger == "inbox":
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(0.2)
    client.publish("auto", [outage()])
    watcher.join(TIMEOUT)
    assert [v.trigger for v in watched] == ["inbox-first", "inbox"]
    final = watched[-1]
    assert final.plan.objective == pytest.approx(410)
    assert [s.id for s in final.signals] == ["supplier-portal:o-1"]
    assert final.baseline_version == planned.version == watched[0].baseline_version
    [row] = server.servicer.store.inbox("auto")
    assert (row.first_by, row.final_by) == (watched[0].version, final.version)


def test_a_burst_of_fifty_signals_makes_a_bounded_number_of_replans(server: RunningServer) -> None:
    """50 demand changes published one by one within a second, each its own id: every one is
    answered by a stored version whose signals include it, with at most a handful of replans (one
    per coalescing window and solve), never one per signal."""
    client = server.client
    planned = automatic_network(client, "burst", window=0.3)
    started_before = server.servicer.orchestrator.replans_started
    begin = time.monotonic()
    for k in range(50):
        change = PublishedSignal(
            source="pos",
            source_id=f"d-{k}",
            signal=Signal(
                f"pos:d-{k}",
                SignalType.DEMAND_CHANGE,
                customer="C",
                item="A",
                start_hours=48,
                duration_hours=24,
                magnitude=1.0 + 0.001 * k,
            ),
        )
        client.publish("burst", [change])
    assert time.monotonic() - begin < 5.0, "publishing should take well under the burst's second"

    def answered() -> bool:
        return all(r.final_by is not None for r in server.servicer.store.inbox("burst"))

    wait_for(answered, "every burst signal answered")
    versions = client.list_plans("burst")
    replans = server.servicer.orchestrator.replans_started - started_before
    assert 1 <= replans <= 6 and len(versions) - 1 == replans
    latest = client.get_plan("burst")
    assert {f"pos:d-{k}" for k in range(50)} <= {s.id for s in latest.signals}
    assert latest.version > planned.version


def test_a_rejection_replans_within_the_rules_limit(server: RunningServer) -> None:
    """Rejecting the director's escalation (limit 10, activation 20) holds the rule to its limit: the
    automatic replan cannot buy on the backup at all, so day 0's 10 units are lost (1000) on top of
    S1's 100: 1100, with nothing escalated."""
    client = server.client
    automatic_network(client, "reject")
    client.publish("reject", [outage()])
    final = wait_for(lambda: _latest_with_trigger(client, "reject", "inbox"), "the automatic replan")
    assert isinstance(final, StoredPlan) and final.plan.objective == pytest.approx(410)
    pending = client.decisions("reject", final.version, DecisionState.PENDING)
    assert pending and all(not d.state.executable for d in pending)
    client.reject("reject", final.version, pending[0].index, "procurement director", "too expensive")
    replanned = wait_for(lambda: _latest_with_trigger(client, "reject", "rejection"), "the replan after rejection")
    assert isinstance(replanned, StoredPlan)
    assert replanned.plan.objective == pytest.approx(1100)
    assert replanned.plan.needs_approval == []
    assert [h.rule for h in server.servicer.store.holds("reject")] == ["backup-under-48h"]


def test_an_approval_makes_the_escalation_executable_and_needs_no_replan(server: RunningServer) -> None:
    client = server.client
    automatic_network(client, "approve")
    client.publish("approve", [outage()])
    final = wait_for(lambda: _latest_with_trigger(client, "approve", "inbox"), "the automatic replan")
    assert isinstance(final, StoredPlan)
    [first, *_] = client.decisions("approve", final.version, DecisionState.PENDING)
    approved = client.approve("approve", final.version, first.index, "procurement director")
    assert approved.state.executable
    time.sleep(0.5)
    assert client.get_plan("approve").version == final.version
    timeline = client.timeline("approve")
    [entry] = timeline.entries
    assert entry.final_plan_version == final.version and entry.executable_at is not None
    assert entry.received_at <= entry.final_plan_at <= entry.executable_at  # type: ignore[operator]
    assert timeline.median_seconds == timeline.worst_seconds == pytest.approx(entry.response_seconds)


def test_an_escalation_nobody_decides_lapses_as_its_rule_says(server: RunningServer) -> None:
    """A window of 0.001 h (3.6 s) and `within_authority` on expiry: the escalation lapses, its
    decisions expire, and the network is replanned with the rule held to its limit (1100)."""
    client = server.client
    base = late_backup_protocols(Approver(role="procurement director"))
    rule = replace(base.authority_rules[0], escalation_delay_hours=0.001, on_expiry=OnExpiry.WITHIN_AUTHORITY)
    automatic_network(client, "lapse", replace(base, authority_rules=(rule,)))
    client.publish("lapse", [outage()])
    final = wait_for(lambda: _latest_with_trigger(client, "lapse", "inbox"), "the automatic replan")
    assert isinstance(final, StoredPlan) and final.plan.needs_approval
    replanned = wait_for(lambda: _latest_with_trigger(client, "lapse", "expiry"), "the lapse and its replan")
    assert isinstance(replanned, StoredPlan) and replanned.plan.objective == pytest.approx(1100)
    states = {d.state for d in client.decisions("lapse", final.version) if d.escalation}
    assert states == {DecisionState.EXPIRED}


def test_a_rule_may_forbid_the_action_after_a_rejection(server: RunningServer) -> None:
    """With `forbid`, the rejected rule's action is not taken at all: the same 1100 here (the limit of
    10 could not pay the activation anyway), and the hold says forbid."""
    client = server.client
    base = late_backup_protocols(Approver(role="procurement director"))
    rule = replace(base.authority_rules[0], on_reject=OnReject.FORBID)
    automatic_network(client, "forbid", replace(base, authority_rules=(rule,)))
    client.publish("forbid", [outage()])
    final = wait_for(lambda: _latest_with_trigger(client, "forbid", "inbox"), "the automatic replan")
    assert isinstance(final, StoredPlan)
    [first, *_] = client.decisions("forbid", final.version, DecisionState.PENDING)
    client.reject("forbid", final.version, first.index, "procurement director")
    replanned = wait_for(lambda: _latest_with_trigger(client, "forbid", "rejection"), "the replan")
    assert isinstance(replanned, StoredPlan) and replanned.plan.objective == pytest.approx(1100)
    assert [h.forbid for h in server.servicer.store.holds("forbid")] == [True]


def test_the_inbox_replan_is_the_explicit_replan_with_the_same_signals(server: RunningServer) -> None:
    """The same network, signals and settings: the orchestrator's plan and a Replan call's agree."""
    client = server.client
    automatic_network(client, "diff-auto")
    client.put_network("diff-manual", outage_network(), late_backup_protocols(Approver(role="procurement director")))
    client.plan("diff-manual", options=EXACT)
    client.publish("diff-auto", [outage()])
    auto = wait_for(lambda: _latest_with_trigger(client, "diff-auto", "inbox"), "the automatic replan")
    assert isinstance(auto, StoredPlan)
    [signal] = auto.signals
    manual = client.replan("diff-manual", [signal], options=EXACT, settings=COLD, first_answer=False)
    assert auto.plan.objective == pytest.approx(manual.plan.objective)
    assert auto.plan.purchases.rows() == manual.plan.purchases.rows()
    assert [(d.action, d.resource, d.period, d.status) for d in auto.plan.decisions] == [
        (d.action, d.resource, d.period, d.status) for d in manual.plan.decisions
    ]


def test_a_cancellation_withdraws_the_signal_from_the_next_plan(server: RunningServer) -> None:
    client = server.client
    planned = automatic_network(client, "cancel")
    client.publish("cancel", [outage()])
    wait_for(lambda: _latest_with_trigger(client, "cancel", "inbox"), "the automatic replan")
    cancel = PublishedSignal(source="supplier-portal", source_id="o-1", change=SignalChange.CANCEL)
    client.publish("cancel", [cancel])
    wait_for(lambda: all(r.final_by for r in server.servicer.store.inbox("cancel")), "the cancellation answered")
    latest = client.get_plan("cancel")
    assert latest.signals == () and latest.plan.objective == pytest.approx(planned.plan.objective)


def test_settings_round_trip_and_the_network_stream_shows_every_write(server: RunningServer) -> None:
    client = server.client
    client.put_network("events", outage_network(), late_backup_protocols(Approver(role="procurement director")))
    assert client.settings("events").automatic is False
    events: list[str] = []

    def watch() -> None:
        for event in client.watch_network("events"):
            events.append(event.action)
            if event.action == "plan":
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(0.3)
    wanted = NetworkSettings(automatic=True, window_seconds=2.5, replan=COLD, options=EXACT)
    got = client.set_settings("events", wanted)
    assert (got.automatic, got.window_seconds, got.replan) == (True, 2.5, COLD)
    client.publish("events", [outage()])  # no plan yet: the orchestrator has nothing to replan
    client.plan("events", options=EXACT)
    watcher.join(TIMEOUT)
    assert events == ["settings", "publish", "plan"]


def test_advance_rolls_the_network_forward_and_plans_what_is_left(server: RunningServer) -> None:
    """Three days of 10 units from S1 at 5. One day on, the horizon is 2 and the plan buys the two
    remaining days' 20 units: 100. One more day, with 4 units counted in stock at S1: the last day's
    10 units need only 6 bought: 30."""
    client = server.client
    client.put_network("roll", outage_network(), late_backup_protocols(Approver(role="procurement director")))
    client.plan("roll", options=EXACT)
    version, plan = client.advance("roll", 1, options=EXACT)
    assert (version, plan.trigger) == (2, "advance") and plan.plan.objective == pytest.approx(100)
    assert client.get_network("roll").horizon == 2
    version, counted = client.advance("roll", 1, {("S1", "A"): 4.0}, options=EXACT)
    assert version == 3 and counted.plan.objective == pytest.approx(30)


def test_signals_acknowledged_before_a_kill_are_answered_after_the_restart(tmp_path: Path) -> None:
    """A 3 s coalescing window keeps the replan from starting; SIGKILL the server right after the
    acknowledgement; a new server on the same ledger takes the network's lease once the dead one's
    expires (5 s) and answers the signal, whose window has passed by then."""
    ledger = tmp_path / "ledger.db"
    first = ServerProcess(ledger, tmp_path)
    try:
        with ConcertoClient(first.target) as client:
            client.wait_ready(TIMEOUT)
            automatic_network(client, "durable", window=3.0)
            client.publish("durable", [outage()])
    finally:
        first.kill()
    assert [r.final_by for r in SqlitePlanStore(ledger).inbox("durable")] == [None]
    second = ServerProcess(ledger, tmp_path)
    try:
        with ConcertoClient(second.target) as client:
            client.wait_ready(TIMEOUT)
            final = wait_for(lambda: _latest_with_trigger(client, "durable", "inbox"), "the replan after restart")
            assert isinstance(final, StoredPlan) and final.plan.objective == pytest.approx(410)
    finally:
        second.kill()


def _latest_with_trigger(client: ConcertoClient, network_id: str, trigger: str) -> StoredPlan | None:
    latest = client.get_plan(network_id)
    return latest if latest.trigger == trigger else None


def test_an_approved_escalation_is_carried_into_later_replans(server: RunningServer) -> None:
    """Approving the director's escalation (the backup's activation 20 and 10 units at 6: spend 80)
    carries 80 into later replans while the outage is answered: the rule's limit becomes 80. The
    next signal (demand unchanged, x1.0, so only the replan's answer changes) replans with the day-0
    backup purchase within authority: S1's 20 units on days 1-2 (100) and the backup's 10 on day 0
    (20 + 60 = 80), 180, with no backlog, no governance cost and nothing escalated again."""
    client = server.client
    automatic_network(client, "carried")
    client.publish("carried", [outage()])
    final = wait_for(lambda: _latest_with_trigger(client, "carried", "inbox"), "the automatic replan")
    assert isinstance(final, StoredPlan) and final.plan.objective == pytest.approx(410)
    [first, *_] = client.decisions("carried", final.version, DecisionState.PENDING)
    client.approve("carried", final.version, first.index, "procurement director")
    [carried] = server.servicer.store.carried("carried")
    assert (carried.rule, carried.spend) == ("backup-under-48h", pytest.approx(80))
    same = PublishedSignal(
        source="pos",
        source_id="same-demand",
        signal=Signal("pos:same-demand", SignalType.DEMAND_CHANGE, customer="C", item="A", magnitude=1.0),
    )
    client.publish("carried", [same])
    again = wait_for(
        lambda: (p := client.get_plan("carried")).version > final.version and p.trigger == "inbox" and p,
        "the next automatic replan",
    )
    assert isinstance(again, StoredPlan)
    assert again.plan.objective == pytest.approx(180)
    assert again.plan.needs_approval == []


def test_a_refused_advance_writes_nothing(server: RunningServer) -> None:
    """An unknown backend is refused before anything is solved or stored: no network version, no
    plan version, no audit row (the advance stores its network version only with its plan)."""
    client = server.client
    client.put_network("roll-refused", outage_network(), late_backup_protocols(Approver(role="procurement director")))
    client.plan("roll-refused", options=EXACT)
    before = server.servicer.store.list_audit("roll-refused")
    request = service_pb2.AdvancePeriodRequest(
        network_id="roll-refused", periods=1, options=service_pb2.SolveOptions(backend="no-such-solver")
    )
    err = refused(lambda: server.stub.AdvancePeriod(request, timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "backend" in err.details()
    err = refused(
        lambda: server.stub.AdvancePeriod(
            service_pb2.AdvancePeriodRequest(network_id="roll-refused", periods=3), timeout=TIMEOUT
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "periods" in err.details()
    assert server.servicer.store.list_audit("roll-refused") == before
    assert [p.version for p in client.list_plans("roll-refused")] == [1]


def test_a_network_holds_at_most_max_signals_unanswered_signals(tmp_path: Path) -> None:
    """With `--max-signals 3`, a manual network's inbox takes 2 signals, then a batch of 2 more (4
    unanswered) is RESOURCE_EXHAUSTED naming the limit, and nothing of it is stored; a resend of a
    stored signal still answers (it adds nothing)."""
    config = ServerConfig(store=tmp_path / "ledger.db", workers=1, queue_size=1, limits=RequestLimits(signals=3))
    with running_server(config) as small:
        client = small.client
        client.put_network("full", outage_network(), late_backup_protocols(Approver(role="procurement director")))
        client.publish("full", [outage("o-1"), outage("o-2")])
        err = refused(lambda: client.publish("full", [outage("o-3"), outage("o-4")]))
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "--max-signals" in err.details()
        assert [r.source_id for r in small.servicer.store.inbox("full")] == ["o-1", "o-2"]
        assert client.publish("full", [outage("o-1")])[0].duplicate
