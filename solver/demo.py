"""The bundled demo: plan the demo network under its decision protocols, then answer a detected
disruption with one coordinated plan and show who acts, what needs approval, and what changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from models.plan import Plan
from models.protocols import AuthorityStatus, Decision
from solver.convert import read_network, read_protocols, read_signals
from solver.options import SolveOptions
from solver.progress import stream_progress
from solver.records import StoredDecision
from solver.store import DecisionState


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


def run_demo(options: SolveOptions, *, workers: int = 1, print_line: Callable[[str], None] = print) -> int:
    """Start an embedded server on a free local port with a temporary ledger, store the demo network
    and protocols, plan it, send the bundled disruption, print the coordinated replan, and stop."""
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
        try:
            print_line(
                f"Concerto demo: embedded server on 127.0.0.1:{port}, ledger {config.store_path}, "
                f"principals {', '.join(tokens)} (bearer tokens)"
            )
            with ConcertoClient(f"127.0.0.1:{port}", token=tokens["planner"]) as client:
                client.wait_ready()
                version = client.put_network("demo", spec, protocols)
                print_line(f"stored network {spec.name!r} as 'demo' v{version} with protocol set {protocols.name!r}")
                before = client.plan("demo", options=options, idempotency_key="demo-baseline")
                print_line(f"plan v{before.version}:")
                print_line(before.plan.summary())
                if not before.plan.has_solution:
                    return 1
                print_line("")
                for s in signals:
                    print_line(
                        f"signal {s.id}: {s.type.value} at {s.supplier or s.customer or s.node or s.lane}"
                        + (f" ({s.item})" if s.item else "")
                        + f" from {s.start_hours:g} h for {s.duration_hours:g} h, magnitude {s.magnitude:g}"
                        + f" (detected at {s.detected_hours:g} h)"
                    )
                progress = stream_progress(print_line)

                def on_first(plan: Plan) -> None:
                    print_line(
                        f"first coordinated plan from the signals' reach: objective {plan.objective:,.0f} "
                        f"({len(plan.needs_approval)} decisions need approval)"
                    )

                after = client.replan_stream(
                    "demo",
                    signals,
                    options=options,
                    idempotency_key="demo-replan",
                    on_progress=progress,
                    on_first=on_first,
                )
                print_line(f"plan v{after.version} (replan of v{after.baseline_version}):")
                print_line(after.plan.summary())
                if after.replan is not None:
                    info = after.replan
                    print_line(
                        f"  replan answer: {info.kind}, ready after {info.ready_seconds:.2f} s (first plan after "
                        f"{info.first_plan_seconds:.2f} s); every decision executable {info.execute_after_hours:g} h "
                        "after detection"
                    )
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
                _approve_in_turn(f"127.0.0.1:{port}", tokens, after.version, pending, print_line)
                print_line("")
                print_line("audit trail of 'demo':")
                with ConcertoClient(f"127.0.0.1:{port}", token=tokens["admin"]) as admin:
                    for entry in admin.audit("demo"):
                        print_line(f"  {entry.seq:>2} {entry.principal:<16} {entry.action:<12} {entry.detail}")
        finally:
            shutdown(server, servicer, grace=1.0)
    return 0


DEMO_PRINCIPALS: tuple[tuple[str, dict[str, object]], ...] = (
    ("planner", {"role": "planner"}),
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
