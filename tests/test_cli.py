"""The command line and model export: plan, validate and export a network file; exported MPS and
LP models read back into HiGHS reach the same optimum.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import highspy
import pytest

from solver.auth import token_hash
from solver.cli import main
from solver.convert import read_network, write_network
from solver.demo import DEMO_NETWORK, DEMO_PROTOCOLS, DEMO_SIGNALS, data_path
from solver.planner import compile_model, plan_network
from tests.test_known_answers import backup_network, facility_location


def test_solve_prints_summary_and_writes_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "backup.json"
    write_network(backup_network(lost_sale_penalty=100), path)
    assert main(["solve", str(path), "--json", str(tmp_path / "plan.json")]) == 0
    out = capsys.readouterr().out
    assert "optimal" in out and "objective 100.00" in out
    tables = json.loads((tmp_path / "plan.json").read_text())
    assert tables["objective"] == pytest.approx(100)
    assert [r["offer"] for r in tables["activations"]] == ["backup"]


def test_solve_by_a_chosen_method_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--method lp_first` solves LP-first (the summary and the JSON stats name it) to the optimum
    the MILP finds; an unknown method is refused by argparse (exit 2)."""
    path = tmp_path / "backup.json"
    write_network(backup_network(lost_sale_penalty=100), path)
    assert main(["solve", str(path), "--method", "lp_first", "--json", str(tmp_path / "plan.json")]) == 0
    out = capsys.readouterr().out
    assert "objective 100.00" in out and "lp_first" in out
    stats = json.loads((tmp_path / "plan.json").read_text())["stats"]
    assert stats["method"] == "lp_first" and stats["method_stats"]["lp_solves"] >= 1
    with pytest.raises(SystemExit) as exited:
        main(["solve", str(path), "--method", "simplex"])
    assert exited.value.code == 2


def test_validate_names_entity_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = backup_network(lost_sale_penalty=100)
    bad = replace(spec, lanes=(replace(spec.lanes[0], lead_time=3), *spec.lanes[1:]))
    path = tmp_path / "bad.json"
    write_network(bad, path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "lane 'L1'" in err and "lead_time" in err and "horizon" in err


def test_validate_reports_a_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "good.json"
    write_network(backup_network(lost_sale_penalty=100), path)
    assert main(["validate", str(path)]) == 0
    assert "is valid" in capsys.readouterr().out


def test_demo_plans_the_bundled_network_and_its_response(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's main command: the baseline plan, the signal published to the inbox, the
    automatic response (first coordinated plan, then the final plan) with decisions by function and
    what needs approval, and the metrics before and after. Three full summaries: the baseline, act
    one's final plan, and act two's replan within authority."""
    for name in (DEMO_NETWORK, DEMO_PROTOCOLS, DEMO_SIGNALS):
        assert data_path(name).exists(), name
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.count("plan of 'demo-seed0': optimal") == 3
    assert "network 'demo' set automatic" in out
    assert "signal supplier-portal:copper-line-fire: supplier_outage at S2-steel (copper)" in out
    assert "received: revision 1, stored in the ledger" in out
    first = re.search(r"first coordinated plan from the signals' reach: v(\d+) \(inbox-first\)", out)
    final = re.search(r"final plan v(\d+) \(inbox, replan of v1, answers supplier-portal:copper-line-fire\)", out)
    assert first is not None and final is not None, out
    assert int(first.group(1)) < int(final.group(1))
    assert "coordinated response:" in out and "need approval" in out
    assert "fill rate" in out and "cash-to-cash (days)" in out


def test_demo_escalation_queue_counts_the_responses_escalated_decisions(capsys: pytest.CaptureFixture[str]) -> None:
    """The ledger's queue holds every decision of the response that needs approval: the count the
    response prints ("coordinated response: A decisions act now, N need approval") is the count the
    ledger reports pending ("escalation queue: N decisions pending approval"), and the bundled
    signal escalates at least one decision, so the check is not 0 == 0."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    response = re.search(r"coordinated response: \d+ decisions act now, (\d+) need approval", out)
    queue = re.search(r"escalation queue: (\d+) decisions pending approval in the ledger", out)
    assert response is not None and queue is not None, out
    assert int(response.group(1)) > 0
    assert int(queue.group(1)) == int(response.group(1))


def test_demo_approves_the_escalation_only_through_the_principals_that_hold_its_grant(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The demo's response escalates to the joint procurement-production decision: the logistics
    director (no grant for either function) is refused, the procurement lead's sign-off leaves the
    decision pending, the production lead's approves it, and with it every decision of that
    escalation; the audit trail lists each write under its principal."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "logistics-director tries to approve: PERMISSION_DENIED" in out
    assert re.search(r"procurement-lead approves: decision \d+ is pending", out), out
    assert re.search(r"production-lead approves: decision \d+ is approved", out), out
    states = re.search(r"every decision of the escalation: (\{.*\})", out)
    assert states is not None and set(eval(states.group(1)).values()) == {"approved"}
    assert re.search(r"\d+ supplier-portal +publish", out) and re.search(r"\d+ orchestrator +replan", out)
    assert re.search(r"\d+ production-lead +approve", out)


def test_demo_second_act_rejects_an_escalation_and_replans_within_authority(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Act two: the portal's update of the outage (revision 2) escalates again; the procurement lead
    rejects it, and the orchestrator's replan after the rejection needs no approval. The demo ends
    with the detection-to-response timeline of both revisions, each executable."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "received: revision 2 of supplier-portal:copper-line-fire" in out
    updated = re.search(r"final plan v(\d+) \(inbox\): objective [-\d,]+, (\d+) decisions need approval", out)
    assert updated is not None and int(updated.group(2)) > 0, out
    assert re.search(r"procurement-lead rejects escalation \S+: decision \d+ is rejected", out), out
    replanned = re.search(
        r"automatic replan within authority: v(\d+) \(rejection\), .*, 0 decisions need approval", out
    )
    assert replanned is not None and int(replanned.group(1)) > int(updated.group(1)), out
    for revision in (r"r1 \(new\)", r"r2 \(update\)"):  # each executable: its last column is a time
        assert re.search(rf"supplier-portal:copper-line-fire {revision} .* \+[\d.]+ s$", out, re.M), out
    assert re.search(r"detection to response: median [\d.]+ s, worst [\d.]+ s over 2 of 2 signal revisions", out)
    assert re.search(r"\d+ procurement-lead +reject", out), out


def test_token_prints_a_token_and_the_hash_a_principals_file_keeps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--label", "ana-laptop"]) == 0
    out = capsys.readouterr().out
    token = re.search(r"token \(.*\): (\S+)", out)
    entry = re.search(r"principals file entry \(under \"tokens\"\): (\{.*\})", out)
    assert token is not None and entry is not None, out
    assert json.loads(entry.group(1)) == {"sha256": token_hash(token.group(1)), "label": "ana-laptop"}


@pytest.mark.parametrize("fmt", ["mps", "lp"])
def test_exported_model_reaches_the_same_optimum(tmp_path: Path, fmt: str) -> None:
    """The CFLP's optimum is 240 (worked out in test_known_answers); HiGHS reading the exported
    file must reach it too, and the names must be the readable block names."""
    spec = facility_location(single_source=False)
    net_file = tmp_path / "cflp.json"
    write_network(spec, net_file)
    out = tmp_path / f"model.{fmt}"
    assert main(["export", str(net_file), "--format", fmt, "--out", str(out)]) == 0
    text = out.read_text()
    readable = {"mps": "activate[offer=open-F1]", "lp": "activate(offer.open_F1)"}[fmt]
    assert readable in text and "flow_balance" in text
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(out))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    direct = plan_network(read_network(net_file))
    assert h.getInfo().objective_function_value == pytest.approx(direct.objective) == pytest.approx(240)
    lp = compile_model(spec).lp
    assert h.getNumCol() == lp.n_cols and h.getNumRow() == lp.n_rows


def test_bundled_demo_network_is_the_generators_demo() -> None:
    """The demo file is made by `python -m benchmarks.generator --size demo --seed 0`; it must not
    drift from the generator."""
    from benchmarks.generator import generate

    assert read_network(data_path(DEMO_NETWORK)) == generate("demo", seed=0)


def test_bundled_protocols_encode_the_three_playbook_protocols() -> None:
    from models.protocols import ActionKind
    from models.signals import SignalType
    from solver.convert import read_protocols

    protocols = read_protocols(data_path(DEMO_PROTOCOLS))
    rules = {r.id: r for r in protocols.authority_rules}
    by_signal = {
        (s.signal_type, s.predicate.max_duration_hours, s.predicate.min_duration_hours): s
        for s in protocols.signal_rules
    }
    short = by_signal[(SignalType.SUPPLIER_OUTAGE, 48.0, 0.0)]
    long = by_signal[(SignalType.SUPPLIER_OUTAGE, float("inf"), 48.0)]
    assert {rules[r].action for r in short.activates} == {ActionKind.BACKUP_ACTIVATION}
    assert {rules[r].action for r in long.activates} == {ActionKind.BACKUP_ACTIVATION, ActionKind.OVERTIME}
    assert len({rules[r].approver.key for r in long.activates}) == 1, "one joint approval"
    surge = next(s for s in protocols.signal_rules if s.signal_type == SignalType.DEMAND_CHANGE)
    assert surge.predicate.min_magnitude > 1
    assert {rules[r].action for r in surge.activates} == {ActionKind.OVERTIME, ActionKind.LATERAL_TRANSFER}


def test_plan_and_replan_against_a_running_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`concerto plan` stores the file and plans it; `concerto replan` answers a signal file with a
    new plan version (the short-outage escalation case of test_protocols: objective 310)."""
    from solver.convert import write_protocols, write_signals
    from solver.server import ServerConfig, create_server, shutdown
    from tests.test_protocols import OUTAGE_DAY_0, outage_network, short_outage_protocols

    write_network(outage_network(), tmp_path / "net.json")
    write_protocols(short_outage_protocols(limit=50), tmp_path / "protocols.json")
    write_signals([OUTAGE_DAY_0], tmp_path / "signals.json")
    server, port, servicer = create_server("127.0.0.1:0", ServerConfig(store_path=tmp_path / "ledger.db", workers=1))
    server.start()
    try:
        address = f"127.0.0.1:{port}"
        args = [
            "--server",
            address,
            "--file",
            str(tmp_path / "net.json"),
            "--protocols",
            str(tmp_path / "protocols.json"),
        ]
        assert main(["plan", "acme", *args, "--gap", "0"]) == 0
        assert "plan version 1" in capsys.readouterr().out
        replan = ["replan", "acme", "--server", address, "--signals", str(tmp_path / "signals.json"), "--gap", "0"]
        replan += ["--stability-weight", "0", "--upstream-hops", "1", "--recovery-periods", "1"]
        assert main(replan) == 0
        out = capsys.readouterr().out
        assert "plan version 2" in out and "objective 310.00" in out
        assert main(["replan", "nobody", "--server", address, "--signals", str(tmp_path / "signals.json")]) == 3
        assert "NOT_FOUND" in capsys.readouterr().err

        # A network without a plan: nothing is stored, exit 1 (no plan), the error says how it ended.
        from tests.test_service import no_supply_network

        write_network(no_supply_network(), tmp_path / "none.json")
        assert main(["plan", "empty", "--server", address, "--file", str(tmp_path / "none.json")]) == 1
        err = capsys.readouterr().err
        assert err.startswith("concerto: FAILED_PRECONDITION: network 'empty': the solve ended infeasible")
        assert servicer.store.latest_plan_version("empty") == 0
    finally:
        shutdown(server, servicer, grace=0)


def test_diagnose_names_the_function_resource_and_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The escalation-for-feasibility network of test_protocols with the cap at the limit has no
    plan: S1 is out on day 0 and the backup may spend only 50 (5 units), so S1's capacity is short
    by the other 5 units in period 0, which the backup rule's approver could lift. HiGHS's IIS of
    the LP relaxation follows on its own line; it holds the rule's authority limit."""
    from solver.convert import write_protocols, write_signals
    from tests.test_protocols import OUTAGE_DAY_0, outage_network, short_outage_protocols

    write_network(outage_network(lost=0.0, backlog=0.0, fill=1.0), tmp_path / "net.json")
    write_protocols(short_outage_protocols(limit=50, cap=50, delay=0), tmp_path / "protocols.json")
    write_signals([OUTAGE_DAY_0], tmp_path / "signals.json")
    files = [str(tmp_path / "net.json"), "--protocols", str(tmp_path / "protocols.json")]
    assert main(["diagnose", *files, "--signals", str(tmp_path / "signals.json")]) == 0
    out = capsys.readouterr().out
    assert "short by 5 units in period 0 (procurement, rule backup-under-48h" in out
    assert "\n  conflict (IIS of the LP relaxation): " in out and "authority_limit 1" in out
    assert main(["explain", *files]) == 0
    assert "shadow prices" in capsys.readouterr().out


def test_solve_with_another_backend_and_a_bad_backend_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The backup network's optimum (100, test_known_answers) through OR-Tools' SCIP; an unknown
    backend is invalid input (exit 2) naming the option."""
    path = tmp_path / "backup.json"
    write_network(backup_network(lost_sale_penalty=100), path)
    assert main(["solve", str(path), "--backend", "ortools-scip"]) == 0
    assert "objective 100.00" in capsys.readouterr().out
    assert main(["solve", str(path), "--backend", "nope"]) == 2
    assert "backend" in capsys.readouterr().err


def test_backends_lists_this_installation(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --server, `concerto backends` describes this installation: highs first, available,
    the default, with every feature on its second line; every known backend gets two lines."""
    from solver.backends.registry import BACKENDS

    assert main(["backends"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * len(BACKENDS)
    assert lines[0].split()[:2] == ["highs", "available"] and lines[0].endswith("(default)")
    assert lines[1].split() == [
        "lp,",
        "mip,",
        "time_limit,",
        "mip_gap,",
        "threads,",
        "seed,",
        "mip_start,",
        "progress,",
        "interrupt,",
        "duals,",
        "ranging,",
        "iis,",
        "write_model,",
        "in_place_update",
    ]
    assert [line.split()[0] for line in lines[::2]] == list(BACKENDS)


# -- a command line that behaves: paths, pipes, Ctrl-C, --version, --help ---------------------------

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, stdout: int = subprocess.PIPE) -> subprocess.Popen[str]:
    """`concerto ARGS` in a new interpreter, with its output piped (or sent to `stdout`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "solver.cli", *args], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["validate", "{tmp}/missing.json"], "network '{tmp}/missing.json': path does not exist"),
        (["solve", "/nope.json"], "network '/nope.json': path does not exist"),
        (["validate", "{tmp}"], "network '{tmp}': path is a folder"),
        (["validate", "{good}", "--signals", "{tmp}/none.json"], "signal batch '{tmp}/none.json': path does not exist"),
        (["solve", "{good}", "--protocols", "{tmp}"], "protocol set '{tmp}': path is a folder"),
        (
            ["solve", "{good}", "--json", "/no/such/dir/x.json"],
            "output '/no/such/dir/x.json': path is in '/no/such/dir'",
        ),
        (["export", "{good}", "--out", "{tmp}"], "output '{tmp}': path is a folder"),
    ],
)
def test_bad_paths_are_one_line_and_exit_2_before_any_solve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    """Missing, folder and unwritable paths were Python tracebacks with exit 1 (and `--json` into a
    missing folder failed only after the solve ran). Each is now one line on stderr naming the path
    and what is wrong, exit 2, and nothing is solved (no plan summary on stdout)."""
    good = tmp_path / "good.json"
    write_network(backup_network(lost_sale_penalty=100), good)
    fill = {"tmp": str(tmp_path), "good": str(good)}
    assert main([a.format(**fill) for a in argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()]
    assert captured.err.startswith("concerto: " + says.format(**fill))
    assert "plan of" not in captured.out


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`concerto plan ... | head -3` and `concerto export FILE | head` ended in a BrokenPipeError
    traceback. Here the reader has gone before the command writes anything (its end of the pipe is
    closed at once), so every write meets a closed pipe: no traceback, exit 141 (128 + SIGPIPE, as a
    shell reports a program a closed pipe stopped), for a short output and a long one."""
    path = tmp_path / "backup.json"
    write_network(backup_network(lost_sale_penalty=100), path)
    for argv in (["validate", str(path)], ["export", str(path), "--format", "lp"]):
        read_end, write_end = os.pipe()
        os.close(read_end)
        proc = cli(*argv, stdout=write_end)
        os.close(write_end)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 141, (argv, err)
        assert "Traceback" not in err and "BrokenPipeError" not in err, argv


def test_ctrl_c_keeps_the_incumbent() -> None:
    """Ctrl-C during a solve threw HiGHS's incumbent away (status error, exit 1). The demo network
    to a zero gap takes a few seconds and shows a progress line with an incumbent after one; SIGINT
    then stops HiGHS at its next check, and the best plan found so far is the answer: a feasible
    plan, "status interrupted", exit 0."""
    proc = cli("solve", str(data_path(DEMO_NETWORK)), "--gap", "0", "--time-limit", "120")
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip().startswith("...") and "incumbent nan" not in line:
            proc.send_signal(signal.SIGINT)
            break
    out = proc.stdout.read()
    assert proc.wait(timeout=60) == 0, out
    assert "plan of 'demo-seed0': feasible" in out
    assert "status interrupted: Ctrl-C stopped the solve; the best plan found so far is above" in out


def test_version_and_defaults_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` names Concerto's and HiGHS's versions; `--help` of a solving command shows the
    defaults, the gap being the one the server applies when a request sets none."""
    from importlib.metadata import version

    from solver.backends.highs import HIGHS_VERSION
    from solver.options import DEFAULT_MIP_REL_GAP

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"concerto {version('concerto')} (HiGHS {HIGHS_VERSION})"
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"relative MIP gap (default: {DEFAULT_MIP_REL_GAP})" in text
    assert "seconds (default: 60.0)" in text and "(default: highs)" in text


def test_json_is_the_plans_protobuf_json(tmp_path: Path) -> None:
    """`--json` writes the plan's protobuf JSON (concerto.v1.PlanResult), the format the service
    speaks: it parses back into the same plan, holds what the old custom format lacked (authority
    spend, stats, bound, fill by priority), lists empty tables as [], and stays valid JSON
    without a plan (the objective NaN is the string "NaN", which the old format wrote bare)."""
    from google.protobuf import json_format

    from solver._proto.concerto.v1 import plan_pb2
    from solver.convert import plan_from_proto

    net = tmp_path / "backup.json"
    write_network(backup_network(lost_sale_penalty=100), net)
    out = tmp_path / "plan.json"
    assert main(["solve", str(net), "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert {"authority", "stats", "bound", "kpis"} <= set(record)
    assert record["overtime"] == [] and record["stats"]["backend"] == "highs"
    plan = plan_from_proto(json_format.Parse(out.read_text(), plan_pb2.PlanResult()))
    assert plan.objective == pytest.approx(100) and [r["offer"] for r in plan.activations.rows()] == ["backup"]

    from tests.test_service import no_supply_network

    write_network(no_supply_network(), net)
    assert main(["solve", str(net), "--json", str(out)]) == 1
    record = json.loads(out.read_text(), parse_constant=lambda name: pytest.fail(f"bare {name} in JSON"))
    assert record["status"] == "SOLVE_STATUS_INFEASIBLE" and record["objective"] == "NaN"


def test_validate_reports_every_violation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Validation stopped at the first error: a dangling node and a negative capacity in one file
    reported only the node. Both are reported now, each with its entity, id and field."""
    spec = backup_network(lost_sale_penalty=100)
    bad = replace(
        spec,
        lanes=(replace(spec.lanes[0], destination="nowhere"), *spec.lanes[1:]),
        offers=(replace(spec.offers[0], capacity=-5.0), *spec.offers[1:]),
    )
    path = tmp_path / "bad.json"
    write_network(bad, path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("concerto: 2 violations: ")
    assert f"supply offer '{spec.offers[0].id}': capacity is -5.0; it must be >= 0" in err
    assert f"lane '{spec.lanes[0].id}': destination refers to unknown node 'nowhere'" in err


def test_no_highs_banner_in_the_server_log(tmp_path: Path) -> None:
    """HiGHS 1.16's copyright banner went to every worker's standard output, so into the server's
    log. `concerto serve` with two workers answers a Solve (the backup network, optimum 100), then
    stops on SIGTERM: its whole output is its own lines, none from HiGHS."""
    from solver.client import ConcertoClient

    proc = cli("serve", "--address", "127.0.0.1:0", "--store", str(tmp_path / "ledger.db"), "--workers", "2")
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    assert first.startswith("concerto serving on port"), first
    port = int(first.split()[-1])
    try:
        with ConcertoClient(f"127.0.0.1:{port}") as client:
            assert client.solve(backup_network(lost_sale_penalty=100), timeout=60).objective == pytest.approx(100)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert "HiGHS" not in first + out + err, first + out + err
