"""The bundled demo: plan the demo network under its decision protocols, then answer a detected
disruption with one coordinated plan and show who acts, what needs approval, and what changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from models.network import NetworkSpec
from models.plan import Plan
from models.protocols import AuthorityStatus, Decision, ProtocolSet
from models.signals import Signal
from solver.convert import read_network, read_protocols, read_signals
from solver.options import SolveOptions
from solver.records import (
    DecisionState,
    NetworkSettings,
    PublishedSignal,
    ResponseTimeline,
    SignalChange,
    StoredDecision,
    StoredPlan,
)

if TYPE_CHECKING:
    from solver.client import ConcertoClient


def data_path(name: str) -> Path:
    """A file bundled under solver/data."""
    return Path(str(resources.files("solver") / "data" / name))


DEMO_NETWORK = "demo_network.json"
DEMO_PROTOCOLS = "demo_protocols.json"
DEMO_SIGNALS = "demo_signals.json"


def _decision_line(d: Decision) -> str:
    when = "once" if d.period < 0 else f"period {d.period}"
    what = f"{d.quantity:,.1f} {d.unit}" if d.unit != "activation" else "activate"
    item = f" {d.item}" if d.item else ""
    status = (
        f"needs approval by {d.approver} (effective at {d.effective_hours:g} h)"
        if d.status == AuthorityStatus.ESCALATED
        else d.status.value.replace("_", " ")
    )
    rule = f" [{d.rule}]" if d.rule else ""
    return f"    {d.action.value:<24} {d.resource}{item}, {when}: {what}, cost {d.cost:,.2f}; {status}{rule}"


def decision_record_line(record: StoredDecision) -> str:
    """A stored decision with where its approval stands: state, escalation, approver, sign-offs,
    and whether it may be carried out."""
    d = record.decision
    when = "once" if d.period < 0 else f"period {d.period}"
    what = f"{d.quantity:,.1f} {d.unit}" if d.unit != "activation" else "activate"
    line = (
        f"  #{record.index:<3} {record.state.value:<12} {d.action.value} {d.resource}"
        f"{' ' + d.item if d.item else ''}, {when}: {what}, cost {d.cost:,.2f}"
    )
    if d.rule:
        line += f" [{d.rule}]"
    if record.escalation:
        line += f"; escalation {record.escalation}, approver {record.approver}"
    if record.signoffs:
        signed = ", ".join(
            f"{'approved' if s.approve else 'rejected'} {s.function or 'role'} by {s.principal}"
            for s in record.signoffs
        )
        line += f"; sign-offs: {signed}"
    elif record.decided_by:
        line += f"; decided by {record.decided_by}"
    return line + f"; executable {'yes' if record.state.executable else 'no'}"


def _seconds_after(start: datetime, moment: datetime | None, version: int | None = None) -> str:
    if moment is None:
        return "-"
    at = f"+{(moment - start).total_seconds():.2f} s"
    return f"v{version} {at}" if version is not None else at


def timeline_lines(timeline: ResponseTimeline) -> list[str]:
    """Each published signal revision from detection to an executable response (seconds after its
    detection, or its receipt when the source gave no time), then the median and the worst."""
    rows = [("signal", "detected", "received", "first plan", "final plan", "approvals", "executable")]
    for e in timeline.entries:
        start = e.detected_at or e.received_at
        rows.append(
            (
                f"{e.source}:{e.source_id} r{e.revision} ({e.change.value})",
                "+0.00 s" if e.detected_at is not None else "not given",
                _seconds_after(start, e.received_at),
                _seconds_after(start, e.first_plan_at, e.first_plan_version),
                _seconds_after(start, e.final_plan_at, e.final_plan_version),
                _seconds_after(start, e.approvals_at)
                + (f" ({e.pending_escalations} pending)" if e.pending_escalations else ""),
                _seconds_after(start, e.executable_at),
            )
        )
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    answered = timeline.answered
    if answered:
        lines.append(
            f"detection to response: median {timeline.median_seconds:.2f} s, worst {timeline.worst_seconds:.2f} s "
            f"over {len(answered)} of {len(timeline.entries)} signal revisions"
        )
    else:
        lines.append(f"detection to response: none of {len(timeline.entries)} signal revisions is executable yet")
    return lines


def describe_response(before: Plan, after: Plan) -> list[str]:
    """Decisions by function, what needs approval, and the metrics before and after."""
    lines: list[str] = []
    by_function: dict[str, list[Decision]] = defaultdict(list)
    for d in after.decisions:
        by_function[d.function.value].append(d)
    lines.append(
        f"coordinated response: {len(after.act_now)} decisions act now, {len(after.needs_approval)} need approval"
    )
    for function in sorted(by_function):
        lines.append(f"  {function}:")
        lines.extend(_decision_line(d) for d in by_function[function])
    if after.escalations:
        lines.append("  escalated to: " + ", ".join(after.escalations))
    lines.append("")
    lines.append(f"{'metric':<34}{'before':>16}{'after':>16}")
    rows: list[tuple[str, Callable[[Plan], float], str]] = [
        ("cost - revenue", lambda p: (p.kpis.total_cost - p.kpis.revenue) if p.kpis else 0.0, ",.0f"),
        ("total cost", lambda p: p.kpis.total_cost if p.kpis else 0.0, ",.0f"),
        ("revenue", lambda p: p.kpis.revenue if p.kpis else 0.0, ",.0f"),
        ("fill rate", lambda p: p.kpis.fill_rate if p.kpis else 0.0, ".1%"),
        ("perfect order rate", lambda p: p.kpis.perfect_order_rate if p.kpis else 0.0, ".1%"),
        (
            "order fulfilment cycle time (h)",
            lambda p: p.kpis.order_fulfilment_cycle_time_hours if p.kpis else 0.0,
            ",.1f",
        ),
        ("inventory turnover (/year)", lambda p: p.kpis.inventory_turnover if p.kpis else 0.0, ",.2f"),
        ("cash-to-cash (days)", lambda p: p.kpis.cash_to_cash_days if p.kpis else 0.0, ",.1f"),
    ]
    for name, get, fmt in rows:
        lines.append(f"{name:<34}{format(get(before), fmt):>16}{format(get(after), fmt):>16}")
    for component in sorted(set(before.cost_by_component) | set(after.cost_by_component)):
        b = before.cost_by_component.get(component, 0.0)
        a = after.cost_by_component.get(component, 0.0)
        lines.append(f"{'  ' + component:<34}{b:>16,.0f}{a:>16,.0f}")
    return lines


def signal_line(s: Signal) -> str:
    """A disruption in one line: what, where, when, how much."""
    return (
        f"signal {s.id}: {s.type.value} at {s.supplier or s.customer or s.node or s.lane}"
        + (f" ({s.item})" if s.item else "")
        + f" from {s.start_hours:g} h for {s.duration_hours:g} h, magnitude {s.magnitude:g}"
        + f" (detected at {s.detected_hours:g} h)"
    )


DEMO_SOURCE = "supplier-portal"
"""The system that publishes the demo's disruptions: the steel supplier's portal, a partner of the
network for that supplier's node only."""
DEMO_WINDOW_SECONDS = 0.2
"""The demo network's coalescing window: short, so that the story moves on."""
WAIT_SECONDS = 300.0
"""How long the demo waits for an automatic plan version before it gives up."""


class DemoStalled(Exception):
    """No automatic plan version came within `WAIT_SECONDS`."""


def await_version(
    client: ConcertoClient, network_id: str, after: int, trigger: str, *, timeout: float = WAIT_SECONDS
) -> list[StoredPlan]:
    """The plan versions stored after version `after` (WatchPlans), up to the first made by
    `trigger`; `DemoStalled` when none comes within `timeout` seconds."""
    import grpc

    from solver import convert
    from solver._proto.concerto.v1 import service_pb2

    seen: list[StoredPlan] = []
    request = service_pb2.WatchPlansRequest(network_id=network_id, after_version=after)
    stream = client.stub.WatchPlans(request, timeout=timeout)
    try:
        for msg in stream:
            seen.append(convert.plan_version_from_proto(msg))
            if seen[-1].trigger == trigger:
                return seen
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise
    finally:
        stream.cancel()
    raise DemoStalled(f"no {trigger!r} plan version of {network_id!r} after v{after} within {timeout:g} s")


def run_demo(options: SolveOptions, *, workers: int = 1, print_line: Callable[[str], None] = print) -> int:
    """Start an embedded server on a free local port with a temporary ledger and authentication,
    store and plan the demo network, set it automatic, and tell the story through the inbox: the
    supplier's portal publishes an outage, the orchestrator answers it (first coordinated plan, final
    plan), the joint decision is refused to an outsider and signed off by the two function leads; in
    a second act an update of the outage escalates again, is rejected, and the orchestrator replans
    within authority; then the detection-to-response timeline and the audit trail."""
    import tempfile

    from solver.client import ConcertoClient
    from solver.server import ServerConfig, create_server, shutdown

    spec = read_network(data_path(DEMO_NETWORK))
    protocols = read_protocols(data_path(DEMO_PROTOCOLS))
    signals = read_signals(data_path(DEMO_SIGNALS))
    with tempfile.TemporaryDirectory() as tmp:
        tokens = _write_demo_principals(Path(tmp) / "principals.json")
        config = ServerConfig(
            store_path=Path(tmp) / "ledger.db", workers=workers, queue_size=2, principals=Path(tmp) / "principals.json"
        )
        server, port, servicer = create_server("127.0.0.1:0", config)
        server.start()
        target = f"127.0.0.1:{port}"
        try:
            print_line(
                f"Concerto demo: embedded server on {target}, ledger {config.store_path}, "
                f"principals {', '.join(tokens)} (bearer tokens)"
            )
            with ConcertoClient(target, token=tokens["planner"]) as client:
                client.wait_ready()
                return _tell(client, target, tokens, spec, protocols, signals, options, print_line)
        except DemoStalled as err:
            print_line(f"demo stopped: {err}")
            return 1
        finally:
            shutdown(server, servicer, grace=1.0)


def _tell(
    client: ConcertoClient,
    target: str,
    tokens: dict[str, str],
    spec: NetworkSpec,
    protocols: ProtocolSet,
    signals: list[Signal],
    options: SolveOptions,
    print_line: Callable[[str], None],
) -> int:
    """The demo's story on a running server (see `run_demo`); 0 when every plan was found."""
    from solver.client import ConcertoClient

    version = client.put_network("demo", spec, protocols)
    print_line(f"stored network {spec.name!r} as 'demo' v{version} with protocol set {protocols.name!r}")
    before = client.plan("demo", options=options, idempotency_key="demo-baseline")
    print_line(f"plan v{before.version}:")
    print_line(before.plan.summary())
    if not before.plan.has_solution:
        return 1
    settings = client.set_settings(
        "demo", NetworkSettings(automatic=True, window_seconds=DEMO_WINDOW_SECONDS, options=options)
    )
    print_line(
        f"network 'demo' set automatic: signals published within {settings.window_seconds:g} s are answered "
        "together by one replan from the latest plan"
    )

    # -- act one: the supplier's portal publishes the outage; the plan updates itself ---------------
    print_line("")
    print_line(f"act one: {DEMO_SOURCE} (a partner for S2-steel only) publishes an outage to the inbox")
    outage = signals[0]
    published = PublishedSignal(
        source=DEMO_SOURCE,
        source_id=outage.id,
        signal=replace(outage, id=f"{DEMO_SOURCE}:{outage.id}"),
        detected_at=datetime.now(UTC),
    )
    with ConcertoClient(target, token=tokens[DEMO_SOURCE]) as portal:
        [received] = portal.publish("demo", [published])
    assert published.signal is not None
    print_line(signal_line(published.signal))
    print_line(f"  received: revision {received.revision}, stored in the ledger (inbox seq {received.seq})")
    versions = await_version(client, "demo", before.version, "inbox")
    for v in versions[:-1]:
        print_line(
            f"first coordinated plan from the signals' reach: v{v.version} ({v.trigger}), objective "
            f"{v.plan.objective:,.0f} ({len(v.plan.needs_approval)} decisions need approval)"
        )
    after = versions[-1]
    print_line(
        f"final plan v{after.version} ({after.trigger}, replan of v{after.baseline_version}, answers "
        f"{', '.join(s.id for s in after.signals)}):"
    )
    print_line(after.plan.summary())
    if not after.plan.has_solution:
        return 1
    print_line("")
    for line in describe_response(before.plan, after.plan):
        print_line(line)
    diff = client.diff("demo", before.version, after.version)
    print_line("")
    print_line(
        f"plan changes v{before.version} -> v{after.version}: {diff.changed} of {diff.total} decisions "
        f"changed (nervousness {diff.nervousness:.1%})"
    )
    pending = [r for r in client.decisions("demo", after.version) if r.state == DecisionState.PENDING]
    print_line(f"escalation queue: {len(pending)} decisions pending approval in the ledger")
    print_line("")
    _approve_in_turn(target, tokens, after.version, pending, print_line)

    # -- act two: the outage runs longer; the new escalation is rejected; replanned within authority
    print_line("")
    longer = replace(published.signal, duration_hours=2 * published.signal.duration_hours)
    print_line(f"act two: {DEMO_SOURCE} updates the outage: it will last {longer.duration_hours:g} h")
    update = replace(published, change=SignalChange.UPDATE, signal=longer, detected_at=datetime.now(UTC))
    with ConcertoClient(target, token=tokens[DEMO_SOURCE]) as portal:
        [received] = portal.publish("demo", [update])
    print_line(f"  received: revision {received.revision} of {received.source}:{received.source_id}")
    updated = await_version(client, "demo", after.version, "inbox")[-1]
    escalated = [r for r in client.decisions("demo", updated.version) if r.state == DecisionState.PENDING]
    print_line(
        f"final plan v{updated.version} ({updated.trigger}): objective {updated.plan.objective:,.0f}, "
        f"{len(escalated)} decisions need approval"
    )
    for record in escalated:
        print_line(decision_record_line(record))
    if escalated:
        first = escalated[0]
        decider = "procurement-lead"
        with ConcertoClient(target, token=tokens[decider]) as lead:
            record = lead.reject("demo", updated.version, first.index, note="four weeks of backup copper: too dear")
        print_line(
            f"  {decider} rejects escalation {record.escalation}: decision {record.index} is {record.state.value}"
        )
        replanned = await_version(client, "demo", updated.version, "rejection")[-1]
        print_line(
            f"automatic replan within authority: v{replanned.version} ({replanned.trigger}), objective "
            f"{replanned.plan.objective:,.0f}, {len(replanned.plan.needs_approval)} decisions need approval"
        )
        print_line(replanned.plan.summary())
    else:
        print_line("  the update escalated nothing: every decision is within authority")

    # -- detection to response ----------------------------------------------------------------------
    print_line("")
    print_line("detection-to-response timeline of 'demo' (seconds after detection):")
    for line in timeline_lines(client.timeline("demo")):
        print_line(line)
    print_line("")
    print_line("audit trail of 'demo':")
    with ConcertoClient(target, token=tokens["admin"]) as admin:
        for entry in admin.audit("demo"):
            print_line(f"  {entry.seq:>2} {entry.principal:<16} {entry.action:<12} {entry.detail}")
    return 0


DEMO_PRINCIPALS: tuple[tuple[str, dict[str, object]], ...] = (
    ("planner", {"role": "planner"}),
    (DEMO_SOURCE, {"role": "partner", "nodes": ["S2-steel"]}),
    ("logistics-director", {"role": "approver", "roles": ["logistics-director"], "functions": ["logistics"]}),
    ("procurement-lead", {"role": "approver", "roles": ["procurement-director"], "functions": ["procurement"]}),
    ("production-lead", {"role": "approver", "roles": ["plant-manager"], "functions": ["production"]}),
    ("admin", {"role": "admin"}),
)
"""The demo's principals, all of tenant "demo-co", each with one grant on every network."""


def _write_demo_principals(path: Path) -> dict[str, str]:
    """A principals file for the demo's principals, with a fresh random token each (the file keeps
    only their hashes); returns the tokens by principal."""
    import json
    import secrets

    from solver.auth import token_hash

    tokens = {pid: secrets.token_urlsafe(24) for pid, _ in DEMO_PRINCIPALS}
    doc = {
        "principals": [
            {"id": pid, "tenant": "demo-co", "tokens": [{"sha256": token_hash(tokens[pid])}], "grants": [grant]}
            for pid, grant in DEMO_PRINCIPALS
        ]
    }
    path.write_text(json.dumps(doc, indent=2))
    return tokens


def _approve_in_turn(
    target: str,
    tokens: dict[str, str],
    version: int,
    pending: list[StoredDecision],
    print_line: Callable[[str], None],
) -> None:
    """Work the escalation queue as the protocol says: someone without the approver's grant is
    refused, then each member function of a joint decision signs off (one escalation decides all of
    its decisions); a role's escalation is approved by the holder of that role."""
    import grpc

    from solver.client import ConcertoClient
    from solver.store import joint_members

    escalations: dict[str, list[StoredDecision]] = {}
    for record in pending:
        escalations.setdefault(record.escalation or f"decision {record.index}", []).append(record)
    signers = {"procurement": "procurement-lead", "production": "production-lead", "logistics": "logistics-director"}
    roles = {"procurement-director": "procurement-lead", "plant-manager": "production-lead"}
    roles["logistics-director"] = "logistics-director"
    for escalation, records in escalations.items():
        first = records[0]
        members = joint_members(first.approver)
        deciders = [signers[m] for m in members] if members else [roles.get(first.approver.removeprefix("role:"), "")]
        outsider = next(pid for pid in ("logistics-director", "planner") if pid not in deciders)
        print_line(
            f"escalation {escalation}: {len(records)} decisions wait on {first.decision.approver} "
            f"(approver {first.approver})"
        )
        with ConcertoClient(target, token=tokens[outsider]) as client:
            try:
                client.approve("demo", version, first.index, note="trying")
            except grpc.RpcError as err:
                print_line(f"  {outsider} tries to approve: {err.code().name}: {err.details()}")
        for pid in deciders:
            if not pid:
                continue
            with ConcertoClient(target, token=tokens[pid]) as client:
                record = client.approve("demo", version, first.index, note=f"{pid} agrees")
            signed = ", ".join(f"{s.function or 'role'} by {s.principal}" for s in record.signoffs)
            print_line(f"  {pid} approves: decision {first.index} is {record.state.value} (sign-offs: {signed})")
        with ConcertoClient(target, token=tokens["planner"]) as client:
            states = {r.index: r.state.value for r in client.decisions("demo", version) if r.escalation == escalation}
        print_line(f"  every decision of the escalation: {states}")
