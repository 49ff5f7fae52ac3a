"""The always-on commands against an in-process server: `concerto signals publish`, `decisions`,
`plans`, `network settings`, `advance`, `timeline` and `watch`, on the short-outage network of
tests/test_always_on.py, whose automatic answers are known (150 planned, 410 with the escalated
backup, 1100 with the backup held to the rule's limit after a rejection)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from models.protocols.spec import Approver
from solver.cli import main
from solver.convert import write_signals
from solver.records import DecisionState, StoredPlan
from solver.server import ServerConfig
from tests.service_harness import REPO_ROOT, RunningServer, running_server
from tests.test_always_on import OUTAGE, TIMEOUT, _latest_with_trigger, automatic_network, wait_for
from tests.test_auth import late_backup_protocols
from tests.test_protocols import outage_network


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    config = ServerConfig(store=tmp_path_factory.mktemp("cli-always-on") / "ledger.db", workers=2, queue_size=4)
    with running_server(config) as running:
        yield running


def batch_file(tmp_path: Path, **fields: object) -> Path:
    """A SignalBatch file with the outage of S1 on day 0 under the source id "o-1"."""
    path = tmp_path / "outage.json"
    write_signals([replace(OUTAGE, id="o-1", **fields)], path)  # type: ignore[arg-type]
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def answered(server: RunningServer, network_id: str) -> StoredPlan:
    """The orchestrator's final plan version answering the inbox."""
    found = wait_for(lambda: _latest_with_trigger(server.client, network_id, "inbox"), "the automatic replan")
    assert isinstance(found, StoredPlan)
    return found


def test_publish_a_signal_batch_and_read_the_plan_versions_it_made(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SignalBatch published under --source: revision 1, stored; the same file again is a resend.
    The automatic replan (410) is listed, shown with its trigger and signal, and diffed."""
    planned = automatic_network(server.client, "cli-publish")
    path = batch_file(tmp_path)
    address = ["--server", server.target]
    code, out, _ = run(capsys, "signals", "publish", "cli-publish", str(path), "--source", "supplier-portal", *address)
    assert code == 0
    assert "signal supplier-portal:o-1: revision 1, stored" in out and "1 of 1 signals new" in out
    code, out, _ = run(capsys, "signals", "publish", "cli-publish", str(path), "--source", "supplier-portal", *address)
    assert code == 0 and "revision 1, a resend: already received, nothing stored" in out
    assert "0 of 1 signals new" in out
    final = answered(server, "cli-publish")

    code, out, _ = run(capsys, "plans", "list", "cli-publish", *address)
    assert code == 0 and f"{final.version} plan versions of network 'cli-publish'" in out
    assert re.search(rf"v{final.version} .*objective 410\.00, .*signals supplier-portal:o-1", out), out

    code, out, _ = run(capsys, "plans", "show", "cli-publish", *address)
    assert code == 0
    assert f"plan version {final.version} of network 'cli-publish'" in out and "trigger inbox" in out
    assert "answers 1 signals:" in out and "signal supplier-portal:o-1: supplier_outage at S1" in out
    assert "objective 410.00" in out

    code, out, _ = run(capsys, "plans", "show", "cli-publish", "--version", str(planned.version), *address)
    assert code == 0 and "trigger plan call" in out and "answers 0 signals" in out and "objective 150.00" in out

    code, out, _ = run(capsys, "plans", "diff", "cli-publish", str(planned.version), str(final.version), *address)
    assert code == 0 and f"plan changes v{planned.version} -> v{final.version}" in out
    assert "objective 150.00 -> 410.00" in out


def test_publish_a_publish_request_file_and_refuse_bad_input(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PublishSignalsRequest file carries each signal's source and id (an update raises the
    revision). A SignalBatch without --source is exit 2 naming the flag; an unknown network is an
    RPC error, exit 3 with its status code."""
    client = server.client
    client.put_network("cli-request", outage_network(), late_backup_protocols(Approver(role="procurement director")))
    signal_doc = {"type": "SIGNAL_TYPE_SUPPLIER_OUTAGE", "supplier": "S1", "duration_hours": 24}
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"signals": [{"source": "tms", "source_id": "t-7", "signal": signal_doc}]}))
    address = ["--server", server.target]
    code, out, _ = run(capsys, "signals", "publish", "cli-request", str(request), *address)
    assert code == 0 and "signal tms:t-7: revision 1, stored" in out
    longer = {"source": "tms", "source_id": "t-7", "change": "SIGNAL_CHANGE_UPDATE", "signal": signal_doc}
    longer["signal"] = signal_doc | {"duration_hours": 48}
    request.write_text(json.dumps({"signals": [longer]}))
    code, out, _ = run(capsys, "signals", "publish", "cli-request", str(request), *address)
    assert code == 0 and "signal tms:t-7: revision 2, stored" in out
    assert [r.revision for r in server.servicer.store.inbox("cli-request")] == [1, 2]

    code, out, err = run(capsys, "signals", "publish", "cli-request", str(batch_file(tmp_path)), *address)
    assert code == 2 and "--source" in err and out == ""
    code, _, err = run(capsys, "signals", "publish", "cli-request", str(tmp_path / "none.json"), *address)
    assert code == 2 and "none.json': path does not exist" in err
    path = batch_file(tmp_path)
    code, _, err = run(capsys, "signals", "publish", "nobody", str(path), "--source", "s", *address)
    assert code == 3 and err.startswith("concerto: NOT_FOUND")


def test_approve_makes_the_escalation_executable_and_the_timeline_closes(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = server.client
    automatic_network(client, "cli-approve")
    address = ["--server", server.target]
    path = batch_file(tmp_path)
    assert run(capsys, "signals", "publish", "cli-approve", str(path), "--source", "supplier-portal", *address)[0] == 0
    final = answered(server, "cli-approve")

    pending = client.decisions("cli-approve", final.version, DecisionState.PENDING)
    code, out, _ = run(capsys, "timeline", "cli-approve", *address)
    assert code == 0 and f"({len(pending)} pending)" in out
    assert "none of 1 signal revisions is executable yet" in out

    code, out, _ = run(capsys, "decisions", "list", "cli-approve", "--state", "pending", *address)
    assert code == 0 and f"{len(pending)} decisions of plan version {final.version}" in out and pending
    lines = out.splitlines()[1:]
    assert len(lines) == len(pending) and all(" pending " in line for line in lines), out
    assert all("approver role:procurement director; executable no" in line for line in lines), out

    index = str(pending[0].index)
    argv = ["decisions", "approve", "cli-approve", str(final.version), index]
    code, out, _ = run(capsys, *argv, "--by", "ana", *address)
    assert code == 0 and f"decision {index} of plan version {final.version}: approved" in out
    assert "sign-offs: approved role by ana; executable yes" in out
    escalated = [d for d in client.decisions("cli-approve", final.version) if d.escalation]
    assert escalated and all(d.state == DecisionState.APPROVED for d in escalated)

    code, out, _ = run(capsys, "timeline", "cli-approve", *address)
    assert code == 0 and f"v{final.version} +" in out
    assert re.search(r"detection to response: median \d+\.\d\d s, worst \d+\.\d\d s over 1 of 1", out), out

    code, _, err = run(capsys, *argv, "--by", "x", *address)
    assert code == 3 and err.startswith("concerto: ")  # decided already: the server says why


def test_reject_replans_within_the_rules_authority(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rejecting the director's escalation: the orchestrator replans with the rule held (1100)."""
    client = server.client
    automatic_network(client, "cli-reject")
    address = ["--server", server.target]
    path = batch_file(tmp_path)
    assert run(capsys, "signals", "publish", "cli-reject", str(path), "--source", "supplier-portal", *address)[0] == 0
    final = answered(server, "cli-reject")
    [first, *_] = client.decisions("cli-reject", final.version, DecisionState.PENDING)
    argv = ["decisions", "reject", "cli-reject", str(final.version), str(first.index), "--by", "dir", "--note", "no"]
    code, out, _ = run(capsys, *argv, *address)
    assert code == 0 and f"decision {first.index} of plan version {final.version}: rejected" in out
    assert "executable no" in out
    replanned = wait_for(lambda: _latest_with_trigger(client, "cli-reject", "rejection"), "the replan after rejection")
    assert isinstance(replanned, StoredPlan) and replanned.plan.objective == pytest.approx(1100)
    code, out, _ = run(capsys, "plans", "show", "cli-reject", *address)
    assert code == 0 and "trigger rejection" in out and "objective 1,100.00" in out


def test_network_settings_show_and_set(server: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    client = server.client
    client.put_network("cli-settings", outage_network(), late_backup_protocols(Approver(role="procurement director")))
    address = ["--server", server.target]
    code, out, _ = run(capsys, "network", "settings", "cli-settings", *address)
    assert code == 0 and "network 'cli-settings': manual, coalescing window 1 s" in out
    code, out, err = run(capsys, "network", "settings", "cli-settings", "--window", "0.5", *address)
    assert code == 2 and "--window" in err and "--automatic or --manual" in err
    code, _, err = run(capsys, "network", "settings", "cli-settings", "--automatic", "--window", "-1", *address)
    assert code == 2 and "--window" in err
    argv = ["network", "settings", "cli-settings", "--automatic", "--window", "0.5", "--stability-weight", "0"]
    code, out, _ = run(capsys, *argv, *address)
    assert code == 0 and "automatic, coalescing window 0.5 s" in out and "stability weight 0," in out
    got = client.settings("cli-settings")
    assert (got.automatic, got.window_seconds, got.replan.stability_weight) == (True, 0.5, 0.0)
    code, out, _ = run(capsys, "network", "settings", "cli-settings", "--manual", *address)
    assert code == 0 and "manual, coalescing window 0.5 s" in out and client.settings("cli-settings").automatic is False
    code, _, err = run(capsys, "network", "settings", "nobody", *address)
    assert code == 3 and err.startswith("concerto: NOT_FOUND")


def test_advance_rolls_forward_with_stock_counted(server: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    """test_always_on's known answers: one day on, 100; one more with 4 units counted at S1, 30."""
    client = server.client
    client.put_network("cli-roll", outage_network(), late_backup_protocols(Approver(role="procurement director")))
    client.plan("cli-roll")
    address = ["--server", server.target, "--gap", "0"]
    code, out, _ = run(capsys, "advance", "cli-roll", *address)
    assert code == 0 and "advanced 1 periods: network version 2" in out
    assert "trigger advance" in out and "objective 100.00" in out
    code, out, _ = run(capsys, "advance", "cli-roll", "--count", "S1:A=4", *address)
    assert code == 0 and "network version 3" in out and "objective 30.00" in out
    for bad in ("S1=4", "S1:A=-1", "S1:A=lots"):
        code, _, err = run(capsys, "advance", "cli-roll", "--count", bad, *address)
        assert code == 2 and "--count" in err, bad
    code, _, err = run(capsys, "advance", "cli-roll", "--periods", "0", *address)
    assert code == 2 and "--periods" in err


def test_watch_replays_and_follows_the_networks_events(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`watch --after SEQ --count N` replays the writes after SEQ: the published signal, then each
    automatic plan version with its trigger, objective and pending approvals."""
    client = server.client
    automatic_network(client, "cli-watch")
    start = client.audit("cli-watch")[-1].seq
    path = batch_file(tmp_path)
    address = ["--server", server.target]
    assert run(capsys, "signals", "publish", "cli-watch", str(path), "--source", "supplier-portal", *address)[0] == 0
    final = answered(server, "cli-watch")
    events = [e for e in client.audit("cli-watch") if e.seq > start]
    assert [e.action for e in events] == ["publish", "replan"]
    code, out, _ = run(capsys, "watch", "cli-watch", "--after", str(start), "--count", "2", *address)
    assert code == 0
    assert re.search(r"publish +1 signals received from supplier-portal", out), out
    assert f"plan v{final.version}: inbox, optimal, objective 410.00; answers supplier-portal:o-1" in out
    pending = client.decisions("cli-watch", final.version, DecisionState.PENDING)
    assert f"{len(pending)} decisions pending approval:" in out and out.count("approver role:") == len(pending)


def test_watch_follows_a_new_plan_version_and_ends_at_its_count(
    server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A watch running while a plan is stored prints the plan version as it comes (from the seq the
    network had when the watch started, so that the test does not race the stream's opening)."""
    client = server.client
    client.put_network("cli-live", outage_network(), late_backup_protocols(Approver(role="procurement director")))
    start = client.audit("cli-live")[-1].seq
    codes: list[int] = []
    argv = ["watch", "cli-live", "--after", str(start), "--count", "1", "--server", server.target]
    watcher = threading.Thread(target=lambda: codes.append(main(argv)), daemon=True)
    watcher.start()
    plan = client.plan("cli-live")
    watcher.join(TIMEOUT)
    assert codes == [0]
    out = capsys.readouterr().out
    assert out.startswith("watching network 'cli-live'")
    assert f"plan v{plan.version}: plan call, optimal, objective 150.00; answers no signals" in out
    assert "0 decisions pending approval" in out


def test_ctrl_c_ends_the_watch_with_exit_0(server: RunningServer) -> None:
    server.client.put_network("cli-ctrl-c", outage_network())
    proc = subprocess.Popen(
        [sys.executable, "-m", "solver.cli", "watch", "cli-ctrl-c", "--server", server.target],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("watching network 'cli-ctrl-c'"), first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert "stopped after 0 events" in out and "Traceback" not in err
